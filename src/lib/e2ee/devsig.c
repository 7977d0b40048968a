/* devsig.c - the signatures of docs/E2EE.md: the device list (by the account key AK), the
 * signed prekey (by the device's DSK) and the hello proof over the login challenge (DSK).
 * Every signed message starts with its own label, so no signature can pass for another. */
#include "e2ee.h"
#include "e2ee_internal.h"

#include <stdlib.h>

#define LABEL_DEVLIST "pier-devlist-v1"
#define LABEL_SPK     "pier-spk-v1"
#define LABEL_HELLO   "pier-hello-v1"
#define SPK_MSG_LEN   (PIER_E2EE_ID_LEN + 4 + PIER_E2EE_KEY_LEN)  /* after the label */

void pier_e2ee_sign_pub(const uint8_t seed[PIER_E2EE_KEY_LEN], uint8_t pub[PIER_E2EE_KEY_LEN])
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];

	crypto_sign_seed_keypair(pub, sk, seed);
	sodium_memzero(sk, sizeof(sk));
}

/* Signs label || a with the key of seed. */
static void sign_labeled(const uint8_t seed[32], const char *label, size_t label_len, const uint8_t *a,
                  size_t a_len, uint8_t sig[64])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	size_t n = label_len + a_len;
	uint8_t *m = malloc(n + 1);

	if (m == NULL)
		abort();   /* what is signed is bounded (a list, a challenge): out of memory is fatal */
	memcpy(m, label, label_len);
	if (a_len > 0)
		memcpy(m + label_len, a, a_len);
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig, NULL, m, n, sk);
	sodium_memzero(sk, sizeof(sk));
	free(m);
}

static bool verify_labeled(const uint8_t pub[32], const char *label, size_t label_len,
                    const uint8_t *a, size_t a_len, const uint8_t sig[64])
{
	size_t n = label_len + a_len;
	uint8_t *m = malloc(n + 1);
	bool ok;

	if (m == NULL)
		abort();
	memcpy(m, label, label_len);
	if (a_len > 0)
		memcpy(m + label_len, a, a_len);
	ok = crypto_sign_verify_detached(sig, m, n, pub) == 0;
	free(m);
	return ok;
}

void pier_e2ee_devlist_sign(const uint8_t ak_seed[PIER_E2EE_KEY_LEN], const uint8_t *list,
                            size_t len, uint8_t sig[PIER_E2EE_SIG_LEN])
{
	sign_labeled(ak_seed, LABEL_DEVLIST, sizeof(LABEL_DEVLIST) - 1, list, len, sig);
}

bool pier_e2ee_devlist_verify(const uint8_t ak_pub[PIER_E2EE_KEY_LEN], const uint8_t *list,
                              size_t len, const uint8_t sig[PIER_E2EE_SIG_LEN])
{
	return verify_labeled(ak_pub, LABEL_DEVLIST, sizeof(LABEL_DEVLIST) - 1, list, len, sig);
}

int pier_e2ee_devlist_open(const uint8_t *list, size_t len, const uint8_t sig[PIER_E2EE_SIG_LEN],
                           const char *user, struct pier_devlist *out,
                           enum pier_devlist_err *err)
{
	enum pier_devlist_err e = pier_devlist_parse(list, len, out);
	char key[PIER_KEY_MAX];

	if (err != NULL)
		*err = e;
	if (e != PIER_DEVLIST_OK)
		return PIER_E2EE_ERR_FORMAT;
	if (!pier_e2ee_devlist_verify(out->ak, list, len, sig))
		return PIER_E2EE_ERR_SIGNATURE;
	if (pier_name_check(user) != PIER_NAME_OK)
		return PIER_E2EE_ERR_MISMATCH;
	pier_name_key(user, key);
	if (strcmp(key, out->user) != 0)
		return PIER_E2EE_ERR_MISMATCH;
	return PIER_E2EE_OK;
}

static void spk_msg(const uint8_t id[PIER_E2EE_ID_LEN], uint32_t spk_id,
                    const uint8_t spk_pub[PIER_E2EE_KEY_LEN], uint8_t m[SPK_MSG_LEN])
{
	memcpy(m, id, PIER_E2EE_ID_LEN);
	e2ee_put_u32(m + PIER_E2EE_ID_LEN, spk_id);
	memcpy(m + PIER_E2EE_ID_LEN + 4, spk_pub, PIER_E2EE_KEY_LEN);
}

void pier_e2ee_spk_sign(const uint8_t sign_seed[PIER_E2EE_KEY_LEN],
                        const uint8_t id[PIER_E2EE_ID_LEN], uint32_t spk_id,
                        const uint8_t spk_pub[PIER_E2EE_KEY_LEN], uint8_t sig[PIER_E2EE_SIG_LEN])
{
	uint8_t m[SPK_MSG_LEN];

	spk_msg(id, spk_id, spk_pub, m);
	sign_labeled(sign_seed, LABEL_SPK, sizeof(LABEL_SPK) - 1, m, sizeof(m), sig);
}

bool pier_e2ee_spk_verify(const uint8_t sign_pub[PIER_E2EE_KEY_LEN],
                          const uint8_t id[PIER_E2EE_ID_LEN], uint32_t spk_id,
                          const uint8_t spk_pub[PIER_E2EE_KEY_LEN],
                          const uint8_t sig[PIER_E2EE_SIG_LEN])
{
	uint8_t m[SPK_MSG_LEN];

	spk_msg(id, spk_id, spk_pub, m);
	return verify_labeled(sign_pub, LABEL_SPK, sizeof(LABEL_SPK) - 1, m, sizeof(m), sig);
}

void pier_e2ee_hello_proof(const uint8_t sign_seed[PIER_E2EE_KEY_LEN], const uint8_t *challenge,
                           size_t len, uint8_t sig[PIER_E2EE_SIG_LEN])
{
	sign_labeled(sign_seed, LABEL_HELLO, sizeof(LABEL_HELLO) - 1, challenge, len, sig);
}

bool pier_e2ee_hello_verify(const uint8_t sign_pub[PIER_E2EE_KEY_LEN], const uint8_t *challenge,
                            size_t len, const uint8_t sig[PIER_E2EE_SIG_LEN])
{
	return verify_labeled(sign_pub, LABEL_HELLO, sizeof(LABEL_HELLO) - 1, challenge, len, sig);
}
