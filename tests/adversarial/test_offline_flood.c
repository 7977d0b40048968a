/* test_offline_flood.c - adversarial: 400 private messages of ~15 KB wait for an offline user
 * (6 MB, past the 4 MiB output limit). The user logs in and reads nothing for a while, then
 * reads a little and leaves (half-close: it still takes every byte pierd wrote), again and
 * again. Nothing acked may be lost to the output limit: over all the logins every message
 * arrives exactly once and in order, so the seen watermark never passed what was written.
 * pierd neither drops the reader as slow_consumer nor grows without bound while it waits.
 * Then a second backlog, and a second session that logs in while the first one is catching
 * up: when the first leaves, the second takes over where the written bytes ended, and the two
 * together get every message once, in order. Last, the same backlog to a WebSocket session
 * that idles first: the WebSocket framing is paced the same way. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "netclient.h"
#include "rawline.h"

#define NMSGS       400
#define TEXT_LEN    15000
#define MAX_LOGINS  40
#define IDLE_MS     3000      /* the first login reads nothing this long */
#define TAKE        20        /* later logins read this many messages, then leave */
#define RSS_MAX_KIB (64 * 1024)
#define RCVBUF      (32 * 1024)   /* the reader's socket: the backlog waits in pierd */

static const char *const args[] = { "--msg-burst", "1000", "--msg-rate", "1000", NULL };

static int64_t acked[NMSGS];

/* The sender pipelines every message and collects the acks (ids in send order). */
static int send_all(struct pierd *p, const char *sender, const char *to)
{
	struct rawline *s = raw_connect(pierd_port(p));
	static char text[TEXT_LEN + 1];
	json_t *rep;
	int n = 0;

	REQUIRE(s != NULL, -1, "sender connects");
	rep = raw_login(s, sender, HARNESS_PASSWORD, NULL);
	REQUIRE(rep != NULL, -1, "sender logs in");
	json_decref(rep);
	for (int i = 0; i < NMSGS; i++) {
		memset(text, 'a' + i % 26, TEXT_LEN);
		text[TEXT_LEN] = '\0';
		memcpy(text, "flood", 5);
		REQUIRE(raw_send_json(s, json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", to,
		                                   "text", text, "ref", "s")) == 0,
		        -1, "send %d", i);
	}
	while (n < NMSGS && (rep = raw_wait_op(s, "sent", 20000)) != NULL) {
		acked[n++] = json_integer_value(json_object_get(rep, "id"));
		json_decref(rep);
	}
	raw_free(s);
	REQUIRE(n == NMSGS, -1, "all %d sends acked (got %d)", NMSGS, n);
	return 0;
}

/* Takes the offline messages from r into the expected sequence; counts the rest. */
static int take_msgs(struct rawline *r, int *next, int limit, int timeout_ms, int *slow,
                     bool *bad)
{
	long long end = raw_now_ms() + timeout_ms;
	int got = 0;
	json_t *j;

	while (got < limit && raw_now_ms() < end &&
	       (j = raw_next(r, (int)(end - raw_now_ms()))) != NULL) {
		const char *op = jstr(j, "op");

		if (is_error(j, "slow_consumer"))
			(*slow)++;
		if (op != NULL && strcmp(op, "msg") == 0) {
			int64_t id = jint(j, "id", -1);

			if (*next >= NMSGS || id != acked[*next]) {
				if (!*bad)
					CHECK(false, "msg %lld arrived where %lld was due (dup, gap or order)",
					      (long long)id, *next < NMSGS ? (long long)acked[*next] : -1LL);
				*bad = true;
			} else {
				(*next)++;
			}
			got++;
		}
		json_decref(j);
	}
	return got;
}

/* A second reader: session A catches up, session B logs in meanwhile; A leaves after a few
 * messages and B gets the rest from where A's written bytes ended. */
static void handover(struct pierd *p, const char *sender)
{
	char reader[HARNESS_NAME_MAX], to[HARNESS_NAME_MAX + 1];
	struct pier_conn *c = client_connect(p);
	struct rawline *a, *b;
	json_t *rep;
	int next = 0, slow = 0;
	bool bad = false;

	harness_user(reader, "offho");
	CHECK(client_register(c, reader, HARNESS_PASSWORD) == 3, "second reader registers");
	pier_conn_close(c);
	snprintf(to, sizeof(to), "@%s", reader);
	if (send_all(p, sender, to) != 0)
		return;
	a = raw_connect_rcvbuf(pierd_port(p), RCVBUF);
	rep = a ? raw_login(a, reader, HARNESS_PASSWORD, NULL) : NULL;
	REQUIRE(rep != NULL, , "session A logs in");
	json_decref(rep);
	b = raw_connect_rcvbuf(pierd_port(p), RCVBUF);
	rep = b ? raw_login(b, reader, HARNESS_PASSWORD, NULL) : NULL;
	REQUIRE(rep != NULL, , "session B logs in while A catches up");
	json_decref(rep);
	usleep(500 * 1000);
	take_msgs(a, &next, TAKE, 10000, &slow, &bad);
	shutdown(a->fd, SHUT_WR);
	take_msgs(a, &next, NMSGS, 10000, &slow, &bad);
	CHECK(next > 0 && next < NMSGS, "A got part of the backlog (%d)", next);
	raw_free(a);
	take_msgs(b, &next, NMSGS - next, 20000, &slow, &bad);
	CHECK(next == NMSGS && !bad, "A and B together: every message once, in order (%d of %d)",
	      next, NMSGS);
	CHECK(slow == 0, "no slow_consumer (%d)", slow);
	raw_free(b);
}

/* A third reader on WebSocket: idles, then reads everything; nothing lost, nothing dropped. */
static void websocket(struct pierd *p, const char *sender)
{
	char reader[HARNESS_NAME_MAX], to[HARNESS_NAME_MAX + 1];
	struct pier_conn *c = client_connect(p);
	struct ws_client *w;
	json_t *rep;
	int next = 0, status = 0, slow = 0;
	bool bad = false;
	long long end;

	harness_user(reader, "offws");
	CHECK(client_register(c, reader, HARNESS_PASSWORD) == 3, "WebSocket reader registers");
	pier_conn_close(c);
	snprintf(to, sizeof(to), "@%s", reader);
	if (send_all(p, sender, to) != 0)
		return;
	w = ws_open(pierd_http_port(p), NULL, NULL, &status);
	REQUIRE(w != NULL, , "WebSocket handshake (%d)", status);
	rep = ws_call(w, json_pack("{s:s, s:s, s:s}", "op", "login", "user", reader, "password",
	                           HARNESS_PASSWORD), 10000);
	CHECK(rep != NULL && jint(rep, "status", 0) == 1, "WebSocket login (%s)", jdump(rep));
	json_decref(rep);
	usleep(IDLE_MS * 1000);
	end = raw_now_ms() + 20000;
	while (next < NMSGS && !bad && raw_now_ms() < end) {
		json_t *j = ws_next(w, 10000);

		if (j == NULL)
			break;
		if (is_error(j, "slow_consumer"))
			slow++;
		if (is_op(j, "msg")) {
			bad = jint(j, "id", -1) != acked[next];
			next += !bad;
		}
		json_decref(j);
	}
	CHECK(next == NMSGS && !bad && slow == 0,
	      "WebSocket: every message once, in order, no slow_consumer (%d of %d)", next, NMSGS);
	ws_free(w);
}

int main(void)
{
	char sender[HARNESS_NAME_MAX], reader[HARNESS_NAME_MAX], to[HARNESS_NAME_MAX + 1];
	struct pier_conn *c;
	struct pierd *p;
	char *token = NULL;
	long rss0, rss_peak = 0;
	int next = 0, slow = 0, logins = 0, pid;
	bool bad = false;

	harness_watchdog(55);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	pid = pierd_pid(p);
	c = client_connect(p);
	harness_user(reader, "offrd");
	CHECK(client_register(c, reader, HARNESS_PASSWORD) == 3, "reader registers");
	pier_conn_close(c);
	c = client_new_user(p, "offsnd", sender);
	REQUIRE(c != NULL, harness_done(), "sender registers");
	pier_conn_close(c);
	snprintf(to, sizeof(to), "@%s", reader);
	if (send_all(p, sender, to) != 0)
		return harness_done();
	rss0 = proc_rss_kib(pid);

	while (next < NMSGS && logins < MAX_LOGINS && !bad) {
		struct rawline *r = raw_connect_rcvbuf(pierd_port(p), RCVBUF);
		json_t *rep;
		int got;

		REQUIRE(r != NULL, harness_done(), "reader connects");
		rep = raw_login(r, reader, HARNESS_PASSWORD, token);
		REQUIRE(rep != NULL, harness_done(), "reader logs in (%d)", logins);
		if (token == NULL)
			token = strdup(jstr(rep, "token"));
		json_decref(rep);
		if (logins == 0) {
			/* Reads nothing: pierd must pace the backlog, not queue 6 MB or drop it. */
			long long until = raw_now_ms() + IDLE_MS;

			while (raw_now_ms() < until) {
				long kib = proc_rss_kib(pid);

				if (kib > rss_peak)
					rss_peak = kib;
				usleep(100 * 1000);
			}
		}
		got = take_msgs(r, &next, NMSGS - next < TAKE ? NMSGS - next : TAKE, 10000, &slow, &bad);
		/* Leaves without losing what was written: half-close, then read to the end. */
		shutdown(r->fd, SHUT_WR);
		got += take_msgs(r, &next, NMSGS, 10000, &slow, &bad);
		CHECK(r->eof, "pierd closes after the half-close (login %d)", logins);
		raw_free(r);
		logins++;
		if (got == 0)
			break;
	}
	CHECK(next == NMSGS, "every acked message delivered exactly once, in order: %d of %d in %d logins",
	      next, NMSGS, logins);
	CHECK(slow == 0, "the reader was never dropped as slow_consumer (%d times)", slow);
	CHECK(rss_peak - rss0 < RSS_MAX_KIB, "pierd grew %ld KiB while the reader waited (bound %d)",
	      rss_peak - rss0, RSS_MAX_KIB);
	fprintf(stderr, "# %d messages over %d logins; RSS grew %ld KiB while the reader idled\n",
	        next, logins, rss_peak - rss0);

	/* One more login: nothing is left, nothing comes again. */
	if (next == NMSGS && token != NULL) {
		struct rawline *r = raw_connect(pierd_port(p));
		json_t *rep = r ? raw_login(r, reader, HARNESS_PASSWORD, token) : NULL;
		int extra = 0;

		CHECK(rep != NULL, "last login");
		json_decref(rep);
		if (rep != NULL) {
			/* history goes through the store after the offline fetch: a barrier. */
			raw_send_json(r, json_pack("{s:s, s:s, s:i, s:s}", "op", "history", "with", to,
			                           "limit", 1, "ref", "h"));
			for (json_t *j; (j = raw_next(r, 10000)) != NULL;) {
				bool done = is_op(j, "history");

				extra += is_op(j, "msg");
				json_decref(j);
				if (done)
					break;
			}
		}
		CHECK(extra == 0, "nothing delivered again after all was read (%d)", extra);
		raw_free(r);
	}
	free(token);
	handover(p, sender);
	websocket(p, sender);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
