/* cluster_bus.h - the NATS connection of a cluster node, on pierd's loop (docs/CLUSTER.md,
 * "The bus").
 *
 * One connection (libnats with its libuv adapter: the socket is read and written by pierd's
 * loop), one subscription to the cluster's subjects (CLUSTER.msg, .change, .env, .event,
 * .presence, .hb, .hello) and one to this node's inbox (CLUSTER.inbox.NODE, where hello
 * answers come). libnats hands messages and connection events to threads of its own; they
 * are queued (bounded: CLUSTER_BUS_QUEUE_MAX, past it messages are dropped and counted: the
 * store has the truth and the sequencer reads what a lost signal missed) and handed to the
 * handler on the loop thread, in arrival order. Nothing here runs the chat: the handler does.
 *
 * Subscribe first, then read: after every (re)connection, the node publishes a marker to its
 * own inbox; when it comes back, the server has processed the subscriptions sent before it,
 * so everything published from then on reaches this node, and only then is
 * handler->synced called (where the sequencer reads the backlog). No blocking call on the
 * loop: libnats' flush would wait for the loop it runs on.
 *
 * Publishing never blocks and never fails the caller's work: while disconnected, libnats
 * buffers up to its reconnect buffer, past it the publish is dropped (counted).
 */
#ifndef PIER_CLUSTER_BUS_H
#define PIER_CLUSTER_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define CLUSTER_BUS_QUEUE_MAX 100000   /* messages waiting for the loop */

enum cluster_subject {
	CLUSTER_SUBJ_MSG, CLUSTER_SUBJ_CHANGE, CLUSTER_SUBJ_ENV, CLUSTER_SUBJ_EVENT,
	CLUSTER_SUBJ_PRESENCE, CLUSTER_SUBJ_HB, CLUSTER_SUBJ_HELLO,
	CLUSTER_SUBJ_INBOX,            /* answers to this node's hello */
	CLUSTER_SUBJECTS
};

struct cluster_bus_handler {
	/* A message on subject s (data: len bytes, not terminated, valid only during the call;
	 * reply: where a request wants its answer, or NULL). */
	void (*message)(void *ud, enum cluster_subject s, const char *data, size_t len,
	                const char *reply);
	/* The node is (again) connected and subscribed: read what may have been missed. */
	void (*synced)(void *ud);
	/* The connection was lost (libnats reconnects by itself). */
	void (*disconnected)(void *ud);
};

struct cluster_bus_stats {
	uint64_t received, published, dropped_in, dropped_out, reconnects;
};

struct cluster_bus;

/* Connects to urls (comma list) as node of cluster, on loop (the calling thread's). The
 * connection is made in the background when the servers are not reachable now (pierd serves
 * meanwhile). NULL with *err (malloc'd) when the settings are unusable. */
struct cluster_bus *cluster_bus_open(uv_loop_t *loop, const char *urls, const char *cluster,
                                     const char *node, const struct cluster_bus_handler *h,
                                     void *ud, char **err);
/* Publishes len bytes on subject s (not INBOX). */
void cluster_bus_publish(struct cluster_bus *b, enum cluster_subject s, const char *data,
                         size_t len);
/* Publishes a hello request (its answers come on CLUSTER_SUBJ_INBOX). */
void cluster_bus_hello(struct cluster_bus *b, const char *data, size_t len);
/* Answers a request on its reply subject. */
void cluster_bus_reply(struct cluster_bus *b, const char *reply, const char *data, size_t len);
bool cluster_bus_connected(const struct cluster_bus *b);
struct cluster_bus_stats cluster_bus_stats(const struct cluster_bus *b);
/* Closes the connection and frees b; its handles close on the next loop turns. */
void cluster_bus_close(struct cluster_bus *b);

#endif
