/* check_name.h - the invariant of every file name that enters pierd, for the harnesses of the
 * parsers that read one (fuzz_disposition.c, fuzz_tus_headers.c): whatever the client sent,
 * media_clean_name makes a name that is valid UTF-8 (jansson's check, as media_json needs),
 * 1..STORE_MEDIA_NAME_MAX bytes, holds no '/', '\', control, format or bidi control
 * character, is not "." or "..", and cleaning it again changes nothing. Aborts otherwise.
 * Header only (one static function). */
#ifndef PIER_CHECK_NAME_H
#define PIER_CHECK_NAME_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "media_internal.h"
#include "names.h"

static void check_clean_name(const char *raw)
{
	char name[STORE_MEDIA_NAME_MAX + 1], again[STORE_MEDIA_NAME_MAX + 1];
	const unsigned char *p = (const unsigned char *)name;
	size_t len;
	json_t *j;

	memset(name, 0x55, sizeof(name));
	media_clean_name(raw, name, sizeof(name));
	len = strnlen(name, sizeof(name));
	if (len == 0 || len > STORE_MEDIA_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		abort();
	j = json_string(name);       /* NULL when not UTF-8 */
	if (j == NULL)
		abort();
	json_decref(j);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n;

		/* Valid UTF-8 (checked above): the lead byte says the length. */
		if (p[i] < 0x80) {
			cp = p[i];
			n = 1;
		} else if (p[i] < 0xe0) {
			cp = p[i] & 0x1fu;
			n = 2;
		} else if (p[i] < 0xf0) {
			cp = p[i] & 0x0fu;
			n = 3;
		} else {
			cp = p[i] & 0x07u;
			n = 4;
		}
		for (size_t k = 1; k < n; k++)
			cp = (cp << 6) | (p[i + k] & 0x3fu);
		if (cp < 0x20 || cp == 0x7f || cp == '/' || cp == '\\' || pier_is_format_char(cp))
			abort();
		i += n;
	}
	media_clean_name(name, again, sizeof(again));
	if (strcmp(name, again) != 0)
		abort();                 /* cleaning is idempotent */
}

#endif
