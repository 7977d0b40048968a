/* test_proof_kill.c - cluster: kill -9 one node in the middle of a send storm. Its clients
 * reconnect through HAProxy to another node and resend what was not acked, with the same
 * cids; afterwards every acked message is stored once, every cid once, and every node (the
 * killed one too, once restarted) answers history the same; clients on the surviving nodes
 * got every message live exactly once, in id order. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cluster.h"

#define SENDERS   6       /* through HAProxy: about two per node */
#define BEFORE    20      /* acked before the kill */
#define DURING    20      /* pipelined, then the kill */
#define AFTER     20      /* after the reconnect */
#define PER       (BEFORE + DURING + AFTER)
#define KILLED    1       /* node 2 */
#define ROOM      "#storm"

static const char *const args[] = { "--no-rate-limits", NULL };

static int duplicates;   /* sent replies with "duplicate":true (stored before the kill, ack lost) */

struct sender {
	char user[HARNESS_NAME_MAX];
	struct pier_conn *conn;
	int64_t id[PER];       /* the acked id of message k, 0 while not acked */
	bool dropped;          /* its connection ended with the kill */
};

static void text_of(int s, int k, char *out, size_t n)
{
	snprintf(out, n, "k%d-%d", s, k);
}

/* Sends messages [from, to) of sender s without waiting. */
static void send_range(struct sender *snd, int s, int from, int to)
{
	for (int k = from; k < to; k++) {
		char text[32];

		if (snd->id[k] != 0)
			continue;
		text_of(s, k, text, sizeof(text));
		if (pier_conn_send(snd->conn, pier_req_send(ROOM, text, text), NULL) != 0)
			break;
	}
}

/* True if conn was closed by the other end. The events still kept (the others' messages, which
 * a sender does not check) are dropped: pier_conn_is_closed waits for them to be read. */
static bool conn_ended(struct pier_conn *conn)
{
	json_t *ev;

	while ((ev = pier_conn_next(conn, 0)) != NULL)
		json_decref(ev);
	return pier_conn_is_closed(conn);
}

/* Reads sent replies until messages [from, to) are acked or the connection ends (or the
 * timeout). Returns how many are acked in that range. */
static int read_acks(struct sender *snd, int from, int to, int timeout_ms)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;
	int acked = 0;

	for (;;) {
		json_t *r;

		acked = 0;
		for (int k = from; k < to; k++)
			acked += snd->id[k] != 0;
		if (acked == to - from || pier_mono_ms() >= deadline)
			break;
		r = pier_conn_wait_op(snd->conn, "sent", (int)(deadline - pier_mono_ms()));
		if (r == NULL) {
			if (conn_ended(snd->conn))
				snd->dropped = true;
			break;
		}
		{
			const char *cid = jstr(r, "cid");
			int s, k;

			if (cid != NULL && sscanf(cid, "k%d-%d", &s, &k) == 2 && k >= 0 && k < PER) {
				if (snd->id[k] != 0)
					CHECK(snd->id[k] == jint(r, "id", -1), "a resent cid keeps its id");
				snd->id[k] = jint(r, "id", -1);
				duplicates += jtrue(r, "duplicate");
			}
		}
		json_decref(r);
	}
	return acked;
}

/* Checks list (a conversation's messages) has every acked message once and every text once. */
static void check_stored(const char *who, const json_t *list, struct sender *snd)
{
	json_t *seen_text = json_object(), *m;
	size_t i;
	int dup_text = 0, missing = 0, wrong = 0;

	json_array_foreach(list, i, m) {
		const char *t = jstr(m, "text");

		if (t == NULL)
			continue;
		if (json_object_get(seen_text, t) != NULL)
			dup_text++;
		json_object_set_new(seen_text, t, json_integer(jint(m, "id", -1)));
	}
	for (int s = 0; s < SENDERS; s++) {
		for (int k = 0; k < PER; k++) {
			char text[32];
			json_t *id;

			text_of(s, k, text, sizeof(text));
			id = json_object_get(seen_text, text);
			if (id == NULL)
				missing++;
			else if (snd[s].id[k] != 0 && json_integer_value(id) != snd[s].id[k])
				wrong++;
		}
	}
	CHECK(dup_text == 0, "%s: no message stored twice (%d duplicates)", who, dup_text);
	CHECK(missing == 0, "%s: every message stored (%d missing)", who, missing);
	CHECK(wrong == 0, "%s: each under the id its sender was acked with (%d differ)", who, wrong);
	CHECK(json_array_size(list) == SENDERS * PER, "%s: %zu messages, want %d", who,
	      json_array_size(list), SENDERS * PER);
	json_decref(seen_text);
}

int main(void)
{
	struct cluster *c;
	struct sender snd[SENDERS];
	struct pier_conn *obs[CLUSTER_NODES] = { NULL };
	char obs_user[CLUSTER_NODES][HARNESS_NAME_MAX];
	int dropped = 0;

	harness_watchdog(280);
	memset(snd, 0, sizeof(snd));
	c = cluster_start(4, args);
	REQUIRE(c != NULL, cluster_done(c), "the cluster starts");

	/* Observers straight on the nodes that survive. */
	for (int i = 0; i < CLUSTER_NODES; i++) {
		if (i == KILLED)
			continue;
		obs[i] = cluster_new_user(c, i, "obs", obs_user[i]);
		REQUIRE(obs[i] != NULL && cluster_join(obs[i], ROOM), cluster_done(c), "observer %d", i);
	}
	for (int s = 0; s < SENDERS; s++) {
		snd[s].conn = cluster_new_user(c, CLUSTER_LB, "snd", snd[s].user);
		REQUIRE(snd[s].conn != NULL && cluster_join(snd[s].conn, ROOM), cluster_done(c),
		        "sender %d through HAProxy", s);
	}

	/* Before: acked one by one. */
	for (int s = 0; s < SENDERS; s++)
		send_range(&snd[s], s, 0, BEFORE);
	for (int s = 0; s < SENDERS; s++)
		CHECK(read_acks(&snd[s], 0, BEFORE, HARNESS_TIMEOUT_MS) == BEFORE, "sender %d: before", s);

	/* During: everyone pipelines, and node 2 dies under it. */
	for (int s = 0; s < SENDERS; s++)
		send_range(&snd[s], s, BEFORE, BEFORE + DURING);
	{
		/* let about a third of them be acked, so that the kill falls among commits */
		int64_t deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;
		int acked = 0;

		while (acked < SENDERS * DURING / 3 && pier_mono_ms() < deadline) {
			acked = 0;
			for (int s = 0; s < SENDERS; s++)
				acked += read_acks(&snd[s], BEFORE, BEFORE + DURING, 2);
		}
	}
	cluster_kill9(c, KILLED);
	for (int s = 0; s < SENDERS; s++) {
		read_acks(&snd[s], BEFORE, BEFORE + DURING, HARNESS_TIMEOUT_MS);
		if (!snd[s].dropped) {
			/* acked all before the kill: a ping says whether its node is the dead one */
			json_t *pong = pier_conn_call(snd[s].conn, pier_req_ping(), HARNESS_TIMEOUT_MS);

			snd[s].dropped = pong == NULL && conn_ended(snd[s].conn);
			json_decref(pong);
		}
		dropped += snd[s].dropped;
	}
	CHECK(dropped > 0 && dropped < SENDERS, "the kill cut some senders off (%d of %d)", dropped,
	      SENDERS);

	/* The cut-off ones come back through HAProxy (to a live node) and resend, same cids. */
	for (int s = 0; s < SENDERS; s++) {
		if (!snd[s].dropped)
			continue;
		pier_conn_close(snd[s].conn);
		snd[s].conn = cluster_login(c, CLUSTER_LB, snd[s].user);
		if (!CHECK(snd[s].conn != NULL, "sender %d logs in again through HAProxy", s))
			continue;
		send_range(&snd[s], s, BEFORE, BEFORE + DURING);
		CHECK(read_acks(&snd[s], BEFORE, BEFORE + DURING, HARNESS_TIMEOUT_MS) == DURING,
		      "sender %d: every message acked after resending", s);
	}
	printf("# %d of %d senders cut off by the kill; %d resent messages had been stored (their ack "
	       "lost), answered as duplicates\n", dropped, SENDERS, duplicates);

	/* A resend of an acked message is a duplicate, not a new message. */
	{
		char text[32];
		json_t *r;

		text_of(0, 0, text, sizeof(text));
		r = client_call(snd[0].conn, pier_req_send(ROOM, text, text));
		CHECK(is_op(r, "sent") && jtrue(r, "duplicate") && jint(r, "id", -1) == snd[0].id[0],
		      "resending an acked cid answers the original id as a duplicate: %s", jdump(r));
		json_decref(r);
	}

	/* After: more sends on the surviving nodes. */
	for (int s = 0; s < SENDERS; s++) {
		if (snd[s].conn == NULL)
			continue;
		send_range(&snd[s], s, BEFORE + DURING, PER);
		CHECK(read_acks(&snd[s], BEFORE + DURING, PER, HARNESS_TIMEOUT_MS) == AFTER,
		      "sender %d: after", s);
	}

	/* Live: the observers on the surviving nodes got every message exactly once, in order. */
	for (int i = 0; i < CLUSTER_NODES; i++) {
		json_t *got, *m, *ids;
		size_t j;
		int64_t last = 0;
		bool ordered = true;
		json_t *extra;

		if (obs[i] == NULL)
			continue;
		got = cluster_collect(obs[i], ROOM, SENDERS * PER, 60000);
		ids = json_object();
		json_array_foreach(got, j, m) {
			char key[32];

			ordered = ordered && jint(m, "id", -1) > last;
			last = jint(m, "id", -1);
			snprintf(key, sizeof(key), "%lld", (long long)last);
			json_object_set_new(ids, key, json_true());
		}
		CHECK(ordered, "node %d: live messages in increasing id order, no repeat", i + 1);
		CHECK(json_object_size(ids) == SENDERS * PER, "node %d: %zu distinct messages live",
		      i + 1, json_object_size(ids));
		check_stored(i == 0 ? "node 1 live" : "node 3 live", got, snd);
		extra = pier_conn_wait_op(obs[i], "msg", 1500);
		CHECK(extra == NULL, "node %d: nothing more (no duplicate): %s", i + 1, jdump(extra));
		json_decref(extra);
		json_decref(ids);
		json_decref(got);
	}

	/* Stored: history on every node, the restarted one too. */
	REQUIRE(cluster_restart(c, KILLED) == 0, cluster_done(c), "node 2 starts again");
	for (int i = 0; i < CLUSTER_NODES; i++) {
		struct pier_conn *r = cluster_login(c, i, snd[0].user);
		json_t *h = r != NULL ? cluster_history(r, ROOM, 10 * SENDERS * PER) : NULL;
		char who[32];

		snprintf(who, sizeof(who), "history on node %d", i + 1);
		if (CHECK(h != NULL, "%s", who))
			check_stored(who, h, snd);
		json_decref(h);
		pier_conn_close(r);
	}

	for (int s = 0; s < SENDERS; s++)
		pier_conn_close(snd[s].conn);
	for (int i = 0; i < CLUSTER_NODES; i++)
		pier_conn_close(obs[i]);
	CHECK(cluster_stop(c), "the nodes stop cleanly");
	return cluster_done(c);
}
