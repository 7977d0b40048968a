/* storetest.c - helpers of the store's unit tests (storetest.h). */
#include "storetest.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "tap.h"

void storetest_done_flag(struct store_job *job)
{
	*(bool *)job->data = true;
}

static void count_done(struct store_job *job)
{
	(*(size_t *)job->data)++;
}

void storetest_run_batch(uv_loop_t *loop, struct store *st, sqlite3 *locker,
                         struct store_job *const *jobs, size_t n)
{
	struct timespec pause = { 0, 150 * 1000 * 1000 };
	struct store_job barrier;
	size_t done = 0;

	CHECK(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK,
	      "the write lock");
	store_job_init(&barrier, STORE_BARRIER);
	barrier.done = count_done;
	barrier.data = &done;
	store_submit(st, &barrier);
	nanosleep(&pause, NULL);
	for (size_t i = 0; i < n; i++) {
		jobs[i]->done = count_done;
		jobs[i]->data = &done;
		store_submit(st, jobs[i]);
	}
	nanosleep(&pause, NULL);
	sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL);
	while (done < n + 1)
		uv_run(loop, UV_RUN_ONCE);
	store_job_release(&barrier);
}

enum store_status storetest_run(uv_loop_t *loop, struct store *st, struct store_job *job)
{
	bool done = false;

	job->data = &done;
	job->done = storetest_done_flag;
	store_submit(st, job);
	while (!done)
		uv_run(loop, UV_RUN_ONCE);
	return job->status;
}

int64_t storetest_create_user(uv_loop_t *loop, struct store *st, const char *name)
{
	struct store_job j;
	int64_t id;

	store_job_init(&j, STORE_CREATE_USER);
	j.name = name;
	j.pw_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
	CHECK(storetest_run(loop, st, &j) == STORE_OK, "create %s", name);
	id = j.user_id;
	store_job_release(&j);
	return id;
}

void storetest_remove_dir(const char *dir)
{
	static const char *const files[] = { "pier.db", "pier.db-wal", "pier.db-shm" };
	char path[4200];

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	CHECK(rmdir(dir) == 0, "temporary directory empty");
}

const char *storetest_pg_server(void)
{
	const char *url = getenv("PIER_TEST_STORE");

	if (url == NULL || (strncmp(url, "postgresql://", 13) != 0 &&
	                    strncmp(url, "postgres://", 11) != 0))
		return NULL;
	return url;
}

/* url with its database (the path) replaced by name. */
static int url_with_db(const char *url, const char *name, char *out, size_t n)
{
	const char *host = strstr(url, "://");
	const char *path, *query;
	int len;

	if (host == NULL)
		return -1;
	host += 3;
	path = strchr(host, '/');
	query = strchr(host, '?');
	if (path == NULL || (query != NULL && query < path))
		path = query != NULL ? query : host + strlen(host);
	query = strchr(path, '?');
	len = snprintf(out, n, "%.*s/%s%s", (int)(path - url), url, name,
	               query != NULL ? query : "");
	return len > 0 && (size_t)len < n ? 0 : -1;
}

/* Runs sql on conn; a failed check with the error when it fails. */
static int command(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	CHECK(ok, "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* Notices ("does not exist, skipping") are not the test's output. */
static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int storetest_pg_create(const char *server, char *name, char *url, size_t n)
{
	static int count;
	char sql[128];
	PGconn *conn = PQconnectdb(server);
	int rc = -1;

	if (!CHECK(PQstatus(conn) == CONNECTION_OK, "connect to %s: %s", server,
	           PQerrorMessage(conn)))
		goto out;
	PQsetNoticeProcessor(conn, no_notices, NULL);
	snprintf(name, n, "pier_unit_%ld_%d", (long)getpid(), count++);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
	if (command(conn, sql) != 0)
		goto out;
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	if (command(conn, sql) != 0)
		goto out;
	rc = url_with_db(server, name, url, n);
	CHECK(rc == 0, "a URL for database %s", name);
out:
	PQfinish(conn);
	return rc;
}

void storetest_pg_drop(const char *server, const char *name)
{
	char sql[128];
	PGconn *conn = PQconnectdb(server);

	if (CHECK(PQstatus(conn) == CONNECTION_OK, "connect to %s: %s", server,
	          PQerrorMessage(conn))) {
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
		command(conn, sql);
	}
	PQfinish(conn);
}

int storetest_pg_ints(const char *url, const char *sql, int64_t *out, int n)
{
	PGconn *conn = PQconnectdb(url);
	PGresult *r = NULL;
	int rc = -1;

	if (!CHECK(PQstatus(conn) == CONNECTION_OK, "connect: %s", PQerrorMessage(conn)))
		goto out;
	r = PQexec(conn, sql);
	if (!CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) >= n,
	           "%s: %s", sql, PQresultErrorMessage(r)))
		goto out;
	for (int i = 0; i < n; i++)
		out[i] = PQgetisnull(r, 0, i) ? 0 : strtoll(PQgetvalue(r, 0, i), NULL, 10);
	rc = 0;
out:
	PQclear(r);
	PQfinish(conn);
	return rc;
}

void *storetest_pg_open(const char *url, const char *sql)
{
	PGconn *conn = PQconnectdb(url);

	if (!CHECK(PQstatus(conn) == CONNECTION_OK, "connect: %s", PQerrorMessage(conn)) ||
	    command(conn, sql) != 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

void storetest_pg_close(void *conn)
{
	PQfinish(conn);
}
