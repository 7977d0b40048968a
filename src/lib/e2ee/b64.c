/* b64.c - base64url without padding (libsodium's codec), the encoding of every binary value
 * of docs/E2EE.md in JSON. */
#include "e2ee.h"

#include <string.h>

#include <stdlib.h>

#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

json_t *pier_e2ee_b64_json(const uint8_t *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, B64_VARIANT);
	char *s = malloc(n);
	json_t *j;

	if (s == NULL)
		return NULL;
	sodium_bin2base64(s, n, bin, len, B64_VARIANT);
	j = json_string(s);
	free(s);
	return j;
}

int pier_e2ee_b64_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	const char *end = NULL;
	size_t slen;

	if (s == NULL)      /* a missing JSON field (json_string_value gives NULL) */
		return PIER_E2EE_ERR_FORMAT;
	slen = strlen(s);
	/* sodium_base642bin stops early without an error on a bad character when end is
	 * given: demand that everything was read. */
	if (sodium_base642bin(out, cap, s, slen, NULL, len, &end, B64_VARIANT) != 0 ||
	    end != s + slen)
		return PIER_E2EE_ERR_FORMAT;
	return PIER_E2EE_OK;
}

int pier_e2ee_b64_decode_exact(const char *s, uint8_t *out, size_t n)
{
	size_t len;

	if (pier_e2ee_b64_decode(s, out, n, &len) != PIER_E2EE_OK || len != n)
		return PIER_E2EE_ERR_FORMAT;
	return PIER_E2EE_OK;
}

int pier_e2ee_json_bytes(const json_t *obj, const char *key, uint8_t *out, size_t n)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s == NULL)
		return PIER_E2EE_ERR_FORMAT;
	return pier_e2ee_b64_decode_exact(s, out, n);
}

int pier_e2ee_json_set_bytes(json_t *obj, const char *key, const uint8_t *bin, size_t len)
{
	json_t *v = pier_e2ee_b64_json(bin, len);

	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return PIER_E2EE_ERR_LIMIT;
	return PIER_E2EE_OK;
}
