/* attack.h - helpers of the byte-layer adversarial tests (tests/adversarial/test_*.c): raw
 * loopback sockets with a chosen receive buffer, bounded floods, and the measures a test
 * asserts on (pierd's resident memory, its open descriptors, a bystander still served).
 *
 * Header only (static functions), so that every test program stays one file plus the
 * harness. Every wait is bounded by the timeout given.
 */
#ifndef PIER_ATTACK_H
#define PIER_ATTACK_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "harness.h"
#include "netclient.h"

static inline int64_t atk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ASan keeps freed memory in a quarantine (256 MiB by default), which would count as growth:
 * keep it small for the pierd the test starts. Call before pierd_start. */
static inline void atk_small_quarantine(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char buf[512];

	snprintf(buf, sizeof(buf), "%s%squarantine_size_mb=8:thread_local_quarantine_size_kb=64",
	         old ? old : "", old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", buf, 1);
}

/* pierd's resident set in KiB (VmRSS), -1 if unknown. */
static inline long atk_rss_kib(int pid)
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

/* pierd's open descriptors, -1 if unknown. */
static inline int atk_fd_count(int pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

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

/* Waits (up to timeout_ms) until pierd's descriptors are at most want; returns the last
 * count. */
static inline int atk_wait_fds(int pid, int want, int timeout_ms)
{
	int64_t end = atk_now_ms() + timeout_ms;
	int n = atk_fd_count(pid);

	while (n > want && atk_now_ms() < end) {
		usleep(50 * 1000);
		n = atk_fd_count(pid);
	}
	return n;
}

/* A blocking TCP socket to 127.0.0.1:port whose receive buffer is rcvbuf bytes (0: the
 * default), set before connecting so that the window stays small. -1 on failure. */
static inline int atk_connect(int port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends all of data within timeout_ms. 0, or -1 (timeout or error). */
static inline int atk_send_all(int fd, const void *data, size_t len, int timeout_ms)
{
	const char *p = data;
	int64_t end = atk_now_ms() + timeout_ms;

	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t n;
		int left = (int)(end - atk_now_ms());

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return -1;
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends unit again and again, without reading, until max_bytes went out, duration_ms passed,
 * or the peer closed. Returns the bytes sent. *closed (may be NULL) says whether a send
 * failed (the server dropped us). */
static inline size_t atk_flood(int fd, const void *unit, size_t unit_len, size_t max_bytes,
                               int duration_ms, bool *closed)
{
	char buf[64 * 1024];
	size_t per = sizeof(buf) / unit_len, sent = 0;
	int64_t end = atk_now_ms() + duration_ms;

	for (size_t i = 0; i < per; i++)
		memcpy(buf + i * unit_len, unit, unit_len);
	if (closed != NULL)
		*closed = false;
	while (sent < max_bytes && atk_now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		size_t off = sent % (per * unit_len);
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = send(fd, buf + off, per * unit_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			if (closed != NULL)
				*closed = true;
			break;
		}
		sent += (size_t)n;
	}
	return sent;
}

/* Reads and drops until the peer closes (read 0 or a reset): true, or false after
 * timeout_ms. */
static inline bool atk_wait_closed(int fd, int timeout_ms)
{
	char buf[16 * 1024];
	int64_t end = atk_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)(end - atk_now_ms());
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
}

/* Reads until the buffer holds needle (true) or timeout_ms (false); what was read is in
 * buf (NUL-terminated, cut at cap - 1). */
static inline bool atk_read_until(int fd, const char *needle, char *buf, size_t cap,
                                  int timeout_ms)
{
	size_t len = 0;
	int64_t end = atk_now_ms() + timeout_ms;

	buf[0] = '\0';
	while (strstr(buf, needle) == NULL) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)(end - atk_now_ms());
		ssize_t n;

		if (left <= 0 || len + 1 >= cap)
			return false;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return true;
}

/* A bystander is served: a fresh GET /healthz answers 200 and a new user logs in on the JSON
 * port. */
static inline bool atk_bystander_ok(struct pierd *pd)
{
	struct http_reply r = {0};
	struct pier_conn *c;
	char user[HARNESS_NAME_MAX];
	bool ok;

	http_exchange(pierd_http_port(pd), NULL, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	ok = CHECK(r.status == 200, "bystander: /healthz answers 200 (got %d)", r.status);
	http_reply_free(&r);
	c = client_new_user(pd, "bystander", user);
	ok = CHECK(c != NULL, "bystander: a new user logs in on the JSON port") && ok;
	if (c != NULL)
		pier_conn_close(c);
	return ok;
}

#endif
