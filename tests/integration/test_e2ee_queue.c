/* test_e2ee_queue.c - integration: encrypted private messages and the per-device queues
 * against a real pierd. A send needs an envelope for exactly the current devices (a device
 * missing, one too many, one of a third user, one twice: refused, nothing stored); delivery to
 * each device (and "e2ee":true without text to sessions without a device); no plaintext to a
 * user with a list (e2ee_required), no edit of an encrypted message; history without text or
 * payload; 1000 envelopes to an offline device read back in order, once, across reconnects
 * with partial acks; backlog and live meeting without a gap or a duplicate; queue_full
 * (--e2ee-max-queue 5 on a second pierd); device_send; a revoked device; and another user's
 * session unable to touch a queue that is not its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2eetest.h"

static const char *const args[] = { "--no-rate-limits", NULL };
static const char *const small_queue_args[] = { "--no-rate-limits", "--e2ee-max-queue", "5", NULL };

struct world {
	struct pierd *p;
	char alice[HARNESS_NAME_MAX], bob[HARNESS_NAME_MAX], carol[HARNESS_NAME_MAX];
	char to_bob[HARNESS_NAME_MAX + 1];
	struct tdev a1, a2, b1, c1;
	struct tacct ak, bk, ck;
};

/* Two users with devices and published lists (alice two, bob and carol one each). */
static bool setup(struct world *w)
{
	struct tdev *two[2], *one[1];

	harness_user(w->alice, "qa");
	harness_user(w->bob, "qb");
	harness_user(w->carol, "qc");
	snprintf(w->to_bob, sizeof(w->to_bob), "@%s", w->bob);
	if (!t_register(w->p, w->alice) || !t_register(w->p, w->bob) || !t_register(w->p, w->carol))
		return false;
	t_dev_init(&w->a1, w->alice, "a1");
	t_dev_init(&w->a2, w->alice, "a2");
	t_dev_init(&w->b1, w->bob, "b1");
	t_dev_init(&w->c1, w->carol, "c1");
	t_acct_init(&w->ak, w->alice);
	t_acct_init(&w->bk, w->bob);
	t_acct_init(&w->ck, w->carol);
	if (!t_dev_register(w->p, &w->a1, 10) || !t_dev_register(w->p, &w->a2, 10) ||
	    !t_dev_register(w->p, &w->b1, 10) || !t_dev_register(w->p, &w->c1, 10))
		return false;
	two[0] = &w->a1;
	two[1] = &w->a2;
	if (!t_publish(w->a1.s.c, &w->ak, two, 2))
		return false;
	one[0] = &w->b1;
	if (!t_publish(w->b1.s.c, &w->bk, one, 1))
		return false;
	one[0] = &w->c1;
	if (!t_publish(w->c1.s.c, &w->ck, one, 1))
		return false;
	client_drain(w->a1.s.c);
	client_drain(w->a2.s.c);
	return true;
}

/* An encrypted send from d to bob for ids: the reply (new reference). */
static json_t *send_to(struct tdev *d, const char *to, const char *payload, const char *const *ids,
                       size_t n)
{
	return client_call(d->s.c, t_send_req(to, payload, ids, n, NULL));
}

static void test_device_set(struct world *w)
{
	const char *only_bob[] = { w->b1.id64 };
	const char *with_carol[] = { w->b1.id64, w->a2.id64, w->c1.id64 };
	const char *twice[] = { w->b1.id64, w->b1.id64 };
	const char *right[] = { w->b1.id64, w->a2.id64 };
	char *payload = t_random_b64(200);
	struct tsession nodev;
	json_t *r, *ev, *devs;
	int64_t id;

	r = send_to(&w->a1, w->to_bob, payload, only_bob, 1);
	devs = json_object_get(r, "devices");
	CHECK(r != NULL && is_error(r, "devices_changed") &&
	      json_array_size(json_object_get(devs, w->bob)) == 1 &&
	      json_array_size(json_object_get(devs, w->alice)) == 1 &&
	      t_streq(json_string_value(json_array_get(json_object_get(devs, w->alice), 0)), w->a2.id64),
	      "an envelope missing for a2: devices_changed naming the current ones: %s", jdump(r));
	json_decref(r);
	r = send_to(&w->a1, w->to_bob, payload, with_carol, 3);
	CHECK(r != NULL && is_error(r, "devices_changed"),
	      "an envelope for a third user's device: %s", jdump(r));
	json_decref(r);
	r = send_to(&w->a1, w->to_bob, payload, twice, 2);
	CHECK(r != NULL && is_error(r, "bad_envelope"), "a device twice: %s", jdump(r));
	json_decref(r);
	r = client_call(w->a1.s.c, pier_req_send_e2ee(w->to_bob, "not base64!", json_pack(
	                "[{s:s, s:s}, {s:s, s:s}]", "device", w->b1.id64, "body", "AAAA",
	                "device", w->a2.id64, "body", "AAAA"), NULL, 0, 0));
	CHECK(r != NULL && is_error(r, "bad_envelope"), "a payload that is not base64url: %s",
	      jdump(r));
	json_decref(r);

	/* A session of bob's without a device hears of the message without its text. */
	if (!t_login(w->p, w->bob, NULL, &nodev))
		goto out;
	r = send_to(&w->a1, w->to_bob, payload, right, 2);
	id = jint(r, "id", -1);
	CHECK(r != NULL && is_op(r, "sent") && jtrue(r, "e2ee") && id > 0, "the right set: %s",
	      jdump(r));
	json_decref(r);
	ev = client_wait_op(w->b1.s.c, "envelope");
	CHECK(ev != NULL && jint(ev, "id", -1) == id && t_streq(jstr(ev, "payload"), payload) &&
	      t_streq(jstr(ev, "from"), w->alice) && t_streq(jstr(ev, "from_device"), w->a1.id64) &&
	      t_streq(jstr(ev, "to"), w->to_bob) && jstr(ev, "body") != NULL && jint(ev, "qid", 0) > 0,
	      "b1's envelope: %s", jdump(ev));
	/* Stored by the client: acknowledged, so that the queue is empty again. */
	r = client_call(w->b1.s.c, pier_req_ack(jint(ev, "qid", 0)));
	CHECK(r != NULL && is_op(r, "ack"), "b1 acks: %s", jdump(r));
	json_decref(r);
	json_decref(ev);
	ev = client_wait_op(w->a2.s.c, "envelope");
	CHECK(ev != NULL && jint(ev, "id", -1) == id, "a2 (the sender's other device) gets one: %s",
	      jdump(ev));
	r = client_call(w->a2.s.c, pier_req_ack(jint(ev, "qid", 0)));
	json_decref(r);
	json_decref(ev);
	ev = client_wait_op(nodev.c, "msg");
	CHECK(ev != NULL && jint(ev, "id", -1) == id && jtrue(ev, "e2ee") &&
	      json_object_get(ev, "text") == NULL && json_object_get(ev, "payload") == NULL,
	      "a session without a device: msg with e2ee and no text: %s", jdump(ev));
	json_decref(ev);
	{
		json_t *events = client_events(w->a1.s.c);

		CHECK(events != NULL && count_op(events, "envelope", NULL, NULL) == 0,
		      "the sending device gets no envelope of its own: %s", jdump(events));
		json_decref(events);
	}

	/* No downgrade: plaintext to bob from anyone; no server-side edit of an encrypted one. */
	t_expect(w->a1.s.c, pier_req_send(w->to_bob, "hello in clear", NULL), "e2ee_required",
	       "plaintext to a user with a device list");
	t_expect(nodev.c, pier_req_send(w->to_bob, "note to self in clear", NULL), "e2ee_required",
	       "plaintext to oneself with a device list");
	t_expect(w->a1.s.c, pier_req_edit(id, "new text"), "e2ee_required",
	         "edit of an encrypted message");
	t_expect(nodev.c, t_send_req(w->to_bob, payload, right, 2, NULL), "no_device",
	       "an encrypted send from a session without a device");
	{
		char with[HARNESS_NAME_MAX + 1];
		json_t *m;

		snprintf(with, sizeof(with), "@%s", w->alice);
		m = client_history_msg(nodev.c, with, id);
		CHECK(m != NULL && jtrue(m, "e2ee") && json_object_get(m, "text") == NULL &&
		      json_object_get(m, "payload") == NULL, "history: e2ee, no text, no payload: %s",
		      jdump(m));
		json_decref(m);
	}
	/* Carol (a third user) addressing bob with envelopes for alice's devices. */
	{
		const char *alices[] = { w->a1.id64, w->a2.id64 };

		r = send_to(&w->c1, w->to_bob, payload, alices, 2);
		CHECK(r != NULL && is_error(r, "devices_changed"),
		      "carol sending bob envelopes for alice's devices: %s", jdump(r));
		json_decref(r);
	}
	pier_conn_close(nodev.c);
out:
	free(payload);
}

/* Collects n envelopes on d; checks qids strictly increase and message ids are new. */
static bool collect_in_order(struct tdev *d, size_t n, json_t *all)
{
	json_t *got = json_array();
	int64_t last = 0;
	bool ok = t_collect_envelopes(d->s.c, n, got);
	size_t i;
	json_t *ev;

	json_array_foreach(got, i, ev) {
		if (!CHECK(jint(ev, "qid", 0) > last, "qids increase: %lld after %lld", 
		           (long long)jint(ev, "qid", 0), (long long)last)) {
			ok = false;
			break;
		}
		last = jint(ev, "qid", 0);
		json_array_append(all, ev);
	}
	json_decref(got);
	return ok;
}

static void test_offline_1000(struct world *w)
{
	const char *right[] = { w->b1.id64, w->a2.id64 };
	char *payload = t_random_b64(64);
	int64_t ids[1000], qid300 = 0;
	json_t *all = json_array(), *r;
	int sent = 0;

	t_dev_close(&w->b1);
	t_dev_close(&w->a2);
	for (int i = 0; i < 1000; i++) {
		r = send_to(&w->a1, w->to_bob, payload, right, 2);
		ids[i] = jint(r, "id", -1);
		if (is_op(r, "sent"))
			sent++;
		json_decref(r);
	}
	CHECK(sent == 1000, "1000 encrypted messages to an offline device (%d)", sent);
	r = t_dev_hello(w->p, &w->b1);
	CHECK(r != NULL && jint(r, "queued", -1) == 1000, "hello: 1000 queued: %s", jdump(r));
	json_decref(r);
	if (!collect_in_order(&w->b1, 1000, all))
		goto out;
	for (int i = 0; i < 1000; i++) {
		if (!CHECK(jint(json_array_get(all, (size_t)i), "id", -1) == ids[i],
		           "envelope %d is message %lld", i, (long long)ids[i]))
			goto out;
	}
	/* Acked up to the 300th: the next hello brings the 700 after it, in order. */
	qid300 = jint(json_array_get(all, 299), "qid", 0);
	r = client_call(w->b1.s.c, pier_req_ack(qid300));
	CHECK(r != NULL && is_op(r, "ack"), "ack: %s", jdump(r));
	json_decref(r);
	for (int round = 0; round < 2; round++) {
		json_t *again = json_array();

		t_dev_close(&w->b1);
		r = t_dev_hello(w->p, &w->b1);
		CHECK(r != NULL && jint(r, "queued", -1) == 700, "round %d: 700 queued: %s", round,
		      jdump(r));
		json_decref(r);
		if (collect_in_order(&w->b1, 700, again)) {
			CHECK(jint(json_array_get(again, 0), "id", -1) == ids[300] &&
			      jint(json_array_get(again, 699), "id", -1) == ids[999],
			      "round %d: from the 301st to the 1000th", round);
		}
		/* The first round is not acked: the same 700 come again. */
		if (round == 1) {
			r = client_call(w->b1.s.c, pier_req_ack(jint(json_array_get(again, 699), "qid", 0)));
			json_decref(r);
		}
		json_decref(again);
	}
	{
		json_t *events;

		t_dev_close(&w->b1);
		r = t_dev_hello(w->p, &w->b1);
		CHECK(r != NULL && jint(r, "queued", -1) == 0, "all acked: nothing queued: %s", jdump(r));
		json_decref(r);
		events = client_events(w->b1.s.c);
		CHECK(events != NULL && count_op(events, "envelope", NULL, NULL) == 0,
		      "and nothing comes: %s", jdump(events));
		json_decref(events);
	}
out:
	json_decref(all);
	free(payload);
}

/* The backlog is being read while new messages come: each arrives once, in qid order. */
static void test_backlog_meets_live(struct world *w)
{
	const char *right[] = { w->b1.id64, w->a2.id64 };
	char *payload = t_random_b64(64);
	char proof[T_SIG_TEXT];
	json_t *all = json_array(), *r;
	int64_t first_ids[150];
	int n = 0;

	t_dev_close(&w->b1);
	for (int i = 0; i < 150; i++) {
		r = send_to(&w->a1, w->to_bob, payload, right, 2);
		first_ids[i] = jint(r, "id", -1);
		json_decref(r);
	}
	if (!t_login(w->p, w->bob, NULL, &w->b1.s))
		goto out;
	t_proof(&w->b1, w->b1.s.challenge, proof);
	pier_conn_send(w->b1.s.c, pier_req_device_hello(w->b1.id64, proof), NULL);
	for (int i = 0; i < 150; i++)
		pier_conn_send(w->a1.s.c, t_send_req(w->to_bob, payload, right, 2, NULL), NULL);
	for (int i = 0; i < 150; i++) {
		r = pier_conn_wait_op(w->a1.s.c, "sent", HARNESS_TIMEOUT_MS);
		if (r != NULL)
			n++;
		json_decref(r);
	}
	CHECK(n == 150, "150 more sent while the backlog was read (%d)", n);
	if (collect_in_order(&w->b1, 300, all)) {
		int64_t last_id = 0;
		bool once = true;

		for (size_t i = 0; i < 300; i++) {
			int64_t id = jint(json_array_get(all, i), "id", -1);

			once = once && id > last_id;
			last_id = id;
		}
		CHECK(once && jint(json_array_get(all, 0), "id", -1) == first_ids[0],
		      "300 envelopes, each message once, in order");
		{
			json_t *events = client_events(w->b1.s.c);

			CHECK(events != NULL && count_op(events, "envelope", NULL, NULL) == 0,
			      "no duplicate after them: %s", jdump(events));
			json_decref(events);
		}
		r = client_call(w->b1.s.c, pier_req_ack(jint(json_array_get(all, 299), "qid", 0)));
		json_decref(r);
	}
out:
	json_decref(all);
	free(payload);
}

static void test_device_send_and_revoke(struct world *w)
{
	char *payload = t_random_b64(100), *body = t_random_b64(96);
	const char *old_set[] = { w->b1.id64, w->a2.id64 };
	const char *new_set[] = { w->b1.id64 };
	struct tdev *one[1];
	json_t *r, *ev;

	r = t_dev_hello(w->p, &w->a2);
	json_decref(r);
	/* a2's queue: the 1000 + 300 sent while it was away; drop them (acked). */
	r = client_call(w->a1.s.c, pier_req_device_send(w->a2.id64, payload, body));
	CHECK(r != NULL && is_op(r, "device_send") && jint(r, "qid", 0) > 0, "device_send: %s",
	      jdump(r));
	json_decref(r);
	t_expect(w->a1.s.c, pier_req_device_send(w->b1.id64, payload, body), "no_such_device",
	       "device_send to another user's device");
	/* Another user's session acks with a huge qid: only its own device's queue. */
	r = client_call(w->c1.s.c, pier_req_ack(INT64_MAX / 2));
	CHECK(r != NULL && is_op(r, "ack"), "carol's device acks its own queue only: %s", jdump(r));
	json_decref(r);

	one[0] = &w->a1;
	if (!t_publish(w->a1.s.c, &w->ak, one, 1))
		goto out;
	ev = client_wait_op(w->a2.s.c, "device_revoked");
	CHECK(ev != NULL, "a2 is told it was revoked");
	json_decref(ev);
	r = send_to(&w->a1, w->to_bob, payload, old_set, 2);
	CHECK(r != NULL && is_error(r, "devices_changed"), "the revoked device in the set: %s",
	      jdump(r));
	json_decref(r);
	r = send_to(&w->a1, w->to_bob, payload, new_set, 1);
	CHECK(r != NULL && is_op(r, "sent"), "without it: %s", jdump(r));
	json_decref(r);
	ev = client_wait_op(w->b1.s.c, "envelope");
	CHECK(ev != NULL, "bob's device still gets its envelopes after alice's change");
	json_decref(ev);
out:
	free(payload);
	free(body);
}

static void test_queue_full(void)
{
	struct pierd *p = pierd_start(small_queue_args);
	struct world w = { .p = p };
	const char *right[] = { w.b1.id64, w.a2.id64 };
	char *payload;
	int sent = 0;
	json_t *r;

	if (p == NULL || !setup(&w))
		return;
	right[0] = w.b1.id64;
	right[1] = w.a2.id64;
	payload = t_random_b64(64);
	t_dev_close(&w.b1);
	for (int i = 0; i < 5; i++) {
		r = send_to(&w.a1, w.to_bob, payload, right, 2);
		if (is_op(r, "sent"))
			sent++;
		json_decref(r);
	}
	CHECK(sent == 5, "5 fill a queue of 5 (%d)", sent);
	r = send_to(&w.a1, w.to_bob, payload, right, 2);
	CHECK(r != NULL && is_error(r, "queue_full"), "the 6th: queue_full: %s", jdump(r));
	json_decref(r);
	r = t_dev_hello(p, &w.b1);
	CHECK(r != NULL && jint(r, "queued", -1) == 5, "nothing of the 6th was stored: %s", jdump(r));
	json_decref(r);
	{
		json_t *got = json_array();

		if (t_collect_envelopes(w.b1.s.c, 5, got)) {
			r = client_call(w.b1.s.c, pier_req_ack(jint(json_array_get(got, 4), "qid", 0)));
			json_decref(r);
		}
		json_decref(got);
	}
	/* a2 (online, never acking) still holds 5: sending needs its ack too. */
	r = send_to(&w.a1, w.to_bob, payload, right, 2);
	CHECK(r != NULL && is_error(r, "queue_full"), "a2 never acked: still full: %s", jdump(r));
	json_decref(r);
	{
		json_t *got = json_array();

		if (t_collect_envelopes(w.a2.s.c, 5, got)) {
			r = client_call(w.a2.s.c, pier_req_ack(jint(json_array_get(got, 4), "qid", 0)));
			json_decref(r);
		}
		json_decref(got);
	}
	r = send_to(&w.a1, w.to_bob, payload, right, 2);
	CHECK(r != NULL && is_op(r, "sent"), "after the acks there is room: %s", jdump(r));
	json_decref(r);
	free(payload);
	t_dev_close(&w.a1);
	t_dev_close(&w.a2);
	t_dev_close(&w.b1);
	t_dev_close(&w.c1);
	pierd_stop(p);
}

int main(void)
{
	struct world w = { 0 };

	harness_watchdog(600);
	if (sodium_init() < 0)
		return 1;
	w.p = pierd_start(args);
	if (w.p == NULL)
		return harness_done();
	if (setup(&w)) {
		test_device_set(&w);
		test_offline_1000(&w);
		test_backlog_meets_live(&w);
		test_device_send_and_revoke(&w);
	}
	t_dev_close(&w.a1);
	t_dev_close(&w.a2);
	t_dev_close(&w.b1);
	t_dev_close(&w.c1);
	pierd_stop(w.p);
	test_queue_full();
	return harness_done();
}
