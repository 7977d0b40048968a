/* store_pg_internal.h - what the PostgreSQL back end's files (src/store/pg/) share: the
 * connection state, the helpers every module uses to run its prepared statements and read
 * their rows, the counter-row ids of docs/CLUSTER.md ("Ids"), and each module's entry points.
 *
 * Modules: store_pg.c (connection, the back-end table, transactions, the op switch),
 * store_pg_schema.c (schema and migrations), store_pg_util.c (the helpers below),
 * store_pg_users.c (users, tokens), store_pg_msgs.c (rooms, members, contacts, messages,
 * media, uploads, stream), store_pg_e2ee.c, store_pg_social.c, store_pg_search.c.
 *
 * Statements: each module keeps an array of SQL texts indexed by its own enum, prepared once at
 * open under the names PREFIX + index (store_pg_prepare: "core3", "soc0", ...), and runs
 * them with store_pg_exec(pg, PREFIX, which, params). Results are text format; bytea columns
 * come back hex-escaped (store_pg_bytes decodes them).
 *
 * Ids: never a SEQUENCE for anything read "after X" (message ids, the change sequence,
 * envelope qids): store_pg_next_ids takes them from the counters row inside the batch's
 * transaction, so they commit in id order. Other ids (users, rooms, media) may be identity
 * columns.
 *
 * Threading: a struct store_pg is used by one thread at a time (store.c's db lock).
 */
#ifndef PIER_STORE_PG_INTERNAL_H
#define PIER_STORE_PG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store_internal.h"
#include "store_rules.h"

/* SQLSTATEs the ops tell apart. */
#define STORE_PG_UNIQUE      "23505"   /* unique_violation */
#define STORE_PG_FOREIGN_KEY "23503"   /* foreign_key_violation */

/* The most parameters one statement takes. */
#define STORE_PG_PARAMS_MAX 16

/* The prefixes of each module's statement names. */
#define STORE_PG_CORE   "core"
#define STORE_PG_SOCIAL "soc"
#define STORE_PG_E2EE   "e2ee"
#define STORE_PG_SEARCH "srch"
#define STORE_PG_UTIL   "util"
#define STORE_PG_USERS  "usr"
#define STORE_PG_MSGS   "msg"
#define STORE_PG_CHANGES "chg"
#define STORE_PG_MEDIA  "med"

struct store_pg {
	PGconn *conn;
	int64_t lobby_id;        /* rooms.id of #lobby */
	int64_t token_idle_ms;   /* store_options.token_idle_ms */
	bool in_txn;             /* a batch's transaction is open (BEGIN sent, no end yet) */
	bool search_pending;     /* this batch appended messages (store_pg_search_batch_end) */
	char sqlstate[6];        /* the SQLSTATE of the last failed statement, "" if none */
	char error[256];         /* its message (for logs) */
};

/* Parameters of one statement. Filled in order ($1, $2, ...) by the store_pg_add_* calls; the
 * texts are borrowed (they must outlive the exec), numbers are kept in the struct: do not copy
 * a filled struct. */
struct store_pg_params {
	int n;
	const char *values[STORE_PG_PARAMS_MAX];
	int lengths[STORE_PG_PARAMS_MAX];
	int formats[STORE_PG_PARAMS_MAX];
	char num[STORE_PG_PARAMS_MAX][24];
};

/* ---- store_pg_util.c ---- */

void store_pg_params_init(struct store_pg_params *p);
void store_pg_add_int(struct store_pg_params *p, int64_t v);
void store_pg_add_bool(struct store_pg_params *p, bool v);
void store_pg_add_text(struct store_pg_params *p, const char *s);   /* NULL: SQL NULL */
void store_pg_add_null(struct store_pg_params *p);
/* n bytes as a bytea (sent in binary format). */
void store_pg_add_bytes(struct store_pg_params *p, const void *b, size_t n);

/* Prepares the helpers' own statements (store_pg_next_ids, ...). 0, or -1 with *err set. */
int store_pg_util_prepare(struct store_pg *pg, char **err);
/* Prepares sql[0..n-1] as PREFIX0 ... PREFIX(n-1). 0, or -1 with *err set. */
int store_pg_prepare(struct store_pg *pg, const char *prefix, const char *const *sql, int n,
                     char **err);
/* Runs prepared statement PREFIX+which with p (NULL: no parameters). Its result (rows or a
 * command's; the caller PQclear()s it), or NULL on error with pg->sqlstate and pg->error
 * set. An error aborts the transaction: the caller's job must fail (store_pg.c then rolls
 * back to the job's savepoint), unless it checked a SQLSTATE it expects, e.g. a unique
 * violation (the savepoint rollback is what undoes it). */
PGresult *store_pg_exec(struct store_pg *pg, const char *prefix, int which,
                        const struct store_pg_params *p);
/* Runs a statement that returns no rows: the rows it changed (>= 0), or -1 on error. */
int64_t store_pg_exec_count(struct store_pg *pg, const char *prefix, int which,
                            const struct store_pg_params *p);
/* Runs a plain SQL text (no parameters, no result rows wanted): 0 or -1 (error set). */
int store_pg_command(struct store_pg *pg, const char *sql);
/* Whether the last failed statement's SQLSTATE is code. */
bool store_pg_failed_with(const struct store_pg *pg, const char *code);

/* Reading a text-format result. A NULL value reads as 0 / false / "". */
int64_t store_pg_int(const PGresult *r, int row, int col);
bool store_pg_bool(const PGresult *r, int row, int col);
bool store_pg_null(const PGresult *r, int row, int col);
/* A malloc'd copy ("" for NULL); NULL when out of memory. */
char *store_pg_dup(const PGresult *r, int row, int col);
/* A malloc'd copy, or NULL for a NULL value (*failed set when memory ran out). */
char *store_pg_dup_or_null(const PGresult *r, int row, int col, bool *failed);
/* Copies into a fixed buffer of n bytes (cut if longer; "" for NULL). */
void store_pg_copy(const PGresult *r, int row, int col, char *out, size_t n);
/* Decodes a bytea into out (at most cap bytes): its length, or -1 (NULL, too long, bad). */
long store_pg_bytes(const PGresult *r, int row, int col, unsigned char *out, size_t cap);

/* Takes n (>= 1) ids from counter row name ("msg", "change", "env") inside the open
 * transaction: *first is the first of n consecutive new ids. The row stays locked until the
 * transaction ends, so ids become visible in commit order (docs/CLUSTER.md). 0 or -1. */
int store_pg_next_ids(struct store_pg *pg, const char *name, int64_t n, int64_t *first);
/* The newest id counter name gave (0 before the first). 0 or -1. */
int store_pg_counter(struct store_pg *pg, const char *name, int64_t *value);

/* The id of room ("#name", any case): 0 found, 1 no such room (or no valid name), -1 error. */
int store_pg_room_id(struct store_pg *pg, const char *room, int64_t *id);
/* Appends column 0 of every row of r to the NULL-terminated *out (which may hold strings).
 * STORE_OK or STORE_FAILED. */
enum store_status store_pg_collect_names(const PGresult *r, char ***out);

/* ---- store_pg_msgs.c: messages as the wire shows them ---- */

#define STORE_PG_STR_(x) #x
#define STORE_PG_STR(x) STORE_PG_STR_(x)

/* The reactions of message m as a JSON array, byte for byte as SQLite's json functions write
 * it (compact): one entry per emoji in the order they first came, its count, the first
 * STORE_REACTION_USERS names, whether ME is among them. */
#define STORE_PG_REACTIONS_JSON(ME) \
	"SELECT '[' || string_agg('{\"emoji\":' || to_json(g.emoji)::text || ',\"count\":' || " \
	"g.n || ',\"users\":' || (SELECT coalesce('[' || string_agg(to_json(x.name)::text, ',' " \
	"ORDER BY x.ts, x.user_id) || ']', '[]') FROM (SELECT u.name, r2.ts, r2.user_id " \
	"FROM reactions r2 JOIN users u ON u.id = r2.user_id WHERE r2.message_id = m.id AND " \
	"r2.emoji = g.emoji ORDER BY r2.ts, r2.user_id LIMIT " STORE_PG_STR(STORE_REACTION_USERS) \
	") x) || ',\"mine\":' || CASE WHEN EXISTS (SELECT 1 FROM reactions r3 WHERE " \
	"r3.message_id = m.id AND r3.emoji = g.emoji AND r3.user_id = " ME ") THEN 'true' " \
	"ELSE 'false' END || '}', ',' ORDER BY g.first, g.emoji) || ']' " \
	"FROM (SELECT emoji, count(*) AS n, min(ts) AS first FROM reactions " \
	"WHERE message_id = m.id GROUP BY emoji) g"

/* The columns of a store_msg for every message query, as SQLite's MSG_SELECT (the same
 * order: id, ts, from, to, text, kind, media id, name, size, type, width, height; edited,
 * recalled, changed; the quote's id, sender, excerpt, cut, recalled, kind; mentions, whether
 * ME is mentioned, reactions; e2ee). ME is the parameter ("$9") naming the reading user (0:
 * nobody). Followed by WHERE ... on m. */
#define STORE_PG_MSG_SELECT(ME) \
	"SELECT m.id, m.ts, (SELECT name FROM users WHERE id = m.sender_id), " \
	"CASE WHEN m.room_id IS NOT NULL THEN (SELECT name FROM rooms WHERE id = m.room_id) " \
	"ELSE '@' || (SELECT name FROM users WHERE id = m.recipient_id) END, m.text, " \
	"m.kind, m.media_id, md.name, md.size, md.type, md.width, md.height, " \
	"coalesce(m.edited, 0), coalesce(m.recalled, 0), coalesce(m.changed, 0), " \
	"coalesce(m.reply_to, 0), " \
	"CASE WHEN m.reply_to IS NOT NULL THEN (SELECT name FROM users WHERE id = q.sender_id) END, " \
	"substr(q.text, 1, " STORE_PG_STR(STORE_QUOTE_CHARS) "), " \
	"coalesce(char_length(q.text) > " STORE_PG_STR(STORE_QUOTE_CHARS) ", false), " \
	"q.recalled IS NOT NULL, q.kind, m.mentions, CASE WHEN m.mentions IS NULL THEN false ELSE " \
	"EXISTS (SELECT 1 FROM mentions WHERE message_id = m.id AND user_id = " ME ") END, " \
	"CASE WHEN m.changed IS NULL THEN NULL " \
	"WHEN EXISTS (SELECT 1 FROM reactions WHERE message_id = m.id) THEN (" \
	STORE_PG_REACTIONS_JSON(ME) ") END, m.e2ee " \
	"FROM messages m LEFT JOIN media md ON md.id = m.media_id " \
	"LEFT JOIN messages q ON q.id = m.reply_to "

/* Reads the STORE_PG_MSG_SELECT columns of row into m (zeroed first): 0, or -1 out of
 * memory (what was read stays in m for store_job_release once m is in a job's msgs). */
int store_pg_read_msg(const PGresult *r, int row, struct store_msg *m);
/* Reads at most limit rows of r into *out (*n), *more when r has one more; newest_first: the
 * rows come newest first and are reversed. STORE_OK or STORE_FAILED. */
enum store_status store_pg_collect_msgs(const PGresult *r, int limit, bool newest_first,
                                        struct store_msg **out, size_t *n, bool *more);

/* The core modules: each prepares its statements (0, or -1 with *err) and runs its ops.
 * store_pg_users.c: CREATE_USER, GET_USER, LOGIN, the token ops, SET_PASSWORD, SET_SEEN; the
 * startup reads of users. store_pg_msgs.c: APPEND, JOIN, PART, HISTORY, SYNC, OFFLINE, STREAM;
 * the startup reads of rooms and of the newest message id. store_pg_changes.c: EDIT, RECALL,
 * REACT. store_pg_media.c: the media and upload ops. */
int store_pg_users_prepare(struct store_pg *pg, char **err);
enum store_status store_pg_users_run(struct store_pg *pg, struct store_job *job);
int store_pg_users_count(struct store_pg *pg, int64_t *count);
int store_pg_users_each(struct store_pg *pg,
                        void (*cb)(void *ud, int64_t id, const char *name), void *ud);
int store_pg_msgs_prepare(struct store_pg *pg, char **err);
enum store_status store_pg_msgs_run(struct store_pg *pg, struct store_job *job);
int store_pg_newest_msg_id(struct store_pg *pg, int64_t *id);
int store_pg_rooms_each(struct store_pg *pg,
                        void (*cb)(void *ud, const char *room, int64_t members), void *ud);
int store_pg_changes_prepare(struct store_pg *pg, char **err);
enum store_status store_pg_changes_run(struct store_pg *pg, struct store_job *job);
int store_pg_media_prepare(struct store_pg *pg, char **err);
enum store_status store_pg_media_run(struct store_pg *pg, struct store_job *job);

/* store_pg_msgs.c, for store_pg.c's pipeline: whether job is a plain message (no reply, media
 * or encryption, and in a room no @mention: one statement does it all, so a batch's run of
 * them is sent in one pipeline); sends its statement (in pipeline mode; sets job->ts when 0):
 * 0 or -1; reads its answer into job (msg_id; for STORE_DUPLICATE the original's ts): the
 * status. */
bool store_pg_append_fast(const struct store_job *job);
int store_pg_append_send(struct store_pg *pg, struct store_job *job);
enum store_status store_pg_append_read(struct store_pg *pg, const PGresult *r,
                                       struct store_job *job);

/* store_pg_changes.c, for APPEND too: reads message id as user_id sees it (store_rules.h).
 * STORE_OK, STORE_NOT_FOUND (none, or one the user may not see) or STORE_FAILED. */
enum store_status store_pg_check_msg(struct store_pg *pg, int64_t id, int64_t user_id,
                                     struct store_msg_check *out);
/* Reads message id, as user_id sees it, into job->msgs[0]. */
enum store_status store_pg_read_back(struct store_pg *pg, int64_t id, int64_t user_id,
                                     struct store_job *job);
/* Stores the @mentions of room message msg_id (in room_id) found in text, replacing those it
 * had when replace; *stored: how many it has now. */
enum store_status store_pg_mentions(struct store_pg *pg, int64_t msg_id, int64_t room_id,
                                    const char *text, bool replace, size_t *stored);
/* store_pg_media.c, for APPEND: reads media id as user_id sees it (STORE_OK, STORE_NOT_FOUND,
 * STORE_DENIED: it exists, the user may not see it; STORE_FAILED). */
enum store_status store_pg_get_media(struct store_pg *pg, int64_t id, int64_t user_id,
                                     struct store_media *out);

/* ---- store_pg_schema.c ---- */

/* The schema version store_pg_schema_migrate brings a database to (schema_version row). */
extern const int store_pg_schema_version;
/* Creates or migrates the schema, one transaction per step, under an advisory lock so that
 * nodes starting together migrate once. 0, or -1 with *err set. */
int store_pg_schema_migrate(struct store_pg *pg, char **err);

/* ---- the pg-more modules (store_pg_stubs.c until they exist) ---- */

/* store_pg_social.c: prepares its statements (0, or -1 with *err); runs SET_DISPLAY,
 * SET_TOPIC, READ, UNREAD, MEMBERS; reads a room's topic into job (topic_out, topic_by,
 * topic_ts; for JOIN); starts a new member's read position at the room's newest message
 * (registration: #lobby; a first join; 0 or -1); the startup reads of display names and
 * topics (0 or -1). */
int store_pg_social_prepare(struct store_pg *pg, char **err);
enum store_status store_pg_social_run(struct store_pg *pg, struct store_job *job);
enum store_status store_pg_social_topic(struct store_pg *pg, int64_t room_id,
                                        struct store_job *job);
int store_pg_social_read_baseline(struct store_pg *pg, int64_t user_id, int64_t room_id);
int store_pg_each_display(struct store_pg *pg,
                          void (*cb)(void *ud, const char *name, const char *display), void *ud);
int store_pg_each_topic(struct store_pg *pg,
                        void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                   int64_t ts), void *ud);

/* store_pg_e2ee.c: prepares; runs the STORE_E2EE_* ops; for an APPEND, as SQLite's
 * store_e2ee_plain_check / send_check / send_queue (store_internal.h): the checks of a
 * plaintext or an encrypted message before it is inserted, and the queueing of its
 * envelopes after (job->msg_id set; envelope qids from the "env" counter). */
int store_pg_e2ee_prepare(struct store_pg *pg, char **err);
enum store_status store_pg_e2ee_run(struct store_pg *pg, struct store_job *job);
enum store_status store_pg_e2ee_plain_check(struct store_pg *pg, struct store_job *job,
                                            bool media_e2ee);
enum store_status store_pg_e2ee_send_check(struct store_pg *pg, struct store_job *job);
enum store_status store_pg_e2ee_send_queue(struct store_pg *pg, struct store_job *job);

/* store_pg_search.c: prepares; runs STORE_SEARCH; the batch's end work (e.g. indexing the
 * messages it appended when pg->search_pending; clears it): 0, or -1 (the batch is rolled
 * back). */
int store_pg_search_prepare(struct store_pg *pg, char **err);
enum store_status store_pg_search(struct store_pg *pg, struct store_job *job);
int store_pg_search_batch_end(struct store_pg *pg);

#endif
