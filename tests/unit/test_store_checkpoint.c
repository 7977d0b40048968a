/* test_store_checkpoint.c - SQLite's WAL checkpoints on their own thread (store_checkpoint.c):
 * the thread runs them, the writer's commits no longer do below the hard limit, the WAL stays
 * bounded however long the writes go on, nothing committed is lost at close, and the
 * checkpoints' copies go through the VFS that starts their writeback as they are made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_checkpoint.h"
#include "store_ckpt_vfs.h"
#include "tap.h"

#define ROWS 300           /* rows of about a page each (distinct pages for a checkpoint) */
#define GROUPS 30          /* a transaction rewrites one group: ROWS / GROUPS rows */
#define TXNS 4000          /* about 2.5x STORE_CKPT_HARD_PAGES frames in all */
#define TXNS_FULL 300      /* an fsync each: several checkpoints' worth */

static int64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* One writer and its checkpointer on a new database in dir: txns transactions, then close,
 * reopen and count. full: the writer commits with synchronous=FULL (pierd's durable store), so
 * the checkpoints leave the WAL's sync out; otherwise NORMAL (no fsync per commit: quick). */
static void run(const char *dir, const char *name, bool full, int txns)
{
	char path[160], wal[180];
	sqlite3 *w = NULL;
	struct store_ckpt *c;
	char *err = NULL;
	int64_t wal_max = 0;
	sqlite3_stmt *upd = NULL;
	bool ok = true;
	uint64_t trickles0 = store_ckpt_vfs_trickles();
	uint64_t skipped0 = store_ckpt_vfs_wal_syncs_skipped();

	printf("# %s: synchronous=%s, %d transactions\n", name, full ? "FULL" : "NORMAL", txns);
	snprintf(path, sizeof path, "%s/%s.db", dir, name);
	snprintf(wal, sizeof wal, "%s-wal", path);
	CHECK(sqlite3_open(path, &w) == SQLITE_OK, "open the writer");
	CHECK(exec(w, "PRAGMA journal_mode = WAL") == 0 &&
	      exec(w, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL") == 0 &&
	      exec(w, "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, b BLOB)") == 0,
	      "a WAL database");
	for (int i = 0; i < ROWS; i++)
		exec(w, "INSERT INTO t (n, b) VALUES (0, randomblob(3000))");
	c = store_ckpt_start(w, path, full, &err);
	if (!CHECK(c != NULL, "the checkpointer starts (%s)", err ? err : ""))
		goto out;
	CHECK(sqlite3_prepare_v2(w, "UPDATE t SET n = ?1, b = randomblob(3000) WHERE id % 30 = ?1 % 30",  /* GROUPS */
	                         -1, &upd, NULL) == SQLITE_OK, "prepare");
	for (int k = 1; k <= txns && ok; k++) {
		int64_t sz;

		sqlite3_bind_int(upd, 1, k);
		ok = exec(w, "BEGIN IMMEDIATE") == 0 && sqlite3_step(upd) == SQLITE_DONE &&
		     sqlite3_reset(upd) == SQLITE_OK && exec(w, "COMMIT") == 0;
		sz = file_size(wal);
		wal_max = sz > wal_max ? sz : wal_max;
	}
	CHECK(ok, "%d transactions of %d rows committed (%s)", txns, ROWS / GROUPS, sqlite3_errmsg(w));
	/* the thread was woken at STORE_CKPT_PAGES; it runs soon (a liveness wait, not a timing) */
	for (int i = 0; i < 1000 && store_ckpt_count(c) == 0; i++)
		usleep(10000);
	CHECK(store_ckpt_count(c) > 0, "the checkpointer thread ran checkpoints (%llu; the writer "
	      "caught up itself %llu times)", (unsigned long long)store_ckpt_count(c),
	      (unsigned long long)store_ckpt_inline_count(c));
	/* about 11 frames a transaction: past the hard limit the writer catches up */
	CHECK(wal_max > 0 && wal_max <= (int64_t)2 * STORE_CKPT_HARD_PAGES * (4096 + 24),
	      "the WAL stayed bounded: at most %lld bytes (limit %d pages)", (long long)wal_max,
	      STORE_CKPT_HARD_PAGES);
	/* each checkpoint copies at least STORE_CKPT_PAGES pages: several trickles each */
	CHECK(store_ckpt_vfs_trickles() - trickles0 >= store_ckpt_count(c),
	      "the checkpointer's writes started their writeback as they went (%llu times in %llu "
	      "checkpoints)", (unsigned long long)(store_ckpt_vfs_trickles() - trickles0),
	      (unsigned long long)store_ckpt_count(c));
	if (full)
		CHECK(store_ckpt_vfs_wal_syncs_skipped() - skipped0 > 0,
		      "the checkpoints left out the WAL's sync the writer's commits made (%llu)",
		      (unsigned long long)(store_ckpt_vfs_wal_syncs_skipped() - skipped0));
	else
		CHECK(store_ckpt_vfs_wal_syncs_skipped() == skipped0,
		      "with synchronous=NORMAL the checkpoints sync the WAL themselves");
	printf("# checkpoints: %llu by the thread, %llu by the writer; WAL at most %lld bytes\n",
	       (unsigned long long)store_ckpt_count(c),
	       (unsigned long long)store_ckpt_inline_count(c), (long long)wal_max);
	sqlite3_finalize(upd);
	upd = NULL;
	store_ckpt_stop(c);
	/* the hook is gone: a commit after the stop must not touch the freed checkpointer */
	CHECK(exec(w, "UPDATE t SET n = n + 1") == 0, "a commit after the checkpointer stopped");
	CHECK(sqlite3_close(w) == SQLITE_OK, "close the writer");
	w = NULL;
	CHECK(file_size(wal) < 0, "the last connection's close checkpointed and removed the WAL");
	CHECK(sqlite3_open(path, &w) == SQLITE_OK, "reopen");
	{
		char sql[128];

		/* every row was rewritten by one of the last GROUPS transactions, then + 1 */
		snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE n BETWEEN %d AND %d",
		         txns - GROUPS + 2, txns + 1);
		CHECK(one_int(w, sql) == ROWS && one_int(w, "SELECT max(n) FROM t") == txns + 1,
		      "every commit is in the database file");
	}
out:
	sqlite3_finalize(upd);
	sqlite3_close(w);
	free(err);
	{
		char p[200];

		snprintf(p, sizeof p, "%s-shm", path);
		unlink(p);
		unlink(wal);
		unlink(path);
	}
}

int main(void)
{
	char dir[] = "/tmp/pier-ckpt-XXXXXX";

	if (!CHECK(mkdtemp(dir) != NULL, "temporary directory"))
		return tap_done();
	run(dir, "normal", false, TXNS);
	run(dir, "full", true, TXNS_FULL);
	rmdir(dir);
	return tap_done();
}
