/* e2ee_send.c - an encrypted private message: send with "e2ee":{"payload","keys"}.
 *
 * The payload is stored once with the message; each envelope goes to its device's queue, in
 * the same transaction, and only when the envelopes are for exactly the current devices of
 * the recipient and of the sender (but the sending device): otherwise nothing is stored and
 * the answer (devices_changed) names the current ones, so that every device that existed when
 * a message was stored can read it. "sent" comes after the commit; then each bound device
 * gets its envelope live (unless it is still reading its queue, which holds it), and the
 * two users' sessions without an active device a msg with "e2ee":true and no text.
 */
#include "e2ee_chat.h"

#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "clock.h"
#include "cluster.h"
#include "conn.h"
#include "deferred.h"
#include "events.h"
#include "hub.h"
#include "media.h"
#include "offline.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "wire_msg.h"
#include "xalloc.h"

/* Envelopes one send may carry: every device of two users' lists. */
#define KEYS_MAX 64

/* Sessions with an active device get envelopes instead of the msg event. */
static bool has_device(const struct conn *c)
{
	return e2ee_session_has_active_device(c);
}

static void send_to_sessions_without_device(struct user *u, struct sbuf *b,
                                            const struct conn *except)
{
	for (size_t i = 0; i < u->nsessions; i++) {
		struct conn *c = u->sessions[i];

		if (c != except && !has_device(c))
			conn_send(c, b);
	}
}

void e2ee_deliver_msg_event(struct user *from, struct user *peer, struct sbuf *b, int64_t id,
                            const struct conn *except)
{
	/* The recipient's sessions without a device: through offline.c (its watermark). */
	if (peer != NULL)
		offline_deliver_private(peer, b, id, except, has_device);
	if (from != NULL && peer != from)
		send_to_sessions_without_device(from, b, except);
}

/* Whether u has a session but except without an active device (one the msg event is for). */
static bool has_session_without_device(const struct user *u, const struct conn *except)
{
	for (size_t i = 0; i < u->nsessions; i++) {
		if (u->sessions[i] != except && !has_device(u->sessions[i]))
			return true;
	}
	return false;
}

static void deliver(struct server *srv, struct deferred *d, const char *to)
{
	struct store_job *job = &d->job;
	const struct store_media *md = &job->media;
	struct store_msg m = {
		.id = job->msg_id, .ts = job->ts, .from = d->user->name, .to = (char *)to,
		.text = "", .kind = (char *)job->kind, .media_id = job->media_id,
		.media_name = (char *)md->name, .media_type = (char *)md->type,
		.media_size = md->size, .e2ee = true,
	};
	const struct e2ee_session *s = e2ee_session_of(d->c);
	json_t *ev;
	struct sbuf *b;

	srv->metrics.messages++;
	hub_add_contact(d->user, d->peer);
	for (size_t i = 0; i < job->e2ee.nenvs_in; i++) {
		struct store_envelope v = job->e2ee.envs_in[i];
		struct user *owner = e2ee_session_for_device(d->peer, v.device_rid) != NULL
		                     ? d->peer : d->user;

		v.msg_id = job->msg_id;
		v.from = d->user->name;
		if (s != NULL)
			memcpy(v.from_device, s->id, sizeof(v.from_device));   /* same size */
		else
			v.from_device[0] = '\0';
		v.to = (char *)to;
		v.ts = job->ts;
		v.payload = (char *)job->e2ee.payload;
		v.body = (char *)v.body_in;
		v.reply_to = job->reply_to;
		v.media_id = job->media_id;
		v.media_size = md->size;
		v.media_name = (char *)md->name;
		v.media_type = (char *)md->type;
		e2ee_queue_deliver(srv, owner, &v);
		if (srv->cluster != NULL)   /* the node with that device's session reads its queue */
			cluster_env_stored(srv->cluster, d->peer->name, d->user->name, v.device_rid,
			                   v.qid);
	}
	if (srv->cluster != NULL) {
		m.reply_to = job->reply_to;     /* the event says it as below (chat_deliver_msg) */
		conn_ref(d->c);
		cluster_msg_stored(srv->cluster, &m, d->c);
		return;
	}
	/* Every session with a device got its envelope: no msg event to build (offline.c, which
	 * e2ee_deliver_msg_event goes through for the recipient, skips such sessions too). */
	if (!has_session_without_device(d->peer, d->c) &&
	    !has_session_without_device(d->user, d->c))
		return;
	ev = event_msg(&srv->hub, &m);
	if (job->reply_to != 0)
		json_object_set_new(ev, "reply_to", json_integer(job->reply_to));
	b = sbuf_from_json(ev);
	e2ee_deliver_msg_event(d->user, d->peer, b, job->msg_id, d->c);
	srv->metrics.deliveries += b->refs - 1;
	sbuf_unref(b);
	json_decref(ev);
}

/* devices_changed: {"devices":{user:[ids]}} from the current set the store gave. */
static json_t *changed_error(struct deferred *d)
{
	const struct store_e2ee *e = &d->job.e2ee;
	json_t *err = error_new(d->ref, PIER_ERR_DEVICES_CHANGED,
	                        "the devices changed: fetch keys and encrypt again");
	json_t *by_user = json_object();

	json_object_set_new(by_user, d->peer->name, json_array());
	json_object_set_new(by_user, d->user->name, json_array());
	for (size_t i = 0; i < e->ndevices; i++) {
		json_t *list = json_object_get(by_user, e->devices[i].user);

		if (list != NULL)
			json_array_append_new(list, json_string(e->devices[i].id));
	}
	json_object_set_new(err, "devices", by_user);
	return err;
}

static void stored(struct store_job *job)
{
	struct deferred *d = job->data;
	struct server *srv = d->c->srv;
	char to[PIER_KEY_MAX + 1];
	struct sbuf *b;
	json_t *r;

	switch (job->status) {
	case STORE_OK:
	case STORE_DUPLICATE:
		break;
	case STORE_CHANGED:
		r = changed_error(d);
		goto answer;
	case STORE_FULL:
		r = error_new(d->ref, PIER_ERR_QUEUE_FULL,
		              "a device has %d messages waiting; nothing was stored",
		              srv->cfg.e2ee_max_queue);
		goto answer;
	case STORE_NO_DEVICE:
		r = error_new(d->ref, PIER_ERR_NO_DEVICE, "%s has no device (or this session's is "
		              "not active)", d->peer->name);
		goto answer;
	case STORE_DENIED:
		r = error_new(d->ref, PIER_ERR_NO_SUCH_MEDIA,
		              "no such media, or not an encrypted upload of yours");
		goto answer;
	case STORE_BAD_REPLY:
		r = error_new(d->ref, PIER_ERR_NO_SUCH_MESSAGE, "reply_to is no message of this conversation");
		goto answer;
	case STORE_RECALLED:
		r = error_new(d->ref, PIER_ERR_MESSAGE_RECALLED, "the message to reply to was recalled");
		goto answer;
	case STORE_CONFLICT:
		r = error_new(d->ref, PIER_ERR_CID_CONFLICT, "that cid was used for a message to another target");
		goto answer;
	default:
		r = error_new(d->ref, PIER_ERR_STORE_FAILED, "the message was not stored");
		goto answer;
	}
	snprintf(to, sizeof(to), "@%s", d->peer->name);
	/* Written straight into its buffer (wire_msg.h); the tree only for a string that is not
	 * UTF-8 (the store's, never the client's: jansson checked those). */
	b = wire_sent_e2ee(d->ref, job, to);
	if (job->status != STORE_DUPLICATE)
		deliver(srv, d, to);
	free(job->e2ee.envs_in);
	job->e2ee.envs_in = NULL;
	if (b != NULL) {
		deferred_finish_buf(d, b);
		return;
	}
	deferred_finish(d, wire_sent_e2ee_json(d->ref, job, to));
	return;
answer:
	free(job->e2ee.envs_in);
	job->e2ee.envs_in = NULL;
	deferred_finish(d, r);
}

/* Reads "keys": [{"device","body"}] into a new array; -1 when malformed (a device twice, a
 * body that is not base64url or over max). */
static int read_keys(const json_t *keys, size_t max_body, struct store_envelope **out,
                     size_t *n)
{
	struct store_envelope *v;
	const json_t *k;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > KEYS_MAX)
		return -1;
	v = xcalloc(json_array_size(keys), sizeof(*v));
	json_array_foreach(keys, i, k) {
		const json_t *body = json_object_get(k, "body");

		if (!json_is_object(k) || e2ee_b64_field(k, "device", E2EE_ID_LEN, NULL, v[i].device) != 0 ||
		    !json_is_string(body) ||
		    !e2ee_b64_valid(json_string_value(body), json_string_length(body), max_body))
			goto bad;
		v[i].body_in = json_string_value(body);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(v[j].device, v[i].device) == 0)
				goto bad;
		}
	}
	*out = v;
	*n = json_array_size(keys);
	return 0;
bad:
	free(v);
	return -1;
}

void e2ee_handle_send(struct conn *c, json_t *req, json_t *ref)
{
	const struct config *cfg = &c->srv->cfg;
	const struct e2ee_session *s = e2ee_session_of(c);
	const char *to = req_string(req, "to");
	json_t *e2ee = json_object_get(req, "e2ee"), *payload = json_object_get(e2ee, "payload");
	json_t *cid = json_object_get(req, "cid"), *media = json_object_get(req, "media");
	json_t *reply_to = json_object_get(req, "reply_to");
	struct store_envelope *envs = NULL;
	size_t nenvs = 0;
	struct user *peer;
	struct deferred *d;

	if (to == NULL || !json_is_object(e2ee) ||
	    (json_object_get(req, "text") != NULL && !json_is_null(json_object_get(req, "text")))) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "an encrypted send has to and e2ee, and no text");
		return;
	}
	if (to[0] != '@') {
		reply_error(c, ref, PIER_ERR_BAD_TARGET, "only private messages (@user) are encrypted");
		return;
	}
	if (chat_check_cid(c, ref, cid) != 0)
		return;
	if ((media != NULL && !json_is_null(media) &&
	     (!json_is_integer(media) || json_integer_value(media) <= 0)) ||
	    (reply_to != NULL && !json_is_null(reply_to) &&
	     (!json_is_integer(reply_to) || json_integer_value(reply_to) <= 0))) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "media and reply_to are ids");
		return;
	}
	peer = hub_find_user(&c->srv->hub, to + 1);
	if (peer == NULL) {
		reply_error(c, ref, PIER_ERR_NO_SUCH_USER, "no such user");
		return;
	}
	if (s == NULL || !s->active) {
		reply_error(c, ref, PIER_ERR_NO_DEVICE, "this session speaks for no active device");
		return;
	}
	if (!json_is_string(payload) ||
	    !e2ee_b64_valid(json_string_value(payload), json_string_length(payload),
	                    cfg->e2ee_max_payload) ||
	    read_keys(json_object_get(e2ee, "keys"), cfg->e2ee_max_envelope, &envs, &nenvs) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_ENVELOPE, "payload (base64url, at most %zu) and keys "
		            "[{device, body (at most %zu)}], one per device", cfg->e2ee_max_payload,
		            cfg->e2ee_max_envelope);
		return;
	}
	d = deferred_new(c, req, ref, STORE_APPEND, stored);
	deferred_set_target(d, NULL, peer);
	d->job.new_contact = peer != c->user && !hub_has_contact(c->user, peer);
	d->job.text = "";
	d->job.media_id = json_is_integer(media) ? json_integer_value(media) : 0;
	d->job.kind = d->job.media_id != 0 ? "file" : NULL;   /* the real kind is in the payload */
	d->job.cid = json_string_value(cid);
	d->job.reply_to = json_is_integer(reply_to) ? json_integer_value(reply_to) : 0;
	d->job.ts = pier_now_ms();
	d->job.e2ee.payload = json_string_value(payload);
	d->job.e2ee.envs_in = envs;
	d->job.e2ee.nenvs_in = nenvs;
	d->job.e2ee.device_rid = s->rid;
	d->job.e2ee.max_queue = cfg->e2ee_max_queue;
	store_submit(c->srv->store, &d->job);
}
