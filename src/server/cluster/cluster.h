/* cluster.h - this pierd as one node of a cluster (docs/CLUSTER.md): the bus, the message
 * sequencer, presence across nodes and their timers, behind one small interface for the chat.
 *
 * The chat calls in (cluster_msg_stored after an own message's commit, cluster_event_send,
 * cluster_presence_changed, ...) and is called back through the struct cluster_handler it
 * gives at open, on the loop thread: deliver_msg with every message of every node, exactly
 * once and in id order; the other callbacks with what other nodes announced, already decoded
 * and checked (cluster_codec.h), never trusted further than a client's request would be.
 * Without --nats there is no struct cluster and none of this runs (server.c: srv->cluster is
 * NULL, and every hook in the chat checks that first).
 */
#ifndef PIER_CLUSTER_H
#define PIER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "cluster_codec.h"

struct store;
struct cluster;

struct cluster_handler {
	/* m, with every id below it handed on before (own messages too). except is what the
	 * chat gave with cluster_msg_stored (the sender's connection), NULL for other nodes'. */
	void (*deliver_msg)(void *ud, const struct store_msg *m, void *except);
	/* Drops what except holds (called once for every non-NULL except, after deliver_msg or
	 * when the message is dropped). */
	void (*release_except)(void *ud, void *except);
	void (*change)(void *ud, const struct cluster_change *ch);
	void (*event)(void *ud, const struct cluster_event *ev);
	void (*env)(void *ud, const struct cluster_env *e);
	/* A cluster-wide presence transition caused by another node. */
	void (*presence)(void *ud, const char *name, bool online);
	/* name has a session on this node. */
	bool (*local_online)(void *ud, const char *name);
	/* The names of this node's online users, at most max, into names (borrowed until the
	 * next loop turn); how many. */
	size_t (*online_names)(void *ud, const char **names, size_t max);
};

struct cluster_options {
	const char *urls;           /* --nats */
	const char *cluster_name;   /* --cluster-name */
	const char *node_name;      /* --node-name */
	int64_t lease_ms;           /* --presence-lease */
	size_t max_text;            /* --max-text: what a payload's text may hold */
};

struct cluster_stats {
	struct cluster_seq_stats_view {
		uint64_t delivered, duplicates, reads, overflow, skipped;
		int64_t position;
	} seq;
	uint64_t refused;           /* payloads that did not decode */
	uint64_t published, received, dropped_in, dropped_out, reconnects;
	size_t nodes;               /* other nodes heard on the bus within the presence lease */
};

/* Connects to the bus and finds where the store's messages end (the sequencer's start):
 * NULL with *err (malloc'd) when the settings are unusable. cluster_ready() tells when the
 * start is known; server.c runs the loop until it is, before serving. */
struct cluster *cluster_open(uv_loop_t *loop, struct store *st, const struct cluster_options *o,
                             const struct cluster_handler *h, void *ud, char **err);
/* True once the sequencer knows its start; false again never. *failed is set when the store
 * could not tell (then *failed is true). */
bool cluster_ready(const struct cluster *cl, bool *failed);
/* Stops the timers and the bus; cl is freed once its last store read completed. */
void cluster_close(struct cluster *cl);

/* An own message m was committed: published to the other nodes and handed to the sequencer
 * (copied: m is the caller's). except: the sender's connection (the caller took a reference
 * that release_except drops), or NULL. */
void cluster_msg_stored(struct cluster *cl, const struct store_msg *m, void *except);
/* An edit, recall or reaction was committed. */
void cluster_change_stored(struct cluster *cl, const struct cluster_change *ch);
/* A device's queue has a new envelope (after its commit); the device is user's or peer's
 * (peer may be NULL). */
void cluster_env_stored(struct cluster *cl, const char *user, const char *peer, int64_t device,
                        int64_t qid);
/* A membership, topic, read, profile, typing, devices or new-user event made here. */
void cluster_event_send(struct cluster *cl, const struct cluster_event *ev);
/* name's first session here opened (online) or its last one closed. Returns true when that
 * is a cluster-wide transition: the chat tells clients only then. */
bool cluster_presence_changed(struct cluster *cl, const char *name, bool online);
/* name has a session on another node. */
bool cluster_user_online_elsewhere(const struct cluster *cl, const char *name);
/* Calls fn for every user online on another node (and not known to be online here). */
void cluster_each_online_elsewhere(const struct cluster *cl,
                                   void (*fn)(void *ud, const char *name), void *ud);
const char *cluster_node_name(const struct cluster *cl);
struct cluster_stats cluster_stats(const struct cluster *cl);

#endif
