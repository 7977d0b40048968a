/* cluster_bus.c - the NATS connection on pierd's loop (cluster_bus.h). libnats' threads only
 * queue what they hear; the loop hands it on. */
#include "cluster_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libnats' libuv adapter is a header of static functions, written for C99 without our
 * warning set: it is compiled here as it is. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <nats/adapters/libuv.h>
#pragma GCC diagnostic pop

#include "log.h"
#include "xalloc.h"

#define SUBJECT_MAX   128
#define MARKER        "\x01sync "        /* this node's own marker on its inbox */
#define URLS_MAX      16

static const char *const subject_names[CLUSTER_SUBJECTS] = {
	[CLUSTER_SUBJ_MSG] = "msg", [CLUSTER_SUBJ_CHANGE] = "change", [CLUSTER_SUBJ_ENV] = "env",
	[CLUSTER_SUBJ_EVENT] = "event", [CLUSTER_SUBJ_PRESENCE] = "presence",
	[CLUSTER_SUBJ_HB] = "hb", [CLUSTER_SUBJ_HELLO] = "hello", [CLUSTER_SUBJ_INBOX] = "inbox",
};

enum bus_event_type { BUS_MSG, BUS_CONNECTED, BUS_DISCONNECTED };

struct bus_event {
	enum bus_event_type type;
	natsMsg *msg;
	struct bus_event *next;
};

struct cluster_bus {
	uv_loop_t *loop;
	natsOptions *opts;
	natsConnection *nc;
	natsSubscription *sub, *inbox_sub;
	char subjects[CLUSTER_SUBJECTS][SUBJECT_MAX];   /* INBOX: this node's */
	char wildcard[SUBJECT_MAX];

	uv_mutex_t lock;                 /* guards the queue and dropped_in (libnats' threads) */
	struct bus_event *head, *tail;
	size_t queued;
	uint64_t dropped_in;
	uv_async_t async;

	const struct cluster_bus_handler *h;
	void *ud;
	unsigned marker_gen;             /* the marker whose return means "synced" */
	bool connected, ever_connected;
	struct cluster_bus_stats stats;  /* the loop's (dropped_in copied from the locked one) */
};

/* ---- libnats' threads: queue and wake the loop ---- */

static void push(struct cluster_bus *b, enum bus_event_type type, natsMsg *msg)
{
	struct bus_event *e;

	uv_mutex_lock(&b->lock);
	if (type == BUS_MSG && b->queued >= CLUSTER_BUS_QUEUE_MAX) {
		b->dropped_in++;
		uv_mutex_unlock(&b->lock);
		natsMsg_Destroy(msg);
		return;
	}
	e = xcalloc(1, sizeof(*e));
	e->type = type;
	e->msg = msg;
	if (b->tail != NULL)
		b->tail->next = e;
	else
		b->head = e;
	b->tail = e;
	b->queued++;
	uv_mutex_unlock(&b->lock);
	uv_async_send(&b->async);
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	(void)nc;
	(void)sub;
	push(closure, BUS_MSG, msg);
}

static void on_connected(natsConnection *nc, void *closure)
{
	(void)nc;
	push(closure, BUS_CONNECTED, NULL);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	(void)nc;
	push(closure, BUS_DISCONNECTED, NULL);
}

/* ---- the loop ---- */

static void send_marker(struct cluster_bus *b)
{
	char m[32];
	int n = snprintf(m, sizeof(m), MARKER "%u", ++b->marker_gen);

	if (natsConnection_Publish(b->nc, b->subjects[CLUSTER_SUBJ_INBOX], m, n) != NATS_OK)
		b->stats.dropped_out++;
}

static enum cluster_subject subject_of(const struct cluster_bus *b, const char *subj)
{
	for (int s = 0; s < CLUSTER_SUBJECTS; s++) {
		if (strcmp(subj, b->subjects[s]) == 0)
			return (enum cluster_subject)s;
	}
	return CLUSTER_SUBJECTS;
}

static void handle_msg(struct cluster_bus *b, natsMsg *msg)
{
	const char *data = natsMsg_GetData(msg);
	size_t len = (size_t)natsMsg_GetDataLength(msg);
	enum cluster_subject s = subject_of(b, natsMsg_GetSubject(msg));
	char want[32];

	b->stats.received++;
	if (s == CLUSTER_SUBJECTS)
		return;                            /* a subject of the cluster pier does not use */
	if (s == CLUSTER_SUBJ_INBOX && len > 0 && data[0] == MARKER[0]) {
		int n = snprintf(want, sizeof(want), MARKER "%u", b->marker_gen);

		/* Only the latest marker: one from before a reconnect proves nothing. */
		if ((size_t)n == len && memcmp(data, want, len) == 0) {
			log_info("cluster: subscribed on the bus; reading what may have been missed");
			b->h->synced(b->ud);
		}
		return;
	}
	b->h->message(b->ud, s, data, len, natsMsg_GetReply(msg));
}

static void on_async(uv_async_t *a)
{
	struct cluster_bus *b = a->data;
	struct bus_event *e, *next;

	uv_mutex_lock(&b->lock);
	e = b->head;
	b->head = b->tail = NULL;
	b->queued = 0;
	b->stats.dropped_in = b->dropped_in;
	uv_mutex_unlock(&b->lock);
	for (; e != NULL; e = next) {
		next = e->next;
		switch (e->type) {
		case BUS_MSG:
			handle_msg(b, e->msg);
			natsMsg_Destroy(e->msg);
			break;
		case BUS_CONNECTED:
			if (b->ever_connected) {
				b->stats.reconnects++;
				log_info("cluster: reconnected to NATS");
			} else {
				log_info("cluster: connected to NATS");
			}
			b->connected = b->ever_connected = true;
			send_marker(b);
			break;
		case BUS_DISCONNECTED:
			if (b->connected)
				log_warn("cluster: lost the NATS connection; reconnecting");
			b->connected = false;
			b->h->disconnected(b->ud);
			break;
		}
		free(e);
	}
}

static char *status_err(const char *what, natsStatus s)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s: %s", what, natsStatus_GetText(s));
	return xstrdup(buf);
}

/* Splits the comma list urls into at most URLS_MAX servers (pointers into copy). */
static int split_urls(char *copy, const char **servers)
{
	int n = 0;

	for (char *p = copy, *comma; p != NULL && *p != '\0'; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (*p == '\0' || n == URLS_MAX)
			return -1;
		servers[n++] = p;
	}
	return n;
}

struct cluster_bus *cluster_bus_open(uv_loop_t *loop, const char *urls, const char *cluster,
                                     const char *node, const struct cluster_bus_handler *h,
                                     void *ud, char **err)
{
	struct cluster_bus *b = xcalloc(1, sizeof(*b));
	const char *servers[URLS_MAX];
	char *copy = xstrdup(urls), name[160];
	int nservers = split_urls(copy, servers);
	natsStatus s;

	*err = NULL;
	b->loop = loop;
	b->h = h;
	b->ud = ud;
	for (int i = 0; i < CLUSTER_SUBJECTS; i++)
		snprintf(b->subjects[i], SUBJECT_MAX, "%s.%s", cluster, subject_names[i]);
	snprintf(b->subjects[CLUSTER_SUBJ_INBOX], SUBJECT_MAX, "%s.inbox.%s", cluster, node);
	snprintf(b->wildcard, SUBJECT_MAX, "%s.*", cluster);
	snprintf(name, sizeof(name), "pierd %s/%s", cluster, node);
	uv_mutex_init(&b->lock);
	uv_async_init(loop, &b->async, on_async);
	b->async.data = b;

	if (nservers <= 0) {
		*err = xstrdup("--nats: a comma list of nats:// URLs");
		goto fail;
	}
	natsLibuv_Init();
	natsLibuv_SetThreadLocalLoop(loop);
	s = natsOptions_Create(&b->opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(b->opts, servers, nservers);
	if (s == NATS_OK)
		s = natsOptions_SetName(b->opts, name);
	if (s == NATS_OK)
		s = natsOptions_SetEventLoop(b->opts, loop, natsLibuv_Attach, natsLibuv_Read,
		                             natsLibuv_Write, natsLibuv_Detach);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(b->opts, -1);          /* forever */
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(b->opts, 250);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(b->opts, true, on_connected, b);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(b->opts, on_disconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(b->opts, on_connected, b);
	if (s != NATS_OK) {
		*err = status_err("cannot set up NATS", s);
		goto fail;
	}
	s = natsConnection_Connect(&b->nc, b->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		*err = status_err("cannot connect to NATS", s);
		goto fail;
	}
	if (s == NATS_NOT_YET_CONNECTED)
		log_warn("cluster: NATS (%s) not reachable yet; serving, and connecting meanwhile", urls);
	s = natsConnection_Subscribe(&b->sub, b->nc, b->wildcard, on_msg, b);
	if (s == NATS_OK)
		s = natsConnection_Subscribe(&b->inbox_sub, b->nc, b->subjects[CLUSTER_SUBJ_INBOX],
		                             on_msg, b);
	if (s != NATS_OK) {
		*err = status_err("cannot subscribe on NATS", s);
		goto fail;
	}
	if (natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED)
		push(b, BUS_CONNECTED, NULL);
	free(copy);
	return b;
fail:
	free(copy);
	cluster_bus_close(b);
	return NULL;
}

void cluster_bus_publish(struct cluster_bus *b, enum cluster_subject s, const char *data,
                         size_t len)
{
	if (s >= CLUSTER_SUBJ_INBOX ||
	    natsConnection_Publish(b->nc, b->subjects[s], data, (int)len) != NATS_OK) {
		b->stats.dropped_out++;
		return;
	}
	b->stats.published++;
}

void cluster_bus_hello(struct cluster_bus *b, const char *data, size_t len)
{
	if (natsConnection_PublishRequest(b->nc, b->subjects[CLUSTER_SUBJ_HELLO],
	                                  b->subjects[CLUSTER_SUBJ_INBOX], data, (int)len) != NATS_OK)
		b->stats.dropped_out++;
	else
		b->stats.published++;
}

void cluster_bus_reply(struct cluster_bus *b, const char *reply, const char *data, size_t len)
{
	if (natsConnection_Publish(b->nc, reply, data, (int)len) != NATS_OK)
		b->stats.dropped_out++;
	else
		b->stats.published++;
}

bool cluster_bus_connected(const struct cluster_bus *b)
{
	return b->connected;
}

struct cluster_bus_stats cluster_bus_stats(const struct cluster_bus *b)
{
	return b->stats;
}

static void free_bus(uv_handle_t *h)
{
	struct cluster_bus *b = h->data;

	uv_mutex_destroy(&b->lock);
	free(b);
}

void cluster_bus_close(struct cluster_bus *b)
{
	struct bus_event *e, *next;

	if (b->nc != NULL)
		natsConnection_Close(b->nc);
	natsSubscription_Destroy(b->sub);
	natsSubscription_Destroy(b->inbox_sub);
	natsConnection_Destroy(b->nc);
	natsOptions_Destroy(b->opts);
	/* libnats' threads may still be running a callback that queues: wait for them all (the
	 * library is pierd's only user of it) before the queue goes. */
	nats_CloseAndWait(2000);
	for (e = b->head; e != NULL; e = next) {
		next = e->next;
		natsMsg_Destroy(e->msg);
		free(e);
	}
	b->head = b->tail = NULL;
	uv_close((uv_handle_t *)&b->async, free_bus);
}
