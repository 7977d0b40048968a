/* cluster.c - a pier cluster on loopback (3 pierd + PostgreSQL + 3 nats-server + HAProxy) for
 * the cluster tests (cluster.h). */

#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "netclient.h"
#include "rundir.h"

#define NATS_ROUTE_NEEDLE "Route connection created"
#define STOP_MS           10000
#define MAX_ARGS          32
#define BUS_WHOLE_MS      60000   /* NATS re-solicits a dropped duplicate route within seconds */

struct cluster {
	char dir[PATH_MAX];             /* the shared --data-dir; logs and haproxy.cfg too */
	char db[64];                    /* the database made for the cluster */
	char *store_url;
	int nats_port[CLUSTER_NODES], nats_route[CLUSTER_NODES];
	pid_t nats_pid[CLUSTER_NODES];
	char nats_urls[256];
	char lease[16];
	struct pierd *node[CLUSTER_NODES];
	int lb_json, lb_http;
	pid_t haproxy_pid;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		/* the rest */
	}
}

/* True if something accepts connections on 127.0.0.1:port. */
static bool port_answers(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* How many times needle occurs in path from offset on. */
static int count_in_file(const char *path, long offset, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;

	if (f == NULL)
		return 0;
	if (offset > 0)
		fseek(f, offset, SEEK_SET);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, needle) != NULL)
			n++;
	}
	fclose(f);
	return n;
}

static void print_tail(const char *path, int lines)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "tail -n %d '%s' >&2", lines, path);
	fprintf(stderr, "---- last lines of %s ----\n", path);
	fflush(stderr);
	if (system(cmd) != 0) {
		/* nothing to show */
	}
}

/* SIGTERM pid, waits up to STOP_MS, then SIGKILL. */
static void stop_child(pid_t *pid)
{
	int64_t deadline = pier_mono_ms() + STOP_MS;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	while (pier_mono_ms() < deadline) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		sleep_ms(20);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

/* ---- NATS ---- */

static void nats_log(const struct cluster *c, int i, char *out, size_t n)
{
	snprintf(out, n, "%s/nats%d.log", c->dir, i + 1);
}

int cluster_nats_start(struct cluster *c)
{
	long offset[CLUSTER_NODES];
	int64_t deadline;

	for (int i = 0; i < CLUSTER_NODES; i++) {
		char log[PATH_MAX + 16], port[16], name[32], listen[64], routes[256] = "";
		char *argv[16];
		int a = 0;

		nats_log(c, i, log, sizeof(log));
		offset[i] = file_size(log);
		snprintf(port, sizeof(port), "%d", c->nats_port[i]);
		snprintf(name, sizeof(name), "pier-test-%d", i + 1);
		snprintf(listen, sizeof(listen), "nats://127.0.0.1:%d", c->nats_route[i]);
		for (int j = 0; j < CLUSTER_NODES; j++) {
			size_t len = strlen(routes);

			if (j != i)
				snprintf(routes + len, sizeof(routes) - len, "%snats://127.0.0.1:%d",
				         len > 0 ? "," : "", c->nats_route[j]);
		}
		argv[a++] = (char *)NATS_SERVER_PATH;
		argv[a++] = (char *)"-a";
		argv[a++] = (char *)"127.0.0.1";
		argv[a++] = (char *)"-p";
		argv[a++] = port;
		argv[a++] = (char *)"-n";
		argv[a++] = name;
		argv[a++] = (char *)"--cluster";
		argv[a++] = listen;
		argv[a++] = (char *)"--cluster_name";
		argv[a++] = (char *)"pier-test";
		argv[a++] = (char *)"--routes";
		argv[a++] = routes;
		argv[a] = NULL;
		c->nats_pid[i] = rundir_spawn(argv, log, "cluster");
		if (!CHECK(c->nats_pid[i] > 0, "spawn nats-server: %s", strerror(errno)))
			return -1;
	}
	/* Ready when every node listens and has its routes to the two others. */
	deadline = pier_mono_ms() + HARNESS_START_MS;
	for (;;) {
		bool ready = true;

		for (int i = 0; i < CLUSTER_NODES; i++) {
			char log[PATH_MAX + 16];

			nats_log(c, i, log, sizeof(log));
			ready = ready && port_answers(c->nats_port[i]) &&
			        count_in_file(log, offset[i], NATS_ROUTE_NEEDLE) >= CLUSTER_NODES - 1;
		}
		if (ready)
			return 0;
		if (pier_mono_ms() > deadline)
			break;
		sleep_ms(50);
	}
	CHECK(false, "the NATS cluster did not form within %d ms", HARNESS_START_MS);
	for (int i = 0; i < CLUSTER_NODES; i++) {
		char log[PATH_MAX + 16];

		nats_log(c, i, log, sizeof(log));
		print_tail(log, 10);
	}
	return -1;
}

int cluster_nats_stop(struct cluster *c)
{
	/* all at once: an outage, not a rolling restart */
	for (int i = 0; i < CLUSTER_NODES; i++) {
		if (c->nats_pid[i] > 0)
			kill(c->nats_pid[i], SIGTERM);
	}
	for (int i = 0; i < CLUSTER_NODES; i++)
		stop_child(&c->nats_pid[i]);
	return 0;
}

/* ---- HAProxy ---- */

/* Replaces every "@KEY@" of the template by its port. */
static int write_haproxy_cfg(struct cluster *c, const char *path)
{
	struct { const char *key; int port; } subst[3 + 2 * CLUSTER_NODES];
	FILE *in = fopen(CLUSTER_HAPROXY_TEMPLATE, "r"), *out = fopen(path, "w");
	char line[1024], keys[2 * CLUSTER_NODES][16];
	size_t ns = 0;
	int rc = -1;

	subst[ns].key = "@LB_JSON@";
	subst[ns++].port = c->lb_json;
	subst[ns].key = "@LB_HTTP@";
	subst[ns++].port = c->lb_http;
	subst[ns].key = "@PER_SOURCE@";   /* every test client comes from 127.0.0.1 */
	subst[ns++].port = 100000;
	for (int i = 0; i < CLUSTER_NODES; i++) {
		snprintf(keys[2 * i], sizeof(keys[0]), "@NODE%d_JSON@", i + 1);
		snprintf(keys[2 * i + 1], sizeof(keys[0]), "@NODE%d_HTTP@", i + 1);
		subst[ns].key = keys[2 * i];
		subst[ns++].port = pierd_port(c->node[i]);
		subst[ns].key = keys[2 * i + 1];
		subst[ns++].port = pierd_http_port(c->node[i]);
	}
	if (!CHECK(in != NULL && out != NULL, "open %s / %s", CLUSTER_HAPROXY_TEMPLATE, path))
		goto out;
	while (fgets(line, sizeof(line), in) != NULL) {
		char *at = line;

		for (;;) {
			char *key = strchr(at, '@');
			bool done = false;

			if (key == NULL) {
				fputs(at, out);
				break;
			}
			for (size_t k = 0; k < ns && !done; k++) {
				size_t kl = strlen(subst[k].key);

				if (strncmp(key, subst[k].key, kl) == 0) {
					fprintf(out, "%.*s%d", (int)(key - at), at, subst[k].port);
					at = key + kl;
					done = true;
				}
			}
			if (!done) {
				fprintf(out, "%.*s@", (int)(key - at), at);
				at = key + 1;
			}
		}
	}
	rc = 0;
out:
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	return rc;
}

static int haproxy_start(struct cluster *c)
{
	char cfg[PATH_MAX + 16], log[PATH_MAX + 16];
	char *argv[] = { (char *)HAPROXY_PATH, (char *)"-db", (char *)"-f", cfg, NULL };
	int64_t deadline;

	snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", c->dir);
	snprintf(log, sizeof(log), "%s/haproxy.log", c->dir);
	if (write_haproxy_cfg(c, cfg) != 0)
		return -1;
	c->haproxy_pid = rundir_spawn(argv, log, "cluster");
	if (!CHECK(c->haproxy_pid > 0, "spawn haproxy: %s", strerror(errno)))
		return -1;
	deadline = pier_mono_ms() + HARNESS_START_MS;
	while (pier_mono_ms() < deadline) {
		if (port_answers(c->lb_json) && port_answers(c->lb_http))
			return 0;
		if (waitpid(c->haproxy_pid, NULL, WNOHANG) == c->haproxy_pid) {
			c->haproxy_pid = 0;
			break;
		}
		sleep_ms(20);
	}
	CHECK(false, "haproxy did not listen on %d and %d", c->lb_json, c->lb_http);
	print_tail(log, 20);
	return -1;
}

/* ---- the cluster ---- */

static void cluster_free(struct cluster *c, bool failed);

static int start_node(struct cluster *c, int i, const char *const *extra)
{
	const char *argv[MAX_ARGS];
	char name[16];
	size_t a = 0;

	snprintf(name, sizeof(name), "node%d", i + 1);
	argv[a++] = "--store";
	argv[a++] = c->store_url;
	argv[a++] = "--nats";
	argv[a++] = c->nats_urls;
	argv[a++] = "--node-name";
	argv[a++] = name;
	argv[a++] = "--presence-lease";
	argv[a++] = c->lease;
	argv[a++] = "--max-conns-per-addr";   /* behind HAProxy: its limit per source counts */
	argv[a++] = "0";
	for (size_t k = 0; extra != NULL && extra[k] != NULL && a < MAX_ARGS - 1; k++)
		argv[a++] = extra[k];
	argv[a] = NULL;
	c->node[i] = pierd_start_in(c->dir, name, argv);
	return c->node[i] != NULL ? 0 : -1;
}

/* Waits until every node hears every other on the bus (pier_cluster_nodes, docs/CLUSTER.md
 * "Is the bus whole?"): NATS routes may settle seconds after the servers log them, and a test
 * that starts before would see a node that nobody hears. */
static int wait_bus_whole(struct cluster *c)
{
	int64_t t0 = pier_mono_ms(), deadline = t0 + BUS_WHOLE_MS;
	long heard[CLUSTER_NODES];

	for (;;) {
		bool whole = true;

		for (int i = 0; i < CLUSTER_NODES; i++) {
			heard[i] = http_metric(pierd_http_port(c->node[i]), "pier_cluster_nodes");
			whole = whole && heard[i] == CLUSTER_NODES - 1;
		}
		if (whole) {
			printf("# every node heard the others on the bus %lld ms after the last started\n",
			       (long long)(pier_mono_ms() - t0));
			return 0;
		}
		if (pier_mono_ms() > deadline)
			break;
		sleep_ms(100);
	}
	CHECK(false, "the nodes did not all hear each other on the bus within %d ms "
	      "(pier_cluster_nodes: %ld %ld %ld)", BUS_WHOLE_MS, heard[0], heard[1], heard[2]);
	return -1;
}

struct cluster *cluster_start(int lease_s, const char *const *extra_args)
{
	struct cluster *c = calloc(1, sizeof(*c));
	const char *tmp = getenv("TMPDIR");
	int taken[2 * CLUSTER_NODES + 2];
	size_t nt = 0;

	signal(SIGPIPE, SIG_IGN);
	if (c == NULL)
		return NULL;
	if (!CHECK(harness_store_url() != NULL,
	           "the cluster tests need PostgreSQL: PIER_TEST_STORE (ctest's pg fixture, "
	           "scripts/pg-test.sh start)"))
		goto fail;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(c->dir, sizeof(c->dir), "%s/pier-cluster-XXXXXX", tmp);
	if (!CHECK(mkdtemp(c->dir) != NULL, "mkdtemp: %s", strerror(errno))) {
		c->dir[0] = '\0';
		goto fail;
	}
	snprintf(c->db, sizeof(c->db), "%s", strrchr(c->dir, '/') + 1);
	c->store_url = harness_pg_create_db(c->db);
	if (c->store_url == NULL) {
		c->db[0] = '\0';
		goto fail;
	}
	snprintf(c->lease, sizeof(c->lease), "%d", lease_s);
	for (int i = 0; i < CLUSTER_NODES; i++) {
		size_t len = strlen(c->nats_urls);

		c->nats_port[i] = taken[nt] = harness_free_port(taken, nt);
		nt++;
		c->nats_route[i] = taken[nt] = harness_free_port(taken, nt);
		nt++;
		snprintf(c->nats_urls + len, sizeof(c->nats_urls) - len, "%snats://127.0.0.1:%d",
		         i > 0 ? "," : "", c->nats_port[i]);
	}
	c->lb_json = taken[nt] = harness_free_port(taken, nt);
	nt++;
	c->lb_http = taken[nt] = harness_free_port(taken, nt);
	nt++;
	for (size_t i = 0; i < nt; i++) {
		if (!CHECK(taken[i] != 0, "free ports"))
			goto fail;
	}
	if (cluster_nats_start(c) != 0)
		goto fail;
	for (int i = 0; i < CLUSTER_NODES; i++) {
		if (start_node(c, i, extra_args) != 0)
			goto fail;
	}
	if (wait_bus_whole(c) != 0)
		goto fail;
	if (haproxy_start(c) != 0)
		goto fail;
	return c;
fail:
	/* the nodes' logs now: the directory goes */
	for (int i = 0; i < CLUSTER_NODES; i++) {
		if (c->node[i] != NULL) {
			pierd_dump_log(c->node[i]);
			pierd_kill9(c->node[i]);
		}
	}
	cluster_free(c, true);
	return NULL;
}

struct pierd *cluster_node(struct cluster *c, int i)
{
	return c != NULL && i >= 0 && i < CLUSTER_NODES ? c->node[i] : NULL;
}

int cluster_lb_port(const struct cluster *c)
{
	return c->lb_json;
}

int cluster_lb_http_port(const struct cluster *c)
{
	return c->lb_http;
}

void cluster_kill9(struct cluster *c, int i)
{
	pierd_kill9(cluster_node(c, i));
}

int cluster_restart(struct cluster *c, int i)
{
	return pierd_restart_same_port(cluster_node(c, i));
}

bool cluster_stop(struct cluster *c)
{
	bool ok = true;

	if (c == NULL)
		return false;
	for (int i = 0; i < CLUSTER_NODES; i++) {
		if (c->node[i] != NULL && !pierd_stop(c->node[i]))
			ok = false;
	}
	stop_child(&c->haproxy_pid);
	cluster_nats_stop(c);
	return ok;
}

/* Stops HAProxy and NATS, drops the database, removes the directory; prints the logs' tails
 * first when failed. */
static void cluster_free(struct cluster *c, bool failed)
{
	stop_child(&c->haproxy_pid);
	cluster_nats_stop(c);
	if (failed && c->dir[0] != '\0') {
		char log[PATH_MAX + 16];

		for (int i = 0; i < CLUSTER_NODES; i++) {
			nats_log(c, i, log, sizeof(log));
			print_tail(log, 15);
		}
		snprintf(log, sizeof(log), "%s/haproxy.log", c->dir);
		print_tail(log, 30);
	}
	if (getenv("PIER_KEEP_TEST_DATA") != NULL) {
		fprintf(stderr, "cluster: kept %s and database %s\n", c->dir, c->db);
	} else {
		if (c->db[0] != '\0')
			harness_pg_drop_db(c->db);
		if (c->dir[0] != '\0')
			rundir_remove(c->dir);
	}
	free(c->store_url);
	free(c);
}

int cluster_done(struct cluster *c)
{
	int rc = harness_done();

	if (c != NULL)
		cluster_free(c, rc != 0);
	return rc;
}

/* ---- clients ---- */

int cluster_port(struct cluster *c, int node)
{
	return node == CLUSTER_LB ? c->lb_json : pierd_port(c->node[node]);
}

struct pier_conn *cluster_login(struct cluster *c, int node, const char *user)
{
	return client_login_port(cluster_port(c, node), user, HARNESS_PASSWORD);
}

struct pier_conn *cluster_login_known(struct cluster *c, int node, const char *user)
{
	int64_t deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;

	for (;;) {
		struct pier_conn *conn = client_connect_port(cluster_port(c, node));
		json_t *r = conn != NULL ? client_call(conn, pier_req_login(user, HARNESS_PASSWORD)) : NULL;
		int64_t status = jint(r, "status", -99);

		json_decref(r);
		if (status == 1) {
			r = client_wait_op(conn, "users");
			json_decref(r);
			return conn;
		}
		pier_conn_close(conn);
		if (!CHECK(status == 0 && pier_mono_ms() < deadline,
		           "login %s: status %lld (0: not known on that node yet; waited %d ms)", user,
		           (long long)status, HARNESS_TIMEOUT_MS))
			return NULL;
		sleep_ms(100);
	}
}

struct pier_conn *cluster_new_user(struct cluster *c, int node, const char *prefix,
                                   char user_out[HARNESS_NAME_MAX])
{
	struct pier_conn *conn = client_connect_port(cluster_port(c, node));
	int status;

	if (conn == NULL)
		return NULL;
	harness_user(user_out, prefix);
	status = client_register(conn, user_out, HARNESS_PASSWORD);
	pier_conn_close(conn);
	if (!CHECK(status == PIER_REGISTER_OK, "register %s: status %d, want 3", user_out, status))
		return NULL;
	/* through HAProxy, the login may land on another node than the registration */
	return node == CLUSTER_LB ? cluster_login_known(c, node, user_out) : cluster_login(c, node, user_out);
}

bool cluster_join(struct pier_conn *conn, const char *room)
{
	json_t *r = client_call(conn, pier_req_join(room));
	bool ok = CHECK(is_op(r, "join"), "join %s: %s", room, jdump(r));

	json_decref(r);
	return ok;
}

json_t *cluster_collect(struct pier_conn *conn, const char *to, size_t n, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;
	json_t *got = json_array();

	while (conn != NULL && json_array_size(got) < n) {
		int64_t left = deadline - pier_mono_ms();
		json_t *ev;

		if (left <= 0)
			break;
		ev = pier_conn_wait_op(conn, "msg", (int)left);
		if (ev == NULL)
			break;
		if (jstr(ev, "to") != NULL && strcmp(jstr(ev, "to"), to) == 0)
			json_array_append_new(got, ev);
		else
			json_decref(ev);
	}
	CHECK(json_array_size(got) == n, "%zu msg events of %s within %d ms, want %zu",
	      json_array_size(got), to, timeout_ms, n);
	return got;
}

json_t *cluster_history(struct pier_conn *conn, const char *with, size_t max)
{
	json_t *all = json_array();
	int64_t before = 0;

	for (;;) {
		json_t *r = client_call(conn, pier_req_history(with, before, 200)), *msgs, *page;
		size_t n;

		if (!CHECK(is_op(r, "history"), "history %s: %s", with, jdump(r))) {
			json_decref(r);
			json_decref(all);
			return NULL;
		}
		msgs = json_object_get(r, "messages");
		n = json_array_size(msgs);
		/* pages come oldest first: put this older page in front */
		page = json_deep_copy(msgs);
		json_array_extend(page, all);
		json_decref(all);
		all = page;
		if (n == 0 || !jtrue(r, "more") || json_array_size(all) >= max) {
			json_decref(r);
			break;
		}
		before = jint(json_array_get(msgs, 0), "id", 0);
		json_decref(r);
	}
	return all;
}

json_t *cluster_sync(struct pier_conn *conn, int64_t after, size_t max)
{
	json_t *all = json_array();

	for (;;) {
		json_t *r = client_call(conn, pier_req_sync(after, 200)), *msgs;
		size_t n;

		if (!CHECK(is_op(r, "sync"), "sync after %lld: %s", (long long)after, jdump(r))) {
			json_decref(r);
			json_decref(all);
			return NULL;
		}
		msgs = json_object_get(r, "messages");
		n = json_array_size(msgs);
		json_array_extend(all, msgs);
		if (n == 0 || !jtrue(r, "more") || json_array_size(all) >= max) {
			json_decref(r);
			break;
		}
		after = jint(json_array_get(msgs, n - 1), "id", after);
		json_decref(r);
	}
	return all;
}
