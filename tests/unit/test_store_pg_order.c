/* test_store_pg_order.c - ids by commit order with two writers on one database (docs/CLUSTER.md,
 * "Ids"): two stores (two nodes' connections) append at once in many small batches while a
 * third pages through STREAM "after X" as a node's sequencer does. The reader must see every
 * acked message exactly once, in id order, never skipping one that commits later below its
 * cursor; each writer's ids grow in its submission order; on PostgreSQL the ids are dense.
 * And a message resent with its cid through the other store at once is stored once.
 * With PIER_TEST_STORE=postgresql://... on a new database of that server, else on one SQLite
 * file shared by the three stores. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "storetest.h"
#include "tap.h"

#define PER_WRITER 1500
#define BATCH 8            /* small batches: many transactions to interleave */
#define PAGE 37

struct writer {
	struct store *st;
	struct store_job *jobs;
	size_t done;
	int64_t last_id;
	int out_of_order, failed;
};

struct reader {
	struct store *st;
	struct store_job job;
	int64_t cursor;
	int64_t *seen;         /* ids in the order read */
	size_t nseen, cap;
	bool stop;             /* the writers are done: one more empty page ends it */
	bool last;             /* the page in flight was asked for after stop */
	bool finished;
	int pages, bad_order;
};

static void on_append(struct store_job *job)
{
	struct writer *w = job->data;

	w->done++;
	if (job->status != STORE_OK) {
		w->failed++;
		return;
	}
	if (job->msg_id <= w->last_id)
		w->out_of_order++;
	w->last_id = job->msg_id;
}

static void read_next(struct reader *r);

static void on_page(struct store_job *job)
{
	struct reader *r = job->data;
	bool empty = job->nmsgs == 0;

	r->pages++;
	for (size_t i = 0; job->status == STORE_OK && i < job->nmsgs; i++) {
		int64_t id = job->msgs[i].id;

		if (id <= r->cursor)
			r->bad_order++;
		r->cursor = id;
		if (r->nseen == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 1024;
			r->seen = realloc(r->seen, r->cap * sizeof *r->seen);
		}
		r->seen[r->nseen++] = id;
	}
	store_job_release(job);
	if (r->last && empty && !job->more) {
		r->finished = true;
		return;
	}
	read_next(r);
}

static void read_next(struct reader *r)
{
	r->last = r->stop;    /* a page asked before might predate the last commits */
	store_job_init(&r->job, STORE_STREAM);
	r->job.after = r->cursor;
	r->job.limit = PAGE;
	r->job.done = on_page;
	r->job.data = r;
	store_submit(r->st, &r->job);
}

static struct store *open_store(uv_loop_t *loop, const char *dir, const char *url)
{
	struct store_options o = { .url = url, .max_batch = BATCH, .no_sync = true };
	char *err = NULL;
	struct store *st = store_open(loop, dir, &o, &err);

	CHECK(st != NULL, "store_open: %s", err != NULL ? err : "?");
	free(err);
	return st;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void run(uv_loop_t *loop, struct store *a, struct store *b, struct store *c, bool pg)
{
	struct writer w[2] = { { .st = a }, { .st = b } };
	struct reader r = { .st = c };
	struct store_job u;
	int64_t user = 0, *acked;
	size_t nacked = 0;
	bool done = false;

	store_job_init(&u, STORE_CREATE_USER);
	u.name = "orderly";
	u.pw_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
	CHECK(storetest_run(loop, a, &u) == STORE_OK, "create the writer's user");
	user = u.user_id;
	store_job_release(&u);

	/* The reader starts first and pages all along; the writers alternate their submissions. */
	read_next(&r);
	for (int i = 0; i < 2; i++)
		w[i].jobs = calloc(PER_WRITER, sizeof *w[i].jobs);
	for (int n = 0; n < PER_WRITER; n++) {
		for (int i = 0; i < 2; i++) {
			struct store_job *j = &w[i].jobs[n];

			store_job_init(j, STORE_APPEND);
			j->user_id = user;
			j->room = "#lobby";
			j->text = i == 0 ? "from A" : "from B";
			j->done = on_append;
			j->data = &w[i];
			store_submit(w[i].st, j);
		}
		if (n % 50 == 0)
			uv_run(loop, UV_RUN_NOWAIT);
	}
	while (w[0].done < PER_WRITER || w[1].done < PER_WRITER)
		uv_run(loop, UV_RUN_ONCE);
	r.stop = true;
	while (!r.finished)
		uv_run(loop, UV_RUN_ONCE);

	acked = calloc(2 * PER_WRITER, sizeof *acked);
	for (int i = 0; i < 2; i++) {
		CHECK(w[i].failed == 0, "writer %d: every append acked (%d failed)", i, w[i].failed);
		CHECK(w[i].out_of_order == 0, "writer %d: ids grow in submission order", i);
		for (int n = 0; n < PER_WRITER; n++) {
			if (w[i].jobs[n].status == STORE_OK)
				acked[nacked++] = w[i].jobs[n].msg_id;
			store_job_release(&w[i].jobs[n]);
		}
		free(w[i].jobs);
	}
	qsort(acked, nacked, sizeof *acked, cmp_id);
	CHECK(r.bad_order == 0, "the reader saw ids only ascending");
	CHECK(r.nseen == nacked, "the reader saw %zu messages, %zu were acked", r.nseen, nacked);
	if (r.nseen == nacked)
		done = memcmp(r.seen, acked, nacked * sizeof *acked) == 0;
	CHECK(done, "the reader saw exactly the acked ids: none skipped, none twice");
	for (size_t i = 0, k = 0; !done && i < nacked; i++) {
		while (k < r.nseen && r.seen[k] < acked[i])
			k++;
		if (k == r.nseen || r.seen[k] != acked[i])
			printf("# acked %" PRId64 " never read\n", acked[i]);
		if (i > 0 && acked[i] == acked[i - 1])
			printf("# acked %" PRId64 " twice\n", acked[i]);
	}
	if (pg && nacked > 0)
		CHECK(acked[nacked - 1] - acked[0] + 1 == (int64_t)nacked, "ids dense (%" PRId64
		      " .. %" PRId64 " for %zu)", acked[0], acked[nacked - 1], nacked);
	CHECK(r.pages > 2 * PER_WRITER / PAGE / 4, "the reader paged while they wrote (%d pages)",
	      r.pages);
	printf("# %zu appends by two writers, %d reader pages\n", nacked, r.pages);
	free(acked);
	free(r.seen);
}

/* A client's retry reaches the other node: the same (sender, cid) appended through both stores
 * at once is stored once; the other gets STORE_DUPLICATE with the original's id. A room
 * message (PostgreSQL's pipeline) and a private one (its ordinary path). */
static void test_retry_elsewhere(uv_loop_t *loop, struct store *a, struct store *b)
{
	struct store_job u, j[2];
	int64_t peer;
	bool done[2];

	int64_t sender;

	store_job_init(&u, STORE_GET_USER);
	u.name = "orderly";
	CHECK(storetest_run(loop, a, &u) == STORE_OK, "the writers' user");
	sender = u.user_id;
	store_job_release(&u);
	store_job_init(&u, STORE_CREATE_USER);
	u.name = "retrier";
	u.pw_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
	CHECK(storetest_run(loop, b, &u) == STORE_OK, "create the peer");
	peer = u.user_id;
	store_job_release(&u);
	for (int round = 0; round < 40; round++) {
		char cid[32];
		int ok = 0, dup = 0;

		snprintf(cid, sizeof cid, "retry-%d", round);
		for (int i = 0; i < 2; i++) {
			store_job_init(&j[i], STORE_APPEND);
			j[i].user_id = sender;
			j[i].room = round % 2 ? NULL : "#lobby";
			j[i].peer_id = peer;
			j[i].text = "once";
			j[i].cid = cid;
			j[i].done = storetest_done_flag;
			done[i] = false;
			j[i].data = &done[i];
		}
		store_submit(a, &j[0]);
		store_submit(b, &j[1]);
		while (!done[0] || !done[1])
			uv_run(loop, UV_RUN_ONCE);
		for (int i = 0; i < 2; i++) {
			ok += j[i].status == STORE_OK;
			dup += j[i].status == STORE_DUPLICATE;
		}
		CHECK(ok == 1 && dup == 1 && j[0].msg_id == j[1].msg_id,
		      "retry %d (%s) through both stores: stored once (%d %d, ids %" PRId64 " %" PRId64
		      ")", round, round % 2 ? "private" : "room", j[0].status, j[1].status,
		      j[0].msg_id, j[1].msg_id);
		for (int i = 0; i < 2; i++)
			store_job_release(&j[i]);
	}
}

int main(void)
{
	uv_loop_t loop;
	char dir[64], name[64], url[512];
	const char *server = storetest_pg_server();
	struct store *a = NULL, *b = NULL, *c = NULL;

	snprintf(dir, sizeof dir, "/tmp/pier-order-XXXXXX");
	if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
		return tap_done();
	uv_loop_init(&loop);
	if (server != NULL) {
		printf("# on PostgreSQL\n");
		if (storetest_pg_create(server, name, url, sizeof url) != 0)
			return tap_done();
	}
	a = open_store(&loop, dir, server != NULL ? url : NULL);
	b = open_store(&loop, dir, server != NULL ? url : NULL);
	c = open_store(&loop, dir, server != NULL ? url : NULL);
	if (a != NULL && b != NULL && c != NULL) {
		run(&loop, a, b, c, server != NULL);
		test_retry_elsewhere(&loop, a, b);
	}
	store_close(a);
	store_close(b);
	store_close(c);
	uv_run(&loop, UV_RUN_NOWAIT);
	CHECK(uv_loop_close(&loop) == 0, "no handle left on the loop");
	storetest_remove_dir(dir);
	if (server != NULL)
		storetest_pg_drop(server, name);
	return tap_done();
}
