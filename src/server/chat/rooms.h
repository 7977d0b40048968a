/* rooms.h - join, part, the paged room list, forgetting empty rooms, and the online list. */
#ifndef PIER_ROOMS_H
#define PIER_ROOMS_H

#include <jansson.h>

struct conn;
struct server;

void handle_join(struct conn *c, json_t *req, json_t *ref);
void handle_part(struct conn *c, json_t *req, json_t *ref);
void handle_rooms(struct conn *c, json_t *req, json_t *ref);
void handle_users(struct conn *c, json_t *req, json_t *ref);

/* req's "room", a valid room name (not necessarily an existing room); NULL, answered with
 * bad_request or bad_room, otherwise. */
const char *rooms_name_arg(struct conn *c, json_t *req, json_t *ref);

/* Forgets the rooms that have had no members for --room-forget-after (hub_forget_rooms) and
 * frees them once the store jobs that may point at them are done. Called every second. */
void rooms_sweep(struct server *srv);

#endif
