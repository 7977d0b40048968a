/* fastreq.c - the hot requests decoded without a JSON tree (fastreq.h).
 *
 * A grammar much smaller than JSON's: one object of known keys whose values are strings, a
 * positive integer, or (e2ee) one object of known keys holding a string and an array of
 * objects of two strings. Every rule below is jansson 2.14's (load.c, utf.c) restricted to that
 * subset, so what is accepted here parses there to the same values; what is not, declines.
 */
#include "fastreq.h"

#include <string.h>

enum key {
	K_OP, K_REF, K_TO, K_TEXT, K_CID, K_REPLY_TO, K_MEDIA, K_E2EE,   /* the request's */
	K_PAYLOAD, K_KEYS,                                               /* e2ee's */
	K_DEVICE, K_BODY,                                                /* an envelope's */
	K_COUNT
};

static const struct {
	const char *name;
	size_t len;
} key_names[K_COUNT] = {
	[K_OP] = {"op", 2},
	[K_REF] = {"ref", 3},
	[K_TO] = {"to", 2},
	[K_TEXT] = {"text", 4},
	[K_CID] = {"cid", 3},
	[K_REPLY_TO] = {"reply_to", 8},
	[K_MEDIA] = {"media", 5},
	[K_E2EE] = {"e2ee", 4},
	[K_PAYLOAD] = {"payload", 7},
	[K_KEYS] = {"keys", 4},
	[K_DEVICE] = {"device", 6},
	[K_BODY] = {"body", 4},
};

/* The keys ping may have; send may have all of the request's (but text with e2ee). */
#define PING_KEYS ((1u << K_OP) | (1u << K_REF))
#define SEND_KEYS ((1u << K_PAYLOAD) - 1)
#define E2EE_KEYS ((1u << K_PAYLOAD) | (1u << K_KEYS))
#define ENVELOPE_KEYS ((1u << K_DEVICE) | (1u << K_BODY))

/* 18 digits always fit an int64_t (jansson's json_int_t): no overflow to mirror. */
#define COUNT_DIGITS_MAX 18

struct cursor {
	const unsigned char *p, *end;
	struct fastreq *fr;
};

/* JSON's whitespace, as jansson's lexer skips it. */
static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* Skips whitespace, then ch if it is next. */
static bool eat(struct cursor *c, unsigned char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* The key at c->p, or K_COUNT for one not known. Known keys are lower-case ASCII, digits and
 * '_': a key holding anything else (an escape too) is no key of ours, whatever it decodes to. */
static enum key scan_key(struct cursor *c)
{
	const unsigned char *start;
	size_t n;

	if (c->p >= c->end || *c->p != '"')
		return K_COUNT;
	start = ++c->p;
	while (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') || *c->p == '_' ||
	                         (*c->p >= '0' && *c->p <= '9')))
		c->p++;
	if (c->p >= c->end || *c->p != '"')
		return K_COUNT;
	n = (size_t)(c->p - start);
	c->p++;
	for (int k = 0; k < K_COUNT; k++)
		if (key_names[k].len == n && memcmp(key_names[k].name, start, n) == 0)
			return (enum key)k;
	return K_COUNT;
}

/* The length of the UTF-8 sequence at p (first byte >= 0x80), or 0 when it is not one jansson
 * takes (utf8_check_first/full): no stray continuation byte, no overlong form, no surrogate,
 * nothing above U+10FFFF, nothing cut by end. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	uint32_t v;
	size_t n;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	if (n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)))
		return 0;
	if (n == 4 && (v < 0x10000 || v > 0x10FFFF))
		return 0;
	return n;
}

/* The value of 4 hex digits at p (there are 4 bytes), or -1. */
static int32_t hex4(const unsigned char *p)
{
	int32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char h = p[i];

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= h - '0';
		else if (h >= 'a' && h <= 'f')
			v |= h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			v |= h - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Writes code point v (a scalar value, not 0) as UTF-8; its length. */
static size_t put_utf8(char *o, uint32_t v)
{
	if (v < 0x80) {
		o[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		o[0] = (char)(0xC0 | v >> 6);
		o[1] = (char)(0x80 | (v & 0x3F));
		return 2;
	}
	if (v < 0x10000) {
		o[0] = (char)(0xE0 | v >> 12);
		o[1] = (char)(0x80 | (v >> 6 & 0x3F));
		o[2] = (char)(0x80 | (v & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | v >> 18);
	o[1] = (char)(0x80 | (v >> 12 & 0x3F));
	o[2] = (char)(0x80 | (v >> 6 & 0x3F));
	o[3] = (char)(0x80 | (v & 0x3F));
	return 4;
}

/* Decodes the escape at p ('\\' and what follows, before end) into o (4 bytes free);
 * advances both. False when jansson would refuse it, or for \u0000 (which it refuses without
 * JSON_ALLOW_NUL). A high surrogate must be followed by an escaped low one. */
static bool scan_escape(const unsigned char **pp, const unsigned char *end, char **oo)
{
	const unsigned char *p = *pp;
	int32_t v, lo;

	if (end - p < 2)
		return false;
	switch (p[1]) {
	case '"':
	case '\\':
	case '/':
		**oo = (char)p[1];
		break;
	case 'b':
		**oo = '\b';
		break;
	case 'f':
		**oo = '\f';
		break;
	case 'n':
		**oo = '\n';
		break;
	case 'r':
		**oo = '\r';
		break;
	case 't':
		**oo = '\t';
		break;
	case 'u':
		if (end - p < 6)
			return false;
		v = hex4(p + 2);
		if (v < 0)
			return false;
		p += 6;
		if (v >= 0xD800 && v <= 0xDBFF) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
				return false;
			lo = hex4(p + 2);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return false;
			v = ((v - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
			p += 6;
		} else if ((v >= 0xDC00 && v <= 0xDFFF) || v == 0) {
			return false;
		}
		*oo += put_utf8(*oo, (uint32_t)v);
		*pp = p;
		return true;
	default:
		return false;
	}
	(*oo)++;
	*pp = p + 2;
	return true;
}

/* Whether ch stands for itself in a JSON string: printable ASCII but '"' and '\\'. */
static inline bool plain_byte(unsigned char ch)
{
	return ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\';
}

/* Eight bytes at a time (SWAR): whether the word w, eight bytes of a string, may hold a byte
 * that is not plain_byte's. Each test has no false negative (a zero result proves all eight
 * plain); a false positive only sends those bytes to the byte-at-a-time loop. */
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline bool word_maybe_special(uint64_t w)
{
	uint64_t quote = w ^ (ONES * '"'), backslash = w ^ (ONES * '\\');

	return ((w & HIGHS) |                                 /* >= 0x80 */
	        ((w - ONES * 0x20) & ~w & HIGHS) |             /* < 0x20 */
	        ((quote - ONES) & ~quote & HIGHS) |            /* '"' */
	        ((backslash - ONES) & ~backslash & HIGHS)) != 0; /* '\\' */
}

/* The length of the run of plain bytes at p, at most max (max >= 1, p[0] plain). */
static size_t plain_run(const unsigned char *p, size_t max)
{
	size_t run = 1;

	while (run + 8 <= max) {
		uint64_t w;

		memcpy(&w, p + run, 8);
		if (word_maybe_special(w))
			break;
		run += 8;
	}
	while (run < max && plain_byte(p[run]))
		run++;
	return run;
}

/* The string at c->p (its opening quote) decoded into the request's buffer, NUL-terminated. */
static bool scan_string(struct cursor *c, struct fastreq_str *out)
{
	struct fastreq *fr = c->fr;
	char *start = fr->buf + fr->used, *o = start;
	/* The last 4 bytes: room for a sequence or an escape's code point and the NUL after it. */
	const char *limit = fr->buf + sizeof(fr->buf) - 5;
	const unsigned char *p = c->p, *end = c->end;

	if (p >= end || *p != '"')
		return false;
	p++;
	for (;;) {
		unsigned char ch;
		size_t n;

		if (p >= end || o > limit)
			return false;
		ch = *p;
		if (plain_byte(ch)) {
			/* A run of them (most of a request: names, base64url), eight bytes a test. */
			size_t run, max = (size_t)(end - p);

			if ((size_t)(limit - o) + 1 < max)
				max = (size_t)(limit - o) + 1;
			run = plain_run(p, max);
			memcpy(o, p, run);
			o += run;
			p += run;
			continue;
		}
		if (ch == '"')
			break;
		if (ch < 0x20)                       /* a raw control character */
			return false;
		if (ch == '\\') {
			if (!scan_escape(&p, end, &o))
				return false;
		} else {
			n = utf8_len(p, end);
			if (n == 0)
				return false;
			memcpy(o, p, n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	out->s = start;
	out->len = (size_t)(o - start);
	fr->used += out->len + 1;
	c->p = p + 1;
	return true;
}

/* A positive integer as JSON writes it (no sign, no leading zero, no fraction or exponent)
 * of at most COUNT_DIGITS_MAX digits. */
static bool scan_count(struct cursor *c, int64_t *out)
{
	const unsigned char *p = c->p;
	int64_t v = 0;
	int n = 0;

	if (p >= c->end || *p < '1' || *p > '9')
		return false;
	while (p < c->end && *p >= '0' && *p <= '9') {
		if (++n > COUNT_DIGITS_MAX)
			return false;
		v = v * 10 + (*p - '0');
		p++;
	}
	if (p < c->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return false;                        /* a real, not an integer */
	*out = v;
	c->p = p;
	return true;
}

static struct fastreq_str *str_member(struct fastreq *fr, enum key k, struct fastreq_str *op)
{
	switch (k) {
	case K_OP:
		return op;
	case K_REF:
		return &fr->ref;
	case K_TO:
		return &fr->to;
	case K_TEXT:
		return &fr->text;
	default:
		return &fr->cid;
	}
}

/* Whether op is one fastreq takes (send, ping), and which. */
static bool op_known(struct fastreq_str op, enum pier_op *out)
{
	if (op.len == 4 && memcmp(op.s, "send", 4) == 0)
		*out = PIER_OP_SEND;
	else if (op.len == 4 && memcmp(op.s, "ping", 4) == 0)
		*out = PIER_OP_PING;
	else
		return false;
	return true;
}

/* The key of the next member of an object (c->p after its '{' or a ','), if one of allowed
 * not seen yet, and the ':' after it; K_COUNT otherwise. */
static enum key member_key(struct cursor *c, unsigned allowed, unsigned *seen)
{
	enum key k;

	skip_ws(c);
	k = scan_key(c);
	if (k == K_COUNT || (allowed & 1u << k) == 0 || (*seen & 1u << k) != 0)
		return K_COUNT;                      /* jansson keeps a repeated key's last */
	*seen |= 1u << k;
	if (!eat(c, ':'))
		return K_COUNT;
	skip_ws(c);
	return k;
}

/* {"device": string, "body": string}, either optional (not empty). */
static bool scan_envelope(struct cursor *c, struct fastreq_key *key)
{
	unsigned seen = 0;

	key->device.s = key->body.s = NULL;
	key->device.len = key->body.len = 0;
	if (!eat(c, '{'))
		return false;
	do {
		enum key k = member_key(c, ENVELOPE_KEYS, &seen);

		if (k == K_COUNT || !scan_string(c, k == K_DEVICE ? &key->device : &key->body))
			return false;
	} while (eat(c, ','));
	return eat(c, '}');
}

/* e2ee's value: {"payload": string, "keys": [envelope, ...]} (1..FASTREQ_KEYS_MAX). */
static bool scan_e2ee(struct cursor *c)
{
	struct fastreq *fr = c->fr;
	unsigned seen = 0;

	if (!eat(c, '{'))
		return false;
	do {
		enum key k = member_key(c, E2EE_KEYS, &seen);

		if (k == K_PAYLOAD) {
			if (!scan_string(c, &fr->payload))
				return false;
			continue;
		}
		if (k != K_KEYS || !eat(c, '['))
			return false;
		do {
			if (fr->nkeys == FASTREQ_KEYS_MAX)
				return false;
			skip_ws(c);
			if (!scan_envelope(c, &fr->keys[fr->nkeys++]))
				return false;
		} while (eat(c, ','));
		if (!eat(c, ']'))
			return false;
	} while (eat(c, ','));
	return eat(c, '}');
}

bool fastreq_decode(const char *line, size_t len, struct fastreq *fr)
{
	struct cursor c = {(const unsigned char *)line, (const unsigned char *)line + len, fr};
	struct fastreq_str op = {NULL, 0};
	unsigned seen = 0;

	fr->ref = fr->to = fr->text = fr->cid = fr->payload = op;
	fr->reply_to = fr->media = 0;
	fr->e2ee = false;
	fr->nkeys = 0;
	fr->used = 0;
	if (!eat(&c, '{'))
		return false;
	do {
		enum key k = member_key(&c, SEND_KEYS, &seen);
		bool ok;

		if (k == K_COUNT)
			return false;
		if (k == K_REPLY_TO)
			ok = scan_count(&c, &fr->reply_to);
		else if (k == K_MEDIA)
			ok = scan_count(&c, &fr->media);
		else if (k == K_E2EE)
			ok = fr->e2ee = scan_e2ee(&c);
		else
			ok = scan_string(&c, str_member(fr, k, &op));
		if (!ok)
			return false;
		if (k == K_OP && !op_known(op, &fr->op))
			return false;                    /* another op: no need to read on */
	} while (eat(&c, ','));
	if (!eat(&c, '}'))
		return false;
	skip_ws(&c);
	if (c.p != c.end || op.s == NULL)
		return false;
	if (fr->op == PIER_OP_PING)
		return (seen & ~PING_KEYS) == 0;
	return !(fr->e2ee && fr->text.s != NULL);   /* the handler's error: the JSON path's */
}
