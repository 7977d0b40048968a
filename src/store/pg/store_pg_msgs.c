/* store_pg_msgs.c - the PostgreSQL back end's rooms and messages: APPEND, JOIN, PART, HISTORY,
 * SYNC, OFFLINE, STREAM, the startup read of rooms, and reading message rows into store_msg.
 * The same semantics and statuses as store_sqlite.c's. Message ids come from the counters
 * row 'msg' inside the batch's transaction (docs/CLUSTER.md, "Ids"). */
#include "store_pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "msgrules.h"

#define LIMIT_MAX 1000

enum {
	MSG_BY_CID,
	MSG_INSERT,
	MSG_ROOM_HISTORY,
	MSG_PAIR_HISTORY,
	MSG_SYNC,
	MSG_CHANGES,
	MSG_OFFLINE,
	MSG_STREAM,
	ROOM_INSERT,
	ROOM_EACH,
	MEMBER_INSERT,
	MEMBER_DELETE,
	CONTACT_INSERT,
	MSG_APPEND_ROOM,
	MSG_APPEND_PRIVATE,
	MSG_NEWEST,
	MSG_STMTS
};

/* Whether user $3 may read message m ($2: #lobby's id): SYNC's and the changes' filter. */
#define MSG_MINE \
	"(m.room_id = $2 OR m.pair_lo = $3 OR m.pair_hi = $3 OR " \
	"m.room_id IN (SELECT room_id FROM members WHERE user_id = $3))"

static const char *const sql[MSG_STMTS] = {
	[MSG_BY_CID] =
		"SELECT id, ts, coalesce(room_id, 0), coalesce(recipient_id, 0) FROM messages "
		"WHERE sender_id = $1 AND cid = $2",
	[MSG_INSERT] =
		"INSERT INTO messages(id, ts, sender_id, room_id, recipient_id, pair_lo, pair_hi, text, "
		"cid, kind, media_id, reply_to, e2ee, payload) "
		"VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
	/* Newest first (the caller reverses), one row past the limit to learn "more". */
	[MSG_ROOM_HISTORY] =
		STORE_PG_MSG_SELECT("$4") "WHERE m.room_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3",
	[MSG_PAIR_HISTORY] =
		STORE_PG_MSG_SELECT("$5") "WHERE m.pair_lo = $1 AND m.pair_hi = $2 AND m.id < $3 "
		"ORDER BY m.id DESC LIMIT $4",
	[MSG_SYNC] =
		STORE_PG_MSG_SELECT("$3") "WHERE m.id > $1 AND " MSG_MINE " ORDER BY m.id LIMIT $4",
	[MSG_CHANGES] =
		STORE_PG_MSG_SELECT("$3") "WHERE m.changed > $1 AND " MSG_MINE
		" ORDER BY m.changed LIMIT $4",
	[MSG_OFFLINE] =
		STORE_PG_MSG_SELECT("$1") "WHERE m.recipient_id = $1 AND m.id > "
		"greatest($3::bigint, (SELECT seen_id FROM users WHERE id = $1)) ORDER BY m.id LIMIT $2",
	/* Every message in ($1, $2], oldest first, read as no user (0). */
	[MSG_STREAM] =
		STORE_PG_MSG_SELECT("0") "WHERE m.id > $1 AND m.id <= $2 ORDER BY m.id LIMIT $3",
	[ROOM_INSERT] = "INSERT INTO rooms(name, name_key, created) VALUES($1, $2, $3) RETURNING id",
	[ROOM_EACH] =
		"SELECT r.name, (SELECT count(*) FROM members m WHERE m.room_id = r.id) "
		"FROM rooms r WHERE r.id <> $1 ORDER BY r.name_key",
	[MEMBER_INSERT] =
		"INSERT INTO members(room_id, user_id, joined) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
	[MEMBER_DELETE] = "DELETE FROM members WHERE room_id = $1 AND user_id = $2",
	[CONTACT_INSERT] =
		"INSERT INTO contacts(user_id, peer_id) VALUES($1, $2), ($2, $1) ON CONFLICT DO NOTHING",
	/* A plain room message in one statement (store_pg_append_send): the room ($1: its key),
	 * the original of a resent cid ($3; sender $2), and only when there is a room and no
	 * original, the next message id and the row (ts $4, text $5). Gives the room's id (NULL:
	 * no such room), the original's id, ts and room, and the new id (NULL: nothing stored). */
	[MSG_APPEND_ROOM] =
		"WITH r AS (SELECT id FROM rooms WHERE name_key = $1), "
		"d AS (SELECT id, ts, coalesce(room_id, 0) AS room_id FROM messages "
		"WHERE sender_id = $2 AND cid = $3), "
		"c AS (UPDATE counters SET value = value + 1 WHERE name = 'msg' "
		"AND EXISTS (SELECT 1 FROM r) AND NOT EXISTS (SELECT 1 FROM d) RETURNING value), "
		"i AS (INSERT INTO messages(id, ts, sender_id, room_id, text, cid, e2ee) "
		"SELECT c.value, $4, $2, r.id, $5, $3, false FROM c, r RETURNING id) "
		"SELECT (SELECT id FROM r), (SELECT id FROM d), (SELECT ts FROM d), "
		"(SELECT room_id FROM d), (SELECT id FROM i)",
	/* A plain private message from $2 to $1 in one statement, likewise: the original of a
	 * resent cid ($3), whether the recipient has a device list (then plaintext is refused:
	 * store_pg_e2ee_plain_check's rule), and only when neither, the id, the row (ts $4, text
	 * $5) and, when $6, the two contacts rows. A missing sender or recipient is an error (a
	 * foreign key): the pipeline's fallback gives it its status. Gives the original's id, ts
	 * and recipient (0: a room), whether there is a list, the new id. */
	[MSG_APPEND_PRIVATE] =
		"WITH d AS (SELECT id, ts, coalesce(recipient_id, 0) AS recipient_id FROM messages "
		"WHERE sender_id = $2 AND cid = $3), "
		"l AS (SELECT 1 FROM devlists WHERE user_id = $1), "
		"c AS (UPDATE counters SET value = value + 1 WHERE name = 'msg' "
		"AND NOT EXISTS (SELECT 1 FROM d) AND NOT EXISTS (SELECT 1 FROM l) RETURNING value), "
		"i AS (INSERT INTO messages(id, ts, sender_id, recipient_id, pair_lo, pair_hi, text, cid, "
		"e2ee) SELECT c.value, $4, $2, $1, least($1::bigint, $2::bigint), "
		"greatest($1::bigint, $2::bigint), $5, $3, false FROM c RETURNING id), "
		"k AS (INSERT INTO contacts(user_id, peer_id) SELECT x.u, x.p FROM i, "
		"(VALUES ($2::bigint, $1::bigint), ($1::bigint, $2::bigint)) x(u, p) WHERE $6::boolean "
		"ON CONFLICT DO NOTHING) "
		"SELECT (SELECT id FROM d), (SELECT ts FROM d), (SELECT recipient_id FROM d), "
		"EXISTS (SELECT 1 FROM l), (SELECT id FROM i)",
	[MSG_NEWEST] = "SELECT coalesce(max(id), 0) FROM messages",
};

int store_pg_msgs_prepare(struct store_pg *pg, char **err)
{
	return store_pg_prepare(pg, STORE_PG_MSGS, sql, MSG_STMTS, err);
}

static PGresult *exec(struct store_pg *pg, int which, const struct store_pg_params *p)
{
	return store_pg_exec(pg, STORE_PG_MSGS, which, p);
}

static int64_t exec_count(struct store_pg *pg, int which, const struct store_pg_params *p)
{
	return store_pg_exec_count(pg, STORE_PG_MSGS, which, p);
}

static int clamp_limit(int limit)
{
	if (limit < 1)
		return 1;
	return limit > LIMIT_MAX ? LIMIT_MAX : limit;
}

int store_pg_read_msg(const PGresult *r, int row, struct store_msg *m)
{
	bool failed = false;

	memset(m, 0, sizeof *m);
	m->id = store_pg_int(r, row, 0);
	m->ts = store_pg_int(r, row, 1);
	m->from = store_pg_dup(r, row, 2);
	m->to = store_pg_dup(r, row, 3);
	m->text = store_pg_dup(r, row, 4);
	if (m->from == NULL || m->to == NULL || m->text == NULL)
		return -1;
	if (!store_pg_null(r, row, 6)) {
		m->kind = store_pg_dup(r, row, 5);
		m->media_id = store_pg_int(r, row, 6);
		m->media_name = store_pg_dup(r, row, 7);
		m->media_size = store_pg_int(r, row, 8);
		m->media_type = store_pg_dup(r, row, 9);
		m->media_width = (int)store_pg_int(r, row, 10);
		m->media_height = (int)store_pg_int(r, row, 11);
		if (m->kind == NULL || m->media_name == NULL || m->media_type == NULL)
			return -1;
	}
	m->edited = store_pg_int(r, row, 12);
	m->recalled = store_pg_int(r, row, 13);
	m->changed = store_pg_int(r, row, 14);
	m->reply_to = store_pg_int(r, row, 15);
	if (m->reply_to != 0) {
		m->quote_from = store_pg_dup_or_null(r, row, 16, &failed);
		m->quote_text = store_pg_dup_or_null(r, row, 17, &failed);
		m->quote_cut = store_pg_bool(r, row, 18);
		m->quote_recalled = store_pg_bool(r, row, 19);
		m->quote_kind = store_pg_dup_or_null(r, row, 20, &failed);
	}
	m->mentions = store_pg_dup_or_null(r, row, 21, &failed);
	m->mentioned = store_pg_bool(r, row, 22);
	m->reactions = store_pg_dup_or_null(r, row, 23, &failed);
	m->e2ee = store_pg_bool(r, row, 24);
	return failed ? -1 : 0;
}

enum store_status store_pg_collect_msgs(const PGresult *r, int limit, bool newest_first,
                                        struct store_msg **out, size_t *n, bool *more)
{
	int rows = PQntuples(r);

	*out = NULL;
	*n = 0;
	*more = rows > limit;
	if (rows > limit)
		rows = limit;
	if (rows == 0)
		return STORE_OK;
	*out = calloc((size_t)rows, sizeof **out);
	if (*out == NULL)
		return STORE_FAILED;
	for (int i = 0; i < rows; i++) {
		int row = newest_first ? rows - 1 - i : i;

		(*n)++;
		if (store_pg_read_msg(r, row, &(*out)[i]) != 0)
			return STORE_FAILED;
	}
	return STORE_OK;
}

/* Runs a message query into job->msgs. */
static enum store_status query_msgs(struct store_pg *pg, int which, const struct store_pg_params *p,
                                    int limit, bool newest_first, struct store_job *job)
{
	PGresult *r = exec(pg, which, p);
	enum store_status st;

	if (r == NULL)
		return STORE_FAILED;
	st = store_pg_collect_msgs(r, limit, newest_first, &job->msgs, &job->nmsgs, &job->more);
	PQclear(r);
	return st;
}

/* Finds the original of a resent (sender, cid) to room_id (0: to job->peer_id): 0 found
 * (job->msg_id, ts set), 2 found with another target (nothing set), 1 none, -1 error. */
static int find_cid(struct store_pg *pg, struct store_job *job, int64_t room_id)
{
	struct store_pg_params p;
	PGresult *r;
	int rc = 1;

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_text(&p, job->cid);
	r = exec(pg, MSG_BY_CID, &p);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		bool same = room_id != 0 ? store_pg_int(r, 0, 2) == room_id
		                         : store_pg_int(r, 0, 3) == job->peer_id;

		if (same) {
			job->msg_id = store_pg_int(r, 0, 0);
			job->ts = store_pg_int(r, 0, 1);
		}
		rc = same ? 0 : 2;
	}
	PQclear(r);
	return rc;
}

static enum store_status run_append(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	size_t mentions = 0;
	int64_t room_id = 0, id = 0;
	int64_t ts = job->ts != 0 ? job->ts : pier_now_ms();
	int64_t lo = job->user_id < job->peer_id ? job->user_id : job->peer_id;
	int64_t hi = job->user_id < job->peer_id ? job->peer_id : job->user_id;
	bool e2ee = job->e2ee.payload != NULL;
	enum store_status st;
	int rc;

	if (job->text == NULL)
		return STORE_FAILED;
	if (job->room != NULL) {
		rc = store_pg_room_id(pg, job->room, &room_id);
		if (rc != 0)
			return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	} else if (job->peer_id <= 0) {
		return STORE_NOT_FOUND;
	}
	if (job->cid != NULL) {
		st = store_rule_cid(find_cid(pg, job, room_id));
		if (st != STORE_OK)
			return st;
	}
	if (job->reply_to != 0) {
		struct store_msg_check q;
		enum store_status qs = store_pg_check_msg(pg, job->reply_to, job->user_id, &q);

		qs = store_rule_reply(qs, &q, job, room_id);
		if (qs != STORE_OK)
			return qs;
	}
	if (job->media_id != 0) {
		st = store_pg_get_media(pg, job->media_id, job->user_id, &job->media);
		st = store_rule_media(st, job, e2ee);
		if (st != STORE_OK)
			return st;
	}
	/* No silent downgrade: the store knows who has a device list (store_pg_e2ee.c). */
	st = e2ee ? store_pg_e2ee_send_check(pg, job)
	          : store_pg_e2ee_plain_check(pg, job, job->media_id != 0 && job->media.e2ee);
	if (st != STORE_OK)
		return st;

	if (store_pg_next_ids(pg, "msg", 1, &id) != 0)
		return STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_int(&p, id);
	store_pg_add_int(&p, ts);
	store_pg_add_int(&p, job->user_id);
	if (job->room != NULL) {
		store_pg_add_int(&p, room_id);
		store_pg_add_null(&p);
		store_pg_add_null(&p);
		store_pg_add_null(&p);
	} else {
		store_pg_add_null(&p);
		store_pg_add_int(&p, job->peer_id);
		store_pg_add_int(&p, lo);
		store_pg_add_int(&p, hi);
	}
	store_pg_add_text(&p, job->text);
	store_pg_add_text(&p, job->cid);
	if (job->media_id != 0) {
		store_pg_add_text(&p, job->kind);
		store_pg_add_int(&p, job->media_id);
	} else {
		store_pg_add_null(&p);
		store_pg_add_null(&p);
	}
	if (job->reply_to != 0)
		store_pg_add_int(&p, job->reply_to);
	else
		store_pg_add_null(&p);
	store_pg_add_bool(&p, e2ee);
	store_pg_add_text(&p, e2ee ? job->e2ee.payload : NULL);
	if (exec_count(pg, MSG_INSERT, &p) < 0)
		return store_pg_failed_with(pg, STORE_PG_FOREIGN_KEY) ? STORE_NOT_FOUND : STORE_FAILED;
	job->msg_id = id;
	job->ts = ts;
	pg->search_pending = true;       /* indexed at the end of the batch (store_pg_search.c) */
	if (e2ee && store_pg_e2ee_send_queue(pg, job) != STORE_OK)
		return STORE_FAILED;
	if (job->room == NULL && job->new_contact) {
		store_pg_params_init(&p);
		store_pg_add_int(&p, job->user_id);
		store_pg_add_int(&p, job->peer_id);
		if (exec_count(pg, CONTACT_INSERT, &p) < 0)
			return STORE_FAILED;
	}
	if (job->room != NULL &&
	    store_pg_mentions(pg, job->msg_id, room_id, job->text, false, &mentions) != STORE_OK)
		return STORE_FAILED;
	/* What the recipients see beyond the request: the quote, the mentions. */
	if (job->reply_to != 0 || mentions > 0)
		return store_pg_read_back(pg, job->msg_id, job->user_id, job);
	return STORE_OK;
}

static enum store_status run_join(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	char key[PIER_KEY_MAX];
	int64_t room_id = 0, n;
	PGresult *r;
	int rc;

	job->created = false;
	job->already = false;
	if (job->room == NULL || pier_room_check(job->room) != PIER_NAME_OK)
		return STORE_FAILED;
	pier_name_key(job->room, key);
	if (strcmp(key, STORE_LOBBY) == 0) {
		job->already = true;
		return STORE_OK;
	}
	rc = store_pg_room_id(pg, job->room, &room_id);
	if (rc < 0)
		return STORE_FAILED;
	if (rc > 0) {
		store_pg_params_init(&p);
		store_pg_add_text(&p, job->room);
		store_pg_add_text(&p, key);
		store_pg_add_int(&p, pier_now_ms());
		r = exec(pg, ROOM_INSERT, &p);
		if (r == NULL)
			return STORE_FAILED;
		room_id = store_pg_int(r, 0, 0);
		PQclear(r);
		job->created = true;
	} else if (store_pg_social_topic(pg, room_id, job) != STORE_OK) {
		return STORE_FAILED;
	}
	store_pg_params_init(&p);
	store_pg_add_int(&p, room_id);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, pier_now_ms());
	n = exec_count(pg, MEMBER_INSERT, &p);
	if (n < 0)     /* no such user: the savepoint drops a new room */
		return store_pg_failed_with(pg, STORE_PG_FOREIGN_KEY) ? STORE_NOT_FOUND : STORE_FAILED;
	job->already = n == 0;
	if (!job->already && store_pg_social_read_baseline(pg, job->user_id, room_id) != 0)
		return STORE_FAILED;
	return STORE_OK;
}

static enum store_status run_part(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t room_id = 0, n;
	int rc = store_pg_room_id(pg, job->room, &room_id);

	if (rc != 0)
		return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_int(&p, room_id);
	store_pg_add_int(&p, job->user_id);
	n = exec_count(pg, MEMBER_DELETE, &p);
	if (n < 0)
		return STORE_FAILED;
	return n == 0 ? STORE_NOT_FOUND : STORE_OK;
}

static enum store_status run_history(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int limit = clamp_limit(job->limit);
	int64_t before = job->before > 0 ? job->before : INT64_MAX;

	store_pg_params_init(&p);
	if (job->room != NULL) {
		int64_t room_id = 0;
		int rc = store_pg_room_id(pg, job->room, &room_id);

		if (rc != 0)
			return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
		store_pg_add_int(&p, room_id);
		store_pg_add_int(&p, before);
		store_pg_add_int(&p, (int64_t)limit + 1);
		store_pg_add_int(&p, job->user_id);
		return query_msgs(pg, MSG_ROOM_HISTORY, &p, limit, true, job);
	}
	store_pg_add_int(&p, job->user_id < job->peer_id ? job->user_id : job->peer_id);
	store_pg_add_int(&p, job->user_id < job->peer_id ? job->peer_id : job->user_id);
	store_pg_add_int(&p, before);
	store_pg_add_int(&p, (int64_t)limit + 1);
	store_pg_add_int(&p, job->user_id);
	return query_msgs(pg, MSG_PAIR_HISTORY, &p, limit, true, job);
}

static enum store_status run_sync(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int limit = clamp_limit(job->limit);
	enum store_status st;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->after);
	store_pg_add_int(&p, pg->lobby_id);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, (int64_t)limit + 1);
	st = query_msgs(pg, MSG_SYNC, &p, limit, false, job);
	if (st == STORE_OK && job->changes_after >= 0) {
		store_pg_params_init(&p);
		store_pg_add_int(&p, job->changes_after);
		store_pg_add_int(&p, pg->lobby_id);
		store_pg_add_int(&p, job->user_id);
		store_pg_add_int(&p, (int64_t)limit + 1);
		r = exec(pg, MSG_CHANGES, &p);
		if (r == NULL)
			return STORE_FAILED;
		st = store_pg_collect_msgs(r, limit, false, &job->changes, &job->nchanges,
		                           &job->changes_more);
		PQclear(r);
	}
	if (st != STORE_OK)
		return st;
	return store_pg_counter(pg, "change", &job->change_seq) == 0 ? STORE_OK : STORE_FAILED;
}

static enum store_status run_offline(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int limit = clamp_limit(job->limit);

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, (int64_t)limit + 1);
	store_pg_add_int(&p, job->after);
	return query_msgs(pg, MSG_OFFLINE, &p, limit, false, job);
}

static enum store_status run_stream(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int limit = clamp_limit(job->limit);

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->after);
	store_pg_add_int(&p, job->msg_id > 0 ? job->msg_id : INT64_MAX);
	store_pg_add_int(&p, (int64_t)limit + 1);
	return query_msgs(pg, MSG_STREAM, &p, limit, false, job);
}

enum store_status store_pg_msgs_run(struct store_pg *pg, struct store_job *job)
{
	switch (job->op) {
	case STORE_APPEND:
		return run_append(pg, job);
	case STORE_JOIN:
		return run_join(pg, job);
	case STORE_PART:
		return run_part(pg, job);
	case STORE_HISTORY:
		return run_history(pg, job);
	case STORE_SYNC:
		return run_sync(pg, job);
	case STORE_OFFLINE:
		return run_offline(pg, job);
	case STORE_STREAM:
		return run_stream(pg, job);
	default:
		return STORE_FAILED;
	}
}

int store_pg_rooms_each(struct store_pg *pg,
                        void (*cb)(void *ud, const char *room, int64_t members), void *ud)
{
	struct store_pg_params p;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, pg->lobby_id);
	r = exec(pg, ROOM_EACH, &p);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		cb(ud, PQgetvalue(r, i, 0), store_pg_int(r, i, 1));
	PQclear(r);
	return 0;
}

/* pier_mentions_scan's callback for store_pg_append_fast: any candidate at all. */
static bool any_mention(void *ud, const char *name, size_t len, size_t alt_len)
{
	(void)name;
	(void)len;
	(void)alt_len;
	*(bool *)ud = true;
	return false;
}

bool store_pg_append_fast(const struct store_job *job)
{
	bool named = false;

	if (job->op != STORE_APPEND || job->text == NULL || job->reply_to != 0 ||
	    job->media_id != 0 || job->e2ee.payload != NULL)
		return false;
	if (job->room == NULL)
		return job->peer_id > 0;
	if (pier_room_check(job->room) != PIER_NAME_OK)
		return false;
	pier_mentions_scan(job->text, 1, any_mention, &named);
	return !named;
}

/* The private one of store_pg_append_send. */
static int send_private(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	char name[32];

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->peer_id);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_text(&p, job->cid);
	store_pg_add_int(&p, job->ts);
	store_pg_add_text(&p, job->text);
	store_pg_add_bool(&p, job->new_contact);
	snprintf(name, sizeof name, "%s%d", STORE_PG_MSGS, MSG_APPEND_PRIVATE);
	return PQsendQueryPrepared(pg->conn, name, p.n, p.values, p.lengths, p.formats, 0) == 1
	       ? 0 : -1;
}

/* The private one of store_pg_append_read. */
static enum store_status read_private(struct store_pg *pg, const PGresult *r,
                                      struct store_job *job)
{
	if (PQntuples(r) != 1)
		return STORE_FAILED;
	if (!store_pg_null(r, 0, 0)) {
		if (store_pg_int(r, 0, 2) != job->peer_id)
			return STORE_CONFLICT;
		job->msg_id = store_pg_int(r, 0, 0);
		job->ts = store_pg_int(r, 0, 1);
		return STORE_DUPLICATE;
	}
	if (store_pg_bool(r, 0, 3))
		return STORE_E2EE_REQUIRED;
	if (store_pg_null(r, 0, 4))
		return STORE_FAILED;
	job->msg_id = store_pg_int(r, 0, 4);
	pg->search_pending = true;
	return STORE_OK;
}

int store_pg_append_send(struct store_pg *pg, struct store_job *job)
{
	char key[PIER_KEY_MAX], name[32];
	struct store_pg_params p;

	if (job->ts == 0)
		job->ts = pier_now_ms();
	if (job->room == NULL)
		return send_private(pg, job);
	pier_name_key(job->room, key);
	store_pg_params_init(&p);
	store_pg_add_text(&p, key);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_text(&p, job->cid);
	store_pg_add_int(&p, job->ts);
	store_pg_add_text(&p, job->text);
	snprintf(name, sizeof name, "%s%d", STORE_PG_MSGS, MSG_APPEND_ROOM);
	return PQsendQueryPrepared(pg->conn, name, p.n, p.values, p.lengths, p.formats, 0) == 1
	       ? 0 : -1;
}

enum store_status store_pg_append_read(struct store_pg *pg, const PGresult *r,
                                       struct store_job *job)
{
	if (job->room == NULL)
		return read_private(pg, r, job);
	if (PQntuples(r) != 1)
		return STORE_FAILED;
	if (store_pg_null(r, 0, 0))
		return STORE_NOT_FOUND;
	if (!store_pg_null(r, 0, 1)) {
		if (store_pg_int(r, 0, 3) != store_pg_int(r, 0, 0))
			return STORE_CONFLICT;
		job->msg_id = store_pg_int(r, 0, 1);
		job->ts = store_pg_int(r, 0, 2);
		return STORE_DUPLICATE;
	}
	if (store_pg_null(r, 0, 4))
		return STORE_FAILED;
	job->msg_id = store_pg_int(r, 0, 4);
	pg->search_pending = true;
	return STORE_OK;
}

int store_pg_newest_msg_id(struct store_pg *pg, int64_t *id)
{
	PGresult *r = exec(pg, MSG_NEWEST, NULL);

	if (r == NULL)
		return -1;
	*id = store_pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}
