/* netclient.c - raw byte streams, HTTP exchanges and a WebSocket client for the integration
 * tests (netclient.h). Written from RFC 6455 and RFC 9112, independent of pierd's code. */
#define _GNU_SOURCE /* memmem */
#include "netclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "clock.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct net {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char *buf;
	size_t len, cap;
	bool eof;
};

static int remaining(int64_t deadline)
{
	int64_t left = deadline - pier_mono_ms();

	return left <= 0 ? 0 : (int)left;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, remaining(deadline));
	} while (n < 0 && errno == EINTR);
	return n;
}

struct net *net_connect(int port, const char *ca_file, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int64_t deadline = pier_mono_ms() + timeout_ms;
	struct net *n = calloc(1, sizeof(*n));
	int one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (n == NULL)
		return NULL;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	n->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0)
		goto fail;
	setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(n->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno != EINPROGRESS || wait_fd(n->fd, POLLOUT, deadline) <= 0 ||
		    getsockopt(n->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0)
			goto fail;
	}
	if (ca_file == NULL)
		return n;
	n->ctx = SSL_CTX_new(TLS_client_method());
	if (n->ctx == NULL || SSL_CTX_load_verify_locations(n->ctx, ca_file, NULL) != 1)
		goto fail;
	SSL_CTX_set_verify(n->ctx, SSL_VERIFY_PEER, NULL);
	X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(n->ctx), X509_V_FLAG_PARTIAL_CHAIN);
	n->ssl = SSL_new(n->ctx);
	if (n->ssl == NULL || SSL_set_fd(n->ssl, n->fd) != 1)
		goto fail;
	SSL_set_tlsext_host_name(n->ssl, "localhost");
	SSL_set1_host(n->ssl, "localhost");
	for (;;) {
		int r, e;

		ERR_clear_error();
		r = SSL_connect(n->ssl);
		if (r == 1)
			return n;
		e = SSL_get_error(n->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			goto fail;
		if (wait_fd(n->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) <= 0)
			goto fail;
	}
fail:
	ERR_clear_error();
	net_close(n);
	return NULL;
}

void net_close(struct net *n)
{
	if (n == NULL)
		return;
	SSL_free(n->ssl);
	SSL_CTX_free(n->ctx);
	if (n->fd >= 0)
		close(n->fd);
	free(n->buf);
	free(n);
}

int net_send(struct net *n, const void *data, size_t len)
{
	int64_t deadline = pier_mono_ms() + 10000;
	const char *p = data;

	while (len > 0) {
		ssize_t w;
		short ev = POLLOUT;

		if (n->ssl != NULL) {
			int r, e;

			ERR_clear_error();
			r = SSL_write(n->ssl, p, (int)len);
			if (r > 0) {
				w = r;
			} else {
				e = SSL_get_error(n->ssl, r);
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
					return -1;
				ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
				w = -1;
				errno = EAGAIN;
			}
		} else {
			w = send(n->fd, p, len, MSG_NOSIGNAL);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || wait_fd(n->fd, ev, deadline) <= 0)
				return -1;
			continue;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int net_read(struct net *n, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;

	if (n->eof)
		return 0;
	for (;;) {
		ssize_t r;

		if (n->cap - n->len < 16384) {
			char *nb = realloc(n->buf, n->cap + 65536);

			if (nb == NULL)
				return -1;
			n->buf = nb;
			n->cap += 65536;
		}
		if (n->ssl != NULL) {
			int e;

			ERR_clear_error();
			r = SSL_read(n->ssl, n->buf + n->len, (int)(n->cap - n->len));
			if (r <= 0) {
				e = SSL_get_error(n->ssl, (int)r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
					r = -1;
					errno = EAGAIN;
				} else {
					r = 0;          /* close_notify, reset or error: the end */
				}
			}
		} else {
			r = recv(n->fd, n->buf + n->len, n->cap - n->len, 0);
			if (r < 0 && errno == ECONNRESET)
				r = 0;
		}
		if (r > 0) {
			n->len += (size_t)r;
			return (int)r;
		}
		if (r == 0) {
			n->eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || wait_fd(n->fd, POLLIN, deadline) <= 0)
			return -1;
	}
}

bool net_read_until_closed(struct net *n, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;

	while (!n->eof && remaining(deadline) > 0)
		net_read(n, remaining(deadline));
	return n->eof;
}

const char *net_data(const struct net *n, size_t *len)
{
	*len = n->len;
	return n->buf != NULL ? n->buf : "";
}

void net_consume(struct net *n, size_t len)
{
	memmove(n->buf, n->buf + len, n->len - len);
	n->len -= len;
}

/* ---- HTTP ---- */

static const char *find_head_end(const struct net *n)
{
	return n->len >= 4 ? memmem(n->buf, n->len, "\r\n\r\n", 4) : NULL;
}

bool http_reply_header(const struct http_reply *r, const char *name, char *out, size_t n)
{
	size_t nlen = strlen(name);
	const char *line = r->head != NULL ? strstr(r->head, "\r\n") : NULL;

	while (line != NULL && line[2] != '\0') {
		const char *start = line + 2, *end = strstr(start, "\r\n");
		size_t llen = end != NULL ? (size_t)(end - start) : strlen(start);

		if (llen > nlen && start[nlen] == ':' && strncasecmp(start, name, nlen) == 0) {
			const char *v = start + nlen + 1;
			size_t vlen;

			while (*v == ' ' || *v == '\t')
				v++;
			vlen = llen - (size_t)(v - start);
			if (vlen >= n)
				vlen = n - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		line = end;
	}
	return false;
}

int http_read_reply(struct net *n, struct http_reply *r, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;
	bool no_body = r->body_len == (size_t)-1;  /* caller's mark: a HEAD request */
	const char *end;
	size_t head_len, want = 0;
	bool by_length = false;
	char value[64];

	memset(r, 0, sizeof(*r));
	while ((end = find_head_end(n)) == NULL) {
		if (remaining(deadline) == 0 || net_read(n, remaining(deadline)) <= 0)
			return -1;
	}
	head_len = (size_t)(end - n->buf) + 4;
	r->head = strndup(n->buf, head_len - 2);
	net_consume(n, head_len);
	if (r->head == NULL || sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	if (http_reply_header(r, "Content-Length", value, sizeof(value))) {
		want = strtoul(value, NULL, 10);
		by_length = true;
	}
	if (no_body || r->status < 200 || r->status == 204 || r->status == 304)
		want = 0, by_length = true;
	if (!by_length)
		net_read_until_closed(n, remaining(deadline));
	else
		while (n->len < want && remaining(deadline) > 0 && net_read(n, remaining(deadline)) > 0)
			;
	if (by_length && n->len < want)
		return -1;
	r->body_len = by_length ? want : n->len;
	r->body = malloc(r->body_len + 1);
	if (r->body == NULL)
		return -1;
	memcpy(r->body, n->buf != NULL ? n->buf : "", r->body_len);
	r->body[r->body_len] = '\0';
	net_consume(n, r->body_len);
	return 0;
}

int http_exchange(int port, const char *ca_file, const char *request, struct http_reply *r)
{
	struct net *n = net_connect(port, ca_file, 5000);
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (n == NULL)
		return -1;
	if (strncmp(request, "HEAD ", 5) == 0)
		r->body_len = (size_t)-1;
	if (net_send(n, request, strlen(request)) == 0)
		rc = http_read_reply(n, r, 10000);
	net_close(n);
	return rc;
}

void http_reply_free(struct http_reply *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

long http_metric(int port, const char *name)
{
	struct http_reply r = {0};
	size_t nlen = strlen(name);
	long v = -1;

	if (http_exchange(port, NULL,
	                  "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
	                  &r) == 0 && r.status == 200 && r.body != NULL) {
		for (const char *at = strstr(r.body, name); at != NULL; at = strstr(at + 1, name)) {
			if ((at == r.body || at[-1] == '\n') && at[nlen] == ' ') {
				v = strtol(at + nlen + 1, NULL, 10);
				break;
			}
		}
	}
	http_reply_free(&r);
	return v;
}

/* ---- WebSocket ---- */

struct ws_client {
	struct net *n;
	json_t *kept;               /* text messages not taken yet */
	char *msg;                  /* a fragmented message being received */
	size_t msg_len;
	bool answer_pings;
	int pings;
	bool close_seen;
	int close_code;
	char close_reason[128];
	unsigned refs;
};

static void base64(const unsigned char *in, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

struct ws_client *ws_open(int port, const char *ca_file, const char *origin, int *status)
{
	struct ws_client *w = calloc(1, sizeof(*w));
	unsigned char nonce[16], md[20];
	char key[32], expect[32], req[1024], got[64];
	struct http_reply r = {0};
	unsigned mdlen = 0;

	*status = 0;
	if (w == NULL)
		return NULL;
	w->answer_pings = true;
	w->kept = json_array();
	w->n = net_connect(port, ca_file, 5000);
	if (w->n == NULL)
		goto fail;
	RAND_bytes(nonce, sizeof(nonce));
	base64(nonce, sizeof(nonce), key);
	snprintf(req, sizeof(req), "%s%s", key, WS_GUID);
	EVP_Digest(req, strlen(req), md, &mdlen, EVP_sha1(), NULL);
	base64(md, sizeof(md), expect);
	snprintf(req, sizeof(req),
	         "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
	         "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	         "%s%s%s\r\n", port, key, origin ? "Origin: " : "", origin ? origin : "",
	         origin ? "\r\n" : "");
	if (net_send(w->n, req, strlen(req)) != 0)
		goto fail;
	r.body_len = (size_t)-1;            /* a 101 has no body; read the head only */
	if (http_read_reply(w->n, &r, 10000) != 0)
		goto fail;
	*status = r.status;
	if (r.status != 101 || !http_reply_header(&r, "Sec-WebSocket-Accept", got, sizeof(got)) ||
	    strcmp(got, expect) != 0 || !http_reply_header(&r, "Upgrade", got, sizeof(got)) ||
	    strcasecmp(got, "websocket") != 0)
		goto fail;
	http_reply_free(&r);
	return w;
fail:
	http_reply_free(&r);
	ws_free(w);
	return NULL;
}

void ws_free(struct ws_client *w)
{
	if (w == NULL)
		return;
	net_close(w->n);
	json_decref(w->kept);
	free(w->msg);
	free(w);
}

int ws_send_frame(struct ws_client *w, int opcode, bool fin, const void *data, size_t len,
                  bool mask)
{
	unsigned char *f = malloc(len + 14), key[4];
	size_t h = 0;
	int rc;

	if (f == NULL)
		return -1;
	f[h++] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		f[h++] = (unsigned char)((mask ? 0x80 : 0) | len);
	} else if (len < 65536) {
		f[h++] = (unsigned char)((mask ? 0x80 : 0) | 126);
		f[h++] = (unsigned char)(len >> 8);
		f[h++] = (unsigned char)len;
	} else {
		f[h++] = (unsigned char)((mask ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			f[h++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		RAND_bytes(key, 4);
		memcpy(f + h, key, 4);
		h += 4;
	}
	for (size_t i = 0; i < len; i++)
		f[h + i] = (unsigned char)(((const unsigned char *)data)[i] ^ (mask ? key[i % 4] : 0));
	rc = net_send(w->n, f, h + len);
	free(f);
	return rc;
}

int ws_send_json(struct ws_client *w, json_t *req)
{
	char *s;
	int rc;

	if (json_object_get(req, "ref") == NULL) {
		char ref[32];

		snprintf(ref, sizeof(ref), "w%u", ++w->refs);
		json_object_set_new(req, "ref", json_string(ref));
	}
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (s == NULL)
		return -1;
	rc = ws_send_frame(w, 1, true, s, strlen(s), true);
	free(s);
	return rc;
}

/* Takes one whole frame from the buffer, reading until deadline. 1 done, 0 timeout, -1 end. */
static int read_frame(struct ws_client *w, int64_t deadline, int *opcode, bool *fin,
                      char **payload, size_t *plen)
{
	for (;;) {
		size_t have;
		const unsigned char *b = (const unsigned char *)net_data(w->n, &have);

		if (have >= 2) {
			uint64_t len = b[1] & 0x7f;
			size_t h = 2;

			if (b[1] & 0x80)
				return -1;          /* a server must not mask */
			if (len == 126 && have >= 4) {
				len = (uint64_t)b[2] << 8 | b[3];
				h = 4;
			} else if (len == 127 && have >= 10) {
				len = 0;
				for (int i = 0; i < 8; i++)
					len = len << 8 | b[2 + i];
				h = 10;
			} else if (len >= 126) {
				h = 0;
			}
			if (h > 0 && have >= h + len) {
				*opcode = b[0] & 0x0f;
				*fin = (b[0] & 0x80) != 0;
				*plen = (size_t)len;
				*payload = malloc(*plen + 1);
				if (*payload == NULL)
					return -1;
				memcpy(*payload, b + h, *plen);
				(*payload)[*plen] = '\0';
				net_consume(w->n, h + *plen);
				return 1;
			}
		}
		if (remaining(deadline) == 0)
			return 0;
		int r = net_read(w->n, remaining(deadline));

		if (r == 0)
			return -1;
		if (r < 0)
			return 0;
	}
}

/* Handles one frame. 1 progress, 0 timeout, -1 end of the connection. */
static int pump(struct ws_client *w, int64_t deadline)
{
	int opcode, rc;
	bool fin;
	char *p;
	size_t len;

	if (w->close_seen)
		return -1;
	rc = read_frame(w, deadline, &opcode, &fin, &p, &len);
	if (rc <= 0)
		return rc;
	switch (opcode) {
	case 0x9:
		w->pings++;
		if (w->answer_pings)
			ws_send_frame(w, 0xA, true, p, len, true);
		break;
	case 0x8:
		w->close_seen = true;
		w->close_code = len >= 2 ? ((unsigned char)p[0] << 8 | (unsigned char)p[1]) : 1005;
		snprintf(w->close_reason, sizeof(w->close_reason), "%.*s", len > 2 ? (int)len - 2 : 0,
		         len > 2 ? p + 2 : "");
		ws_send_frame(w, 0x8, true, p, len >= 2 ? 2 : 0, true);
		break;
	case 0x1:
	case 0x0: {
		char *m = realloc(w->msg, w->msg_len + len + 1);

		if (m == NULL)
			break;
		w->msg = m;
		memcpy(w->msg + w->msg_len, p, len);
		w->msg_len += len;
		if (fin) {
			json_t *ev = json_loadb(w->msg, w->msg_len, 0, NULL);

			json_array_append_new(w->kept, ev != NULL ? ev : json_string("(not JSON)"));
			w->msg_len = 0;
		}
		break;
	}
	default:
		break;
	}
	free(p);
	return 1;
}

json_t *ws_next(struct ws_client *w, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;

	while (json_array_size(w->kept) == 0) {
		if (pump(w, deadline) <= 0)
			return NULL;
	}
	json_t *ev = json_incref(json_array_get(w->kept, 0));

	json_array_remove(w->kept, 0);
	return ev;
}

static json_t *take_match(struct ws_client *w, const char *key, const char *value)
{
	size_t i;
	json_t *ev;

	json_array_foreach(w->kept, i, ev) {
		const char *v = json_string_value(json_object_get(ev, key));

		if (v != NULL && strcmp(v, value) == 0) {
			json_incref(ev);
			json_array_remove(w->kept, i);
			return ev;
		}
	}
	return NULL;
}

static json_t *wait_match(struct ws_client *w, const char *key, const char *value, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;

	for (;;) {
		json_t *ev = take_match(w, key, value);

		if (ev != NULL)
			return ev;
		if (pump(w, deadline) <= 0)
			return NULL;
	}
}

json_t *ws_wait_op(struct ws_client *w, const char *op, int timeout_ms)
{
	return wait_match(w, "op", op, timeout_ms);
}

json_t *ws_call(struct ws_client *w, json_t *req, int timeout_ms)
{
	char ref[32];

	snprintf(ref, sizeof(ref), "w%u", ++w->refs);
	json_object_set_new(req, "ref", json_string(ref));
	if (ws_send_json(w, req) != 0)
		return NULL;
	return wait_match(w, "ref", ref, timeout_ms);
}

bool ws_wait_close(struct ws_client *w, int timeout_ms, int *code, char *reason, size_t n)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;

	while (!w->close_seen) {
		if (pump(w, deadline) <= 0)
			break;
	}
	if (!w->close_seen)
		return false;
	*code = w->close_code;
	if (reason != NULL)
		snprintf(reason, n, "%s", w->close_reason);
	return true;
}

bool ws_is_closed(const struct ws_client *w)
{
	return w->n->eof;
}

void ws_set_answer_pings(struct ws_client *w, bool answer)
{
	w->answer_pings = answer;
}

int ws_pings(const struct ws_client *w)
{
	return w->pings;
}
