/* e2ee_devices.c - a user's devices: registering one (pending), binding a session to one
 * (device_hello, proved by a signature over the session's challenge), listing them, and
 * publishing the signed device list that makes them active (docs/PROTOCOL.md).
 *
 * What the server checks itself: every signature it can (the signed prekey's and the proof
 * with the device's own key, the list's with the list's account key), the list's form
 * (devlist.c) and user; the store checks what depends on stored state (the version, the
 * registered keys, the account key) in the transaction that changes it.
 */
#include "e2ee_chat.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conn.h"
#include "deferred.h"
#include "devlist.h"
#include "hub.h"
#include "log.h"
#include "remote.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "xalloc.h"

#define SPK_CONTEXT   "pier-spk-v1"
#define HELLO_CONTEXT "pier-hello-v1"
#define LIST_CONTEXT  "pier-devlist-v1"

static const char *state_name(int state)
{
	switch (state) {
	case STORE_DEVICE_ACTIVE:
		return "active";
	case STORE_DEVICE_PENDING:
		return "pending";
	default:
		return "revoked";
	}
}

/* Whether proof is Ed25519(sign_key, "pier-hello-v1" || challenge). */
static bool proof_valid(const unsigned char sign_key[E2EE_KEY_LEN],
                        const unsigned char challenge[E2EE_CHALLENGE_LEN],
                        const unsigned char proof[E2EE_SIG_LEN])
{
	unsigned char msg[sizeof(HELLO_CONTEXT) - 1 + E2EE_CHALLENGE_LEN];

	memcpy(msg, HELLO_CONTEXT, sizeof(HELLO_CONTEXT) - 1);
	memcpy(msg + sizeof(HELLO_CONTEXT) - 1, challenge, E2EE_CHALLENGE_LEN);
	return crypto_sign_verify_detached(proof, msg, sizeof(msg), sign_key) == 0;
}

/* Reads a 32-bit id member of o. 0, or -1. */
static int u32_field(const json_t *o, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* Reads a signed prekey {"id","key","sig"} into d's spk fields and checks its signature by
 * device id with sign_key. 0, -1 (malformed), -2 (the signature does not verify). */
static int read_spk(const json_t *spk, const unsigned char id[E2EE_ID_LEN],
                    const unsigned char sign_key[E2EE_KEY_LEN], struct store_device *d)
{
	unsigned char key[E2EE_KEY_LEN], sig[E2EE_SIG_LEN];
	unsigned char msg[sizeof(SPK_CONTEXT) - 1 + E2EE_ID_LEN + 4 + E2EE_KEY_LEN], *p = msg;

	if (!json_is_object(spk) || u32_field(spk, "id", &d->spk_id) != 0 || d->spk_id == 0 ||
	    e2ee_b64_field(spk, "key", E2EE_KEY_LEN, key, d->spk_key) != 0 ||
	    e2ee_b64_field(spk, "sig", E2EE_SIG_LEN, sig, d->spk_sig) != 0)
		return -1;
	memcpy(p, SPK_CONTEXT, sizeof(SPK_CONTEXT) - 1);
	p += sizeof(SPK_CONTEXT) - 1;
	memcpy(p, id, E2EE_ID_LEN);
	p += E2EE_ID_LEN;
	*p++ = (unsigned char)(d->spk_id >> 24);
	*p++ = (unsigned char)(d->spk_id >> 16);
	*p++ = (unsigned char)(d->spk_id >> 8);
	*p++ = (unsigned char)d->spk_id;
	memcpy(p, key, E2EE_KEY_LEN);
	return crypto_sign_verify_detached(sig, msg, sizeof(msg), sign_key) == 0 ? 0 : -2;
}

/* Reads "opks" (absent: none) into a new array (*out, *n; NULL when none): at most max, ids
 * 32-bit and not repeated. 0, or -1. */
static int read_opks(const json_t *req, size_t max, struct store_prekey **out, size_t *n)
{
	const json_t *opks = json_object_get(req, "opks"), *o;
	struct store_prekey *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (opks == NULL || json_is_null(opks))
		return 0;
	if (!json_is_array(opks) || json_array_size(opks) > max)
		return -1;
	if (json_array_size(opks) == 0)
		return 0;
	v = xcalloc(json_array_size(opks), sizeof(*v));
	json_array_foreach(opks, i, o) {
		if (!json_is_object(o) || u32_field(o, "id", &v[i].id) != 0 ||
		    e2ee_b64_field(o, "key", E2EE_KEY_LEN, NULL, v[i].key) != 0)
			goto bad;
		for (size_t j = 0; j < i; j++) {
			if (v[j].id == v[i].id)
				goto bad;
		}
	}
	*out = v;
	*n = json_array_size(opks);
	return 0;
bad:
	free(v);
	return -1;
}

/* Binds c to the device of job (registered or said hello to). */
static void bind_device(struct conn *c, const struct store_device *d, int64_t rid,
                        const unsigned char sign_key[E2EE_KEY_LEN])
{
	struct e2ee_session *s = c->e2ee;

	e2ee_session_unbind(c);
	s->rid = rid;
	snprintf(s->id, sizeof(s->id), "%s", d->id);
	memcpy(s->sign_key, sign_key, E2EE_KEY_LEN);
	s->active = d->state == STORE_DEVICE_ACTIVE;
}

/* ---- device_register ---- */

/* Tells the user's other sessions that a device waits for approval, so that an existing
 * device shows it (and its code) at once instead of when it next asks. */
static void announce_pending(struct server *srv, struct user *u, const char *id,
                             const struct conn *except)
{
	json_t *ev = json_pack("{s:s, s:s, s:s}", "op", "devices_changed", "user", u->name,
	                       "pending", id);
	struct sbuf *b = sbuf_from_json(ev);

	hub_send_user(u, b, except);
	remote_event(srv, CLUSTER_EV_DEVICES, u->name, NULL, id, 0, 0, false);
	sbuf_unref(b);
	json_decref(ev);
}

static void registered(struct store_job *job)
{
	struct deferred *d = job->data;
	struct conn *c = d->c;
	json_t *r;

	free((void *)job->e2ee.opks);
	job->e2ee.opks = NULL;
	if (c->e2ee != NULL)
		c->e2ee->binding = false;
	switch (job->status) {
	case STORE_OK:
		break;
	case STORE_EXISTS:
		deferred_finish(d, error_new(d->ref, PIER_ERR_DEVICE_EXISTS, "that device id is taken"));
		return;
	case STORE_FULL:
		deferred_finish(d, error_new(d->ref, PIER_ERR_TOO_MANY_DEVICES,
		                             "too many devices (%d listed, 3 pending)",
		                             c->srv->cfg.e2ee_max_devices));
		return;
	default:
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "the device was not stored"));
		return;
	}
	if (!c->closing && c->e2ee != NULL) {
		unsigned char sign_key[E2EE_KEY_LEN];

		if (e2ee_b64_decode(job->e2ee.dev.sign_key, E2EE_KEY_LEN, sign_key) == 0)
			bind_device(c, &job->e2ee.dev, job->e2ee.rid, sign_key);
	}
	log_info("e2ee: %s registered device %s (pending)", d->user->name, job->e2ee.dev.id);
	announce_pending(c->srv, d->user, job->e2ee.dev.id, c);
	r = reply_new("device_register", d->ref);
	json_object_set_new(r, "id", json_string(job->e2ee.dev.id));
	json_object_set_new(r, "state", json_string("pending"));
	json_object_set_new(r, "opk_count", json_integer(job->e2ee.opk_count));
	deferred_finish(d, r);
}

void handle_device_register(struct conn *c, json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	struct e2ee_session *s = c->e2ee;
	unsigned char id[E2EE_ID_LEN], sign_key[E2EE_KEY_LEN], proof[E2EE_SIG_LEN];
	struct store_device dev = { 0 };
	struct store_prekey *opks = NULL;
	const json_t *name = json_object_get(req, "name");
	size_t nopks = 0;
	struct deferred *d;
	int rc;

	if (s == NULL || s->rid != 0 || s->binding) {
		reply_error(c, ref, PIER_ERR_ALREADY_HAS_DEVICE, "this session speaks for a device already");
		return;
	}
	if (e2ee_b64_field(req, "id", E2EE_ID_LEN, id, dev.id) != 0 ||
	    e2ee_b64_field(req, "sign_key", E2EE_KEY_LEN, sign_key, dev.sign_key) != 0 ||
	    e2ee_b64_field(req, "dh_key", E2EE_KEY_LEN, NULL, dev.dh_key) != 0 ||
	    e2ee_b64_field(req, "proof", E2EE_SIG_LEN, proof, NULL) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST,
		            "device_register needs id (16 bytes), sign_key, dh_key (32) and proof (64), "
		            "base64url");
		return;
	}
	if (name != NULL && !json_is_null(name) &&
	    (!json_is_string(name) || json_string_length(name) > STORE_DEVICE_NAME_MAX ||
	     strlen(json_string_value(name)) != json_string_length(name))) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "name is a string of at most %d bytes",
		            STORE_DEVICE_NAME_MAX);
		return;
	}
	if (json_is_string(name))
		snprintf(dev.name, sizeof(dev.name), "%s", json_string_value(name));
	rc = read_spk(json_object_get(req, "spk"), id, sign_key, &dev);
	if (rc == -1 || read_opks(req, (size_t)(srv->cfg.e2ee_max_prekeys < E2EE_OPKS_PER_REQUEST
	                                        ? srv->cfg.e2ee_max_prekeys : E2EE_OPKS_PER_REQUEST),
	                          &opks, &nopks) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST,
		            "spk is {id, key, sig}; opks at most %d of {id, key} with different ids",
		            E2EE_OPKS_PER_REQUEST);
		return;
	}
	if (rc != 0 || !proof_valid(sign_key, s->challenge, proof)) {
		free(opks);
		reply_error(c, ref, PIER_ERR_BAD_SIGNATURE, rc != 0 ? "the signed prekey's signature "
		            "does not verify" : "the proof does not verify with sign_key");
		return;
	}
	s->binding = true;
	d = deferred_new(c, req, ref, STORE_E2EE_REGISTER, registered);
	d->job.e2ee.dev = dev;
	d->job.e2ee.opks = opks;
	d->job.e2ee.nopks = nopks;
	d->job.e2ee.max_devices = srv->cfg.e2ee_max_devices;
	d->job.e2ee.max_prekeys = srv->cfg.e2ee_max_prekeys;
	d->job.e2ee.pending_cutoff = e2ee_pending_cutoff(srv);
	store_submit(srv->store, &d->job);
}

/* ---- device_hello ---- */

static void helloed(struct store_job *job)
{
	struct deferred *d = job->data;
	struct conn *c = d->c;
	struct e2ee_session *s = c->e2ee;
	const struct store_e2ee *e = &job->e2ee;
	unsigned char sign_key[E2EE_KEY_LEN], proof[E2EE_SIG_LEN];
	json_t *r;
	struct conn *other;
	bool ok;

	if (s != NULL)
		s->binding = false;
	if (job->status == STORE_NOT_FOUND || job->status == STORE_REVOKED) {
		deferred_finish(d, job->status == STORE_REVOKED
		                ? error_new(d->ref, PIER_ERR_DEVICE_REVOKED, "the device was removed")
		                : error_new(d->ref, PIER_ERR_NO_SUCH_DEVICE, "no such device"));
		return;
	}
	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not read the device"));
		return;
	}
	if (c->closing || s == NULL) {
		deferred_finish(d, reply_new("device_hello", d->ref));
		return;
	}
	ok = e2ee_b64_decode(e->dev.sign_key, E2EE_KEY_LEN, sign_key) == 0 &&
	     e2ee_b64_field(d->req, "proof", E2EE_SIG_LEN, proof, NULL) == 0 &&
	     proof_valid(sign_key, s->challenge, proof);
	if (!ok) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_BAD_SIGNATURE,
		                             "the proof does not verify with the device's key"));
		return;
	}
	other = e2ee_session_for_device(d->user, e->rid);
	if (other != NULL && other != c) {
		e2ee_session_unbind(other);
		conn_send_json(other, json_pack("{s:s, s:s}", "op", "device_moved", "id", e->dev.id));
	}
	bind_device(c, &e->dev, e->rid, sign_key);
	r = reply_new("device_hello", d->ref);
	json_object_set_new(r, "id", json_string(e->dev.id));
	json_object_set_new(r, "state", json_string(state_name(e->state)));
	json_object_set_new(r, "opk_count", json_integer(e->opk_count));
	json_object_set_new(r, "queued", json_integer(e->queued));
	/* The queue's first page is a store job: its envelopes come after this reply. Started
	 * while d still holds c. */
	e2ee_queue_start(c);
	deferred_finish(d, r);
}

void handle_device_hello(struct conn *c, json_t *req, json_t *ref)
{
	struct e2ee_session *s = c->e2ee;
	char id[STORE_DEVICE_ID_TEXT + 1];
	struct deferred *d;

	if (s == NULL || s->rid != 0 || s->binding) {
		reply_error(c, ref, PIER_ERR_ALREADY_HAS_DEVICE, "this session speaks for a device already");
		return;
	}
	if (e2ee_b64_field(req, "id", E2EE_ID_LEN, NULL, id) != 0 ||
	    e2ee_b64_field(req, "proof", E2EE_SIG_LEN, NULL, NULL) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST,
		            "device_hello needs id (16 bytes) and proof (64), base64url");
		return;
	}
	s->binding = true;
	d = deferred_new(c, req, ref, STORE_E2EE_HELLO, helloed);
	d->keep = json_string(id);
	d->job.e2ee.device_id = json_string_value(d->keep);
	d->job.e2ee.pending_cutoff = e2ee_pending_cutoff(c->srv);
	store_submit(c->srv->store, &d->job);
}

/* ---- devices ---- */

void e2ee_mark_listed(struct store_e2ee *e)
{
	struct pier_devlist *l = NULL;
	unsigned char *bytes = NULL;
	size_t len = 0;
	bool parsed = false;

	if (e->list_out != NULL) {
		bytes = xmalloc(PIER_DEVLIST_MAX_BYTES);
		l = xmalloc(sizeof(*l));
		parsed = sodium_base642bin(bytes, PIER_DEVLIST_MAX_BYTES, e->list_out,
		                           strlen(e->list_out), NULL, &len, NULL,
		                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
		         pier_devlist_parse(bytes, len, l) == PIER_DEVLIST_OK;
	}
	for (size_t i = 0; i < e->ndevices; i++) {
		unsigned char id[E2EE_ID_LEN];

		e->devices[i].listed = parsed && e2ee_b64_decode(e->devices[i].id, E2EE_ID_LEN, id) == 0 &&
		                       pier_devlist_find(l, id) >= 0;
	}
	free(l);
	free(bytes);
}

static json_t *devices_json(const struct store_e2ee *e)
{
	json_t *list = json_array();

	for (size_t i = 0; i < e->ndevices; i++) {
		const struct store_device *v = &e->devices[i];

		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", v->id,
		                      "sign_key", v->sign_key, "dh_key", v->dh_key, "name", v->name,
		                      "state", state_name(v->state), "created", (json_int_t)v->created);

		if (v->state == STORE_DEVICE_ACTIVE && !v->listed)
			json_object_set_new(o, "listed", json_false());
		json_array_append_new(list, o);
	}
	return list;
}

/* Sets "version" and, when the user has a list, "list" and "sig" on r. */
static void set_list(json_t *r, const struct store_e2ee *e)
{
	json_object_set_new(r, "version", json_integer(e->version_out));
	if (e->list_out != NULL) {
		json_object_set_new(r, "list", json_string(e->list_out));
		json_object_set_new(r, "sig", json_string(e->sig_out));
	}
}

static void devices_read(struct store_job *job)
{
	struct deferred *d = job->data;
	json_t *r;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not read the devices"));
		return;
	}
	e2ee_mark_listed(&job->e2ee);
	r = reply_new("devices", d->ref);
	json_object_set_new(r, "user", json_string(d->peer->name));
	set_list(r, &job->e2ee);
	json_object_set_new(r, "devices", devices_json(&job->e2ee));
	deferred_finish(d, r);
}

void handle_devices(struct conn *c, json_t *req, json_t *ref)
{
	const char *name = req_string(req, "user");
	struct user *u = c->user;
	struct deferred *d;

	if (name != NULL) {
		u = hub_find_user(&c->srv->hub, name);
		if (u == NULL) {
			reply_error(c, ref, PIER_ERR_NO_SUCH_USER, "no such user");
			return;
		}
	}
	d = deferred_new(c, req, ref, STORE_E2EE_DEVICES, devices_read);
	d->peer = u;
	d->job.e2ee.peer_id = u->id;
	/* Pending devices are one's own business: another user's are never shown. */
	d->job.e2ee.include_pending = u == c->user;
	d->job.e2ee.pending_cutoff = e2ee_pending_cutoff(c->srv);
	store_submit(c->srv->store, &d->job);
}

/* ---- a list changed on another node (cluster) ---- */

struct refresh {
	struct server *srv;
	struct user *user;
	struct store_job job;
};

static void refreshed(struct store_job *job)
{
	struct refresh *r = job->data;
	struct user *u = r->user;

	for (size_t i = 0; job->status == STORE_OK && i < u->nsessions; i++) {
		struct conn *c = u->sessions[i];
		struct e2ee_session *s = c->e2ee;
		const struct store_device *found = NULL;

		if (s == NULL || s->rid == 0 || c->closing)
			continue;
		for (size_t k = 0; k < job->e2ee.ndevices && found == NULL; k++) {
			if (job->e2ee.devices[k].rid == s->rid)
				found = &job->e2ee.devices[k];
		}
		if (found != NULL) {
			s->active = found->state == STORE_DEVICE_ACTIVE;
			continue;
		}
		/* Neither active nor pending any more: revoked by a list published elsewhere. */
		log_info("e2ee: %s's device %s revoked (on another node)", u->name, s->id);
		conn_send_json(c, json_pack("{s:s, s:s}", "op", "device_revoked", "id", s->id));
		e2ee_session_unbind(c);
	}
	store_job_release(job);
	free(r);
}

void e2ee_devices_refresh(struct server *srv, struct user *u)
{
	struct refresh *r;
	bool bound = false;

	for (size_t i = 0; i < u->nsessions && !bound; i++)
		bound = u->sessions[i]->e2ee != NULL && u->sessions[i]->e2ee->rid != 0;
	if (!bound)
		return;
	r = xcalloc(1, sizeof(*r));
	r->srv = srv;
	r->user = u;
	store_job_init(&r->job, STORE_E2EE_DEVICES);
	r->job.e2ee.peer_id = u->id;
	r->job.e2ee.include_pending = true;
	r->job.e2ee.pending_cutoff = e2ee_pending_cutoff(srv);
	r->job.done = refreshed;
	r->job.data = r;
	store_submit(srv->store, &r->job);
}

/* ---- devices_publish ---- */

/* The published list's devices as the store compares them (base64url of their keys). */
struct publish_op {
	struct store_device listed[PIER_DEVLIST_MAX_DEVICES];
	char ak[STORE_KEY_TEXT + 1];
};

static void after_publish(struct server *srv, struct user *u, const struct store_e2ee *e,
                          const struct publish_op *p)
{
	json_t *ev;
	struct sbuf *b;

	for (size_t i = 0; i < e->ndevices; i++) {
		struct conn *gone = e2ee_session_for_device(u, e->devices[i].rid);

		log_info("e2ee: %s's device %s revoked", u->name, e->devices[i].id);
		if (gone == NULL)
			continue;
		e2ee_session_unbind(gone);
		conn_send_json(gone, json_pack("{s:s, s:s}", "op", "device_revoked",
		                               "id", e->devices[i].id));
	}
	/* Sessions of devices the list names are now active's: they may send. */
	for (size_t i = 0; i < u->nsessions; i++) {
		struct e2ee_session *s = u->sessions[i]->e2ee;

		if (s == NULL || s->rid == 0)
			continue;
		for (size_t j = 0; j < e->nlisted; j++) {
			if (strcmp(p->listed[j].id, s->id) == 0)
				s->active = true;
		}
	}
	ev = json_pack("{s:s, s:s, s:I}", "op", "devices_changed", "user", u->name,
	               "version", (json_int_t)e->version_out);
	b = sbuf_from_json(ev);
	hub_send_user(u, b, NULL);
	remote_event(srv, CLUSTER_EV_DEVICES, u->name, NULL, NULL, e->version_out, 0, false);
	sbuf_unref(b);
	json_decref(ev);
	(void)srv;
}

static void published(struct store_job *job)
{
	struct deferred *d = job->data;
	struct publish_op *p = (struct publish_op *)(void *)job->e2ee.listed;
	json_t *r;

	switch (job->status) {
	case STORE_OK:
		break;
	case STORE_STALE:
		r = error_new(d->ref, PIER_ERR_STALE_VERSION, "the current list is version %lld",
		              (long long)job->e2ee.version_out);
		json_object_set_new(r, "version", json_integer(job->e2ee.version_out));
		goto answer;
	case STORE_NOT_FOUND:
		r = error_new(d->ref, PIER_ERR_NO_SUCH_DEVICE,
		              "the list names a device not registered by you with those keys");
		goto answer;
	case STORE_CONFLICT:
		r = error_new(d->ref, PIER_ERR_BAD_LIST, job->e2ee.reset
		              ? "a reset lists only this session's device"
		              : "another account key needs the reset flag");
		goto answer;
	case STORE_DENIED:
		r = error_new(d->ref, PIER_ERR_RESET_NEEDS_PASSWORD,
		              "a reset needs a session logged in with the password");
		goto answer;
	default:
		r = error_new(d->ref, PIER_ERR_STORE_FAILED, "the list was not stored");
		goto answer;
	}
	after_publish(d->c->srv, d->user, &job->e2ee, p);
	r = reply_new("devices_publish", d->ref);
	json_object_set_new(r, "version", json_integer(job->e2ee.version_out));
answer:
	job->e2ee.listed = NULL;
	free(p);
	deferred_finish(d, r);
}

void handle_devices_publish(struct conn *c, json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	const json_t *lj = json_object_get(req, "list");
	const char *list = req_string(req, "list"), *sig = req_string(req, "sig");
	unsigned char sigbin[E2EE_SIG_LEN], *bytes = NULL, *msg = NULL;
	size_t len = 0;
	struct pier_devlist *l = NULL;
	struct publish_op *p = NULL;
	char user_key[PIER_KEY_MAX];
	struct deferred *d;

	if (c->e2ee == NULL || c->e2ee->rid == 0) {
		reply_error(c, ref, PIER_ERR_NO_DEVICE, "publish from a session with a device");
		return;
	}
	if (list == NULL || sig == NULL ||
	    json_string_length(lj) > sodium_base64_ENCODED_LEN(PIER_DEVLIST_MAX_BYTES,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
	    e2ee_b64_field(req, "sig", E2EE_SIG_LEN, sigbin, NULL) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_LIST, "list (base64url, at most %d bytes) and sig "
		            "(64 bytes) are needed", PIER_DEVLIST_MAX_BYTES);
		return;
	}
	bytes = xmalloc(PIER_DEVLIST_MAX_BYTES);
	l = xmalloc(sizeof(*l));
	pier_name_key(c->user->name, user_key);
	if (sodium_base642bin(bytes, PIER_DEVLIST_MAX_BYTES, list, strlen(list), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    pier_devlist_parse(bytes, len, l) != PIER_DEVLIST_OK || strcmp(l->user, user_key) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_LIST, "not a device list of yours");
		goto out;
	}
	msg = xmalloc(sizeof(LIST_CONTEXT) - 1 + len);
	memcpy(msg, LIST_CONTEXT, sizeof(LIST_CONTEXT) - 1);
	memcpy(msg + sizeof(LIST_CONTEXT) - 1, bytes, len);
	if (crypto_sign_verify_detached(sigbin, msg, sizeof(LIST_CONTEXT) - 1 + len, l->ak) != 0) {
		reply_error(c, ref, PIER_ERR_BAD_SIGNATURE, "the list's signature does not verify "
		            "with its account key");
		goto out;
	}
	if (l->count > (unsigned)srv->cfg.e2ee_max_devices) {
		reply_error(c, ref, PIER_ERR_TOO_MANY_DEVICES, "a list names at most %d devices",
		            srv->cfg.e2ee_max_devices);
		goto out;
	}
	if ((l->flags & PIER_DEVLIST_FLAG_RESET) && !c->e2ee->password_login) {
		reply_error(c, ref, PIER_ERR_RESET_NEEDS_PASSWORD,
		            "a reset needs a session logged in with the password");
		goto out;
	}
	p = xcalloc(1, sizeof(*p));
	for (unsigned i = 0; i < l->count; i++) {
		struct store_device *v = &p->listed[i];

		sodium_bin2base64(v->id, sizeof(v->id), l->dev[i].id, PIER_DEVICE_ID_LEN,
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_bin2base64(v->sign_key, sizeof(v->sign_key), l->dev[i].sign_key,
		                  PIER_DEVLIST_KEY_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_bin2base64(v->dh_key, sizeof(v->dh_key), l->dev[i].dh_key,
		                  PIER_DEVLIST_KEY_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	}
	sodium_bin2base64(p->ak, sizeof(p->ak), l->ak, PIER_DEVLIST_KEY_LEN,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	d = deferred_new(c, req, ref, STORE_E2EE_PUBLISH, published);
	/* listed is the first member of p: published() gets p back from it and frees it. */
	d->job.e2ee.listed = p->listed;
	d->job.e2ee.nlisted = l->count;
	d->job.e2ee.ak = p->ak;
	d->job.e2ee.list = list;
	d->job.e2ee.sig = sig;
	d->job.e2ee.version = l->version;
	d->job.e2ee.reset = (l->flags & PIER_DEVLIST_FLAG_RESET) != 0;
	d->job.e2ee.reset_allowed = c->e2ee->password_login;
	d->job.e2ee.device_rid = c->e2ee->rid;
	d->job.e2ee.pending_cutoff = e2ee_pending_cutoff(srv);
	store_submit(srv->store, &d->job);
out:
	free(msg);
	free(l);
	free(bytes);
}
