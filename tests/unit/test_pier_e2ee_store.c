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

static void test_user_key(void)
{
	char k[8];

	CHECK(pier_e2ee_user_key("@Bob_2", k, sizeof k) && strcmp(k, "bob_2") == 0,
	      "'@Bob_2' is keyed bob_2 (%s)", k);
	CHECK(pier_e2ee_user_key("Alice_1", k, sizeof k) && strcmp(k, "alice_1") == 0,
	      "7 bytes fit 8 (%s)", k);
	CHECK(!pier_e2ee_user_key("Alice_12", k, sizeof k) && k[0] == '\0',
	      "a name that does not fit is refused, not cut");
	CHECK(!pier_e2ee_user_key(NULL, k, sizeof k) && k[0] == '\0', "NULL is refused");
	CHECK(!pier_e2ee_user_key("@", k, sizeof k) && !pier_e2ee_user_key("", k, sizeof k),
	      "an empty name is refused");
}

static void test_file(void)
{
	char path[700], sub[600], tmp[720], *data = NULL, *err = NULL;
	size_t len = 0;
	struct stat st;
	json_t *j = json_pack("{s:s}", "secret", "canary-1234");
	json_t *back = NULL;
	struct pier_e2ee_seal good, bad;

	snprintf(sub, sizeof sub, "%s/a/b", dir);
	snprintf(path, sizeof path, "%s/device.json", sub);
	CHECK(pier_e2ee_keyfile_read(path, NULL, 1024, &data, &len, &err) == 1, "missing: 1");
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
	pier_e2ee_seal_init(&good, "correct horse");
	pier_e2ee_seal_init(&bad, "");
	REQUIRE(pier_e2ee_save_json(path, j, &good, &err) == 0, , "sealed");
	REQUIRE(pier_e2ee_keyfile_read(path, &bad, 1 << 20, &data, &len, &err) == -1, ,
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
	CHECK(pier_e2ee_load_json(path, &good, 1 << 20, &back, &err) == 0 &&
	      json_equal(back, j), "unsealed with the passphrase");
	json_decref(back);
	{
		/* Saved again with the key derived once: still opens with a fresh derivation. */
		struct pier_e2ee_seal again;

		CHECK(pier_e2ee_save_json(path, j, &good, &err) == 0, "saved again");
		pier_e2ee_seal_init(&again, "correct horse");
		CHECK(pier_e2ee_load_json(path, &again, 1 << 20, &back, &err) == 0 &&
		      json_equal(back, j), "a second save opens too");
		pier_e2ee_seal_release(&again);
	}
	pier_e2ee_seal_release(&good);
	pier_e2ee_seal_release(&bad);
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

/* The device directory's lock: one holder at a time, free again once closed. */
static void test_lock(void)
{
	char sub[300], path[320];
	struct stat st;
	int a, b;

	snprintf(sub, sizeof sub, "%s/lockdev/x", dir);
	a = pier_e2ee_lock_dir(sub);
	CHECK(a >= 0, "the lock is taken (the directory made)");
	CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700, "the directory is 0700");
	snprintf(path, sizeof path, "%s/lock", sub);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0077) == 0, "the lock file is private");
	b = pier_e2ee_lock_dir(sub);
	CHECK(b == -2, "a second holder is refused while the first holds it");
	if (b >= 0)
		close(b);
	close(a);
	b = pier_e2ee_lock_dir(sub);
	CHECK(b >= 0, "free again once closed");
	if (b >= 0)
		close(b);
	snprintf(path, sizeof path, "%s/file", dir);
	CHECK(pier_e2ee_keyfile_write(path, "x", 1, NULL, NULL) == 0 &&
	      pier_e2ee_lock_dir(path) == -1, "a file where the directory should be: an error");
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
	test_user_key();
	test_file();
	test_trust();
	test_history();
	test_lock();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return tap_done();
}
