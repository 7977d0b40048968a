/* payload.c - a message's payload, encrypted once for every device (docs/E2EE.md): sealed
 * with a fresh key pk, whose envelopes carry inner = pk || BLAKE2b-256(payload), so that a
 * device opens only the payload its envelope names. */
#include "e2ee.h"

#include <string.h>

#define LABEL_PAYLOAD "pier-payload-v1"
#define AD_PAYLOAD    ((const uint8_t *)LABEL_PAYLOAD), (sizeof(LABEL_PAYLOAD) - 1)

void pier_e2ee_payload_seal(const uint8_t *pt, size_t len, struct pier_e2ee_rng *rng,
                            uint8_t pk[32], uint8_t *out)
{
	pier_e2ee_rng_fill(rng, pk, 32);
	pier_e2ee_rng_fill(rng, out, PIER_E2EE_PAYLOAD_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + PIER_E2EE_PAYLOAD_NONCE, NULL, pt, len,
	                                           AD_PAYLOAD, NULL, out, pk);
}

void pier_e2ee_inner_make(const uint8_t pk[32], const uint8_t *payload, size_t len,
                          uint8_t inner[PIER_E2EE_INNER_LEN])
{
	memcpy(inner, pk, 32);
	crypto_generichash(inner + 32, 32, payload, len, NULL, 0);
}

int pier_e2ee_payload_open(const uint8_t inner[PIER_E2EE_INNER_LEN], const uint8_t *payload,
                           size_t len, uint8_t *pt)
{
	uint8_t h[32];

	if (len < PIER_E2EE_PAYLOAD_OVERHEAD)
		return PIER_E2EE_ERR_FORMAT;
	crypto_generichash(h, sizeof(h), payload, len, NULL, 0);
	if (sodium_memcmp(h, inner + 32, sizeof(h)) != 0)
		return PIER_E2EE_ERR_AUTH;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL,
	                                               payload + PIER_E2EE_PAYLOAD_NONCE,
	                                               len - PIER_E2EE_PAYLOAD_NONCE, AD_PAYLOAD,
	                                               payload, inner) != 0)
		return PIER_E2EE_ERR_AUTH;
	return PIER_E2EE_OK;
}
