/* fuzz_disposition.c - libFuzzer harness: the two ways a file's name comes with POST
 * /api/media, Content-Disposition (http_field_disposition_name) and ?name=
 * (http_field_query_param), into an output buffer of every size, then media_clean_name.
 *
 * Input: the first byte picks the buffer's size (1..128, or the 766 bytes media_http.c
 * gives) and which parser reads the rest (cut at a NUL: http-parser never gives one).
 *
 * Checked: nothing is written past the buffer (it is allocated to its size, for ASan); a
 * name found is NUL-terminated inside it, and a Content-Disposition name is never empty;
 * the clean name is safe (check_name.h: valid UTF-8, no '/', control or bidi characters,
 * 1..255 bytes, cleaning again changes nothing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_name.h"
#include "http_fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME_BUF (STORE_MEDIA_NAME_MAX * 3 + 1)    /* media_http.c's raw name */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	char *h, *out;
	bool found;

	if (size < 1)
		return 0;
	n = (data[0] & 0x7f) == 0x7f ? NAME_BUF : (size_t)(data[0] & 0x7f) + 1;
	h = malloc(size);
	out = malloc(n);
	if (h == NULL || out == NULL)
		abort();
	memcpy(h, data + 1, size - 1);
	h[size - 1] = '\0';
	if (data[0] & 0x80) {
		found = http_field_query_param(h, "name", out, n);
		if (found && strnlen(out, n) == n)
			abort();
	} else {
		found = http_field_disposition_name(h, out, n);
		if (found && (strnlen(out, n) == n || out[0] == '\0'))
			abort();
	}
	check_clean_name(found ? out : "file");
	check_clean_name(h);             /* the raw bytes too: a name may be anything */
	free(out);
	free(h);
	return 0;
}
