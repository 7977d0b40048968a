/* pier_e2ee_b64.c - base64url without padding, the encoding of every binary value of the
 * end-to-end encryption ops (docs/E2EE.md "Encoding"), on libsodium's codec. */
#include "pier_e2ee.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xalloc.h"

#define VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

char *pier_b64_encode(const void *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, VARIANT);
	char *s = xmalloc(n);

	sodium_bin2base64(s, n, bin, len, VARIANT);
	return s;
}

unsigned char *pier_b64_decode(const char *s, size_t *len)
{
	size_t slen, max, n = 0;
	const char *end = NULL;
	unsigned char *bin;

	*len = 0;
	if (s == NULL)
		return NULL;
	slen = strlen(s);
	max = slen / 4 * 3 + 3;
	bin = xmalloc(max);
	if (sodium_base642bin(bin, max, s, slen, NULL, &n, &end, VARIANT) != 0 ||
	    end != s + slen) {
		free(bin);
		return NULL;
	}
	*len = n;
	return bin;
}

int pier_b64_decode_fixed(const char *s, void *out, size_t len)
{
	size_t n = 0;
	unsigned char *bin = pier_b64_decode(s, &n);
	int rc = -1;

	if (bin != NULL && n == len) {
		memcpy(out, bin, len);
		rc = 0;
	}
	if (bin != NULL) {
		sodium_memzero(bin, n);
		free(bin);
	}
	return rc;
}
