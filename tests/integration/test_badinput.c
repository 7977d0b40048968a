/* test_badinput.c - integration: malformed input, over-long lines, garbage and a slow consumer
 * must not disturb a healthy client, and pierd must end clean. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "harness.h"

#define MAX_LINE    4096
#define SLOW_MAX    40000   /* at most this many 1 KiB messages for the slow consumer (~44 MB) */
#define SLOW_BATCH  25
#define SLOW_TEXT   1024

static const char *const args[] = { "--no-rate-limits", "--max-line", "4096", "--max-output",
	                            "65536", NULL };

struct world {
	struct pierd *p;
	char h1[HARNESS_NAME_MAX], h2[HARNESS_NAME_MAX], x[HARNESS_NAME_MAX];
	char to_h2[HARNESS_NAME_MAX + 1];
	struct pier_conn *c1, *c2;   /* the healthy pair */
	int chats;
};

static bool streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The healthy pair exchanges one private message. */
static void healthy_chat(struct world *w, const char *when)
{
	char text[96];
	json_t *m;
	int64_t id;

	snprintf(text, sizeof(text), "healthy %d (%s)", w->chats++, when);
	id = client_send(w->c1, w->to_h2, text, NULL, NULL);
	m = client_wait_msg(w->c2, text);
	CHECK(m != NULL && id > 0 && jint(m, "id", -1) == id, "%s: the healthy client is served",
	      when);
	json_decref(m);
}

/* Sends raw bytes and returns the first event carrying ref, or (ref NULL) the first error or
 * pong. Other events are dropped. NULL on timeout or close. */
static json_t *raw_reply(struct pier_conn *c, const void *data, size_t len, const char *ref)
{
	int64_t deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;

	if (c == NULL || pier_conn_send_raw(c, data, len) != 0)
		return NULL;
	while (pier_mono_ms() < deadline) {
		json_t *ev = pier_conn_next(c, (int)(deadline - pier_mono_ms()));

		if (ev == NULL)
			return NULL;
		if (ref != NULL ? streq(jstr(ev, "ref"), ref) : is_op(ev, "error") || is_op(ev, "pong"))
			return ev;
		json_decref(ev);
	}
	return NULL;
}

/* Sends line (a C string) and checks the reply is error code, not fatal, echoing ref if any. */
static void expect_raw_error(struct pier_conn *c, const char *line, const char *code,
                             const char *ref)
{
	json_t *ev = raw_reply(c, line, strlen(line), ref);

	CHECK(ev != NULL && is_error(ev, code) && !jtrue(ev, "fatal") &&
	      jstr(ev, "message") != NULL && (ref == NULL || streq(jstr(ev, "ref"), ref)),
	      "%.60s: want error %s%s%s, got %s", line, code, ref != NULL ? " with ref " : "",
	      ref != NULL ? ref : "", jdump(ev));
	json_decref(ev);
}

/* A ping with ref answers pong (the connection goes on). */
static bool expect_pong(struct pier_conn *c, const char *ref, const char *when)
{
	char line[128];
	json_t *ev;
	bool ok;

	snprintf(line, sizeof(line), "{\"op\":\"ping\",\"ref\":\"%s\"}\n", ref);
	ev = raw_reply(c, line, strlen(line), ref);
	ok = CHECK(is_op(ev, "pong"), "%s: want pong %s, got %s", when, ref, jdump(ev));
	json_decref(ev);
	return ok;
}

static void test_json(struct world *w, struct pier_conn *c)
{
	/* not JSON objects */
	expect_raw_error(c, "{bad json\n", "bad_json", NULL);
	expect_raw_error(c, "[1,2,3]\n", "bad_json", NULL);
	expect_raw_error(c, "42\n", "bad_json", NULL);
	expect_raw_error(c, "\"op\"\n", "bad_json", NULL);
	expect_raw_error(c, "null\n", "bad_json", NULL);
	expect_raw_error(c, "{\"op\":\"ping\"\n", "bad_json", NULL);
	expect_pong(c, "j1", "after bad_json");

	/* not UTF-8: a lone byte, an overlong '/', a surrogate, a cut sequence */
	expect_raw_error(c, "{\"op\":\"ping\",\"x\":\"\xff\"}\n", "bad_utf8", NULL);
	expect_raw_error(c, "{\"op\":\"ping\",\"x\":\"\xc0\xaf\"}\n", "bad_utf8", NULL);
	expect_raw_error(c, "{\"op\":\"ping\",\"x\":\"\xed\xa0\x80\"}\n", "bad_utf8", NULL);
	expect_raw_error(c, "{\"op\":\"ping\",\"x\":\"\xe4\xb8\"}\n", "bad_utf8", NULL);
	expect_pong(c, "u1", "after bad_utf8");
	healthy_chat(w, "after bad JSON and UTF-8");

	/* fields missing or of the wrong type; refs are echoed */
	expect_raw_error(c, "{\"op\":\"send\",\"to\":5,\"text\":[],\"ref\":\"t1\"}\n", "bad_request",
	                 "t1");
	expect_raw_error(c, "{\"op\":\"send\",\"to\":\"#lobby\",\"ref\":\"t2\"}\n", "bad_request",
	                 "t2");
	expect_raw_error(c, "{\"op\":\"join\",\"room\":7,\"ref\":\"t3\"}\n", "bad_request", "t3");
	expect_raw_error(c, "{\"op\":\"history\",\"with\":\"#lobby\",\"limit\":\"x\",\"ref\":\"t4\"}\n",
	                 "bad_request", "t4");
	expect_raw_error(c, "{\"op\":\"sync\",\"after\":\"x\",\"ref\":\"t5\"}\n", "bad_request", "t5");
	expect_raw_error(c, "{\"op\":5,\"ref\":\"t6\"}\n", "bad_request", "t6");
	expect_raw_error(c, "{\"ref\":\"m1\"}\n", "bad_request", "m1");
	expect_raw_error(c, "{}\n", "bad_request", NULL);
	expect_raw_error(c, "{\"op\":\"fly\",\"ref\":\"o1\"}\n", "unknown_op", "o1");

	/* CR LF and empty lines */
	{
		static const char lines[] = "\n\n\r\n{\"op\":\"ping\",\"ref\":\"crlf\"}\r\n";
		json_t *events;

		CHECK(pier_conn_send_raw(c, lines, sizeof(lines) - 1) == 0, "send CRLF lines");
		events = json_array();
		for (;;) {
			json_t *ev = pier_conn_next(c, HARNESS_TIMEOUT_MS);
			bool done = ev == NULL || streq(jstr(ev, "ref"), "crlf");

			if (ev != NULL)
				json_array_append_new(events, ev);
			if (done)
				break;
		}
		CHECK(count_op(events, "pong", "ref", "crlf") == 1 &&
		      count_op(events, "error", NULL, NULL) == 0,
		      "empty lines are ignored and CR LF is a line end: got %s", jdump(events));
		json_decref(events);
	}
	expect_pong(c, "j2", "after bad requests");
	healthy_chat(w, "after bad requests");
}

/* Builds {"op":"ping","ref":REF,"pad":"xxx..."} of exactly len bytes (without the newline),
 * plus the newline. */
static char *padded_ping(const char *ref, size_t len)
{
	char head[64];
	size_t hl = (size_t)snprintf(head, sizeof(head),
	                             "{\"op\":\"ping\",\"ref\":\"%s\",\"pad\":\"", ref);
	char *s = malloc(len + 2);

	memcpy(s, head, hl);
	memset(s + hl, 'x', len - hl - 2);
	memcpy(s + len - 2, "\"}\n", 4);
	return s;
}

static void test_long_lines(struct world *w, struct pier_conn *c)
{
	const char *next;
	char *line;
	json_t *ev;

	/* exactly the limit: fine */
	line = padded_ping("at-limit", MAX_LINE);
	ev = raw_reply(c, line, strlen(line), NULL);
	CHECK(is_op(ev, "pong") && streq(jstr(ev, "ref"), "at-limit"),
	      "a line of exactly --max-line bytes: want pong, got %s", jdump(ev));
	json_decref(ev);
	free(line);

	/* one over, and far over, sent in pieces: line_too_long, then the connection goes on and
	 * the rest of the long line is not read as a line of its own */
	line = padded_ping("over", MAX_LINE + 1);
	ev = raw_reply(c, line, strlen(line), NULL);
	CHECK(is_error(ev, "line_too_long") && !jtrue(ev, "fatal"),
	      "a line of --max-line + 1 bytes: want line_too_long, got %s", jdump(ev));
	json_decref(ev);
	free(line);
	expect_pong(c, "l1", "after line_too_long");

	line = padded_ping("far-over", 10000);
	CHECK(pier_conn_send_raw(c, line, 3000) == 0, "send a long line's start");
	sleep_ms(50);
	CHECK(pier_conn_send_raw(c, line + 3000, 4000) == 0, "send its middle");
	sleep_ms(50);
	ev = raw_reply(c, line + 7000, strlen(line + 7000), NULL);
	CHECK(is_error(ev, "line_too_long"), "a 10000-byte line: want line_too_long, got %s",
	      jdump(ev));
	json_decref(ev);
	free(line);
	next = "{\"op\":\"ping\",\"ref\":\"l2\"}\n";
	ev = raw_reply(c, next, strlen(next), NULL);
	CHECK(is_op(ev, "pong") && streq(jstr(ev, "ref"), "l2"),
	      "the next line after a long one: want pong l2 (and no error for the long line's "
	      "tail), got %s", jdump(ev));
	json_decref(ev);
	healthy_chat(w, "after long lines");
}

/* 10 KiB of bytes from a fixed xorshift generator; nul_every > 0 forces NULs, newlines == false
 * replaces '\n'. */
static void fill_garbage(unsigned char *buf, size_t len, uint32_t seed, bool newlines)
{
	uint32_t x = seed;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
		if (i % 97 == 0)
			buf[i] = 0;
		if (!newlines && buf[i] == '\n')
			buf[i] = 'g';
	}
}

/* Sends garbage then a ping; the connection must answer errors then pong, or close. Returns
 * the connection (NULL if it closed). */
static struct pier_conn *garbage_round(struct world *w, struct pier_conn *c, bool newlines,
                                       const char *when)
{
	unsigned char buf[10 * 1024];
	static const char ping[] = "\n{\"op\":\"ping\",\"ref\":\"after-garbage\"}\n";
	int64_t deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;
	int errors = 0, odd = 0;
	bool pong = false;
	char first_odd[256] = "";

	if (c == NULL)
		return NULL;
	fill_garbage(buf, sizeof(buf), newlines ? 2463534242u : 88172645u, newlines);
	if (pier_conn_send_raw(c, buf, sizeof(buf)) == 0)
		pier_conn_send_raw(c, ping, sizeof(ping) - 1);
	while (!pong && pier_mono_ms() < deadline) {
		json_t *ev = pier_conn_next(c, (int)(deadline - pier_mono_ms()));

		if (ev == NULL)
			break;
		if (is_op(ev, "pong") && streq(jstr(ev, "ref"), "after-garbage")) {
			pong = true;
		} else if (is_error(ev, "bad_json") || is_error(ev, "bad_utf8") ||
		           is_error(ev, "line_too_long") || is_error(ev, "bad_request") ||
		           is_error(ev, "unknown_op")) {
			errors++;
		} else if (odd++ == 0) {
			snprintf(first_odd, sizeof(first_odd), "%s", jdump(ev));
		}
		json_decref(ev);
	}
	CHECK(odd == 0, "%s: unexpected replies to garbage, first %s", when, first_odd);
	if (!pong) {
		CHECK(pier_conn_is_closed(c), "%s: no pong and the connection did not close", when);
		pier_conn_close(c);
		c = NULL;
	} else {
		CHECK(errors >= 1, "%s: garbage got no error at all", when);
	}
	fprintf(stderr, "test_badinput: %s: %d errors, connection %s\n", when, errors,
	        pong ? "survived" : "closed");
	CHECK(pierd_is_running(w->p), "%s: pierd runs", when);
	healthy_chat(w, when);
	return c;
}

/* Waits for batch "msg" events on c2 (texts "slow NNNNN", in order from *got); notes the slow
 * user's presence going offline. */
static void read_batch(struct world *w, int batch, int *got, int64_t *prev, bool *in_order,
                       const char *slow_user, bool *offline)
{
	int64_t deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;

	for (int i = 0; i < batch && pier_mono_ms() < deadline;) {
		json_t *ev = pier_conn_next(w->c2, (int)(deadline - pier_mono_ms()));
		const char *text = jstr(ev, "text");
		int idx = -1;

		if (ev == NULL)
			break;
		if (is_op(ev, "presence") && streq(jstr(ev, "user"), slow_user) &&
		    !jtrue(ev, "online"))
			*offline = true;
		if (is_op(ev, "msg")) {
			if (text != NULL && sscanf(text, "slow %d", &idx) == 1 && idx == *got)
				(*got)++;
			if (jint(ev, "id", 0) <= *prev)
				*in_order = false;
			*prev = jint(ev, "id", 0);
			i++;
		}
		json_decref(ev);
	}
}

/* A client that never reads is disconnected once its output passes --max-output; the healthy
 * client still gets everything. The server's kernel send buffer (autotuned up to tcp_wmem's
 * maximum, megabytes) takes output before pierd's own queue grows, so the flood goes on until
 * the slow user's presence goes offline, up to SLOW_MAX_BYTES. The slow client keeps its
 * default receive buffer: with a tiny SO_RCVBUF, draining the megabytes queued in front of the
 * server's FIN takes minutes (zero-window probes), and the EOF could not be checked. */
static void test_slow_consumer(struct world *w)
{
	char s[HARNESS_NAME_MAX], text[SLOW_TEXT + 1];
	struct pier_conn *slow = client_connect(w->p);
	json_t *reply;
	int got = 0, slow_msgs = 0, n = 0;
	int64_t prev = 0, t0 = pier_mono_ms(), deadline;
	bool closed = false, slow_error = false, in_order = true, offline = false;
	int after_offline = 0;   /* messages sent after the slow client went offline */

	if (slow == NULL)
		return;
	harness_user(s, "slow");
	CHECK(client_register(slow, s, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register %s", s);
	reply = client_call(slow, pier_req_login(s, HARNESS_PASSWORD));
	CHECK(jint(reply, "status", -99) == 1, "slow consumer logs in: %s", jdump(reply));
	json_decref(reply);
	/* A private message makes it h2's contact: its presence (offline) reaches c2. */
	reply = client_call(slow, pier_req_send(w->to_h2, "hello", NULL));
	CHECK(is_op(reply, "sent"), "the slow consumer writes to h2: %s", jdump(reply));
	json_decref(reply);
	client_drain(w->c1);
	client_drain(w->c2);

	/* c1 sends 1 KiB messages to #lobby in pipelined batches; c2 reads them all */
	memset(text, 'k', SLOW_TEXT);
	text[SLOW_TEXT] = '\0';
	while (n < SLOW_MAX && got == n && after_offline < 4 * SLOW_BATCH) {
		for (int i = 0; i < SLOW_BATCH; i++) {
			char head[32];
			int hl = snprintf(head, sizeof(head), "slow %05d ", n + i);

			memcpy(text, head, (size_t)hl);
			pier_conn_send(w->c1, pier_req_send("#lobby", text, NULL), NULL);
		}
		for (int i = 0; i < SLOW_BATCH; i++) {
			json_t *ev = pier_conn_wait_op(w->c1, "sent", HARNESS_TIMEOUT_MS);

			if (!CHECK(ev != NULL, "sent %d of the slow consumer's flood", n + i))
				break;
			json_decref(ev);
		}
		read_batch(w, SLOW_BATCH, &got, &prev, &in_order, s, &offline);
		n += SLOW_BATCH;
		if (offline)
			after_offline += SLOW_BATCH;
	}
	fprintf(stderr, "test_badinput: flood of %d messages in %lld ms\n", n,
	        (long long)(pier_mono_ms() - t0));
	CHECK(got == n, "the healthy client got %d of %d messages while another did not read",
	      got, n);
	CHECK(in_order, "the healthy client got them in id order");
	CHECK(offline, "a client that does not read is disconnected past --max-output: no "
	      "presence offline for it after %d messages of 1 KiB", n);
	reply = client_call(w->c1, pier_req_users());
	CHECK(is_op(reply, "users") && strstr(jdump(reply), s) == NULL,
	      "the slow consumer is not online any more: %s", jdump(reply));
	json_decref(reply);

	/* the slow client: what it can read ends in EOF (maybe after slow_consumer) */
	deadline = pier_mono_ms() + 3 * HARNESS_TIMEOUT_MS;
	while (pier_mono_ms() < deadline) {
		json_t *ev = pier_conn_next(slow, 1000);

		if (ev == NULL) {
			if (pier_conn_is_closed(slow)) {
				closed = true;
				break;
			}
			continue;
		}
		if (is_op(ev, "msg"))
			slow_msgs++;
		if (is_error(ev, "slow_consumer"))
			slow_error = CHECK(jtrue(ev, "fatal"), "slow_consumer is fatal: %s", jdump(ev));
		json_decref(ev);
	}
	CHECK(closed && slow_msgs < n,
	      "the slow consumer's connection ends in EOF (closed %d, it read %d of %d messages)",
	      closed, slow_msgs, n);
	fprintf(stderr, "test_badinput: slow consumer read %d messages, slow_consumer error %s, "
	        "closed %s\n", slow_msgs, slow_error ? "seen" : "not seen", closed ? "yes" : "no");
	pier_conn_close(slow);
	healthy_chat(w, "after the slow consumer");
}

/* More requests pipelined than a connection may have in flight (CONN_MAX_PENDING, 1024):
 * pierd stops reading past the limit and reads on as answers go out; every request is
 * answered, in order, nothing lost. Its own pierd with the default --max-output: 1024 sends to
 * oneself in flight answer with a reply and an event each (~240 KB), more than the 64 KiB the
 * slow-consumer tests use, and a store batch can complete all of them in one loop turn. */
static void test_pipelined_past_limit(void)
{
	static const char *const pipe_args[] = { "--no-rate-limits", NULL };
	struct pierd *p = pierd_start(pipe_args);
	enum { N = 3000 };
	char user[HARNESS_NAME_MAX], line[160];
	struct pier_conn *c;
	size_t cap = (size_t)N * sizeof(line), len = 0;
	char *buf;
	int64_t last = 0;
	int got = 0;
	bool ordered = true;
	json_t *ev;

	REQUIRE(p != NULL, , "the pipelining test's pierd");
	c = client_new_user(p, "pipe", user);
	buf = malloc(cap);
	REQUIRE(c != NULL && buf != NULL, , "pipelining client");
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		                        "{\"op\":\"send\",\"to\":\"@%s\",\"text\":\"p%d\",\"ref\":\"s%d\"}\n",
		                        user, i, i);
	len += (size_t)snprintf(buf + len, cap - len, "{\"op\":\"ping\",\"ref\":\"end\"}\n");
	CHECK(pier_conn_send_raw(c, buf, len) == 0, "%d requests written at once", N);
	while ((ev = pier_conn_next(c, HARNESS_TIMEOUT_MS)) != NULL) {
		bool done = is_op(ev, "pong");

		if (is_op(ev, "sent")) {
			char want[16];

			snprintf(want, sizeof(want), "s%d", got);
			if (jint(ev, "id", 0) <= last || jstr(ev, "ref") == NULL ||
			    strcmp(jstr(ev, "ref"), want) != 0)
				ordered = false;
			last = jint(ev, "id", 0);
			got++;
		}
		json_decref(ev);
		if (done)
			break;
	}
	CHECK(got == N, "every pipelined send answered: %d of %d", got, N);
	CHECK(ordered, "answers in request order, ids growing");
	free(buf);
	pier_conn_close(c);
	CHECK(pierd_stop(p), "the pipelining test's pierd stops cleanly");
}

int main(void)
{
	struct world w;
	struct pier_conn *c;

	memset(&w, 0, sizeof(w));
	harness_watchdog(300);
	w.p = pierd_start(args);
	REQUIRE(w.p != NULL, harness_done(), "pierd starts");
	w.c1 = client_new_user(w.p, "healthy1", w.h1);
	w.c2 = client_new_user(w.p, "healthy2", w.h2);
	snprintf(w.to_h2, sizeof(w.to_h2), "@%s", w.h2);
	if (!CHECK(w.c1 != NULL && w.c2 != NULL, "healthy clients log in"))
		goto out;
	healthy_chat(&w, "at the start");

	/* before login too */
	c = client_connect(w.p);
	expect_raw_error(c, "{bad\n", "bad_json", NULL);
	expect_raw_error(c, "{\"op\":\"fly\",\"ref\":\"b1\"}\n", "unknown_op", "b1");
	expect_pong(c, "b2", "before login, after errors");
	pier_conn_close(c);

	c = client_new_user(w.p, "bad", w.x);
	if (c != NULL) {
		test_json(&w, c);
		test_long_lines(&w, c);
		c = garbage_round(&w, c, true, "garbage with newlines");
		if (c == NULL)
			c = client_login(w.p, w.x, HARNESS_PASSWORD);
		c = garbage_round(&w, c, false, "garbage without newlines");
		if (c != NULL)
			expect_pong(c, "g1", "after garbage");
		pier_conn_close(c);
	}
	test_pipelined_past_limit();
	test_slow_consumer(&w);
	CHECK(pierd_is_running(w.p), "pierd still runs");
out:
	pier_conn_close(w.c1);
	pier_conn_close(w.c2);
	CHECK(pierd_stop(w.p), "pierd stops cleanly (exit 0, no sanitizer report)");
	return harness_done();
}
