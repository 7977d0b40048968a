/* reply.c - answers to requests: their JSON shape (the request's ref echoed, errors by code)
 * and their order (through the connection's reply slots). */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "conn.h"
#include "xalloc.h"

json_t *reply_new(const char *op, json_t *ref)
{
	json_t *r = json_object();

	json_object_set_new(r, "op", json_string(op));
	if (ref != NULL)
		json_object_set(r, "ref", ref);
	return r;
}

static json_t *verror_new(json_t *ref, enum pier_error code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static json_t *verror_new(json_t *ref, enum pier_error code, const char *fmt, va_list ap)
{
	char msg[256];
	json_t *e = reply_new("error", ref), *text;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_object_set_new(e, "error", json_string(pier_error_name(code)));
	/* A message cut inside a UTF-8 sequence is not a valid string: fall back to the code. */
	text = json_string(msg);
	json_object_set_new(e, "message", text != NULL ? text : json_string(pier_error_name(code)));
	return e;
}

json_t *error_new(json_t *ref, enum pier_error code, const char *fmt, ...)
{
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	e = verror_new(ref, code, fmt, ap);
	va_end(ap);
	return e;
}

void reply_error(struct conn *c, json_t *ref, enum pier_error code, const char *fmt, ...)
{
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	e = verror_new(ref, code, fmt, ap);
	va_end(ap);
	conn_reply(c, e);
}

const char *req_string(const json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}
