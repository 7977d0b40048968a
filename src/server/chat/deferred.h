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

/* A request answered after a store job. Holds a reference on its connection, on its ref and
 * (when made from a tree) on the request, which the job's string inputs may point into; or
 * its own copies of them (deferred_copy), in the same allocation. A reply slot keeps its
 * place in the reply order. */
struct deferred {
	struct conn *c;
	struct reply_slot *slot;
	json_t *req;                 /* NULL when made by deferred_new_sized */
	json_t *ref;                 /* the request's ref (a reference of d's own) or NULL */
	struct user *user;           /* the requesting user (lives as long as the server) */
	struct room *room;           /* the target, when a room */
	struct user *peer;           /* the target, when a user */
	bool flag;                   /* handler's own */
	json_t *keep;                /* a value the job's inputs point into (may be NULL),
	                              * released with d */
	struct store_job job;
	size_t copies_used, copies_size;   /* bytes of copies[] */
	char copies[];               /* deferred_copy's */
};

/* Opens a deferred request with job op and done callback; fill job inputs, then store_submit.
 * Takes a reference on req and on ref (may be NULL). */
struct deferred *deferred_new(struct conn *c, json_t *req, json_t *ref, enum store_op op,
                              void (*done)(struct store_job *));
/* The same without a request tree: bytes for deferred_copy in the same allocation (a
 * string of len bytes takes len + 1). */
struct deferred *deferred_new_sized(struct conn *c, json_t *ref, enum store_op op,
                                    void (*done)(struct store_job *), size_t bytes);
/* A NUL-terminated copy of s (len bytes) that lives as long as d, taken from the bytes
 * deferred_new_sized reserved (the caller counted it: aborts when over). */
const char *deferred_copy(struct deferred *d, const char *s, size_t len);
/* Sets the request's conversation, as chat_target resolved it: room (the job's room is its
 * name) or peer (the job's peer_id), the other NULL. */
void deferred_set_target(struct deferred *d, struct room *room, struct user *peer);
/* Answers (takes reply) and frees d. */
void deferred_finish(struct deferred *d, json_t *reply);
/* The same with the reply encoded already (one reference on reply, taken). */
void deferred_finish_buf(struct deferred *d, struct sbuf *reply);

#endif
