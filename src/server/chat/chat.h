/* chat.h - messages: send (store, acknowledge, fan out), history and sync. */
#ifndef PIER_CHAT_H
#define PIER_CHAT_H

#include <stdint.h>

#include <jansson.h>

#include "store.h"

struct conn;
struct room;
struct user;

void handle_send(struct conn *c, json_t *req, json_t *ref);
void handle_history(struct conn *c, json_t *req, json_t *ref);
void handle_sync(struct conn *c, json_t *req, json_t *ref);

/* Resolves "#room" or "@user" (to) for the requesting user: a room must exist and have the
 * user as a member (#lobby has everyone), a user must exist. Sets one of *room, *peer (the
 * other NULL) and returns 0; on failure answers the request (bad_target, bad_room,
 * no_such_room, not_member, no_such_user) and returns -1. */
int chat_resolve_target(struct conn *c, json_t *ref, const char *to, struct room **room,
                        struct user **peer);
/* Reads the optional non-negative integer member key of req into *out (left alone when
 * absent or null). 0, or -1 after answering bad_request when it is malformed. */
int chat_opt_int(struct conn *c, json_t *req, json_t *ref, const char *key, int64_t *out);

#endif
