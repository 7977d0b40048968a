/* conn.c - a client connection's life: accept, line reading with limits, ordered replies,
 * bounded output written once per loop turn, flow control and closing. */
#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "auth.h"
#include "clock.h"
#include "dispatch.h"
#include "log.h"
#include "sbuf.h"
#include "server.h"

#define CLOSE_GRACE_MS 2000

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fputs("pierd: out of memory\n", stderr);
		abort();
	}
	return q;
}

/* Reading pauses while a client has much output unread (it is not reading its replies). */
static size_t soft_output_limit(const struct conn *c)
{
	return c->srv->cfg.max_output / 4;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;

	(void)suggested;
	*buf = uv_buf_init(c->srv->readbuf, sizeof(c->srv->readbuf));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Starts or stops reading to match the connection's state. */
static void update_reading(struct conn *c)
{
	size_t pending = c->in_len - c->in_off;
	bool want = !c->closing && !c->srv->stopping && c->out_bytes <= soft_output_limit(c) &&
	            (!c->busy || pending <= c->srv->cfg.max_line);

	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0)
			c->reading = true;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

static void reply_error_line(struct conn *c, const char *code, const char *message)
{
	json_t *e = json_pack("{s:s, s:s, s:s}", "op", "error", "error", code, "message", message);

	conn_reply(c, e);
}

/* Handles every complete line while the connection is not paused. */
static void process_input(struct conn *c)
{
	size_t max_line = c->srv->cfg.max_line;

	while (!c->busy && !c->closing && c->in_off < c->in_len) {
		char *start = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off, len;
		char *nl = memchr(start, '\n', avail);

		if (nl == NULL)
			break;
		len = (size_t)(nl - start);
		c->in_off += len + 1;
		if (len > max_line) {
			reply_error_line(c, "line_too_long", "request line over the line limit");
			continue;
		}
		if (len > 0 && start[len - 1] == '\r')
			len--;
		if (len > 0)
			dispatch_line(c, start, len);
	}
	if (!c->busy && !c->closing && c->in_len - c->in_off > max_line) {
		reply_error_line(c, "line_too_long", "request line over the line limit");
		c->in_off = c->in_len;
		c->skipping = true;
	}
	if (c->in_off == c->in_len) {
		free(c->in);        /* idle connections hold no input buffer */
		c->in = NULL;
		c->in_len = c->in_off = c->in_cap = 0;
	} else if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	update_reading(c);
}

static void append_input(struct conn *c, const char *data, size_t n)
{
	if (c->skipping) {
		const char *nl = memchr(data, '\n', n);

		if (nl == NULL)
			return;
		c->skipping = false;
		n -= (size_t)(nl + 1 - data);
		data = nl + 1;
	}
	if (n == 0)
		return;
	if (c->in_len + n > c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap : 4096;

		while (cap < c->in_len + n)
			cap *= 2;
		c->in = xrealloc(c->in, cap);
		c->in_cap = cap;
	}
	memcpy(c->in + c->in_len, data, n);
	c->in_len += n;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	(void)buf;
	if (c->closing)
		return;
	if (n < 0) {
		if (n != UV_EOF)
			log_debug("conn %s: read error: %s", c->addr, uv_strerror((int)n));
		conn_abort(c, NULL, NULL);
		return;
	}
	if (n == 0)
		return;
	conn_ref(c);
	append_input(c, c->srv->readbuf, (size_t)n);
	process_input(c);
	conn_unref(c);
}

static void free_conn(struct conn *c)
{
	struct server *srv = c->srv;

	for (size_t i = 0; i < c->outq_len; i++)
		sbuf_unref(c->outq[i]);
	for (size_t i = 0; i < c->wbufs_len; i++)
		sbuf_unref(c->wbufs[i]);
	while (c->slots != NULL) {
		struct reply_slot *s = c->slots;

		c->slots = s->next;
		sbuf_unref(s->buf);
		free(s);
	}
	if (c->counted) {
		struct limit_entry *e = limit_get(srv->addr_limits, c->addr, 0, 0, pier_mono_ms());

		(*limit_conns(e))--;
	}
	DL_DELETE(srv->conns, c);
	srv->nconns--;
	free(c->in);
	free(c->outq);
	free(c->wbufs);
	free(c);
}

void conn_ref(struct conn *c)
{
	c->refs++;
}

void conn_unref(struct conn *c)
{
	if (--c->refs == 0)
		free_conn(c);
}

static void close_cb(uv_handle_t *h)
{
	conn_unref(h->data);
}

/* Marks the connection closing and leaves its session: no more events are queued to it. */
static void begin_closing(struct conn *c)
{
	c->closing = true;
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
	if (c->user != NULL)
		session_end(c);
}

static json_t *fatal_error(const char *code, const char *message)
{
	return json_pack("{s:s, s:s, s:s, s:b}", "op", "error", "error", code, "message",
	                 message ? message : code, "fatal", 1);
}

void conn_abort(struct conn *c, const char *code, const char *message)
{
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	if (code != NULL) {
		json_t *e = fatal_error(code, message);
		struct sbuf *b = sbuf_from_json(e);
		uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);

		/* Best effort: fails harmlessly (EAGAIN) when a write is queued already. */
		uv_try_write((uv_stream_t *)&c->tcp, &ub, 1);
		sbuf_unref(b);
		json_decref(e);
		log_info("conn %s%s%s: closed: %s", c->addr, c->user ? " user " : "",
		         c->user ? c->user->name : "", code);
	}
	if (!c->closing)
		begin_closing(c);
	uv_close((uv_handle_t *)&c->tcp, close_cb);
}

void conn_close(struct conn *c, const char *code, const char *message)
{
	if (c->closing)
		return;
	if (code != NULL) {
		json_t *e = fatal_error(code, message);
		struct sbuf *b = sbuf_from_json(e);

		json_decref(e);
		/* Past any limit: it is the last thing this connection gets. */
		if (c->outq_len == c->outq_cap) {
			c->outq_cap = c->outq_cap ? c->outq_cap * 2 : 8;
			c->outq = xrealloc(c->outq, c->outq_cap * sizeof(*c->outq));
		}
		c->outq[c->outq_len++] = b;
		c->out_bytes += b->len;
		log_info("conn %s%s%s: closing: %s", c->addr, c->user ? " user " : "",
		         c->user ? c->user->name : "", code);
	}
	begin_closing(c);
	c->close_deadline_ms = pier_mono_ms() + CLOSE_GRACE_MS;
	if (c->outq_len == 0 && !c->writing)
		uv_close((uv_handle_t *)&c->tcp, close_cb);
	else
		server_mark_dirty(c->srv, c);
}

static void queue_out(struct conn *c, struct sbuf *b)
{
	if (c->overflow)
		return;
	if (c->out_bytes + b->len > c->srv->cfg.max_output) {
		/* Dropped in the flush phase, not here: fan-out loops must not see sessions leave. */
		c->overflow = true;
		server_mark_dirty(c->srv, c);
		return;
	}
	if (c->outq_len == c->outq_cap) {
		c->outq_cap = c->outq_cap ? c->outq_cap * 2 : 8;
		c->outq = xrealloc(c->outq, c->outq_cap * sizeof(*c->outq));
	}
	c->outq[c->outq_len++] = sbuf_ref(b);
	c->out_bytes += b->len;
	server_mark_dirty(c->srv, c);
	if (c->reading && c->out_bytes > soft_output_limit(c))
		update_reading(c);
}

void conn_send(struct conn *c, struct sbuf *b)
{
	if (!c->closing)
		queue_out(c, b);
}

void conn_send_json(struct conn *c, json_t *ev)
{
	if (!c->closing) {
		struct sbuf *b = sbuf_from_json(ev);

		queue_out(c, b);
		sbuf_unref(b);
	}
	json_decref(ev);
}

void conn_reply(struct conn *c, json_t *reply)
{
	if (c->slots == NULL) {
		conn_send_json(c, reply);
		return;
	}
	conn_slot_fill(c, conn_slot_open(c), reply);
}

struct reply_slot *conn_slot_open(struct conn *c)
{
	struct reply_slot *s = calloc(1, sizeof(*s));

	if (s == NULL)
		abort();
	if (c->slots_tail != NULL)
		c->slots_tail->next = s;
	else
		c->slots = s;
	c->slots_tail = s;
	return s;
}

void conn_slot_fill(struct conn *c, struct reply_slot *slot, json_t *reply)
{
	slot->buf = sbuf_from_json(reply);
	json_decref(reply);
	while (c->slots != NULL && c->slots->buf != NULL) {
		struct reply_slot *s = c->slots;

		c->slots = s->next;
		if (c->slots == NULL)
			c->slots_tail = NULL;
		if (!c->closing)
			queue_out(c, s->buf);
		sbuf_unref(s->buf);
		free(s);
	}
}

void conn_pause(struct conn *c)
{
	c->busy = true;
}

void conn_resume(struct conn *c)
{
	c->busy = false;
	if (!c->closing)
		process_input(c);
}

static void write_cb(uv_write_t *req, int status)
{
	struct conn *c = req->data;

	c->writing = false;
	for (size_t i = 0; i < c->wbufs_len; i++) {
		c->out_bytes -= c->wbufs[i]->len;
		sbuf_unref(c->wbufs[i]);
	}
	c->wbufs_len = 0;
	if (status < 0) {
		if (status != UV_ECANCELED) {
			log_debug("conn %s: write error: %s", c->addr, uv_strerror(status));
			conn_abort(c, NULL, NULL);
		}
		goto out;
	}
	if (c->outq_len > 0)
		conn_flush(c);
	else if (c->closing && !uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, close_cb);
	else
		update_reading(c);
out:
	conn_unref(c);
}

void conn_flush(struct conn *c)
{
	uv_buf_t small[16], *bufs = small;
	struct sbuf **tmp;
	size_t n = c->outq_len, tcap;
	int rc;

	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	if (c->overflow) {
		conn_abort(c, "slow_consumer", "output limit passed: read faster, catch up with history");
		return;
	}
	if (c->writing || n == 0)
		return;
	if (n > 16)
		bufs = xrealloc(NULL, n * sizeof(*bufs));
	for (size_t i = 0; i < n; i++)
		bufs[i] = uv_buf_init(c->outq[i]->data, (unsigned)c->outq[i]->len);
	/* The queued buffers become the ones in flight; swap the arrays to reuse both. */
	tmp = c->wbufs;
	tcap = c->wbufs_cap;
	c->wbufs = c->outq;
	c->wbufs_cap = c->outq_cap;
	c->wbufs_len = n;
	c->outq = tmp;
	c->outq_cap = tcap;
	c->outq_len = 0;
	c->wreq.data = c;
	conn_ref(c);
	rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, (unsigned)n, write_cb);
	if (bufs != small)
		free(bufs);
	if (rc != 0) {
		/* uv_write failed synchronously: the callback will not run. */
		for (size_t i = 0; i < c->wbufs_len; i++) {
			c->out_bytes -= c->wbufs[i]->len;
			sbuf_unref(c->wbufs[i]);
		}
		c->wbufs_len = 0;
		conn_abort(c, NULL, NULL);
		conn_unref(c);
		return;
	}
	c->writing = true;
}

void conn_accept(struct server *srv)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int64_t now = pier_mono_ms();
	struct limit_entry *e;

	if (c == NULL)
		abort();
	c->srv = srv;
	c->refs = 1;
	c->accepted_ms = now;
	uv_tcp_init(srv->loop, &c->tcp);
	c->tcp.data = c;
	DL_APPEND(srv->conns, c);
	srv->nconns++;
	if (uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, close_cb);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	snprintf(c->addr, sizeof(c->addr), "?");
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6)
			uv_ip6_name((struct sockaddr_in6 *)&ss, c->addr, sizeof(c->addr));
		else
			uv_ip4_name((struct sockaddr_in *)&ss, c->addr, sizeof(c->addr));
	}
	bucket_init(&c->msg_bucket, srv->cfg.msg_burst, now);
	bucket_init(&c->req_bucket, srv->cfg.req_burst, now);
	e = limit_get(srv->addr_limits, c->addr, srv->cfg.addr_fail_burst, srv->cfg.register_burst, now);
	if (!srv->cfg.no_rate_limits && srv->cfg.max_conns_per_addr > 0 &&
	    *limit_conns(e) >= srv->cfg.max_conns_per_addr) {
		conn_close(c, "too_many_connections", "too many connections from your address");
		return;
	}
	(*limit_conns(e))++;
	c->counted = true;
	log_debug("conn %s: accepted", c->addr);
	update_reading(c);
}
