/* dispatch.h - from a request line to its handler: JSON parsing, the op table, and the
 * checks every request passes before its handler (login state, rate buckets). Handlers answer
 * through reply.h. */
#ifndef PIER_DISPATCH_H
#define PIER_DISPATCH_H

#include <stddef.h>

struct conn;

/* Parses one request line (without its newline) and runs its handler, or answers the error
 * that stops it (bad_json, unknown_op, not_logged_in, rate_limited...). */
void dispatch_line(struct conn *c, const char *line, size_t len);

#endif
