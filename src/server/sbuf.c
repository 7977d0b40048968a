/* sbuf.c - shared, reference-counted output buffers. */
#include "sbuf.h"

#include <stdlib.h>

#include "xalloc.h"

struct sbuf *sbuf_new(size_t len)
{
	struct sbuf *b = xmalloc(sizeof(*b) + len);

	b->refs = 1;
	b->len = len;
	return b;
}

struct sbuf *sbuf_from_json(const json_t *value)
{
	size_t n = json_dumpb(value, NULL, 0, JSON_COMPACT);
	struct sbuf *b = sbuf_new(n + 1);

	json_dumpb(value, b->data, n, JSON_COMPACT);
	b->data[n] = '\n';
	return b;
}

struct sbuf *sbuf_ref(struct sbuf *b)
{
	b->refs++;
	return b;
}

void sbuf_unref(struct sbuf *b)
{
	if (b != NULL && --b->refs == 0)
		free(b);
}
