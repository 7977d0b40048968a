/* metrics.h - /metrics (the counters of struct metrics in server.h, in the Prometheus text
 * format) and /healthz. */
#ifndef PIER_METRICS_H
#define PIER_METRICS_H

#include <stddef.h>

struct http_exchange;
struct server;

/* Route handlers (GET /metrics, GET /healthz). */
void metrics_handle(struct http_exchange *x);
void metrics_handle_health(struct http_exchange *x);

/* The exposition text for srv, malloc'd (the caller frees); its length in *len. */
char *metrics_render(struct server *srv, size_t *len);

/* Once a second: the messages-per-second window. */
void metrics_tick(struct server *srv);

#endif
