/* search.h - the search op: full-text search of the messages the user may read (docs/PROTOCOL.md,
 * search). */
#ifndef PIER_SEARCH_H
#define PIER_SEARCH_H

#include <jansson.h>

struct conn;

void handle_search(struct conn *c, json_t *req, json_t *ref);

#endif
