/* chat.h - messages: send (store, acknowledge, fan out), history and sync. */
#ifndef PIER_CHAT_H
#define PIER_CHAT_H

#include <jansson.h>

#include "store.h"

struct conn;

void handle_send(struct conn *c, json_t *req, json_t *ref);
void handle_history(struct conn *c, json_t *req, json_t *ref);
void handle_sync(struct conn *c, json_t *req, json_t *ref);

#endif
