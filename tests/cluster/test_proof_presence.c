/* test_proof_presence.c - cluster: presence across nodes. A user with sessions on two nodes
 * stays online while one remains (no presence event for the second session or for closing
 * one of the two); the last one closing sends offline; a killed node's users go offline
 * within the lease (docs/CLUSTER.md "Presence"). */
#include <string.h>

#include "clock.h"
#include "cluster.h"

#define LEASE_S  3
#define QUIET_MS 2000   /* longer than a bus round trip and a heartbeat */

/* The watcher and u, v are strangers: their presence crosses nodes in the all-presence mode. */
static const char *const args[] = { "--no-rate-limits", "--presence-limit", "10", NULL };

/* The next presence event about user within timeout_ms (other events dropped), or NULL. */
static json_t *presence_of(struct pier_conn *conn, const char *user, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - pier_mono_ms();
		json_t *ev;

		if (left <= 0)
			return NULL;
		ev = pier_conn_wait_op(conn, "presence", (int)left);
		if (ev == NULL)
			return NULL;
		if (jstr(ev, "user") != NULL && strcmp(jstr(ev, "user"), user) == 0)
			return ev;
		json_decref(ev);
	}
}

static bool lists(struct pier_conn *conn, const char *user)
{
	json_t *r = client_call(conn, pier_req_users()), *v;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(r, "online"), i, v)
		found = found || (json_is_string(v) && strcmp(json_string_value(v), user) == 0);
	json_decref(r);
	return found;
}

int main(void)
{
	struct cluster *c;
	struct pier_conn *w, *u1, *u2, *v;
	char uw[HARNESS_NAME_MAX], uu[HARNESS_NAME_MAX], uv[HARNESS_NAME_MAX];
	json_t *ev;
	int64_t t0;

	harness_watchdog(200);
	c = cluster_start(LEASE_S, args);
	REQUIRE(c != NULL, cluster_done(c), "the cluster starts");
	w = cluster_new_user(c, 2, "w", uw);             /* the watcher, node 3 */
	REQUIRE(w != NULL, cluster_done(c), "the watcher logs in on node 3");

	/* u: first session on node 1 (online), a second on node 2 (nothing new). */
	u1 = cluster_new_user(c, 0, "u", uu);
	REQUIRE(u1 != NULL, cluster_done(c), "u on node 1");
	ev = presence_of(w, uu, HARNESS_TIMEOUT_MS);
	CHECK(ev != NULL && jtrue(ev, "online"), "node 3 hears u come online: %s", jdump(ev));
	json_decref(ev);
	u2 = cluster_login(c, 1, uu);
	REQUIRE(u2 != NULL, cluster_done(c), "u also on node 2");
	ev = presence_of(w, uu, QUIET_MS);
	CHECK(ev == NULL, "a second session elsewhere is no transition: %s", jdump(ev));
	json_decref(ev);

	/* Closing one of the two: still online. */
	pier_conn_close(u1);
	ev = presence_of(w, uu, QUIET_MS);
	CHECK(ev == NULL, "u stays online while its node 2 session lasts: %s", jdump(ev));
	json_decref(ev);
	CHECK(lists(w, uu), "node 3 lists u online");
	{
		struct pier_conn *other = cluster_login(c, 0, uw);

		CHECK(other != NULL && lists(other, uu), "node 1 (where u's session closed) lists u online");
		pier_conn_close(other);
		/* that login was w's second session: no presence for it on w's own node either */
		client_drain(w);
	}

	/* Closing the last: offline everywhere. */
	pier_conn_close(u2);
	ev = presence_of(w, uu, HARNESS_TIMEOUT_MS);
	CHECK(ev != NULL && !jtrue(ev, "online"), "u's last session gone: offline: %s", jdump(ev));
	json_decref(ev);
	CHECK(!lists(w, uu), "node 3 no longer lists u");

	/* v lives on node 2 only; node 2 is killed: v goes offline within the lease. */
	v = cluster_new_user(c, 1, "v", uv);
	REQUIRE(v != NULL, cluster_done(c), "v on node 2");
	ev = presence_of(w, uv, HARNESS_TIMEOUT_MS);
	CHECK(ev != NULL && jtrue(ev, "online"), "v online: %s", jdump(ev));
	json_decref(ev);
	t0 = pier_mono_ms();
	cluster_kill9(c, 1);
	/* the lease, plus the checking timer's period and the load of a sanitized build */
	ev = presence_of(w, uv, 2 * LEASE_S * 1000 + 2000);
	CHECK(ev != NULL && !jtrue(ev, "online"), "node 2's user goes offline after the kill: %s",
	      jdump(ev));
	printf("# offline %lld ms after the kill (lease %d s)\n", (long long)(pier_mono_ms() - t0),
	       LEASE_S);
	json_decref(ev);
	CHECK(!lists(w, uv), "node 3 no longer lists v");
	pier_conn_close(v);

	pier_conn_close(w);
	CHECK(cluster_stop(c), "the surviving nodes stop cleanly");
	return cluster_done(c);
}
