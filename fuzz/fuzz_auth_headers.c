/* fuzz_auth_headers.c - libFuzzer harness: the credentials of HTTP requests,
 * "Authorization: Bearer TOKEN" (http_field_bearer) and the pier_session cookie
 * (http_field_cookie), read into a token buffer of every size.
 *
 * Input: the first byte picks the buffer's size (1..128; 64 is media.c's, a token of 63
 * bytes); the rest is the header value (cut at a NUL: http-parser never gives one), read by
 * both parsers.
 *
 * Checked: a token fits its buffer (allocated to its size, for ASan) and is NUL-terminated
 * there; a found token is not empty and is what the header carries: the Bearer token is the
 * header's tail after the scheme and its blanks, the cookie's value follows
 * "pier_session=" in the header, has no ';' and no trailing blank; a token that does not
 * fit is refused (-1) with an empty buffer, never cut. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COOKIE "pier_session"

static void check_bearer(const char *h, char *out, size_t n)
{
	int rc = http_field_bearer(h, out, n);
	const char *t;

	if (rc == 0)
		return;
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		abort();                 /* found in another scheme */
	for (t = h + 6; *t == ' ' || *t == '\t'; t++)
		;
	if (rc == 1) {
		if (strnlen(out, n) == n || out[0] == '\0' || strcmp(out, t) != 0)
			abort();
	} else if (rc != -1 || out[0] != '\0' || strlen(t) < n) {
		abort();                 /* refused though it fits, or not emptied */
	}
}

static void check_cookie(const char *h, char *out, size_t n)
{
	int rc = http_field_cookie(h, COOKIE, out, n);
	char *want;
	size_t len;

	if (rc == 0)
		return;
	if (rc == -1) {
		if (out[0] != '\0' || strstr(h, COOKIE "=") == NULL)
			abort();
		return;
	}
	len = strnlen(out, n);
	if (rc != 1 || len == n || len == 0 || strchr(out, ';') != NULL ||
	    out[len - 1] == ' ' || out[len - 1] == '\t')
		abort();
	want = malloc(sizeof(COOKIE "=") + len);
	if (want == NULL)
		abort();
	memcpy(want, COOKIE "=", sizeof(COOKIE "=") - 1);
	memcpy(want + sizeof(COOKIE "=") - 1, out, len + 1);
	if (strstr(h, want) == NULL)
		abort();                 /* not the header's */
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	char *h, *out;

	if (size < 1)
		return 0;
	n = (size_t)(data[0] & 0x7f) + 1;
	h = malloc(size);
	out = malloc(n);
	if (h == NULL || out == NULL)
		abort();
	memcpy(h, data + 1, size - 1);
	h[size - 1] = '\0';
	check_bearer(h, out, n);
	check_cookie(h, out, n);
	if (http_field_bearer(NULL, out, n) != 0 || http_field_cookie(NULL, COOKIE, out, n) != 0)
		abort();
	free(out);
	free(h);
	return 0;
}
