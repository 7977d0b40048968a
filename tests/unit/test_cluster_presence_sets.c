/* test_cluster_presence_sets.c - presence across nodes (src/server/cluster/cluster_presence.c):
 * only cluster-wide transitions are reported; a node's heartbeat lease drops its users; a
 * mismatched heartbeat asks for the set again and the set replaces what was kept. */
#include <stdio.h>
#include <string.h>

#include "cluster_presence.h"
#include "tap.h"

struct world {
	const char *local[8];           /* users with sessions on this node */
	char log[1024];                 /* transitions, "+name -name " */
};

static bool local_online(void *ud, const char *name)
{
	struct world *w = ud;

	for (size_t i = 0; i < 8 && w->local[i] != NULL; i++) {
		if (strcmp(w->local[i], name) == 0)
			return true;
	}
	return false;
}

static void transition(void *ud, const char *name, bool online)
{
	struct world *w = ud;
	size_t n = strlen(w->log);

	snprintf(w->log + n, sizeof(w->log) - n, "%c%s ", online ? '+' : '-', name);
}

static const struct cluster_presence_ops ops = { local_online, transition };

static bool log_is(struct world *w, const char *want)
{
	bool ok = strcmp(w->log, want) == 0;

	if (!ok)
		printf("# log: [%s], want [%s]\n", w->log, want);
	w->log[0] = '\0';
	return ok;
}

static void test_transitions(void)
{
	struct world w = { { NULL }, "" };
	struct cluster_presence p;

	cluster_presence_init(&p, 10000, &ops, &w);
	cluster_presence_remote(&p, "nodeB", "alice_1", true, 0);
	CHECK(log_is(&w, "+alice_1 "), "first session anywhere: online");
	cluster_presence_remote(&p, "nodeC", "Alice_1", true, 0);
	CHECK(log_is(&w, ""), "a second node: no transition (names by key)");
	cluster_presence_remote(&p, "nodeB", "alice_1", false, 0);
	CHECK(log_is(&w, ""), "one node left: still online");
	CHECK(cluster_presence_remote_online(&p, "ALICE_1"), "remote online");
	cluster_presence_remote(&p, "nodeC", "alice_1", false, 0);
	CHECK(log_is(&w, "-alice_1 "), "last session anywhere: offline");
	cluster_presence_remote(&p, "nodeC", "alice_1", false, 0);
	CHECK(log_is(&w, ""), "offline twice: nothing");

	/* a user with a local session: remote changes are no transitions */
	w.local[0] = "bob_222";
	CHECK(cluster_presence_local(&p, "bob_222", true), "bob's first session: cluster-wide");
	cluster_presence_remote(&p, "nodeB", "bob_222", true, 0);
	CHECK(log_is(&w, ""), "bob also on B: no transition (online here)");
	w.local[0] = NULL;
	CHECK(!cluster_presence_local(&p, "bob_222", false), "bob's last local session: B has him");
	cluster_presence_remote(&p, "nodeB", "bob_222", false, 0);
	CHECK(log_is(&w, "-bob_222 "), "gone from B too: offline");

	cluster_presence_remote(&p, "nodeB", "no", true, 0);
	CHECK(log_is(&w, "") && !cluster_presence_remote_online(&p, "no"), "an invalid name ignored");
	cluster_presence_remote(&p, "bad node", "carol_3", true, 0);
	CHECK(log_is(&w, "") && p.refused == 1, "an invalid node name refused");
	cluster_presence_release(&p);
}

static void test_lease_and_heartbeat(void)
{
	struct world w = { { NULL }, "" };
	struct cluster_presence p, q;
	struct cluster_hb hb;
	char *set[] = { "carol_3", "dave_44" };

	cluster_presence_init(&p, 10000, &ops, &w);
	cluster_presence_remote(&p, "nodeB", "alice_1", true, 1000);
	cluster_presence_remote(&p, "nodeB", "bob_222", true, 1000);
	cluster_presence_remote(&p, "nodeC", "bob_222", true, 1000);
	CHECK(log_is(&w, "+alice_1 +bob_222 "), "two online");

	/* B's heartbeat, computed as B computes it: matches */
	struct world wb = { { NULL }, "" };
	cluster_presence_init(&q, 10000, &ops, &wb);
	cluster_presence_local(&q, "bob_222", true);
	cluster_presence_local(&q, "alice_1", true);
	hb = (struct cluster_hb){ .seq = 1, .users = q.local_users, .digest = q.local_digest };
	CHECK(!cluster_presence_heartbeat(&p, "nodeB", &hb, 6000), "a matching heartbeat");
	cluster_presence_local(&q, "alice_1", false);
	cluster_presence_local(&q, "erin_55", true);
	hb = (struct cluster_hb){ .seq = 2, .users = q.local_users, .digest = q.local_digest };
	CHECK(cluster_presence_heartbeat(&p, "nodeB", &hb, 7000),
	      "same count, other users (a lost presence message): asks again");
	cluster_presence_release(&q);

	/* C stops beating: after the lease its users are gone, bob stays (B has him) */
	CHECK(cluster_presence_expire(&p, 11001) == 1, "C expired (seen at 1000, lease 10 s)");
	CHECK(log_is(&w, ""), "bob still on B");
	CHECK(cluster_presence_expire(&p, 16000) == 0, "B beat at 7000: alive");
	cluster_presence_set(&p, "nodeB", set, 2, 16000);
	CHECK(log_is(&w, "+carol_3 +dave_44 -alice_1 -bob_222 "),
	      "B's set replaced: new ones first, then the gone ones");
	CHECK(cluster_presence_expire(&p, 26001) == 1, "B expired");
	CHECK(log_is(&w, "-carol_3 -dave_44 ") || log_is(&w, "-dave_44 -carol_3 "),
	      "its users offline");

	hb = (struct cluster_hb){ .seq = 1, .users = 3, .digest = 1 };
	CHECK(cluster_presence_heartbeat(&p, "nodeD", &hb, 30000),
	      "an unknown node with users is asked for its set");
	hb.users = 0;
	hb.digest = 0;
	CHECK(!cluster_presence_heartbeat(&p, "nodeE", &hb, 30000), "an empty new node is not");
	cluster_presence_release(&p);
}

int main(void)
{
	test_transitions();
	test_lease_and_heartbeat();
	return tap_done();
}
