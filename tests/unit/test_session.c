/* test_session.c - the JSON session (session/conn.c) alone: a memory transport below it
 * (tests/support/memtransport.h: no socket; writes are collected and completed when the
 * test says) and a stub request handler above it. Reply order through slots, the in-flight
 * limit, the output limit, and the written tags and drained hook that offline delivery
 * rests on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "conn.h"
#include "memtransport.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "stubserver.h"
#include "tap.h"
#include "transport.h"

static uv_loop_t loop;
static struct server srv;

static struct mem_wire wire;     /* what the session under test wrote */
static int drained_calls;
static struct reply_slot *slots[2048];
static int nslots;

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
	struct transport *t = mem_open(&srv.net, LISTEN_TCP, &wire);

	drained_calls = 0;
	nslots = 0;
	*tp = t;
	return conn_new(&srv.sessions, t, &conn_lines_framing, NULL);
}

static void feed(struct transport *t, const char *s)
{
	mem_input(t, s, strlen(s));
}

static void flush(void)
{
	conns_flush_dirty(&srv.sessions);
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
	CHECK(wire.len > 0 && strstr(wire.out, "one") != NULL && strstr(wire.out, "two") == NULL,
	      "an answer waits behind an open slot: %s", wire.out);
	mem_complete(t);
	conn_slot_fill(c, slots[0], reply_new("filled", NULL));
	flush();
	CHECK(strstr(wire.out, "filled") != NULL && strstr(wire.out, "two") != NULL &&
	      strstr(wire.out, "filled") < strstr(wire.out, "two"), "then both, in order: %s", wire.out);
	mem_complete(t);
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
	CHECK(nslots == CONN_MAX_PENDING && conn_is_paused(c) && strstr(wire.out, "after") == NULL,
	      "%d requests in flight: paused (%d slots)", CONN_MAX_PENDING, nslots);
	for (int i = 0; i < nslots; i++)
		conn_slot_fill(c, slots[i], reply_new("x", NULL));
	flush();
	CHECK(!conn_is_paused(c) && strstr(wire.out, "after") != NULL,
	      "answered: the next request is read at the flush");
	free(many);
	mem_complete(t);
	close_session(t);
}

static void test_tags_and_drained(void)
{
	struct transport *t;
	struct conn *c = open_session(&t);
	struct sbuf *b = line_of(100);

	CHECK(conn_send_tagged(c, b, 5) && conn_send_tagged(c, b, 6), "tagged buffers queued");
	flush();
	CHECK(wire.pending == 1 && conn_written_tag(c) == 0,
	      "queued and being written is not written: tag %lld", (long long)conn_written_tag(c));
	CHECK(conn_send_tagged(c, b, 7) && conn_send_tagged(c, b, 8), "more while writing");
	mem_complete_one(t);
	CHECK(conn_written_tag(c) == 6 && drained_calls == 1 && wire.pending == 1,
	      "the first write done: tag 6 (%lld), drained told (%d), the next write begun",
	      (long long)conn_written_tag(c), drained_calls);
	mem_complete_one(t);
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
	CHECK(t->closing && conn_written_tag(c) == 0 && wire.pending == 0,
	      "dropped at the flush with nothing written: no tag moved");
	sbuf_unref(b);
	close_session(t);
}

int main(void)
{
	uv_loop_init(&loop);
	stub_server_init(&srv, &loop, &stub);
	srv.cfg.max_output = 64 * 1024;
	mem_wire_init(&wire, 1 << 16);

	test_reply_order();
	test_pending_limit();
	test_tags_and_drained();
	test_output_limit();

	CHECK(srv.sessions.nconns == 0, "every session was freed (%u left)", (unsigned)srv.sessions.nconns);
	CHECK(uv_loop_close(&loop) == 0, "the loop closes: nothing leaked");
	stub_server_release(&srv);
	mem_wire_release(&wire);
	return tap_done();
}
