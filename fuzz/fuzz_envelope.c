/* fuzz_envelope.c - libFuzzer harness: the envelope codec and the decryption path behind it
 * (src/lib/e2ee/envelope.c, sessions.c, ratchet.c) on any bytes.
 *
 * Checked: a parsed envelope's ciphertext lies inside the input within 16..256 bytes and its
 * prefix re-encodes to exactly the input's bytes before it (one encoding per envelope); a
 * device with a live session decrypts the bytes (pre-key and ratchet paths, header values up
 * to the skip bound) and refuses them without changing its state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2ee/e2ee.h"   /* by its folder: pierd has a chat/e2ee.h */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct dev {
	struct pier_e2ee_device d;
	struct pier_e2ee_sessions s;
	struct pier_e2ee_rng rng;
};

static struct dev a, b;
static json_t *b_state;

static void dev_make(struct dev *x, const char *seed)
{
	pier_e2ee_rng_init_deterministic(&x->rng, (const uint8_t *)seed, strlen(seed));
	pier_e2ee_device_create(&x->d, 1795000000000, &x->rng);
	pier_e2ee_device_add_opks(&x->d, 2, &x->rng, NULL);
	pier_e2ee_sessions_init(&x->s);
}

static json_t *state(const struct dev *x)
{
	return json_pack("{s:o, s:o}", "d", pier_e2ee_device_to_json(&x->d), "s",
	                 pier_e2ee_sessions_to_json(&x->s));
}

/* A and B with a session: A sent B two messages, B answered one. */
static void setup(void)
{
	struct pier_e2ee_bundle_device bundle;
	uint8_t inner[64] = { 1 }, env[PIER_E2EE_ENVELOPE_MAX], out[PIER_E2EE_CT_MAX];
	size_t len, olen;

	if (sodium_init() < 0)
		abort();
	dev_make(&a, "fuzz-a");
	dev_make(&b, "fuzz-b");
	memset(&bundle, 0, sizeof(bundle));
	bundle.keys = b.d.pub;
	bundle.spk_id = b.d.spk.id;
	memcpy(bundle.spk_pub, b.d.spk.pub, 32);
	memcpy(bundle.spk_sig, b.d.spk.sig, 64);
	bundle.has_opk = true;
	bundle.opk_id = b.d.opks[0].id;
	memcpy(bundle.opk_pub, b.d.opks[0].pub, 32);
	if (pier_e2ee_encrypt(&a.s, &a.d, &b.d.pub, &bundle, inner, 64, &a.rng, env, &len) != 0 ||
	    pier_e2ee_encrypt(&a.s, &a.d, &b.d.pub, NULL, inner, 64, &a.rng, env, &len) != 0 ||
	    pier_e2ee_decrypt(&b.s, &b.d, &a.d.pub, env, len, &b.rng, out, &olen) != 0 ||
	    pier_e2ee_encrypt(&b.s, &b.d, &a.d.pub, NULL, inner, 64, &b.rng, env, &len) != 0)
		abort();
	b_state = state(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pier_e2ee_envelope e;
	uint8_t prefix[PIER_E2EE_PREFIX_MAX], inner[PIER_E2EE_CT_MAX];
	size_t len;
	json_t *now;

	if (b_state == NULL)
		setup();
	if (pier_e2ee_envelope_parse(data, size, &e) == PIER_E2EE_OK) {
		size_t plen = pier_e2ee_envelope_prefix(&e, prefix);

		if (e.ct_len < PIER_E2EE_CT_MIN || e.ct_len > PIER_E2EE_CT_MAX ||
		    e.ct != data + size - e.ct_len || plen != size - e.ct_len ||
		    memcmp(prefix, data, plen) != 0)
			abort();
	}
	if (pier_e2ee_decrypt(&b.s, &b.d, &a.d.pub, data, size, &b.rng, inner, &len) == 0)
		abort();   /* nobody forges an authenticated envelope */
	now = state(&b);
	if (!json_equal(now, b_state))
		abort();   /* a refused envelope changed the state */
	json_decref(now);
	return 0;
}
