/* xalloc.h - allocation that aborts on out-of-memory. Every buffer and queue in pier has a
 * limit, so running out means the machine is out, not that a client asked for too much;
 * crashing loudly beats limping on (tmux's xmalloc, Redis's zmalloc). */
#ifndef PIER_XALLOC_H
#define PIER_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
