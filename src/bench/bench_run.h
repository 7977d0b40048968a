/* bench_run.h - what every scenario does around its measurement: a report entry, its own pierd
 * (or the --target), a client pool, a time limit, and at the end a clean stop of pierd. */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include <stdint.h>

#include "bench_net.h"
#include "bench_report.h"
#include "bench_scenarios.h"
#include "bench_server.h"

struct brun {
	const struct bconfig *cfg;
	struct bscenario *s;
	struct bserver srv;
	struct bnet *net;
	int64_t start_ns, deadline_ns;    /* the scenario's time limit */
	char err[512];
};

/* Adds the report entry, starts pierd (or takes the --target) and the pool. Returns 0, or -1
 * with the scenario marked failed (call brun_end all the same). */
int brun_begin(struct brun *r, const struct bconfig *cfg, struct breport *rep, const char *name,
               const char *label);

/* Frees the pool, stops pierd (a non-zero exit fails the scenario), records the wall time. */
void brun_end(struct brun *r);

/* The monotonic time seconds from now, capped at the scenario's limit. */
int64_t brun_deadline(const struct brun *r, double seconds);

/* Fails the scenario with r->err (or what) prefixed by stage; returns -1. */
int brun_fail(struct brun *r, const char *stage);

/* Adds "server peak RSS" (VmHWM) when the server is ours. */
void brun_peak_rss(struct brun *r);

/* Seconds as nanoseconds. */
int64_t brun_ns(double seconds);

#endif
