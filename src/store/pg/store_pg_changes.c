/* store_pg_changes.c - the PostgreSQL back end's changes to sent messages: EDIT, RECALL, REACT,
 * the @mentions of room messages, and the message checks and read-backs APPEND shares. The
 * same semantics and statuses as store_sqlite.c's; the change sequence comes from the
 * counters row 'change' (docs/CLUSTER.md, "Ids"). */
#include "store_pg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "msgrules.h"

enum {
	MSG_ONE,
	MSG_CHECK,
	MSG_EDIT,
	MSG_RECALL,
	MSG_TOUCH,
	MENTION_USER,
	MENTION_INSERT,
	MENTIONS_DELETE,
	MENTIONS_LIST,
	REACTION_INSERT,
	REACTION_DELETE,
	REACTIONS_DELETE,
	REACTION_KINDS,
	REACTION_COUNT,
	CHG_STMTS
};

static const char *const sql[CHG_STMTS] = {
	[MSG_ONE] = STORE_PG_MSG_SELECT("$2") "WHERE m.id = $1",
	/* sender, ts, recalled, has media, room (0: private), the pair, whether user $2 may see
	 * it ($3: #lobby's id), whether it is encrypted. */
	[MSG_CHECK] =
		"SELECT m.sender_id, m.ts, m.recalled IS NOT NULL, m.media_id IS NOT NULL, "
		"coalesce(m.room_id, 0), coalesce(m.pair_lo, 0), coalesce(m.pair_hi, 0), "
		"coalesce(m.room_id = $3::bigint OR m.pair_lo = $2::bigint OR m.pair_hi = $2::bigint OR "
		"m.room_id IN (SELECT room_id FROM members WHERE user_id = $2::bigint), false), m.e2ee "
		"FROM messages m WHERE m.id = $1",
	[MSG_EDIT] = "UPDATE messages SET text = $2, edited = $3, changed = $4 WHERE id = $1",
	[MSG_RECALL] =
		"UPDATE messages SET text = '', kind = NULL, media_id = NULL, reply_to = NULL, "
		"mentions = NULL, edited = NULL, recalled = $2, changed = $3, payload = NULL "
		"WHERE id = $1",
	[MSG_TOUCH] = "UPDATE messages SET changed = $2 WHERE id = $1",
	/* A user $1 (name key) who may see room $2 ($3: #lobby's id). */
	[MENTION_USER] =
		"SELECT u.id FROM users u WHERE u.name_key = $1 AND ($2::bigint = $3::bigint OR EXISTS "
		"(SELECT 1 FROM members WHERE room_id = $2::bigint AND user_id = u.id))",
	[MENTION_INSERT] =
		"INSERT INTO mentions(message_id, user_id, pos) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
	[MENTIONS_DELETE] = "DELETE FROM mentions WHERE message_id = $1",
	/* The mentions column from the rows, as SQLite's json_group_array writes it (compact). */
	[MENTIONS_LIST] =
		"UPDATE messages SET mentions = (SELECT '[' || string_agg(to_json(u.name)::text, ',' "
		"ORDER BY mn.pos) || ']' FROM mentions mn JOIN users u ON u.id = mn.user_id "
		"WHERE mn.message_id = $1) WHERE id = $1",
	[REACTION_INSERT] =
		"INSERT INTO reactions(message_id, emoji, user_id, ts) VALUES($1, $2, $3, $4) "
		"ON CONFLICT DO NOTHING",
	[REACTION_DELETE] =
		"DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
	[REACTIONS_DELETE] = "DELETE FROM reactions WHERE message_id = $1",
	/* How many different reactions message $1 has, and whether emoji $2 is one. */
	[REACTION_KINDS] =
		"SELECT count(DISTINCT emoji), coalesce(bool_or(emoji = $2), false) FROM reactions "
		"WHERE message_id = $1",
	[REACTION_COUNT] = "SELECT count(*) FROM reactions WHERE message_id = $1 AND emoji = $2",
};

int store_pg_changes_prepare(struct store_pg *pg, char **err)
{
	return store_pg_prepare(pg, STORE_PG_CHANGES, sql, CHG_STMTS, err);
}

static PGresult *exec(struct store_pg *pg, int which, const struct store_pg_params *p)
{
	return store_pg_exec(pg, STORE_PG_CHANGES, which, p);
}

static int64_t exec_count(struct store_pg *pg, int which, const struct store_pg_params *p)
{
	return store_pg_exec_count(pg, STORE_PG_CHANGES, which, p);
}

/* Runs which with (id, int64 b): rows changed, or -1. */
static int64_t exec2(struct store_pg *pg, int which, int64_t id, int64_t b)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_add_int(&p, id);
	store_pg_add_int(&p, b);
	return exec_count(pg, which, &p);
}

static int64_t exec1(struct store_pg *pg, int which, int64_t id)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_add_int(&p, id);
	return exec_count(pg, which, &p);
}

enum store_status store_pg_check_msg(struct store_pg *pg, int64_t id, int64_t user_id,
                                     struct store_msg_check *out)
{
	struct store_pg_params p;
	enum store_status status = STORE_NOT_FOUND;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, id);
	store_pg_add_int(&p, user_id);
	store_pg_add_int(&p, pg->lobby_id);
	r = exec(pg, MSG_CHECK, &p);
	if (r == NULL)
		return STORE_FAILED;
	if (PQntuples(r) == 1) {
		out->sender_id = store_pg_int(r, 0, 0);
		out->ts = store_pg_int(r, 0, 1);
		out->recalled = store_pg_bool(r, 0, 2);
		out->has_media = store_pg_bool(r, 0, 3);
		out->room_id = store_pg_int(r, 0, 4);
		out->pair_lo = store_pg_int(r, 0, 5);
		out->pair_hi = store_pg_int(r, 0, 6);
		out->visible = store_pg_bool(r, 0, 7);
		out->e2ee = store_pg_bool(r, 0, 8);
		status = out->visible ? STORE_OK : STORE_NOT_FOUND;
	}
	PQclear(r);
	return status;
}

enum store_status store_pg_read_back(struct store_pg *pg, int64_t id, int64_t user_id,
                                     struct store_job *job)
{
	struct store_pg_params p;
	enum store_status st;
	PGresult *r;
	bool more;

	free(job->msgs);   /* nothing was read into it yet */
	job->msgs = NULL;
	job->nmsgs = 0;
	store_pg_params_init(&p);
	store_pg_add_int(&p, id);
	store_pg_add_int(&p, user_id);
	r = exec(pg, MSG_ONE, &p);
	if (r == NULL)
		return STORE_FAILED;
	st = store_pg_collect_msgs(r, 1, false, &job->msgs, &job->nmsgs, &more);
	PQclear(r);
	if (st == STORE_OK && job->nmsgs != 1)
		return STORE_FAILED;
	return st;
}

/* The message whose @mentions are being stored (store_mention_ops' ud). */
struct mention_ctx {
	struct store_pg *pg;
	int64_t msg_id, room_id;
};

static int mention_user(void *ud, const char *key, int64_t *user_id)
{
	struct mention_ctx *mc = ud;
	struct store_pg_params p;
	PGresult *r;
	int rc;

	store_pg_params_init(&p);
	store_pg_add_text(&p, key);
	store_pg_add_int(&p, mc->room_id);
	store_pg_add_int(&p, mc->pg->lobby_id);
	r = exec(mc->pg, MENTION_USER, &p);
	if (r == NULL)
		return -1;
	rc = PQntuples(r) > 0 ? 1 : 0;
	if (rc > 0)
		*user_id = store_pg_int(r, 0, 0);
	PQclear(r);
	return rc;
}

static int64_t mention_insert(void *ud, int64_t user_id, int pos)
{
	struct mention_ctx *mc = ud;
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_add_int(&p, mc->msg_id);
	store_pg_add_int(&p, user_id);
	store_pg_add_int(&p, pos);
	return exec_count(mc->pg, MENTION_INSERT, &p);
}

static const struct store_mention_ops mention_ops = { mention_user, mention_insert };

enum store_status store_pg_mentions(struct store_pg *pg, int64_t msg_id, int64_t room_id,
                                    const char *text, bool replace, size_t *stored)
{
	struct mention_ctx mc = { .pg = pg, .msg_id = msg_id, .room_id = room_id };

	if (replace && exec1(pg, MENTIONS_DELETE, msg_id) < 0)
		return STORE_FAILED;
	if (store_mentions_scan(text, &mention_ops, &mc, stored) != STORE_OK)
		return STORE_FAILED;
	if (*stored == 0 && !replace)
		return STORE_OK;
	return exec1(pg, MENTIONS_LIST, msg_id) < 0 ? STORE_FAILED : STORE_OK;
}

/* Takes the next change sequence number. */
static enum store_status next_change(struct store_pg *pg, int64_t *seq)
{
	return store_pg_next_ids(pg, "change", 1, seq) == 0 ? STORE_OK : STORE_FAILED;
}

static enum store_status run_edit(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	struct store_msg_check m;
	enum store_status st;
	int64_t seq = 0;
	size_t mentions = 0;

	st = store_rule_edit(store_pg_check_msg(pg, job->msg_id, job->user_id, &m), &m, job);
	if (st != STORE_OK)
		return st;
	if (next_change(pg, &seq) != STORE_OK)
		return STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_int(&p, job->msg_id);
	store_pg_add_text(&p, job->text);
	store_pg_add_int(&p, job->ts != 0 ? job->ts : pier_now_ms());
	store_pg_add_int(&p, seq);
	if (exec_count(pg, MSG_EDIT, &p) < 0)
		return STORE_FAILED;
	if (m.room_id != 0 &&
	    store_pg_mentions(pg, job->msg_id, m.room_id, job->text, true, &mentions) != STORE_OK)
		return STORE_FAILED;
	pg->search_pending = true;       /* the index sees the new text (store_pg_search.c) */
	return store_pg_read_back(pg, job->msg_id, job->user_id, job);
}

static enum store_status run_recall(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t now = job->ts != 0 ? job->ts : pier_now_ms(), seq = 0;
	struct store_msg_check m;
	enum store_status st = store_pg_check_msg(pg, job->msg_id, job->user_id, &m);

	st = store_rule_recall(st, &m, job, now);
	if (st != STORE_OK || job->already)
		return st;
	if (next_change(pg, &seq) != STORE_OK)
		return STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_int(&p, job->msg_id);
	store_pg_add_int(&p, now);
	store_pg_add_int(&p, seq);
	if (exec_count(pg, MSG_RECALL, &p) < 0)
		return STORE_FAILED;
	/* Gone from the row: what it said, whom it named, what others answered with. */
	if (exec1(pg, MENTIONS_DELETE, job->msg_id) < 0 ||
	    exec1(pg, REACTIONS_DELETE, job->msg_id) < 0)
		return STORE_FAILED;
	pg->search_pending = true;
	return store_pg_read_back(pg, job->msg_id, job->user_id, job);
}

/* Whether message id has max different reactions already without emoji among them: 1 yes,
 * 0 no, -1 error. */
static int reactions_full(struct store_pg *pg, int64_t id, const char *emoji, int max)
{
	struct store_pg_params p;
	PGresult *r;
	int full;

	store_pg_params_init(&p);
	store_pg_add_int(&p, id);
	store_pg_add_text(&p, emoji);
	r = exec(pg, REACTION_KINDS, &p);
	if (r == NULL)
		return -1;
	full = !store_pg_bool(r, 0, 1) && store_pg_int(r, 0, 0) >= max;
	PQclear(r);
	return full;
}

static enum store_status run_react(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t now = job->ts != 0 ? job->ts : pier_now_ms(), seq = 0, n;
	struct store_msg_check m;
	enum store_status st = store_pg_check_msg(pg, job->msg_id, job->user_id, &m);
	PGresult *r;
	int rc;

	job->already = false;
	st = store_rule_react(st, &m, job);
	if (st != STORE_OK)
		return st;
	store_pg_params_init(&p);
	store_pg_add_int(&p, job->msg_id);
	store_pg_add_text(&p, job->emoji);
	store_pg_add_int(&p, job->user_id);
	if (job->on) {
		rc = reactions_full(pg, job->msg_id, job->emoji, job->max_reactions);
		if (rc != 0)
			return rc > 0 ? STORE_LIMIT : STORE_FAILED;
		store_pg_add_int(&p, now);
		n = exec_count(pg, REACTION_INSERT, &p);
	} else {
		n = exec_count(pg, REACTION_DELETE, &p);
	}
	if (n < 0)
		return STORE_FAILED;
	job->already = n == 0;
	store_pg_params_init(&p);
	store_pg_add_int(&p, job->msg_id);
	store_pg_add_text(&p, job->emoji);
	r = exec(pg, REACTION_COUNT, &p);
	if (r == NULL)
		return STORE_FAILED;
	job->count = store_pg_int(r, 0, 0);
	PQclear(r);
	if (job->already)
		return STORE_OK;
	if (next_change(pg, &seq) != STORE_OK || exec2(pg, MSG_TOUCH, job->msg_id, seq) < 0)
		return STORE_FAILED;
	return store_pg_read_back(pg, job->msg_id, job->user_id, job);
}

enum store_status store_pg_changes_run(struct store_pg *pg, struct store_job *job)
{
	switch (job->op) {
	case STORE_EDIT:
		return run_edit(pg, job);
	case STORE_RECALL:
		return run_recall(pg, job);
	case STORE_REACT:
		return run_react(pg, job);
	default:
		return STORE_FAILED;
	}
}
