/* store_query.c - search queries: parsing, the quoted FTS5 expression, and the highlight
 * (store_query.h). */
#include "store_query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store_tokenizer.h"

/* Collects a term's tokens into q (store_token_fn). */
struct term_ctx {
	struct store_query *q;
	int pos;                 /* position of the next token */
	bool overflow;
	bool substantial;        /* a token of two or more characters, or of a CJK character */
};

static int chars_of(const char *s, int len)
{
	int n = 0;

	for (int i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* The index of the distinct token string tok in q, added if new; -1 when q is full. */
static int distinct_index(struct store_query *q, const char *tok, int len, size_t *used)
{
	for (int i = 0; i < q->ndistinct; i++) {
		if (q->distinct[i].len == len && memcmp(q->buf + q->distinct[i].off, tok, (size_t)len) == 0)
			return i;
	}
	if (q->ndistinct == STORE_QUERY_TOKENS_MAX || *used + (size_t)len > sizeof(q->buf))
		return -1;
	memcpy(q->buf + *used, tok, (size_t)len);
	q->distinct[q->ndistinct].off = (uint16_t)*used;
	q->distinct[q->ndistinct].len = (uint16_t)len;
	*used += (size_t)len;
	return q->ndistinct++;
}

struct parse_ctx {
	struct term_ctx t;
	size_t used;             /* bytes of q->buf in use */
};

static int on_query_token(void *ud, int flags, const char *tok, int len, int start, int end)
{
	struct parse_ctx *p = ud;
	struct store_query *q = p->t.q;
	int d;

	(void)start;
	(void)end;
	if (flags & STORE_TOK_COLOCATED)
		return 0;                    /* never made in query mode; nothing to line up */
	d = distinct_index(q, tok, len, &p->used);
	if (d < 0 || q->ntokens == STORE_QUERY_TOKENS_MAX) {
		p->t.overflow = true;
		return 1;
	}
	q->tok[q->ntokens].pos = p->t.pos++;
	q->tok[q->ntokens].distinct = d;
	q->ntokens++;
	if (chars_of(tok, len) >= 2 || len >= 3)
		p->t.substantial = true;
	return 0;
}

/* Appends text to q->match as one FTS5 string: "..." with every " doubled. */
static bool append_quoted(struct store_query *q, size_t *mlen, const char *text, size_t len)
{
	size_t need = 2 + (*mlen > 0 ? 1 : 0);

	for (size_t i = 0; i < len; i++)
		need += text[i] == '"' ? 2 : 1;
	if (*mlen + need >= sizeof(q->match))
		return false;
	if (*mlen > 0)
		q->match[(*mlen)++] = ' ';
	q->match[(*mlen)++] = '"';
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '"')
			q->match[(*mlen)++] = '"';
		q->match[(*mlen)++] = text[i];
	}
	q->match[(*mlen)++] = '"';
	q->match[*mlen] = '\0';
	return true;
}

/* Length of the white space at s (n bytes left): ASCII white space, U+3000 (ideographic
 * space, typed by Chinese and Japanese input methods) and U+00A0; 0 if none. */
static size_t space_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))
		return 1;
	if (n >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	if (n >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
		return 2;
	return 0;
}

enum store_query_status store_query_parse(struct store_query *q, const char *text, size_t len)
{
	struct parse_ctx p;
	size_t i = 0, mlen = 0;
	bool substantial = false;

	memset(q, 0, sizeof(*q));
	if (len > STORE_QUERY_MAX)
		return STORE_QUERY_TOO_LONG;
	memset(&p, 0, sizeof(p));
	p.t.q = q;
	while (i < len) {
		size_t start, end, sp = space_at(text + i, len - i);
		int first = q->ntokens;

		if (sp > 0) {
			i += sp;
			continue;
		}
		if (text[i] == '"') {
			start = ++i;
			while (i < len && text[i] != '"')
				i++;
			end = i;
			if (i < len)
				i++;
		} else {
			start = i;
			while (i < len && text[i] != '"' && space_at(text + i, len - i) == 0)
				i++;
			end = i;
		}
		p.t.pos = 0;
		p.t.substantial = false;
		store_tokenize(text + start, end - start, STORE_TOK_QUERY, on_query_token, &p);
		if (p.t.overflow)
			return STORE_QUERY_TOO_LONG;
		if (q->ntokens == first)
			continue;                    /* nothing searchable in this term */
		if (q->nterms == STORE_QUERY_TERMS_MAX || !append_quoted(q, &mlen, text + start, end - start))
			return STORE_QUERY_TOO_LONG;
		q->term[q->nterms].first = first;
		q->term[q->nterms].count = q->ntokens - first;
		q->nterms++;
		substantial = substantial || p.t.substantial;
	}
	return substantial ? STORE_QUERY_OK : STORE_QUERY_TOO_SHORT;
}

/* ---- the highlight ---- */

/* A token of the text that is one of the query's (the others matter only for positions). */
struct hit {
	int pos, start, end;      /* position, bytes [start, end) */
	int distinct;
};

struct span_ctx {
	const struct store_query *q;
	struct hit *hits;
	size_t nhits, cap;
	int pos;                  /* position of the last token */
	bool failed;
};

static int on_doc_token(void *ud, int flags, const char *tok, int len, int start, int end)
{
	struct span_ctx *s = ud;
	const struct store_query *q = s->q;

	if (!(flags & STORE_TOK_COLOCATED))
		s->pos++;
	for (int d = 0; d < q->ndistinct; d++) {
		if (q->distinct[d].len != len || memcmp(q->buf + q->distinct[d].off, tok, (size_t)len) != 0)
			continue;
		if (s->nhits == s->cap) {
			size_t ncap = s->cap == 0 ? 64 : s->cap * 2;
			struct hit *v = realloc(s->hits, ncap * sizeof(*v));

			if (v == NULL) {
				s->failed = true;
				return 1;
			}
			s->hits = v;
			s->cap = ncap;
		}
		s->hits[s->nhits++] = (struct hit){ .pos = s->pos, .start = start, .end = end,
		                                    .distinct = d };
		break;
	}
	return 0;
}

/* The hit at position pos with token d, searching hits[from ...] (sorted by position). */
static const struct hit *hit_at(const struct span_ctx *s, size_t from, int pos, int d)
{
	for (size_t i = from; i < s->nhits && s->hits[i].pos <= pos; i++) {
		if (s->hits[i].pos == pos && s->hits[i].distinct == d)
			return &s->hits[i];
	}
	return NULL;
}

static int cmp_span(const void *a, const void *b)
{
	const struct store_span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* The code point index of every byte offset of text (len + 1 entries; malloc'd, NULL when out
 * of memory). A byte that continues a character counts with it; stray continuation bytes
 * (invalid UTF-8, never in a stored message) count as nothing. */
static int32_t *code_point_index(const char *text, size_t len)
{
	int32_t *cp = malloc((len + 1) * sizeof(*cp)), chars = 0;

	if (cp == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		cp[i] = chars;
		chars += ((unsigned char)text[i] & 0xC0) != 0x80;
	}
	cp[len] = chars;
	return cp;
}

int store_query_spans(const struct store_query *q, const char *text, size_t len,
                      struct store_span *out, int max)
{
	struct span_ctx s = { .q = q, .pos = -1 };
	struct store_span *all = NULL;
	size_t nall = 0, cap = 0;
	int n = 0;

	if (max <= 0 || q->nterms == 0)
		return 0;
	store_tokenize(text, len, STORE_TOK_DOCUMENT, on_doc_token, &s);
	if (s.failed)
		goto fail;
	for (int t = 0; t < q->nterms; t++) {
		int first = q->term[t].first, count = q->term[t].count;

		for (size_t i = 0; i < s.nhits; i++) {
			const struct hit *h = &s.hits[i];
			int from = h->start, to = h->end;
			bool ok = h->distinct == q->tok[first].distinct;

			for (int k = 1; ok && k < count; k++) {
				const struct hit *o = hit_at(&s, i, h->pos + q->tok[first + k].pos,
				                             q->tok[first + k].distinct);

				ok = o != NULL;
				if (ok) {
					from = o->start < from ? o->start : from;
					to = o->end > to ? o->end : to;
				}
			}
			if (!ok)
				continue;
			if (nall == cap) {
				size_t ncap = cap == 0 ? 16 : cap * 2;
				struct store_span *v = realloc(all, ncap * sizeof(*v));

				if (v == NULL)
					goto fail;
				all = v;
				cap = ncap;
			}
			all[nall++] = (struct store_span){ from, to };
		}
	}
	if (nall > 0) {
		/* to code points first, then merged there: ranges that only touch in code points
		 * (across bytes that are no character) are one range too */
		int32_t *cp = code_point_index(text, len);

		if (cp == NULL)
			goto fail;
		for (size_t i = 0; i < nall; i++) {
			all[i].start = cp[all[i].start];
			all[i].end = cp[all[i].end];
		}
		free(cp);
		qsort(all, nall, sizeof(*all), cmp_span);
	}
	for (size_t i = 0; i < nall; i++) {
		if (all[i].start >= all[i].end)
			continue;
		if (n > 0 && all[i].start <= out[n - 1].end) {
			if (all[i].end > out[n - 1].end)
				out[n - 1].end = all[i].end;
		} else if (n < max) {
			out[n++] = all[i];
		} else {
			break;
		}
	}
	free(all);
	free(s.hits);
	return n;
fail:
	free(all);
	free(s.hits);
	return -1;
}

int store_query_spans_dup(const struct store_query *q, const char *text, struct store_span **out,
                          int *n)
{
	struct store_span v[STORE_SPANS_MAX];
	int k = store_query_spans(q, text, strlen(text), v, STORE_SPANS_MAX);

	*out = NULL;
	*n = 0;
	if (k < 0)
		return -1;
	if (k == 0)
		return 0;
	*out = malloc((size_t)k * sizeof(**out));
	if (*out == NULL)
		return -1;
	memcpy(*out, v, (size_t)k * sizeof(**out));
	*n = k;
	return 0;
}
