/* pier_e2ee_msg.c - encrypted messages at the device manager's level: reading `keys` and
 * `devices` replies (lists trusted, bundles kept, unsigned devices reported), encrypting a
 * message once as a payload and its key once per device of both people (docs/E2EE.md
 * "Envelopes and payloads"), and opening `envelope` events: the sender device must be in
 * the sender's trusted list, the payload's `peer` must name this conversation, a grant must
 * come from one's own device and carry the account key of one's list. */
#include "pier_e2ee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pier.h"
#include "xalloc.h"

#define PAYLOAD_PLAIN_MAX  (18 * 1024)   /* the payload JSON before sealing: 16 KiB of text
                                          * and its fields fit; the server's limit is 24 KiB
                                          * of base64url */
#define PAYLOAD_B64_MAX    (64 * 1024)   /* what is decoded from an envelope event at most */

/* A name the server or a payload gave, as a key: "" when it is none (no user has that key). */
static void lower(const char *in, char out[PIER_NAME_MAX + 1])
{
	pier_e2ee_user_key(in, out, PIER_NAME_MAX + 1);
}

static void notice_dev(struct pier_e2ee_mgr *m, const char *kind, const char *user,
                       const uint8_t id[PIER_E2EE_ID_LEN], const char *why)
{
	json_t *n = json_pack("{s:s, s:s}", "notice", kind, "user", user);

	pier_e2ee_json_set_bytes(n, "device", id, PIER_E2EE_ID_LEN);
	if (why != NULL)
		json_object_set_new(n, "why", json_string(why));
	json_array_append_new(m->notices, n);
}

static const struct pier_devlist *list_of(struct pier_e2ee_mgr *m, const char *user)
{
	struct pier_e2ee_contact *k = pier_e2ee_contact_find(&m->contacts, user);

	return k != NULL ? k->list : NULL;
}

static struct pier_e2ee_kept_bundle *kept_find(struct pier_e2ee_mgr *m, const uint8_t *id)
{
	for (size_t i = 0; i < m->nkept; i++)
		if (memcmp(m->kept[i].dev.keys.id, id, PIER_E2EE_ID_LEN) == 0)
			return &m->kept[i];
	return NULL;
}

static void kept_drop(struct pier_e2ee_mgr *m, struct pier_e2ee_kept_bundle *k)
{
	size_t i = (size_t)(k - m->kept);

	memmove(&m->kept[i], &m->kept[i + 1], (m->nkept - i - 1) * sizeof m->kept[0]);
	m->nkept--;
}

static void kept_add(struct pier_e2ee_mgr *m, const char *user,
                     const struct pier_e2ee_bundle_device *d)
{
	struct pier_e2ee_kept_bundle *k = kept_find(m, d->keys.id);

	if (k == NULL) {
		if (m->nkept == PIER_E2EE_KEPT_MAX)
			kept_drop(m, &m->kept[0]);      /* the oldest */
		k = &m->kept[m->nkept++];
	}
	snprintf(k->user, sizeof k->user, "%s", user);
	k->dev = *d;
}

/* The list entry's keys as the core's struct. */
static void peer_keys(const struct pier_devlist_device *e, struct pier_e2ee_peer_keys *k)
{
	memcpy(k->id, e->id, sizeof k->id);
	memcpy(k->sign_pub, e->sign_key, sizeof k->sign_pub);
	memcpy(k->dh_pub, e->dh_key, sizeof k->dh_pub);
}

/* A user without a list yet: the server gave version 0. Remembered so that a send to them is
 * plaintext (the server takes it) instead of asking again and again. */
static void set_plain(struct pier_e2ee_mgr *m, const char *user, bool plain)
{
	if (m->plain_users == NULL)
		m->plain_users = json_object();
	if (plain && json_object_size(m->plain_users) < PIER_E2EE_CONTACTS_MAX)
		json_object_set_new(m->plain_users, user, json_true());
	else if (!plain)
		json_object_del(m->plain_users, user);
}

static enum pier_e2ee_result take_list(struct pier_e2ee_mgr *m, const json_t *reply,
                                       char user[PIER_NAME_MAX + 1])
{
	json_int_t version = json_integer_value(json_object_get(reply, "version"));

	lower(json_string_value(json_object_get(reply, "user")), user);
	if (user[0] == '\0')
		return PIER_E2EE_R_ERROR;
	if (version == 0) {
		/* No list: never after a list was trusted (a server hiding a user's devices). */
		if (list_of(m, user) != NULL) {
			json_array_append_new(m->notices, json_pack("{s:s, s:s, s:s}", "notice",
			                      "list_refused", "user", user, "why", "old"));
			return PIER_E2EE_R_REFUSED;
		}
		set_plain(m, user, true);
		return PIER_E2EE_R_OK;
	}
	set_plain(m, user, false);
	return pier_e2ee_trust_reply(m, user, reply) == 0 ? PIER_E2EE_R_OK : PIER_E2EE_R_REFUSED;
}

enum pier_e2ee_result pier_e2ee_take_devices(struct pier_e2ee_mgr *m, const json_t *reply)
{
	char user[PIER_NAME_MAX + 1];

	return take_list(m, reply, user);
}

enum pier_e2ee_result pier_e2ee_take_keys(struct pier_e2ee_mgr *m, const json_t *reply)
{
	char user[PIER_NAME_MAX + 1];
	struct pier_e2ee_bundle *b = xmalloc(sizeof *b);
	enum pier_e2ee_result r = take_list(m, reply, user);
	const struct pier_devlist *l;

	if (r != PIER_E2EE_R_OK)
		goto out;
	if (pier_e2ee_bundle_parse(reply, b) != PIER_E2EE_OK) {
		r = PIER_E2EE_R_ERROR;
		goto out;
	}
	l = list_of(m, user);
	for (unsigned i = 0; l != NULL && i < b->count; i++) {
		const struct pier_e2ee_bundle_device *d = &b->dev[i];
		int at = pier_devlist_find(l, d->keys.id);

		if (m->has_device && memcmp(d->keys.id, m->dev.pub.id, PIER_E2EE_ID_LEN) == 0)
			continue;
		if (!d->listed || at < 0 ||
		    memcmp(l->dev[at].sign_key, d->keys.sign_pub, 32) != 0 ||
		    memcmp(l->dev[at].dh_key, d->keys.dh_pub, 32) != 0) {
			notice_dev(m, "unsigned_device", user, d->keys.id, NULL);
			continue;
		}
		kept_add(m, user, d);
	}
out:
	free(b);
	return r;
}

/* Every device a message to peer goes to has a session or a kept bundle; else the user
 * whose keys are missing in need. */
static bool ready_for(struct pier_e2ee_mgr *m, const struct pier_devlist *l, const char *user,
                      char need[PIER_NAME_MAX + 1])
{
	for (unsigned i = 0; i < l->count; i++) {
		if (memcmp(l->dev[i].id, m->dev.pub.id, PIER_E2EE_ID_LEN) == 0)
			continue;
		if (!pier_e2ee_sessions_has(&m->sess, l->dev[i].id) &&
		    kept_find(m, l->dev[i].id) == NULL) {
			snprintf(need, PIER_NAME_MAX + 1, "%s", user);
			return false;
		}
	}
	return true;
}

/* Seals the payload plaintext pt: payload bytes (malloc'd, *len) and inner. */
static uint8_t *seal_payload(const char *pt, size_t n, uint8_t inner[PIER_E2EE_INNER_LEN],
                             size_t *len)
{
	uint8_t pk[32];
	uint8_t *payload = xmalloc(n + PIER_E2EE_PAYLOAD_OVERHEAD);

	pier_e2ee_payload_seal((const uint8_t *)pt, n, NULL, pk, payload);
	*len = n + PIER_E2EE_PAYLOAD_OVERHEAD;
	pier_e2ee_inner_make(pk, payload, *len, inner);
	sodium_memzero(pk, sizeof pk);
	return payload;
}

/* Encrypts inner for list entry e of user: {"device","body"} or NULL (a notice says why). */
static json_t *envelope_for(struct pier_e2ee_mgr *m, const char *user,
                            const struct pier_devlist_device *e,
                            const uint8_t inner[PIER_E2EE_INNER_LEN])
{
	struct pier_e2ee_peer_keys to;
	struct pier_e2ee_kept_bundle *kb = kept_find(m, e->id);
	uint8_t env[PIER_E2EE_ENVELOPE_MAX];
	size_t len = 0;
	int rc;
	json_t *o;

	peer_keys(e, &to);
	rc = pier_e2ee_encrypt(&m->sess, &m->dev, &to, kb != NULL ? &kb->dev : NULL, inner,
	                       PIER_E2EE_INNER_LEN, NULL, env, &len);
	if (rc != PIER_E2EE_OK) {
		notice_dev(m, "refused_device", user, e->id, pier_e2ee_strerror(rc));
		if (kb != NULL)
			kept_drop(m, kb);
		return NULL;
	}
	if (kb != NULL)
		kept_drop(m, kb);             /* the session exists now */
	m->dirty = true;
	o = json_object();
	pier_e2ee_json_set_bytes(o, "device", e->id, PIER_E2EE_ID_LEN);
	pier_e2ee_json_set_bytes(o, "body", env, len);
	return o;
}

enum pier_e2ee_result pier_e2ee_encrypt_msg(struct pier_e2ee_mgr *m, const char *peer,
                                            const json_t *plain, uint64_t now_ms, json_t **out,
                                            char need[PIER_NAME_MAX + 1])
{
	char who[PIER_NAME_MAX + 1];
	const struct pier_devlist *lp, *ls;
	const struct pier_devlist *lists[2];
	const char *users[2];
	json_t *pt = NULL, *keys = NULL;
	char *text = NULL;
	uint8_t inner[PIER_E2EE_INNER_LEN], *payload = NULL;
	size_t plen = 0;
	enum pier_e2ee_result r = PIER_E2EE_R_ERROR;

	*out = NULL;
	need[0] = '\0';
	lower(peer, who);
	if (!m->has_device || m->state != PIER_E2EE_ACTIVE || who[0] == '\0' ||
	    strcmp(who, m->user) == 0)
		return PIER_E2EE_R_ERROR;
	if (json_object_get(m->plain_users, who) != NULL)
		return PIER_E2EE_R_PLAIN;
	lp = list_of(m, who);
	ls = list_of(m, m->user);
	if (lp == NULL || !ready_for(m, lp, who, need))
		return lp == NULL ? (snprintf(need, PIER_NAME_MAX + 1, "%s", who), PIER_E2EE_R_NEED_KEYS)
		                  : PIER_E2EE_R_NEED_KEYS;
	if (ls == NULL) {
		snprintf(need, PIER_NAME_MAX + 1, "%s", m->user);
		return PIER_E2EE_R_NEED_KEYS;
	}
	if (!ready_for(m, ls, m->user, need))
		return PIER_E2EE_R_NEED_KEYS;

	pt = json_deep_copy(plain);
	json_object_set_new(pt, "v", json_integer(1));
	if (json_object_get(pt, "type") == NULL)
		json_object_set_new(pt, "type", json_string("message"));
	json_object_set_new(pt, "peer", json_string(who));
	json_object_set_new(pt, "ts", json_integer((json_int_t)now_ms));
	text = json_dumps(pt, JSON_COMPACT);
	if (text == NULL || strlen(text) > PAYLOAD_PLAIN_MAX)
		goto out;
	payload = seal_payload(text, strlen(text), inner, &plen);

	keys = json_array();
	lists[0] = lp;
	lists[1] = ls;
	users[0] = who;
	users[1] = m->user;
	for (int u = 0; u < 2; u++) {
		for (unsigned i = 0; i < lists[u]->count; i++) {
			json_t *o;

			if (memcmp(lists[u]->dev[i].id, m->dev.pub.id, PIER_E2EE_ID_LEN) == 0)
				continue;
			o = envelope_for(m, users[u], &lists[u]->dev[i], inner);
			if (o == NULL) {
				r = PIER_E2EE_R_REFUSED;
				goto out;
			}
			json_array_append_new(keys, o);
		}
	}
	*out = json_object();
	pier_e2ee_json_set_bytes(*out, "payload", payload, plen);
	json_object_set(*out, "keys", keys);
	r = PIER_E2EE_R_OK;
out:
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	sodium_memzero(inner, sizeof inner);
	free(payload);
	json_decref(pt);
	json_decref(keys);
	return r;
}

enum pier_e2ee_result pier_e2ee_encrypt_to_own(struct pier_e2ee_mgr *m, const char *id,
                                               const json_t *plain, json_t **req)
{
	const struct pier_devlist *ls = list_of(m, m->user);
	uint8_t bin[PIER_E2EE_ID_LEN], inner[PIER_E2EE_INNER_LEN], *payload = NULL;
	char *text = NULL;
	size_t plen = 0;
	json_t *env;
	int at;

	*req = NULL;
	if (!m->has_device || !m->has_ak || ls == NULL ||
	    pier_e2ee_b64_decode_exact(pier_e2ee_str(id), bin, sizeof bin) != PIER_E2EE_OK ||
	    (at = pier_devlist_find(ls, bin)) < 0)
		return PIER_E2EE_R_ERROR;
	if (!pier_e2ee_sessions_has(&m->sess, bin) && kept_find(m, bin) == NULL)
		return PIER_E2EE_R_NEED_KEYS;
	text = json_dumps(plain, JSON_COMPACT);
	if (text == NULL)
		return PIER_E2EE_R_ERROR;
	payload = seal_payload(text, strlen(text), inner, &plen);
	sodium_memzero(text, strlen(text));
	free(text);
	env = envelope_for(m, m->user, &ls->dev[at], inner);
	sodium_memzero(inner, sizeof inner);
	if (env == NULL) {
		free(payload);
		return PIER_E2EE_R_REFUSED;
	}
	{
		char *p64 = pier_b64_encode(payload, plen);

		*req = pier_req_device_send(json_string_value(json_object_get(env, "device")), p64,
		                            json_string_value(json_object_get(env, "body")));
		free(p64);
	}
	json_decref(env);
	free(payload);
	return PIER_E2EE_R_OK;
}

json_t *pier_e2ee_grant_payload(const struct pier_e2ee_mgr *m, const json_t *history)
{
	json_t *p = json_pack("{s:i, s:s}", "v", 1, "type", "grant"), *contacts = json_array();

	pier_e2ee_json_set_bytes(p, "ak", m->ak_seed, 32);
	for (size_t i = 0; i < m->contacts.n; i++) {
		const struct pier_e2ee_contact *k = &m->contacts.v[i];
		json_t *c;

		if (strcmp(k->user, m->user) == 0)
			continue;
		c = json_pack("{s:s, s:b}", "user", k->user, "verified", k->verified);
		pier_e2ee_json_set_bytes(c, "ak", k->ak, 32);
		json_array_append_new(contacts, c);
	}
	json_object_set_new(p, "contacts", contacts);
	if (history != NULL)
		json_object_set(p, "history", (json_t *)history);
	return p;
}

/* A grant from one's own device: takes the account key and the contacts. */
static enum pier_e2ee_opened take_grant(struct pier_e2ee_mgr *m, const json_t *pt, json_t **out)
{
	const struct pier_devlist *ls = list_of(m, m->user);
	uint8_t seed[32], pub[32];
	const json_t *contacts = json_object_get(pt, "contacts"), *c;
	size_t i;

	if (pier_e2ee_json_bytes(pt, "ak", seed, 32) != PIER_E2EE_OK || ls == NULL)
		return PIER_E2EE_GOT_NOTHING;
	pier_e2ee_sign_pub(seed, pub);
	if (sodium_memcmp(pub, ls->ak, 32) != 0) {
		/* Not the key of the list whose code the user compared. */
		json_array_append_new(m->notices, json_pack("{s:s, s:s, s:s}", "notice",
		                      "refused_message", "user", m->user, "why", "grant for another key"));
		sodium_memzero(seed, sizeof seed);
		return PIER_E2EE_GOT_NOTHING;
	}
	memcpy(m->ak_seed, seed, 32);
	memcpy(m->ak_pub, pub, 32);
	sodium_memzero(seed, sizeof seed);
	m->has_ak = true;
	if (pier_devlist_find(ls, m->dev.pub.id) >= 0)
		m->state = PIER_E2EE_ACTIVE;
	json_array_foreach(contacts, i, c) {
		char user[PIER_NAME_MAX + 1];
		uint8_t ak[32];
		enum pier_e2ee_trust t;

		lower(json_string_value(json_object_get(c, "user")), user);
		if (user[0] == '\0' || pier_e2ee_json_bytes(c, "ak", ak, 32) != PIER_E2EE_OK ||
		    pier_e2ee_contact_find(&m->contacts, user) != NULL)
			continue;
		/* Version 0: any list with this AK is newer; the device fetches it when needed. */
		if (pier_e2ee_trust_list(&m->contacts, user, 0, false, ak, &t) == 0 &&
		    json_is_true(json_object_get(c, "verified")))
			pier_e2ee_contact_verify(&m->contacts, user, true);
	}
	m->dirty = true;
	*out = json_incref(json_object_get(pt, "history"));
	return PIER_E2EE_GOT_GRANT;
}

enum pier_e2ee_opened pier_e2ee_open(struct pier_e2ee_mgr *m, const json_t *ev, json_t **out)
{
	char from[PIER_NAME_MAX + 1], to[PIER_NAME_MAX + 1], peer[PIER_NAME_MAX + 1];
	const char *to_s = json_string_value(json_object_get(ev, "to"));
	json_int_t id = json_integer_value(json_object_get(ev, "id"));
	const struct pier_devlist *l;
	struct pier_e2ee_peer_keys fk;
	uint8_t dev_id[PIER_E2EE_ID_LEN], env[PIER_E2EE_ENVELOPE_MAX], inner[PIER_E2EE_CT_MAX];
	uint8_t *payload = NULL, *pt = NULL;
	size_t env_len = 0, inner_len = 0, plen = 0;
	json_t *pj = NULL;
	const char *type;
	enum pier_e2ee_opened r = PIER_E2EE_GOT_NOTHING;
	int rc, at;

	*out = NULL;
	lower(json_string_value(json_object_get(ev, "from")), from);
	lower(to_s, to);
	if (from[0] == '\0' || !m->has_device ||
	    pier_e2ee_json_bytes(ev, "from_device", dev_id, sizeof dev_id) != PIER_E2EE_OK)
		return PIER_E2EE_GOT_NOTHING;
	l = list_of(m, from);
	if (l == NULL) {
		*out = json_pack("{s:s}", "user", from);
		return PIER_E2EE_GOT_NEED_LIST;
	}
	at = pier_devlist_find(l, dev_id);
	if (at < 0) {
		/* Maybe a device added since the list was read: ask again once; a device that the
		 * new list does not name either is refused then (the caller says NEED_LIST at most
		 * once per envelope). */
		if (!json_is_true(json_object_get(ev, "_relisted"))) {
			*out = json_pack("{s:s}", "user", from);
			return PIER_E2EE_GOT_NEED_LIST;
		}
		notice_dev(m, "unsigned_device", from, dev_id, NULL);
		return PIER_E2EE_GOT_NOTHING;
	}
	peer_keys(&l->dev[at], &fk);
	if (pier_e2ee_b64_decode(pier_e2ee_str(json_string_value(json_object_get(ev, "body"))), env, sizeof env,
	                         &env_len) != PIER_E2EE_OK) {
		notice_dev(m, "refused_message", from, dev_id, "malformed envelope");
		return PIER_E2EE_GOT_NOTHING;
	}
	rc = pier_e2ee_decrypt(&m->sess, &m->dev, &fk, env, env_len, NULL, inner, &inner_len);
	if (rc != PIER_E2EE_OK || inner_len != PIER_E2EE_INNER_LEN) {
		notice_dev(m, "refused_message", from, dev_id, pier_e2ee_strerror(rc));
		return PIER_E2EE_GOT_NOTHING;
	}
	m->dirty = true;                  /* the ratchet moved: save before the ack */
	if (json_object_get(ev, "payload") == NULL && json_is_true(json_object_get(ev, "recalled")) &&
	    id > 0) {
		/* recalled before this device took it: the server dropped the payload; the
		 * envelope still moved the ratchet. Shown as recalled, never as an error. */
		json_t *msg = json_pack("{s:I, s:O, s:O, s:O, s:b, s:b, s:s}", "id", (json_int_t)id,
		                        "from", json_object_get(ev, "from"),
		                        "to", json_object_get(ev, "to"), "ts", json_object_get(ev, "ts"),
		                        "e2ee", 1, "recalled", 1, "text", "");

		if (msg == NULL)
			return PIER_E2EE_GOT_NOTHING;
		*out = msg;
		return PIER_E2EE_GOT_MESSAGE;
	}
	payload = xmalloc(PAYLOAD_B64_MAX);
	if (pier_e2ee_b64_decode(pier_e2ee_str(json_string_value(json_object_get(ev, "payload"))), payload,
	                         PAYLOAD_B64_MAX, &plen) != PIER_E2EE_OK ||
	    plen < PIER_E2EE_PAYLOAD_OVERHEAD) {
		notice_dev(m, "refused_message", from, dev_id, "malformed payload");
		goto out;
	}
	pt = xmalloc(plen - PIER_E2EE_PAYLOAD_OVERHEAD + 1);
	if (pier_e2ee_payload_open(inner, payload, plen, pt) != PIER_E2EE_OK) {
		notice_dev(m, "refused_message", from, dev_id, "payload altered");
		goto out;
	}
	pj = json_loadb((const char *)pt, plen - PIER_E2EE_PAYLOAD_OVERHEAD, 0, NULL);
	type = json_string_value(json_object_get(pj, "type"));
	if (!json_is_object(pj) || json_integer_value(json_object_get(pj, "v")) != 1) {
		notice_dev(m, "refused_message", from, dev_id, "unreadable payload");
		goto out;
	}
	if (type == NULL)
		type = "message";
	if (strcmp(type, "grant") == 0) {
		if (strcmp(from, m->user) == 0 && id == 0)
			r = take_grant(m, pj, out);
		goto out;
	}
	if (strcmp(type, "history") == 0)
		goto out;                      /* history comes as a file, referenced by a grant */
	/* The server cannot move a message into another conversation: the payload names it. */
	lower(json_string_value(json_object_get(pj, "peer")), peer);
	if (id <= 0 || (strcmp(from, m->user) == 0 ? strcmp(peer, to) != 0
	                                           : strcmp(peer, m->user) != 0 ||
	                                             strcmp(to, m->user) != 0)) {
		notice_dev(m, "refused_message", from, dev_id, "wrong conversation");
		goto out;
	}
	if (strcmp(type, "edit") == 0) {
		json_int_t of = json_integer_value(json_object_get(pj, "edit_of"));
		const json_t *orig = pier_e2ee_history_find(&m->hist, of);
		const char *text = json_string_value(json_object_get(pj, "text"));
		char ofrom[PIER_NAME_MAX + 1];

		lower(json_string_value(json_object_get(orig, "from")), ofrom);
		if (orig == NULL || text == NULL || strcmp(ofrom, from) != 0)
			goto out;              /* not one of the sender's messages we hold */
		pier_e2ee_history_edit(&m->hist, of, text);
		{
			json_t *h = json_pack("{s:I, s:O, s:O, s:O, s:b, s:I, s:s}", "id", (json_int_t)id,
			                      "from", json_object_get(ev, "from"), "to",
			                      json_object_get(ev, "to"), "ts", json_object_get(ev, "ts"),
			                      "hidden", 1, "edit_of", (json_int_t)of, "text", text);

			if (h != NULL)
				pier_e2ee_history_add(&m->hist, strcmp(from, m->user) == 0 ? to : from, h);
			json_decref(h);
		}
		*out = json_pack("{s:I, s:s}", "id", (json_int_t)of, "text", text);
		r = PIER_E2EE_GOT_EDIT;
		goto out;
	}
	{
		json_t *msg = json_pack("{s:I, s:O, s:O, s:O, s:b}", "id", (json_int_t)id,
		                        "from", json_object_get(ev, "from"),
		                        "to", json_object_get(ev, "to"),
		                        "ts", json_object_get(ev, "ts"), "e2ee", 1);
		const char *keys[] = { "text", "kind", "file", "reply_to" };

		if (msg == NULL)
			goto out;
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (json_object_get(pj, keys[i]) != NULL)
				json_object_set(msg, keys[i], json_object_get(pj, keys[i]));
		if (!json_is_string(json_object_get(msg, "text")))
			json_object_set_new(msg, "text", json_string(""));
		pier_e2ee_history_add(&m->hist, strcmp(from, m->user) == 0 ? to : from, msg);
		*out = msg;
		r = PIER_E2EE_GOT_MESSAGE;
	}
out:
	if (pt != NULL) {
		sodium_memzero(pt, plen - PIER_E2EE_PAYLOAD_OVERHEAD);
		free(pt);
	}
	free(payload);
	json_decref(pj);
	sodium_memzero(inner, sizeof inner);
	return r;
}

json_t *pier_e2ee_file_media(const json_t *file)
{
	const json_t *mj = json_object_get(file, "media");
	json_int_t id = json_is_integer(mj) ? json_integer_value(mj) : 0;

	/* the browser writes the id as a string of digits */
	if (json_is_string(mj)) {
		char *end;
		long long v = strtoll(json_string_value(mj), &end, 10);

		id = *end == '\0' && v > 0 ? (json_int_t)v : 0;
	}
	if (!json_is_object(file) || id <= 0)
		return NULL;
	return json_pack("{s:I, s:O?, s:O?, s:O?, s:O?, s:O?}", "id", id,
	                 "name", json_object_get(file, "name"), "type", json_object_get(file, "type"),
	                 "size", json_object_get(file, "size"), "key", json_object_get(file, "key"),
	                 "header", json_object_get(file, "header"));
}
