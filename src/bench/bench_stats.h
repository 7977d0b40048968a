/* bench_stats.h - latency histograms (log-linear buckets, under 1% error) and percentiles.
 *
 * Values are nanoseconds. A histogram is a fixed-size struct (about 60 KiB, no allocation):
 * record costs a few instructions, so every delivery can be recorded.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdint.h>

#define BSTATS_SUB_BITS  7
#define BSTATS_SUB       (1 << BSTATS_SUB_BITS)          /* buckets per power of two */
#define BSTATS_BUCKETS   (BSTATS_SUB * (64 - BSTATS_SUB_BITS + 1))

struct bstats_hist {
	uint64_t n;
	int64_t min, max;
	double sum;
	uint64_t counts[BSTATS_BUCKETS];
};

void bstats_init(struct bstats_hist *h);
/* Records one value (negative values count as 0). */
void bstats_record(struct bstats_hist *h, int64_t ns);
/* Adds every value of src to dst. */
void bstats_merge(struct bstats_hist *dst, const struct bstats_hist *src);
/* The value at quantile q (0..1): the upper edge of the bucket holding it, capped at max. 0 when
 * empty. q = 1 gives the exact max. */
int64_t bstats_quantile(const struct bstats_hist *h, double q);
double bstats_mean(const struct bstats_hist *h);

#endif
