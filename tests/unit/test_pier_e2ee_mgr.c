/* test_pier_e2ee_mgr.c - libpier's device manager end to end without a network: a fake
 * server in this file keeps the lists, devices and prekeys as pierd would and answers
 * `devices` and `keys`; alice gets two devices (the second approved by code from the first,
 * with a grant), bob one; messages both ways, a save and reload, tampering and replay
 * refused, a device added by the server alone reported and left out, a reset seen by the
 * contact as "safety number changed", equal safety numbers on both sides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pier_e2ee.h"
#include "tap.h"

/* ---- a fake server: one user's list and devices ---- */

struct fuser {
	char name[32];
	json_t *list, *sig;        /* strings, or NULL */
	int version;
	json_t *devices;           /* device_register requests (with "state", "opks" left) */
};

static struct fuser users[2];
static int64_t next_id = 1;

static struct fuser *fuser(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(users[i].name, name) == 0)
			return &users[i];
	return NULL;
}

static const char *challenge(void)
{
	static char s[64];
	unsigned char c[32];

	randombytes_buf(c, sizeof c);
	sodium_bin2base64(s, sizeof s, c, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

static void srv_register(const char *user, json_t *req, const char *state)
{
	json_object_set_new(req, "state", json_string(state));
	json_array_append_new(fuser(user)->devices, req);
}

/* devices_publish: takes the list (no checks: the fake trusts, the clients must not). */
static void srv_publish(const char *user, json_t *req)
{
	struct fuser *u = fuser(user);
	size_t i;
	json_t *d;

	json_decref(u->list);
	json_decref(u->sig);
	u->list = json_incref(json_object_get(req, "list"));
	u->sig = json_incref(json_object_get(req, "sig"));
	u->version++;
	/* every device registered becomes active (the real server looks at the list) */
	json_array_foreach(u->devices, i, d)
		json_object_set_new(d, "state", json_string("active"));
	json_decref(req);
}

static json_t *srv_devices(const char *user)
{
	struct fuser *u = fuser(user);
	json_t *r = json_pack("{s:s, s:s, s:i, s:[]}", "op", "devices", "user", user, "version",
	                      u->version, "devices"), *d;
	size_t i;

	if (u->list != NULL) {
		json_object_set(r, "list", u->list);
		json_object_set(r, "sig", u->sig);
	}
	json_array_foreach(u->devices, i, d)
		json_array_append_new(json_object_get(r, "devices"),
		                      json_pack("{s:O, s:O, s:O, s:O, s:O, s:i}", "id",
		                                json_object_get(d, "id"), "sign_key",
		                                json_object_get(d, "sign_key"), "dh_key",
		                                json_object_get(d, "dh_key"), "name",
		                                json_object_get(d, "name"), "state",
		                                json_object_get(d, "state"), "created", 1));
	return r;
}

/* keys: claims one one-time prekey per device; listed:false for `rogue` ones. */
static json_t *srv_keys(const char *user)
{
	struct fuser *u = fuser(user);
	json_t *r = json_pack("{s:s, s:s, s:i, s:O, s:O, s:[]}", "op", "keys", "user", user,
	                      "version", u->version, "list", u->list, "sig", u->sig, "devices"), *d;
	size_t i;

	json_array_foreach(u->devices, i, d) {
		json_t *o, *opks = json_object_get(d, "opks");

		if (strcmp(json_string_value(json_object_get(d, "state")), "pending") == 0)
			continue;
		o = json_pack("{s:O, s:O, s:O, s:O, s:b}", "id", json_object_get(d, "id"),
		              "sign_key", json_object_get(d, "sign_key"), "dh_key",
		              json_object_get(d, "dh_key"), "spk", json_object_get(d, "spk"),
		              "listed", !json_is_true(json_object_get(d, "rogue")));
		if (json_array_size(opks) > 0) {
			json_object_set(o, "opk", json_array_get(opks, 0));
			json_array_remove(opks, 0);
		}
		json_array_append_new(json_object_get(r, "devices"), o);
	}
	return r;
}

/* The envelope event device `to` (base64url id) gets for a send of e2ee from `from`'s dev. */
static json_t *srv_envelope(const char *from, struct pier_e2ee_mgr *sender, const char *to_conv,
                            const json_t *e2ee, const char *to_dev, int64_t id)
{
	char fid[PIER_E2EE_ID_B64];
	size_t i;
	json_t *k;

	pier_e2ee_mgr_device_id(sender, fid);
	json_array_foreach(json_object_get(e2ee, "keys"), i, k) {
		if (strcmp(json_string_value(json_object_get(k, "device")), to_dev) != 0)
			continue;
		return json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:O, s:O}", "op", "envelope",
		                 "qid", (json_int_t)id, "id", (json_int_t)id, "from", from,
		                 "from_device", fid, "to", to_conv, "ts", (json_int_t)1000,
		                 "payload", json_object_get(e2ee, "payload"),
		                 "body", json_object_get(k, "body"));
	}
	return NULL;
}

/* ---- helpers ---- */

static char tmpdir[128];

static void dev_dir(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
}

/* A device that registers and publishes the first list of user. */
static void first_device(struct pier_e2ee_mgr *m, const char *user, const char *dname)
{
	char dir[256];
	struct pier_e2ee_own own;
	json_t *r;

	dev_dir(dname, dir, sizeof dir);
	pier_e2ee_mgr_init(m, dir, user, NULL);
	pier_e2ee_mgr_create(m, dname, 1000);
	srv_register(user, pier_e2ee_req_device_register(m, challenge()), "pending");
	r = srv_devices(user);
	CHECK(pier_e2ee_own_devices(m, r, &own) == 0 && own.version == 0, "%s: no list yet", user);
	json_decref(r);
	srv_publish(user, pier_e2ee_req_first_list(m));
	r = srv_devices(user);
	CHECK(pier_e2ee_own_devices(m, r, &own) == 0 && own.listed && !own.refused,
	      "%s: the first list names the device", dname);
	json_decref(r);
	CHECK(m->state == PIER_E2EE_ACTIVE && m->has_ak, "%s is active", dname);
}

/* Encrypts text from m to peer, fetching keys as asked: the e2ee object or NULL. */
static json_t *encrypt(struct pier_e2ee_mgr *m, const char *peer, const char *text)
{
	json_t *plain = json_pack("{s:s, s:s}", "text", text, "kind", "text"), *out = NULL;
	char need[PIER_NAME_MAX + 1];
	enum pier_e2ee_result r;
	int rounds = 0;

	while ((r = pier_e2ee_encrypt_msg(m, peer, plain, 5, &out, need)) ==
	       PIER_E2EE_R_NEED_KEYS && rounds++ < 3) {
		json_t *k = srv_keys(need);

		pier_e2ee_take_keys(m, k);
		json_decref(k);
	}
	json_decref(plain);
	CHECK(r == PIER_E2EE_R_OK, "encrypt %s -> %s (%d)", m->user, peer, (int)r);
	return out;
}

/* Opens ev on m, fetching the sender's list as asked. */
static enum pier_e2ee_opened open_ev(struct pier_e2ee_mgr *m, const json_t *ev, json_t **out)
{
	enum pier_e2ee_opened r = pier_e2ee_open(m, ev, out);

	if (r == PIER_E2EE_GOT_NEED_LIST) {
		json_t *d = srv_devices(json_string_value(json_object_get(*out, "user")));
		json_t *again = json_deep_copy(ev);

		pier_e2ee_take_devices(m, d);
		json_decref(d);
		json_decref(*out);
		json_object_set_new(again, "_relisted", json_true());
		r = pier_e2ee_open(m, again, out);
		json_decref(again);
	}
	return r;
}

static bool has_notice(struct pier_e2ee_mgr *m, const char *kind)
{
	json_t *n = pier_e2ee_take_notices(m), *o;
	size_t i;
	bool found = false;

	json_array_foreach(n, i, o)
		if (strcmp(json_string_value(json_object_get(o, "notice")), kind) == 0)
			found = true;
	json_decref(n);
	return found;
}

static const char *text_of(const json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "text"));

	return t != NULL ? t : "";
}

/* The pure helpers both clients use: approval codes as typed, the events that are the
 * device manager's, an encrypted file's "media" object. */
static void test_helpers(void)
{
	char d[9];
	json_t *file, *m;

	CHECK(pier_e2ee_code_digits(" 1234 5678 ", d) == 8 && strcmp(d, "12345678") == 0,
	      "a code's digits without its space");
	CHECK(pier_e2ee_code_digits("1234-56789", d) == 8 && strcmp(d, "12345678") == 0,
	      "at most 8 digits");
	CHECK(pier_e2ee_code_digits("12a4", d) == 3 && strcmp(d, "124") == 0, "letters are left out");
	CHECK(pier_e2ee_code_digits(NULL, d) == 0 && d[0] == '\0', "NULL: no digits");

	CHECK(pier_e2ee_is_event("envelope") && pier_e2ee_is_event("devices_changed") &&
	      pier_e2ee_is_event("prekeys_low") && pier_e2ee_is_event("device_revoked") &&
	      pier_e2ee_is_event("device_moved"), "the device manager's events");
	CHECK(!pier_e2ee_is_event("msg") && !pier_e2ee_is_event("devices") &&
	      !pier_e2ee_is_event("") && !pier_e2ee_is_event(NULL), "not the chat's");

	file = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s}", "media", (json_int_t)42, "name",
	                 "a.png", "type", "image/png", "size", 7, "key", "K", "header", "H",
	                 "kind", "image");
	m = pier_e2ee_file_media(file);
	CHECK(m != NULL && json_integer_value(json_object_get(m, "id")) == 42 &&
	      strcmp(json_string_value(json_object_get(m, "name")), "a.png") == 0 &&
	      strcmp(json_string_value(json_object_get(m, "key")), "K") == 0 &&
	      strcmp(json_string_value(json_object_get(m, "header")), "H") == 0 &&
	      json_integer_value(json_object_get(m, "size")) == 7 &&
	      json_object_get(m, "kind") == NULL, "a file's media object: id, name, key, header");
	json_decref(m);
	json_object_set_new(file, "media", json_string("43"));
	m = pier_e2ee_file_media(file);
	CHECK(m != NULL && json_integer_value(json_object_get(m, "id")) == 43,
	      "the browser's id as a string of digits");
	json_decref(m);
	json_object_set_new(file, "media", json_string("43x"));
	CHECK(pier_e2ee_file_media(file) == NULL, "a string that is not a number: none");
	json_object_set_new(file, "media", json_integer(0));
	CHECK(pier_e2ee_file_media(file) == NULL, "id 0: none");
	json_object_del(file, "media");
	CHECK(pier_e2ee_file_media(file) == NULL, "no id: none");
	CHECK(pier_e2ee_file_media(NULL) == NULL, "no file: none");
	json_decref(file);
}

/* What a device does after a login, and the envelopes that come again after a cut. */
static void test_start(void)
{
	struct pier_e2ee_mgr m;
	char dir[256];
	json_t *ev;

	dev_dir("start", dir, sizeof dir);
	pier_e2ee_mgr_init(&m, dir, "carol_3", NULL);
	CHECK(pier_e2ee_mgr_start(&m) == PIER_E2EE_START_NEW_DEVICE, "no keys: a new device");
	pier_e2ee_mgr_create(&m, "c1", 1000);
	CHECK(pier_e2ee_mgr_start(&m) == PIER_E2EE_START_REGISTER, "keys made: register them");
	m.state = PIER_E2EE_PENDING;
	CHECK(pier_e2ee_mgr_start(&m) == PIER_E2EE_START_HELLO, "pending: hello");
	m.state = PIER_E2EE_ACTIVE;
	CHECK(pier_e2ee_mgr_start(&m) == PIER_E2EE_START_HELLO, "active: hello");
	m.state = PIER_E2EE_REVOKED;
	CHECK(pier_e2ee_mgr_start(&m) == PIER_E2EE_START_NEW_DEVICE, "removed: a new device");

	m.dirty = false;
	pier_e2ee_mark_opened(&m, 7);
	CHECK(m.opened_qid == 7 && m.dirty, "queue id 7 opened (to save)");
	m.dirty = false;
	pier_e2ee_mark_opened(&m, 5);
	CHECK(m.opened_qid == 7 && !m.dirty, "a lower one changes nothing");
	ev = json_pack("{s:s, s:i}", "op", "envelope", "qid", 7);
	CHECK(pier_e2ee_was_opened(&m, ev), "queue id 7 again: opened before");
	json_object_set_new(ev, "qid", json_integer(8));
	CHECK(!pier_e2ee_was_opened(&m, ev), "queue id 8: new");
	json_object_del(ev, "qid");
	CHECK(!pier_e2ee_was_opened(&m, ev), "no queue id: not known as opened");
	json_decref(ev);
	pier_e2ee_mgr_release(&m);
}

int main(void)
{
	struct pier_e2ee_mgr a1, a2, b1, a3;
	char a1id[PIER_E2EE_ID_B64], a2id[PIER_E2EE_ID_B64], b1id[PIER_E2EE_ID_B64], dir[256];
	char code_new[10], *err = NULL;
	struct pier_e2ee_own own;
	json_t *e, *ev, *msg, *r;
	enum pier_e2ee_opened got;
	int64_t second_id = 0;

	if (sodium_init() < 0)
		return 1;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pier-e2ee-mgr-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	for (int i = 0; i < 2; i++) {
		snprintf(users[i].name, sizeof users[i].name, "%s", i == 0 ? "alice_1" : "bob_22");
		users[i].devices = json_array();
	}
	test_helpers();
	test_start();
	first_device(&a1, "alice_1", "a1");
	first_device(&b1, "bob_22", "b1");
	pier_e2ee_mgr_device_id(&a1, a1id);
	pier_e2ee_mgr_device_id(&b1, b1id);

	/* alice -> bob, bob has no list of alice's yet */
	e = encrypt(&a1, "bob_22", "hello bob");
	REQUIRE(e != NULL, 1, "encrypted");
	CHECK(json_array_size(json_object_get(e, "keys")) == 1, "one envelope: bob's device");
	ev = srv_envelope("alice_1", &a1, "@bob_22", e, b1id, next_id++);
	got = open_ev(&b1, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_MESSAGE && strcmp(text_of(msg), "hello bob") == 0 &&
	      json_is_true(json_object_get(msg, "e2ee")) &&
	      json_string_value(json_object_get(msg, "from")) != NULL &&
	      strcmp(json_string_value(json_object_get(msg, "from")), "alice_1") == 0 &&
	      strcmp(json_string_value(json_object_get(msg, "to")), "@bob_22") == 0,
	      "bob reads it, from alice to him");
	json_decref(msg);
	got = pier_e2ee_open(&b1, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_NOTHING && has_notice(&b1, "refused_message"),
	      "a replayed envelope is refused");
	json_decref(ev);
	json_decref(e);

	/* bob saves, reloads, answers */
	CHECK(pier_e2ee_mgr_save(&b1, &err) == 0, "bob saves");
	pier_e2ee_mgr_release(&b1);
	dev_dir("b1", dir, sizeof dir);
	pier_e2ee_mgr_init(&b1, dir, "bob_22", NULL);
	CHECK(pier_e2ee_mgr_load(&b1, &err) == 0 && b1.state == PIER_E2EE_ACTIVE &&
	      b1.hist.count == 1, "bob loads his device and message store");
	e = encrypt(&b1, "alice_1", "hi alice");
	ev = srv_envelope("bob_22", &b1, "@alice_1", e, a1id, next_id++);
	got = open_ev(&a1, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_MESSAGE && strcmp(text_of(msg), "hi alice") == 0,
	      "alice reads bob's answer");
	json_decref(msg);
	json_decref(ev);
	json_decref(e);

	/* a second device of alice's, approved by code from the first */
	dev_dir("a2", dir, sizeof dir);
	pier_e2ee_mgr_init(&a2, dir, "alice_1", NULL);
	pier_e2ee_mgr_create(&a2, "a2", 2000);
	srv_register("alice_1", pier_e2ee_req_device_register(&a2, challenge()), "pending");
	pier_e2ee_mgr_device_id(&a2, a2id);
	r = srv_devices("alice_1");
	CHECK(pier_e2ee_own_devices(&a2, r, &own) == 0 && !own.listed && own.version == 1,
	      "a2 is not listed yet");
	json_decref(r);
	CHECK(pier_e2ee_own_code(&a2, code_new) == 0, "a2 shows its code %s", code_new);
	r = srv_devices("alice_1");
	CHECK(pier_e2ee_own_devices(&a1, r, &own) == 0 && own.npending == 1 &&
	      strcmp(own.pending[0].id, a2id) == 0 && strcmp(own.pending[0].code, code_new) == 0,
	      "a1 sees a2 pending with the same code (%s)", own.pending[0].code);
	{
		char typed[16];

		/* typed with a dash instead of the space shown */
		snprintf(typed, sizeof typed, "%.4s-%.4s", code_new, code_new + 5);
		CHECK(pier_e2ee_own_pending_by_code(&own, typed) != NULL &&
		      strcmp(pier_e2ee_own_pending_by_code(&own, typed), a2id) == 0,
		      "the code typed as %s finds a2", typed);
		typed[0] = typed[0] == '9' ? '0' : (char)(typed[0] + 1);
		CHECK(pier_e2ee_own_pending_by_code(&own, typed) == NULL,
		      "a code that differs in one digit finds no device");
		CHECK(pier_e2ee_own_pending_by_code(&own, "") == NULL, "nor does an empty one");
	}
	srv_publish("alice_1", pier_e2ee_req_approve(&a1, r, a2id));
	json_decref(r);
	{
		json_t *k = srv_keys("alice_1"), *grant = pier_e2ee_grant_payload(&a1, NULL), *req;

		pier_e2ee_take_keys(&a1, k);
		json_decref(k);
		CHECK(pier_e2ee_encrypt_to_own(&a1, a2id, grant, &req) == PIER_E2EE_R_OK,
		      "the grant is encrypted for a2");
		ev = json_pack("{s:s, s:i, s:s, s:s, s:O, s:O}", "op", "envelope", "qid", 1, "from",
		               "alice_1", "from_device", a1id, "payload", json_object_get(req, "payload"),
		               "body", json_object_get(req, "body"));
		json_decref(req);
		json_decref(grant);
	}
	got = open_ev(&a2, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_GRANT && a2.has_ak, "a2 takes the grant");
	json_decref(msg);
	json_decref(ev);
	r = srv_devices("alice_1");
	CHECK(pier_e2ee_own_devices(&a2, r, &own) == 0 && own.listed &&
	      a2.state == PIER_E2EE_ACTIVE, "a2 is active");
	pier_e2ee_own_devices(&a1, r, &own);
	json_decref(r);
	CHECK(pier_e2ee_contact_find(&a2.contacts, "bob_22") != NULL, "a2 knows bob's key");

	/* bob -> alice goes to both of alice's devices; a1's answer to a2 too. bob's send with
	 * one envelope would get devices_changed from the server: he fetches keys again. */
	r = srv_keys("alice_1");
	pier_e2ee_take_keys(&b1, r);
	json_decref(r);
	e = encrypt(&b1, "alice_1", "to both");
	CHECK(json_array_size(json_object_get(e, "keys")) == 2, "two envelopes");
	ev = srv_envelope("bob_22", &b1, "@alice_1", e, a1id, next_id);
	got = open_ev(&a1, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_MESSAGE && strcmp(text_of(msg), "to both") == 0, "a1 reads");
	json_decref(msg);
	json_decref(ev);
	ev = srv_envelope("bob_22", &b1, "@alice_1", e, a2id, next_id++);
	{
		/* a flipped bit in the payload: refused, never shown */
		json_t *bad = json_deep_copy(ev);
		char *p = strdup(json_string_value(json_object_get(bad, "payload")));

		p[10] = p[10] == 'A' ? 'B' : 'A';
		json_object_set_new(bad, "payload", json_string(p));
		free(p);
		got = open_ev(&a2, bad, &msg);
		CHECK(got == PIER_E2EE_GOT_NOTHING && has_notice(&a2, "refused_message"),
		      "a tampered payload is refused");
		json_decref(bad);
	}
	json_decref(e);
	json_decref(ev);
	e = encrypt(&b1, "alice_1", "second");
	second_id = next_id;
	ev = srv_envelope("bob_22", &b1, "@alice_1", e, a2id, next_id++);
	got = open_ev(&a2, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_MESSAGE && strcmp(text_of(msg), "second") == 0,
	      "a2 reads the next one (the tampered one changed nothing)");
	json_decref(msg);
	json_decref(ev);
	json_decref(e);

	e = encrypt(&a1, "bob_22", "from a1, seen by a2");
	CHECK(json_array_size(json_object_get(e, "keys")) == 2, "to bob and to a2");
	ev = srv_envelope("alice_1", &a1, "@bob_22", e, a2id, next_id++);
	got = open_ev(&a2, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_MESSAGE && strcmp(text_of(msg), "from a1, seen by a2") == 0,
	      "the sender's other device reads it");
	json_decref(msg);
	json_decref(ev);
	/* the server moves it into another conversation: the payload's peer says no */
	ev = srv_envelope("alice_1", &a1, "@carol_3", e, a2id, next_id++);
	CHECK(ev != NULL && pier_e2ee_open(&a2, ev, &msg) == PIER_E2EE_GOT_NOTHING,
	      "a message moved to another conversation is refused");
	json_decref(ev);
	json_decref(e);

	/* recalled before the device took it: no payload; shown as recalled, not refused */
	json_decref(pier_e2ee_take_notices(&a2));
	e = encrypt(&b1, "alice_1", "soon recalled");
	ev = srv_envelope("bob_22", &b1, "@alice_1", e, a2id, next_id++);
	json_object_del(ev, "payload");
	json_object_set_new(ev, "recalled", json_true());
	got = open_ev(&a2, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_MESSAGE && json_is_true(json_object_get(msg, "recalled")) &&
	      !has_notice(&a2, "refused_message"), "a recalled envelope: shown as recalled");
	json_decref(msg);
	json_decref(ev);
	json_decref(e);
	e = encrypt(&b1, "alice_1", "after the recall");
	ev = srv_envelope("bob_22", &b1, "@alice_1", e, a2id, next_id++);
	got = open_ev(&a2, ev, &msg);
	CHECK(got == PIER_E2EE_GOT_MESSAGE && strcmp(text_of(msg), "after the recall") == 0,
	      "the ratchet moved with it: the next one opens");
	json_decref(msg);
	json_decref(ev);
	json_decref(e);

	/* prekeys: a refill up to 100 with new ids, a rotated signed prekey that still opens a
	 * session started from the old one */
	{
		json_t *req = pier_e2ee_req_prekeys(&b1, 100, false);
		size_t before = b1.dev.opk_count;

		CHECK(req == NULL, "nothing to refill: no request");
		req = pier_e2ee_req_prekeys(&b1, 15, true);
		CHECK(req != NULL && json_array_size(json_object_get(req, "opks")) == 85 &&
		      json_integer_value(json_object_get(json_object_get(req, "spk"), "id")) == 2 &&
		      b1.dev.opk_count == before + 85 && b1.dev.has_prev_spk,
		      "85 new one-time prekeys and signed prekey 2");
		json_decref(req);
	}

	/* an encrypted edit: applied to the message, kept as a hidden entry */
	{
		json_t *plain = json_pack("{s:s, s:I, s:s}", "type", "edit", "edit_of",
		                          (json_int_t)second_id, "text", "second, edited");
		char need[PIER_NAME_MAX + 1];
		json_t *page;

		CHECK(pier_e2ee_encrypt_msg(&b1, "alice_1", plain, 9, &e, need) == PIER_E2EE_R_OK,
		      "an edit is encrypted");
		json_decref(plain);
		ev = srv_envelope("bob_22", &b1, "@alice_1", e, a2id, next_id++);
		got = open_ev(&a2, ev, &msg);
		CHECK(got == PIER_E2EE_GOT_EDIT && strcmp(text_of(msg), "second, edited") == 0,
		      "a2 applies the edit");
		json_decref(msg);
		json_decref(ev);
		json_decref(e);
		page = pier_e2ee_history_page(&a2.hist, "bob_22", 0, 100);
		{
			size_t k, edits = 0;
			json_t *x;

			json_array_foreach(page, k, x)
				edits += json_is_true(json_object_get(x, "hidden"));
			CHECK(edits == 0 && strcmp(text_of(pier_e2ee_history_find(&a2.hist, second_id)),
			                           "second, edited") == 0,
			      "the page shows the edited message, not the edit");
		}
		CHECK(json_is_true(json_object_get(pier_e2ee_history_find(&a2.hist, next_id - 1),
		                                   "hidden")), "the edit itself is hidden");
		json_decref(page);
	}

	/* a device the server adds alone: reported, never encrypted to */
	{
		struct pier_e2ee_mgr rogue;
		json_t *req;

		dev_dir("rogue", dir, sizeof dir);
		pier_e2ee_mgr_init(&rogue, dir, "alice_1", NULL);
		pier_e2ee_mgr_create(&rogue, "server's", 3000);
		req = pier_e2ee_req_device_register(&rogue, challenge());
		json_object_set_new(req, "rogue", json_true());
		srv_register("alice_1", req, "active");
		r = srv_keys("alice_1");
		pier_e2ee_take_keys(&b1, r);
		json_decref(r);
		CHECK(has_notice(&b1, "unsigned_device"), "bob is warned of the unsigned device");
		e = encrypt(&b1, "alice_1", "not for the server");
		CHECK(json_array_size(json_object_get(e, "keys")) == 2, "still two envelopes");
		json_decref(e);
		pier_e2ee_mgr_release(&rogue);
	}

	/* safety numbers: the same digits on both sides */
	{
		char sa[PIER_E2EE_SAFETY_DIGITS + 1], sb[PIER_E2EE_SAFETY_DIGITS + 1];
		struct pier_e2ee_contact *ka = pier_e2ee_contact_find(&a1.contacts, "bob_22");
		struct pier_e2ee_contact *kb = pier_e2ee_contact_find(&b1.contacts, "alice_1");

		REQUIRE(ka != NULL && kb != NULL, 1, "contacts");
		pier_e2ee_safety_number("alice_1", a1.ak_pub, "bob_22", ka->ak, sa);
		pier_e2ee_safety_number("bob_22", b1.ak_pub, "alice_1", kb->ak, sb);
		CHECK(strcmp(sa, sb) == 0, "the same safety number on both sides");
		pier_e2ee_contact_verify(&b1.contacts, "alice_1", true);
	}

	/* alice resets from a new device: bob sees "safety number changed" */
	dev_dir("a3", dir, sizeof dir);
	pier_e2ee_mgr_init(&a3, dir, "alice_1", NULL);
	pier_e2ee_mgr_create(&a3, "a3", 4000);
	srv_register("alice_1", pier_e2ee_req_device_register(&a3, challenge()), "pending");
	srv_publish("alice_1", pier_e2ee_req_reset(&a3, (uint32_t)fuser("alice_1")->version));
	r = srv_devices("alice_1");
	CHECK(pier_e2ee_own_devices(&a3, r, &own) == 0 && own.listed &&
	      a3.state == PIER_E2EE_ACTIVE && !has_notice(&a3, "safety_changed"),
	      "a3 is active after its reset, without a notice to itself");
	pier_e2ee_own_devices(&a1, r, &own);
	CHECK(a1.state == PIER_E2EE_REVOKED && has_notice(&a1, "revoked"), "a1 learns it is revoked");
	json_decref(r);
	r = srv_keys("alice_1");
	pier_e2ee_take_keys(&b1, r);
	json_decref(r);
	{
		json_t *n = pier_e2ee_take_notices(&b1), *o;
		size_t i;
		bool changed = false;

		json_array_foreach(n, i, o)
			if (strcmp(json_string_value(json_object_get(o, "notice")), "safety_changed") == 0)
				changed = json_is_true(json_object_get(o, "was_verified"));
		json_decref(n);
		CHECK(changed, "bob: safety number changed (and alice had been verified)");
		CHECK(!pier_e2ee_contact_find(&b1.contacts, "alice_1")->verified, "verified mark gone");
	}

	pier_e2ee_mgr_release(&a1);
	pier_e2ee_mgr_release(&a2);
	pier_e2ee_mgr_release(&a3);
	pier_e2ee_mgr_release(&b1);
	for (int i = 0; i < 2; i++) {
		json_decref(users[i].list);
		json_decref(users[i].sig);
		json_decref(users[i].devices);
	}
	free(err);
	{
		char cmd[200];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return tap_done();
}
