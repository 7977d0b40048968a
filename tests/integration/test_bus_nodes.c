/* test_bus_nodes.c - integration: two pierd nodes and one nats-server (docs/CLUSTER.md).
 * The nodes share one store: the same --data-dir on this host (SQLite's one writer at a time
 * gives ids in commit order, as PostgreSQL's counter rows do; CLUSTER.md says so), so this
 * runs before the PostgreSQL back end does. Shown here:
 *   - a user registered on one node is reachable from the other;
 *   - a room message sent on A reaches a client on B exactly once, a private one on B a
 *     client on A, presence crosses nodes;
 *   - messages sent on both nodes reach both clients in one order (ascending ids, the same
 *     sequence on both);
 *   - a reaction and a join cross; an encrypted message from a device on A reaches the
 *     recipient's device on B (B's session reads its queue from the store on the bus's
 *     signal) and, without its text, a session of the recipient's on A without a device;
 *   - with NATS stopped, sends on A still ack and reach B (its sequencer reads the gap from
 *     the store); NATS back, delivery goes on; nothing twice, nothing missing;
 *   - a third node killed: its user goes offline for the others within the lease.
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

#include "e2eetest.h"
#include "harness.h"
#include "netclient.h"

#define NATS_BIN "nats-server"
/* Presence to everyone (the all-presence mode): what crosses nodes here is the strangers'
 * presence in #lobby and the login's full list; contacts only is test_presence's. */
#define PRESENCE_ALL "--presence-limit", "10"
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

/* Waits (bounded: 30 s, for ThreadSanitizer on a loaded machine) until p's log holds needle. */
static bool log_wait(struct pierd *p, const char *needle)
{
	for (int i = 0; i < 600; i++) {
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

/* Says what a client saw, when a check of it failed. */
static void dump_seen(const char *who, const struct seen *s)
{
	fprintf(stderr, "  %s saw %zu:", who, s->n);
	for (size_t i = 0; i < s->n; i++)
		fprintf(stderr, " %lld", (long long)s->ids[i]);
	fputc('\n', stderr);
}

/* An encrypted message across nodes: from alice's device on a to bob's device on b. */
static void test_e2ee(struct pierd *a, struct pierd *b)
{
	char ea[HARNESS_NAME_MAX], eb[HARNESS_NAME_MAX], to[HARNESS_NAME_MAX + 1];
	struct tdev da, db, db2;
	struct tacct ak, bk;
	struct tdev *one[1];
	struct tsession nodev = { 0 };
	const char *ids[1];
	char *payload = t_random_b64(120);
	json_t *r = NULL, *envs = json_array(), *ev;
	int64_t id = 0;

	harness_user(ea, "ea");
	harness_user(eb, "eb");
	snprintf(to, sizeof(to), "@%s", eb);
	t_dev_init(&da, ea, "da");
	t_dev_init(&db, eb, "db");
	memset(&db2, 0, sizeof(db2));
	t_acct_init(&ak, ea);
	t_acct_init(&bk, eb);
	if (!t_register(a, ea) || !t_register(b, eb))
		goto out;
	if (!t_dev_register(a, &da, 5) || !t_dev_register(b, &db, 5))
		goto out;
	one[0] = &da;
	if (!t_publish(da.s.c, &ak, one, 1))
		goto out;
	one[0] = &db;
	if (!t_publish(db.s.c, &bk, one, 1))
		goto out;
	if (!t_login(a, eb, NULL, &nodev))    /* bob also on a, without a device */
		goto out;
	client_drain(nodev.c);
	client_drain(db.s.c);
	ids[0] = db.id64;
	for (int i = 0; i < 100; i++) {   /* until a knows bob (the bus, or the store on a miss) */
		json_decref(r);
		r = client_call(da.s.c, t_send_req(to, payload, ids, 1, NULL));
		if (r == NULL || !is_error(r, "no_such_user"))
			break;
		sleep_ms(100);
	}
	id = jint(r, "id", -1);
	CHECK(r != NULL && is_op(r, "sent") && id > 0, "alice's device on a sends to bob: %s",
	      jdump(r));
	CHECK(t_collect_envelopes(db.s.c, 1, envs), "bob's device on b gets its envelope");
	ev = json_array_get(envs, 0);
	CHECK(ev != NULL && jint(ev, "id", 0) == id && t_streq(jstr(ev, "payload"), payload) &&
	      jint(ev, "qid", 0) > 0, "the envelope, read from the store on b: %s", jdump(ev));
	ev = client_wait_op(nodev.c, "msg");
	CHECK(ev != NULL && jint(ev, "id", 0) == id && jtrue(ev, "e2ee") && jstr(ev, "text") == NULL,
	      "bob's session on a without a device: the msg without text: %s", jdump(ev));
	json_decref(ev);

	/* bob's second device, on a, listed from b, then left out from b: its session on a is
	 * told it was revoked (a reads the list from the store on the bus's word). */
	t_dev_init(&db2, eb, "db2");
	if (!t_dev_register(a, &db2, 5))
		goto out;
	{
		struct tdev *two[2] = { &db, &db2 };

		if (!t_publish(db.s.c, &bk, two, 2))
			goto out;
	}
	client_drain(db2.s.c);
	one[0] = &db;
	if (!t_publish(db.s.c, &bk, one, 1))
		goto out;
	ev = client_wait_op(db2.s.c, "device_revoked");
	CHECK(ev != NULL && t_streq(jstr(ev, "id"), db2.id64),
	      "bob's device on a, left out of the list published on b, is revoked: %s", jdump(ev));
	json_decref(ev);
out:
	if (nodev.c != NULL)
		pier_conn_close(nodev.c);
	t_dev_close(&da);
	t_dev_close(&db);
	t_dev_close(&db2);
	json_decref(r);
	json_decref(envs);
	free(payload);
}

/* With the bus down: a private message to carol (offline) is committed on a; carol logs in on
 * b, whose backlog read holds it; b's sequencer reads it from the store at its next tick,
 * after the catch-up ended. Carol gets it once (CI once saw a session get such a message
 * twice: from its backlog, then live). */
static void test_backlog_then_live(struct pierd *a, struct pierd *b, struct pier_conn *ca)
{
	char carol[HARNESS_NAME_MAX], to_carol[HARNESS_NAME_MAX + 1];
	struct pier_conn *cc = client_new_user(b, "cc", carol);
	struct seen sc = { .n = 0 };
	int64_t id;
	json_t *r;

	(void)a;
	REQUIRE(cc != NULL, , "carol registers on b");
	pier_conn_close(cc);
	snprintf(to_carol, sizeof(to_carol), "@%s", carol);
	id = client_send(ca, to_carol, "for carol, while the bus is down", NULL, NULL);
	REQUIRE(id > 0, , "alice on a sends to carol (offline) with the bus down");
	cc = client_connect(b);
	REQUIRE(cc != NULL, , "carol connects to b");
	r = client_call(cc, pier_req_login(carol, HARNESS_PASSWORD));
	CHECK(r != NULL && is_op(r, "login"), "carol logs in on b: %s", jdump(r));
	json_decref(r);
	CHECK(collect(cc, &sc, &id, 1), "carol gets it from her backlog");
	sleep_ms(2500);              /* b's sequencer's ticks read it from the store */
	collect(cc, &sc, &id, 1);
	CHECK(sc.n == 1, "carol got it once (%zu times)", sc.n);
	pier_conn_close(cc);
}

/* The next presence event of user on c saying online (bounded), skipping an earlier one of
 * the same user saying the opposite: another node's announcement of a change made before they
 * became contacts may reach c late, and it was true when made. Anything else is returned as
 * it is, for the caller's check to show; NULL if none came. */
static json_t *wait_presence(struct pier_conn *c, const char *user, bool online)
{
	for (int i = 0; i < 3; i++) {
		json_t *r = client_wait_op(c, "presence");
		const char *who = r != NULL ? jstr(r, "user") : NULL;

		if (r == NULL || who == NULL || strcmp(who, user) != 0 || jtrue(r, "online") == online)
			return r;
		json_decref(r);
	}
	return NULL;
}

/* The presence of one node (d) is what a node in the default mode (contacts only) sees of
 * another's (e): x on d and y on e have a private conversation, z on d is a stranger. y's
 * coming and going reach x, not z; y's login lists x, its partner online on the other node. */
static void test_contacts_across(const char *url, struct pierd *a, const char *store_url)
{
	const char *const args_d[] = { "--no-rate-limits", "--nats", url, "--node-name", "d",
	                               "--presence-lease", "3", "--data-dir", pierd_dir(a),
	                               store_url != NULL ? "--store" : NULL, store_url, NULL };
	const char *const args_e[] = { "--no-rate-limits", "--nats", url, "--node-name", "e",
	                               "--presence-lease", "3", "--data-dir", pierd_dir(a),
	                               store_url != NULL ? "--store" : NULL, store_url, NULL };
	struct pierd *d = pierd_start(args_d), *e = pierd_start(args_e);
	char x[HARNESS_NAME_MAX], y[HARNESS_NAME_MAX], z[HARNESS_NAME_MAX], to_y[HARNESS_NAME_MAX + 1];
	struct pier_conn *cx = NULL, *cy = NULL, *cz = NULL;
	json_t *r, *users;
	bool known = false;

	if (!CHECK(d != NULL && e != NULL, "nodes d and e start (contacts only)"))
		goto out;
	CHECK(log_wait(d, "subscribed on the bus") && log_wait(e, "subscribed on the bus"),
	      "d and e subscribed");
	cx = client_new_user(d, "bx", x);
	cz = client_new_user(d, "bz", z);
	cy = client_new_user(e, "by", y);
	if (!CHECK(cx && cy && cz, "x, z on d, y on e"))
		goto out;
	snprintf(to_y, sizeof(to_y), "@%s", y);
	for (int i = 0; i < 100 && !known; i++) {
		r = client_call(cx, pier_req_send(to_y, "hello y", NULL));
		known = r != NULL && is_op(r, "sent");
		json_decref(r);
		if (!known)
			sleep_ms(100);
	}
	CHECK(known, "x (on d) writes to y (on e)");
	pier_conn_close(cy);
	r = wait_presence(cx, y, false);
	CHECK(r != NULL && !jtrue(r, "online") && strcmp(jstr(r, "user") ? jstr(r, "user") : "", y) == 0,
	      "x hears its partner y (another node) go offline: %s", jdump(r));
	json_decref(r);
	client_drain(cz);
	cy = client_connect(e);
	r = cy != NULL ? client_call(cy, pier_req_login(y, HARNESS_PASSWORD)) : NULL;
	CHECK(r != NULL && jint(r, "status", 0) == 1, "y logs in again on e: %s", jdump(r));
	json_decref(r);
	users = cy != NULL ? client_wait_op(cy, "users") : NULL;
	{
		json_t *v;
		size_t i, found = 0, strangers = 0;

		json_array_foreach(json_object_get(users, "online"), i, v) {
			found += json_is_string(v) && strcmp(json_string_value(v), x) == 0;
			strangers += json_is_string(v) && strcmp(json_string_value(v), z) == 0;
		}
		CHECK(jtrue(users, "partial") && found == 1 && strangers == 0,
		      "y's login lists x (its partner, online on d), not z: %s", jdump(users));
	}
	json_decref(users);
	r = wait_presence(cx, y, true);
	CHECK(r != NULL && jtrue(r, "online") && strcmp(jstr(r, "user") ? jstr(r, "user") : "", y) == 0,
	      "x hears y come online on the other node: %s", jdump(r));
	json_decref(r);
	sleep_ms(HARNESS_QUIET_MS);
	r = client_events(cz);
	CHECK(r != NULL && count_op(r, "presence", NULL, NULL) == 0,
	      "z, a stranger on d, hears nothing of y: %s", jdump(r));
	json_decref(r);
out:
	pier_conn_close(cx);
	pier_conn_close(cy);
	pier_conn_close(cz);
	CHECK(d == NULL || pierd_stop(d), "node d stops cleanly");
	CHECK(e == NULL || pierd_stop(e), "node e stops cleanly");
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
	char *store_url = NULL;
	json_t *r;

	harness_watchdog(120);
	REQUIRE(port > 0, harness_done(), "a free port for NATS");
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", port);
	snprintf(nats_log, sizeof(nats_log), "/tmp/pier-nats-%d.log", (int)getpid());
	nats = nats_start(port, nats_log);
	REQUIRE(nats > 0, harness_done(), "nats-server starts");
	{
		const char *const args_a[] = { "--no-rate-limits", PRESENCE_ALL,
		                               "--nats", url, "--node-name", "a",
		                               "--presence-lease", "3", NULL };

		a = pierd_start(args_a);
	}
	REQUIRE(a != NULL, (nats_stop(nats), harness_done()), "node a starts");
	/* The same store for the other nodes: a's data directory (its SQLite file, or with
	 * PIER_TEST_STORE, media only), and a's PostgreSQL database then. */
	if (harness_store_url() != NULL)
		store_url = harness_pg_url(strrchr(pierd_dir(a), '/') + 1);
	{
		const char *const args_b[] = { "--no-rate-limits", PRESENCE_ALL,
		                               "--nats", url, "--node-name", "b",
		                               "--presence-lease", "3", "--data-dir", pierd_dir(a),
		                               store_url != NULL ? "--store" : NULL, store_url, NULL };

		b = pierd_start(args_b);
	}
	REQUIRE(b != NULL, (nats_stop(nats), harness_done()), "node b starts on a's store");
	CHECK(log_wait(a, "subscribed on the bus") && log_wait(b, "subscribed on the bus"),
	      "both nodes subscribed to the bus");
	{
		/* Each hears the other's heartbeat (a third of the lease) within the lease. */
		long na = 0, nb = 0;

		for (int i = 0; i < 50 && (na != 1 || nb != 1); i++) {
			sleep_ms(100);
			na = http_metric(pierd_http_port(a), "pier_cluster_nodes");
			nb = http_metric(pierd_http_port(b), "pier_cluster_nodes");
		}
		CHECK(na == 1 && nb == 1, "/metrics: each node hears one other (a %ld, b %ld)", na, nb);
	}

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
	/* bob came online on b after alice did on a: alice hears it (a cluster-wide transition);
	 * a second session of bob's lists alice, online on the other node, at its login. */
	r = client_wait_op(ca, "presence");
	CHECK(r != NULL && strcmp(jstr(r, "user") ? jstr(r, "user") : "", bob) == 0 &&
	      jtrue(r, "online"), "alice on a hears bob (on b) come online: %s", jdump(r));
	json_decref(r);
	{
		struct pier_conn *cb2 = client_connect(b);
		json_t *users;

		REQUIRE(cb2 != NULL, harness_done(), "bob's second session");
		r = client_call(cb2, pier_req_login(bob, HARNESS_PASSWORD));
		json_decref(r);
		users = client_wait_op(cb2, "users");
		CHECK(users != NULL && json_array_size(json_object_get(users, "online")) == 2,
		      "users: bob here and alice on a: %s", jdump(users));
		{
			json_t *online = json_object_get(users, "online"), *v;
			size_t i, found = 0;

			json_array_foreach(online, i, v)
				found += json_is_string(v) && strcmp(json_string_value(v), alice) == 0;
			CHECK(found == 1, "bob's login on b lists alice, online on a: %s", jdump(users));
		}
		json_decref(users);
		pier_conn_close(cb2);
		sleep_ms(HARNESS_QUIET_MS);
		users = client_events(ca);
		CHECK(users != NULL && count_op(users, "presence", NULL, NULL) == 0,
		      "bob's second session (and its end) is no transition for alice");
		json_decref(users);
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
	if (!CHECK(once_in_order(&sa) && once_in_order(&sb), "both in ascending id order")) {
		dump_seen("alice on a", &sa);
		dump_seen("bob on b", &sb);
	}

	/* A change and a membership cross too: alice (a) reacts to bob's private message, joins
	 * a room bob (b) is in. */
	r = client_call(cb, pier_req_join("#bus"));
	json_decref(r);
	r = client_call(ca, pier_req_react(ids[2], "👍", true));
	CHECK(r != NULL && is_op(r, "react"), "alice reacts: %s", jdump(r));
	json_decref(r);
	r = client_wait_op(cb, "reaction");
	CHECK(r != NULL && jint(r, "id", 0) == ids[2] && jint(r, "count", 0) == 1 &&
	      strcmp(jstr(r, "user") ? jstr(r, "user") : "", alice) == 0,
	      "bob on b gets alice's reaction: %s", jdump(r));
	json_decref(r);
	r = client_call(ca, pier_req_join("#bus"));
	json_decref(r);
	r = client_wait_op(cb, "member");
	CHECK(r != NULL && strcmp(jstr(r, "user") ? jstr(r, "user") : "", alice) == 0 &&
	      jtrue(r, "joined"), "bob on b sees alice join #bus: %s", jdump(r));
	json_decref(r);
	{
		int64_t id = client_send(cb, "#bus", "in #bus", NULL, NULL);

		CHECK(collect(ca, &sa, &id, 1), "alice (joined on a) gets #bus's message from b");
	}
	/* A topic set on a, a display name set on b, a typing notice: each crosses. */
	r = client_call(ca, pier_req_topic("#bus", "话题 across nodes"));
	json_decref(r);
	r = client_wait_op(cb, "topic");
	CHECK(r != NULL && t_streq(jstr(r, "topic"), "话题 across nodes") && t_streq(jstr(r, "by"), alice),
	      "bob on b gets the topic set on a: %s", jdump(r));
	json_decref(r);
	r = client_call(cb, pier_req_profile("Bob B"));
	json_decref(r);
	r = client_wait_op(ca, "profile");
	CHECK(r != NULL && t_streq(jstr(r, "user"), bob) && t_streq(jstr(r, "display"), "Bob B"),
	      "alice on a gets bob's new display name: %s", jdump(r));
	json_decref(r);
	pier_conn_send(ca, pier_req_typing(to_bob), NULL);
	r = client_wait_op(cb, "typing");
	CHECK(r != NULL && t_streq(jstr(r, "from"), alice), "bob on b sees alice type: %s", jdump(r));
	json_decref(r);

	test_e2ee(a, b);

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
	test_backlog_then_live(a, b, ca);
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

	/* A third node killed: its user goes offline for the others within the lease (3 s). */
	{
		const char *const args_c[] = { "--no-rate-limits", PRESENCE_ALL,
		                               "--nats", url, "--node-name", "c",
		                               "--presence-lease", "3", "--data-dir", pierd_dir(a),
		                               store_url != NULL ? "--store" : NULL, store_url, NULL };
		struct pierd *c = pierd_start(args_c);
		char carol[HARNESS_NAME_MAX];
		struct pier_conn *cc;

		REQUIRE(c != NULL, harness_done(), "node c starts");
		CHECK(log_wait(c, "subscribed on the bus"), "c subscribed");
		client_drain(ca);
		cc = client_new_user(c, "cc", carol);
		REQUIRE(cc != NULL, harness_done(), "carol on c");
		r = client_wait_op(ca, "presence");
		CHECK(r != NULL && jtrue(r, "online") &&
		      strcmp(jstr(r, "user") ? jstr(r, "user") : "", carol) == 0,
		      "alice sees carol come online on c: %s", jdump(r));
		json_decref(r);
		pierd_kill9(c);
		r = client_wait_op(ca, "presence");
		CHECK(r != NULL && !jtrue(r, "online") &&
		      strcmp(jstr(r, "user") ? jstr(r, "user") : "", carol) == 0,
		      "c killed: alice sees carol go offline (the lease): %s", jdump(r));
		json_decref(r);
		pier_conn_close(cc);
	}

	pier_conn_close(ca);
	pier_conn_close(cb);
	test_contacts_across(url, a, store_url);
	CHECK(pierd_stop(a), "node a stops cleanly");
	CHECK(pierd_stop(b), "node b stops cleanly");
	nats_stop(nats);
	unlink(nats_log);
	free(store_url);
	return harness_done();
}
