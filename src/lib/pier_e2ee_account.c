/* pier_e2ee_account.c - the user's own signed device list, seen from one device: reading it
 * (`devices` about oneself, with the pending devices and their approval codes), the first
 * list (which makes the account key), approving a pending device, removing or renaming one,
 * and a reset (a new account key, this device alone). docs/E2EE.md "Approving a new device". */
#include "pier_e2ee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pier.h"
#include "xalloc.h"

static void notice(struct pier_e2ee_mgr *m, const char *kind, const char *user, const char *why)
{
	json_t *n = json_pack("{s:s, s:s}", "notice", kind, "user", user);

	if (why != NULL)
		json_object_set_new(n, "why", json_string(why));
	json_array_append_new(m->notices, n);
}

/* The trusted own list, or NULL. */
static const struct pier_devlist *own_list(struct pier_e2ee_mgr *m)
{
	struct pier_e2ee_contact *k = pier_e2ee_contact_find(&m->contacts, m->user);

	return k != NULL ? k->list : NULL;
}

/* This device as a list entry. */
static void self_entry(const struct pier_e2ee_mgr *m, struct pier_devlist_device *d)
{
	memset(d, 0, sizeof *d);
	memcpy(d->id, m->dev.pub.id, sizeof d->id);
	memcpy(d->sign_key, m->dev.pub.sign_pub, sizeof d->sign_key);
	memcpy(d->dh_key, m->dev.pub.dh_pub, sizeof d->dh_key);
	d->created_ms = m->dev.created_ms;
	snprintf(d->name, sizeof d->name, "%s", m->name);
}

static int cmp_dev(const void *a, const void *b)
{
	return memcmp(((const struct pier_devlist_device *)a)->id,
	              ((const struct pier_devlist_device *)b)->id, PIER_DEVICE_ID_LEN);
}

/* Signs l with the account key: a devices_publish request, or NULL (l breaks a rule). */
static json_t *publish(const struct pier_e2ee_mgr *m, struct pier_devlist *l)
{
	uint8_t *bytes = xmalloc(PIER_DEVLIST_MAX_BYTES), sig[PIER_E2EE_SIG_LEN];
	size_t len;
	json_t *req = NULL;

	qsort(l->dev, l->count, sizeof l->dev[0], cmp_dev);
	len = pier_devlist_encode(l, bytes, PIER_DEVLIST_MAX_BYTES);
	if (len == 0)
		goto out;
	pier_e2ee_devlist_sign(m->ak_seed, bytes, len, sig);
	{
		char *l64 = pier_b64_encode(bytes, len), *s64 = pier_b64_encode(sig, sizeof sig);

		req = pier_req_devices_publish(l64, s64);
		free(l64);
		free(s64);
	}
out:
	free(bytes);
	return req;
}

/* Opens the list of a devices/keys reply about user (version > 0): 0 with *l, or -1. */
static int open_reply_list(const json_t *reply, const char *user, struct pier_devlist *l)
{
	uint8_t *bytes = xmalloc(PIER_DEVLIST_MAX_BYTES), sig[PIER_E2EE_SIG_LEN];
	size_t len = 0;
	int rc = -1;

	if (pier_e2ee_b64_decode(pier_e2ee_str(json_string_value(json_object_get(reply, "list"))), bytes,
	                         PIER_DEVLIST_MAX_BYTES, &len) == PIER_E2EE_OK &&
	    pier_e2ee_json_bytes(reply, "sig", sig, sizeof sig) == PIER_E2EE_OK &&
	    pier_e2ee_devlist_open(bytes, len, sig, user, l, NULL) == PIER_E2EE_OK)
		rc = 0;
	free(bytes);
	return rc;
}

/* Trusts the list of a reply about user (checked, then TOFU/reset rules): 0 when it is now
 * the contact's list, -1 (a notice said why). */
int pier_e2ee_trust_reply(struct pier_e2ee_mgr *m, const char *user, const json_t *reply)
{
	struct pier_devlist *l = xmalloc(sizeof *l);
	enum pier_e2ee_trust t;
	int rc = -1;
	bool self = strcmp(user, m->user) == 0;

	if (open_reply_list(reply, user, l) != 0) {
		notice(m, "list_refused", user, "signature");
		goto out;
	}
	/* Our own account key is the one we hold; a device holding none trusts the first it
	 * sees, which the approval code then confirms in person. */
	if (self && m->has_ak && sodium_memcmp(l->ak, m->ak_pub, 32) != 0 &&
	    !(l->flags & PIER_DEVLIST_FLAG_RESET)) {
		notice(m, "list_refused", user, "swapped");
		goto out;
	}
	if (pier_e2ee_trust_list(&m->contacts, user, l->version,
	                         (l->flags & PIER_DEVLIST_FLAG_RESET) != 0, l->ak, &t) != 0) {
		notice(m, "list_refused", user, "format");
		goto out;
	}
	switch (t) {
	case PIER_E2EE_TRUST_OLD:
		notice(m, "list_refused", user, "old");
		goto out;
	case PIER_E2EE_TRUST_SWAPPED:
		notice(m, "list_refused", user, "swapped");
		goto out;
	case PIER_E2EE_TRUST_RESET: {
		struct pier_e2ee_contact *k = pier_e2ee_contact_find(&m->contacts, user);
		/* One's own reset, made here, is no news. */
		if (!(self && m->has_ak && sodium_memcmp(l->ak, m->ak_pub, 32) == 0))
			json_array_append_new(m->notices, json_pack("{s:s, s:s, s:b}", "notice",
			                      "safety_changed", "user", user, "was_verified",
			                      k != NULL && k->was_verified));
		/* The old identity's devices are gone: so are the sessions with them. */
		if (k != NULL && k->list != NULL)
			for (unsigned i = 0; i < k->list->count; i++)
				pier_e2ee_sessions_forget(&m->sess, k->list->dev[i].id);
		break;
	}
	case PIER_E2EE_TRUST_FIRST:
	case PIER_E2EE_TRUST_SAME:
		break;
	}
	/* Devices dropped from a newer list: their sessions go. */
	{
		struct pier_e2ee_contact *k = pier_e2ee_contact_find(&m->contacts, user);

		if (k->list != NULL)
			for (unsigned i = 0; i < k->list->count; i++)
				if (pier_devlist_find(l, k->list->dev[i].id) < 0)
					pier_e2ee_sessions_forget(&m->sess, k->list->dev[i].id);
		pier_e2ee_contact_set_list(&m->contacts, user, l,
		                           json_string_value(json_object_get(reply, "list")),
		                           json_string_value(json_object_get(reply, "sig")));
	}
	m->dirty = true;
	rc = 0;
out:
	free(l);
	return rc;
}

int pier_e2ee_own_devices(struct pier_e2ee_mgr *m, const json_t *reply, struct pier_e2ee_own *out)
{
	const json_t *devs = json_object_get(reply, "devices"), *d;
	json_int_t version = json_integer_value(json_object_get(reply, "version"));
	const struct pier_devlist *l;
	size_t i;

	memset(out, 0, sizeof *out);
	if (!json_is_array(devs) || version < 0 || version > UINT32_MAX)
		return -1;
	out->version = (uint32_t)version;
	if (version > 0 && pier_e2ee_trust_reply(m, m->user, reply) != 0)
		out->refused = true;
	l = out->refused ? NULL : own_list(m);
	if (l != NULL && m->has_device) {
		out->listed = pier_devlist_find(l, m->dev.pub.id) >= 0;
		if (!out->listed && m->state == PIER_E2EE_ACTIVE) {
			/* Removed from the list (or reset away) by another device. */
			m->state = PIER_E2EE_REVOKED;
			json_array_append_new(m->notices, json_pack("{s:s}", "notice", "revoked"));
			m->dirty = true;
		}
		if (out->listed && m->has_ak && m->state != PIER_E2EE_ACTIVE) {
			m->state = PIER_E2EE_ACTIVE;
			m->dirty = true;
		}
	}
	json_array_foreach(devs, i, d) {
		struct pier_e2ee_peer_keys k;
		const char *state = json_string_value(json_object_get(d, "state"));
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *name = json_string_value(json_object_get(d, "name"));

		if (state == NULL || strcmp(state, "pending") != 0 || id == NULL ||
		    out->npending >= sizeof out->pending / sizeof out->pending[0])
			continue;
		if (pier_e2ee_b64_decode_exact(pier_e2ee_str(id), k.id, sizeof k.id) != PIER_E2EE_OK ||
		    pier_e2ee_json_bytes(d, "sign_key", k.sign_pub, 32) != PIER_E2EE_OK ||
		    pier_e2ee_json_bytes(d, "dh_key", k.dh_pub, 32) != PIER_E2EE_OK)
			continue;
		if (m->has_device && memcmp(k.id, m->dev.pub.id, sizeof k.id) == 0)
			continue;
		snprintf(out->pending[out->npending].id, sizeof out->pending[0].id, "%s", id);
		snprintf(out->pending[out->npending].name, sizeof out->pending[0].name, "%s",
		         name != NULL ? name : "");
		if (m->has_ak)
			pier_e2ee_approval_format(pier_e2ee_approval_code(m->ak_pub, &k),
			                          out->pending[out->npending].code);
		else
			snprintf(out->pending[out->npending].code, sizeof out->pending[0].code, "?");
		out->npending++;
	}
	return 0;
}

int pier_e2ee_own_code(const struct pier_e2ee_mgr *m, char out[10])
{
	const struct pier_devlist *l = own_list((struct pier_e2ee_mgr *)m);

	if (l == NULL || !m->has_device)
		return -1;
	pier_e2ee_approval_format(pier_e2ee_approval_code(l->ak, &m->dev.pub), out);
	return 0;
}

/* A new account key (AK) for m, kept in the keystore at its next save. */
static void new_account_key(struct pier_e2ee_mgr *m)
{
	randombytes_buf(m->ak_seed, sizeof m->ak_seed);
	pier_e2ee_sign_pub(m->ak_seed, m->ak_pub);
	m->has_ak = true;
	m->dirty = true;
}

/* The request that publishes a list of this device alone, signed with m's AK: the first list
 * (version 1) and the list after a reset (flags PIER_DEVLIST_FLAG_RESET). */
static json_t *publish_self_only(const struct pier_e2ee_mgr *m, uint32_t version, uint8_t flags)
{
	struct pier_devlist *l = xcalloc(1, sizeof *l);
	json_t *req;

	snprintf(l->user, sizeof l->user, "%s", m->user);
	l->version = version;
	l->flags = flags;
	memcpy(l->ak, m->ak_pub, 32);
	l->count = 1;
	self_entry(m, &l->dev[0]);
	req = publish(m, l);
	free(l);
	return req;
}

json_t *pier_e2ee_req_first_list(struct pier_e2ee_mgr *m)
{
	if (!m->has_device)
		return NULL;
	if (!m->has_ak) {
		new_account_key(m);
		m->history_complete = true;      /* the first device: there is no earlier history */
	}
	return publish_self_only(m, 1, 0);
}

/* A copy of the trusted own list for the next version, or NULL (none, or no account key). */
static struct pier_devlist *next_list(struct pier_e2ee_mgr *m)
{
	const struct pier_devlist *cur = own_list(m);
	struct pier_devlist *l;

	if (cur == NULL || !m->has_ak || sodium_memcmp(cur->ak, m->ak_pub, 32) != 0)
		return NULL;
	l = xmalloc(sizeof *l);
	*l = *cur;
	l->version = cur->version + 1;
	l->flags = 0;
	return l;
}

json_t *pier_e2ee_req_approve(struct pier_e2ee_mgr *m, const json_t *devices_reply,
                              const char *id)
{
	const json_t *devs = json_object_get(devices_reply, "devices"), *d;
	struct pier_devlist *l = next_list(m);
	json_t *req = NULL;
	size_t i;

	if (l == NULL || id == NULL || l->count >= PIER_DEVLIST_MAX_DEVICES)
		goto out;
	json_array_foreach(devs, i, d) {
		struct pier_devlist_device *e = &l->dev[l->count];
		const char *did = json_string_value(json_object_get(d, "id"));
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *state = json_string_value(json_object_get(d, "state"));

		if (did == NULL || strcmp(did, id) != 0 || state == NULL ||
		    strcmp(state, "pending") != 0)
			continue;
		memset(e, 0, sizeof *e);
		if (pier_e2ee_b64_decode_exact(pier_e2ee_str(did), e->id, sizeof e->id) != PIER_E2EE_OK ||
		    pier_e2ee_json_bytes(d, "sign_key", e->sign_key, 32) != PIER_E2EE_OK ||
		    pier_e2ee_json_bytes(d, "dh_key", e->dh_key, 32) != PIER_E2EE_OK ||
		    pier_devlist_find(l, e->id) >= 0)
			goto out;
		e->created_ms = (uint64_t)json_integer_value(json_object_get(d, "created"));
		snprintf(e->name, sizeof e->name, "%s", name != NULL ? name : "");
		l->count++;
		req = publish(m, l);
		break;
	}
out:
	free(l);
	return req;
}

json_t *pier_e2ee_req_remove(struct pier_e2ee_mgr *m, const char *id)
{
	struct pier_devlist *l = next_list(m);
	uint8_t bin[PIER_E2EE_ID_LEN];
	json_t *req = NULL;
	int at;

	if (l == NULL || pier_e2ee_b64_decode_exact(pier_e2ee_str(id), bin, sizeof bin) != PIER_E2EE_OK ||
	    memcmp(bin, m->dev.pub.id, sizeof bin) == 0 || (at = pier_devlist_find(l, bin)) < 0)
		goto out;
	memmove(&l->dev[at], &l->dev[at + 1], (l->count - (unsigned)at - 1) * sizeof l->dev[0]);
	l->count--;
	req = publish(m, l);
out:
	free(l);
	return req;
}

json_t *pier_e2ee_req_rename(struct pier_e2ee_mgr *m, const char *id, const char *name)
{
	struct pier_devlist *l = next_list(m);
	uint8_t bin[PIER_E2EE_ID_LEN];
	json_t *req = NULL;
	int at;

	if (l == NULL || name == NULL || strlen(name) > PIER_DEVLIST_NAME_MAX ||
	    pier_e2ee_b64_decode_exact(pier_e2ee_str(id), bin, sizeof bin) != PIER_E2EE_OK ||
	    (at = pier_devlist_find(l, bin)) < 0)
		goto out;
	snprintf(l->dev[at].name, sizeof l->dev[at].name, "%s", name);
	req = publish(m, l);
	if (req != NULL && memcmp(bin, m->dev.pub.id, sizeof bin) == 0) {
		snprintf(m->name, sizeof m->name, "%s", name);
		m->dirty = true;
	}
out:
	free(l);
	return req;
}

json_t *pier_e2ee_req_reset(struct pier_e2ee_mgr *m, uint32_t current)
{
	if (!m->has_device)
		return NULL;
	new_account_key(m);
	return publish_self_only(m, current + 1, PIER_DEVLIST_FLAG_RESET);
}

void pier_e2ee_own_published(struct pier_e2ee_mgr *m, const json_t *reply)
{
	(void)reply;
	/* The caller asks `devices` again: the list comes back signed, and trusting it is the
	 * same path as for any list (no second way in). */
	if (m->has_ak && m->state != PIER_E2EE_REVOKED)
		m->dirty = true;
}

size_t pier_e2ee_code_digits(const char *s, char out[9])
{
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n < 8; s++)
		if (*s >= '0' && *s <= '9')
			out[n++] = *s;
	out[n] = '\0';
	return n;
}

const char *pier_e2ee_own_pending_by_code(const struct pier_e2ee_own *own, const char *code)
{
	char want[9], have[9];

	pier_e2ee_code_digits(code, want);
	for (unsigned i = 0; i < own->npending; i++) {
		pier_e2ee_code_digits(own->pending[i].code, have);
		if (strcmp(have, want) == 0)
			return own->pending[i].id;
	}
	return NULL;
}
