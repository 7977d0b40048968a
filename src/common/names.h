/* names.h - the rules for user names, room names and passwords, shared by server and clients. */
#ifndef PIER_NAMES_H
#define PIER_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIER_NAME_MIN      6    /* the report: 5 characters or fewer is "too short" */
#define PIER_NAME_MAX      32
#define PIER_PASSWORD_MIN  6
#define PIER_PASSWORD_MAX  1024 /* bytes; longer passwords are refused, not truncated */
#define PIER_ROOM_MAX      32   /* characters after the '#' */
#define PIER_KEY_MAX       (PIER_NAME_MAX + 2) /* room key "#name" or user key, plus NUL */

enum pier_name_check {
	PIER_NAME_OK = 0,
	PIER_NAME_TOO_SHORT,   /* fewer than PIER_NAME_MIN characters (register status 4) */
	PIER_NAME_TOO_LONG,    /* more than PIER_NAME_MAX characters */
	PIER_NAME_BAD_CHAR     /* a character outside [A-Za-z0-9_.-] */
};

/* Checks a user name: 6-32 of letters, digits, '_', '-', '.'. */
enum pier_name_check pier_name_check(const char *name);

/* Checks a room name including its leading '#': '#' then 1-32 of [A-Za-z0-9_.-]. */
enum pier_name_check pier_room_check(const char *room);

/* Checks a password's length in bytes: PIER_NAME_TOO_SHORT (<6), PIER_NAME_TOO_LONG (>1024). */
enum pier_name_check pier_password_check(const char *password);

/* Writes the case-folded key of a valid user or room name into out (ASCII lower case).
 * out must hold PIER_KEY_MAX bytes. Names are unique by key ("Alice" and "alice" collide). */
void pier_name_key(const char *name, char out[PIER_KEY_MAX]);

/* True if code point cp is a Unicode format character (general category Cf: the bidi
 * embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, the marks U+200E,
 * U+200F, U+061C, zero-width U+200B-U+200D, U+2060-U+2064, U+FEFF, tags...). */
bool pier_is_format_char(uint32_t cp);

/* Copies the file name in to out (n bytes with the NUL, n >= 1) without its format and bidi
 * control characters, so that no name can reorder the text around it ("U+202E gpj.exe" would
 * show as "exe.jpg"). Well-formed UTF-8 sequences are decoded and dropped when they are
 * pier_is_format_char; every other byte (ASCII, other characters, malformed bytes) is copied
 * as it is: making the rest of the name safe is the caller's business. Give it valid UTF-8:
 * malformed bytes on both sides of a dropped character join into a new sequence, which can
 * be a format character again ("\xE2" U+202E "\x80\xAE" leaves U+202E). A name longer than
 * n-1 is cut at a character boundary. Returns the length written. Pure: no allocation. */
size_t pier_filename_clean(const char *in, char *out, size_t n);

/* Decodes one well-formed UTF-8 sequence at p (at most avail bytes; a NUL ends a sequence
 * too): its length, or 0 if malformed (overlong forms, surrogates, past U+10FFFF). */
size_t pier_utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp);

#endif
