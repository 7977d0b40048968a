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

#include <stdio.h>
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

/* Plain room messages waiting to be sent in one pipeline (store_pg_append_fast). */
#define PENDING_MAX 128

struct store_pg_conn {
	struct store_pg pg;  /* first: the table's void * is both */
	struct pg_batch b;
	struct store_job *pending[PENDING_MAX];
	size_t npending;
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
	/* lock_timeout: a batch waits at most 5 s for another node's (SQLite's busy timeout).
	 * jit=off: a prepared statement's generic plan of a message query is estimated costly
	 * (its LIMIT is a parameter), and JIT-compiling it took some 60 ms of every 1-2 ms SYNC
	 * page (EXPLAIN ANALYZE, 300 000 messages). */
	const char *vals[] = { opt->url, "UTF8", "pierd", "10", "disable",
	                       opt->no_sync
	                       ? "-c synchronous_commit=off -c lock_timeout=5000 -c jit=off"
	                       : "-c synchronous_commit=on -c lock_timeout=5000 -c jit=off",
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

/* Reconnects a lost connection (between batches), or one a failed pipeline left in pipeline
 * mode (no ordinary query would run on it). 0, or -1 still lost. */
static int reconnect(struct store_pg *pg)
{
	char *err = NULL;

	if (PQstatus(pg->conn) == CONNECTION_OK && PQpipelineStatus(pg->conn) == PQ_PIPELINE_OFF)
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
	c->npending = 0;
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

/* Runs one job the ordinary way: under its savepoint, one statement after the other. */
static void run_one(struct store_pg_conn *c, struct store_job *job)
{
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

/* Sends a statement without parameters in pipeline mode. */
static void send_plain(PGconn *conn, const char *sql)
{
	PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
}

/* The next command's result in pipeline mode (the sync's, or a command's with the NULL that
 * ends it consumed); NULL when the connection gave nothing. */
static PGresult *take_result(PGconn *conn)
{
	PGresult *r = PQgetResult(conn);

	if (r != NULL && PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		PGresult *end = PQgetResult(conn);

		PQclear(end);
	}
	return r;
}

/* Sends the waiting plain room messages in one pipeline: [the writers' lock,] SAVEPOINT grp,
 * one statement each, RELEASE grp, sync: one round trip for them all. If anything in it
 * fails, the transaction goes back to grp and each runs again the ordinary way, so that a
 * failure is its job's alone, as with SQLite. */
static void flush(struct store_pg_conn *c)
{
	PGconn *conn = c->pg.conn;
	size_t n = c->npending;
	PGresult *res[PENDING_MAX + 3];
	size_t nres = 0, first;
	bool ok = true, lock = !c->b.locked;

	c->npending = 0;
	if (n == 0 || c->b.broken)
		return;
	if (PQenterPipelineMode(conn) != 1) {
		ok = false;
		goto slow;
	}
	if (lock)
		send_plain(conn, "SELECT pg_advisory_xact_lock(" WRITE_LOCK ")");
	send_plain(conn, "SAVEPOINT grp");
	for (size_t i = 0; i < n; i++) {
		if (store_pg_append_send(&c->pg, c->pending[i]) != 0)
			ok = false;
	}
	send_plain(conn, "RELEASE SAVEPOINT grp");
	if (PQpipelineSync(conn) != 1)
		ok = false;
	/* Every command's result, then the sync's. */
	for (;;) {
		PGresult *r = take_result(conn);
		ExecStatusType st;

		if (r == NULL) {
			ok = false;
			break;
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			if (st == PGRES_FATAL_ERROR)
				snprintf(c->pg.error, sizeof c->pg.error, "%s", PQresultErrorMessage(r));
			ok = false;
		}
		if (nres < sizeof res / sizeof res[0])
			res[nres++] = r;
		else
			PQclear(r);
	}
	if (PQexitPipelineMode(conn) != 1) {
		c->b.broken = true;     /* the connection is in no state to go on */
		ok = false;
	}
	first = lock ? 2 : 1;
	if (ok && nres == first + n + 1) {
		if (lock)
			c->b.locked = true;
		for (size_t i = 0; i < n; i++) {
			struct store_job *job = c->pending[i];

			job->status = store_pg_append_read(&c->pg, res[first + i], job);
		}
	}
	for (size_t i = 0; i < nres; i++)
		PQclear(res[i]);
	if (ok && nres == first + n + 1)
		return;
	ok = false;
slow:
	if (c->b.broken)
		return;
	/* Back to before the group (grp exists when the lock was had), then one by one. */
	if (PQtransactionStatus(conn) == PQTRANS_INERROR &&
	    store_pg_command(&c->pg, "ROLLBACK TO SAVEPOINT grp") != 0) {
		c->b.broken = true;
		return;
	}
	for (size_t i = 0; i < n && !c->b.broken; i++)
		run_one(c, c->pending[i]);
}

static void pg_run(void *db, struct store_job *job)
{
	struct store_pg_conn *c = db;

	if (store_pg_append_fast(job)) {
		if (c->npending == PENDING_MAX)
			flush(c);
		c->pending[c->npending++] = job;
		return;
	}
	flush(c);
	if (c->b.broken) {
		job->status = STORE_FAILED;
		return;
	}
	run_one(c, job);
}

static int pg_batch_end(void *db)
{
	struct store_pg_conn *c = db;

	flush(c);
	if (c->b.broken)
		return -1;
	return c->pg.search_pending ? store_pg_search_batch_end(&c->pg) : 0;
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
