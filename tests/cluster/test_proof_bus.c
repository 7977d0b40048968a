/* test_proof_bus.c - cluster: the NATS cluster stops for a few seconds. Sends still commit
 * and ack (PostgreSQL does not need the bus), the sender's own node delivers live; once the
 * bus is back the other nodes deliver everything they missed, in order, exactly once, and
 * live delivery across nodes resumes (docs/CLUSTER.md "What a bus outage does"). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "cluster.h"

#define ROOM      "#bus"
#define OUTAGE_N  20
#define LEASE_S   3
#define OUTAGE_MS 4000   /* how long the bus is down: longer than the lease */

static const char *const args[] = { "--no-rate-limits", NULL };

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		/* the rest */
	}
}

/* The ids of list's messages, in order (a new array). */
static json_t *ids_of(const json_t *list)
{
	json_t *ids = json_array(), *m;
	size_t i;

	json_array_foreach(list, i, m)
		json_array_append_new(ids, json_integer(jint(m, "id", -1)));
	return ids;
}

/* True once node's `users` lists user, polling up to timeout_ms. */
static bool lists_online(struct pier_conn *conn, const char *user, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;

	for (;;) {
		json_t *r = client_call(conn, pier_req_users()), *v;
		bool found = false;
		size_t i;

		json_array_foreach(json_object_get(r, "online"), i, v)
			found = found || (json_is_string(v) && strcmp(json_string_value(v), user) == 0);
		json_decref(r);
		if (found)
			return true;
		if (pier_mono_ms() > deadline)
			return false;
		sleep_ms(200);
	}
}

int main(void)
{
	struct cluster *c;
	struct pier_conn *a, *local, *b, *d;
	char ua[HARNESS_NAME_MAX], ul[HARNESS_NAME_MAX], ub[HARNESS_NAME_MAX], ud[HARNESS_NAME_MAX];
	json_t *want = json_array();

	harness_watchdog(200);
	c = cluster_start(LEASE_S, args);
	REQUIRE(c != NULL, cluster_done(c), "the cluster starts");
	a = cluster_new_user(c, 0, "a", ua);       /* the sender, node 1 */
	local = cluster_new_user(c, 0, "l", ul);   /* a reader on the sender's node */
	b = cluster_new_user(c, 1, "b", ub);       /* readers on nodes 2 and 3 */
	d = cluster_new_user(c, 2, "d", ud);
	REQUIRE(a && local && b && d, cluster_done(c), "four users on three nodes");
	REQUIRE(cluster_join(a, ROOM) && cluster_join(local, ROOM) && cluster_join(b, ROOM) &&
	        cluster_join(d, ROOM), cluster_done(c), "they join %s", ROOM);

	/* Before: live across nodes. */
	{
		int64_t id = client_send(a, ROOM, "before the outage", "pre", NULL);
		json_t *mb = client_wait_msg(b, "before the outage"), *md = client_wait_msg(d, "before the outage");

		CHECK(jint(mb, "id", -1) == id && jint(md, "id", -1) == id, "live on nodes 2 and 3");
		json_decref(mb);
		json_decref(md);
		json_decref(mb = client_wait_msg(local, "before the outage"));
	}
	client_drain(local);
	client_drain(b);
	client_drain(d);

	/* The outage: every nats-server stops. */
	REQUIRE(cluster_nats_stop(c) == 0, cluster_done(c), "NATS stops");
	for (int k = 0; k < OUTAGE_N; k++) {
		char text[32];
		int64_t id;

		snprintf(text, sizeof(text), "during %d", k);
		id = client_send(a, ROOM, text, text, NULL);
		CHECK(id > 0, "sent and acked without the bus: %s", text);
		json_array_append_new(want, json_integer(id));
	}
	{
		json_t *got = cluster_collect(local, ROOM, OUTAGE_N, HARNESS_TIMEOUT_MS), *ids = ids_of(got);

		CHECK(json_equal(ids, want), "the sender's node delivers them live, in order");
		json_decref(ids);
		json_decref(got);
	}
	sleep_ms(OUTAGE_MS);
	REQUIRE(cluster_nats_start(c) == 0, cluster_done(c), "NATS is back");

	/* After: one more live message, and the gap is filled before it, in order, once. */
	{
		int64_t id = client_send(a, ROOM, "after the outage", "post", NULL);

		json_array_append_new(want, json_integer(id));
	}
	for (int i = 0; i < 2; i++) {
		struct pier_conn *r = i == 0 ? b : d;
		json_t *got = cluster_collect(r, ROOM, OUTAGE_N + 1, 30000), *ids = ids_of(got);
		json_t *extra;

		CHECK(json_equal(ids, want), "node %d: the missed messages and the new one, in id order, "
		      "each once: %s", i + 2, jdump(ids));
		extra = pier_conn_wait_op(r, "msg", 1500);
		CHECK(extra == NULL, "node %d: nothing twice: %s", i + 2, jdump(extra));
		json_decref(extra);
		json_decref(ids);
		json_decref(got);
	}
	{
		json_t *got = cluster_collect(local, ROOM, 1, HARNESS_TIMEOUT_MS);

		CHECK(json_array_size(got) == 1 && jint(json_array_get(got, 0), "id", -1) ==
		      json_integer_value(json_array_get(want, OUTAGE_N)), "node 1: the new one, once");
		json_decref(got);
	}

	/* Live the other way, and presence comes back (hello) within a lease. */
	{
		int64_t id = client_send(d, ROOM, "node 3 speaks", "n3", NULL);
		json_t *m = client_wait_msg(a, "node 3 speaks");

		CHECK(m != NULL && jint(m, "id", -1) == id, "node 3 to node 1, live after the outage");
		json_decref(m);
	}
	CHECK(lists_online(a, ub, LEASE_S * 1000 + HARNESS_TIMEOUT_MS),
	      "node 1 lists node 2's user online again");

	pier_conn_close(a);
	pier_conn_close(local);
	pier_conn_close(b);
	pier_conn_close(d);
	json_decref(want);
	CHECK(cluster_stop(c), "the nodes stop cleanly");
	return cluster_done(c);
}
