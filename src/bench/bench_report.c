/* bench_report.c - results as a table on stdout, JSON and Markdown files. */
#include "bench_report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

static void read_cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(out, len, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || colon == NULL)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(out, len, "%s", colon);
		break;
	}
	fclose(f);
}

static void read_loadavg(char *out, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	char a[16], b[16], c[16];

	snprintf(out, len, "unknown");
	if (f == NULL)
		return;
	if (fscanf(f, "%15s %15s %15s", a, b, c) == 3)
		snprintf(out, len, "%s %s %s", a, b, c);
	fclose(f);
}

void breport_init(struct breport *r)
{
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;

	memset(r, 0, sizeof(*r));
	gmtime_r(&now, &tm);
	strftime(r->date, sizeof(r->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	read_cpu_model(r->host_cpu, sizeof(r->host_cpu));
	r->nproc = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (uname(&u) == 0)
		snprintf(r->kernel, sizeof(r->kernel), "%s %s %s", u.sysname, u.release, u.machine);
	read_loadavg(r->load, sizeof(r->load));
	r->fsync_p50_ms = r->fsync_p99_ms = r->fsync_p999_ms = r->fsync_max_ms = -1;
	r->fsync_msg_p99_ms = r->fsync_msg_p999_ms = -1;
}

struct bscenario *breport_add(struct breport *r, const char *name, const char *label)
{
	struct bscenario *s;

	if (r->nscen >= BREPORT_SCENARIOS_MAX)
		return NULL;
	s = &r->scen[r->nscen++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->label, sizeof(s->label), "%s", label);
	return s;
}

static struct bmetric *add_metric(struct bscenario *s, const char *name, const char *unit)
{
	static struct bmetric spare;     /* a full scenario writes here; never reported */
	struct bmetric *m;

	if (s->nmetrics >= BREPORT_METRICS_MAX) {
		memset(&spare, 0, sizeof(spare));
		return &spare;
	}
	m = &s->metrics[s->nmetrics++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
	return m;
}

struct bmetric *bscen_metric(struct bscenario *s, const char *name, double value,
                             const char *unit)
{
	struct bmetric *m = add_metric(s, name, unit);

	m->value = value;
	return m;
}

struct bmetric *bscen_metric_target(struct bscenario *s, const char *name, double value,
                                    const char *unit, const char *cmp, double target_value,
                                    const char *target_text)
{
	struct bmetric *m = bscen_metric(s, name, value, unit);
	bool met = strcmp(cmp, ">=") == 0 ? value >= target_value : value <= target_value;

	snprintf(m->target, sizeof(m->target), "%s", target_text);
	m->met = met ? BMET_YES : BMET_NO;
	return m;
}

struct bmetric *bscen_metric_na(struct bscenario *s, const char *name, const char *unit,
                                const char *target_text, const char *why)
{
	struct bmetric *m = add_metric(s, name, unit);

	m->na = true;
	snprintf(m->target, sizeof(m->target), "%s", target_text != NULL ? target_text : "");
	snprintf(m->note, sizeof(m->note), "%s", why);
	return m;
}

void bscen_fail(struct bscenario *s, const char *fmt, ...)
{
	va_list ap;

	if (s->status == BSTATUS_FAILED)
		return;                 /* keep the first reason */
	s->status = BSTATUS_FAILED;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

void bscen_skip(struct bscenario *s, const char *fmt, ...)
{
	va_list ap;

	s->status = BSTATUS_SKIPPED;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

bool breport_ok(const struct breport *r)
{
	for (int i = 0; i < r->nscen; i++) {
		if (r->scen[i].status == BSTATUS_FAILED)
			return false;
	}
	return true;
}

/* A value for people: 3 significant digits past 1000 with k/M, decimals for small ones. */
static void fmt_value(char *out, size_t len, const struct bmetric *m)
{
	double v = m->value, a = v < 0 ? -v : v;

	if (m->na || !isfinite(v))
		snprintf(out, len, "n/a");
	else if (a >= 1e6)
		snprintf(out, len, "%.2f M", v / 1e6);
	else if (a >= 1e4)
		snprintf(out, len, "%.1f k", v / 1e3);
	else if (a >= 100 || v == (double)(long long)v)
		snprintf(out, len, "%.0f", v);
	else if (a >= 1)
		snprintf(out, len, "%.2f", v);
	else
		snprintf(out, len, "%.3f", v);
}

static const char *met_text(const struct bmetric *m)
{
	if (m->na)
		return m->target[0] ? "not measured" : "";
	switch (m->met) {
	case BMET_YES:
		return "yes";
	case BMET_NO:
		return "NO";
	default:
		return "";
	}
}

static const char *status_text(const struct bscenario *s)
{
	switch (s->status) {
	case BSTATUS_OK:
		return "ok";
	case BSTATUS_FAILED:
		return "FAILED";
	default:
		return "not run";
	}
}

/* Every metric with a target, gathered after the table: issue 13's targets (the tail against
 * the fdatasync floor, private throughput and CPU, registrations, fan-out) and the suite's. */
static void print_targets(const struct breport *r)
{
	int met = 0, missed = 0;

	printf("\nTargets (the fdatasync floor of the run: p99 %.2f ms, p99.9 %.2f ms; as messages "
	       "see it p99 %.2f ms; the tail targets use each scenario's own probe, taken just before "
	       "its fixed-rate phase):\n", r->fsync_p99_ms, r->fsync_p999_ms, r->fsync_msg_p99_ms);
	for (int i = 0; i < r->nscen; i++) {
		const struct bscenario *s = &r->scen[i];

		for (int k = 0; k < s->nmetrics; k++) {
			const struct bmetric *m = &s->metrics[k];
			char v[32];

			if (m->target[0] == '\0')
				continue;
			fmt_value(v, sizeof(v), m);
			printf("  %-4s %-22s %-44s %10s %-7s %s\n", met_text(m)[0] ? met_text(m) : "-",
			       s->label, m->name, v, m->unit, m->target);
			met += !m->na && m->met == BMET_YES;
			missed += !m->na && m->met == BMET_NO;
		}
	}
	printf("  %d met, %d not met\n", met, missed);
}

void breport_print(const struct breport *r)
{
	printf("\npier-bench results (%s; %d CPUs, %s; %s)\n", r->date, r->nproc, r->host_cpu,
	       r->kernel);
	printf("pierd: %s %s\n", r->pierd, r->pierd_flags);
	printf("load average at start: %s", r->load);
	if (r->fsync_p50_ms >= 0)
		printf("; fdatasync of 4 KiB on %s (%d timed): p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, "
		       "max %.2f ms; as messages see it (weighted by length) p99 %.2f ms, p99.9 %.2f ms",
		       r->fsync_dir, r->fsync_n, r->fsync_p50_ms, r->fsync_p99_ms, r->fsync_p999_ms,
		       r->fsync_max_ms, r->fsync_msg_p99_ms, r->fsync_msg_p999_ms);
	printf("\n\n");
	printf("%-22s %-44s %10s %-7s %-12s %s\n", "scenario", "metric", "value", "unit", "target",
	       "met");
	printf("%.*s\n", 104, "----------------------------------------------------------------"
	                      "----------------------------------------------------------------");
	for (int i = 0; i < r->nscen; i++) {
		const struct bscenario *s = &r->scen[i];

		if (s->status != BSTATUS_OK)
			printf("%-22s %s: %s\n", s->label, status_text(s), s->why);
		for (int k = 0; k < s->nmetrics; k++) {
			const struct bmetric *m = &s->metrics[k];
			char v[32];

			fmt_value(v, sizeof(v), m);
			printf("%-22s %-44s %10s %-7s %-12s %s%s%s\n", k == 0 ? s->label : "", m->name, v,
			       m->unit, m->target, met_text(m), m->note[0] ? "  " : "", m->note);
		}
	}
	print_targets(r);
	if (r->notes[0] != '\0')
		printf("\nNotes: %s\n", r->notes);
	printf("\n%s\n", breport_ok(r) ? "All scenarios verified: no loss, no reordering, nothing "
	                                 "misrouted." : "FAILED: see the lines above.");
}

static json_t *metric_json(const struct bmetric *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "value", m->na || !isfinite(m->value) ? json_null()
	                                                              : json_real(m->value));
	json_object_set_new(o, "unit", json_string(m->unit));
	if (m->target[0] != '\0') {
		json_object_set_new(o, "target", json_string(m->target));
		json_object_set_new(o, "met", m->na ? json_null() : json_boolean(m->met == BMET_YES));
	}
	if (m->note[0] != '\0')
		json_object_set_new(o, "note", json_string(m->note));
	return o;
}

static int write_json(const struct breport *r, const char *path)
{
	json_t *root = json_object(), *machine = json_object(), *scen = json_array();
	int rc;

	json_object_set_new(root, "tool", json_string("pier-bench"));
	json_object_set_new(root, "date", json_string(r->date));
	json_object_set_new(machine, "nproc", json_integer(r->nproc));
	json_object_set_new(machine, "cpu", json_string(r->host_cpu));
	json_object_set_new(machine, "kernel", json_string(r->kernel));
	json_object_set_new(machine, "loadavg_at_start", json_string(r->load));
	if (r->fsync_p50_ms >= 0) {
		json_t *fs = json_object();

		json_object_set_new(fs, "dir", json_string(r->fsync_dir));
		json_object_set_new(fs, "p50_ms", json_real(r->fsync_p50_ms));
		json_object_set_new(fs, "p99_ms", json_real(r->fsync_p99_ms));
		json_object_set_new(fs, "p999_ms", json_real(r->fsync_p999_ms));
		json_object_set_new(fs, "max_ms", json_real(r->fsync_max_ms));
		json_object_set_new(fs, "samples", json_integer(r->fsync_n));
		json_object_set_new(fs, "as_messages_p99_ms", json_real(r->fsync_msg_p99_ms));
		json_object_set_new(fs, "as_messages_p999_ms", json_real(r->fsync_msg_p999_ms));
		json_object_set_new(machine, "fdatasync_4k", fs);
	}
	json_object_set_new(root, "machine", machine);
	json_object_set_new(root, "pierd", json_string(r->pierd));
	json_object_set_new(root, "pierd_flags", json_string(r->pierd_flags));
	json_object_set_new(root, "bench_args", json_string(r->bench_args));
	json_object_set_new(root, "notes", json_string(r->notes));
	for (int i = 0; i < r->nscen; i++) {
		const struct bscenario *s = &r->scen[i];
		json_t *o = json_object(), *ms = json_array();

		json_object_set_new(o, "name", json_string(s->name));
		json_object_set_new(o, "label", json_string(s->label));
		json_object_set_new(o, "status", json_string(s->status == BSTATUS_OK ? "ok" :
		                                             s->status == BSTATUS_FAILED ? "failed" :
		                                             "not_run"));
		if (s->why[0] != '\0')
			json_object_set_new(o, "reason", json_string(s->why));
		json_object_set_new(o, "params", json_string(s->params));
		json_object_set_new(o, "seconds", json_real(s->seconds));
		for (int k = 0; k < s->nmetrics; k++)
			json_array_append_new(ms, metric_json(&s->metrics[k]));
		json_object_set_new(o, "metrics", ms);
		json_array_append_new(scen, o);
	}
	json_object_set_new(root, "scenarios", scen);
	json_object_set_new(root, "ok", json_boolean(breport_ok(r)));
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(root);
	return rc;
}

/* Markdown table cells must not hold '|'. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
	}
}

static int write_md(const struct breport *r, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "# pier-bench results\n\n");
	fprintf(f, "- date: %s\n- machine: %d CPUs, %s; %s; load average at start %s\n"
	        "- pierd: `%s`\n- pierd flags: `%s`\n- bench: `%s`\n", r->date, r->nproc,
	        r->host_cpu, r->kernel, r->load, r->pierd, r->pierd_flags, r->bench_args);
	if (r->fsync_p50_ms >= 0)
		fprintf(f, "- disk: fdatasync of 4 KiB appends on %s (%d timed): p50 %.2f ms, p99 %.2f "
		        "ms, p99.9 %.2f ms, max %.2f ms (a floor under every durable ack and delivery); "
		        "as messages see it (weighted by length) p99 %.2f ms, p99.9 %.2f ms\n",
		        r->fsync_dir, r->fsync_n, r->fsync_p50_ms, r->fsync_p99_ms, r->fsync_p999_ms,
		        r->fsync_max_ms, r->fsync_msg_p99_ms, r->fsync_msg_p999_ms);
	if (r->notes[0] != '\0')
		fprintf(f, "- notes: %s\n", r->notes);
	fprintf(f, "\n| scenario | metric | value | unit | target | met |\n|---|---|---:|---|---|---|\n");
	for (int i = 0; i < r->nscen; i++) {
		const struct bscenario *s = &r->scen[i];

		if (s->status != BSTATUS_OK) {
			fprintf(f, "| ");
			md_cell(f, s->label);
			fprintf(f, " | **%s** | | | | ", status_text(s));
			md_cell(f, s->why);
			fprintf(f, " |\n");
		}
		for (int k = 0; k < s->nmetrics; k++) {
			const struct bmetric *m = &s->metrics[k];
			char v[32];

			fmt_value(v, sizeof(v), m);
			fprintf(f, "| ");
			md_cell(f, k == 0 ? s->label : "");
			fprintf(f, " | ");
			md_cell(f, m->name);
			fprintf(f, " | %s | %s | ", v, m->unit);
			md_cell(f, m->target);
			fprintf(f, " | %s", m->met == BMET_NO && !m->na ? "**NO**" : met_text(m));
			if (m->note[0] != '\0') {
				fprintf(f, " (");
				md_cell(f, m->note);
				fprintf(f, ")");
			}
			fprintf(f, " |\n");
		}
	}
	fprintf(f, "\n## How each scenario ran\n\n");
	for (int i = 0; i < r->nscen; i++)
		fprintf(f, "- **%s** (%.1f s): %s\n", r->scen[i].label, r->scen[i].seconds,
		        r->scen[i].params);
	fprintf(f, "\n%s\n", breport_ok(r) ? "Every scenario verified what it received: every "
	        "message exactly once, in order, nothing misrouted." : "**FAILED**: see the table.");
	return fclose(f) == 0 ? 0 : -1;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int breport_write(const struct breport *r, const char *dir)
{
	char path[1200];

	if (make_dirs(dir) != 0) {
		fprintf(stderr, "pier-bench: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/results.json", dir);
	if (write_json(r, path) != 0) {
		fprintf(stderr, "pier-bench: cannot write %s\n", path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/results.md", dir);
	if (write_md(r, path) != 0) {
		fprintf(stderr, "pier-bench: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
