/* test_cluster_seq.c - the message sequencer (src/server/cluster/cluster_seq.c): ids offered
 * out of order, twice, never, or past the held bound, with gaps read from a fake store, come
 * out exactly once each and in id order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_seq.h"
#include "tap.h"

#define STORE_MAX 2000

/* A fake store: which ids exist; and what the sequencer did. */
struct world {
	bool exists[STORE_MAX + 1];
	int64_t newest;                 /* ids above this are not visible yet */
	size_t page;                    /* a read returns at most this many */
	int64_t out[STORE_MAX * 2];     /* delivered ids, in order */
	size_t nout;
	long live;                      /* items allocated and not yet delivered or dropped */
	bool read_pending;
	int64_t read_after, read_upto;
	size_t reads;
	const void *delivered_ptr_watch;  /* an item whose delivery is looked for */
	bool watched_delivered;
};

static void *item_new(struct world *w, int64_t id)
{
	int64_t *p = malloc(sizeof(*p));

	*p = id;
	w->live++;
	return p;
}

static void on_deliver(void *ud, int64_t id, void *item)
{
	struct world *w = ud;

	CHECK(*(int64_t *)item == id, "item %lld delivered as %lld", (long long)*(int64_t *)item,
	      (long long)id);
	w->out[w->nout++] = id;
	w->watched_delivered |= item == w->delivered_ptr_watch;
	w->live--;
	free(item);
}

static void on_drop(void *ud, void *item)
{
	struct world *w = ud;

	w->live--;
	free(item);
}

static void on_read(void *ud, int64_t after, int64_t upto)
{
	struct world *w = ud;

	CHECK(!w->read_pending, "one read at a time");
	w->read_pending = true;
	w->read_after = after;
	w->read_upto = upto;
	w->reads++;
}

static const struct cluster_seq_ops ops = { on_deliver, on_drop, on_read };

/* Answers the pending read from the fake store. */
static void answer(struct cluster_seq *s, struct world *w, bool ok)
{
	int64_t ids[STORE_MAX];
	void *items[STORE_MAX];
	size_t n = 0;
	int64_t upto = w->read_upto != 0 && w->read_upto < w->newest ? w->read_upto : w->newest;
	bool more = false;

	if (!w->read_pending)
		return;
	w->read_pending = false;
	for (int64_t id = w->read_after + 1; ok && id <= upto; id++) {
		if (!w->exists[id])
			continue;
		if (n == w->page) {
			more = true;
			break;
		}
		ids[n] = id;
		items[n++] = item_new(w, id);
	}
	cluster_seq_read_done(s, ok, ids, items, n, more);
}

static void world_init(struct world *w, int64_t n, size_t page)
{
	memset(w, 0, sizeof(*w));
	for (int64_t i = 1; i <= n; i++)
		w->exists[i] = true;
	w->newest = n;
	w->page = page;
}

/* The delivered ids are exactly first..last of the existing ones, ascending, once each. */
static bool out_is(const struct world *w, const int64_t *want, size_t n)
{
	if (w->nout != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (w->out[i] != want[i])
			return false;
	}
	return true;
}

static void test_in_order_and_duplicates(void)
{
	struct world w;
	struct cluster_seq s;

	world_init(&w, 5, 10);
	cluster_seq_init(&s, 0, 8, &ops, &w);
	CHECK(cluster_seq_offer(&s, 1, item_new(&w, 1)) == CLUSTER_SEQ_DELIVERED, "1 delivered");
	CHECK(cluster_seq_offer(&s, 2, item_new(&w, 2)) == CLUSTER_SEQ_DELIVERED, "2 delivered");
	CHECK(cluster_seq_offer(&s, 2, item_new(&w, 2)) == CLUSTER_SEQ_DUPLICATE, "2 again dropped");
	CHECK(cluster_seq_offer(&s, 1, item_new(&w, 1)) == CLUSTER_SEQ_DUPLICATE, "1 again dropped");
	CHECK(w.reads == 0, "no read when nothing is missing");
	CHECK(out_is(&w, (int64_t[]){ 1, 2 }, 2), "1, 2 once each");
	CHECK(s.stats.duplicates == 2, "two duplicates counted");
	cluster_seq_release(&s);
	CHECK(w.live == 0, "every item freed");
}

static void test_gap_read(void)
{
	struct world w;
	struct cluster_seq s;

	world_init(&w, 7, 10);
	w.exists[4] = false;                 /* never used (a failed transaction's id) */
	w.newest = 6;                        /* 7 is not committed yet */
	cluster_seq_init(&s, 0, 8, &ops, &w);
	CHECK(cluster_seq_offer(&s, 5, item_new(&w, 5)) == CLUSTER_SEQ_HELD, "5 held");
	CHECK(w.read_pending && w.read_after == 0 && w.read_upto == 4, "gap (0,4] read: (%lld,%lld]",
	      (long long)w.read_after, (long long)w.read_upto);
	CHECK(cluster_seq_offer(&s, 5, item_new(&w, 5)) == CLUSTER_SEQ_HELD, "5 again: held once");
	CHECK(cluster_seq_offer(&s, 1, item_new(&w, 1)) == CLUSTER_SEQ_DELIVERED,
	      "1 from the bus while the read is in flight");
	CHECK(cluster_seq_offer(&s, 6, item_new(&w, 6)) == CLUSTER_SEQ_HELD, "6 held");
	answer(&s, &w, true);
	CHECK(out_is(&w, (int64_t[]){ 1, 2, 3 }, 3), "1 2 3 in order, once each (got %zu)", w.nout);
	CHECK(s.nheld == 2 && !w.read_pending && s.stats.holes == 1,
	      "4 missing: 5 and 6 held, no read until the next poll");
	w.newest = 7;                        /* 7 commits and is signalled */
	cluster_seq_offer(&s, 7, item_new(&w, 7));
	CHECK(!w.read_pending && s.nheld == 3, "a signal meanwhile is held, and starts no read");
	cluster_seq_poll(&s);
	answer(&s, &w, true);
	CHECK(out_is(&w, (int64_t[]){ 1, 2, 3, 5, 6, 7 }, 6), "the poll's read misses 4 too: "
	      "skipped; 5 6 7 follow, once each (got %zu)", w.nout);
	CHECK(s.delivered == 7 && s.nheld == 0 && s.stats.skipped == 1, "id 4 skipped as never used");
	cluster_seq_release(&s);
	CHECK(w.live == 0, "every item freed");
}

static void test_failed_read_and_poll(void)
{
	struct world w;
	struct cluster_seq s;

	world_init(&w, 10, 3);
	cluster_seq_init(&s, 2, 8, &ops, &w);      /* started with 1, 2 in the store */
	cluster_seq_offer(&s, 7, item_new(&w, 7));
	answer(&s, &w, false);
	CHECK(w.nout == 0 && s.nheld == 1, "a failed read delivers nothing, 7 still held");
	cluster_seq_poll(&s);
	CHECK(w.read_pending && w.read_after == 2 && w.read_upto == 0, "the poll reads after 2");
	while (w.read_pending)
		answer(&s, &w, true);
	CHECK(out_is(&w, (int64_t[]){ 3, 4, 5, 6, 7, 8, 9, 10 }, 8),
	      "pages of 3 bring 3..10 in order, 7 once (got %zu)", w.nout);
	/* a lost signal with nothing after it: only the poll finds it */
	w.exists[11] = true;
	w.newest = 11;
	cluster_seq_poll(&s);
	answer(&s, &w, true);
	CHECK(w.nout == 9 && w.out[8] == 11, "the poll finds 11");
	cluster_seq_poll(&s);
	answer(&s, &w, true);
	CHECK(w.nout == 9, "an idle poll delivers nothing");
	cluster_seq_release(&s);
	CHECK(w.live == 0, "every item freed");
}

static void test_held_bound(void)
{
	struct world w;
	struct cluster_seq s;

	world_init(&w, 20, 5);
	cluster_seq_init(&s, 0, 4, &ops, &w);
	for (int64_t id = 20; id >= 2; id--)
		cluster_seq_offer(&s, id, item_new(&w, id));
	CHECK(s.nheld == 4 && s.stats.overflow > 0, "held stays at its bound (%zu)", s.nheld);
	while (w.read_pending)
		answer(&s, &w, true);
	CHECK(w.nout == 20, "all 20 delivered after the reads (%zu)", w.nout);
	for (size_t i = 0; i < w.nout; i++)
		CHECK(w.out[i] == (int64_t)i + 1, "position %zu is %lld", i, (long long)w.out[i]);
	cluster_seq_release(&s);
	CHECK(w.live == 0, "every item freed");
}

/* Random traffic: ids become visible in order, signals arrive shuffled, doubled or lost,
 * reads answer at random moments, polls now and then. Whatever happens, every existing id
 * comes out exactly once, ascending. */
static void test_random(unsigned seed)
{
	struct world w;
	struct cluster_seq s;
	int64_t pending[64];
	size_t npending = 0, ok = 1, expect = 0;
	const int64_t total = 1500;

	srand(seed);
	world_init(&w, total, 1 + (size_t)(rand() % 40));
	for (int64_t i = 1; i <= total; i++)
		w.exists[i] = rand() % 10 != 0;      /* a tenth never used */
	w.newest = 0;
	cluster_seq_init(&s, 0, 1 + (size_t)(rand() % 16), &ops, &w);
	while (w.newest < total || npending > 0 || w.read_pending) {
		int r = rand() % 100;

		if (r < 40 && w.newest < total) {          /* a commit and its signal */
			w.newest++;
			if (w.exists[w.newest] && npending < 64 && rand() % 8 != 0)
				pending[npending++] = w.newest;  /* 1/8 of signals lost */
		} else if (r < 75 && npending > 0) {        /* a signal arrives, in any order */
			size_t k = (size_t)rand() % npending;
			int64_t id = pending[k];

			cluster_seq_offer(&s, id, item_new(&w, id));
			if (rand() % 5 != 0)
				pending[k] = pending[--npending];    /* else it comes twice */
		} else if (r < 90) {
			answer(&s, &w, rand() % 10 != 0);
		} else {
			cluster_seq_poll(&s);
		}
	}
	/* Each tick confirms the hole after delivered (ids never used here: a tenth of them, far
	 * more than a real store leaves) and reads on: tick until the last existing id is in. */
	{
		int64_t last = total;

		while (last > 0 && !w.exists[last])
			last--;
		for (int round = 0; round < 5000 && (s.delivered < last || s.nheld > 0); round++) {
			cluster_seq_poll(&s);
			while (w.read_pending)
				answer(&s, &w, true);
		}
	}
	for (int64_t i = 1; i <= total; i++)
		expect += w.exists[i];
	ok = w.nout == expect;
	for (size_t i = 1; ok && i < w.nout; i++)
		ok = w.out[i] > w.out[i - 1] && w.exists[w.out[i]];
	CHECK(ok, "seed %u: %zu of %zu existing ids delivered once each, in order (delivered %lld, "
	      "held %zu, hole at %lld, behind %d)", seed, w.nout, expect, (long long)s.delivered,
	      s.nheld, (long long)s.hole_at, s.behind);
	cluster_seq_release(&s);
	CHECK(w.live == 0, "seed %u: every item freed (%ld live)", seed, w.live);
}

/* An own message held behind a hole that the store confirms (an id never used), read back
 * by the poll that confirms it: the held copy is delivered (it carries the sender's
 * connection, which spares the sender the echo), the read's is dropped. */
static void test_held_copy_wins(void)
{
	struct world w;
	struct cluster_seq s;
	int64_t *own;

	world_init(&w, 3, 10);
	w.exists[1] = false;                         /* never used */
	cluster_seq_init(&s, 0, 8, &ops, &w);
	own = item_new(&w, 2);
	CHECK(cluster_seq_offer(&s, 2, own) == CLUSTER_SEQ_HELD, "own 2 held behind the hole at 1");
	answer(&s, &w, true);                        /* (0, 1]: nothing; the hole waits */
	CHECK(w.nout == 0, "nothing delivered before the poll's second look");
	cluster_seq_poll(&s);
	w.delivered_ptr_watch = own;
	answer(&s, &w, true);                        /* (0, ...]: 2, 3 */
	CHECK(out_is(&w, (int64_t[]){ 2, 3 }, 2), "2, 3 once each");
	CHECK(w.watched_delivered, "2 went out as the held (own) copy, not the read's");
	cluster_seq_release(&s);
	CHECK(w.live == 0, "every item freed");
}

int main(void)
{
	test_held_copy_wins();
	test_in_order_and_duplicates();
	test_gap_read();
	test_failed_read_and_poll();
	test_held_bound();
	for (unsigned seed = 1; seed <= 200; seed++)
		test_random(seed);
	return tap_done();
}
