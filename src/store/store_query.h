/* store_query.h - a search query as people type it, made safe for FTS5 and matched back
 * against the messages found (the highlight). Pure: no SQLite.
 *
 * Syntax: terms separated by white space (an ideographic space too), all of which must be in a
 * message (AND); "double quotes" keep white space inside one term. Each term is a phrase of
 * the tokens store_tokenize gives it in query mode: 电影院 matches the three characters
 * together, "hello, world" the two words one after the other. There are no operators: OR,
 * NOT, NEAR, *, ^, column names and parentheses are only text, because the MATCH expression
 * quotes every term itself (FTS5's string syntax: "..." with " doubled), so nothing a user
 * types is FTS5 syntax.
 *
 * A term that gives no token (punctuation, emoji) is left out. A query is too short when no
 * term has a token of two or more characters or a CJK character (one letter of an alphabet
 * would match half of all messages); too long past STORE_QUERY_MAX bytes or
 * STORE_QUERY_TERMS_MAX terms.
 */
#ifndef PIER_STORE_QUERY_H
#define PIER_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#define STORE_QUERY_MAX        256   /* bytes of a query */
#define STORE_QUERY_TERMS_MAX  16    /* terms (phrases) of a query */
#define STORE_QUERY_TOKENS_MAX 256   /* tokens of all terms (a 256-byte query has fewer) */
#define STORE_SPANS_MAX        64    /* highlighted ranges reported per text */

enum store_query_status {
	STORE_QUERY_OK = 0,
	STORE_QUERY_TOO_SHORT,   /* nothing to search for: empty, punctuation, single letters */
	STORE_QUERY_TOO_LONG     /* over STORE_QUERY_MAX bytes or STORE_QUERY_TERMS_MAX terms */
};

/* A parsed query. Fixed size, no allocation: fill with store_query_parse. */
struct store_query {
	int nterms;
	int ntokens;
	int ndistinct;
	struct {
		int first, count;     /* its tokens: tok[first .. first + count) */
	} term[STORE_QUERY_TERMS_MAX];
	struct {
		int pos;              /* position in its phrase (0 for the first) */
		int distinct;         /* index into the distinct token strings */
	} tok[STORE_QUERY_TOKENS_MAX];
	struct {
		uint16_t off, len;    /* bytes in buf */
	} distinct[STORE_QUERY_TOKENS_MAX];
	char buf[4 * STORE_QUERY_MAX];
	/* The FTS5 MATCH expression: every term quoted, separated by spaces (AND). */
	char match[2 * STORE_QUERY_MAX + 3 * STORE_QUERY_TERMS_MAX + 1];
};

/* A highlighted range [start, end) of a text, in code points (Unicode scalar values). */
struct store_span {
	int32_t start, end;
};

/* Parses len bytes of UTF-8 text into q. STORE_QUERY_OK, or why not (q is then unusable). */
enum store_query_status store_query_parse(struct store_query *q, const char *text, size_t len);

/* Where q's terms occur in text (len bytes of UTF-8, tokenized as a document): every place a
 * term's phrase matches, as ranges of code points, sorted, overlapping ones merged, at most
 * max of them (the first ones). Returns how many were written to out, or -1 when memory ran
 * out. */
int store_query_spans(const struct store_query *q, const char *text, size_t len,
                      struct store_span *out, int max);

/* The spans of q in the NUL-terminated text (at most STORE_SPANS_MAX), in a malloc'd array
 * *out of *n (NULL and 0 when none): what a search result carries. 0, or -1 out of memory. */
int store_query_spans_dup(const struct store_query *q, const char *text, struct store_span **out,
                          int *n);

#endif
