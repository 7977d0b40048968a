/* pier_e2ee_trust.c - what a device believes about its contacts' identities: each contact's
 * account key (AK), trusted on first use, the highest device-list version seen, the verified
 * mark, and a pending "safety number changed" notice after a reset (docs/E2EE.md "The device
 * list"). A new AK is accepted only with the reset flag; a lower version never. */
#include "pier_e2ee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xalloc.h"

void pier_e2ee_contacts_init(struct pier_e2ee_contacts *c)
{
	memset(c, 0, sizeof *c);
}

static void contact_release(struct pier_e2ee_contact *k)
{
	free(k->list);
	free(k->list_b64);
	free(k->sig_b64);
	k->list = NULL;
	k->list_b64 = k->sig_b64 = NULL;
}

void pier_e2ee_contacts_release(struct pier_e2ee_contacts *c)
{
	for (size_t i = 0; i < c->n; i++)
		contact_release(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof *c);
}

bool pier_e2ee_user_key(const char *user, char *out, size_t cap)
{
	size_t n;

	if (cap > 0)
		out[0] = '\0';
	if (user == NULL)
		return false;
	if (user[0] == '@')
		user++;
	n = strlen(user);
	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i <= n; i++)
		out[i] = user[i] >= 'A' && user[i] <= 'Z' ? (char)(user[i] - 'A' + 'a') : user[i];
	return true;
}

/* user in lower case into out; false when it is empty or too long. */
static bool lower_name(const char *user, char out[PIER_E2EE_USER_MAX + 1])
{
	return pier_e2ee_user_key(user, out, PIER_E2EE_USER_MAX + 1);
}

struct pier_e2ee_contact *pier_e2ee_contact_find(struct pier_e2ee_contacts *c, const char *user)
{
	char key[PIER_E2EE_USER_MAX + 1];

	if (!lower_name(user, key))
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].user, key) == 0)
			return &c->v[i];
	return NULL;
}

static struct pier_e2ee_contact *add(struct pier_e2ee_contacts *c, const char *key)
{
	struct pier_e2ee_contact *k;

	if (c->n >= PIER_E2EE_CONTACTS_MAX)
		return NULL;
	if (c->n == c->cap) {
		c->cap = c->cap != 0 ? c->cap * 2 : 16;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	k = &c->v[c->n++];
	memset(k, 0, sizeof *k);
	snprintf(k->user, sizeof k->user, "%s", key);
	return k;
}

int pier_e2ee_trust_list(struct pier_e2ee_contacts *c, const char *user, uint32_t version,
                         bool reset, const unsigned char ak[32], enum pier_e2ee_trust *out)
{
	char key[PIER_E2EE_USER_MAX + 1];
	struct pier_e2ee_contact *k;

	if (!lower_name(user, key))
		return -1;
	k = pier_e2ee_contact_find(c, key);
	if (k == NULL) {
		k = add(c, key);
		if (k == NULL)
			return -1;
		memcpy(k->ak, ak, 32);
		k->version = version;
		*out = PIER_E2EE_TRUST_FIRST;
		return 0;
	}
	if (sodium_memcmp(k->ak, ak, 32) == 0) {
		if (version < k->version) {
			*out = PIER_E2EE_TRUST_OLD;
			return 0;
		}
		k->version = version;
		*out = PIER_E2EE_TRUST_SAME;
		return 0;
	}
	/* A different AK: only a reset may bring one, and never with an older version (a
	 * replayed reset from before the current identity). */
	if (!reset) {
		*out = PIER_E2EE_TRUST_SWAPPED;
		return 0;
	}
	if (version <= k->version) {
		*out = PIER_E2EE_TRUST_OLD;
		return 0;
	}
	memcpy(k->ak, ak, 32);
	k->version = version;
	k->was_verified = k->verified || k->was_verified;
	k->verified = false;
	k->changed = true;
	*out = PIER_E2EE_TRUST_RESET;
	return 0;
}

int pier_e2ee_contact_set_list(struct pier_e2ee_contacts *c, const char *user,
                               const struct pier_devlist *list, const char *list_b64,
                               const char *sig_b64)
{
	struct pier_e2ee_contact *k = pier_e2ee_contact_find(c, user);

	if (k == NULL || list_b64 == NULL || sig_b64 == NULL)
		return -1;
	contact_release(k);
	k->list = xmalloc(sizeof *k->list);
	*k->list = *list;
	k->list_b64 = xstrdup(list_b64);
	k->sig_b64 = xstrdup(sig_b64);
	return 0;
}

int pier_e2ee_contact_verify(struct pier_e2ee_contacts *c, const char *user, bool verified)
{
	struct pier_e2ee_contact *k = pier_e2ee_contact_find(c, user);

	if (k == NULL)
		return -1;
	k->verified = verified;
	if (verified) {
		k->changed = false;
		k->was_verified = false;
	}
	return 0;
}

json_t *pier_e2ee_contacts_to_json(const struct pier_e2ee_contacts *c)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->n; i++) {
		const struct pier_e2ee_contact *k = &c->v[i];
		char *ak = pier_b64_encode(k->ak, 32);
		json_t *o = json_pack("{s:s, s:s, s:I, s:b, s:b, s:b}", "user", k->user, "ak", ak,
		                      "version", (json_int_t)k->version, "verified", k->verified,
		                      "changed", k->changed, "was_verified", k->was_verified);

		free(ak);
		if (k->list != NULL) {
			json_object_set_new(o, "list", json_string(k->list_b64));
			json_object_set_new(o, "sig", json_string(k->sig_b64));
		}
		json_array_append_new(a, o);
	}
	return a;
}

/* Opens the list kept in o again (its signature, its user, its AK the contact's). */
static int keep_list(struct pier_e2ee_contact *k, const json_t *o)
{
	const char *l64 = json_string_value(json_object_get(o, "list"));
	const char *s64 = json_string_value(json_object_get(o, "sig"));
	unsigned char sig[64];
	unsigned char *bytes = NULL;
	size_t len = 0;
	struct pier_devlist *list = xmalloc(sizeof *list);
	int rc = -1;

	bytes = pier_b64_decode(l64, &len);
	if (bytes == NULL || pier_b64_decode_fixed(s64, sig, sizeof sig) != 0 ||
	    pier_e2ee_devlist_open(bytes, len, sig, k->user, list, NULL) != PIER_E2EE_OK ||
	    memcmp(list->ak, k->ak, 32) != 0)
		goto out;
	k->list = list;
	list = NULL;
	k->list_b64 = xstrdup(l64);
	k->sig_b64 = xstrdup(s64);
	rc = 0;
out:
	free(bytes);
	free(list);
	return rc;
}

int pier_e2ee_contacts_from_json(struct pier_e2ee_contacts *c, const json_t *j)
{
	struct pier_e2ee_contacts n;
	size_t i;
	const json_t *o;

	if (!json_is_array(j) || json_array_size(j) > PIER_E2EE_CONTACTS_MAX)
		return -1;
	pier_e2ee_contacts_init(&n);
	json_array_foreach(j, i, o) {
		char key[PIER_E2EE_USER_MAX + 1];
		unsigned char ak[32];
		json_int_t version = json_integer_value(json_object_get(o, "version"));
		struct pier_e2ee_contact *k;

		if (!lower_name(json_string_value(json_object_get(o, "user")), key) ||
		    pier_b64_decode_fixed(json_string_value(json_object_get(o, "ak")), ak, 32) != 0 ||
		    version < 0 || version > UINT32_MAX || pier_e2ee_contact_find(&n, key) != NULL)
			goto bad;
		k = add(&n, key);
		memcpy(k->ak, ak, 32);
		k->version = (uint32_t)version;
		k->verified = json_is_true(json_object_get(o, "verified"));
		k->changed = json_is_true(json_object_get(o, "changed"));
		k->was_verified = json_is_true(json_object_get(o, "was_verified"));
		if (json_object_get(o, "list") != NULL && keep_list(k, o) != 0)
			goto bad;
	}
	pier_e2ee_contacts_release(c);
	*c = n;
	return 0;
bad:
	pier_e2ee_contacts_release(&n);
	return -1;
}
