/* bench_e2ee.c - the e2ee scenario (bench_e2ee.h): the plaintext baseline, then devices, lists
 * and sessions for every pair, then the same traffic end-to-end encrypted, in one engine. */
#include "bench_e2ee.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_run.h"
#include "bench_setup.h"
#include "bench_traffic.h"
#include "e2ee/e2ee.h"

#define OPKS_EACH    21      /* one-time prekeys per device: the partner's claim leaves 20, the
                                mark under which pierd would say prekeys_low */
#define B64_LEN(n)   (((n) + 2) / 3 * 4 + 1)     /* base64url of n bytes and its NUL, at most */
#define PT_MAX       192     /* a payload's plaintext */
#define PAYLOAD_MAX  (PT_MAX + PIER_E2EE_PAYLOAD_OVERHEAD)
#define SEND_LINE_MAX 1024
#define NO_TARGET    (-1.0)
#define DEVICE_NAME  "bench"
#define PACE_TICK_NS 250000  /* a paced phase's timer: sends due are counted from its start */

enum mode { MODE_PLAIN, MODE_E2EE };
enum phase { PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_FINAL_ACKS, PH_DONE };

/* A user's setup progress, as flags. */
enum {
	ST_REGISTERED = 1 << 0,
	ST_PUBLISHED  = 1 << 1,
	ST_KEYS       = 1 << 2,
	ST_HELLO_SENT = 1 << 3,     /* the first message's sent reply came */
	ST_HELLO_GOT  = 1 << 4,     /* the partner's first message decrypted */
	ST_HELLO_ACKED = 1 << 5     /* and acknowledged */
};
#define ST_READY (ST_HELLO_SENT | ST_HELLO_GOT | ST_HELLO_ACKED)

struct euser {
	struct buser *u;
	const char *partner_name;
	char to[40];                  /* "@partner" */
	size_t to_len;
	char self_to[40];             /* "@self": the "to" of what it receives */
	size_t self_to_len;
	/* its device (encrypted phase); the crypto state is the client's, never the server's */
	struct pier_e2ee_device dev;
	bool has_dev;
	struct pier_e2ee_sessions sess;
	uint8_t ak_seed[PIER_E2EE_KEY_LEN];
	struct pier_e2ee_peer_keys partner;     /* the partner's device, from its signed list */
	struct pier_e2ee_bundle_device bundle;  /* from `keys`: what starts the session */
	char partner_id64[B64_LEN(PIER_E2EE_ID_LEN)];
	unsigned setup;               /* ST_* */
	/* sending, per phase */
	uint64_t next_seq, acked;
	int64_t last_sent_id;
	int64_t *send_ns;             /* ring of window entries, by seq % window */
	int64_t *ids;                 /* the id of each seq, 0 until known */
	size_t ids_cap;
	bool blocked;                 /* waiting for the partner to catch up */
	/* receiving */
	uint64_t got;                 /* the partner's messages of this phase (= next seq due) */
	int64_t last_id;              /* message ids grow per receiver, whole scenario */
	int64_t last_qid, ack_asked;  /* newest envelope qid, newest ack upto asked */
	unsigned unacked;             /* envelopes since the last ack */
};

/* What a phase measures besides struct btraffic_result. */
struct estats {
	int64_t enc_ns, dec_ns;       /* thread CPU in the crypto calls, window only */
	uint64_t enc_n, dec_n;
	uint64_t bytes_in, bytes_out; /* on the bench's sockets, window only */
	uint64_t line_bytes, lines;   /* send lines built, window only */
};

struct scen {
	struct brun *r;
	struct bnet *net;
	struct euser *e;
	size_t n;
	enum mode mode;
	int window;
	int64_t lag_limit;
	int64_t clock_ns;             /* the cost of one CLOCK_THREAD_CPUTIME_ID reading */
	struct pier_e2ee_bundle *bundle;   /* scratch for `keys` replies */
	struct pier_devlist *list;         /* scratch for lists */
	uint64_t errors;
	char err[512];
	/* the running phase */
	struct btraffic_result *res;
	struct estats st;
	double rate;                  /* 0: saturate; else sends per second in total (paced) */
	int64_t pace_t0;              /* when the paced sending began */
	uint64_t paced, rr;           /* sends due so far; the next sender, round robin */
	uint64_t rate_missed;         /* sends due that a full window (or lag) held back */
	int64_t spin_send_ns, spin_recv_ns;  /* plaintext: thread CPU burnt per send and per
	                                        message received, standing for the crypto */
	enum phase phase;
	int64_t t0_plan, t1_plan, t0, drain_end, drain_ns;
	bool in_window;
	uint64_t acks_out, acks_back;
	struct bserver_usage cpu0;
	int64_t bench0_us, machine0_us;
	uint64_t bytes_in0, bytes_out0;
	/* setup */
	size_t ready;
};

static void sfail(struct scen *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sfail(struct scen *sc, const char *fmt, ...)
{
	va_list ap;

	if (sc->errors++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(sc->err, sizeof(sc->err), fmt, ap);
	va_end(ap);
}

static int64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What one reading of the thread's CPU clock costs: subtracted from every timed crypto call,
 * which takes two readings. */
static int64_t clock_cost_ns(void)
{
	int64_t t0 = thread_ns();

	for (int i = 0; i < 1000; i++)
		(void)thread_ns();
	return (thread_ns() - t0) / 1001;
}

/* Burns ns of this thread's CPU (the stand-in for a crypto call: thread CPU, like the time
 * measured around the real ones, so that a preemption meanwhile does not shorten it). */
static void spin(int64_t ns)
{
	int64_t end = thread_ns() + ns;

	while (thread_ns() < end)
		;
}

static void b64(char *out, size_t cap, const uint8_t *bin, size_t n)
{
	sodium_bin2base64(out, cap, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool str_is(const char *p, size_t len, const char *z, size_t zlen)
{
	return p != NULL && len == zlen && memcmp(p, z, len) == 0;
}

/* ---- lines the bench sends ---------------------------------------------------------------- */

/* The payload's plaintext for the partner (names and texts need no escaping: user names are
 * [a-z0-9_], texts digits); checked once against jansson's by check_lines. */
static int make_plaintext(char *out, size_t cap, const struct euser *e, const char *text)
{
	return snprintf(out, cap, "{\"v\":1,\"type\":\"message\",\"peer\":\"%s\",\"text\":\"%s\"}",
	                e->partner_name, text);
}

static int make_send_e2ee(char *out, size_t cap, const struct euser *e, const char *payload64,
                          const char *body64, const char *ref)
{
	return snprintf(out, cap, "{\"op\":\"send\",\"to\":\"%s\",\"e2ee\":{\"payload\":\"%s\","
	                "\"keys\":[{\"device\":\"%s\",\"body\":\"%s\"}]},\"ref\":\"%s\"}\n", e->to,
	                payload64, e->partner_id64, body64, ref);
}

static int make_send_plain(char *out, size_t cap, const struct euser *e, const char *text,
                           const char *ref)
{
	return snprintf(out, cap, "{\"op\":\"send\",\"to\":\"%s\",\"text\":\"%s\",\"ref\":\"%s\"}\n",
	                e->to, text, ref);
}

/* The hand-made lines must say what libpier's builders (and jansson) say. */
static int check_lines(struct scen *sc)
{
	const struct euser *e = &sc->e[0];
	char line[SEND_LINE_MAX];
	json_t *lib, *mine, *keys;
	int n, rc = 0;

	if (sc->mode == MODE_PLAIN) {
		lib = pier_req_send(e->to, "b 0 0 0", NULL);
		n = make_send_plain(line, sizeof(line), e, "b 0 0 0", "0");
	} else {
		keys = json_pack("[{s:s, s:s}]", "device", e->partner_id64, "body", "AAAA");
		lib = pier_req_send_e2ee(e->to, "BBBB", keys, NULL, 0, 0);
		n = make_send_e2ee(line, sizeof(line), e, "BBBB", "AAAA", "0");
	}
	json_object_set_new(lib, "ref", json_string("0"));
	mine = json_loadb(line, (size_t)n, 0, NULL);
	if (mine == NULL || !json_equal(mine, lib)) {
		sfail(sc, "the bench's send line differs from libpier's builder: %.*s", n, line);
		rc = -1;
	}
	json_decref(mine);
	json_decref(lib);
	if (sc->mode == MODE_E2EE) {
		lib = json_pack("{s:i, s:s, s:s, s:s}", "v", 1, "type", "message", "peer",
		                e->partner_name, "text", "b 0 0 0");
		n = make_plaintext(line, sizeof(line), e, "b 0 0 0");
		mine = json_loadb(line, (size_t)n, 0, NULL);
		if (mine == NULL || !json_equal(mine, lib)) {
			sfail(sc, "the bench's payload differs from jansson's: %.*s", n, line);
			rc = -1;
		}
		json_decref(mine);
		json_decref(lib);
	}
	return rc;
}

/* Seals text for the partner and queues the encrypted send. The crypto calls alone are timed
 * (inside the window). 0, or -1 (scenario failed). */
static int send_sealed(struct scen *sc, struct euser *e, const char *text, const char *ref)
{
	char pt[PT_MAX], payload64[B64_LEN(PAYLOAD_MAX)], body64[B64_LEN(PIER_E2EE_ENVELOPE_MAX)];
	char line[SEND_LINE_MAX];
	uint8_t payload[PAYLOAD_MAX], pk[32], inner[PIER_E2EE_INNER_LEN];
	uint8_t env[PIER_E2EE_ENVELOPE_MAX];
	size_t env_len = 0, plen;
	int ptlen = make_plaintext(pt, sizeof(pt), e, text), n, rc;
	int64_t c0, c1;

	if (ptlen <= 0 || (size_t)ptlen >= sizeof(pt)) {
		sfail(sc, "a payload of %s does not fit", e->u->name);
		return -1;
	}
	plen = (size_t)ptlen + PIER_E2EE_PAYLOAD_OVERHEAD;
	c0 = thread_ns();
	pier_e2ee_payload_seal((const uint8_t *)pt, (size_t)ptlen, NULL, pk, payload);
	pier_e2ee_inner_make(pk, payload, plen, inner);
	rc = pier_e2ee_encrypt(&e->sess, &e->dev, &e->partner, &e->bundle, inner, sizeof(inner),
	                       NULL, env, &env_len);
	c1 = thread_ns();
	sodium_memzero(pk, sizeof(pk));
	sodium_memzero(inner, sizeof(inner));
	if (rc != PIER_E2EE_OK) {
		sfail(sc, "%s could not encrypt for %s: %s", e->u->name, e->partner_name,
		      pier_e2ee_strerror(rc));
		return -1;
	}
	b64(payload64, sizeof(payload64), payload, plen);
	b64(body64, sizeof(body64), env, env_len);
	n = make_send_e2ee(line, sizeof(line), e, payload64, body64, ref);
	if (n <= 0 || (size_t)n >= sizeof(line)) {
		sfail(sc, "a send line of %s does not fit", e->u->name);
		return -1;
	}
	if (sc->in_window) {
		sc->st.enc_ns += c1 - c0 - sc->clock_ns;
		sc->st.enc_n++;
		sc->st.line_bytes += (uint64_t)n;
		sc->st.lines++;
	}
	bnet_queue_raw(e->u->c, line, (size_t)n);
	return 0;
}

static void send_ack(struct scen *sc, struct euser *e)
{
	bnet_request(e->u->c, pier_req_ack(e->last_qid));
	e->ack_asked = e->last_qid;
	e->unacked = 0;
	sc->acks_out++;
}

/* ---- receiving an envelope ---------------------------------------------------------------- */

/* Checks an envelope event for e (from its partner's device, to it, a newer qid), opens it
 * into pt (NUL-terminated, cap bytes) and records its qid. The crypto calls alone are timed.
 * 0, or -1 (scenario failed). */
static int open_envelope(struct scen *sc, struct euser *e, json_t *ev, char *pt, size_t cap)
{
	const char *from = json_string_value(json_object_get(ev, "from"));
	const char *dev = json_string_value(json_object_get(ev, "from_device"));
	const char *to = json_string_value(json_object_get(ev, "to"));
	const char *payload64 = json_string_value(json_object_get(ev, "payload"));
	const char *body64 = json_string_value(json_object_get(ev, "body"));
	json_int_t qid = json_integer_value(json_object_get(ev, "qid"));
	uint8_t payload[PAYLOAD_MAX], env[PIER_E2EE_ENVELOPE_MAX], inner[PIER_E2EE_CT_MAX];
	size_t plen = 0, env_len = 0, inner_len = 0;
	int64_t c0, c1;
	int rc;

	if (from == NULL || strcmp(from, e->partner_name) != 0 || dev == NULL ||
	    strcmp(dev, e->partner_id64) != 0 || to == NULL || strcmp(to, e->self_to) != 0) {
		sfail(sc, "MISROUTED: %s got an envelope from %s (device %s) to %s", e->u->name,
		      from ? from : "?", dev ? dev : "?", to ? to : "?");
		return -1;
	}
	if (qid <= e->last_qid) {
		sfail(sc, "REORDERED: %s got qid %" PRId64 " after qid %" PRId64, e->u->name,
		      (int64_t)qid, e->last_qid);
		return -1;
	}
	if (payload64 == NULL || body64 == NULL ||
	    pier_e2ee_b64_decode(payload64, payload, sizeof(payload), &plen) != 0 ||
	    pier_e2ee_b64_decode(body64, env, sizeof(env), &env_len) != 0 ||
	    plen < PIER_E2EE_PAYLOAD_OVERHEAD || plen - PIER_E2EE_PAYLOAD_OVERHEAD >= cap) {
		sfail(sc, "%s got an envelope it cannot decode: %s", e->u->name, bsetup_describe(ev));
		return -1;
	}
	c0 = thread_ns();
	rc = pier_e2ee_decrypt(&e->sess, &e->dev, &e->partner, env, env_len, NULL, inner,
	                       &inner_len);
	if (rc != PIER_E2EE_OK || inner_len != PIER_E2EE_INNER_LEN) {
		sfail(sc, "%s could not decrypt envelope qid %" PRId64 " of %s: %s", e->u->name,
		      (int64_t)qid, from, rc != 0 ? pier_e2ee_strerror(rc) : "an inner of a wrong size");
		return -1;
	}
	rc = pier_e2ee_payload_open(inner, payload, plen, (uint8_t *)pt);
	c1 = thread_ns();
	sodium_memzero(inner, sizeof(inner));
	if (rc != PIER_E2EE_OK) {
		sfail(sc, "%s could not open the payload of qid %" PRId64 ": %s", e->u->name,
		      (int64_t)qid, pier_e2ee_strerror(rc));
		return -1;
	}
	pt[plen - PIER_E2EE_PAYLOAD_OVERHEAD] = '\0';
	if (sc->in_window) {
		sc->st.dec_ns += c1 - c0 - sc->clock_ns;
		sc->st.dec_n++;
	}
	e->last_qid = qid;
	e->unacked++;
	return 0;
}

/* The text of a decrypted payload for e, or NULL (scenario failed). *root must be released. */
static const char *payload_text(struct scen *sc, struct euser *e, const char *pt, json_t **root)
{
	json_t *j = json_loads(pt, 0, NULL);
	const char *type, *peer, *text;

	*root = j;
	type = json_string_value(json_object_get(j, "type"));
	peer = json_string_value(json_object_get(j, "peer"));
	text = json_string_value(json_object_get(j, "text"));
	if (j == NULL || json_integer_value(json_object_get(j, "v")) != 1 || type == NULL ||
	    strcmp(type, "message") != 0 || text == NULL) {
		sfail(sc, "%s decrypted a payload the bench did not send: %.200s", e->u->name, pt);
		return NULL;
	}
	if (peer == NULL || strcmp(peer, e->u->name) != 0) {
		sfail(sc, "MISROUTED: %s decrypted a message whose peer is %s", e->u->name,
		      peer ? peer : "missing");
		return NULL;
	}
	return text;
}

/* ---- the traffic engine ------------------------------------------------------------------- */

static bool sending(const struct scen *sc)
{
	return sc->phase == PH_WARMUP || sc->phase == PH_MEASURE;
}

static void grow_ids(struct euser *e)
{
	size_t old = e->ids_cap;

	if (e->next_seq < old)
		return;
	e->ids_cap = old ? old * 2 : 4096;
	e->ids = realloc(e->ids, e->ids_cap * sizeof(*e->ids));
	if (e->ids == NULL)
		abort();
	memset(e->ids + old, 0, (e->ids_cap - old) * sizeof(*e->ids));
}

/* The same message must carry the same id in its sent reply and at its receiver. */
static void note_id(struct scen *sc, struct euser *s, uint64_t seq, int64_t id, const char *where)
{
	if (s->ids[seq] == 0)
		s->ids[seq] = id;
	else if (s->ids[seq] != id)
		sfail(sc, "message %" PRIu64 " of %s has id %" PRId64 " in a %s but id %" PRId64
		      " elsewhere", seq, s->u->name, id, where, s->ids[seq]);
}

static int send_one(struct scen *sc, uint32_t sidx)
{
	struct euser *e = &sc->e[sidx];
	uint64_t seq = e->next_seq;
	int64_t now = bnet_clock();
	char text[80], ref[24];
	int rc = 0;

	grow_ids(e);
	snprintf(text, sizeof(text), "b %u %" PRIu64 " %" PRId64, sidx, seq, now);
	snprintf(ref, sizeof(ref), "%" PRIu64, seq);
	if (sc->mode == MODE_E2EE) {
		rc = send_sealed(sc, e, text, ref);
	} else {
		char line[SEND_LINE_MAX];
		int n = make_send_plain(line, sizeof(line), e, text, ref);

		if (sc->spin_send_ns > 0)
			spin(sc->spin_send_ns);
		if (sc->in_window) {
			sc->st.line_bytes += (uint64_t)n;
			sc->st.lines++;
		}
		bnet_queue_raw(e->u->c, line, (size_t)n);
	}
	if (rc != 0)
		return -1;
	e->send_ns[seq % (uint64_t)sc->window] = now;
	e->next_seq++;
	sc->res->sent++;
	return 0;
}

static bool may_send(struct scen *sc, uint32_t sidx)
{
	struct euser *e = &sc->e[sidx];

	if (e->next_seq - e->acked >= (uint64_t)sc->window)
		return false;
	if (e->next_seq - sc->e[sidx ^ 1u].got >= (uint64_t)sc->lag_limit) {
		e->blocked = true;
		return false;
	}
	return true;
}

/* Saturation only: a paced phase sends from traffic_tick alone. */
static void fill(struct scen *sc, uint32_t sidx)
{
	if (sc->rate > 0 || !sending(sc) || sc->errors > 0)
		return;
	sc->e[sidx].blocked = false;
	while (may_send(sc, sidx) && send_one(sc, sidx) == 0)
		;
}

/* A message of the partner of ridx arrived (plain msg or opened envelope). */
static void deliver(struct scen *sc, uint32_t ridx, const char *text, size_t len, int64_t id)
{
	struct euser *rc = &sc->e[ridx];
	int64_t sidx, seq, t_ns;
	struct euser *s;

	if (btraffic_parse_text(text, len, &sidx, &seq, &t_ns) != 0 || (uint64_t)sidx >= sc->n) {
		sfail(sc, "%s got a text the bench did not send: \"%.*s\"", rc->u->name,
		      (int)(len < 200 ? len : 200), text);
		return;
	}
	if ((uint32_t)sidx != (ridx ^ 1u)) {
		sfail(sc, "MISROUTED: %s got message %" PRId64 "/%" PRId64 " of %s", rc->u->name, sidx,
		      seq, sc->e[sidx].u->name);
		return;
	}
	s = &sc->e[sidx];
	if ((uint64_t)seq != rc->got || (uint64_t)seq >= s->next_seq) {
		sfail(sc, "%s: %s got message %" PRId64 " of %s where %" PRIu64 " was due (id %" PRId64
		      ")", (uint64_t)seq < rc->got ? "DUPLICATE or REORDERED" : "LOST or REORDERED",
		      rc->u->name, seq, s->u->name, rc->got, id);
		return;
	}
	if (id <= rc->last_id) {
		sfail(sc, "REORDERED: %s got id %" PRId64 " after id %" PRId64, rc->u->name, id,
		      rc->last_id);
		return;
	}
	rc->last_id = id;
	rc->got++;
	note_id(sc, s, (uint64_t)seq, id, "delivery");
	sc->res->delivered++;
	if (sc->in_window)
		sc->res->win_delivered++;
	if (t_ns >= sc->t0_plan && t_ns < sc->t1_plan)
		bstats_record(&sc->res->lat, bnet_now(sc->net) - t_ns);
	if (s->blocked)
		fill(sc, (uint32_t)sidx);
}

static void on_sent(struct scen *sc, uint32_t sidx, const struct bline *ev)
{
	struct euser *e = &sc->e[sidx];
	uint64_t seq = e->acked;
	const char *p = ev->ref.p;
	int64_t ref = p != NULL ? btraffic_read_u64(&p, ev->ref.p + ev->ref.len) : -1, sent_at;

	if (ref < 0 || p != ev->ref.p + ev->ref.len || (uint64_t)ref != seq || seq >= e->next_seq) {
		sfail(sc, "%s: sent reply with ref \"%.*s\" where %" PRIu64 " was due", e->u->name,
		      (int)ev->ref.len, ev->ref.p ? ev->ref.p : "", seq);
		return;
	}
	if (ev->duplicate || !str_is(ev->to.p, ev->to.len, e->to, e->to_len) ||
	    ev->id <= e->last_sent_id) {
		sfail(sc, "%s: bad sent reply for %" PRIu64 ": id %" PRId64 " (last %" PRId64 "), to "
		      "\"%.*s\"%s", e->u->name, seq, ev->id, e->last_sent_id, (int)ev->to.len,
		      ev->to.p, ev->duplicate ? ", duplicate" : "");
		return;
	}
	e->last_sent_id = ev->id;
	note_id(sc, e, seq, ev->id, "sent reply");
	sent_at = e->send_ns[seq % (uint64_t)sc->window];
	if (sent_at >= sc->t0_plan && sent_at < sc->t1_plan)
		bstats_record(&sc->res->ack, bnet_now(sc->net) - sent_at);
	e->acked++;
	sc->res->acked++;
	if (sc->in_window)
		sc->res->win_acked++;
	fill(sc, sidx);
}

static void traffic_fast(void *ctx, struct bconn *c, const struct bline *ev)
{
	struct scen *sc = ctx;
	struct buser *u = c->udata;
	struct euser *e = &sc->e[u->idx];

	switch (ev->op) {
	case BLINE_SENT:
		on_sent(sc, u->idx, ev);
		break;
	case BLINE_MSG:
		if (sc->mode == MODE_E2EE) {
			sfail(sc, "%s got a msg although it has a device (a plaintext copy?): %.*s",
			      u->name, (int)ev->text.len, ev->text.p ? ev->text.p : "");
			break;
		}
		if (!str_is(ev->from.p, ev->from.len, e->partner_name, strlen(e->partner_name)) ||
		    !str_is(ev->to.p, ev->to.len, e->self_to, e->self_to_len)) {
			sfail(sc, "MISROUTED: %s got a msg from \"%.*s\" to \"%.*s\"", u->name,
			      (int)ev->from.len, ev->from.p, (int)ev->to.len, ev->to.p);
			break;
		}
		if (sc->spin_recv_ns > 0)
			spin(sc->spin_recv_ns);
		deliver(sc, u->idx, ev->text.p, ev->text.len, ev->id);
		break;
	default:
		sc->res->stray++;
	}
}

static void on_envelope(struct scen *sc, struct euser *e, json_t *ev)
{
	char pt[PT_MAX];
	const char *text;
	json_t *root = NULL;

	if (open_envelope(sc, e, ev, pt, sizeof(pt)) != 0)
		return;
	text = payload_text(sc, e, pt, &root);
	if (text != NULL)
		deliver(sc, e->u->idx, text, strlen(text),
		        (int64_t)json_integer_value(json_object_get(ev, "id")));
	json_decref(root);
	if (e->unacked >= BE2EE_ACK_EVERY)
		send_ack(sc, e);
}

/* An ack reply: upto is what was asked, in order. */
static void on_ack(struct scen *sc, struct euser *e, json_t *ev)
{
	json_int_t upto = json_integer_value(json_object_get(ev, "upto"));

	if (upto <= 0 || upto > e->ack_asked) {
		sfail(sc, "%s: an ack reply for %" PRId64 " (asked up to %" PRId64 ")", e->u->name,
		      (int64_t)upto, e->ack_asked);
		return;
	}
	sc->acks_back++;
}

static void traffic_json(void *ctx, struct bconn *c, json_t *ev)
{
	struct scen *sc = ctx;
	struct buser *u = c->udata;
	struct euser *e = &sc->e[u->idx];
	const char *op = pier_event_op(ev);

	if (sc->mode == MODE_E2EE && strcmp(op, "envelope") == 0)
		on_envelope(sc, e, ev);
	else if (sc->mode == MODE_E2EE && strcmp(op, "ack") == 0)
		on_ack(sc, e, ev);
	else
		sfail(sc, "%s got an unexpected event: %s", u->name, bsetup_describe(ev));
}

static void any_close(void *ctx, struct bconn *c, const char *why)
{
	struct buser *u = c->udata;

	sfail(ctx, "the connection of %s closed: %s", u->name, why);
}

/* A paced phase: every send due since pace_t0 at sc->rate goes out now, the senders in turn
 * (as bench_traffic's fixed rate); one whose window is full or whose partner lags too far
 * behind loses its turn, counted in rate_missed. */
static void traffic_tick(void *ctx, uint64_t ticks)
{
	struct scen *sc = ctx;
	uint64_t due;

	(void)ticks;
	if (sc->rate <= 0 || !sending(sc) || sc->errors > 0)
		return;
	due = (uint64_t)((double)(bnet_clock() - sc->pace_t0) * sc->rate / 1e9);
	while (sc->paced < due && sc->errors == 0) {
		uint32_t sidx = (uint32_t)(sc->rr++ % sc->n);

		sc->paced++;
		if (may_send(sc, sidx))
			send_one(sc, sidx);
		else
			sc->rate_missed++;
	}
}

static void window_begin(struct scen *sc)
{
	const struct bnet_counters *cnt = bnet_counters(sc->net);

	sc->cpu0 = bserver_usage(&sc->r->srv);
	sc->bench0_us = bserver_bench_cpu_us();
	sc->machine0_us = bserver_machine_busy_us();
	sc->bytes_in0 = cnt->bytes_in;
	sc->bytes_out0 = cnt->bytes_out;
	sc->t0 = bnet_clock();
	sc->in_window = true;
	sc->phase = PH_MEASURE;
}

static void window_end(struct scen *sc)
{
	const struct bnet_counters *cnt = bnet_counters(sc->net);
	struct bserver_usage cpu1 = bserver_usage(&sc->r->srv);
	struct btraffic_result *r = sc->res;

	r->window_ns = bnet_clock() - sc->t0;
	r->server_cpu_us = cpu1.ok && sc->cpu0.ok ? cpu1.cpu_us - sc->cpu0.cpu_us : -1;
	r->server_loop_us = cpu1.ok && sc->cpu0.ok ? cpu1.main_cpu_us - sc->cpu0.main_cpu_us : -1;
	r->bench_cpu_us = bserver_bench_cpu_us() - sc->bench0_us;
	r->machine_busy_us = sc->machine0_us >= 0 ? bserver_machine_busy_us() - sc->machine0_us : -1;
	sc->st.bytes_in = cnt->bytes_in - sc->bytes_in0;
	sc->st.bytes_out = cnt->bytes_out - sc->bytes_out0;
	sc->in_window = false;
	sc->phase = PH_DRAIN;
}

/* Phase changes and CPU samples, once per loop turn. */
static bool traffic_step(void *ctx)
{
	struct scen *sc = ctx;
	int64_t now = bnet_clock();
	struct btraffic_result *r = sc->res;

	if (sc->errors > 0)
		return true;
	if (sc->phase == PH_WARMUP && now >= sc->t0_plan)
		window_begin(sc);
	if (sc->phase == PH_MEASURE && now >= sc->t1_plan) {
		traffic_tick(sc, 0);     /* every send due inside the window is sent in it */
		window_end(sc);
		sc->drain_end = now + sc->drain_ns;
	}
	if (sc->phase == PH_DRAIN && r->acked == r->sent && r->delivered == r->sent) {
		/* every envelope taken is acknowledged at the end, as a client does */
		for (size_t i = 0; i < sc->n && sc->mode == MODE_E2EE; i++) {
			if (sc->e[i].last_qid > sc->e[i].ack_asked)
				send_ack(sc, &sc->e[i]);
		}
		sc->phase = PH_FINAL_ACKS;
	}
	if (sc->phase == PH_FINAL_ACKS && sc->acks_back == sc->acks_out) {
		sc->phase = PH_DONE;
		return true;
	}
	if (sc->phase >= PH_DRAIN && now >= sc->drain_end) {
		sfail(sc, "LOST: after %.1f s of draining, %" PRIu64 " of %" PRIu64 " sends acked, %"
		      PRIu64 " delivered, %" PRIu64 " of %" PRIu64 " queue acks answered",
		      (double)sc->drain_ns / 1e9, r->acked, r->sent, r->delivered, sc->acks_back,
		      sc->acks_out);
		return true;
	}
	return false;
}

/* Resets what a phase counts (message ids and qids keep growing across phases). */
static void phase_reset(struct scen *sc, struct btraffic_result *res)
{
	memset(res, 0, sizeof(*res));
	bstats_init(&res->lat);
	bstats_init(&res->ack);
	res->server_cpu_us = -1;
	memset(&sc->st, 0, sizeof(sc->st));
	sc->paced = sc->rr = sc->rate_missed = 0;
	sc->res = res;
	sc->acks_out = sc->acks_back = 0;
	for (size_t i = 0; i < sc->n; i++) {
		struct euser *e = &sc->e[i];

		e->next_seq = e->acked = e->got = 0;
		e->blocked = false;
		if (e->ids != NULL)
			memset(e->ids, 0, e->ids_cap * sizeof(*e->ids));
	}
}

/* One phase, at saturation (sc->rate 0) or paced at sc->rate: warm-up, the measured window,
 * drain (every send acked, every message delivered, every envelope acknowledged). 0, or -1
 * with sc->err. */
static int run_traffic(struct scen *sc, struct btraffic_result *res)
{
	static const struct bnet_handler h = {
		.on_fast = traffic_fast, .on_json = traffic_json, .on_close = any_close,
		.on_tick = traffic_tick,
	};
	const struct bconfig *cfg = sc->r->cfg;
	int64_t warmup = brun_ns(cfg->quick ? 0.2 : 1.0), start = bnet_clock(), deadline;

	phase_reset(sc, res);
	sc->drain_ns = brun_ns(cfg->quick ? 20 : 15);
	if (start + warmup + brun_ns(cfg->measure_s) + sc->drain_ns > sc->r->deadline_ns) {
		sfail(sc, "not enough time left in the scenario's %d s", BSCEN_TIME_LIMIT_S);
		return -1;
	}
	if (check_lines(sc) != 0)
		return -1;
	sc->t0_plan = start + warmup;
	sc->t1_plan = sc->t0_plan + brun_ns(cfg->measure_s);
	sc->phase = PH_WARMUP;
	sc->in_window = false;
	sc->pace_t0 = start;
	if (sc->rate > 0 && bnet_ticker(sc->net, PACE_TICK_NS) != 0) {
		sfail(sc, "the paced phase's timer could not be set");
		return -1;
	}
	for (uint32_t i = 0; i < sc->n; i++)
		fill(sc, i);
	deadline = sc->t1_plan + sc->drain_ns + brun_ns(2);
	if (bnet_run(sc->net, &h, sc, traffic_step, deadline) != 0)
		sfail(sc, "the traffic phase did not finish in time");
	if (sc->rate > 0)
		bnet_ticker(sc->net, 0);
	for (size_t i = 0; i < sc->n && sc->errors == 0; i++) {
		struct euser *e = &sc->e[i];

		if (e->got != sc->e[i ^ 1u].acked)
			sfail(sc, "LOST: %s got %" PRIu64 " messages of %s, %" PRIu64 " were acked",
			      e->u->name, e->got, e->partner_name, sc->e[i ^ 1u].acked);
	}
	res->errors = sc->errors;
	return sc->errors == 0 ? 0 : -1;
}

/* ---- the encrypted setup ------------------------------------------------------------------ */

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new device with its one-time prekeys, registered on the user's session with the proof
 * over its login challenge. */
static int register_device(struct scen *sc, struct euser *e)
{
	struct pier_e2ee_device *d = &e->dev;
	uint8_t challenge[PIER_E2EE_CHALLENGE_LEN], proof[PIER_E2EE_SIG_LEN];
	char id64[B64_LEN(PIER_E2EE_ID_LEN)], sk64[B64_LEN(32)], dk64[B64_LEN(32)];
	char spk64[B64_LEN(32)], spksig64[B64_LEN(64)], proof64[B64_LEN(64)];
	json_t *opks;
	size_t first;

	if (pier_e2ee_b64_decode_exact(e->u->challenge, challenge, sizeof(challenge)) != 0) {
		sfail(sc, "the login reply of %s had no challenge", e->u->name);
		return -1;
	}
	if (pier_e2ee_device_create(d, (uint64_t)wall_ms(), NULL) != 0 ||
	    pier_e2ee_device_add_opks(d, OPKS_EACH, NULL, &first) != 0) {
		sfail(sc, "making the device of %s failed", e->u->name);
		return -1;
	}
	e->has_dev = true;
	pier_e2ee_sessions_init(&e->sess);
	randombytes_buf(e->ak_seed, sizeof(e->ak_seed));
	pier_e2ee_hello_proof(d->sign_seed, challenge, sizeof(challenge), proof);
	b64(id64, sizeof(id64), d->pub.id, sizeof(d->pub.id));
	b64(sk64, sizeof(sk64), d->pub.sign_pub, 32);
	b64(dk64, sizeof(dk64), d->pub.dh_pub, 32);
	b64(spk64, sizeof(spk64), d->spk.pub, 32);
	b64(spksig64, sizeof(spksig64), d->spk.sig, 64);
	b64(proof64, sizeof(proof64), proof, sizeof(proof));
	opks = json_array();
	for (size_t i = first; i < d->opk_count; i++)
		json_array_append_new(opks, json_pack("{s:I, s:o}", "id", (json_int_t)d->opks[i].id,
		                                      "key", pier_e2ee_b64_json(d->opks[i].pub, 32)));
	return bnet_request(e->u->c, pier_req_device_register(id64, sk64, dk64, DEVICE_NAME,
	                                                      d->spk.id, spk64, spksig64, opks,
	                                                      proof64));
}

/* The user's first list (version 1), naming its device, signed by its new account key. */
static void publish_list(struct scen *sc, struct euser *e)
{
	struct pier_devlist *l = sc->list;
	uint8_t bytes[PIER_DEVLIST_MAX_BYTES], sig[PIER_E2EE_SIG_LEN];
	char list64[B64_LEN(PIER_DEVLIST_MAX_BYTES)], sig64[B64_LEN(PIER_E2EE_SIG_LEN)];
	size_t len;

	memset(l, 0, sizeof(*l));
	snprintf(l->user, sizeof(l->user), "%s", e->u->name);
	l->version = 1;
	pier_e2ee_sign_pub(e->ak_seed, l->ak);
	l->count = 1;
	memcpy(l->dev[0].id, e->dev.pub.id, PIER_DEVICE_ID_LEN);
	memcpy(l->dev[0].sign_key, e->dev.pub.sign_pub, 32);
	memcpy(l->dev[0].dh_key, e->dev.pub.dh_pub, 32);
	l->dev[0].created_ms = e->dev.created_ms;
	snprintf(l->dev[0].name, sizeof(l->dev[0].name), "%s", DEVICE_NAME);
	len = pier_devlist_encode(l, bytes, sizeof(bytes));
	if (len == 0) {
		sfail(sc, "the device list of %s does not encode", e->u->name);
		return;
	}
	pier_e2ee_devlist_sign(e->ak_seed, bytes, len, sig);
	b64(list64, sizeof(list64), bytes, len);
	b64(sig64, sizeof(sig64), sig, sizeof(sig));
	bnet_request(e->u->c, pier_req_devices_publish(list64, sig64));
}

/* A `keys` reply for the partner: its signed list opened (trust on first use), its one device
 * taken from the list, the bundle kept to start the session. */
static void take_keys(struct scen *sc, struct euser *e, json_t *ev)
{
	struct pier_e2ee_bundle *b = sc->bundle;
	struct pier_devlist *l = sc->list;
	enum pier_devlist_err derr = PIER_DEVLIST_OK;
	int rc = pier_e2ee_bundle_parse(ev, b), k;

	if (rc != 0 || b->version != 1 || b->count != 1 || !b->dev[0].listed) {
		sfail(sc, "%s: keys of %s are not one listed device: %s", e->u->name, e->partner_name,
		      bsetup_describe(ev));
		return;
	}
	rc = pier_e2ee_devlist_open(b->list, b->list_len, b->sig, e->partner_name, l, &derr);
	k = rc == 0 ? pier_devlist_find(l, b->dev[0].keys.id) : -1;
	if (k < 0 || memcmp(l->dev[k].sign_key, b->dev[0].keys.sign_pub, 32) != 0 ||
	    memcmp(l->dev[k].dh_key, b->dev[0].keys.dh_pub, 32) != 0) {
		sfail(sc, "%s: the list of %s does not verify or name its device (%s)", e->u->name,
		      e->partner_name, rc != 0 ? pier_e2ee_strerror(rc) : "keys differ");
		return;
	}
	memcpy(e->partner.id, l->dev[k].id, PIER_E2EE_ID_LEN);
	memcpy(e->partner.sign_pub, l->dev[k].sign_key, 32);
	memcpy(e->partner.dh_pub, l->dev[k].dh_key, 32);
	e->bundle = b->dev[0];
	b64(e->partner_id64, sizeof(e->partner_id64), e->partner.id, PIER_E2EE_ID_LEN);
	e->setup |= ST_KEYS;
}

static void setup_progress(struct scen *sc, struct euser *e, unsigned flag)
{
	bool was = (e->setup & ST_READY) == ST_READY;

	e->setup |= flag;
	if (!was && (e->setup & ST_READY) == ST_READY)
		sc->ready++;
}

static void hello_envelope(struct scen *sc, struct euser *e, json_t *ev)
{
	char pt[PT_MAX];
	const char *text;
	json_t *root = NULL;

	if (open_envelope(sc, e, ev, pt, sizeof(pt)) != 0)
		return;
	text = payload_text(sc, e, pt, &root);
	if (text != NULL && strcmp(text, "hello") != 0)
		sfail(sc, "%s: a first message that is not the bench's: %s", e->u->name, text);
	json_decref(root);
	e->last_id = (int64_t)json_integer_value(json_object_get(ev, "id"));
	send_ack(sc, e);
	setup_progress(sc, e, ST_HELLO_GOT);
	/* the responder answers on the session the initiator started */
	if ((e->u->idx & 1u) != 0)
		send_sealed(sc, e, "hello", "h");
}

static void setup_json(void *ctx, struct bconn *c, json_t *ev)
{
	struct scen *sc = ctx;
	struct buser *u = c->udata;
	struct euser *e = &sc->e[u->idx], *p = &sc->e[u->idx ^ 1u];
	const char *op = pier_event_op(ev);

	if (strcmp(op, "device_register") == 0) {
		const char *state = json_string_value(json_object_get(ev, "state"));

		if (state == NULL || strcmp(state, "pending") != 0) {
			sfail(sc, "device_register of %s: %s", u->name, bsetup_describe(ev));
			return;
		}
		e->setup |= ST_REGISTERED;
		publish_list(sc, e);
	} else if (strcmp(op, "devices_publish") == 0) {
		if (json_integer_value(json_object_get(ev, "version")) != 1) {
			sfail(sc, "devices_publish of %s: %s", u->name, bsetup_describe(ev));
			return;
		}
		e->setup |= ST_PUBLISHED;
		if ((p->setup & ST_PUBLISHED) != 0) {
			bnet_request(e->u->c, pier_req_keys(e->partner_name));
			bnet_request(p->u->c, pier_req_keys(p->partner_name));
		}
	} else if (strcmp(op, "keys") == 0) {
		take_keys(sc, e, ev);
		/* the even user starts the session once both know each other's device */
		if ((e->setup & ST_KEYS) != 0 && (p->setup & ST_KEYS) != 0)
			send_sealed(sc, (u->idx & 1u) == 0 ? e : p, "hello", "h");
	} else if (strcmp(op, "envelope") == 0) {
		hello_envelope(sc, e, ev);
	} else if (strcmp(op, "ack") == 0) {
		on_ack(sc, e, ev);
		setup_progress(sc, e, ST_HELLO_ACKED);
	} else if (strcmp(op, "devices_changed") != 0 && strcmp(op, "prekeys_low") != 0) {
		sfail(sc, "%s during the device setup: %s", u->name, bsetup_describe(ev));
	}
}

static void setup_fast(void *ctx, struct bconn *c, const struct bline *ev)
{
	struct scen *sc = ctx;
	struct buser *u = c->udata;
	struct euser *e = &sc->e[u->idx];

	if (ev->op != BLINE_SENT || !bline_eq(ev->ref, "h") || ev->duplicate ||
	    (e->setup & ST_HELLO_SENT) != 0) {
		sfail(sc, "%s: an unexpected %s during the device setup", u->name,
		      ev->op == BLINE_SENT ? "sent reply" : "event");
		return;
	}
	e->last_sent_id = ev->id;
	setup_progress(sc, e, ST_HELLO_SENT);
}

static bool setup_done(void *ctx)
{
	struct scen *sc = ctx;

	return sc->errors > 0 || (sc->ready == sc->n && sc->acks_back == sc->acks_out);
}

/* Every user: device, list, the partner's keys, one message each way. */
static int setup_devices(struct scen *sc)
{
	static const struct bnet_handler h = {
		.on_fast = setup_fast, .on_json = setup_json, .on_close = any_close,
	};
	static struct btraffic_result scratch;

	phase_reset(sc, &scratch);
	sc->phase = PH_DRAIN;      /* nothing is sent by fill() meanwhile */
	sc->in_window = false;
	for (size_t i = 0; i < sc->n && sc->errors == 0; i++) {
		if (register_device(sc, &sc->e[i]) != 0)
			sfail(sc, "queueing device_register of %s failed", sc->e[i].u->name);
	}
	if (sc->errors == 0 && bnet_run(sc->net, &h, sc, setup_done, brun_deadline(sc->r, 30)) != 0)
		sfail(sc, "timed out: %zu of %zu users have a device and a session with their partner",
		      sc->ready, sc->n);
	return sc->errors == 0 ? 0 : -1;
}

/* ---- the scenario ------------------------------------------------------------------------- */

static void scen_init(struct scen *sc, struct brun *r, struct buser *u, size_t n, int window)
{
	memset(sc, 0, sizeof(*sc));
	sc->r = r;
	sc->net = r->net;
	sc->n = n;
	sc->window = window;
	sc->lag_limit = window * 4 + 64;
	sc->clock_ns = clock_cost_ns();
	sc->e = calloc(n, sizeof(*sc->e));
	sc->bundle = calloc(1, sizeof(*sc->bundle));
	sc->list = calloc(1, sizeof(*sc->list));
	if (sc->e == NULL || sc->bundle == NULL || sc->list == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct euser *e = &sc->e[i];

		e->u = &u[i];
		e->partner_name = u[i ^ 1u].name;
		snprintf(e->to, sizeof(e->to), "@%s", e->partner_name);
		e->to_len = strlen(e->to);
		snprintf(e->self_to, sizeof(e->self_to), "@%s", u[i].name);
		e->self_to_len = strlen(e->self_to);
		e->send_ns = calloc((size_t)window, sizeof(*e->send_ns));
		if (e->send_ns == NULL)
			abort();
	}
}

static void scen_release(struct scen *sc)
{
	for (size_t i = 0; sc->e != NULL && i < sc->n; i++) {
		struct euser *e = &sc->e[i];

		if (e->has_dev) {
			pier_e2ee_sessions_release(&e->sess);
			pier_e2ee_device_release(&e->dev);
		}
		sodium_memzero(e->ak_seed, sizeof(e->ak_seed));
		free(e->send_ns);
		free(e->ids);
	}
	free(sc->e);
	free(sc->bundle);
	free(sc->list);
}

/* The figures of the plaintext and the encrypted phase; suffix " (plaintext)" or
 * " (encrypted)". */
static void phase_metrics(struct scen *sc, const struct btraffic_result *t,
                          const struct estats *st, const char *suffix)
{
	char name[64];

	snprintf(name, sizeof(name), "messages/s (saturation)%s", suffix);
	bscen_per_second(sc->r->s, name, t->win_delivered, t, NO_TARGET, NULL);
	bscen_cpu_metrics(sc->r, t, suffix, "message", t->win_delivered, NO_TARGET);
	snprintf(name, sizeof(name), "ack latency%s", suffix);
	bscen_latency_metrics(sc->r->s, name, &t->ack, NO_TARGET);
	snprintf(name, sizeof(name), "delivery latency%s", suffix);
	bscen_latency_metrics(sc->r->s, name, &t->lat, NO_TARGET);
	if (t->win_delivered > 0) {
		snprintf(name, sizeof(name), "bytes on the wire per message%s", suffix);
		bscen_metric(sc->r->s, name, (double)(st->bytes_in + st->bytes_out) /
		             (double)t->win_delivered, "B");
	}
	if (st->lines > 0) {
		snprintf(name, sizeof(name), "  of which the send line%s", suffix);
		bscen_metric(sc->r->s, name, (double)st->line_bytes / (double)st->lines, "B");
	}
}

/* The fewer figures of the two plaintext phases that only serve the comparison; suffix
 * " (plaintext, evenly paced)" or " (plaintext, same client)". The paced one also says the
 * rate asked and the sends its senders' windows held back (the rate is kept when they are 0
 * and the delivered rate is the one asked). */
static void compare_metrics(struct scen *sc, const struct btraffic_result *t, const char *suffix)
{
	char name[64];

	snprintf(name, sizeof(name), "messages/s%s", suffix);
	bscen_per_second(sc->r->s, name, t->win_delivered, t, NO_TARGET, NULL);
	if (sc->rate > 0) {
		snprintf(name, sizeof(name), "  paced at%s", suffix);
		bscen_metric(sc->r->s, name, sc->rate, "1/s");
		snprintf(name, sizeof(name), "  sends held back by the window%s", suffix);
		bscen_metric(sc->r->s, name, (double)sc->rate_missed, "");
	}
	bscen_cpu_metrics(sc->r, t, suffix, "message", t->win_delivered, NO_TARGET);
	snprintf(name, sizeof(name), "delivery latency p50%s", suffix);
	bscen_metric(sc->r->s, name, (double)bstats_quantile(&t->lat, 0.5) / 1e6, "ms");
	snprintf(name, sizeof(name), "delivery latency p99%s", suffix);
	bscen_metric(sc->r->s, name, (double)bstats_quantile(&t->lat, 0.99) / 1e6, "ms");
}

/* Delivered messages per second in a phase's window (0 when it has none). */
static double rate_of(const struct btraffic_result *t)
{
	return t->window_ns > 0 ? (double)t->win_delivered / ((double)t->window_ns / 1e9) : 0;
}

/* Server CPU per delivered message of a phase, or -1 when it was not measured. */
static double cpu_per_message(const struct btraffic_result *t)
{
	if (t->server_cpu_us <= 0 || t->win_delivered == 0)
		return -1;
	return (double)t->server_cpu_us / (double)t->win_delivered;
}

/* The ratios of server CPU per message, encrypted / plaintext, against each plaintext phase.
 * pierd's CPU per message depends on the rate and on the bursts in which sends arrive (how
 * many share a loop wake-up, a group commit, an fdatasync), and the encrypted phase's rate and
 * bursts are the bench's (its crypto). Plaintext evenly paced at the encrypted rate costs
 * pierd more per message than the encrypted phase (a wake-up and a commit for every few
 * messages): same rate, not the same batching. The same-client phase has the same batching
 * only when the machine gives it the encrypted phase's rate, which a busy machine does not
 * (its rate against the encrypted one is printed). Issue 13's target (the encrypted path
 * within 1.5x) stays on the saturation ratio, where both phases send in bursts of whole
 * windows; instruction counts under callgrind (docs/PERFORMANCE.md, "The encrypted path's
 * ratio (session 2)") are the load-independent check. */
static void ratio_metrics(struct brun *r, const struct btraffic_result *enc,
                          const struct btraffic_result *sat, const struct btraffic_result *even,
                          const struct btraffic_result *same)
{
	static const char base[] = "server CPU per message, encrypted / plaintext";
	const struct btraffic_result *const by[] = { sat, same, even };
	static const char *const kind[] = { " (saturation)", " (same client)", " (evenly paced)" };
	double x = cpu_per_message(enc);
	char name[64];

	for (size_t k = 0; k < sizeof(by) / sizeof(by[0]); k++) {
		double p = cpu_per_message(by[k]);

		snprintf(name, sizeof(name), "%s%s", base, kind[k]);
		if (x > 0 && p > 0 && k == 0)
			bscen_metric_target(r->s, name, x / p, "x", "<=", 1.5, "<= 1.5x");
		else if (x > 0 && p > 0)
			bscen_metric(r->s, name, x / p, "x");
		else
			bscen_metric_na(r->s, name, "x", k == 0 ? "<= 1.5x" : NULL,
			                "server CPU not measured");
	}
}

/* What the plaintext phase with the same client work burns per send and per message received:
 * the encrypted phase's crypto per encrypt and per decrypt, and the rest of the bench's extra
 * CPU per message there (base64, longer lines, envelopes read with jansson, queue acks) split
 * between the two. */
static void client_work(struct scen *sp, const struct scen *sc, const struct btraffic_result *sat,
                        const struct btraffic_result *enc)
{
	double enc_ns = sc->st.enc_n > 0 ? (double)sc->st.enc_ns / (double)sc->st.enc_n : 0;
	double dec_ns = sc->st.dec_n > 0 ? (double)sc->st.dec_ns / (double)sc->st.dec_n : 0;
	double x = enc->win_delivered > 0 ? 1e3 * (double)enc->bench_cpu_us /
	           (double)enc->win_delivered : 0;
	double p = sat->win_delivered > 0 ? 1e3 * (double)sat->bench_cpu_us /
	           (double)sat->win_delivered : 0;
	double rest = x - p - enc_ns - dec_ns;

	if (rest < 0)
		rest = 0;
	sp->spin_send_ns = (int64_t)(enc_ns + rest / 2);
	sp->spin_recv_ns = (int64_t)(dec_ns + rest / 2);
}

void bscen_e2ee(const struct bconfig *cfg, struct breport *rep, size_t pairs)
{
	struct btraffic_result *plain = calloc(1, sizeof(*plain)), *enc = calloc(1, sizeof(*enc));
	struct btraffic_result *even = calloc(1, sizeof(*even)), *same = calloc(1, sizeof(*same));
	struct estats plain_st;
	struct scen sc, sp;
	struct brun r;
	char label[96], scen[32];
	struct buser *u = NULL;
	size_t n = pairs * 2;
	int window = (int)(8192 / (n ? n : 1));
	int64_t t0;

	memset(&sc, 0, sizeof(sc));
	memset(&sp, 0, sizeof(sp));
	if (plain == NULL || enc == NULL || even == NULL || same == NULL)
		abort();
	window = window < 1 ? 1 : window > 64 ? 64 : window;
	if (cfg->window > 0)
		window = cfg->window;
	snprintf(label, sizeof(label), "e2ee %zu pairs", pairs);
	snprintf(scen, sizeof(scen), "e%zu_", pairs);
	if (brun_begin(&r, cfg, rep, "e2ee", label) != 0)
		goto out;
	if (sodium_init() < 0) {
		bscen_fail(r.s, "sodium_init failed");
		goto out;
	}
	snprintf(r.s->params, sizeof(r.s->params),
	         "%zu users in %zu pairs, each sending to its partner, %d sends unacked per user, "
	         "%.1f s measured per phase, msg/s counted at the addressees. Plaintext first, then "
	         "a device per user (%d one-time prekeys, signed list, partner's keys, a message each "
	         "way), the same traffic encrypted (queues acked every %d envelopes); then %zu other "
	         "users, plaintext evenly paced at the encrypted rate, and with the encrypted "
	         "phase's client CPU burnt per message (same client).", n, pairs, window,
	         cfg->measure_s, OPKS_EACH, BE2EE_ACK_EVERY, n);
	/* the first n for the plaintext and encrypted phases; the other n, which never get a
	 * device (pierd refuses plaintext to a user with a device list), for the paced plaintext.
	 * All log in now, so that no login's presence reaches a phase. */
	u = bsetup_users(cfg->tag, scen, 2 * n);
	if (bscen_setup_users(&r, u, 2 * n, NULL) != 0)
		goto out;
	for (size_t i = n; i < 2 * n; i++)
		u[i].idx -= (uint32_t)n;
	scen_init(&sc, &r, u, n, window);
	scen_init(&sp, &r, u + n, n, window);

	sc.mode = MODE_PLAIN;
	if (run_traffic(&sc, plain) != 0) {
		snprintf(r.err, sizeof(r.err), "%s", sc.err);
		brun_fail(&r, "plaintext traffic");
		goto out;
	}
	plain_st = sc.st;
	phase_metrics(&sc, plain, &plain_st, " (plaintext)");

	t0 = bnet_clock();
	if (setup_devices(&sc) != 0) {
		snprintf(r.err, sizeof(r.err), "%s", sc.err);
		brun_fail(&r, "device setup");
		goto out;
	}
	bscen_metric(r.s, "setup: devices, lists, keys, first messages",
	             (double)(bnet_clock() - t0) / 1e9, "s");

	sc.mode = MODE_E2EE;
	if (run_traffic(&sc, enc) != 0) {
		snprintf(r.err, sizeof(r.err), "%s", sc.err);
		brun_fail(&r, "encrypted traffic");
		goto out;
	}
	phase_metrics(&sc, enc, &sc.st, " (encrypted)");
	if (sc.st.enc_n > 0)
		bscen_metric(r.s, "client CPU per encrypt", (double)sc.st.enc_ns / 1e3 /
		             (double)sc.st.enc_n, "us");
	if (sc.st.dec_n > 0)
		bscen_metric(r.s, "client CPU per decrypt", (double)sc.st.dec_ns / 1e3 /
		             (double)sc.st.dec_n, "us");
	bscen_metric(r.s, "  the thread CPU clock's own cost per reading", (double)sc.clock_ns / 1e3,
	             "us");

	sp.mode = MODE_PLAIN;
	sp.rate = rate_of(enc);
	if (sp.rate <= 0) {
		brun_fail(&r, "the encrypted phase delivered nothing to pace the plaintext by");
		goto out;
	}
	if (run_traffic(&sp, even) != 0) {
		snprintf(r.err, sizeof(r.err), "%s", sp.err);
		brun_fail(&r, "plaintext traffic evenly paced");
		goto out;
	}
	compare_metrics(&sp, even, " (plaintext, evenly paced)");

	sp.rate = 0;
	client_work(&sp, &sc, plain, enc);
	if (run_traffic(&sp, same) != 0) {
		snprintf(r.err, sizeof(r.err), "%s", sp.err);
		brun_fail(&r, "plaintext traffic with the client work of the encrypted");
		goto out;
	}
	compare_metrics(&sp, same, " (plaintext, same client)");
	bscen_metric(r.s, "  CPU burnt per send (plaintext, same client)",
	             (double)sp.spin_send_ns / 1e3, "us");
	bscen_metric(r.s, "  CPU burnt per receipt (plaintext, same client)",
	             (double)sp.spin_recv_ns / 1e3, "us");
	if (rate_of(enc) > 0)
		bscen_metric(r.s, "  rate / the encrypted phase's (plaintext, same client)",
		             rate_of(same) / rate_of(enc), "x");
	ratio_metrics(&r, enc, plain, even, same);
	brun_peak_rss(&r);
out:
	scen_release(&sc);
	scen_release(&sp);
	brun_end(&r);
	free(u);
	free(plain);
	free(enc);
	free(even);
	free(same);
}
