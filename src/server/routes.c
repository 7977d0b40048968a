/* routes.c - every HTTP endpoint of pierd, in one table (see struct http_route in http.h).
 * The first route whose path and method match takes the request; "/" (a prefix) comes last
 * and serves the browser client's files. To add an endpoint, add a line above it. */
#include "http.h"
#include "media.h"
#include "metrics.h"
#include "static_files.h"
#include "ws.h"

const struct http_route http_routes[] = {
	{ .method = "GET", .path = "/ws", .on_head = ws_handle_upgrade },
	{ .method = "GET", .path = "/healthz", .on_head = metrics_handle_health },
	{ .method = "GET", .path = "/metrics", .on_head = metrics_handle },
	/* media (media.h): uploads, tus, downloads, the browser's session cookie */
	{ .method = "POST", .path = "/api/media", .max_body = HTTP_BODY_HANDLER_LIMIT,
	  .on_head = media_upload_head, .on_body = media_upload_body, .on_end = media_upload_end,
	  .on_done = media_req_done },
	{ .method = NULL, .path = "/api/tus", .prefix = true, .max_body = HTTP_BODY_HANDLER_LIMIT,
	  .on_head = tus_head, .on_body = tus_body, .on_end = tus_end, .on_done = media_req_done },
	{ .method = "POST", .path = "/api/session", .on_head = media_session_head,
	  .on_done = media_req_done },
	{ .method = "DELETE", .path = "/api/session", .on_head = media_session_head,
	  .on_done = media_req_done },
	{ .method = "GET", .path = "/media/", .prefix = true, .on_head = media_get_head,
	  .on_writable = media_get_writable, .on_done = media_req_done },
	{ .method = "GET", .path = "/", .prefix = true, .on_head = static_handle,
	  .on_writable = static_writable, .on_done = static_done },
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);
