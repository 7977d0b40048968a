/* chat.h - messages: send (store, acknowledge, fan out), history and sync. */
#ifndef PIER_CHAT_H
#define PIER_CHAT_H

#include <jansson.h>

#include "store.h"

struct conn;

void handle_send(struct conn *c, json_t *req, json_t *ref);
void handle_history(struct conn *c, json_t *req, json_t *ref);
void handle_sync(struct conn *c, json_t *req, json_t *ref);

struct room;
struct user;
/* Resolves to ("#room" or "@user") for c's user: a room it is in (or #lobby), or a user that
 * exists. On failure answers (bad_target, bad_room, no_such_room, not_member, no_such_user)
 * and returns -1. */
int chat_target(struct conn *c, json_t *ref, const char *to, struct room **room,
                struct user **peer);

#endif
