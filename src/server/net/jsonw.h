/* jsonw.h - a JSON writer straight into a shared output buffer (struct sbuf), for the few hot
 * shapes (the msg event, the sent reply) that are not worth a jansson tree. It writes what
 * jansson's json_dumpb(JSON_COMPACT) writes, byte for byte: the same escapes ('"', '\\',
 * \b \f \n \r \t, other control characters as \u00XX with upper-case hex; '/' and non-ASCII
 * as they are), integers in decimal. A string that is not valid UTF-8 (which jansson refuses)
 * marks the writer bad: jsonw_finish then returns NULL and the caller takes the jansson path.
 * The caller writes the punctuation itself (JSONW_LIT), so the shapes stay in plain sight.
 * tests/unit/test_wire_msg.c and fuzz/fuzz_wire_msg.c hold it to jansson's bytes. */
#ifndef PIER_JSONW_H
#define PIER_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "sbuf.h"

/* A writer owns its buffer until jsonw_finish or jsonw_discard. */
struct jsonw {
	struct sbuf *b;      /* b->len: bytes written so far */
	size_t cap;          /* bytes b->data can hold */
	bool bad;            /* a string was not UTF-8, or a value could not be encoded */
};

/* Starts a writer with room for about hint bytes (it grows as needed). Aborts on
 * out-of-memory, like every allocation of pierd. */
void jsonw_init(struct jsonw *w, size_t hint);
/* Room for n more bytes (grows the buffer); where they go. */
char *jsonw_reserve(struct jsonw *w, size_t n);
/* n bytes as they are (punctuation, keys: the caller's own valid JSON). Inline: a shape is
 * mostly short literals, which the compiler then copies without a call. */
static inline void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	memcpy(jsonw_reserve(w, n), s, n);
	w->b->len += n;
}
#define JSONW_LIT(w, lit) jsonw_raw((w), (lit), sizeof(lit) - 1)
/* A JSON string of the C string s, quoted and escaped (NULL: the writer goes bad). */
void jsonw_str(struct jsonw *w, const char *s);
/* A JSON string of the n bytes at s (which may hold NUL: written \u0000, as jansson does). */
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
/* A JSON integer. */
void jsonw_int(struct jsonw *w, int64_t v);
/* Any jansson value, as json_dumpb(JSON_COMPACT | JSON_ENCODE_ANY) writes it (for the rare
 * parts of a shape: a request's ref of another type, a stored array). */
void jsonw_json(struct jsonw *w, const json_t *v);
/* Appends '\n' and hands over the buffer (one reference), or frees it and returns NULL when
 * the writer went bad. */
struct sbuf *jsonw_finish(struct jsonw *w);
/* Frees the buffer. */
void jsonw_discard(struct jsonw *w);

/* True when the n bytes at s are UTF-8 as jansson accepts it (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool jsonw_is_utf8(const char *s, size_t n);

#endif
