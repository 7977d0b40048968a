/* actions.h - the ops on a message already sent: recall, edit, react (docs/PROTOCOL.md). */
#ifndef PIER_ACTIONS_H
#define PIER_ACTIONS_H

#include <jansson.h>

struct conn;
struct sbuf;
struct server;
struct store_msg;

/* Different reactions one message may have. */
#define ACTIONS_REACTIONS_MAX 20

/* {"op":"recall","id"}: the user's own message, within --recall-window. */
void handle_recall(struct conn *c, json_t *req, json_t *ref);
/* {"op":"edit","id","text"}: the user's own message, not recalled. */
void handle_edit(struct conn *c, json_t *req, json_t *ref);
/* {"op":"react","id","emoji","on"}: adds (on true, the default) or removes a reaction. */
void handle_react(struct conn *c, json_t *req, json_t *ref);

/* Queues b on every session of everyone online here who may see m, but except: the online
 * members of its room (everyone for #lobby), or the two parties of its private conversation. */
void actions_fan_out(struct server *srv, const struct store_msg *m, struct sbuf *b,
                     const struct conn *except);

#endif
