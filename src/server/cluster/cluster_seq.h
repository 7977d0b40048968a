/* cluster_seq.h - the message sequencer of docs/CLUSTER.md ("Messages in order, without gaps
 * or duplicates"): messages reach a node from its own store completions, from the bus and
 * from store reads, in any order, some twice, some never; it hands them to local fan-out
 * exactly once each and in id order. Of two copies of one id, the one offered (held) wins
 * over a read's: an own message is offered with the sender's connection, which its fan-out
 * spares the echo, and a read's copy has none.
 *
 * delivered is the highest id handed on, with every id below it handled (delivered, or known
 * never to have been used). An offered id:
 *   - <= delivered: a duplicate, dropped;
 *   - == delivered + 1: delivered at once, then any held ones that now follow;
 *   - > delivered + 1: held, and the gap is read from the store (ops->read(after, upto)).
 * The store's ids follow commit order (CLUSTER.md, "Ids"): when id N is visible, every id
 * below N is committed or was never used, so one read of (delivered, N-1] returns the whole
 * gap, and after a read that came back complete, delivered may move to its upper bound even
 * where ids are missing. Such a hole (ids a read did not return though later ones are
 * visible) is skipped only when a read started by the next poll still misses them: a second
 * look, a tick later, so that a store that ever showed an id before a smaller one committed
 * costs a delay, not a message (neither back end leaves holes: a rolled-back transaction
 * rolls its ids back). Meanwhile what follows the hole is held. cluster_seq_poll (the 1 s timer, and every (re)subscription to the
 * bus, after subscribing) reads after delivered with no upper bound, so that a message whose
 * signal was lost with nothing after it is not waited for.
 *
 * Pure logic: no loop, no store, no allocation besides the held array (bounded by max_held;
 * past it the highest ids are dropped and read again later, never lost: the store has them).
 * At most one read is in flight. The callbacks must not call back into the sequencer
 * (ops->read starts a read whose answer comes later, through cluster_seq_read_done).
 */
#ifndef PIER_CLUSTER_SEQ_H
#define PIER_CLUSTER_SEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cluster_seq_ops {
	/* item (id) goes to local fan-out; the callee owns item from here. */
	void (*deliver)(void *ud, int64_t id, void *item);
	/* item is not needed (a duplicate, or dropped past max_held): free it. */
	void (*drop)(void *ud, void *item);
	/* Read the stored messages with after < id <= upto (upto 0: no bound), oldest first, a
	 * page at most; answer with cluster_seq_read_done. Never called while one is in flight. */
	void (*read)(void *ud, int64_t after, int64_t upto);
};

struct cluster_seq_held {
	int64_t id;
	void *item;
};

enum cluster_seq_result { CLUSTER_SEQ_DELIVERED, CLUSTER_SEQ_DUPLICATE, CLUSTER_SEQ_HELD };

struct cluster_seq_stats {
	uint64_t delivered;    /* items handed to deliver */
	uint64_t duplicates;   /* items dropped as already handled */
	uint64_t reads;        /* store reads started */
	uint64_t overflow;     /* held items dropped past max_held (read again later) */
	uint64_t skipped;      /* ids a complete read showed were never used */
	uint64_t holes;        /* holes seen (skipped only when a poll's read saw them again) */
};

struct cluster_seq {
	int64_t delivered;
	struct cluster_seq_held *held;   /* ascending ids, all > delivered + 1 */
	size_t nheld, max_held;
	bool reading;                    /* a read is in flight */
	int64_t read_upto;               /* its bound (0: none) */
	bool behind;                     /* held items were dropped: read on after the gap */
	int64_t hole_at;                 /* delivered when a hole was seen after it; -1: none */
	bool hole_polled;                /* a poll's read started since that hole was seen */
	const struct cluster_seq_ops *ops;
	void *ud;
	struct cluster_seq_stats stats;
};

/* start: the newest id at open (every id up to it counts as handled). max_held >= 1. */
void cluster_seq_init(struct cluster_seq *s, int64_t start, size_t max_held,
                      const struct cluster_seq_ops *ops, void *ud);
/* Drops every held item and frees the held array. */
void cluster_seq_release(struct cluster_seq *s);

/* Offers item with id (> 0); the sequencer owns item from here (delivered or dropped). */
enum cluster_seq_result cluster_seq_offer(struct cluster_seq *s, int64_t id, void *item);

/* The answer to ops->read: ok false (the read failed: items is empty; the next poll tries
 * again), or n items with their ids ascending, and more true when the page was full (there
 * may be more within the bound). The sequencer owns the items from here. */
void cluster_seq_read_done(struct cluster_seq *s, bool ok, const int64_t *ids, void **items,
                           size_t n, bool more);

/* Starts an unbounded read after delivered unless a read is in flight. */
void cluster_seq_poll(struct cluster_seq *s);

#endif
