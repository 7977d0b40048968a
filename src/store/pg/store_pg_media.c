/* store_pg_media.c - the PostgreSQL back end's media and tus uploads: MEDIA_CREATE, MEDIA_GET,
 * MEDIA_USAGE, UPLOAD_CREATE, UPLOAD_GET, UPLOAD_DELETE, and reading a media item for APPEND.
 * The same semantics and statuses as store_sqlite.c's. */
#include "store_pg_internal.h"

#include <string.h>

#include "clock.h"

enum {
	MEDIA_INSERT,
	MEDIA_GET,
	MEDIA_USAGE,
	UPLOAD_INSERT,
	UPLOAD_GET,
	UPLOAD_DELETE,
	UPLOAD_FINISH,
	MED_STMTS
};

static const char *const sql[MED_STMTS] = {
	[MEDIA_INSERT] =
		"INSERT INTO media(sha256, uploader_id, name, size, type, width, height, thumb, created, "
		"e2ee) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
	/* Its columns, then whether user $2 may see it ($3: #lobby's id), whether ciphertext. */
	[MEDIA_GET] =
		"SELECT md.id, md.uploader_id, md.created, md.size, md.width, md.height, md.sha256, "
		"md.name, md.type, md.thumb, md.uploader_id = $2 OR EXISTS (SELECT 1 FROM messages g "
		"WHERE g.media_id = md.id AND (g.room_id = $3 OR g.pair_lo = $2 OR g.pair_hi = $2 OR "
		"g.room_id IN (SELECT room_id FROM members WHERE user_id = $2))), md.e2ee "
		"FROM media md WHERE md.id = $1",
	/* A file stored twice by one user counts once. */
	[MEDIA_USAGE] =
		"SELECT (SELECT coalesce(sum(size), 0) FROM "
		"(SELECT DISTINCT sha256, size FROM media WHERE uploader_id = $1) d) + "
		"(SELECT coalesce(sum(length), 0) FROM uploads WHERE user_id = $1 AND media_id IS NULL)",
	[UPLOAD_INSERT] =
		"INSERT INTO uploads(key, user_id, length, name, type, created, e2ee) "
		"VALUES($1, $2, $3, $4, $5, $6, $7)",
	[UPLOAD_GET] =
		"SELECT user_id, length, name, type, coalesce(media_id, 0), created, e2ee FROM uploads "
		"WHERE key = $1",
	[UPLOAD_DELETE] = "DELETE FROM uploads WHERE key = $1",
	[UPLOAD_FINISH] = "UPDATE uploads SET media_id = $2 WHERE key = $1",
};

int store_pg_media_prepare(struct store_pg *pg, char **err)
{
	return store_pg_prepare(pg, STORE_PG_MEDIA, sql, MED_STMTS, err);
}

static PGresult *exec(struct store_pg *pg, int which, const struct store_pg_params *p)
{
	return store_pg_exec(pg, STORE_PG_MEDIA, which, p);
}

enum store_status store_pg_get_media(struct store_pg *pg, int64_t id, int64_t user_id,
                                     struct store_media *out)
{
	struct store_pg_params p;
	enum store_status status;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, id);
	store_pg_add_int(&p, user_id);
	store_pg_add_int(&p, pg->lobby_id);
	r = exec(pg, MEDIA_GET, &p);
	if (r == NULL)
		return STORE_FAILED;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return STORE_NOT_FOUND;
	}
	memset(out, 0, sizeof *out);
	out->id = store_pg_int(r, 0, 0);
	out->uploader_id = store_pg_int(r, 0, 1);
	out->created = store_pg_int(r, 0, 2);
	out->size = store_pg_int(r, 0, 3);
	out->width = (int)store_pg_int(r, 0, 4);
	out->height = (int)store_pg_int(r, 0, 5);
	store_pg_copy(r, 0, 6, out->sha256, sizeof out->sha256);
	store_pg_copy(r, 0, 7, out->name, sizeof out->name);
	store_pg_copy(r, 0, 8, out->type, sizeof out->type);
	store_pg_copy(r, 0, 9, out->thumb, sizeof out->thumb);
	out->e2ee = store_pg_bool(r, 0, 11);
	status = store_pg_bool(r, 0, 10) ? STORE_OK : STORE_DENIED;
	PQclear(r);
	return status;
}

static enum store_status run_media_create(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	const struct store_media *m = &job->media;
	int64_t ts = job->ts != 0 ? job->ts : pier_now_ms();
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_text(&p, m->sha256);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_text(&p, m->name);
	store_pg_add_int(&p, m->size);
	store_pg_add_text(&p, m->type);
	store_pg_add_int(&p, m->width);
	store_pg_add_int(&p, m->height);
	store_pg_add_text(&p, m->thumb);
	store_pg_add_int(&p, ts);
	store_pg_add_bool(&p, m->e2ee);
	r = exec(pg, MEDIA_INSERT, &p);
	if (r == NULL)
		return store_pg_failed_with(pg, STORE_PG_FOREIGN_KEY) ? STORE_NOT_FOUND : STORE_FAILED;
	job->media.id = store_pg_int(r, 0, 0);
	PQclear(r);
	job->media.uploader_id = job->user_id;
	job->media.created = ts;
	job->ts = ts;
	if (job->upload_key != NULL) {
		store_pg_params_init(&p);
		store_pg_add_text(&p, job->upload_key);
		store_pg_add_int(&p, job->media.id);
		if (store_pg_exec_count(pg, STORE_PG_MEDIA, UPLOAD_FINISH, &p) < 0)
			return STORE_FAILED;
	}
	return STORE_OK;
}

static enum store_status run_media_usage(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	r = exec(pg, MEDIA_USAGE, &p);
	if (r == NULL)
		return STORE_FAILED;
	job->usage = store_pg_int(r, 0, 0);
	PQclear(r);
	return STORE_OK;
}

static enum store_status run_upload_create(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;

	if (job->upload_key == NULL)
		return STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_text(&p, job->upload_key);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, job->upload_length);
	store_pg_add_text(&p, job->media.name);
	store_pg_add_text(&p, job->media.type);
	store_pg_add_int(&p, job->ts != 0 ? job->ts : pier_now_ms());
	store_pg_add_bool(&p, job->media.e2ee);
	if (store_pg_exec_count(pg, STORE_PG_MEDIA, UPLOAD_INSERT, &p) >= 0)
		return STORE_OK;
	if (store_pg_failed_with(pg, STORE_PG_FOREIGN_KEY))
		return STORE_NOT_FOUND;
	return store_pg_failed_with(pg, STORE_PG_UNIQUE) ? STORE_EXISTS : STORE_FAILED;
}

static enum store_status run_upload_get(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	PGresult *r;

	if (job->upload_key == NULL)
		return STORE_NOT_FOUND;
	store_pg_params_init(&p);
	store_pg_add_text(&p, job->upload_key);
	r = exec(pg, UPLOAD_GET, &p);
	if (r == NULL)
		return STORE_FAILED;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return STORE_NOT_FOUND;
	}
	memset(&job->media, 0, sizeof job->media);
	job->user_id = store_pg_int(r, 0, 0);
	job->upload_length = store_pg_int(r, 0, 1);
	store_pg_copy(r, 0, 2, job->media.name, sizeof job->media.name);
	store_pg_copy(r, 0, 3, job->media.type, sizeof job->media.type);
	job->media_id = store_pg_int(r, 0, 4);
	job->media.created = store_pg_int(r, 0, 5);
	job->media.e2ee = store_pg_bool(r, 0, 6);
	PQclear(r);
	return STORE_OK;
}

static enum store_status run_upload_delete(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t n;

	if (job->upload_key == NULL)
		return STORE_NOT_FOUND;
	store_pg_params_init(&p);
	store_pg_add_text(&p, job->upload_key);
	n = store_pg_exec_count(pg, STORE_PG_MEDIA, UPLOAD_DELETE, &p);
	if (n < 0)
		return STORE_FAILED;
	return n == 0 ? STORE_NOT_FOUND : STORE_OK;
}

enum store_status store_pg_media_run(struct store_pg *pg, struct store_job *job)
{
	switch (job->op) {
	case STORE_MEDIA_CREATE:
		return run_media_create(pg, job);
	case STORE_MEDIA_GET:
		return store_pg_get_media(pg, job->media_id, job->user_id, &job->media);
	case STORE_MEDIA_USAGE:
		return run_media_usage(pg, job);
	case STORE_UPLOAD_CREATE:
		return run_upload_create(pg, job);
	case STORE_UPLOAD_GET:
		return run_upload_get(pg, job);
	case STORE_UPLOAD_DELETE:
		return run_upload_delete(pg, job);
	default:
		return STORE_FAILED;
	}
}
