/* metrics.c - rendering pierd's counters in the Prometheus text format (version 0.0.4) and
 * answering health checks. Counters are bumped where their events happen; gauges that can be
 * counted when scraped (sessions, store queue) are counted here. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <utlist.h>

#include "clock.h"
#include "cluster.h"
#include "conn.h"
#include "http.h"
#include "pwhash.h"
#include "server.h"
#include "store.h"
#include "xalloc.h"

struct text {
	char *data;
	size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->data ? t->data + t->len : NULL, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap ? t->cap * 2 : 4096;
		while (t->cap - t->len <= (size_t)n)
			t->cap *= 2;
		t->data = xrealloc(t->data, t->cap);
	}
	t->len += (size_t)n;
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct text *t, const char *name, const char *type, const char *help,
                unsigned long long value)
{
	head(t, name, type, help);
	put(t, "%s %llu\n", name, value);
}

static const char *const listener_names[LISTEN_KINDS] = { "tcp", "tls", "http", "https" };

char *metrics_render(struct server *srv, size_t *len)
{
	const struct metrics *m = &srv->metrics;
	struct text t = {0};
	unsigned long long sessions = 0, ws_sessions = 0;
	struct conn *c;

	DL_FOREACH(srv->sessions.conns, c) {
		if (c->user != NULL && !c->closing) {
			sessions++;
			if (strcmp(c->framing->name, "websocket") == 0)
				ws_sessions++;
		}
	}
	head(&t, "pier_connections", "gauge", "Open connections, by listener.");
	for (int k = 0; k < LISTEN_KINDS; k++)
		put(&t, "pier_connections{listener=\"%s\"} %llu\n", listener_names[k],
		    (unsigned long long)m->net.open[k]);
	head(&t, "pier_connections_accepted_total", "counter", "Connections accepted, by listener.");
	for (int k = 0; k < LISTEN_KINDS; k++)
		put(&t, "pier_connections_accepted_total{listener=\"%s\"} %llu\n", listener_names[k],
		    (unsigned long long)m->net.accepted[k]);
	one(&t, "pier_sessions", "gauge", "Logged-in sessions.", sessions);
	one(&t, "pier_websocket_sessions", "gauge", "Logged-in sessions over WebSocket.", ws_sessions);
	one(&t, "pier_users_online", "gauge", "Users with at least one session.",
	    (unsigned long long)srv->hub.nonline);
	one(&t, "pier_logins_total", "counter", "Sessions opened (successful logins).", m->logins);
	one(&t, "pier_websocket_upgrades_total", "counter", "WebSocket upgrades.", srv->sessions.metrics.ws_upgrades);
	one(&t, "pier_messages_total", "counter", "Messages stored.", m->messages);
	head(&t, "pier_messages_per_second", "gauge", "Messages stored per second, last 10 s.");
	put(&t, "pier_messages_per_second %.2f\n", m->msg_rate);
	one(&t, "pier_deliveries_total", "counter", "Message events queued to recipients.",
	    m->deliveries);
	one(&t, "pier_bytes_received_total", "counter", "Bytes read from sockets.", m->net.bytes_in);
	one(&t, "pier_bytes_sent_total", "counter", "Bytes written to sockets.", m->net.bytes_out);
	one(&t, "pier_slow_consumers_total", "counter", "Sessions dropped for unread output.",
	    srv->sessions.metrics.slow_consumers);
	one(&t, "pier_tls_handshake_failures_total", "counter", "TLS handshakes that failed.",
	    m->net.tls_handshake_failures);
	one(&t, "pier_http_requests_total", "counter", "HTTP requests.", m->net.http_requests);
	head(&t, "pier_http_responses_total", "counter", "HTTP responses, by status class.");
	for (int k = 1; k <= 5; k++)
		put(&t, "pier_http_responses_total{code=\"%dxx\"} %llu\n", k,
		    (unsigned long long)m->net.http_responses[k]);
	if (srv->store != NULL) {
		uint64_t commits = store_commits(srv->store), ckpt_thread, ckpt_commit;

		one(&t, "pier_store_queue_depth", "gauge", "Store jobs submitted, not yet completed.",
		    (unsigned long long)store_pending(srv->store));
		head(&t, "pier_store_commit_seconds", "summary", "Time to commit a batch (fsync included).");
		put(&t, "pier_store_commit_seconds_sum %.6f\n",
		    (double)store_commit_usec(srv->store) / 1e6);
		put(&t, "pier_store_commit_seconds_count %llu\n", (unsigned long long)commits);
		if (store_checkpoints(srv->store, &ckpt_thread, &ckpt_commit)) {
			one(&t, "pier_store_checkpoints_total", "counter",
			    "SQLite WAL checkpoints by the checkpointer thread, beside the commits.",
			    ckpt_thread);
			one(&t, "pier_store_checkpoints_in_commit_total", "counter",
			    "SQLite WAL checkpoints inside a commit (the WAL passed its hard limit).",
			    ckpt_commit);
		}
	}
	if (srv->pwhash != NULL) {
		one(&t, "pier_password_slots_in_use", "gauge",
		    "Password requests holding a hashing slot (--max-hash-jobs).",
		    (unsigned long long)pwhash_reserved(srv->pwhash));
		one(&t, "pier_password_slots_peak", "gauge",
		    "The most password hashing slots ever held at once.",
		    (unsigned long long)pwhash_peak(srv->pwhash));
		one(&t, "pier_password_hashes_total", "counter", "Passwords hashed or checked.",
		    pwhash_count(srv->pwhash));
	}
	one(&t, "pier_uploads_total", "counter", "Media uploads.", m->uploads);
	one(&t, "pier_upload_bytes_total", "counter", "Bytes of media uploaded.", m->upload_bytes);
	if (srv->cluster != NULL) {         /* one node of a cluster (docs/CLUSTER.md) */
		struct cluster_stats cs = cluster_stats(srv->cluster);

		one(&t, "pier_cluster_delivered_total", "counter",
		    "Messages of every node handed to local fan-out by the sequencer.",
		    cs.seq.delivered);
		one(&t, "pier_cluster_duplicates_total", "counter",
		    "Messages the sequencer dropped as already delivered.", cs.seq.duplicates);
		one(&t, "pier_cluster_gap_reads_total", "counter",
		    "Store reads of the sequencer (gaps, the 1 s poll, after (re)connecting).",
		    cs.seq.reads);
		one(&t, "pier_cluster_position", "gauge",
		    "The highest message id delivered here with every one below it.",
		    (unsigned long long)cs.seq.position);
		one(&t, "pier_cluster_refused_total", "counter",
		    "Bus payloads refused by their checks.", cs.refused);
		one(&t, "pier_cluster_bus_published_total", "counter", "Payloads published on NATS.",
		    cs.published);
		one(&t, "pier_cluster_bus_received_total", "counter", "Payloads received from NATS.",
		    cs.received);
		one(&t, "pier_cluster_bus_dropped_total", "counter",
		    "Payloads dropped: not published while NATS was away, or past the loop's queue.",
		    cs.dropped_in + cs.dropped_out);
		one(&t, "pier_cluster_bus_reconnects_total", "counter", "Reconnections to NATS.",
		    cs.reconnects);
		one(&t, "pier_cluster_nodes", "gauge",
		    "Other nodes heard on the bus within the presence lease.", cs.nodes);
	}
	head(&t, "pier_uptime_seconds", "gauge", "Seconds since pierd started.");
	put(&t, "pier_uptime_seconds %.0f\n", (double)(pier_mono_ms() - srv->started_ms) / 1000.0);
	*len = t.len;
	return t.data;
}

static bool is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strncmp(addr, "::ffff:127.", 11) == 0;
}

/* The request carries "Authorization: Bearer TOKEN" with the --metrics-token (compared in
 * constant time). */
static bool has_token(const struct http_exchange *x, const char *token)
{
	const char *h = http_header(x, "Authorization");
	size_t n = strlen(token);

	if (n == 0 || h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return strlen(h) == n && CRYPTO_memcmp(h, token, n) == 0;
}

/* --metrics-allow: everyone, loopback peers and token holders, or token holders only. */
static bool metrics_allowed(const struct http_exchange *x)
{
	const struct config *cfg = &http_server(x)->cfg;

	if (cfg->metrics_allow == METRICS_ALL || has_token(x, cfg->metrics_token))
		return true;
	return cfg->metrics_allow == METRICS_LOOPBACK && is_loopback(http_peer(x));
}

void metrics_handle(struct http_exchange *x)
{
	size_t len;
	char *text;

	if (!metrics_allowed(x)) {
		http_error(x, 403, "/metrics is for loopback peers or the --metrics-token holder");
		return;
	}
	text = metrics_render(http_server(x), &len);

	http_response_start(x, 200, (int64_t)len);
	http_response_header(x, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	http_response_header(x, "Cache-Control", "no-store");
	http_response_body(x, text, len);
	http_response_end(x);
	free(text);
}

void metrics_handle_health(struct http_exchange *x)
{
	struct server *srv = http_server(x);
	bool ok = !srv->stopping;

	http_response_start(x, ok ? 200 : 503, ok ? 3 : 9);
	http_response_header(x, "Content-Type", "text/plain; charset=utf-8");
	http_response_header(x, "Cache-Control", "no-store");
	http_response_body(x, ok ? "ok\n" : "stopping\n", ok ? 3 : 9);
	http_response_end(x);
}

void metrics_tick(struct server *srv)
{
	struct metrics *m = &srv->metrics;
	unsigned n = METRICS_RATE_WINDOW + 1, cur = m->msg_ring_pos % n;
	unsigned oldest = (cur + 1) % n;

	m->msg_ring[cur] = m->messages;
	/* until the window has filled, the oldest slot is 0: the rate counts from the start */
	m->msg_rate = (double)(m->messages - m->msg_ring[oldest]) / METRICS_RATE_WINDOW;
	m->msg_ring_pos++;
}
