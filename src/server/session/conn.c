/* conn.c - a client session's life: requests in, ordered replies, bounded output written once
 * per loop turn, flow control and closing; and the JSON-lines framing of the TCP protocol
 * port. The bytes' road below (TCP, TLS) is the transport's business (transport.h). */
#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "clock.h"
#include "log.h"
#include "sbuf.h"
#include "config.h"
#include "session_context.h"
#include "transport.h"
#include "xalloc.h"

#define CLOSE_GRACE_MS 2000

/* Reading pauses while a client has much output unread (it is not reading its replies). */
static size_t soft_output_limit(const struct conn *c)
{
	return c->ctx->cfg->max_output / 4;
}

void conn_update_reading(struct conn *c)
{
	size_t pending = c->in_len - c->in_off;
	bool want = !c->closing && !c->ctx->stopping && c->out_bytes <= soft_output_limit(c) &&
	            (!conn_is_paused(c) || pending <= c->ctx->cfg->max_line);

	if (c->tp == NULL)
		return;
	if (want && !c->reading) {
		transport_read_start(c->tp);
		c->reading = c->tp->reading;
	} else if (!want && c->reading) {
		transport_read_stop(c->tp);
		c->reading = false;
	}
}

void conn_stop_reading(struct conn *c)
{
	if (c->tp != NULL)
		transport_read_stop(c->tp);
	c->reading = false;
}

void conn_in_append(struct conn *c, const void *data, size_t n)
{
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

size_t conn_in_compact(struct conn *c)
{
	size_t moved = c->in_off;

	if (c->in_off == c->in_len) {
		free(c->in);        /* idle connections hold no input buffer */
		c->in = NULL;
		c->in_len = c->in_off = c->in_cap = 0;
	} else if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	return moved;
}

static void free_conn(struct conn *c)
{
	struct session_context *ctx = c->ctx;

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
	if (c->framing->release != NULL)
		c->framing->release(c);
	DL_DELETE(ctx->conns, c);
	ctx->nconns--;
	free(c->in);
	free(c->outq);
	free(c->wbufs);
	free(c->tags);
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

void conn_on_closed(void *owner)
{
	struct conn *c = owner;

	c->tp = NULL;
	c->tp_closed = true;
	c->reading = false;
	conn_unref(c);
}

static bool tp_gone(const struct conn *c)
{
	return c->tp == NULL || transport_is_closing(c->tp);
}

/* Marks the connection closing and leaves its session: no more events are queued to it. */
static void begin_closing(struct conn *c)
{
	c->closing = true;
	conn_stop_reading(c);
	if (c->handler->closing != NULL)
		c->handler->closing(c);
}

/* "conn ADDR" or "conn ADDR user NAME" for log lines. */
static void log_closed(const struct conn *c, const char *what, enum pier_error code)
{
	const char *who = c->handler->who != NULL ? c->handler->who(c) : NULL;

	log_info("conn %s%s%s: %s: %s", c->addr, who ? " user " : "", who ? who : "", what,
	         pier_error_name(code));
}

void conn_request(struct conn *c, const char *line, size_t len)
{
	c->handler->request(c, line, len);
}

static json_t *fatal_error(enum pier_error code, const char *message)
{
	return json_pack("{s:s, s:s, s:s, s:b}", "op", "error", "error", pier_error_name(code),
	                 "message", message ? message : pier_error_name(code), "fatal", 1);
}

void conn_abort(struct conn *c, enum pier_error code, const char *message)
{
	if (tp_gone(c))
		return;
	if (code != PIER_ERR_NONE) {
		json_t *e = fatal_error(code, message);
		struct sbuf *b = sbuf_from_json(e);

		c->framing->last_words(c, b, code);
		sbuf_unref(b);
		json_decref(e);
		log_closed(c, "closed", code);
	}
	if (!c->closing)
		begin_closing(c);
	transport_close(c->tp);
}

void conn_on_error(void *owner, int status)
{
	struct conn *c = owner;

	if (status != UV_EOF)
		log_debug("conn %s: %s", c->addr, uv_strerror(status));
	conn_abort(c, PIER_ERR_NONE, NULL);
}

/* Output flushed on a closing connection: the framing says goodbye and closes. */
static void finish_closing(struct conn *c)
{
	if (!tp_gone(c))
		c->framing->shutdown(c, c->close_code);
}

/* out_bytes changes by +add -sub: the transport's output budget counts it too. */
static void count_out(struct conn *c, size_t add, size_t sub)
{
	c->out_bytes = c->out_bytes + add - sub;
	if (c->tp != NULL) {
		transport_out_add(c->tp, add);
		transport_out_sub(c->tp, sub);
	}
}

static void push_out(struct conn *c, struct sbuf *b)
{
	if (c->outq_len == c->outq_cap) {
		c->outq_cap = c->outq_cap ? c->outq_cap * 2 : 8;
		c->outq = xrealloc(c->outq, c->outq_cap * sizeof(*c->outq));
	}
	c->outq[c->outq_len++] = b;
	count_out(c, b->len, 0);
	c->out_total += b->len;
}

void conn_close(struct conn *c, enum pier_error code, const char *message)
{
	if (c->closing)
		return;
	if (code != PIER_ERR_NONE) {
		json_t *e = fatal_error(code, message);

		/* Past any limit: it is the last thing this connection gets. */
		push_out(c, sbuf_from_json(e));
		json_decref(e);
		c->close_code = code;
		log_closed(c, "closing", code);
	}
	begin_closing(c);
	c->close_deadline_ms = pier_mono_ms() + CLOSE_GRACE_MS;
	if (c->outq_len == 0 && !c->writing)
		finish_closing(c);
	else
		conn_mark_dirty(c);
}

/* Queues b (a reference of its own); false when it was not (past the limit). */
static bool queue_out(struct conn *c, struct sbuf *b)
{
	if (c->overflow)
		return false;
	if (c->out_bytes + b->len > c->ctx->cfg->max_output) {
		/* Dropped in the flush phase, not here: fan-out loops must not see sessions leave. */
		c->overflow = true;
		conn_mark_dirty(c);
		return false;
	}
	push_out(c, sbuf_ref(b));
	conn_mark_dirty(c);
	if (c->reading && c->out_bytes > soft_output_limit(c))
		conn_update_reading(c);
	return true;
}

void conn_send(struct conn *c, struct sbuf *b)
{
	if (!c->closing)
		queue_out(c, b);
}

bool conn_send_tagged(struct conn *c, struct sbuf *b, int64_t tag)
{
	struct conn_tag t = { .end = c->out_total + b->len, .tag = tag };

	if (c->closing || !queue_out(c, b))
		return false;
	if (c->ntags == c->tags_cap) {
		c->tags_cap = c->tags_cap ? c->tags_cap * 2 : 16;
		c->tags = xrealloc(c->tags, c->tags_cap * sizeof(*c->tags));
	}
	c->tags[c->ntags++] = t;
	return true;
}

int64_t conn_written_tag(const struct conn *c)
{
	return c->written_tag;
}

int64_t conn_queued_tag(const struct conn *c)
{
	return c->ntags > 0 ? c->tags[c->ntags - 1].tag : c->written_tag;
}

size_t conn_output_room(const struct conn *c)
{
	size_t max = c->ctx->cfg->max_output;

	return c->overflow || c->out_bytes >= max ? 0 : max - c->out_bytes;
}

bool conn_output_below_soft(const struct conn *c)
{
	return !c->overflow && c->out_bytes < soft_output_limit(c);
}

/* n more bytes (whole buffers) are on the wire: move the written tag. */
static void note_written(struct conn *c, size_t n)
{
	size_t k = 0;

	c->written_total += n;
	while (k < c->ntags && c->written_total >= c->tags[k].end) {
		if (c->tags[k].tag > c->written_tag)
			c->written_tag = c->tags[k].tag;
		k++;
	}
	if (k > 0) {
		memmove(c->tags, c->tags + k, (c->ntags - k) * sizeof(*c->tags));
		c->ntags -= k;
	}
}

/* After a write: tells the handler when there is room again. */
static void tell_drained(struct conn *c)
{
	if (!c->closing && !tp_gone(c) && c->handler->drained != NULL && conn_output_below_soft(c))
		c->handler->drained(c);
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
	struct reply_slot *s = xcalloc(1, sizeof(*s));

	c->nslots++;
	if (c->slots_tail != NULL)
		c->slots_tail->next = s;
	else
		c->slots = s;
	c->slots_tail = s;
	return s;
}

void conn_slot_fill(struct conn *c, struct reply_slot *slot, json_t *reply)
{
	struct sbuf *b = sbuf_from_json(reply);

	json_decref(reply);
	conn_slot_fill_buf(c, slot, b);
}

void conn_slot_fill_buf(struct conn *c, struct reply_slot *slot, struct sbuf *b)
{
	slot->buf = b;
	while (c->slots != NULL && c->slots->buf != NULL) {
		struct reply_slot *s = c->slots;

		c->slots = s->next;
		if (c->slots == NULL)
			c->slots_tail = NULL;
		if (!c->closing)
			queue_out(c, s->buf);
		sbuf_unref(s->buf);
		free(s);
		/* Below the limit again: read on at the next flush, not here (this may run inside
		 * the dispatch of a request). */
		if (c->nslots-- == CONN_MAX_PENDING && !c->closing) {
			c->want_process = true;
			conn_mark_dirty(c);
		}
	}
}

bool conn_is_paused(const struct conn *c)
{
	return c->busy || c->nslots >= CONN_MAX_PENDING;
}

void conn_pause(struct conn *c)
{
	c->busy = true;
}

void conn_resume(struct conn *c)
{
	c->busy = false;
	if (!c->closing)
		c->framing->process(c);
}

void conn_written(struct conn *c, int status)
{
	size_t n = 0;

	c->writing = false;
	for (size_t i = 0; i < c->wbufs_len; i++) {
		n += c->wbufs[i]->len;
		sbuf_unref(c->wbufs[i]);
	}
	count_out(c, 0, n);
	c->wbufs_len = 0;
	if (status == 0)
		note_written(c, n);
	if (status < 0) {
		if (status != UV_ECANCELED) {
			log_debug("conn %s: write error: %s", c->addr, uv_strerror(status));
			conn_abort(c, PIER_ERR_NONE, NULL);
		}
		goto out;
	}
	if (c->outq_len > 0)
		conn_flush(c);
	else if (c->closing)
		finish_closing(c);
	else
		conn_update_reading(c);
	tell_drained(c);
out:
	conn_unref(c);
}

/* Drops from the head of outq the bytes written at once; keeps a partial one with out_off. */
static void consume_written(struct conn *c, size_t written)
{
	size_t i = 0;

	written += c->out_off;
	while (i < c->outq_len && written >= c->outq[i]->len) {
		written -= c->outq[i]->len;
		count_out(c, 0, c->outq[i]->len);
		note_written(c, c->outq[i]->len);
		sbuf_unref(c->outq[i]);
		i++;
	}
	memmove(c->outq, c->outq + i, (c->outq_len - i) * sizeof(*c->outq));
	c->outq_len -= i;
	c->out_off = written;
}

void conn_flush(struct conn *c)
{
	struct sbuf **tmp;
	size_t n = c->outq_len, tcap;

	if (tp_gone(c))
		return;
	if (c->overflow) {
		c->ctx->metrics.slow_consumers++;
		conn_abort(c, PIER_ERR_SLOW_CONSUMER, "output limit passed: read faster, catch up with history");
		return;
	}
	if (c->want_process) {
		c->want_process = false;
		c->framing->process(c);
		n = c->outq_len;
		if (tp_gone(c))
			return;
	}
	if (c->writing || n == 0)
		return;
	if (c->framing->write_now != NULL) {
		ssize_t w = c->framing->write_now(c, c->outq, n, c->out_off);

		if (w < 0) {
			conn_abort(c, PIER_ERR_NONE, NULL);
			return;
		}
		consume_written(c, (size_t)w);
		n = c->outq_len;
		if (n == 0) {
			/* All on the wire already: what conn_written would do next. */
			if (c->closing)
				finish_closing(c);
			else
				conn_update_reading(c);
			tell_drained(c);
			return;
		}
	}
	/* The queued buffers become the ones in flight; swap the arrays to reuse both. */
	tmp = c->wbufs;
	tcap = c->wbufs_cap;
	c->wbufs = c->outq;
	c->wbufs_cap = c->outq_cap;
	c->wbufs_len = n;
	c->outq = tmp;
	c->outq_cap = tcap;
	c->outq_len = 0;
	c->wbuf_off = c->out_off;
	c->out_off = 0;
	conn_ref(c);
	c->writing = true;
	if (c->framing->write(c, c->wbufs, n) != 0) {
		/* Nothing was written and conn_written will not run. */
		c->writing = false;
		for (size_t i = 0; i < c->wbufs_len; i++) {
			count_out(c, 0, c->wbufs[i]->len);
			sbuf_unref(c->wbufs[i]);
		}
		c->wbufs_len = 0;
		conn_abort(c, PIER_ERR_NONE, NULL);
		conn_unref(c);
	}
}

void conn_mark_dirty(struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	conn_ref(c);
	c->dirty_next = c->ctx->dirty;
	c->ctx->dirty = c;
}

void conns_flush_dirty(struct session_context *ctx)
{
	while (ctx->dirty != NULL) {
		struct conn *c = ctx->dirty;

		ctx->dirty = c->dirty_next;
		c->dirty = false;
		conn_flush(c);
		conn_unref(c);
	}
}

void conn_tick(struct conn *c, int64_t now_ms)
{
	const struct config *cfg = c->ctx->cfg;

	if (tp_gone(c))
		return;
	if (c->closing) {
		if (now_ms > c->close_deadline_ms)
			conn_abort(c, PIER_ERR_NONE, NULL);
		return;
	}
	if (c->user == NULL && !c->busy &&
	    now_ms - c->accepted_ms > (int64_t)(cfg->login_timeout * 1000)) {
		conn_close(c, PIER_ERR_LOGIN_TIMEOUT, "no login in time");
		return;
	}
	if (transport_write_stalled_ms(c->tp, now_ms) > (int64_t)(cfg->http_write_timeout * 1000)) {
		/* The peer takes none of its output (it may still send without reading): below the
		 * output limit it would hold its queue forever. */
		log_info("session %s: the peer took no output for %.0f s, closing", c->addr,
		         cfg->http_write_timeout);
		conn_abort(c, PIER_ERR_NONE, NULL);
		return;
	}
	if (c->framing->tick != NULL)
		c->framing->tick(c, now_ms);
}

struct conn *conn_new(struct session_context *ctx, struct transport *t,
                      const struct conn_framing *framing, void *framing_state)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	int64_t now = pier_mono_ms();

	c->ctx = ctx;
	c->srv = ctx->srv;
	c->refs = 1;                /* the transport's */
	c->tp = t;
	c->framing = framing;
	c->framing_state = framing_state;
	c->handler = ctx->handler;
	c->accepted_ms = now;
	c->reading = t->reading;
	snprintf(c->addr, sizeof(c->addr), "%s", t->addr);
	transport_set_owner(t, framing->owner, c);
	DL_APPEND(ctx->conns, c);
	ctx->nconns++;
	if (!t->counted && !transport_admit(t)) {
		conn_close(c, PIER_ERR_TOO_MANY_CONNECTIONS, "too many connections from your address");
		return c;
	}
	log_debug("conn %s: accepted (%s, %s)", c->addr, t->ops->name, framing->name);
	conn_update_reading(c);
	return c;
}

/* ---- the JSON-lines framing: one object per line ---- */

static void reply_error_line(struct conn *c, enum pier_error code, const char *message)
{
	json_t *e = json_pack("{s:s, s:s, s:s}", "op", "error", "error", pier_error_name(code),
	                      "message", message);

	conn_reply(c, e);
}

/* Handles the complete lines at the start of data while the connection is not paused.
 * Returns how many bytes it used. */
static size_t lines_handle(struct conn *c, const char *data, size_t n)
{
	size_t max_line = c->ctx->cfg->max_line, off = 0;

	while (!conn_is_paused(c) && !c->closing && off < n) {
		const char *start = data + off, *nl = memchr(start, '\n', n - off);
		size_t len;

		if (nl == NULL)
			break;
		len = (size_t)(nl - start);
		off += len + 1;
		if (len > max_line) {
			reply_error_line(c, PIER_ERR_LINE_TOO_LONG, "request line over the line limit");
			continue;
		}
		if (len > 0 && start[len - 1] == '\r')
			len--;
		if (len > 0)
			conn_request(c, start, len);
	}
	return off;
}

/* Handles every complete line kept in c->in while the connection is not paused. */
static void lines_process(struct conn *c)
{
	size_t max_line = c->ctx->cfg->max_line;

	if (c->in != NULL)               /* an idle session holds no buffer (NULL + 0 is UB) */
		c->in_off += lines_handle(c, c->in + c->in_off, c->in_len - c->in_off);
	if (!conn_is_paused(c) && !c->closing && c->in_len - c->in_off > max_line) {
		reply_error_line(c, PIER_ERR_LINE_TOO_LONG, "request line over the line limit");
		c->in_off = c->in_len;
		c->skipping = true;
	}
	conn_in_compact(c);
	conn_update_reading(c);
}

static void lines_on_read(void *owner, const char *data, size_t n)
{
	struct conn *c = owner;

	if (c->closing)
		return;
	if (c->skipping) {
		const char *nl = memchr(data, '\n', n);

		if (nl == NULL)
			return;
		c->skipping = false;
		n -= (size_t)(nl + 1 - data);
		data = nl + 1;
	}
	conn_ref(c);
	if (c->in_off == c->in_len) {
		/* Nothing kept: whole lines go straight from the read buffer, no copy. */
		size_t used = lines_handle(c, data, n);

		data += used;
		n -= used;
	}
	if (n > 0)
		conn_in_append(c, data, n);
	lines_process(c);
	conn_unref(c);
}

static void lines_on_written(void *owner, int status)
{
	conn_written(owner, status);
}

/* uv_bufs for the queued lines, the first from byte off on. *ub is small or allocated. */
static uv_buf_t *line_bufs(struct sbuf *const *bufs, size_t n, size_t off, uv_buf_t *small,
                           size_t nsmall)
{
	uv_buf_t *ub = n > nsmall ? xmalloc(n * sizeof(*ub)) : small;

	for (size_t i = 0; i < n; i++)
		ub[i] = uv_buf_init(bufs[i]->data, (unsigned)bufs[i]->len);
	ub[0].base += off;
	ub[0].len -= off;
	return ub;
}

/* The queued lines go out as they are: the shared buffers themselves, no copy. */
static int lines_write(struct conn *c, struct sbuf *const *bufs, size_t n)
{
	uv_buf_t small[16], *ub = line_bufs(bufs, n, c->wbuf_off, small, 16);
	int rc = transport_write(c->tp, ub, (unsigned)n);

	if (ub != small)
		free(ub);
	return rc;
}

static ssize_t lines_write_now(struct conn *c, struct sbuf *const *bufs, size_t n, size_t off)
{
	uv_buf_t small[16], *ub;
	ssize_t rc;

	/* writev takes at most IOV_MAX buffers; the rest waits for the next round. */
	if (n > 1024)
		n = 1024;
	ub = line_bufs(bufs, n, off, small, 16);
	rc = transport_write_now(c->tp, ub, (unsigned)n);
	if (ub != small)
		free(ub);
	return rc;
}

static void lines_shutdown(struct conn *c, enum pier_error code)
{
	(void)code;
	transport_close(c->tp);
}

static void lines_last_words(struct conn *c, const struct sbuf *err, enum pier_error code)
{
	(void)code;
	transport_try_write(c->tp, err->data, err->len);
}

static const struct transport_owner_ops lines_owner_ops = {
	.on_read = lines_on_read,
	.on_error = conn_on_error,
	.on_written = lines_on_written,
	.on_closed = conn_on_closed,
};

const struct conn_framing conn_lines_framing = {
	.name = "lines",
	.owner = &lines_owner_ops,
	.write = lines_write,
	.write_now = lines_write_now,
	.process = lines_process,
	.shutdown = lines_shutdown,
	.last_words = lines_last_words,
	.tick = NULL,
	.release = NULL,
};
