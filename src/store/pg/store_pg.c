/* store_pg.c - the PostgreSQL back end's entry in store.c's back-end table: the connection
 * (libpq), the batch's transaction, each job under its own savepoint, and the op switch.
 *
 * A batch is one transaction (READ COMMITTED). Before its first job that may write, it takes
 * the writers' advisory lock (WRITE_LOCK), held to its commit: the writing batches of every
 * node run one after the other. That is what makes ids commit in order (docs/CLUSTER.md: the
 * counters rows would serialize appends anyway), keeps a check and the write that depends on
 * it atomic across nodes (a cid, a member, a reaction limit), and rules out deadlocks between
 * nodes' batches (each would otherwise lock rows in its jobs' order). Batches that only read
 * never wait for it.
 *
 * Each job runs under a savepoint, as SQLite's: a job that does not end in STORE_OK is rolled
 * back to it and leaves nothing. To spare a round trip per job, the previous job's RELEASE
 * and the next SAVEPOINT (and the lock, when it is taken) go as one query; COMMIT releases
 * the last one.
 *
 * A connection lost between batches is re-established at the next BEGIN (PQreset; the
 * prepared statements are prepared again). A batch it breaks fails as a whole.
 */
#include "store_pg_internal.h"

#include <stdlib.h>
#include <string.h>

/* pg_advisory_xact_lock's key that serializes the writing batches ("pier" "wrt"). */
#define WRITE_LOCK "7307173707470628"

/* The connection state beyond struct store_pg's: what the batch has done so far. */
struct pg_batch {
	bool savepoint;      /* a job's savepoint is open (released with the next one's) */
	bool locked;         /* the writers' lock is held */
	bool broken;         /* an error outside a savepoint: the transaction is lost */
};

struct store_pg_conn {
	struct store_pg pg;  /* first: the table's void * is both */
	struct pg_batch b;
};

/* Whether op only reads: no lock needed (a job that reads may still fail and roll back). */
static bool op_reads_only(enum store_op op)
{
	switch (op) {
	case STORE_GET_USER:
	case STORE_HISTORY:
	case STORE_SYNC:
	case STORE_OFFLINE:
	case STORE_STREAM:
	case STORE_MEDIA_GET:
	case STORE_MEDIA_USAGE:
	case STORE_UPLOAD_GET:
	case STORE_SEARCH:
	case STORE_UNREAD:
	case STORE_MEMBERS:
	case STORE_BARRIER:
		return true;
	default:
		return false;
	}
}

static int prepare_all(struct store_pg *pg, char **err)
{
	if (store_pg_util_prepare(pg, err) != 0 || store_pg_users_prepare(pg, err) != 0 ||
	    store_pg_msgs_prepare(pg, err) != 0 || store_pg_changes_prepare(pg, err) != 0 ||
	    store_pg_media_prepare(pg, err) != 0 || store_pg_social_prepare(pg, err) != 0 ||
	    store_pg_e2ee_prepare(pg, err) != 0 || store_pg_search_prepare(pg, err) != 0)
		return -1;
	return 0;
}

/* A notice (e.g. "relation already exists, skipping" of a migration) is not for the log. */
static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int pg_open(void **out, const char *dir, const struct store_options *opt, char **err)
{
	/* gssencmode=disable: no Kerberos round trip at every connect (a server asking for GSS
	 * authentication still gets it). */
	const char *keys[] = { "dbname", "client_encoding", "application_name", "connect_timeout",
	                       "gssencmode", "options", NULL };
	/* lock_timeout: a batch waits at most 5 s for another node's (SQLite's busy timeout). */
	const char *vals[] = { opt->url, "UTF8", "pierd", "10", "disable",
	                       opt->no_sync ? "-c synchronous_commit=off -c lock_timeout=5000"
	                                    : "-c synchronous_commit=on -c lock_timeout=5000",
	                       NULL };
	struct store_pg_conn *c = calloc(1, sizeof *c);
	struct store_pg *pg = &c->pg;

	(void)dir;
	*out = NULL;
	if (c == NULL) {
		*err = store_errorf("out of memory");
		return -1;
	}
	pg->token_idle_ms = opt->token_idle_ms;
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
		*err = store_errorf("connecting to PostgreSQL: %s",
		                    pg->conn != NULL ? PQerrorMessage(pg->conn) : "out of memory");
		goto fail;
	}
	PQsetNoticeProcessor(pg->conn, no_notices, NULL);
	if (PQserverVersion(pg->conn) < 150000) {
		*err = store_errorf("PostgreSQL %d is too old: pier needs 15 or newer",
		                    PQserverVersion(pg->conn) / 10000);
		goto fail;
	}
	if (store_pg_schema_migrate(pg, err) != 0 || prepare_all(pg, err) != 0)
		goto fail;
	if (store_pg_room_id(pg, STORE_LOBBY, &pg->lobby_id) != 0) {
		*err = store_errorf("the database has no %s room", STORE_LOBBY);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (pg->conn != NULL)
		PQfinish(pg->conn);
	free(c);
	return -1;
}

static void pg_close(void *db)
{
	struct store_pg_conn *c = db;

	if (c == NULL)
		return;
	if (c->pg.conn != NULL)
		PQfinish(c->pg.conn);
	free(c);
}

/* Reconnects a lost connection (between batches). 0, or -1 still lost. */
static int reconnect(struct store_pg *pg)
{
	char *err = NULL;

	if (PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return -1;
	if (prepare_all(pg, &err) != 0) {
		free(err);
		return -1;
	}
	return 0;
}

static int pg_begin(void *db)
{
	struct store_pg_conn *c = db;

	memset(&c->b, 0, sizeof c->b);
	c->pg.in_txn = false;
	c->pg.search_pending = false;
	if (reconnect(&c->pg) != 0 || store_pg_command(&c->pg, "BEGIN") != 0)
		return -1;
	c->pg.in_txn = true;
	return 0;
}

static int pg_commit(void *db)
{
	struct store_pg_conn *c = db;
	int rc;

	if (!c->pg.in_txn || c->b.broken)
		return -1;
	rc = store_pg_command(&c->pg, "COMMIT");
	c->pg.in_txn = false;
	return rc;
}

static void pg_rollback(void *db)
{
	struct store_pg_conn *c = db;

	if (PQtransactionStatus(c->pg.conn) != PQTRANS_IDLE)
		store_pg_command(&c->pg, "ROLLBACK");
	c->pg.in_txn = false;
}

static bool pg_in_txn(void *db)
{
	struct store_pg_conn *c = db;

	return c->pg.in_txn && !c->b.broken;
}

static enum store_status run_op(struct store_pg *pg, struct store_job *job)
{
	switch (job->op) {
	case STORE_CREATE_USER:
	case STORE_GET_USER:
	case STORE_LOGIN:
	case STORE_TOKEN_USER:
	case STORE_DELETE_TOKEN:
	case STORE_TOKEN_TOUCH:
	case STORE_DELETE_TOKENS:
	case STORE_SET_PASSWORD:
	case STORE_PRUNE_TOKENS:
	case STORE_SET_SEEN:
		return store_pg_users_run(pg, job);
	case STORE_APPEND:
	case STORE_JOIN:
	case STORE_PART:
	case STORE_HISTORY:
	case STORE_SYNC:
	case STORE_OFFLINE:
	case STORE_STREAM:
		return store_pg_msgs_run(pg, job);
	case STORE_EDIT:
	case STORE_RECALL:
	case STORE_REACT:
		return store_pg_changes_run(pg, job);
	case STORE_MEDIA_CREATE:
	case STORE_MEDIA_GET:
	case STORE_MEDIA_USAGE:
	case STORE_UPLOAD_CREATE:
	case STORE_UPLOAD_GET:
	case STORE_UPLOAD_DELETE:
		return store_pg_media_run(pg, job);
	case STORE_SET_DISPLAY:
	case STORE_SET_TOPIC:
	case STORE_READ:
	case STORE_UNREAD:
	case STORE_MEMBERS:
		return store_pg_social_run(pg, job);
	case STORE_SEARCH:
		return store_pg_search(pg, job);
	case STORE_E2EE_REGISTER:
	case STORE_E2EE_HELLO:
	case STORE_E2EE_DEVICES:
	case STORE_E2EE_PUBLISH:
	case STORE_E2EE_PREKEYS:
	case STORE_E2EE_KEYS:
	case STORE_E2EE_DEVICE_SEND:
	case STORE_E2EE_QUEUE:
	case STORE_E2EE_ACK:
		return store_pg_e2ee_run(pg, job);
	case STORE_BARRIER:
		return STORE_OK;
	}
	return STORE_FAILED;
}

/* Opens the job's savepoint: releases the previous one and, for a job that may write, takes
 * the writers' lock first if the batch does not hold it yet; one round trip. */
static int open_savepoint(struct store_pg_conn *c, bool lock)
{
	const char *sql;

	if (lock)
		sql = c->b.savepoint ? "RELEASE SAVEPOINT job; SELECT pg_advisory_xact_lock("
		                       WRITE_LOCK "); SAVEPOINT job"
		                     : "SELECT pg_advisory_xact_lock(" WRITE_LOCK "); SAVEPOINT job";
	else
		sql = c->b.savepoint ? "RELEASE SAVEPOINT job; SAVEPOINT job" : "SAVEPOINT job";
	if (store_pg_command(&c->pg, sql) != 0) {
		c->b.broken = true;
		return -1;
	}
	c->b.savepoint = true;
	if (lock)
		c->b.locked = true;
	return 0;
}

static void pg_run(void *db, struct store_job *job)
{
	struct store_pg_conn *c = db;
	enum store_status status;

	if (open_savepoint(c, !c->b.locked && !op_reads_only(job->op)) != 0) {
		job->status = STORE_FAILED;
		return;
	}
	status = run_op(&c->pg, job);
	if (status != STORE_OK) {
		/* Back to the savepoint (it stays, released with the next job's). A failed rollback
		 * loses the transaction: the batch fails. */
		if (store_pg_command(&c->pg, "ROLLBACK TO SAVEPOINT job") != 0)
			c->b.broken = true;
	}
	if (status == STORE_FAILED)
		store_job_release(job);
	job->status = status;
}

static int pg_batch_end(void *db)
{
	struct store_pg *pg = db;

	return pg->search_pending ? store_pg_search_batch_end(pg) : 0;
}

static int pg_count_users(void *db, int64_t *count)
{
	return store_pg_users_count(db, count);
}

static int pg_each_user(void *db, void (*cb)(void *ud, int64_t id, const char *name), void *ud)
{
	return store_pg_users_each(db, cb, ud);
}

static int pg_each_room(void *db, void (*cb)(void *ud, const char *room, int64_t members),
                        void *ud)
{
	return store_pg_rooms_each(db, cb, ud);
}

static int pg_each_display(void *db, void (*cb)(void *ud, const char *name, const char *display),
                           void *ud)
{
	return store_pg_each_display(db, cb, ud);
}

static int pg_each_topic(void *db,
                         void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                    int64_t ts), void *ud)
{
	return store_pg_each_topic(db, cb, ud);
}

const struct store_backend store_pg_backend = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_txn = pg_in_txn,
	.run = pg_run,
	.batch_end = pg_batch_end,
	.count_users = pg_count_users,
	.each_user = pg_each_user,
	.each_room = pg_each_room,
	.each_display = pg_each_display,
	.each_topic = pg_each_topic,
};
