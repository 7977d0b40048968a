/* test_pier_e2ee_store.c - libpier's device manager, the parts that keep things: key files
 * (mode, atomic write, passphrase, refusing readable files), contacts' trust decisions (TOFU,
 * resets, downgrades, swaps) and the bounded local store of decrypted messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "pier_e2ee.h"
#include "tap.h"

static char dir[256];

static void test_b64(void)
{
	unsigned char bin[17], back[17];
	char *s;
	size_t n;
	unsigned char *d;

	for (size_t i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(i * 37 + 250);
	s = pier_b64_encode(bin, sizeof bin);
	CHECK(strchr(s, '=') == NULL && strchr(s, '+') == NULL && strchr(s, '/') == NULL,
	      "base64url without padding: %s", s);
	CHECK(pier_b64_decode_fixed(s, back, sizeof back) == 0 && memcmp(bin, back, 17) == 0,
	      "round trip");
	CHECK(pier_b64_decode_fixed(s, back, 16) == -1, "a wrong length is refused");
	d = pier_b64_decode("ab=", &n);
	CHECK(d == NULL, "padding is refused");
	d = pier_b64_decode("a+b/", &n);
	CHECK(d == NULL, "the standard alphabet is refused");
	CHECK(pier_b64_decode(NULL, &n) == NULL, "NULL is refused");
	free(s);
}

static void test_file(void)
{
	char path[700], sub[600], tmp[720], *data = NULL, *err = NULL;
	size_t len = 0;
	struct stat st;
	json_t *j = json_pack("{s:s}", "secret", "canary-1234");
	json_t *back = NULL;

	snprintf(sub, sizeof sub, "%s/a/b", dir);
	snprintf(path, sizeof path, "%s/device.json", sub);
	CHECK(pier_e2ee_file_read(path, NULL, 1024, &data, &len, &err) == 1, "missing: 1");
	REQUIRE(pier_e2ee_save_json(path, j, NULL, &err) == 0, , "saved: %s", err ? err : "");
	CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700, "the directory is 0700 (%o)",
	      st.st_mode & 0777);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the file is 0600 (%o)",
	      st.st_mode & 0777);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	CHECK(access(tmp, F_OK) != 0, "no temporary file is left");
	CHECK(pier_e2ee_load_json(path, NULL, 1 << 20, &back, &err) == 0 && json_equal(back, j),
	      "read back");
	json_decref(back);
	back = NULL;

	chmod(path, 0644);
	CHECK(pier_e2ee_load_json(path, NULL, 1 << 20, &back, &err) == -1 && err != NULL &&
	      strstr(err, "read by others") != NULL, "a file others may read is refused: %s",
	      err ? err : "");
	chmod(path, 0600);
	CHECK(pier_e2ee_load_json(path, NULL, 10, &back, &err) == -1, "a file over max: refused");

	/* sealed with a passphrase: the canary is not in the file */
	REQUIRE(pier_e2ee_save_json(path, j, "correct horse", &err) == 0, , "sealed");
	REQUIRE(pier_e2ee_file_read(path, "", 1 << 20, &data, &len, &err) == -1, ,
	        "a wrong passphrase is refused");
	{
		FILE *f = fopen(path, "r");
		char raw[4096];
		size_t n = f != NULL ? fread(raw, 1, sizeof raw - 1, f) : 0;

		raw[n] = '\0';
		CHECK(n > 0 && strstr(raw, "canary") == NULL && strstr(raw, "argon2id") != NULL,
		      "the sealed file holds no plaintext");
		if (f != NULL)
			fclose(f);
	}
	CHECK(pier_e2ee_load_json(path, NULL, 1 << 20, &back, &err) == -1 && err != NULL &&
	      strstr(err, "passphrase") != NULL, "no passphrase: says one is needed");
	CHECK(pier_e2ee_load_json(path, "correct horse", 1 << 20, &back, &err) == 0 &&
	      json_equal(back, j), "unsealed with the passphrase");
	json_decref(back);
	json_decref(j);
	free(err);
}

static void test_trust(void)
{
	struct pier_e2ee_contacts c;
	unsigned char ak1[32], ak2[32];
	enum pier_e2ee_trust t;
	struct pier_e2ee_contact *k;
	json_t *j;

	memset(ak1, 1, 32);
	memset(ak2, 2, 32);
	pier_e2ee_contacts_init(&c);
	CHECK(pier_e2ee_trust_list(&c, "Bob_22", 1, false, ak1, &t) == 0 &&
	      t == PIER_E2EE_TRUST_FIRST, "first list: trust on first use");
	CHECK(pier_e2ee_trust_list(&c, "bob_22", 3, false, ak1, &t) == 0 &&
	      t == PIER_E2EE_TRUST_SAME, "same AK, newer version");
	CHECK(pier_e2ee_trust_list(&c, "bob_22", 2, false, ak1, &t) == 0 &&
	      t == PIER_E2EE_TRUST_OLD, "a lower version is refused");
	CHECK(pier_e2ee_trust_list(&c, "bob_22", 4, false, ak2, &t) == 0 &&
	      t == PIER_E2EE_TRUST_SWAPPED, "a new AK without reset is refused");
	k = pier_e2ee_contact_find(&c, "BOB_22");
	REQUIRE(k != NULL, , "found in any case");
	CHECK(memcmp(k->ak, ak1, 32) == 0 && k->version == 3, "refusals changed nothing");
	CHECK(pier_e2ee_contact_verify(&c, "bob_22", true) == 0 && k->verified, "verified");
	CHECK(pier_e2ee_trust_list(&c, "bob_22", 3, true, ak2, &t) == 0 &&
	      t == PIER_E2EE_TRUST_OLD, "a reset with an old version is refused");
	CHECK(pier_e2ee_trust_list(&c, "bob_22", 4, true, ak2, &t) == 0 &&
	      t == PIER_E2EE_TRUST_RESET, "a reset is accepted");
	CHECK(!k->verified && k->changed && k->was_verified && memcmp(k->ak, ak2, 32) == 0,
	      "a reset clears verified and leaves a notice");
	CHECK(pier_e2ee_contact_verify(&c, "nobody", true) == -1, "verify a stranger: -1");

	j = pier_e2ee_contacts_to_json(&c);
	{
		struct pier_e2ee_contacts c2;

		pier_e2ee_contacts_init(&c2);
		CHECK(pier_e2ee_contacts_from_json(&c2, j) == 0 && c2.n == 1 &&
		      c2.v[0].changed && c2.v[0].version == 4 &&
		      memcmp(c2.v[0].ak, ak2, 32) == 0, "contacts round trip");
		json_object_set_new(json_array_get(j, 0), "ak", json_string("short"));
		CHECK(pier_e2ee_contacts_from_json(&c2, j) == -1 && c2.n == 1,
		      "a malformed file is refused, the contacts stay");
		pier_e2ee_contacts_release(&c2);
	}
	json_decref(j);
	CHECK(pier_e2ee_trust_list(&c, "", 1, false, ak1, &t) == -1, "an empty name: -1");
	pier_e2ee_contacts_release(&c);
}

static json_t *msg(int64_t id, const char *from, const char *text)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:s}", "id", (json_int_t)id, "from", from, "to",
	                 "@x", "ts", (json_int_t)1000, "text", text);
}

static void test_history(void)
{
	struct pier_e2ee_history h, h2;
	char path[700], *err = NULL;
	json_t *page, *m, *ex;

	pier_e2ee_history_init(&h);
	for (int64_t id = 10; id >= 1; id--) {
		m = msg(id, id % 2 ? "bob" : "alice", "hello");
		CHECK(pier_e2ee_history_add(&h, id % 3 ? "@Bob" : "carol", m) == 0, "add %lld",
		      (long long)id);
		json_decref(m);
	}
	CHECK(h.count == 10, "10 kept");
	page = pier_e2ee_history_page(&h, "bob", 0, 3);
	CHECK(json_array_size(page) == 3 &&
	      json_integer_value(json_object_get(json_array_get(page, 0), "id")) == 7 &&
	      json_integer_value(json_object_get(json_array_get(page, 2), "id")) == 10,
	      "the newest 3 of @bob, oldest first");
	json_decref(page);
	page = pier_e2ee_history_page(&h, "@bob", 7, 100);
	CHECK(json_array_size(page) == 4, "before 7: 1 2 4 5 (%zu)", json_array_size(page));
	json_decref(page);
	CHECK(pier_e2ee_history_edit(&h, 5, "changed") == 0 &&
	      strcmp(json_string_value(json_object_get(pier_e2ee_history_find(&h, 5), "text")),
	             "changed") == 0, "an edit replaces the text");
	CHECK(pier_e2ee_history_edit(&h, 99, "x") == -1, "an edit of an unknown message: -1");
	m = msg(5, "bob", "again");
	pier_e2ee_history_add(&h, "bob", m);
	json_decref(m);
	CHECK(h.count == 10, "the same id again replaces");

	ex = pier_e2ee_history_export(&h, 4);
	pier_e2ee_history_init(&h2);
	CHECK(pier_e2ee_history_import(&h2, ex, "alice") == 0 && h2.count == 4 &&
	      pier_e2ee_history_find(&h2, 7) != NULL && pier_e2ee_history_find(&h2, 6) == NULL,
	      "an export of the newest 4");
	json_decref(ex);
	pier_e2ee_history_release(&h2);

	snprintf(path, sizeof path, "%s/messages.json", dir);
	CHECK(pier_e2ee_history_save(&h, path, NULL, &err) == 0, "saved");
	pier_e2ee_history_init(&h2);
	CHECK(pier_e2ee_history_load(&h2, path, NULL, &err) == 0 && h2.count == 10,
	      "loaded back");
	pier_e2ee_history_release(&h2);

	/* bounded: the oldest go */
	for (int64_t id = 100; id < 100 + PIER_E2EE_HISTORY_MAX + 5; id++) {
		m = msg(id, "bob", "x");
		pier_e2ee_history_add(&h, "bob", m);
		json_decref(m);
	}
	CHECK(h.count == PIER_E2EE_HISTORY_MAX && pier_e2ee_history_find(&h, 10) == NULL &&
	      pier_e2ee_history_find(&h, 104) == NULL && pier_e2ee_history_find(&h, 105) != NULL,
	      "at most %d, the oldest dropped", PIER_E2EE_HISTORY_MAX);
	pier_e2ee_history_release(&h);
	free(err);
}

static void test_device(void)
{
	struct pier_e2ee_device d, d2;
	unsigned char challenge[32], m[64], sig[64], spk[32], sk[32], id[16];
	char *ch64, idb[PIER_E2EE_ID_B64];
	json_t *req, *j, *spkj;

	char longname[80];

	memset(longname, 'x', 62);
	memcpy(longname + 62, "\xe6\x97\xa5", 4);      /* a 3-byte character across byte 64 */
	pier_e2ee_device_create(&d, longname, 42);
	CHECK(strlen(d.name) == 62, "a long name is cut at a character (%zu)", strlen(d.name));
	randombytes_buf(challenge, sizeof challenge);
	ch64 = pier_b64_encode(challenge, 32);
	CHECK(pier_e2ee_req_device_register(&d, "nope") == NULL, "a bad challenge: NULL");
	req = pier_e2ee_req_device_register(&d, ch64);
	REQUIRE(req != NULL, , "device_register");
	CHECK(json_array_size(json_object_get(req, "opks")) == PIER_E2EE_OPK_BATCH,
	      "%d one-time prekeys", PIER_E2EE_OPK_BATCH);
	spkj = json_object_get(req, "spk");
	CHECK(pier_b64_decode_fixed(json_string_value(json_object_get(spkj, "key")), spk, 32) == 0 &&
	      pier_b64_decode_fixed(json_string_value(json_object_get(spkj, "sig")), sig, 64) == 0 &&
	      pier_b64_decode_fixed(json_string_value(json_object_get(req, "sign_key")), sk, 32) == 0 &&
	      pier_b64_decode_fixed(json_string_value(json_object_get(req, "id")), id, 16) == 0,
	      "the keys are base64url");
	memcpy(m, "pier-spk-v1", 11);
	memcpy(m + 11, id, 16);
	m[27] = 0; m[28] = 0; m[29] = 0; m[30] = 1;
	memcpy(m + 31, spk, 32);
	CHECK(crypto_sign_verify_detached(sig, m, 63, sk) == 0, "the signed prekey verifies");
	pier_b64_decode_fixed(json_string_value(json_object_get(req, "proof")), sig, 64);
	memcpy(m, "pier-hello-v1", 13);
	memcpy(m + 13, challenge, 32);
	CHECK(crypto_sign_verify_detached(sig, m, 45, sk) == 0, "the proof verifies");
	json_decref(req);
	req = pier_e2ee_req_device_hello(&d, ch64);
	pier_e2ee_device_id_b64(&d, idb);
	CHECK(req != NULL && strcmp(json_string_value(json_object_get(req, "id")), idb) == 0,
	      "device_hello names the device");
	json_decref(req);

	req = pier_e2ee_req_prekeys(&d, PIER_E2EE_OPK_BATCH, false);
	CHECK(req == NULL, "nothing to refill: NULL");
	req = pier_e2ee_req_prekeys(&d, 19, true);
	CHECK(req != NULL && json_array_size(json_object_get(req, "opks")) == 81 &&
	      json_integer_value(json_object_get(json_object_get(req, "opks"), "id")) == 0 &&
	      json_integer_value(json_object_get(json_array_get(json_object_get(req, "opks"), 0),
	                                         "id")) == 101 &&
	      json_integer_value(json_object_get(json_object_get(req, "spk"), "id")) == 2,
	      "a refill to 100 with new ids, a new signed prekey");
	json_decref(req);
	CHECK(d.nopks == 181 && d.has_prev_spk, "old secrets kept until used");
	pier_e2ee_device_forget_opk(&d, 5);
	CHECK(pier_e2ee_device_opk(&d, 5) == NULL && pier_e2ee_device_opk(&d, 6) != NULL,
	      "a used one-time prekey is forgotten");

	j = pier_e2ee_device_to_json(&d);
	memset(&d2, 0, sizeof d2);
	CHECK(pier_e2ee_device_from_json(&d2, j) == 0 && memcmp(d2.sign_sk, d.sign_sk, 64) == 0 &&
	      memcmp(d2.spk_sig, d.spk_sig, 64) == 0 && d2.nopks == d.nopks &&
	      d2.next_opk == d.next_opk && d2.prev_spk_id == 1 && strcmp(d2.name, d.name) == 0,
	      "device round trip");
	json_object_set_new(j, "dh_secret", json_string("AAAA"));
	CHECK(pier_e2ee_device_from_json(&d2, j) == -1 && d2.nopks == d.nopks,
	      "a damaged device is refused");
	json_decref(j);
	pier_e2ee_device_release(&d2);
	pier_e2ee_device_release(&d);
	free(ch64);
}

int main(void)
{
	char cmd[300];

	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof dir, "/tmp/pier-e2ee-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_b64();
	test_file();
	test_trust();
	test_history();
	test_device();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return tap_done();
}
