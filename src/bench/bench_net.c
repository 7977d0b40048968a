/* bench_net.c - many non-blocking client connections on one epoll loop (bench_net.h). */
#include "bench_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define READ_BUF        (256 * 1024)
#define READS_PER_EVENT 2          /* then other connections get their turn */
#define MAX_EVENTS      1024
#define TIMER_TAG       ((void *)&timer_tag)

static const char timer_tag;

struct bnet {
	int ep, timer;
	struct sockaddr_in target;
	int nsrc;
	bool check_parser;
	struct bconn **conns;
	size_t n, cap;
	struct bconn **dirty;          /* connections with queued bytes */
	size_t ndirty, dirty_cap;
	char *rbuf;
	int64_t now_ns;
	const struct bnet_handler *h;
	void *ctx;
	struct bnet_counters cnt;
	char parser_error[512];
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fputs("pier-bench: out of memory\n", stderr);
		abort();
	}
	return q;
}

int64_t bnet_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bnet_now(const struct bnet *n)
{
	return n->now_ns;
}

const struct bnet_counters *bnet_counters(const struct bnet *n)
{
	return &n->cnt;
}

const char *bnet_parser_error(const struct bnet *n)
{
	return n->parser_error;
}

struct bnet *bnet_new(const char *host, int port, int nsrc, bool check_parser, char *err,
                      size_t errlen)
{
	struct bnet *n = calloc(1, sizeof(*n));
	struct epoll_event ev;

	if (n == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->ep = n->timer = -1;
	n->target.sin_family = AF_INET;
	n->target.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &n->target.sin_addr) != 1) {
		snprintf(err, errlen, "'%s' is not an IPv4 address", host);
		goto fail;
	}
	/* Several source addresses only make sense towards loopback. */
	n->nsrc = (ntohl(n->target.sin_addr.s_addr) >> 24) == 127 ? nsrc : 0;
	n->check_parser = check_parser;
	n->rbuf = malloc(READ_BUF);
	n->ep = epoll_create1(EPOLL_CLOEXEC);
	n->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (n->rbuf == NULL || n->ep < 0 || n->timer < 0) {
		snprintf(err, errlen, "epoll/timerfd: %s", strerror(errno));
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = TIMER_TAG;
	if (epoll_ctl(n->ep, EPOLL_CTL_ADD, n->timer, &ev) != 0) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	n->now_ns = bnet_clock();
	return n;
fail:
	bnet_free(n);
	return NULL;
}

void bnet_free(struct bnet *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		struct bconn *c = n->conns[i];

		bnet_close(c);
		pier_client_free(c->pc);
		free(c->in);
		free(c);
	}
	free(n->conns);
	free(n->dirty);
	free(n->rbuf);
	if (n->ep >= 0)
		close(n->ep);
	if (n->timer >= 0)
		close(n->timer);
	free(n);
}

size_t bnet_count(const struct bnet *n)
{
	return n->n;
}

struct bconn *bnet_conn(struct bnet *n, size_t i)
{
	return i < n->n ? n->conns[i] : NULL;
}

static int set_interest(struct bconn *c, uint32_t events)
{
	struct epoll_event ev;

	if (c->fd < 0 || c->interest == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(c->net->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		return -1;
	c->interest = events;
	return 0;
}

struct bconn *bnet_connect(struct bnet *n, void *udata, char *err, size_t errlen)
{
	struct bconn *c;
	struct epoll_event ev;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (n->nsrc > 0) {
		struct sockaddr_in src;

		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(n->n % (size_t)n->nsrc));
		/* The port is picked at connect time, per destination: no bind-time port shortage. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
			snprintf(err, errlen, "bind 127.0.0.x: %s", strerror(errno));
			close(fd);
			return NULL;
		}
	}
	if (connect(fd, (struct sockaddr *)&n->target, sizeof(n->target)) != 0 &&
	    errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	c->net = n;
	c->fd = fd;
	c->state = BCONN_CONNECTING;
	c->udata = udata;
	c->pc = pier_client_new(BNET_MAX_LINE);
	if (c->pc == NULL)
		abort();
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(n->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		close(fd);
		pier_client_free(c->pc);
		free(c);
		return NULL;
	}
	c->interest = ev.events;
	if (n->n == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 1024;
		n->conns = xrealloc(n->conns, n->cap * sizeof(*n->conns));
	}
	c->idx = (uint32_t)n->n;
	n->conns[n->n++] = c;
	return c;
}

void bnet_close(struct bconn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(c->net->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->state = BCONN_CLOSED;
}

/* The peer closed or an error happened: close and tell the scenario. */
static void lose(struct bconn *c, const char *why)
{
	struct bnet *n = c->net;

	if (c->state == BCONN_CLOSED)
		return;
	bnet_close(c);
	if (n->h != NULL && n->h->on_close != NULL)
		n->h->on_close(n->ctx, c, why);
}

static void mark_dirty(struct bconn *c)
{
	struct bnet *n = c->net;

	if (c->dirty || c->state == BCONN_CLOSED)
		return;
	if (n->ndirty == n->dirty_cap) {
		n->dirty_cap = n->dirty_cap ? n->dirty_cap * 2 : 1024;
		n->dirty = xrealloc(n->dirty, n->dirty_cap * sizeof(*n->dirty));
	}
	n->dirty[n->ndirty++] = c;
	c->dirty = true;
}

int bnet_request(struct bconn *c, json_t *req)
{
	if (pier_client_request(c->pc, req, NULL) != 0)
		return -1;
	mark_dirty(c);
	return 0;
}

void bnet_queue_raw(struct bconn *c, const char *data, size_t len)
{
	pier_client_queue_raw(c->pc, data, len);
	mark_dirty(c);
}

/* Writes what the socket takes; waits for EPOLLOUT when it takes less. */
static void flush_conn(struct bconn *c)
{
	struct bnet *n = c->net;
	const char *data;
	size_t len;

	if (c->state != BCONN_OPEN)
		return;              /* a connecting one is flushed when it opens */
	for (;;) {
		ssize_t w;

		len = pier_client_pending(c->pc, &data);
		if (len == 0)
			break;
		w = write(c->fd, data, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			lose(c, strerror(errno));
			return;
		}
		n->cnt.bytes_out += (uint64_t)w;
		n->cnt.writes++;
		pier_client_consume(c->pc, (size_t)w);
	}
	if (set_interest(c, len > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN) != 0)
		lose(c, "epoll_ctl failed");
}

static void flush_dirty(struct bnet *n)
{
	/* flush_conn may not add to the list (it never queues), so a plain walk is safe. */
	for (size_t i = 0; i < n->ndirty; i++) {
		struct bconn *c = n->dirty[i];

		c->dirty = false;
		flush_conn(c);
	}
	n->ndirty = 0;
}

static bool str_matches(struct bline_str s, const json_t *v)
{
	const char *z = json_string_value(v);

	if (s.p == NULL)
		return v == NULL;
	return z != NULL && strlen(z) == s.len && memcmp(z, s.p, s.len) == 0;
}

static bool int_matches(int64_t v, const json_t *j)
{
	return v < 0 ? j == NULL : json_is_integer(j) && json_integer_value(j) == v;
}

/* --check-parser: the fast reader and jansson must agree on every field the bench uses. */
static void check_line(struct bnet *n, const char *line, size_t len, const struct bline *ev)
{
	static const char *const ops[] = { "msg", "sent", "presence", "member", "users", "pong" };
	json_t *j = json_loadb(line, len, 0, NULL);
	bool ok;

	n->cnt.parser_checked++;
	ok = j != NULL && json_is_object(j) &&
	     strcmp(pier_event_op(j), ops[ev->op]) == 0 &&
	     int_matches(ev->id, json_object_get(j, "id")) &&
	     int_matches(ev->ts, json_object_get(j, "ts")) &&
	     str_matches(ev->from, json_object_get(j, "from")) &&
	     str_matches(ev->to, json_object_get(j, "to")) &&
	     str_matches(ev->text, json_object_get(j, "text")) &&
	     str_matches(ev->ref, json_object_get(j, "ref")) &&
	     str_matches(ev->user, json_object_get(j, "user")) &&
	     ev->duplicate == json_is_true(json_object_get(j, "duplicate")) &&
	     ev->offline == json_is_true(json_object_get(j, "offline"));
	if (ok && (ev->op == BLINE_PRESENCE || ev->op == BLINE_MEMBER))
		ok = ev->flag == json_is_true(json_object_get(j, ev->op == BLINE_PRESENCE ? "online"
		                                                                          : "joined"));
	if (!ok) {
		if (n->cnt.parser_mismatches++ == 0)
			snprintf(n->parser_error, sizeof(n->parser_error),
			         "fast reader and jansson disagree on: %.*s", (int)(len < 400 ? len : 400),
			         line);
	}
	json_decref(j);
}

static void handle_line(struct bconn *c, const char *line, size_t len)
{
	struct bnet *n = c->net;
	struct bline ev;
	json_t *j;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	c->lines++;
	n->cnt.lines_in++;
	if (bline_parse(line, len, &ev) == 0) {
		n->cnt.fast_lines++;
		if (n->check_parser)
			check_line(n, line, len, &ev);
		if (n->h->on_fast != NULL)
			n->h->on_fast(n->ctx, c, &ev);
		return;
	}
	n->cnt.slow_lines++;
	if (pier_client_feed(c->pc, line, len) != 0 || pier_client_feed(c->pc, "\n", 1) != 0) {
		lose(c, "protocol error: the server sent a line that is not a JSON object");
		return;
	}
	while (c->state != BCONN_CLOSED && (j = pier_client_next(c->pc)) != NULL) {
		if (n->h->on_json != NULL)
			n->h->on_json(n->ctx, c, j);
		json_decref(j);
	}
}

/* Splits data into lines; the last partial line waits in c->in. */
static void feed(struct bconn *c, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	if (c->in_len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - data) : len;

		if (c->in_len + take > BNET_MAX_LINE) {
			lose(c, "protocol error: a line over the bench's line limit");
			return;
		}
		if (c->in_len + take > c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap : 4096;

			while (cap < c->in_len + take)
				cap *= 2;
			c->in = xrealloc(c->in, cap);
			c->in_cap = cap;
		}
		memcpy(c->in + c->in_len, data, take);
		c->in_len += take;
		if (nl == NULL)
			return;
		handle_line(c, c->in, c->in_len);
		c->in_len = 0;
		if (c->in_cap > 65536) {       /* give back what a long line took */
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
		p = nl + 1;
	}
	while (p < end && c->state != BCONN_CLOSED) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL) {
			size_t rest = (size_t)(end - p);

			if (rest > c->in_cap) {
				size_t cap = 4096;

				while (cap < rest)
					cap *= 2;
				c->in = xrealloc(c->in, cap);
				c->in_cap = cap;
			}
			memcpy(c->in, p, rest);
			c->in_len = rest;
			return;
		}
		handle_line(c, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

static void on_readable(struct bconn *c)
{
	struct bnet *n = c->net;

	for (int i = 0; i < READS_PER_EVENT && c->state == BCONN_OPEN; i++) {
		ssize_t r = read(c->fd, n->rbuf, READ_BUF);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				lose(c, strerror(errno));
			return;
		}
		if (r == 0) {
			lose(c, "closed by the server");
			return;
		}
		n->now_ns = bnet_clock();
		n->cnt.reads++;
		n->cnt.bytes_in += (uint64_t)r;
		feed(c, n->rbuf, (size_t)r);
		if ((size_t)r < READ_BUF)
			return;
	}
}

static void on_connected(struct bconn *c)
{
	struct bnet *n = c->net;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		soerr = errno;
	if (soerr != 0) {
		char why[128];

		snprintf(why, sizeof(why), "connect: %s", strerror(soerr));
		lose(c, why);
		return;
	}
	c->state = BCONN_OPEN;
	if (n->h->on_open != NULL)
		n->h->on_open(n->ctx, c);
	if (c->state == BCONN_OPEN)
		flush_conn(c);
}

static void on_timer(struct bnet *n)
{
	uint64_t ticks = 0;

	if (read(n->timer, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
		return;
	n->now_ns = bnet_clock();
	if (n->h->on_tick != NULL)
		n->h->on_tick(n->ctx, ticks);
}

int bnet_ticker(struct bnet *n, int64_t interval_ns)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (interval_ns > 0) {
		its.it_interval.tv_sec = interval_ns / 1000000000;
		its.it_interval.tv_nsec = interval_ns % 1000000000;
		its.it_value = its.it_interval;
	}
	return timerfd_settime(n->timer, 0, &its, NULL);
}

int bnet_run(struct bnet *n, const struct bnet_handler *h, void *ctx, bool (*done)(void *ctx),
             int64_t deadline_ns)
{
	struct epoll_event evs[MAX_EVENTS];
	int rc = -1;

	n->h = h;
	n->ctx = ctx;
	for (;;) {
		int64_t now;
		int nev, wait_ms;

		flush_dirty(n);
		if (done(ctx)) {
			rc = 0;
			break;
		}
		now = bnet_clock();
		n->now_ns = now;
		if (now >= deadline_ns)
			break;
		wait_ms = (int)((deadline_ns - now) / 1000000) + 1;
		if (wait_ms > 100)
			wait_ms = 100;
		nev = epoll_wait(n->ep, evs, MAX_EVENTS, wait_ms);
		if (nev < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n->now_ns = bnet_clock();
		for (int i = 0; i < nev; i++) {
			struct bconn *c = evs[i].data.ptr;
			uint32_t e = evs[i].events;

			if (evs[i].data.ptr == TIMER_TAG) {
				on_timer(n);
				continue;
			}
			if (c->state == BCONN_CLOSED)
				continue;
			if (c->state == BCONN_CONNECTING) {
				if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
					on_connected(c);
				continue;
			}
			if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_readable(c);
			if (c->state == BCONN_OPEN && (e & EPOLLOUT))
				flush_conn(c);
		}
	}
	n->h = NULL;
	n->ctx = NULL;
	return rc;
}
