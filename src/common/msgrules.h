/* msgrules.h - rules for what a message carries besides its text, shared by server and
 * clients: the @name tokens (mentions) a text holds, what a reaction may be, and the kind of
 * a media file. Pure functions: no allocation, no I/O. docs/PROTOCOL.md ("Mentions",
 * "Reactions") is the contract. */
#ifndef PIER_MSGRULES_H
#define PIER_MSGRULES_H

#include <stdbool.h>
#include <stddef.h>

#define PIER_MENTIONS_MAX        20   /* mentions one message stores; later ones are ignored */
#define PIER_REACTION_MAX_BYTES  32   /* bytes of one reaction (an emoji, maybe a sequence) */
#define PIER_REACTION_MAX_CHARS  10   /* code points of one reaction */

/* Called for each @name token: name (len bytes, not NUL-terminated, inside the text) is a
 * valid user name; alt_len is the length of the same token without its trailing '.'s when
 * that is a valid name too and differs ("@bob_22." at the end of a sentence), else 0. Return
 * false to stop the scan. */
typedef bool pier_mention_fn(void *ud, const char *name, size_t len, size_t alt_len);

/* Calls fn for every @name token of text, in order: an '@' (or the full-width U+FF20 that
 * Chinese input methods type) at the start of the text or after a character that cannot be
 * part of a name (so "mail@example.org" is no mention), followed by 6-32 name characters
 * [A-Za-z0-9_.-] and then by anything that is not one. At most max tokens are reported.
 * Returns how many were. */
size_t pier_mentions_scan(const char *text, size_t max, pier_mention_fn *fn, void *ud);

/* True if s may be a reaction: 1 to PIER_REACTION_MAX_BYTES bytes of well-formed UTF-8, at
 * most PIER_REACTION_MAX_CHARS code points, without control characters (C0, DEL, C1), without
 * white space, and without format characters (bidi controls, zero-width spaces...) other than
 * the ones emoji sequences are made of: the zero-width joiner U+200D and the tags
 * U+E0020-U+E007F (subdivision flags). Variation selectors and the keycap U+20E3 are fine. */
bool pier_reaction_check(const char *s);

/* The kind of a media file of MIME type type: "image", "video" or "audio" by its top-level
 * type, else "file". pierd checks a send's kind against it; a client that encrypts a file
 * (pierd never sees its type) names the kind with it. */
const char *pier_media_kind_for_type(const char *type);

#endif
