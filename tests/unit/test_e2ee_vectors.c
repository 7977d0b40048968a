/* test_e2ee_vectors.c - the C core reproduces every byte of the known-answer vector files
 * (tests/vectors/e2ee/, docs/E2EE.md), working from each file's inputs as the browser's
 * checker does, not from the generator's code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2ee/e2ee.h"   /* by its folder: pierd has a chat/e2ee.h */
#include "tap.h"

#ifndef E2EE_VECTORS
#error "E2EE_VECTORS (the vector directory) must be defined"
#endif

static json_t *load(const char *name)
{
	char path[4096];
	json_error_t err;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", E2EE_VECTORS, name);
	j = json_load_file(path, 0, &err);
	CHECK(j != NULL, "%s: %s", path, err.text);
	CHECK(j == NULL || json_string_value(json_object_get(j, "about")) != NULL,
	      "%s: no about", name);
	return j;
}

/* The bytes of base64url member key of o (malloc'd; *len). */
static uint8_t *bytes(const json_t *o, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t cap = s != NULL ? strlen(s) : 0;
	uint8_t *b = malloc(cap + 1);

	*len = 0;
	if (s == NULL || pier_e2ee_b64_decode(s, b, cap + 1, len) != 0) {
		CHECK(false, "field %s is not base64url", key);
		*len = 0;
	}
	return b;
}

/* Fixed-size field into out. */
static bool fixed(const json_t *o, const char *key, uint8_t *out, size_t n)
{
	return CHECK(pier_e2ee_json_bytes(o, key, out, n) == 0, "field %s: not %zu bytes", key, n);
}

static bool same_b64(const json_t *o, const char *key, const uint8_t *got, size_t n)
{
	json_t *g = pier_e2ee_b64_json(got, n);
	bool ok = CHECK(json_equal(g, json_object_get(o, key)), "%s differs: got %s, want %s", key,
	                json_string_value(g), json_string_value(json_object_get(o, key)));

	json_decref(g);
	return ok;
}

static void rng_of(struct pier_e2ee_rng *r, const json_t *o, const char *key)
{
	const char *seed = json_string_value(json_object_get(o, key));

	CHECK(seed != NULL && pier_e2ee_rng_init_deterministic(r, (const uint8_t *)seed,
	                                                        strlen(seed)) == 0, "seed %s", key);
}

static void test_rng(void)
{
	json_t *f = load("rng.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "cases"), i, c) {
		struct pier_e2ee_rng r;
		json_t *d;
		size_t k;

		rng_of(&r, c, "seed");
		json_array_foreach(json_object_get(c, "draws"), k, d) {
			size_t n = (size_t)json_integer_value(json_object_get(d, "n"));
			uint8_t buf[64];

			pier_e2ee_rng_fill(&r, buf, n);
			same_b64(d, "bytes", buf, n);
		}
	}
	json_decref(f);
}

static void test_hkdf(void)
{
	json_t *f = load("hkdf.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "cases"), i, c) {
		size_t sl, il, nl, L = (size_t)json_integer_value(json_object_get(c, "L"));
		uint8_t *salt = bytes(c, "salt", &sl), *ikm = bytes(c, "ikm", &il),
		        *info = bytes(c, "info", &nl), okm[255];

		CHECK(pier_e2ee_hkdf(okm, L, salt, sl, ikm, il, info, nl) == 0, "hkdf");
		same_b64(c, "okm", okm, L);
		free(salt);
		free(ikm);
		free(info);
	}
	json_decref(f);
}

/* Makes the device of a vector file's "devices" entry from its seed and checks its keys. */
static void device_of(const json_t *dj, struct pier_e2ee_device *d, struct pier_e2ee_rng *r)
{
	json_t *opk;
	size_t i;

	rng_of(r, dj, "seed");
	pier_e2ee_device_create(d, (uint64_t)json_integer_value(json_object_get(dj, "created_ms")),
	                        r);
	pier_e2ee_device_add_opks(d, (size_t)json_integer_value(json_object_get(dj, "opk_count")),
	                          r, NULL);
	same_b64(dj, "id", d->pub.id, 16);
	same_b64(dj, "sign_seed", d->sign_seed, 32);
	same_b64(dj, "sign_pub", d->pub.sign_pub, 32);
	same_b64(dj, "dh_priv", d->dh_priv, 32);
	same_b64(dj, "dh_pub", d->pub.dh_pub, 32);
	same_b64(json_object_get(dj, "spk"), "priv", d->spk.priv, 32);
	same_b64(json_object_get(dj, "spk"), "pub", d->spk.pub, 32);
	same_b64(json_object_get(dj, "spk"), "sig", d->spk.sig, 64);
	json_array_foreach(json_object_get(dj, "opks"), i, opk) {
		if (!CHECK(i < d->opk_count, "opk %zu", i))
			break;
		same_b64(opk, "pub", d->opks[i].pub, 32);
	}
	CHECK(r->draws == json_integer_value(json_object_get(dj, "draws_after_setup")),
	      "draws after setup: %u", r->draws);
}

static void test_x3dh(void)
{
	json_t *f = load("x3dh.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "cases"), i, c) {
		struct pier_e2ee_device a, b;
		struct pier_e2ee_rng ra, rb;
		uint8_t ek[32], sk[32], sk2[32], ad[PIER_E2EE_AD_LEN], ek_pub[32];
		bool opk = json_is_true(json_object_get(c, "opk"));

		device_of(json_object_get(c, "a"), &a, &ra);
		device_of(json_object_get(c, "b"), &b, &rb);
		pier_e2ee_rng_fill(&ra, ek, 32);
		same_b64(c, "ek_priv", ek, 32);
		crypto_scalarmult_base(ek_pub, ek);
		CHECK(pier_e2ee_x3dh_initiator(a.dh_priv, ek, b.pub.dh_pub, b.spk.pub,
		                               opk ? b.opks[0].pub : NULL, sk) == 0, "x3dh a");
		CHECK(pier_e2ee_x3dh_responder(b.dh_priv, b.spk.priv, opk ? b.opks[0].priv : NULL,
		                               a.pub.dh_pub, ek_pub, sk2) == 0, "x3dh b");
		same_b64(c, "sk", sk, 32);
		same_b64(c, "sk", sk2, 32);
		pier_e2ee_x3dh_ad(&a.pub, &b.pub, ad);
		same_b64(c, "ad", ad, sizeof(ad));
		pier_e2ee_device_release(&a);
		pier_e2ee_device_release(&b);
	}
	json_array_foreach(json_object_get(f, "invalid"), i, c) {
		uint8_t dik[32], ek[32], dikb[32], spk[32], sk[32];

		fixed(c, "dik_a_priv", dik, 32);
		fixed(c, "ek_priv", ek, 32);
		fixed(c, "dik_b_pub", dikb, 32);
		fixed(c, "spk_b_pub", spk, 32);
		CHECK(pier_e2ee_x3dh_initiator(dik, ek, dikb, spk, NULL, sk) == PIER_E2EE_ERR_KEY,
		      "an all-zero DH is refused");
	}
	json_decref(f);
}

struct party {
	struct pier_e2ee_device dev;
	struct pier_e2ee_rng rng;
	struct pier_e2ee_sessions s;
};

/* The bundle of x: its SPK and the OPK of id opk_id (0: none). */
static void bundle_of(const struct party *x, uint32_t opk_id, struct pier_e2ee_bundle_device *b)
{
	const struct pier_e2ee_opk *opk = pier_e2ee_device_find_opk(&x->dev, opk_id);

	memset(b, 0, sizeof(*b));
	b->keys = x->dev.pub;
	b->spk_id = x->dev.spk.id;
	memcpy(b->spk_pub, x->dev.spk.pub, 32);
	memcpy(b->spk_sig, x->dev.spk.sig, 64);
	if (opk != NULL) {
		b->has_opk = true;
		b->opk_id = opk_id;
		memcpy(b->opk_pub, opk->pub, 32);
	}
	CHECK(opk_id == 0 || opk != NULL, "opk %u in the bundle", opk_id);
}

/* Runs the step script of ratchet.json or sessions.json. In ratchet.json a bundle is always
 * the SPK and the first OPK; sessions.json names the OPK ("opk_id"). */
static void test_script(const char *name, int min_steps)
{
	json_t *f = load(name), *st;
	json_t *devs = json_object_get(f, "devices");
	struct party p[2];
	uint8_t env[64][PIER_E2EE_ENVELOPE_MAX];
	size_t env_len[64], i;
	int steps = 0;
	bool names_opk = strcmp(name, "sessions.json") == 0;

	for (int k = 0; k < 2; k++) {
		device_of(json_object_get(devs, k == 0 ? "A" : "B"), &p[k].dev, &p[k].rng);
		pier_e2ee_sessions_init(&p[k].s);
	}
	json_array_foreach(json_object_get(f, "steps"), i, st) {
		const char *op = json_string_value(json_object_get(st, "op"));
		int by = strcmp(json_string_value(json_object_get(st, "by")), "A") == 0 ? 0 : 1;
		json_int_t msg = json_integer_value(json_object_get(st, "msg"));
		struct party *me = &p[by], *other = &p[1 - by];

		steps++;
		if (strcmp(op, "encrypt") == 0) {
			uint8_t inner[64];
			bool with_bundle = json_is_true(json_object_get(st, "bundle"));
			const json_t *oid = json_object_get(st, "opk_id");
			struct pier_e2ee_bundle_device bundle;

			if (!CHECK(msg >= 0 && msg < 64, "msg %lld", (long long)msg))
				break;
			/* ratchet.json: the first OPK; sessions.json: the one named, none when absent */
			if (with_bundle)
				bundle_of(other, oid != NULL ? (uint32_t)json_integer_value(oid) :
				                 (!names_opk && other->dev.opk_count > 0) ?
				                 other->dev.opks[0].id : 0,
				          &bundle);
			fixed(st, "inner", inner, 64);
			CHECK(pier_e2ee_encrypt(&me->s, &me->dev, &other->dev.pub,
			                        with_bundle ? &bundle : NULL, inner, 64, &me->rng,
			                        env[msg], &env_len[msg]) == 0, "encrypt %lld",
			      (long long)msg);
			same_b64(st, "envelope", env[msg], env_len[msg]);
		} else if (strcmp(op, "decrypt") == 0) {
			uint8_t inner[PIER_E2EE_CT_MAX];
			size_t len;
			int rc = pier_e2ee_decrypt(&me->s, &me->dev, &other->dev.pub, env[msg],
			                           env_len[msg], &me->rng, inner, &len);
			const char *want = json_string_value(json_object_get(st, "result"));

			CHECK(strcmp(pier_e2ee_status_name(rc), want) == 0,
			      "decrypt %lld: %s, want %s", (long long)msg, pier_e2ee_status_name(rc), want);
			if (rc == 0)
				same_b64(st, "inner", inner, len);
		} else if (strcmp(op, "advance") == 0) {
			uint8_t zero[64] = { 0 }, e[PIER_E2EE_ENVELOPE_MAX];
			size_t len;
			json_int_t n = json_integer_value(json_object_get(st, "count")), failed = 0;

			for (json_int_t k = 0; k < n; k++)
				failed += pier_e2ee_encrypt(&me->s, &me->dev, &other->dev.pub, NULL, zero,
				                            64, &me->rng, e, &len) != 0;
			CHECK(failed == 0, "advance: %lld failed", (long long)failed);
		} else if (strcmp(op, "forget") == 0) {
			pier_e2ee_sessions_forget(&me->s, other->dev.pub.id);
		} else {
			CHECK(false, "unknown op %s", op);
		}
	}
	CHECK(steps >= min_steps, "%s has %d steps", name, steps);
	for (int k = 0; k < 2; k++) {
		pier_e2ee_sessions_release(&p[k].s);
		pier_e2ee_device_release(&p[k].dev);
	}
	json_decref(f);
}

static void test_envelope(void)
{
	json_t *f = load("envelope.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "valid"), i, c) {
		size_t len;
		uint8_t *b = bytes(c, "bytes", &len), prefix[PIER_E2EE_PREFIX_MAX];
		json_t *fl = json_object_get(c, "fields");
		struct pier_e2ee_envelope e;
		size_t plen;

		if (!CHECK(pier_e2ee_envelope_parse(b, len, &e) == 0, "valid envelope %zu", i)) {
			free(b);
			continue;
		}
		CHECK(e.type == json_integer_value(json_object_get(fl, "type")), "type");
		if (e.type == PIER_E2EE_ENV_PREKEY) {
			same_b64(fl, "ek", e.ek, 32);
			CHECK(e.spk_id == (uint32_t)json_integer_value(json_object_get(fl, "spk_id")),
			      "spk_id");
			CHECK(e.has_opk == json_is_true(json_object_get(fl, "has_opk")), "has_opk");
			if (e.has_opk)
				CHECK(e.opk_id ==
				      (uint32_t)json_integer_value(json_object_get(fl, "opk_id")), "opk_id");
		}
		same_b64(fl, "dh", e.h.dh, 32);
		CHECK(e.h.pn == (uint32_t)json_integer_value(json_object_get(fl, "pn")), "pn");
		CHECK(e.h.n == (uint32_t)json_integer_value(json_object_get(fl, "n")), "n");
		same_b64(fl, "ciphertext", e.ct, e.ct_len);
		plen = pier_e2ee_envelope_prefix(&e, prefix);
		CHECK(plen == len - e.ct_len && memcmp(prefix, b, plen) == 0, "the prefix re-encodes");
		free(b);
	}
	json_array_foreach(json_object_get(f, "invalid"), i, c) {
		size_t len;
		uint8_t *b = bytes(c, "bytes", &len);
		struct pier_e2ee_envelope e;

		CHECK(pier_e2ee_envelope_parse(b, len, &e) == PIER_E2EE_ERR_FORMAT, "invalid: %s",
		      json_string_value(json_object_get(c, "why")));
		free(b);
	}
	json_decref(f);
}

static void test_payload(void)
{
	json_t *f = load("payload.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "cases"), i, c) {
		struct pier_e2ee_rng r;
		const char *pt = json_string_value(json_object_get(c, "plaintext"));
		size_t n = strlen(pt);
		uint8_t pk[32], *out = malloc(n + PIER_E2EE_PAYLOAD_OVERHEAD), inner[64],
		        *back = malloc(n + 1);

		rng_of(&r, c, "seed");
		pier_e2ee_payload_seal((const uint8_t *)pt, n, &r, pk, out);
		pier_e2ee_inner_make(pk, out, n + PIER_E2EE_PAYLOAD_OVERHEAD, inner);
		same_b64(c, "pk", pk, 32);
		same_b64(c, "payload", out, n + PIER_E2EE_PAYLOAD_OVERHEAD);
		same_b64(c, "inner", inner, 64);
		CHECK(pier_e2ee_payload_open(inner, out, n + PIER_E2EE_PAYLOAD_OVERHEAD, back) == 0 &&
		      memcmp(back, pt, n) == 0, "payload opens");
		free(out);
		free(back);
	}
	json_array_foreach(json_object_get(f, "invalid"), i, c) {
		size_t len;
		uint8_t inner[64], *p = bytes(c, "payload", &len), *pt = malloc(len + 1);
		const char *want = json_string_value(json_object_get(c, "error"));
		int rc;

		fixed(c, "inner", inner, 64);
		rc = pier_e2ee_payload_open(inner, p, len, pt);
		CHECK(strcmp(pier_e2ee_status_name(rc), want) == 0, "invalid payload (%s): %s",
		      json_string_value(json_object_get(c, "why")), pier_e2ee_status_name(rc));
		free(p);
		free(pt);
	}
	json_decref(f);
}

static void test_devlist(void)
{
	json_t *f = load("devlist.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "valid"), i, c) {
		size_t len;
		uint8_t *b = bytes(c, "bytes", &len), sig[64], ak_seed[32], ak[32], again[4096];
		json_t *fl = json_object_get(c, "fields"), *d;
		struct pier_devlist l;
		size_t k;

		fixed(c, "ak_seed", ak_seed, 32);
		pier_e2ee_sign_pub(ak_seed, ak);
		same_b64(fl, "ak_pub", ak, 32);
		pier_e2ee_devlist_sign(ak_seed, b, len, sig);
		same_b64(c, "sig", sig, 64);
		CHECK(pier_e2ee_devlist_open(b, len, sig, json_string_value(json_object_get(fl, "user")),
		                             &l, NULL) == 0, "list %zu opens", i);
		CHECK(l.version == (uint32_t)json_integer_value(json_object_get(fl, "version")) &&
		      l.flags == json_integer_value(json_object_get(fl, "flags")) &&
		      l.count == json_array_size(json_object_get(fl, "devices")), "list %zu fields", i);
		json_array_foreach(json_object_get(fl, "devices"), k, d) {
			if (k >= l.count)
				break;
			same_b64(d, "id", l.dev[k].id, 16);
			same_b64(d, "sign_pub", l.dev[k].sign_key, 32);
			same_b64(d, "dh_pub", l.dev[k].dh_key, 32);
			CHECK(l.dev[k].created_ms ==
			      (uint64_t)json_integer_value(json_object_get(d, "created_ms")), "created");
			CHECK(strcmp(l.dev[k].name, json_string_value(json_object_get(d, "name"))) == 0,
			      "name");
		}
		CHECK(pier_devlist_encode(&l, again, sizeof(again)) == len &&
		      memcmp(again, b, len) == 0, "list %zu re-encodes to the same bytes", i);
		free(b);
	}
	json_array_foreach(json_object_get(f, "invalid"), i, c) {
		size_t len;
		uint8_t *b = bytes(c, "bytes", &len);
		struct pier_devlist l;
		enum pier_devlist_err e = pier_devlist_parse(b, len, &l);
		const char *want = json_string_value(json_object_get(c, "error"));

		CHECK(strcmp(pier_devlist_err_name(e), want) == 0, "invalid list (%s): %s, want %s",
		      json_string_value(json_object_get(c, "why")), pier_devlist_err_name(e), want);
		free(b);
	}
	json_array_foreach(json_object_get(f, "bad_signature"), i, c) {
		size_t len;
		uint8_t *b = bytes(c, "bytes", &len), sig[64];
		struct pier_devlist l;

		fixed(c, "sig", sig, 64);
		CHECK(pier_e2ee_devlist_open(b, len, sig, "bob_22", &l, NULL) != 0, "bad signature %s",
		      json_string_value(json_object_get(c, "why")));
		free(b);
	}
	json_decref(f);
}

static void test_safety(void)
{
	json_t *f = load("safety.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "cases"), i, c) {
		uint8_t a[32], b[32];
		const char *ua = json_string_value(json_object_get(c, "user_a")),
		           *ub = json_string_value(json_object_get(c, "user_b"));
		char fa[31], fb[31], dig[61], dig2[61], shown[PIER_E2EE_SAFETY_SHOWN + 1];

		fixed(c, "ak_a", a, 32);
		fixed(c, "ak_b", b, 32);
		pier_e2ee_fingerprint(ua, a, fa);
		pier_e2ee_fingerprint(ub, b, fb);
		pier_e2ee_safety_number(ua, a, ub, b, dig);
		pier_e2ee_safety_number(ub, b, ua, a, dig2);
		pier_e2ee_safety_format(dig, shown);
		CHECK(strcmp(fa, json_string_value(json_object_get(c, "fp_a"))) == 0, "fp_a %s", fa);
		CHECK(strcmp(fb, json_string_value(json_object_get(c, "fp_b"))) == 0, "fp_b %s", fb);
		CHECK(strcmp(dig, json_string_value(json_object_get(c, "digits"))) == 0, "digits");
		CHECK(strcmp(dig, dig2) == 0, "both sides show the same digits");
		CHECK(strcmp(shown, json_string_value(json_object_get(c, "shown"))) == 0, "shown %s",
		      shown);
	}
	json_decref(f);
	f = load("approval.json");
	json_array_foreach(json_object_get(f, "cases"), i, c) {
		uint8_t ak[32];
		struct pier_e2ee_peer_keys k;
		char shown[10];
		uint32_t code;

		fixed(c, "ak_pub", ak, 32);
		fixed(c, "device_id", k.id, 16);
		fixed(c, "sign_pub", k.sign_pub, 32);
		fixed(c, "dh_pub", k.dh_pub, 32);
		code = pier_e2ee_approval_code(ak, &k);
		pier_e2ee_approval_format(code, shown);
		CHECK(code == (uint32_t)json_integer_value(json_object_get(c, "code")), "code %u",
		      code);
		CHECK(strcmp(shown, json_string_value(json_object_get(c, "shown"))) == 0, "shown %s",
		      shown);
	}
	json_decref(f);
}

static void test_signatures(void)
{
	json_t *f = load("signatures.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "hello"), i, c) {
		uint8_t seed[32], pub[32], ch[32], sig[64];

		fixed(c, "sign_seed", seed, 32);
		fixed(c, "challenge", ch, 32);
		pier_e2ee_sign_pub(seed, pub);
		same_b64(c, "sign_pub", pub, 32);
		pier_e2ee_hello_proof(seed, ch, 32, sig);
		same_b64(c, "proof", sig, 64);
		CHECK(pier_e2ee_hello_verify(pub, ch, 32, sig), "hello verifies");
	}
	json_array_foreach(json_object_get(f, "spk"), i, c) {
		uint8_t seed[32], id[16], spk[32], sig[64];
		uint32_t spk_id = (uint32_t)json_integer_value(json_object_get(c, "spk_id"));
		uint8_t pub[32];

		fixed(c, "sign_seed", seed, 32);
		fixed(c, "device_id", id, 16);
		fixed(c, "spk_pub", spk, 32);
		pier_e2ee_sign_pub(seed, pub);
		pier_e2ee_spk_sign(seed, id, spk_id, spk, sig);
		same_b64(c, "sig", sig, 64);
		CHECK(pier_e2ee_spk_verify(pub, id, spk_id, spk, sig), "spk verifies");
	}
	json_array_foreach(json_object_get(f, "bad"), i, c) {
		const char *kind = json_string_value(json_object_get(c, "kind"));
		uint8_t pub[32], sig[64], x[32], id[16];
		bool ok;

		fixed(c, "sign_pub", pub, 32);
		if (strcmp(kind, "hello") == 0) {
			fixed(c, "challenge", x, 32);
			fixed(c, "proof", sig, 64);
			ok = pier_e2ee_hello_verify(pub, x, 32, sig);
		} else {
			fixed(c, "device_id", id, 16);
			fixed(c, "spk_pub", x, 32);
			fixed(c, "sig", sig, 64);
			ok = pier_e2ee_spk_verify(pub, id,
			                          (uint32_t)json_integer_value(json_object_get(c, "spk_id")),
			                          x, sig);
		}
		CHECK(!ok, "bad %s does not verify", kind);
	}
	json_decref(f);
}

/* Decrypts ct (len bytes) with key and header into a memory stream; the status. */
static int file_decrypt(const uint8_t *ct, size_t len, const uint8_t key[32],
                        const uint8_t header[24], char **pt, size_t *pt_len)
{
	FILE *in = fmemopen((void *)ct, len > 0 ? len : 1, "rb"), *out;
	int rc;

	if (len == 0) {   /* fmemopen of 0 bytes is not portable: read nothing from a 1-byte one */
		fclose(in);
		in = fopen("/dev/null", "rb");
	}
	out = open_memstream(pt, pt_len);
	rc = pier_e2ee_file_decrypt_stream(in, out, key, header);
	fclose(in);
	fclose(out);
	return rc;
}

static void test_file(void)
{
	json_t *f = load("file.json"), *c;
	size_t i;

	json_array_foreach(json_object_get(f, "cases"), i, c) {
		size_t len, n = (size_t)json_integer_value(json_object_get(c, "length")), pt_len;
		uint8_t key[32], header[24], *ct = bytes(c, "ciphertext", &len);
		char *pt = NULL;
		bool pattern = true;

		fixed(c, "key", key, 32);
		fixed(c, "header", header, 24);
		CHECK(file_decrypt(ct, len, key, header, &pt, &pt_len) == 0 && pt_len == n,
		      "file %zu decrypts to %zu bytes", i, n);
		for (size_t k = 0; k < pt_len && k < n; k++)
			pattern = pattern && (uint8_t)pt[k] == k % 251;
		CHECK(pattern, "file %zu: the plaintext", i);
		free(ct);
		free(pt);
	}
	json_array_foreach(json_object_get(f, "invalid"), i, c) {
		json_t *base = json_array_get(json_object_get(f, "cases"),
		                              (size_t)json_integer_value(json_object_get(c, "case")));
		const char *op = json_string_value(json_object_get(c, "op"));
		size_t len, n = (size_t)json_integer_value(json_object_get(c, "n")), pt_len;
		uint8_t key[32], header[24], *ct = bytes(base, "ciphertext", &len);
		char *pt = NULL;

		fixed(base, "key", key, 32);
		fixed(base, "header", header, 24);
		ct = realloc(ct, len + n + 1);
		if (strcmp(op, "cut") == 0) {
			len = n;
		} else if (strcmp(op, "flip") == 0) {
			ct[n] ^= 1;
		} else {
			memset(ct + len, 0, n);
			len += n;
		}
		CHECK(file_decrypt(ct, len, key, header, &pt, &pt_len) != 0, "invalid file: %s",
		      json_string_value(json_object_get(c, "why")));
		free(ct);
		free(pt);
	}
	json_decref(f);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_rng();
	test_hkdf();
	test_x3dh();
	test_script("ratchet.json", 30);
	test_script("sessions.json", 25);
	test_envelope();
	test_payload();
	test_devlist();
	test_safety();
	test_signatures();
	test_file();
	return tap_done();
}
