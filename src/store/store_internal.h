/* store_internal.h - what the store's own files share: the back-end table the thread and
 * queues in store.c drive, the SQLite back end (store_sqlite.c and its siblings) and its
 * schema (store_schema.c). The PostgreSQL back end's own header is pg/store_pg_internal.h.
 *
 * Not for callers outside src/store (the unit test may use it to inspect the schema).
 *
 * Threading: nothing here locks. A struct store_db belongs to one thread at a time; store.c
 * serializes every use of it with its db lock (the store thread holds that lock while it runs
 * a batch; the synchronous startup reads take it too).
 */
#ifndef PIER_STORE_INTERNAL_H
#define PIER_STORE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"
#include "store_e2ee_sets.h"

/* The schema version store_schema_migrate() brings a database to (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 9
/* The version whose step made the message index (message_fts): tests build a database of the
 * version before it, with messages, to see the migration index them. */
#define STORE_SCHEMA_SEARCH_VERSION 7

/* The canonical name (and key) of the implicit room every user is in. */
#define STORE_LOBBY "#lobby"

/* Every statement the store runs, prepared once at open. */
enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_USER_INSERT,
	STMT_USER_BY_KEY,
	STMT_USER_SET_SEEN,
	STMT_USER_COUNT,
	STMT_USER_EACH,
	STMT_TOKEN_INSERT,
	STMT_TOKEN_USER,
	STMT_TOKEN_DELETE,
	STMT_TOKEN_TOUCH,
	STMT_TOKEN_DELETE_USER,
	STMT_TOKEN_PRUNE,
	STMT_USER_SET_PASSWORD,
	STMT_ROOM_BY_KEY,
	STMT_ROOM_INSERT,
	STMT_ROOM_EACH,
	STMT_MEMBER_INSERT,
	STMT_MEMBER_DELETE,
	STMT_MEMBER_ROOMS,
	STMT_MSG_BY_CID,
	STMT_MSG_INSERT,
	STMT_MSG_ROOM_HISTORY,
	STMT_MSG_PAIR_HISTORY,
	STMT_MSG_SYNC,
	STMT_MSG_OFFLINE,
	STMT_CONTACT_INSERT,
	STMT_CONTACT_NAMES,
	STMT_MEDIA_INSERT,
	STMT_MEDIA_GET,
	STMT_MEDIA_USAGE,
	STMT_UPLOAD_INSERT,
	STMT_UPLOAD_GET,
	STMT_UPLOAD_DELETE,
	STMT_UPLOAD_FINISH,
	STMT_MSG_ONE,
	STMT_MSG_CHECK,
	STMT_MSG_CHANGES,
	STMT_CHANGE_MAX,
	STMT_MSG_EDIT,
	STMT_MSG_RECALL,
	STMT_MSG_TOUCH,
	STMT_MENTION_USER,
	STMT_MENTION_INSERT,
	STMT_MENTIONS_DELETE,
	STMT_MENTIONS_LIST,
	STMT_REACTION_INSERT,
	STMT_REACTION_DELETE,
	STMT_REACTIONS_DELETE,
	STMT_REACTION_KINDS,
	STMT_REACTION_COUNT,
	STMT_FTS_INDEX_NEW,
	STMT_FTS_STATE_SET,
	STMT_FTS_MATCH,
	STMT_SEARCH_MSG_ALL,
	STMT_SEARCH_MSG_ROOM,
	STMT_SEARCH_MSG_PAIR,
	STMT_MSG_STREAM,
	STMT_MSG_NEWEST,
	STMT_COUNT
};

/* The statements of store_social.c (display names, topics, read positions, members). */
enum social_stmt {
	SOC_SET_DISPLAY,
	SOC_EACH_DISPLAY,
	SOC_SET_TOPIC,
	SOC_GET_TOPIC,
	SOC_EACH_TOPIC,
	SOC_READ_GET,
	SOC_READ_SET,
	SOC_READ_BASELINE,
	SOC_LAST_ROOM,
	SOC_LAST_PAIR,
	SOC_COUNT_ROOM,
	SOC_COUNT_PAIR,
	SOC_MEMBERS,
	SOC_USERS_PAGE,
	SOC_COUNT
};

/* The statements of store_e2ee.c (devices, prekeys, lists, queues). */
enum e2ee_stmt {
	E2EE_DEV_BY_ID,
	E2EE_DEV_BY_RID,
	E2EE_DEVS_OF,
	E2EE_DEV_COUNT,
	E2EE_DEV_INSERT,
	E2EE_EXPIRE_OPKS,
	E2EE_EXPIRE_ENVS,
	E2EE_EXPIRE_QUEUES,
	E2EE_EXPIRE_DEVS,
	E2EE_DEV_SET_STATE,
	E2EE_DEV_REVOKE,
	E2EE_DEV_QUEUE_ZERO,
	E2EE_DEV_SEEN,
	E2EE_DEV_OPKS_DELETE,
	E2EE_DEV_ENVS_DELETE,
	E2EE_SPK_SET,
	E2EE_OPK_INSERT,
	E2EE_OPK_COUNT,
	E2EE_OPK_FIRST,
	E2EE_OPK_DELETE,
	E2EE_LIST_GET,
	E2EE_LIST_SET,
	E2EE_ENV_INSERT,
	E2EE_QUEUE_NEW,
	E2EE_QUEUE_ADD,
	E2EE_QUEUE_SUB,
	E2EE_QUEUE_PAGE,
	E2EE_ACK,
	E2EE_HAS_LIST,
	E2EE_MEDIA_E2EE,
	E2EE_SEND_SET,
	E2EE_QUEUE_TAKE,
	E2EE_QUEUE_GIVE,
	E2EE_QID_LOAD,
	E2EE_QID_SAVE,
	E2EE_DATA_VERSION,
	E2EE_COUNT
};

/* Plain private messages waiting to be written several rows to a statement (store_append.c). */
#define STORE_QUEUED_MAX 64
#define STORE_INSERT_CHUNKS 2     /* statements of STORE_QUEUED_MAX rows and of 8 */

struct store_db {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	sqlite3_stmt *social[SOC_COUNT];
	sqlite3_stmt *e2ee[E2EE_COUNT];
	int64_t lobby_id;      /* rooms.id of #lobby */
	int64_t token_idle_ms; /* store_options.token_idle_ms */
	bool fts_pending;      /* messages may have been appended that the index has not seen */
	int fts_unindexed;     /* appends since the last indexing (store_db_index_due) */
	/* queued appends (store_append.c): checked, status STORE_OK so far, row not written yet */
	struct store_job *queued[STORE_QUEUED_MAX];
	size_t nqueued;
	sqlite3_stmt *insert_chunk[STORE_INSERT_CHUNKS];
	sqlite3_stmt *env_chunk[STORE_INSERT_CHUNKS]; /* envelopes, several rows (store_e2ee.c) */
	struct store_ckpt *ckpt; /* WAL checkpoints off the commit path (store_checkpoint.h) */
	struct store_e2ee_sets e2ee_sets; /* users' active devices (store_e2ee_sets.h) */
	/* the envelopes' qid counter (store_e2ee.c, next_qid): the next qid to give (0: not
	 * read yet), the highest saved in e2ee_qid as far as this transaction knows (0: not
	 * known), read again when the data version moves */
	int64_t qid_next;
	int64_t qid_saved;
	int64_t qid_version;
	bool qid_reload;
	bool version_checked;  /* PRAGMA data_version read in this batch (store_e2ee.c) */
};

/* store.c: a malloc'd printf-formatted string (NULL if out of memory). */
char *store_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A store back end, as store.c's thread drives it. db is the back end's own connection state
 * (struct store_db for SQLite, struct store_pg for PostgreSQL), used by one thread at a time
 * under store.c's db lock. A batch is: begin, run for each job (each under its own savepoint:
 * a job that does not end in STORE_OK leaves nothing), batch_end, commit; rollback when any
 * step fails or in_txn turns false. */
struct store_backend {
	const char *name;                      /* "sqlite", "postgresql" (for messages) */
	/* Opens (dir: SQLite's directory; opt->url: PostgreSQL's), migrates the schema and
	 * prepares the statements. 0, or -1 with *err a malloc'd message (nothing left open). */
	int (*open)(void **db, const char *dir, const struct store_options *opt, char **err);
	void (*close)(void *db);               /* closes and frees db; NULL is fine */
	int (*begin)(void *db);                /* 0 or -1 */
	int (*commit)(void *db);               /* 0 or -1 (then nothing of the batch is stored) */
	void (*rollback)(void *db);            /* of the open transaction, if any */
	bool (*in_txn)(void *db);              /* false once the back end abandoned the batch */
	void (*run)(void *db, struct store_job *job);
	/* The batch's work that waits for its end, inside its transaction (SQLite: the search
	 * index of the messages it appended). 0, or -1: the batch must be rolled back. */
	int (*batch_end)(void *db);
	/* The synchronous startup reads (store.h's store_count_users, ...). 0 or -1. */
	int (*count_users)(void *db, int64_t *count);
	int (*newest_msg_id)(void *db, int64_t *id);
	int (*each_user)(void *db, void (*cb)(void *ud, int64_t id, const char *name), void *ud);
	int (*each_room)(void *db, void (*cb)(void *ud, const char *room, int64_t members),
	                 void *ud);
	int (*each_display)(void *db, void (*cb)(void *ud, const char *name, const char *display),
	                    void *ud);
	int (*each_topic)(void *db,
	                  void (*cb)(void *ud, const char *room, const char *topic, const char *by,
	                             int64_t ts), void *ud);
	/* Checkpoints so far, by the checkpointer thread and inside a commit (SQLite's WAL;
	 * store_checkpoint.h), read from any thread. NULL: the back end has none. */
	void (*checkpoints)(void *db, uint64_t *by_thread, uint64_t *in_commit);
};

/* store_sqlite_backend.c: SQLite in DIR/pier.db (store_sqlite.c and its siblings). */
extern const struct store_backend store_sqlite_backend;
/* pg/store_pg.c: PostgreSQL through libpq (src/store/pg/). */
extern const struct store_backend store_pg_backend;
/* store.c: the back end a store_options.url names (NULL: none, *err set). */
const struct store_backend *store_backend_for(const char *url, char **err);

/* store_schema.c: creates the schema or migrates it to STORE_SCHEMA_VERSION, one transaction
 * per step. Returns 0, or -1 with *err set to a malloc'd message. Safe to run on every open. */
int store_schema_migrate(sqlite3 *db, char **err);
/* The same, up to version target only (at most STORE_SCHEMA_VERSION): for tests that need a
 * database as an older pierd left it. */
int store_schema_migrate_to(sqlite3 *db, int target, char **err);

/* store_sqlite.c: opens path (creating it), sets the pragmas (WAL, synchronous FULL or
 * NORMAL if no_sync, foreign keys, busy timeout), migrates and prepares every statement.
 * Returns 0, or -1 with *err set (db is then closed). */
int store_db_open(struct store_db *db, const char *path, bool no_sync, char **err);
/* Finalizes the statements and closes the database. Safe on a zeroed or closed db. */
void store_db_close(struct store_db *db);

/* Transaction control for a batch. Each returns 0 or -1. */
int store_db_begin(struct store_db *db);
int store_db_commit(struct store_db *db);
void store_db_rollback(struct store_db *db);
/* Whether a transaction is open (false after SQLite rolled one back on its own, e.g. on
 * SQLITE_FULL or an I/O error: the batch's earlier work is then gone). */
bool store_db_in_txn(struct store_db *db);
/* Rolls back the open transaction, if any, in the middle of a batch: a job that wrote part of
 * itself and cannot finish (the batch fails: store.c sees store_db_in_txn false). */
void store_db_abandon(struct store_db *db);

/* Runs one job inside the open transaction and sets job->status and its outputs. A job that
 * fails (STORE_FAILED) is rolled back to its own savepoint and leaves no outputs; the other
 * statuses leave the transaction as the job made it. */
void store_db_run(struct store_db *db, struct store_job *job);

/* store_sqlite.c, for store_social.c and store_search.c: resets a statement and its bindings;
 * runs a prepared statement that returns no rows and resets it (SQLite's code, SQLITE_DONE on
 * success); a malloc'd copy of a text column ("" for NULL; NULL when out of memory); the id
 * of room ("#name", any case): 0 found, 1 no such room, -1 error; the first column of every
 * row of s appended to the NULL-terminated *out (resets s). */
void store_stmt_reset(sqlite3_stmt *s);
int store_stmt_exec(struct store_db *db, enum store_stmt which);
char *store_column_dup(sqlite3_stmt *s, int col);
int store_room_id(struct store_db *db, const char *room, int64_t *id);
enum store_status store_collect_names(sqlite3_stmt *s, char ***out);
/* store_sqlite.c, for store_search.c: binds the reading user of a message query (the columns
 * of MSG_SELECT: what history gives, as that user sees it); reads the current row of one into
 * m (zeroed first), whose strings it allocates (freed by store_job_release once m is in a
 * job's msgs; what was read stays in m when memory runs out). 0, or -1 out of memory. */
void store_bind_reader(sqlite3_stmt *s, int64_t user_id);
int store_read_msg(sqlite3_stmt *s, struct store_msg *m);

/* store_social.c: the SQL of enum social_stmt; runs its ops (SET_DISPLAY, SET_TOPIC, READ,
 * UNREAD, MEMBERS); reads a room's topic into job (topic_out, topic_by, topic_ts; for JOIN). */
extern const char *const store_social_sql[SOC_COUNT];
enum store_status store_social_run(struct store_db *db, struct store_job *job);
enum store_status store_social_topic(struct store_db *db, int64_t room_id, struct store_job *job);
/* A user new to a room (registration: #lobby; a first join) starts with the room read up to
 * its newest message: what was said before one came is history, not unread. 0 or -1. */
int store_social_read_baseline(struct store_db *db, int64_t user_id, int64_t room_id);

/* store_e2ee.c: the SQL of enum e2ee_stmt; runs the STORE_E2EE_* ops; frees a job's e2ee
 * outputs. For an APPEND: store_e2ee_plain_check refuses a plaintext message to a user with
 * a device list, or one carrying encrypted media (STORE_E2EE_REQUIRED); store_e2ee_send_check
 * checks an encrypted one (the sending device, the exact device set: STORE_NO_DEVICE,
 * STORE_CHANGED) and takes its room in each queue (STORE_FULL, the rooms taken given back)
 * before the message is inserted, and store_e2ee_send_queue writes its envelopes after
 * (job->msg_id set); store_e2ee_on_rollback is the connection's rollback hook;
 * store_e2ee_media_flag reads whether a media item is ciphertext. */
extern const char *const store_e2ee_sql[E2EE_COUNT];
/* The connection's rollback hook (arg: the struct store_db): forgets e2ee_sets. */
void store_e2ee_on_rollback(void *arg);
enum store_status store_e2ee_run(struct store_db *db, struct store_job *job);
void store_e2ee_release(struct store_e2ee *e);
enum store_status store_e2ee_plain_check(struct store_db *db, struct store_job *job,
                                         bool media_e2ee);
enum store_status store_e2ee_send_check(struct store_db *db, struct store_job *job);
enum store_status store_e2ee_send_queue(struct store_db *db, struct store_job *job);
/* Prepares / finalizes the envelope INSERTs of several rows. 0 or -1 (*err set). */
int store_e2ee_prepare(struct store_db *db, char **err);
void store_e2ee_finalize(struct store_db *db);
/* Writes the envelopes of the encrypted messages among jobs[0..n) (their rows written,
 * msg_id set), in order, up to STORE_QUEUED_MAX rows to a statement. 0, or -1 (some may be
 * written: the caller ends the transaction). */
int store_e2ee_queue_rows(struct store_db *db, struct store_job *const *jobs, size_t n);
/* At a batch's end, in its transaction: saves the highest qid given (e2ee_qid), when it
 * grew. 0, or -1 (the batch must be rolled back). */
int store_e2ee_batch_end(struct store_db *db);
int store_e2ee_media_flag(struct store_db *db, int64_t media_id, bool *e2ee);

/* store_append.c: binds job's row of messages (ts, sender, room_id or the private pair, text,
 * cid, media, reply, e2ee payload) as row `row` (0-based) of an INSERT of MSG_INSERT's columns. */
void store_bind_msg_insert(sqlite3_stmt *s, int row, const struct store_job *job,
                           int64_t room_id);
/* store_append.c: prepares out[c], "head" followed by rows[c] times "row" (comma-separated),
 * for each chunk size c; what names the rows in an error. 0, or -1 (*err set; the ones
 * prepared stay in out for store_finalize_rows). */
int store_prepare_rows(struct store_db *db, const char *head, const char *row,
                       const int rows[STORE_INSERT_CHUNKS], const char *what,
                       sqlite3_stmt *out[STORE_INSERT_CHUNKS], char **err);
void store_finalize_rows(sqlite3_stmt *stmts[STORE_INSERT_CHUNKS]);
/* store_append.c: prepares / finalizes the statements of several rows. 0 or -1 (*err set). */
int store_append_prepare(struct store_db *db, char **err);
void store_append_finalize(struct store_db *db);
/* store_append.c: queues a plain private message whose checks passed, or an encrypted one
 * whose checks passed and whose queues' rooms are taken (room for it: the caller flushes a
 * full queue first). Its row (then an encrypted one's envelopes) is written, and its status
 * final (STORE_OK, or what the INSERT alone gives), by the next store_append_flush. */
void store_append_queue(struct store_db *db, struct store_job *job);
/* store_append.c: writes every queued row, in order; empties the queue. A failure that ends the
 * transaction fails the rest (the batch fails with it). */
void store_append_flush(struct store_db *db);
/* store_append.c: whether a queued job has job's sender and cid (its row must be written before
 * job's cid is looked up). */
bool store_append_queued_cid(const struct store_db *db, const struct store_job *job);

/* store_search.c: runs STORE_SEARCH (see store.h), after store_db_index_new. */
enum store_status store_db_search(struct store_db *db, struct store_job *job);
/* store_search.c: adds the messages stored since the last call (past message_fts_state.upto)
 * to the message index, in one statement, inside the open transaction; clears fts_pending.
 * The store runs it before every search, so a search sees every message stored before it
 * (the FIFO's order), and at the end of a batch when store_db_index_due says so. 0, or -1
 * (the transaction's work must then be rolled back). */
int store_db_index_new(struct store_db *db);

/* Messages indexed at once (store_db_index_due). */
#define STORE_FTS_BATCH 1024

/* store_search.c: whether the batch ending now should index what is pending: once
 * STORE_FTS_BATCH messages wait, whatever the load. Not every batch: at a low rate a batch is
 * one or two messages, and indexing them at its end wrote a new FTS5 segment into every
 * commit (22 WAL frames a commit instead of 8, and the commit's fdatasync with them: the
 * latency tail, docs/PERFORMANCE.md "The search index off the commit path"); at a high rate
 * bigger steps cost less per message ("The store's cost per message"). A search indexes
 * first whatever waits, closing the store indexes what is left, and the first batch after a
 * start indexes what a previous run left. */
bool store_db_index_due(const struct store_db *db);

/* The synchronous startup reads (no transaction needed). Return 0 or -1. */
int store_db_each_display(struct store_db *db,
                          void (*cb)(void *ud, const char *name, const char *display), void *ud);
int store_db_each_topic(struct store_db *db,
                        void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                   int64_t ts), void *ud);
int store_db_count_users(struct store_db *db, int64_t *count);
int store_db_newest_msg_id(struct store_db *db, int64_t *id);
int store_db_each_user(struct store_db *db,
                       void (*cb)(void *ud, int64_t id, const char *name), void *ud);
int store_db_each_room(struct store_db *db,
                       void (*cb)(void *ud, const char *room, int64_t members), void *ud);

#endif
