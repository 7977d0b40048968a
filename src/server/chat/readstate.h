/* readstate.h - read positions synced across a user's devices: the read op (a position only
 * goes up; the user's other sessions hear of it) and unread counts a page of conversations
 * at a time. */
#ifndef PIER_READSTATE_H
#define PIER_READSTATE_H

#include <jansson.h>

struct conn;

/* {"op":"read","with":"#room"|"@user","id":N} */
void handle_read(struct conn *c, json_t *req, json_t *ref);
/* {"op":"unread","after":"#room"|"@user","limit":N} */
void handle_unread(struct conn *c, json_t *req, json_t *ref);

#endif
