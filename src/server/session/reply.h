/* reply.h - how a request handler answers: replies and errors built in one shape (the
 * request's ref echoed), answered in request order through the connection's reply slots
 * (requests answered after a store job: chat/deferred.h). Wire error codes are the
 * enum of protocol.h; docs/PROTOCOL.md lists them. */
#ifndef PIER_REPLY_H
#define PIER_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "protocol.h"

struct conn;

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
