/* bench_scenarios.c - the connect, fanout, private and durable scenarios (history is in
 * bench_history.c). Sizes, windows and targets are decided here; the engines are
 * bench_setup.c and bench_traffic.c. */
#include "bench_scenarios.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"
#include "bench_setup.h"
#include "bench_traffic.h"

#define NO_TARGET (-1.0)

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

/* p50/p99/p999/max of a histogram, in ms; p99 gets a target when p99_target_ms >= 0, described
 * by target_text (or "<= N ms" when NULL). */
static void latency_metrics(struct bscenario *s, const char *what, const struct bstats_hist *h,
                            double p99_target_ms, const char *target_text)
{
	char name[64], target[48];

	if (h->n == 0) {
		snprintf(name, sizeof(name), "%s p99", what);
		bscen_metric_na(s, name, "ms", NULL, "no samples");
		return;
	}
	snprintf(name, sizeof(name), "%s p50", what);
	bscen_metric(s, name, ms(bstats_quantile(h, 0.50)), "ms");
	snprintf(name, sizeof(name), "%s p99", what);
	if (p99_target_ms >= 0) {
		if (target_text != NULL)
			snprintf(target, sizeof(target), "%s", target_text);
		else
			snprintf(target, sizeof(target), "<= %g ms", p99_target_ms);
		bscen_metric_target(s, name, ms(bstats_quantile(h, 0.99)), "ms", "<=", p99_target_ms,
		                    target);
	} else {
		bscen_metric(s, name, ms(bstats_quantile(h, 0.99)), "ms");
	}
	snprintf(name, sizeof(name), "%s p999", what);
	bscen_metric(s, name, ms(bstats_quantile(h, 0.999)), "ms");
	snprintf(name, sizeof(name), "%s max", what);
	bscen_metric(s, name, ms(h->max), "ms");
	snprintf(name, sizeof(name), "%s samples", what);
	bscen_metric(s, name, (double)h->n, "");
}

void bscen_latency_metrics(struct bscenario *s, const char *what, const struct bstats_hist *h,
                           double p99_target_ms)
{
	latency_metrics(s, what, h, p99_target_ms, NULL);
}

/* Issue 13's tail target: the floor is the fdatasync p99 of a probe on pierd's data directory
 * taken just before the fixed-rate phase (recorded as metrics); the target is twice it.
 * Returns the target in ms, NO_TARGET when the probe could not run. */
static double tail_floor(struct brun *r, char *text, size_t len)
{
	struct bfsync fs;
	const char *dir = r->srv.dir[0] ? r->srv.dir : getenv("TMPDIR") && getenv("TMPDIR")[0] ?
	                  getenv("TMPDIR") : "/tmp";

	if (bserver_probe_fsync(dir, r->cfg->quick ? 50 : BSCEN_TAIL_PROBES, &fs) != 0) {
		bscen_metric_na(r->s, "fdatasync p99 (floor, this phase)", "ms", NULL,
		                "the probe could not write into the data directory");
		return NO_TARGET;
	}
	bscen_metric(r->s, "fdatasync p50 (probe before the phase)", fs.p50_ms, "ms");
	bscen_metric(r->s, "fdatasync p99 (floor, this phase)", fs.p99_ms, "ms");
	bscen_metric(r->s, "fdatasync p99.9 (probe before the phase)", fs.p999_ms, "ms");
	bscen_metric(r->s, "fdatasync as messages see it p99", fs.msg_p99_ms, "ms");
	bscen_metric(r->s, "fdatasync as messages see it p99.9", fs.msg_p999_ms, "ms");
	snprintf(text, len, "<= 2x fdatasync p99 (%.2f)", 2 * fs.p99_ms);
	return 2 * fs.p99_ms;
}

/* Server and bench CPU over a traffic window (phase: "" or a suffix such as " at 100 msg/s"),
 * and the server's CPU per unit of work when per > 0. */
void bscen_cpu_metrics(struct brun *r, const struct btraffic_result *t, const char *phase,
                       const char *per_what, uint64_t per, double target_us)
{
	char name[64], target[48];
	double window_us = (double)t->window_ns / 1e3;

	snprintf(name, sizeof(name), "server CPU%s", phase);
	if (t->server_cpu_us < 0) {
		bscen_metric_na(r->s, name, "% core", NULL, "not our process (--target)");
	} else {
		bscen_metric(r->s, name, 100.0 * (double)t->server_cpu_us / window_us, "% core");
		snprintf(name, sizeof(name), "  of which event loop thread%s", phase);
		bscen_metric(r->s, name, 100.0 * (double)t->server_loop_us / window_us, "% core");
	}
	if (per > 0 && t->server_cpu_us >= 0) {
		double v = (double)t->server_cpu_us / (double)per;

		snprintf(name, sizeof(name), "server CPU per %s%s", per_what, phase);
		if (target_us > 0) {
			snprintf(target, sizeof(target), "<= %g us", target_us);
			bscen_metric_target(r->s, name, v, "us", "<=", target_us, target);
		} else {
			bscen_metric(r->s, name, v, "us");
		}
	}
	snprintf(name, sizeof(name), "bench CPU%s", phase);
	bscen_metric(r->s, name, 100.0 * (double)t->bench_cpu_us / window_us, "% core");
	if (t->machine_busy_us >= 0 && t->server_cpu_us >= 0) {
		int64_t other = t->machine_busy_us - t->server_cpu_us - t->bench_cpu_us;

		double pct = 100.0 * (double)(other > 0 ? other : 0) / window_us;
		struct bmetric *m;

		snprintf(name, sizeof(name), "other processes' CPU%s", phase);
		m = bscen_metric(r->s, name, pct, "% core");
		if (pct > 25.0)
			snprintf(m->note, sizeof(m->note), "DISTURBED: other processes competed for the "
			         "CPUs; the figures of this phase understate pierd");
	}
}

static int traffic(struct brun *r, struct buser *u, size_t n, struct btraffic_opts *o,
                   struct btraffic_result *t, const char *stage)
{
	o->server = &r->srv;
	o->drain_ns = brun_ns(r->cfg->quick ? 20 : 15);
	if (bnet_clock() + o->warmup_ns + o->measure_ns + o->drain_ns > r->deadline_ns) {
		snprintf(r->err, sizeof(r->err), "not enough time left in the scenario's %d s",
		         BSCEN_TIME_LIMIT_S);
		return brun_fail(r, stage);
	}
	if (btraffic_run(r->net, u, n, o, t) != 0) {
		snprintf(r->err, sizeof(r->err), "%s", t->first_error);
		return brun_fail(r, stage);
	}
	return 0;
}

int bscen_setup_users(struct brun *r, struct buser *u, size_t n, const char *room)
{
	struct bsetup_stats st;
	int64_t t0 = bnet_clock();

	if (bsetup_login(r->net, u, n, true, room, BSETUP_WINDOW, brun_deadline(r, 40), &st, r->err,
	                 sizeof(r->err)) != 0)
		return brun_fail(r, "setup (register, login, join)");
	if (bsetup_sync(r->net, u, n, brun_deadline(r, 20), r->err, sizeof(r->err)) != 0)
		return brun_fail(r, "setup (sync)");
	bscen_metric(r->s, room != NULL ? "setup: register, log in, join" : "setup: register, log in",
	             (double)(bnet_clock() - t0) / 1e9, "s");
	return 0;
}

/* A count over a traffic window as a rate per second, with a target when goal > 0. */
void bscen_per_second(struct bscenario *s, const char *name, uint64_t count,
                      const struct btraffic_result *t, double goal, const char *target)
{
	double v = (double)count / ((double)t->window_ns / 1e9);

	if (goal > 0)
		bscen_metric_target(s, name, v, "1/s", ">=", goal, target);
	else
		bscen_metric(s, name, v, "1/s");
}

/* The first phase of a scenario: as fast as the window allows, a warm-up, cfg->measure_s
 * measured. */
static int saturation(struct brun *r, struct buser *u, size_t n, struct btraffic_opts *o,
                      struct btraffic_result *t)
{
	o->warmup_ns = brun_ns(r->cfg->quick ? 0.2 : 1.0);
	o->measure_ns = brun_ns(r->cfg->measure_s);
	return traffic(r, u, n, o, t, "saturation");
}

/* The length of a fixed-rate phase at rate msg/s: --latency, or by default at least
 * cfg->latency_s and long enough for BENCH_TAIL_ACKS acks (a p99 of 500 samples is the fifth
 * worst: one disk stall decides it). */
static double fixed_rate_seconds(const struct bconfig *cfg, double rate)
{
	double s = cfg->latency_s;

	if (cfg->latency_auto && rate > 0 && BENCH_TAIL_ACKS / rate > s)
		s = BENCH_TAIL_ACKS / rate;
	return s;
}

/* The second phase of a scenario: rate msg/s in total, a short warm-up, then
 * fixed_rate_seconds measured; the window is wide enough never to hold the senders back. */
static int fixed_rate(struct brun *r, struct buser *u, size_t n, struct btraffic_opts *o,
                      struct btraffic_result *t, double rate)
{
	o->rate = rate;
	o->window = 1024;
	o->warmup_ns = brun_ns(r->cfg->quick ? 0.1 : 0.5);
	o->measure_ns = brun_ns(fixed_rate_seconds(r->cfg, rate));
	return traffic(r, u, n, o, t, "fixed rate");
}

/* A fixed-rate phase fails when the senders could not keep the rate. */
static void check_rate_kept(struct brun *r, const struct btraffic_result *t)
{
	if (t->rate_missed > 0)
		bscen_fail(r->s, "the fixed rate was not kept: %llu sends skipped",
		           (unsigned long long)t->rate_missed);
}

void bscen_not_runnable(struct breport *rep, const char *name, const char *label,
                        const char *why)
{
	struct bscenario *s = breport_add(rep, name, label);

	if (s != NULL)
		bscen_skip(s, "not runnable here: %s", why);
}

/* ---- connect: N idle logged-in clients ---- */

/* The last logins of the N, measured apart: what one login costs the server with about N users
 * online (issue 13: presence work per login O(contacts), not O(online users)). Enough that the
 * CPU figure is not all clock-tick rounding; at most a fifth of N. */
#define CONNECT_LATE 200

/* The late logins (u[0, late), after the others): presence events per login (every
 * connection counted, up to a ping barrier for all n) and server CPU per login. */
static void connect_late_logins(struct brun *r, struct buser *u, size_t n, size_t late)
{
	struct bsetup_stats st, sync;
	struct bserver_usage before, after;
	char name[80];

	before = bserver_usage(&r->srv);
	if (bsetup_login(r->net, u + (n - late), late, false, NULL, BSETUP_WINDOW,
	                 brun_deadline(r, 30), &st, r->err, sizeof(r->err)) != 0) {
		brun_fail(r, "the last logins");
		return;
	}
	/* The server's work for a login is done when its reply is sent (presence goes out in the
	 * same turn); the ping barrier after it costs O(online), so it is left out. */
	after = bserver_usage(&r->srv);
	if (bsetup_sync_counted(r->net, u, n, brun_deadline(r, 30), &sync, r->err,
	                        sizeof(r->err)) != 0) {
		brun_fail(r, "sync after the last logins");
		return;
	}
	snprintf(name, sizeof(name), "presence events per login, last %zu", late);
	bscen_metric(r->s, name, (double)(st.presence + sync.presence) / (double)late, "");
	snprintf(name, sizeof(name), "server CPU per login, last %zu", late);
	if (before.ok && after.ok)
		bscen_metric(r->s, name, (double)(after.cpu_us - before.cpu_us) / (double)late, "us");
}

void bscen_connect(const struct bconfig *cfg, struct breport *rep, size_t n)
{
	struct brun r;
	char label[96], scen[32];
	struct buser *u = NULL;
	struct bsetup_stats st;
	struct bserver_usage before, after;
	size_t late = n / 5 < CONNECT_LATE ? n / 5 : CONNECT_LATE, first = n - late;
	int64_t t0;

	snprintf(label, sizeof(label), "connect %zu", n);
	snprintf(scen, sizeof(scen), "c%zu_", n);
	if (brun_begin(&r, cfg, rep, "connect", label) != 0)
		goto out;
	snprintf(r.s->params, sizeof(r.s->params),
	         "%zu users registered over 32 pipelined connections, then one connection each "
	         "(over %d source addresses), %d logins in flight: %zu, whose figures and idle RSS "
	         "are measured after every session got its presence events (ping barrier), then "
	         "the last %zu apart (%zu to %zu online)", n, cfg->nsrc, BSETUP_WINDOW, first, late,
	         first, n);
	u = bsetup_users(cfg->tag, scen, n);
	before = bserver_usage(&r.srv);
	if (bsetup_register(r.net, u, n, 32, brun_deadline(&r, 30), r.err, sizeof(r.err)) != 0) {
		brun_fail(&r, "registration");
		goto out;
	}
	after = bserver_usage(&r.srv);
	/* issue 13: <= 60 us of server CPU per registration with cheap hashing */
	if (before.ok && after.ok)
		bscen_metric_target(r.s, "server CPU per registration", (double)(after.cpu_us -
		                    before.cpu_us) / (double)n, "us", "<=", 60.0, "<= 60 us");
	else
		bscen_metric_na(r.s, "server CPU per registration", "us", "<= 60 us",
		                "not our process (--target)");
	before = bserver_usage(&r.srv);
	t0 = bnet_clock();
	if (bsetup_login(r.net, u, first, false, NULL, BSETUP_WINDOW, brun_deadline(&r, 50), &st,
	                 r.err, sizeof(r.err)) != 0) {
		brun_fail(&r, "logins");
		goto out;
	}
	if (bsetup_sync(r.net, u, first, brun_deadline(&r, 30), r.err, sizeof(r.err)) != 0) {
		brun_fail(&r, "sync after logins");
		goto out;
	}
	after = bserver_usage(&r.srv);
	bscen_metric(r.s, "logins/s", (double)first / ((double)st.login_ns / 1e9), "1/s");
	bscen_metric(r.s, "all logged in and quiet after", (double)(bnet_clock() - t0) / 1e9, "s");
	bscen_metric(r.s, "presence events received", (double)st.presence, "");
	/* Login i finds i - 1 online: O(online) presence makes this about min(n, limit) / 2. */
	bscen_metric(r.s, "presence events per login", (double)st.presence / (double)first, "");
	if (before.ok && after.ok) {
		double kib = (double)(after.rss_kib - before.rss_kib) / (double)first;

		bscen_metric(r.s, "server CPU per login", (double)(after.cpu_us - before.cpu_us) /
		             (double)first, "us");
		bscen_metric(r.s, "server RSS before logins", (double)before.rss_kib / 1024.0, "MiB");
		bscen_metric(r.s, "server RSS with all idle", (double)after.rss_kib / 1024.0, "MiB");
		bscen_metric_target(r.s, "server RSS per idle connection", kib, "KiB", "<=", 2.0,
		                    "<= 2 KiB");
	} else {
		bscen_metric_na(r.s, "server RSS per idle connection", "KiB", "<= 2 KiB",
		                "not our process (--target)");
	}
	if (late > 0)
		connect_late_logins(&r, u, n, late);
	brun_peak_rss(&r);
out:
	brun_end(&r);
	free(u);
}

/* ---- fanout: one room, S senders ---- */

struct fanout_targets {
	size_t members;
	double deliveries;        /* per second at saturation */
	double cpu_us;            /* per delivery */
	bool tail;                /* ack and delivery p99 at 100 msg/s <= 2x fdatasync p99 */
};

/* Issue 13: >= 5 M/s into 100 members, keeping 1000 and 5000 (the targets met before it). */
static const struct fanout_targets fanout_table[] = {
	{ 100, 5e6, NO_TARGET, true },
	{ 1000, 3.5e6, 0.25, true },
	{ 5000, 3e6, NO_TARGET, false },
};

void bscen_fanout(const struct bconfig *cfg, struct breport *rep, size_t members, size_t senders)
{
	struct fanout_targets tg = { members, NO_TARGET, NO_TARGET, false };
	struct btraffic_result *t = calloc(1, sizeof(*t));
	struct btraffic_opts o;
	struct brun r;
	char label[96], scen[32], room[40], target[48], floor_text[48];
	struct buser *u = NULL;
	double floor;
	int64_t lag = (int64_t)(2000000 / members);
	/* Enough in flight that pierd, not the round trip, is the limit: with 64 per sender into
	 * 100 members the whole window fits one store batch, and the store, the loop's fan-out and
	 * the bench's reading ran one after the other (docs/PERFORMANCE.md, "Fan-out: the bench's
	 * own reader"). */
	int window = cfg->window > 0 ? cfg->window : members >= 5000 ? 32 : members >= 1000 ? 64 : 256;
	double rate = 100.0;

	if (t == NULL)
		abort();
	for (size_t i = 0; i < sizeof(fanout_table) / sizeof(fanout_table[0]); i++) {
		if (fanout_table[i].members == members)
			tg = fanout_table[i];
	}
	if (senders > members)
		senders = members;
	lag = lag < 512 ? 512 : lag > 4096 ? 4096 : lag;
	snprintf(label, sizeof(label), "fanout %zu members", members);
	snprintf(scen, sizeof(scen), "f%zu_", members);
	snprintf(room, sizeof(room), "#%s_fan%zu", cfg->tag, members);
	if (brun_begin(&r, cfg, rep, "fanout", label) != 0)
		goto out;
	snprintf(r.s->params, sizeof(r.s->params),
	         "room %s with %zu members (all online), %zu of them send. Saturation: each sender "
	         "keeps %d sends unacked, no receiver more than %lld messages behind; %.1f s warm-up, "
	         "%.1f s measured; deliveries counted at the receivers. Latency: %.0f msg/s in total "
	         "for %.1f s, send to receive on the monotonic clock, every delivery a sample.",
	         room, members, senders, window, (long long)lag, cfg->quick ? 0.2 : 1.0, cfg->measure_s,
	         rate, fixed_rate_seconds(cfg, rate));
	u = bsetup_users(cfg->tag, scen, members);
	if (bscen_setup_users(&r, u, members, room) != 0)
		goto out;

	memset(&o, 0, sizeof(o));
	o.mode = BTRAFFIC_ROOM;
	o.room = room;
	o.nsenders = senders;
	o.window = window;
	o.lag_limit = lag;
	if (saturation(&r, u, members, &o, t) != 0)
		goto out;
	snprintf(target, sizeof(target), ">= %g M/s", tg.deliveries / 1e6);
	bscen_per_second(r.s, "deliveries/s (saturation)", t->win_delivered, t, tg.deliveries, target);
	bscen_per_second(r.s, "messages/s (saturation)", t->win_acked, t, NO_TARGET, NULL);
	bscen_cpu_metrics(&r, t, "", "delivery", t->win_delivered, tg.cpu_us);
	bscen_latency_metrics(r.s, "ack latency under load", &t->ack, 20.0);
	bscen_latency_metrics(r.s, "delivery latency under load", &t->lat, NO_TARGET);

	floor = tail_floor(&r, floor_text, sizeof(floor_text));
	if (fixed_rate(&r, u, members, &o, t, rate) != 0)
		goto out;
	if (tg.tail) {
		latency_metrics(r.s, "ack latency at 100 msg/s", &t->ack, floor, floor_text);
		latency_metrics(r.s, "latency at 100 msg/s", &t->lat, floor, floor_text);
	} else {
		bscen_latency_metrics(r.s, "ack latency at 100 msg/s", &t->ack, NO_TARGET);
		bscen_latency_metrics(r.s, "latency at 100 msg/s", &t->lat, NO_TARGET);
	}
	bscen_cpu_metrics(&r, t, " at 100 msg/s", "delivery", t->win_delivered, NO_TARGET);
	check_rate_kept(&r, t);
	brun_peak_rss(&r);
out:
	brun_end(&r);
	free(u);
	free(t);
}

/* ---- private: K pairs ---- */

void bscen_private(const struct bconfig *cfg, struct breport *rep, size_t pairs)
{
	struct btraffic_result *t = calloc(1, sizeof(*t));
	struct btraffic_opts o;
	struct brun r;
	char label[96], scen[32], target[48], floor_text[48];
	struct buser *u = NULL;
	size_t n = pairs * 2;
	int window = (int)(8192 / n);
	/* issue 13: >= 300 k/s over 500 pairs, >= 250 k/s over 2000, <= 5 us of server CPU each;
	 * the tail at a steady 2000 msg/s */
	double goal = pairs == 500 ? 300e3 : pairs == 2000 ? 250e3 : NO_TARGET;
	double cpu_goal = pairs == 500 || pairs == 2000 ? 5.0 : NO_TARGET;
	double rate = 2000.0, floor;

	if (t == NULL)
		abort();
	window = window < 1 ? 1 : window > 64 ? 64 : window;
	if (cfg->window > 0)
		window = cfg->window;
	snprintf(label, sizeof(label), "private %zu pairs", pairs);
	snprintf(scen, sizeof(scen), "p%zu_", pairs);
	if (brun_begin(&r, cfg, rep, "private", label) != 0)
		goto out;
	snprintf(r.s->params, sizeof(r.s->params),
	         "%zu users in %zu pairs, each sending to its partner. Saturation: %d sends unacked "
	         "per user, %.1f s measured; msg/s counted at the addressees. Latency: %.0f msg/s in "
	         "total for %.1f s.", n, pairs, window, cfg->measure_s, rate, fixed_rate_seconds(cfg, rate));
	u = bsetup_users(cfg->tag, scen, n);
	if (bscen_setup_users(&r, u, n, NULL) != 0)
		goto out;

	memset(&o, 0, sizeof(o));
	o.mode = BTRAFFIC_PRIVATE;
	o.window = window;
	o.lag_limit = window * 4 + 64;
	if (saturation(&r, u, n, &o, t) != 0)
		goto out;
	snprintf(target, sizeof(target), ">= %gk/s", goal / 1e3);
	bscen_per_second(r.s, "messages/s (saturation)", t->win_delivered, t, goal, target);
	bscen_cpu_metrics(&r, t, "", "message", t->win_delivered, cpu_goal);
	bscen_latency_metrics(r.s, "ack latency under load", &t->ack, 20.0);
	bscen_latency_metrics(r.s, "delivery latency under load", &t->lat, NO_TARGET);

	o.lag_limit = 1 << 30;
	floor = tail_floor(&r, floor_text, sizeof(floor_text));
	if (fixed_rate(&r, u, n, &o, t, rate) != 0)
		goto out;
	latency_metrics(r.s, "ack latency at 2000 msg/s", &t->ack, floor, floor_text);
	latency_metrics(r.s, "latency at 2000 msg/s", &t->lat, floor, floor_text);
	bscen_cpu_metrics(&r, t, " at 2000 msg/s", "message", t->win_delivered, NO_TARGET);
	check_rate_kept(&r, t);
	brun_peak_rss(&r);
out:
	brun_end(&r);
	free(u);
	free(t);
}

/* ---- durable: acknowledgements only ---- */

void bscen_durable(const struct bconfig *cfg, struct breport *rep, size_t senders)
{
	struct btraffic_result *t = calloc(1, sizeof(*t));
	struct btraffic_opts o;
	struct brun r;
	char label[96], scen[32], perf_path[700];
	struct buser *u = NULL;
	pid_t perf;
	int64_t syncs;
	int window = cfg->window > 0 ? cfg->window : 16;
	double rate = 1000.0;

	if (t == NULL)
		abort();
	snprintf(label, sizeof(label), "durable %zu senders", senders);
	snprintf(scen, sizeof(scen), "d%zu_", senders);
	if (brun_begin(&r, cfg, rep, "durable", label) != 0)
		goto out;
	snprintf(r.s->params, sizeof(r.s->params),
	         "%zu users each send to themselves (a private message with no other session: "
	         "stored and acked, delivered nowhere), default durability (synchronous=FULL). "
	         "Saturation: %d sends unacked per user, %.1f s measured. Then %.0f msg/s for %.1f s. "
	         "Commits counted as pierd's fdatasync+fsync calls (perf stat tracepoints; checkpoints "
	         "included, so messages per commit is at least the figure shown).",
	         senders, window, cfg->measure_s, rate, fixed_rate_seconds(cfg, rate));
	u = bsetup_users(cfg->tag, scen, senders);
	if (bscen_setup_users(&r, u, senders, NULL) != 0)
		goto out;

	memset(&o, 0, sizeof(o));
	o.mode = BTRAFFIC_SELF;
	o.window = window;
	o.lag_limit = 1 << 30;
	perf = bserver_count_syncs_begin(&r.srv, perf_path, sizeof(perf_path));
	if (saturation(&r, u, senders, &o, t) != 0) {
		bserver_count_syncs_end(perf, perf_path);
		goto out;
	}
	syncs = bserver_count_syncs_end(perf, perf_path);
	bscen_per_second(r.s, "acked messages/s (saturation)", t->win_acked, t, NO_TARGET, NULL);
	if (syncs > 0)
		bscen_metric(r.s, "messages per fdatasync (whole run)", (double)t->acked / (double)syncs,
		             "");
	else
		bscen_metric_na(r.s, "messages per fdatasync", "", NULL, r.srv.pid == 0 ?
		                "not our process (--target)" :
		                "perf stat with syscall tracepoints not available");
	bscen_cpu_metrics(&r, t, "", "acked message", t->win_acked, NO_TARGET);
	bscen_latency_metrics(r.s, "ack latency under load", &t->ack, 20.0);

	if (fixed_rate(&r, u, senders, &o, t, rate) != 0)
		goto out;
	bscen_latency_metrics(r.s, "ack latency at 1000 msg/s", &t->ack, 20.0);
	bscen_cpu_metrics(&r, t, " at 1000 msg/s", "acked message", t->win_acked, NO_TARGET);
	check_rate_kept(&r, t);
	brun_peak_rss(&r);
out:
	brun_end(&r);
	free(u);
	free(t);
}
