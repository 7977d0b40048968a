/* store_social.c - the store's side of display names, room topics, read positions and room
 * member lists (store.h: STORE_SET_DISPLAY, SET_TOPIC, READ, UNREAD, MEMBERS), run by
 * store_sqlite.c inside the batch transaction like every job.
 *
 * Read positions: one row per (user, conversation) in reads, room_id for a room and peer_id
 * for a private conversation (the other 0). A position only goes up and never past the
 * conversation's newest message, so a client cannot hide future messages from its own unread
 * counts by marking an id that does not exist yet. Unread counts stop at the caller's cap
 * (LIMIT inside the count): a conversation with a million unread messages costs the cap's rows,
 * not a million.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_rules.h"

const char *const store_social_sql[SOC_COUNT] = {
	[SOC_SET_DISPLAY] = "UPDATE users SET display = ?2 WHERE id = ?1",
	[SOC_EACH_DISPLAY] = "SELECT name, display FROM users WHERE display IS NOT NULL",
	[SOC_SET_TOPIC] =
		"UPDATE rooms SET topic = ?2, topic_by = ?3, topic_ts = ?4 WHERE id = ?1",
	[SOC_GET_TOPIC] =
		"SELECT r.topic, (SELECT name FROM users WHERE id = r.topic_by), r.topic_ts "
		"FROM rooms r WHERE r.id = ?1 AND r.topic IS NOT NULL",
	[SOC_EACH_TOPIC] =
		"SELECT r.name, r.topic, (SELECT name FROM users WHERE id = r.topic_by), r.topic_ts "
		"FROM rooms r WHERE r.topic IS NOT NULL",
	[SOC_READ_GET] =
		"SELECT read_id FROM reads WHERE user_id = ?1 AND room_id = ?2 AND peer_id = ?3",
	[SOC_READ_SET] =
		"INSERT INTO reads(user_id, room_id, peer_id, read_id) VALUES(?1, ?2, ?3, ?4) "
		"ON CONFLICT DO UPDATE SET read_id = max(read_id, excluded.read_id)",
	[SOC_READ_BASELINE] =
		"INSERT INTO reads(user_id, room_id, peer_id, read_id) "
		"SELECT ?1, ?2, 0, coalesce(max(id), 0) FROM messages WHERE room_id = ?2 "
		"ON CONFLICT DO NOTHING",
	[SOC_LAST_ROOM] = "SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?1",
	[SOC_LAST_PAIR] =
		"SELECT coalesce(max(id), 0) FROM messages WHERE pair_lo = ?1 AND pair_hi = ?2",
	/* The LIMIT inside caps the rows counted (the index is walked from read_id up). */
	[SOC_COUNT_ROOM] =
		"SELECT count(*) FROM (SELECT 1 FROM messages WHERE room_id = ?1 AND id > ?2 "
		"AND sender_id <> ?3 LIMIT ?4)",
	[SOC_COUNT_PAIR] =
		"SELECT count(*) FROM (SELECT 1 FROM messages WHERE pair_lo = ?1 AND pair_hi = ?2 "
		"AND id > ?3 AND sender_id <> ?4 LIMIT ?5)",
	[SOC_MEMBERS] =
		"SELECT u.name FROM members m JOIN users u ON u.id = m.user_id "
		"WHERE m.room_id = ?1 AND u.name_key > ?2 ORDER BY u.name_key LIMIT ?3",
	/* #lobby's members: every user (?1 unused, to bind like SOC_MEMBERS). */
	[SOC_USERS_PAGE] =
		"SELECT name FROM users WHERE ?1 = ?1 AND name_key > ?2 ORDER BY name_key LIMIT ?3",
};

/* Steps s (bound) for one integer: 0 with *out set, -1 on error; no row is 0. Resets s. */
static int one_int(sqlite3_stmt *s, int64_t *out)
{
	int rc = sqlite3_step(s);

	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	store_stmt_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static enum store_status run_set_display(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->social[SOC_SET_DISPLAY];
	int rc;

	sqlite3_bind_int64(s, 1, job->user_id);
	if (job->display != NULL)
		sqlite3_bind_text(s, 2, job->display, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	store_stmt_reset(s);
	if (rc != SQLITE_DONE)
		return STORE_FAILED;
	return sqlite3_changes(db->db) == 0 ? STORE_NOT_FOUND : STORE_OK;
}

static enum store_status run_set_topic(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->social[SOC_SET_TOPIC];
	int64_t room_id = 0;
	int rc = store_room_id(db, job->room, &room_id);

	if (rc != 0)
		return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	sqlite3_bind_int64(s, 1, room_id);
	if (job->topic != NULL) {
		sqlite3_bind_text(s, 2, job->topic, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, job->user_id);
		sqlite3_bind_int64(s, 4, job->ts != 0 ? job->ts : pier_now_ms());
	}
	rc = sqlite3_step(s);
	store_stmt_reset(s);
	return rc == SQLITE_DONE ? STORE_OK : STORE_FAILED;
}

enum store_status store_social_topic(struct store_db *db, int64_t room_id, struct store_job *job)
{
	sqlite3_stmt *s = db->social[SOC_GET_TOPIC];
	enum store_status status = STORE_FAILED;
	int rc;

	sqlite3_bind_int64(s, 1, room_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		job->topic_out = store_column_dup(s, 0);
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			job->topic_by = store_column_dup(s, 1);
		job->topic_ts = sqlite3_column_int64(s, 2);
		if (job->topic_out != NULL)
			status = STORE_OK;
	} else if (rc == SQLITE_DONE) {
		status = STORE_OK;
	}
	store_stmt_reset(s);
	return status;
}

/* Where conversation (room, or the pair of user and peer) is: room_id (0 for a pair), and
 * lo, hi for a pair. STORE_OK, STORE_NOT_FOUND or STORE_FAILED. */
static enum store_status conv_ids(struct store_db *db, const char *room, int64_t user,
                                  int64_t peer, int64_t *room_id, int64_t *lo, int64_t *hi)
{
	int rc;

	*room_id = 0;
	rc = room != NULL ? store_room_id(db, room, room_id) : 0;
	return store_rule_conv(rc, room, user, peer, lo, hi);
}

static int last_id(struct store_db *db, int64_t room_id, int64_t lo, int64_t hi, int64_t *out)
{
	sqlite3_stmt *s = db->social[room_id != 0 ? SOC_LAST_ROOM : SOC_LAST_PAIR];

	if (room_id != 0) {
		sqlite3_bind_int64(s, 1, room_id);
	} else {
		sqlite3_bind_int64(s, 1, lo);
		sqlite3_bind_int64(s, 2, hi);
	}
	return one_int(s, out);
}

static int read_get(struct store_db *db, int64_t user, int64_t room_id, int64_t peer,
                    int64_t *out)
{
	sqlite3_stmt *s = db->social[SOC_READ_GET];

	sqlite3_bind_int64(s, 1, user);
	sqlite3_bind_int64(s, 2, room_id);
	sqlite3_bind_int64(s, 3, room_id != 0 ? 0 : peer);
	return one_int(s, out);
}

static enum store_status run_read(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->social[SOC_READ_SET];
	int64_t room_id, lo, hi, last = 0, old = 0;
	int64_t peer = job->room != NULL ? 0 : job->peer_id;
	enum store_status st = conv_ids(db, job->room, job->user_id, job->peer_id, &room_id, &lo, &hi);
	int rc;

	if (st != STORE_OK)
		return st;
	if (last_id(db, room_id, lo, hi, &last) != 0 ||
	    read_get(db, job->user_id, room_id, peer, &old) != 0)
		return STORE_FAILED;
	if (!store_rule_read(job, old, last))
		return STORE_OK;
	sqlite3_bind_int64(s, 1, job->user_id);
	sqlite3_bind_int64(s, 2, room_id);
	sqlite3_bind_int64(s, 3, peer);
	sqlite3_bind_int64(s, 4, job->read_id);
	rc = sqlite3_step(s);
	store_stmt_reset(s);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return STORE_NOT_FOUND;
	return rc == SQLITE_DONE ? STORE_OK : STORE_FAILED;
}

int store_social_read_baseline(struct store_db *db, int64_t user_id, int64_t room_id)
{
	sqlite3_stmt *s = db->social[SOC_READ_BASELINE];
	int rc;

	sqlite3_bind_int64(s, 1, user_id);
	sqlite3_bind_int64(s, 2, room_id);
	rc = sqlite3_step(s);
	store_stmt_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Fills one conversation's counts. A room that is not stored (yet) has none. */
static enum store_status unread_one(struct store_db *db, struct store_job *job,
                                    struct store_conv *cv)
{
	int64_t room_id, lo, hi;
	enum store_status st = conv_ids(db, cv->room, job->user_id, cv->peer_id, &room_id, &lo, &hi);
	sqlite3_stmt *s;

	cv->read_id = cv->unread = cv->last_id = 0;
	if (st != STORE_OK)
		return st == STORE_NOT_FOUND ? STORE_OK : st;
	if (read_get(db, job->user_id, room_id, cv->room != NULL ? 0 : cv->peer_id, &cv->read_id) != 0 ||
	    last_id(db, room_id, lo, hi, &cv->last_id) != 0)
		return STORE_FAILED;
	if (cv->last_id <= cv->read_id)
		return STORE_OK;
	if (room_id != 0) {
		s = db->social[SOC_COUNT_ROOM];
		sqlite3_bind_int64(s, 1, room_id);
		sqlite3_bind_int64(s, 2, cv->read_id);
		sqlite3_bind_int64(s, 3, job->user_id);
		sqlite3_bind_int64(s, 4, job->limit);
	} else {
		s = db->social[SOC_COUNT_PAIR];
		sqlite3_bind_int64(s, 1, lo);
		sqlite3_bind_int64(s, 2, hi);
		sqlite3_bind_int64(s, 3, cv->read_id);
		sqlite3_bind_int64(s, 4, job->user_id);
		sqlite3_bind_int64(s, 5, job->limit);
	}
	return one_int(s, &cv->unread) == 0 ? STORE_OK : STORE_FAILED;
}

static enum store_status run_unread(struct store_db *db, struct store_job *job)
{
	if (job->limit < 1)
		job->limit = 1;
	for (size_t i = 0; i < job->nconvs; i++) {
		enum store_status st = unread_one(db, job, &job->convs[i]);

		if (st != STORE_OK)
			return st;
	}
	return STORE_OK;
}

static enum store_status run_members(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s;
	char key[PIER_KEY_MAX];
	int64_t room_id = 0;
	int limit = store_rule_members(job, key);
	int rc = store_room_id(db, job->room, &room_id);
	size_t n = 0;

	if (rc != 0)
		return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	s = db->social[room_id == db->lobby_id ? SOC_USERS_PAGE : SOC_MEMBERS];
	sqlite3_bind_int64(s, 1, room_id);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, (int64_t)limit + 1);
	if (store_collect_names(s, &job->names) != STORE_OK)
		return STORE_FAILED;
	while (job->names[n] != NULL)
		n++;
	job->more = n > (size_t)limit;
	if (job->more) {
		free(job->names[limit]);
		job->names[limit] = NULL;
	}
	return STORE_OK;
}

enum store_status store_social_run(struct store_db *db, struct store_job *job)
{
	switch (job->op) {
	case STORE_SET_DISPLAY:
		return run_set_display(db, job);
	case STORE_SET_TOPIC:
		return run_set_topic(db, job);
	case STORE_READ:
		return run_read(db, job);
	case STORE_UNREAD:
		return run_unread(db, job);
	case STORE_MEMBERS:
		return run_members(db, job);
	default:
		return STORE_FAILED;
	}
}

int store_db_each_display(struct store_db *db,
                          void (*cb)(void *ud, const char *name, const char *display), void *ud)
{
	sqlite3_stmt *s = db->social[SOC_EACH_DISPLAY];
	int rc;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		cb(ud, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
	}
	store_stmt_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_db_each_topic(struct store_db *db,
                        void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                   int64_t ts), void *ud)
{
	sqlite3_stmt *s = db->social[SOC_EACH_TOPIC];
	int rc;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		cb(ud, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3));
	}
	store_stmt_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}
