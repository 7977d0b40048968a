/* netclient.h - raw clients for integration tests of pierd's HTTP side: a byte stream
 * (plain or TLS) with timeouts, a one-shot HTTP exchange, and a small RFC 6455 WebSocket
 * client (handshake with a random key and a Sec-WebSocket-Accept check, masked frames,
 * answers pings, keeps events for later like pier_conn).
 *
 * Every wait is bounded by a timeout; failures return NULL / -1 without a failed check, so
 * that tests can expect them.
 */
#ifndef PIER_NETCLIENT_H
#define PIER_NETCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---- byte streams ---- */

struct net;

/* Connects to 127.0.0.1:port; with ca_file not NULL, TLS checking the server against it
 * (name "localhost"). NULL on failure. */
struct net *net_connect(int port, const char *ca_file, int timeout_ms);
void net_close(struct net *n);
/* Sends everything (0) or fails (-1). */
int net_send(struct net *n, const void *data, size_t len);
/* Reads what arrives within timeout_ms into the stream's buffer: bytes read, 0 at the end of
 * the stream, -1 on timeout or error. */
int net_read(struct net *n, int timeout_ms);
/* Reads until the peer closes (true) or timeout_ms passes (false). */
bool net_read_until_closed(struct net *n, int timeout_ms);
/* The bytes received and not consumed; consume n bytes of them. */
const char *net_data(const struct net *n, size_t *len);
void net_consume(struct net *n, size_t len);

/* ---- HTTP ---- */

struct http_reply {
	int status;                 /* 0: no (complete) reply */
	char *head;                 /* status line and headers, NUL-terminated */
	char *body;                 /* NUL-terminated */
	size_t body_len;
};

/* Reads one reply (Content-Length bodies, or up to the close) from n within timeout_ms. */
int http_read_reply(struct net *n, struct http_reply *r, int timeout_ms);
/* Connects to port (TLS with ca_file), sends request as it is, reads one reply. */
int http_exchange(int port, const char *ca_file, const char *request, struct http_reply *r);
/* The value of header name in r (any case), copied to out; false if absent. */
bool http_reply_header(const struct http_reply *r, const char *name, char *out, size_t n);
void http_reply_free(struct http_reply *r);
/* The value of metric name in the /metrics of the pierd whose HTTP port is port, or -1. */
long http_metric(int port, const char *name);

/* ---- WebSocket ---- */

struct ws_client;

/* Opens GET path on 127.0.0.1:port (TLS with ca_file) with Origin origin (NULL: none).
 * NULL if the server did not answer 101 with the right Sec-WebSocket-Accept; *status gets
 * the HTTP status (0 when there was none). */
struct ws_client *ws_open(int port, const char *ca_file, const char *origin, int *status);
void ws_free(struct ws_client *w);

/* Sends one frame: opcode, fin bit, payload (masked as a client must; mask false sends an
 * unmasked frame, which a server must refuse). 0 or -1. */
int ws_send_frame(struct ws_client *w, int opcode, bool fin, const void *data, size_t len,
                  bool mask);
/* A text frame with req (taken) as JSON; adds "ref" like pier_client when missing. */
int ws_send_json(struct ws_client *w, json_t *req);

/* The next text message as JSON (kept ones first), within timeout_ms; NULL on timeout or
 * close. Pings are answered on the way unless ws_set_answer_pings(w, false). */
json_t *ws_next(struct ws_client *w, int timeout_ms);
/* The first event with op (others stay kept). */
json_t *ws_wait_op(struct ws_client *w, const char *op, int timeout_ms);
/* Sends req (taken) and waits for the reply with its ref. */
json_t *ws_call(struct ws_client *w, json_t *req, int timeout_ms);
/* Reads until the server's close frame (true: *code and reason set) or timeout. Text
 * messages on the way are kept. */
bool ws_wait_close(struct ws_client *w, int timeout_ms, int *code, char *reason, size_t n);
/* True once the TCP connection ended. */
bool ws_is_closed(const struct ws_client *w);
void ws_set_answer_pings(struct ws_client *w, bool answer);
/* Pings seen so far. */
int ws_pings(const struct ws_client *w);

#endif
