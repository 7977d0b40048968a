/* fuzz_session.c - libFuzzer harness: the JSON session alone (session/conn.c and its line
 * framing, session/reply.c) fed bytes through a memory transport (tests/support/
 * memtransport.h: a second write in flight, or one after the close, aborts), with a stub
 * request handler in place of the chat. No socket, no store.
 *
 * Input: the first byte picks the session's limits; then the bytes are fed in chunks whose sizes
 * come from the input, and after each chunk the loop's work is done by hand: flush, and now and
 * then the write completes. The stub answers by the request's "op": "echo" at once, "later"
 * through a reply slot filled after the next chunk (or at the end), "pause" pauses until the
 * next chunk, "event" queues an event of "n" bytes (the output limit), "close"/"abort" close;
 * anything else gets an error. Every answer carries the request's sequence number.
 *
 * Checked: answers leave in request order (sequence numbers grow), nothing is written after
 * the connection closed, and at the end the connection is freed with all it held (ASan's leak
 * check and uv_loop_close). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "conn.h"
#include "memtransport.h"
#include "log.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "stubserver.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LATER 64          /* slots the stub keeps open at once */
#define OUT_KEEP  (1u << 20)  /* output kept for the order check */

static uv_loop_t loop;
static struct server srv;
static bool ready;

static struct mem_wire wire;  /* what the session wrote (past OUT_KEEP: no order check) */

static struct reply_slot *later[MAX_LATER];
static int64_t later_seq[MAX_LATER];
static int nlater;
static int64_t seq;
static bool paused_by_stub;

/* ---- the stub handler ---- */

static json_t *answer(const char *op, json_t *ref, int64_t n)
{
	json_t *r = reply_new(op, ref);

	json_object_set_new(r, "seq", json_integer(n));
	return r;
}

static void stub_request(struct conn *c, const char *line, size_t len)
{
	json_t *req = json_loadb(line, len, 0, NULL), *ref;
	const char *op;
	int64_t n = ++seq;

	if (req == NULL || !json_is_object(req)) {
		json_t *e = error_new(NULL, PIER_ERR_BAD_JSON, "not a JSON object");

		json_object_set_new(e, "seq", json_integer(n));
		conn_reply(c, e);
		goto out;
	}
	ref = json_object_get(req, "ref");
	if (ref != NULL && !json_is_string(ref))
		ref = NULL;
	op = req_string(req, "op");
	if (op == NULL) {
		json_t *e = error_new(ref, PIER_ERR_BAD_REQUEST, "op missing");

		json_object_set_new(e, "seq", json_integer(n));
		conn_reply(c, e);
	} else if (strcmp(op, "echo") == 0) {
		json_t *r = answer("echo", ref, n);

		json_object_set(r, "req", req);
		conn_reply(c, r);
	} else if (strcmp(op, "later") == 0 && nlater < MAX_LATER) {
		conn_ref(c);
		later[nlater] = conn_slot_open(c);
		later_seq[nlater++] = n;
	} else if (strcmp(op, "pause") == 0) {
		conn_reply(c, answer("pause", ref, n));
		if (!paused_by_stub) {
			paused_by_stub = true;
			conn_pause(c);
		}
	} else if (strcmp(op, "event") == 0) {
		json_int_t size = json_integer_value(json_object_get(req, "n"));
		size_t sz = size > 0 && size < 65536 ? (size_t)size : 16;
		char *fill = malloc(sz + 1);

		memset(fill, 'e', sz);
		fill[sz] = '\0';
		conn_send_json(c, json_pack("{s:s, s:s}", "op", "event", "fill", fill));
		free(fill);
		conn_reply(c, answer("event", ref, n));
	} else if (strcmp(op, "close") == 0) {
		conn_close(c, PIER_ERR_SHUTTING_DOWN, "closing");
	} else if (strcmp(op, "abort") == 0) {
		conn_abort(c, PIER_ERR_NONE, NULL);
	} else {
		json_t *e = error_new(ref, PIER_ERR_UNKNOWN_OP, "unknown op %.40s", op);

		json_object_set_new(e, "seq", json_integer(n));
		conn_reply(c, e);
	}
out:
	json_decref(req);
}

static const char *stub_who(const struct conn *c)
{
	(void)c;
	return NULL;
}

static const struct conn_handler stub_handler = {
	.request = stub_request,
	.who = stub_who,
};

/* ---- the loop's work, by hand ---- */

/* Fills the open slots, newest first, so answers wait behind the oldest. */
static void fill_slots(struct conn *c)
{
	for (int i = nlater - 1; i >= 0; i--) {
		conn_slot_fill(c, later[i], answer("later", NULL, later_seq[i]));
		conn_unref(c);
	}
	nlater = 0;
}

static void flush(void)
{
	conns_flush_dirty(&srv.sessions);
}

/* Answers in request order: the "seq" of the lines written grows. */
static void check_order(void)
{
	int64_t last = 0;
	size_t off = 0;

	if (wire.cut)
		return;
	while (off < wire.len) {
		const char *nl = memchr(wire.out + off, '\n', wire.len - off);
		json_t *j;

		if (nl == NULL)
			abort();             /* the session writes whole lines only */
		j = json_loadb(wire.out + off, (size_t)(nl - (wire.out + off)), 0, NULL);
		if (j == NULL)
			abort();             /* and every one is JSON */
		if (json_object_get(j, "seq") != NULL) {
			int64_t s = json_integer_value(json_object_get(j, "seq"));

			if (s <= last)
				abort();
			last = s;
		}
		json_decref(j);
		off = (size_t)(nl - wire.out) + 1;
	}
}

static void setup(void)
{
	uv_loop_init(&loop);
	log_set_level(LOG_ERROR);       /* every drop is logged: noise at fuzzing speed */
	stub_server_init(&srv, &loop, &stub_handler);
	mem_wire_init(&wire, OUT_KEEP);
	ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport *t;
	struct conn *c;
	size_t off = 1;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	/* Small limits, so that inputs reach them. */
	srv.cfg.max_line = 64 + (size_t)(data[0] & 0x0f) * 64;
	srv.cfg.max_output = 1024 + (size_t)(data[0] >> 4) * 1024;
	nlater = 0;
	seq = 0;
	paused_by_stub = false;

	t = mem_open(&srv.net, LISTEN_TCP, &wire);
	c = conn_new(&srv.sessions, t, &conn_lines_framing, NULL);
	conn_ref(c);
	while (off < size && !t->closing) {
		/* A chunk: its length is the next byte (0 means 1), its bytes follow. */
		size_t n = data[off] ? data[off] : 1;

		off++;
		if (n > size - off)
			n = size - off;
		mem_input(t, (const char *)data + off, n);
		off += n;
		if (n % 3 == 0 && !c->closing)
			fill_slots(c);
		if (paused_by_stub && !c->closing) {
			paused_by_stub = false;
			conn_resume(c);
		}
		flush();
		if (n % 2 == 0)
			mem_complete(t);
	}
	/* The end: answer everything; a resumed session may read more requests (and open more
	 * slots), so until nothing is left. Each round handles at least one request. */
	while (nlater > 0 || paused_by_stub) {
		fill_slots(c);
		if (paused_by_stub) {
			paused_by_stub = false;
			if (!c->closing)
				conn_resume(c);
		}
		flush();
	}
	mem_complete(t);
	flush();
	if (getenv("FUZZ_SESSION_DUMP") != NULL)     /* to see what a seed does */
		fprintf(stderr, "---- %zu bytes written%s\n%.*s", wire.total, wire.cut ? " (cut)" : "",
		        (int)wire.len, wire.out);
	check_order();
	conn_unref(c);
	if (!t->closing)
		transport_close(t);
	uv_run(&loop, UV_RUN_NOWAIT);       /* the close callback frees the connection */
	if (srv.sessions.nconns != 0 || srv.sessions.conns != NULL)
		abort();
	return 0;
}
