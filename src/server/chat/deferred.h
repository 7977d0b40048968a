/* deferred.h - a chat request answered after a store job: it keeps its connection, its
 * request and its place in the reply order (a reply slot) until the job is done. */
#ifndef PIER_DEFERRED_H
#define PIER_DEFERRED_H

#include <stdbool.h>

#include <jansson.h>

#include "store.h"

struct conn;
struct reply_slot;
struct room;
struct sbuf;
struct user;

/* A request answered after a store job. Holds a reference on its connection and on the
 * request (the job's string inputs may point into it), and a reply slot keeping its place. */
struct deferred {
	struct conn *c;
	struct reply_slot *slot;
	json_t *req, *ref;
	struct user *user;           /* the requesting user (lives as long as the server) */
	struct room *room;           /* the target, when a room */
	struct user *peer;           /* the target, when a user */
	bool flag;                   /* handler's own */
	json_t *keep;                /* a value the job's inputs point into (may be NULL),
	                              * released with d */
	struct store_job job;
};

/* Opens a deferred request with job op and done callback; fill job inputs, then store_submit. */
struct deferred *deferred_new(struct conn *c, json_t *req, json_t *ref, enum store_op op,
                              void (*done)(struct store_job *));
/* Sets the request's conversation, as chat_target resolved it: room (the job's room is its
 * name) or peer (the job's peer_id), the other NULL. */
void deferred_set_target(struct deferred *d, struct room *room, struct user *peer);
/* Answers (takes reply) and frees d. */
void deferred_finish(struct deferred *d, json_t *reply);
/* The same with the reply encoded already (one reference on reply, taken). */
void deferred_finish_buf(struct deferred *d, struct sbuf *reply);

#endif
