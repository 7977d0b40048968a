/* x3dh.c - X3DH (docs/E2EE.md "Sessions"): the shared secret SK of initiator and responder,
 * and the associated data AD that binds both devices' identities to every message. */
#include "e2ee.h"
#include "e2ee_internal.h"

#define LABEL_X3DH "pier-x3dh-v1"
#define LABEL_AD   "pier-ad-v1"

/* SK = HKDF(zero salt, 0xFF*32 || dh[0] || ... || dh[n-1], "pier-x3dh-v1", 32). */
static void x3dh_kdf(uint8_t dh[4][32], int n, uint8_t sk[32])
{
	uint8_t ikm[32 * 5];

	memset(ikm, 0xFF, 32);
	for (int i = 0; i < n; i++)
		memcpy(ikm + 32 * (i + 1), dh[i], 32);
	pier_e2ee_hkdf(sk, 32, NULL, 0, ikm, (size_t)32 * (n + 1), E2EE_LABEL(LABEL_X3DH));
	sodium_memzero(ikm, sizeof(ikm));
}

/* The n DHs priv[i] x pub[i] (3, or 4 with a one-time prekey), then x3dh_kdf. Initiator and
 * responder compute the same four DHs from opposite halves of each pair, so they differ only
 * in the pairs they pass. */
static int x3dh_derive(const uint8_t *const priv[4], const uint8_t *const pub[4], int n,
                       uint8_t sk[32])
{
	uint8_t dh[4][32];
	int rc = PIER_E2EE_ERR_KEY;

	for (int i = 0; i < n; i++)
		if (e2ee_dh(dh[i], priv[i], pub[i]) != 0)
			goto out;
	x3dh_kdf(dh, n, sk);
	rc = PIER_E2EE_OK;
out:
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

int pier_e2ee_x3dh_initiator(const uint8_t dik_a_priv[32], const uint8_t ek_a_priv[32],
                             const uint8_t dik_b_pub[32], const uint8_t spk_b_pub[32],
                             const uint8_t *opk_b_pub, uint8_t sk[32])
{
	const uint8_t *const priv[4] = { dik_a_priv, ek_a_priv, ek_a_priv, ek_a_priv };
	const uint8_t *const pub[4] = { spk_b_pub, dik_b_pub, spk_b_pub, opk_b_pub };

	return x3dh_derive(priv, pub, opk_b_pub != NULL ? 4 : 3, sk);
}

int pier_e2ee_x3dh_responder(const uint8_t dik_b_priv[32], const uint8_t spk_b_priv[32],
                             const uint8_t *opk_b_priv, const uint8_t dik_a_pub[32],
                             const uint8_t ek_a_pub[32], uint8_t sk[32])
{
	const uint8_t *const priv[4] = { spk_b_priv, dik_b_priv, spk_b_priv, opk_b_priv };
	const uint8_t *const pub[4] = { dik_a_pub, ek_a_pub, ek_a_pub, ek_a_pub };

	return x3dh_derive(priv, pub, opk_b_priv != NULL ? 4 : 3, sk);
}

static uint8_t *put_keys(uint8_t *p, const struct pier_e2ee_peer_keys *k)
{
	memcpy(p, k->id, sizeof(k->id));
	p += sizeof(k->id);
	memcpy(p, k->sign_pub, sizeof(k->sign_pub));
	p += sizeof(k->sign_pub);
	memcpy(p, k->dh_pub, sizeof(k->dh_pub));
	return p + sizeof(k->dh_pub);
}

void pier_e2ee_x3dh_ad(const struct pier_e2ee_peer_keys *a, const struct pier_e2ee_peer_keys *b,
                       uint8_t ad[PIER_E2EE_AD_LEN])
{
	memcpy(ad, LABEL_AD, sizeof(LABEL_AD) - 1);
	put_keys(put_keys(ad + sizeof(LABEL_AD) - 1, a), b);
}
