/* memtransport.c - the memory transport of the unit tests and fuzz harnesses (see
 * memtransport.h). */
#include "memtransport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "config.h"
#include "net_context.h"

/* transport.c frees a transport with free(): the wire pointer rides behind it in the same
 * block. */
struct mem_transport {
	struct transport t;
	struct mem_wire *wire;
};

static struct mem_wire *wire_of(struct transport *t)
{
	return ((struct mem_transport *)(void *)t)->wire;
}

static void wire_put(struct mem_wire *w, const char *data, size_t len)
{
	size_t room = w->keep - w->len;
	size_t n = len < room ? len : room;

	if (n > 0) {
		memcpy(w->out + w->len, data, n);
		w->len += n;
		w->out[w->len] = '\0';
	}
	if (n < len)
		w->cut = true;
	w->total += len;
}

void mem_wire_init(struct mem_wire *w, size_t keep)
{
	memset(w, 0, sizeof(*w));
	w->keep = keep;
	w->out = malloc(keep + 1);
	if (w->out == NULL)
		abort();
	w->out[0] = '\0';
}

void mem_wire_release(struct mem_wire *w)
{
	free(w->out);
	w->out = NULL;
}

static void mem_op_input(struct transport *t, const char *data, size_t len)
{
	t->owner_ops->on_read(t->owner, data, len);
}

static int mem_op_write(struct transport *t, const uv_buf_t *bufs, unsigned n)
{
	struct mem_wire *w = wire_of(t);

	if (t->closing || w->pending > 0)
		abort();                 /* transport.h: one write at a time, none after the close */
	for (unsigned i = 0; i < n; i++)
		wire_put(w, bufs[i].base, bufs[i].len);
	w->pending++;
	return 0;
}

static void mem_op_try_write(struct transport *t, const char *data, size_t len)
{
	wire_put(wire_of(t), data, len);
}

static void mem_op_shutdown(struct transport *t)
{
	(void)t;
}

/* A write in flight is cancelled, as transport.h promises the owner. */
static void mem_op_release(struct transport *t)
{
	struct mem_wire *w = wire_of(t);

	while (w->pending > 0 && t->owner_ops != NULL) {
		w->pending--;
		t->owner_ops->on_written(t->owner, UV_ECANCELED);
	}
	w->pending = 0;
}

static const struct transport_ops mem_ops = {
	.name = "memory",
	.input = mem_op_input,
	.write = mem_op_write,
	.try_write = mem_op_try_write,
	.shutdown = mem_op_shutdown,
	.release = mem_op_release,
};

struct transport *mem_open(struct net_context *ctx, enum listener_kind kind, struct mem_wire *w)
{
	struct mem_transport *mt = calloc(1, sizeof(*mt));
	struct transport *t;

	if (mt == NULL)
		abort();
	mt->wire = w;
	t = &mt->t;
	t->ctx = ctx;
	t->ops = &mem_ops;
	t->kind = kind;
	t->out_soft = ctx->cfg->max_output / 4;
	t->out_hard = ctx->cfg->max_output * 2;
	snprintf(t->addr, sizeof(t->addr), "memory");
	uv_tcp_init(ctx->loop, &t->tcp);    /* never connected: nothing is read from it */
	t->tcp.data = t;
	ctx->metrics->open[kind]++;
	w->len = 0;
	w->cut = false;
	w->total = 0;
	w->pending = 0;
	if (w->out != NULL)
		w->out[0] = '\0';
	return t;
}

void mem_input(struct transport *t, const char *data, size_t len)
{
	t->ops->input(t, data, len);
}

void mem_feed(struct transport *t, const char *data, size_t len, size_t chunk,
              bool complete_each)
{
	if (chunk == 0)
		chunk = 1;
	for (size_t off = 0; off < len && !t->closing; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		mem_input(t, data + off, n);
		if (complete_each)
			mem_complete(t);
	}
}

void mem_complete_one(struct transport *t)
{
	struct mem_wire *w = wire_of(t);

	if (w->pending > 0 && !t->closing) {
		w->pending--;
		t->owner_ops->on_written(t->owner, 0);
	}
}

void mem_complete(struct transport *t)
{
	struct mem_wire *w = wire_of(t);

	while (w->pending > 0 && !t->closing)
		mem_complete_one(t);
}
