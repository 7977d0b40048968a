/* sessions.c - the sessions of one device with each remote device (docs/E2EE.md "Sessions
 * per device pair"): at most PIER_E2EE_MAX_SESSIONS per remote device, newest first (the one
 * used for sending), pre-key replays refused by their EK, and a decryption that changes
 * nothing unless the envelope opened. */
#include "e2ee.h"
#include "e2ee_internal.h"

#include <stdlib.h>

void pier_e2ee_sessions_init(struct pier_e2ee_sessions *s)
{
	memset(s, 0, sizeof(*s));
}

static void session_free(struct pier_e2ee_session *ss)
{
	if (ss == NULL)
		return;
	pier_e2ee_ratchet_release(&ss->r);
	sodium_memzero(ss, sizeof(*ss));
	free(ss);
}

static void peer_release(struct pier_e2ee_peer *p)
{
	for (unsigned i = 0; i < p->nsess; i++)
		session_free(p->sess[i]);
	free(p->seen_ek);
	memset(p, 0, sizeof(*p));
}

void pier_e2ee_sessions_release(struct pier_e2ee_sessions *s)
{
	for (size_t i = 0; i < s->npeers; i++)
		peer_release(&s->peers[i]);
	free(s->peers);
	memset(s, 0, sizeof(*s));
}

static struct pier_e2ee_peer *peer_find(const struct pier_e2ee_sessions *s,
                                        const uint8_t id[PIER_E2EE_ID_LEN])
{
	for (size_t i = 0; i < s->npeers; i++)
		if (memcmp(s->peers[i].keys.id, id, PIER_E2EE_ID_LEN) == 0)
			return &s->peers[i];
	return NULL;
}

/* The peer of keys k, added if new (NULL: ERR_LIMIT). */
static struct pier_e2ee_peer *peer_get(struct pier_e2ee_sessions *s,
                                       const struct pier_e2ee_peer_keys *k)
{
	struct pier_e2ee_peer *p = peer_find(s, k->id);

	if (p != NULL)
		return p;
	if (s->npeers == PIER_E2EE_MAX_PEERS)
		return NULL;
	if (s->npeers == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct pier_e2ee_peer *np = realloc(s->peers, cap * sizeof(*np));

		if (np == NULL)
			return NULL;
		s->peers = np;
		s->cap = cap;
	}
	p = &s->peers[s->npeers++];
	memset(p, 0, sizeof(*p));
	p->keys = *k;
	return p;
}

static bool keys_equal(const struct pier_e2ee_peer_keys *a, const struct pier_e2ee_peer_keys *b)
{
	return sodium_memcmp(a, b, sizeof(*a)) == 0;
}

bool pier_e2ee_sessions_has(const struct pier_e2ee_sessions *s, const uint8_t id[PIER_E2EE_ID_LEN])
{
	const struct pier_e2ee_peer *p = peer_find(s, id);

	return p != NULL && p->nsess > 0;
}

void pier_e2ee_sessions_forget(struct pier_e2ee_sessions *s, const uint8_t id[PIER_E2EE_ID_LEN])
{
	struct pier_e2ee_peer *p = peer_find(s, id);
	size_t i;

	if (p == NULL)
		return;
	i = (size_t)(p - s->peers);
	peer_release(p);
	memmove(&s->peers[i], &s->peers[i + 1], (s->npeers - i - 1) * sizeof(s->peers[0]));
	s->npeers--;
}

/* Puts ss first (the newest), dropping the oldest past PIER_E2EE_MAX_SESSIONS. */
static void session_push(struct pier_e2ee_peer *p, struct pier_e2ee_session *ss)
{
	if (p->nsess == PIER_E2EE_MAX_SESSIONS)
		session_free(p->sess[--p->nsess]);
	memmove(&p->sess[1], &p->sess[0], p->nsess * sizeof(p->sess[0]));
	p->sess[0] = ss;
	p->nsess++;
}

/* Moves session i to the front. */
static void session_promote(struct pier_e2ee_peer *p, unsigned i)
{
	struct pier_e2ee_session *ss = p->sess[i];

	memmove(&p->sess[1], &p->sess[0], i * sizeof(p->sess[0]));
	p->sess[0] = ss;
}

static bool ek_seen(const struct pier_e2ee_peer *p, const uint8_t ek[32])
{
	for (unsigned i = 0; i < p->nseen; i++)
		if (sodium_memcmp(p->seen_ek[i], ek, 32) == 0)
			return true;
	return false;
}

static int ek_remember(struct pier_e2ee_peer *p, const uint8_t ek[32])
{
	if (p->seen_ek == NULL) {
		p->seen_ek = calloc(PIER_E2EE_MAX_SEEN_EK, sizeof(p->seen_ek[0]));
		if (p->seen_ek == NULL)
			return PIER_E2EE_ERR_LIMIT;
	}
	if (p->nseen == PIER_E2EE_MAX_SEEN_EK) {
		memmove(&p->seen_ek[0], &p->seen_ek[1], (p->nseen - 1) * sizeof(p->seen_ek[0]));
		p->nseen--;
	}
	memcpy(p->seen_ek[p->nseen++], ek, 32);
	return PIER_E2EE_OK;
}

/* Starts a session as initiator from a bundle (the caller checked keys and signature). */
static int session_initiate(const struct pier_e2ee_device *self,
                            const struct pier_e2ee_peer_keys *to,
                            const struct pier_e2ee_bundle_device *b, struct pier_e2ee_rng *rng,
                            struct pier_e2ee_session **out)
{
	struct pier_e2ee_session *ss = calloc(1, sizeof(*ss));
	uint8_t ek[32], sk[32];
	int rc;

	if (ss == NULL)
		return PIER_E2EE_ERR_LIMIT;
	pier_e2ee_rng_fill(rng, ek, sizeof(ek));
	crypto_scalarmult_base(ss->ek_pub, ek);
	rc = pier_e2ee_x3dh_initiator(self->dh_priv, ek, to->dh_pub, b->spk_pub,
	                              b->has_opk ? b->opk_pub : NULL, sk);
	if (rc == PIER_E2EE_OK)
		rc = pier_e2ee_ratchet_init_initiator(&ss->r, sk, b->spk_pub, rng);
	sodium_memzero(ek, sizeof(ek));
	sodium_memzero(sk, sizeof(sk));
	if (rc != PIER_E2EE_OK) {
		session_free(ss);
		return rc;
	}
	pier_e2ee_x3dh_ad(&self->pub, to, ss->ad);
	ss->send_prekey = true;
	ss->spk_id = b->spk_id;
	ss->has_opk = b->has_opk;
	ss->opk_id = b->opk_id;
	*out = ss;
	return PIER_E2EE_OK;
}

int pier_e2ee_encrypt(struct pier_e2ee_sessions *s, const struct pier_e2ee_device *self,
                      const struct pier_e2ee_peer_keys *to,
                      const struct pier_e2ee_bundle_device *bundle, const uint8_t *inner,
                      size_t inner_len, struct pier_e2ee_rng *rng, uint8_t *out,
                      size_t *out_len)
{
	struct pier_e2ee_peer *p = peer_find(s, to->id);
	struct pier_e2ee_session *ss;
	struct pier_e2ee_envelope e;
	uint8_t ad[PIER_E2EE_AD_LEN + PIER_E2EE_PREFIX_MAX], mk[32];
	size_t plen;
	int rc;

	if (inner_len > PIER_E2EE_CT_MAX - crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return PIER_E2EE_ERR_LIMIT;
	if (p != NULL && !keys_equal(&p->keys, to))
		return PIER_E2EE_ERR_MISMATCH;
	if (p == NULL || p->nsess == 0) {
		if (bundle == NULL)
			return PIER_E2EE_ERR_NO_SESSION;
		if (!keys_equal(&bundle->keys, to))
			return PIER_E2EE_ERR_MISMATCH;
		if (!pier_e2ee_spk_verify(to->sign_pub, to->id, bundle->spk_id, bundle->spk_pub,
		                          bundle->spk_sig))
			return PIER_E2EE_ERR_SIGNATURE;
		p = peer_get(s, to);
		if (p == NULL)
			return PIER_E2EE_ERR_LIMIT;
		rc = session_initiate(self, to, bundle, rng, &ss);
		if (rc != PIER_E2EE_OK)
			return rc;
		session_push(p, ss);
	}
	ss = p->sess[0];
	memset(&e, 0, sizeof(e));
	rc = pier_e2ee_ratchet_next(&ss->r, &e.h, mk);
	if (rc != PIER_E2EE_OK)
		return rc;
	e.type = ss->send_prekey ? PIER_E2EE_ENV_PREKEY : PIER_E2EE_ENV_RATCHET;
	memcpy(e.ek, ss->ek_pub, 32);
	e.spk_id = ss->spk_id;
	e.has_opk = ss->has_opk;
	e.opk_id = ss->opk_id;
	plen = pier_e2ee_envelope_prefix(&e, out);
	memcpy(ad, ss->ad, PIER_E2EE_AD_LEN);
	memcpy(ad + PIER_E2EE_AD_LEN, out, plen);
	pier_e2ee_msg_seal(mk, ad, PIER_E2EE_AD_LEN + plen, inner, inner_len, out + plen);
	*out_len = plen + inner_len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	sodium_memzero(mk, sizeof(mk));
	return PIER_E2EE_OK;
}

/* Decrypts e on session ss (ad = its AD || prefix). */
static int session_decrypt(struct pier_e2ee_session *ss, const struct pier_e2ee_envelope *e,
                           const uint8_t *prefix, size_t plen, struct pier_e2ee_rng *rng,
                           uint8_t *inner)
{
	uint8_t ad[PIER_E2EE_AD_LEN + PIER_E2EE_PREFIX_MAX];
	int rc;

	memcpy(ad, ss->ad, PIER_E2EE_AD_LEN);
	memcpy(ad + PIER_E2EE_AD_LEN, prefix, plen);
	rc = pier_e2ee_ratchet_decrypt(&ss->r, &e->h, ad, PIER_E2EE_AD_LEN + plen, e->ct,
	                               e->ct_len, inner, rng);
	if (rc == PIER_E2EE_OK)
		ss->send_prekey = false;   /* the other side has the session */
	return rc;
}

/* A new session from pre-key envelope e, as responder. */
static int session_respond(struct pier_e2ee_sessions *s, struct pier_e2ee_device *self,
                           const struct pier_e2ee_peer_keys *from,
                           const struct pier_e2ee_envelope *e, const uint8_t *prefix,
                           size_t plen, struct pier_e2ee_rng *rng, uint8_t *inner)
{
	const struct pier_e2ee_spk *spk = pier_e2ee_device_find_spk(self, e->spk_id);
	const struct pier_e2ee_opk *opk = NULL;
	struct pier_e2ee_session *ss;
	struct pier_e2ee_peer *p;
	uint8_t sk[32];
	int rc;

	if (spk == NULL)
		return PIER_E2EE_ERR_KEY;
	if (e->has_opk) {
		opk = pier_e2ee_device_find_opk(self, e->opk_id);
		if (opk == NULL)
			return PIER_E2EE_ERR_KEY;   /* used already, or never ours */
	}
	ss = calloc(1, sizeof(*ss));
	if (ss == NULL)
		return PIER_E2EE_ERR_LIMIT;
	rc = pier_e2ee_x3dh_responder(self->dh_priv, spk->priv, opk != NULL ? opk->priv : NULL,
	                              from->dh_pub, e->ek, sk);
	if (rc != PIER_E2EE_OK)
		goto fail;
	pier_e2ee_ratchet_init_responder(&ss->r, sk, spk->priv, spk->pub);
	pier_e2ee_x3dh_ad(from, &self->pub, ss->ad);
	memcpy(ss->ek_pub, e->ek, 32);
	ss->spk_id = e->spk_id;
	ss->has_opk = e->has_opk;
	ss->opk_id = e->opk_id;
	rc = session_decrypt(ss, e, prefix, plen, rng, inner);
	if (rc != PIER_E2EE_OK)
		goto fail;
	p = peer_get(s, from);
	if (p == NULL || ek_remember(p, e->ek) != PIER_E2EE_OK) {
		rc = PIER_E2EE_ERR_LIMIT;
		goto fail;
	}
	session_push(p, ss);
	if (opk != NULL)
		pier_e2ee_device_remove_opk(self, e->opk_id);
	sodium_memzero(sk, sizeof(sk));
	return PIER_E2EE_OK;
fail:
	sodium_memzero(sk, sizeof(sk));
	session_free(ss);
	return rc;
}

int pier_e2ee_decrypt(struct pier_e2ee_sessions *s, struct pier_e2ee_device *self,
                      const struct pier_e2ee_peer_keys *from, const uint8_t *env, size_t len,
                      struct pier_e2ee_rng *rng, uint8_t *inner, size_t *inner_len)
{
	struct pier_e2ee_peer *p = peer_find(s, from->id);
	struct pier_e2ee_envelope e;
	size_t plen;
	int rc, worst = PIER_E2EE_ERR_AUTH;

	if (pier_e2ee_envelope_parse(env, len, &e) != PIER_E2EE_OK)
		return PIER_E2EE_ERR_FORMAT;
	if (p != NULL && !keys_equal(&p->keys, from))
		return PIER_E2EE_ERR_MISMATCH;
	plen = len - e.ct_len;
	*inner_len = e.ct_len - crypto_aead_xchacha20poly1305_ietf_ABYTES;
	if (e.type == PIER_E2EE_ENV_PREKEY) {
		/* The initiator repeats its pre-key envelope until it hears back: the session of
		 * that EK opens it (its keys are used once). An EK seen before whose session is
		 * gone is a replay. */
		for (unsigned i = 0; p != NULL && i < p->nsess; i++) {
			if (sodium_memcmp(p->sess[i]->ek_pub, e.ek, 32) != 0)
				continue;
			rc = session_decrypt(p->sess[i], &e, env, plen, rng, inner);
			if (rc == PIER_E2EE_OK)
				session_promote(p, i);
			return rc;
		}
		if (p != NULL && ek_seen(p, e.ek))
			return PIER_E2EE_ERR_REPLAY;
		return session_respond(s, self, from, &e, env, plen, rng, inner);
	}
	if (p == NULL || p->nsess == 0)
		return PIER_E2EE_ERR_NO_SESSION;
	for (unsigned i = 0; i < p->nsess; i++) {
		rc = session_decrypt(p->sess[i], &e, env, plen, rng, inner);
		if (rc == PIER_E2EE_OK) {
			session_promote(p, i);
			return rc;
		}
		if (rc == PIER_E2EE_ERR_REPLAY || (rc == PIER_E2EE_ERR_TOO_FAR &&
		                                   worst != PIER_E2EE_ERR_REPLAY))
			worst = rc;
	}
	return worst;
}

static json_t *session_to_json(const struct pier_e2ee_session *ss)
{
	json_t *j = json_pack("{s:b, s:I, s:b, s:I, s:o}", "send_prekey", ss->send_prekey,
	                      "spk_id", (json_int_t)ss->spk_id, "has_opk", ss->has_opk, "opk_id",
	                      (json_int_t)ss->opk_id, "ratchet", pier_e2ee_ratchet_to_json(&ss->r));

	if (j == NULL || pier_e2ee_json_set_bytes(j, "ad", ss->ad, sizeof(ss->ad)) != 0 ||
	    pier_e2ee_json_set_bytes(j, "ek", ss->ek_pub, sizeof(ss->ek_pub)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *peer_to_json(const struct pier_e2ee_peer *p)
{
	json_t *j = json_object(), *sess = json_array(), *seen = json_array();
	bool ok = j != NULL && sess != NULL && seen != NULL &&
	          json_object_set(j, "sessions", sess) == 0 &&
	          json_object_set(j, "seen_ek", seen) == 0 &&
	          pier_e2ee_json_set_bytes(j, "id", p->keys.id, sizeof(p->keys.id)) == 0 &&
	          pier_e2ee_json_set_bytes(j, "sign_pub", p->keys.sign_pub, 32) == 0 &&
	          pier_e2ee_json_set_bytes(j, "dh_pub", p->keys.dh_pub, 32) == 0;

	for (unsigned i = 0; ok && i < p->nsess; i++)
		ok = json_array_append_new(sess, session_to_json(p->sess[i])) == 0;
	for (unsigned i = 0; ok && i < p->nseen; i++)
		ok = json_array_append_new(seen, pier_e2ee_b64_json(p->seen_ek[i], 32)) == 0;
	json_decref(sess);
	json_decref(seen);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *pier_e2ee_sessions_to_json(const struct pier_e2ee_sessions *s)
{
	json_t *j = json_pack("{s:i}", "v", 1), *peers = json_array();
	bool ok = j != NULL && peers != NULL && json_object_set(j, "peers", peers) == 0;

	for (size_t i = 0; ok && i < s->npeers; i++)
		ok = json_array_append_new(peers, peer_to_json(&s->peers[i])) == 0;
	json_decref(peers);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int session_from_json(const json_t *j, struct pier_e2ee_session **out)
{
	struct pier_e2ee_session *ss = calloc(1, sizeof(*ss));
	const json_t *sp = json_object_get(j, "send_prekey"), *ho = json_object_get(j, "has_opk");
	uint64_t spk_id, opk_id;

	if (ss == NULL)
		return PIER_E2EE_ERR_LIMIT;
	if (!json_is_boolean(sp) || !json_is_boolean(ho) ||
	    !e2ee_json_uint(json_object_get(j, "spk_id"), UINT32_MAX, &spk_id) ||
	    !e2ee_json_uint(json_object_get(j, "opk_id"), UINT32_MAX, &opk_id) ||
	    pier_e2ee_json_bytes(j, "ad", ss->ad, sizeof(ss->ad)) != 0 ||
	    pier_e2ee_json_bytes(j, "ek", ss->ek_pub, sizeof(ss->ek_pub)) != 0 ||
	    pier_e2ee_ratchet_from_json(json_object_get(j, "ratchet"), &ss->r) != 0) {
		free(ss);
		return PIER_E2EE_ERR_FORMAT;
	}
	ss->send_prekey = json_is_true(sp);
	ss->has_opk = json_is_true(ho);
	ss->spk_id = (uint32_t)spk_id;
	ss->opk_id = (uint32_t)opk_id;
	*out = ss;
	return PIER_E2EE_OK;
}

static int peer_from_json(const json_t *j, struct pier_e2ee_sessions *s)
{
	const json_t *sess = json_object_get(j, "sessions"), *seen = json_object_get(j, "seen_ek");
	struct pier_e2ee_peer_keys k;
	struct pier_e2ee_peer *p;

	if (!json_is_array(sess) || !json_is_array(seen) ||
	    json_array_size(sess) > PIER_E2EE_MAX_SESSIONS ||
	    json_array_size(seen) > PIER_E2EE_MAX_SEEN_EK ||
	    pier_e2ee_json_bytes(j, "id", k.id, sizeof(k.id)) != 0 ||
	    pier_e2ee_json_bytes(j, "sign_pub", k.sign_pub, 32) != 0 ||
	    pier_e2ee_json_bytes(j, "dh_pub", k.dh_pub, 32) != 0 || peer_find(s, k.id) != NULL)
		return PIER_E2EE_ERR_FORMAT;
	p = peer_get(s, &k);
	if (p == NULL)
		return PIER_E2EE_ERR_LIMIT;
	for (size_t i = 0; i < json_array_size(sess); i++) {
		int rc = session_from_json(json_array_get(sess, i), &p->sess[p->nsess]);

		if (rc != PIER_E2EE_OK)
			return rc;
		p->nsess++;
	}
	for (size_t i = 0; i < json_array_size(seen); i++) {
		const char *str = json_string_value(json_array_get(seen, i));
		uint8_t ek[32];

		if (str == NULL || pier_e2ee_b64_decode_exact(str, ek, sizeof(ek)) != 0 ||
		    ek_remember(p, ek) != PIER_E2EE_OK)
			return PIER_E2EE_ERR_FORMAT;
	}
	return PIER_E2EE_OK;
}

int pier_e2ee_sessions_from_json(const json_t *j, struct pier_e2ee_sessions *s)
{
	const json_t *peers = json_object_get(j, "peers");
	uint64_t v;
	int rc = PIER_E2EE_ERR_FORMAT;

	pier_e2ee_sessions_init(s);
	if (!e2ee_json_uint(json_object_get(j, "v"), 1, &v) || v != 1 || !json_is_array(peers) ||
	    json_array_size(peers) > PIER_E2EE_MAX_PEERS)
		goto fail;
	for (size_t i = 0; i < json_array_size(peers); i++) {
		rc = peer_from_json(json_array_get(peers, i), s);
		if (rc != PIER_E2EE_OK)
			goto fail;
	}
	return PIER_E2EE_OK;
fail:
	pier_e2ee_sessions_release(s);
	return rc;
}
