/* test_store_append.c - plain private messages written several rows to an INSERT
 * (store_append.c) when the statement's journal is big: the case that failed with SQLITE_FULL.
 *
 * A statement of several rows needs a statement journal (what SQLite puts back when the
 * statement fails): a copy of every page that existed before it and that it changes. SQLite
 * keeps that journal in memory up to a size (SQLITE_CONFIG_STMTJRNL_SPILL), then writes it to
 * a temporary file in one write of all of it, which unixWrite cannot do past 128 KiB: with the
 * size at 1 MiB, a spill answered SQLITE_FULL and the batch failed (docs/PERFORMANCE.md, "The
 * store thread (session 2)"); journals stay in memory now (STMT_JOURNAL_MEMORY). Here one
 * batch edits 64 long messages to short ones (their overflow pages are freed, with content,
 * in the batch's transaction) and then appends 64 long messages, whose overflow pages are
 * those freed ones: their 64-row INSERT journals more than 1 MiB (320 pages). Every job must
 * end STORE_OK, the rows in order, the texts whole. SQLite only (the PostgreSQL back end
 * writes a row a statement). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "storetest.h"
#include "tap.h"

#define T0 1795000000000LL
#define NROWS 64          /* the queue of store_append.c: one statement of 64 rows */
#define TEXT_LEN 24000    /* five overflow pages a row (4 KiB pages): 320 for 64 rows */

struct env {
	uv_loop_t loop;
	struct store *st;
	char dir[64];
	char path[128];
	sqlite3 *raw;          /* a second connection: holds the write lock to form one batch */
};

static int64_t create_user(struct env *e, const char *name)
{
	return storetest_create_user(&e->loop, e->st, name);
}

static int64_t raw_int(struct env *e, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(e->raw, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* jobs[0..n) as one batch (storetest_run_batch, the lock held by e->raw). */
static void run_one_batch(struct env *e, struct store_job **jobs, int n)
{
	storetest_run_batch(&e->loop, e->st, e->raw, jobs, (size_t)n);
}

static void long_text(char *buf, char fill, int i)
{
	memset(buf, fill, TEXT_LEN);
	buf[TEXT_LEN] = '\0';
	memcpy(buf, "long", 4);
	buf[4] = (char)('0' + i % 10);
}

static void test_big_journal(struct env *e, int64_t alice, int64_t bob)
{
	static struct store_job first[NROWS], edits[NROWS], appends[NROWS];
	static char texts[NROWS][TEXT_LEN + 1], again[NROWS][TEXT_LEN + 1];
	static struct store_job *batch[2 * NROWS];
	int64_t before, last;
	bool ok = true;

	/* the long messages, stored */
	for (int i = 0; i < NROWS; i++) {
		long_text(texts[i], 'a', i);
		store_job_init(&first[i], STORE_APPEND);
		first[i].user_id = alice;
		first[i].peer_id = bob;
		first[i].new_contact = i == 0;
		first[i].text = texts[i];
		first[i].ts = T0 + i;
		batch[i] = &first[i];
	}
	run_one_batch(e, batch, NROWS);
	for (int i = 0; i < NROWS; i++)
		ok = ok && first[i].status == STORE_OK;
	CHECK(ok, "64 long messages stored");
	before = raw_int(e, "PRAGMA freelist_count");

	/* one batch: 64 edits free their overflow pages, then 64 long appends reuse them */
	for (int i = 0; i < NROWS; i++) {
		store_job_init(&edits[i], STORE_EDIT);
		edits[i].user_id = alice;
		edits[i].msg_id = first[i].msg_id;
		edits[i].text = "short";
		edits[i].ts = T0 + 1000 + i;
		batch[i] = &edits[i];
		long_text(again[i], 'b', i);
		store_job_init(&appends[i], STORE_APPEND);
		appends[i].user_id = alice;
		appends[i].peer_id = bob;
		appends[i].text = again[i];
		appends[i].ts = T0 + 2000 + i;
		batch[NROWS + i] = &appends[i];
	}
	run_one_batch(e, batch, 2 * NROWS);
	ok = true;
	last = first[NROWS - 1].msg_id;
	for (int i = 0; i < NROWS; i++) {
		if (!CHECK(edits[i].status == STORE_OK, "edit %d: status %d", i, edits[i].status))
			ok = false;
		if (!CHECK(appends[i].status == STORE_OK && appends[i].msg_id > last,
		           "append %d: status %d, id %" PRId64, i, appends[i].status,
		           appends[i].msg_id))
			ok = false;
		last = appends[i].msg_id;
	}
	CHECK(ok, "the batch of 64 edits and a 64-row INSERT of long messages: every job stored");
	CHECK(raw_int(e, "PRAGMA freelist_count") < before + 8,
	      "the appends took the pages the edits freed (freelist %" PRId64 " -> %" PRId64 ")",
	      before, raw_int(e, "PRAGMA freelist_count"));
	CHECK(raw_int(e, "SELECT count(*) FROM messages WHERE length(text) = 24000") == NROWS,
	      "the 64 new texts whole");
	CHECK(raw_int(e, "SELECT count(*) FROM messages WHERE text = 'short'") == NROWS,
	      "the 64 edits");
	for (int i = 0; i < NROWS; i++) {
		store_job_release(&first[i]);
		store_job_release(&edits[i]);
		store_job_release(&appends[i]);
	}
}

/* The test_offline_flood case: one batch of NBIG long appends (four statements of 64 rows),
 * whose dirty pages outgrow SQLite's page cache (2 MiB by default): during the later
 * statements SQLite writes dirty pages of the earlier ones to the WAL to make room, and
 * journals each of them first (the statement may still fail); so the journal passes 1 MiB
 * inside that cache spill, where an error ends the whole transaction (every job of the
 * batch STORE_FAILED with the 1 MiB setting). */
#define NBIG 256
static void test_cache_spill(struct env *e, int64_t alice, int64_t bob)
{
	static struct store_job jobs[NBIG];
	static char texts[NBIG][TEXT_LEN + 1];
	static struct store_job *batch[NBIG];
	int64_t before = raw_int(e, "SELECT count(*) FROM messages"), last = 0;
	int failed = 0;
	bool order = true;

	for (int i = 0; i < NBIG; i++) {
		long_text(texts[i], (char)('c' + i % 20), i);
		store_job_init(&jobs[i], STORE_APPEND);
		jobs[i].user_id = i % 2 ? alice : bob;
		jobs[i].peer_id = i % 2 ? bob : alice;
		jobs[i].text = texts[i];
		jobs[i].ts = T0 + 3000 + i;
		batch[i] = &jobs[i];
	}
	run_one_batch(e, batch, NBIG);
	for (int i = 0; i < NBIG; i++) {
		if (jobs[i].status != STORE_OK)
			failed++;
		else if (jobs[i].msg_id <= last)
			order = false;
		else
			last = jobs[i].msg_id;
		store_job_release(&jobs[i]);
	}
	CHECK(failed == 0, "a batch of %d long messages beyond the page cache: %d failed", NBIG,
	      failed);
	CHECK(order, "their ids in submission order");
	CHECK(raw_int(e, "SELECT count(*) FROM messages") == before + NBIG, "all %d stored", NBIG);
}

int main(void)
{
	struct store_options opt = { .no_sync = true };
	struct env e;
	char *err = NULL;

	if (storetest_pg_server() != NULL) {
		printf("# SQLite only: skipped with PIER_TEST_STORE\n");
		return tap_done();
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.dir, sizeof(e.dir), "/tmp/pier-append-XXXXXX");
	if (!CHECK(mkdtemp(e.dir) != NULL, "mkdtemp"))
		return tap_done();
	snprintf(e.path, sizeof(e.path), "%s/pier.db", e.dir);
	uv_loop_init(&e.loop);
	e.st = store_open(&e.loop, e.dir, &opt, &err);
	CHECK(e.st != NULL, "store_open: %s", err != NULL ? err : "");
	free(err);
	if (e.st != NULL) {
		CHECK(sqlite3_open(e.path, &e.raw) == SQLITE_OK, "a second connection");
		sqlite3_busy_timeout(e.raw, 5000);
		int64_t alice = create_user(&e, "alice_1"), bob = create_user(&e, "bob_22");

		test_big_journal(&e, alice, bob);
		test_cache_spill(&e, alice, bob);
		store_close(e.st);
	}
	uv_run(&e.loop, UV_RUN_NOWAIT);
	sqlite3_close(e.raw);
	CHECK(uv_loop_close(&e.loop) == 0, "no handle left on the loop");
	storetest_remove_dir(e.dir);
	return tap_done();
}
