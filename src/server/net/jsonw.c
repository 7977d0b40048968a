/* jsonw.c - JSON written straight into an output buffer, byte-equal to jansson's compact
 * encoding (jsonw.h). */
#include "jsonw.h"

#include <string.h>

#include "sbuf.h"
#include "xalloc.h"

#define JSONW_MIN_CAP 64

void jsonw_init(struct jsonw *w, size_t hint)
{
	w->cap = hint < JSONW_MIN_CAP ? JSONW_MIN_CAP : hint;
	w->b = sbuf_new(w->cap);
	w->b->len = 0;
	w->bad = false;
}

/* Out of line: the usual message fits the first guess. */
static char *grow(struct jsonw *w, size_t need)
{
	size_t cap = w->cap * 2;

	if (cap < need)
		cap = need;
	w->b = xrealloc(w->b, sizeof(*w->b) + cap);
	w->cap = cap;
	return w->b->data + w->b->len;
}

char *jsonw_reserve(struct jsonw *w, size_t n)
{
	size_t need = w->b->len + n;

	if (need > w->cap)
		return grow(w, need);
	return w->b->data + w->b->len;
}

/* The length of the UTF-8 sequence starting at s (at most n bytes there), 0 when it is not
 * one jansson accepts (its utf8_check_first / utf8_check_full). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	uint32_t cp;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c < 0xC2)          /* a continuation byte, or an overlong 2-byte start */
		return 0;
	if (c < 0xE0) {
		len = 2;
		cp = c & 0x1F;
	} else if (c < 0xF0) {
		len = 3;
		cp = c & 0x0F;
	} else if (c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

bool jsonw_is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t k = p[i] < 0x80 ? 1 : utf8_seq(p + i, n - i);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

/* The escape of byte c, or NULL when it goes out as it is. */
static const char *escape_of(unsigned char c, char tmp[7])
{
	static const char hex[] = "0123456789ABCDEF";

	switch (c) {
	case '"':  return "\\\"";
	case '\\': return "\\\\";
	case '\b': return "\\b";
	case '\f': return "\\f";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	default:
		break;
	}
	if (c >= 0x20)
		return NULL;
	memcpy(tmp, "\\u00", 4);
	tmp[4] = hex[c >> 4];
	tmp[5] = hex[c & 15];
	tmp[6] = '\0';
	return tmp;
}

/* Bytes a string cannot hold as they are: 1 for '"', '\\' and the control characters
 * (escaped), 2 for the start of a multi-byte UTF-8 sequence (checked). */
static const unsigned char byte_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
	[0x80] = 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

void jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	char tmp[7];

	/* The usual text needs no escape: one reserve, then copy runs. */
	jsonw_reserve(w, n + 2);
	w->b->data[w->b->len++] = '"';
	while (i < n) {
		const char *esc;

		while (i < n && byte_class[p[i]] == 0)
			i++;
		if (i == n)
			break;
		if (byte_class[p[i]] == 2) {
			size_t k = utf8_seq(p + i, n - i);

			if (k == 0) {
				w->bad = true;
				return;
			}
			i += k;
			continue;
		}
		/* Flush the run before it, then the escape. */
		jsonw_raw(w, s + run, i - run);
		esc = escape_of(p[i], tmp);
		jsonw_raw(w, esc, strlen(esc));
		run = ++i;
	}
	jsonw_raw(w, s + run, n - run);
	jsonw_raw(w, "\"", 1);
}

void jsonw_str(struct jsonw *w, const char *s)
{
	if (s == NULL) {         /* json_string(NULL) is no string either */
		w->bad = true;
		return;
	}
	jsonw_strn(w, s, strlen(s));
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p = end;
	/* As unsigned: INT64_MIN has no positive twin. */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jsonw_raw(w, p, (size_t)(end - p));
}

void jsonw_json(struct jsonw *w, const json_t *v)
{
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
	size_t room = w->cap - w->b->len;
	size_t n = v != NULL ? json_dumpb(v, w->b->data + w->b->len, room, flags) : 0;

	if (n == 0) {           /* jansson could not encode it (or nothing to encode) */
		w->bad = true;
		return;
	}
	if (n > room) {         /* did not fit: again, with the room it said it needs */
		jsonw_reserve(w, n);
		json_dumpb(v, w->b->data + w->b->len, n, flags);
	}
	w->b->len += n;
}

struct sbuf *jsonw_finish(struct jsonw *w)
{
	struct sbuf *b;

	if (w->bad) {
		jsonw_discard(w);
		return NULL;
	}
	jsonw_raw(w, "\n", 1);
	b = w->b;
	w->b = NULL;
	return b;
}

void jsonw_discard(struct jsonw *w)
{
	sbuf_unref(w->b);
	w->b = NULL;
}
