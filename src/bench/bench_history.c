/* bench_history.c - the history scenario: one writer fills a room, then readers page through
 * it concurrently; every page is compared with what the writer's acks said was stored. */
#include "bench_history.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"
#include "bench_setup.h"
#include "bench_stats.h"

#define PAGE        50        /* messages per page asked for */
#define DEPTH       2         /* requests in flight per reader */
#define FILL_WINDOW 256

struct pending {
	int64_t sent_ns;
	size_t b;                 /* the page is ids[b - PAGE .. b - 1]; b == nmsgs: newest */
};

struct reader {
	struct pending q[DEPTH];
	size_t head, len;
	uint64_t rng;
};

struct hist {
	struct brun *r;
	struct buser *u;          /* u[0] writes, the others read */
	size_t n;
	const char *room;
	int64_t *ids;             /* the room's messages, oldest first */
	size_t nmsgs, queued, acked;
	struct reader *rd;
	bool reading, in_window;
	int64_t t0_plan, t1_plan, t0, t1, stop_ns;
	uint64_t pages, win_pages, outstanding, errors;
	struct bstats_hist lat;
	char first_error[512];
	struct bserver_usage cpu0, cpu1;
	int64_t bench0_us, bench1_us, machine0_us, machine1_us;
};

static void herror(struct hist *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void herror(struct hist *h, const char *fmt, ...)
{
	va_list ap;

	if (h->errors++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(h->first_error, sizeof(h->first_error), fmt, ap);
	va_end(ap);
}

static double ms_of(int64_t ns)
{
	return (double)ns / 1e6;
}

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64*: enough to spread the pages */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* ---- filling the room ---- */

static void fill_more(struct hist *h)
{
	while (h->queued < h->nmsgs && h->queued - h->acked < FILL_WINDOW) {
		char text[32];

		snprintf(text, sizeof(text), "h %zu", h->queued++);
		bnet_request(h->u[0].c, pier_req_send(h->room, text, NULL));
	}
}

static void fill_fast(void *ctx, struct bconn *c, const struct bline *ev)
{
	struct hist *h = ctx;

	(void)c;
	if (ev->op != BLINE_SENT)
		return;                   /* presence of readers: none yet */
	if (h->acked >= h->queued || ev->id <= (h->acked ? h->ids[h->acked - 1] : 0)) {
		herror(h, "filling: an unexpected sent reply (id %" PRId64 ")", ev->id);
		return;
	}
	h->ids[h->acked++] = ev->id;
	fill_more(h);
}

static void any_json(void *ctx, struct bconn *c, json_t *ev);
static void any_close(void *ctx, struct bconn *c, const char *why);

static bool fill_done(void *ctx)
{
	struct hist *h = ctx;

	return h->errors > 0 || h->acked == h->nmsgs;
}

/* ---- reading pages ---- */

static void ask(struct hist *h, size_t ri)
{
	struct reader *rd = &h->rd[ri];
	struct pending *p = &rd->q[(rd->head + rd->len) % DEPTH];
	size_t b = 1 + (size_t)(next_rand(&rd->rng) % h->nmsgs);   /* 1 .. nmsgs */
	int64_t before = b == h->nmsgs ? 0 : h->ids[b];

	p->b = b;
	p->sent_ns = bnet_clock();
	rd->len++;
	h->outstanding++;
	bnet_request(h->u[ri].c, pier_req_history(h->room, before, PAGE));
}

/* Compares a page with ids[b - PAGE .. b - 1]; 0 when it is exactly that. */
static int check_page(struct hist *h, size_t ri, json_t *ev, size_t b)
{
	json_t *msgs = json_object_get(ev, "messages");
	size_t first = b > PAGE ? b - PAGE : 0, want = b - first;
	const char *with = json_string_value(json_object_get(ev, "with"));

	if (strcmp(pier_event_op(ev), "history") != 0 || with == NULL || strcmp(with, h->room) != 0 ||
	    !json_is_array(msgs)) {
		herror(h, "%s: not a history page: op %s", h->u[ri].name, pier_event_op(ev));
		return -1;
	}
	if (json_array_size(msgs) != want) {
		herror(h, "%s: a page before index %zu has %zu messages, want %zu", h->u[ri].name, b,
		       json_array_size(msgs), want);
		return -1;
	}
	if (json_is_true(json_object_get(ev, "more")) != (first > 0)) {
		herror(h, "%s: a page before index %zu says more=%s", h->u[ri].name, b,
		       first > 0 ? "false" : "true");
		return -1;
	}
	for (size_t k = 0; k < want; k++) {
		json_t *m = json_array_get(msgs, k);
		const char *from = json_string_value(json_object_get(m, "from"));
		const char *to = json_string_value(json_object_get(m, "to"));
		const char *text = json_string_value(json_object_get(m, "text"));
		json_int_t id = json_integer_value(json_object_get(m, "id"));
		char want_text[32];

		snprintf(want_text, sizeof(want_text), "h %zu", first + k);
		if (id != h->ids[first + k] || from == NULL || strcmp(from, h->u[0].name) != 0 ||
		    to == NULL || strcmp(to, h->room) != 0 || text == NULL ||
		    strcmp(text, want_text) != 0) {
			herror(h, "%s: page before index %zu, entry %zu: id %lld from %s text %s; want id %"
			       PRId64 " text %s", h->u[ri].name, b, k, (long long)id, from ? from : "-",
			       text ? text : "-", h->ids[first + k], want_text);
			return -1;
		}
	}
	return 0;
}

static void read_json(void *ctx, struct bconn *c, json_t *ev)
{
	struct hist *h = ctx;
	struct buser *u = c->udata;
	struct reader *rd;
	struct pending *p;
	int64_t now = bnet_now(h->r->net);

	if (u->idx == 0 || h->rd[u->idx].len == 0) {
		any_json(ctx, c, ev);
		return;
	}
	rd = &h->rd[u->idx];
	p = &rd->q[rd->head];
	rd->head = (rd->head + 1) % DEPTH;
	rd->len--;
	h->outstanding--;
	if (check_page(h, u->idx, ev, p->b) != 0)
		return;
	h->pages++;
	if (h->in_window)
		h->win_pages++;
	if (p->sent_ns >= h->t0_plan && p->sent_ns < h->t1_plan)
		bstats_record(&h->lat, now - p->sent_ns);
	if (h->reading)
		ask(h, u->idx);
}

static void read_fast(void *ctx, struct bconn *c, const struct bline *ev)
{
	struct hist *h = ctx;
	struct buser *u = c->udata;

	if (ev->op == BLINE_MSG || ev->op == BLINE_SENT || ev->op == BLINE_PONG)
		herror(h, "%s: unexpected event while reading history", u->name);
}

static void any_json(void *ctx, struct bconn *c, json_t *ev)
{
	struct hist *h = ctx;
	struct buser *u = c->udata;
	char *s = json_dumps(ev, JSON_COMPACT);

	herror(h, "%s got an unexpected event: %.300s", u->name, s != NULL ? s : "?");
	free(s);
}

static void any_close(void *ctx, struct bconn *c, const char *why)
{
	struct hist *h = ctx;
	struct buser *u = c->udata;

	herror(h, "the connection of %s closed: %s", u->name, why);
}

static bool read_step(void *ctx)
{
	struct hist *h = ctx;
	int64_t now = bnet_clock();

	if (h->errors > 0)
		return true;
	if (h->reading && !h->in_window && h->t0 == 0 && now >= h->t0_plan) {
		h->cpu0 = bserver_usage(&h->r->srv);
		h->bench0_us = bserver_bench_cpu_us();
		h->machine0_us = bserver_machine_busy_us();
		h->t0 = bnet_clock();
		h->in_window = true;
	}
	if (h->in_window && now >= h->t1_plan) {
		h->cpu1 = bserver_usage(&h->r->srv);
		h->bench1_us = bserver_bench_cpu_us();
		h->machine1_us = bserver_machine_busy_us();
		h->t1 = bnet_clock();
		h->in_window = false;
		h->reading = false;
	}
	if (!h->reading && h->outstanding == 0)
		return true;
	if (now > h->stop_ns) {
		herror(h, "history replies missing: %" PRIu64 " still outstanding", h->outstanding);
		return true;
	}
	return false;
}

static int run_fill(struct hist *h)
{
	static const struct bnet_handler fh = {
		.on_fast = fill_fast, .on_json = any_json, .on_close = any_close,
	};

	fill_more(h);
	if (bnet_run(h->r->net, &fh, h, fill_done, brun_deadline(h->r, 20)) != 0)
		herror(h, "filling the room timed out: %zu of %zu acked", h->acked, h->nmsgs);
	return h->errors == 0 ? 0 : -1;
}

static int run_reads(struct hist *h, const struct bconfig *cfg)
{
	static const struct bnet_handler rh = {
		.on_fast = read_fast, .on_json = read_json, .on_close = any_close,
	};
	int64_t start = bnet_clock();

	h->t0_plan = start + brun_ns(cfg->quick ? 0.2 : 0.5);
	h->t1_plan = h->t0_plan + brun_ns(cfg->measure_s);
	h->stop_ns = h->t1_plan + brun_ns(10);
	h->reading = true;
	for (size_t i = 1; i < h->n; i++) {
		h->rd[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
		for (int k = 0; k < DEPTH; k++)
			ask(h, i);
	}
	if (bnet_run(h->r->net, &rh, h, read_step, brun_deadline(h->r, 60)) != 0)
		herror(h, "the history phase did not finish in time");
	return h->errors == 0 ? 0 : -1;
}

void bscen_history(const struct bconfig *cfg, struct breport *rep, size_t readers)
{
	struct hist *h = calloc(1, sizeof(*h));
	struct brun r;
	char label[96], room[40];
	size_t nmsgs = cfg->quick ? 500 : 10000;

	if (h == NULL)
		abort();
	snprintf(label, sizeof(label), "history %zu readers", readers);
	snprintf(room, sizeof(room), "#%s_hist", cfg->tag);
	if (brun_begin(&r, cfg, rep, "history", label) != 0)
		goto out;
	snprintf(r.s->params, sizeof(r.s->params),
	         "one writer stores %zu messages in %s; then %zu members each keep %d history "
	         "requests (limit %d, before a random stored id or the newest) in flight for %.1f s; "
	         "every page is compared with the ids the writer's acks returned", nmsgs, room,
	         readers, DEPTH, PAGE, cfg->measure_s);
	h->r = &r;
	h->n = readers + 1;
	h->room = room;
	h->nmsgs = nmsgs;
	h->u = bsetup_users(cfg->tag, "h_", h->n);
	h->ids = calloc(nmsgs, sizeof(*h->ids));
	h->rd = calloc(h->n, sizeof(*h->rd));
	bstats_init(&h->lat);
	if (h->ids == NULL || h->rd == NULL)
		abort();
	if (bsetup_login(r.net, h->u, 1, true, room, 1, brun_deadline(&r, 10), NULL, r.err,
	                 sizeof(r.err)) != 0) {
		brun_fail(&r, "writer setup");
		goto out;
	}
	if (run_fill(h) != 0) {
		snprintf(r.err, sizeof(r.err), "%s", h->first_error);
		brun_fail(&r, "filling the room");
		goto out;
	}
	if (bsetup_login(r.net, h->u + 1, readers, true, room, BSETUP_WINDOW, brun_deadline(&r, 30),
	                 NULL, r.err, sizeof(r.err)) != 0 ||
	    bsetup_sync(r.net, h->u, h->n, brun_deadline(&r, 20), r.err, sizeof(r.err)) != 0) {
		brun_fail(&r, "readers setup");
		goto out;
	}
	/* bsetup_users numbered the readers from 1 in u[1..]; bsetup_login used u + 1 as is. */
	if (run_reads(h, cfg) != 0) {
		snprintf(r.err, sizeof(r.err), "%s", h->first_error);
		brun_fail(&r, "reading pages");
		goto out;
	}
	bscen_metric(r.s, "pages/s", (double)h->win_pages / ((double)(h->t1 - h->t0) / 1e9), "1/s");
	bscen_metric(r.s, "messages read/s", (double)h->win_pages * PAGE /
	             ((double)(h->t1 - h->t0) / 1e9), "1/s");
	if (h->cpu0.ok && h->cpu1.ok && h->win_pages > 0) {
		double win_us = (double)(h->t1 - h->t0) / 1e3;
		int64_t srv = h->cpu1.cpu_us - h->cpu0.cpu_us, bench = h->bench1_us - h->bench0_us;
		int64_t other = h->machine1_us - h->machine0_us - srv - bench;

		bscen_metric(r.s, "server CPU", 100.0 * (double)srv / win_us, "% core");
		bscen_metric(r.s, "  of which event loop thread", 100.0 *
		             (double)(h->cpu1.main_cpu_us - h->cpu0.main_cpu_us) / win_us, "% core");
		bscen_metric(r.s, "server CPU per page", (double)srv / (double)h->win_pages, "us");
		bscen_metric(r.s, "bench CPU", 100.0 * (double)bench / win_us, "% core");
		if (h->machine0_us >= 0 && h->machine1_us >= 0) {
			double pct = 100.0 * (double)(other > 0 ? other : 0) / win_us;
			struct bmetric *m = bscen_metric(r.s, "other processes' CPU", pct, "% core");

			if (pct > 25.0)
				snprintf(m->note, sizeof(m->note), "DISTURBED: other processes competed for "
				         "the CPUs; the figures understate pierd");
		}
	}
	bscen_metric(r.s, "page latency p50", ms_of(bstats_quantile(&h->lat, 0.5)), "ms");
	bscen_metric(r.s, "page latency p99", ms_of(bstats_quantile(&h->lat, 0.99)), "ms");
	bscen_metric(r.s, "page latency p999", ms_of(bstats_quantile(&h->lat, 0.999)), "ms");
	bscen_metric(r.s, "page latency max", ms_of(h->lat.max), "ms");
	brun_peak_rss(&r);
out:
	brun_end(&r);
	if (h->u != NULL)
		free(h->u);
	free(h->ids);
	free(h->rd);
	free(h);
}
