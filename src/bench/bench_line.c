/* bench_line.c - reads pierd's hot lines (msg, sent, presence, ...) in place, without jansson. */
#include "bench_line.h"

#include <string.h>

struct cursor {
	const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

/* A string starting at the opening quote. Returns 0 with s set, or -1 (escaped or unterminated:
 * the caller declines the line, so escapes never need decoding here). */
static int read_string(struct cursor *c, struct bline_str *s)
{
	const char *p = c->p + 1;

	while (p < c->end && *p != '"' && *p != '\\')
		p++;
	if (p >= c->end || *p != '"')
		return -1;
	s->p = c->p + 1;
	s->len = (size_t)(p - s->p);
	c->p = p + 1;
	return 0;
}

/* Skips a string that may hold escapes (inside skipped arrays). */
static int skip_string(struct cursor *c)
{
	const char *p = c->p + 1;

	while (p < c->end) {
		const char *q = memchr(p, '"', (size_t)(c->end - p));
		const char *b;
		size_t slashes = 0;

		if (q == NULL)
			return -1;
		for (b = q; b > p && b[-1] == '\\'; b--)
			slashes++;
		if (slashes % 2 == 0) {
			c->p = q + 1;
			return 0;
		}
		p = q + 1;
	}
	return -1;
}

/* Skips a nested array or object, strings included. */
static int skip_nested(struct cursor *c)
{
	int depth = 0;

	while (c->p < c->end) {
		char ch = *c->p;

		if (ch == '"') {
			if (skip_string(c) != 0)
				return -1;
			continue;
		}
		if (ch == '[' || ch == '{') {
			depth++;
		} else if (ch == ']' || ch == '}') {
			if (--depth == 0) {
				c->p++;
				return 0;
			}
		}
		c->p++;
	}
	return -1;
}

/* A JSON integer; other numbers (fractions, exponents) are declined. */
static int read_int(struct cursor *c, int64_t *v)
{
	const char *p = c->p;
	bool neg = false;
	uint64_t n = 0;
	int digits = 0;

	if (p < c->end && *p == '-') {
		neg = true;
		p++;
	}
	while (p < c->end && *p >= '0' && *p <= '9' && digits < 18) {
		n = n * 10 + (uint64_t)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || (p < c->end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' ||
	                                   *p == 'E')))
		return -1;
	*v = neg ? -(int64_t)n : (int64_t)n;
	c->p = p;
	return 0;
}

static int read_literal(struct cursor *c, bool *v)
{
	size_t left = (size_t)(c->end - c->p);

	if (left >= 4 && memcmp(c->p, "true", 4) == 0) {
		*v = true;
		c->p += 4;
		return 0;
	}
	if (left >= 5 && memcmp(c->p, "false", 5) == 0) {
		*v = false;
		c->p += 5;
		return 0;
	}
	if (left >= 4 && memcmp(c->p, "null", 4) == 0) {
		*v = false;
		c->p += 4;
		return 0;
	}
	return -1;
}

static bool key_is(struct bline_str k, const char *z, size_t zlen)
{
	return k.len == zlen && memcmp(k.p, z, zlen) == 0;
}
#define KEY_IS(k, lit) key_is((k), (lit), sizeof(lit) - 1)

static int set_op(struct bline_str v, struct bline *out)
{
	if (KEY_IS(v, "msg"))
		out->op = BLINE_MSG;
	else if (KEY_IS(v, "sent"))
		out->op = BLINE_SENT;
	else if (KEY_IS(v, "presence"))
		out->op = BLINE_PRESENCE;
	else if (KEY_IS(v, "member"))
		out->op = BLINE_MEMBER;
	else if (KEY_IS(v, "users"))
		out->op = BLINE_USERS;
	else if (KEY_IS(v, "pong"))
		out->op = BLINE_PONG;
	else
		return -1;
	return 0;
}

/* One member's value; known keys fill out, unknown ones are skipped. */
static int read_member(struct cursor *c, struct bline_str key, struct bline *out, bool *have_op)
{
	struct bline_str s = { NULL, 0 };
	int64_t n;
	bool b;

	switch (*c->p) {
	case '"':
		if (read_string(c, &s) != 0)
			return -1;
		if (KEY_IS(key, "op")) {
			if (set_op(s, out) != 0)
				return -1;
			*have_op = true;
		} else if (KEY_IS(key, "from")) {
			out->from = s;
		} else if (KEY_IS(key, "to")) {
			out->to = s;
		} else if (KEY_IS(key, "text")) {
			out->text = s;
		} else if (KEY_IS(key, "ref")) {
			out->ref = s;
		} else if (KEY_IS(key, "user")) {
			out->user = s;
		}
		return 0;
	case '[':
	case '{':
		/* Only the users list is expected to nest; other ops with nested values decline. */
		if (!KEY_IS(key, "online"))
			return -1;
		return skip_nested(c);
	case 't':
	case 'f':
	case 'n':
		if (read_literal(c, &b) != 0)
			return -1;
		if (KEY_IS(key, "duplicate"))
			out->duplicate = b;
		else if (KEY_IS(key, "offline"))
			out->offline = b;
		else if (KEY_IS(key, "online") || KEY_IS(key, "joined"))
			out->flag = b;
		return 0;
	default:
		if (read_int(c, &n) != 0)
			return -1;
		if (KEY_IS(key, "id"))
			out->id = n;
		else if (KEY_IS(key, "ts"))
			out->ts = n;
		return 0;
	}
}

static bool expect(struct cursor *c, const char *lit, size_t len)
{
	if ((size_t)(c->end - c->p) < len || memcmp(c->p, lit, len) != 0)
		return false;
	c->p += len;
	return true;
}
#define EXPECT(c, lit) expect((c), (lit), sizeof(lit) - 1)

/* The rest of a string whose opening quote is consumed, found with memchr; escapes decline. */
static bool quoted(struct cursor *c, struct bline_str *s)
{
	const char *q = memchr(c->p, '"', (size_t)(c->end - c->p));

	if (q == NULL || memchr(c->p, '\\', (size_t)(q - c->p)) != NULL)
		return false;
	s->p = c->p;
	s->len = (size_t)(q - c->p);
	c->p = q + 1;
	return true;
}

/* pierd's msg lines as it encodes them (wire_msg.c: id, from, to, ts, text; the text before
 * the ts as jansson wrote them before), read without the byte-by-byte walk. Any other shape
 * (another key order, an extra key, escapes) returns -1 and the general reader runs. */
int bline_parse_msg(const char *line, size_t len, struct bline *out)
{
	struct cursor c = { line, line + len };

	if (!EXPECT(&c, "{\"op\":\"msg\",\"id\":") || read_int(&c, &out->id) != 0 ||
	    !EXPECT(&c, ",\"from\":\"") || !quoted(&c, &out->from) ||
	    !EXPECT(&c, ",\"to\":\"") || !quoted(&c, &out->to))
		return -1;
	if (EXPECT(&c, ",\"ts\":")) {
		if (read_int(&c, &out->ts) != 0 || !EXPECT(&c, ",\"text\":\"") ||
		    !quoted(&c, &out->text))
			return -1;
	} else if (!EXPECT(&c, ",\"text\":\"") || !quoted(&c, &out->text) ||
	           !EXPECT(&c, ",\"ts\":") || read_int(&c, &out->ts) != 0) {
		return -1;
	}
	if (!EXPECT(&c, "}") || c.p != c.end || out->id <= 0)
		return -1;
	out->op = BLINE_MSG;
	return 0;
}

int bline_parse(const char *line, size_t len, struct bline *out)
{
	struct cursor c = { line, line + len };
	bool have_op = false;

	memset(out, 0, sizeof(*out));
	out->id = out->ts = -1;
	if (len > 12 && line[7] == 'm' && bline_parse_msg(line, len, out) == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	out->id = out->ts = -1;
	skip_ws(&c);
	if (c.p >= c.end || *c.p != '{')
		return -1;
	c.p++;
	for (;;) {
		struct bline_str key;

		skip_ws(&c);
		if (c.p < c.end && *c.p == '}' && !have_op)
			return -1;
		if (c.p >= c.end || *c.p != '"' || read_string(&c, &key) != 0)
			return -1;
		skip_ws(&c);
		if (c.p >= c.end || *c.p != ':')
			return -1;
		c.p++;
		skip_ws(&c);
		if (c.p >= c.end || read_member(&c, key, out, &have_op) != 0)
			return -1;
		skip_ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}')
			break;
		return -1;
	}
	c.p++;
	skip_ws(&c);
	if (c.p != c.end || !have_op)
		return -1;
	/* The fields each op must have; a line without them is libpier's to judge. */
	switch (out->op) {
	case BLINE_MSG:
		return out->id > 0 && out->from.p && out->to.p && out->text.p ? 0 : -1;
	case BLINE_SENT:
		return out->id > 0 && out->to.p ? 0 : -1;
	case BLINE_PRESENCE:
	case BLINE_MEMBER:
		return out->user.p ? 0 : -1;
	default:
		return 0;
	}
}

bool bline_eq(struct bline_str s, const char *z)
{
	size_t n = strlen(z);

	return s.p != NULL && s.len == n && memcmp(s.p, z, n) == 0;
}
