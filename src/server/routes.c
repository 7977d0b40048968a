/* routes.c - every HTTP endpoint of pierd, in one table (see struct http_route in http.h).
 * The first route whose path and method match takes the request; "/" (a prefix) comes last
 * and serves the browser client's files. To add an endpoint, add a line above it. */
#include "http.h"
#include "metrics.h"
#include "static_files.h"
#include "ws.h"

const struct http_route http_routes[] = {
	{ .method = "GET", .path = "/ws", .on_head = ws_handle_upgrade },
	{ .method = "GET", .path = "/healthz", .on_head = metrics_handle_health },
	{ .method = "GET", .path = "/metrics", .on_head = metrics_handle },
	{ .method = "GET", .path = "/", .prefix = true, .on_head = static_handle,
	  .on_writable = static_writable, .on_done = static_done },
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);
