/* ws.c - WebSocket sessions: the upgrade handshake, and a conn framing over wslay's event
 * API (see ws.h).
 *
 * wslay glue, as h2o does it: the recv callback hands wslay the bytes of the current read and
 * answers WSLAY_ERR_WOULDBLOCK when they are used up; the send callback appends frames to one
 * output buffer and answers WOULDBLOCK while a write is in flight; one "proceed" step after
 * every event sends what wslay has queued. Messages are not buffered by wslay
 * (no_buffering): their bytes go straight into the session's input (c->in), each complete
 * message as [size_t length][bytes], so a paused session keeps them in order like lines.
 */
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "conn.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "sbuf.h"
#include "config.h"
#include "net_context.h"
#include "session_context.h"
#include "transport.h"
#include "xalloc.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_OUT_KEEP (16 * 1024)   /* output buffer kept between writes; larger ones are freed */
#define WS_MSG_COST 96            /* what wslay spends on one queued message besides its bytes */

enum batch_state { BATCH_NONE, BATCH_QUEUED, BATCH_IN_WRITE };

struct ws {
	struct conn *c;
	wslay_event_context_ptr ctx;
	const char *feed;               /* the bytes of the current read */
	size_t feed_len;
	char *out;                      /* frames to write; the write in flight while writing */
	size_t out_len, out_cap;
	bool writing;
	enum batch_state batch;         /* the session's lines in wslay or in the write */
	bool assembling;                /* a text message is being received */
	bool frame_is_data;             /* the current frame belongs to it */
	bool failed;                    /* we refused the peer's input and queued a close */
	bool shutting_down;             /* close the transport once the close frame is out */
	size_t msg_start;               /* offset of its [length] in c->in */
	size_t msg_len;
	size_t committed;               /* c->in up to here holds whole messages */
	int64_t last_ping_ms;
	int64_t ping_sent_ms;
	bool ping_outstanding;
	size_t counted;                 /* what is counted in the transport's output budget */
};

static struct ws *ws_of(const struct conn *c)
{
	return c->framing_state;
}

/* ---- handshake ---- */

void ws_accept_key(const char *key, char out[29])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);

	out[0] = '\0';
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	if (EVP_Digest(buf, (size_t)n, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
		return;
	EVP_EncodeBlock((unsigned char *)out, md, 20);
}

bool ws_key_valid(const char *key)
{
	unsigned char raw[32];

	if (key == NULL || strlen(key) != 24 || strcmp(key + 22, "==") != 0)
		return false;
	for (size_t i = 0; i < 22; i++) {
		char ch = key[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '+' || ch == '/'))
			return false;
	}
	return EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18;   /* 16 + padding */
}

/* host[:port] of an origin "scheme://host[:port]", the default port dropped. */
static bool origin_authority(const char *origin, char *out, size_t n)
{
	const char *sep = strstr(origin, "://");
	const char *auth;
	size_t len;

	if (sep == NULL)
		return false;
	auth = sep + 3;
	len = strcspn(auth, "/?#");
	if (len == 0 || len >= n)
		return false;
	memcpy(out, auth, len);
	out[len] = '\0';
	if ((strncasecmp(origin, "https://", 8) == 0 && len > 4 && strcmp(out + len - 4, ":443") == 0) ||
	    (strncasecmp(origin, "http://", 7) == 0 && len > 3 && strcmp(out + len - 3, ":80") == 0))
		out[strrchr(out, ':') - out] = '\0';
	return true;
}

static bool same_host(const char *authority, const char *host)
{
	size_t alen = strlen(authority), hlen = strlen(host);

	if (hlen == alen)
		return strcasecmp(authority, host) == 0;
	/* Host may carry the default port the origin left out. */
	if (hlen == alen + 4 && strcmp(host + alen, ":443") == 0)
		return strncasecmp(authority, host, alen) == 0;
	if (hlen == alen + 3 && strcmp(host + alen, ":80") == 0)
		return strncasecmp(authority, host, alen) == 0;
	return false;
}

bool ws_origin_allowed(const char *allowed, const char *origin, const char *host)
{
	char auth[256];

	if (origin == NULL)
		return true;
	if (allowed != NULL && allowed[0] != '\0') {
		const char *p = allowed;

		while (*p != '\0') {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			while (len > 0 && (*p == ' ' || *p == '\t')) {
				p++;
				len--;
			}
			while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '/'))
				len--;
			if ((len == 1 && *p == '*') ||
			    (len > 0 && strlen(origin) == len && strncasecmp(p, origin, len) == 0))
				return true;
			if (end == NULL)
				break;
			p = end + 1;
		}
		return false;
	}
	return host != NULL && origin_authority(origin, auth, sizeof(auth)) && same_host(auth, host);
}

/* http_upgrade's start: arg is the session context the net context named. */
static void upgraded(void *arg, struct transport *t, const char *data, size_t len)
{
	ws_session_start(arg, t, data, len);
}

void ws_handle_upgrade(struct http_exchange *x)
{
	struct net_context *net = http_context(x);
	const char *key = http_header(x, "Sec-WebSocket-Key");
	const char *version = http_header(x, "Sec-WebSocket-Version");
	const char *origin = http_header(x, "Origin");
	char accept[29];

	if (!http_header_has_token(x, "Upgrade", "websocket")) {
		http_response_start(x, 426, 52);
		http_response_header(x, "Upgrade", "websocket");
		http_response_header(x, "Connection", "Upgrade");
		http_response_header(x, "Content-Type", "text/plain; charset=utf-8");
		http_response_body(x, "426 Upgrade Required: this is a WebSocket endpoint.\n", 52);
		http_response_end(x);
		return;
	}
	if (!http_header_has_token(x, "Connection", "upgrade")) {
		http_error(x, 400, "a WebSocket upgrade needs \"Connection: Upgrade\"");
		return;
	}
	if (version == NULL || strcmp(version, "13") != 0) {
		http_response_start(x, 426, 48);
		http_response_header(x, "Sec-WebSocket-Version", "13");
		http_response_header(x, "Content-Type", "text/plain; charset=utf-8");
		http_response_body(x, "426 Upgrade Required: WebSocket version 13 only\n", 48);
		http_response_end(x);
		return;
	}
	if (!ws_key_valid(key)) {
		http_error(x, 400, "Sec-WebSocket-Key missing or not 16 bytes in base64");
		return;
	}
	if (http_content_length(x) > 0) {
		http_error(x, 400, "a WebSocket upgrade has no body");
		return;
	}
	if (!ws_origin_allowed(net->cfg->allowed_origins, origin, http_header(x, "Host"))) {
		log_info("ws %s: origin %s refused", http_peer(x), origin);
		http_error(x, 403, "this origin may not open WebSocket sessions here (--allowed-origins)");
		return;
	}
	ws_accept_key(key, accept);
	http_response_start(x, 101, -1);
	http_response_header(x, "Upgrade", "websocket");
	http_response_header(x, "Connection", "Upgrade");
	http_response_header(x, "Sec-WebSocket-Accept", "%s", accept);
	http_upgrade(x, upgraded, net->sessions);
}

/* ---- wslay callbacks ---- */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
	struct ws *w = user;
	size_t n = len < w->feed_len ? len : w->feed_len;

	(void)flags;
	if (n == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	memcpy(buf, w->feed, n);
	w->feed += n;
	w->feed_len -= n;
	return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
	struct ws *w = user;

	(void)flags;
	if (w->writing) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (w->out_len + len > w->out_cap) {
		size_t cap = w->out_cap ? w->out_cap : 4096;

		while (cap < w->out_len + len)
			cap *= 2;
		w->out = xrealloc(w->out, cap);
		w->out_cap = cap;
	}
	memcpy(w->out + w->out_len, data, len);
	w->out_len += len;
	return (ssize_t)len;
}

/* Refuses the peer's input: a close frame with code and reason, no more reading. */
static void fail(struct conn *c, uint16_t code, const char *reason)
{
	struct ws *w = ws_of(c);

	if (w->failed)
		return;
	w->failed = true;
	log_info("ws %s: closing: %u %s", c->addr, code, reason);
	wslay_event_queue_close(w->ctx, code, (const uint8_t *)reason, strlen(reason));
	wslay_event_shutdown_read(w->ctx);
	if (w->assembling) {
		c->in_len = w->msg_start;   /* drop the message being received */
		w->assembling = false;
	}
}

static void frame_start_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
	struct ws *w = user;
	struct conn *c = w->c;
	size_t max = c->ctx->cfg->max_line;

	(void)ctx;
	w->frame_is_data = false;
	if (w->failed)
		return;
	if (arg->opcode == WSLAY_BINARY_FRAME) {
		fail(c, WSLAY_CODE_UNSUPPORTED_DATA, "text frames only");
		return;
	}
	if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->payload_length == 1) {
		/* RFC 6455 5.5.1: a close payload is empty or starts with a 2-byte code. */
		fail(c, WSLAY_CODE_PROTOCOL_ERROR, "a close frame with a 1-byte payload");
		return;
	}
	if (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_CONTINUATION_FRAME)
		return;
	if (arg->opcode == WSLAY_TEXT_FRAME) {
		size_t zero = 0;

		w->msg_start = c->in_len;
		w->msg_len = 0;
		w->assembling = true;
		conn_in_append(c, &zero, sizeof(zero));
	}
	if (!w->assembling)
		return;                     /* wslay refuses a continuation without a start */
	if (arg->payload_length > max - w->msg_len) {
		char reason[64];

		snprintf(reason, sizeof(reason), "message over %zu bytes (--max-line)", max);
		fail(c, WSLAY_CODE_MESSAGE_TOO_BIG, reason);
		return;
	}
	w->frame_is_data = true;
}

static void frame_chunk_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user)
{
	struct ws *w = user;
	struct conn *c = w->c;

	(void)ctx;
	if (w->failed || !w->frame_is_data)
		return;
	conn_in_append(c, arg->data, arg->data_length);
	w->msg_len += arg->data_length;
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
	struct ws *w = user;
	struct conn *c = w->c;

	(void)ctx;
	switch (arg->opcode) {
	case WSLAY_TEXT_FRAME:
		if (w->failed || !w->assembling)
			return;
		/* wslay checked the UTF-8 of the whole message before this call. */
		memcpy(c->in + w->msg_start, &w->msg_len, sizeof(w->msg_len));
		w->assembling = false;
		w->committed = c->in_len;
		break;
	case WSLAY_PONG:
		w->ping_outstanding = false;
		break;
	case WSLAY_CONNECTION_CLOSE:
		log_debug("ws %s: close from the peer (%u)", c->addr, arg->status_code);
		break;
	default:
		break;
	}
}

static const struct wslay_event_callbacks wslay_callbacks = {
	.recv_callback = recv_cb,
	.send_callback = send_cb,
	.genmask_callback = NULL,
	.on_frame_recv_start_callback = frame_start_cb,
	.on_frame_recv_chunk_callback = frame_chunk_cb,
	.on_frame_recv_end_callback = NULL,
	.on_msg_recv_callback = msg_cb,
};

/* ---- proceeding ---- */

/* Counts what the framing holds for the peer in the output budget: the frames being written
 * and every message wslay queued, data and control (the PONG it makes for each PING too).
 * Past the soft mark the transport stops reading, so no more PINGs make PONGs. */
static void ws_account(struct conn *c)
{
	struct ws *w = ws_of(c);
	size_t held = w->out_len + wslay_event_get_queued_msg_length(w->ctx) +
	              wslay_event_get_queued_msg_count(w->ctx) * WS_MSG_COST;

	if (c->tp != NULL)
		transport_out_set(c->tp, &w->counted, held);
}

/* Sends what wslay has queued when no write is in flight; closes the transport once a close
 * frame went out on a connection that is shutting down. 0 or a negative code. */
static int proceed(struct conn *c)
{
	struct ws *w = ws_of(c);
	uv_buf_t b;
	int rc;

	rc = 0;
	if (w->writing || c->tp == NULL || transport_is_closing(c->tp))
		goto out;
	if (wslay_event_want_write(w->ctx) && wslay_event_send(w->ctx) != 0) {
		rc = UV_EPROTO;
		goto out;
	}
	if (w->out_len == 0) {
		if (w->shutting_down && !wslay_event_want_write(w->ctx))
			transport_close(c->tp);
		goto out;
	}
	b = uv_buf_init(w->out, (unsigned)w->out_len);
	rc = transport_write(c->tp, &b, 1);
	if (rc != 0)
		goto out;
	w->writing = true;
	if (w->batch == BATCH_QUEUED)
		w->batch = BATCH_IN_WRITE;
out:
	ws_account(c);
	return rc;
}

/* Past the hard mark of the output budget (what the peer's own frames made us queue): the
 * connection is dropped. True if it was. */
static bool over_budget(struct conn *c)
{
	if (c->tp == NULL || transport_is_closing(c->tp) || !transport_out_over_hard(c->tp))
		return false;
	log_info("ws %s: output over the limit, closing", c->addr);
	conn_abort(c, PIER_ERR_NONE, NULL);
	return true;
}

/* Hands every whole message to the request handler while the session is not paused. */
static void ws_process(struct conn *c)
{
	struct ws *w = ws_of(c);
	size_t moved;

	while (!conn_is_paused(c) && !c->closing && c->in_off < w->committed) {
		size_t len;

		memcpy(&len, c->in + c->in_off, sizeof(len));
		c->in_off += sizeof(len);
		if (len > 0)
			conn_request(c, c->in + c->in_off, len);
		c->in_off += len;
	}
	if (c->in_off > w->committed)      /* a close dropped what was kept */
		c->in_off = w->committed;
	moved = conn_in_compact(c);
	w->committed -= moved;
	if (w->assembling)
		w->msg_start -= moved;
	conn_update_reading(c);
}

static void ws_on_read(void *owner, const char *data, size_t len)
{
	struct conn *c = owner;
	struct ws *w = ws_of(c);
	int rc;

	if (c->closing || w->failed)
		return;
	conn_ref(c);
	w->feed = data;
	w->feed_len = len;
	rc = wslay_event_recv(w->ctx);
	w->feed_len = 0;
	if (rc != 0) {
		conn_abort(c, PIER_ERR_NONE, NULL);
		goto out;
	}
	ws_process(c);
	if (!c->closing && !wslay_event_get_read_enabled(w->ctx)) {
		/* The peer closed, or wslay or we refused its frames: a close frame is queued. */
		if (!w->failed && !wslay_event_get_close_received(w->ctx))
			log_info("ws %s: bad frame (protocol or UTF-8 error), closing", c->addr);
		conn_close(c, PIER_ERR_NONE, NULL);
	}
	if (proceed(c) != 0)
		conn_abort(c, PIER_ERR_NONE, NULL);
	else
		over_budget(c);
out:
	conn_unref(c);
}

static void ws_on_written(void *owner, int status)
{
	struct conn *c = owner;
	struct ws *w = ws_of(c);
	bool batch_done = w->batch == BATCH_IN_WRITE;

	w->writing = false;
	w->out_len = 0;
	if (w->out_cap > WS_OUT_KEEP) {
		free(w->out);
		w->out = NULL;
		w->out_cap = 0;
	}
	if (batch_done)
		w->batch = BATCH_NONE;
	conn_ref(c);
	if (status < 0) {
		if (batch_done)
			conn_written(c, status);
		else
			conn_abort(c, PIER_ERR_NONE, NULL);
		goto out;
	}
	if (batch_done)
		conn_written(c, 0);
	if (proceed(c) != 0)
		conn_abort(c, PIER_ERR_NONE, NULL);
out:
	conn_unref(c);
}

static void ws_on_closed(void *owner)
{
	struct conn *c = owner;
	struct ws *w = ws_of(c);

	/* Lines handed over but never written: the session still gets its answer. */
	if (w->batch != BATCH_NONE) {
		w->batch = BATCH_NONE;
		conn_written(c, UV_ECANCELED);
	}
	conn_on_closed(c);
}

/* ---- the framing ---- */

static int ws_write(struct conn *c, struct sbuf *const *bufs, size_t n)
{
	struct ws *w = ws_of(c);
	int rc;

	for (size_t i = 0; i < n; i++) {
		/* Each JSON line, without its newline, is one text frame (wslay copies it). */
		struct wslay_event_msg m = {
			.opcode = WSLAY_TEXT_FRAME,
			.msg = (const uint8_t *)bufs[i]->data,
			.msg_length = bufs[i]->len - 1,
		};

		if (wslay_event_queue_msg(w->ctx, &m) != 0)
			return UV_EPROTO;
	}
	w->batch = BATCH_QUEUED;
	rc = proceed(c);
	if (rc != 0 && w->batch == BATCH_QUEUED)
		w->batch = BATCH_NONE;
	return rc;
}

/* The close frame after fatal error code (PIER_ERR_NONE: a normal goodbye); the reason is
 * the error's wire name. */
static uint16_t close_code(enum pier_error code, const char **reason)
{
	*reason = code == PIER_ERR_NONE ? "bye" : pier_error_name(code);
	return (uint16_t)pier_ws_close_code(code);
}

static void ws_shutdown(struct conn *c, enum pier_error code)
{
	struct ws *w = ws_of(c);
	const char *reason;
	uint16_t status = close_code(code, &reason);

	w->shutting_down = true;
	/* Fails harmlessly when a close frame is queued or sent already. */
	wslay_event_queue_close(w->ctx, status, (const uint8_t *)reason, strlen(reason));
	if (proceed(c) != 0)
		transport_close(c->tp);
}

static void ws_last_words(struct conn *c, const struct sbuf *err, enum pier_error code)
{
	struct ws *w = ws_of(c);
	struct wslay_event_msg m = {
		.opcode = WSLAY_TEXT_FRAME,
		.msg = (const uint8_t *)err->data,
		.msg_length = err->len - 1,
	};
	const char *reason;
	uint16_t status = close_code(code, &reason);

	if (w->writing)
		return;             /* the socket is busy: no last words */
	wslay_event_queue_msg(w->ctx, &m);
	wslay_event_queue_close(w->ctx, status, (const uint8_t *)reason, strlen(reason));
	if (wslay_event_send(w->ctx) == 0 && w->out_len > 0)
		transport_try_write(c->tp, w->out, w->out_len);
	w->out_len = 0;
}

static void ws_tick(struct conn *c, int64_t now_ms)
{
	struct ws *w = ws_of(c);
	const struct config *cfg = c->ctx->cfg;
	struct wslay_event_msg ping = { .opcode = WSLAY_PING, .msg = (const uint8_t *)"pier", .msg_length = 4 };

	/* A peer that takes no frames at all is closed by conn_tick (--http-write-timeout). */
	if (w->ping_outstanding) {
		if (now_ms - w->ping_sent_ms > (int64_t)(cfg->ws_ping_timeout * 1000))
			conn_close(c, PIER_ERR_PING_TIMEOUT, "no pong in time");
		return;
	}
	if (now_ms - w->last_ping_ms < (int64_t)(cfg->ws_ping_interval * 1000))
		return;
	if (wslay_event_queue_msg(w->ctx, &ping) != 0)
		return;
	w->ping_outstanding = true;
	w->ping_sent_ms = w->last_ping_ms = now_ms;
	if (proceed(c) != 0)
		conn_abort(c, PIER_ERR_NONE, NULL);
}

static void ws_release(struct conn *c)
{
	struct ws *w = ws_of(c);

	wslay_event_context_free(w->ctx);
	free(w->out);
	free(w);
	c->framing_state = NULL;
}

static const struct transport_owner_ops ws_owner_ops = {
	.on_read = ws_on_read,
	.on_error = conn_on_error,
	.on_written = ws_on_written,
	.on_closed = ws_on_closed,
};

static const struct conn_framing ws_framing = {
	.name = "websocket",
	.owner = &ws_owner_ops,
	.write = ws_write,
	.process = ws_process,
	.shutdown = ws_shutdown,
	.last_words = ws_last_words,
	.tick = ws_tick,
	.release = ws_release,
};

void ws_session_start(struct session_context *sc, struct transport *t, const char *data,
                      size_t len)
{
	struct ws *w = xcalloc(1, sizeof(*w));
	struct conn *c;

	w->last_ping_ms = pier_mono_ms();
	if (wslay_event_context_server_init(&w->ctx, &wslay_callbacks, w) != 0) {
		fputs("pierd: out of memory (wslay)\n", stderr);
		abort();
	}
	/* Messages go straight into the session's input; wslay keeps none of them. */
	wslay_event_config_set_no_buffering(w->ctx, 1);
	/* Without buffering wslay would check single frames only, and close without a reason:
	 * frame_start_cb checks whole messages against --max-line instead. */
	wslay_event_config_set_max_recv_msg_length(w->ctx, UINT64_MAX);
	c = conn_new(sc, t, &ws_framing, w);
	w->c = c;
	sc->metrics.ws_upgrades++;
	log_debug("ws %s: session (%s)", c->addr, t->ops->name);
	if (len > 0)
		ws_on_read(c, data, len);
}
