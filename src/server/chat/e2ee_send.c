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
	/* the event says only the reply's id, last (wire_msg_live; chat_deliver_msg on the other
	 * nodes) */
	m.reply_to = job->reply_to;
	if (srv->cluster != NULL) {
		conn_ref(d->c);
		cluster_msg_stored(srv->cluster, &m, d->c);
		return;
	}
	/* Every session with a device got its envelope: no msg event to build (offline.c, which
	 * e2ee_deliver_msg_event goes through for the recipient, skips such sessions too). */
	if (!has_session_without_device(d->peer, d->c) &&
	    !has_session_without_device(d->user, d->c))
		return;
	/* Written straight into its buffer (wire_msg.h); the tree only for a string that is not
	 * UTF-8. */
	b = wire_msg_live_buf(&srv->hub, &m);
	e2ee_deliver_msg_event(d->user, d->peer, b, job->msg_id, d->c);
	srv->metrics.deliveries += b->refs - 1;
	sbuf_unref(b);
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

/* A device id's text: base64url of E2EE_ID_LEN bytes. */
#define DEVICE_TEXT_LEN ((E2EE_ID_LEN * 4 + 2) / 3)
_Static_assert(DEVICE_TEXT_LEN + 1 == sizeof(((struct store_envelope *)0)->device),
               "a device id's text fills store_envelope.device");

/* Reads keys (n of them) into a new array, body_in pointing into keys; -1 when malformed (no
 * keys, too many, a device twice or not a device id, a body that is not base64url or over
 * max). */
static int read_keys(const struct fastreq_key *keys, size_t n, size_t max_body,
                     struct store_envelope **out)
{
	struct store_envelope *v;

	*out = NULL;
	if (keys == NULL || n == 0 || n > KEYS_MAX)
		return -1;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		struct fastreq_str dev = keys[i].device, body = keys[i].body;

		if (dev.s == NULL || dev.len != DEVICE_TEXT_LEN || !e2ee_b64_form(dev.s, dev.len) ||
		    body.s == NULL || !e2ee_b64_valid(body.s, body.len, max_body))
			goto bad;
		memcpy(v[i].device, dev.s, DEVICE_TEXT_LEN);
		v[i].device[DEVICE_TEXT_LEN] = '\0';
		v[i].body_in = body.s;
		for (size_t j = 0; j < i; j++) {
			if (memcmp(v[j].device, v[i].device, DEVICE_TEXT_LEN) == 0)
				goto bad;
		}
	}
	*out = v;
	return 0;
bad:
	free(v);
	return -1;
}

void e2ee_send(struct conn *c, const struct e2ee_send_req *r, json_t *ref)
{
	const struct config *cfg = &c->srv->cfg;
	const struct e2ee_session *s = e2ee_session_of(c);
	struct store_envelope *envs = NULL;
	struct user *peer;
	struct deferred *d;
	size_t bytes;

	if (r->to == NULL || r->e2ee_bad || r->text) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "an encrypted send has to and e2ee, and no text");
		return;
	}
	if (r->to[0] != '@') {
		reply_error(c, ref, PIER_ERR_BAD_TARGET, "only private messages (@user) are encrypted");
		return;
	}
	if (chat_check_cid(c, ref, r->cid_bad, r->cid, r->cid_len) != 0)
		return;
	if (r->media < 0 || r->reply_to < 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "media and reply_to are ids");
		return;
	}
	peer = hub_find_user(&c->srv->hub, r->to + 1);
	if (peer == NULL) {
		reply_error(c, ref, PIER_ERR_NO_SUCH_USER, "no such user");
		return;
	}
	if (s == NULL || !s->active) {
		reply_error(c, ref, PIER_ERR_NO_DEVICE, "this session speaks for no active device");
		return;
	}
	if (r->payload.s == NULL ||
	    !e2ee_b64_valid(r->payload.s, r->payload.len, cfg->e2ee_max_payload) ||
	    read_keys(r->keys, r->nkeys, cfg->e2ee_max_envelope, &envs) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_ENVELOPE, "payload (base64url, at most %zu) and keys "
		            "[{device, body (at most %zu)}], one per device", cfg->e2ee_max_payload,
		            cfg->e2ee_max_envelope);
		return;
	}
	/* The job's strings are copied into d (one allocation): the request may be gone. */
	bytes = r->payload.len + 1 + (r->cid != NULL ? r->cid_len + 1 : 0);
	for (size_t i = 0; i < r->nkeys; i++)
		bytes += r->keys[i].body.len + 1;
	d = deferred_new_sized(c, ref, STORE_APPEND, stored, bytes);
	deferred_set_target(d, NULL, peer);
	d->job.new_contact = peer != c->user && !hub_has_contact(c->user, peer);
	d->job.text = "";
	d->job.media_id = r->media;
	d->job.kind = d->job.media_id != 0 ? "file" : NULL;   /* the real kind is in the payload */
	d->job.cid = r->cid != NULL ? deferred_copy(d, r->cid, r->cid_len) : NULL;
	d->job.reply_to = r->reply_to;
	d->job.ts = pier_now_ms();
	d->job.e2ee.payload = deferred_copy(d, r->payload.s, r->payload.len);
	for (size_t i = 0; i < r->nkeys; i++)
		envs[i].body_in = deferred_copy(d, r->keys[i].body.s, r->keys[i].body.len);
	d->job.e2ee.envs_in = envs;
	d->job.e2ee.nenvs_in = r->nkeys;
	d->job.e2ee.device_rid = s->rid;
	d->job.e2ee.max_queue = cfg->e2ee_max_queue;
	store_submit(c->srv->store, &d->job);
}

/* media or reply_to as struct e2ee_send_req has it: 0 absent or null, -1 bad, else the id. */
static int64_t send_id(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return 0;
	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : -1;
}

/* A string member of o as struct fastreq_str: s NULL when absent or not a string. */
static struct fastreq_str tree_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	struct fastreq_str out = {json_string_value(v), json_string_length(v)};

	return out;
}

void e2ee_handle_send(struct conn *c, json_t *req, json_t *ref)
{
	json_t *e2ee = json_object_get(req, "e2ee"), *keys = json_object_get(e2ee, "keys");
	json_t *text = json_object_get(req, "text"), *cid = json_object_get(req, "cid");
	struct fastreq_key list[KEYS_MAX];
	struct e2ee_send_req r = {
		.to = req_string(req, "to"),
		.text = text != NULL && !json_is_null(text),
		.e2ee_bad = !json_is_object(e2ee),
		.payload = tree_str(e2ee, "payload"),
		.keys = list,
		.cid = json_string_value(cid),
		.cid_len = json_string_length(cid),
		.cid_bad = cid != NULL && !json_is_string(cid),
		.media = send_id(json_object_get(req, "media")),
		.reply_to = send_id(json_object_get(req, "reply_to")),
	};
	const json_t *k;
	size_t i;

	if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > KEYS_MAX)
		r.keys = NULL;
	json_array_foreach(keys, i, k) {
		if (r.keys == NULL || !json_is_object(k)) {
			r.keys = NULL;
			break;
		}
		list[i].device = tree_str(k, "device");
		list[i].body = tree_str(k, "body");
	}
	r.nkeys = r.keys != NULL ? json_array_size(keys) : 0;
	e2ee_send(c, &r, ref);
}
