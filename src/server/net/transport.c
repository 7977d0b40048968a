/* transport.c - an accepted socket as a byte stream: accepting, reading into the shared read
 * buffer, the plain TCP layer, closing and freeing (see transport.h). */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "net_context.h"
#include "ratelimit.h"
#include "xalloc.h"

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct transport *t = h->data;

	(void)suggested;
	*buf = uv_buf_init(t->ctx->readbuf, sizeof(t->ctx->readbuf));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct transport *t = s->data;

	(void)buf;
	if (t->closing || n == 0)
		return;
	if (n < 0) {
		if (n != UV_EOF)
			log_debug("%s %s: read error: %s", t->ops->name, t->addr, uv_strerror((int)n));
		t->owner_ops->on_error(t->owner, (int)n);
		return;
	}
	t->ctx->metrics->bytes_in += (uint64_t)n;
	t->ops->input(t, t->ctx->readbuf, (size_t)n);
}

static void write_cb(uv_write_t *req, int status)
{
	struct transport *t = req->data;
	void (*done)(struct transport *, int) = t->wdone;

	t->wdone = NULL;
	t->write_since_ms = 0;
	done(t, status);
}

int transport_uv_write(struct transport *t, const uv_buf_t *bufs, unsigned nbufs,
                       void (*done)(struct transport *t, int status))
{
	int rc;

	if (t->closing)
		return UV_ECANCELED;
	t->wreq.data = t;
	t->wdone = done;
	rc = uv_write(&t->wreq, (uv_stream_t *)&t->tcp, bufs, nbufs, write_cb);
	if (rc != 0) {
		t->wdone = NULL;
		return rc;
	}
	t->write_since_ms = pier_mono_ms();
	for (unsigned i = 0; i < nbufs; i++)
		t->ctx->metrics->bytes_out += bufs[i].len;
	return 0;
}

/* ---- the plain TCP layer ---- */

static void tcp_input(struct transport *t, const char *data, size_t len)
{
	t->owner_ops->on_read(t->owner, data, len);
}

static void tcp_written(struct transport *t, int status)
{
	t->owner_ops->on_written(t->owner, status);
}

static int tcp_write(struct transport *t, const uv_buf_t *bufs, unsigned nbufs)
{
	return transport_uv_write(t, bufs, nbufs, tcp_written);
}

static void tcp_try_write(struct transport *t, const char *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);

	/* Fails harmlessly (EAGAIN) when a write is queued already. */
	if (uv_try_write((uv_stream_t *)&t->tcp, &b, 1) > 0)
		t->ctx->metrics->bytes_out += len;
}

static void tcp_shutdown(struct transport *t)
{
	(void)t;
}

static void tcp_release(struct transport *t)
{
	(void)t;
}

const struct transport_ops tcp_transport_ops = {
	.name = "tcp",
	.input = tcp_input,
	.write = tcp_write,
	.try_write = tcp_try_write,
	.shutdown = tcp_shutdown,
	.release = tcp_release,
};

/* ---- life ---- */

static void close_cb(uv_handle_t *h)
{
	struct transport *t = h->data;
	struct net_context *ctx = t->ctx;

	/* The layer first: it may still owe the owner an on_written (UV_ECANCELED). */
	t->ops->release(t);
	if (t->owner_ops != NULL)
		t->owner_ops->on_closed(t->owner);
	if (t->counted) {
		struct limit_entry *e = limit_get(ctx->addr_limits, t->addr, pier_mono_ms());

		(*limit_conns(e))--;
	}
	ctx->metrics->open[t->kind]--;
	free(t);
}

struct transport *transport_accept(struct net_context *ctx, uv_stream_t *listener,
                                   enum listener_kind kind)
{
	struct transport *t = xcalloc(1, sizeof(*t));
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	t->ctx = ctx;
	t->kind = kind;
	t->out_soft = ctx->cfg->max_output / 4;
	t->out_hard = ctx->cfg->max_output * 2;
	t->ops = &tcp_transport_ops;
	uv_tcp_init(ctx->loop, &t->tcp);
	t->tcp.data = t;
	ctx->metrics->open[kind]++;
	if (uv_accept(listener, (uv_stream_t *)&t->tcp) != 0) {
		t->closing = true;
		uv_close((uv_handle_t *)&t->tcp, close_cb);
		return NULL;
	}
	ctx->metrics->accepted[kind]++;
	uv_tcp_nodelay(&t->tcp, 1);
	snprintf(t->addr, sizeof(t->addr), "?");
	if (uv_tcp_getpeername(&t->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6)
			uv_ip6_name((struct sockaddr_in6 *)&ss, t->addr, sizeof(t->addr));
		else
			uv_ip4_name((struct sockaddr_in *)&ss, t->addr, sizeof(t->addr));
	}
	return t;
}

bool transport_admit(struct transport *t)
{
	struct net_context *ctx = t->ctx;
	const struct config *cfg = ctx->cfg;
	struct limit_entry *e = limit_get(ctx->addr_limits, t->addr, pier_mono_ms());

	if (!cfg->no_rate_limits && cfg->max_conns_per_addr > 0 &&
	    *limit_conns(e) >= cfg->max_conns_per_addr)
		return false;
	(*limit_conns(e))++;
	t->counted = true;
	return true;
}

void transport_set_owner(struct transport *t, const struct transport_owner_ops *ops, void *owner)
{
	t->owner_ops = ops;
	t->owner = owner;
}

/* Reads while the owner wants it and the output budget is under the soft mark. */
static void apply_reading(struct transport *t)
{
	bool want = t->reading && !t->closing && t->out_queued <= t->out_soft;

	if (want && !t->polling) {
		if (uv_read_start((uv_stream_t *)&t->tcp, alloc_cb, read_cb) == 0)
			t->polling = true;
	} else if (!want && t->polling) {
		uv_read_stop((uv_stream_t *)&t->tcp);
		t->polling = false;
	}
}

void transport_read_start(struct transport *t)
{
	if (t->reading || t->closing)
		return;
	t->reading = true;
	apply_reading(t);
}

void transport_read_stop(struct transport *t)
{
	if (!t->reading)
		return;
	t->reading = false;
	apply_reading(t);
}

void transport_out_add(struct transport *t, size_t n)
{
	t->out_queued += n;
	if (t->polling && t->out_queued > t->out_soft)
		apply_reading(t);
}

void transport_out_sub(struct transport *t, size_t n)
{
	t->out_queued = n > t->out_queued ? 0 : t->out_queued - n;
	if (!t->polling && t->reading && t->out_queued <= t->out_soft)
		apply_reading(t);
}

void transport_out_set(struct transport *t, size_t *share, size_t now)
{
	if (now > *share)
		transport_out_add(t, now - *share);
	else if (now < *share)
		transport_out_sub(t, *share - now);
	*share = now;
}

int64_t transport_write_stalled_ms(const struct transport *t, int64_t now_ms)
{
	return t->write_since_ms == 0 ? 0 : now_ms - t->write_since_ms;
}

int transport_write(struct transport *t, const uv_buf_t *bufs, unsigned nbufs)
{
	if (t->closing)
		return UV_ECANCELED;
	return t->ops->write(t, bufs, nbufs);
}

ssize_t transport_write_now(struct transport *t, const uv_buf_t *bufs, unsigned nbufs)
{
	int rc;

	if (t->closing || t->ops != &tcp_transport_ops)
		return 0;
	/* A write that completes at once skips uv_write's completion round, which in libuv
	 * 1.44 costs one more epoll_ctl per connection per flush. */
	rc = uv_try_write((uv_stream_t *)&t->tcp, bufs, nbufs);
	if (rc == UV_EAGAIN)
		return 0;
	if (rc > 0)
		t->ctx->metrics->bytes_out += (uint64_t)rc;
	return rc;
}

void transport_try_write(struct transport *t, const char *data, size_t len)
{
	if (!t->closing)
		t->ops->try_write(t, data, len);
}

static void layer_shutdown(struct transport *t)
{
	if (!t->shut) {
		t->shut = true;
		t->ops->shutdown(t);
	}
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
	(void)req;
	(void)status;             /* nothing to do: the owner closes on EOF or on its deadline */
}

void transport_shutdown_write(struct transport *t)
{
	if (t->closing || t->shut)
		return;
	layer_shutdown(t);
	uv_shutdown(&t->sreq, (uv_stream_t *)&t->tcp, shutdown_cb);
}

void transport_close(struct transport *t)
{
	if (t->closing)
		return;
	transport_read_stop(t);
	layer_shutdown(t);
	t->closing = true;
	uv_close((uv_handle_t *)&t->tcp, close_cb);
}
