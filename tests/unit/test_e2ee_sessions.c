/* test_e2ee_sessions.c - sessions, the ratchet and payloads under attack and disorder
 * (src/lib/e2ee/sessions.c, ratchet.c, payload.c): a flipped bit anywhere is refused and
 * changes nothing, replays are refused, reordered and dropped messages within the window
 * open, the skip bound holds, states survive serialization mid-conversation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2ee/e2ee.h"   /* by its folder: pierd has a chat/e2ee.h */
#include "tap.h"

struct dev {
	struct pier_e2ee_device d;
	struct pier_e2ee_sessions s;
	struct pier_e2ee_rng rng;
};

struct msg {
	uint8_t env[PIER_E2EE_ENVELOPE_MAX];
	size_t len;
	uint8_t inner[64];
};

static void dev_make(struct dev *x, const char *seed, size_t opks)
{
	pier_e2ee_rng_init_deterministic(&x->rng, (const uint8_t *)seed, strlen(seed));
	pier_e2ee_device_create(&x->d, 1795000000000, &x->rng);
	pier_e2ee_device_add_opks(&x->d, opks, &x->rng, NULL);
	pier_e2ee_sessions_init(&x->s);
}

static void dev_free(struct dev *x)
{
	pier_e2ee_sessions_release(&x->s);
	pier_e2ee_device_release(&x->d);
}

/* x's bundle, with its OPK number opk (or none when opk < 0). */
static void bundle_of(const struct dev *x, int opk, struct pier_e2ee_bundle_device *b)
{
	memset(b, 0, sizeof(*b));
	b->keys = x->d.pub;
	b->spk_id = x->d.spk.id;
	memcpy(b->spk_pub, x->d.spk.pub, 32);
	memcpy(b->spk_sig, x->d.spk.sig, 64);
	if (opk >= 0) {
		b->has_opk = true;
		b->opk_id = x->d.opks[opk].id;
		memcpy(b->opk_pub, x->d.opks[opk].pub, 32);
	}
	b->listed = true;
}

/* Encrypts a fresh 64-byte inner from a to b (with b's bundle when given). */
static bool send(struct dev *a, struct dev *b, const struct pier_e2ee_bundle_device *bundle,
                 struct msg *m)
{
	pier_e2ee_rng_fill(&a->rng, m->inner, sizeof(m->inner));
	return pier_e2ee_encrypt(&a->s, &a->d, &b->d.pub, bundle, m->inner, sizeof(m->inner),
	                         &a->rng, m->env, &m->len) == 0;
}

static int recv(struct dev *b, struct dev *a, const struct msg *m)
{
	uint8_t inner[PIER_E2EE_CT_MAX];
	size_t len;
	int rc = pier_e2ee_decrypt(&b->s, &b->d, &a->d.pub, m->env, m->len, &b->rng, inner, &len);

	if (rc == 0 && (len != 64 || memcmp(inner, m->inner, 64) != 0))
		return 99;   /* opened to the wrong bytes: never */
	return rc;
}

/* The whole state of a device (keys and sessions) as one JSON text (free it). */
static char *state_of(const struct dev *x)
{
	json_t *j = json_pack("{s:o, s:o}", "device", pier_e2ee_device_to_json(&x->d), "sessions",
	                      pier_e2ee_sessions_to_json(&x->s));
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);

	json_decref(j);
	return s;
}

/* Every byte of m with one bit flipped (a different bit by position) is refused by b and
 * leaves b's state as it was. Returns how many were accepted (0 expected). */
static int flip_every_byte(struct dev *b, struct dev *a, const struct msg *m)
{
	char *before = state_of(b);
	int accepted = 0, changed = 0;

	for (size_t i = 0; i < m->len; i++) {
		struct msg t = *m;
		char *after;

		t.env[i] ^= (uint8_t)(1u << (i % 8));
		if (recv(b, a, &t) == 0)
			accepted++;
		after = state_of(b);
		changed += strcmp(before, after) != 0;
		free(after);
	}
	CHECK(changed == 0, "a refused envelope changed the state %d times", changed);
	free(before);
	return accepted;
}

static void test_tampering(void)
{
	struct dev a, b;
	struct pier_e2ee_bundle_device bundle;
	struct pier_e2ee_peer_keys wrong;
	struct msg m0, m1, m2;
	char *before;

	dev_make(&a, "tamper-a", 0);
	dev_make(&b, "tamper-b", 3);
	bundle_of(&b, 0, &bundle);
	CHECK(send(&a, &b, &bundle, &m0), "send m0");
	CHECK(m0.env[1] == PIER_E2EE_ENV_PREKEY, "the first is a pre-key envelope");
	CHECK(flip_every_byte(&b, &a, &m0) == 0, "pre-key envelope: every flipped bit refused");
	CHECK(b.d.opk_count == 3, "no one-time prekey used by a refused envelope");
	/* the sender's device id as the server reports it */
	wrong = a.d.pub;
	wrong.id[3] ^= 0x20;
	before = state_of(&b);
	{
		uint8_t inner[256];
		size_t len;

		CHECK(pier_e2ee_decrypt(&b.s, &b.d, &wrong, m0.env, m0.len, &b.rng, inner, &len) ==
		      PIER_E2EE_ERR_AUTH, "another sending device id: refused");
	}
	{
		char *after = state_of(&b);

		CHECK(strcmp(before, after) == 0, "and nothing changed");
		free(after);
	}
	free(before);
	CHECK(recv(&b, &a, &m0) == 0, "the real one opens");
	CHECK(b.d.opk_count == 2, "its one-time prekey is used up");
	CHECK(send(&b, &a, NULL, &m1), "reply");
	CHECK(m1.env[1] == PIER_E2EE_ENV_RATCHET, "a reply is a ratchet envelope");
	CHECK(flip_every_byte(&a, &b, &m1) == 0, "ratchet envelope (new DH): every bit refused");
	CHECK(recv(&a, &b, &m1) == 0, "the real reply opens");
	CHECK(send(&b, &a, NULL, &m2), "second reply");
	CHECK(flip_every_byte(&a, &b, &m2) == 0, "ratchet envelope (same chain): every bit refused");
	CHECK(recv(&a, &b, &m2) == 0, "the real one opens");
	wrong = b.d.pub;
	wrong.id[0] ^= 1;
	CHECK(send(&b, &a, NULL, &m2), "third reply");
	{
		uint8_t inner[256];
		size_t len;

		CHECK(pier_e2ee_decrypt(&a.s, &a.d, &wrong, m2.env, m2.len, &a.rng, inner, &len) != 0,
		      "a ratchet envelope reported from another device: refused");
	}
	CHECK(recv(&a, &b, &m2) == 0, "from the right one it opens");
	dev_free(&a);
	dev_free(&b);
}

static bool contains(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(p + i, s, n) == 0)
			return true;
	return false;
}

static void test_payload_tampering(void)
{
	struct pier_e2ee_rng r;
	const char *text = "{\"v\":1,\"peer\":\"bob_22\",\"text\":\"canary 7f3a\"}";
	size_t n = strlen(text), len = n + PIER_E2EE_PAYLOAD_OVERHEAD;
	uint8_t pk[32], payload[256], inner[64], pt[256];
	int accepted = 0;

	pier_e2ee_rng_init_deterministic(&r, (const uint8_t *)"payload", 7);
	pier_e2ee_payload_seal((const uint8_t *)text, n, &r, pk, payload);
	pier_e2ee_inner_make(pk, payload, len, inner);
	CHECK(pier_e2ee_payload_open(inner, payload, len, pt) == 0 && memcmp(pt, text, n) == 0,
	      "the payload opens");
	CHECK(!contains(payload, len, "canary"), "no plaintext in the payload");
	for (size_t i = 0; i < len; i++) {
		payload[i] ^= (uint8_t)(1u << (i % 8));
		accepted += pier_e2ee_payload_open(inner, payload, len, pt) == 0;
		payload[i] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK(accepted == 0, "payload: %d flipped bits accepted", accepted);
	accepted = 0;
	for (size_t i = 0; i < 64; i++) {
		inner[i] ^= (uint8_t)(1u << (i % 8));
		accepted += pier_e2ee_payload_open(inner, payload, len, pt) == 0;
		inner[i] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK(accepted == 0, "inner: %d flipped bits accepted", accepted);
	CHECK(pier_e2ee_payload_open(inner, payload, len - 1, pt) != 0, "a cut payload: refused");
	CHECK(pier_e2ee_payload_open(inner, payload, 39, pt) == PIER_E2EE_ERR_FORMAT,
	      "39 bytes: malformed");
}

static void test_replay(void)
{
	struct dev a, b;
	struct pier_e2ee_bundle_device bundle;
	struct msg m[4];

	dev_make(&a, "replay-a", 0);
	dev_make(&b, "replay-b", 1);
	bundle_of(&b, 0, &bundle);
	send(&a, &b, &bundle, &m[0]);
	send(&a, &b, NULL, &m[1]);
	CHECK(recv(&b, &a, &m[0]) == 0, "pre-key opens");
	CHECK(recv(&b, &a, &m[0]) == PIER_E2EE_ERR_REPLAY, "pre-key replayed: refused");
	CHECK(recv(&b, &a, &m[1]) == 0, "second pre-key (same EK) opens");
	CHECK(recv(&b, &a, &m[1]) == PIER_E2EE_ERR_REPLAY, "second pre-key replayed: refused");
	send(&b, &a, NULL, &m[2]);
	CHECK(recv(&a, &b, &m[2]) == 0, "reply opens");
	CHECK(recv(&a, &b, &m[2]) == PIER_E2EE_ERR_REPLAY, "reply replayed: refused");
	send(&a, &b, NULL, &m[3]);
	CHECK(m[3].env[1] == PIER_E2EE_ENV_RATCHET, "A heard back: ratchet envelopes");
	CHECK(recv(&b, &a, &m[3]) == 0, "ratchet opens");
	CHECK(recv(&b, &a, &m[3]) == PIER_E2EE_ERR_REPLAY, "ratchet replayed: refused");
	/* its chain is an old one now: refused (it cannot open, whichever way it is refused) */
	CHECK(recv(&b, &a, &m[0]) != 0, "old pre-key replayed later: refused");
	/* A pre-key envelope whose session was forgotten: the EK is remembered. */
	pier_e2ee_sessions_forget(&b.s, a.d.pub.id);
	CHECK(recv(&b, &a, &m[0]) != 0, "pre-key replayed to a device that forgot the session");
	dev_free(&a);
	dev_free(&b);
}

/* A fixed shuffle of 0..n-1 (Fisher-Yates on the rng). */
static void shuffle(int *order, int n, struct pier_e2ee_rng *r)
{
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) {
		uint32_t v;
		int k, t;

		pier_e2ee_rng_fill(r, &v, sizeof(v));
		k = (int)(v % (uint32_t)(i + 1));
		t = order[i];
		order[i] = order[k];
		order[k] = t;
	}
}

static void test_disorder(void)
{
	struct dev a, b;
	struct pier_e2ee_bundle_device bundle;
	struct msg *m = calloc(120, sizeof(*m));
	int order[40], opened = 0, dropped = 0, bad = 0;

	dev_make(&a, "order-a", 0);
	dev_make(&b, "order-b", 1);
	bundle_of(&b, 0, &bundle);
	/* Three rounds: A sends 40, B gets them shuffled with every 7th dropped, then B sends 40
	 * the same way. Each round is a new DH chain for its sender. */
	for (int round = 0; round < 3; round++) {
		struct dev *from = round % 2 ? &b : &a, *to = round % 2 ? &a : &b;

		for (int i = 0; i < 40; i++)
			bad += !send(from, to, round == 0 && i == 0 ? &bundle : NULL, &m[round * 40 + i]);
		shuffle(order, 40, &a.rng);
		for (int i = 0; i < 40; i++) {
			int k = order[i];

			if (k % 7 == 3 && !(round == 0 && k == 0)) {
				dropped++;
				continue;
			}
			if (recv(to, from, &m[round * 40 + k]) == 0)
				opened++;
			else
				bad++;
		}
	}
	CHECK(bad == 0, "reordered messages: %d failed", bad);
	CHECK(opened + dropped == 120 && dropped > 10, "opened %d, dropped %d", opened, dropped);
	/* A message of a chain two steps back, delivered late, still opens (skipped key). */
	{
		struct msg late;

		send(&a, &b, NULL, &late);
		CHECK(recv(&b, &a, &late) == 0, "a new message after the disorder opens");
	}
	free(m);
	dev_free(&a);
	dev_free(&b);
}

static void test_skip_bound(void)
{
	struct dev a, b;
	struct pier_e2ee_bundle_device bundle;
	struct msg m, first, keep1, keep3;
	char *before, *after;

	dev_make(&a, "skip-a", 0);
	dev_make(&b, "skip-b", 1);
	bundle_of(&b, 0, &bundle);
	send(&a, &b, &bundle, &m);
	CHECK(recv(&b, &a, &m) == 0, "session made");
	send(&b, &a, NULL, &m);
	CHECK(recv(&a, &b, &m) == 0, "reply");
	/* exactly 1000 skipped: fine */
	for (int i = 0; i < 1000; i++)
		send(&a, &b, NULL, i == 0 ? &keep1 : &m);
	send(&a, &b, NULL, &m);
	CHECK(recv(&b, &a, &m) == 0, "1000 keys skipped: opens");
	/* 1001: refused, state unchanged */
	for (int i = 0; i < 1001; i++)
		send(&a, &b, NULL, &m);
	send(&a, &b, NULL, &first);
	before = state_of(&b);
	CHECK(recv(&b, &a, &first) == PIER_E2EE_ERR_TOO_FAR, "1001 keys to skip: refused");
	after = state_of(&b);
	CHECK(strcmp(before, after) == 0, "and the state is unchanged");
	free(before);
	free(after);
	/* the skipped keys kept are bounded: 1000 more skipped twice in a new session chain */
	dev_free(&a);
	dev_free(&b);

	dev_make(&a, "keep-a", 0);
	dev_make(&b, "keep-b", 1);
	bundle_of(&b, 0, &bundle);
	send(&a, &b, &bundle, &m);
	CHECK(recv(&b, &a, &m) == 0, "session made");
	for (int batch = 0; batch < 3; batch++) {
		for (int i = 0; i < 1000; i++)
			send(&a, &b, NULL, i == 0 && batch == 0 ? &keep1 :
			                   (i == 999 && batch == 2 ? &keep3 : &m));
		send(&a, &b, NULL, &m);
		CHECK(recv(&b, &a, &m) == 0, "batch %d opens", batch);
	}
	CHECK(b.s.npeers == 1 && b.s.peers[0].sess[0]->r.nskipped == PIER_E2EE_MAX_SKIPPED,
	      "skipped keys kept: %zu", b.s.npeers ? b.s.peers[0].sess[0]->r.nskipped : 0);
	{
		/* a deep copy of a ratchet with skipped keys opens on its own, the original too */
		struct pier_e2ee_ratchet copy, *orig = &b.s.peers[0].sess[0]->r;

		CHECK(pier_e2ee_ratchet_copy(&copy, orig) == 0 && copy.skipped != orig->skipped &&
		      copy.nskipped == orig->nskipped &&
		      memcmp(copy.skipped, orig->skipped, copy.nskipped * sizeof(copy.skipped[0])) == 0,
		      "ratchet copy");
		pier_e2ee_ratchet_release(&copy);
		CHECK(copy.skipped == NULL && copy.nskipped == 0, "copy released");
	}
	CHECK(recv(&b, &a, &keep1) != 0, "the oldest skipped key was dropped");
	CHECK(recv(&b, &a, &keep3) == 0, "a recent skipped key still opens");
	CHECK(recv(&b, &a, &keep3) == PIER_E2EE_ERR_REPLAY, "once");
	dev_free(&a);
	dev_free(&b);
}

/* Saves x (device and sessions) to JSON text and loads it back into a fresh struct. */
static bool reload(struct dev *x)
{
	char *text = state_of(x);
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	struct pier_e2ee_device d;
	struct pier_e2ee_sessions s;
	char *again;
	bool ok;

	ok = j != NULL && pier_e2ee_device_from_json(json_object_get(j, "device"), &d) == 0 &&
	     pier_e2ee_sessions_from_json(json_object_get(j, "sessions"), &s) == 0;
	json_decref(j);
	if (ok) {
		dev_free(x);
		x->d = d;
		x->s = s;
		again = state_of(x);
		ok = strcmp(text, again) == 0;
		free(again);
	}
	free(text);
	return ok;
}

static void test_serialize(void)
{
	struct dev a, b;
	struct pier_e2ee_bundle_device bundle;
	struct msg m[8];

	dev_make(&a, "save-a", 0);
	dev_make(&b, "save-b", 5);
	bundle_of(&b, 2, &bundle);
	send(&a, &b, &bundle, &m[0]);
	send(&a, &b, NULL, &m[1]);
	send(&a, &b, NULL, &m[2]);
	CHECK(recv(&b, &a, &m[2]) == 0, "m2 first: a new session that skipped m0 and m1");
	CHECK(reload(&b), "B's state survives a round trip with skipped keys");
	CHECK(b.d.opk_count == 4, "the used one-time prekey stays gone");
	CHECK(recv(&b, &a, &m[0]) == 0 && recv(&b, &a, &m[1]) == 0, "after reload, skipped open");
	send(&b, &a, NULL, &m[3]);
	send(&b, &a, NULL, &m[4]);
	CHECK(reload(&a), "A's state survives a round trip (pre-key session)");
	CHECK(recv(&a, &b, &m[4]) == 0, "A after reload");
	CHECK(reload(&a), "A again, with a skipped key");
	CHECK(recv(&a, &b, &m[3]) == 0, "its skipped key opens");
	CHECK(recv(&a, &b, &m[3]) == PIER_E2EE_ERR_REPLAY, "once");
	send(&a, &b, NULL, &m[5]);
	CHECK(recv(&b, &a, &m[5]) == 0, "the conversation goes on");
	{
		json_t *j = json_loads("{\"v\":1,\"peers\":[{\"id\":\"AAAA\"}]}", 0, NULL);
		struct pier_e2ee_sessions s;

		CHECK(pier_e2ee_sessions_from_json(j, &s) != 0, "a broken state is refused");
		json_decref(j);
	}
	dev_free(&a);
	dev_free(&b);
}

static void test_session_rules(void)
{
	struct dev a, b;
	struct pier_e2ee_bundle_device bundle;
	struct pier_e2ee_peer_keys other;
	struct msg m[8], first;
	uint8_t inner[64] = { 0 }, env[PIER_E2EE_ENVELOPE_MAX];
	size_t len;

	dev_make(&a, "rules-a", 0);
	dev_make(&b, "rules-b", 8);
	CHECK(pier_e2ee_encrypt(&a.s, &a.d, &b.d.pub, NULL, inner, 64, &a.rng, env, &len) ==
	      PIER_E2EE_ERR_NO_SESSION, "no session, no bundle");
	bundle_of(&b, 0, &bundle);
	bundle.spk_sig[0] ^= 1;
	CHECK(pier_e2ee_encrypt(&a.s, &a.d, &b.d.pub, &bundle, inner, 64, &a.rng, env, &len) ==
	      PIER_E2EE_ERR_SIGNATURE, "a bad SPK signature stops");
	bundle_of(&b, 0, &bundle);
	other = b.d.pub;
	other.dh_pub[0] ^= 1;
	CHECK(pier_e2ee_encrypt(&a.s, &a.d, &other, &bundle, inner, 64, &a.rng, env, &len) ==
	      PIER_E2EE_ERR_MISMATCH, "a bundle whose keys are not the trusted ones stops");
	CHECK(pier_e2ee_encrypt(&a.s, &a.d, &b.d.pub, &bundle, inner,
	                        PIER_E2EE_CT_MAX - 15, &a.rng, env, &len) == PIER_E2EE_ERR_LIMIT,
	      "an inner too long for an envelope");
	CHECK(!pier_e2ee_sessions_has(&a.s, b.d.pub.id), "nothing made by refusals");

	/* Five sessions from A (A forgets its session each time): B keeps the newest four. */
	for (int i = 0; i < 5; i++) {
		bundle_of(&b, 0, &bundle);   /* used OPKs leave the array: 0 is always unused */
		pier_e2ee_sessions_forget(&a.s, b.d.pub.id);
		send(&a, &b, &bundle, &m[i]);
		if (i == 0)
			first = m[0];
		CHECK(recv(&b, &a, &m[i]) == 0, "session %d", i);
	}
	CHECK(b.s.peers[0].nsess == PIER_E2EE_MAX_SESSIONS, "B keeps %u sessions",
	      b.s.peers[0].nsess);
	CHECK(recv(&b, &a, &first) == PIER_E2EE_ERR_REPLAY, "the dropped session's EK: a replay");
	send(&b, &a, NULL, &m[5]);
	CHECK(recv(&a, &b, &m[5]) == 0, "B answers on the newest session");
	dev_free(&a);
	dev_free(&b);

	/* Both start a session at once: each side ends up with both; messages all open. */
	dev_make(&a, "both-a", 2);
	dev_make(&b, "both-b", 2);
	bundle_of(&b, 0, &bundle);
	send(&a, &b, &bundle, &m[0]);
	bundle_of(&a, 0, &bundle);
	send(&b, &a, &bundle, &m[1]);
	CHECK(recv(&b, &a, &m[0]) == 0, "B gets A's pre-key");
	CHECK(recv(&a, &b, &m[1]) == 0, "A gets B's pre-key");
	send(&a, &b, NULL, &m[2]);
	send(&b, &a, NULL, &m[3]);
	CHECK(recv(&b, &a, &m[2]) == 0, "B opens A's next");
	CHECK(recv(&a, &b, &m[3]) == 0, "A opens B's next");
	send(&a, &b, NULL, &m[4]);
	CHECK(recv(&b, &a, &m[4]) == 0, "and on");
	send(&b, &a, NULL, &m[5]);
	CHECK(recv(&a, &b, &m[5]) == 0, "and back");
	dev_free(&a);
	dev_free(&b);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_tampering();
	test_payload_tampering();
	test_replay();
	test_disorder();
	test_skip_bound();
	test_serialize();
	test_session_rules();
	return tap_done();
}
