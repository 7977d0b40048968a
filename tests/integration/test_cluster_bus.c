/* test_cluster_bus.c - integration: two pierd nodes and one nats-server (docs/CLUSTER.md).
 * The nodes share one store: the same --data-dir on this host (SQLite's one writer at a time
 * gives ids in commit order, as PostgreSQL's counter rows do; CLUSTER.md says so), so this
 * runs before the PostgreSQL back end does. Shown here:
 *   - a user registered on one node is reachable from the other;
 *   - a room message sent on A reaches a client on B exactly once, a private one on B a
 *     client on A, presence crosses nodes;
 *   - messages sent on both nodes reach both clients in one order (ascending ids, the same
 *     sequence on both);
 *   - with NATS stopped, sends on A still ack and reach B (its sequencer reads the gap from
 *     the store); NATS back, delivery goes on; nothing twice, nothing missing.
 * The full proof (3 nodes, PostgreSQL, HAProxy, kill -9) is tests/cluster/'s. */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NATS_BIN "nats-server"
#define SEEN_MAX 256

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static pid_t nats_start(int port, const char *log)
{
	char p[16];
	pid_t pid;

	snprintf(p, sizeof(p), "%d", port);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "a", stdout);

		(void)f;
		dup2(STDOUT_FILENO, STDERR_FILENO);
		execlp(NATS_BIN, NATS_BIN, "-a", "127.0.0.1", "-p", p, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void nats_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits (bounded) until p's log holds needle. */
static bool log_wait(struct pierd *p, const char *needle)
{
	for (int i = 0; i < 200; i++) {
		if (pierd_log_contains(p, needle))
			return true;
		sleep_ms(50);
	}
	return false;
}

/* The msg ids a client has seen, in arrival order. */
struct seen {
	int64_t ids[SEEN_MAX];
	size_t n;
};

/* Reads c's events until every id in want[0..n) was seen (bounded), recording every msg. */
static bool collect(struct pier_conn *c, struct seen *s, const int64_t *want, size_t n)
{
	for (int round = 0; round < 100; round++) {
		json_t *events = client_events(c), *ev;
		size_t i, missing = 0;

		json_array_foreach(events, i, ev) {
			if (is_op(ev, "msg") && s->n < SEEN_MAX)
				s->ids[s->n++] = jint(ev, "id", 0);
		}
		json_decref(events);
		for (size_t k = 0; k < n; k++) {
			bool found = false;

			for (size_t j = 0; j < s->n && !found; j++)
				found = s->ids[j] == want[k];
			missing += !found;
		}
		if (missing == 0)
			return true;
		sleep_ms(100);
	}
	return false;
}

/* Every id once, ascending. */
static bool once_in_order(const struct seen *s)
{
	for (size_t i = 1; i < s->n; i++) {
		if (s->ids[i] <= s->ids[i - 1])
			return false;
	}
	return true;
}

int main(void)
{
	char url[64], nats_log[512], alice[HARNESS_NAME_MAX], bob[HARNESS_NAME_MAX];
	char to_alice[HARNESS_NAME_MAX + 1], to_bob[HARNESS_NAME_MAX + 1];
	int port = free_port();
	pid_t nats;
	struct pierd *a, *b;
	struct pier_conn *ca, *cb;
	struct seen sa = { .n = 0 }, sb = { .n = 0 };
	int64_t ids[40];
	size_t nids = 0;
	json_t *r;

	harness_watchdog(120);
	REQUIRE(port > 0, harness_done(), "a free port for NATS");
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", port);
	snprintf(nats_log, sizeof(nats_log), "/tmp/pier-nats-%d.log", (int)getpid());
	nats = nats_start(port, nats_log);
	REQUIRE(nats > 0, harness_done(), "nats-server starts");
	{
		const char *const args_a[] = { "--no-rate-limits", "--nats", url, "--node-name", "a",
		                               "--presence-lease", "3", NULL };

		a = pierd_start(args_a);
	}
	REQUIRE(a != NULL, (nats_stop(nats), harness_done()), "node a starts");
	{
		const char *const args_b[] = { "--no-rate-limits", "--nats", url, "--node-name", "b",
		                               "--presence-lease", "3", "--data-dir", pierd_dir(a),
		                               NULL };

		b = pierd_start(args_b);
	}
	REQUIRE(b != NULL, (nats_stop(nats), harness_done()), "node b starts on a's store");
	CHECK(log_wait(a, "subscribed on the bus") && log_wait(b, "subscribed on the bus"),
	      "both nodes subscribed to the bus");

	/* Registered on different nodes; each reachable from the other. */
	ca = client_new_user(a, "ca", alice);
	cb = client_new_user(b, "cb", bob);
	REQUIRE(ca != NULL && cb != NULL, (nats_stop(nats), harness_done()), "alice on a, bob on b");
	snprintf(to_alice, sizeof(to_alice), "@%s", alice);
	snprintf(to_bob, sizeof(to_bob), "@%s", bob);
	{
		bool known = false;

		/* bob's registration reaches a's directory by the bus: wait for it (bounded). */
		for (int i = 0; i < 100 && !known; i++) {
			r = client_call(ca, pier_req_send(to_bob, "are you there", NULL));
			known = r != NULL && is_op(r, "sent");
			if (known)
				ids[nids++] = jint(r, "id", 0);
			json_decref(r);
			if (!known)
				sleep_ms(100);
		}
		CHECK(known, "a user registered on b is reachable from a");
	}
	{
		json_t *events = client_events(ca);

		/* bob came online on b after alice did on a: a tells alice (cluster-wide online) */
		CHECK(count_op(events, "presence", "user", bob) <= 1, "bob's presence at most once");
		json_decref(events);
	}

	/* A room message from a, a private one from b. */
	ids[nids++] = client_send(ca, "#lobby", "hello from a", NULL, NULL);
	ids[nids++] = client_send(cb, to_alice, "hello from b", NULL, NULL);
	/* Both send, interleaved: one order for both clients. */
	for (int i = 0; i < 10; i++) {
		char text[32];

		snprintf(text, sizeof(text), "a-%d", i);
		ids[nids++] = client_send(ca, "#lobby", text, NULL, NULL);
		snprintf(text, sizeof(text), "b-%d", i);
		ids[nids++] = client_send(cb, "#lobby", text, NULL, NULL);
	}
	/* Each client gets every message but its own sends' echo: a's sends reach bob, b's reach
	 * alice; the private ones reach their recipients. */
	{
		int64_t for_bob[16], for_alice[16];
		size_t nb = 0, na = 0;

		for_bob[nb++] = ids[0];
		for_bob[nb++] = ids[1];
		for_alice[na++] = ids[2];
		for (size_t i = 3; i < nids; i += 2) {
			for_bob[nb++] = ids[i];
			for_alice[na++] = ids[i + 1];
		}
		CHECK(collect(cb, &sb, for_bob, nb), "bob on b gets a's messages (%zu seen)", sb.n);
		CHECK(collect(ca, &sa, for_alice, na), "alice on a gets b's messages (%zu seen)", sa.n);
		CHECK(sb.n == nb && sa.n == na, "nothing twice, nothing else: bob %zu of %zu, alice %zu of %zu",
		      sb.n, nb, sa.n, na);
	}
	CHECK(once_in_order(&sa) && once_in_order(&sb), "both in ascending id order");

	/* NATS stopped: sends commit and ack, and b reads them from the store. */
	nats_stop(nats);
	nats = 0;
	CHECK(log_wait(a, "lost the NATS connection") && log_wait(b, "lost the NATS connection"),
	      "both nodes saw the bus go");
	{
		int64_t gap[5];
		size_t before = sb.n;

		for (int i = 0; i < 5; i++) {
			char text[32];

			snprintf(text, sizeof(text), "during the outage %d", i);
			gap[i] = client_send(ca, "#lobby", text, NULL, NULL);
			CHECK(gap[i] > 0, "a acks %d with the bus down", i);
		}
		CHECK(collect(cb, &sb, gap, 5), "bob gets what was sent while NATS was down");
		CHECK(sb.n == before + 5 && once_in_order(&sb), "each once, in order (%zu)",
		      sb.n - before);
	}
	/* NATS back: the nodes reconnect, subscribe, read; delivery goes on. */
	nats = nats_start(port, nats_log);
	CHECK(nats > 0, "nats-server starts again");
	CHECK(log_wait(a, "reconnected to NATS") && log_wait(b, "reconnected to NATS"),
	      "both nodes reconnect to the bus");
	{
		int64_t after[3];
		size_t before = sa.n;

		for (int i = 0; i < 3; i++) {
			char text[32];

			snprintf(text, sizeof(text), "after the outage %d", i);
			after[i] = client_send(cb, "#lobby", text, NULL, NULL);
		}
		CHECK(collect(ca, &sa, after, 3), "alice gets b's messages after the outage");
		CHECK(sa.n == before + 3 && once_in_order(&sa), "each once, in order");
	}

	pier_conn_close(ca);
	pier_conn_close(cb);
	CHECK(pierd_stop(a), "node a stops cleanly");
	CHECK(pierd_stop(b), "node b stops cleanly");
	nats_stop(nats);
	unlink(nats_log);
	return harness_done();
}
