/* stubserver.c - the server of the byte-layer and session tests (see stubserver.h). */
#include "stubserver.h"

#include <string.h>

#include "config.h"
#include "ratelimit.h"

void stub_server_init(struct server *srv, uv_loop_t *loop, const struct conn_handler *handler)
{
	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	config_init(&srv->cfg);
	srv->addr_limits = limit_table_new(NULL, 0);
	server_wire_contexts(srv, loop, handler);
}

void stub_server_release(struct server *srv)
{
	limit_table_free(srv->addr_limits);
	srv->addr_limits = NULL;
}
