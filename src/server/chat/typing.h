/* typing.h - typing indicators: ephemeral, never stored, at most one per user and
 * conversation every TYPING_INTERVAL_MS (the rest dropped without a word). */
#ifndef PIER_TYPING_H
#define PIER_TYPING_H

#include <jansson.h>

#define TYPING_INTERVAL_MS 3000

struct conn;

/* {"op":"typing","to":"#room"|"@user"}: no reply (errors are answered). */
void handle_typing(struct conn *c, json_t *req, json_t *ref);

#endif
