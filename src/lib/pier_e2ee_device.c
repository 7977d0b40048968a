/* pier_e2ee_device.c - one device's own keys (docs/E2EE.md "Identities"): its id, signing key
 * DSK, identity DH key DIK, signed prekey SPK and one-time prekeys OPK; the requests that
 * publish them (device_register, prekeys) and prove the session holds them (device_hello);
 * and their JSON form inside device.json. Keys are libsodium's: Ed25519 from a 32-byte seed,
 * X25519 from 32 random bytes. */
#include "pier_e2ee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xalloc.h"

#define SPK_CONTEXT   "pier-spk-v1"
#define HELLO_CONTEXT "pier-hello-v1"

static void be32(unsigned char out[4], uint32_t v)
{
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
}

static void x25519_new(struct pier_e2ee_dh *k)
{
	randombytes_buf(k->secret, sizeof k->secret);
	crypto_scalarmult_base(k->pub, k->secret);
}

/* Signs the signed prekey with DSK: "pier-spk-v1" || device_id || u32(id) || SPK_pub. */
static void spk_sign(struct pier_e2ee_device *d)
{
	unsigned char m[sizeof SPK_CONTEXT - 1 + PIER_E2EE_ID_LEN + 4 + 32], *p = m;

	memcpy(p, SPK_CONTEXT, sizeof SPK_CONTEXT - 1);
	p += sizeof SPK_CONTEXT - 1;
	memcpy(p, d->id, PIER_E2EE_ID_LEN);
	p += PIER_E2EE_ID_LEN;
	be32(p, d->spk_id);
	p += 4;
	memcpy(p, d->spk.pub, 32);
	crypto_sign_detached(d->spk_sig, NULL, m, sizeof m, d->sign_sk);
}

static void sign_from_seed(struct pier_e2ee_device *d)
{
	crypto_sign_seed_keypair(d->sign_pk, d->sign_sk, d->sign_seed);
}

void pier_e2ee_device_create(struct pier_e2ee_device *d, const char *name, int64_t now_ms)
{
	memset(d, 0, sizeof *d);
	randombytes_buf(d->id, sizeof d->id);
	randombytes_buf(d->sign_seed, sizeof d->sign_seed);
	sign_from_seed(d);
	x25519_new(&d->dik);
	d->spk_id = 1;
	x25519_new(&d->spk);
	spk_sign(d);
	d->next_opk = 1;
	d->created_ms = now_ms;
	pier_e2ee_device_set_name(d, name);
}

void pier_e2ee_device_release(struct pier_e2ee_device *d)
{
	if (d->opks != NULL)
		sodium_memzero(d->opks, d->nopks * sizeof *d->opks);
	free(d->opks);
	sodium_memzero(d, sizeof *d);
}

void pier_e2ee_device_set_name(struct pier_e2ee_device *d, const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n > PIER_E2EE_NAME_MAX)
		n = PIER_E2EE_NAME_MAX;
	/* Cut at a character, never inside one (the list refuses bad UTF-8). */
	while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
		n--;
	memcpy(d->name, name != NULL ? name : "", n);
	d->name[n] = '\0';
}

void pier_e2ee_device_id_b64(const struct pier_e2ee_device *d, char out[PIER_E2EE_ID_B64])
{
	sodium_bin2base64(out, PIER_E2EE_ID_B64, d->id, PIER_E2EE_ID_LEN,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Adds n new one-time prekeys (bounded by PIER_E2EE_OPK_MAX) to d; returns how many. */
static size_t add_opks(struct pier_e2ee_device *d, size_t n)
{
	size_t room = PIER_E2EE_OPK_MAX - d->nopks;

	if (n > room)
		n = room;
	d->opks = xrealloc(d->opks, (d->nopks + n) * sizeof *d->opks);
	for (size_t i = 0; i < n; i++) {
		struct pier_e2ee_opk *k = &d->opks[d->nopks + i];

		k->id = d->next_opk++;
		x25519_new(&k->key);
	}
	d->nopks += n;
	return n;
}

const struct pier_e2ee_opk *pier_e2ee_device_opk(const struct pier_e2ee_device *d, uint32_t id)
{
	for (size_t i = 0; i < d->nopks; i++)
		if (d->opks[i].id == id)
			return &d->opks[i];
	return NULL;
}

void pier_e2ee_device_forget_opk(struct pier_e2ee_device *d, uint32_t id)
{
	for (size_t i = 0; i < d->nopks; i++) {
		if (d->opks[i].id != id)
			continue;
		sodium_memzero(&d->opks[i], sizeof d->opks[i]);
		memmove(&d->opks[i], &d->opks[i + 1], (d->nopks - i - 1) * sizeof *d->opks);
		d->nopks--;
		return;
	}
}

/* {"id","key"} of a public X25519 key with its id. */
static json_t *pub_json(uint32_t id, const unsigned char pub[32])
{
	char *k = pier_b64_encode(pub, 32);
	json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)id, "key", k);

	free(k);
	return o;
}

static json_t *spk_json(const struct pier_e2ee_device *d)
{
	json_t *o = pub_json(d->spk_id, d->spk.pub);
	char *sig = pier_b64_encode(d->spk_sig, sizeof d->spk_sig);

	json_object_set_new(o, "sig", json_string(sig));
	free(sig);
	return o;
}

/* The newest n one-time prekeys as [{"id","key"}] (those published last). */
static json_t *opks_json(const struct pier_e2ee_device *d, size_t n)
{
	json_t *a = json_array();

	for (size_t i = d->nopks - n; i < d->nopks; i++)
		json_array_append_new(a, pub_json(d->opks[i].id, d->opks[i].key.pub));
	return a;
}

/* The session proof: Ed25519(DSK, "pier-hello-v1" || challenge), base64url; NULL when the
 * challenge is not 32 bytes of base64url. */
static char *proof(const struct pier_e2ee_device *d, const char *challenge)
{
	unsigned char m[sizeof HELLO_CONTEXT - 1 + 32], sig[64];

	memcpy(m, HELLO_CONTEXT, sizeof HELLO_CONTEXT - 1);
	if (pier_b64_decode_fixed(challenge, m + sizeof HELLO_CONTEXT - 1, 32) != 0)
		return NULL;
	crypto_sign_detached(sig, NULL, m, sizeof m, d->sign_sk);
	return pier_b64_encode(sig, sizeof sig);
}

json_t *pier_e2ee_req_device_register(struct pier_e2ee_device *d, const char *challenge)
{
	char id[PIER_E2EE_ID_B64];
	char *p = proof(d, challenge), *sk = pier_b64_encode(d->sign_pk, 32);
	char *dk = pier_b64_encode(d->dik.pub, 32);
	json_t *req = NULL;

	if (p == NULL)
		goto out;
	if (d->nopks == 0)
		add_opks(d, PIER_E2EE_OPK_BATCH);
	pier_e2ee_device_id_b64(d, id);
	req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "op", "device_register",
	                "id", id, "sign_key", sk, "dh_key", dk, "name", d->name,
	                "spk", spk_json(d), "opks", opks_json(d, d->nopks), "proof", p);
out:
	free(p);
	free(sk);
	free(dk);
	return req;
}

json_t *pier_e2ee_req_device_hello(const struct pier_e2ee_device *d, const char *challenge)
{
	char id[PIER_E2EE_ID_B64];
	char *p = proof(d, challenge);
	json_t *req;

	if (p == NULL)
		return NULL;
	pier_e2ee_device_id_b64(d, id);
	req = json_pack("{s:s, s:s, s:s}", "op", "device_hello", "id", id, "proof", p);
	free(p);
	return req;
}

json_t *pier_e2ee_req_prekeys(struct pier_e2ee_device *d, int server_count, bool new_spk)
{
	size_t want = server_count >= 0 && server_count < PIER_E2EE_OPK_BATCH
	            ? (size_t)(PIER_E2EE_OPK_BATCH - server_count) : 0;
	size_t added;
	json_t *req = json_pack("{s:s}", "op", "prekeys");

	/* The secrets of prekeys the server gave away stay until a pre-key envelope uses them;
	 * the oldest go first when there are too many (add_opks bounds the array). */
	while (want > 0 && d->nopks + want > PIER_E2EE_OPK_MAX) {
		sodium_memzero(&d->opks[0], sizeof d->opks[0]);
		memmove(&d->opks[0], &d->opks[1], (d->nopks - 1) * sizeof *d->opks);
		d->nopks--;
	}
	added = add_opks(d, want);
	if (added > 0)
		json_object_set_new(req, "opks", opks_json(d, added));
	if (new_spk) {
		d->prev_spk_id = d->spk_id;
		d->prev_spk = d->spk;
		d->has_prev_spk = true;
		d->spk_id++;
		x25519_new(&d->spk);
		spk_sign(d);
		json_object_set_new(req, "spk", spk_json(d));
	}
	if (json_object_size(req) == 1) {
		json_decref(req);
		return NULL;
	}
	return req;
}

/* ---- device.json's "device" ---- */

static void put_b64(json_t *o, const char *key, const void *bin, size_t len)
{
	char *s = pier_b64_encode(bin, len);

	json_object_set_new(o, key, json_string(s));
	sodium_memzero(s, strlen(s));
	free(s);
}

static json_t *opk_secret_json(const struct pier_e2ee_opk *k)
{
	json_t *o = json_pack("{s:I}", "id", (json_int_t)k->id);

	put_b64(o, "secret", k->key.secret, 32);
	return o;
}

json_t *pier_e2ee_device_to_json(const struct pier_e2ee_device *d)
{
	json_t *o = json_object(), *opks = json_array();

	put_b64(o, "id", d->id, PIER_E2EE_ID_LEN);
	put_b64(o, "sign_seed", d->sign_seed, 32);
	put_b64(o, "dh_secret", d->dik.secret, 32);
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "created", json_integer(d->created_ms));
	json_object_set_new(o, "spk_id", json_integer(d->spk_id));
	put_b64(o, "spk_secret", d->spk.secret, 32);
	if (d->has_prev_spk) {
		json_object_set_new(o, "prev_spk_id", json_integer(d->prev_spk_id));
		put_b64(o, "prev_spk_secret", d->prev_spk.secret, 32);
	}
	json_object_set_new(o, "next_opk", json_integer(d->next_opk));
	for (size_t i = 0; i < d->nopks; i++)
		json_array_append_new(opks, opk_secret_json(&d->opks[i]));
	json_object_set_new(o, "opks", opks);
	return o;
}

static bool get_u32(const json_t *o, const char *key, uint32_t *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > UINT32_MAX)
		return false;
	*v = (uint32_t)json_integer_value(j);
	return true;
}

static bool get_x25519(const json_t *o, const char *key, struct pier_e2ee_dh *k)
{
	if (pier_b64_decode_fixed(json_string_value(json_object_get(o, key)), k->secret, 32) != 0)
		return false;
	crypto_scalarmult_base(k->pub, k->secret);
	return true;
}

int pier_e2ee_device_from_json(struct pier_e2ee_device *d, const json_t *o)
{
	struct pier_e2ee_device n;
	const json_t *opks = json_object_get(o, "opks"), *k;
	const char *name = json_string_value(json_object_get(o, "name"));
	size_t i;

	memset(&n, 0, sizeof n);
	if (pier_b64_decode_fixed(json_string_value(json_object_get(o, "id")), n.id,
	                          PIER_E2EE_ID_LEN) != 0 ||
	    pier_b64_decode_fixed(json_string_value(json_object_get(o, "sign_seed")), n.sign_seed,
	                          32) != 0 ||
	    !get_x25519(o, "dh_secret", &n.dik) || !get_u32(o, "spk_id", &n.spk_id) ||
	    !get_x25519(o, "spk_secret", &n.spk) || !get_u32(o, "next_opk", &n.next_opk) ||
	    !json_is_array(opks) || json_array_size(opks) > PIER_E2EE_OPK_MAX || name == NULL)
		goto bad;
	if (json_object_get(o, "prev_spk_id") != NULL) {
		if (!get_u32(o, "prev_spk_id", &n.prev_spk_id) ||
		    !get_x25519(o, "prev_spk_secret", &n.prev_spk))
			goto bad;
		n.has_prev_spk = true;
	}
	sign_from_seed(&n);
	spk_sign(&n);
	n.created_ms = json_integer_value(json_object_get(o, "created"));
	pier_e2ee_device_set_name(&n, name);
	n.opks = xcalloc(json_array_size(opks) + 1, sizeof *n.opks);
	json_array_foreach(opks, i, k) {
		if (!get_u32(k, "id", &n.opks[i].id) || !get_x25519(k, "secret", &n.opks[i].key))
			goto bad;
		n.nopks++;
	}
	pier_e2ee_device_release(d);
	*d = n;
	return 0;
bad:
	pier_e2ee_device_release(&n);
	return -1;
}
