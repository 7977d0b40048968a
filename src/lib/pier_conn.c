/* pier_conn.c - libpier's blocking connection: a TCP socket driven by poll(2) around the
 * protocol core, for tools, tests and the terminal client.
 *
 * The socket is non-blocking from the start; "blocking" calls wait in poll(2) up to a
 * deadline on the monotonic clock. Every event read is moved from the core into one queue,
 * the kept list, so pier_conn_call and pier_conn_wait_op can take one from the middle while
 * the others stay in order for pier_conn_next.
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

#include "clock.h"

#define READ_CHUNK   (16 * 1024)
#define READ_ROUNDS  16          /* chunks per read_some, so one busy peer cannot starve us */

struct kept {
	json_t *ev;
	struct kept *next;
};

struct pier_conn {
	int fd;
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

struct pier_conn *pier_conn_open(const char *host, const char *port, int timeout_ms, char **err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	struct pier_conn *conn = NULL;
	int64_t deadline = deadline_after(timeout_ms);
	int fd = -1, rc, saved = ECONNREFUSED;

	if (err != NULL)
		*err = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		set_err(err, "%s port %s: %s", host, port, gai_strerror(rc));
		goto out;
	}
	for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd < 0)
			saved = errno;
		if (fd < 0 && deadline_passed(deadline))
			break;
	}
	if (fd < 0) {
		set_err(err, "cannot connect to %s port %s: %s", host, port, strerror(saved));
		goto out;
	}
	conn = calloc(1, sizeof *conn);
	if (conn != NULL)
		conn->client = pier_client_new(0);
	if (conn == NULL || conn->client == NULL) {
		set_err(err, "out of memory");
		free(conn);
		conn = NULL;
		close(fd);
		goto out;
	}
	conn->fd = fd;
out:
	if (res != NULL)
		freeaddrinfo(res);
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

/* Reads what has arrived, without waiting. Marks the connection closed on EOF, on an error
 * or when the server breaks the protocol. */
static void read_some(struct pier_conn *conn)
{
	char buf[READ_CHUNK];

	for (int round = 0; round < READ_ROUNDS && !conn->closed; round++) {
		ssize_t n = recv(conn->fd, buf, sizeof buf, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0 || pier_client_feed(conn->client, buf, (size_t)n) != 0)
			conn->closed = true;
		if (n < (ssize_t)sizeof buf)
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
		ssize_t n = send(conn->fd, data, len, MSG_NOSIGNAL);

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
