/* rng.c - the randomness source of the e2ee core: the system's, or the deterministic one of
 * docs/E2EE.md ("Known-answer vectors") that makes the vector files reproducible. */
#include "e2ee.h"
#include "e2ee_internal.h"

void pier_e2ee_rng_init_system(struct pier_e2ee_rng *rng)
{
	memset(rng, 0, sizeof(*rng));
}

int pier_e2ee_rng_init_deterministic(struct pier_e2ee_rng *rng, const uint8_t *seed,
                                     size_t seed_len)
{
	memset(rng, 0, sizeof(*rng));
	if (seed_len == 0 || seed_len > sizeof(rng->seed))
		return PIER_E2EE_ERR_LIMIT;
	rng->deterministic = true;
	memcpy(rng->seed, seed, seed_len);
	rng->seed_len = seed_len;
	return PIER_E2EE_OK;
}

void pier_e2ee_rng_fill(struct pier_e2ee_rng *rng, void *buf, size_t n)
{
	uint8_t key[randombytes_SEEDBYTES], ctr[4];
	crypto_generichash_state st;

	if (rng == NULL || !rng->deterministic) {
		randombytes_buf(buf, n);
		if (rng != NULL)
			rng->draws++;
		return;
	}
	e2ee_put_u32(ctr, rng->draws++);
	crypto_generichash_init(&st, NULL, 0, sizeof(key));
	crypto_generichash_update(&st, rng->seed, rng->seed_len);
	crypto_generichash_update(&st, ctr, sizeof(ctr));
	crypto_generichash_final(&st, key, sizeof(key));
	randombytes_buf_deterministic(buf, n, key);
	sodium_memzero(key, sizeof(key));
}
