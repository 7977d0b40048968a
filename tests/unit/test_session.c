/* test_session.c - the JSON session (session/conn.c) alone: a memory transport below it (no
 * socket; writes are collected and completed when the test says) and a stub request handler
 * above it. Reply order through slots, the in-flight limit, the output limit, and the written
 * tags and drained hook that offline delivery rests on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "conn.h"
#include "ratelimit.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "tap.h"
#include "transport.h"

static uv_loop_t loop;
static struct server srv;

static char wrote[1 << 16];
static size_t wrote_len;
static int writes_pending;
static int drained_calls;
static struct reply_slot *slots[2048];
static int nslots;

static int mem_write(struct transport *t, const uv_buf_t *bufs, unsigned n)
{
	(void)t;
	for (unsigned i = 0; i < n; i++) {
		size_t room = sizeof(wrote) - 1 - wrote_len;
		size_t len = bufs[i].len < room ? bufs[i].len : room;

		memcpy(wrote + wrote_len, bufs[i].base, len);
		wrote_len += len;
	}
	wrote[wrote_len] = '\0';
	writes_pending++;
	return 0;
}

static void mem_try_write(struct transport *t, const char *d, size_t n)
{
	(void)t;
	(void)d;
	(void)n;
}

static void mem_nothing(struct transport *t)
{
	(void)t;
}

static void mem_release(struct transport *t)
{
	while (writes_pending > 0) {
		writes_pending--;
		t->owner_ops->on_written(t->owner, UV_ECANCELED);
	}
}

static const struct transport_ops mem_ops = {
	.name = "memory", .write = mem_write, .try_write = mem_try_write,
	.shutdown = mem_nothing, .release = mem_release,
};

/* "later" opens a slot the test fills; anything else is echoed at once. */
static void stub_request(struct conn *c, const char *line, size_t len)
{
	if (len == 5 && memcmp(line, "later", 5) == 0) {
		slots[nslots++] = conn_slot_open(c);
		return;
	}
	json_t *r = reply_new("echo", NULL);

	json_object_set_new(r, "line", json_stringn(line, len));
	conn_reply(c, r);
}

static void stub_drained(struct conn *c)
{
	(void)c;
	drained_calls++;
}

static const struct conn_handler stub = {
	.request = stub_request, .drained = stub_drained,
};

static struct conn *open_session(struct transport **tp)
{
	struct transport *t = calloc(1, sizeof(*t));
	struct conn *c;

	t->ctx = &srv.net;
	t->ops = &mem_ops;
	t->kind = LISTEN_TCP;
	snprintf(t->addr, sizeof(t->addr), "test");
	uv_tcp_init(&loop, &t->tcp);
	t->tcp.data = t;
	srv.metrics.net.open[LISTEN_TCP]++;
	c = conn_new(&srv.sessions, t, &conn_lines_framing, NULL);
	wrote_len = 0;
	wrote[0] = '\0';
	writes_pending = 0;
	drained_calls = 0;
	nslots = 0;
	*tp = t;
	return c;
}

static void feed(struct transport *t, const char *s)
{
	t->owner_ops->on_read(t->owner, s, strlen(s));
}

static void flush(void)
{
	conns_flush_dirty(&srv.sessions);
}

static void complete(struct transport *t)
{
	while (writes_pending > 0 && !t->closing) {
		writes_pending--;
		t->owner_ops->on_written(t->owner, 0);
	}
}

/* Only the write in flight now (its completion may start the next one). */
static void complete_one(struct transport *t)
{
	if (writes_pending > 0 && !t->closing) {
		writes_pending--;
		t->owner_ops->on_written(t->owner, 0);
	}
}

static void close_session(struct transport *t)
{
	if (!t->closing)
		transport_close(t);
	uv_run(&loop, UV_RUN_NOWAIT);
}

static struct sbuf *line_of(size_t n)
{
	struct sbuf *b = sbuf_new(n);

	memset(b->data, 'x', n - 1);
	b->data[n - 1] = '\n';
	return b;
}

static void test_reply_order(void)
{
	struct transport *t;
	struct conn *c = open_session(&t);

	feed(t, "one\nlater\ntwo\n");
	flush();
	CHECK(wrote_len > 0 && strstr(wrote, "one") != NULL && strstr(wrote, "two") == NULL,
	      "an answer waits behind an open slot: %s", wrote);
	complete(t);
	conn_slot_fill(c, slots[0], reply_new("filled", NULL));
	flush();
	CHECK(strstr(wrote, "filled") != NULL && strstr(wrote, "two") != NULL &&
	      strstr(wrote, "filled") < strstr(wrote, "two"), "then both, in order: %s", wrote);
	complete(t);
	close_session(t);
}

static void test_pending_limit(void)
{
	struct transport *t;
	struct conn *c = open_session(&t);
	char *many = malloc(6 * (CONN_MAX_PENDING + 1) + 8);
	size_t off = 0;

	for (int i = 0; i < CONN_MAX_PENDING; i++)
		off += (size_t)sprintf(many + off, "later\n");
	sprintf(many + off, "after\n");
	feed(t, many);
	flush();
	CHECK(nslots == CONN_MAX_PENDING && conn_is_paused(c) && strstr(wrote, "after") == NULL,
	      "%d requests in flight: paused (%d slots)", CONN_MAX_PENDING, nslots);
	for (int i = 0; i < nslots; i++)
		conn_slot_fill(c, slots[i], reply_new("x", NULL));
	flush();
	CHECK(!conn_is_paused(c) && strstr(wrote, "after") != NULL,
	      "answered: the next request is read at the flush");
	free(many);
	complete(t);
	close_session(t);
}

static void test_tags_and_drained(void)
{
	struct transport *t;
	struct conn *c = open_session(&t);
	struct sbuf *b = line_of(100);

	CHECK(conn_send_tagged(c, b, 5) && conn_send_tagged(c, b, 6), "tagged buffers queued");
	flush();
	CHECK(writes_pending == 1 && conn_written_tag(c) == 0,
	      "queued and being written is not written: tag %lld", (long long)conn_written_tag(c));
	CHECK(conn_send_tagged(c, b, 7) && conn_send_tagged(c, b, 8), "more while writing");
	complete_one(t);
	CHECK(conn_written_tag(c) == 6 && drained_calls == 1 && writes_pending == 1,
	      "the first write done: tag 6 (%lld), drained told (%d), the next write begun",
	      (long long)conn_written_tag(c), drained_calls);
	complete_one(t);
	CHECK(conn_written_tag(c) == 8, "all written: tag 8 (%lld)", (long long)conn_written_tag(c));
	CHECK(conn_output_below_soft(c) && conn_output_room(c) == srv.cfg.max_output,
	      "nothing queued: all the room");
	sbuf_unref(b);
	close_session(t);
}

static void test_output_limit(void)
{
	struct transport *t;
	struct conn *c = open_session(&t);
	struct sbuf *b = line_of(srv.cfg.max_output / 3);
	int queued = 0;

	for (int i = 0; i < 4; i++)
		queued += conn_send_tagged(c, b, i + 1);
	CHECK(queued == 3 && conn_output_room(c) == 0 && !conn_output_below_soft(c),
	      "past the output limit nothing more is queued (%d)", queued);
	flush();
	CHECK(t->closing && conn_written_tag(c) == 0 && writes_pending == 0,
	      "dropped at the flush with nothing written: no tag moved");
	sbuf_unref(b);
	close_session(t);
}

int main(void)
{
	uv_loop_init(&loop);
	srv.loop = &loop;
	config_init(&srv.cfg);
	srv.cfg.max_output = 64 * 1024;
	srv.addr_limits = limit_table_new(NULL, 0);
	srv.net.loop = &loop;
	srv.net.cfg = &srv.cfg;
	srv.net.metrics = &srv.metrics.net;
	srv.net.addr_limits = srv.addr_limits;
	srv.net.srv = &srv;
	srv.sessions.handler = &stub;
	srv.sessions.cfg = &srv.cfg;
	srv.sessions.net = &srv.net;
	srv.sessions.srv = &srv;
	srv.net.sessions = &srv.sessions;

	test_reply_order();
	test_pending_limit();
	test_tags_and_drained();
	test_output_limit();

	CHECK(srv.sessions.nconns == 0, "every session was freed (%u left)", (unsigned)srv.sessions.nconns);
	CHECK(uv_loop_close(&loop) == 0, "the loop closes: nothing leaked");
	limit_table_free(srv.addr_limits);
	return tap_done();
}
