/* fuzz_websocket.c - libFuzzer harness: client frames into an upgraded WebSocket session
 * (ws.c, wslay) over a memory transport. The session is held paused, as one waiting for a
 * request to finish, so that messages are framed and kept but not dispatched (the JSON ops
 * have harnesses and tests of their own): what is exercised is the framing - masks, lengths,
 * fragments, control frames (every PING makes a PONG that counts in the output budget),
 * close frames and their codes, UTF-8, the --max-line limit.
 *
 * The first input byte chooses how the rest is cut into reads (1..64 bytes, or all at once)
 * and whether writes complete after each read. Then the tick runs far in the future (the
 * ping deadline passes) and the connection closes. Nothing may crash or leak, and the
 * session must be freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "log.h"
#include "memtransport.h"
#include "net_context.h"
#include "reply.h"
#include "server.h"
#include "stubserver.h"
#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static struct server srv;
static struct mem_wire wire;          /* counted, not kept */

/* The session's requests (none while it is held paused, but a stub must be there). */
static void stub_request(struct conn *c, const char *line, size_t len)
{
	(void)line;
	(void)len;
	conn_reply(c, reply_new("pong", NULL));
}

static const struct conn_handler stub_handler = { .request = stub_request };

static void setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	log_set_level(LOG_ERROR);
	uv_loop_init(&loop);
	stub_server_init(&srv, &loop, &stub_handler);
	srv.cfg.no_rate_limits = true;
	srv.cfg.max_line = 4096;              /* small limits, so that they are reached */
	srv.cfg.max_output = 64 * 1024;
	mem_wire_init(&wire, 0);
}

/* What server.c's flush does once per loop turn: write every connection with output. */
static void flush_dirty(void)
{
	conns_flush_dirty(&srv.sessions);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport *t;
	struct conn *c;
	size_t chunk;
	bool complete_each;

	setup();
	if (size == 0)
		return 0;
	chunk = data[0] & 0x40 ? size : (size_t)(data[0] & 0x3f) + 1;
	complete_each = (data[0] & 0x80) != 0;
	t = mem_open(&srv.net, LISTEN_HTTP, &wire);
	ws_session_start(&srv.sessions, t, NULL, 0);
	c = t->owner;
	conn_ref(c);
	conn_pause(c);                         /* framed and kept, not dispatched */
	mem_feed(t, (const char *)data + 1, size - 1, chunk, complete_each);
	for (int i = 0; i < 8 && !t->closing; i++) {
		flush_dirty();
		mem_complete(t);
	}
	/* The ping deadline passes: a ping goes out, then no pong closes the session. */
	if (!t->closing)
		conn_tick(c, pier_mono_ms() + 3600 * 1000);
	if (!t->closing)
		conn_tick(c, pier_mono_ms() + 7200 * 1000);
	flush_dirty();
	mem_complete(t);
	if (!t->closing)
		conn_abort(c, PIER_ERR_NONE, NULL);
	flush_dirty();
	conn_unref(c);
	uv_run(&loop, UV_RUN_NOWAIT);
	if (srv.sessions.nconns != 0)
		abort();                          /* the session was not freed */
	return 0;
}
