/* e2ee_queue.c - each device's queue of envelopes: kept in the store until the device
 * acknowledges them (ack), delivered live to the session bound to the device, and read back
 * in order after device_hello.
 *
 * The same promises as offline delivery (offline.c, docs/DESIGN.md "Ordering"):
 * - nothing acknowledged is lost: an envelope is stored (in the transaction of its message)
 *   before anyone hears of it, and deleted only by the device's own ack;
 * - in order, once: after device_hello the session reads its queue E2EE_QUEUE_PAGE at a time
 *   from the oldest (qid order); while it does, live envelopes for the device are not sent
 *   to it. The store completes jobs in submission order, so an envelope stored before a page
 *   read is in that page or a later one, and one stored after the last read comes live after
 *   it: no gap and no duplicate between backlog and live;
 * - paced by the output budget: a page is read only while the session's queued output is
 *   below the soft mark and queued only while it stays so; the rest follows when the output
 *   drained. A device that never reads holds the soft mark plus one envelope; one that never
 *   acks fills its queue to --e2ee-max-queue, and then sends to it are refused (queue_full),
 *   never lost. The queue lives in the store, not in memory.
 * Envelopes not acknowledged come again at the next device_hello (clients drop by qid).
 */
#include "e2ee_chat.h"

#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "conn.h"
#include "deferred.h"
#include "hub.h"
#include "log.h"
#include "media.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "xalloc.h"

/* ---- the catch-up after device_hello ---- */

struct queue_read {
	struct conn *conn;              /* referenced while the read runs */
	unsigned gen;
	struct store_job job;
};

static void read_page(struct conn *c);

static void page_read(struct store_job *job)
{
	struct queue_read *r = job->data;
	struct conn *c = r->conn;
	struct e2ee_session *s = c->e2ee;
	size_t i;

	if (c->closing || s == NULL || s->gen != r->gen || !s->paging)
		goto out;                   /* a stale read: the session left or the device moved */
	s->reading = false;
	if (job->status != STORE_OK) {
		log_error("e2ee: could not read the queue of device %s", s->id);
		goto out;
	}
	for (i = 0; i < job->e2ee.nenvs; i++) {
		const struct store_envelope *v = &job->e2ee.envs[i];
		struct sbuf *b;
		bool fits;

		if (!conn_output_below_soft(c))
			break;              /* the rest is read again once the output drained */
		b = e2ee_envelope_sbuf(v);
		fits = b->len <= conn_output_room(c);
		if (fits)
			conn_send(c, b);
		sbuf_unref(b);
		if (!fits)
			break;
		s->after = v->qid;
	}
	if (i == job->e2ee.nenvs && !job->e2ee.more && s->again) {
		s->again = false;           /* announced meanwhile: it may have come after the read */
		read_page(c);
	} else if (i == job->e2ee.nenvs && !job->e2ee.more)
		s->paging = false;          /* caught up: from now on envelopes come live */
	else if (i == job->e2ee.nenvs && conn_output_below_soft(c))
		read_page(c);
out:
	conn_unref(c);
	store_job_release(job);
	free(r);
}

static void read_page(struct conn *c)
{
	struct queue_read *r = xcalloc(1, sizeof(*r));
	struct e2ee_session *s = c->e2ee;

	s->reading = true;
	r->conn = c;
	conn_ref(c);
	r->gen = s->gen;
	store_job_init(&r->job, STORE_E2EE_QUEUE);
	r->job.e2ee.device_rid = s->rid;
	r->job.e2ee.after = s->after;
	r->job.e2ee.limit = E2EE_QUEUE_PAGE;
	r->job.data = r;
	r->job.done = page_read;
	store_submit(c->srv->store, &r->job);
}

void e2ee_queue_start(struct conn *c)
{
	struct e2ee_session *s = c->e2ee;

	if (s == NULL || s->rid == 0)
		return;
	s->paging = true;
	s->again = false;
	s->after = 0;
	read_page(c);
}

void e2ee_queue_poke(struct conn *c)
{
	struct e2ee_session *s = c->e2ee;

	if (s == NULL || s->rid == 0 || c->closing)
		return;
	if (s->paging) {
		s->again = true;
		return;
	}
	s->paging = true;
	read_page(c);
}

void e2ee_queue_drained(struct conn *c)
{
	struct e2ee_session *s = c->e2ee;

	if (s != NULL && s->rid != 0 && s->paging && !s->reading && conn_output_below_soft(c))
		read_page(c);
}

void e2ee_queue_deliver(struct server *srv, struct user *u, const struct store_envelope *v)
{
	struct conn *c = e2ee_session_for_device(u, v->device_rid);
	struct sbuf *b;

	(void)srv;
	if (c == NULL || c->e2ee->paging)
		return;                     /* it waits in the queue (or is in the page being read) */
	b = e2ee_envelope_sbuf(v);
	conn_send(c, b);
	sbuf_unref(b);
}

/* ---- device_send ---- */

static void device_sent(struct store_job *job)
{
	struct deferred *d = job->data;
	struct store_e2ee *e = &job->e2ee;
	struct store_envelope v = { 0 };
	const struct e2ee_session *s = e2ee_session_of(d->c);
	json_t *r;

	switch (job->status) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
		deferred_finish(d, error_new(d->ref, PIER_ERR_NO_SUCH_DEVICE, "no such device of yours"));
		return;
	case STORE_FULL:
		deferred_finish(d, error_new(d->ref, PIER_ERR_QUEUE_FULL, "that device's queue is full"));
		return;
	case STORE_NO_DEVICE:
		deferred_finish(d, error_new(d->ref, PIER_ERR_NO_DEVICE, "this session's device was "
		                             "revoked"));
		return;
	default:
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "nothing was stored"));
		return;
	}
	v.qid = e->qid;
	v.device_rid = e->rid;
	v.from = d->user->name;
	snprintf(v.from_device, sizeof(v.from_device), "%s", s != NULL ? s->id : "");
	v.payload = (char *)e->payload;
	v.body = (char *)e->body;
	e2ee_queue_deliver(d->c->srv, d->user, &v);
	if (d->c->srv->cluster != NULL)
		cluster_env_stored(d->c->srv->cluster, d->user->name, NULL, e->rid, e->qid);
	r = reply_new("device_send", d->ref);
	json_object_set_new(r, "qid", json_integer(e->qid));
	deferred_finish(d, r);
}

void handle_device_send(struct conn *c, json_t *req, json_t *ref)
{
	const struct config *cfg = &c->srv->cfg;
	const struct e2ee_session *s = e2ee_session_of(c);
	const json_t *payload = json_object_get(req, "payload"), *body = json_object_get(req, "body");
	char id[STORE_DEVICE_ID_TEXT + 1];
	struct deferred *d;

	if (s == NULL) {
		reply_error(c, ref, PIER_ERR_NO_DEVICE, "this session speaks for no device");
		return;
	}
	if (e2ee_b64_field(req, "device", E2EE_ID_LEN, NULL, id) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "device must be a device id");
		return;
	}
	if (!json_is_string(payload) || !json_is_string(body) ||
	    !e2ee_b64_valid(json_string_value(payload), json_string_length(payload),
	                    cfg->e2ee_max_payload) ||
	    !e2ee_b64_valid(json_string_value(body), json_string_length(body),
	                    cfg->e2ee_max_envelope)) {
		reply_error(c, ref, PIER_ERR_BAD_ENVELOPE, "payload (at most %zu) and body (at most %zu) "
		            "are base64url", cfg->e2ee_max_payload, cfg->e2ee_max_envelope);
		return;
	}
	d = deferred_new(c, req, ref, STORE_E2EE_DEVICE_SEND, device_sent);
	d->keep = json_string(id);
	d->job.e2ee.device_id = json_string_value(d->keep);
	d->job.e2ee.device_rid = s->rid;
	d->job.e2ee.payload = json_string_value(payload);
	d->job.e2ee.body = json_string_value(body);
	d->job.e2ee.max_queue = cfg->e2ee_max_queue;
	d->job.e2ee.pending_cutoff = e2ee_pending_cutoff(c->srv);
	store_submit(c->srv->store, &d->job);
}

/* ---- ack ---- */

static void acked(struct store_job *job)
{
	struct deferred *d = job->data;
	json_t *r;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "the ack was not stored"));
		return;
	}
	r = reply_new("ack", d->ref);
	json_object_set_new(r, "upto", json_integer(job->e2ee.upto));
	deferred_finish(d, r);
}

void handle_ack(struct conn *c, json_t *req, json_t *ref)
{
	const struct e2ee_session *s = e2ee_session_of(c);
	const json_t *upto = json_object_get(req, "upto");
	struct deferred *d;

	if (s == NULL) {
		reply_error(c, ref, PIER_ERR_NO_DEVICE, "this session speaks for no device");
		return;
	}
	if (!json_is_integer(upto) || json_integer_value(upto) <= 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "upto must be a qid");
		return;
	}
	/* Only the session's own device's queue: a session cannot name another. */
	d = deferred_new(c, req, ref, STORE_E2EE_ACK, acked);
	d->job.e2ee.device_rid = s->rid;
	d->job.e2ee.upto = json_integer_value(upto);
	store_submit(c->srv->store, &d->job);
}
