/* display.h - the Unicode rules of display names and room topics (ICU: NFC, general
 * categories, UTS #39 spoof checks), and the index of login names that a display name may
 * not look like. Pure: no server, no I/O; tests/unit/test_display.c drives it alone.
 *
 * A display name (docs/PROTOCOL.md, profile) is, after NFC normalization and trimming the
 * spaces at its ends: 1 to DISPLAY_CHARS_MAX code points of letters (L*), combining marks
 * (Mn, Mc), decimal digits (Nd), single spaces (U+0020, U+3000 between other characters) and
 * the joiners - _ . ' U+00B7 U+30FB; no controls, no format or bidi characters; not mixing
 * scripts past UTS #39's "moderately restrictive" level (Latin with Cyrillic or Greek, say),
 * no digits of two numbering systems, no invisible sequences (a mark twice, a dot hidden on
 * an i); and its UTS #39 skeleton (its confusable prototype) is not that of another user's
 * login name, so that nobody can show as "bob_22" (or "bоb_22" with a Cyrillic o) but bob_22.
 *
 * A topic is any text but controls, bidi and other format characters (U+200D, the zero
 * width joiner of emoji sequences, is allowed), unassigned or private-use code points, line
 * and paragraph separators; NFC; at most DISPLAY_TOPIC_BYTES bytes.
 *
 * Memory: struct display_rules is the caller's (display_rules_new/_free); the outputs are
 * written into the caller's buffers.
 */
#ifndef PIER_DISPLAY_H
#define PIER_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>

#define DISPLAY_CHARS_MAX   32      /* code points of a display name */
#define DISPLAY_INPUT_MAX   512     /* bytes of a display name as sent (refused past it, unread) */
#define DISPLAY_BYTES_MAX   (DISPLAY_CHARS_MAX * 4)   /* bytes of a valid one, in UTF-8 */
#define DISPLAY_TOPIC_BYTES 256     /* bytes of a topic (UTF-8, after NFC) */
#define DISPLAY_TOPIC_INPUT 1024    /* bytes of a topic as sent (refused past it, unread) */

/* Why a display name or topic was refused: its wire "reason" is display_reason(). */
enum display_verdict {
	DISPLAY_OK,
	DISPLAY_EMPTY,          /* nothing but spaces */
	DISPLAY_TOO_LONG,       /* over the code point or byte limit */
	DISPLAY_BAD_UTF8,       /* not UTF-8, or a NUL */
	DISPLAY_CONTROL,        /* a control character (Cc, line or paragraph separator) */
	DISPLAY_FORMAT,         /* a format or bidi control (Cf): U+202E, U+200B, ... */
	DISPLAY_CHAR,           /* a character a name may not hold (symbol, emoji, punctuation,
	                         * unassigned, private use) */
	DISPLAY_SPACES,         /* two spaces in a row */
	DISPLAY_MIXED_SCRIPT,   /* scripts mixed past UTS #39 "moderately restrictive" */
	DISPLAY_MIXED_NUMBERS,  /* digits of two numbering systems */
	DISPLAY_INVISIBLE,      /* a mark repeated, a combining dot hidden on i/j/l */
	DISPLAY_LOOKS_LIKE_USER /* confusable with another user's login name */
};

struct display_rules;

/* NULL when ICU cannot make its spoof checker (logged by the caller). */
struct display_rules *display_rules_new(void);
void display_rules_free(struct display_rules *dr);

/* The wire name of a verdict ("control", "bidi"...); "ok" for DISPLAY_OK. */
const char *display_reason(enum display_verdict v);

/* Checks display name in (len bytes, which may hold a NUL: refused) for the user whose login
 * name is self (its own handle may be its display name). On DISPLAY_OK, out (at least
 * DISPLAY_BYTES_MAX + 1 bytes) holds the NFC form, trimmed. */
enum display_verdict display_name_clean(struct display_rules *dr, const char *in, size_t len,
                                        const char *self, char *out);

/* Checks topic in (len bytes). On DISPLAY_OK out (at least DISPLAY_TOPIC_BYTES + 1 bytes) holds
 * the NFC form, spaces at the ends trimmed; it may be empty (no topic). */
enum display_verdict display_topic_clean(struct display_rules *dr, const char *in, size_t len,
                                         char *out);

/* Adds a login name to the index display names are checked against (at start, at register). */
void display_rules_add_user(struct display_rules *dr, const char *name);

/* For tests: whether the per-character table gives login name the same skeletons as ICU
 * (false too when the table cannot be used: then ICU alone is). */
bool display_name_keys_agree(struct display_rules *dr, const char *name);

#endif
