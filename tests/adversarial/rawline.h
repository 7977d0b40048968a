/* rawline.h - a raw JSON-lines client for the adversarial tests: a plain socket on loopback
 * that the test drives byte by byte (write without reading, stop reading, half-close), with
 * every wait bounded; and the pierd process figures the tests assert on (RSS, descriptors).
 * Header-only: each adversarial test is one program (tests/CMakeLists.txt). */
#ifndef PIER_RAWLINE_H
#define PIER_RAWLINE_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

struct rawline {
	int fd;
	char *buf;                  /* received, not yet taken as lines */
	size_t len, cap;
	int eof;                    /* the server closed its side */
};

static inline long long raw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connection to 127.0.0.1:port with a receive buffer of rcvbuf bytes (0: the system's), or
 * NULL. A small one makes a slow reader: pierd's output waits in pierd, not in the kernel. */
static inline struct rawline *raw_connect_rcvbuf(int port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct rawline *r = calloc(1, sizeof(*r));

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (r->fd >= 0 && rcvbuf > 0)
		setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (r->fd >= 0)
			close(r->fd);
		free(r);
		return NULL;
	}
	return r;
}

/* A connection to 127.0.0.1:port, or NULL. */
static inline struct rawline *raw_connect(int port)
{
	return raw_connect_rcvbuf(port, 0);
}

static inline void raw_free(struct rawline *r)
{
	if (r == NULL)
		return;
	close(r->fd);
	free(r->buf);
	free(r);
}

/* Sends everything (blocking): 0, or -1. */
static inline int raw_send(struct rawline *r, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = send(r->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends j (taken) as one line. */
static inline int raw_send_json(struct rawline *r, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int rc;

	json_decref(j);
	if (s == NULL)
		return -1;
	rc = raw_send(r, s, strlen(s));
	if (rc == 0)
		rc = raw_send(r, "\n", 1);
	free(s);
	return rc;
}

/* Reads what arrives within timeout_ms: bytes read, 0 at the end, -1 on timeout or error. */
static inline int raw_read(struct rawline *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	ssize_t n;

	if (r->eof)
		return 0;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	if (r->cap - r->len < 65536) {
		r->cap = r->cap ? r->cap * 2 : 262144;
		r->buf = realloc(r->buf, r->cap);
	}
	n = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
	if (n <= 0) {
		r->eof = 1;
		return 0;
	}
	r->len += (size_t)n;
	return (int)n;
}

/* The next complete line as JSON (NULL when there is none in the buffer; a line that is not
 * JSON becomes {"op":"?"}). */
static inline json_t *raw_take(struct rawline *r)
{
	char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
	json_t *j;
	size_t n;

	if (nl == NULL)
		return NULL;
	n = (size_t)(nl - r->buf);
	j = json_loadb(r->buf, n, 0, NULL);
	memmove(r->buf, nl + 1, r->len - n - 1);
	r->len -= n + 1;
	return j != NULL ? j : json_pack("{s:s}", "op", "?");
}

/* The next line within timeout_ms, or NULL (timeout or end). */
static inline json_t *raw_next(struct rawline *r, int timeout_ms)
{
	long long end = raw_now_ms() + timeout_ms;
	json_t *j;

	while ((j = raw_take(r)) == NULL) {
		long long left = end - raw_now_ms();

		if (left <= 0 || raw_read(r, (int)left) <= 0)
			return raw_take(r);
	}
	return j;
}

/* Skips lines until one with op (returned) within timeout_ms; NULL if none came. */
static inline json_t *raw_wait_op(struct rawline *r, const char *op, int timeout_ms)
{
	long long end = raw_now_ms() + timeout_ms;

	for (;;) {
		long long left = end - raw_now_ms();
		json_t *j = raw_next(r, left > 0 ? (int)left : 0);
		const char *o = j ? json_string_value(json_object_get(j, "op")) : NULL;

		if (j == NULL)
			return NULL;
		if (o != NULL && strcmp(o, op) == 0)
			return j;
		json_decref(j);
	}
}

/* Logs in by password (token NULL) or token; returns the login reply (status 1) or NULL. */
static inline json_t *raw_login(struct rawline *r, const char *user, const char *password,
                                const char *token)
{
	json_t *req = token ? json_pack("{s:s, s:s}", "op", "login", "token", token)
	                    : json_pack("{s:s, s:s, s:s}", "op", "login", "user", user, "password",
	                                password);
	json_t *rep;

	if (raw_send_json(r, req) != 0)
		return NULL;
	rep = raw_wait_op(r, "login", 10000);
	if (rep != NULL && json_integer_value(json_object_get(rep, "status")) != 1) {
		json_decref(rep);
		return NULL;
	}
	return rep;
}

/* pierd's resident set in KiB (VmRSS), or -1. */
static inline long proc_rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* pierd's open descriptors, or -1. */
static inline int proc_fd_count(int pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

#endif
