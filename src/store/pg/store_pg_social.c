/* store_pg_social.c - the PostgreSQL back end's display names, room topics, read positions
 * and room member lists (store.h: STORE_SET_DISPLAY, SET_TOPIC, READ, UNREAD, MEMBERS; the
 * startup reads each_display and each_topic), as store_social.c does them on SQLite, with the
 * same statuses and the same answers.
 *
 * Read positions: one row per (user, conversation) in reads, room_id for a room and peer_id
 * for a private conversation (the other 0). A position only goes up (GREATEST in the upsert,
 * so two nodes moving it at once keep the higher) and never past the conversation's newest
 * message. Unread counts stop at the caller's cap (LIMIT inside the count).
 */
#include "store_pg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"

enum pg_social_stmt {
	PGS_SET_DISPLAY,
	PGS_EACH_DISPLAY,
	PGS_SET_TOPIC,
	PGS_GET_TOPIC,
	PGS_EACH_TOPIC,
	PGS_READ_ROOM,
	PGS_READ_PAIR,
	PGS_READ_SET,
	PGS_READ_BASELINE,
	PGS_COUNT_ROOM,
	PGS_COUNT_PAIR,
	PGS_MEMBERS,
	PGS_USERS_PAGE,
	PGS_N
};

static const char *const pg_social_sql[PGS_N] = {
	[PGS_SET_DISPLAY] = "UPDATE users SET display = $2 WHERE id = $1",
	[PGS_EACH_DISPLAY] = "SELECT name, display FROM users WHERE display IS NOT NULL",
	[PGS_SET_TOPIC] =
		"UPDATE rooms SET topic = $2, topic_by = $3, topic_ts = $4 WHERE id = $1",
	[PGS_GET_TOPIC] =
		"SELECT r.topic, (SELECT name FROM users WHERE id = r.topic_by), r.topic_ts "
		"FROM rooms r WHERE r.id = $1 AND r.topic IS NOT NULL",
	[PGS_EACH_TOPIC] =
		"SELECT r.name, r.topic, (SELECT name FROM users WHERE id = r.topic_by), r.topic_ts "
		"FROM rooms r WHERE r.topic IS NOT NULL",
	/* The position now and the conversation's newest id, in one round trip. */
	[PGS_READ_ROOM] =
		"SELECT coalesce((SELECT read_id FROM reads WHERE user_id = $1 AND room_id = $2 "
		"AND peer_id = 0), 0), coalesce((SELECT max(id) FROM messages WHERE room_id = $2), 0)",
	[PGS_READ_PAIR] =
		"SELECT coalesce((SELECT read_id FROM reads WHERE user_id = $1 AND room_id = 0 "
		"AND peer_id = $2), 0), coalesce((SELECT max(id) FROM messages WHERE pair_lo = $3 "
		"AND pair_hi = $4), 0)",
	[PGS_READ_SET] =
		"INSERT INTO reads(user_id, room_id, peer_id, read_id) VALUES($1, $2, $3, $4) "
		"ON CONFLICT (user_id, room_id, peer_id) DO UPDATE "
		"SET read_id = greatest(reads.read_id, excluded.read_id)",
	[PGS_READ_BASELINE] =
		"INSERT INTO reads(user_id, room_id, peer_id, read_id) "
		"SELECT $1, $2, 0, coalesce(max(id), 0) FROM messages WHERE room_id = $2 "
		"ON CONFLICT DO NOTHING",
	/* The LIMIT inside caps the rows counted (the index is walked from read_id up). */
	[PGS_COUNT_ROOM] =
		"SELECT count(*) FROM (SELECT 1 FROM messages WHERE room_id = $1 AND id > $2 "
		"AND sender_id <> $3 LIMIT $4) c",
	[PGS_COUNT_PAIR] =
		"SELECT count(*) FROM (SELECT 1 FROM messages WHERE pair_lo = $1 AND pair_hi = $2 "
		"AND id > $3 AND sender_id <> $4 LIMIT $5) c",
	/* Names in key order; COLLATE "C": keys compare by bytes, as SQLite's do. */
	[PGS_MEMBERS] =
		"SELECT u.name FROM members m JOIN users u ON u.id = m.user_id "
		"WHERE m.room_id = $1 AND u.name_key COLLATE \"C\" > $2 "
		"ORDER BY u.name_key COLLATE \"C\" LIMIT $3",
	/* #lobby's members: every user ($1 unused, to bind like PGS_MEMBERS). */
	[PGS_USERS_PAGE] =
		"SELECT name FROM users WHERE $1::bigint IS NOT NULL AND name_key COLLATE \"C\" > $2 "
		"ORDER BY name_key COLLATE \"C\" LIMIT $3",
};

int store_pg_social_prepare(struct store_pg *pg, char **err)
{
	return store_pg_prepare(pg, STORE_PG_SOCIAL, pg_social_sql, PGS_N, err);
}

static enum store_status run_set_display(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t n;

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_text(&p, job->display);
	n = store_pg_exec_count(pg, STORE_PG_SOCIAL, PGS_SET_DISPLAY, &p);
	if (n < 0)
		return STORE_FAILED;
	return n == 0 ? STORE_NOT_FOUND : STORE_OK;
}

static enum store_status run_set_topic(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t room_id = 0;
	int rc = store_pg_room_id(pg, job->room, &room_id);
	PGresult *r;

	store_pg_params_init(&p);
	if (rc != 0)
		return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	store_pg_add_int(&p, room_id);
	store_pg_add_text(&p, job->topic);
	if (job->topic != NULL) {
		store_pg_add_int(&p, job->user_id);
		store_pg_add_int(&p, job->ts != 0 ? job->ts : pier_now_ms());
	} else {
		store_pg_add_text(&p, NULL);
		store_pg_add_text(&p, NULL);
	}
	r = store_pg_exec(pg, STORE_PG_SOCIAL, PGS_SET_TOPIC, &p);
	if (r == NULL)
		return STORE_FAILED;
	PQclear(r);
	return STORE_OK;
}

enum store_status store_pg_social_topic(struct store_pg *pg, int64_t room_id,
                                        struct store_job *job)
{
	struct store_pg_params p;
	enum store_status status = STORE_FAILED;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, room_id);
	r = store_pg_exec(pg, STORE_PG_SOCIAL, PGS_GET_TOPIC, &p);
	if (r == NULL)
		return STORE_FAILED;
	if (PQntuples(r) == 0) {
		status = STORE_OK;
	} else {
		job->topic_out = store_pg_dup(r, 0, 0);
		if (!PQgetisnull(r, 0, 1))
			job->topic_by = store_pg_dup(r, 0, 1);
		job->topic_ts = store_pg_int(r, 0, 2);
		if (job->topic_out != NULL)
			status = STORE_OK;
	}
	PQclear(r);
	return status;
}

int store_pg_social_read_baseline(struct store_pg *pg, int64_t user_id, int64_t room_id)
{
	struct store_pg_params p;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, user_id);
	store_pg_add_int(&p, room_id);
	r = store_pg_exec(pg, STORE_PG_SOCIAL, PGS_READ_BASELINE, &p);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* Where conversation (room, or the pair of user and peer) is: room_id (0 for a pair), and
 * lo, hi for a pair. STORE_OK, STORE_NOT_FOUND or STORE_FAILED. */
static enum store_status conv_ids(struct store_pg *pg, const char *room, int64_t user,
                                  int64_t peer, int64_t *room_id, int64_t *lo, int64_t *hi)
{
	int rc;

	*room_id = 0;
	rc = room != NULL ? store_pg_room_id(pg, room, room_id) : 0;
	return store_rule_conv(rc, room, user, peer, lo, hi);
}

/* The user's read position in a conversation and its newest message's id. 0 or -1. */
static int read_and_last(struct store_pg *pg, int64_t user, int64_t room_id, int64_t peer,
                         int64_t lo, int64_t hi, int64_t *read_id, int64_t *last)
{
	struct store_pg_params p;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, user);
	if (room_id != 0) {
		store_pg_add_int(&p, room_id);
	} else {
		store_pg_add_int(&p, peer);
		store_pg_add_int(&p, lo);
		store_pg_add_int(&p, hi);
	}
	r = store_pg_exec(pg, STORE_PG_SOCIAL, room_id != 0 ? PGS_READ_ROOM : PGS_READ_PAIR, &p);
	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return -1;
	}
	*read_id = store_pg_int(r, 0, 0);
	*last = store_pg_int(r, 0, 1);
	PQclear(r);
	return 0;
}

static enum store_status run_read(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t room_id, lo, hi, last = 0, old = 0;
	int64_t peer = job->room != NULL ? 0 : job->peer_id;
	enum store_status st = conv_ids(pg, job->room, job->user_id, job->peer_id, &room_id, &lo, &hi);
	PGresult *r;

	store_pg_params_init(&p);
	if (st != STORE_OK)
		return st;
	if (read_and_last(pg, job->user_id, room_id, peer, lo, hi, &old, &last) != 0)
		return STORE_FAILED;
	if (!store_rule_read(job, old, last))
		return STORE_OK;
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, room_id);
	store_pg_add_int(&p, peer);
	store_pg_add_int(&p, job->read_id);
	r = store_pg_exec(pg, STORE_PG_SOCIAL, PGS_READ_SET, &p);
	if (r == NULL)
		return store_pg_failed_with(pg, STORE_PG_FOREIGN_KEY) ? STORE_NOT_FOUND : STORE_FAILED;
	PQclear(r);
	return STORE_OK;
}

/* Fills one conversation's counts. A room that is not stored (yet) has none. */
static enum store_status unread_one(struct store_pg *pg, struct store_job *job,
                                    struct store_conv *cv)
{
	struct store_pg_params p;
	int64_t room_id, lo, hi;
	enum store_status st = conv_ids(pg, cv->room, job->user_id, cv->peer_id, &room_id, &lo, &hi);
	PGresult *r;

	store_pg_params_init(&p);
	cv->read_id = cv->unread = cv->last_id = 0;
	if (st != STORE_OK)
		return st == STORE_NOT_FOUND ? STORE_OK : st;
	if (read_and_last(pg, job->user_id, room_id, cv->room != NULL ? 0 : cv->peer_id, lo, hi,
	                  &cv->read_id, &cv->last_id) != 0)
		return STORE_FAILED;
	if (cv->last_id <= cv->read_id)
		return STORE_OK;
	if (room_id != 0) {
		store_pg_add_int(&p, room_id);
	} else {
		store_pg_add_int(&p, lo);
		store_pg_add_int(&p, hi);
	}
	store_pg_add_int(&p, cv->read_id);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, job->limit);
	r = store_pg_exec(pg, STORE_PG_SOCIAL, room_id != 0 ? PGS_COUNT_ROOM : PGS_COUNT_PAIR, &p);
	if (r == NULL)
		return STORE_FAILED;
	cv->unread = PQntuples(r) == 1 ? store_pg_int(r, 0, 0) : 0;
	PQclear(r);
	return STORE_OK;
}

static enum store_status run_unread(struct store_pg *pg, struct store_job *job)
{
	if (job->limit < 1)
		job->limit = 1;
	for (size_t i = 0; i < job->nconvs; i++) {
		enum store_status st = unread_one(pg, job, &job->convs[i]);

		if (st != STORE_OK)
			return st;
	}
	return STORE_OK;
}

static enum store_status run_members(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	char key[PIER_KEY_MAX];
	int64_t room_id = 0;
	int limit = store_rule_members(job, key);
	int rc = store_pg_room_id(pg, job->room, &room_id);
	PGresult *r;
	int n;

	store_pg_params_init(&p);
	if (rc != 0)
		return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	store_pg_add_int(&p, room_id);
	store_pg_add_text(&p, key);
	store_pg_add_int(&p, (int64_t)limit + 1);
	r = store_pg_exec(pg, STORE_PG_SOCIAL, room_id == pg->lobby_id ? PGS_USERS_PAGE : PGS_MEMBERS, &p);
	if (r == NULL)
		return STORE_FAILED;
	n = PQntuples(r);
	job->more = n > limit;
	if (n > limit)
		n = limit;
	job->names = calloc((size_t)n + 1, sizeof(*job->names));
	if (job->names == NULL)
		goto fail;
	for (int i = 0; i < n; i++) {
		job->names[i] = store_pg_dup(r, i, 0);
		if (job->names[i] == NULL)
			goto fail;
	}
	PQclear(r);
	return STORE_OK;
fail:
	PQclear(r);
	return STORE_FAILED;        /* the store releases what was filled */
}

enum store_status store_pg_social_run(struct store_pg *pg, struct store_job *job)
{
	switch (job->op) {
	case STORE_SET_DISPLAY:
		return run_set_display(pg, job);
	case STORE_SET_TOPIC:
		return run_set_topic(pg, job);
	case STORE_READ:
		return run_read(pg, job);
	case STORE_UNREAD:
		return run_unread(pg, job);
	case STORE_MEMBERS:
		return run_members(pg, job);
	default:
		return STORE_FAILED;
	}
}

int store_pg_each_display(struct store_pg *pg,
                          void (*cb)(void *ud, const char *name, const char *display), void *ud)
{
	PGresult *r = store_pg_exec(pg, STORE_PG_SOCIAL, PGS_EACH_DISPLAY, NULL);

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		cb(ud, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return 0;
}

int store_pg_each_topic(struct store_pg *pg,
                        void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                   int64_t ts), void *ud)
{
	PGresult *r = store_pg_exec(pg, STORE_PG_SOCIAL, PGS_EACH_TOPIC, NULL);

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		cb(ud, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		   PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2), store_pg_int(r, i, 3));
	PQclear(r);
	return 0;
}
