/* store_sqlite.c - the SQLite back end: opening the database and running each kind of job.
 *
 * Every statement is prepared once at open (stmt_sql below) and reset after each use. Jobs run
 * inside the batch transaction store.c opened, each under its own savepoint: a job that does
 * not end in STORE_OK is rolled back to it, so it leaves nothing behind (a JOIN that created
 * a room and then failed to add the member does not leave the room). The exceptions
 * (needs_savepoint): a plain private message, which writes nothing but its row, and whose row
 * waits to be written with others in one statement (store_append.c); and an encrypted private
 * message, whose only refusal after its first write is given back by itself, and whose SQLite
 * errors roll back the whole batch.
 *
 * Names: users and rooms are found by their key (pier_name_key, ASCII lower case); the name
 * column keeps the spelling of their creator. Room names are stored with their '#'.
 */
#include "store_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "msgrules.h"
#include "store_checkpoint.h"
#include "store_fts.h"
#include "store_rules.h"

#define LIMIT_MAX 1000

#define STR_(x) #x
#define STR(x) STR_(x)

/* The parameter of every message query that names the reading user (MSG_SELECT's "me"). A
 * number of its own: a named parameter would take the number after the highest one seen
 * before it in the text, and so alias ?1. */
#define ME_PARAM 9
#define ME "?" STR(ME_PARAM)

/* The reactions of message m as a JSON array, one entry per emoji in the order they first
 * came: its count, the first STORE_REACTION_USERS names, and whether the reader (ME) is
 * among them all. */
#define REACTIONS_JSON \
	"SELECT json_group_array(json_object('emoji', g.emoji, 'count', g.n, 'users', " \
	"json((SELECT json_group_array(name) FROM (SELECT u.name AS name FROM reactions r2 " \
	"JOIN users u ON u.id = r2.user_id WHERE r2.message_id = m.id AND r2.emoji = g.emoji " \
	"ORDER BY r2.ts, r2.user_id LIMIT " STR(STORE_REACTION_USERS) "))), 'mine', " \
	"json(CASE WHEN EXISTS (SELECT 1 FROM reactions r3 WHERE r3.message_id = m.id AND " \
	"r3.emoji = g.emoji AND r3.user_id = " ME ") THEN 'true' ELSE 'false' END))) " \
	"FROM (SELECT emoji, count(*) AS n, min(ts) AS first FROM reactions " \
	"WHERE message_id = m.id GROUP BY emoji ORDER BY first, emoji) g"

/* The columns of a store_msg (id, ts, from, to, text, kind, then the media's id, name, size,
 * type, width, height; edited, recalled, changed; the quoted message's id, sender, excerpt,
 * whether it is cut, recalled and its kind; the mentions, whether the reader is mentioned,
 * the reactions; whether it is end-to-end encrypted), for every message query. ME is the user who reads. A plain message costs
 * no lookup beyond the old columns': the mentions are a column (kept with the mentions rows),
 * and reactions exist only on a message with a change number. */
#define MSG_SELECT \
	"SELECT m.id, m.ts, (SELECT name FROM users WHERE id = m.sender_id), " \
	"CASE WHEN m.room_id IS NOT NULL THEN (SELECT name FROM rooms WHERE id = m.room_id) " \
	"ELSE '@' || (SELECT name FROM users WHERE id = m.recipient_id) END, m.text, " \
	"m.kind, m.media_id, md.name, md.size, md.type, md.width, md.height, " \
	"coalesce(m.edited, 0), coalesce(m.recalled, 0), coalesce(m.changed, 0), " \
	"coalesce(m.reply_to, 0), " \
	"CASE WHEN m.reply_to IS NOT NULL THEN (SELECT name FROM users WHERE id = q.sender_id) END, " \
	"substr(q.text, 1, " STR(STORE_QUOTE_CHARS) "), " \
	"coalesce(length(q.text) > " STR(STORE_QUOTE_CHARS) ", 0), coalesce(q.recalled IS NOT NULL, 0), " \
	"q.kind, m.mentions, CASE WHEN m.mentions IS NULL THEN 0 ELSE " \
	"EXISTS (SELECT 1 FROM mentions WHERE message_id = m.id AND user_id = " ME ") END, " \
	"CASE WHEN m.changed IS NULL THEN NULL " \
	"WHEN EXISTS (SELECT 1 FROM reactions WHERE message_id = m.id) THEN (" REACTIONS_JSON ") END, " \
	"coalesce(m.e2ee, 0) " \
	"FROM messages m LEFT JOIN media md ON md.id = m.media_id " \
	"LEFT JOIN messages q ON q.id = m.reply_to "

/* Whether user ?2 may see message m (?3: #lobby's id): a member of its room, a party of its
 * private conversation. */
#define MSG_VISIBLE \
	"coalesce(m.room_id = ?3 OR m.pair_lo = ?2 OR m.pair_hi = ?2 OR " \
	"m.room_id IN (SELECT room_id FROM members WHERE user_id = ?2), 0)"

/* The columns of a struct store_media, then whether user ?2 may see it (?3: #lobby's id),
 * then whether it is ciphertext (an upload with ?e2ee=1). */
#define MEDIA_SELECT \
	"SELECT md.id, md.uploader_id, md.created, md.size, md.width, md.height, md.sha256, " \
	"md.name, md.type, md.thumb, md.uploader_id = ?2 OR EXISTS (SELECT 1 FROM messages g " \
	"WHERE g.media_id = md.id AND (g.room_id = ?3 OR g.pair_lo = ?2 OR g.pair_hi = ?2 OR " \
	"g.room_id IN (SELECT room_id FROM members WHERE user_id = ?2))), md.e2ee FROM media md "

static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT job",
	[STMT_RELEASE] = "RELEASE job",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO job",
	[STMT_USER_INSERT] =
		"INSERT INTO users(name, name_key, pw_hash, created, display) VALUES(?1, ?2, ?3, ?4, ?5) "
		"ON CONFLICT(name_key) DO NOTHING",
	[STMT_USER_BY_KEY] = "SELECT id, name, pw_hash, seen_id FROM users WHERE name_key = ?1",
	[STMT_USER_SET_SEEN] = "UPDATE users SET seen_id = max(seen_id, ?2) WHERE id = ?1",
	[STMT_USER_COUNT] = "SELECT count(*) FROM users",
	[STMT_USER_EACH] = "SELECT id, name FROM users ORDER BY id",
	[STMT_TOKEN_INSERT] =
		"INSERT INTO tokens(hash, user_id, created, used) VALUES(?1, ?2, ?3, ?3) "
		"ON CONFLICT(hash) DO UPDATE SET used = excluded.used",
	[STMT_TOKEN_USER] =
		"SELECT u.id, u.name, u.seen_id, t.used FROM tokens t JOIN users u ON u.id = t.user_id "
		"WHERE t.hash = ?1",
	[STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE hash = ?1",
	[STMT_TOKEN_TOUCH] = "UPDATE tokens SET used = max(used, ?2) WHERE hash = ?1",
	[STMT_TOKEN_DELETE_USER] = "DELETE FROM tokens WHERE user_id = ?1 AND hash IS NOT ?2",
	[STMT_TOKEN_PRUNE] = "DELETE FROM tokens WHERE used < ?1",
	[STMT_USER_SET_PASSWORD] = "UPDATE users SET pw_hash = ?2 WHERE id = ?1",
	[STMT_ROOM_BY_KEY] = "SELECT id FROM rooms WHERE name_key = ?1",
	[STMT_ROOM_INSERT] = "INSERT INTO rooms(name, name_key, created) VALUES(?1, ?2, ?3)",
	[STMT_ROOM_EACH] =
		"SELECT r.name, (SELECT count(*) FROM members m WHERE m.room_id = r.id) "
		"FROM rooms r WHERE r.id <> ?1 ORDER BY r.name_key",
	[STMT_MEMBER_INSERT] =
		"INSERT INTO members(room_id, user_id, joined) VALUES(?1, ?2, ?3) "
		"ON CONFLICT DO NOTHING",
	[STMT_MEMBER_DELETE] = "DELETE FROM members WHERE room_id = ?1 AND user_id = ?2",
	[STMT_MEMBER_ROOMS] =
		"SELECT r.name FROM members m JOIN rooms r ON r.id = m.room_id "
		"WHERE m.user_id = ?1 ORDER BY r.name_key",
	[STMT_MSG_BY_CID] =
		"SELECT id, ts, coalesce(room_id, 0), coalesce(recipient_id, 0) FROM messages "
		"WHERE sender_id = ?1 AND cid = ?2",
	[STMT_MSG_INSERT] =
		"INSERT INTO messages(ts, sender_id, room_id, recipient_id, pair_lo, pair_hi, text, cid, "
		"kind, media_id, reply_to, e2ee, payload) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	/* Newest first (the caller reverses), one row past the limit to learn "more". */
	[STMT_MSG_ROOM_HISTORY] =
		MSG_SELECT "WHERE m.room_id = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3",
	[STMT_MSG_PAIR_HISTORY] =
		MSG_SELECT "WHERE m.pair_lo = ?1 AND m.pair_hi = ?2 AND m.id < ?3 "
		"ORDER BY m.id DESC LIMIT ?4",
	/* Walks messages in id order from ?1 and keeps the user's conversations. The unary '+'
	 * keeps the planner off the per-column indexes, which would need a sort of every match. */
	[STMT_MSG_SYNC] =
		MSG_SELECT "WHERE m.id > ?1 AND (+m.room_id = ?2 OR +m.pair_lo = ?3 OR +m.pair_hi = ?3 "
		"OR +m.room_id IN (SELECT room_id FROM members WHERE user_id = ?3)) "
		"ORDER BY m.id LIMIT ?4",
	[STMT_CONTACT_INSERT] = "INSERT OR IGNORE INTO contacts(user_id, peer_id) VALUES(?1, ?2), (?2, ?1)",
	[STMT_CONTACT_NAMES] =
		"SELECT u.name FROM contacts c JOIN users u ON u.id = c.peer_id "
		"WHERE c.user_id = ?1 AND c.peer_id <> ?1 ORDER BY u.name_key",
	[STMT_MSG_OFFLINE] =
		MSG_SELECT "WHERE m.recipient_id = ?1 "
		"AND m.id > max(?3, (SELECT seen_id FROM users WHERE id = ?1)) ORDER BY m.id LIMIT ?2",
	[STMT_MEDIA_INSERT] =
		"INSERT INTO media(sha256, uploader_id, name, size, type, width, height, thumb, created, "
		"e2ee) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[STMT_MEDIA_GET] = MEDIA_SELECT "WHERE md.id = ?1",
	/* A file stored twice by one user counts once. */
	[STMT_MEDIA_USAGE] =
		"SELECT (SELECT coalesce(sum(size), 0) FROM "
		"(SELECT DISTINCT sha256, size FROM media WHERE uploader_id = ?1)) + "
		"(SELECT coalesce(sum(length), 0) FROM uploads WHERE user_id = ?1 AND media_id IS NULL)",
	[STMT_UPLOAD_INSERT] =
		"INSERT INTO uploads(key, user_id, length, name, type, created, e2ee) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[STMT_UPLOAD_GET] =
		"SELECT user_id, length, name, type, coalesce(media_id, 0), created, e2ee FROM uploads "
		"WHERE key = ?1",
	[STMT_UPLOAD_DELETE] = "DELETE FROM uploads WHERE key = ?1",
	[STMT_UPLOAD_FINISH] = "UPDATE uploads SET media_id = ?2 WHERE key = ?1",
	[STMT_MSG_ONE] = MSG_SELECT "WHERE m.id = ?1",
	/* What the message ops check: sender, ts, recalled, has media, room (0: private), the
	 * private pair, whether user ?2 may see it, whether it is encrypted. */
	[STMT_MSG_CHECK] =
		"SELECT m.sender_id, m.ts, m.recalled IS NOT NULL, m.media_id IS NOT NULL, "
		"coalesce(m.room_id, 0), coalesce(m.pair_lo, 0), coalesce(m.pair_hi, 0), "
		MSG_VISIBLE ", coalesce(m.e2ee, 0) FROM messages m WHERE m.id = ?1",
	/* Like STMT_MSG_SYNC, on the change sequence's index. */
	[STMT_MSG_CHANGES] =
		MSG_SELECT "WHERE m.changed > ?1 AND (+m.room_id = ?2 OR +m.pair_lo = ?3 OR "
		"+m.pair_hi = ?3 OR +m.room_id IN (SELECT room_id FROM members WHERE user_id = ?3)) "
		"ORDER BY m.changed LIMIT ?4",
	[STMT_CHANGE_MAX] = "SELECT coalesce(max(changed), 0) FROM messages WHERE changed IS NOT NULL",
	[STMT_MSG_EDIT] = "UPDATE messages SET text = ?2, edited = ?3, changed = ?4 WHERE id = ?1",
	[STMT_MSG_RECALL] =
		"UPDATE messages SET text = '', kind = NULL, media_id = NULL, reply_to = NULL, "
		"mentions = NULL, edited = NULL, recalled = ?2, changed = ?3, payload = NULL "
		"WHERE id = ?1",
	[STMT_MSG_TOUCH] = "UPDATE messages SET changed = ?2 WHERE id = ?1",
	/* A user ?1 (name key) who may see room ?2 (?3: #lobby's id). */
	[STMT_MENTION_USER] =
		"SELECT u.id FROM users u WHERE u.name_key = ?1 AND (?2 = ?3 OR EXISTS "
		"(SELECT 1 FROM members WHERE room_id = ?2 AND user_id = u.id))",
	[STMT_MENTION_INSERT] =
		"INSERT OR IGNORE INTO mentions(message_id, user_id, pos) VALUES(?1, ?2, ?3)",
	[STMT_MENTIONS_DELETE] = "DELETE FROM mentions WHERE message_id = ?1",
	/* The message's mentions column, from its mentions rows (NULL when there are none). */
	[STMT_MENTIONS_LIST] =
		"UPDATE messages SET mentions = (SELECT CASE WHEN count(*) > 0 THEN "
		"json_group_array(name) END FROM (SELECT u.name AS name FROM mentions mn "
		"JOIN users u ON u.id = mn.user_id WHERE mn.message_id = ?1 ORDER BY mn.pos)) "
		"WHERE id = ?1",
	[STMT_REACTION_INSERT] =
		"INSERT INTO reactions(message_id, emoji, user_id, ts) VALUES(?1, ?2, ?3, ?4) "
		"ON CONFLICT DO NOTHING",
	[STMT_REACTION_DELETE] =
		"DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
	[STMT_REACTIONS_DELETE] = "DELETE FROM reactions WHERE message_id = ?1",
	/* How many different reactions message ?1 has, and whether emoji ?2 is one. */
	[STMT_REACTION_KINDS] =
		"SELECT count(DISTINCT emoji), coalesce(sum(emoji = ?2), 0) > 0 FROM reactions "
		"WHERE message_id = ?1",
	[STMT_REACTION_COUNT] = "SELECT count(*) FROM reactions WHERE message_id = ?1 AND emoji = ?2",
	/* Indexing what was stored since the last time (store_search.c; schema step 7). */
	[STMT_FTS_INDEX_NEW] =
		"INSERT INTO message_fts(rowid, text, name) "
		"SELECT m.id, m.text, md.name FROM messages m LEFT JOIN media md ON md.id = m.media_id "
		"WHERE m.id > (SELECT upto FROM message_fts_state) AND m.recalled IS NULL",
	[STMT_FTS_STATE_SET] =
		"UPDATE message_fts_state SET upto = max(upto, coalesce((SELECT max(id) FROM messages), 0))",
	/* Search (store_search.c): the index's matches, newest first, then each one read if the
	 * user may read it: in one of the user's conversations (#lobby ?2, its rooms, its private
	 * chats), in room ?2, or in the private conversation (?2, ?3). A recalled message is
	 * never one (the index forgets it at the recall; the row says so too), nor an encrypted
	 * one (indexed with its text '' and the name "encrypted" of its ciphertext, so that the
	 * triggers' deletes match what was indexed, and never shown). */
	[STMT_FTS_MATCH] =
		"SELECT rowid FROM message_fts WHERE message_fts MATCH ?1 AND rowid < ?2 "
		"ORDER BY rowid DESC",
	[STMT_SEARCH_MSG_ALL] =
		MSG_SELECT "WHERE m.id = ?1 AND m.recalled IS NULL AND m.e2ee IS NULL AND (m.room_id = ?2 OR "
		"m.pair_lo = ?3 OR m.pair_hi = ?3 "
		"OR EXISTS (SELECT 1 FROM members WHERE room_id = m.room_id AND user_id = ?3))",
	[STMT_SEARCH_MSG_ROOM] =
		MSG_SELECT "WHERE m.id = ?1 AND m.recalled IS NULL AND m.e2ee IS NULL AND m.room_id = ?2",
	[STMT_SEARCH_MSG_PAIR] =
		MSG_SELECT "WHERE m.id = ?1 AND m.recalled IS NULL AND m.e2ee IS NULL AND m.pair_lo = ?2 "
		"AND m.pair_hi = ?3",
	/* Every message in (?1, ?2], oldest first; read as no user (ME 0: no user has id 0). */
	[STMT_MSG_STREAM] = MSG_SELECT "WHERE m.id > ?1 AND m.id <= ?2 ORDER BY m.id LIMIT ?3",
	[STMT_MSG_NEWEST] = "SELECT coalesce(max(id), 0) FROM messages",
};

/* Resets s after use (bindings too: they may point into a finished job's strings). */
static void stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Runs a statement that returns no rows. Returns SQLite's code (SQLITE_DONE on success). */
static int exec_stmt(struct store_db *db, enum store_stmt which)
{
	sqlite3_stmt *s = db->stmt[which];
	int rc = sqlite3_step(s);

	stmt_done(s);
	return rc;
}

static int clamp_limit(int limit)
{
	if (limit < 1)
		return 1;
	return limit > LIMIT_MAX ? LIMIT_MAX : limit;
}

/* The key of a valid user name; false for a name no user can have. */
static bool user_key(const char *name, char key[PIER_KEY_MAX])
{
	if (name == NULL || pier_name_check(name) != PIER_NAME_OK)
		return false;
	pier_name_key(name, key);
	return true;
}

/* The key ("#name", lower case) of a valid room name; false for a name no room can have. */
static bool room_key(const char *room, char key[PIER_KEY_MAX])
{
	if (room == NULL || pier_room_check(room) != PIER_NAME_OK)
		return false;
	pier_name_key(room, key);
	return true;
}

/* A malloc'd copy of a text column ("" for NULL). */
static char *column_dup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	if (t != NULL)
		memcpy(p, t, n);
	p[n] = '\0';
	return p;
}

/* Copies a text column into a fixed buffer of n bytes (cut if longer; "" for NULL). */
static void column_copy(sqlite3_stmt *s, int col, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t len = (size_t)sqlite3_column_bytes(s, col);

	if (t == NULL)
		len = 0;
	if (len >= n)
		len = n - 1;
	if (len > 0)
		memcpy(out, t, len);
	out[len] = '\0';
}

/* Looks a room up by key: 0 found, 1 no such room, -1 error. */
static int find_room(struct store_db *db, const char *key, int64_t *id)
{
	sqlite3_stmt *s = db->stmt[STMT_ROOM_BY_KEY];
	int rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	stmt_done(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

/* The newest change sequence number (0 before the first change). */
static enum store_status change_max(struct store_db *db, int64_t *seq)
{
	sqlite3_stmt *s = db->stmt[STMT_CHANGE_MAX];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return rc == SQLITE_ROW ? STORE_OK : STORE_FAILED;
}

/* A malloc'd copy of a text column, or NULL when it is NULL (*failed set when memory ran
 * out). */
static char *column_dup_or_null(sqlite3_stmt *s, int col, bool *failed)
{
	char *p;

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return NULL;
	p = column_dup(s, col);
	if (p == NULL)
		*failed = true;
	return p;
}

/* Reads the MSG_SELECT columns of the current row into m (zeroed first). false when memory
 * ran out (what was read stays in m for the caller to free). */
static bool read_msg(sqlite3_stmt *s, struct store_msg *m)
{
	bool failed = false;

	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(s, 0);
	m->ts = sqlite3_column_int64(s, 1);
	m->from = column_dup(s, 2);
	m->to = column_dup(s, 3);
	m->text = column_dup(s, 4);
	if (m->from == NULL || m->to == NULL || m->text == NULL)
		return false;
	if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
		m->kind = column_dup(s, 5);
		m->media_id = sqlite3_column_int64(s, 6);
		m->media_name = column_dup(s, 7);
		m->media_size = sqlite3_column_int64(s, 8);
		m->media_type = column_dup(s, 9);
		m->media_width = sqlite3_column_int(s, 10);
		m->media_height = sqlite3_column_int(s, 11);
		if (m->kind == NULL || m->media_name == NULL || m->media_type == NULL)
			return false;
	}
	m->edited = sqlite3_column_int64(s, 12);
	m->recalled = sqlite3_column_int64(s, 13);
	m->changed = sqlite3_column_int64(s, 14);
	m->reply_to = sqlite3_column_int64(s, 15);
	if (m->reply_to != 0) {
		m->quote_from = column_dup_or_null(s, 16, &failed);
		m->quote_text = column_dup_or_null(s, 17, &failed);
		m->quote_cut = sqlite3_column_int(s, 18) != 0;
		m->quote_recalled = sqlite3_column_int(s, 19) != 0;
		m->quote_kind = column_dup_or_null(s, 20, &failed);
	}
	m->mentions = column_dup_or_null(s, 21, &failed);
	m->mentioned = sqlite3_column_int(s, 22) != 0;
	m->reactions = column_dup_or_null(s, 23, &failed);
	m->e2ee = sqlite3_column_int(s, 24) != 0;
	return !failed;
}

/* Binds the reading user to a message query's ME. */
static void bind_me(sqlite3_stmt *s, int64_t user_id)
{
	sqlite3_bind_int64(s, ME_PARAM, user_id);
}

/* Steps a message query into *out (*n messages): at most limit messages, *more if the query
 * gave one more row. newest_first: the rows come newest first and are reversed. Resets s. */
static enum store_status collect_into(sqlite3_stmt *s, int limit, bool newest_first,
                                      struct store_msg **out, size_t *n, bool *more)
{
	enum store_status status = STORE_FAILED;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	*more = false;
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (*n == (size_t)limit) {
			*more = true;
			rc = SQLITE_DONE;
			break;
		}
		if (*n == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			struct store_msg *v;

			if (ncap > (size_t)limit)
				ncap = (size_t)limit;
			v = realloc(*out, ncap * sizeof *v);
			if (v == NULL)
				goto out;
			*out = v;
			cap = ncap;
		}
		if (!read_msg(s, &(*out)[(*n)++]))
			goto out;
	}
	if (rc != SQLITE_DONE)
		goto out;
	if (newest_first) {
		for (size_t i = 0, j = *n; i + 1 < j; i++, j--) {
			struct store_msg t = (*out)[i];

			(*out)[i] = (*out)[j - 1];
			(*out)[j - 1] = t;
		}
	}
	status = STORE_OK;
out:
	stmt_done(s);
	return status;
}

/* collect_into job->msgs. */
static enum store_status collect_msgs(sqlite3_stmt *s, int limit, bool newest_first,
                                      struct store_job *job)
{
	return collect_into(s, limit, newest_first, &job->msgs, &job->nmsgs, &job->more);
}

static enum store_status run_create_user(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_INSERT];
	char key[PIER_KEY_MAX];
	enum store_status status = STORE_FAILED;

	if (!user_key(job->name, key) || job->pw_hash == NULL)
		return STORE_FAILED;
	sqlite3_bind_text(s, 1, job->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, job->pw_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, pier_now_ms());
	if (job->display != NULL)
		sqlite3_bind_text(s, 5, job->display, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	if (sqlite3_changes(db->db) == 0) {
		status = STORE_EXISTS;
		goto out;
	}
	job->user_id = sqlite3_last_insert_rowid(db->db);
	status = store_social_read_baseline(db, job->user_id, db->lobby_id) == 0 ? STORE_OK
	                                                                         : STORE_FAILED;
out:
	stmt_done(s);
	return status;
}

static enum store_status run_get_user(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_BY_KEY];
	char key[PIER_KEY_MAX];
	enum store_status status = STORE_FAILED;
	int rc;

	if (!user_key(job->name, key))
		return STORE_NOT_FOUND;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		status = STORE_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	job->user_id = sqlite3_column_int64(s, 0);
	job->user_name = column_dup(s, 1);
	job->pw_hash_out = column_dup(s, 2);
	job->seen_id = sqlite3_column_int64(s, 3);
	if (job->user_name != NULL && job->pw_hash_out != NULL)
		status = STORE_OK;
out:
	stmt_done(s);
	return status;
}

/* Appends the first column of every row of s (bound already) to a NULL-terminated array of
 * strings *out, which may hold strings already. Resets s. Returns STORE_OK or STORE_FAILED. */
static enum store_status collect_names(sqlite3_stmt *s, char ***out)
{
	enum store_status status = STORE_FAILED;
	size_t n = 0, cap;
	int rc;

	while (*out != NULL && (*out)[n] != NULL)
		n++;
	cap = n + 8;
	{
		char **v = realloc(*out, cap * sizeof *v);

		if (v == NULL)
			goto out;
		memset(v + n, 0, (cap - n) * sizeof *v);
		*out = v;
	}
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (n + 1 == cap) {
			char **v = realloc(*out, 2 * cap * sizeof *v);

			if (v == NULL)
				goto out;
			memset(v + cap, 0, cap * sizeof *v);
			*out = v;
			cap *= 2;
		}
		(*out)[n] = column_dup(s, 0);
		if ((*out)[n] == NULL)
			goto out;
		n++;
	}
	if (rc == SQLITE_DONE)
		status = STORE_OK;
out:
	stmt_done(s);
	return status;
}

static enum store_status run_login(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_TOKEN_INSERT];
	int rc;

	sqlite3_bind_blob(s, 1, job->token_hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, job->user_id);
	sqlite3_bind_int64(s, 3, pier_now_ms());
	rc = exec_stmt(db, STMT_TOKEN_INSERT);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_DONE)
		return STORE_FAILED;

	/* #lobby first, then the rooms of members, by key; always NULL-terminated. */
	job->rooms = calloc(2, sizeof *job->rooms);
	if (job->rooms == NULL)
		return STORE_FAILED;
	job->rooms[0] = strdup(STORE_LOBBY);
	if (job->rooms[0] == NULL)
		return STORE_FAILED;
	s = db->stmt[STMT_MEMBER_ROOMS];
	sqlite3_bind_int64(s, 1, job->user_id);
	if (collect_names(s, &job->rooms) != STORE_OK)
		return STORE_FAILED;
	s = db->stmt[STMT_CONTACT_NAMES];
	sqlite3_bind_int64(s, 1, job->user_id);
	if (collect_names(s, &job->peers) != STORE_OK)
		return STORE_FAILED;
	return change_max(db, &job->change_seq);
}

static enum store_status run_delete_token(struct store_db *db, struct store_job *job);

static enum store_status run_token_user(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_TOKEN_USER];
	enum store_status status = STORE_FAILED;
	int rc;

	sqlite3_bind_blob(s, 1, job->token_hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		status = STORE_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	if (db->token_idle_ms > 0 && sqlite3_column_int64(s, 3) < pier_now_ms() - db->token_idle_ms) {
		stmt_done(s);
		/* Expired: gone for good (the caller's answer does not depend on this delete). */
		return run_delete_token(db, job) == STORE_FAILED ? STORE_FAILED : STORE_NOT_FOUND;
	}
	job->user_id = sqlite3_column_int64(s, 0);
	job->user_name = column_dup(s, 1);
	job->pw_hash_out = NULL;
	job->seen_id = sqlite3_column_int64(s, 2);
	if (job->user_name != NULL)
		status = STORE_OK;
out:
	stmt_done(s);
	return status;
}

static enum store_status run_token_touch(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_TOKEN_TOUCH];

	sqlite3_bind_blob(s, 1, job->token_hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, pier_now_ms());
	if (exec_stmt(db, STMT_TOKEN_TOUCH) != SQLITE_DONE)
		return STORE_FAILED;
	return sqlite3_changes(db->db) == 0 ? STORE_NOT_FOUND : STORE_OK;
}

/* Deletes the user's tokens, but token_hash when keep_token. */
static enum store_status delete_user_tokens(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_TOKEN_DELETE_USER];

	sqlite3_bind_int64(s, 1, job->user_id);
	if (job->keep_token)
		sqlite3_bind_blob(s, 2, job->token_hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	if (exec_stmt(db, STMT_TOKEN_DELETE_USER) != SQLITE_DONE)
		return STORE_FAILED;
	job->count = sqlite3_changes(db->db);
	return STORE_OK;
}

static enum store_status run_set_password(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_SET_PASSWORD];

	sqlite3_bind_int64(s, 1, job->user_id);
	sqlite3_bind_text(s, 2, job->pw_hash, -1, SQLITE_STATIC);
	if (exec_stmt(db, STMT_USER_SET_PASSWORD) != SQLITE_DONE)
		return STORE_FAILED;
	if (sqlite3_changes(db->db) == 0)
		return STORE_NOT_FOUND;
	job->keep_token = true;
	return delete_user_tokens(db, job);
}

static enum store_status run_prune_tokens(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_TOKEN_PRUNE];

	if (db->token_idle_ms <= 0)
		return STORE_OK;
	sqlite3_bind_int64(s, 1, pier_now_ms() - db->token_idle_ms);
	if (exec_stmt(db, STMT_TOKEN_PRUNE) != SQLITE_DONE)
		return STORE_FAILED;
	job->count = sqlite3_changes(db->db);
	return STORE_OK;
}

static enum store_status run_delete_token(struct store_db *db, struct store_job *job)
{
	sqlite3_bind_blob(db->stmt[STMT_TOKEN_DELETE], 1, job->token_hash, STORE_TOKEN_HASH_LEN,
	                  SQLITE_STATIC);
	if (exec_stmt(db, STMT_TOKEN_DELETE) != SQLITE_DONE)
		return STORE_FAILED;
	return sqlite3_changes(db->db) == 0 ? STORE_NOT_FOUND : STORE_OK;
}

/* Reads media id as user_id sees it into *out: STORE_OK, STORE_NOT_FOUND, STORE_DENIED (it
 * exists, the user may not see it) or STORE_FAILED. */
static enum store_status get_media(struct store_db *db, int64_t id, int64_t user_id,
                                   struct store_media *out)
{
	sqlite3_stmt *s = db->stmt[STMT_MEDIA_GET];
	enum store_status status = STORE_FAILED;
	int rc;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_int64(s, 3, db->lobby_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		status = STORE_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	out->uploader_id = sqlite3_column_int64(s, 1);
	out->created = sqlite3_column_int64(s, 2);
	out->size = sqlite3_column_int64(s, 3);
	out->width = sqlite3_column_int(s, 4);
	out->height = sqlite3_column_int(s, 5);
	column_copy(s, 6, out->sha256, sizeof(out->sha256));
	column_copy(s, 7, out->name, sizeof(out->name));
	column_copy(s, 8, out->type, sizeof(out->type));
	column_copy(s, 9, out->thumb, sizeof(out->thumb));
	out->e2ee = sqlite3_column_int(s, 11) != 0;
	status = sqlite3_column_int(s, 10) ? STORE_OK : STORE_DENIED;
out:
	stmt_done(s);
	return status;
}

static enum store_status run_media_get(struct store_db *db, struct store_job *job)
{
	return get_media(db, job->media_id, job->user_id, &job->media);
}

static enum store_status run_media_create(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MEDIA_INSERT];
	const struct store_media *m = &job->media;
	int64_t ts = job->ts != 0 ? job->ts : pier_now_ms();
	int rc;

	sqlite3_bind_text(s, 1, m->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, job->user_id);
	sqlite3_bind_text(s, 3, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, m->size);
	sqlite3_bind_text(s, 5, m->type, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, m->width);
	sqlite3_bind_int(s, 7, m->height);
	sqlite3_bind_text(s, 8, m->thumb, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, ts);
	sqlite3_bind_int(s, 10, m->e2ee);
	rc = exec_stmt(db, STMT_MEDIA_INSERT);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_DONE)
		return STORE_FAILED;
	job->media.id = sqlite3_last_insert_rowid(db->db);
	job->media.uploader_id = job->user_id;
	job->media.created = ts;
	job->ts = ts;
	if (job->upload_key != NULL) {
		s = db->stmt[STMT_UPLOAD_FINISH];
		sqlite3_bind_text(s, 1, job->upload_key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, job->media.id);
		if (exec_stmt(db, STMT_UPLOAD_FINISH) != SQLITE_DONE)
			return STORE_FAILED;
	}
	return STORE_OK;
}

static enum store_status run_media_usage(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MEDIA_USAGE];
	int rc;

	sqlite3_bind_int64(s, 1, job->user_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		job->usage = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return rc == SQLITE_ROW ? STORE_OK : STORE_FAILED;
}

static enum store_status run_upload_create(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_UPLOAD_INSERT];
	int rc;

	if (job->upload_key == NULL)
		return STORE_FAILED;
	sqlite3_bind_text(s, 1, job->upload_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, job->user_id);
	sqlite3_bind_int64(s, 3, job->upload_length);
	sqlite3_bind_text(s, 4, job->media.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, job->media.type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, job->ts != 0 ? job->ts : pier_now_ms());
	sqlite3_bind_int(s, 7, job->media.e2ee);
	rc = exec_stmt(db, STMT_UPLOAD_INSERT);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return STORE_NOT_FOUND;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_EXISTS;
	return rc == SQLITE_DONE ? STORE_OK : STORE_FAILED;
}

static enum store_status run_upload_get(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_UPLOAD_GET];
	enum store_status status = STORE_FAILED;
	int rc;

	if (job->upload_key == NULL)
		return STORE_NOT_FOUND;
	sqlite3_bind_text(s, 1, job->upload_key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		status = STORE_NOT_FOUND;
	if (rc != SQLITE_ROW)
		goto out;
	memset(&job->media, 0, sizeof(job->media));
	job->user_id = sqlite3_column_int64(s, 0);
	job->upload_length = sqlite3_column_int64(s, 1);
	column_copy(s, 2, job->media.name, sizeof(job->media.name));
	column_copy(s, 3, job->media.type, sizeof(job->media.type));
	job->media_id = sqlite3_column_int64(s, 4);
	job->media.created = sqlite3_column_int64(s, 5);
	job->media.e2ee = sqlite3_column_int(s, 6) != 0;
	status = STORE_OK;
out:
	stmt_done(s);
	return status;
}

static enum store_status run_upload_delete(struct store_db *db, struct store_job *job)
{
	if (job->upload_key == NULL)
		return STORE_NOT_FOUND;
	sqlite3_bind_text(db->stmt[STMT_UPLOAD_DELETE], 1, job->upload_key, -1, SQLITE_STATIC);
	if (exec_stmt(db, STMT_UPLOAD_DELETE) != SQLITE_DONE)
		return STORE_FAILED;
	return sqlite3_changes(db->db) == 0 ? STORE_NOT_FOUND : STORE_OK;
}

/* Reads message id as user_id sees it: STORE_OK, STORE_NOT_FOUND (no such message, or one the
 * user may not see) or STORE_FAILED. */
static enum store_status check_msg(struct store_db *db, int64_t id, int64_t user_id,
                                   struct store_msg_check *out)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_CHECK];
	enum store_status status = STORE_FAILED;
	int rc;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_int64(s, 3, db->lobby_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->sender_id = sqlite3_column_int64(s, 0);
		out->ts = sqlite3_column_int64(s, 1);
		out->recalled = sqlite3_column_int(s, 2) != 0;
		out->has_media = sqlite3_column_int(s, 3) != 0;
		out->room_id = sqlite3_column_int64(s, 4);
		out->pair_lo = sqlite3_column_int64(s, 5);
		out->pair_hi = sqlite3_column_int64(s, 6);
		out->visible = sqlite3_column_int(s, 7) != 0;
		out->e2ee = sqlite3_column_int(s, 8) != 0;
		status = out->visible ? STORE_OK : STORE_NOT_FOUND;
	} else if (rc == SQLITE_DONE) {
		status = STORE_NOT_FOUND;
	}
	stmt_done(s);
	return status;
}

/* Reads message id, as user_id sees it, into job->msgs[0]. */
static enum store_status read_back(struct store_db *db, int64_t id, int64_t user_id,
                                   struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_ONE];
	enum store_status st;
	bool more;

	free(job->msgs);   /* nothing was read into it yet */
	job->msgs = NULL;
	job->nmsgs = 0;
	sqlite3_bind_int64(s, 1, id);
	bind_me(s, user_id);
	st = collect_into(s, 1, false, &job->msgs, &job->nmsgs, &more);
	if (st == STORE_OK && job->nmsgs != 1)
		return STORE_FAILED;
	return st;
}

/* Takes the next change sequence number for message id. */
static enum store_status next_change(struct store_db *db, int64_t *seq)
{
	enum store_status st = change_max(db, seq);

	*seq += 1;
	return st;
}

/* The message whose @mentions are being stored (store_mention_ops' ud). */
struct mention_ctx {
	struct store_db *db;
	int64_t msg_id, room_id;
};

static int mention_user(void *ud, const char *key, int64_t *user_id)
{
	struct mention_ctx *mc = ud;
	sqlite3_stmt *s = mc->db->stmt[STMT_MENTION_USER];
	int rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, mc->room_id);
	sqlite3_bind_int64(s, 3, mc->db->lobby_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*user_id = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int64_t mention_insert(void *ud, int64_t user_id, int pos)
{
	struct mention_ctx *mc = ud;
	sqlite3_stmt *s = mc->db->stmt[STMT_MENTION_INSERT];

	sqlite3_bind_int64(s, 1, mc->msg_id);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_int(s, 3, pos);
	if (exec_stmt(mc->db, STMT_MENTION_INSERT) != SQLITE_DONE)
		return -1;
	return sqlite3_changes(mc->db->db);
}

static const struct store_mention_ops mention_ops = { mention_user, mention_insert };

/* Stores the @mentions of room message msg_id (in room_id) with text, replacing those it had
 * when replace; *stored says how many there are. */
static enum store_status store_mentions(struct store_db *db, int64_t msg_id, int64_t room_id,
                                        const char *text, bool replace, size_t *stored)
{
	struct mention_ctx mc = { .db = db, .msg_id = msg_id, .room_id = room_id };

	if (replace) {
		sqlite3_bind_int64(db->stmt[STMT_MENTIONS_DELETE], 1, msg_id);
		if (exec_stmt(db, STMT_MENTIONS_DELETE) != SQLITE_DONE)
			return STORE_FAILED;
	}
	if (store_mentions_scan(text, &mention_ops, &mc, stored) != STORE_OK)
		return STORE_FAILED;
	if (*stored == 0 && !replace)
		return STORE_OK;
	sqlite3_bind_int64(db->stmt[STMT_MENTIONS_LIST], 1, msg_id);
	return exec_stmt(db, STMT_MENTIONS_LIST) == SQLITE_DONE ? STORE_OK : STORE_FAILED;
}

/* Finds the original of a resent (sender, cid) to room_id (0: to job->peer_id): 0 found
 * (job->msg_id, ts set), 2 found with another target (nothing set), 1 none, -1 error. */
static int find_cid(struct store_db *db, struct store_job *job, int64_t room_id)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_BY_CID];
	bool same = false;
	int rc;

	sqlite3_bind_int64(s, 1, job->user_id);
	sqlite3_bind_text(s, 2, job->cid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		same = room_id != 0 ? sqlite3_column_int64(s, 2) == room_id
		                    : sqlite3_column_int64(s, 3) == job->peer_id;
		if (same) {
			job->msg_id = sqlite3_column_int64(s, 0);
			job->ts = sqlite3_column_int64(s, 1);
		}
	}
	stmt_done(s);
	if (rc == SQLITE_ROW)
		return same ? 0 : 2;
	return rc == SQLITE_DONE ? 1 : -1;
}

/* A plain private message (not encrypted, no quote, a contact already known) writes one row
 * with one statement after read-only checks, and nothing can fail after it: when that INSERT
 * fails SQLite backs the statement out by itself (ABORT: the statement's changes undone, the
 * transaction kept), and an error that ends the transaction fails the whole batch (store.c).
 * Its row can wait in the queue of store_append.c. */
static bool is_queueable(const struct store_job *job)
{
	return job->op == STORE_APPEND && job->room == NULL && job->e2ee.payload == NULL &&
	       !job->new_contact && job->reply_to == 0;
}

/* An encrypted private message (no quote, a contact already known): read-only checks, then
 * its room in each queue (a queue without room: STORE_FULL, with the rooms already taken
 * given back by store_e2ee.c's take_room), its row, its envelopes. After its first write
 * nothing refuses it; an SQLite error (STORE_FAILED) there would leave part of it, so
 * store_db_run rolls the whole batch back then, as an error that ends the transaction does
 * (every job of the batch fails, nothing of it is acked). Its row waits in the queue of
 * store_append.c like a plain one's, and its envelopes are written right after the row
 * (store_append.c, written): every job that reads or writes envelopes is not queueable, so
 * it flushes the queue first, and qids still follow the FIFO's order. Its checks read nothing
 * a queued row changes (the device sets, the queues' counts, which its room already took, a
 * cid: a queued one with the same is flushed first, as for a plain message). */
static bool is_plain_e2ee(const struct store_job *job)
{
	return job->op == STORE_APPEND && job->room == NULL && job->e2ee.payload != NULL &&
	       !job->new_contact && job->reply_to == 0;
}

/* Whether the job may write more than once and be refused after a write, and so needs a
 * savepoint to leave nothing behind when it fails. The savepoint's two statements were a
 * sixth of the store thread's instructions per private message (docs/PERFORMANCE.md, "The
 * store's cost per message"); for an encrypted one the statement journal it keeps (a copy of
 * every page the job changes) cost more than the statements ("The encrypted path's store
 * work (session 3)"). */
static bool needs_savepoint(const struct store_job *job)
{
	return !is_queueable(job) && !is_plain_e2ee(job);
}

static enum store_status run_append(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_INSERT];
	char key[PIER_KEY_MAX];
	size_t mentions = 0;
	int64_t room_id = 0;
	int64_t ts = job->ts != 0 ? job->ts : pier_now_ms();
	bool e2ee = job->e2ee.payload != NULL;
	enum store_status st;
	int rc;

	if (job->text == NULL)
		return STORE_FAILED;
	if (job->room != NULL) {
		if (!room_key(job->room, key))
			return STORE_NOT_FOUND;
		rc = find_room(db, key, &room_id);
		if (rc != 0)
			return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	} else if (job->peer_id <= 0) {
		return STORE_NOT_FOUND;
	}
	if (job->cid != NULL) {
		st = store_rule_cid(find_cid(db, job, room_id));
		if (st != STORE_OK)
			return st;
	}
	if (job->reply_to != 0) {
		struct store_msg_check q;
		enum store_status qs = check_msg(db, job->reply_to, job->user_id, &q);

		qs = store_rule_reply(qs, &q, job, room_id);
		if (qs != STORE_OK)
			return qs;
	}
	if (job->media_id != 0) {
		st = store_rule_media(get_media(db, job->media_id, job->user_id, &job->media), job, e2ee);
		if (st != STORE_OK)
			return st;
	}
	/* No silent downgrade: the store knows who has a device list (store_e2ee.c). */
	st = e2ee ? store_e2ee_send_check(db, job)
	          : store_e2ee_plain_check(db, job, job->media_id != 0 && job->media.e2ee);
	if (st != STORE_OK)
		return st;

	job->ts = ts;
	db->fts_pending = true;          /* indexed when due (store_db_index_due) */
	db->fts_unindexed++;
	if (is_queueable(job) || is_plain_e2ee(job)) {
		/* one row (an encrypted one's envelopes after it, nothing else): written with the
		 * rows queued beside it */
		store_append_queue(db, job);
		return STORE_OK;
	}
	store_bind_msg_insert(s, 0, job, room_id);
	rc = exec_stmt(db, STMT_MSG_INSERT);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY && !is_plain_e2ee(job))
		return STORE_NOT_FOUND;     /* no such sender or recipient */
	if (rc != SQLITE_DONE)
		return STORE_FAILED;
	job->msg_id = sqlite3_last_insert_rowid(db->db);
	if (e2ee && store_e2ee_send_queue(db, job) != STORE_OK)
		return STORE_FAILED;
	if (job->room == NULL && job->new_contact) {
		s = db->stmt[STMT_CONTACT_INSERT];
		sqlite3_bind_int64(s, 1, job->user_id);
		sqlite3_bind_int64(s, 2, job->peer_id);
		if (exec_stmt(db, STMT_CONTACT_INSERT) != SQLITE_DONE)
			return STORE_FAILED;
	}
	if (job->room != NULL && store_mentions(db, job->msg_id, room_id, job->text, false, &mentions) != STORE_OK)
		return STORE_FAILED;
	/* What the recipients see beyond the request: the quote, the mentions. */
	if (job->reply_to != 0 || mentions > 0)
		return read_back(db, job->msg_id, job->user_id, job);
	return STORE_OK;
}

static enum store_status run_edit(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_EDIT];
	struct store_msg_check m;
	enum store_status st;
	int64_t seq = 0;
	size_t mentions = 0;

	st = store_rule_edit(check_msg(db, job->msg_id, job->user_id, &m), &m, job);
	if (st != STORE_OK)
		return st;
	if (next_change(db, &seq) != STORE_OK)
		return STORE_FAILED;
	sqlite3_bind_int64(s, 1, job->msg_id);
	sqlite3_bind_text(s, 2, job->text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, job->ts != 0 ? job->ts : pier_now_ms());
	sqlite3_bind_int64(s, 4, seq);
	if (exec_stmt(db, STMT_MSG_EDIT) != SQLITE_DONE)
		return STORE_FAILED;
	if (m.room_id != 0 && store_mentions(db, job->msg_id, m.room_id, job->text, true, &mentions) != STORE_OK)
		return STORE_FAILED;
	return read_back(db, job->msg_id, job->user_id, job);
}

static enum store_status run_recall(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_RECALL];
	int64_t now = job->ts != 0 ? job->ts : pier_now_ms(), seq = 0;
	struct store_msg_check m;
	enum store_status st = check_msg(db, job->msg_id, job->user_id, &m);

	st = store_rule_recall(st, &m, job, now);
	if (st != STORE_OK || job->already)
		return st;
	if (next_change(db, &seq) != STORE_OK)
		return STORE_FAILED;
	sqlite3_bind_int64(s, 1, job->msg_id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, seq);
	if (exec_stmt(db, STMT_MSG_RECALL) != SQLITE_DONE)
		return STORE_FAILED;
	/* Gone from the row: what it said, whom it named, what others answered with. */
	sqlite3_bind_int64(db->stmt[STMT_MENTIONS_DELETE], 1, job->msg_id);
	sqlite3_bind_int64(db->stmt[STMT_REACTIONS_DELETE], 1, job->msg_id);
	if (exec_stmt(db, STMT_MENTIONS_DELETE) != SQLITE_DONE ||
	    exec_stmt(db, STMT_REACTIONS_DELETE) != SQLITE_DONE)
		return STORE_FAILED;
	return read_back(db, job->msg_id, job->user_id, job);
}

/* Whether message id has max different reactions already without emoji among them: 1 yes,
 * 0 no, -1 error. */
static int reactions_full(struct store_db *db, int64_t id, const char *emoji, int max)
{
	sqlite3_stmt *s = db->stmt[STMT_REACTION_KINDS];
	int rc, full = -1;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, emoji, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		full = sqlite3_column_int(s, 1) == 0 && sqlite3_column_int64(s, 0) >= max;
	stmt_done(s);
	return full;
}

static enum store_status run_react(struct store_db *db, struct store_job *job)
{
	int64_t now = job->ts != 0 ? job->ts : pier_now_ms(), seq = 0;
	struct store_msg_check m;
	enum store_status st = check_msg(db, job->msg_id, job->user_id, &m);
	sqlite3_stmt *s;
	int rc;

	job->already = false;
	st = store_rule_react(st, &m, job);
	if (st != STORE_OK)
		return st;
	if (job->on) {
		rc = reactions_full(db, job->msg_id, job->emoji, job->max_reactions);
		if (rc != 0)
			return rc > 0 ? STORE_LIMIT : STORE_FAILED;
		s = db->stmt[STMT_REACTION_INSERT];
		sqlite3_bind_int64(s, 1, job->msg_id);
		sqlite3_bind_text(s, 2, job->emoji, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, job->user_id);
		sqlite3_bind_int64(s, 4, now);
		rc = exec_stmt(db, STMT_REACTION_INSERT);
	} else {
		s = db->stmt[STMT_REACTION_DELETE];
		sqlite3_bind_int64(s, 1, job->msg_id);
		sqlite3_bind_text(s, 2, job->emoji, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, job->user_id);
		rc = exec_stmt(db, STMT_REACTION_DELETE);
	}
	if (rc != SQLITE_DONE)
		return STORE_FAILED;
	job->already = sqlite3_changes(db->db) == 0;
	s = db->stmt[STMT_REACTION_COUNT];
	sqlite3_bind_int64(s, 1, job->msg_id);
	sqlite3_bind_text(s, 2, job->emoji, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		job->count = sqlite3_column_int64(s, 0);
	stmt_done(s);
	if (rc != SQLITE_ROW)
		return STORE_FAILED;
	if (job->already)
		return STORE_OK;
	if (next_change(db, &seq) != STORE_OK)
		return STORE_FAILED;
	s = db->stmt[STMT_MSG_TOUCH];
	sqlite3_bind_int64(s, 1, job->msg_id);
	sqlite3_bind_int64(s, 2, seq);
	if (exec_stmt(db, STMT_MSG_TOUCH) != SQLITE_DONE)
		return STORE_FAILED;
	return read_back(db, job->msg_id, job->user_id, job);
}

static enum store_status run_join(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MEMBER_INSERT];
	char key[PIER_KEY_MAX];
	int64_t room_id = 0;
	int rc;

	job->created = false;
	job->already = false;
	if (!room_key(job->room, key))
		return STORE_FAILED;
	if (strcmp(key, STORE_LOBBY) == 0) {
		job->already = true;
		return STORE_OK;
	}
	rc = find_room(db, key, &room_id);
	if (rc < 0)
		return STORE_FAILED;
	if (rc > 0) {
		sqlite3_stmt *ins = db->stmt[STMT_ROOM_INSERT];

		sqlite3_bind_text(ins, 1, job->room, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, pier_now_ms());
		if (exec_stmt(db, STMT_ROOM_INSERT) != SQLITE_DONE)
			return STORE_FAILED;
		room_id = sqlite3_last_insert_rowid(db->db);
		job->created = true;
	} else if (store_social_topic(db, room_id, job) != STORE_OK) {
		return STORE_FAILED;
	}
	sqlite3_bind_int64(s, 1, room_id);
	sqlite3_bind_int64(s, 2, job->user_id);
	sqlite3_bind_int64(s, 3, pier_now_ms());
	rc = exec_stmt(db, STMT_MEMBER_INSERT);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return STORE_NOT_FOUND;     /* no such user (the savepoint drops a new room) */
	if (rc != SQLITE_DONE)
		return STORE_FAILED;
	job->already = sqlite3_changes(db->db) == 0;
	if (!job->already && store_social_read_baseline(db, job->user_id, room_id) != 0)
		return STORE_FAILED;
	return STORE_OK;
}

static enum store_status run_part(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MEMBER_DELETE];
	char key[PIER_KEY_MAX];
	int64_t room_id = 0;
	int rc;

	if (!room_key(job->room, key))
		return STORE_NOT_FOUND;
	rc = find_room(db, key, &room_id);
	if (rc != 0)
		return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	sqlite3_bind_int64(s, 1, room_id);
	sqlite3_bind_int64(s, 2, job->user_id);
	if (exec_stmt(db, STMT_MEMBER_DELETE) != SQLITE_DONE)
		return STORE_FAILED;
	return sqlite3_changes(db->db) == 0 ? STORE_NOT_FOUND : STORE_OK;
}

static enum store_status run_history(struct store_db *db, struct store_job *job)
{
	int limit = clamp_limit(job->limit);
	int64_t before = job->before > 0 ? job->before : INT64_MAX;
	sqlite3_stmt *s;

	if (job->room != NULL) {
		char key[PIER_KEY_MAX];
		int64_t room_id = 0;
		int rc;

		if (!room_key(job->room, key))
			return STORE_NOT_FOUND;
		rc = find_room(db, key, &room_id);
		if (rc != 0)
			return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
		s = db->stmt[STMT_MSG_ROOM_HISTORY];
		sqlite3_bind_int64(s, 1, room_id);
		sqlite3_bind_int64(s, 2, before);
		sqlite3_bind_int64(s, 3, (int64_t)limit + 1);
	} else {
		s = db->stmt[STMT_MSG_PAIR_HISTORY];
		sqlite3_bind_int64(s, 1, job->user_id < job->peer_id ? job->user_id : job->peer_id);
		sqlite3_bind_int64(s, 2, job->user_id < job->peer_id ? job->peer_id : job->user_id);
		sqlite3_bind_int64(s, 3, before);
		sqlite3_bind_int64(s, 4, (int64_t)limit + 1);
	}
	bind_me(s, job->user_id);
	return collect_msgs(s, limit, true, job);
}

static enum store_status run_sync(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_SYNC];
	int limit = clamp_limit(job->limit);
	enum store_status st;

	sqlite3_bind_int64(s, 1, job->after);
	sqlite3_bind_int64(s, 2, db->lobby_id);
	sqlite3_bind_int64(s, 3, job->user_id);
	sqlite3_bind_int64(s, 4, (int64_t)limit + 1);
	bind_me(s, job->user_id);
	st = collect_msgs(s, limit, false, job);
	if (st != STORE_OK || job->changes_after < 0)
		return st != STORE_OK ? st : change_max(db, &job->change_seq);
	s = db->stmt[STMT_MSG_CHANGES];
	sqlite3_bind_int64(s, 1, job->changes_after);
	sqlite3_bind_int64(s, 2, db->lobby_id);
	sqlite3_bind_int64(s, 3, job->user_id);
	sqlite3_bind_int64(s, 4, (int64_t)limit + 1);
	bind_me(s, job->user_id);
	st = collect_into(s, limit, false, &job->changes, &job->nchanges, &job->changes_more);
	return st != STORE_OK ? st : change_max(db, &job->change_seq);
}

static enum store_status run_offline(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_OFFLINE];
	int limit = clamp_limit(job->limit);

	sqlite3_bind_int64(s, 1, job->user_id);
	sqlite3_bind_int64(s, 2, (int64_t)limit + 1);
	sqlite3_bind_int64(s, 3, job->after);
	bind_me(s, job->user_id);
	return collect_msgs(s, limit, false, job);
}

static enum store_status run_set_seen(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_SET_SEEN];

	sqlite3_bind_int64(s, 1, job->user_id);
	sqlite3_bind_int64(s, 2, job->seen_id);
	if (exec_stmt(db, STMT_USER_SET_SEEN) != SQLITE_DONE)
		return STORE_FAILED;
	return sqlite3_changes(db->db) == 0 ? STORE_NOT_FOUND : STORE_OK;
}

static enum store_status run_stream(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_STREAM];
	int limit = clamp_limit(job->limit);

	sqlite3_bind_int64(s, 1, job->after);
	sqlite3_bind_int64(s, 2, job->msg_id > 0 ? job->msg_id : INT64_MAX);
	sqlite3_bind_int64(s, 3, (int64_t)limit + 1);
	bind_me(s, 0);
	return collect_msgs(s, limit, false, job);
}

static enum store_status run_op(struct store_db *db, struct store_job *job)
{
	switch (job->op) {
	case STORE_CREATE_USER:
		return run_create_user(db, job);
	case STORE_GET_USER:
		return run_get_user(db, job);
	case STORE_LOGIN:
		return run_login(db, job);
	case STORE_TOKEN_USER:
		return run_token_user(db, job);
	case STORE_DELETE_TOKEN:
		return run_delete_token(db, job);
	case STORE_TOKEN_TOUCH:
		return run_token_touch(db, job);
	case STORE_DELETE_TOKENS:
		return delete_user_tokens(db, job);
	case STORE_SET_PASSWORD:
		return run_set_password(db, job);
	case STORE_PRUNE_TOKENS:
		return run_prune_tokens(db, job);
	case STORE_APPEND:
		return run_append(db, job);
	case STORE_JOIN:
		return run_join(db, job);
	case STORE_PART:
		return run_part(db, job);
	case STORE_HISTORY:
		return run_history(db, job);
	case STORE_SYNC:
		return run_sync(db, job);
	case STORE_OFFLINE:
		return run_offline(db, job);
	case STORE_SET_SEEN:
		return run_set_seen(db, job);
	case STORE_EDIT:
		return run_edit(db, job);
	case STORE_RECALL:
		return run_recall(db, job);
	case STORE_REACT:
		return run_react(db, job);
	case STORE_MEDIA_CREATE:
		return run_media_create(db, job);
	case STORE_MEDIA_GET:
		return run_media_get(db, job);
	case STORE_MEDIA_USAGE:
		return run_media_usage(db, job);
	case STORE_UPLOAD_CREATE:
		return run_upload_create(db, job);
	case STORE_UPLOAD_GET:
		return run_upload_get(db, job);
	case STORE_UPLOAD_DELETE:
		return run_upload_delete(db, job);
	case STORE_SET_DISPLAY:
	case STORE_SET_TOPIC:
	case STORE_READ:
	case STORE_UNREAD:
	case STORE_MEMBERS:
		return store_social_run(db, job);
	case STORE_SEARCH:
		return store_db_search(db, job);
	case STORE_E2EE_REGISTER:
	case STORE_E2EE_HELLO:
	case STORE_E2EE_DEVICES:
	case STORE_E2EE_PUBLISH:
	case STORE_E2EE_PREKEYS:
	case STORE_E2EE_KEYS:
	case STORE_E2EE_DEVICE_SEND:
	case STORE_E2EE_QUEUE:
	case STORE_E2EE_ACK:
		return store_e2ee_run(db, job);
	case STORE_BARRIER:
		return STORE_OK;
	case STORE_STREAM:
		return run_stream(db, job);
	}
	return STORE_FAILED;
}

void store_db_run(struct store_db *db, struct store_job *job)
{
	enum store_status status;
	bool savepoint = needs_savepoint(job);

	/* the queued rows first, whenever this job could see them or the queue is full */
	if (db->nqueued > 0 &&
	    (!(is_queueable(job) || is_plain_e2ee(job)) || db->nqueued == STORE_QUEUED_MAX ||
	     (job->cid != NULL && store_append_queued_cid(db, job))))
		store_append_flush(db);
	if (!store_db_in_txn(db)) {
		job->status = STORE_FAILED;  /* the flush ended the transaction: the batch fails */
		return;
	}
	if (savepoint && exec_stmt(db, STMT_SAVEPOINT) != SQLITE_DONE) {
		job->status = STORE_FAILED;
		return;
	}
	status = run_op(db, job);
	if (savepoint) {
		if (status != STORE_OK)
			exec_stmt(db, STMT_ROLLBACK_TO);
		exec_stmt(db, STMT_RELEASE);
	} else if (status == STORE_FAILED && is_plain_e2ee(job)) {
		store_db_abandon(db);           /* part of it may be written: the batch fails */
	}
	if (status == STORE_FAILED)
		store_job_release(job);
	job->status = status;
}

int store_db_begin(struct store_db *db)
{
	db->version_checked = false;  /* another connection may have committed since the last */
	return exec_stmt(db, STMT_BEGIN) == SQLITE_DONE ? 0 : -1;
}

int store_db_commit(struct store_db *db)
{
	return exec_stmt(db, STMT_COMMIT) == SQLITE_DONE ? 0 : -1;
}

void store_db_rollback(struct store_db *db)
{
	if (store_db_in_txn(db))
		exec_stmt(db, STMT_ROLLBACK);
	db->nqueued = 0;            /* store.c fails every job of the batch */
	db->fts_pending = true;     /* an indexing step may have been rolled back with the rest */
}

void store_db_abandon(struct store_db *db)
{
	if (store_db_in_txn(db))
		exec_stmt(db, STMT_ROLLBACK);
}

bool store_db_in_txn(struct store_db *db)
{
	return sqlite3_get_autocommit(db->db) == 0;
}

int store_db_count_users(struct store_db *db, int64_t *count)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_COUNT];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_db_newest_msg_id(struct store_db *db, int64_t *id)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_NEWEST];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_db_each_user(struct store_db *db,
                       void (*cb)(void *ud, int64_t id, const char *name), void *ud)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_EACH];
	int rc;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		cb(ud, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1));
	}
	stmt_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_db_each_room(struct store_db *db,
                       void (*cb)(void *ud, const char *room, int64_t members), void *ud)
{
	sqlite3_stmt *s = db->stmt[STMT_ROOM_EACH];
	int rc;

	sqlite3_bind_int64(s, 1, db->lobby_id);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		cb(ud, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1));
	}
	stmt_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Steps "PRAGMA journal_mode = WAL", retrying while another connection holds the lock it
 * needs: on a file that several processes open at once (nodes of a cluster on SQLite, the
 * tests' stores) SQLite answers SQLITE_BUSY there without calling the busy handler when
 * waiting could deadlock. Bounded: WAL_RETRIES of WAL_RETRY_MS. */
#define WAL_RETRIES 500
#define WAL_RETRY_MS 10

static int step_wal_pragma(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	for (int i = 0; (rc & 0xff) == SQLITE_BUSY && i < WAL_RETRIES; i++) {
		sqlite3_reset(s);
		sqlite3_sleep(WAL_RETRY_MS);
		rc = sqlite3_step(s);
	}
	return rc;
}

/* Sets the connection's pragmas. WAL lets readers (the sqlite3 shell, backups) run beside
 * the writer; synchronous=FULL makes each commit durable in the WAL before it is acked. Old
 * page images stay in the WAL until a checkpoint (and in the file until it is reused): a clean
 * stop checkpoints and removes it. */
static int set_pragmas(struct store_db *db, bool no_sync, char **err)
{
	sqlite3_stmt *s = NULL;
	const char *sync = no_sync ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL";
	int rc = -1;

	if (sqlite3_prepare_v2(db->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK ||
	    step_wal_pragma(s) != SQLITE_ROW) {
		*err = store_errorf("setting WAL mode: %s", sqlite3_errmsg(db->db));
		goto out;
	}
	if (sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
		*err = store_errorf("the database refused WAL mode");
		goto out;
	}
	/* secure_delete: what a recall or an edit replaces (and every deleted row) is overwritten
	 * with zeros in the file, not merely unlinked from the b-tree. */
	if (sqlite3_exec(db->db, sync, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK) {
		*err = store_errorf("setting pragmas: %s", sqlite3_errmsg(db->db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Statement journals (what a statement that fails must put back: a copy of each page that
 * existed before it and that it changes, or that SQLite writes out of its cache while it
 * runs) stay in memory: -1, never a temporary file. An INSERT of several rows needs one
 * (store_append.c): about 130 pages (0.5 MiB) for 64 rows at 200 000 messages, where each row
 * changes a leaf of messages_pair and of messages_to of its own. SQLite's default, a
 * temporary file past 64 KiB, made that 1.7 pwrite calls more per message there, which cost
 * more CPU than the multi-row INSERT saved (docs/PERFORMANCE.md, "The store thread (session
 * 2)"). Bounded by what one statement changes within one batch (max_batch jobs). A
 * threshold in bytes would have to stay below 128 KiB: SQLite (3.40) moves the in-memory
 * journal to the file with one write of all of it, and unixWrite writes at most 0x1ffff bytes
 * at once (seekAndWriteFd masks the size), so past 128 KiB that write stopped short and
 * SQLite answered SQLITE_FULL (the 1 MiB once set here: test_offline_flood's sends refused
 * under load, test_store_append); SQLite also allocates a journal in memory in one piece of
 * the threshold's size. */
#define STMT_JOURNAL_MEMORY (-1)
_Static_assert(STMT_JOURNAL_MEMORY < 0 || STMT_JOURNAL_MEMORY <= 0x1ffff,
               "SQLite's unixWrite writes at most 0x1ffff bytes at once");

/* Process-wide SQLite settings, before its first use. Memory statistics off: with them on,
 * every one of SQLite's allocations takes a global mutex and updates counters (about a
 * tenth of the store thread's instructions per message); pier reads none of them. The
 * statement journal's size in memory: see STMT_JOURNAL_MEMORY.
 * sqlite3_config fails harmlessly (SQLITE_MISUSE) when SQLite was initialized already. */
static void configure_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_MEMORY);
}

int store_db_open(struct store_db *db, const char *path, bool no_sync, char **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int rc;

	pthread_once(&once, configure_sqlite);
	memset(db, 0, sizeof *db);
	/* NOMUTEX: store.c serializes every use of the connection with its own lock. */
	rc = sqlite3_open_v2(path, &db->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*err = store_errorf("opening %s: %s", path,
		                    db->db != NULL ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, 5000);
	sqlite3_rollback_hook(db->db, store_e2ee_on_rollback, db);
	if (set_pragmas(db, no_sync, err) != 0)
		goto fail;
	/* Before the migrations: the message index is declared with pier's tokenizer. */
	if (store_fts_register(db->db, err) != 0)
		goto fail;
	if (store_schema_migrate(db->db, err) != 0)
		goto fail;
	for (int i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(db->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &db->stmt[i], NULL) != SQLITE_OK) {
			*err = store_errorf("preparing statement %d: %s", i, sqlite3_errmsg(db->db));
			goto fail;
		}
	}
	for (int i = 0; i < SOC_COUNT; i++) {
		if (sqlite3_prepare_v3(db->db, store_social_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &db->social[i], NULL) != SQLITE_OK) {
			*err = store_errorf("preparing social statement %d: %s", i, sqlite3_errmsg(db->db));
			goto fail;
		}
	}
	for (int i = 0; i < E2EE_COUNT; i++) {
		if (sqlite3_prepare_v3(db->db, store_e2ee_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &db->e2ee[i], NULL) != SQLITE_OK) {
			*err = store_errorf("preparing e2ee statement %d: %s", i, sqlite3_errmsg(db->db));
			goto fail;
		}
	}
	if (store_append_prepare(db, err) != 0 || store_e2ee_prepare(db, err) != 0)
		goto fail;
	rc = find_room(db, STORE_LOBBY, &db->lobby_id);
	if (rc != 0) {
		*err = store_errorf("the database has no %s room", STORE_LOBBY);
		goto fail;
	}
	db->ckpt = store_ckpt_start(db->db, path, !no_sync, err);
	if (db->ckpt == NULL)
		goto fail;
	/* what a previous run stored but had not indexed yet: at the end of the first batch */
	db->fts_pending = true;
	db->fts_unindexed = STORE_FTS_BATCH;
	return 0;
fail:
	store_db_close(db);
	return -1;
}

void store_db_close(struct store_db *db)
{
	/* the file left behind has every message indexed (a failure leaves them to the next
	 * start) */
	if (db->ckpt != NULL && db->fts_pending && store_db_begin(db) == 0) {
		if (store_db_index_new(db) != 0 || store_db_commit(db) != 0)
			store_db_rollback(db);
	}
	/* then: the writer's close, the last one, checkpoints the whole WAL and removes it */
	store_ckpt_stop(db->ckpt);
	db->ckpt = NULL;
	store_append_finalize(db);
	store_e2ee_finalize(db);
	for (int i = 0; i < STMT_COUNT; i++) {
		sqlite3_finalize(db->stmt[i]);
		db->stmt[i] = NULL;
	}
	for (int i = 0; i < SOC_COUNT; i++) {
		sqlite3_finalize(db->social[i]);
		db->social[i] = NULL;
	}
	for (int i = 0; i < E2EE_COUNT; i++) {
		sqlite3_finalize(db->e2ee[i]);
		db->e2ee[i] = NULL;
	}
	sqlite3_close(db->db);
	db->db = NULL;
	store_e2ee_sets_release(&db->e2ee_sets);
}

/* ---- for store_social.c and store_search.c ---- */

void store_stmt_reset(sqlite3_stmt *s)
{
	stmt_done(s);
}

int store_stmt_exec(struct store_db *db, enum store_stmt which)
{
	return exec_stmt(db, which);
}

char *store_column_dup(sqlite3_stmt *s, int col)
{
	return column_dup(s, col);
}

int store_room_id(struct store_db *db, const char *room, int64_t *id)
{
	char key[PIER_KEY_MAX];

	if (!room_key(room, key))
		return 1;
	return find_room(db, key, id);
}

enum store_status store_collect_names(sqlite3_stmt *s, char ***out)
{
	return collect_names(s, out);
}

void store_bind_reader(sqlite3_stmt *s, int64_t user_id)
{
	bind_me(s, user_id);
}

int store_read_msg(sqlite3_stmt *s, struct store_msg *m)
{
	return read_msg(s, m) ? 0 : -1;
}
