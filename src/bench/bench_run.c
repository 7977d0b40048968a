/* bench_run.c - a scenario's frame: report entry, pierd, client pool, time limit, clean stop. */
#include "bench_run.h"

#include <stdio.h>
#include <string.h>

int64_t brun_ns(double seconds)
{
	return (int64_t)(seconds * 1e9);
}

int brun_begin(struct brun *r, const struct bconfig *cfg, struct breport *rep, const char *name,
               const char *label)
{
	static struct bscenario spare;
	int rc;

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->start_ns = bnet_clock();
	r->deadline_ns = r->start_ns + brun_ns(BSCEN_TIME_LIMIT_S);
	r->s = breport_add(rep, name, label);
	if (r->s == NULL) {
		memset(&spare, 0, sizeof(spare));
		r->s = &spare;
	}
	printf("== %s ...\n", label);
	fflush(stdout);
	if (cfg->target != NULL)
		rc = bserver_target(&r->srv, cfg->target, r->err, sizeof(r->err));
	else
		rc = bserver_start(&r->srv, cfg->pierd, cfg->max_output, r->err, sizeof(r->err));
	if (rc != 0)
		return brun_fail(r, "starting pierd");
	if (rep->pierd_flags[0] == '\0')
		snprintf(rep->pierd_flags, sizeof(rep->pierd_flags), "%s", r->srv.flags);
	r->srv.keep_dir = cfg->keep_data;
	r->net = bnet_new(r->srv.host, r->srv.port, cfg->nsrc, cfg->check_parser, r->err,
	                  sizeof(r->err));
	if (r->net == NULL)
		return brun_fail(r, "client pool");
	return 0;
}

void brun_end(struct brun *r)
{
	const struct bnet_counters *cnt;
	char err[512];

	if (r->net != NULL) {
		cnt = bnet_counters(r->net);
		if (cnt->parser_mismatches > 0) {
			bscen_fail(r->s, "--check-parser: %llu mismatches; %s",
			           (unsigned long long)cnt->parser_mismatches, bnet_parser_error(r->net));
		}
		bnet_free(r->net);
		r->net = NULL;
	}
	if (r->srv.pid != 0 && !bserver_alive(&r->srv)) {
		bscen_fail(r->s, "pierd died during the scenario (log: %s)", r->srv.log_path);
		bserver_dump_log(&r->srv);
		r->srv.keep_dir = true;
	}
	if (r->s->status == BSTATUS_FAILED)
		r->srv.keep_dir = true;        /* keep the evidence */
	if (bserver_stop(&r->srv, err, sizeof(err)) != 0)
		bscen_fail(r->s, "stopping pierd: %s", err);
	r->s->seconds = (double)(bnet_clock() - r->start_ns) / 1e9;
	if (r->s->status == BSTATUS_FAILED) {
		fprintf(stderr, "\n*** %s FAILED: %s\n", r->s->label, r->s->why);
		if (r->srv.dir[0] != '\0')
			fprintf(stderr, "*** pierd's data and log kept in %s\n", r->srv.dir);
	}
	printf("   %s in %.1f s\n", r->s->status == BSTATUS_OK ? "done" : "FAILED", r->s->seconds);
	fflush(stdout);
}

int64_t brun_deadline(const struct brun *r, double seconds)
{
	int64_t d = bnet_clock() + brun_ns(seconds);

	return d < r->deadline_ns ? d : r->deadline_ns;
}

int brun_fail(struct brun *r, const char *stage)
{
	bscen_fail(r->s, "%s: %s", stage, r->err[0] ? r->err : "failed");
	return -1;
}

void brun_peak_rss(struct brun *r)
{
	struct bserver_usage u = bserver_usage(&r->srv);

	if (u.ok)
		bscen_metric(r->s, "server peak RSS (VmHWM)", (double)u.hwm_kib / 1024.0, "MiB");
	else
		bscen_metric_na(r->s, "server peak RSS (VmHWM)", "MiB", NULL, "not our process (--target)");
}
