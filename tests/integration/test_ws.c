/* test_ws.c - integration: the JSON protocol over WebSocket (GET /ws on the HTTP port).
 * WebSocket and TCP clients in one room see the same messages in the same order; login, refs
 * and errors are the TCP port's; the handshake is checked (Origin, key, version); bad frames
 * close with the right codes; pings keep sessions alive and unanswered pings end them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "netclient.h"

#define MAX_LINE   4096
#define PER_SENDER 25

static const char *const args[] = { "--no-rate-limits", "--max-line", "4096",
                                    "--ws-ping-interval", "1", "--ws-ping-timeout", "2", NULL };

static int http_port;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char *same_origin(char *buf, size_t n)
{
	snprintf(buf, n, "http://127.0.0.1:%d", http_port);
	return buf;
}

/* A WebSocket session logged in as user; NULL with a failed check. */
static struct ws_client *ws_login(const char *user)
{
	char origin[64];
	int status;
	struct ws_client *w = ws_open(http_port, NULL, same_origin(origin, sizeof(origin)), &status);
	json_t *r, *users;

	if (!CHECK(w != NULL, "WebSocket handshake: status %d", status))
		return NULL;
	r = ws_call(w, pier_req_login(user, HARNESS_PASSWORD), HARNESS_TIMEOUT_MS);
	if (!CHECK(is_op(r, "login") && jint(r, "status", -9) == 1, "ws login %s: %s", user,
	           jdump(r))) {
		json_decref(r);
		ws_free(w);
		return NULL;
	}
	json_decref(r);
	users = ws_wait_op(w, "users", HARNESS_TIMEOUT_MS);
	CHECK(users != NULL, "ws login: users event follows");
	json_decref(users);
	return w;
}

static void test_handshake(void)
{
	char origin[64], req[512];
	struct http_reply r = {0};
	int status;
	struct ws_client *w;

	w = ws_open(http_port, NULL, "http://evil.example", &status);
	CHECK(w == NULL && status == 403, "a foreign Origin is refused with 403 (got %d)", status);
	ws_free(w);
	w = ws_open(http_port, NULL, NULL, &status);
	CHECK(w != NULL, "no Origin (not a browser): allowed (status %d)", status);
	ws_free(w);
	w = ws_open(http_port, NULL, same_origin(origin, sizeof(origin)), &status);
	CHECK(w != NULL, "the same host's Origin: allowed (status %d)", status);
	ws_free(w);

	snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	         "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
	CHECK(http_exchange(http_port, NULL, req, &r) == 0 && r.status == 400,
	      "upgrade without Sec-WebSocket-Key: 400 (got %d)", r.status);
	http_reply_free(&r);
	snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	         "Sec-WebSocket-Version: 8\r\n\r\n");
	CHECK(http_exchange(http_port, NULL, req, &r) == 0 && r.status == 426,
	      "WebSocket version 8: 426 (got %d)", r.status);
	http_reply_free(&r);
	snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	CHECK(http_exchange(http_port, NULL, req, &r) == 0 && r.status == 426,
	      "GET /ws without an upgrade: 426 (got %d)", r.status);
	http_reply_free(&r);
	snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
	CHECK(http_exchange(http_port, NULL, req, &r) == 0 && r.status == 400,
	      "upgrade without Connection: Upgrade: 400 (got %d)", r.status);
	http_reply_free(&r);
}

static void test_protocol(const char *user)
{
	char origin[64];
	int status;
	struct ws_client *w = ws_open(http_port, NULL, same_origin(origin, sizeof(origin)), &status);
	json_t *r;

	if (!CHECK(w != NULL, "handshake (status %d)", status))
		return;
	r = ws_call(w, pier_req_ping(), HARNESS_TIMEOUT_MS);
	CHECK(is_op(r, "pong") && jstr(r, "ref") != NULL, "ping before login: pong with ref: %s",
	      jdump(r));
	json_decref(r);
	r = ws_call(w, pier_req_send("#lobby", "too early", NULL), HARNESS_TIMEOUT_MS);
	CHECK(is_error(r, "not_logged_in"), "send before login: not_logged_in: %s", jdump(r));
	json_decref(r);
	ws_send_frame(w, 1, true, "{not json", 9, true);
	r = ws_wait_op(w, "error", HARNESS_TIMEOUT_MS);
	CHECK(is_error(r, "bad_json"), "bad JSON in a frame: bad_json: %s", jdump(r));
	json_decref(r);
	/* a message in three fragments */
	ws_send_frame(w, 1, false, "{\"op\":\"pi", 9, true);
	ws_send_frame(w, 9, true, "hi", 2, true);          /* a ping between fragments */
	ws_send_frame(w, 0, false, "ng\",\"ref\"", 9, true);
	ws_send_frame(w, 0, true, ":\"frag\"}", 8, true);
	r = ws_wait_op(w, "pong", HARNESS_TIMEOUT_MS);
	CHECK(r != NULL && strcmp(jstr(r, "ref") ? jstr(r, "ref") : "", "frag") == 0,
	      "a fragmented message is one request: %s", jdump(r));
	json_decref(r);
	r = ws_call(w, pier_req_login(user, HARNESS_PASSWORD), HARNESS_TIMEOUT_MS);
	CHECK(is_op(r, "login") && jint(r, "status", -9) == 1 && jstr(r, "token") != NULL,
	      "login over WebSocket: %s", jdump(r));
	json_decref(r);
	r = ws_call(w, pier_req_login(user, HARNESS_PASSWORD), HARNESS_TIMEOUT_MS);
	CHECK(is_error(r, "already_logged_in"), "second login: already_logged_in: %s", jdump(r));
	json_decref(r);
	/* logout: reply, then a normal close */
	r = ws_call(w, pier_req_logout(), HARNESS_TIMEOUT_MS);
	CHECK(is_op(r, "logout"), "logout: %s", jdump(r));
	json_decref(r);
	{
		int code = 0;
		char reason[128];

		CHECK(ws_wait_close(w, HARNESS_TIMEOUT_MS, &code, reason, sizeof(reason)) && code == 1000,
		      "after logout: close 1000 (got %d)", code);
	}
	ws_free(w);
}

struct seen {
	int64_t ids[4 * PER_SENDER];
	int n;
};

/* Collects the msg ids a client sees until it has want of them. */
static void collect_tcp(struct pier_conn *c, struct seen *s, int want)
{
	while (s->n < want) {
		json_t *ev = pier_conn_wait_op(c, "msg", HARNESS_TIMEOUT_MS);

		if (!CHECK(ev != NULL, "tcp client: msg %d of %d", s->n + 1, want))
			return;
		s->ids[s->n++] = jint(ev, "id", -1);
		json_decref(ev);
	}
}

static void collect_ws(struct ws_client *w, struct seen *s, int want)
{
	while (s->n < want) {
		json_t *ev = ws_wait_op(w, "msg", HARNESS_TIMEOUT_MS);

		if (!CHECK(ev != NULL, "ws client: msg %d of %d", s->n + 1, want))
			return;
		s->ids[s->n++] = jint(ev, "id", -1);
		json_decref(ev);
	}
}

/* Two TCP and two WebSocket senders, all pipelining into #lobby at once. */
static void test_mixed_order(struct pierd *p, char users[4][HARNESS_NAME_MAX])
{
	struct pier_conn *t1 = client_login(p, users[0], HARNESS_PASSWORD);
	struct pier_conn *t2 = client_login(p, users[1], HARNESS_PASSWORD);
	struct ws_client *w1 = ws_login(users[2]), *w2 = ws_login(users[3]);
	struct pier_conn *watch = client_login(p, users[0], HARNESS_PASSWORD);
	struct ws_client *wwatch = ws_login(users[1]);
	struct seen s[6];
	int total = 4 * PER_SENDER;

	memset(s, 0, sizeof(s));
	if (!CHECK(t1 && t2 && w1 && w2 && watch && wwatch, "six sessions"))
		goto out;
	client_drain(t1);
	client_drain(t2);
	client_drain(watch);
	for (int i = 0; i < PER_SENDER; i++) {
		char text[64];

		snprintf(text, sizeof(text), "t1 %d", i);
		pier_conn_send(t1, pier_req_send("#lobby", text, NULL), NULL);
		snprintf(text, sizeof(text), "w1 %d", i);
		ws_send_json(w1, pier_req_send("#lobby", text, NULL));
		snprintf(text, sizeof(text), "t2 %d", i);
		pier_conn_send(t2, pier_req_send("#lobby", text, NULL), NULL);
		snprintf(text, sizeof(text), "w2 %d", i);
		ws_send_json(w2, pier_req_send("#lobby", text, NULL));
	}
	/* The watchers see everything; each sender sees the others' 3 * PER_SENDER. */
	collect_tcp(watch, &s[0], total);
	collect_ws(wwatch, &s[1], total);
	collect_tcp(t1, &s[2], total - PER_SENDER);
	collect_tcp(t2, &s[3], total - PER_SENDER);
	collect_ws(w1, &s[4], total - PER_SENDER);
	collect_ws(w2, &s[5], total - PER_SENDER);
	CHECK(s[0].n == total && s[1].n == total, "both watchers got all %d", total);
	for (int i = 0; i < total && i < s[0].n && i < s[1].n; i++) {
		if (!CHECK(s[0].ids[i] == s[1].ids[i], "TCP and WebSocket watchers agree at %d: %lld vs %lld",
		           i, (long long)s[0].ids[i], (long long)s[1].ids[i]))
			break;
	}
	for (int k = 0; k < 6; k++) {
		for (int i = 1; i < s[k].n; i++) {
			if (!CHECK(s[k].ids[i] > s[k].ids[i - 1], "client %d sees ids in order at %d", k, i))
				break;
		}
	}
	/* A sender's view is the watchers' view without its own messages. */
	for (int k = 2; k < 6; k++) {
		int j = 0;

		for (int i = 0; i < s[0].n && j < s[k].n; i++)
			if (s[0].ids[i] == s[k].ids[j])
				j++;
		CHECK(j == s[k].n, "client %d's messages are the watchers' in the same order", k);
	}
out:
	pier_conn_close(t1);
	pier_conn_close(t2);
	pier_conn_close(watch);
	ws_free(w1);
	ws_free(w2);
	ws_free(wwatch);
}

/* Each bad input closes with its code; the server goes on. */
static void expect_close(const char *what, int opcode, bool fin, const void *data, size_t len,
                         bool mask, int want_code)
{
	char origin[64], reason[128] = "";
	int status, code = 0;
	struct ws_client *w = ws_open(http_port, NULL, same_origin(origin, sizeof(origin)), &status);

	if (!CHECK(w != NULL, "%s: handshake", what))
		return;
	ws_send_frame(w, opcode, fin, data, len, mask);
	CHECK(ws_wait_close(w, HARNESS_TIMEOUT_MS, &code, reason, sizeof(reason)) && code == want_code,
	      "%s: close %d (got %d \"%s\")", what, want_code, code, reason);
	ws_free(w);
}

static void test_bad_frames(void)
{
	char *big = malloc(MAX_LINE + 100);
	char origin[64], reason[128] = "";
	int status, code = 0;
	struct ws_client *w;

	expect_close("invalid UTF-8", 1, true, "{\"op\":\"\xff\xfe\"}", 11, true, 1007);
	expect_close("a binary frame", 2, true, "\x01\x02", 2, true, 1003);
	expect_close("an unmasked frame", 1, true, "{\"op\":\"ping\"}", 13, false, 1002);
	expect_close("a reserved opcode", 3, true, "x", 1, true, 1002);
	if (big == NULL)
		return;
	memset(big, 'a', MAX_LINE + 100);
	w = ws_open(http_port, NULL, same_origin(origin, sizeof(origin)), &status);
	if (CHECK(w != NULL, "handshake")) {
		ws_send_frame(w, 1, true, big, MAX_LINE + 1, true);
		CHECK(ws_wait_close(w, HARNESS_TIMEOUT_MS, &code, reason, sizeof(reason)) && code == 1009 &&
		      strstr(reason, "4096") != NULL,
		      "a message over --max-line: close 1009 with the limit (got %d \"%s\")", code, reason);
	}
	ws_free(w);
	/* the limit counts the whole message, not each fragment */
	w = ws_open(http_port, NULL, same_origin(origin, sizeof(origin)), &status);
	if (CHECK(w != NULL, "handshake")) {
		ws_send_frame(w, 1, false, big, MAX_LINE / 2 + 10, true);
		ws_send_frame(w, 0, true, big, MAX_LINE / 2 + 10, true);
		CHECK(ws_wait_close(w, HARNESS_TIMEOUT_MS, &code, reason, sizeof(reason)) && code == 1009,
		      "fragments over --max-line together: close 1009 (got %d)", code);
	}
	ws_free(w);
	/* exactly the limit is fine */
	w = ws_open(http_port, NULL, same_origin(origin, sizeof(origin)), &status);
	if (CHECK(w != NULL, "handshake")) {
		json_t *r;

		big[0] = '"';
		big[MAX_LINE - 1] = '"';
		ws_send_frame(w, 1, true, big, MAX_LINE, true);
		r = ws_wait_op(w, "error", HARNESS_TIMEOUT_MS);
		CHECK(is_error(r, "bad_json"), "a message of exactly --max-line is read: %s", jdump(r));
		json_decref(r);
	}
	ws_free(w);
	free(big);
}

static void test_keepalive(const char *user)
{
	struct ws_client *w = ws_login(user);
	int code = 0;
	char reason[128] = "";
	json_t *r, *ev;

	if (w == NULL)
		return;
	sleep_ms(2500);
	r = ws_call(w, pier_req_ping(), HARNESS_TIMEOUT_MS);
	CHECK(is_op(r, "pong") && ws_pings(w) >= 1,
	      "a session that answers pings lives on (%d pings): %s", ws_pings(w), jdump(r));
	json_decref(r);
	ws_set_answer_pings(w, false);
	CHECK(ws_wait_close(w, 8000, &code, reason, sizeof(reason)) && code == 1001,
	      "unanswered pings: close 1001 (got %d \"%s\")", code, reason);
	ev = ws_wait_op(w, "error", 0);
	CHECK(is_error(ev, "ping_timeout"), "the session is told ping_timeout: %s", jdump(ev));
	json_decref(ev);
	ws_free(w);
}

static void test_shutdown(struct pierd *p, const char *user)
{
	struct ws_client *w = ws_login(user);
	int code = 0;
	char reason[128] = "";
	json_t *ev;

	CHECK(pierd_stop(p), "pierd stops cleanly with a WebSocket session open");
	if (w == NULL)
		return;
	CHECK(ws_wait_close(w, HARNESS_TIMEOUT_MS, &code, reason, sizeof(reason)) && code == 1001,
	      "server stop: close 1001 (got %d \"%s\")", code, reason);
	ev = ws_wait_op(w, "error", 0);
	CHECK(is_error(ev, "shutting_down"), "the session is told shutting_down: %s", jdump(ev));
	json_decref(ev);
	ws_free(w);
}

int main(void)
{
	char users[4][HARNESS_NAME_MAX];
	struct pierd *p;
	struct pier_conn *c;

	harness_watchdog(180);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	http_port = pierd_http_port(p);
	REQUIRE(http_port > 0, harness_done(), "pierd logs its HTTP port");
	c = client_connect(p);
	for (int i = 0; i < 4; i++) {
		harness_user(users[i], i < 2 ? "tcp" : "ws");
		CHECK(client_register(c, users[i], HARNESS_PASSWORD) == PIER_REGISTER_OK, "register %s",
		      users[i]);
	}
	pier_conn_close(c);
	test_handshake();
	test_protocol(users[2]);
	test_mixed_order(p, users);
	test_bad_frames();
	test_keepalive(users[3]);
	c = client_login(p, users[0], HARNESS_PASSWORD);
	CHECK(c != NULL && client_send(c, "#lobby", "still serving", NULL, NULL) > 0,
	      "the TCP port still serves after all that");
	pier_conn_close(c);
	CHECK(pierd_is_running(p), "pierd still runs");
	test_shutdown(p, users[2]);
	return harness_done();
}
