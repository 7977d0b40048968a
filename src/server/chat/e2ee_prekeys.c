/* e2ee_prekeys.c - prekeys: a device publishes its signed prekey and one-time prekeys
 * (prekeys); another device fetches what it needs to start sessions with a user's devices and
 * claims one one-time prekey of each (keys). Claims are in the request bucket: an attacker
 * draining someone's one-time prekeys is slowed there, and once none is left sessions start
 * from the signed prekey alone (X3DH without DH4), so draining denies nothing. A device that
 * runs low is told (prekeys_low) so its client refills. */
#include "e2ee_chat.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conn.h"
#include "deferred.h"
#include "hub.h"
#include "reply.h"
#include "server.h"
#include "xalloc.h"

#define SPK_CONTEXT "pier-spk-v1"

/* Reads "spk" when present (its signature checked with the session's device key) into d:
 * 0 (absent: d->spk_id stays 0), -1 malformed, -2 bad signature. */
static int read_spk(const json_t *req, const struct e2ee_session *s, struct store_device *d)
{
	const json_t *spk = json_object_get(req, "spk"), *idv;
	unsigned char id[E2EE_ID_LEN], key[E2EE_KEY_LEN], sig[E2EE_SIG_LEN];
	unsigned char msg[sizeof(SPK_CONTEXT) - 1 + E2EE_ID_LEN + 4 + E2EE_KEY_LEN], *p = msg;

	if (spk == NULL || json_is_null(spk))
		return 0;
	idv = json_object_get(spk, "id");
	if (!json_is_integer(idv) || json_integer_value(idv) <= 0 ||
	    json_integer_value(idv) > UINT32_MAX ||
	    e2ee_b64_field(spk, "key", E2EE_KEY_LEN, key, d->spk_key) != 0 ||
	    e2ee_b64_field(spk, "sig", E2EE_SIG_LEN, sig, d->spk_sig) != 0 ||
	    e2ee_b64_decode(s->id, E2EE_ID_LEN, id) != 0)
		return -1;
	d->spk_id = json_integer_value(idv);
	memcpy(p, SPK_CONTEXT, sizeof(SPK_CONTEXT) - 1);
	p += sizeof(SPK_CONTEXT) - 1;
	memcpy(p, id, E2EE_ID_LEN);
	p += E2EE_ID_LEN;
	*p++ = (unsigned char)(d->spk_id >> 24);
	*p++ = (unsigned char)(d->spk_id >> 16);
	*p++ = (unsigned char)(d->spk_id >> 8);
	*p++ = (unsigned char)d->spk_id;
	memcpy(p, key, E2EE_KEY_LEN);
	return crypto_sign_verify_detached(sig, msg, sizeof(msg), s->sign_key) == 0 ? 0 : -2;
}

static void prekeys_stored(struct store_job *job)
{
	struct deferred *d = job->data;
	json_t *r;

	free((void *)job->e2ee.opks);
	job->e2ee.opks = NULL;
	if (job->status == STORE_EXISTS || job->status == STORE_FULL) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_BAD_REQUEST, job->status == STORE_EXISTS
		                             ? "a one-time prekey id is there already"
		                             : "more one-time prekeys than a device may keep (%d)",
		                             d->c->srv->cfg.e2ee_max_prekeys));
		return;
	}
	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "the prekeys were not stored"));
		return;
	}
	r = reply_new("prekeys", d->ref);
	json_object_set_new(r, "opk_count", json_integer(job->e2ee.opk_count));
	deferred_finish(d, r);
}

void handle_prekeys(struct conn *c, json_t *req, json_t *ref)
{
	const struct e2ee_session *s = e2ee_session_of(c);
	const json_t *opks = json_object_get(req, "opks"), *o;
	struct store_prekey *v = NULL;
	struct store_device dev = { 0 };
	struct deferred *d;
	size_t i, n = 0;
	int rc;

	if (s == NULL) {
		reply_error(c, ref, PIER_ERR_NO_DEVICE, "this session speaks for no device");
		return;
	}
	rc = read_spk(req, s, &dev);
	if (rc == -2) {
		reply_error(c, ref, PIER_ERR_BAD_SIGNATURE, "the signed prekey's signature does not verify");
		return;
	}
	if (rc != 0 || (opks != NULL && !json_is_null(opks) &&
	                (!json_is_array(opks) || json_array_size(opks) > E2EE_OPKS_PER_REQUEST)))
		goto bad;
	n = json_is_array(opks) ? json_array_size(opks) : 0;
	if (n > 0)
		v = xcalloc(n, sizeof(*v));
	json_array_foreach(opks, i, o) {
		const json_t *idv = json_object_get(o, "id");

		if (!json_is_integer(idv) || json_integer_value(idv) < 0 ||
		    json_integer_value(idv) > UINT32_MAX ||
		    e2ee_b64_field(o, "key", E2EE_KEY_LEN, NULL, v[i].key) != 0)
			goto bad;
		v[i].id = json_integer_value(idv);
		for (size_t j = 0; j < i; j++) {
			if (v[j].id == v[i].id)
				goto bad;
		}
	}
	d = deferred_new(c, req, ref, STORE_E2EE_PREKEYS, prekeys_stored);
	d->job.e2ee.dev = dev;
	d->job.e2ee.opks = v;
	d->job.e2ee.nopks = n;
	d->job.e2ee.device_rid = s->rid;
	d->job.e2ee.max_prekeys = c->srv->cfg.e2ee_max_prekeys;
	store_submit(c->srv->store, &d->job);
	return;
bad:
	free(v);
	reply_error(c, ref, PIER_ERR_BAD_REQUEST, "prekeys: spk {id, key, sig}; opks at most %d of "
	            "{id, key} with different ids", E2EE_OPKS_PER_REQUEST);
}

static void keys_read(struct store_job *job)
{
	struct deferred *d = job->data;
	struct store_e2ee *e = &job->e2ee;
	json_t *r, *list;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not read the keys"));
		return;
	}
	e2ee_mark_listed(&job->e2ee);
	r = reply_new("keys", d->ref);
	json_object_set_new(r, "user", json_string(d->peer->name));
	json_object_set_new(r, "version", json_integer(e->version_out));
	if (e->list_out != NULL) {
		json_object_set_new(r, "list", json_string(e->list_out));
		json_object_set_new(r, "sig", json_string(e->sig_out));
	}
	list = json_array();
	for (size_t i = 0; i < e->ndevices; i++) {
		const struct store_device *v = &e->devices[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:{s:I, s:s, s:s}}", "id", v->id,
		                      "sign_key", v->sign_key, "dh_key", v->dh_key, "spk",
		                      "id", (json_int_t)v->spk_id, "key", v->spk_key, "sig", v->spk_sig);

		if (v->has_opk)
			json_object_set_new(o, "opk", json_pack("{s:I, s:s}", "id", (json_int_t)v->opk.id,
			                                        "key", v->opk.key));
		if (!v->listed)
			json_object_set_new(o, "listed", json_false());
		json_array_append_new(list, o);
		/* Its owner's client refills when told; told at each claim under the mark. */
		if (v->has_opk && v->opk_count < E2EE_PREKEYS_LOW) {
			struct conn *owner = e2ee_session_for_device(d->peer, v->rid);

			if (owner != NULL)
				conn_send_json(owner, json_pack("{s:s, s:I}", "op", "prekeys_low",
				                                "count", (json_int_t)v->opk_count));
		}
	}
	json_object_set_new(r, "devices", list);
	deferred_finish(d, r);
}

void handle_keys(struct conn *c, json_t *req, json_t *ref)
{
	const char *name = req_string(req, "user");
	const struct e2ee_session *s = e2ee_session_of(c);
	struct user *u;
	struct deferred *d;

	if (name == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "keys needs a string field user");
		return;
	}
	u = hub_find_user(&c->srv->hub, name);
	if (u == NULL) {
		reply_error(c, ref, PIER_ERR_NO_SUCH_USER, "no such user");
		return;
	}
	d = deferred_new(c, req, ref, STORE_E2EE_KEYS, keys_read);
	d->peer = u;
	d->job.e2ee.peer_id = u->id;
	d->job.e2ee.device_rid = s != NULL ? s->rid : 0;
	store_submit(c->srv->store, &d->job);
}
