/* bench_stats.c - log-linear latency histograms: 128 buckets per power of two. */
#include "bench_stats.h"

#include <string.h>

void bstats_init(struct bstats_hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* Values below BSTATS_SUB have a bucket each; above, a power of two splits into BSTATS_SUB. */
static unsigned bucket_of(uint64_t v)
{
	unsigned e, shift;

	if (v < BSTATS_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);            /* e >= BSTATS_SUB_BITS */
	shift = e - BSTATS_SUB_BITS;
	return BSTATS_SUB * (e - BSTATS_SUB_BITS + 1) + (unsigned)((v >> shift) - BSTATS_SUB);
}

/* The largest value that falls into bucket b. */
static uint64_t bucket_top(unsigned b)
{
	unsigned e, shift;
	uint64_t mant;

	if (b < BSTATS_SUB)
		return b;
	e = b / BSTATS_SUB - 1 + BSTATS_SUB_BITS;
	shift = e - BSTATS_SUB_BITS;
	mant = BSTATS_SUB + b % BSTATS_SUB;
	return ((mant + 1) << shift) - 1;
}

void bstats_record(struct bstats_hist *h, int64_t ns)
{
	uint64_t v = ns > 0 ? (uint64_t)ns : 0;

	if (h->n == 0 || (int64_t)v < h->min)
		h->min = (int64_t)v;
	if (h->n == 0 || (int64_t)v > h->max)
		h->max = (int64_t)v;
	h->n++;
	h->sum += (double)v;
	h->counts[bucket_of(v)]++;
}

void bstats_merge(struct bstats_hist *dst, const struct bstats_hist *src)
{
	if (src->n == 0)
		return;
	if (dst->n == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->n == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->sum += src->sum;
	for (unsigned i = 0; i < BSTATS_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
}

int64_t bstats_quantile(const struct bstats_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->n == 0)
		return 0;
	if (q >= 1.0)
		return h->max;
	if (q < 0)
		q = 0;
	/* The rank-th smallest value, 1-based: the nearest-rank definition. */
	rank = (uint64_t)(q * (double)h->n);
	if ((double)rank < q * (double)h->n)
		rank++;
	if (rank == 0)
		rank = 1;
	for (unsigned b = 0; b < BSTATS_BUCKETS; b++) {
		seen += h->counts[b];
		if (seen >= rank) {
			int64_t top = (int64_t)bucket_top(b);

			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}

double bstats_mean(const struct bstats_hist *h)
{
	return h->n ? h->sum / (double)h->n : 0.0;
}
