/* test_order.c - integration: 20 clients pipeline 200 #lobby messages each, all at once; every
 * client sees all 4000 in id order, and history returns exactly them. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"

#define NCLIENTS   20
#define NMSGS      200
#define TOTAL      (NCLIENTS * NMSGS)
#define RUN_MS     90000   /* from the start barrier until every client has everything */

static const char *const args[] = { "--no-rate-limits", NULL };

struct rx {                /* one "msg" a client received, in arrival order */
	int64_t id;
	int src, k;        /* parsed from the text: sender index and its message number */
	bool from_ok;      /* from is the sender's name and to is #lobby */
};

struct oclient {
	int idx;
	char user[HARNESS_NAME_MAX];
	struct pier_conn *conn;
	pthread_barrier_t *start;
	int64_t deadline;
	int64_t sent_ids[NMSGS];   /* by message number */
	int nsent;
	bool sent_in_order;        /* the sent replies came in send order */
	struct rx *rx;             /* TOTAL entries */
	int nmsg;
	int64_t *seq;              /* ids of sent and msg in arrival order */
	int nseq;
	int nother;                /* unexpected events (errors, foreign msgs) */
	char other[512];           /* the first of them */
};

static struct oclient clients[NCLIENTS];

static void text_of(char *buf, size_t len, int idx, int k)
{
	snprintf(buf, len, "order c%02d m%03d", idx, k);
}

static bool parse_text(const char *text, int *idx, int *k)
{
	char tail;

	return text != NULL && sscanf(text, "order c%d m%d%c", idx, k, &tail) == 2 && *idx >= 0 &&
	       *idx < NCLIENTS && *k >= 0 && *k < NMSGS;
}

static void note_other(struct oclient *c, const json_t *ev)
{
	if (c->nother++ == 0)
		snprintf(c->other, sizeof(c->other), "%s", jdump(ev));
}

static void on_event(struct oclient *c, json_t *ev)
{
	if (is_op(ev, "sent")) {
		const char *cid = jstr(ev, "cid");
		int idx = -1, k = -1;

		if (cid == NULL || sscanf(cid, "c%d-%d", &idx, &k) != 2 || idx != c->idx || k < 0 ||
		    k >= NMSGS || c->nsent >= NMSGS) {
			note_other(c, ev);
			return;
		}
		if (k != c->nsent)
			c->sent_in_order = false;
		c->sent_ids[k] = jint(ev, "id", -1);
		c->nsent++;
		c->seq[c->nseq++] = jint(ev, "id", -1);
	} else if (is_op(ev, "msg")) {
		struct rx *r;
		const char *to = jstr(ev, "to"), *from = jstr(ev, "from");

		if (c->nmsg >= TOTAL) {
			note_other(c, ev);
			return;
		}
		r = &c->rx[c->nmsg];
		r->id = jint(ev, "id", -1);
		if (!parse_text(jstr(ev, "text"), &r->src, &r->k)) {
			note_other(c, ev);
			return;
		}
		r->from_ok = to != NULL && strcmp(to, "#lobby") == 0 && from != NULL &&
		             strcmp(from, clients[r->src].user) == 0;
		c->nmsg++;
		c->seq[c->nseq++] = r->id;
	} else if (!is_op(ev, "presence")) {
		note_other(c, ev);
	}
}

static void *client_main(void *arg)
{
	struct oclient *c = arg;

	pthread_barrier_wait(c->start);
	for (int k = 0; k < NMSGS; k++) {
		char text[64], cid[32];

		text_of(text, sizeof(text), c->idx, k);
		snprintf(cid, sizeof(cid), "c%d-%d", c->idx, k);
		if (pier_conn_send(c->conn, pier_req_send("#lobby", text, cid), NULL) != 0)
			break;
	}
	while ((c->nsent < NMSGS || c->nmsg < TOTAL - NMSGS) && c->nother < 100) {
		int64_t left = c->deadline - pier_mono_ms();
		json_t *ev;

		if (left <= 0)
			break;
		ev = pier_conn_next(c->conn, (int)left);
		if (ev == NULL)
			break;
		on_event(c, ev);
		json_decref(ev);
	}
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The index of the first element not greater than the one before, or -1. */
static int first_not_increasing(const int64_t *v, int n)
{
	for (int i = 1; i < n; i++) {
		if (v[i] <= v[i - 1])
			return i;
	}
	return -1;
}

/* Checks one client's view after the run. */
static void check_client(struct oclient *c)
{
	static bool seen[NCLIENTS][NMSGS];
	static int64_t rx_ids[TOTAL];
	int k, bad_from = 0, bad_id = 0, dup = 0, own = 0, first_bad = -1;

	CHECK(c->nother == 0, "client %d: %d unexpected events, first %s", c->idx, c->nother,
	      c->other);
	CHECK(c->nsent == NMSGS, "client %d: %d sent replies, want %d", c->idx, c->nsent, NMSGS);
	CHECK(c->nmsg == TOTAL - NMSGS, "client %d: %d msg events, want %d", c->idx, c->nmsg,
	      TOTAL - NMSGS);
	CHECK(c->sent_in_order, "client %d: sent replies out of send order", c->idx);
	k = first_not_increasing(c->sent_ids, c->nsent);
	CHECK(k < 0, "client %d: sent id of message %d (%lld) <= message %d's (%lld)", c->idx, k,
	      k >= 0 ? (long long)c->sent_ids[k] : 0LL, k - 1,
	      k >= 1 ? (long long)c->sent_ids[k - 1] : 0LL);
	for (int i = 0; i < c->nmsg; i++)
		rx_ids[i] = c->rx[i].id;
	k = first_not_increasing(rx_ids, c->nmsg);
	CHECK(k < 0, "client %d: msg ids not increasing: msg #%d id %lld after id %lld", c->idx, k,
	      k >= 0 ? (long long)rx_ids[k] : 0LL, k >= 1 ? (long long)rx_ids[k - 1] : 0LL);
	k = first_not_increasing(c->seq, c->nseq);
	CHECK(k < 0, "client %d: sent/msg arrival not in id order: event #%d id %lld after id %lld",
	      c->idx, k, k >= 0 ? (long long)c->seq[k] : 0LL, k >= 1 ? (long long)c->seq[k - 1] : 0LL);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < c->nmsg; i++) {
		const struct rx *r = &c->rx[i];

		if (r->src == c->idx) {
			own++;
			continue;
		}
		if (seen[r->src][r->k])
			dup++;
		seen[r->src][r->k] = true;
		if (!r->from_ok)
			bad_from++;
		if (clients[r->src].sent_ids[r->k] != r->id) {
			if (bad_id++ == 0)
				first_bad = i;
		}
	}
	CHECK(own == 0, "client %d got %d of its own messages as msg", c->idx, own);
	CHECK(dup == 0, "client %d got %d messages twice", c->idx, dup);
	CHECK(bad_from == 0, "client %d: %d msgs with a wrong from/to", c->idx, bad_from);
	CHECK(bad_id == 0, "client %d: %d msgs whose id differs from the sender's sent id "
	      "(first: c%02d m%03d id %lld, sent id %lld)", c->idx, bad_id,
	      first_bad >= 0 ? c->rx[first_bad].src : 0, first_bad >= 0 ? c->rx[first_bad].k : 0,
	      first_bad >= 0 ? (long long)c->rx[first_bad].id : 0LL,
	      first_bad >= 0 ?
	      (long long)clients[c->rx[first_bad].src].sent_ids[c->rx[first_bad].k] : 0LL);
}

/* Pages #lobby's history back with before; checks it is exactly the 4000 messages. */
static void check_history(struct pier_conn *conn, const int64_t *sorted_ids)
{
	int64_t *ids = calloc(TOTAL + NMSGS, sizeof(*ids)), before = 0;
	int n = 0, pages = 0, bad_text = 0, bad_order = 0;
	bool more = true;

	/* pages come newest first; fill ids from the end */
	while (more && pages < TOTAL / 200 + 5) {
		json_t *reply = client_call(conn, pier_req_history("#lobby", before, 200));
		json_t *msgs = json_object_get(reply, "messages"), *m;
		size_t i, count = json_array_size(msgs);
		int64_t prev = 0;

		pages++;
		if (!CHECK(is_op(reply, "history") && json_is_array(msgs) &&
		           json_is_boolean(json_object_get(reply, "more")),
		           "history page %d: %s", pages, jdump(reply))) {
			json_decref(reply);
			break;
		}
		more = jtrue(reply, "more");
		if (count == 0 || n + (int)count > TOTAL + NMSGS) {
			CHECK(count != 0 || !more, "an empty history page with more:true");
			json_decref(reply);
			break;
		}
		json_array_foreach(msgs, i, m) {
			int64_t id = jint(m, "id", -1);
			int src, k;

			if (!(id > prev && (before == 0 || id < before)) && bad_order++ == 0)
				CHECK(false, "history page %d (before %lld): id %lld after %lld", pages,
				      (long long)before, (long long)id, (long long)prev);
			prev = id;
			if (!parse_text(jstr(m, "text"), &src, &k) ||
			    clients[src].sent_ids[k] != id ||
			    strcmp(jstr(m, "from") != NULL ? jstr(m, "from") : "",
			           clients[src].user) != 0) {
				if (bad_text++ == 0)
					CHECK(false, "history message does not match what was sent: %s",
					      jdump(m));
			}
			ids[TOTAL + NMSGS - n - (int)count + (int)i] = id;
		}
		n += (int)count;
		before = jint(json_array_get(msgs, 0), "id", 0);
		json_decref(reply);
	}
	CHECK(!more, "history: still more after %d pages", pages);
	CHECK(n == TOTAL, "history holds %d messages, want %d", n, TOTAL);
	CHECK(bad_text == 0, "%d history messages differ from what was sent", bad_text);
	CHECK(bad_order == 0, "%d history messages out of order", bad_order);
	if (n == TOTAL) {
		const int64_t *got = ids + NMSGS;
		int i = 0;

		while (i < TOTAL && got[i] == sorted_ids[i])
			i++;
		CHECK(i == TOTAL, "history id #%d is %lld, want %lld (the acknowledged ids in order)",
		      i, i < TOTAL ? (long long)got[i] : 0LL,
		      i < TOTAL ? (long long)sorted_ids[i] : 0LL);
	}
	free(ids);
}

int main(void)
{
	struct pierd *p;
	pthread_barrier_t start;
	pthread_t threads[NCLIENTS];
	int64_t *all_ids;
	int started = 0, nall = 0;
	bool ready = true;

	harness_watchdog(240);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");

	for (int i = 0; i < NCLIENTS; i++) {
		struct oclient *c = &clients[i];

		c->idx = i;
		c->sent_in_order = true;
		c->rx = calloc(TOTAL, sizeof(*c->rx));
		c->seq = calloc(TOTAL + 16, sizeof(*c->seq));
		for (int k = 0; k < NMSGS; k++)
			c->sent_ids[k] = -1;
		c->conn = client_new_user(p, "order", c->user);
		if (c->conn == NULL)
			ready = false;
	}
	/* everyone's presence events are in; start clean */
	for (int i = 0; ready && i < NCLIENTS; i++)
		client_drain(clients[i].conn);

	if (CHECK(ready, "%d clients log in", NCLIENTS)) {
		int64_t t0;

		pthread_barrier_init(&start, NULL, NCLIENTS + 1);
		for (int i = 0; i < NCLIENTS; i++) {
			clients[i].start = &start;
			if (pthread_create(&threads[i], NULL, client_main, &clients[i]) != 0)
				break;
			started++;
		}
		if (CHECK(started == NCLIENTS, "start %d threads", NCLIENTS)) {
			t0 = pier_mono_ms();
			for (int i = 0; i < NCLIENTS; i++)
				clients[i].deadline = t0 + RUN_MS;
			pthread_barrier_wait(&start);
			for (int i = 0; i < started; i++)
				pthread_join(threads[i], NULL);
			fprintf(stderr, "test_order: %d clients x %d messages in %lld ms\n", NCLIENTS,
			        NMSGS, (long long)(pier_mono_ms() - t0));

			all_ids = calloc(TOTAL, sizeof(*all_ids));
			for (int i = 0; i < NCLIENTS; i++) {
				for (int k = 0; k < NMSGS; k++) {
					if (clients[i].sent_ids[k] > 0)
						all_ids[nall++] = clients[i].sent_ids[k];
				}
			}
			qsort(all_ids, (size_t)nall, sizeof(*all_ids), cmp_i64);
			for (int i = 1; i < nall; i++) {
				if (!CHECK(all_ids[i] != all_ids[i - 1], "id %lld acknowledged twice",
				           (long long)all_ids[i]))
					break;
			}
			for (int i = 0; i < NCLIENTS; i++)
				check_client(&clients[i]);
			if (CHECK(nall == TOTAL, "%d messages acknowledged, want %d", nall, TOTAL))
				check_history(clients[0].conn, all_ids);
			free(all_ids);
			pthread_barrier_destroy(&start);
		}
		/* else the started threads stay blocked at the barrier; exit ends them */
	}
	CHECK(pierd_is_running(p), "pierd still runs");
	for (int i = 0; i < NCLIENTS; i++) {
		pier_conn_close(clients[i].conn);
		free(clients[i].rx);
		free(clients[i].seq);
	}
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
