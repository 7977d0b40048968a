/* safety.c - what people compare (docs/E2EE.md): the safety number of two users, made from
 * their account keys, and the 8-digit code that approves a new device. */
#include "e2ee.h"

#include <string.h>
#include "e2ee_internal.h"

#include <stdio.h>

#define LABEL_SAFETY  "pier-safety-v1"
#define LABEL_APPROVE "pier-approve-v1"

int pier_e2ee_fingerprint(const char *user, const uint8_t ak_pub[32],
                          char out[PIER_E2EE_FP_DIGITS + 1])
{
	char key[PIER_KEY_MAX];
	uint8_t len, h[32];
	crypto_generichash_state st;

	if (pier_name_check(user) != PIER_NAME_OK)
		return PIER_E2EE_ERR_FORMAT;
	pier_name_key(user, key);
	len = (uint8_t)strlen(key);
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, E2EE_LABEL(LABEL_SAFETY));
	crypto_generichash_update(&st, &len, 1);
	crypto_generichash_update(&st, (const uint8_t *)key, len);
	crypto_generichash_update(&st, ak_pub, 32);
	crypto_generichash_final(&st, h, sizeof(h));
	for (int c = 0; c < 6; c++) {
		uint64_t v = 0;

		for (int i = 0; i < 5; i++)
			v = v << 8 | h[c * 5 + i];
		snprintf(out + c * 5, 6, "%05u", (unsigned)(v % 100000));
	}
	return PIER_E2EE_OK;
}

int pier_e2ee_safety_number(const char *user_a, const uint8_t ak_a[32], const char *user_b,
                            const uint8_t ak_b[32], char out[PIER_E2EE_SAFETY_DIGITS + 1])
{
	char ka[PIER_KEY_MAX], kb[PIER_KEY_MAX], fa[PIER_E2EE_FP_DIGITS + 1],
	     fb[PIER_E2EE_FP_DIGITS + 1];

	if (pier_e2ee_fingerprint(user_a, ak_a, fa) != 0 ||
	    pier_e2ee_fingerprint(user_b, ak_b, fb) != 0)
		return PIER_E2EE_ERR_FORMAT;
	pier_name_key(user_a, ka);
	pier_name_key(user_b, kb);
	/* The one whose lower-case name sorts first (bytewise) comes first. */
	if (strcmp(ka, kb) <= 0)
		snprintf(out, PIER_E2EE_SAFETY_DIGITS + 1, "%s%s", fa, fb);
	else
		snprintf(out, PIER_E2EE_SAFETY_DIGITS + 1, "%s%s", fb, fa);
	return PIER_E2EE_OK;
}

void pier_e2ee_safety_format(const char digits[PIER_E2EE_SAFETY_DIGITS + 1],
                             char out[PIER_E2EE_SAFETY_SHOWN + 1])
{
	size_t o = 0;

	for (int g = 0; g < 12; g++) {
		if (g > 0)
			out[o++] = ' ';
		memcpy(out + o, digits + g * 5, 5);
		o += 5;
	}
	out[o] = '\0';
}

uint32_t pier_e2ee_approval_code(const uint8_t ak_pub[32], const struct pier_e2ee_peer_keys *dev)
{
	crypto_generichash_state st;
	uint8_t h[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, E2EE_LABEL(LABEL_APPROVE));
	crypto_generichash_update(&st, ak_pub, 32);
	crypto_generichash_update(&st, dev->id, sizeof(dev->id));
	crypto_generichash_update(&st, dev->sign_pub, sizeof(dev->sign_pub));
	crypto_generichash_update(&st, dev->dh_pub, sizeof(dev->dh_pub));
	crypto_generichash_final(&st, h, sizeof(h));
	return e2ee_get_u32(h) % 100000000u;
}

void pier_e2ee_approval_format(uint32_t code, char out[10])
{
	snprintf(out, 10, "%04u %04u", (unsigned)(code / 10000 % 10000), (unsigned)(code % 10000));
}
