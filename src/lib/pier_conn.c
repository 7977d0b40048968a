/* pier_conn.c - libpier's blocking connection: a TCP socket, with or without TLS, driven by
 * poll(2) around the protocol core, for tools, tests and the terminal client.
 *
 * The socket is non-blocking from the start; "blocking" calls wait in poll(2) up to a
 * deadline on the monotonic clock. Every event read is moved from the core into one queue,
 * the kept list, so pier_conn_call and pier_conn_wait_op can take one from the middle while
 * the others stay in order for pier_conn_next.
 *
 * TLS: OpenSSL over the same non-blocking socket, through a small BIO that sends with
 * MSG_NOSIGNAL (a closed peer must not SIGPIPE the program). WANT_READ / WANT_WRITE are
 * "would block"; decrypted bytes OpenSSL still holds are read before waiting in poll.
 */
#include "pier.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"

#define READ_CHUNK   (16 * 1024)
#define READ_ROUNDS  16          /* chunks per read_some, so one busy peer cannot starve us */

struct kept {
	json_t *ev;
	struct kept *next;
};

struct pier_conn {
	int fd;
	SSL_CTX *tls_ctx;            /* TLS: NULL for a plain connection */
	SSL *ssl;
	BIO_METHOD *bio_method;
	bool closed;                 /* EOF, socket error or protocol break: no more I/O */
	struct pier_client *client;
	struct kept *head, *tail;
};

typedef bool match_fn(const json_t *ev, const void *arg);

static void set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(char **err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	*err = strdup(buf);
}

/* -1: no deadline (wait without limit). */
static int64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : pier_mono_ms() + timeout_ms;
}

static bool deadline_passed(int64_t deadline)
{
	return deadline >= 0 && pier_mono_ms() >= deadline;
}

/* Milliseconds left for poll(2): -1 without a deadline. */
static int remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - pier_mono_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* ---- connecting ---- */

/* One address: a non-blocking connect waited for until deadline. The fd, or -1 with errno. */
static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
	int fd, flags, soerr = 0, one = 1;
	socklen_t len = sizeof soerr;

	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		return -1;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int n;

		if (errno != EINPROGRESS)
			goto fail;
		do {
			n = poll(&p, 1, remaining_ms(deadline));
		} while (n < 0 && errno == EINTR);
		if (n == 0)
			errno = ETIMEDOUT;
		if (n <= 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	/* Requests are small lines; do not let Nagle hold them back. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

/* A connected socket to host:port within deadline, or -1 with *err set. */
static int open_socket(const char *host, const char *port, int64_t deadline, char **err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int fd = -1, rc, saved = ECONNREFUSED;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		set_err(err, "%s port %s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd < 0)
			saved = errno;
		if (fd < 0 && deadline_passed(deadline))
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		set_err(err, "cannot connect to %s port %s: %s", host, port, strerror(saved));
	return fd;
}

static struct pier_conn *conn_new(int fd, char **err)
{
	struct pier_conn *conn = calloc(1, sizeof *conn);

	if (conn != NULL)
		conn->client = pier_client_new(0);
	if (conn == NULL || conn->client == NULL) {
		set_err(err, "out of memory");
		free(conn);
		close(fd);
		return NULL;
	}
	conn->fd = fd;
	return conn;
}

struct pier_conn *pier_conn_open(const char *host, const char *port, int timeout_ms, char **err)
{
	int fd;

	if (err != NULL)
		*err = NULL;
	fd = open_socket(host, port, deadline_after(timeout_ms), err);
	return fd < 0 ? NULL : conn_new(fd, err);
}

/* ---- TLS ---- */

static int bio_fd(BIO *b)
{
	return (int)(intptr_t)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *data, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = send(bio_fd(b), data, (size_t)len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return (int)n;
}

static int bio_read(BIO *b, char *data, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = recv(bio_fd(b), data, (size_t)len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Why the handshake failed, for people. */
static void tls_err(struct pier_conn *conn, char **err, const char *host)
{
	long v = SSL_get_verify_result(conn->ssl);
	char buf[256];

	if (v != X509_V_OK) {
		set_err(err, "TLS: the certificate of %s does not verify: %s (pin it with --ca-file, "
		        "or --insecure for tests)", host, X509_verify_cert_error_string(v));
		return;
	}
	if (ERR_peek_last_error() != 0) {
		ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
		set_err(err, "TLS handshake with %s failed: %s", host, buf);
	} else {
		set_err(err, "TLS handshake with %s failed (is it a TLS port?)", host);
	}
}

/* Sets up TLS on conn and shakes hands until deadline. 0, or -1 with *err set. */
static int tls_start(struct pier_conn *conn, const char *host, const struct pier_tls_options *opt,
                     int64_t deadline, char **err)
{
	const char *name = opt->server_name != NULL ? opt->server_name : host;
	BIO *bio;

	ERR_clear_error();
	conn->tls_ctx = SSL_CTX_new(TLS_client_method());
	if (conn->tls_ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(conn->tls_ctx, TLS1_2_VERSION);
	/* The core's output buffer may move and grow between a WANT_WRITE and the retry. */
	SSL_CTX_set_mode(conn->tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                                SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (opt->insecure) {
		SSL_CTX_set_verify(conn->tls_ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(conn->tls_ctx, SSL_VERIFY_PEER, NULL);
		if (opt->ca_file != NULL) {
			if (SSL_CTX_load_verify_locations(conn->tls_ctx, opt->ca_file, NULL) != 1) {
				set_err(err, "cannot read certificates from %s", opt->ca_file);
				return -1;
			}
			/* A pinned certificate is trusted by itself, CA or not. */
			X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(conn->tls_ctx),
			                            X509_V_FLAG_PARTIAL_CHAIN);
		} else if (SSL_CTX_set_default_verify_paths(conn->tls_ctx) != 1) {
			goto fail;
		}
	}
	conn->ssl = SSL_new(conn->tls_ctx);
	conn->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pier socket");
	if (conn->ssl == NULL || conn->bio_method == NULL ||
	    BIO_meth_set_write(conn->bio_method, bio_write) != 1 ||
	    BIO_meth_set_read(conn->bio_method, bio_read) != 1 ||
	    BIO_meth_set_ctrl(conn->bio_method, bio_ctrl) != 1 ||
	    BIO_meth_set_create(conn->bio_method, bio_create) != 1)
		goto fail;
	bio = BIO_new(conn->bio_method);
	if (bio == NULL)
		goto fail;
	BIO_set_data(bio, (void *)(intptr_t)conn->fd);
	SSL_set_bio(conn->ssl, bio, bio);
	if (!is_ip_literal(name))
		SSL_set_tlsext_host_name(conn->ssl, name);
	if (!opt->insecure) {
		int ok = is_ip_literal(name) ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl), name)
		                             : SSL_set1_host(conn->ssl, name);

		if (ok != 1)
			goto fail;
	}
	for (;;) {
		struct pollfd p = { .fd = conn->fd };
		int r, e, n;

		ERR_clear_error();
		r = SSL_connect(conn->ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(conn->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else {
			tls_err(conn, err, name);
			return -1;
		}
		do {
			n = poll(&p, 1, remaining_ms(deadline));
		} while (n < 0 && errno == EINTR);
		if (n <= 0) {
			set_err(err, "TLS handshake with %s: %s", name, n == 0 ? "timed out" : strerror(errno));
			return -1;
		}
	}
fail:
	tls_err(conn, err, name);
	return -1;
}

struct pier_conn *pier_conn_open_tls(const char *host, const char *port, int timeout_ms,
                                     const struct pier_tls_options *opt, char **err)
{
	static const struct pier_tls_options defaults = { 0 };
	int64_t deadline = deadline_after(timeout_ms);
	struct pier_conn *conn;
	int fd;

	if (err != NULL)
		*err = NULL;
	fd = open_socket(host, port, deadline, err);
	if (fd < 0)
		return NULL;
	conn = conn_new(fd, err);
	if (conn == NULL)
		return NULL;
	if (tls_start(conn, host, opt != NULL ? opt : &defaults, deadline, err) != 0) {
		pier_conn_close(conn);
		return NULL;
	}
	return conn;
}

void pier_conn_close(struct pier_conn *conn)
{
	if (conn == NULL)
		return;
	while (conn->head != NULL) {
		struct kept *k = conn->head;

		conn->head = k->next;
		json_decref(k->ev);
		free(k);
	}
	if (conn->ssl != NULL) {
		ERR_clear_error();
		if (!conn->closed)
			SSL_shutdown(conn->ssl);     /* close_notify, not waiting for the answer */
		SSL_free(conn->ssl);
		ERR_clear_error();
	}
	SSL_CTX_free(conn->tls_ctx);
	BIO_meth_free(conn->bio_method);
	close(conn->fd);
	pier_client_free(conn->client);
	free(conn);
}

int pier_conn_fd(const struct pier_conn *conn)
{
	return conn->fd;
}

struct pier_client *pier_conn_client(struct pier_conn *conn)
{
	return conn->client;
}

/* ---- moving bytes ---- */

/* Moves the core's parsed events to the end of the kept list. */
static void collect(struct pier_conn *conn)
{
	json_t *ev;

	while ((ev = pier_client_next(conn->client)) != NULL) {
		struct kept *k = malloc(sizeof *k);

		if (k == NULL) {
			fputs("libpier: out of memory\n", stderr);
			abort();
		}
		k->ev = ev;
		k->next = NULL;
		if (conn->tail != NULL)
			conn->tail->next = k;
		else
			conn->head = k;
		conn->tail = k;
	}
}

/* recv(2) or SSL_read: bytes, 0 at the end, -1 with errno (EAGAIN: nothing now). */
static ssize_t conn_recv(struct pier_conn *conn, char *buf, size_t len)
{
	int r, e;

	if (conn->ssl == NULL)
		return recv(conn->fd, buf, len, 0);
	ERR_clear_error();
	r = SSL_read(conn->ssl, buf, (int)len);
	if (r > 0)
		return r;
	e = SSL_get_error(conn->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = EPROTO;
	return -1;
}

/* send(2) without SIGPIPE, or SSL_write: bytes taken, -1 with errno (EAGAIN: none now). */
static ssize_t conn_send(struct pier_conn *conn, const char *data, size_t len)
{
	int r, e;

	if (conn->ssl == NULL)
		return send(conn->fd, data, len, MSG_NOSIGNAL);
	ERR_clear_error();
	r = SSL_write(conn->ssl, data, (int)(len > INT_MAX ? INT_MAX : len));
	if (r > 0)
		return r;
	e = SSL_get_error(conn->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	errno = EPIPE;
	return -1;
}

/* Decrypted bytes OpenSSL holds: readable without the socket being readable. */
static bool tls_pending(const struct pier_conn *conn)
{
	return conn->ssl != NULL && SSL_pending(conn->ssl) > 0;
}

/* Reads what has arrived, without waiting. Marks the connection closed on EOF, on an error
 * or when the server breaks the protocol. */
static void read_some(struct pier_conn *conn)
{
	char buf[READ_CHUNK];

	for (int round = 0; (round < READ_ROUNDS || tls_pending(conn)) && !conn->closed; round++) {
		ssize_t n = conn_recv(conn, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0 || pier_client_feed(conn->client, buf, (size_t)n) != 0)
			conn->closed = true;
		if (n < (ssize_t)sizeof buf && !tls_pending(conn) && conn->ssl == NULL)
			break;
	}
	collect(conn);
}

/* Sends what the socket takes, without waiting. MSG_NOSIGNAL: a closed peer is an error
 * here, never a SIGPIPE for the whole program. */
static void write_some(struct pier_conn *conn)
{
	const char *data;
	size_t len;

	while (!conn->closed && (len = pier_client_pending(conn->client, &data)) > 0) {
		ssize_t n = conn_send(conn, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn->closed = true;
			break;
		}
		pier_client_consume(conn->client, (size_t)n);
	}
}

/* One poll round until deadline: sends and reads what it can. 0 on timeout, else 1. */
static int io_wait(struct pier_conn *conn, int64_t deadline)
{
	struct pollfd p = { .fd = conn->fd, .events = POLLIN };
	const char *data;
	int n;

	if (tls_pending(conn)) {
		read_some(conn);
		return 1;
	}
	if (pier_client_pending(conn->client, &data) > 0)
		p.events |= POLLOUT;
	n = poll(&p, 1, remaining_ms(deadline));
	if (n < 0) {
		if (errno != EINTR)
			conn->closed = true;
		return 1;
	}
	if (n == 0)
		return 0;
	if (p.revents & POLLOUT)
		write_some(conn);
	if (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
		read_some(conn);
	return 1;
}

int pier_conn_pump(struct pier_conn *conn)
{
	if (!conn->closed) {
		write_some(conn);
		read_some(conn);
	}
	return conn->closed ? -1 : 0;
}

/* Sends everything queued, reading meanwhile (a peer blocked on its own writes to us would
 * otherwise never read ours). 0, or -1 on failure or at the deadline; a line cut in two
 * cannot be taken back, so a timeout closes the connection. */
static int flush(struct pier_conn *conn, int64_t deadline)
{
	const char *data;

	write_some(conn);
	while (!conn->closed && pier_client_pending(conn->client, &data) > 0) {
		if (io_wait(conn, deadline) == 0 && deadline_passed(deadline))
			conn->closed = true;
	}
	return conn->closed ? -1 : 0;
}

int pier_conn_send(struct pier_conn *conn, json_t *req, char ref_out[PIER_REF_MAX])
{
	if (conn->closed) {
		json_decref(req);
		if (ref_out != NULL)
			ref_out[0] = '\0';
		return -1;
	}
	if (pier_client_request(conn->client, req, ref_out) != 0)
		return -1;
	return flush(conn, deadline_after(PIER_CONN_SEND_TIMEOUT_MS));
}

int pier_conn_send_raw(struct pier_conn *conn, const void *data, size_t len)
{
	if (conn->closed)
		return -1;
	pier_client_queue_raw(conn->client, data, len);
	return flush(conn, deadline_after(PIER_CONN_SEND_TIMEOUT_MS));
}

/* ---- waiting for events ---- */

/* Removes and returns the first kept event that matches (all of them with match NULL). */
static json_t *take_first(struct pier_conn *conn, match_fn *match, const void *arg)
{
	struct kept *prev = NULL;

	for (struct kept *k = conn->head; k != NULL; prev = k, k = k->next) {
		json_t *ev = k->ev;

		if (match != NULL && !match(ev, arg))
			continue;
		if (prev != NULL)
			prev->next = k->next;
		else
			conn->head = k->next;
		if (conn->tail == k)
			conn->tail = prev;
		free(k);
		return ev;
	}
	return NULL;
}

/* The first event that matches, reading until deadline. At least one read is tried, so a
 * zero timeout still sees what has already arrived. */
static json_t *wait_for(struct pier_conn *conn, match_fn *match, const void *arg, int64_t deadline)
{
	for (bool tried = false;; tried = true) {
		json_t *ev = take_first(conn, match, arg);

		if (ev != NULL)
			return ev;
		if (conn->closed || (tried && deadline_passed(deadline)))
			return NULL;
		if (io_wait(conn, deadline) == 0 && tried)
			return NULL;
	}
}

static bool match_ref(const json_t *ev, const void *ref)
{
	return json_equal(json_object_get(ev, "ref"), ref);
}

static bool match_op(const json_t *ev, const void *op)
{
	return strcmp(pier_event_op(ev), op) == 0;
}

json_t *pier_conn_call(struct pier_conn *conn, json_t *req, int timeout_ms)
{
	int64_t deadline = deadline_after(timeout_ms);
	json_t *ref = NULL, *reply = NULL;
	int rc;

	if (conn->closed || !json_is_object(req)) {
		json_decref(req);
		return NULL;
	}
	/* Hold req a little longer: the core adds its "ref", which the reply must carry. */
	json_incref(req);
	rc = pier_client_request(conn->client, req, NULL);
	if (rc == 0)
		ref = json_incref(json_object_get(req, "ref"));
	json_decref(req);
	if (rc != 0 || flush(conn, deadline) != 0)
		goto out;
	reply = wait_for(conn, match_ref, ref, deadline);
out:
	json_decref(ref);
	return reply;
}

json_t *pier_conn_next(struct pier_conn *conn, int timeout_ms)
{
	return wait_for(conn, NULL, NULL, deadline_after(timeout_ms));
}

json_t *pier_conn_wait_op(struct pier_conn *conn, const char *op, int timeout_ms)
{
	return wait_for(conn, match_op, op, deadline_after(timeout_ms));
}

bool pier_conn_is_closed(struct pier_conn *conn)
{
	if (!conn->closed)
		read_some(conn);
	return conn->closed && conn->head == NULL;
}
