/* remote.h - the chat's side of a cluster (docs/CLUSTER.md): what other nodes announce,
 * applied to this node's directory and told to its sessions (the struct cluster_handler of
 * cluster.h), and the small hooks through which the chat announces its own state changes.
 * Every hook does nothing on a single node (srv->cluster NULL). */
#ifndef PIER_REMOTE_H
#define PIER_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster_codec.h"

struct cluster_handler;
struct server;
struct user;

/* The handler server.c gives cluster_open (its ud is the struct server). */
const struct cluster_handler *remote_handler(void);

/* u's first session on this node opened (online) or its last one closed: announced to the
 * other nodes. True when clients are to be told (always on a single node; in a cluster only
 * when no other node has a session of u). */
bool remote_presence(struct server *srv, struct user *u, bool online);

/* Announces a state change made here (cluster_event's fields; target and text may be NULL). */
void remote_event(struct server *srv, enum cluster_event_op op, const char *user,
                  const char *target, const char *text, int64_t id, int64_t ts, bool flag);

/* Announces a change to message m (edited, recalled; a reaction with user, emoji, on, count). */
void remote_change(struct server *srv, enum cluster_change_op op, const struct store_msg *m,
                   const char *user, const char *emoji, bool on, int64_t count);

#endif
