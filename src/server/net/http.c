/* http.c - HTTP/1.1 connections: http-parser under limits, one exchange at a time (pipelined
 * requests wait in the input buffer), routing, streaming responses, keep-alive, timeouts and
 * the hand-over of the socket to a WebSocket session (see http.h). */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <http_parser.h>
#include <utlist.h>

#include "clock.h"
#include "log.h"
#include "net_context.h"
#include "sbuf.h"
#include "transport.h"
#include "xalloc.h"

#define HTTP_MAX_HEADERS   100
#define HTTP_BACKLOG       (256 * 1024)   /* queued output past which streaming waits */
#define LINGER_MS          2000           /* a closing connection reads and drops this long */
#define LINGER_MAX         (1024 * 1024)  /* or this many bytes */
#define HTTP_REFUSAL       "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\n" \
                           "Content-Length: 39\r\nConnection: close\r\n\r\n" \
                           "too many connections from your address\n"

enum head_part { PART_NONE, PART_URL, PART_FIELD, PART_VALUE };

struct hdr {
	size_t name, value;             /* offsets into the arena; value SIZE_MAX: empty */
};

struct out_chunk {
	uv_buf_t b;
	struct sbuf *owned;             /* NULL: static bytes */
};

struct http_exchange {
	struct http_conn *hc;
	const struct http_route *route;
	void *data;
	bool active;                    /* a request has begun */
	bool head_done;                 /* its line and headers are in */
	bool req_complete;              /* and its body */
	bool has_body;
	bool http10;
	bool keep_alive;
	bool sent_continue;             /* "100 Continue" went out for Expect: 100-continue */
	/* the request head: URL and headers as NUL-terminated strings in one arena */
	char *arena;
	size_t arena_len, arena_cap;
	size_t head_bytes;
	enum head_part part;
	struct hdr hdrs[HTTP_MAX_HEADERS];
	unsigned nhdrs;
	size_t url, path, query;        /* offsets; query SIZE_MAX: none */
	int64_t content_length;
	uint64_t body_bytes;
	size_t max_body;
	/* the response */
	int status;
	bool resp_started, resp_head_sent, resp_ended, chunked, no_body;
	int64_t resp_length;
	char *rhead;
	size_t rhead_len, rhead_cap;
	void (*upgrade)(void *, struct transport *, const char *, size_t);
	void *upgrade_arg;
};

struct http_conn {
	struct net_context *ctx;
	struct transport *tp;
	http_parser parser;
	struct http_exchange x;
	char *in;                       /* received, not yet parsed; NULL while idle */
	size_t in_len, in_off, in_cap;
	struct out_chunk *q, *w;        /* queued; being written */
	size_t qlen, qcap, wlen, wcap;
	size_t out_bytes;
	bool writing;
	bool closing;
	bool processing;                /* inside process(): handlers' output waits for its flush */
	bool stop_parsing;              /* no more requests on this connection */
	bool close_after_write;
	bool handover;                  /* upgraded: waiting for the 101 to be written */
	bool stopping;
	bool reading;
	bool got_bytes;                 /* the awaited request has begun */
	bool lingering;                 /* answered, FIN sent: reading and dropping until EOF */
	bool body_paused;               /* http_pause_body: the handler takes no body for now */
	size_t linger_bytes;
	int error_status;               /* a callback's reason to stop the parser */
	const char *error_message;
	int64_t deadline_ms;            /* 0: none */
	bool kicked;                    /* on the server's list of connections to process */
	struct http_conn *kick_next;
	struct http_conn *prev, *next;  /* the server's list */
};

static const http_parser_settings parser_settings;
static void update_reading(struct http_conn *hc);

/* ---- small helpers ---- */

static int64_t timeout_ms(const struct http_conn *hc)
{
	return (int64_t)(hc->ctx->cfg->http_header_timeout * 1000);
}

const char *http_reason(int status)
{
	const char *s = http_status_str((enum http_status)status);

	return s != NULL && strcmp(s, "<unknown>") != 0 ? s : "Unknown";
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int http_pct_byte(const char *esc, size_t avail)
{
	int hi, lo;

	if (avail < 3)
		return -1;
	hi = hexval(esc[1]);
	lo = hi < 0 ? -1 : hexval(esc[2]);
	if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
		return -1;
	return hi * 16 + lo;
}

static void arena_put(struct http_exchange *x, const char *data, size_t len)
{
	if (x->arena_len + len + 1 > x->arena_cap) {
		size_t cap = x->arena_cap ? x->arena_cap : 1024;

		while (cap < x->arena_len + len + 1)
			cap *= 2;
		x->arena = xrealloc(x->arena, cap);
		x->arena_cap = cap;
	}
	memcpy(x->arena + x->arena_len, data, len);
	x->arena_len += len;
	x->arena[x->arena_len] = '\0';
}

/* Appends len bytes that are in the arena already, at off (a part of the URL): by offset, as
 * arena_put may move the arena. */
static void arena_put_own(struct http_exchange *x, size_t off, size_t len)
{
	if (x->arena_len + len + 1 > x->arena_cap) {
		size_t cap = x->arena_cap ? x->arena_cap : 1024;

		while (cap < x->arena_len + len + 1)
			cap *= 2;
		x->arena = xrealloc(x->arena, cap);
		x->arena_cap = cap;
	}
	memcpy(x->arena + x->arena_len, x->arena + off, len);
	x->arena_len += len;
	x->arena[x->arena_len] = '\0';
}

/* Ends the string being collected (URL, header name or value). */
static void arena_end_part(struct http_exchange *x)
{
	if (x->part != PART_NONE)
		arena_put(x, "", 1);
}

static void exchange_reset(struct http_exchange *x)
{
	struct http_conn *hc = x->hc;

	free(x->arena);
	free(x->rhead);
	memset(x, 0, sizeof(*x));
	x->hc = hc;
	x->keep_alive = true;
	x->content_length = -1;
	x->query = SIZE_MAX;
}

/* ---- output ---- */

/* What a queued chunk costs in the output budget: its bytes when they are a copy (static
 * bytes live for the whole run anyway), and its place in the queue. */
static size_t chunk_cost(const struct out_chunk *c)
{
	return sizeof(*c) + (c->owned != NULL ? c->b.len : 0);
}

static void push_chunk(struct http_conn *hc, char *data, size_t len, struct sbuf *owned)
{
	if (hc->qlen == hc->qcap) {
		hc->qcap = hc->qcap ? hc->qcap * 2 : 8;
		hc->q = xrealloc(hc->q, hc->qcap * sizeof(*hc->q));
	}
	hc->q[hc->qlen].b = uv_buf_init(data, (unsigned)len);
	hc->q[hc->qlen].owned = owned;
	hc->qlen++;
	hc->out_bytes += len;
	transport_out_add(hc->tp, chunk_cost(&hc->q[hc->qlen - 1]));
}

static void push_copy(struct http_conn *hc, const void *data, size_t len)
{
	struct sbuf *b;

	if (len == 0)
		return;
	b = sbuf_new(len);
	memcpy(b->data, data, len);
	push_chunk(hc, b->data, len, b);
}

static void release_chunks(struct http_conn *hc, struct out_chunk *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		hc->out_bytes -= c[i].b.len;
		transport_out_sub(hc->tp, chunk_cost(&c[i]));
		sbuf_unref(c[i].owned);
	}
}

static void close_now(struct http_conn *hc)
{
	if (hc->closing)
		return;
	hc->closing = true;
	transport_close(hc->tp);
}

/* Closes once the last response is written, when that was asked for. */
static void maybe_close(struct http_conn *hc)
{
	const struct http_exchange *x = &hc->x;

	if (!hc->close_after_write || hc->closing || hc->writing || hc->qlen > 0)
		return;
	if (x->active && x->head_done && !x->resp_ended)
		return;               /* a handler is still answering */
	if (hc->lingering)
		return;
	/* Closing with unread input would reset the connection and could destroy the answer
	 * before the client reads it: send FIN, drop what still comes, close on EOF. */
	hc->lingering = true;
	hc->deadline_ms = pier_mono_ms() + LINGER_MS;
	transport_shutdown_write(hc->tp);
	/* Reading may have stopped (a paused body, input over the limit): the peer's EOF must
	 * be seen. */
	hc->body_paused = false;
	transport_read_start(hc->tp);
	hc->reading = true;
	transport_read_start(hc->tp);
	hc->reading = hc->tp->reading;
}

static void flush(struct http_conn *hc)
{
	uv_buf_t small[16] = {{0}}, *bufs = small;
	struct out_chunk *tmp;
	size_t n = hc->qlen, tcap;
	int rc;

	if (hc->writing || n == 0 || hc->closing)
		return;
	tmp = hc->w;
	tcap = hc->wcap;
	hc->w = hc->q;
	hc->wcap = hc->qcap;
	hc->wlen = n;
	hc->q = tmp;
	hc->qcap = tcap;
	hc->qlen = 0;
	if (n > 16)
		bufs = xmalloc(n * sizeof(*bufs));
	for (size_t i = 0; i < n; i++)
		bufs[i] = hc->w[i].b;
	rc = transport_write(hc->tp, bufs, (unsigned)n);
	if (bufs != small)
		free(bufs);
	if (rc != 0) {
		release_chunks(hc, hc->w, hc->wlen);
		hc->wlen = 0;
		close_now(hc);
		return;
	}
	hc->writing = true;
}

static void process(struct http_conn *hc);

/* Output was queued from outside process() (an asynchronous handler): it is written, and the
 * exchange finished, at the end of this loop turn (http_conns_flush), never inside the
 * handler's own call. */
static void kick(struct http_conn *hc)
{
	if (hc->processing || hc->kicked || hc->closing)
		return;
	hc->kicked = true;
	hc->kick_next = hc->ctx->http_kicked;
	hc->ctx->http_kicked = hc;
}

void http_conns_flush(struct net_context *ctx)
{
	while (ctx->http_kicked != NULL) {
		struct http_conn *hc = ctx->http_kicked;

		ctx->http_kicked = hc->kick_next;
		hc->kicked = false;
		process(hc);
	}
}

/* ---- the request ---- */

struct server *http_server(const struct http_exchange *x)
{
	return x->hc->ctx->srv;
}

struct net_context *http_context(const struct http_exchange *x)
{
	return x->hc->ctx;
}

const char *http_method(const struct http_exchange *x)
{
	return http_method_str((enum http_method)x->hc->parser.method);
}

bool http_is_head(const struct http_exchange *x)
{
	return x->hc->parser.method == HTTP_HEAD;
}

const char *http_path(const struct http_exchange *x)
{
	return x->arena != NULL ? x->arena + x->path : "/";
}

const char *http_query(const struct http_exchange *x)
{
	return x->query != SIZE_MAX && x->arena != NULL ? x->arena + x->query : NULL;
}

/* How many times header name (any case) was sent. */
static unsigned header_count(const struct http_exchange *x, const char *name)
{
	unsigned n = 0;

	for (unsigned i = 0; i < x->nhdrs; i++)
		n += strcasecmp(x->arena + x->hdrs[i].name, name) == 0;
	return n;
}

const char *http_header(const struct http_exchange *x, const char *name)
{
	for (unsigned i = 0; i < x->nhdrs; i++) {
		if (strcasecmp(x->arena + x->hdrs[i].name, name) == 0)
			return x->hdrs[i].value == SIZE_MAX ? "" : x->arena + x->hdrs[i].value;
	}
	return NULL;
}

bool http_header_has_token(const struct http_exchange *x, const char *name, const char *token)
{
	size_t tlen = strlen(token);

	/* Every occurrence of the header counts ("Connection: a" and "Connection: b"). */
	for (unsigned i = 0; i < x->nhdrs; i++) {
		const char *p;

		if (strcasecmp(x->arena + x->hdrs[i].name, name) != 0 || x->hdrs[i].value == SIZE_MAX)
			continue;
		p = x->arena + x->hdrs[i].value;
		while (*p != '\0') {
			const char *end;
			size_t len;

			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			end = p;
			while (*end != '\0' && *end != ',')
				end++;
			len = (size_t)(end - p);
			while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
				len--;
			if (len == tlen && strncasecmp(p, token, tlen) == 0)
				return true;
			p = end;
		}
	}
	return false;
}

int64_t http_content_length(const struct http_exchange *x)
{
	return x->content_length;
}

const char *http_peer(const struct http_exchange *x)
{
	return x->hc->tp->addr;
}

bool http_is_tls(const struct http_exchange *x)
{
	return x->hc->tp->kind == LISTEN_HTTPS;
}

void *http_data(const struct http_exchange *x)
{
	return x->data;
}

void http_set_data(struct http_exchange *x, void *data)
{
	x->data = data;
}

/* A client that sent "Expect: 100-continue" waits for this before the body: it goes out once
 * the handler takes the body (not paused) and has not answered. */
static void maybe_continue(struct http_exchange *x)
{
	if (!x->head_done || x->req_complete || !x->has_body || x->resp_started || x->sent_continue ||
	    x->hc->body_paused || x->http10 || !http_header_has_token(x, "Expect", "100-continue"))
		return;
	x->sent_continue = true;
	push_copy(x->hc, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	kick(x->hc);
}

void http_set_max_body(struct http_exchange *x, uint64_t limit)
{
	x->max_body = limit > SIZE_MAX ? SIZE_MAX : (size_t)limit;
}

void http_pause_body(struct http_exchange *x, bool pause)
{
	struct http_conn *hc = x->hc;

	if (pause == hc->body_paused || hc->closing)
		return;
	hc->body_paused = pause;
	if (pause) {
		/* Inside the parser's callbacks: stop after this one (process() sees the pause). */
		if (hc->processing)
			http_parser_pause(&hc->parser, 1);
		/* No reading now, so a peer that leaves is not seen: a paused body has a deadline
		 * (a complete request being answered has none: its handler is at work). */
		hc->deadline_ms = x->head_done && !x->req_complete ? pier_mono_ms() + timeout_ms(hc) : 0;
		if (!hc->processing)
			update_reading(hc);
		return;
	}
	if (x->head_done && !x->req_complete)
		hc->deadline_ms = pier_mono_ms() + timeout_ms(hc);
	maybe_continue(x);
	kick(hc);
}

/* ---- the response ---- */

static void rhead_printf(struct http_exchange *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rhead_printf(struct http_exchange *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = x->rhead_cap - x->rhead_len;

		va_start(ap, fmt);
		n = vsnprintf(x->rhead != NULL ? x->rhead + x->rhead_len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room)
			break;
		x->rhead_cap = x->rhead_cap ? x->rhead_cap * 2 : 512;
		while (x->rhead_cap - x->rhead_len <= (size_t)n)
			x->rhead_cap *= 2;
		x->rhead = xrealloc(x->rhead, x->rhead_cap);
	}
	x->rhead_len += (size_t)n;
}

static const char *http_date(void)
{
	static char buf[64];
	static time_t last;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last && gmtime_r(&now, &tm) != NULL) {
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return buf;
}

static bool status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

void http_response_start(struct http_exchange *x, int status, int64_t content_length)
{
	struct net_metrics *m = x->hc->ctx->metrics;

	if (x->resp_started)
		return;
	x->active = true;
	x->resp_started = true;
	x->status = status;
	x->resp_length = content_length;
	x->no_body = !status_has_body(status) || http_is_head(x);
	if (status / 100 >= 1 && status / 100 <= 5)
		m->http_responses[status / 100]++;
	/* Answered before its body came: the rest of the body will not be read. */
	if (x->has_body && !x->req_complete)
		x->keep_alive = false;
	if (x->hc->stopping)
		x->keep_alive = false;
	rhead_printf(x, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: pier\r\n"
	             "X-Content-Type-Options: nosniff\r\n", status, http_reason(status), http_date());
}

void http_response_header(struct http_exchange *x, const char *name, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	if (!x->resp_started || x->resp_head_sent)
		return;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n: ") != NULL) {
		log_warn("http: header %s with a line break dropped", name);
		return;
	}
	rhead_printf(x, "%s: %s\r\n", name, value);
}

/* Ends the head (framing headers, the blank line) and queues it. */
static void send_head(struct http_exchange *x)
{
	if (x->resp_head_sent)
		return;
	if (status_has_body(x->status)) {
		if (x->resp_length >= 0)
			rhead_printf(x, "Content-Length: %lld\r\n", (long long)x->resp_length);
		else if (http_is_head(x))
			;                       /* unknown, and no body follows anyway */
		else if (!x->http10) {
			rhead_printf(x, "Transfer-Encoding: chunked\r\n");
			x->chunked = true;
		} else {
			x->keep_alive = false;  /* HTTP/1.0: the end of the body is the close */
		}
	}
	if (x->status != 101) {
		if (!x->keep_alive)
			rhead_printf(x, "Connection: close\r\n");
		else if (x->http10)
			rhead_printf(x, "Connection: keep-alive\r\n");
	}
	rhead_printf(x, "\r\n");
	push_copy(x->hc, x->rhead, x->rhead_len);
	free(x->rhead);
	x->rhead = NULL;
	x->rhead_len = x->rhead_cap = 0;
	x->resp_head_sent = true;
}

static void body_piece(struct http_exchange *x, const void *data, size_t len, bool copy)
{
	struct http_conn *hc = x->hc;

	if (!x->resp_started || x->resp_ended)
		return;
	send_head(x);
	if (x->no_body || len == 0)
		return;
	if (x->chunked) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%zx\r\n", len);

		push_copy(hc, line, (size_t)n);
	}
	if (copy)
		push_copy(hc, data, len);
	else
		push_chunk(hc, (char *)data, len, NULL);
	if (x->chunked)
		push_copy(hc, "\r\n", 2);
	kick(hc);
}

void http_response_body(struct http_exchange *x, const void *data, size_t len)
{
	body_piece(x, data, len, true);
}

void http_response_body_static(struct http_exchange *x, const void *data, size_t len)
{
	body_piece(x, data, len, false);
}

void http_response_end(struct http_exchange *x)
{
	if (!x->resp_started || x->resp_ended)
		return;
	send_head(x);
	if (x->chunked && !x->no_body)
		push_copy(x->hc, "0\r\n\r\n", 5);
	x->resp_ended = true;
	kick(x->hc);
}

bool http_response_backlogged(const struct http_exchange *x)
{
	return x->hc->out_bytes > HTTP_BACKLOG;
}

void http_respond(struct http_exchange *x, int status, const char *content_type, const void *body,
                  size_t len)
{
	http_response_start(x, status, (int64_t)len);
	if (content_type != NULL)
		http_response_header(x, "Content-Type", "%s", content_type);
	if (len > 0)
		http_response_body(x, body, len);
	http_response_end(x);
}

void http_error(struct http_exchange *x, int status, const char *message)
{
	char body[512];
	int n;

	/* After a broken or refused request the byte stream cannot be trusted: close. A
	 * well-formed request that was only refused (403, 404, 426) keeps the connection. */
	if (status != 403 && status != 404 && status != 426)
		x->keep_alive = false;
	if (x->resp_started) {
		/* Too late for a status: cut the response short. */
		x->hc->close_after_write = true;
		x->resp_ended = true;
		kick(x->hc);
		return;
	}
	n = snprintf(body, sizeof(body), "%d %s: %s\n", status, http_reason(status), message);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = (int)strlen(body);
	http_response_start(x, status, n);
	http_response_header(x, "Content-Type", "text/plain; charset=utf-8");
	http_response_header(x, "Cache-Control", "no-store");
	http_response_body(x, body, (size_t)n);
	http_response_end(x);
}

void http_upgrade(struct http_exchange *x,
                  void (*start)(void *arg, struct transport *t, const char *data, size_t len),
                  void *arg)
{
	x->upgrade = start;
	x->upgrade_arg = arg;
	x->keep_alive = true;        /* no Connection: close on a 101 */
	http_response_end(x);
}

/* ---- routing ---- */

static bool path_matches(const struct http_route *r, const char *path)
{
	size_t n = strlen(r->path);

	return r->prefix ? strncmp(path, r->path, n) == 0 : strcmp(path, r->path) == 0;
}

static bool method_matches(const struct http_route *r, const struct http_exchange *x)
{
	const char *m = http_method(x);

	if (r->method == NULL || strcmp(r->method, m) == 0)
		return true;
	return strcmp(r->method, "GET") == 0 && http_is_head(x);
}

/* Finds the route, or answers 404/405 and returns NULL. */
static const struct http_route *route_request(struct http_exchange *x)
{
	const char *path = http_path(x);
	char allow[128] = "";
	bool path_found = false;

	for (size_t i = 0; i < x->hc->ctx->nroutes; i++) {
		const struct http_route *r = &x->hc->ctx->routes[i];

		if (!path_matches(r, path))
			continue;
		if (method_matches(r, x))
			return r;
		path_found = true;
		if (r->method != NULL && strstr(allow, r->method) == NULL) {
			size_t len = strlen(allow);

			snprintf(allow + len, sizeof(allow) - len, "%s%s%s", len ? ", " : "", r->method,
			         strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
		}
	}
	if (!path_found) {
		http_error(x, 404, "no such page");
		return NULL;
	}
	http_response_start(x, 405, 40);
	http_response_header(x, "Allow", "%s", allow);
	http_response_header(x, "Content-Type", "text/plain; charset=utf-8");
	http_response_body(x, "405 Method Not Allowed: not on this path\n", 40);
	http_response_end(x);
	return NULL;
}

/* ---- parser callbacks ---- */

static int stop_with(struct http_conn *hc, int status, const char *message)
{
	hc->error_status = status;
	hc->error_message = message;
	return -1;
}

/* Counts head bytes against --http-max-header. */
static int count_head(struct http_conn *hc, size_t len)
{
	struct http_exchange *x = &hc->x;

	x->head_bytes += len;
	if (x->head_bytes > hc->ctx->cfg->http_max_header)
		return stop_with(hc, 431, "request head over the size limit");
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct http_conn *hc = p->data;

	hc->x.active = true;
	hc->got_bytes = true;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_conn *hc = p->data;
	struct http_exchange *x = &hc->x;

	if (x->part != PART_URL) {
		x->part = PART_URL;
		x->url = x->arena_len;
	}
	if (x->arena_len - x->url + len > hc->ctx->cfg->http_max_header / 2)
		return stop_with(hc, 414, "URL too long");
	if (count_head(hc, len) != 0)
		return -1;
	arena_put(x, at, len);
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_conn *hc = p->data;
	struct http_exchange *x = &hc->x;

	if (count_head(hc, len) != 0)
		return -1;
	if (x->part != PART_FIELD) {
		if (x->nhdrs == HTTP_MAX_HEADERS)
			return stop_with(hc, 431, "too many header lines");
		arena_end_part(x);
		x->part = PART_FIELD;
		x->hdrs[x->nhdrs].name = x->arena_len;
		x->hdrs[x->nhdrs].value = SIZE_MAX;
		x->nhdrs++;
	}
	arena_put(x, at, len);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_conn *hc = p->data;
	struct http_exchange *x = &hc->x;

	if (count_head(hc, len) != 0)
		return -1;
	if (x->part != PART_VALUE) {
		arena_end_part(x);
		x->part = PART_VALUE;
		x->hdrs[x->nhdrs - 1].value = x->arena_len;
	}
	arena_put(x, at, len);
	return 0;
}

/* Splits the URL into path and query (offsets into the arena). -1 if it is no usable URL. */
static int split_url(struct http_exchange *x, bool is_connect)
{
	struct http_parser_url u;
	const char *url = x->arena + x->url;
	size_t len = strlen(url);

	http_parser_url_init(&u);
	if (http_parser_parse_url(url, len, is_connect, &u) != 0)
		return -1;
	if (!(u.field_set & (1 << UF_PATH)) || url[u.field_data[UF_PATH].off] != '/')
		return -1;
	/* The arena may move while it grows: the parts are copied by offset. */
	x->path = x->arena_len;
	arena_put_own(x, x->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
	arena_put(x, "", 1);
	if (u.field_set & (1 << UF_QUERY)) {
		x->query = x->arena_len;
		arena_put_own(x, x->url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
		arena_put(x, "", 1);
	}
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_conn *hc = p->data;
	struct http_exchange *x = &hc->x;
	const struct http_route *r;
	size_t limit;

	if (x->part == PART_NONE)
		return stop_with(hc, 400, "no request line");
	arena_end_part(x);
	x->part = PART_NONE;
	x->head_done = true;
	hc->ctx->metrics->http_requests++;
	x->http10 = p->http_major == 1 && p->http_minor == 0;
	x->keep_alive = http_should_keep_alive(p) && !hc->stopping;
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > INT64_MAX)
		return stop_with(hc, 413, "request body over the size limit");
	if (p->flags & F_CONTENTLENGTH)
		x->content_length = (int64_t)p->content_length;
	x->has_body = (p->flags & F_CHUNKED) || x->content_length > 0;
	hc->deadline_ms = x->has_body ? pier_mono_ms() + timeout_ms(hc) : 0;
	if (p->http_major != 1)
		return stop_with(hc, 505, "HTTP/1.x only");
	if (split_url(x, p->method == HTTP_CONNECT) != 0)
		return stop_with(hc, 400, "bad request target");
	if (!x->http10 && http_header(x, "Host") == NULL)
		return stop_with(hc, 400, "no Host header");
	if (header_count(x, "Host") > 1)
		return stop_with(hc, 400, "more than one Host header");
	r = route_request(x);
	if (r == NULL) {
		/* Answered 404/405; a body that may follow is not read. */
		if (x->has_body) {
			hc->stop_parsing = true;
			return -1;
		}
		return 0;
	}
	limit = r->max_body ? r->max_body : hc->ctx->cfg->http_max_body;
	x->max_body = limit;
	if (x->content_length > 0 && (uint64_t)x->content_length > limit)
		return stop_with(hc, 413, "request body over the size limit");
	x->route = r;
	r->on_head(x);
	if (x->resp_ended && x->has_body && !x->req_complete) {
		hc->stop_parsing = true;
		return -1;
	}
	maybe_continue(x);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_conn *hc = p->data;
	struct http_exchange *x = &hc->x;

	x->body_bytes += len;
	if (x->body_bytes > x->max_body)
		return stop_with(hc, 413, "request body over the size limit");
	hc->deadline_ms = pier_mono_ms() + timeout_ms(hc);
	if (x->route != NULL && x->route->on_body != NULL && !x->resp_ended)
		x->route->on_body(x, at, len);
	if (x->resp_started) {
		/* The handler answered before the end (a limit): the rest is not read. */
		hc->stop_parsing = true;
		return -1;
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_conn *hc = p->data;
	struct http_exchange *x = &hc->x;

	x->req_complete = true;
	hc->deadline_ms = 0;
	if (x->route != NULL && x->route->on_end != NULL && !x->resp_ended)
		x->route->on_end(x);
	/* One exchange at a time: the next request waits until this one is answered. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* ---- the connection ---- */

/* A request the parser refused, or a callback's limit: answer, then close. */
static void bad_request(struct http_conn *hc, enum http_errno err)
{
	struct http_exchange *x = &hc->x;
	int status = hc->error_status;
	const char *message = hc->error_message;

	if (status == 0) {
		status = err == HPE_HEADER_OVERFLOW ? 431 : 400;
		message = http_errno_description(err);
	}
	log_debug("http %s: %d: %s", hc->tp->addr, status, message);
	hc->stop_parsing = true;
	hc->close_after_write = true;
	x->active = true;
	if (!x->resp_started)
		http_error(x, status, message);
	x->resp_ended = true;
}

static void finish_exchange(struct http_conn *hc)
{
	struct http_exchange *x = &hc->x;
	bool keep = x->keep_alive && !hc->parser.upgrade && !hc->stopping;

	if (x->upgrade != NULL) {
		hc->handover = true;
		return;
	}
	if (x->route != NULL && x->route->on_done != NULL)
		x->route->on_done(x);
	exchange_reset(x);
	hc->body_paused = false;
	if (!keep) {
		hc->stop_parsing = true;
		hc->close_after_write = true;
		return;
	}
	hc->got_bytes = false;
	hc->deadline_ms = pier_mono_ms() + timeout_ms(hc);
}

static void update_reading(struct http_conn *hc)
{
	if (hc->lingering)
		return;
	bool want = !hc->closing && !hc->stop_parsing && !hc->handover && !hc->stopping &&
	            !hc->body_paused && hc->in_len - hc->in_off <= hc->ctx->cfg->http_max_header;

	if (want && !hc->reading) {
		transport_read_start(hc->tp);
		hc->reading = hc->tp->reading;
	} else if (!want && hc->reading) {
		transport_read_stop(hc->tp);
		hc->reading = false;
	}
}

static void free_http_conn(struct http_conn *hc)
{
	struct net_context *ctx = hc->ctx;
	struct http_exchange *x = &hc->x;

	if (x->active && x->route != NULL && x->route->on_done != NULL)
		x->route->on_done(x);
	exchange_reset(x);
	if (hc->kicked) {
		struct http_conn **pp = &ctx->http_kicked;

		while (*pp != hc)
			pp = &(*pp)->kick_next;
		*pp = hc->kick_next;
	}
	release_chunks(hc, hc->q, hc->qlen);
	release_chunks(hc, hc->w, hc->wlen);
	free(hc->q);
	free(hc->w);
	free(hc->in);
	DL_DELETE(ctx->http_conns, hc);
	ctx->nhttp--;
	free(hc);
}

/* Gives the socket to the upgraded protocol once the 101 is written. True if it did: hc is
 * freed then. */
static bool maybe_hand_over(struct http_conn *hc)
{
	struct http_exchange *x = &hc->x;
	struct transport *t = hc->tp;
	void (*start)(void *, struct transport *, const char *, size_t) = x->upgrade;
	void *arg = x->upgrade_arg;

	if (!hc->handover || hc->writing || hc->qlen > 0 || hc->closing)
		return false;
	x->upgrade = NULL;
	transport_read_stop(t);
	transport_set_owner(t, NULL, NULL);
	/* No input kept (hc->in is NULL): nothing to hand over, and no pointer arithmetic on
	 * NULL (undefined, found by fuzz_http). */
	if (hc->in != NULL)
		start(arg, t, hc->in + hc->in_off, hc->in_len - hc->in_off);
	else
		start(arg, t, NULL, 0);
	free_http_conn(hc);
	return true;
}

/* Parses what has arrived, one exchange at a time, and writes what the handlers queued. */
static void process(struct http_conn *hc)
{
	if (hc->processing || hc->closing)
		return;
	hc->processing = true;
	if (hc->x.active && hc->x.head_done && !hc->x.req_complete && hc->x.resp_ended &&
	    !hc->stop_parsing) {
		/* Answered before the body came (an error while the body was paused, say): the
		 * rest of the body is not read, the connection closes after the answer. */
		hc->stop_parsing = true;
		hc->close_after_write = true;
	}
	while (!hc->closing && !hc->stop_parsing && !hc->handover && !hc->body_paused) {
		struct http_exchange *x = &hc->x;
		size_t avail, n;
		enum http_errno err;

		if (x->active && x->req_complete) {
			if (!x->resp_ended)
				break;          /* the handler answers later */
			finish_exchange(hc);
			continue;
		}
		/* No new request while the answers so far are not written (a pipelining peer that
		 * does not read): on_written goes on. */
		if (!x->active && hc->tp->out_queued > hc->tp->out_soft)
			break;
		avail = hc->in_len - hc->in_off;
		if (avail == 0)
			break;
		n = http_parser_execute(&hc->parser, &parser_settings, hc->in + hc->in_off, avail);
		hc->in_off += n;
		err = HTTP_PARSER_ERRNO(&hc->parser);
		if (err == HPE_PAUSED) {
			http_parser_pause(&hc->parser, 0);
			continue;
		}
		if (hc->stop_parsing && hc->error_status == 0) {
			hc->close_after_write = true;   /* answered early; the rest is not read */
			break;
		}
		if (err != HPE_OK) {
			bad_request(hc, err);
			break;
		}
		if (n < avail)
			break;
	}
	if (hc->in_off == hc->in_len) {
		free(hc->in);
		hc->in = NULL;
		hc->in_len = hc->in_off = hc->in_cap = 0;
	}
	hc->processing = false;
	if (hc->closing)
		return;
	if (transport_out_over_hard(hc->tp)) {
		log_info("http %s: output over the limit, closing", hc->tp->addr);
		close_now(hc);
		return;
	}
	flush(hc);
	if (maybe_hand_over(hc) || hc->handover)
		return;
	maybe_close(hc);
	update_reading(hc);
}

static void on_read(void *owner, const char *data, size_t len)
{
	struct http_conn *hc = owner;

	if (hc->lingering) {
		hc->linger_bytes += len;
		if (hc->linger_bytes > LINGER_MAX)
			close_now(hc);
		return;
	}
	if (hc->closing || hc->stop_parsing)
		return;
	if (hc->in_off > 0 && hc->in_off == hc->in_len)
		hc->in_len = hc->in_off = 0;
	if (hc->in_len + len > hc->in_cap) {
		size_t cap = hc->in_cap ? hc->in_cap : 4096;

		while (cap < hc->in_len + len)
			cap *= 2;
		hc->in = xrealloc(hc->in, cap);
		hc->in_cap = cap;
	}
	memcpy(hc->in + hc->in_len, data, len);
	hc->in_len += len;
	process(hc);
}

static void on_error(void *owner, int status)
{
	struct http_conn *hc = owner;

	if (status != UV_EOF || hc->lingering) {
		close_now(hc);
		return;
	}
	if (hc->x.active && hc->x.head_done && hc->x.has_body && !hc->x.req_complete &&
	    !hc->x.resp_started) {
		close_now(hc);          /* the body can never be complete: the exchange is over */
		return;
	}
	/* The client closed its side: answer what it asked, then close. */
	hc->stop_parsing = true;
	hc->close_after_write = true;
	transport_read_stop(hc->tp);
	hc->reading = false;
	if (!hc->processing) {
		flush(hc);
		maybe_close(hc);
	}
}

static void on_written(void *owner, int status)
{
	struct http_conn *hc = owner;
	struct http_exchange *x = &hc->x;

	hc->writing = false;
	release_chunks(hc, hc->w, hc->wlen);
	hc->wlen = 0;
	if (status < 0 || hc->closing) {
		close_now(hc);
		return;
	}
	if (x->resp_started && !x->resp_ended && x->route != NULL && x->route->on_writable != NULL &&
	    hc->qlen == 0) {
		hc->processing = true;
		x->route->on_writable(x);
		hc->processing = false;
	}
	process(hc);
}

static void on_closed(void *owner)
{
	free_http_conn(owner);
}

static const struct transport_owner_ops http_owner_ops = {
	.on_read = on_read,
	.on_error = on_error,
	.on_written = on_written,
	.on_closed = on_closed,
};

struct http_conn *http_conn_new(struct transport *t)
{
	struct http_conn *hc = xcalloc(1, sizeof(*hc));
	struct net_context *ctx = t->ctx;

	hc->ctx = ctx;
	hc->tp = t;
	http_parser_init(&hc->parser, HTTP_REQUEST);
	hc->parser.data = hc;
	hc->x.hc = hc;
	exchange_reset(&hc->x);
	DL_APPEND(ctx->http_conns, hc);
	ctx->nhttp++;
	transport_set_owner(t, &http_owner_ops, hc);
	if (!t->counted && !transport_admit(t)) {
		log_info("http %s: too many connections from this address", t->addr);
		transport_try_write(t, HTTP_REFUSAL, sizeof(HTTP_REFUSAL) - 1);
		close_now(hc);
		return hc;
	}
	hc->deadline_ms = pier_mono_ms() + timeout_ms(hc);
	update_reading(hc);
	return hc;
}

static void conn_tick(struct http_conn *hc, int64_t now_ms)
{
	struct http_exchange *x = &hc->x;

	if (hc->closing)
		return;
	if (transport_write_stalled_ms(hc->tp, now_ms) > (int64_t)(hc->ctx->cfg->http_write_timeout * 1000)) {
		log_info("http %s: the peer took no output for %.0f s, closing", hc->tp->addr,
		         hc->ctx->cfg->http_write_timeout);
		close_now(hc);
		return;
	}
	if (hc->deadline_ms == 0 || now_ms <= hc->deadline_ms)
		return;
	hc->deadline_ms = 0;
	if (!hc->got_bytes || x->resp_started || hc->handover || hc->lingering) {
		close_now(hc);      /* idle between requests: close quietly */
		return;
	}
	log_info("http %s: request not complete in time", hc->tp->addr);
	hc->stop_parsing = true;
	hc->close_after_write = true;
	transport_read_stop(hc->tp);
	hc->reading = false;
	x->active = true;
	http_error(x, 408, "the request did not arrive in time");
	x->resp_ended = true;
}

static void conn_stop(struct http_conn *hc)
{
	hc->stopping = true;
	hc->close_after_write = true;
	if (hc->closing)
		return;
	/* A request still sending its body cannot finish once reading stops: drop it now (an
	 * upload resumes later, tus) rather than hold the stop until the deadline. */
	if (hc->x.active && hc->x.head_done && !hc->x.req_complete) {
		close_now(hc);
		return;
	}
	transport_read_stop(hc->tp);
	hc->reading = false;
	if (!hc->processing)
		maybe_close(hc);
}

void http_conns_tick(struct net_context *ctx, int64_t now_ms)
{
	struct http_conn *hc, *tmp;

	DL_FOREACH_SAFE(ctx->http_conns, hc, tmp)
		conn_tick(hc, now_ms);
}

void http_conns_stop(struct net_context *ctx)
{
	struct http_conn *hc, *tmp;

	DL_FOREACH_SAFE(ctx->http_conns, hc, tmp)
		conn_stop(hc);
}

void http_conns_abort(struct net_context *ctx)
{
	struct http_conn *hc, *tmp;

	DL_FOREACH_SAFE(ctx->http_conns, hc, tmp)
		close_now(hc);
}
