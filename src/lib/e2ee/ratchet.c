/* ratchet.c - the Double Ratchet of one session (docs/E2EE.md "Sessions"), after Signal's
 * specification, with its bounds: at most PIER_E2EE_MAX_SKIP keys skipped by one message, at
 * most PIER_E2EE_MAX_SKIPPED kept (the oldest go first). Decryption computes on local copies
 * and touches the state only once the message opened, so a failure changes nothing. */
#include "e2ee.h"
#include "e2ee_internal.h"

#include <stdlib.h>

#define LABEL_RK "pier-rk-v1"
#define LABEL_MK "pier-mk-v1"

/* KDF_RK(rk, dh) = HKDF(salt = rk, ikm = dh, "pier-rk-v1", 64) -> rk' || ck. */
static void kdf_rk(const uint8_t rk[32], const uint8_t dh[32], uint8_t rk_out[32],
                   uint8_t ck_out[32])
{
	uint8_t okm[64];

	pier_e2ee_hkdf(okm, sizeof(okm), rk, 32, dh, 32, E2EE_LABEL(LABEL_RK));
	memcpy(rk_out, okm, 32);
	memcpy(ck_out, okm + 32, 32);
	sodium_memzero(okm, sizeof(okm));
}

/* KDF_CK(ck): mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02); ck is replaced in place. */
static void kdf_ck(uint8_t ck[32], uint8_t mk[32])
{
	static const uint8_t one = 0x01, two = 0x02;

	crypto_auth_hmacsha256(mk, &one, 1, ck);
	crypto_auth_hmacsha256(ck, &two, 1, ck);
}

/* MSGKEY(mk) = HKDF(zero salt, mk, "pier-mk-v1", 56) -> key || nonce. */
static void msgkey(const uint8_t mk[32], uint8_t okm[56])
{
	pier_e2ee_hkdf(okm, 56, NULL, 0, mk, 32, E2EE_LABEL(LABEL_MK));
}

void pier_e2ee_msg_seal(const uint8_t mk[32], const uint8_t *ad, size_t ad_len,
                        const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t okm[56];

	msgkey(mk, okm);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, pt, len, ad, ad_len, NULL, okm + 32,
	                                           okm);
	sodium_memzero(okm, sizeof(okm));
}

static bool msg_open(const uint8_t mk[32], const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                     size_t ct_len, uint8_t *out)
{
	uint8_t okm[56];
	bool ok;

	msgkey(mk, okm);
	ok = crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, ct_len, ad, ad_len,
	                                                okm + 32, okm) == 0;
	sodium_memzero(okm, sizeof(okm));
	return ok;
}

int pier_e2ee_ratchet_init_initiator(struct pier_e2ee_ratchet *r, const uint8_t sk[32],
                                     const uint8_t spk_pub[32], struct pier_e2ee_rng *rng)
{
	uint8_t dh[32];
	int rc = PIER_E2EE_OK;

	memset(r, 0, sizeof(*r));
	pier_e2ee_rng_fill(rng, r->dhs_priv, sizeof(r->dhs_priv));
	crypto_scalarmult_base(r->dhs_pub, r->dhs_priv);
	memcpy(r->dhr, spk_pub, 32);
	r->has_dhr = true;
	if (e2ee_dh(dh, r->dhs_priv, r->dhr) != 0) {
		rc = PIER_E2EE_ERR_KEY;
		pier_e2ee_ratchet_release(r);
		goto out;
	}
	kdf_rk(sk, dh, r->rk, r->cks);
	r->has_cks = true;
out:
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

void pier_e2ee_ratchet_init_responder(struct pier_e2ee_ratchet *r, const uint8_t sk[32],
                                      const uint8_t spk_priv[32], const uint8_t spk_pub[32])
{
	memset(r, 0, sizeof(*r));
	memcpy(r->rk, sk, 32);
	memcpy(r->dhs_priv, spk_priv, 32);
	memcpy(r->dhs_pub, spk_pub, 32);
}

int pier_e2ee_ratchet_next(struct pier_e2ee_ratchet *r, struct pier_e2ee_header *h,
                           uint8_t mk[32])
{
	if (!r->has_cks)
		return PIER_E2EE_ERR_NO_SESSION;
	if (r->ns == UINT32_MAX)
		return PIER_E2EE_ERR_LIMIT;
	memcpy(h->dh, r->dhs_pub, 32);
	h->pn = r->pn;
	h->n = r->ns;
	kdf_ck(r->cks, mk);
	r->ns++;
	return PIER_E2EE_OK;
}

/* Keys skipped while decrypting one message, stored only if it opens. */
struct pending {
	struct pier_e2ee_skipped *k;
	size_t n;
};

/* Derives the keys of chain ck from index from up to (not including) to into p; ck moves on. */
static void skip_chain(struct pending *p, const uint8_t dh[32], uint8_t ck[32], uint32_t from,
                       uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		struct pier_e2ee_skipped *s = &p->k[p->n++];

		memcpy(s->dh, dh, 32);
		s->n = i;
		kdf_ck(ck, s->mk);
	}
}

/* Appends p's keys to the state's, dropping the oldest past PIER_E2EE_MAX_SKIPPED. */
static int keep_skipped(struct pier_e2ee_ratchet *r, const struct pending *p)
{
	size_t total = r->nskipped + p->n, drop = 0, n;
	struct pier_e2ee_skipped *k;

	if (p->n == 0)
		return PIER_E2EE_OK;
	if (total > PIER_E2EE_MAX_SKIPPED)
		drop = total - PIER_E2EE_MAX_SKIPPED;
	n = total - drop;
	k = malloc(n * sizeof(*k));
	if (k == NULL)
		return PIER_E2EE_ERR_LIMIT;
	/* drop <= r->nskipped since p->n <= PIER_E2EE_MAX_SKIP < PIER_E2EE_MAX_SKIPPED */
	if (r->nskipped > drop)
		memcpy(k, r->skipped + drop, (r->nskipped - drop) * sizeof(*k));
	memcpy(k + (r->nskipped - drop), p->k, p->n * sizeof(*k));
	if (r->skipped != NULL) {
		sodium_memzero(r->skipped, r->nskipped * sizeof(*k));
		free(r->skipped);
	}
	r->skipped = k;
	r->nskipped = n;
	return PIER_E2EE_OK;
}

static void remove_skipped(struct pier_e2ee_ratchet *r, size_t i)
{
	memmove(&r->skipped[i], &r->skipped[i + 1], (r->nskipped - i - 1) * sizeof(r->skipped[0]));
	r->nskipped--;
	sodium_memzero(&r->skipped[r->nskipped], sizeof(r->skipped[0]));
}

int pier_e2ee_ratchet_decrypt(struct pier_e2ee_ratchet *r, const struct pier_e2ee_header *h,
                              const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                              size_t ct_len, uint8_t *out, struct pier_e2ee_rng *rng)
{
	struct pending p = { NULL, 0 };
	uint8_t ck[32], mk[32], rk1[32], dh[32];
	bool same_chain = r->has_dhr && sodium_memcmp(h->dh, r->dhr, 32) == 0;
	uint64_t skip;
	int rc;

	if (ct_len < crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return PIER_E2EE_ERR_FORMAT;
	if (h->n == UINT32_MAX)
		return PIER_E2EE_ERR_TOO_FAR;   /* Nr would wrap */
	/* A key skipped earlier: used once, then deleted. */
	for (size_t i = 0; i < r->nskipped; i++) {
		if (r->skipped[i].n != h->n || sodium_memcmp(r->skipped[i].dh, h->dh, 32) != 0)
			continue;
		if (!msg_open(r->skipped[i].mk, ad, ad_len, ct, ct_len, out))
			return PIER_E2EE_ERR_AUTH;
		remove_skipped(r, i);
		return PIER_E2EE_OK;
	}
	if (same_chain) {
		if (!r->has_ckr)
			return PIER_E2EE_ERR_AUTH;   /* nothing is sent on the chain of our SPK */
		if (h->n < r->nr)
			return PIER_E2EE_ERR_REPLAY; /* its key was used (or dropped) */
		skip = (uint64_t)h->n - r->nr;
	} else {
		skip = (r->has_ckr && h->pn > r->nr ? (uint64_t)h->pn - r->nr : 0) + h->n;
	}
	if (skip > PIER_E2EE_MAX_SKIP)
		return PIER_E2EE_ERR_TOO_FAR;
	if (skip > 0) {
		p.k = malloc(skip * sizeof(*p.k));
		if (p.k == NULL)
			return PIER_E2EE_ERR_LIMIT;
	}
	if (same_chain) {
		memcpy(ck, r->ckr, 32);
		skip_chain(&p, r->dhr, ck, r->nr, h->n);
	} else {
		if (r->has_ckr && h->pn > r->nr) {
			memcpy(ck, r->ckr, 32);
			skip_chain(&p, r->dhr, ck, r->nr, h->pn);
		}
		if (e2ee_dh(dh, r->dhs_priv, h->dh) != 0) {
			rc = PIER_E2EE_ERR_KEY;
			goto out;
		}
		kdf_rk(r->rk, dh, rk1, ck);
		skip_chain(&p, h->dh, ck, 0, h->n);
	}
	kdf_ck(ck, mk);
	if (!msg_open(mk, ad, ad_len, ct, ct_len, out)) {
		rc = PIER_E2EE_ERR_AUTH;
		goto out;
	}
	/* It opened: now the state moves on. */
	rc = keep_skipped(r, &p);
	if (rc != PIER_E2EE_OK)
		goto out;
	if (!same_chain) {
		/* The DH ratchet step: the receiving chain of h->dh, then a new sending key pair. */
		r->pn = r->ns;
		r->ns = 0;
		memcpy(r->dhr, h->dh, 32);
		r->has_dhr = true;
		pier_e2ee_rng_fill(rng, r->dhs_priv, 32);
		crypto_scalarmult_base(r->dhs_pub, r->dhs_priv);
		if (e2ee_dh(dh, r->dhs_priv, r->dhr) != 0) {
			rc = PIER_E2EE_ERR_KEY;   /* cannot happen: h->dh passed the DH above */
			goto out;
		}
		kdf_rk(rk1, dh, r->rk, r->cks);
		r->has_cks = true;
	}
	memcpy(r->ckr, ck, 32);
	r->has_ckr = true;
	r->nr = h->n + 1;
out:
	if (p.k != NULL) {
		sodium_memzero(p.k, skip * sizeof(*p.k));
		free(p.k);
	}
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(mk, sizeof(mk));
	sodium_memzero(rk1, sizeof(rk1));
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

int pier_e2ee_ratchet_copy(struct pier_e2ee_ratchet *dst, const struct pier_e2ee_ratchet *src)
{
	*dst = *src;
	dst->skipped = NULL;
	if (src->nskipped > 0) {
		dst->skipped = malloc(src->nskipped * sizeof(*dst->skipped));
		if (dst->skipped == NULL) {
			sodium_memzero(dst, sizeof(*dst));
			return PIER_E2EE_ERR_LIMIT;
		}
		memcpy(dst->skipped, src->skipped, src->nskipped * sizeof(*dst->skipped));
	}
	return PIER_E2EE_OK;
}

void pier_e2ee_ratchet_release(struct pier_e2ee_ratchet *r)
{
	if (r->skipped != NULL) {
		sodium_memzero(r->skipped, r->nskipped * sizeof(*r->skipped));
		free(r->skipped);
	}
	sodium_memzero(r, sizeof(*r));
}

json_t *pier_e2ee_ratchet_to_json(const struct pier_e2ee_ratchet *r)
{
	json_t *j = json_pack("{s:I, s:I, s:I}", "ns", (json_int_t)r->ns, "nr", (json_int_t)r->nr,
	                      "pn", (json_int_t)r->pn);
	json_t *sk = json_array();

	if (j == NULL || sk == NULL || json_object_set(j, "skipped", sk) != 0 ||
	    pier_e2ee_json_set_bytes(j, "rk", r->rk, 32) != 0 ||
	    pier_e2ee_json_set_bytes(j, "dhs_priv", r->dhs_priv, 32) != 0 ||
	    (r->has_dhr && pier_e2ee_json_set_bytes(j, "dhr", r->dhr, 32) != 0) ||
	    (r->has_cks && pier_e2ee_json_set_bytes(j, "cks", r->cks, 32) != 0) ||
	    (r->has_ckr && pier_e2ee_json_set_bytes(j, "ckr", r->ckr, 32) != 0))
		goto fail;
	for (size_t i = 0; i < r->nskipped; i++) {
		json_t *k = json_pack("{s:I}", "n", (json_int_t)r->skipped[i].n);

		if (k == NULL || json_array_append_new(sk, k) != 0 ||
		    pier_e2ee_json_set_bytes(k, "dh", r->skipped[i].dh, 32) != 0 ||
		    pier_e2ee_json_set_bytes(k, "mk", r->skipped[i].mk, 32) != 0)
			goto fail;
	}
	json_decref(sk);
	return j;
fail:
	json_decref(sk);
	json_decref(j);
	return NULL;
}

/* An optional 32-byte field: absent is fine (*has false), present must be right. */
static bool opt_key(const json_t *j, const char *name, uint8_t out[32], bool *has)
{
	*has = json_object_get(j, name) != NULL;
	return !*has || pier_e2ee_json_bytes(j, name, out, 32) == PIER_E2EE_OK;
}

int pier_e2ee_ratchet_from_json(const json_t *j, struct pier_e2ee_ratchet *r)
{
	const json_t *sk = json_object_get(j, "skipped");
	uint64_t ns, nr, pn;
	size_t n = json_array_size(sk);

	memset(r, 0, sizeof(*r));
	if (!e2ee_json_uint(json_object_get(j, "ns"), UINT32_MAX, &ns) ||
	    !e2ee_json_uint(json_object_get(j, "nr"), UINT32_MAX, &nr) ||
	    !e2ee_json_uint(json_object_get(j, "pn"), UINT32_MAX, &pn) || !json_is_array(sk) ||
	    n > PIER_E2EE_MAX_SKIPPED || pier_e2ee_json_bytes(j, "rk", r->rk, 32) != 0 ||
	    pier_e2ee_json_bytes(j, "dhs_priv", r->dhs_priv, 32) != 0 ||
	    !opt_key(j, "dhr", r->dhr, &r->has_dhr) || !opt_key(j, "cks", r->cks, &r->has_cks) ||
	    !opt_key(j, "ckr", r->ckr, &r->has_ckr))
		goto fail;
	r->ns = (uint32_t)ns;
	r->nr = (uint32_t)nr;
	r->pn = (uint32_t)pn;
	crypto_scalarmult_base(r->dhs_pub, r->dhs_priv);
	if (n > 0) {
		r->skipped = calloc(n, sizeof(*r->skipped));
		if (r->skipped == NULL)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *k = json_array_get(sk, i);
		uint64_t kn;

		if (!e2ee_json_uint(json_object_get(k, "n"), UINT32_MAX, &kn) ||
		    pier_e2ee_json_bytes(k, "dh", r->skipped[i].dh, 32) != 0 ||
		    pier_e2ee_json_bytes(k, "mk", r->skipped[i].mk, 32) != 0)
			goto fail;
		r->skipped[i].n = (uint32_t)kn;
		r->nskipped = i + 1;
	}
	return PIER_E2EE_OK;
fail:
	pier_e2ee_ratchet_release(r);
	return PIER_E2EE_ERR_FORMAT;
}
