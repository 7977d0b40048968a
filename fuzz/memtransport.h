/* memtransport.h - a transport without a socket for the byte-layer fuzz harnesses
 * (fuzz_http.c, fuzz_websocket.c): what the owner writes is collected (and dropped), writes
 * complete when the harness says, and the transport closes through libuv's close callback on
 * a loop of its own (a uv_tcp_t that is never connected). Header only, static functions. */
#ifndef PIER_MEMTRANSPORT_H
#define PIER_MEMTRANSPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "net_context.h"
#include "transport.h"

static size_t mem_written;          /* bytes the owner wrote, all transports */
static int mem_writes_pending;

static void mem_input(struct transport *t, const char *data, size_t len)
{
	t->owner_ops->on_read(t->owner, data, len);
}

static int mem_write(struct transport *t, const uv_buf_t *bufs, unsigned n)
{
	(void)t;
	for (unsigned i = 0; i < n; i++)
		mem_written += bufs[i].len;
	mem_writes_pending++;
	return 0;
}

static void mem_try_write(struct transport *t, const char *data, size_t len)
{
	(void)t;
	(void)data;
	mem_written += len;
}

static void mem_nothing(struct transport *t)
{
	(void)t;
}

static void mem_release(struct transport *t)
{
	/* A write in flight is cancelled, as transport.h promises the owner. */
	if (mem_writes_pending > 0 && t->owner_ops != NULL) {
		mem_writes_pending = 0;
		t->owner_ops->on_written(t->owner, UV_ECANCELED);
	}
}

static const struct transport_ops mem_ops = {
	.name = "memory",
	.input = mem_input,
	.write = mem_write,
	.try_write = mem_try_write,
	.shutdown = mem_nothing,
	.release = mem_release,
};

/* A transport on ctx (an HTTP listener's) with no owner yet. */
static struct transport *mem_open(struct net_context *ctx)
{
	struct transport *t = calloc(1, sizeof(*t));

	if (t == NULL)
		abort();
	t->ctx = ctx;
	t->ops = &mem_ops;
	t->kind = LISTEN_HTTP;
	t->out_soft = ctx->cfg->max_output / 4;
	t->out_hard = ctx->cfg->max_output * 2;
	snprintf(t->addr, sizeof(t->addr), "127.0.0.1");
	uv_tcp_init(ctx->loop, &t->tcp);    /* never connected: reads do not start */
	t->tcp.data = t;
	ctx->metrics->open[LISTEN_HTTP]++;
	mem_writes_pending = 0;
	return t;
}

/* The writes made so far are on the wire (the owner hears on_written). */
static void mem_complete(struct transport *t)
{
	while (mem_writes_pending > 0 && !t->closing) {
		mem_writes_pending--;
		t->owner_ops->on_written(t->owner, 0);
	}
}

/* Feeds data in pieces of chunk bytes (at least 1), completing writes after each piece when
 * complete_each. Stops when the transport closes. */
static void mem_feed(struct transport *t, const char *data, size_t len, size_t chunk,
                     bool complete_each)
{
	if (chunk == 0)
		chunk = 1;
	for (size_t off = 0; off < len && !t->closing; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		t->ops->input(t, data + off, n);
		if (complete_each)
			mem_complete(t);
	}
}

#endif
