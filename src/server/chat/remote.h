/* remote.h - the chat's side of a cluster (docs/CLUSTER.md): what other nodes announce,
 * applied to this node's directory and told to its sessions (the struct cluster_handler of
 * cluster.h), and the small hooks through which the chat announces its own state changes.
 * Every hook does nothing on a single node (srv->cluster NULL). */
#ifndef PIER_REMOTE_H
#define PIER_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cluster_codec.h"

struct cluster_handler;
struct conn;
struct server;
struct user;

/* The handler server.c gives cluster_open (its ud is the struct server). */
const struct cluster_handler *remote_handler(void);

/* u's first session on this node opened (online) or its last one closed: announced to the
 * other nodes. True when clients are to be told (always on a single node; in a cluster only
 * when no other node has a session of u). */
bool remote_presence(struct server *srv, struct user *u, bool online);

/* Adds to the "online" list of u's login users event the users online on other nodes only:
 * in the all-presence mode everyone, while the whole stays within --presence-limit (else it
 * becomes partial as on one node: the client pages with the users request); in a partial
 * (contacts only) event u's private partners online elsewhere (room-mates there are not known
 * here: docs/CLUSTER.md). */
void remote_add_online(struct server *srv, const struct user *u, json_t *users_event);

/* Cluster: the store knows user id called name (registered on another node) and this node's
 * directory may not yet: added to it. The user, or NULL on a single node when it is not in
 * the directory. */
struct user *remote_user_found(struct server *srv, int64_t id, const char *name);

/* Cluster: the users online on other nodes and not here (a malloc'd array of *n, NULL when
 * none; the caller frees it). Single node: NULL, 0. */
struct user **remote_online_users(struct server *srv, size_t *n);

/* Cluster: name is no user in this node's directory; maybe one registered on another node
 * whose announcement was lost. Looks it up in the store (at most REMOTE_LOOKUPS_MAX at once)
 * and adds it to the directory when it exists, for the requests that follow. */
#define REMOTE_LOOKUPS_MAX 64
void remote_lookup_user(struct server *srv, const char *name);

/* Cluster: when req (logged in) names with its "to" or "with" a user "@name" this node's
 * directory does not have (registered on another node, its announcement not here yet), the
 * connection pauses, the store is asked, and handle(c, req, ref) runs once the answer is in
 * (the user known then, or answered no_such_user as on one node). True when it took the
 * request so; false (a single node, a known name, a room) to handle it now. */
bool remote_hold(struct conn *c, void (*handle)(struct conn *, json_t *, json_t *),
                 json_t *req, json_t *ref);

/* Announces a state change made here (cluster_event's fields; target and text may be NULL). */
void remote_event(struct server *srv, enum cluster_event_op op, const char *user,
                  const char *target, const char *text, int64_t id, int64_t ts, bool flag);

/* Announces a change to message m (edited, recalled; a reaction with user, emoji, on, count). */
void remote_change(struct server *srv, enum cluster_change_op op, const struct store_msg *m,
                   const char *user, const char *emoji, bool on, int64_t count);

#endif
