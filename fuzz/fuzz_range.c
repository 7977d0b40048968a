/* fuzz_range.c - libFuzzer harness: Range headers (http_field_range, net/http_fields.c)
 * against file sizes.
 *
 * Input: the first byte picks the size (top bit set: a small size, the next byte, 0..255;
 * else the next 8 bytes, little-endian, as a non-negative int64); the rest is the header
 * (cut at a NUL: http-parser never gives one).
 *
 * Checked: a part lies inside the file (0 <= first <= last <= size-1); an empty file has no
 * part; "bytes=-N" ends at the last byte; whether a Range is ignored (HTTP_RANGE_NONE)
 * depends on its text only, never on the size (checked against sizes 0, 1 and INT64_MAX);
 * nothing is written for an answer other than a part. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNSET (-12345)

static enum http_range check(const char *h, int64_t fsize)
{
	int64_t a = UNSET, b = UNSET;
	enum http_range rc = http_field_range(h, fsize, &a, &b);
	const char *spec;

	switch (rc) {
	case HTTP_RANGE_PART:
		if (fsize == 0 || a < 0 || a > b || b > fsize - 1)
			abort();
		for (spec = h + 6; *spec == ' '; spec++)   /* a part has "bytes=" */
			;
		if (*spec == '-' && b != fsize - 1)
			abort();             /* a suffix ends at the end */
		break;
	case HTTP_RANGE_NONE:
	case HTTP_RANGE_UNSATISFIABLE:
		if (a != UNSET || b != UNSET)
			abort();
		break;
	default:
		abort();
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t u = 0;
	size_t off;
	int64_t fsize;
	char *h;
	enum http_range rc;

	if (size < 2)
		return 0;
	if (data[0] & 0x80) {
		fsize = data[1];
		off = 2;
	} else {
		if (size < 9)
			return 0;
		for (int i = 8; i >= 1; i--)
			u = (u << 8) | data[i];
		fsize = (int64_t)(u & (uint64_t)INT64_MAX);
		off = 9;
	}
	h = malloc(size - off + 1);
	if (h == NULL)
		return 0;
	memcpy(h, data + off, size - off);
	h[size - off] = '\0';
	rc = check(h, fsize);
	if ((rc == HTTP_RANGE_NONE) != (check(h, 0) == HTTP_RANGE_NONE) ||
	    (rc == HTTP_RANGE_NONE) != (check(h, 1) == HTTP_RANGE_NONE) ||
	    (rc == HTTP_RANGE_NONE) != (check(h, INT64_MAX) == HTTP_RANGE_NONE))
		abort();                     /* ignoring a Range depends on its text only */
	if (check(NULL, fsize) != HTTP_RANGE_NONE)
		abort();
	free(h);
	return 0;
}
