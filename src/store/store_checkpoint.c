/* store_checkpoint.c - SQLite's WAL checkpoints on a thread of their own (store_checkpoint.h
 * says why and what stays the same). */
#include "store_checkpoint.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "store_ckpt_vfs.h"
#include "store_internal.h"
#include "thread_name.h"

struct store_ckpt {
	sqlite3 *db;                   /* the checkpointer's own connection */
	sqlite3 *writer;               /* the connection whose WAL hook points here */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool want;                     /* the WAL grew by STORE_CKPT_PAGES since the last one */
	bool stop;
	int covered;                   /* WAL frames the last checkpoint backfilled */
	atomic_uint_least64_t runs, inline_runs;
};

/* The writer's WAL hook, after every commit (on the store thread, inside COMMIT): pages is
 * the WAL's size in frames. Replaces SQLite's automatic checkpoint. */
static int on_wal_commit(void *arg, sqlite3 *writer, const char *dbname, int pages)
{
	struct store_ckpt *c = arg;
	bool wake = false;

	pthread_mutex_lock(&c->lock);
	if (pages < c->covered)
		c->covered = 0;        /* the writer reset the WAL: count from its start */
	if (pages - c->covered >= STORE_CKPT_PAGES && !c->want) {
		c->want = true;
		wake = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (wake)
		pthread_cond_signal(&c->cond);
	if (pages >= STORE_CKPT_HARD_PAGES) {
		/* BUSY when the thread is at it: the next commit tries again */
		if (sqlite3_wal_checkpoint_v2(writer, dbname, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) ==
		    SQLITE_OK)
			atomic_fetch_add(&c->inline_runs, 1);
	}
	return SQLITE_OK;
}

static void *ckpt_thread(void *arg)
{
	struct store_ckpt *c = arg;

	thread_name_set("pierd-ckpt");
	for (;;) {
		int log = 0, done = 0, rc;

		pthread_mutex_lock(&c->lock);
		while (!c->want && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->stop) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		c->want = false;
		pthread_mutex_unlock(&c->lock);
		rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (rc == SQLITE_OK) {
			atomic_fetch_add(&c->runs, 1);
			pthread_mutex_lock(&c->lock);
			c->covered = done;
			pthread_mutex_unlock(&c->lock);
		}
	}
	return NULL;
}

/* sqlite3_exec, again while SQLite answers SQLITE_BUSY without calling the busy handler (it
 * does where waiting could deadlock: another connection changing the journal mode or
 * recovering the WAL as several stores open one file at once). Bounded: EXEC_RETRIES of
 * EXEC_RETRY_MS. */
#define EXEC_RETRIES 500
#define EXEC_RETRY_MS 10

static int exec_retrying(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	for (int i = 0; (rc & 0xff) == SQLITE_BUSY && i < EXEC_RETRIES; i++) {
		sqlite3_sleep(EXEC_RETRY_MS);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	return rc;
}

struct store_ckpt *store_ckpt_start(sqlite3 *writer, const char *path, bool writer_syncs_wal,
                                    char **err)
{
	const char *vfs = NULL;

	struct store_ckpt *c = calloc(1, sizeof *c);
	bool locks = false;

	if (c == NULL) {
		*err = store_errorf("out of memory");
		return NULL;
	}
	atomic_init(&c->runs, 0);
	atomic_init(&c->inline_runs, 0);
	/* its own VFS: the checkpoint's copy reaches the disk while it is made (store_ckpt_vfs.h) */
	if (store_ckpt_vfs_register() == 0)
		vfs = writer_syncs_wal ? STORE_CKPT_VFS_WAL_SYNCED : STORE_CKPT_VFS_NAME;
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, vfs) !=
	    SQLITE_OK) {
		*err = store_errorf("opening %s for checkpoints: %s", path,
		                    c->db != NULL ? sqlite3_errmsg(c->db) : "out of memory");
		goto fail;
	}
	/* A PASSIVE checkpoint never calls the busy handler; the pragmas below read the schema,
	 * which another store opening the file at the same moment may hold up. */
	sqlite3_busy_timeout(c->db, 5000);
	/* FULL: the checkpoint syncs the database file after copying (and the WAL before, unless
	 * the VFS leaves that out: store_ckpt_vfs.h) */
	if (exec_retrying(c->db, "PRAGMA synchronous = FULL") != SQLITE_OK ||
	    exec_retrying(c->db, "PRAGMA wal_autocheckpoint = 0") != SQLITE_OK) {
		*err = store_errorf("checkpoint connection: %s", sqlite3_errmsg(c->db));
		goto fail;
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0 || pthread_cond_init(&c->cond, NULL) != 0) {
		*err = store_errorf("checkpointer: cannot create its lock");
		goto fail;
	}
	locks = true;
	if (pthread_create(&c->thread, NULL, ckpt_thread, c) != 0) {
		*err = store_errorf("checkpointer: cannot start its thread");
		goto fail;
	}
	c->writer = writer;
	sqlite3_wal_hook(writer, on_wal_commit, c);
	return c;
fail:
	if (locks) {
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->cond);
	}
	sqlite3_close(c->db);
	free(c);
	return NULL;
}

void store_ckpt_stop(struct store_ckpt *c)
{
	if (c == NULL)
		return;
	sqlite3_wal_hook(c->writer, NULL, NULL);
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_mutex_unlock(&c->lock);
	pthread_cond_signal(&c->cond);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	sqlite3_close(c->db);
	free(c);
}

uint64_t store_ckpt_count(const struct store_ckpt *c)
{
	return c != NULL ? atomic_load(&c->runs) : 0;
}

uint64_t store_ckpt_inline_count(const struct store_ckpt *c)
{
	return c != NULL ? atomic_load(&c->inline_runs) : 0;
}
