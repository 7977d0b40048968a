/* http.h - HTTP/1.1 on a transport: requests parsed by http-parser under limits, keep-alive
 * and pipelining, routing to handlers, and a response API that streams.
 *
 * Routing: the table http_routes (routes.c) lists every endpoint. A request goes to the first
 * route whose path matches (exactly, or as a prefix when .prefix is set) and whose method
 * matches; a path that matches only with other methods gets 405, no path 404. GET routes
 * serve HEAD too: the response API drops the body and keeps the headers.
 *
 * An exchange (one request and its response) goes:
 *   on_head      the request line and headers are complete (http_header etc. work); the
 *                handler may answer at once or later, from any loop callback;
 *   on_body      request body bytes as they arrive, at most route->max_body in all (over it,
 *                413 and the connection closes); NULL: the body is read and dropped;
 *   on_end       the request is complete;
 *   on_writable  the output queued so far has been written and the response is not ended:
 *                a handler streaming a long body adds the next piece here;
 *   on_done      the exchange is over (response written, or the connection lost): free the
 *                handler's state. After it, x must not be used.
 * Responses are written in request order; a handler that answers before the request body is
 * complete makes the connection close after the response (the rest of the body is not read).
 * A client that closes its side in the middle of a body ends the exchange (on_done).
 *
 * Limits (flags, docs/PROTOCOL.md): the request head (--http-max-header, also the longest
 * URL), the body of routes without their own limit (--http-max-body), and time: the head must
 * arrive within --http-header-timeout seconds of the connection opening or of the previous
 * response (a slow head gets 408), and a body may not stall longer than that between bytes.
 * Bad requests get a 4xx with Connection: close.
 */
#ifndef PIER_HTTP_H
#define PIER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_conn;
struct http_exchange;
struct net_context;
struct server;
struct transport;

struct http_route {
	const char *method;     /* "GET" (serves HEAD too), "POST", ...; NULL: every method */
	const char *path;       /* "/healthz"; matched against the path without the query */
	bool prefix;            /* match path as a prefix ("/" matches everything) */
	size_t max_body;        /* request body limit in bytes; 0: --http-max-body */
	void (*on_head)(struct http_exchange *x);                                 /* required */
	void (*on_body)(struct http_exchange *x, const char *data, size_t len);  /* may be NULL */
	void (*on_end)(struct http_exchange *x);                                  /* may be NULL */
	void (*on_writable)(struct http_exchange *x);                             /* may be NULL */
	void (*on_done)(struct http_exchange *x);                                 /* may be NULL */
};

/* routes.c: pierd's table, which the server puts in its net_context (ctx->routes). */
extern const struct http_route http_routes[];
extern const size_t http_nroutes;

/* ---- connections (server.c, tests) ----
 * The connections of one net_context (t->ctx): its routes, limits and counters. */

/* An HTTP connection on transport t (which it owns from now on), with t->ctx's routes.
 * Refuses the client (429, then close) when its address has too many connections. */
struct http_conn *http_conn_new(struct transport *t);
/* Once a second, every HTTP connection of ctx: the deadlines (head, body, paused body,
 * lingering close, an answer that makes no progress). */
void http_conns_tick(struct net_context *ctx, int64_t now_ms);
/* The server is stopping: no more requests; idle connections close now, busy ones after
 * their response. */
void http_conns_stop(struct net_context *ctx);
/* Closes every HTTP connection at once. */
void http_conns_abort(struct net_context *ctx);
/* Once per loop turn (server.c): writes what asynchronous handlers answered since. */
void http_conns_flush(struct net_context *ctx);

/* ---- the request ---- */

/* The server the context carries, for the handlers (the HTTP layer never looks into it). */
struct server *http_server(const struct http_exchange *x);
/* The byte layers' context the exchange runs in. */
struct net_context *http_context(const struct http_exchange *x);
const char *http_method(const struct http_exchange *x);   /* "GET", "HEAD", ... */
bool http_is_head(const struct http_exchange *x);
const char *http_path(const struct http_exchange *x);     /* as sent, not %-decoded */
const char *http_query(const struct http_exchange *x);    /* after '?', or NULL */
/* The value of header name (any case), NULL if absent; the first when repeated. */
const char *http_header(const struct http_exchange *x, const char *name);
/* True if header name is a comma list holding token (any case): "Connection: keep-alive, Upgrade". */
bool http_header_has_token(const struct http_exchange *x, const char *name, const char *token);
/* The declared body length, or -1 when none was declared (chunked or no body). */
int64_t http_content_length(const struct http_exchange *x);
const char *http_peer(const struct http_exchange *x);     /* the client's address */
bool http_is_tls(const struct http_exchange *x);
/* The handler's own pointer (NULL at first). */
void *http_data(const struct http_exchange *x);
void http_set_data(struct http_exchange *x, void *data);

/* ---- the request body, for handlers that store it (media uploads) ----
 * A route with max_body HTTP_BODY_HANDLER_LIMIT sets the limit itself in on_head (a declared
 * Content-Length over it is then refused by the handler, not before on_head). */
#define HTTP_BODY_HANDLER_LIMIT SIZE_MAX
void http_set_max_body(struct http_exchange *x, uint64_t limit);
/* Stops (pause true) or restarts delivering body bytes to on_body: no more reading from the
 * socket, no more parsing, and no body timeout while paused. A handler that writes the body
 * to disk pauses while its writes are behind, or in on_head until it knows it wants the body.
 * Usable from any loop callback; a resumed exchange goes on at the end of the loop turn. */
void http_pause_body(struct http_exchange *x, bool pause);

/* ---- the response ----
 * http_response_start, any http_response_header, body pieces, http_response_end. Headers
 * every response gets: Date, Server, X-Content-Type-Options: nosniff, and Content-Length or
 * chunked transfer encoding (content_length -1) or Connection: close as fits. */

void http_response_start(struct http_exchange *x, int status, int64_t content_length);
/* One header line; value is printf-style and must not contain CR or LF. */
void http_response_header(struct http_exchange *x, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A piece of the body, copied. */
void http_response_body(struct http_exchange *x, const void *data, size_t len);
/* A piece of the body that lives as long as the program (embedded files): not copied. */
void http_response_body_static(struct http_exchange *x, const void *data, size_t len);
void http_response_end(struct http_exchange *x);
/* True when enough is queued that a streaming handler should wait for on_writable. */
bool http_response_backlogged(const struct http_exchange *x);
/* A whole response in one call (content_type may be NULL when body is empty). */
void http_respond(struct http_exchange *x, int status, const char *content_type, const void *body,
                  size_t len);
/* A text/plain error response "<status> <reason>: message\n". The connection closes after
 * it unless status is 403, 404 or 426 (a well-formed request, refused). */
void http_error(struct http_exchange *x, int status, const char *message);

/* Answers 101 Switching Protocols (with the headers the handler added after
 * http_response_start(x, 101, -1)) and, once that is written, gives the transport to start()
 * with the bytes that came after the request. The HTTP connection ends there. */
void http_upgrade(struct http_exchange *x,
                  void (*start)(void *arg, struct transport *t, const char *data, size_t len),
                  void *arg);

/* The reason phrase of a status ("Not Found"). */
const char *http_reason(int status);

/* The byte a %-escape stands for: esc points at the '%', avail bytes from esc may be read
 * (strnlen(esc, 3) for a NUL-terminated string). -1 unless two hex digits follow, and for
 * "%00" (no NUL may hide in a name or a path). */
int http_pct_byte(const char *esc, size_t avail);

#endif
