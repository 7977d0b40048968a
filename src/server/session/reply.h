/* reply.h - how a request handler answers: replies and errors built in one shape (the
 * request's ref echoed), answered in request order through the connection's reply slots, and
 * requests answered later, after a store job (struct deferred). Wire error codes are the
 * enum of protocol.h; docs/PROTOCOL.md lists them. */
#ifndef PIER_REPLY_H
#define PIER_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "protocol.h"
#include "store.h"

struct conn;
struct room;
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
	struct store_job job;
};

/* Opens a deferred request with job op and done callback; fill job inputs, then store_submit. */
struct deferred *deferred_new(struct conn *c, json_t *req, json_t *ref, enum store_op op,
                              void (*done)(struct store_job *));
/* Answers (takes reply) and frees d. */
void deferred_finish(struct deferred *d, json_t *reply);

/* {"op":op} with the request's ref (when not NULL). New reference. */
json_t *reply_new(const char *op, json_t *ref);
/* {"op":"error","error":code,"message":...} with ref. New reference. A message cut inside a
 * UTF-8 sequence falls back to the code's name. */
json_t *error_new(json_t *ref, enum pier_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Answers with an error (in reply order). */
void reply_error(struct conn *c, json_t *ref, enum pier_error code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The string member key of req, or NULL when missing or not a string. */
const char *req_string(const json_t *req, const char *key);

#endif
