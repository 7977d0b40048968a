/* cluster_presence.h - who is online on the other nodes (docs/CLUSTER.md, "Presence").
 *
 * A user is online while any node has a session of it. Each node announces its own
 * transitions (a user's first session on it opened, its last closed) and a heartbeat with
 * the count and a digest of its online set; this module keeps, per other node, that set,
 * and turns the changes into cluster-wide transitions: the first session anywhere, the last
 * one gone. A node whose heartbeat is older than the lease is dropped with its set (a killed
 * node's users go offline within the lease). A heartbeat whose count or digest differs from
 * the set kept for that node (a lost presence message) asks for that node's full set again
 * (hello); its answer replaces the set.
 *
 * Pure logic over names and times the caller gives (ms, monotonic): no bus, no clock. The
 * local node's own sessions are the caller's (the hub's); it answers ops->local_online and
 * tells this module its own transitions so that cluster-wide ones are decided in one place.
 * Bounded: at most CLUSTER_PRESENCE_NODES nodes, CLUSTER_PRESENCE_NODE_USERS users a node;
 * what is past a bound is refused (and counted), never grown into.
 */
#ifndef PIER_CLUSTER_PRESENCE_H
#define PIER_CLUSTER_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster_codec.h"

#define CLUSTER_PRESENCE_NODES      256
#define CLUSTER_PRESENCE_NODE_USERS CLUSTER_HELLO_MAX

struct cluster_presence_ops {
	/* The user called name (canonical case) has sessions on this node. */
	bool (*local_online)(void *ud, const char *name);
	/* A cluster-wide transition of a user because of another node (its first session
	 * anywhere opened there, or its last one anywhere closed or expired there). */
	void (*transition)(void *ud, const char *name, bool online);
};

struct cp_node;
struct cp_user;

struct cluster_presence {
	struct cp_node *nodes;           /* by name */
	size_t nnodes;
	struct cp_user *users;           /* users online on some other node, by key */
	int64_t lease_ms;
	uint64_t local_digest;           /* of this node's online set */
	int64_t local_users;
	const struct cluster_presence_ops *ops;
	void *ud;
	uint64_t refused;                /* announcements past a bound */
};

void cluster_presence_init(struct cluster_presence *p, int64_t lease_ms,
                           const struct cluster_presence_ops *ops, void *ud);
void cluster_presence_release(struct cluster_presence *p);

/* The digest of one name (order-free: a set's digest is the XOR of its names'). */
uint64_t cluster_presence_name_digest(const char *name);

/* This node's user name went online (its first session here) or offline (its last one).
 * Returns true when that is a cluster-wide transition (no other node has the user), i.e.
 * when clients are to be told. Updates the local digest and count for heartbeats. */
bool cluster_presence_local(struct cluster_presence *p, const char *name, bool online);

/* node announced that name went online or offline on it, at now_ms. */
void cluster_presence_remote(struct cluster_presence *p, const char *node, const char *name,
                             bool online, int64_t now_ms);

/* node's heartbeat at now_ms. Returns true when its set here does not match (count or
 * digest) and should be asked again (hello). An unknown node is added (empty) and asked. */
bool cluster_presence_heartbeat(struct cluster_presence *p, const char *node,
                                const struct cluster_hb *hb, int64_t now_ms);

/* node's full set (its hello answer) replaces what was kept for it. */
void cluster_presence_set(struct cluster_presence *p, const char *node,
                          char *const *names, size_t n, int64_t now_ms);

/* Drops the nodes not heard from for longer than the lease (their users' transitions are
 * reported); returns how many went. */
size_t cluster_presence_expire(struct cluster_presence *p, int64_t now_ms);

/* Drops node at once (it said it is stopping). */
void cluster_presence_drop_node(struct cluster_presence *p, const char *node);

/* Calls fn with the name of every user online on some other node; how many. */
size_t cluster_presence_each_remote(const struct cluster_presence *p,
                                    void (*fn)(void *ud, const char *name), void *ud);

/* True when name is online on some other node. */
bool cluster_presence_remote_online(const struct cluster_presence *p, const char *name);

#endif
