/* dispatch.h - from a request line to its handler: JSON parsing, the op table, login and rate
 * checks; and the helpers every handler uses to answer. Wire error codes are named here and
 * in the handlers only (docs/PROTOCOL.md lists them). */
#ifndef PIER_DISPATCH_H
#define PIER_DISPATCH_H

#include <stddef.h>

#include <stdbool.h>

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

/* Parses one request line (without its newline) and runs its handler. */
void dispatch_line(struct conn *c, const char *line, size_t len);

/* {"op":op} with the request's ref (when not NULL). New reference. */
json_t *reply_new(const char *op, json_t *ref);
/* {"op":"error","error":code,"message":...} with ref. New reference. */
json_t *error_new(json_t *ref, enum pier_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Answers with an error (in reply order). */
void reply_error(struct conn *c, json_t *ref, enum pier_error code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The string member key of req, or NULL when missing or not a string. */
const char *req_string(const json_t *req, const char *key);

#endif
