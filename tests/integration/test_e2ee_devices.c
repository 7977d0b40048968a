/* test_e2ee_devices.c - integration: a user's devices against a real pierd. The login
 * challenge; registering a device (signed prekey and proof checked, a proof made for another
 * session refused); device_hello and a device moving between sessions; publishing signed
 * lists (the first, the approval of a second device, and every refusal: a stale version, a
 * device of another user, a bad signature, another user's list, another account key without
 * reset, a reset from a token session); a reset revoking the other devices; devices as the
 * owner and as another user sees them; prekeys; and the attacks: pending-device spam, draining
 * one-time prekeys (and the request bucket that slows it), saying hello as another user's
 * device, acking without a device; a device written into the store behind pierd's back (as a
 * compromised server would add one) shown as not listed. Pending devices expire
 * (--e2ee-pending-expiry 3 here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "e2eetest.h"

static const char *const args[] = { "--no-rate-limits", "--e2ee-pending-expiry", "3", NULL };

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_challenge(struct pierd *p, const char *user)
{
	struct tsession a, b;

	if (!t_login(p, user, NULL, &a) || !t_login(p, user, NULL, &b))
		return;
	CHECK(memcmp(a.challenge, b.challenge, 32) != 0, "each session has its own challenge");
	pier_conn_close(a.c);
	pier_conn_close(b.c);
}

static void test_register_refusals(struct pierd *p, const char *user, const char *other)
{
	struct tdev d, taken;
	struct tsession s, s2;
	json_t *req;

	t_dev_init(&d, user, "phone");
	if (!t_login(p, user, NULL, &s) || !t_login(p, user, NULL, &s2))
		return;
	/* A proof made for another session's challenge: a replay, refused. */
	t_expect(s.c, t_register_req(&d, s2.challenge, 0, 1), "bad_signature", "a replayed proof");
	/* A signed prekey signed by another key. */
	req = t_register_req(&d, s.challenge, 0, 1);
	json_object_set_new(json_object_get(req, "spk"), "id", json_integer(7));
	t_expect(s.c, req, "bad_signature", "a signed prekey whose signature is for another id");
	req = t_register_req(&d, s.challenge, 0, 1);
	json_object_set_new(req, "id", json_string("not-base64!"));
	t_expect(s.c, req, "bad_request", "an id that is not base64url");
	req = t_register_req(&d, s.challenge, 101, 1);
	t_expect(s.c, req, "bad_request", "101 one-time prekeys in one request");
	req = t_register_req(&d, s.challenge, 2, 1);
	json_array_append_new(json_object_get(req, "opks"),
	                      json_pack("{s:i, s:s}", "id", 1, "key", jstr(json_array_get(
	                                json_object_get(req, "opks"), 0), "key")));
	t_expect(s.c, req, "bad_request", "a one-time prekey id twice");
	/* Registered once; the session then speaks for it and registers nothing else. */
	{
		json_t *r = client_call(s.c, t_register_req(&d, s.challenge, 5, 1));

		CHECK(r != NULL && is_op(r, "device_register") && t_streq(jstr(r, "state"), "pending") &&
		      jint(r, "opk_count", -1) == 5, "register: %s", jdump(r));
		json_decref(r);
	}
	t_dev_init(&taken, user, "laptop");
	t_expect(s.c, t_register_req(&taken, s.challenge, 0, 1), "already_has_device",
	       "a second device on one session");
	/* The id is taken, by this user or another. */
	{
		struct tsession o;
		struct tdev same = d;

		if (t_login(p, other, NULL, &o)) {
			snprintf(same.user, sizeof(same.user), "%s", other);
			t_expect(o.c, t_register_req(&same, o.challenge, 0, 1), "device_exists",
			       "another user registering a taken id");
			pier_conn_close(o.c);
		}
	}
	pier_conn_close(s.c);
	pier_conn_close(s2.c);
}

/* Alice's first device publishes the first list; a second device is approved by the first;
 * every refusal of devices_publish. */
static void test_lists(struct pierd *p, const char *alice, const char *bob)
{
	struct tdev a1, a2, b1, *both[2], *one[1];
	struct tacct ak, other_ak, bk;
	json_t *r, *ev;

	t_dev_init(&a1, alice, "laptop");
	t_dev_init(&a2, alice, "phone");
	t_dev_init(&b1, bob, "bob's");
	t_acct_init(&ak, alice);
	t_acct_init(&other_ak, alice);
	t_acct_init(&bk, bob);
	if (!t_dev_register(p, &a1, 30) || !t_dev_register(p, &b1, 30))
		return;
	one[0] = &a1;
	if (!t_publish(a1.s.c, &ak, one, 1))
		return;
	one[0] = &b1;
	if (!t_publish(b1.s.c, &bk, one, 1))
		return;

	/* The second device registers (pending); the first sees it, the other user does not. */
	if (!t_dev_register(p, &a2, 10))
		return;
	/* ... and is told at once (its own publish's devices_changed may come first). */
	for (int i = 0; i < 3; i++) {
		r = client_wait_op(a1.s.c, "devices_changed");
		if (r == NULL || jstr(r, "pending") != NULL)
			break;
		json_decref(r);
	}
	CHECK(r != NULL && t_streq(jstr(r, "pending"), a2.id64) && t_streq(jstr(r, "user"), alice),
	      "alice's active device is told of the pending one: %s", jdump(r));
	json_decref(r);
	r = client_call(a1.s.c, pier_req_devices(NULL));
	CHECK(r != NULL && json_array_size(json_object_get(r, "devices")) == 2 &&
	      jint(r, "version", -1) == 1 && jstr(r, "list") != NULL,
	      "alice's own devices: the active one and the pending one: %s", jdump(r));
	json_decref(r);
	r = client_call(b1.s.c, pier_req_devices(alice));
	CHECK(r != NULL && json_array_size(json_object_get(r, "devices")) == 1 &&
	      jfind(r, "devices", "id", a2.id64) == NULL,
	      "bob never sees alice's pending device: %s", jdump(r));
	json_decref(r);

	/* Refusals. */
	both[0] = &a1;
	both[1] = &a2;
	t_expect(a1.s.c, t_publish_req(&ak, both, 2, 1, 0), "stale_version", "version 1 again");
	one[0] = &b1;
	{
		struct tdev *mixed[2] = { &a1, &b1 };

		t_expect(a1.s.c, t_publish_req(&ak, mixed, 2, 0, 0), "no_such_device",
		       "a list naming bob's device");
	}
	r = t_publish_req(&ak, both, 2, 0, 0);
	{
		char sig[T_SIG_TEXT];
		unsigned char junk[64];

		randombytes_buf(junk, sizeof(junk));
		t_b64(sig, sizeof(sig), junk, sizeof(junk));
		json_object_set_new(r, "sig", json_string(sig));
	}
	t_expect(a1.s.c, r, "bad_signature", "a list with a bad signature");
	t_expect(a1.s.c, t_publish_req(&bk, both, 2, 0, 0), "bad_list", "bob's list from alice");
	other_ak.version = ak.version;
	t_expect(a1.s.c, t_publish_req(&other_ak, both, 2, 0, 0), "bad_list",
	       "another account key without the reset flag");
	r = t_publish_req(&ak, both, 2, 0, 0);
	json_object_set_new(r, "list", json_string("AAAA"));
	t_expect(a1.s.c, r, "bad_list", "bytes that are no list");

	/* The approval: the first device publishes a list with both. a2's session hears it. */
	if (!t_publish(a1.s.c, &ak, both, 2))
		return;
	ev = client_wait_op(a2.s.c, "devices_changed");
	CHECK(ev != NULL && jint(ev, "version", -1) == 2 && t_streq(jstr(ev, "user"), alice),
	      "a2's session: devices_changed %s", jdump(ev));
	json_decref(ev);
	r = client_call(b1.s.c, pier_req_devices(alice));
	CHECK(r != NULL && jint(r, "version", -1) == 2 &&
	      t_streq(jstr(jfind(r, "devices", "id", a2.id64), "state"), "active"),
	      "bob sees alice's second device active: %s", jdump(r));
	json_decref(r);

	/* keys: bob claims one one-time prekey of each of alice's devices. */
	r = client_call(b1.s.c, pier_req_keys(alice));
	CHECK(r != NULL && json_array_size(json_object_get(r, "devices")) == 2 &&
	      json_object_get(jfind(r, "devices", "id", a1.id64), "opk") != NULL &&
	      json_object_get(jfind(r, "devices", "id", a1.id64), "spk") != NULL &&
	      jstr(r, "list") != NULL, "keys of alice: %s", jdump(r));
	json_decref(r);
	/* Asked for oneself: one's other devices only. */
	r = client_call(a1.s.c, pier_req_keys(alice));
	CHECK(r != NULL && json_array_size(json_object_get(r, "devices")) == 1 &&
	      jfind(r, "devices", "id", a2.id64) != NULL, "keys of oneself: %s", jdump(r));
	json_decref(r);

	/* device_hello on a new session moves the device: the old session is told. */
	{
		struct tdev moved = a2;
		struct pier_conn *old = a2.s.c;

		moved.s.c = NULL;
		r = t_dev_hello(p, &moved);
		CHECK(r != NULL && is_op(r, "device_hello") && t_streq(jstr(r, "state"), "active") &&
		      jint(r, "opk_count", -1) == 8, "hello of a2 on a new session: %s", jdump(r));
		json_decref(r);
		ev = client_wait_op(old, "device_moved");
		CHECK(ev != NULL, "the old session of a2 hears device_moved");
		json_decref(ev);
		t_expect(old, pier_req_ack(1), "no_device", "the old session speaks for no device now");
		pier_conn_close(old);
		a2.s = moved.s;
	}

	/* Reset: from a token session refused; from a password session, only its own device,
	 * and every other device is revoked (its session told). */
	{
		struct tsession ts;
		struct tdev a3;
		struct tacct fresh;

		t_acct_init(&fresh, alice);
		fresh.version = ak.version;
		t_dev_init(&a3, alice, "new laptop");
		if (!t_login(p, alice, a1.s.token, &ts))
			return;
		r = client_call(ts.c, t_register_req(&a3, ts.challenge, 0, 1));
		json_decref(r);
		one[0] = &a3;
		t_expect(ts.c, t_publish_req(&fresh, one, 1, 0, 1), "reset_needs_password",
		       "a reset from a token session");
		pier_conn_close(ts.c);

		t_dev_init(&a3, alice, "new laptop");
		if (!t_dev_register(p, &a3, 3))
			return;
		t_expect(a3.s.c, t_publish_req(&fresh, both, 2, 0, 1), "bad_list",
		       "a reset naming more than the session's own device");
		one[0] = &a3;
		r = client_call(a3.s.c, t_publish_req(&fresh, one, 1, 0, 1));
		CHECK(r != NULL && is_op(r, "devices_publish") && jint(r, "version", -1) == 3,
		      "a reset from a password session with only its device: %s", jdump(r));
		json_decref(r);
		ev = client_wait_op(a1.s.c, "device_revoked");
		CHECK(ev != NULL && t_streq(jstr(ev, "id"), a1.id64), "a1 is told it was revoked: %s",
		      jdump(ev));
		json_decref(ev);
		ev = client_wait_op(a2.s.c, "device_revoked");
		CHECK(ev != NULL, "a2 is told it was revoked");
		json_decref(ev);
		t_dev_close(&a1);
		r = t_dev_hello(p, &a1);
		CHECK(r != NULL && is_error(r, "device_revoked"), "hello of a revoked device: %s",
		      jdump(r));
		json_decref(r);
		r = client_call(b1.s.c, pier_req_devices(alice));
		CHECK(r != NULL && jint(r, "version", -1) == 3 &&
		      json_array_size(json_object_get(r, "devices")) == 1 &&
		      jfind(r, "devices", "id", a3.id64) != NULL, "after the reset: %s", jdump(r));
		json_decref(r);
		t_dev_close(&a3);
	}
	t_dev_close(&a1);
	t_dev_close(&a2);
	t_dev_close(&b1);
}

/* prekeys; draining one-time prekeys; hello as another user's device; pending spam and expiry. */
static void test_attacks(struct pierd *p, const char *victim, const char *mallory)
{
	struct tdev v, fake;
	struct tacct vk;
	struct tsession m;
	struct tdev *one[1];
	json_t *r, *ev;
	int with_opk = 0, without = 0;

	t_dev_init(&v, victim, "victim");
	t_acct_init(&vk, victim);
	if (!t_dev_register(p, &v, 25) || !t_login(p, mallory, NULL, &m))
		return;
	one[0] = &v;
	if (!t_publish(v.s.c, &vk, one, 1))
		return;
	/* prekeys: a duplicate id refused, new ones added. */
	r = client_call(v.s.c, pier_req_prekeys(0, NULL, NULL,
	                json_pack("[{s:i, s:s}]", "id", 3, "key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")));
	CHECK(r != NULL && is_error(r, "bad_request"), "a one-time prekey id already there: %s",
	      jdump(r));
	json_decref(r);
	r = client_call(v.s.c, pier_req_prekeys(2, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL));
	CHECK(r != NULL && is_error(r, "bad_signature"), "a signed prekey not signed by the device: %s",
	      jdump(r));
	json_decref(r);
	t_expect(m.c, pier_req_prekeys(0, NULL, NULL, NULL), "no_device",
	       "prekeys from a session without a device");

	/* Draining: every claim takes one; past the last, sessions start from the signed prekey. */
	for (int i = 0; i < 30; i++) {
		json_t *dev;

		r = client_call(m.c, pier_req_keys(victim));
		dev = jfind(r, "devices", "id", v.id64);
		if (dev != NULL && json_object_get(dev, "opk") != NULL)
			with_opk++;
		else if (dev != NULL && json_object_get(dev, "spk") != NULL)
			without++;
		json_decref(r);
	}
	CHECK(with_opk == 25 && without == 5, "25 one-time prekeys claimed once each, then the "
	      "signed prekey alone: %d with, %d without", with_opk, without);
	ev = client_wait_op(v.s.c, "prekeys_low");
	CHECK(ev != NULL && jint(ev, "count", -1) < 20, "the victim's device is told it runs low: %s",
	      jdump(ev));
	json_decref(ev);

	/* Mallory says hello as the victim's device (it has no key: and the id is not its). */
	fake = v;
	snprintf(fake.user, sizeof(fake.user), "%s", mallory);
	fake.s = m;
	r = t_dev_hello(p, &fake);
	CHECK(r != NULL && is_error(r, "no_such_device"), "hello as another user's device: %s",
	      jdump(r));
	json_decref(r);
	t_expect(m.c, pier_req_ack(1000000), "no_device", "ack without a device");

	/* Pending spam: 3 may wait; the 4th is refused; they expire (3 s here) and make room. */
	{
		struct tdev spam[4];
		int ok = 0;

		for (int i = 0; i < 4; i++) {
			struct tsession s;

			t_dev_init(&spam[i], mallory, "spam");
			if (!t_login(p, mallory, NULL, &s))
				return;
			r = client_call(s.c, t_register_req(&spam[i], s.challenge, 0, 1));
			if (is_op(r, "device_register"))
				ok++;
			else
				CHECK(is_error(r, "too_many_devices"), "the 4th pending device: %s", jdump(r));
			json_decref(r);
			pier_conn_close(s.c);
		}
		CHECK(ok == 3, "3 pending devices at once, no more (%d)", ok);
		sleep_ms(3500);
		r = t_dev_hello(p, &spam[0]);
		CHECK(r != NULL && is_error(r, "device_revoked"), "an expired pending device: %s",
		      jdump(r));
		json_decref(r);
		t_dev_close(&spam[0]);
		t_dev_init(&spam[3], mallory, "after expiry");
		CHECK(t_dev_register(p, &spam[3], 0), "room for a new pending device after expiry");
		t_dev_close(&spam[3]);
	}
	pier_conn_close(m.c);
	t_dev_close(&v);
}

/* PostgreSQL (PIER_TEST_STORE): runs sql, which inserts one row, in pierd's database. */
static bool write_behind_pg(struct pierd *p, const char *sql)
{
	char *url = harness_pg_url(strrchr(pierd_dir(p), '/') + 1);
	PGconn *c = url != NULL ? PQconnectdb(url) : NULL;
	PGresult *r = NULL;
	bool ok = false;

	if (CHECK(c != NULL && PQstatus(c) == CONNECTION_OK, "connect to pierd's database: %s",
	          c != NULL ? PQerrorMessage(c) : "no URL")) {
		r = PQexec(c, sql);
		ok = CHECK(PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0,
		           "a device written behind pierd's back: %s", PQresultErrorMessage(r));
	}
	PQclear(r);
	PQfinish(c);
	free(url);
	return ok;
}

/* A device row written into pier.db (PostgreSQL: its database) directly (state active, in no signed list): keys and
 * devices show it with "listed":false, so that clients refuse it and warn. */
static void test_server_added_device(struct pierd *p, const char *asker)
{
	char victim[HARNESS_NAME_MAX];
	struct tdev v, rogue;
	struct tacct vk;
	struct tsession a;
	struct tdev *one[1];
	char path[4096], sql[1024], sk[T_KEY_TEXT], dk[T_KEY_TEXT];
	sqlite3 *db = NULL;
	json_t *r;

	harness_user(victim, "e2r");
	if (!t_register(p, victim))
		return;
	t_dev_init(&v, victim, "real");
	t_dev_init(&rogue, victim, "rogue");
	t_acct_init(&vk, victim);
	if (!t_dev_register(p, &v, 2) || !t_login(p, asker, NULL, &a))
		return;
	one[0] = &v;
	if (!t_publish(v.s.c, &vk, one, 1))
		return;
	t_b64(sk, sizeof(sk), rogue.sign_pk, 32);
	t_b64(dk, sizeof(dk), rogue.dh_pk, 32);
	snprintf(sql, sizeof(sql), "INSERT INTO devices(id, user_id, sign_key, dh_key, name, state, "
	         "created, spk_id, spk_key, spk_sig) SELECT '%s', id, '%s', '%s', 'rogue', 1, 0, 1, "
	         "'%s', '%s' FROM users WHERE name = '%s'", rogue.id64, sk, dk, dk,
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	         victim);
	if (harness_store_url() != NULL) {
		if (!write_behind_pg(p, sql))
			goto out;
	} else {
		snprintf(path, sizeof(path), "%s/pier.db", pierd_dir(p));
		if (!CHECK(sqlite3_open(path, &db) == SQLITE_OK, "open pier.db"))
			goto out;
		sqlite3_busy_timeout(db, 5000);
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK && sqlite3_changes(db) == 1,
		      "a device written behind pierd's back: %s", sqlite3_errmsg(db));
	}
	r = client_call(a.c, pier_req_keys(victim));
	CHECK(r != NULL && json_array_size(json_object_get(r, "devices")) == 2 &&
	      json_object_get(jfind(r, "devices", "id", rogue.id64), "listed") == json_false() &&
	      json_object_get(jfind(r, "devices", "id", v.id64), "listed") == NULL,
	      "keys: the device no list names is \"listed\":false: %s", jdump(r));
	json_decref(r);
	r = client_call(a.c, pier_req_devices(victim));
	CHECK(r != NULL && json_object_get(jfind(r, "devices", "id", rogue.id64), "listed") ==
	      json_false(), "devices: likewise: %s", jdump(r));
	json_decref(r);
out:
	sqlite3_close(db);
	pier_conn_close(a.c);
	t_dev_close(&v);
}

/* With the request bucket on (10, and hardly any refill): a drain gets 10 claims, then
 * rate_limited, whatever the speed of the machine. */
static void test_drain_rate(void)
{
	static const char *const limited[] = { "--req-burst", "10", "--req-rate", "0.001", NULL };
	struct pierd *p = pierd_start(limited);
	char victim[HARNESS_NAME_MAX], mallory[HARNESS_NAME_MAX];
	struct tdev v;
	struct tacct vk;
	struct tsession m;
	struct tdev *one[1];
	int claimed = 0, limited_n = 0;

	if (p == NULL)
		return;
	harness_user(victim, "rv");
	harness_user(mallory, "rm");
	if (!t_register(p, victim) || !t_register(p, mallory))
		return;
	t_dev_init(&v, victim, "v");
	t_acct_init(&vk, victim);
	if (!t_dev_register(p, &v, 50) || !t_login(p, mallory, NULL, &m))
		return;
	one[0] = &v;
	if (!t_publish(v.s.c, &vk, one, 1))
		return;
	for (int i = 0; i < 20; i++) {
		json_t *r = client_call(m.c, pier_req_keys(victim));

		if (json_object_get(jfind(r, "devices", "id", v.id64), "opk") != NULL)
			claimed++;
		else if (is_error(r, "rate_limited"))
			limited_n++;
		json_decref(r);
	}
	CHECK(claimed == 10 && limited_n == 10, "a drain is in the request bucket: %d claims, %d "
	      "refused (want 10 and 10)", claimed, limited_n);
	pier_conn_close(m.c);
	t_dev_close(&v);
	pierd_stop(p);
}

int main(void)
{
	char alice[HARNESS_NAME_MAX], bob[HARNESS_NAME_MAX], carol[HARNESS_NAME_MAX];
	char victim[HARNESS_NAME_MAX], mallory[HARNESS_NAME_MAX];
	struct pierd *p;

	harness_watchdog(240);
	if (sodium_init() < 0)
		return 1;
	p = pierd_start(args);
	if (p == NULL)
		return harness_done();
	harness_user(alice, "e2a");
	harness_user(bob, "e2b");
	harness_user(carol, "e2c");
	harness_user(victim, "e2v");
	harness_user(mallory, "e2m");
	if (t_register(p, alice) && t_register(p, bob) && t_register(p, carol) &&
	    t_register(p, victim) && t_register(p, mallory)) {
		test_challenge(p, alice);
		test_register_refusals(p, carol, bob);
		test_lists(p, alice, bob);
		test_attacks(p, victim, mallory);
		test_server_added_device(p, carol);
	}
	pierd_stop(p);
	test_drain_rate();
	return harness_done();
}
