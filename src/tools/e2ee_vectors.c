/* e2ee_vectors.c - pier-e2ee-vectors: writes the known-answer vector files of docs/E2EE.md
 * (the JSON files of tests/vectors/e2ee/) from fixed seeds. The C unit tests (test_e2ee_vectors.c)
 * and the browser's code (tests/node/e2ee_vectors.mjs) both check them, so the two
 * implementations agree byte for byte. Usage: pier-e2ee-vectors DIR. Running it again writes
 * the same bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2ee/e2ee.h"   /* by its folder: pierd has a chat/e2ee.h */

#define COMMON_ABOUT \
	"Binary values are base64url without padding. A 'seed' is the UTF-8 bytes of its " \
	"string; draw number i (from 0) of n bytes of the deterministic source is " \
	"randombytes_buf_deterministic(n, BLAKE2b-256(seed || u32be(i))). "

static const char *out_dir;

static json_t *B(const void *p, size_t n)
{
	json_t *j = pier_e2ee_b64_json(p, n);

	if (j == NULL)
		abort();
	return j;
}

static void set(json_t *o, const char *k, json_t *v)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		abort();
}

static void append(json_t *a, json_t *v)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		abort();
}

static json_t *file_new(const char *about)
{
	json_t *j = json_object();

	set(j, "about", json_string(about));
	set(j, "version", json_integer(1));
	return j;
}

static void save(const char *name, json_t *j)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	if (json_dump_file(j, path, JSON_INDENT(1) | JSON_ENSURE_ASCII) != 0) {
		fprintf(stderr, "pier-e2ee-vectors: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	json_decref(j);
}

static void rng_seed(struct pier_e2ee_rng *r, const char *seed)
{
	if (pier_e2ee_rng_init_deterministic(r, (const uint8_t *)seed, strlen(seed)) != 0)
		abort();
}

static void check(int rc, const char *what)
{
	if (rc != PIER_E2EE_OK) {
		fprintf(stderr, "pier-e2ee-vectors: %s: %s\n", what, pier_e2ee_strerror(rc));
		exit(1);
	}
}

/* ---- rng.json ---- */

static void vec_rng(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"The deterministic randomness source itself: for each case, the draws in order "
		"(n bytes each) and their bytes.");
	json_t *cases = json_array(), *c = json_object(), *draws = json_array();
	static const size_t sizes[] = { 32, 16, 24, 64, 1, 0, 32 };
	struct pier_e2ee_rng r;

	rng_seed(&r, "pier-vector-rng");
	set(c, "seed", json_string("pier-vector-rng"));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t buf[64];
		json_t *d = json_object();

		pier_e2ee_rng_fill(&r, buf, sizes[i]);
		set(d, "n", json_integer((json_int_t)sizes[i]));
		set(d, "bytes", B(buf, sizes[i]));
		append(draws, d);
	}
	set(c, "draws", draws);
	append(cases, c);
	set(f, "cases", cases);
	save("rng.json", f);
}

/* ---- hkdf.json ---- */

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void hkdf_case(json_t *cases, const char *name, const uint8_t *salt, size_t salt_len,
                      const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len,
                      size_t L)
{
	uint8_t okm[255];
	json_t *c = json_object();

	check(pier_e2ee_hkdf(okm, L, salt, salt_len, ikm, ikm_len, info, info_len), name);
	set(c, "name", json_string(name));
	set(c, "salt", B(salt, salt_len));
	set(c, "ikm", B(ikm, ikm_len));
	set(c, "info", B(info, info_len));
	set(c, "L", json_integer((json_int_t)L));
	set(c, "okm", B(okm, L));
	append(cases, c);
}

static void vec_hkdf(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"HKDF-SHA-256 (RFC 5869) on HMAC-SHA-256: okm = HKDF(salt, ikm, info, L). An empty "
		"salt means 32 zero bytes. Cases 1-3 are RFC 5869's SHA-256 cases; the others use "
		"the labels of E2EE.md.");
	json_t *cases = json_array();
	uint8_t salt[80], ikm[80], info[80], rk[32], dh[32];
	size_t ns, ni, nf;
	struct pier_e2ee_rng r;

	ni = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm);
	ns = unhex("000102030405060708090a0b0c", salt);
	nf = unhex("f0f1f2f3f4f5f6f7f8f9", info);
	hkdf_case(cases, "rfc5869-1", salt, ns, ikm, ni, info, nf, 42);
	for (int i = 0; i < 80; i++) {
		ikm[i] = (uint8_t)i;
		salt[i] = (uint8_t)(0x60 + i);
		info[i] = (uint8_t)(0xb0 + i);
	}
	hkdf_case(cases, "rfc5869-2", salt, 80, ikm, 80, info, 80, 82);
	ni = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm);
	hkdf_case(cases, "rfc5869-3", NULL, 0, ikm, ni, NULL, 0, 42);
	rng_seed(&r, "pier-vector-hkdf");
	pier_e2ee_rng_fill(&r, rk, sizeof(rk));
	pier_e2ee_rng_fill(&r, dh, sizeof(dh));
	hkdf_case(cases, "kdf-rk", rk, 32, dh, 32, (const uint8_t *)"pier-rk-v1", 10, 64);
	hkdf_case(cases, "msgkey", NULL, 0, rk, 32, (const uint8_t *)"pier-mk-v1", 10, 56);
	set(f, "cases", cases);
	save("hkdf.json", f);
}

/* ---- devices, shared by x3dh.json and ratchet.json ---- */

static void make_device(struct pier_e2ee_device *d, struct pier_e2ee_rng *r, const char *seed,
                        uint64_t created, size_t opks)
{
	rng_seed(r, seed);
	check(pier_e2ee_device_create(d, created, r), "device");
	check(pier_e2ee_device_add_opks(d, opks, r, NULL), "opks");
}

static json_t *spk_json(const struct pier_e2ee_spk *k)
{
	json_t *j = json_object();

	set(j, "id", json_integer(k->id));
	set(j, "priv", B(k->priv, 32));
	set(j, "pub", B(k->pub, 32));
	set(j, "sig", B(k->sig, 64));
	return j;
}

static json_t *device_json(const struct pier_e2ee_device *d, const char *seed,
                           const struct pier_e2ee_rng *r)
{
	json_t *j = json_object(), *opks = json_array();

	set(j, "seed", json_string(seed));
	set(j, "created_ms", json_integer((json_int_t)d->created_ms));
	set(j, "opk_count", json_integer((json_int_t)d->opk_count));
	set(j, "id", B(d->pub.id, 16));
	set(j, "sign_seed", B(d->sign_seed, 32));
	set(j, "sign_pub", B(d->pub.sign_pub, 32));
	set(j, "dh_priv", B(d->dh_priv, 32));
	set(j, "dh_pub", B(d->pub.dh_pub, 32));
	set(j, "spk", spk_json(&d->spk));
	for (size_t i = 0; i < d->opk_count; i++) {
		json_t *k = json_object();

		set(k, "id", json_integer(d->opks[i].id));
		set(k, "priv", B(d->opks[i].priv, 32));
		set(k, "pub", B(d->opks[i].pub, 32));
		append(opks, k);
	}
	set(j, "opks", opks);
	set(j, "draws_after_setup", json_integer(r->draws));
	return j;
}

#define DEVICE_ABOUT \
	"A device is made from its seed: draw 0 is its id (16 bytes), draw 1 the DSK seed " \
	"(32, Ed25519 seed), draw 2 DIK (32, X25519 private key), draw 3 the SPK (32, id 1, " \
	"sig = Ed25519(DSK, 'pier-spk-v1' || id || u32be(1) || SPK_pub)), then one 32-byte " \
	"draw per one-time prekey (ids 1, 2, ...). 'draws_after_setup' is the next draw number. "

/* ---- x3dh.json ---- */

static void vec_x3dh(void)
{
	json_t *f = file_new(COMMON_ABOUT DEVICE_ABOUT
		"X3DH: A (initiator) with its EK (one 32-byte draw of A's source after setup) and "
		"B's SPK and, when 'opk' is true, B's first one-time prekey. dh1 = X25519(DIK_A, "
		"SPK_B), dh2 = X25519(EK_A, DIK_B), dh3 = X25519(EK_A, SPK_B), dh4 = X25519(EK_A, "
		"OPK_B); sk = HKDF(32 zero bytes, 0xFF*32 || dh1 || dh2 || dh3 [|| dh4], "
		"'pier-x3dh-v1', 32); ad = 'pier-ad-v1' || A.id || A.DSK_pub || A.DIK_pub || B.id || "
		"B.DSK_pub || B.DIK_pub. 'invalid': a public key whose DH output is all zero must "
		"be refused (error 'key').");
	json_t *cases = json_array(), *invalid = json_array();

	for (int with_opk = 1; with_opk >= 0; with_opk--) {
		struct pier_e2ee_device a, b;
		struct pier_e2ee_rng ra, rb;
		uint8_t ek[32], ek_pub[32], dh[4][32], sk[32], sk2[32], ad[PIER_E2EE_AD_LEN];
		const char *sa = with_opk ? "pier-vector-x3dh-a1" : "pier-vector-x3dh-a2";
		const char *sb = with_opk ? "pier-vector-x3dh-b1" : "pier-vector-x3dh-b2";
		json_t *c = json_object();

		make_device(&a, &ra, sa, 1795000000000, 0);
		make_device(&b, &rb, sb, 1795000000001, 1);
		set(c, "opk", json_boolean(with_opk));
		set(c, "a", device_json(&a, sa, &ra));
		set(c, "b", device_json(&b, sb, &rb));
		pier_e2ee_rng_fill(&ra, ek, 32);
		crypto_scalarmult_base(ek_pub, ek);
		if (crypto_scalarmult(dh[0], a.dh_priv, b.spk.pub) != 0 ||
		    crypto_scalarmult(dh[1], ek, b.pub.dh_pub) != 0 ||
		    crypto_scalarmult(dh[2], ek, b.spk.pub) != 0 ||
		    crypto_scalarmult(dh[3], ek, b.opks[0].pub) != 0)
			abort();
		check(pier_e2ee_x3dh_initiator(a.dh_priv, ek, b.pub.dh_pub, b.spk.pub,
		                               with_opk ? b.opks[0].pub : NULL, sk), "x3dh a");
		check(pier_e2ee_x3dh_responder(b.dh_priv, b.spk.priv,
		                               with_opk ? b.opks[0].priv : NULL, a.pub.dh_pub, ek_pub,
		                               sk2), "x3dh b");
		if (memcmp(sk, sk2, 32) != 0)
			abort();
		pier_e2ee_x3dh_ad(&a.pub, &b.pub, ad);
		set(c, "ek_priv", B(ek, 32));
		set(c, "ek_pub", B(ek_pub, 32));
		set(c, "dh1", B(dh[0], 32));
		set(c, "dh2", B(dh[1], 32));
		set(c, "dh3", B(dh[2], 32));
		if (with_opk)
			set(c, "dh4", B(dh[3], 32));
		set(c, "sk", B(sk, 32));
		set(c, "ad", B(ad, sizeof(ad)));
		append(cases, c);
		if (with_opk) {
			/* a low-order point (here zero) as B's SPK: X25519 gives all zeros */
			static const uint8_t zero[32];
			json_t *bad = json_object();

			if (pier_e2ee_x3dh_initiator(a.dh_priv, ek, b.pub.dh_pub, zero, NULL, sk) !=
			    PIER_E2EE_ERR_KEY)
				abort();
			set(bad, "dik_a_priv", B(a.dh_priv, 32));
			set(bad, "ek_priv", B(ek, 32));
			set(bad, "dik_b_pub", B(b.pub.dh_pub, 32));
			set(bad, "spk_b_pub", B(zero, 32));
			set(bad, "error", json_string("key"));
			append(invalid, bad);
		}
		pier_e2ee_device_release(&a);
		pier_e2ee_device_release(&b);
	}
	set(f, "cases", cases);
	set(f, "invalid", invalid);
	save("x3dh.json", f);
}

/* ---- ratchet.json: a scripted conversation ---- */

struct actor {
	const char *name, *seed;
	struct pier_e2ee_rng rng;
	struct pier_e2ee_device dev;
	struct pier_e2ee_sessions s;
};

#define SCRIPT_MAX_MSGS 64

struct script {
	json_t *steps;
	struct pier_e2ee_rng inner_rng;
	uint8_t env[SCRIPT_MAX_MSGS][PIER_E2EE_ENVELOPE_MAX];
	size_t env_len[SCRIPT_MAX_MSGS];
	uint8_t inner[SCRIPT_MAX_MSGS][PIER_E2EE_INNER_LEN];
	int nmsg;
	bool opk_ids;   /* encrypt steps say which OPK a bundle had ("opk_id") */
	const char *inner_seed;
	json_t *devs;   /* the two devices as the file lists them */
};

static int sc_encrypt(struct script *sc, struct actor *by, struct actor *to,
                      const struct pier_e2ee_bundle_device *bundle)
{
	int k = sc->nmsg++;
	json_t *st = json_object(), *h = json_object();
	struct pier_e2ee_envelope e;

	pier_e2ee_rng_fill(&sc->inner_rng, sc->inner[k], PIER_E2EE_INNER_LEN);
	check(pier_e2ee_encrypt(&by->s, &by->dev, &to->dev.pub, bundle, sc->inner[k],
	                        PIER_E2EE_INNER_LEN, &by->rng, sc->env[k], &sc->env_len[k]),
	      "encrypt");
	check(pier_e2ee_envelope_parse(sc->env[k], sc->env_len[k], &e), "parse");
	set(st, "op", json_string("encrypt"));
	set(st, "by", json_string(by->name));
	set(st, "msg", json_integer(k));
	set(st, "bundle", json_boolean(bundle != NULL));
	if (sc->opk_ids && bundle != NULL && bundle->has_opk)
		set(st, "opk_id", json_integer(bundle->opk_id));
	set(st, "inner", B(sc->inner[k], PIER_E2EE_INNER_LEN));
	set(st, "type", json_integer(e.type));
	set(h, "dh", B(e.h.dh, 32));
	set(h, "pn", json_integer(e.h.pn));
	set(h, "n", json_integer(e.h.n));
	set(st, "header", h);
	set(st, "envelope", B(sc->env[k], sc->env_len[k]));
	append(sc->steps, st);
	return k;
}

static void sc_decrypt(struct script *sc, struct actor *by, struct actor *from, int k,
                       int expect)
{
	uint8_t inner[PIER_E2EE_CT_MAX];
	size_t len;
	int rc = pier_e2ee_decrypt(&by->s, &by->dev, &from->dev.pub, sc->env[k], sc->env_len[k],
	                           &by->rng, inner, &len);
	json_t *st = json_object();

	if (rc != expect) {
		fprintf(stderr, "pier-e2ee-vectors: msg %d: %s, expected %s\n", k,
		        pier_e2ee_status_name(rc), pier_e2ee_status_name(expect));
		exit(1);
	}
	if (rc == PIER_E2EE_OK &&
	    (len != PIER_E2EE_INNER_LEN || memcmp(inner, sc->inner[k], len) != 0))
		abort();
	set(st, "op", json_string("decrypt"));
	set(st, "by", json_string(by->name));
	set(st, "msg", json_integer(k));
	set(st, "result", json_string(pier_e2ee_status_name(rc)));
	if (rc == PIER_E2EE_OK)
		set(st, "inner", B(inner, len));
	append(sc->steps, st);
}

/* The sender makes count messages that are never delivered. */
static void sc_advance(struct script *sc, struct actor *by, struct actor *to, int count)
{
	uint8_t zero[PIER_E2EE_INNER_LEN] = { 0 }, env[PIER_E2EE_ENVELOPE_MAX];
	size_t len;
	json_t *st = json_object();

	for (int i = 0; i < count; i++)
		check(pier_e2ee_encrypt(&by->s, &by->dev, &to->dev.pub, NULL, zero, sizeof(zero),
		                        &by->rng, env, &len), "advance");
	set(st, "op", json_string("advance"));
	set(st, "by", json_string(by->name));
	set(st, "count", json_integer(count));
	append(sc->steps, st);
}

/* Device by forgets its sessions with the other (as for a revoked device). */
static void sc_forget(struct script *sc, struct actor *by, struct actor *to)
{
	json_t *st = json_object();

	pier_e2ee_sessions_forget(&by->s, to->dev.pub.id);
	set(st, "op", json_string("forget"));
	set(st, "by", json_string(by->name));
	append(sc->steps, st);
}

/* The bundle of x with its SPK and the OPK of id opk_id (0: none). */
static void bundle_of(const struct actor *x, uint32_t opk_id, struct pier_e2ee_bundle_device *b)
{
	const struct pier_e2ee_opk *opk = pier_e2ee_device_find_opk(&x->dev, opk_id);

	memset(b, 0, sizeof(*b));
	b->keys = x->dev.pub;
	b->spk_id = x->dev.spk.id;
	memcpy(b->spk_pub, x->dev.spk.pub, 32);
	memcpy(b->spk_sig, x->dev.spk.sig, 64);
	if (opk_id != 0) {
		if (opk == NULL)
			abort();
		b->has_opk = true;
		b->opk_id = opk_id;
		memcpy(b->opk_pub, opk->pub, 32);
	}
	b->listed = true;
}

/* A new script between a and b, whose devices are made from their seeds with a_opks and b_opks
 * one-time prekeys; inner plaintexts are drawn from inner_seed. Never NULL. */
static struct script *script_new(const char *inner_seed, bool opk_ids, struct actor *a,
                                 int a_opks, struct actor *b, int b_opks)
{
	struct script *sc = calloc(1, sizeof(*sc));

	if (sc == NULL)
		abort();
	sc->steps = json_array();
	sc->opk_ids = opk_ids;
	sc->inner_seed = inner_seed;
	rng_seed(&sc->inner_rng, inner_seed);
	make_device(&a->dev, &a->rng, a->seed, 1795000000000, a_opks);
	make_device(&b->dev, &b->rng, b->seed, 1795000000001, b_opks);
	pier_e2ee_sessions_init(&a->s);
	pier_e2ee_sessions_init(&b->s);
	sc->devs = json_object();
	set(sc->devs, a->name, device_json(&a->dev, a->seed, &a->rng));
	set(sc->devs, b->name, device_json(&b->dev, b->seed, &b->rng));
	return sc;
}

/* Writes the script into f, saves f as name, and frees the script and both actors' state. */
static void script_save(struct script *sc, json_t *f, const char *name, struct actor *a,
                        struct actor *b)
{
	set(f, "devices", sc->devs);
	set(f, "inner_seed", json_string(sc->inner_seed));
	set(f, "steps", sc->steps);
	save(name, f);
	pier_e2ee_sessions_release(&a->s);
	pier_e2ee_sessions_release(&b->s);
	pier_e2ee_device_release(&a->dev);
	pier_e2ee_device_release(&b->dev);
	free(sc);
}

static void vec_sessions(void)
{
	json_t *f = file_new(COMMON_ABOUT DEVICE_ABOUT
		"Sessions per device pair (E2EE.md), in the step language of ratchet.json: devices A "
		"and B, 6 one-time prekeys each. 'encrypt' with 'bundle' true starts a session from "
		"the other's bundle: its SPK (id 1) and the one-time prekey of id 'opk_id' (none when "
		"absent); without a bundle the newest session is used. 'forget': device 'by' forgets "
		"every session with the other (and the EKs it saw from it). Both start a session at "
		"once (each side then has two; a session that opens a message becomes the newest, "
		"the one used for sending; ratchet envelopes are tried on every session, newest "
		"first); then A restarts four times, so B keeps only the newest 4 sessions and a "
		"pre-key envelope of a dropped session is a replay (its EK is remembered). An "
		"envelope of a receiving chain older than the session's current one, whose keys are "
		"gone, fails as 'auth' (the ratchet cannot tell it from a forgery); 'replay' is a key "
		"used on the current chain, or a remembered EK without its session.");
	struct actor a = { .name = "A", .seed = "pier-vector-sessions-a" };
	struct actor b = { .name = "B", .seed = "pier-vector-sessions-b" };
	struct script *sc = script_new("pier-vector-sessions-inner", true, &a, 6, &b, 6);
	struct pier_e2ee_bundle_device bundle;
	int m[16];

	/* Both start at once. */
	bundle_of(&b, 1, &bundle);
	m[0] = sc_encrypt(sc, &a, &b, &bundle);
	bundle_of(&a, 1, &bundle);
	m[1] = sc_encrypt(sc, &b, &a, &bundle);
	sc_decrypt(sc, &b, &a, m[0], PIER_E2EE_OK);
	sc_decrypt(sc, &a, &b, m[1], PIER_E2EE_OK);
	m[2] = sc_encrypt(sc, &a, &b, NULL);   /* on the session B started */
	m[3] = sc_encrypt(sc, &b, &a, NULL);   /* on the session A started */
	sc_decrypt(sc, &b, &a, m[2], PIER_E2EE_OK);
	sc_decrypt(sc, &a, &b, m[3], PIER_E2EE_OK);
	m[4] = sc_encrypt(sc, &a, &b, NULL);
	sc_decrypt(sc, &b, &a, m[4], PIER_E2EE_OK);
	m[5] = sc_encrypt(sc, &b, &a, NULL);
	sc_decrypt(sc, &a, &b, m[5], PIER_E2EE_OK);
	/* m0's chain is an older one now (B received A's next DH): refused as a forgery */
	sc_decrypt(sc, &b, &a, m[0], PIER_E2EE_ERR_AUTH);
	/* A restarts four times: B keeps the newest four sessions. */
	for (uint32_t i = 0; i < 4; i++) {
		sc_forget(sc, &a, &b);
		bundle_of(&b, 2 + i, &bundle);
		m[6 + i] = sc_encrypt(sc, &a, &b, &bundle);
		sc_decrypt(sc, &b, &a, m[6 + i], PIER_E2EE_OK);
	}
	sc_decrypt(sc, &b, &a, m[0], PIER_E2EE_ERR_REPLAY);   /* its session is gone, its EK not */
	sc_decrypt(sc, &b, &a, m[6], PIER_E2EE_ERR_REPLAY);   /* its session is kept: a used key */
	m[10] = sc_encrypt(sc, &b, &a, NULL);
	sc_decrypt(sc, &a, &b, m[10], PIER_E2EE_OK);
	m[11] = sc_encrypt(sc, &a, &b, NULL);
	sc_decrypt(sc, &b, &a, m[11], PIER_E2EE_OK);

	script_save(sc, f, "sessions.json", &a, &b);
}

static void vec_ratchet(void)
{
	json_t *f = file_new(COMMON_ABOUT DEVICE_ABOUT
		"A scripted conversation between device A (initiator) and device B, each with its "
		"own deterministic source (their 'seed'), keys made as above; B has 2 one-time "
		"prekeys. A starts the session from B's bundle: B's SPK (id 1) and first OPK (id 1); "
		"the trusted keys of each side are the other's id, DSK_pub, DIK_pub. Steps run in "
		"order. 'encrypt': device 'by' encrypts 'inner' (64 bytes, given) for the other; "
		"'bundle' says it starts a session from the bundle; a new session draws EK (32) then "
		"DHs (32) from the sender's source; the output is exactly 'envelope' (type 1 pre-key "
		"while the initiator has received nothing on the session, else 2), with 'header' for "
		"reading. 'decrypt': device 'by' decrypts envelope number 'msg' from the other: "
		"'result' is 'ok' (and the plaintext is 'inner') or the error ('replay': a key "
		"already used; 'too_far': over 1000 keys to skip). A decryption that makes a DH "
		"ratchet step draws the new DHs (32) from the receiver's source only after the "
		"message opened; a failure changes nothing and draws nothing. 'advance': device 'by' "
		"encrypts 'count' messages that are never delivered (only its sending chain moves; "
		"no draws). Envelope messages missing from the decrypt steps were dropped.");
	struct actor a = { .name = "A", .seed = "pier-vector-ratchet-a" };
	struct actor b = { .name = "B", .seed = "pier-vector-ratchet-b" };
	struct script *sc = script_new("pier-vector-ratchet-inner", false, &a, 0, &b, 2);
	struct pier_e2ee_bundle_device bundle;
	int m[16];

	bundle_of(&b, b.dev.opks[0].id, &bundle);

	/* A starts; its first three are pre-key envelopes; B gets 0, then 2 before 1. */
	m[0] = sc_encrypt(sc, &a, &b, &bundle);
	m[1] = sc_encrypt(sc, &a, &b, NULL);
	m[2] = sc_encrypt(sc, &a, &b, NULL);
	sc_decrypt(sc, &b, &a, m[0], PIER_E2EE_OK);
	sc_decrypt(sc, &b, &a, m[2], PIER_E2EE_OK);
	sc_decrypt(sc, &b, &a, m[1], PIER_E2EE_OK);
	sc_decrypt(sc, &b, &a, m[0], PIER_E2EE_ERR_REPLAY);   /* a replayed pre-key envelope */
	/* B answers three times; A gets the last first, then the first; the middle is dropped. */
	m[3] = sc_encrypt(sc, &b, &a, NULL);
	m[4] = sc_encrypt(sc, &b, &a, NULL);
	m[5] = sc_encrypt(sc, &b, &a, NULL);
	sc_decrypt(sc, &a, &b, m[5], PIER_E2EE_OK);
	sc_decrypt(sc, &a, &b, m[3], PIER_E2EE_OK);
	sc_decrypt(sc, &a, &b, m[3], PIER_E2EE_ERR_REPLAY);   /* a replayed ratchet envelope */
	/* A heard back: ratchet envelopes now, on a new DH. */
	m[6] = sc_encrypt(sc, &a, &b, NULL);
	m[7] = sc_encrypt(sc, &a, &b, NULL);
	sc_decrypt(sc, &b, &a, m[7], PIER_E2EE_OK);
	sc_decrypt(sc, &b, &a, m[6], PIER_E2EE_OK);
	/* Ping-pong, one DH step each way; then B's late message 4 from an old chain. */
	m[8] = sc_encrypt(sc, &b, &a, NULL);
	sc_decrypt(sc, &a, &b, m[8], PIER_E2EE_OK);
	m[9] = sc_encrypt(sc, &a, &b, NULL);
	m[10] = sc_encrypt(sc, &a, &b, NULL);
	sc_decrypt(sc, &b, &a, m[10], PIER_E2EE_OK);
	sc_decrypt(sc, &b, &a, m[9], PIER_E2EE_OK);
	sc_decrypt(sc, &a, &b, m[4], PIER_E2EE_OK);
	/* 998 never delivered, then one: B skips 998 keys (within the bound). */
	sc_advance(sc, &a, &b, 998);
	m[11] = sc_encrypt(sc, &a, &b, NULL);
	sc_decrypt(sc, &b, &a, m[11], PIER_E2EE_OK);
	/* 1001 never delivered: the next is refused, and B's state is unchanged. */
	sc_advance(sc, &a, &b, 1001);
	m[12] = sc_encrypt(sc, &a, &b, NULL);
	sc_decrypt(sc, &b, &a, m[12], PIER_E2EE_ERR_TOO_FAR);
	m[13] = sc_encrypt(sc, &b, &a, NULL);
	sc_decrypt(sc, &a, &b, m[13], PIER_E2EE_OK);

	script_save(sc, f, "ratchet.json", &a, &b);
}

/* ---- envelope.json ---- */

static json_t *env_fields(const struct pier_e2ee_envelope *e)
{
	json_t *j = json_object();

	set(j, "type", json_integer(e->type));
	if (e->type == PIER_E2EE_ENV_PREKEY) {
		set(j, "ek", B(e->ek, 32));
		set(j, "spk_id", json_integer(e->spk_id));
		set(j, "has_opk", json_boolean(e->has_opk));
		if (e->has_opk)
			set(j, "opk_id", json_integer(e->opk_id));
	}
	set(j, "dh", B(e->h.dh, 32));
	set(j, "pn", json_integer(e->h.pn));
	set(j, "n", json_integer(e->h.n));
	set(j, "ciphertext", B(e->ct, e->ct_len));
	return j;
}

static void env_invalid(json_t *arr, const char *why, const uint8_t *bytes, size_t len)
{
	struct pier_e2ee_envelope e;
	json_t *c = json_object();

	if (pier_e2ee_envelope_parse(bytes, len, &e) != PIER_E2EE_ERR_FORMAT) {
		fprintf(stderr, "pier-e2ee-vectors: envelope '%s' parsed\n", why);
		exit(1);
	}
	set(c, "why", json_string(why));
	set(c, "bytes", B(bytes, len));
	set(c, "error", json_string("format"));
	append(arr, c);
}

static void vec_envelope(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"The envelope codec: 'valid' encodings with their fields (the ciphertext is the "
		"rest, 16..256 bytes); 'invalid' byte strings a parser must refuse. Fields: u8 "
		"version = 1, u8 type (1 pre-key, 2 ratchet); type 1: EK (32), u32be spk_id, u8 "
		"has_opk (0 or 1), u32be opk_id when has_opk = 1; then DH (32), u32be PN, u32be N.");
	json_t *valid = json_array(), *invalid = json_array();
	struct pier_e2ee_rng r;
	uint8_t buf[PIER_E2EE_ENVELOPE_MAX + 8];
	struct pier_e2ee_envelope e;
	size_t plen, len;
	static const struct { uint8_t type; bool opk; size_t ct; } kinds[] = {
		{ PIER_E2EE_ENV_PREKEY, true, 80 }, { PIER_E2EE_ENV_PREKEY, false, 80 },
		{ PIER_E2EE_ENV_RATCHET, false, 80 }, { PIER_E2EE_ENV_RATCHET, false, 16 },
		{ PIER_E2EE_ENV_RATCHET, false, 256 },
	};

	memset(buf, 0, sizeof(buf));
	rng_seed(&r, "pier-vector-envelope");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		json_t *c = json_object();

		memset(&e, 0, sizeof(e));
		e.type = kinds[i].type;
		pier_e2ee_rng_fill(&r, e.ek, 32);
		e.spk_id = 0x01020304u + (uint32_t)i;
		e.has_opk = kinds[i].opk;
		e.opk_id = e.has_opk ? 0xA0B0C0D0u : 0;
		if (e.type == PIER_E2EE_ENV_RATCHET)
			memset(e.ek, 0, 32), e.spk_id = 0;
		pier_e2ee_rng_fill(&r, e.h.dh, 32);
		e.h.pn = (uint32_t)(7 * i);
		e.h.n = 0xFFFFFFF0u + (uint32_t)i;
		plen = pier_e2ee_envelope_prefix(&e, buf);
		pier_e2ee_rng_fill(&r, buf + plen, kinds[i].ct);
		len = plen + kinds[i].ct;
		check(pier_e2ee_envelope_parse(buf, len, &e), "envelope");
		set(c, "bytes", B(buf, len));
		set(c, "fields", env_fields(&e));
		append(valid, c);
	}
	/* The last valid one (ratchet, 256 bytes of ciphertext) and a pre-key one, broken. */
	env_invalid(invalid, "empty", buf, 0);
	env_invalid(invalid, "one byte", buf, 1);
	buf[0] = 2;
	env_invalid(invalid, "version 2", buf, len);
	buf[0] = 0;
	env_invalid(invalid, "version 0", buf, len);
	buf[0] = 1;
	buf[1] = 3;
	env_invalid(invalid, "type 3", buf, len);
	buf[1] = 0;
	env_invalid(invalid, "type 0", buf, len);
	buf[1] = 2;
	env_invalid(invalid, "ciphertext of 257 bytes", buf, len + 1);
	env_invalid(invalid, "ciphertext of 15 bytes", buf, 2 + 40 + 15);
	env_invalid(invalid, "no ciphertext", buf, 2 + 40);
	env_invalid(invalid, "header cut", buf, 2 + 39);
	memset(&e, 0, sizeof(e));
	e.type = PIER_E2EE_ENV_PREKEY;
	e.has_opk = true;
	plen = pier_e2ee_envelope_prefix(&e, buf);
	memset(buf + plen, 0x55, 80);
	check(pier_e2ee_envelope_parse(buf, plen + 80, &e), "envelope");
	buf[2 + 32 + 4] = 2;
	env_invalid(invalid, "has_opk 2", buf, plen + 80);
	env_invalid(invalid, "pre-key cut inside the EK", buf, 2 + 31);
	env_invalid(invalid, "pre-key cut before has_opk", buf, 2 + 36);
	buf[2 + 32 + 4] = 1;
	env_invalid(invalid, "pre-key cut inside opk_id", buf, 2 + 37 + 3);
	env_invalid(invalid, "pre-key with 15 bytes of ciphertext", buf, plen + 15);
	set(f, "valid", valid);
	set(f, "invalid", invalid);
	save("envelope.json", f);
}

/* ---- payload.json ---- */

static void vec_payload(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"Payloads: from the case's seed, draw 0 is pk (32) and draw 1 the nonce (24); "
		"payload = nonce || XChaCha20-Poly1305-IETF(key = pk, nonce, ad = 'pier-payload-v1', "
		"plaintext); inner = pk || BLAKE2b-256(payload). 'invalid': a payload that must not "
		"open with the given inner (error 'auth': the hash or the tag fails; 'format': "
		"shorter than 40 bytes).");
	json_t *cases = json_array(), *invalid = json_array();
	static const char *texts[] = {
		"{\"v\":1,\"type\":\"message\",\"peer\":\"bob_22\",\"kind\":\"text\",\"text\":\"hello\","
		"\"ts\":1795000000000}",
		"{\"v\":1,\"peer\":\"alice_1\",\"kind\":\"text\",\"text\":\"\\u4f60\\u597d \xf0\x9f\x94\x92\"}",
		"",
	};
	uint8_t pk[32], out[512], inner[64], pt[512];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct pier_e2ee_rng r;
		char seed[32];
		size_t n = strlen(texts[i]);
		json_t *c = json_object();

		snprintf(seed, sizeof(seed), "pier-vector-payload-%zu", i);
		rng_seed(&r, seed);
		pier_e2ee_payload_seal((const uint8_t *)texts[i], n, &r, pk, out);
		pier_e2ee_inner_make(pk, out, n + PIER_E2EE_PAYLOAD_OVERHEAD, inner);
		check(pier_e2ee_payload_open(inner, out, n + PIER_E2EE_PAYLOAD_OVERHEAD, pt), "open");
		set(c, "seed", json_string(seed));
		set(c, "plaintext", json_string(texts[i]));
		set(c, "pk", B(pk, 32));
		set(c, "nonce", B(out, 24));
		set(c, "payload", B(out, n + PIER_E2EE_PAYLOAD_OVERHEAD));
		set(c, "inner", B(inner, 64));
		append(cases, c);
		if (i == 0) {
			size_t len = n + PIER_E2EE_PAYLOAD_OVERHEAD;
			json_t *bad;
			uint8_t inner2[64];

			/* a flipped bit in the ciphertext: the hash fails */
			out[30] ^= 1;
			bad = json_object();
			set(bad, "why", json_string("a bit flipped in the payload"));
			set(bad, "inner", B(inner, 64));
			set(bad, "payload", B(out, len));
			set(bad, "error", json_string("auth"));
			append(invalid, bad);
			out[30] ^= 1;
			/* another key with the right hash: the tag fails */
			memcpy(inner2, inner, 64);
			inner2[0] ^= 0x80;
			if (pier_e2ee_payload_open(inner2, out, len, pt) != PIER_E2EE_ERR_AUTH)
				abort();
			bad = json_object();
			set(bad, "why", json_string("a wrong key, the right hash"));
			set(bad, "inner", B(inner2, 64));
			set(bad, "payload", B(out, len));
			set(bad, "error", json_string("auth"));
			append(invalid, bad);
			bad = json_object();
			pier_e2ee_inner_make(pk, out, 39, inner2);
			set(bad, "why", json_string("39 bytes"));
			set(bad, "inner", B(inner2, 64));
			set(bad, "payload", B(out, 39));
			set(bad, "error", json_string("format"));
			append(invalid, bad);
		}
	}
	set(f, "cases", cases);
	set(f, "invalid", invalid);
	save("payload.json", f);
}

/* ---- devlist.json ---- */

static json_t *devlist_fields(const struct pier_devlist *l)
{
	json_t *j = json_object(), *devs = json_array();

	set(j, "user", json_string(l->user));
	set(j, "version", json_integer(l->version));
	set(j, "flags", json_integer(l->flags));
	set(j, "ak_pub", B(l->ak, 32));
	for (unsigned i = 0; i < l->count; i++) {
		json_t *d = json_object();

		set(d, "id", B(l->dev[i].id, 16));
		set(d, "sign_pub", B(l->dev[i].sign_key, 32));
		set(d, "dh_pub", B(l->dev[i].dh_key, 32));
		set(d, "created_ms", json_integer((json_int_t)l->dev[i].created_ms));
		set(d, "name", json_string(l->dev[i].name));
		append(devs, d);
	}
	set(j, "devices", devs);
	return j;
}

static void devlist_bad(json_t *arr, const char *why, const uint8_t *bytes, size_t len,
                        enum pier_devlist_err want)
{
	struct pier_devlist l;
	enum pier_devlist_err got = pier_devlist_parse(bytes, len, &l);
	json_t *c = json_object();

	if (got != want) {
		fprintf(stderr, "pier-e2ee-vectors: devlist '%s': %s\n", why,
		        pier_devlist_err_name(got));
		exit(1);
	}
	set(c, "why", json_string(why));
	set(c, "bytes", B(bytes, len));
	set(c, "error", json_string(pier_devlist_err_name(want)));
	append(arr, c);
}

/* Sorts l's devices by id (insertion sort: at most 32). */
static void devlist_sort(struct pier_devlist *l)
{
	for (unsigned i = 1; i < l->count; i++)
		for (unsigned k = i; k > 0 && memcmp(l->dev[k - 1].id, l->dev[k].id, 16) > 0; k--) {
			struct pier_devlist_device t = l->dev[k];

			l->dev[k] = l->dev[k - 1];
			l->dev[k - 1] = t;
		}
}

static void vec_devlist(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"Device lists (E2EE.md): 'valid' cases give the fields, the AK seed (its Ed25519 "
		"public key is fields.ak_pub), the list's bytes and sig = Ed25519(AK, "
		"'pier-devlist-v1' || bytes) (Ed25519 is deterministic: the exact bytes). Device "
		"keys come from the case's seed: for each device, draws of 16 (id), 32 (DSK seed) "
		"and 32 (DIK) bytes; the AK seed is the first draw (32). 'invalid' byte strings must "
		"be refused ('error' names the rule: truncated, bad_magic, bad_user, bad_flags, "
		"bad_count, unsorted, bad_name, trailing); 'bad_signature' lists with a signature "
		"that must not verify.");
	json_t *valid = json_array(), *invalid = json_array(), *badsig = json_array();
	static const char *names[] = { "laptop", "", "\xe6\x89\x8b\xe6\x9c\xba phone" };
	uint8_t bytes[PIER_DEVLIST_MAX_BYTES + 8], sig[64], good[PIER_DEVLIST_MAX_BYTES];
	size_t len, glen = 0;

	for (int c = 0; c < 3; c++) {
		struct pier_e2ee_rng r;
		struct pier_devlist l;
		uint8_t ak_seed[32];
		char seed[32];
		json_t *v = json_object();

		snprintf(seed, sizeof(seed), "pier-vector-devlist-%d", c);
		rng_seed(&r, seed);
		memset(&l, 0, sizeof(l));
		pier_e2ee_rng_fill(&r, ak_seed, 32);
		pier_e2ee_sign_pub(ak_seed, l.ak);
		snprintf(l.user, sizeof(l.user), "%s", c == 2 ? "zhang.wei-9" : "bob_22");
		l.version = c == 0 ? 1 : (c == 1 ? 7 : 2);
		l.flags = c == 2 ? PIER_DEVLIST_FLAG_RESET : 0;
		l.count = c == 0 ? 1 : (c == 1 ? 3 : 1);
		for (unsigned i = 0; i < l.count; i++) {
			uint8_t ds[32], dh[32];

			pier_e2ee_rng_fill(&r, l.dev[i].id, 16);
			pier_e2ee_rng_fill(&r, ds, 32);
			pier_e2ee_rng_fill(&r, dh, 32);
			pier_e2ee_sign_pub(ds, l.dev[i].sign_key);
			crypto_scalarmult_base(l.dev[i].dh_key, dh);
			l.dev[i].created_ms = 1795000000000ull + 1000 * i;
			snprintf(l.dev[i].name, sizeof(l.dev[i].name), "%s", names[(i + (unsigned)c) % 3]);
		}
		devlist_sort(&l);
		len = pier_devlist_encode(&l, bytes, sizeof(bytes));
		if (len == 0)
			abort();
		pier_e2ee_devlist_sign(ak_seed, bytes, len, sig);
		set(v, "seed", json_string(seed));
		set(v, "ak_seed", B(ak_seed, 32));
		set(v, "fields", devlist_fields(&l));
		set(v, "bytes", B(bytes, len));
		set(v, "sig", B(sig, 64));
		append(valid, v);
		if (c == 1) {
			json_t *b = json_object();

			memcpy(good, bytes, len);
			glen = len;
			sig[5] ^= 0x10;
			set(b, "why", json_string("a bit flipped in the signature"));
			set(b, "bytes", B(bytes, len));
			set(b, "sig", B(sig, 64));
			append(badsig, b);
			sig[5] ^= 0x10;
			bytes[len - 1] ^= 0x01;
			b = json_object();
			set(b, "why", json_string("a bit flipped in the list"));
			set(b, "bytes", B(bytes, len));
			set(b, "sig", B(sig, 64));
			append(badsig, b);
		}
	}
	/* Invalid byte strings, from case 1 (bob_22, 3 devices). Offsets: magic 0, user 4..10,
	 * version 11, flags 15, AK 16, count 48, first device 49. */
	devlist_bad(invalid, "empty", good, 0, PIER_DEVLIST_TRUNCATED);
	memcpy(bytes, good, glen);
	bytes[3] = '2';
	devlist_bad(invalid, "magic PDL2", bytes, glen, PIER_DEVLIST_BAD_MAGIC);
	memcpy(bytes, good, glen);
	bytes[5] = 'B';
	devlist_bad(invalid, "user not in lower case", bytes, glen, PIER_DEVLIST_BAD_USER);
	memcpy(bytes, good, glen);
	bytes[4] = 5;
	devlist_bad(invalid, "user too short", bytes, glen, PIER_DEVLIST_BAD_USER);
	memcpy(bytes, good, glen);
	bytes[15] = 0x02;
	devlist_bad(invalid, "unknown flag bit", bytes, glen, PIER_DEVLIST_BAD_FLAGS);
	memcpy(bytes, good, glen);
	bytes[48] = 0;
	devlist_bad(invalid, "count 0", bytes, 49, PIER_DEVLIST_BAD_COUNT);
	bytes[48] = 33;
	devlist_bad(invalid, "count 33", bytes, glen, PIER_DEVLIST_BAD_COUNT);
	memcpy(bytes, good, glen);
	bytes[48] = 2;
	devlist_bad(invalid, "count 2 with 3 devices", bytes, glen, PIER_DEVLIST_TRAILING);
	memcpy(bytes, good, glen);
	bytes[48] = 4;
	devlist_bad(invalid, "count 4 with 3 devices", bytes, glen, PIER_DEVLIST_TRUNCATED);
	memcpy(bytes, good, glen);
	bytes[glen] = 0;
	devlist_bad(invalid, "a trailing byte", bytes, glen + 1, PIER_DEVLIST_TRAILING);
	devlist_bad(invalid, "the last byte missing", good, glen - 1, PIER_DEVLIST_TRUNCATED);
	{
		struct pier_devlist l;
		size_t n;

		check(pier_devlist_parse(good, glen, &l) == PIER_DEVLIST_OK ? 0 : -1, "reparse");
		/* pier_devlist_encode refuses these: the bytes are made from a one-device list */
		l.count = 1;
		n = pier_devlist_encode(&l, bytes, sizeof(bytes));
		if (n == 0)
			abort();
		{
			size_t entry = n - 49;   /* one device's bytes */

			memcpy(bytes + n, bytes + 49, entry);
			bytes[48] = 2;
			devlist_bad(invalid, "a device id twice", bytes, n + entry,
			            PIER_DEVLIST_UNSORTED);
			/* make the second id smaller than the first */
			bytes[n] = (uint8_t)(bytes[49] - 1);
			if (bytes[49] == 0)
				bytes[49] = 1, bytes[n] = 0;
			devlist_bad(invalid, "device ids not sorted", bytes, n + entry,
			            PIER_DEVLIST_UNSORTED);
		}
		/* a name of 65 bytes */
		l.count = 1;
		memset(l.dev[0].name, 'a', 64);
		l.dev[0].name[64] = '\0';
		n = pier_devlist_encode(&l, bytes, sizeof(bytes));
		if (n == 0)
			abort();
		bytes[n - 65] = 65;
		bytes[n] = 'a';
		devlist_bad(invalid, "a name of 65 bytes", bytes, n + 1, PIER_DEVLIST_BAD_NAME);
		bytes[n - 65] = 64;
		bytes[n - 1] = 0xC3;   /* a lead byte without its continuation */
		devlist_bad(invalid, "a name not UTF-8", bytes, n, PIER_DEVLIST_BAD_NAME);
		bytes[n - 1] = 0x00;
		devlist_bad(invalid, "a name with a NUL byte", bytes, n, PIER_DEVLIST_BAD_NAME);
		bytes[n - 3] = 0xED;   /* a surrogate, U+D800, in 3 bytes */
		bytes[n - 2] = 0xA0;
		bytes[n - 1] = 0x80;
		devlist_bad(invalid, "a name with a UTF-16 surrogate", bytes, n, PIER_DEVLIST_BAD_NAME);
	}
	set(f, "valid", valid);
	set(f, "invalid", invalid);
	set(f, "bad_signature", badsig);
	save("devlist.json", f);
}

/* ---- safety.json, approval.json ---- */

static void vec_safety(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"Safety numbers: fp(u) = BLAKE2b-256('pier-safety-v1' || str8(lower(u)) || AK_pub); "
		"its first 30 bytes as 6 chunks of 5, each a 40-bit big-endian number mod 100000 "
		"written as 5 digits: 30 digits. The safety number is the 30 digits of the user whose "
		"lower-case name sorts first (bytewise), then the other's ('digits'), shown as 12 "
		"groups of 5 separated by one space ('shown'). AK public keys come from the seed: "
		"draw 0 is A's AK seed, draw 1 B's (32 each).");
	json_t *cases = json_array();
	static const char *pairs[][2] = {
		{ "alice_1", "bob_22" }, { "bob_22", "alice_1" }, { "Zhang.Wei-9", "bob_22" },
		{ "aaaaaa", "aaaaaa_" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct pier_e2ee_rng r;
		uint8_t sa[32], sb[32], pa[32], pb[32];
		char seed[32], fa[31], fb[31], dig[61], shown[PIER_E2EE_SAFETY_SHOWN + 1];
		json_t *c = json_object();

		snprintf(seed, sizeof(seed), "pier-vector-safety-%zu", i);
		rng_seed(&r, seed);
		pier_e2ee_rng_fill(&r, sa, 32);
		pier_e2ee_rng_fill(&r, sb, 32);
		pier_e2ee_sign_pub(sa, pa);
		pier_e2ee_sign_pub(sb, pb);
		check(pier_e2ee_fingerprint(pairs[i][0], pa, fa), "fp");
		check(pier_e2ee_fingerprint(pairs[i][1], pb, fb), "fp");
		check(pier_e2ee_safety_number(pairs[i][0], pa, pairs[i][1], pb, dig), "safety");
		pier_e2ee_safety_format(dig, shown);
		set(c, "seed", json_string(seed));
		set(c, "user_a", json_string(pairs[i][0]));
		set(c, "ak_a", B(pa, 32));
		set(c, "user_b", json_string(pairs[i][1]));
		set(c, "ak_b", B(pb, 32));
		set(c, "fp_a", json_string(fa));
		set(c, "fp_b", json_string(fb));
		set(c, "digits", json_string(dig));
		set(c, "shown", json_string(shown));
		append(cases, c);
	}
	set(f, "cases", cases);
	save("safety.json", f);
}

static void vec_approval(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"Approval codes: code = the first 4 bytes of BLAKE2b-256('pier-approve-v1' || "
		"AK_pub || device_id || DSK_pub || DIK_pub) as a big-endian u32, mod 100000000; "
		"shown as 8 digits in two groups of 4 ('1234 5678'). Keys from the seed: AK seed "
		"(32), device id (16), DSK seed (32), DIK (32), in that order.");
	json_t *cases = json_array();

	for (int i = 0; i < 4; i++) {
		struct pier_e2ee_rng r;
		uint8_t ak_seed[32], ak[32], ds[32], dh[32];
		struct pier_e2ee_peer_keys k;
		char seed[32], shown[10];
		uint32_t code;
		json_t *c = json_object();

		snprintf(seed, sizeof(seed), "pier-vector-approval-%d", i);
		rng_seed(&r, seed);
		pier_e2ee_rng_fill(&r, ak_seed, 32);
		pier_e2ee_rng_fill(&r, k.id, 16);
		pier_e2ee_rng_fill(&r, ds, 32);
		pier_e2ee_rng_fill(&r, dh, 32);
		pier_e2ee_sign_pub(ak_seed, ak);
		pier_e2ee_sign_pub(ds, k.sign_pub);
		crypto_scalarmult_base(k.dh_pub, dh);
		code = pier_e2ee_approval_code(ak, &k);
		pier_e2ee_approval_format(code, shown);
		set(c, "seed", json_string(seed));
		set(c, "ak_pub", B(ak, 32));
		set(c, "device_id", B(k.id, 16));
		set(c, "sign_pub", B(k.sign_pub, 32));
		set(c, "dh_pub", B(k.dh_pub, 32));
		set(c, "code", json_integer(code));
		set(c, "shown", json_string(shown));
		append(cases, c);
	}
	set(f, "cases", cases);
	save("approval.json", f);
}

/* ---- signatures.json: the hello proof and the SPK signature ---- */

static void vec_signatures(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"Ed25519 signatures (deterministic: the exact bytes). 'hello': proof = "
		"Ed25519(DSK, 'pier-hello-v1' || challenge) for the 32-byte login challenge. 'spk': "
		"sig = Ed25519(DSK, 'pier-spk-v1' || device_id || u32be(spk_id) || spk_pub). From "
		"the seed: DSK seed (32), then for hello the challenge (32), for spk the device id "
		"(16) and the SPK private key (32). 'bad' entries must not verify.");
	json_t *hello = json_array(), *spk = json_array(), *bad = json_array();
	struct pier_e2ee_rng r;
	uint8_t ds[32], dp[32], ch[32], sig[64], id[16], sp[32], spub[32];
	json_t *c;

	rng_seed(&r, "pier-vector-hello");
	pier_e2ee_rng_fill(&r, ds, 32);
	pier_e2ee_rng_fill(&r, ch, 32);
	pier_e2ee_sign_pub(ds, dp);
	pier_e2ee_hello_proof(ds, ch, 32, sig);
	c = json_object();
	set(c, "seed", json_string("pier-vector-hello"));
	set(c, "sign_seed", B(ds, 32));
	set(c, "sign_pub", B(dp, 32));
	set(c, "challenge", B(ch, 32));
	set(c, "proof", B(sig, 64));
	append(hello, c);
	/* the proof over another challenge */
	ch[0] ^= 1;
	c = json_object();
	set(c, "kind", json_string("hello"));
	set(c, "why", json_string("another challenge"));
	set(c, "sign_pub", B(dp, 32));
	set(c, "challenge", B(ch, 32));
	set(c, "proof", B(sig, 64));
	append(bad, c);

	rng_seed(&r, "pier-vector-spk");
	pier_e2ee_rng_fill(&r, ds, 32);
	pier_e2ee_rng_fill(&r, id, 16);
	pier_e2ee_rng_fill(&r, sp, 32);
	pier_e2ee_sign_pub(ds, dp);
	crypto_scalarmult_base(spub, sp);
	pier_e2ee_spk_sign(ds, id, 0x00010203u, spub, sig);
	c = json_object();
	set(c, "seed", json_string("pier-vector-spk"));
	set(c, "sign_seed", B(ds, 32));
	set(c, "sign_pub", B(dp, 32));
	set(c, "device_id", B(id, 16));
	set(c, "spk_id", json_integer(0x00010203));
	set(c, "spk_pub", B(spub, 32));
	set(c, "sig", B(sig, 64));
	append(spk, c);
	c = json_object();
	set(c, "kind", json_string("spk"));
	set(c, "why", json_string("another spk_id"));
	set(c, "sign_pub", B(dp, 32));
	set(c, "device_id", B(id, 16));
	set(c, "spk_id", json_integer(0x00010204));
	set(c, "spk_pub", B(spub, 32));
	set(c, "sig", B(sig, 64));
	append(bad, c);
	set(f, "hello", hello);
	set(f, "spk", spk);
	set(f, "bad", bad);
	save("signatures.json", f);
}

/* ---- file.json ---- */

/* The tool's randombytes: libsodium draws a secretstream header itself, and the vectors must
 * come out the same at every run. */
static struct pier_e2ee_rng tool_rng;

static const char *tool_rb_name(void) { return "pier-e2ee-vectors"; }
static uint32_t tool_rb_random(void)
{
	uint32_t v;

	pier_e2ee_rng_fill(&tool_rng, &v, sizeof(v));
	return v;
}
static void tool_rb_buf(void *buf, size_t n) { pier_e2ee_rng_fill(&tool_rng, buf, n); }

static struct randombytes_implementation tool_rb = {
	.implementation_name = tool_rb_name,
	.random = tool_rb_random,
	.stir = NULL,
	.uniform = NULL,
	.buf = tool_rb_buf,
	.close = NULL,
};

/* An invalid ciphertext, described by what to do to case number c's: "cut" (keep the first
 * n bytes), "flip" (flip bit 0 of byte n), "append" (n zero bytes). */
static void file_bad(json_t *arr, const char *why, size_t c, const char *op, size_t n)
{
	json_t *bad = json_object();

	set(bad, "why", json_string(why));
	set(bad, "case", json_integer((json_int_t)c));
	set(bad, "op", json_string(op));
	set(bad, "n", json_integer((json_int_t)n));
	append(arr, bad);
}

static void vec_file(void)
{
	json_t *f = file_new(COMMON_ABOUT
		"Files: crypto_secretstream_xchacha20poly1305 with 'key' and 'header'; the "
		"plaintext of 'length' bytes has byte i = i mod 251; it is cut in chunks of 65536 "
		"bytes, the last (1..65536 bytes, or the only, empty one of an empty file) tagged "
		"FINAL, every other tagged 0 (MESSAGE), no additional data; 'ciphertext' is the "
		"chunks' outputs one after the other (each 17 bytes longer than its plaintext). "
		"A decryptor reads 65553 bytes at a time. The key is one 32-byte draw of the "
		"seed's source; libsodium draws the header itself (so only decryption can be "
		"checked). 'invalid': ciphertexts that must be refused, made from case number "
		"'case': op 'cut' keeps its first n bytes, 'flip' flips bit 0 of byte n, 'append' "
		"adds n zero bytes (the stream does not end with its FINAL chunk, bytes follow it, a "
		"tag fails).");
	json_t *cases = json_array(), *invalid = json_array();
	static const size_t lens[] = { 0, 100, PIER_E2EE_FILE_CHUNK, PIER_E2EE_FILE_CHUNK + 100 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct pier_e2ee_rng r;
		uint8_t key[32], header[24];
		char seed[32], *ct = NULL, *pt = NULL;
		size_t ct_len = 0, pt_len = 0, n = lens[i];
		FILE *in, *out;
		json_t *c = json_object();

		snprintf(seed, sizeof(seed), "pier-vector-file-%zu", i);
		rng_seed(&r, seed);
		in = tmpfile();
		for (size_t k = 0; k < n; k++)
			fputc((int)(k % 251), in);
		rewind(in);
		out = open_memstream(&ct, &ct_len);
		check(pier_e2ee_file_encrypt_stream(in, out, &r, key, header), "file");
		fclose(out);
		fclose(in);
		in = fmemopen(ct, ct_len, "rb");
		out = open_memstream(&pt, &pt_len);
		check(pier_e2ee_file_decrypt_stream(in, out, key, header), "file decrypt");
		fclose(in);
		fclose(out);
		if (pt_len != n)
			abort();
		set(c, "seed", json_string(seed));
		set(c, "length", json_integer((json_int_t)n));
		set(c, "key", B(key, 32));
		set(c, "header", B(header, 24));
		set(c, "ciphertext", B(ct, ct_len));
		append(cases, c);
		if (i == 3)
			file_bad(invalid, "the FINAL chunk missing", i, "cut", PIER_E2EE_FILE_CHUNK_CT);
		if (i == 1) {
			file_bad(invalid, "a bit flipped in the tag", i, "flip", ct_len - 1);
			file_bad(invalid, "a byte after the FINAL chunk", i, "append", 1);
			file_bad(invalid, "the last byte missing", i, "cut", ct_len - 1);
		}
		free(ct);
		free(pt);
	}
	set(f, "cases", cases);
	set(f, "invalid", invalid);
	save("file.json", f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pier-e2ee-vectors DIR\n");
		return 2;
	}
	out_dir = argv[1];
	rng_seed(&tool_rng, "pier-vector-libsodium");
	randombytes_set_implementation(&tool_rb);
	if (sodium_init() < 0)
		return 1;
	vec_rng();
	vec_hkdf();
	vec_x3dh();
	vec_ratchet();
	vec_sessions();
	vec_envelope();
	vec_payload();
	vec_devlist();
	vec_safety();
	vec_approval();
	vec_signatures();
	vec_file();
	return 0;
}
