/* server.c - pierd's life: start (store, directory, listener), the loop's housekeeping
 * (flushing output once per turn, timeouts, limit sweeps) and a clean stop. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <utlist.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "store.h"

#define STOP_WORK_MS  10000   /* longest wait for stored work at stop */
#define STOP_CLOSE_MS 3000    /* longest wait for clients to take their last bytes */
#define SWEEP_TICKS   60

void server_mark_dirty(struct server *srv, struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	conn_ref(c);
	c->dirty_next = srv->dirty;
	srv->dirty = c;
}

static void flush_all(struct server *srv)
{
	while (srv->dirty != NULL) {
		struct conn *c = srv->dirty;

		srv->dirty = c->dirty_next;
		c->dirty = false;
		conn_flush(c);
		conn_unref(c);
	}
}

static void flush_check_cb(uv_check_t *h)
{
	flush_all(h->data);
}

static void flush_prepare_cb(uv_prepare_t *h)
{
	flush_all(h->data);
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct server *srv = listener->data;

	if (status < 0) {
		log_warn("accept: %s", uv_strerror(status));
		return;
	}
	if (!srv->stopping)
		conn_accept(srv);
}

static void tick_cb(uv_timer_t *t)
{
	struct server *srv = t->data;
	const struct config *cfg = &srv->cfg;
	int64_t now = pier_mono_ms();
	struct conn *c, *tmp;

	DL_FOREACH_SAFE(srv->conns, c, tmp) {
		if (uv_is_closing((uv_handle_t *)&c->tcp))
			continue;
		if (c->closing) {
			if (now > c->close_deadline_ms)
				conn_abort(c, NULL, NULL);
		} else if (c->user == NULL && !c->busy &&
		           now - c->accepted_ms > (int64_t)(cfg->login_timeout * 1000)) {
			conn_close(c, "login_timeout", "no login in time");
		}
	}
	if (++srv->ticks % SWEEP_TICKS == 0) {
		limit_sweep(srv->addr_limits, cfg->addr_fail_burst, 1.0 / cfg->addr_fail_interval,
		            cfg->register_burst, 1.0 / cfg->register_interval, now);
		limit_sweep(srv->account_limits, cfg->login_fail_burst, 1.0 / cfg->login_fail_interval,
		            1, 1, now);
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

static int bind_listener(struct server *srv)
{
	const struct config *cfg = &srv->cfg;
	struct sockaddr_storage ss;
	int len = sizeof(ss), rc;
	char host[64];

	if (strchr(cfg->listen_host, ':') != NULL)
		rc = uv_ip6_addr(cfg->listen_host, cfg->listen_port, (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(cfg->listen_host, cfg->listen_port, (struct sockaddr_in *)&ss);
	if (rc != 0) {
		log_error("bad listen address %s: %s", cfg->listen_host, uv_strerror(rc));
		return -1;
	}
	uv_tcp_init(srv->loop, &srv->listener);
	srv->listener.data = srv;
	rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection);
	if (rc != 0) {
		log_error("cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
		          uv_strerror(rc));
		uv_close((uv_handle_t *)&srv->listener, NULL);
		return -1;
	}
	srv->listening = true;
	uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6) {
		uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
		log_info("listening on [%s]:%d (tcp)", host, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else {
		uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
		log_info("listening on %s:%d (tcp)", host, ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	return 0;
}

int server_init(struct server *srv, uv_loop_t *loop, const struct config *cfg)
{
	struct store_options sopt = {0};
	char *err = NULL;

	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	srv->cfg = *cfg;
	hub_init(&srv->hub);
	srv->hub.presence_limit = (size_t)cfg->presence_limit;
	srv->addr_limits = limit_table_new();
	srv->account_limits = limit_table_new();

	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		log_error("cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
		return -1;
	}
	sopt.max_batch = cfg->store_max_batch;
	srv->store = store_open(loop, cfg->data_dir, &sopt, &err);
	if (srv->store == NULL) {
		log_error("cannot open the store in %s: %s", cfg->data_dir, err ? err : "?");
		free(err);
		return -1;
	}
	if (store_each_user(srv->store, load_user, &srv->hub) != 0 ||
	    store_each_room(srv->store, load_room, &srv->hub) != 0) {
		log_error("cannot load users and rooms from %s", cfg->data_dir);
		return -1;
	}
	log_info("store %s/pier.db: %lld users, %u rooms", cfg->data_dir,
	         (long long)srv->hub.nusers, HASH_COUNT(srv->hub.rooms));
	if (bind_listener(srv) != 0)
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
		bool idle = store_pending(srv->store) == 0 && srv->hash_jobs == 0;

		if (!idle && now < srv->stop_deadline_ms)
			return;
		if (!idle) {
			log_error("stop: stored work did not finish in time");
			srv->exit_status = 1;
		}
		DL_FOREACH_SAFE(srv->conns, c, tmp)
			if (!c->closing)
				conn_close(c, "shutting_down", "the server is stopping");
		srv->stop_phase = 2;
		srv->stop_deadline_ms = now + STOP_CLOSE_MS;
		return;
	}
	if (srv->stop_phase == 2) {
		if (srv->nconns > 0 && now < srv->stop_deadline_ms)
			return;
		DL_FOREACH_SAFE(srv->conns, c, tmp)
			conn_abort(c, NULL, NULL);
		if (srv->nconns > 0)
			return;     /* their close callbacks run on the next turn */
		store_close(srv->store);
		srv->store = NULL;
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
	if (srv->listening) {
		uv_close((uv_handle_t *)&srv->listener, NULL);
		srv->listening = false;
	}
	/* No new requests; what was asked already is finished and answered. */
	DL_FOREACH(srv->conns, c) {
		if (c->reading) {
			uv_read_stop((uv_stream_t *)&c->tcp);
			c->reading = false;
		}
	}
	srv->stop_phase = 1;
	srv->stop_deadline_ms = pier_mono_ms() + STOP_WORK_MS;
	uv_timer_start(&srv->stop_timer, stop_step, 0, 10);
}

int server_run(struct server *srv)
{
	uv_run(srv->loop, UV_RUN_DEFAULT);
	hub_release(&srv->hub);
	limit_table_free(srv->addr_limits);
	limit_table_free(srv->account_limits);
	log_info("stopped");
	return srv->exit_status;
}
