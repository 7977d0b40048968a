/* names.c - validation and case folding of user and room names; cleaning of file names. */
#include "names.h"

#include <string.h>

static int is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static enum pier_name_check check_chars(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (!is_name_char((unsigned char)*p))
			return PIER_NAME_BAD_CHAR;
		if (++n > max)
			return PIER_NAME_TOO_LONG;
	}
	return n < min ? PIER_NAME_TOO_SHORT : PIER_NAME_OK;
}

enum pier_name_check pier_name_check(const char *name)
{
	return check_chars(name, PIER_NAME_MIN, PIER_NAME_MAX);
}

enum pier_name_check pier_room_check(const char *room)
{
	if (room[0] != '#')
		return PIER_NAME_BAD_CHAR;
	return check_chars(room + 1, 1, PIER_ROOM_MAX);
}

enum pier_name_check pier_password_check(const char *password)
{
	size_t n = strlen(password);

	if (n < PIER_PASSWORD_MIN)
		return PIER_NAME_TOO_SHORT;
	if (n > PIER_PASSWORD_MAX)
		return PIER_NAME_TOO_LONG;
	return PIER_NAME_OK;
}

void pier_name_key(const char *name, char out[PIER_KEY_MAX])
{
	size_t i = 0;

	for (; name[i] != '\0' && i < PIER_KEY_MAX - 1; i++) {
		char c = name[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[i] = '\0';
}

/* General category Cf (Unicode 15.1), as inclusive ranges. */
static const uint32_t format_ranges[][2] = {
	{0x00AD, 0x00AD}, {0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD},
	{0x070F, 0x070F}, {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x180E, 0x180E},
	{0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064}, {0x2066, 0x206F},
	{0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
	{0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
	{0xE0020, 0xE007F},
};

bool pier_is_format_char(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(format_ranges) / sizeof(format_ranges[0]); i++)
		if (cp >= format_ranges[i][0] && cp <= format_ranges[i][1])
			return true;
	return false;
}

size_t pier_utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp)
{
	size_t len;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		len = 2;
		c = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		len = 3;
		c = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3F);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	*cp = c;
	return len;
}

size_t pier_filename_clean(const char *in, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t avail = strlen(in), o = 0;

	for (size_t i = 0; i < avail;) {
		uint32_t cp = 0;
		size_t len = pier_utf8_decode(p + i, avail - i, &cp);

		if (len == 0) {
			len = 1;            /* a malformed byte: copied, the caller decides */
		} else if (pier_is_format_char(cp)) {
			i += len;
			continue;
		}
		if (o + len > n - 1)
			break;
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return o;
}
