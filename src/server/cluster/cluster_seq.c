/* cluster_seq.c - the message sequencer: exactly once, in id order (cluster_seq.h). */
#include "cluster_seq.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void cluster_seq_init(struct cluster_seq *s, int64_t start, size_t max_held,
                      const struct cluster_seq_ops *ops, void *ud)
{
	memset(s, 0, sizeof(*s));
	s->delivered = start;
	s->hole_at = -1;
	s->max_held = max_held > 0 ? max_held : 1;
	s->held = xcalloc(s->max_held, sizeof(*s->held));
	s->ops = ops;
	s->ud = ud;
}

void cluster_seq_release(struct cluster_seq *s)
{
	for (size_t i = 0; i < s->nheld; i++)
		s->ops->drop(s->ud, s->held[i].item);
	free(s->held);
	memset(s, 0, sizeof(*s));
}

static void start_read(struct cluster_seq *s, int64_t upto)
{
	s->reading = true;
	s->read_upto = upto;
	s->stats.reads++;
	s->ops->read(s->ud, s->delivered, upto);
}

static void deliver(struct cluster_seq *s, int64_t id, void *item)
{
	s->delivered = id;
	s->stats.delivered++;
	s->ops->deliver(s->ud, id, item);
}

static void drop_dup(struct cluster_seq *s, void *item)
{
	s->stats.duplicates++;
	s->ops->drop(s->ud, item);
}

/* Hands on the held items that now follow delivered (dropping those at or below it). */
static void drain(struct cluster_seq *s)
{
	size_t i = 0;

	for (; i < s->nheld && s->held[i].id <= s->delivered + 1; i++) {
		if (s->held[i].id == s->delivered + 1)
			deliver(s, s->held[i].id, s->held[i].item);
		else
			drop_dup(s, s->held[i].item);
	}
	if (i > 0) {
		memmove(s->held, s->held + i, (s->nheld - i) * sizeof(*s->held));
		s->nheld -= i;
	}
}

/* A hole right after delivered: true when a poll's read has seen it too (skip it now), else
 * it is noted and false (hold what follows until the next poll). */
static bool hole_confirmed(struct cluster_seq *s)
{
	if (s->hole_at == s->delivered)
		return s->hole_polled;
	s->hole_at = s->delivered;
	s->hole_polled = false;
	s->stats.holes++;
	return false;
}

/* After a change: read what is missing below the lowest held id, or, once nothing is held
 * but some was dropped, whatever follows. Not while a hole waits for the next poll. */
static void read_if_needed(struct cluster_seq *s)
{
	if (s->reading || (s->hole_at == s->delivered && !s->hole_polled))
		return;
	if (s->nheld > 0) {
		start_read(s, s->held[0].id - 1);
	} else if (s->behind) {
		s->behind = false;
		start_read(s, 0);
	}
}

/* Inserts (id, item) in ascending order; an id held already is a duplicate. */
static void hold(struct cluster_seq *s, int64_t id, void *item)
{
	size_t lo = 0, hi = s->nheld;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->held[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nheld && s->held[lo].id == id) {
		drop_dup(s, item);
		return;
	}
	if (s->nheld == s->max_held) {
		/* Full: the highest id goes (this one or the last held); the store keeps it. */
		s->behind = true;
		s->stats.overflow++;
		if (lo == s->nheld) {
			s->ops->drop(s->ud, item);
			return;
		}
		s->ops->drop(s->ud, s->held[s->nheld - 1].item);
		s->nheld--;
	}
	memmove(s->held + lo + 1, s->held + lo, (s->nheld - lo) * sizeof(*s->held));
	s->held[lo].id = id;
	s->held[lo].item = item;
	s->nheld++;
}

enum cluster_seq_result cluster_seq_offer(struct cluster_seq *s, int64_t id, void *item)
{
	if (id <= s->delivered) {
		drop_dup(s, item);
		return CLUSTER_SEQ_DUPLICATE;
	}
	if (id == s->delivered + 1) {
		deliver(s, id, item);
		drain(s);
		read_if_needed(s);
		return CLUSTER_SEQ_DELIVERED;
	}
	hold(s, id, item);
	read_if_needed(s);
	return CLUSTER_SEQ_HELD;
}

void cluster_seq_read_done(struct cluster_seq *s, bool ok, const int64_t *ids, void **items,
                           size_t n, bool more)
{
	int64_t upto = s->read_upto;

	s->reading = false;
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			s->ops->drop(s->ud, items[i]);
		return;
	}
	/* A read is the store's whole truth for its range: every id after its start up to the
	 * last it returned that it does not hold was never used, so ids may be skipped here,
	 * once a poll's read confirmed it (hole_confirmed). */
	for (size_t i = 0; i < n; i++) {
		if (ids[i] <= s->delivered) {
			drop_dup(s, items[i]);
			continue;
		}
		if (ids[i] > s->delivered + 1 && !hole_confirmed(s)) {
			for (; i < n; i++) {
				if (ids[i] <= s->delivered)
					drop_dup(s, items[i]);
				else
					hold(s, ids[i], items[i]);
			}
			return;              /* the next poll reads again */
		}
		/* held ones below this id were never stored (the store says so): drop them */
		while (s->nheld > 0 && s->held[0].id < ids[i]) {
			drop_dup(s, s->held[0].item);
			memmove(s->held, s->held + 1, (s->nheld - 1) * sizeof(*s->held));
			s->nheld--;
		}
		if (ids[i] > s->delivered + 1)
			s->stats.skipped += (uint64_t)(ids[i] - s->delivered - 1);
		if (s->nheld > 0 && s->held[0].id == ids[i]) {
			/* Held already (this node's own, offered with the sender's connection to
			 * spare it the echo): that copy goes, the read's is the duplicate. */
			drop_dup(s, items[i]);
			items[i] = s->held[0].item;
			memmove(s->held, s->held + 1, (s->nheld - 1) * sizeof(*s->held));
			s->nheld--;
		}
		deliver(s, ids[i], items[i]);
		drain(s);
	}
	if (more) {
		start_read(s, upto);
		return;
	}
	if (upto > s->delivered) {
		if (!hole_confirmed(s))
			return;              /* the next poll reads again */
		s->stats.skipped += (uint64_t)(upto - s->delivered);
		s->delivered = upto;
	}
	drain(s);
	read_if_needed(s);
}

void cluster_seq_poll(struct cluster_seq *s)
{
	if (s->reading)
		return;
	if (s->hole_at == s->delivered)
		s->hole_polled = true;
	start_read(s, 0);
}
