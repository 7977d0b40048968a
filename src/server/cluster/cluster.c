/* cluster.c - one node of a cluster: the bus's payloads to the sequencer, to presence and
 * to the chat's handler; gap reads from the store; the timer (cluster.h). */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cluster_bus.h"
#include "cluster_presence.h"
#include "cluster_seq.h"
#include "log.h"
#include "store.h"
#include "xalloc.h"

#define SEQ_MAX_HELD  4096     /* messages held while a gap is read */
#define READ_PAGE     256      /* messages per gap read */
#define TICK_MS       1000     /* the sequencer's poll, presence's leases */

/* A message waiting in the sequencer. */
struct seq_item {
	struct store_msg m;
	void *except;
};

struct cluster {
	uv_loop_t *loop;
	struct store *store;
	const struct cluster_handler *h;
	void *ud;
	char node[CLUSTER_NODE_MAX + 1];
	struct cluster_limits lim;
	int64_t lease_ms;

	struct cluster_bus *bus;
	struct cluster_seq seq;
	struct cluster_presence presence;
	uv_timer_t tick;
	int64_t last_hb_ms;
	uint64_t hb_seq;
	uint64_t refused;

	/* finding the start: the newest stored id, by STORE_STREAM probes */
	bool ready, failed, probing_up;
	int64_t lo, hi;

	int pending;                /* store jobs in flight and the timer's close */
	bool closing;
};

static void maybe_free(struct cluster *cl)
{
	if (cl->closing && cl->pending == 0) {
		cluster_seq_release(&cl->seq);
		cluster_presence_release(&cl->presence);
		free(cl);
	}
}

/* ---- the sequencer's callbacks ---- */

static void seq_deliver(void *ud, int64_t id, void *item)
{
	struct cluster *cl = ud;
	struct seq_item *it = item;

	(void)id;
	if (!cl->closing)
		cl->h->deliver_msg(cl->ud, &it->m, it->except);
	if (it->except != NULL)
		cl->h->release_except(cl->ud, it->except);
	store_msg_release(&it->m);
	free(it);
}

static void seq_drop(void *ud, void *item)
{
	struct cluster *cl = ud;
	struct seq_item *it = item;

	if (it->except != NULL)
		cl->h->release_except(cl->ud, it->except);
	store_msg_release(&it->m);
	free(it);
}

static void stream_read(struct store_job *job)
{
	struct cluster *cl = job->data;
	int64_t *ids = xcalloc(job->nmsgs + 1, sizeof(*ids));
	void **items = xcalloc(job->nmsgs + 1, sizeof(*items));
	bool ok = job->status == STORE_OK;

	for (size_t i = 0; ok && i < job->nmsgs; i++) {
		struct seq_item *it = xcalloc(1, sizeof(*it));

		cluster_msg_copy(&it->m, &job->msgs[i]);
		ids[i] = it->m.id;
		items[i] = it;
	}
	if (!ok)
		log_warn("cluster: a gap read failed; the next tick tries again");
	cluster_seq_read_done(&cl->seq, ok, ids, items, ok ? job->nmsgs : 0, ok && job->more);
	free(ids);
	free(items);
	store_job_release(job);
	free(job);
	cl->pending--;
	maybe_free(cl);
}

static void seq_read(void *ud, int64_t after, int64_t upto)
{
	struct cluster *cl = ud;
	struct store_job *job = xcalloc(1, sizeof(*job));

	store_job_init(job, STORE_STREAM);
	job->after = after;
	job->msg_id = upto;
	job->limit = READ_PAGE;
	job->done = stream_read;
	job->data = cl;
	cl->pending++;
	store_submit(cl->store, job);
}

static const struct cluster_seq_ops seq_ops = { seq_deliver, seq_drop, seq_read };

/* ---- presence's callbacks ---- */

static bool pr_local(void *ud, const char *name)
{
	struct cluster *cl = ud;

	return cl->h->local_online(cl->ud, name);
}

static void pr_transition(void *ud, const char *name, bool online)
{
	struct cluster *cl = ud;

	if (!cl->closing)
		cl->h->presence(cl->ud, name, online);
}

static const struct cluster_presence_ops presence_ops = { pr_local, pr_transition };

/* ---- the bus ---- */

static void send_hello(struct cluster *cl)
{
	size_t len;
	char *b = cluster_encode_hello(cl->node, NULL, 0, &len);

	cluster_bus_hello(cl->bus, b, len);
	free(b);
}

static void answer_hello(struct cluster *cl, const char *reply)
{
	const char **names = xcalloc(CLUSTER_HELLO_MAX, sizeof(*names));
	size_t n = cl->h->online_names(cl->ud, names, CLUSTER_HELLO_MAX), len;
	char *b = cluster_encode_hello(cl->node, names, n, &len);

	if (b != NULL)
		cluster_bus_reply(cl->bus, reply, b, len);
	free(b);
	free(names);
}

static void on_message(void *ud, enum cluster_subject s, const char *data, size_t len,
                       const char *reply)
{
	struct cluster *cl = ud;
	char node[CLUSTER_NODE_MAX + 1];
	int64_t now = pier_mono_ms();
	int rc = -1;

	if (cl->closing || !cl->ready)
		return;          /* before the start is known: the first reads will find it */
	switch (s) {
	case CLUSTER_SUBJ_MSG: {
		struct seq_item *it = xcalloc(1, sizeof(*it));

		rc = cluster_decode_msg(data, len, &cl->lim, node, &it->m);
		if (rc == 0 && strcmp(node, cl->node) != 0) {
			cluster_seq_offer(&cl->seq, it->m.id, it);
			return;
		}
		store_msg_release(&it->m);
		free(it);
		break;
	}
	case CLUSTER_SUBJ_CHANGE: {
		struct cluster_change ch;

		rc = cluster_decode_change(data, len, &cl->lim, node, &ch);
		if (rc == 0 && strcmp(node, cl->node) != 0)
			cl->h->change(cl->ud, &ch);
		cluster_change_release(&ch);
		break;
	}
	case CLUSTER_SUBJ_ENV: {
		struct cluster_env e;

		rc = cluster_decode_env(data, len, node, &e);
		if (rc == 0 && strcmp(node, cl->node) != 0)
			cl->h->env(cl->ud, &e);
		break;
	}
	case CLUSTER_SUBJ_EVENT: {
		struct cluster_event ev;

		rc = cluster_decode_event(data, len, &cl->lim, node, &ev);
		if (rc == 0 && strcmp(node, cl->node) != 0)
			cl->h->event(cl->ud, &ev);
		cluster_event_release(&ev);
		break;
	}
	case CLUSTER_SUBJ_PRESENCE: {
		struct cluster_presence_msg p;

		rc = cluster_decode_presence(data, len, node, &p);
		if (rc == 0 && strcmp(node, cl->node) != 0)
			cluster_presence_remote(&cl->presence, node, p.user, p.online, now);
		break;
	}
	case CLUSTER_SUBJ_HB: {
		struct cluster_hb hb;

		rc = cluster_decode_hb(data, len, node, &hb);
		if (rc == 0 && strcmp(node, cl->node) != 0 &&
		    cluster_presence_heartbeat(&cl->presence, node, &hb, now))
			send_hello(cl);
		break;
	}
	case CLUSTER_SUBJ_HELLO: {
		char **names;
		size_t n;

		rc = cluster_decode_hello(data, len, node, &names, &n);
		if (rc == 0) {
			cluster_names_free(names, n);
			if (strcmp(node, cl->node) != 0 && reply != NULL)
				answer_hello(cl, reply);
		}
		break;
	}
	case CLUSTER_SUBJ_INBOX: {
		char **names;
		size_t n;

		rc = cluster_decode_hello(data, len, node, &names, &n);
		if (rc == 0) {
			if (strcmp(node, cl->node) != 0)
				cluster_presence_set(&cl->presence, node, names, n, now);
			cluster_names_free(names, n);
		}
		break;
	}
	case CLUSTER_SUBJECTS:
		break;
	}
	if (rc != 0) {
		cl->refused++;
		log_warn("cluster: refused a payload on subject %d (%zu bytes)", (int)s, len);
	}
}

/* Subscribed (again): subscribe first, then read (CLUSTER.md), then ask who is online. */
static void on_synced(void *ud)
{
	struct cluster *cl = ud;

	if (cl->closing || !cl->ready)
		return;
	cluster_seq_poll(&cl->seq);
	send_hello(cl);
}

static void on_disconnected(void *ud)
{
	(void)ud;
}

static const struct cluster_bus_handler bus_handler = { on_message, on_synced, on_disconnected };

/* ---- the tick ---- */

static void on_tick(uv_timer_t *t)
{
	struct cluster *cl = t->data;
	int64_t now = pier_mono_ms();

	if (!cl->ready)
		return;
	cluster_seq_poll(&cl->seq);
	cluster_presence_expire(&cl->presence, now);
	if (now - cl->last_hb_ms >= cl->lease_ms / 3) {
		struct cluster_hb hb = { .seq = ++cl->hb_seq, .users = cl->presence.local_users,
		                         .digest = cl->presence.local_digest };
		size_t len;
		char *b = cluster_encode_hb(cl->node, &hb, &len);

		cluster_bus_publish(cl->bus, CLUSTER_SUBJ_HB, b, len);
		free(b);
		cl->last_hb_ms = now;
	}
}

static void tick_closed(uv_handle_t *h)
{
	struct cluster *cl = h->data;

	cl->pending--;
	maybe_free(cl);
}

/* ---- the start: the newest stored message id ---- */

static void probe(struct cluster *cl);

static void probed(struct store_job *job)
{
	struct cluster *cl = job->data;
	bool found = job->status == STORE_OK && job->nmsgs > 0;
	int64_t id = found ? job->msgs[0].id : 0;

	cl->pending--;
	if (job->status != STORE_OK)
		cl->failed = true;
	store_job_release(job);
	free(job);
	if (cl->closing || cl->failed) {
		maybe_free(cl);
		return;
	}
	/* Going up: double until nothing follows; then halve [lo, hi] down to the newest. */
	if (cl->probing_up) {
		if (found) {
			cl->lo = id;
			cl->hi = id * 2;
		} else {
			cl->probing_up = false;
		}
	} else if (found) {
		cl->lo = id;
	} else {
		cl->hi = cl->lo + (cl->hi - cl->lo) / 2;
	}
	if (!cl->probing_up && cl->hi <= cl->lo) {
		cluster_seq_init(&cl->seq, cl->lo, SEQ_MAX_HELD, &seq_ops, cl);
		cl->ready = true;
		log_info("cluster: node %s starts after message %lld", cl->node, (long long)cl->lo);
		cluster_seq_poll(&cl->seq);
		send_hello(cl);
		return;
	}
	probe(cl);
}

static void probe(struct cluster *cl)
{
	struct store_job *job = xcalloc(1, sizeof(*job));

	store_job_init(job, STORE_STREAM);
	job->after = cl->probing_up ? cl->hi : cl->lo + (cl->hi - cl->lo) / 2;
	job->limit = 1;
	job->done = probed;
	job->data = cl;
	cl->pending++;
	store_submit(cl->store, job);
}

/* ---- the interface ---- */

struct cluster *cluster_open(uv_loop_t *loop, struct store *st, const struct cluster_options *o,
                             const struct cluster_handler *h, void *ud, char **err)
{
	struct cluster *cl = xcalloc(1, sizeof(*cl));

	cl->loop = loop;
	cl->store = st;
	cl->h = h;
	cl->ud = ud;
	snprintf(cl->node, sizeof(cl->node), "%s", o->node_name);
	cl->lim.max_text = o->max_text;
	cl->lease_ms = o->lease_ms;
	cluster_presence_init(&cl->presence, o->lease_ms, &presence_ops, cl);
	cl->bus = cluster_bus_open(loop, o->urls, o->cluster_name, o->node_name, &bus_handler, cl,
	                           err);
	if (cl->bus == NULL) {
		cluster_presence_release(&cl->presence);
		free(cl);
		return NULL;
	}
	uv_timer_init(loop, &cl->tick);
	cl->tick.data = cl;
	uv_timer_start(&cl->tick, on_tick, TICK_MS, TICK_MS);
	cl->pending++;                           /* the timer's close */
	cl->probing_up = true;
	cl->lo = 0;
	cl->hi = 1;
	probe(cl);
	return cl;
}

bool cluster_ready(const struct cluster *cl, bool *failed)
{
	*failed = cl->failed;
	return cl->ready;
}

void cluster_close(struct cluster *cl)
{
	cl->closing = true;
	cluster_bus_close(cl->bus);
	cl->bus = NULL;
	uv_timer_stop(&cl->tick);
	uv_close((uv_handle_t *)&cl->tick, tick_closed);
	if (!cl->ready)
		cluster_seq_init(&cl->seq, 0, 1, &seq_ops, cl);   /* so that release has one */
	maybe_free(cl);
}

void cluster_msg_stored(struct cluster *cl, const struct store_msg *m, void *except)
{
	struct seq_item *it;
	size_t len;
	char *b = cluster_encode_msg(cl->node, m, &len);

	cluster_bus_publish(cl->bus, CLUSTER_SUBJ_MSG, b, len);
	free(b);
	if (!cl->ready) {              /* not served before it is ready (server.c): defensive */
		cl->h->deliver_msg(cl->ud, m, except);
		if (except != NULL)
			cl->h->release_except(cl->ud, except);
		return;
	}
	it = xcalloc(1, sizeof(*it));
	cluster_msg_copy(&it->m, m);
	it->except = except;
	cluster_seq_offer(&cl->seq, m->id, it);
}

void cluster_change_stored(struct cluster *cl, const struct cluster_change *ch)
{
	size_t len;
	char *b = cluster_encode_change(cl->node, ch, &len);

	cluster_bus_publish(cl->bus, CLUSTER_SUBJ_CHANGE, b, len);
	free(b);
}

void cluster_env_stored(struct cluster *cl, const char *user, const char *peer, int64_t device,
                        int64_t qid)
{
	struct cluster_env e = { .device = device, .qid = qid };
	size_t len;
	char *b;

	snprintf(e.user, sizeof(e.user), "%s", user);
	if (peer != NULL && strcmp(peer, user) != 0)
		snprintf(e.peer, sizeof(e.peer), "%s", peer);
	b = cluster_encode_env(cl->node, &e, &len);
	cluster_bus_publish(cl->bus, CLUSTER_SUBJ_ENV, b, len);
	free(b);
}

void cluster_event_send(struct cluster *cl, const struct cluster_event *ev)
{
	size_t len;
	char *b = cluster_encode_event(cl->node, ev, &len);

	cluster_bus_publish(cl->bus, CLUSTER_SUBJ_EVENT, b, len);
	free(b);
}

bool cluster_presence_changed(struct cluster *cl, const char *name, bool online)
{
	struct cluster_presence_msg p = { .online = online };
	size_t len;
	char *b;

	snprintf(p.user, sizeof(p.user), "%s", name);
	b = cluster_encode_presence(cl->node, &p, &len);
	cluster_bus_publish(cl->bus, CLUSTER_SUBJ_PRESENCE, b, len);
	free(b);
	return cluster_presence_local(&cl->presence, name, online);
}

bool cluster_user_online_elsewhere(const struct cluster *cl, const char *name)
{
	return cluster_presence_remote_online(&cl->presence, name);
}

void cluster_each_online_elsewhere(const struct cluster *cl,
                                   void (*fn)(void *ud, const char *name), void *ud)
{
	cluster_presence_each_remote(&cl->presence, fn, ud);
}

const char *cluster_node_name(const struct cluster *cl)
{
	return cl->node;
}

struct cluster_stats cluster_stats(const struct cluster *cl)
{
	struct cluster_stats s = { .refused = cl->refused };
	struct cluster_bus_stats b = cluster_bus_stats(cl->bus);

	s.seq.delivered = cl->seq.stats.delivered;
	s.seq.duplicates = cl->seq.stats.duplicates;
	s.seq.reads = cl->seq.stats.reads;
	s.seq.overflow = cl->seq.stats.overflow;
	s.seq.skipped = cl->seq.stats.skipped;
	s.seq.position = cl->seq.delivered;
	s.published = b.published;
	s.received = b.received;
	s.dropped_in = b.dropped_in;
	s.dropped_out = b.dropped_out;
	s.reconnects = b.reconnects;
	s.nodes = cl->presence.nnodes;
	return s;
}
