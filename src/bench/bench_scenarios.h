/* bench_scenarios.h - the benchmark scenarios (history: bench_history.h). Each one starts its own pierd (fresh data
 * directory; or uses --target), sets its users up, measures, verifies what it received and
 * adds one entry with its metrics and targets to the report. Each is bounded in time. */
#ifndef BENCH_SCENARIOS_H
#define BENCH_SCENARIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_report.h"

#define BSCEN_TIME_LIMIT_S  58     /* every scenario, setup included */
#define BSCEN_FSYNC_PROBES  2000   /* fdatasyncs timed for the run's floor (p99.9 needs >= 1000) */
#define BSCEN_TAIL_PROBES   1000   /* and before each fixed-rate (tail) phase, on pierd's disk */
#define BENCH_TAIL_ACKS     2000   /* a fixed-rate phase's acks, at least (no --latency) */

/* Suite-wide settings from the command line. */
struct bconfig {
	const char *pierd;         /* pierd to start; NULL with target */
	const char *target;        /* "HOST:PORT" of a running server, or NULL */
	bool quick;                /* short phases (smoke test) */
	bool check_parser;         /* cross-check the fast line reader with jansson */
	bool keep_data;            /* leave pierd's data directories behind */
	uint64_t max_output;       /* --max-output for pierd, 0: its default */
	int nsrc;                  /* source addresses 127.0.0.2.. */
	char tag[12];              /* unique per run: user names */
	double measure_s;          /* saturation phases */
	double latency_s;          /* fixed-rate phases */
	bool latency_auto;         /* no --latency: long enough for BENCH_TAIL_ACKS acks */
	int fd_limit;              /* RLIMIT_NOFILE after raising */
	int window;                /* sends unacked per sender at saturation, 0: per scenario */
};

void bscen_connect(const struct bconfig *cfg, struct breport *rep, size_t n);
void bscen_fanout(const struct bconfig *cfg, struct breport *rep, size_t members, size_t senders);
void bscen_private(const struct bconfig *cfg, struct breport *rep, size_t pairs);
void bscen_durable(const struct bconfig *cfg, struct breport *rep, size_t senders);

/* Shared with the scenarios that live in their own modules (bench_e2ee.c). */
struct brun;
struct buser;
struct bstats_hist;
struct btraffic_result;

/* Registers and logs in n users, one session each (joined to room unless NULL), and waits
 * until they are quiet; adds the setup time. 0, or -1 with the scenario failed. */
int bscen_setup_users(struct brun *r, struct buser *u, size_t n, const char *room);
/* p50/p99/p999/max/samples of h in ms, named "<what> p50" etc.; p99 gets a target when
 * p99_target_ms >= 0. */
void bscen_latency_metrics(struct bscenario *s, const char *what, const struct bstats_hist *h,
                           double p99_target_ms);
/* Server (and its loop thread's), bench and other processes' CPU over t's window, names
 * suffixed with phase; the server's CPU per per_what when per > 0 (target when target_us > 0). */
void bscen_cpu_metrics(struct brun *r, const struct btraffic_result *t, const char *phase,
                       const char *per_what, uint64_t per, double target_us);
/* count over t's window as a rate per second (target when goal > 0). */
void bscen_per_second(struct bscenario *s, const char *name, uint64_t count,
                      const struct btraffic_result *t, double goal, const char *target);

/* A scenario size that cannot run on this machine, reported as such. */
void bscen_not_runnable(struct breport *rep, const char *name, const char *label,
                        const char *why);

#endif
