/* ws.h - WebSocket (RFC 6455): the GET /ws upgrade, and the framing that carries the JSON
 * protocol in text frames (one object per frame, the same login, order and limits as the
 * TCP port), with wslay doing the frames.
 *
 * Frames: incoming text messages (fragmented or not, at most --max-line bytes, UTF-8 checked)
 * are requests; every outgoing JSON line is one unmasked text frame, without its newline.
 * Binary frames close the connection with 1003, too long messages with 1009, invalid UTF-8
 * with 1007, protocol errors with 1002. The server pings every --ws-ping-interval seconds;
 * no pong within --ws-ping-timeout closes the session (ping_timeout, 1001). Closing with a
 * fatal error sends the JSON error frame, then a close frame: 1001 when the server stops or
 * a ping went unanswered, 1008 for the other fatal errors, 1000 after logout.
 */
#ifndef PIER_WS_H
#define PIER_WS_H

#include <stdbool.h>
#include <stddef.h>

struct http_exchange;
struct session_context;
struct transport;

/* The route handler of GET /ws: checks the handshake and the Origin, answers 101 and starts a
 * session, or answers 400 / 403 / 426. */
void ws_handle_upgrade(struct http_exchange *x);

/* Starts a WebSocket session on t (after the 101 was written) in sessions; data/len are bytes that came after the handshake. */
void ws_session_start(struct session_context *sessions, struct transport *t, const char *data,
                      size_t len);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)), 28 characters. */
void ws_accept_key(const char *key, char out[29]);
/* True if key is a valid Sec-WebSocket-Key (base64 of 16 bytes). */
bool ws_key_valid(const char *key);

/* The Origin rule: no Origin (not a browser) passes; with an allowed list (comma-separated
 * origins such as "https://chat.example.org", or "*"), the origin must be on it; without one,
 * the origin's host[:port] must be the request's Host. */
bool ws_origin_allowed(const char *allowed, const char *origin, const char *host);

#endif
