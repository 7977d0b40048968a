/* pg_conn.h - one connection to pierd on the GLib main loop (GIO), feeding libpier's
 * sans-I/O core (struct pier_client): bytes in, events out, queued requests written.
 *
 * GSocketClient connects (asynchronously: nothing here blocks the UI thread); with TLS, GIO's
 * own TLS (glib-networking, GnuTLS) checks the certificate against the system's store, or
 * against a pinned certificate file alone. At most one read and one write are in flight.
 *
 * Rules: ops callbacks run from the main loop only, never from inside pg_conn_request or
 * pg_conn_free; after `dropped` no other callback comes. A callback may call pg_conn_free on
 * its connection (the pending operations are cancelled and find it gone). The session above
 * decides about reconnecting: a connection is one attempt.
 */
#ifndef PG_CONN_H
#define PG_CONN_H

#include <stdbool.h>

#include <jansson.h>

#include "pier.h"

struct pg_conn_options {
	const char *host;
	const char *port;      /* "6666" */
	bool tls;
	const char *ca_file;   /* TLS: trust only this PEM file (a pinned certificate); NULL: system */
};

struct pg_conn_ops {
	void (*connected)(void *ud);
	/* An event or reply (borrowed: valid during the call). */
	void (*event)(void *ud, json_t *ev);
	/* The connection failed or closed; why: a message for people (English, technical). */
	void (*dropped)(void *ud, const char *why);
};

struct pg_conn;

/* Starts connecting (options copied). Never NULL. */
struct pg_conn *pg_conn_open(const struct pg_conn_options *opt, const struct pg_conn_ops *ops,
                             void *ud);
/* Takes req, adds a ref (copied to ref_out when not NULL) and queues it; written as soon as
 * the socket takes it. 0, or -1 (req could not be encoded, or not connected). */
int pg_conn_request(struct pg_conn *c, json_t *req, char ref_out[PIER_REF_MAX]);
bool pg_conn_is_connected(const struct pg_conn *c);
/* Closes and frees (no callback follows). NULL is fine. */
void pg_conn_free(struct pg_conn *c);

#endif
