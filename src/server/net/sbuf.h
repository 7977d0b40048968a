/* sbuf.h - reference-counted byte buffers: a message is encoded once and shared by every
 * recipient's output queue. The last sbuf_unref frees it. Loop thread only (not atomic). */
#ifndef PIER_SBUF_H
#define PIER_SBUF_H

#include <stddef.h>

#include <jansson.h>

struct sbuf {
	unsigned refs;
	size_t len;
	char data[];
};

/* A buffer of len bytes (contents unset), holding one reference. Aborts on out-of-memory. */
struct sbuf *sbuf_new(size_t len);
/* value encoded as compact JSON followed by '\n', holding one reference. */
struct sbuf *sbuf_from_json(const json_t *value);
struct sbuf *sbuf_ref(struct sbuf *b);
void sbuf_unref(struct sbuf *b);

#endif
