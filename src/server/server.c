/* server.c - pierd's life: start (store, directory, listeners), accepting clients onto their
 * layers, the loop's housekeeping (flushing output once per turn, timeouts, limit sweeps) and
 * a clean stop. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utlist.h>

#include "account.h"
#include "auth.h"
#include "clock.h"
#include "cluster.h"
#include "conn.h"
#include "dispatch.h"
#include "e2ee_chat.h"
#include "http.h"
#include "log.h"
#include "media.h"
#include "metrics.h"
#include "offline.h"
#include "profile.h"
#include "pwhash.h"
#include "remote.h"
#include "rooms.h"
#include "store.h"
#include "tls.h"
#include "tls_cert.h"
#include "transport.h"

#define STOP_WORK_MS  10000   /* longest wait for stored work at stop */
#define STOP_CLOSE_MS 3000    /* longest wait for clients to take their last bytes */
#define SWEEP_TICKS   60

/* ---- the chat behind every JSON session (conn.h's handler interface) ---- */

static void chat_closing(struct conn *c)
{
	if (c->user != NULL)
		session_end(c);
}

/* Room in c's output: the backlogs paced by it go on (offline messages, a device's queue). */
static void chat_drained(struct conn *c)
{
	offline_drained(c);
	if (!c->closing)
		e2ee_queue_drained(c);
}

static const char *chat_who(const struct conn *c)
{
	return c->user != NULL ? c->user->name : NULL;
}

static const struct conn_handler chat_handler = {
	.request = dispatch_line,
	.closing = chat_closing,
	.drained = chat_drained,
	.who = chat_who,
};

static void flush_all(struct server *srv)
{
	conns_flush_dirty(&srv->sessions);
	http_conns_flush(&srv->net);
}

static void flush_check_cb(uv_check_t *h)
{
	flush_all(h->data);
}

static void flush_prepare_cb(uv_prepare_t *h)
{
	flush_all(h->data);
}

/* What a client that does not speak TLS gets on a TLS port, in plain text. */
static const char tls_refusal_json[] =
	"{\"op\":\"error\",\"error\":\"tls_required\",\"message\":\"this port speaks TLS: "
	"connect with TLS (pier --tls)\",\"fatal\":true}\n";
static const char tls_refusal_http[] =
	"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 44\r\n"
	"Connection: close\r\n\r\nThis port speaks HTTPS: use an https:// URL\n";

static const char *const listener_names[LISTEN_KINDS] = { "tcp", "tls", "http", "https" };

static void on_connection(uv_stream_t *handle, int status)
{
	struct listener *l = handle->data;
	struct server *srv = l->srv;
	struct transport *t;

	if (status < 0) {
		log_warn("accept (%s): %s", listener_names[l->kind], uv_strerror(status));
		return;
	}
	if (srv->stopping)
		return;
	t = transport_accept(&srv->net, handle, l->kind);
	if (t == NULL)
		return;
	switch (l->kind) {
	case LISTEN_TLS:
		tls_transport_init(t, srv->tls_ctx, tls_refusal_json);
		conn_new(&srv->sessions, t, &conn_lines_framing, NULL);
		break;
	case LISTEN_TCP:
		conn_new(&srv->sessions, t, &conn_lines_framing, NULL);
		break;
	case LISTEN_HTTPS:
		tls_transport_init(t, srv->tls_ctx, tls_refusal_http);
		http_conn_new(t);
		break;
	case LISTEN_HTTP:
	case LISTEN_KINDS:
		http_conn_new(t);
		break;
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct server *srv = t->data;
	int64_t now = pier_mono_ms();
	struct conn *c, *tmp;

	DL_FOREACH_SAFE(srv->sessions.conns, c, tmp) {
		conn_ref(c);
		conn_tick(c, now);
		conn_unref(c);
	}
	http_conns_tick(&srv->net, now);
	metrics_tick(srv);
	rooms_sweep(srv);
	account_tick(srv, now);
	offline_tick(srv);
	if (++srv->ticks % SWEEP_TICKS == 0) {
		limit_sweep(srv->addr_limits, now);
		limit_sweep(srv->account_limits, now);
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	log_info("signal %d: stopping", signum);
	server_stop(h->data);
}

static void load_user(void *ud, int64_t id, const char *name)
{
	hub_add_user(ud, id, name);
}

static void load_room(void *ud, const char *name, int64_t members)
{
	hub_add_room(ud, name, members);
}

static int bind_listener(struct server *srv, enum listener_kind kind,
                         const struct listen_addr *la)
{
	struct listener *l = &srv->listeners[kind];
	struct sockaddr_storage ss;
	int len = sizeof(ss), rc;
	char host[64];

	if (strchr(la->host, ':') != NULL)
		rc = uv_ip6_addr(la->host, la->port, (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(la->host, la->port, (struct sockaddr_in *)&ss);
	if (rc != 0) {
		log_error("bad %s listen address %s: %s", listener_names[kind], la->host,
		          uv_strerror(rc));
		return -1;
	}
	l->srv = srv;
	l->kind = kind;
	uv_tcp_init(srv->loop, &l->handle);
	l->handle.data = l;
	rc = uv_tcp_bind(&l->handle, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&l->handle, 1024, on_connection);
	if (rc != 0) {
		log_error("cannot listen on %s:%d (%s): %s", la->host, la->port, listener_names[kind],
		          uv_strerror(rc));
		uv_close((uv_handle_t *)&l->handle, NULL);
		return -1;
	}
	l->active = true;
	uv_tcp_getsockname(&l->handle, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6) {
		uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
		log_info("listening on [%s]:%d (%s)", host, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port),
		         listener_names[kind]);
	} else {
		uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
		log_info("listening on %s:%d (%s)", host, ntohs(((struct sockaddr_in *)&ss)->sin_port),
		         listener_names[kind]);
	}
	return 0;
}

static void close_listeners(struct server *srv)
{
	for (int k = 0; k < LISTEN_KINDS; k++) {
		if (srv->listeners[k].active) {
			uv_close((uv_handle_t *)&srv->listeners[k].handle, NULL);
			srv->listeners[k].active = false;
		}
	}
}

/* The plain listeners, and the TLS ones when there is a certificate. The order of the log
 * lines is fixed (tcp, tls, http, https): tests read the ports from them. */
static int bind_listeners(struct server *srv)
{
	const struct config *cfg = &srv->cfg;
	bool tls = srv->tls_ctx != NULL;
	int n = 0;

	if (!cfg->listen.off && bind_listener(srv, LISTEN_TCP, &cfg->listen) != 0)
		goto fail;
	if (tls && !cfg->tls_listen.off && bind_listener(srv, LISTEN_TLS, &cfg->tls_listen) != 0)
		goto fail;
	if (!cfg->http.off && bind_listener(srv, LISTEN_HTTP, &cfg->http) != 0)
		goto fail;
	if (tls && !cfg->https.off && bind_listener(srv, LISTEN_HTTPS, &cfg->https) != 0)
		goto fail;
	for (int k = 0; k < LISTEN_KINDS; k++)
		n += srv->listeners[k].active;
	if (n == 0) {
		log_error("every listener is off: nothing to serve");
		return -1;
	}
	return 0;
fail:
	close_listeners(srv);
	return -1;
}

void server_wire_contexts(struct server *srv, uv_loop_t *loop,
                          const struct conn_handler *handler)
{
	srv->net.loop = loop;
	srv->net.cfg = &srv->cfg;
	srv->net.metrics = &srv->metrics.net;
	srv->net.addr_limits = srv->addr_limits;
	srv->net.routes = http_routes;
	srv->net.nroutes = http_nroutes;
	srv->net.srv = srv;
	srv->net.sessions = &srv->sessions;
	srv->sessions.cfg = &srv->cfg;
	srv->sessions.net = &srv->net;
	srv->sessions.handler = handler;
	srv->sessions.srv = srv;
}

/* --nats: joins the cluster and waits (running the loop; nothing is served yet) until the
 * sequencer knows where the store's messages end. 0, or -1 (logged). */
static int cluster_start(struct server *srv)
{
	struct config *cfg = &srv->cfg;
	struct cluster_options o = {
		.urls = cfg->nats, .cluster_name = cfg->cluster_name, .node_name = cfg->node_name,
		.lease_ms = (int64_t)(cfg->presence_lease * 1000), .max_text = cfg->max_text,
	};
	char *err = NULL;
	bool failed = false;

	if (cfg->node_name[0] == '\0') {
		char host[64] = "node";
		size_t n;

		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		for (n = 0; host[n] != '\0'; n++) {
			char ch = host[n];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
				host[n] = '_';
		}
		snprintf(cfg->node_name, sizeof(cfg->node_name), "%.40s-%ld", host, (long)getpid());
	}
	if (strncmp(cfg->store_url, "postgres", 8) != 0)
		log_warn("cluster: on SQLite every node must run on this host with the same "
		         "--data-dir (docs/CLUSTER.md); use --store postgresql://... across hosts");
	srv->cluster = cluster_open(srv->loop, srv->store, &o, remote_handler(), srv, &err);
	if (srv->cluster == NULL) {
		log_error("cluster: %s", err != NULL ? err : "cannot start");
		free(err);
		return -1;
	}
	while (!cluster_ready(srv->cluster, &failed) && !failed)
		uv_run(srv->loop, UV_RUN_ONCE);
	if (failed) {
		log_error("cluster: cannot read where the stored messages end");
		return -1;
	}
	log_info("cluster %s: node %s on %s, presence lease %.0fs", cfg->cluster_name,
	         cfg->node_name, cfg->nats, cfg->presence_lease);
	return 0;
}

int server_init(struct server *srv, uv_loop_t *loop, const struct config *cfg)
{
	struct store_options sopt = {0};
	char *err = NULL;

	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	srv->cfg = *cfg;
	srv->started_ms = pier_mono_ms();
	hub_init(&srv->hub);
	srv->hub.presence_limit = (size_t)cfg->presence_limit;
	{
		const struct limit_rule addr[ADDR_LIMITS] = {
			[ADDR_FAILS] = {cfg->addr_fail_burst, 1.0 / cfg->addr_fail_interval},
			[ADDR_REGISTERS] = {cfg->register_burst, 1.0 / cfg->register_interval},
			[ADDR_LOGINS] = {cfg->login_burst, 1.0 / cfg->login_interval},
		};
		const struct limit_rule account[ACCOUNT_LIMITS] = {
			[ACCOUNT_FAILS] = {cfg->login_fail_burst, 1.0 / cfg->login_fail_interval},
			[ACCOUNT_LOGINS] = {cfg->login_burst, 1.0 / cfg->login_interval},
		};

		srv->addr_limits = limit_table_new(addr, ADDR_LIMITS);
		srv->account_limits = limit_table_new(account, ACCOUNT_LIMITS);
	}
	server_wire_contexts(srv, loop, &chat_handler);

	/* The owner's alone, even when it existed before (the store and media are inside). */
	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		log_error("cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
		return -1;
	}
	if (chmod(cfg->data_dir, 0700) != 0) {
		log_error("cannot make data directory %s private (chmod 0700): %s", cfg->data_dir,
		          strerror(errno));
		return -1;
	}
	srv->pwhash = pwhash_pool_new(loop, cfg->hash_threads, cfg->max_hash_jobs);
	if (srv->pwhash == NULL) {
		log_error("cannot start the password hashing threads");
		return -1;
	}
	sopt.url = cfg->store_url[0] != '\0' ? cfg->store_url : NULL;
	sopt.max_batch = cfg->store_max_batch;
	sopt.token_idle_ms = (int64_t)(cfg->token_idle * 1000);
	srv->store = store_open(loop, cfg->data_dir, &sopt, &err);
	if (srv->store == NULL) {
		log_error("cannot open the store %s: %s", sopt.url != NULL ? sopt.url : cfg->data_dir,
		          err ? err : "?");
		free(err);
		return -1;
	}
	if (store_each_user(srv->store, load_user, &srv->hub) != 0 ||
	    store_each_room(srv->store, load_room, &srv->hub) != 0) {
		log_error("cannot load users and rooms from %s", cfg->data_dir);
		return -1;
	}
	/* The URL carries no password (config.c refuses one). */
	if (sopt.url != NULL && strcmp(sopt.url, "sqlite") != 0)
		log_info("store %s: %lld users, %u rooms", sopt.url, (long long)srv->hub.nusers,
		         HASH_COUNT(srv->hub.rooms));
	else
		log_info("store %s/pier.db: %lld users, %u rooms", cfg->data_dir,
		         (long long)srv->hub.nusers, HASH_COUNT(srv->hub.rooms));
	if (profile_load(srv) != 0)
		return -1;
	if (media_init(srv) != 0)
		return -1;
	if (cfg->nats[0] != '\0' && cluster_start(srv) != 0)
		return -1;
	if (config_has_tls(cfg)) {
		srv->tls_ctx = tls_server_ctx_new(cfg->tls_cert, cfg->tls_key);
		if (srv->tls_ctx == NULL)
			return -1;
	}
	if (bind_listeners(srv) != 0)
		return -1;

	uv_signal_init(loop, &srv->sigint);
	uv_signal_init(loop, &srv->sigterm);
	srv->sigint.data = srv->sigterm.data = srv;
	uv_signal_start(&srv->sigint, on_signal, SIGINT);
	uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
	uv_timer_init(loop, &srv->tick);
	srv->tick.data = srv;
	uv_timer_start(&srv->tick, tick_cb, 1000, 1000);
	uv_check_init(loop, &srv->flush_check);
	srv->flush_check.data = srv;
	uv_check_start(&srv->flush_check, flush_check_cb);
	uv_prepare_init(loop, &srv->flush_prepare);
	srv->flush_prepare.data = srv;
	uv_prepare_start(&srv->flush_prepare, flush_prepare_cb);
	uv_timer_init(loop, &srv->stop_timer);
	srv->stop_timer.data = srv;
	config_log(cfg);
	return 0;
}

static void close_handles(struct server *srv)
{
	uv_close((uv_handle_t *)&srv->sigint, NULL);
	uv_close((uv_handle_t *)&srv->sigterm, NULL);
	uv_close((uv_handle_t *)&srv->tick, NULL);
	uv_close((uv_handle_t *)&srv->flush_check, NULL);
	uv_close((uv_handle_t *)&srv->flush_prepare, NULL);
	uv_close((uv_handle_t *)&srv->stop_timer, NULL);
}

/* Steps of a clean stop, polled every 10 ms: stored work first, then clients, then the store. */
static void stop_step(uv_timer_t *t)
{
	struct server *srv = t->data;
	int64_t now = pier_mono_ms();
	struct conn *c, *tmp;

	if (srv->stop_phase == 1) {
		bool idle = store_pending(srv->store) == 0 && pwhash_reserved(srv->pwhash) == 0 &&
		            !media_is_busy(srv);

		if (!idle && now < srv->stop_deadline_ms)
			return;
		if (!idle) {
			log_error("stop: stored work did not finish in time");
			srv->exit_status = 1;
		}
		DL_FOREACH_SAFE(srv->sessions.conns, c, tmp)
			if (!c->closing)
				conn_close(c, PIER_ERR_SHUTTING_DOWN, "the server is stopping");
		srv->stop_phase = 2;
		srv->stop_deadline_ms = now + STOP_CLOSE_MS;
		return;
	}
	if (srv->stop_phase == 2) {
		if (srv->sessions.nconns + srv->net.nhttp > 0 && now < srv->stop_deadline_ms)
			return;
		DL_FOREACH_SAFE(srv->sessions.conns, c, tmp)
			conn_abort(c, PIER_ERR_NONE, NULL);
		http_conns_abort(&srv->net);
		if (srv->sessions.nconns + srv->net.nhttp > 0)
			return;     /* their close callbacks run on the next turn */
		if (media_is_busy(srv) && now < srv->stop_deadline_ms + STOP_WORK_MS)
			return;     /* uploads being finished still record them in the store */
		if (srv->cluster != NULL) {
			cluster_close(srv->cluster);      /* freed once its reads are done */
			srv->cluster = NULL;
		}
		store_close(srv->store);
		srv->store = NULL;
		pwhash_pool_free(srv->pwhash);
		srv->pwhash = NULL;
		srv->stop_phase = 3;
		close_handles(srv);
	}
}

void server_stop(struct server *srv)
{
	struct conn *c;

	if (srv->stopping)
		return;
	srv->stopping = true;
	srv->sessions.stopping = true;
	close_listeners(srv);
	/* No new requests; what was asked already is finished and answered. */
	DL_FOREACH(srv->sessions.conns, c)
		conn_stop_reading(c);
	http_conns_stop(&srv->net);
	srv->stop_phase = 1;
	srv->stop_deadline_ms = pier_mono_ms() + STOP_WORK_MS;
	uv_timer_start(&srv->stop_timer, stop_step, 0, 10);
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void server_release_failed(struct server *srv)
{
	if (srv->cluster != NULL) {
		cluster_close(srv->cluster);
		srv->cluster = NULL;
	}
	if (srv->store != NULL) {
		store_close(srv->store);
		srv->store = NULL;
	}
	pwhash_pool_free(srv->pwhash);
	srv->pwhash = NULL;
	uv_walk(srv->loop, close_walk_cb, NULL);
	uv_run(srv->loop, UV_RUN_DEFAULT);
	tls_server_ctx_free(srv->tls_ctx);
	srv->tls_ctx = NULL;
	hub_release(&srv->hub);
	profile_unload(srv);
	media_release(srv);
	limit_table_free(srv->addr_limits);
	limit_table_free(srv->account_limits);
	srv->addr_limits = srv->account_limits = NULL;
}

int server_run(struct server *srv)
{
	uv_run(srv->loop, UV_RUN_DEFAULT);
	tls_server_ctx_free(srv->tls_ctx);
	srv->tls_ctx = NULL;
	hub_release(&srv->hub);
	profile_unload(srv);
	media_release(srv);
	limit_table_free(srv->addr_limits);
	limit_table_free(srv->account_limits);
	log_info("stopped");
	return srv->exit_status;
}
