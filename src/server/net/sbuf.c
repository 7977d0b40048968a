/* sbuf.c - shared, reference-counted output buffers. */
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>

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
	char small[2048];
	size_t n = json_dumpb(value, small, sizeof(small), JSON_COMPACT);
	struct sbuf *b = sbuf_new(n + 1);

	/* One encoding pass for the usual small event; a second only for big ones. */
	if (n <= sizeof(small))
		memcpy(b->data, small, n);
	else
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
