/* stubserver.h - a struct server holding only what the byte layers and the JSON session
 * see of it (the net and session contexts, the settings, the counters, the per-address
 * table), wired by server_wire_contexts as server_init wires them, for the tests and fuzz
 * harnesses that drive those layers alone on a memory transport (memtransport.h). No store,
 * no listener, no chat: the session's requests go to the handler the test gives. */
#ifndef PIER_STUBSERVER_H
#define PIER_STUBSERVER_H

#include <uv.h>

#include "conn.h"
#include "server.h"

/* Zeroes srv, sets the default settings (change srv->cfg after, the contexts point at it),
 * a per-address table, the HTTP route table http_routes, and handler for the sessions. */
void stub_server_init(struct server *srv, uv_loop_t *loop, const struct conn_handler *handler);

/* Frees what stub_server_init took (the connections must be gone). */
void stub_server_release(struct server *srv);

#endif
