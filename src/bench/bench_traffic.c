/* bench_traffic.c - windowed or fixed-rate senders, verifying receivers (bench_traffic.h). */
#include "bench_traffic.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum phase { PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_DONE };

struct sender {
	struct bconn *c;
	uint64_t next_seq, acked;
	int64_t last_ack_id;
	int64_t *send_ns;             /* ring of window entries, by seq % window */
	int64_t *ids;                 /* id of each seq, 0 until known */
	size_t ids_cap;
	char to[64];                  /* the target, as sent and as it comes back */
	size_t to_len;
	size_t name_len;              /* of the sender's user name */
	bool blocked;                 /* waiting for a receiver to catch up (private) */
};

struct receiver {
	uint64_t count;
	int64_t last_id;
	uint64_t *next_from;          /* per sender (room) or one (private) */
	char to[64];                  /* the "to" its messages must carry */
	size_t to_len;
};

struct traffic {
	const struct btraffic_opts *o;
	struct btraffic_result *r;
	struct bnet *net;
	struct buser *u;
	size_t n, nsend;
	struct sender *snd;
	struct receiver *rcv;
	uint64_t *next_from_all;
	enum phase phase;
	int64_t start_ns, t0_plan, t1_plan, t0, t1, drain_end;
	bool in_window;
	bool lag_blocked;             /* room: the slowest receiver is lag_limit behind */
	uint64_t lag_checked_at;      /* sends counted at the last lag check */
	uint64_t rr;                  /* fixed rate: next sender, round robin */
	struct bserver_usage cpu0;
	int64_t bench0_us, machine0_us;
};

static void tfail(struct traffic *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tfail(struct traffic *t, const char *fmt, ...)
{
	va_list ap;

	if (t->r->errors++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(t->r->first_error, sizeof(t->r->first_error), fmt, ap);
	va_end(ap);
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int k = 0;

	do {
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (k > 0)
		*p++ = tmp[--k];
	return p;
}

static char *put_str(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}
#define PUT_LIT(p, lit) put_str((p), (lit), sizeof(lit) - 1)

int64_t btraffic_read_u64(const char **p, const char *end)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9' && v < (UINT64_C(1) << 60))
		v = v * 10 + (uint64_t)(*s++ - '0');
	*p = s;
	return (int64_t)v;
}

int btraffic_parse_text(const char *p, size_t len, int64_t *sidx, int64_t *seq, int64_t *t_ns)
{
	const char *end = p + len;

	if (len < 8 || p[0] != 'b' || p[1] != ' ')
		return -1;
	p += 2;
	*sidx = btraffic_read_u64(&p, end);
	if (*sidx < 0 || p >= end || *p++ != ' ')
		return -1;
	*seq = btraffic_read_u64(&p, end);
	if (*seq < 0 || p >= end || *p++ != ' ')
		return -1;
	*t_ns = btraffic_read_u64(&p, end);
	return *t_ns < 0 || p != end ? -1 : 0;
}

static bool str_is(struct bline_str s, const char *z, size_t len)
{
	return s.p != NULL && s.len == len && memcmp(s.p, z, len) == 0;
}

static void grow_ids(struct sender *s)
{
	size_t old = s->ids_cap;

	if (s->next_seq < old)
		return;
	s->ids_cap = old ? old * 2 : 4096;
	s->ids = realloc(s->ids, s->ids_cap * sizeof(*s->ids));
	if (s->ids == NULL)
		abort();
	memset(s->ids + old, 0, (s->ids_cap - old) * sizeof(*s->ids));
}

/* The same message must carry the same id everywhere. */
static void note_id(struct traffic *t, uint32_t sidx, uint64_t seq, int64_t id, const char *where)
{
	struct sender *s = &t->snd[sidx];

	if (s->ids[seq] == 0)
		s->ids[seq] = id;
	else if (s->ids[seq] != id)
		tfail(t, "message %u/%" PRIu64 " of %s has id %" PRId64 " in a %s but id %" PRId64
		      " elsewhere", sidx, seq, t->u[sidx].name, id, where, s->ids[seq]);
}

static void send_one(struct traffic *t, uint32_t sidx)
{
	struct sender *s = &t->snd[sidx];
	uint64_t seq = s->next_seq;
	int64_t now = bnet_clock();
	char line[256], *p = line;

	grow_ids(s);
	p = PUT_LIT(p, "{\"op\":\"send\",\"to\":\"");
	p = put_str(p, s->to, s->to_len);
	p = PUT_LIT(p, "\",\"text\":\"b ");
	p = put_u64(p, sidx);
	*p++ = ' ';
	p = put_u64(p, seq);
	*p++ = ' ';
	p = put_u64(p, (uint64_t)now);
	p = PUT_LIT(p, "\",\"ref\":\"");
	p = put_u64(p, seq);
	p = PUT_LIT(p, "\"}\n");
	s->send_ns[seq % (uint64_t)t->o->window] = now;
	s->next_seq++;
	t->r->sent++;
	bnet_queue_raw(s->c, line, (size_t)(p - line));
}

/* Whether sender sidx may send now (window and receiver lag). */
static bool may_send(struct traffic *t, uint32_t sidx)
{
	struct sender *s = &t->snd[sidx];

	if (s->next_seq - s->acked >= (uint64_t)t->o->window)
		return false;
	if (t->o->mode == BTRAFFIC_ROOM)
		return !t->lag_blocked;
	if (t->o->mode == BTRAFFIC_PRIVATE &&
	    s->next_seq - t->rcv[sidx ^ 1u].count >= (uint64_t)t->o->lag_limit) {
		s->blocked = true;
		return false;
	}
	return true;
}

static bool sending(const struct traffic *t)
{
	return t->phase == PH_WARMUP || t->phase == PH_MEASURE;
}

static void fill(struct traffic *t, uint32_t sidx)
{
	if (t->o->rate > 0 || !sending(t))
		return;
	t->snd[sidx].blocked = false;
	while (may_send(t, sidx))
		send_one(t, sidx);
}

/* Room: the slowest receiver's distance from the senders. */
static void update_room_lag(struct traffic *t)
{
	uint64_t min_progress = UINT64_MAX;

	for (size_t i = 0; i < t->n; i++) {
		uint64_t p = t->rcv[i].count + (i < t->nsend ? t->snd[i].next_seq : 0);

		if (p < min_progress)
			min_progress = p;
	}
	t->lag_blocked = t->r->sent - min_progress >= (uint64_t)t->o->lag_limit;
}

static void on_msg(struct traffic *t, uint32_t ridx, const struct bline *ev)
{
	struct receiver *rc = &t->rcv[ridx];
	int64_t sidx, seq, t_ns;
	uint64_t *next;

	if (t->o->mode == BTRAFFIC_SELF) {
		tfail(t, "%s got a msg although nobody sent it one: %.*s", t->u[ridx].name,
		      (int)ev->text.len, ev->text.p);
		return;
	}
	if (btraffic_parse_text(ev->text.p, ev->text.len, &sidx, &seq, &t_ns) != 0 ||
	    (uint64_t)sidx >= t->nsend) {
		tfail(t, "%s got a msg with a text the bench did not send: \"%.*s\"", t->u[ridx].name,
		      (int)(ev->text.len < 200 ? ev->text.len : 200), ev->text.p);
		return;
	}
	if (t->o->mode == BTRAFFIC_PRIVATE ? (uint32_t)sidx != (ridx ^ 1u) : (uint32_t)sidx == ridx) {
		tfail(t, "MISROUTED: %s got message %" PRId64 "/%" PRId64 " of %s", t->u[ridx].name,
		      sidx, seq, t->u[sidx].name);
		return;
	}
	if (!str_is(ev->from, t->u[sidx].name, t->snd[sidx].name_len) ||
	    !str_is(ev->to, rc->to, rc->to_len)) {
		tfail(t, "MISROUTED: %s got message %" PRId64 "/%" PRId64 " with from \"%.*s\" to \"%.*s\"",
		      t->u[ridx].name, sidx, seq, (int)ev->from.len, ev->from.p, (int)ev->to.len,
		      ev->to.p);
		return;
	}
	next = t->o->mode == BTRAFFIC_PRIVATE ? &rc->next_from[0] : &rc->next_from[sidx];
	if ((uint64_t)seq != *next) {
		tfail(t, "%s: %s got message %" PRId64 " of %s where %" PRIu64 " was due (id %" PRId64 ")",
		      (uint64_t)seq < *next ? "DUPLICATE or REORDERED" : "LOST or REORDERED",
		      t->u[ridx].name, seq, t->u[sidx].name, *next, ev->id);
		return;
	}
	if (ev->id <= rc->last_id) {
		tfail(t, "REORDERED: %s got id %" PRId64 " after id %" PRId64, t->u[ridx].name, ev->id,
		      rc->last_id);
		return;
	}
	rc->last_id = ev->id;
	(*next)++;
	note_id(t, (uint32_t)sidx, (uint64_t)seq, ev->id, "msg");
	rc->count++;
	t->r->delivered++;
	if (t->in_window)
		t->r->win_delivered++;
	if (t_ns >= t->t0_plan && t_ns < t->t1_plan)
		bstats_record(&t->r->lat, bnet_now(t->net) - t_ns);
	if (t->o->mode == BTRAFFIC_PRIVATE && t->snd[sidx].blocked)
		fill(t, (uint32_t)sidx);
}

static void on_sent(struct traffic *t, uint32_t sidx, const struct bline *ev)
{
	struct sender *s;
	const char *p;
	int64_t ref, sent_at;
	uint64_t seq;

	if (sidx >= t->nsend) {
		tfail(t, "%s got a sent reply but sent nothing", t->u[sidx].name);
		return;
	}
	s = &t->snd[sidx];
	seq = s->acked;
	p = ev->ref.p;
	ref = p != NULL ? btraffic_read_u64(&p, ev->ref.p + ev->ref.len) : -1;
	if (ref < 0 || p != ev->ref.p + ev->ref.len || (uint64_t)ref != seq || seq >= s->next_seq) {
		tfail(t, "%s: sent reply with ref \"%.*s\" where %" PRIu64 " was due", t->u[sidx].name,
		      (int)ev->ref.len, ev->ref.p ? ev->ref.p : "", seq);
		return;
	}
	if (ev->duplicate || !str_is(ev->to, s->to, s->to_len) || ev->id <= s->last_ack_id) {
		tfail(t, "%s: bad sent reply for %" PRIu64 ": id %" PRId64 " (last %" PRId64
		      "), to \"%.*s\"%s", t->u[sidx].name, seq, ev->id, s->last_ack_id, (int)ev->to.len,
		      ev->to.p, ev->duplicate ? ", duplicate" : "");
		return;
	}
	s->last_ack_id = ev->id;
	note_id(t, sidx, seq, ev->id, "sent reply");
	sent_at = s->send_ns[seq % (uint64_t)t->o->window];
	if (sent_at >= t->t0_plan && sent_at < t->t1_plan)
		bstats_record(&t->r->ack, bnet_now(t->net) - sent_at);
	s->acked++;
	t->r->acked++;
	if (t->in_window)
		t->r->win_acked++;
	fill(t, sidx);
}

static void on_fast(void *ctx, struct bconn *c, const struct bline *ev)
{
	struct traffic *t = ctx;
	struct buser *u = c->udata;

	switch (ev->op) {
	case BLINE_MSG:
		on_msg(t, u->idx, ev);
		break;
	case BLINE_SENT:
		on_sent(t, u->idx, ev);
		break;
	case BLINE_PONG:
		tfail(t, "%s: unexpected pong", u->name);
		break;
	default:
		t->r->stray++;
	}
}

static void on_json(void *ctx, struct bconn *c, json_t *ev)
{
	struct traffic *t = ctx;
	struct buser *u = c->udata;
	char *s = json_dumps(ev, JSON_COMPACT);

	tfail(t, "%s got an unexpected event: %.300s", u->name, s != NULL ? s : "?");
	free(s);
}

static void on_close(void *ctx, struct bconn *c, const char *why)
{
	struct traffic *t = ctx;
	struct buser *u = c->udata;

	tfail(t, "the connection of %s closed: %s", u->name, why);
}

static void on_tick(void *ctx, uint64_t ticks)
{
	struct traffic *t = ctx;

	if (!sending(t))
		return;
	for (uint64_t k = 0; k < ticks; k++) {
		uint32_t sidx = (uint32_t)(t->rr++ % t->nsend);
		struct sender *s = &t->snd[sidx];

		if (s->next_seq - s->acked < (uint64_t)t->o->window)
			send_one(t, sidx);
		else
			t->r->rate_missed++;
	}
}

static uint64_t expected_deliveries(const struct traffic *t)
{
	switch (t->o->mode) {
	case BTRAFFIC_ROOM:
		return t->r->sent * (t->n - 1);
	case BTRAFFIC_PRIVATE:
		return t->r->sent;
	default:
		return 0;
	}
}

/* Phase changes and CPU samples happen here, once per loop turn. */
static bool step(void *ctx)
{
	struct traffic *t = ctx;
	int64_t now = bnet_clock();

	if (t->r->errors > 0)
		return true;
	if (t->phase == PH_WARMUP && now >= t->t0_plan) {
		t->cpu0 = bserver_usage(t->o->server);
		t->bench0_us = bserver_bench_cpu_us();
		t->machine0_us = bserver_machine_busy_us();
		t->t0 = bnet_clock();
		t->in_window = true;
		t->phase = PH_MEASURE;
	}
	if (t->phase == PH_MEASURE && now >= t->t1_plan) {
		struct bserver_usage cpu1 = bserver_usage(t->o->server);

		t->t1 = bnet_clock();
		t->in_window = false;
		t->r->window_ns = t->t1 - t->t0;
		t->r->server_cpu_us = cpu1.ok && t->cpu0.ok ? cpu1.cpu_us - t->cpu0.cpu_us : -1;
		t->r->server_loop_us = cpu1.ok && t->cpu0.ok ? cpu1.main_cpu_us - t->cpu0.main_cpu_us : -1;
		t->r->bench_cpu_us = bserver_bench_cpu_us() - t->bench0_us;
		t->r->machine_busy_us = t->machine0_us >= 0 ? bserver_machine_busy_us() - t->machine0_us
		                                            : -1;
		t->phase = PH_DRAIN;
		t->drain_end = now + t->o->drain_ns;
		bnet_ticker(t->net, 0);
	}
	if (t->phase == PH_DRAIN) {
		if (t->r->acked == t->r->sent && t->r->delivered == expected_deliveries(t)) {
			t->phase = PH_DONE;
			return true;
		}
		if (now >= t->drain_end) {
			tfail(t, "LOST: after %.1f s of draining, %" PRIu64 " of %" PRIu64 " sends acked and %"
			      PRIu64 " of %" PRIu64 " deliveries arrived", (double)t->o->drain_ns / 1e9,
			      t->r->acked, t->r->sent, t->r->delivered, expected_deliveries(t));
			return true;
		}
		return false;
	}
	if (t->o->mode == BTRAFFIC_ROOM && t->o->rate <= 0) {
		bool was = t->lag_blocked;

		if (was || t->r->sent - t->lag_checked_at >= (uint64_t)t->o->lag_limit / 4) {
			t->lag_checked_at = t->r->sent;
			update_room_lag(t);
		}
		if (was && !t->lag_blocked) {
			for (uint32_t i = 0; i < t->nsend; i++)
				fill(t, i);
		}
	}
	return false;
}

/* After the drain: every receiver has exactly what was acknowledged for it. */
static void final_check(struct traffic *t)
{
	for (size_t i = 0; i < t->n && t->r->errors == 0; i++) {
		struct receiver *rc = &t->rcv[i];

		if (t->o->mode == BTRAFFIC_ROOM) {
			for (size_t s = 0; s < t->nsend; s++) {
				if (s != i && rc->next_from[s] != t->snd[s].acked)
					tfail(t, "LOST: %s got %" PRIu64 " messages of %s, %" PRIu64 " were acked",
					      t->u[i].name, rc->next_from[s], t->u[s].name, t->snd[s].acked);
			}
		} else if (t->o->mode == BTRAFFIC_PRIVATE && rc->next_from[0] != t->snd[i ^ 1u].acked) {
			tfail(t, "LOST: %s got %" PRIu64 " messages of %s, %" PRIu64 " were acked",
			      t->u[i].name, rc->next_from[0], t->u[i ^ 1u].name, t->snd[i ^ 1u].acked);
		}
	}
}

/* The hand-made send line must say what libpier's builder says. */
static int check_send_line(struct traffic *t)
{
	struct sender *s = &t->snd[0];
	char text[64], line[256];
	json_t *mine, *lib = pier_req_send(s->to, "b 0 0 0", NULL);
	int n, rc;

	json_object_set_new(lib, "ref", json_string("0"));
	snprintf(text, sizeof(text), "b 0 0 0");
	n = snprintf(line, sizeof(line), "{\"op\":\"send\",\"to\":\"%.*s\",\"text\":\"%s\",\"ref\":\"0\"}",
	             (int)s->to_len, s->to, text);
	mine = json_loadb(line, (size_t)n, 0, NULL);
	rc = mine != NULL && json_equal(mine, lib) ? 0 : -1;
	if (rc != 0)
		tfail(t, "the bench's send line differs from libpier's pier_req_send");
	json_decref(mine);
	json_decref(lib);
	return rc;
}

static void setup_targets(struct traffic *t)
{
	for (size_t i = 0; i < t->nsend; i++) {
		struct sender *s = &t->snd[i];
		const char *to = t->o->mode == BTRAFFIC_ROOM ? t->o->room : NULL;

		s->c = t->u[i].c;
		s->name_len = strlen(t->u[i].name);
		if (to != NULL)
			snprintf(s->to, sizeof(s->to), "%s", to);
		else
			snprintf(s->to, sizeof(s->to), "@%s",
			         t->u[t->o->mode == BTRAFFIC_PRIVATE ? i ^ 1u : i].name);
		s->to_len = strlen(s->to);
		s->send_ns = calloc((size_t)t->o->window, sizeof(*s->send_ns));
		if (s->send_ns == NULL)
			abort();
	}
	for (size_t i = 0; i < t->n; i++) {
		struct receiver *rc = &t->rcv[i];

		if (t->o->mode == BTRAFFIC_ROOM)
			snprintf(rc->to, sizeof(rc->to), "%s", t->o->room);
		else
			snprintf(rc->to, sizeof(rc->to), "@%s", t->u[i].name);
		rc->to_len = strlen(rc->to);
		rc->next_from = t->next_from_all + i * (t->o->mode == BTRAFFIC_ROOM ? t->nsend : 1);
	}
}

int btraffic_run(struct bnet *net, struct buser *u, size_t n, const struct btraffic_opts *o,
                 struct btraffic_result *r)
{
	static const struct bnet_handler h = {
		.on_fast = on_fast, .on_json = on_json, .on_close = on_close, .on_tick = on_tick,
	};
	struct traffic t;
	int64_t deadline;

	memset(r, 0, sizeof(*r));
	bstats_init(&r->lat);
	bstats_init(&r->ack);
	r->server_cpu_us = -1;
	memset(&t, 0, sizeof(t));
	t.o = o;
	t.r = r;
	t.net = net;
	t.u = u;
	t.n = n;
	t.nsend = o->mode == BTRAFFIC_ROOM ? o->nsenders : n;
	if (t.nsend == 0 || t.nsend > n || (o->mode == BTRAFFIC_PRIVATE && n % 2 != 0) ||
	    o->window < 1) {
		tfail(&t, "bad traffic options");
		return -1;
	}
	t.snd = calloc(t.nsend, sizeof(*t.snd));
	t.rcv = calloc(n, sizeof(*t.rcv));
	t.next_from_all = calloc(n * (o->mode == BTRAFFIC_ROOM ? t.nsend : 1), sizeof(uint64_t));
	if (t.snd == NULL || t.rcv == NULL || t.next_from_all == NULL)
		abort();
	setup_targets(&t);
	if (check_send_line(&t) != 0)
		goto out;

	t.start_ns = bnet_clock();
	t.t0_plan = t.start_ns + o->warmup_ns;
	t.t1_plan = t.t0_plan + o->measure_ns;
	t.phase = PH_WARMUP;
	if (o->rate > 0) {
		bnet_ticker(net, (int64_t)(1e9 / o->rate));
	} else {
		for (uint32_t i = 0; i < t.nsend; i++)
			fill(&t, i);
	}
	deadline = t.t1_plan + o->drain_ns + 2000000000;
	if (bnet_run(net, &h, &t, step, deadline) != 0)
		tfail(&t, "the traffic phase did not finish in time");
	bnet_ticker(net, 0);
	if (r->errors == 0)
		final_check(&t);
out:
	for (size_t i = 0; i < t.nsend; i++) {
		free(t.snd[i].send_ns);
		free(t.snd[i].ids);
	}
	free(t.snd);
	free(t.rcv);
	free(t.next_from_all);
	return r->errors == 0 ? 0 : -1;
}
