/* msgrules.c - @mentions in a text and the reaction rule (msgrules.h). */
#include "msgrules.h"

#include <stdint.h>
#include <string.h>

#include "names.h"

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* The length of the mention mark at p: 1 for '@', 3 for U+FF20 (EF BC A0), else 0. */
static size_t at_sign(const unsigned char *p)
{
	if (p[0] == '@')
		return 1;
	if (p[0] == 0xEF && p[1] == 0xBC && p[2] == 0xA0)
		return 3;
	return 0;
}

static bool valid_len(size_t n)
{
	return n >= PIER_NAME_MIN && n <= PIER_NAME_MAX;
}

size_t pier_mentions_scan(const char *text, size_t max, pier_mention_fn *fn, void *ud)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t found = 0, i = 0;

	while (p[i] != '\0' && found < max) {
		size_t mark = at_sign(p + i), start, end, alt;

		/* After a name character the '@' belongs to something else (an e-mail address). */
		if (mark == 0 || (i > 0 && is_name_char(p[i - 1]))) {
			i++;
			continue;
		}
		start = end = i + mark;
		while (is_name_char(p[end]))
			end++;
		alt = end;
		while (alt > start && p[alt - 1] == '.')
			alt--;
		i = end;
		if (!valid_len(end - start) && !valid_len(alt - start))
			continue;
		found++;
		if (!valid_len(end - start)) {
			if (!fn(ud, text + start, alt - start, 0))
				break;
		} else if (!fn(ud, text + start, end - start,
		               alt != end && valid_len(alt - start) ? alt - start : 0)) {
			break;
		}
	}
	return found;
}

static bool is_space(uint32_t cp)
{
	return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

bool pier_reaction_check(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t bytes = 0, chars = 0;

	if (s == NULL || s[0] == '\0' || strlen(s) > PIER_REACTION_MAX_BYTES)
		return false;
	while (p[bytes] != '\0') {
		uint32_t cp;
		size_t len = pier_utf8_decode(p + bytes, SIZE_MAX, &cp);

		if (len == 0 || ++chars > PIER_REACTION_MAX_CHARS || is_control(cp) || is_space(cp))
			return false;
		if (pier_is_format_char(cp) && cp != 0x200D && !(cp >= 0xE0020 && cp <= 0xE007F))
			return false;
		bytes += len;
	}
	return true;
}

const char *pier_media_kind_for_type(const char *type)
{
	if (strncmp(type, "image/", 6) == 0)
		return "image";
	if (strncmp(type, "video/", 6) == 0)
		return "video";
	if (strncmp(type, "audio/", 6) == 0)
		return "audio";
	return "file";
}
