/* rooms.h - join, part, the room list and the online list. */
#ifndef PIER_ROOMS_H
#define PIER_ROOMS_H

#include <jansson.h>

struct conn;

void handle_join(struct conn *c, json_t *req, json_t *ref);
void handle_part(struct conn *c, json_t *req, json_t *ref);
void handle_rooms(struct conn *c, json_t *req, json_t *ref);
void handle_users(struct conn *c, json_t *req, json_t *ref);

#endif
