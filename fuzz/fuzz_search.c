/* fuzz_search.c - libFuzzer harness: the search tokenizer and query on arbitrary bytes. The
 * input up to its first NUL byte is a query, the rest a message text. Every token must lie
 * inside the text with start < end and at most STORE_TOKEN_MAX bytes, the first one never
 * colocated; a query that parses has a MATCH expression of quoted terms only; highlighted
 * ranges are sorted, disjoint and inside the text's code points. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_query.h"
#include "store_tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct check {
	size_t len;
	int n;
};

static int on_token(void *ud, int flags, const char *tok, int len, int start, int end)
{
	struct check *c = ud;

	(void)tok;
	if (len <= 0 || len > STORE_TOKEN_MAX || start < 0 || start >= end || (size_t)end > c->len ||
	    (c->n == 0 && (flags & STORE_TOK_COLOCATED)))
		abort();
	c->n++;
	return 0;
}

/* The MATCH expression is "..." "..." with every inner quote doubled. */
static void check_match(const char *m)
{
	size_t i = 0;

	while (m[i] != '\0') {
		if (m[i++] != '"')
			abort();
		for (;;) {
			if (m[i] == '\0')
				abort();
			if (m[i] == '"' && m[i + 1] == '"') {
				i += 2;
				continue;
			}
			if (m[i++] == '"')
				break;
		}
		if (m[i] == ' ')
			i++;
		else if (m[i] != '\0')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	size_t qlen = nul != NULL ? (size_t)(nul - in) : size;
	const char *text = nul != NULL ? nul + 1 : "";
	size_t tlen = nul != NULL ? size - qlen - 1 : 0;
	struct check c = { .len = size };
	struct store_query *q = malloc(sizeof(*q));
	struct store_span v[STORE_SPANS_MAX];
	int32_t chars = 0;
	int n;

	store_tokenize(in, size, STORE_TOK_DOCUMENT, on_token, &c);
	c.n = 0;
	store_tokenize(in, size, STORE_TOK_QUERY, on_token, &c);
	if (q == NULL || store_query_parse(q, in, qlen) != STORE_QUERY_OK) {
		free(q);
		return 0;
	}
	check_match(q->match);
	for (size_t i = 0; i < tlen; i++)
		chars += ((unsigned char)text[i] & 0xC0) != 0x80;
	n = store_query_spans(q, text, tlen, v, STORE_SPANS_MAX);
	for (int i = 0; i < n; i++) {
		if (v[i].start < 0 || v[i].start >= v[i].end || v[i].end > chars ||
		    (i > 0 && v[i].start <= v[i - 1].end))
			abort();
	}
	free(q);
	return 0;
}
