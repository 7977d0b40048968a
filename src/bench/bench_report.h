/* bench_report.h - the bench's results: scenarios with named metrics and their targets,
 * printed as a table and written as JSON and Markdown. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#define BREPORT_METRICS_MAX  80      /* e2ee: four phases and their ratios, about 66 */
#define BREPORT_SCENARIOS_MAX 32

enum bmet { BMET_NONE, BMET_YES, BMET_NO };   /* no target, target met, target missed */

struct bmetric {
	char name[64];
	double value;
	bool na;                  /* not measured (value meaningless); note says why */
	char unit[16];
	char target[48];          /* "" when the metric has no target */
	enum bmet met;
	char note[160];
};

enum bstatus { BSTATUS_OK, BSTATUS_FAILED, BSTATUS_SKIPPED };

struct bscenario {
	char name[32];            /* connect, fanout, private, history, durable, search, e2ee */
	char label[96];           /* e.g. "fanout 1000 members" */
	char params[512];         /* how it ran, in words */
	enum bstatus status;
	char why[512];            /* failure or skip reason */
	double seconds;           /* wall time, setup included */
	struct bmetric metrics[BREPORT_METRICS_MAX];
	int nmetrics;
};

struct breport {
	char date[40];            /* UTC, ISO 8601 */
	char host_cpu[128];
	int nproc;
	char kernel[256];
	char load[64];            /* /proc/loadavg when the run started */
	double fsync_p50_ms, fsync_p99_ms, fsync_p999_ms, fsync_max_ms;   /* -1: not measured */
	double fsync_msg_p99_ms, fsync_msg_p999_ms; /* weighted by length (struct bfsync) */
	int fsync_n;              /* fdatasyncs the probe timed */
	char fsync_dir[256];
	char pierd[512];          /* path, or the --target */
	char pierd_flags[512];
	char bench_args[512];
	char notes[1024];         /* suite-wide notes (parser, limits) */
	struct bscenario scen[BREPORT_SCENARIOS_MAX];
	int nscen;
};

/* Fills date, machine and kernel. */
void breport_init(struct breport *r);
/* A new scenario entry (NULL when full). */
struct bscenario *breport_add(struct breport *r, const char *name, const char *label);

/* Adds a metric. target: "" for none; cmp ">=" or "<=" with target_value decides met. */
struct bmetric *bscen_metric(struct bscenario *s, const char *name, double value,
                             const char *unit);
struct bmetric *bscen_metric_target(struct bscenario *s, const char *name, double value,
                                    const char *unit, const char *cmp, double target_value,
                                    const char *target_text);
/* A metric that could not be measured, with the reason. */
struct bmetric *bscen_metric_na(struct bscenario *s, const char *name, const char *unit,
                                const char *target_text, const char *why);
void bscen_fail(struct bscenario *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bscen_skip(struct bscenario *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when no scenario failed. */
bool breport_ok(const struct breport *r);
void breport_print(const struct breport *r);
/* Writes DIR/results.json and DIR/results.md (creating DIR). 0 or -1 (message on stderr). */
int breport_write(const struct breport *r, const char *dir);

#endif
