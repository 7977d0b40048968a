/* test_client.c - libpier's protocol core (bytes in, events out) and its blocking connection,
 * the latter against a tiny scripted server on a thread in this process. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "pier.h"
#include "tap.h"

/* ---- the core ---- */

static bool has_str(const json_t *obj, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v != NULL && strcmp(v, want) == 0;
}

/* The waiting output as a string (for comparisons). */
static char *pending_str(struct pier_client *c)
{
	const char *data;
	size_t n = pier_client_pending(c, &data);

	return strndup(data, n);
}

static int feed_str(struct pier_client *c, const char *s)
{
	return pier_client_feed(c, s, strlen(s));
}

static void test_requests(void)
{
	struct pier_client *c = pier_client_new(0);
	char ref[PIER_REF_MAX];
	char *out;
	const char *data;

	CHECK(pier_client_pending(c, &data) == 0, "nothing pending at first");
	CHECK(pier_client_request(c, pier_req_ping(), ref) == 0, "ping queued");
	CHECK(strcmp(ref, "r1") == 0, "first ref r1 (got %s)", ref);
	CHECK(pier_client_request(c, pier_req_rooms(), NULL) == 0, "rooms queued without ref_out");
	CHECK(pier_client_request(c, pier_req_users(), ref) == 0 && strcmp(ref, "r3") == 0,
	      "refs count up (got %s)", ref);
	out = pending_str(c);
	CHECK(strcmp(out, "{\"op\":\"ping\",\"ref\":\"r1\"}\n{\"op\":\"rooms\",\"ref\":\"r2\"}\n"
			  "{\"op\":\"users\",\"ref\":\"r3\"}\n") == 0, "lines queued: %s", out);
	free(out);

	/* Send part of it, queue more: what waits stays in order (compaction keeps it right). */
	pier_client_consume(c, 7);
	out = pending_str(c);
	CHECK(strncmp(out, "ping\",\"ref\":\"r1\"}\n", 17) == 0, "consume drops the front: %s", out);
	free(out);
	{
		json_t *req = pier_req_join("#dev");

		json_object_set_new(req, "ref", json_string("mine"));
		CHECK(pier_client_request(c, req, ref) == 0 && strcmp(ref, "mine") == 0,
		      "a caller's ref is kept");
	}
	for (int i = 0; i < 200; i++)
		pier_client_request(c, pier_req_send("#lobby", "some text to grow the buffer", NULL), NULL);
	out = pending_str(c);
	CHECK(strncmp(out, "ping\",\"ref\":\"r1\"}\n{\"op\":\"rooms\"", 29) == 0, "front kept after growth");
	CHECK(strstr(out, "{\"op\":\"join\",\"room\":\"#dev\",\"ref\":\"mine\"}\n") != NULL, "join line");
	CHECK(strstr(out, "\"ref\":\"r203\"}\n") != NULL && out[strlen(out) - 1] == '\n', "last send line");
	free(out);
	{
		size_t n = pier_client_pending(c, &data);

		pier_client_consume(c, n - 5);
		CHECK(pier_client_pending(c, &data) == 5, "5 bytes left");
		pier_client_queue_raw(c, "raw\n", 4);
		out = pending_str(c);
		CHECK(strcmp(out, "03\"}\nraw\n") == 0, "raw bytes after the rest: %s", out);
		free(out);
		pier_client_consume(c, 1000);
		CHECK(pier_client_pending(c, &data) == 0, "consume past the end empties");
	}

	CHECK(pier_client_request(c, json_array(), ref) == -1 && ref[0] == '\0', "non-object: -1");
	CHECK(pier_client_request(c, NULL, ref) == -1, "NULL (a failed builder): -1");
	CHECK(pier_client_request(c, pier_req_ping(), ref) == 0 && strcmp(ref, "r204") == 0,
	      "refs go on after failures (got %s)", ref);
	pier_client_free(c);
}

static void test_feed(void)
{
	struct pier_client *c = pier_client_new(0);
	json_t *ev;

	CHECK(pier_client_next(c) == NULL, "no events at first");
	CHECK(feed_str(c, "{\"op\":\"po") == 0, "partial line");
	CHECK(pier_client_next(c) == NULL, "partial line is no event");
	CHECK(feed_str(c, "ng\",\"ref\":\"r1\"}") == 0 && pier_client_next(c) == NULL, "still partial");
	CHECK(feed_str(c, "\n") == 0, "newline");
	ev = pier_client_next(c);
	CHECK(has_str(ev, "op", "pong") && has_str(ev, "ref", "r1"), "partial line joined");
	json_decref(ev);

	CHECK(feed_str(c, "{\"op\":\"a\"}\n\n{\"op\":\"b\"}\r\n\r\n{\"op\":\"c\"}\n{\"op\":") == 0,
	      "several lines in one chunk, empty lines, CRLF");
	ev = pier_client_next(c);
	CHECK(has_str(ev, "op", "a"), "first a");
	json_decref(ev);
	ev = pier_client_next(c);
	CHECK(has_str(ev, "op", "b"), "then b (CRLF)");
	json_decref(ev);
	ev = pier_client_next(c);
	CHECK(has_str(ev, "op", "c"), "then c");
	json_decref(ev);
	CHECK(pier_client_next(c) == NULL, "then nothing");
	CHECK(feed_str(c, "\"d\"}\r") == 0 && pier_client_next(c) == NULL, "CR without LF waits");
	CHECK(feed_str(c, "\n") == 0, "LF after CR");
	ev = pier_client_next(c);
	CHECK(has_str(ev, "op", "d"), "d across chunks with CR, LF split");
	json_decref(ev);

	/* Byte by byte. */
	{
		const char *s = "{\"op\":\"msg\",\"text\":\"\xe4\xbd\xa0\xe5\xa5\xbd\"}\n";

		for (size_t i = 0; s[i] != '\0'; i++)
			pier_client_feed(c, s + i, 1);
		ev = pier_client_next(c);
		CHECK(has_str(ev, "text", "你好"), "byte by byte, UTF-8");
		json_decref(ev);
	}
	pier_client_free(c);

	c = pier_client_new(0);
	CHECK(feed_str(c, "{\"op\":\"ok\"}\n[1]\n{\"op\":\"after\"}\n") == -1, "non-object: -1");
	ev = pier_client_next(c);
	CHECK(has_str(ev, "op", "ok"), "events before the bad line are kept");
	json_decref(ev);
	CHECK(feed_str(c, "{\"op\":\"x\"}\n") == -1, "a broken client refuses more");
	pier_client_free(c);

	c = pier_client_new(0);
	CHECK(feed_str(c, "not json\n") == -1, "not JSON: -1");
	pier_client_free(c);
	c = pier_client_new(0);
	CHECK(feed_str(c, "\"a string\"\n") == -1, "a JSON string: -1");
	pier_client_free(c);
}

static void test_max_line(void)
{
	struct pier_client *c = pier_client_new(16);
	json_t *ev;

	/* {"op":"abcdefgh"} is 17 bytes; {"op":"abcdefg"} is 16. */
	CHECK(feed_str(c, "{\"op\":\"abcdefg\"}\r\n") == 0, "exactly max_line, CRLF not counted");
	ev = pier_client_next(c);
	CHECK(has_str(ev, "op", "abcdefg"), "max_line line parsed");
	json_decref(ev);
	CHECK(feed_str(c, "{\"op\":\"abcdefg\"}") == 0, "max_line bytes without newline wait");
	CHECK(feed_str(c, "\r") == 0, "and a CR");
	CHECK(feed_str(c, "\n") == 0, "and the LF");
	json_decref(pier_client_next(c));
	CHECK(feed_str(c, "{\"op\":\"abcdefgh\"}\n") == -1, "max_line + 1: -1");
	pier_client_free(c);

	c = pier_client_new(16);
	CHECK(feed_str(c, "{\"op\":\"abcdefgh") == 0, "partial under the limit");
	CHECK(feed_str(c, "ijkl") == -1, "partial line over the limit: -1 before its newline");
	pier_client_free(c);

	c = pier_client_new(0);
	{
		size_t n = PIER_DEFAULT_MAX_LINE + 10;
		char *big = malloc(n);

		memset(big, ' ', n);
		CHECK(pier_client_feed(c, big, n) == -1, "default limit is PIER_DEFAULT_MAX_LINE");
		free(big);
	}
	pier_client_free(c);
}

/* ---- a scripted server ----
 * For each request line: "silent" gets nothing; "quit" closes the connection; "garbage" gets
 * a line that is not an object; "big" gets a reply carrying the length of its "text"; any
 * other op gets an event {"op":"event","seq":N} and then a reply with the request's op and
 * ref. One connection at a time, until the test closes the listening socket. */

struct server {
	int lfd;
	int port;
	pthread_t thread;
};

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void write_json(int fd, json_t *obj)
{
	char *line = json_dumps(obj, JSON_COMPACT);

	write_all(fd, line, strlen(line));
	write_all(fd, "\n", 1);
	free(line);
	json_decref(obj);
}

/* Answers one request line. false: close the connection. */
static bool answer(int fd, const char *line, int *seq)
{
	json_t *req = json_loads(line, 0, NULL);
	const char *op = json_string_value(json_object_get(req, "op"));
	json_t *ref = json_object_get(req, "ref");
	bool go_on = true;

	if (op == NULL || strcmp(op, "quit") == 0) {
		go_on = false;
	} else if (strcmp(op, "garbage") == 0) {
		write_all(fd, "[1,2]\n", 6);
	} else if (strcmp(op, "big") == 0) {
		write_json(fd, json_pack("{s:s, s:O, s:I}", "op", "big", "ref", ref, "len",
					 (json_int_t)strlen(json_string_value(json_object_get(req, "text")))));
	} else if (strcmp(op, "silent") != 0) {
		write_json(fd, json_pack("{s:s, s:i}", "op", "event", "seq", ++*seq));
		write_json(fd, ref != NULL ? json_pack("{s:s, s:O}", "op", op, "ref", ref)
					   : json_pack("{s:s}", "op", op));
	}
	json_decref(req);
	return go_on;
}

static void serve_one(int fd)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	int seq = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		char *start = buf, *nl;

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = memchr(start, '\n', len - (size_t)(start - buf))) != NULL) {
			*nl = '\0';
			if (!answer(fd, start, &seq))
				goto out;
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
	}
out:
	free(buf);
	close(fd);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);

		if (fd < 0)
			break;
		serve_one(fd);
	}
	return NULL;
}

static int server_start(struct server *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(s->lfd, 8) != 0 || getsockname(s->lfd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	s->port = ntohs(sa.sin_port);
	return pthread_create(&s->thread, NULL, server_main, s) == 0 ? 0 : -1;
}

static void server_stop(struct server *s)
{
	shutdown(s->lfd, SHUT_RDWR);   /* wakes accept */
	pthread_join(s->thread, NULL);
	close(s->lfd);
}

static struct pier_conn *open_conn(const struct server *s)
{
	char port[16];
	char *err = NULL;
	struct pier_conn *conn;

	snprintf(port, sizeof port, "%d", s->port);
	conn = pier_conn_open("127.0.0.1", port, 2000, &err);
	CHECK(conn != NULL, "connect: %s", err != NULL ? err : "");
	free(err);
	return conn;
}

static json_t *op_req(const char *op)
{
	return json_pack("{s:s}", "op", op);
}

/* The next kept event has op (and, for "event", seq). */
static void check_next(struct pier_conn *conn, const char *op, int seq, const char *what)
{
	json_t *ev = pier_conn_next(conn, 1000);

	CHECK(ev != NULL && strcmp(pier_event_op(ev), op) == 0 &&
	      (seq == 0 || json_integer_value(json_object_get(ev, "seq")) == seq),
	      "%s: want %s %d", what, op, seq);
	json_decref(ev);
}

static void test_conn_order(const struct server *s)
{
	struct pier_conn *conn = open_conn(s);
	char ref_a[PIER_REF_MAX], ref_b[PIER_REF_MAX];
	json_t *reply;

	if (conn == NULL)
		return;
	CHECK(pier_conn_fd(conn) >= 0 && pier_conn_client(conn) != NULL, "fd and core");
	reply = pier_conn_call(conn, pier_req_ping(), 2000);
	CHECK(reply != NULL && strcmp(pier_event_op(reply), "ping") == 0 && has_str(reply, "ref", "r1"),
	      "call gets the reply with its ref");
	json_decref(reply);

	/* Pipelined: a, b sent; c called. The stream is ev1 a ev2 b ev3 c. */
	CHECK(pier_conn_send(conn, op_req("alpha"), ref_a) == 0, "send a");
	CHECK(pier_conn_send(conn, op_req("beta"), ref_b) == 0, "send b");
	reply = pier_conn_call(conn, op_req("gamma"), 2000);
	CHECK(reply != NULL && strcmp(pier_event_op(reply), "gamma") == 0, "call c");
	json_decref(reply);
	check_next(conn, "event", 1, "kept first: event of ping");
	check_next(conn, "event", 2, "then event of a");
	{
		json_t *ev = pier_conn_next(conn, 1000);

		CHECK(ev != NULL && has_str(ev, "ref", ref_a), "then reply a");
		json_decref(ev);
	}
	check_next(conn, "event", 3, "then event of b");
	check_next(conn, "beta", 0, "then reply b");
	check_next(conn, "event", 4, "then event of c");
	CHECK(pier_conn_next(conn, 0) == NULL, "nothing left");

	/* wait_op takes one from the middle; the earlier ones stay in order. */
	pier_conn_send(conn, op_req("alpha"), NULL);
	pier_conn_send(conn, op_req("beta"), NULL);
	reply = pier_conn_wait_op(conn, "beta", 2000);
	CHECK(reply != NULL && strcmp(pier_event_op(reply), "beta") == 0, "wait_op beta");
	json_decref(reply);
	reply = pier_conn_wait_op(conn, "event", 2000);
	CHECK(reply != NULL && json_integer_value(json_object_get(reply, "seq")) == 5,
	      "wait_op on kept events: the oldest first");
	json_decref(reply);
	check_next(conn, "alpha", 0, "alpha kept");
	check_next(conn, "event", 6, "event 6 kept");
	CHECK(pier_conn_next(conn, 0) == NULL, "nothing left after wait_op");
	CHECK(!pier_conn_is_closed(conn), "still open");

	/* A long line goes out whole although the socket takes it in pieces. */
	{
		size_t n = 512 * 1024;
		char *text = malloc(n + 1);
		json_t *req;

		memset(text, 'x', n);
		text[n] = '\0';
		req = json_pack("{s:s, s:s}", "op", "big", "text", text);
		reply = pier_conn_call(conn, req, 5000);
		CHECK(reply != NULL && json_integer_value(json_object_get(reply, "len")) == (json_int_t)n,
		      "a 512 KiB request arrives whole");
		json_decref(reply);
		free(text);
	}
	pier_conn_close(conn);
}

static void test_conn_timeouts(const struct server *s)
{
	struct pier_conn *conn = open_conn(s);
	int64_t t0;
	json_t *ev;

	if (conn == NULL)
		return;
	t0 = pier_mono_ms();
	ev = pier_conn_call(conn, op_req("silent"), 200);
	CHECK(ev == NULL, "call without a reply times out");
	CHECK(pier_mono_ms() - t0 >= 190 && pier_mono_ms() - t0 < 2000, "after about 200 ms (%lld)",
	      (long long)(pier_mono_ms() - t0));
	t0 = pier_mono_ms();
	CHECK(pier_conn_next(conn, 150) == NULL, "next times out");
	CHECK(pier_mono_ms() - t0 >= 140 && pier_mono_ms() - t0 < 2000, "after about 150 ms");
	t0 = pier_mono_ms();
	CHECK(pier_conn_wait_op(conn, "nothing", 0) == NULL && pier_mono_ms() - t0 < 100,
	      "zero timeout returns at once");
	CHECK(!pier_conn_is_closed(conn), "a timeout does not close");

	/* An event already arrived is seen with a zero timeout. */
	pier_conn_send(conn, op_req("alpha"), NULL);
	ev = pier_conn_wait_op(conn, "alpha", 2000);
	json_decref(ev);
	check_next(conn, "event", 1, "event kept across wait_op");

	/* Non-blocking use: queue through the core, poll, pump. */
	{
		struct pollfd p = { .fd = pier_conn_fd(conn), .events = POLLIN | POLLOUT };
		char ref[PIER_REF_MAX];
		json_t *got = NULL;
		int64_t end = pier_mono_ms() + 2000;

		pier_client_request(pier_conn_client(conn), op_req("pumped"), ref);
		while (got == NULL && pier_mono_ms() < end) {
			const char *data;

			p.events = POLLIN;
			if (pier_client_pending(pier_conn_client(conn), &data) > 0)
				p.events |= POLLOUT;
			poll(&p, 1, 100);
			CHECK(pier_conn_pump(conn) == 0, "pump");
			for (json_t *e; (e = pier_conn_next(conn, 0)) != NULL;) {
				if (has_str(e, "ref", ref))
					got = json_incref(e);
				json_decref(e);
			}
		}
		CHECK(got != NULL && strcmp(pier_event_op(got), "pumped") == 0, "reply through pump");
		json_decref(got);
	}

	/* The server closes: waits end at once, kept events stay readable. */
	pier_conn_send(conn, op_req("alpha"), NULL);
	t0 = pier_mono_ms();
	CHECK(pier_conn_call(conn, op_req("quit"), 3000) == NULL, "call on a closing connection: NULL");
	CHECK(pier_mono_ms() - t0 < 1000, "without waiting for the timeout");
	CHECK(!pier_conn_is_closed(conn), "not closed while events are kept");
	check_next(conn, "event", 3, "event before the close");
	check_next(conn, "alpha", 0, "reply before the close");
	CHECK(pier_conn_is_closed(conn), "closed once drained");
	CHECK(pier_conn_next(conn, 1000) == NULL, "next on a closed connection: NULL");
	CHECK(pier_conn_send(conn, pier_req_ping(), NULL) == -1, "send on a closed connection: -1");
	CHECK(pier_conn_call(conn, pier_req_ping(), 1000) == NULL, "call on a closed connection");
	pier_conn_close(conn);

	/* A server that breaks the protocol closes the connection. */
	conn = open_conn(s);
	if (conn == NULL)
		return;
	CHECK(pier_conn_call(conn, op_req("garbage"), 2000) == NULL, "non-object line: NULL");
	CHECK(pier_conn_is_closed(conn), "and closed");
	pier_conn_close(conn);
}

static void test_conn_open_fails(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char port[16];
	char *err = NULL;
	struct pier_conn *conn;

	/* A port that was free a moment ago: nothing listens there. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	snprintf(port, sizeof port, "%d", ntohs(sa.sin_port));
	close(fd);
	conn = pier_conn_open("127.0.0.1", port, 2000, &err);
	CHECK(conn == NULL && err != NULL && strstr(err, "refused") != NULL, "refused: %s",
	      err != NULL ? err : "(no message)");
	free(err);
	err = NULL;
	conn = pier_conn_open("no-such-host.invalid", "6666", 2000, &err);
	CHECK(conn == NULL && err != NULL, "unknown host: %s", err != NULL ? err : "(no message)");
	free(err);
	CHECK(pier_conn_open("127.0.0.1", port, 2000, NULL) == NULL, "err may be NULL");
}

/* Found by fuzz/fuzz_client_feed: an empty feed into a fresh core passed NULL to memcpy. */
static void test_feed_nothing(void)
{
	struct pier_client *c = pier_client_new(0);

	CHECK(pier_client_feed(c, NULL, 0) == 0, "feeding nothing is fine");
	CHECK(pier_client_next(c) == NULL, "and gives no event");
	pier_client_free(c);
}

int main(void)
{
	struct server s;

	test_feed_nothing();
	test_requests();
	test_feed();
	test_max_line();
	if (!CHECK(server_start(&s) == 0, "test server starts"))
		return tap_done();
	test_conn_order(&s);
	test_conn_timeouts(&s);
	server_stop(&s);
	test_conn_open_fails();
	return tap_done();
}
