/* fuzz_http.c - libFuzzer harness: arbitrary bytes into the HTTP layer (http.c) over a memory
 * transport, with a small route table of its own that exercises every path of the layer: an
 * answer at once, a body read to the end, a body paused and refused (an error while paused:
 * the connection must end) or paused and resumed, a streamed chunked answer, and an upgrade.
 *
 * The first input byte chooses how the rest is cut into reads (1..64 bytes, or all at once)
 * and whether writes complete after each read. Then the 1 s tick runs far in the future (every
 * deadline passes) and the connection closes. Nothing may crash or leak, the output budget
 * must come back to zero with the answers written, and every connection must be freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "memtransport.h"
#include "net_context.h"
#include "ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the routes ---- */

static void hello_head(struct http_exchange *x)
{
	http_respond(x, 200, "text/plain", "hello\n", 6);
}

static void echo_body(struct http_exchange *x, const char *data, size_t len)
{
	(void)data;
	http_set_data(x, (void *)((uintptr_t)http_data(x) + len));
}

static void echo_end(struct http_exchange *x)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%zu bytes\n", (size_t)(uintptr_t)http_data(x));

	http_respond(x, 200, "text/plain", line, (size_t)n);
}

/* Pauses the body as an upload handler does until it knows it wants it; then either resumes
 * ("?go") or refuses (401) while the body is still paused. */
static void paused_head(struct http_exchange *x)
{
	const char *q = http_query(x);

	http_set_max_body(x, 8192);
	http_pause_body(x, true);
	if (q != NULL && strcmp(q, "go") == 0)
		http_pause_body(x, false);
	else
		http_error(x, 401, "no token");
}

static void paused_end(struct http_exchange *x)
{
	http_respond(x, 201, "text/plain", "stored\n", 7);
}

/* A chunked answer in pieces, the next one when the last is written. */
static void stream_next(struct http_exchange *x)
{
	uintptr_t left = (uintptr_t)http_data(x);

	if (left == 0) {
		http_response_end(x);
		return;
	}
	http_set_data(x, (void *)(left - 1));
	http_response_body(x, "piece of a streamed answer\n", 27);
}

static void stream_head(struct http_exchange *x)
{
	http_response_start(x, 200, -1);
	http_response_header(x, "Content-Type", "text/plain");
	http_set_data(x, (void *)(uintptr_t)3);
	stream_next(x);
}

static void sink_read(void *owner, const char *data, size_t len)
{
	(void)owner;
	(void)data;
	(void)len;
}

static void sink_error(void *owner, int status)
{
	(void)owner;
	(void)status;
}

static void sink_closed(void *owner)
{
	(void)owner;
}

static const struct transport_owner_ops sink_ops = {
	.on_read = sink_read,
	.on_error = sink_error,
	.on_written = sink_error,
	.on_closed = sink_closed,
};

/* The upgraded protocol: takes the transport and closes it. */
static void upgrade_start(void *arg, struct transport *t, const char *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	transport_set_owner(t, &sink_ops, NULL);
	transport_close(t);
}

static void upgrade_head(struct http_exchange *x)
{
	if (!http_header_has_token(x, "Upgrade", "test")) {
		http_error(x, 426, "upgrade to test");
		return;
	}
	http_response_start(x, 101, -1);
	http_response_header(x, "Upgrade", "test");
	http_response_header(x, "Connection", "Upgrade");
	http_upgrade(x, upgrade_start, NULL);
}

static void echo_head(struct http_exchange *x)
{
	http_set_data(x, NULL);
}

static const struct http_route routes[] = {
	{ .method = "GET", .path = "/hello", .on_head = hello_head },
	{ .method = "POST", .path = "/echo", .max_body = 4096, .on_head = echo_head,
	  .on_body = echo_body, .on_end = echo_end },
	{ .method = "POST", .path = "/paused", .max_body = HTTP_BODY_HANDLER_LIMIT,
	  .on_head = paused_head, .on_end = paused_end },
	{ .method = "GET", .path = "/stream", .on_head = stream_head, .on_writable = stream_next },
	{ .method = "GET", .path = "/upgrade", .on_head = upgrade_head },
	{ .method = NULL, .path = "/any/", .prefix = true, .on_head = hello_head },
};

static uv_loop_t loop;
static struct config cfg;
static struct net_metrics metrics;
static struct net_context ctx;
static struct mem_wire wire;          /* counted, not kept */

static void setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	log_set_level(LOG_ERROR);
	uv_loop_init(&loop);
	config_init(&cfg);
	cfg.no_rate_limits = true;
	cfg.max_output = 64 * 1024;           /* small marks, so that the budget is exercised */
	cfg.http_max_header = 2048;
	ctx.loop = &loop;
	ctx.cfg = &cfg;
	ctx.metrics = &metrics;
	ctx.addr_limits = limit_table_new(NULL, 0);
	ctx.routes = routes;
	ctx.nroutes = sizeof(routes) / sizeof(routes[0]);
	mem_wire_init(&wire, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport *t;
	size_t chunk;
	bool complete_each;

	setup();
	if (size == 0)
		return 0;
	chunk = data[0] & 0x40 ? size : (size_t)(data[0] & 0x3f) + 1;
	complete_each = (data[0] & 0x80) != 0;
	t = mem_open(&ctx, LISTEN_HTTP, &wire);
	http_conn_new(t);
	mem_feed(t, (const char *)data + 1, size - 1, chunk, complete_each);
	/* What handlers answered from outside their callbacks, then everything written. */
	for (int i = 0; i < 8 && !t->closing; i++) {
		http_conns_flush(&ctx);
		mem_complete(t);
	}
	if (!t->closing && t->out_queued != 0 && wire.pending == 0)
		abort();                          /* all written, yet counted in the budget */
	/* Every deadline passes. */
	http_conns_tick(&ctx, pier_mono_ms() + 3600 * 1000);
	http_conns_flush(&ctx);
	mem_complete(t);
	if (!t->closing)
		transport_close(t);
	uv_run(&loop, UV_RUN_NOWAIT);
	if (ctx.nhttp != 0)
		abort();                          /* a connection was not freed */
	return 0;
}
