/* test_durability.c - integration: acknowledged messages survive kill -9, cid de-duplication,
 * offline private delivery, sync, history paging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"

#define NDURABLE 300
#define NPAGED   250

static const char *const args[] = { "--no-rate-limits", NULL };

struct world {
	struct pierd *p;
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX];
	char to_a[HARNESS_NAME_MAX + 1], to_b[HARNESS_NAME_MAX + 1];
};

static bool streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Pipelines n sends to `to` (texts "<prefix> NNN", cids "<prefix>-N") and collects the sent
 * ids in order into ids. Returns how many were acknowledged. */
static int send_many(struct pier_conn *c, const char *to, const char *prefix, int n,
                     int64_t *ids)
{
	int64_t deadline = pier_mono_ms() + 60000;
	int acked = 0, k;

	for (k = 0; k < n; k++) {
		char text[64], cid[64];

		ids[k] = -1;
		snprintf(text, sizeof(text), "%s %03d", prefix, k);
		snprintf(cid, sizeof(cid), "%s-%d", prefix, k);
		if (!CHECK(pier_conn_send(c, pier_req_send(to, text, cid), NULL) == 0, "send %s", text))
			return 0;
	}
	while (acked < n && pier_mono_ms() < deadline) {
		json_t *ev = pier_conn_next(c, (int)(deadline - pier_mono_ms()));
		char want[64];

		if (ev == NULL)
			break;
		if (is_op(ev, "sent") || is_op(ev, "error")) {
			snprintf(want, sizeof(want), "%s-%d", prefix, acked);
			if (CHECK(is_op(ev, "sent") && streq(jstr(ev, "cid"), want) &&
			          jint(ev, "id", -1) > 0,
			          "pipelined send %d: want sent with cid %s, got %s", acked, want,
			          jdump(ev)))
				ids[acked] = jint(ev, "id", -1);
			acked++;
		}
		json_decref(ev);
	}
	CHECK(acked == n, "%d of %d pipelined sends answered", acked, n);
	return acked;
}

/* Reads the whole history of `with` (pages of 200) into a new array, oldest first. */
static json_t *full_history(struct pier_conn *c, const char *with)
{
	json_t *all = json_array();
	int64_t before = 0;

	for (int page = 0; page < 100; page++) {
		json_t *reply = client_call(c, pier_req_history(with, before, 200));
		json_t *msgs = json_object_get(reply, "messages");
		bool more = jtrue(reply, "more");

		if (!CHECK(is_op(reply, "history") && json_is_array(msgs), "history of %s: %s", with,
		           jdump(reply))) {
			json_decref(reply);
			break;
		}
		/* prepend this (older) page */
		for (size_t i = json_array_size(msgs); i > 0; i--)
			json_array_insert(all, 0, json_array_get(msgs, i - 1));
		before = jint(json_array_get(msgs, 0), "id", 0);
		json_decref(reply);
		if (!more || before <= 0)
			break;
	}
	return all;
}

static void test_kill9(struct world *w)
{
	int64_t ids[NDURABLE];
	struct pier_conn *a = client_login(w->p, w->a, HARNESS_PASSWORD);
	json_t *hist, *m;
	int acked, missing = 0, wrong = 0;
	size_t i;

	if (a == NULL)
		return;
	acked = send_many(a, "#lobby", "durable", NDURABLE, ids);
	pierd_kill9(w->p);
	pier_conn_close(a);
	if (!CHECK(pierd_restart(w->p) == 0, "pierd restarts after kill -9"))
		return;
	a = client_login(w->p, w->a, HARNESS_PASSWORD);
	if (a == NULL)
		return;
	hist = full_history(a, "#lobby");
	CHECK(json_array_size(hist) == (size_t)acked,
	      "after kill -9: history has %zu messages, %d were acknowledged",
	      json_array_size(hist), acked);
	for (int k = 0; k < acked; k++) {
		char text[64];
		bool found = false;

		snprintf(text, sizeof(text), "durable %03d", k);
		json_array_foreach(hist, i, m) {
			if (jint(m, "id", -1) == ids[k]) {
				found = true;
				if (!streq(jstr(m, "text"), text) || !streq(jstr(m, "from"), w->a) ||
				    !streq(jstr(m, "to"), "#lobby")) {
					if (wrong++ == 0)
						CHECK(false, "message %lld after restart: want \"%s\" from %s, "
						      "got %s", (long long)ids[k], text, w->a, jdump(m));
				}
				break;
			}
		}
		if (!found && missing++ == 0)
			CHECK(false, "acknowledged message %lld (\"%s\") lost by kill -9",
			      (long long)ids[k], text);
	}
	CHECK(missing == 0 && wrong == 0, "after kill -9: %d acknowledged messages lost, %d changed",
	      missing, wrong);
	json_decref(hist);

	/* ids go on growing after the restart */
	{
		int64_t id = client_send(a, "#lobby", "after restart", NULL, NULL);

		CHECK(acked == 0 || id > ids[acked - 1], "id after restart %lld > last before %lld",
		      (long long)id, (long long)(acked > 0 ? ids[acked - 1] : 0));
	}
	pier_conn_close(a);
}

/* Resends cid and checks the reply is the original id with duplicate:true. */
static void expect_duplicate(struct pier_conn *a, const char *text, const char *cid, int64_t id,
                             const char *when)
{
	json_t *reply = client_call(a, pier_req_send("#lobby", text, cid));

	CHECK(is_op(reply, "sent") && jint(reply, "id", -1) == id && jtrue(reply, "duplicate") &&
	      streq(jstr(reply, "cid"), cid),
	      "%s: resend of cid %s: want sent id %lld duplicate:true, got %s", when, cid,
	      (long long)id, jdump(reply));
	json_decref(reply);
}

static int count_text(const json_t *msgs, const char *text)
{
	const json_t *m;
	size_t i;
	int n = 0;

	json_array_foreach(msgs, i, m)
		n += streq(jstr(m, "text"), text);
	return n;
}

static void test_dedupe(struct world *w)
{
	struct pier_conn *a = client_login(w->p, w->a, HARNESS_PASSWORD);
	struct pier_conn *b = client_login(w->p, w->b, HARNESS_PASSWORD);
	json_t *events, *hist, *m;
	int64_t id;

	if (a == NULL || b == NULL)
		goto out;
	client_drain(b);
	id = client_send(a, "#lobby", "dedupe me", "dup-1", NULL);
	m = client_wait_msg(b, "dedupe me");
	json_decref(m);
	expect_duplicate(a, "dedupe me", "dup-1", id, "live");
	events = client_events(b);
	CHECK(count_op(events, "msg", NULL, NULL) == 0, "a duplicate sends no msg: got %s",
	      jdump(events));
	json_decref(events);
	hist = client_call(a, pier_req_history("#lobby", 0, 50));
	CHECK(count_text(json_object_get(hist, "messages"), "dedupe me") == 1,
	      "history holds the de-duplicated message once: %s", jdump(hist));
	json_decref(hist);

	/* the same cid from another user is another message */
	{
		int64_t other = client_send(b, "#lobby", "dedupe me", "dup-1", NULL);

		CHECK(other > id, "a cid is unique per sender: another user's dup-1 got id %lld",
		      (long long)other);
	}

	/* after a clean restart the cid is still known */
	pier_conn_close(a);
	pier_conn_close(b);
	a = b = NULL;
	CHECK(pierd_stop(w->p), "pierd stops cleanly");
	if (!CHECK(pierd_restart(w->p) == 0, "pierd restarts"))
		goto out;
	a = client_login(w->p, w->a, HARNESS_PASSWORD);
	if (a == NULL)
		goto out;
	expect_duplicate(a, "dedupe me", "dup-1", id, "after restart");
	hist = client_call(a, pier_req_history("#lobby", 0, 50));
	CHECK(count_text(json_object_get(hist, "messages"), "dedupe me") == 2,
	      "history: \"dedupe me\" once from each user after restart: %s", jdump(hist));
	json_decref(hist);
out:
	pier_conn_close(a);
	pier_conn_close(b);
}

/* Waits on c for B's presence going offline. */
static void wait_offline(struct pier_conn *c, const char *user)
{
	int64_t deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;

	while (pier_mono_ms() < deadline) {
		json_t *ev = pier_conn_wait_op(c, "presence", (int)(deadline - pier_mono_ms()));
		bool done = ev != NULL && streq(jstr(ev, "user"), user) && !jtrue(ev, "online");

		if (ev == NULL)
			break;
		json_decref(ev);
		if (done)
			return;
	}
	CHECK(false, "no presence offline for %s", user);
}

static void test_offline(struct world *w, int64_t *last_id)
{
	struct pier_conn *a = client_login(w->p, w->a, HARNESS_PASSWORD);
	struct pier_conn *b = NULL;
	int64_t ids[3];
	json_t *reply, *events;
	int64_t deadline;
	int nmsg = 0;
	bool users_first = false, seen_users = false;

	if (a == NULL)
		return;
	/* B is offline (it logged in before: test_dedupe; and make sure it's closed) */
	for (int k = 0; k < 3; k++) {
		char text[32];

		snprintf(text, sizeof(text), "while you were out %d", k);
		ids[k] = client_send(a, w->to_b, text, NULL, NULL);
	}
	*last_id = ids[2];

	/* B logs in: login, users, then the 3 as offline msgs, oldest first */
	b = client_connect(w->p);
	reply = client_call(b, pier_req_login(w->b, HARNESS_PASSWORD));
	CHECK(jint(reply, "status", -99) == 1, "B logs in: %s", jdump(reply));
	json_decref(reply);
	deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;
	events = json_array();
	while (b != NULL && nmsg < 3 && pier_mono_ms() < deadline) {
		json_t *ev = pier_conn_next(b, (int)(deadline - pier_mono_ms()));

		if (ev == NULL)
			break;
		if (is_op(ev, "users"))
			seen_users = true;
		if (is_op(ev, "msg")) {
			char text[32];

			if (nmsg == 0)
				users_first = seen_users;
			snprintf(text, sizeof(text), "while you were out %d", nmsg);
			CHECK(jint(ev, "id", -1) == ids[nmsg] && streq(jstr(ev, "text"), text) &&
			      streq(jstr(ev, "from"), w->a) && streq(jstr(ev, "to"), w->to_b) &&
			      jtrue(ev, "offline"),
			      "offline message %d: want id %lld \"%s\" from %s to %s offline:true, got %s",
			      nmsg, (long long)ids[nmsg], text, w->a, w->to_b, jdump(ev));
			nmsg++;
		}
		json_array_append_new(events, ev);
	}
	CHECK(nmsg == 3, "B got %d of 3 offline messages: %s", nmsg, jdump(events));
	CHECK(users_first, "the users event comes before the offline messages: %s", jdump(events));
	json_decref(events);
	events = client_events(b);
	CHECK(count_op(events, "msg", NULL, NULL) == 0, "no more messages after the 3: %s",
	      jdump(events));
	json_decref(events);

	/* B's second login (after the first closed): nothing delivered again */
	client_drain(a);
	pier_conn_close(b);
	wait_offline(a, w->b);
	b = client_login(w->p, w->b, HARNESS_PASSWORD);
	events = client_events(b);
	CHECK(events != NULL && count_op(events, "msg", NULL, NULL) == 0 &&
	      count_op(events, "offline", NULL, NULL) == 0,
	      "second login: offline messages must not come again, got %s", jdump(events));
	json_decref(events);

	/* a message while B is online is not offline */
	{
		int64_t id = client_send(a, w->to_b, "you are here", NULL, NULL);
		json_t *m = client_wait_msg(b, "you are here");

		CHECK(m != NULL && jint(m, "id", -1) == id && !jtrue(m, "offline"),
		      "a live private message: %s", jdump(m));
		json_decref(m);
	}
	pier_conn_close(a);
	pier_conn_close(b);
}

static void test_sync(struct world *w, int64_t after)
{
	struct pier_conn *a = client_login(w->p, w->a, HARNESS_PASSWORD);
	struct pier_conn *b = client_login(w->p, w->b, HARNESS_PASSWORD);
	const char *want[] = { "you are here", "sync lobby 1", "sync private", "sync lobby 2" };
	json_t *reply, *msgs;
	size_t n = sizeof(want) / sizeof(want[0]);
	int64_t prev = after;

	if (a == NULL || b == NULL)
		goto out;
	reply = client_call(a, pier_req_join("#secret-a"));
	json_decref(reply);
	client_send(a, "#lobby", "sync lobby 1", NULL, NULL);
	client_send(a, "#secret-a", "not for B", NULL, NULL);
	client_send(a, w->to_b, "sync private", NULL, NULL);
	client_send(a, "#lobby", "sync lobby 2", NULL, NULL);

	reply = client_call(b, pier_req_sync(after, 200));
	msgs = json_object_get(reply, "messages");
	CHECK(is_op(reply, "sync") && json_array_size(msgs) == n &&
	      json_is_false(json_object_get(reply, "more")),
	      "sync after %lld: want %zu messages, more:false; got %s", (long long)after, n,
	      jdump(reply));
	for (size_t i = 0; i < n && i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);

		CHECK(streq(jstr(m, "text"), want[i]) && jint(m, "id", -1) > prev,
		      "sync message %zu: want \"%s\" after id %lld, got %s", i, want[i],
		      (long long)prev, jdump(m));
		prev = jint(m, "id", prev);
	}
	json_decref(reply);

	/* in pages: limit 3, then the rest */
	reply = client_call(b, pier_req_sync(after, 3));
	msgs = json_object_get(reply, "messages");
	CHECK(json_array_size(msgs) == 3 && jtrue(reply, "more"),
	      "sync with limit 3: want 3 messages and more:true, got %s", jdump(reply));
	prev = jint(json_array_get(msgs, 2), "id", 0);
	json_decref(reply);
	reply = client_call(b, pier_req_sync(prev, 3));
	msgs = json_object_get(reply, "messages");
	CHECK(json_array_size(msgs) == 1 && streq(jstr(json_array_get(msgs, 0), "text"), want[3]) &&
	      json_is_false(json_object_get(reply, "more")),
	      "sync the rest: want 1 message and more:false, got %s", jdump(reply));
	json_decref(reply);
out:
	pier_conn_close(a);
	pier_conn_close(b);
}

/* Checks one history page: the messages ids[lo..hi) oldest first and the more flag. */
static int64_t expect_page(struct pier_conn *c, int64_t before, int limit, const int64_t *ids,
                           int lo, int hi, bool more)
{
	json_t *reply = client_call(c, pier_req_history("#pages", before, limit));
	json_t *msgs = json_object_get(reply, "messages");
	bool ok;

	ok = CHECK(is_op(reply, "history") && streq(jstr(reply, "with"), "#pages") &&
	           json_array_size(msgs) == (size_t)(hi - lo) &&
	           json_is_boolean(json_object_get(reply, "more")) && jtrue(reply, "more") == more,
	           "history before %lld limit %d: want %d messages, more:%d; got %zu, more %s",
	           (long long)before, limit, hi - lo, more, json_array_size(msgs),
	           jdump(json_object_get(reply, "more")));
	for (int i = lo; ok && i < hi; i++) {
		json_t *m = json_array_get(msgs, (size_t)(i - lo));
		char text[32];

		snprintf(text, sizeof(text), "page %03d", i);
		if (!CHECK(jint(m, "id", -1) == ids[i] && streq(jstr(m, "text"), text),
		           "history page before %lld, position %d: want id %lld \"%s\", got %s",
		           (long long)before, i - lo, (long long)ids[i], text, jdump(m)))
			break;
	}
	json_decref(reply);
	return lo < hi ? ids[lo] : 0;
}

static void test_paging(struct world *w)
{
	struct pier_conn *a = client_login(w->p, w->a, HARNESS_PASSWORD);
	int64_t ids[NPAGED], before;
	json_t *reply;

	if (a == NULL)
		return;
	reply = client_call(a, pier_req_join("#pages"));
	json_decref(reply);
	if (send_many(a, "#pages", "page", NPAGED, ids) != NPAGED)
		goto out;
	before = expect_page(a, 0, 100, ids, 150, 250, true);
	before = expect_page(a, before, 100, ids, 50, 150, true);
	before = expect_page(a, before, 100, ids, 0, 50, false);
	expect_page(a, before, 100, ids, 0, 0, false);
	/* default limit 50, at most 200 */
	expect_page(a, 0, 0, ids, 200, 250, true);
	expect_page(a, 0, 1000, ids, 50, 250, true);
	/* exactly the oldest ones: more is false */
	expect_page(a, ids[100], 100, ids, 0, 100, false);
out:
	pier_conn_close(a);
}

int main(void)
{
	struct world w;
	struct pier_conn *c;
	int64_t last_offline = 0;

	memset(&w, 0, sizeof(w));
	harness_watchdog(240);
	w.p = pierd_start(args);
	REQUIRE(w.p != NULL, harness_done(), "pierd starts");
	harness_user(w.a, "Anna");
	harness_user(w.b, "Ben");
	snprintf(w.to_a, sizeof(w.to_a), "@%s", w.a);
	snprintf(w.to_b, sizeof(w.to_b), "@%s", w.b);
	c = client_connect(w.p);
	CHECK(client_register(c, w.a, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register %s", w.a);
	CHECK(client_register(c, w.b, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register %s", w.b);
	pier_conn_close(c);

	test_kill9(&w);
	test_dedupe(&w);
	test_offline(&w, &last_offline);
	test_sync(&w, last_offline);
	test_paging(&w);
	CHECK(pierd_is_running(w.p), "pierd still runs");
	CHECK(pierd_stop(w.p), "pierd stops cleanly");
	return harness_done();
}
