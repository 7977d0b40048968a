/* storetest.h - what the store's unit tests (test_store.c, test_search_store.c) share: running
 * one job to its end on the loop, removing the temporary directory of a store, and the
 * PostgreSQL mode: with PIER_TEST_STORE set to a server's URL (scripts/pg-test.sh), a test
 * makes a database of its own there and runs the same jobs on it. */
#ifndef PIER_STORETEST_H
#define PIER_STORETEST_H

#include <stdint.h>

#include <sqlite3.h>
#include <uv.h>

#include "store.h"

/* A done callback: sets the bool job->data points to. */
void storetest_done_flag(struct store_job *job);

/* Submits job to st (its data and done are taken for this) and turns loop until it is done;
 * its status. */
enum store_status storetest_run(uv_loop_t *loop, struct store *st, struct store_job *job);

/* Runs jobs[0..n) (their data and done are taken for this) as one batch of st, a SQLite
 * store: submitted behind a barrier while locker, another connection to st's file, holds the
 * write lock, so that the store thread takes them together (the lock is let go 150 ms after
 * the last submit); turns loop until every one is done. */
void storetest_run_batch(uv_loop_t *loop, struct store *st, sqlite3 *locker,
                         struct store_job *const *jobs, size_t n);

/* Creates user name (with a fixed argon2id-shaped hash) and returns its id, 0 with a failed
 * check when the store refuses. */
int64_t storetest_create_user(uv_loop_t *loop, struct store *st, const char *name);

/* Removes dir's database files (pier.db and its WAL and shared memory) and dir itself, which
 * must then be empty (a failed check if not). */
void storetest_remove_dir(const char *dir);

/* The PostgreSQL server's URL from PIER_TEST_STORE (a postgresql:// URL), or NULL: SQLite. */
const char *storetest_pg_server(void);
/* Creates a new, empty database on server: its name into name (n bytes) and a URL to it into
 * url (n bytes). 0, or -1 (a failed check). */
int storetest_pg_create(const char *server, char *name, char *url, size_t n);
/* Drops database name on server (a failed check if it cannot). */
void storetest_pg_drop(const char *server, const char *name);
/* Runs sql on the database at url; the first row's first n columns (integers) into out.
 * 0, or -1 (a failed check with the error). */
int storetest_pg_ints(const char *url, const char *sql, int64_t *out, int n);
/* Runs sql (no result wanted) on an open connection of its own: the connection (PGconn *,
 * to close with storetest_pg_close), or NULL (a failed check). */
void *storetest_pg_open(const char *url, const char *sql);
void storetest_pg_close(void *conn);

#endif
