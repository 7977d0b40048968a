/* fuzz_tus_headers.c - libFuzzer harness: what tus.c reads of a request, one parser per
 * input: Upload-Offset / Upload-Length (http_field_uint), Upload-Metadata
 * (http_field_tus_metadata: libsodium's base64, into a buffer of every size, then the name
 * cleaned as tus_create does), Tus-Resumable and the /api/tus/KEY path.
 *
 * Input: the first byte picks the parser (low 2 bits) and the metadata buffer's size (the
 * rest: 1..64, or the 766 bytes tus.c gives); the rest is the header value or path (cut at a
 * NUL: http-parser never gives one).
 *
 * Checked: a number is exactly the value of a header that is digits then blanks and fits
 * int64 (strtoll's reading), and -1 for every other header; a metadata value fits its buffer
 * (allocated to its size, for ASan), is NUL-terminated there, is never longer than 3/4 of
 * the header, and the name made of it is safe (check_name.h); a key of a path is 32
 * lowercase hex digits at the end of "/api/tus/". */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_name.h"
#include "http_fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME_BUF (STORE_MEDIA_NAME_MAX * 3 + 1)    /* tus.c's raw name */

static void check_uint(const char *v)
{
	int64_t got = http_field_uint(v);
	size_t digits = strspn(v, "0123456789");
	bool shape = digits > 0 && v[digits + strspn(v + digits, " \t")] == '\0';
	long long want = -1;

	if (shape) {
		char *end;

		errno = 0;
		want = strtoll(v, &end, 10);
		if (errno != 0)
			want = -1;
	}
	if (got != want)
		abort();
}

static void check_metadata(const char *h, size_t n)
{
	static const char *const keys[] = { "filename", "name", "filetype", "type" };
	char *out = malloc(n);

	if (out == NULL)
		abort();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t len;

		if (!http_field_tus_metadata(h, keys[i], out, n))
			continue;
		len = strnlen(out, n);
		if (len == n || len > strlen(h) * 3 / 4)
			abort();
		if (i < 2)
			check_clean_name(out);
	}
	free(out);
}

static void check_path(const char *path)
{
	const char *key = NULL;
	int rc = http_field_tus_path(path, &key);

	if (rc == 0 && strcmp(path, "/api/tus") != 0 && strcmp(path, "/api/tus/") != 0)
		abort();
	if (rc == 1 && (key != path + 9 || strncmp(path, "/api/tus/", 9) != 0 ||
	                strlen(key) != HTTP_TUS_KEY_LEN ||
	                strspn(key, "0123456789abcdef") != HTTP_TUS_KEY_LEN))
		abort();
	if (rc != 1 && key != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	char *h;

	if (size < 1)
		return 0;
	n = (data[0] >> 2) == 0x3f ? NAME_BUF : (size_t)(data[0] >> 2) + 1;
	h = malloc(size);
	if (h == NULL)
		abort();
	memcpy(h, data + 1, size - 1);
	h[size - 1] = '\0';
	switch (data[0] & 3) {
	case 0:
		check_uint(h);
		break;
	case 1:
		check_metadata(h, n);
		break;
	case 2:
		if (http_field_tus_resumable(h) != (strcmp(h, "1.0.0") == 0))
			abort();
		break;
	default:
		check_path(h);
		break;
	}
	free(h);
	return 0;
}
