/* names.c - validation and case folding of user and room names. */
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
