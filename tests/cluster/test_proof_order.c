/* test_proof_order.c - cluster: a message sent on node A reaches clients on B and C exactly
 * once (private and room), and three senders on three nodes writing into one room at once
 * produce one order that every client on every node sees identically, live and in history
 * and sync on every node (docs/CLUSTER.md "Ids: one order, by commit"). */
#include <string.h>

#include "cluster.h"

#define STORM        40      /* messages per sender */
#define QUIET_MS     1500    /* "no duplicate arrives": longer than a bus round trip */
#define ROOM         "#order"

static const char *const args[] = { "--no-rate-limits", NULL };

/* True if conn gets no msg event within QUIET_MS. */
static bool no_more_msgs(struct pier_conn *conn)
{
	json_t *ev = pier_conn_wait_op(conn, "msg", QUIET_MS);
	bool none = ev == NULL;

	CHECK(none, "no further msg arrives, got %s", jdump(ev));
	json_decref(ev);
	return none;
}

/* "id:text" of every message of list, in order (a new array of strings). */
static json_t *id_text(const json_t *list)
{
	json_t *out = json_array(), *m;
	size_t i;

	json_array_foreach(list, i, m) {
		json_array_append_new(out, json_sprintf("%lld:%s", (long long)jint(m, "id", -1),
		                                        jstr(m, "text") != NULL ? jstr(m, "text") : ""));
	}
	return out;
}

static bool strictly_increasing(const json_t *list)
{
	int64_t last = 0;
	json_t *m;
	size_t i;

	json_array_foreach(list, i, m) {
		if (jint(m, "id", -1) <= last)
			return false;
		last = jint(m, "id", -1);
	}
	return true;
}

int main(void)
{
	struct cluster *c;
	struct pier_conn *snd[CLUSTER_NODES], *obs[CLUSTER_NODES];
	char su[CLUSTER_NODES][HARNESS_NAME_MAX], ou[CLUSTER_NODES][HARNESS_NAME_MAX];
	char to_b[HARNESS_NAME_MAX + 1];
	json_t *seen[CLUSTER_NODES] = { NULL };
	int64_t first_id;

	harness_watchdog(240);
	c = cluster_start(10, args);
	REQUIRE(c != NULL, cluster_done(c), "the cluster starts");

	/* A sender and an observer on each node, straight to the node (not through HAProxy). */
	for (int i = 0; i < CLUSTER_NODES; i++) {
		snd[i] = cluster_new_user(c, i, "snd", su[i]);
		obs[i] = cluster_new_user(c, i, "obs", ou[i]);
		REQUIRE(snd[i] != NULL && obs[i] != NULL, cluster_done(c), "users on node %d", i + 1);
	}

	/* A private message from node 1 to a user on node 2: once there, nowhere else. */
	snprintf(to_b, sizeof(to_b), "@%s", su[1]);
	first_id = client_send(snd[0], to_b, "private across nodes", "p-1", NULL);
	CHECK(first_id > 0, "a private message is sent on node 1");
	{
		json_t *m = client_wait_msg(snd[1], "private across nodes");

		CHECK(m != NULL && jint(m, "id", -1) == first_id && strcmp(jstr(m, "from"), su[0]) == 0,
		      "node 2 delivers it with its id and sender: %s", jdump(m));
		json_decref(m);
		no_more_msgs(snd[1]);
		no_more_msgs(snd[2]);   /* not to a third party */
	}

	for (int i = 0; i < CLUSTER_NODES; i++) {
		REQUIRE(cluster_join(snd[i], ROOM) && cluster_join(obs[i], ROOM), cluster_done(c),
		        "everyone joins %s", ROOM);
	}
	for (int i = 0; i < CLUSTER_NODES; i++) {
		client_drain(snd[i]);
		client_drain(obs[i]);
	}

	/* A→B,C exactly once: one room message from node 1. */
	{
		int64_t id = client_send(snd[0], ROOM, "hello from node 1", "r-1", NULL);

		CHECK(id > first_id, "the room message is sent, after the private one");
		for (int i = 0; i < CLUSTER_NODES; i++) {
			json_t *m = client_wait_msg(obs[i], "hello from node 1");

			CHECK(m != NULL && jint(m, "id", -1) == id, "observer on node %d gets it", i + 1);
			json_decref(m);
			if (i > 0) {
				m = client_wait_msg(snd[i], "hello from node 1");
				CHECK(m != NULL && jint(m, "id", -1) == id, "sender on node %d gets it", i + 1);
				json_decref(m);
			}
		}
		for (int i = 0; i < CLUSTER_NODES; i++) {
			no_more_msgs(obs[i]);
			if (i > 0)
				no_more_msgs(snd[i]);
		}
	}

	/* The storm: three senders on three nodes, pipelined, interleaved. */
	for (int k = 0; k < STORM; k++) {
		for (int i = 0; i < CLUSTER_NODES; i++) {
			char text[64], cid[32];

			snprintf(text, sizeof(text), "storm n%d #%d", i + 1, k);
			snprintf(cid, sizeof(cid), "s%d-%d", i, k);
			CHECK(pier_conn_send(snd[i], pier_req_send(ROOM, text, cid), NULL) == 0, "send %s", text);
		}
	}
	for (int i = 0; i < CLUSTER_NODES; i++) {
		int64_t last = 0;

		for (int k = 0; k < STORM; k++) {
			json_t *r = pier_conn_wait_op(snd[i], "sent", HARNESS_TIMEOUT_MS);

			if (!CHECK(r != NULL, "sender %d: sent #%d", i + 1, k))
				break;
			CHECK(jint(r, "id", -1) > last, "a sender's own ids grow");
			last = jint(r, "id", -1);
			json_decref(r);
		}
	}

	/* Every observer sees all 3 × STORM, in one order, the same everywhere. */
	for (int i = 0; i < CLUSTER_NODES; i++) {
		json_t *got = cluster_collect(obs[i], ROOM, CLUSTER_NODES * STORM, 60000);

		CHECK(strictly_increasing(got), "node %d: ids arrive in increasing order", i + 1);
		seen[i] = id_text(got);
		json_decref(got);
		if (i > 0)
			CHECK(json_equal(seen[i], seen[0]), "node %d sees the order node 1 sees", i + 1);
		no_more_msgs(obs[i]);
	}
	CHECK(json_array_size(seen[0]) == CLUSTER_NODES * STORM, "all of the storm");

	/* Senders see the others' messages in that order too (their own come as sent). */
	for (int i = 0; i < CLUSTER_NODES; i++) {
		json_t *got = cluster_collect(snd[i], ROOM, (CLUSTER_NODES - 1) * STORM, 60000), *m;
		size_t j;
		int64_t last = 0;
		bool ok = true;

		json_array_foreach(got, j, m) {
			ok = ok && jint(m, "id", -1) > last && strcmp(jstr(m, "from"), su[i]) != 0;
			last = jint(m, "id", -1);
		}
		CHECK(ok, "sender %d: the others' messages, in increasing order, none of its own", i + 1);
		json_decref(got);
		no_more_msgs(snd[i]);
	}

	/* History and sync on every node give the same list. */
	{
		json_t *hist0 = NULL;

		for (int i = 0; i < CLUSTER_NODES; i++) {
			json_t *h = cluster_history(obs[i], ROOM, 1000);
			json_t *s = cluster_sync(obs[i], first_id, 1000), *hs, *ss, *room_only = json_array(), *m;
			size_t j;

			json_array_foreach(s, j, m) {
				if (jstr(m, "to") != NULL && strcmp(jstr(m, "to"), ROOM) == 0)
					json_array_append(room_only, m);
			}
			hs = id_text(h);
			ss = id_text(room_only);
			CHECK(json_array_size(hs) == CLUSTER_NODES * STORM + 1,
			      "node %d: history has the %d messages", i + 1, CLUSTER_NODES * STORM + 1);
			CHECK(json_equal(ss, hs), "node %d: sync gives what history gives", i + 1);
			if (i == 0) {
				hist0 = json_incref(h);
			} else {
				CHECK(json_equal(h, hist0), "node %d: history is node 1's, field for field", i + 1);
			}
			/* the live order is the stored order */
			if (json_array_size(hs) > 0) {
				json_t *tail = json_array();

				for (size_t k = 1; k < json_array_size(hs); k++)
					json_array_append(tail, json_array_get(hs, k));
				CHECK(json_equal(tail, seen[0]), "node %d: history's order is the live order",
				      i + 1);
				json_decref(tail);
			}
			json_decref(h);
			json_decref(s);
			json_decref(hs);
			json_decref(ss);
			json_decref(room_only);
		}
		json_decref(hist0);
	}

	for (int i = 0; i < CLUSTER_NODES; i++) {
		pier_conn_close(snd[i]);
		pier_conn_close(obs[i]);
		json_decref(seen[i]);
	}
	CHECK(cluster_stop(c), "the nodes stop cleanly");
	return cluster_done(c);
}
