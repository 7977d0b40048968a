/* test_search_store.c - STORE_SEARCH on a real store: the migration indexes the messages of a
 * database from before it, new messages are found as soon as they are stored, the triggers
 * follow changes and deletions (the store's own edits and recalls too), the scope (rooms the
 * user is in, #lobby, its own private conversations), paging newest first, the bound on
 * matches looked at, the highlight.
 *
 * With PIER_TEST_STORE set to a PostgreSQL server's URL (storetest.h) the same searches run on
 * store_pg_search.c in a new database there, with the same answers. What is SQLite's own is
 * left out there (FTS5's integrity check, its pages in the file) or done its way: the "old
 * database" is written behind the store's back after it opened (the triggers queue those
 * messages, as the migration step queues what a database already holds), raw statements go
 * through a libpq connection, ids come from the counters row. */
#define _GNU_SOURCE /* memmem */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store.h"
#include "store_fts.h"
#include "store_internal.h"
#include "storetest.h"
#include "tap.h"

#define T0 1795000000000LL

struct env {
	uv_loop_t loop;
	struct store *st;
	char dir[64];
	char path[128];
	sqlite3 *raw;          /* a second connection, with the tokenizer registered */
	const char *server;    /* PostgreSQL (NULL: SQLite) */
	char db[64], url[512];
	PGconn *pg;            /* PostgreSQL: the second connection */
};

/* Users and rooms made before the migration (ids as inserted). */
enum { ALICE = 1, BOB = 2, CAROL = 3 };

static enum store_status run(struct env *e, struct store_job *job)
{
	return storetest_run(&e->loop, e->st, job);
}

static bool exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	bool ok = sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;

	CHECK(ok, "%s: %s", sql, msg != NULL ? msg : "?");
	sqlite3_free(msg);
	return ok;
}

/* Runs sql on the second connection (either back end). */
static bool raw(struct env *e, const char *sql)
{
	PGresult *r;
	bool ok;

	if (e->server == NULL)
		return exec(e->raw, sql);
	r = PQexec(e->pg, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	CHECK(ok, "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/* The integer sql gives on the second connection (-1 when it fails). */
static int64_t raw_int(struct env *e, const char *sql)
{
	int64_t v = -1;
	sqlite3_stmt *s = NULL;
	PGresult *r;

	if (e->server == NULL) {
		if (sqlite3_prepare_v2(e->raw, sql, -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		return v;
	}
	r = PQexec(e->pg, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	CHECK(v >= 0, "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return v;
}

/* Users, a room, messages of every kind, as a pierd before search left them; the last two
 * what became of messages before the index: one edited (found by its text now), one recalled
 * (its text is gone: nothing to index). */
#define OLD_ROWS \
	"INSERT INTO users(id, name, name_key, pw_hash, created) VALUES" \
	" (1, 'Alice_1', 'alice_1', 'x', 0), (2, 'bob_22', 'bob_22', 'x', 0)," \
	" (3, 'carol_3', 'carol_3', 'x', 0);" \
	"INSERT INTO rooms(id, name, name_key, created) VALUES (2, '#Old', '#old', 0);" \
	"INSERT INTO members(room_id, user_id, joined) VALUES (2, 1, 0);" \
	"INSERT INTO media(id, sha256, uploader_id, name, size, type, created) VALUES" \
	" (1, 'aa', 1, '旅行照片.jpg', 10, 'image/jpeg', 0);" \
	"INSERT INTO messages(id, ts, sender_id, room_id, recipient_id, pair_lo, pair_hi, text," \
	" kind, media_id) VALUES" \
	" (1, 1, 1, 1, NULL, NULL, NULL, '迁移之前看的电影', NULL, NULL)," \
	" (2, 2, 1, 2, NULL, NULL, NULL, '旧房间的消息: a movie 电影', NULL, NULL)," \
	" (3, 3, 1, NULL, 2, 1, 2, '私聊说电影', NULL, NULL)," \
	" (4, 4, 2, 1, NULL, NULL, NULL, '', 'image', 1);" \
	"INSERT INTO messages(id, ts, sender_id, room_id, text, edited, changed) VALUES" \
	" (5, 5, 2, 1, '改过以后的电影评论', 6, 1);" \
	"INSERT INTO messages(id, ts, sender_id, room_id, text, recalled, changed) VALUES" \
	" (6, 6, 2, 1, '', 7, 2);"

/* A database as the pierd before search left it: users, a room, messages of every kind. */
static bool make_old_database(struct env *e)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	bool ok;

	snprintf(e->path, sizeof(e->path), "%s/pier.db", e->dir);
	if (!CHECK(sqlite3_open(e->path, &db) == SQLITE_OK, "create the old database"))
		return false;
	ok = CHECK(store_schema_migrate_to(db, STORE_SCHEMA_SEARCH_VERSION - 1, &err) == 0,
	           "schema before search: %s", err != NULL ? err : "");
	free(err);
	ok = ok && exec(db, OLD_ROWS);
	sqlite3_close(db);
	return ok;
}

/* PostgreSQL: the same rows, written behind the open store's back (the triggers queue the
 * messages for the index, as the migration step queues those a database holds), with the
 * counters and identities moved past them. */
static bool write_old_rows(struct env *e)
{
	return raw(e, OLD_ROWS) &&
	       raw(e, "UPDATE counters SET value = 6 WHERE name = 'msg';"
	              "UPDATE counters SET value = 2 WHERE name = 'change';"
	              "SELECT setval(pg_get_serial_sequence('users', 'id'), 10);"
	              "SELECT setval(pg_get_serial_sequence('rooms', 'id'), 10);"
	              "SELECT setval(pg_get_serial_sequence('media', 'id'), 10)");
}

static struct store_job search(struct env *e, int64_t user, const char *q, const char *room,
                               int64_t peer, int64_t before, int limit)
{
	struct store_job j;

	store_job_init(&j, STORE_SEARCH);
	j.user_id = user;
	j.text = q;
	j.room = room;
	j.peer_id = peer;
	j.before = before;
	j.limit = limit;
	run(e, &j);
	return j;
}

/* The ids found, newest first, as "4 3 1" ("!" when the job failed). */
static const char *ids(struct store_job *j)
{
	static char buf[1024];
	size_t len = 0;

	buf[0] = '\0';
	if (j->status != STORE_OK)
		return "!";
	for (size_t i = 0; i < j->nmsgs && len < sizeof(buf) - 24; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%" PRId64, i ? " " : "",
		                        j->msgs[i].id);
	return buf;
}

#define FOUND(e, user, q, want) do { \
		struct store_job j_ = search((e), (user), (q), NULL, 0, 0, 50); \
		CHECK(strcmp(ids(&j_), (want)) == 0, "user %d finds %s in [%s], want [%s]", (user), \
		      (q), ids(&j_), (want)); \
		store_job_release(&j_); \
	} while (0)

static void test_migration(struct env *e)
{
	struct store_job j;

	/* everything stored before the index existed is found; each user sees its own scope */
	FOUND(e, ALICE, "电影", "5 3 2 1");
	FOUND(e, BOB, "电影", "5 3 1");        /* not in #Old */
	FOUND(e, CAROL, "电影", "5 1");        /* neither in #Old nor in alice-bob */
	FOUND(e, CAROL, "评论", "5");          /* an edited one by what it says now */
	FOUND(e, ALICE, "movie", "2");
	FOUND(e, CAROL, "movie", "");
	/* a media message is found by its file's name, highlighted there */
	j = search(e, CAROL, "照片", NULL, 0, 0, 50);
	CHECK(strcmp(ids(&j), "4") == 0 && j.msgs[0].nspans == 0 && j.msgs[0].nname_spans == 1 &&
	      j.msgs[0].name_spans[0].start == 2 && j.msgs[0].name_spans[0].end == 4,
	      "file name match: [%s]", ids(&j));
	store_job_release(&j);
	/* the highlight: code points of the text */
	j = search(e, ALICE, "电影", NULL, 0, 0, 50);
	CHECK(j.nmsgs == 4 && j.msgs[3].nspans == 1 && j.msgs[3].spans[0].start == 6 &&
	      j.msgs[3].spans[0].end == 8, "span of 电影 in 迁移之前看的电影");
	CHECK(j.nmsgs == 4 && j.msgs[0].name_spans == NULL, "no name spans without media");
	CHECK(j.nmsgs == 4 && j.msgs[0].edited == 6 && j.msgs[0].changed == 1,
	      "a match carries what history does (edited, changed)");
	store_job_release(&j);
}

static int64_t append(struct env *e, int64_t from, const char *room, int64_t peer, const char *text)
{
	struct store_job j;
	int64_t id;

	store_job_init(&j, STORE_APPEND);
	j.user_id = from;
	j.room = room;
	j.peer_id = peer;
	j.text = text;
	j.ts = T0;
	CHECK(run(e, &j) == STORE_OK, "append %s", text);
	id = j.msg_id;
	store_job_release(&j);
	return id;
}

static void test_new_and_scope(struct env *e)
{
	struct store_job j;
	char want[64];
	int64_t lobby, old, pm_ac, pm_bc;
	bool ok;

	lobby = append(e, BOB, "#lobby", 0, "我们明天去看电影院的新片吧");
	old = append(e, ALICE, "#Old", 0, "电影院 in #Old");
	pm_ac = append(e, ALICE, NULL, CAROL, "电影院见 (alice to carol)");
	pm_bc = append(e, BOB, NULL, CAROL, "电影院? bob to carol");
	/* found at once: a search indexes first whatever waits */
	snprintf(want, sizeof(want), "%" PRId64 " %" PRId64 " %" PRId64, pm_ac, old, lobby);
	FOUND(e, ALICE, "电影院", want);
	snprintf(want, sizeof(want), "%" PRId64 " %" PRId64, pm_bc, lobby);
	FOUND(e, BOB, "电影院", want);
	snprintf(want, sizeof(want), "%" PRId64 " %" PRId64 " %" PRId64, pm_bc, pm_ac, lobby);
	FOUND(e, CAROL, "电影院", want);

	/* one conversation: a room, a private one */
	j = search(e, ALICE, "电影院", "#old", 0, 0, 50);
	snprintf(want, sizeof(want), "%" PRId64, old);
	CHECK(strcmp(ids(&j), want) == 0, "in #Old: [%s]", ids(&j));
	store_job_release(&j);
	j = search(e, CAROL, "电影院", NULL, BOB, 0, 50);
	snprintf(want, sizeof(want), "%" PRId64, pm_bc);
	CHECK(strcmp(ids(&j), want) == 0, "carol with bob: [%s]", ids(&j));
	store_job_release(&j);
	j = search(e, ALICE, "电影", NULL, BOB, 0, 50);
	CHECK(strcmp(ids(&j), "3") == 0, "alice with bob: [%s]", ids(&j));
	store_job_release(&j);
	j = search(e, ALICE, "电影", "#nosuchroom", 0, 0, 50);
	CHECK(j.status == STORE_NOT_FOUND, "a room that does not exist");
	store_job_release(&j);

	/* leaving a room: its messages are no longer found */
	store_job_init(&j, STORE_PART);
	j.user_id = ALICE;
	j.room = "#Old";
	CHECK(run(e, &j) == STORE_OK, "alice leaves #Old");
	store_job_release(&j);
	j = search(e, ALICE, "movie", NULL, 0, 0, 50);
	ok = strcmp(ids(&j), "") == 0;
	CHECK(ok, "after leaving: [%s]", ids(&j));
	store_job_release(&j);

	/* a query that does not parse fails the job (the server checks queries before) */
	j = search(e, ALICE, "a", NULL, 0, 0, 50);
	CHECK(j.status == STORE_FAILED && j.msgs == NULL, "a too short query fails");
	store_job_release(&j);
}

/* SQLite: FTS5's own check of its index. */
static void integrity_check(struct env *e)
{
	if (e->server == NULL)
		exec(e->raw, "INSERT INTO message_fts(message_fts) VALUES('integrity-check')");
}

/* Changes through another connection: the triggers keep the index in step. */
static void test_triggers(struct env *e)
{
	int64_t id = append(e, BOB, "#lobby", 0, "original words here");
	char sql[256], want[32];

	snprintf(want, sizeof(want), "%" PRId64, id);
	FOUND(e, CAROL, "original", want);
	snprintf(sql, sizeof(sql), "UPDATE messages SET text = 'edited sentence' WHERE id = %" PRId64, id);
	raw(e, sql);
	FOUND(e, CAROL, "original", "");
	FOUND(e, CAROL, "edited", want);
	snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE id = %" PRId64, id);
	raw(e, sql);
	FOUND(e, CAROL, "edited", "");
	integrity_check(e);
}

/* Bytes of the database's files (the main file and its WAL) that hold needle. */
static bool in_files(struct env *e, const char *needle)
{
	static const char *const suffix[] = { "", "-wal" };
	bool found = false;

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]) && !found; i++) {
		char path[160];
		FILE *f;
		char *data;
		long n;

		snprintf(path, sizeof(path), "%s%s", e->path, suffix[i]);
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		data = n > 0 ? malloc((size_t)n) : NULL;
		if (data != NULL && fread(data, 1, (size_t)n, f) == (size_t)n)
			found = memmem(data, (size_t)n, needle, strlen(needle)) != NULL;
		free(data);
		fclose(f);
	}
	return found;
}

static enum store_status change(struct env *e, enum store_op op, int64_t user, int64_t id,
                                const char *text, int64_t ts)
{
	struct store_job j;
	enum store_status st;

	store_job_init(&j, op);
	j.user_id = user;
	j.msg_id = id;
	j.text = text;
	j.ts = ts;
	j.window_ms = 120000;
	st = run(e, &j);
	store_job_release(&j);
	return st;
}

/* The store's own edit and recall: an edit's old words are no longer found and its new ones
 * are; a recalled message is found by nobody, its sender included. What a recall leaves in
 * the index's pages (FTS5 delete markers on SQLite 3.40, docs/SECURITY.md) is gone once the
 * merges FTS5 does as messages keep coming have reached it. */
static void test_edit_recall(struct env *e)
{
	/* a word no other message has, to look for in the file (its last letters: FTS5 stores a
	 * term after the prefix it shares with the one before it) */
	static const char *const word = "zebrafinchquartz", *tail = "finchquartz";
	int64_t id = append(e, ALICE, "#lobby", 0, "暗号是蓝色的鲸鱼 oldsecretword");
	struct store_job j;
	char want[32];
	int batches = 0;

	snprintf(want, sizeof(want), "%" PRId64, id);
	FOUND(e, BOB, "蓝色的鲸鱼", want);
	FOUND(e, ALICE, "oldsecretword", want);
	CHECK(change(e, STORE_EDIT, ALICE, id, "口令改成红色的狐狸 zebrafinchquartz", T0 + 500) ==
	      STORE_OK, "alice edits it");
	FOUND(e, BOB, "鲸鱼", "");
	FOUND(e, BOB, "oldsecretword", "");
	FOUND(e, BOB, "红色的狐狸", want);
	j = search(e, BOB, word, NULL, 0, 0, 50);
	CHECK(j.nmsgs == 1 && j.msgs[0].edited == T0 + 500 &&
	      strcmp(j.msgs[0].text, "口令改成红色的狐狸 zebrafinchquartz") == 0 &&
	      j.msgs[0].nspans == 1 && j.msgs[0].spans[0].start == 10 && j.msgs[0].spans[0].end == 26,
	      "the new text, marked, edited: [%s]", ids(&j));
	store_job_release(&j);

	CHECK(change(e, STORE_RECALL, ALICE, id, NULL, T0 + 1000) == STORE_OK, "alice recalls it");
	FOUND(e, ALICE, "狐狸", "");
	FOUND(e, ALICE, word, "");
	FOUND(e, BOB, "红色", "");
	j = search(e, ALICE, "狐狸", "#lobby", 0, 0, 50);
	CHECK(j.status == STORE_OK && j.nmsgs == 0, "nor in its conversation: [%s]", ids(&j));
	store_job_release(&j);
	integrity_check(e);
	if (e->server != NULL) {
		char sql[128];

		/* PostgreSQL: the message's row of the index is deleted with the recall (its dead
		 * tuple goes at the next vacuum, like every deleted row's) */
		snprintf(sql, sizeof sql, "SELECT count(*) FROM message_search WHERE message_id = %"
		         PRId64, id);
		CHECK(raw_int(e, sql) == 0, "the recalled message is out of the index");
		return;
	}

	/* The index's pages: on SQLite 3.40 FTS5 forgets a row by writing delete markers that
	 * hold its terms, beside the entries themselves, until a merge combines the segments that
	 * hold them (then both go, and secure_delete zeroes the freed pages). A recall concerns
	 * a message minutes old, in the newest segments, which the next merges take. Both facts
	 * are pinned here: when FTS5 deletes at once (its secure-delete, SQLite 3.42), the first
	 * check fails and docs/SECURITY.md says too much. */
	exec(e->raw, "PRAGMA wal_checkpoint(TRUNCATE)");
	CHECK(in_files(e, tail), "right after the recall its words are still in the index's pages");
	/* new messages are indexed STORE_FTS_BATCH at a time (each step a new segment, and the
	 * merges with it), so the traffic comes in rounds of 128 */
	while (in_files(e, tail) && batches < 64) {
		for (int i = 0; i < 128; i++)
			append(e, BOB, "#lobby", 0, "后来的消息 later traffic");
		batches++;
		exec(e->raw, "PRAGMA wal_checkpoint(TRUNCATE)");
	}
	CHECK(!in_files(e, tail), "gone from the file after %d messages", batches * 128);
	printf("# the recalled words left the file after %d more messages\n", batches * 128);
}

struct pair_done {
	int n;
};

static void on_done_count(struct store_job *job)
{
	((struct pair_done *)job->data)->n++;
}

/* Runs a and then b in one batch: the write lock (PostgreSQL: the message counter's row) is
 * held elsewhere while a barrier (an append) waits for it, so that the two queue up behind the
 * barrier and are taken together. */
static void run_in_one_batch(struct env *e, struct store_job *a, struct store_job *b)
{
	struct timespec pause = { 0, 150 * 1000 * 1000 };
	struct store_job barrier;
	struct pair_done d = { 0 };

	if (e->server != NULL) {
		/* PostgreSQL: the barrier is an append that waits for the message counter's row
		 * (locked here, well within the store's lock timeout) */
		store_job_init(&barrier, STORE_APPEND);
		barrier.user_id = BOB;
		barrier.room = "#lobby";
		barrier.text = "a batch before";
		raw(e, "BEGIN; SELECT value FROM counters WHERE name = 'msg' FOR UPDATE");
	} else {
		store_job_init(&barrier, STORE_BARRIER);
		exec(e->raw, "BEGIN IMMEDIATE");
	}
	barrier.done = a->done = b->done = on_done_count;
	barrier.data = a->data = b->data = &d;
	store_submit(e->st, &barrier);
	nanosleep(&pause, NULL);
	store_submit(e->st, a);
	store_submit(e->st, b);
	nanosleep(&pause, NULL);
	raw(e, "ROLLBACK");
	while (d.n < 3)
		uv_run(&e->loop, UV_RUN_ONCE);
	CHECK(barrier.status == STORE_OK, "the batch before");
	store_job_release(&barrier);
}

/* SQLite: n private appends alice -> bob (bad: one of them to a user that does not exist), then
 * tail if not NULL, in one batch, taken together behind a barrier while the write lock is held
 * elsewhere. */
#define BUSY_N 100
static void run_busy_batch(struct env *e, struct store_job *jobs, char (*texts)[48], int bad,
                           struct store_job *tail)
{
	struct store_job *p[BUSY_N + 1];
	size_t n = 0;

	for (int i = 0; i < BUSY_N; i++) {
		store_job_init(&jobs[i], STORE_APPEND);
		jobs[i].user_id = ALICE;
		jobs[i].peer_id = i == bad ? 999999 : BOB;
		snprintf(texts[i], sizeof texts[i], "busyword n%d", i);
		jobs[i].text = texts[i];
		jobs[i].ts = T0;
		p[n++] = &jobs[i];
	}
	if (tail != NULL)
		p[n++] = tail;
	storetest_run_batch(&e->loop, e->st, e->raw, p, n);
}

/* SQLite, a busy store: a batch of many appends is not indexed at its end (the index waits for
 * STORE_FTS_BATCH messages), but a search indexes first and finds every one; a plain private
 * append that fails (no such recipient: it runs without a savepoint) leaves nothing, the
 * others of its batch are stored; what is left unindexed when the store closes is indexed
 * then, and a store opened on it finds it too. */
static void test_busy_index(struct env *e)
{
	static struct store_job jobs[BUSY_N];
	static char texts[BUSY_N][48];
	struct store_options opt = { .no_sync = true };
	int64_t before = raw_int(e, "SELECT count(*) FROM messages"), last = 0, first, second;
	char *err = NULL, want[72];
	bool ok = true;
	struct store_job h;

	if (e->server != NULL)
		return;
	/* a read behind the appends, in their batch, sees them (their rows are written
	 * several to a statement, before any other job runs) */
	store_job_init(&h, STORE_HISTORY);
	h.user_id = BOB;
	h.peer_id = ALICE;
	h.limit = 3;
	run_busy_batch(e, jobs, texts, 40, &h);
	CHECK(h.status == STORE_OK && h.nmsgs == 3 && h.msgs[2].id == jobs[BUSY_N - 1].msg_id &&
	      h.msgs[1].id == jobs[BUSY_N - 2].msg_id && strcmp(h.msgs[2].text, "busyword n99") == 0,
	      "a history read in the same batch sees the last ones (%zu)", h.nmsgs);
	store_job_release(&h);
	for (int i = 0; i < BUSY_N; i++) {
		if (i == 40)
			ok = ok && jobs[i].status == STORE_NOT_FOUND;
		else
			ok = ok && jobs[i].status == STORE_OK && jobs[i].msg_id > last;
		if (i != 40)
			last = jobs[i].msg_id;
		store_job_release(&jobs[i]);
	}
	CHECK(ok, "99 stored in order, the one to nobody not found");
	CHECK(raw_int(e, "SELECT count(*) FROM messages") == before + BUSY_N - 1,
	      "the failed append left no row");
	CHECK(raw_int(e, "SELECT count(*) FROM messages WHERE recipient_id = 999999") == 0,
	      "nothing to the missing user");
	CHECK(raw_int(e, "SELECT upto FROM message_fts_state") < last,
	      "a busy batch leaves its messages to a later indexing step");
	snprintf(want, sizeof want, "%" PRId64, last);
	FOUND(e, BOB, "n99", want);
	CHECK(raw_int(e, "SELECT upto FROM message_fts_state") == last, "the search indexed them");

	first = last;
	run_busy_batch(e, jobs, texts, -1, NULL);
	last = jobs[BUSY_N - 1].msg_id;
	for (int i = 0; i < BUSY_N; i++)
		store_job_release(&jobs[i]);
	CHECK(raw_int(e, "SELECT upto FROM message_fts_state") < last, "the second one waits too");
	store_close(e->st);
	CHECK(raw_int(e, "SELECT upto FROM message_fts_state") == last,
	      "closing the store indexed what waited");
	integrity_check(e);
	/* a message stored but never indexed (as a pierd that died would leave it): the first
	 * batch after the next start indexes it, whatever the batch holds */
	raw(e, "INSERT INTO messages(ts, sender_id, recipient_id, pair_lo, pair_hi, text) "
	       "VALUES(1, 1, 2, 1, 2, 'left unindexed n99')");
	second = last;
	last = raw_int(e, "SELECT max(id) FROM messages");
	e->st = store_open(&e->loop, e->dir, &opt, &err);
	CHECK(e->st != NULL, "store_open again: %s", err != NULL ? err : "");
	free(err);
	if (e->st == NULL)
		return;
	{
		struct store_job barrier;

		store_job_init(&barrier, STORE_BARRIER);
		run(e, &barrier);
		store_job_release(&barrier);
	}
	CHECK(raw_int(e, "SELECT upto FROM message_fts_state") == last,
	      "the first batch after the start indexed what a previous run left");
	snprintf(want, sizeof want, "%" PRId64 " %" PRId64 " %" PRId64, last, second, first);
	FOUND(e, BOB, "n99", want);
}

/* A search queued right behind a send (one batch) finds it; a message stored outside the
 * store (not indexed yet) and changed before anything indexed it is found as it is now. */
static void test_same_batch(struct env *e)
{
	struct store_job a, s;
	char want[32];

	store_job_init(&a, STORE_APPEND);
	a.user_id = BOB;
	a.room = "#lobby";
	a.text = "同一批次的搜索";
	a.ts = T0;
	store_job_init(&s, STORE_SEARCH);
	s.user_id = CAROL;
	s.text = "批次";
	s.limit = 10;
	run_in_one_batch(e, &a, &s);
	CHECK(a.status == STORE_OK && s.status == STORE_OK && s.nmsgs == 1 &&
	      s.msgs[0].id == a.msg_id, "the search behind the send finds it (%zu)", s.nmsgs);
	store_job_release(&a);
	store_job_release(&s);

	/* a search that fails (rolled back to its savepoint, its indexing with it) behind a send
	 * in one batch: the send is not lost to the index. SQLite leaves it pending (upto below it:
	 * the rollback took the step back, and the next indexing step or search takes it);
	 * PostgreSQL indexes it with its row. Either way the next search finds it. */
	{
		char sql[160];
		int64_t upto = -1;
		struct store_job f;

		store_job_init(&a, STORE_APPEND);
		a.user_id = BOB;
		a.room = "#lobby";
		a.text = "后面的搜索失败了";
		a.ts = T0;
		store_job_init(&s, STORE_SEARCH);
		s.user_id = CAROL;
		s.text = "失败";
		s.room = "#nosuchroom";
		s.limit = 10;
		run_in_one_batch(e, &a, &s);
		if (e->server == NULL) {
			upto = raw_int(e, "SELECT upto FROM message_fts_state");
			CHECK(upto < a.msg_id, "left pending (upto %lld, id %lld)", (long long)upto,
			      (long long)a.msg_id);
		} else {
			/* PostgreSQL: its row of the index is there */
			snprintf(sql, sizeof sql, "SELECT CASE WHEN EXISTS (SELECT 1 FROM message_search "
			         "WHERE message_id = %" PRId64 ") THEN %" PRId64 " ELSE 0 END",
			         a.msg_id, a.msg_id);
			upto = raw_int(e, sql);
			CHECK(upto >= a.msg_id, "indexed with its row (upto %lld, id %lld)",
			      (long long)upto, (long long)a.msg_id);
		}
		CHECK(a.status == STORE_OK && s.status == STORE_NOT_FOUND,
		      "the send is stored, the search refused (%d, %d)", (int)a.status, (int)s.status);
		f = search(e, CAROL, "失败", "#lobby", 0, 0, 10);
		CHECK(f.status == STORE_OK && f.nmsgs == 1 && f.msgs[0].id == a.msg_id,
		      "the next search finds the send although the search behind it failed [%s]",
		      ids(&f));
		store_job_release(&f);
		store_job_release(&a);
		store_job_release(&s);
	}

	if (e->server == NULL)
		raw(e, "INSERT INTO messages(ts, sender_id, room_id, text) VALUES(1, 2, 1, 'unindexed draft')");
	else
		raw(e, "WITH c AS (UPDATE counters SET value = value + 1 WHERE name = 'msg' "
		       "RETURNING value) INSERT INTO messages(id, ts, sender_id, room_id, text) "
		       "SELECT value, 1, 2, 1, 'unindexed draft' FROM c");
	raw(e, "UPDATE messages SET text = 'unindexed final' WHERE text = 'unindexed draft'");
	snprintf(want, sizeof(want), "%lld",
	         (long long)raw_int(e, "SELECT id FROM messages WHERE text = 'unindexed final'"));
	FOUND(e, CAROL, "draft", "");
	FOUND(e, CAROL, "final", want);
	integrity_check(e);
}

/* Pages newest first; every match once; more false at the end. */
static void test_paging(struct env *e)
{
	int64_t sent[30], before = 0;
	int got = 0, pages = 0;
	bool in_order = true, more = true;

	for (int i = 0; i < 30; i++)
		sent[i] = append(e, BOB, "#lobby", 0, i % 2 ? "页码测试 odd" : "页码测试 even");
	while (more && pages < 10) {
		struct store_job j = search(e, CAROL, "页码", NULL, 0, before, 7);

		pages++;
		for (size_t i = 0; i < j.nmsgs; i++, got++)
			in_order = in_order && got < 30 && j.msgs[i].id == sent[29 - got];
		more = j.more;
		CHECK(!more || j.next_before == j.msgs[j.nmsgs - 1].id, "next_before is the last id");
		before = j.next_before;
		store_job_release(&j);
	}
	CHECK(got == 30 && pages == 5 && in_order, "30 matches in 5 pages of 7, newest first: %d in %d",
	      got, pages);
}

/* Matches the user may not read cost at most STORE_SEARCH_SCAN_MAX rows a job. */
static void test_scan_bound(struct env *e)
{
	char sql[512];
	struct store_job j;
	int64_t first = 0;

	/* the room bob left again: bob rejoins, stores many, carol is not in it */
	if (e->server == NULL)
		snprintf(sql, sizeof(sql),
		         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
		         "INSERT INTO messages(ts, sender_id, room_id, text) "
		         "SELECT %lld, 1, 2, 'hidden needle ' || i FROM n",
		         STORE_SEARCH_SCAN_MAX + 50, T0);
	else
		snprintf(sql, sizeof(sql),
		         "WITH c AS (UPDATE counters SET value = value + %d WHERE name = 'msg' "
		         "RETURNING value - %d AS base) INSERT INTO messages(id, ts, sender_id, room_id, "
		         "text) SELECT c.base + i, %lld, 1, 2, 'hidden needle ' || i "
		         "FROM c, generate_series(1, %d) AS i",
		         STORE_SEARCH_SCAN_MAX + 50, STORE_SEARCH_SCAN_MAX + 50, T0,
		         STORE_SEARCH_SCAN_MAX + 50);
	raw(e, "BEGIN");
	raw(e, sql);
	raw(e, "COMMIT");
	first = raw_int(e, "SELECT min(id) FROM messages WHERE text LIKE 'hidden needle%'");

	j = search(e, CAROL, "needle", NULL, 0, 0, 50);
	CHECK(j.status == STORE_OK && j.nmsgs == 0 && j.more &&
	      j.next_before == first + 50, "carol: nothing, more, next_before after %d looked at "
	      "(%" PRId64 ", first %" PRId64 ")", STORE_SEARCH_SCAN_MAX, j.next_before, first);
	store_job_release(&j);
	j = search(e, CAROL, "needle", NULL, 0, first + 50, 50);
	CHECK(j.status == STORE_OK && j.nmsgs == 0 && !j.more, "carol, the rest: nothing, no more");
	store_job_release(&j);
}

/* A phrase whose words are in many messages but never together: no match on either back end.
 * SQLite's FTS5 checks positions in its index and says so at once; PostgreSQL reads each such
 * candidate and stops after 2 * STORE_SEARCH_SCAN_MAX of them (store_pg_search.c), saying
 * where to go on, so that a request's cost stays bounded; the pages after it end the walk. */
static void test_phrase_bound(struct env *e)
{
	enum { N = 2 * STORE_SEARCH_SCAN_MAX + 50 };
	char sql[512];
	struct store_job j;
	int64_t first, pages = 0;
	bool more;

	if (e->server == NULL)
		snprintf(sql, sizeof(sql),
		         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
		         "INSERT INTO messages(ts, sender_id, room_id, text) "
		         "SELECT %lld, 2, 1, 'zyxalpha and zyxbeta ' || i FROM n", N, T0);
	else
		snprintf(sql, sizeof(sql),
		         "WITH c AS (UPDATE counters SET value = value + %d WHERE name = 'msg' "
		         "RETURNING value - %d AS base) INSERT INTO messages(id, ts, sender_id, room_id, "
		         "text) SELECT c.base + i, %lld, 2, 1, 'zyxalpha and zyxbeta ' || i "
		         "FROM c, generate_series(1, %d) AS i", N, N, T0, N);
	raw(e, "BEGIN");
	raw(e, sql);
	raw(e, "COMMIT");
	first = raw_int(e, "SELECT min(id) FROM messages WHERE text LIKE 'zyxalpha and%'");
	j = search(e, CAROL, "\"zyxbeta zyxalpha\"", NULL, 0, 0, 50);
	more = j.more;
	if (e->server == NULL) {
		CHECK(j.status == STORE_OK && j.nmsgs == 0 && !more,
		      "sqlite: the phrase is nowhere, at once");
	} else {
		CHECK(j.status == STORE_OK && j.nmsgs == 0 && more &&
		      j.next_before == first + N - 2 * STORE_SEARCH_SCAN_MAX,
		      "postgresql: nothing, more, below the last of %d candidates (%" PRId64 ")",
		      2 * STORE_SEARCH_SCAN_MAX, j.next_before);
	}
	while (more && pages < 5) {
		int64_t before = j.next_before;

		store_job_release(&j);
		j = search(e, CAROL, "\"zyxbeta zyxalpha\"", NULL, 0, before, 50);
		more = j.more;
		pages++;
	}
	CHECK(j.status == STORE_OK && j.nmsgs == 0 && !more,
	      "the walk ends with nothing found (%" PRId64 " more pages)", pages);
	store_job_release(&j);
}

int main(void)
{
	struct env e;
	char *err = NULL;

	memset(&e, 0, sizeof(e));
	snprintf(e.dir, sizeof(e.dir), "/tmp/pier-search-XXXXXX");
	if (!CHECK(mkdtemp(e.dir) != NULL, "mkdtemp"))
		return tap_done();
	uv_loop_init(&e.loop);
	e.server = storetest_pg_server();
	if (e.server != NULL) {
		struct store_options opt = { .no_sync = true, .url = e.url };

		if (storetest_pg_create(e.server, e.db, e.url, sizeof e.url) == 0) {
			e.st = store_open(&e.loop, e.dir, &opt, &err);
			CHECK(e.st != NULL, "store_open (postgresql): %s", err != NULL ? err : "");
			free(err);
		}
		if (e.st != NULL) {
			e.pg = storetest_pg_open(e.url, "SELECT 1");
			if (e.pg == NULL || !write_old_rows(&e)) {
				store_close(e.st);
				e.st = NULL;
			}
		}
	} else if (make_old_database(&e)) {
		struct store_options opt = { .no_sync = true };

		e.st = store_open(&e.loop, e.dir, &opt, &err);
		CHECK(e.st != NULL, "store_open migrates: %s", err != NULL ? err : "");
		free(err);
		if (e.st != NULL) {
			CHECK(sqlite3_open(e.path, &e.raw) == SQLITE_OK, "a second connection");
			sqlite3_busy_timeout(e.raw, 5000);
			err = NULL;
			CHECK(store_fts_register(e.raw, &err) == 0, "the tokenizer on it: %s",
			      err ? err : "");
			free(err);
		}
	}
	if (e.st != NULL) {
		test_migration(&e);
		test_new_and_scope(&e);
		test_triggers(&e);
		test_edit_recall(&e);
		test_same_batch(&e);
		test_paging(&e);
		test_scan_bound(&e);
		test_phrase_bound(&e);
		test_busy_index(&e);
		if (e.st != NULL)
			store_close(e.st);
	}
	uv_run(&e.loop, UV_RUN_NOWAIT);
	sqlite3_close(e.raw);
	if (e.pg != NULL)
		storetest_pg_close(e.pg);
	CHECK(uv_loop_close(&e.loop) == 0, "no handle left on the loop");
	storetest_remove_dir(e.dir);
	if (e.server != NULL && e.db[0] != '\0')
		storetest_pg_drop(e.server, e.db);
	return tap_done();
}
