/* test_e2ee_prims.c - the e2ee core's building blocks on their own: HKDF against RFC 5869's
 * published outputs, base64url strictness, the device list codec's rules, device keys and
 * their JSON, files of many sizes (and broken ones), safety numbers, the `keys` reply parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devlist.h"
#include "e2ee/e2ee.h"   /* by its folder: pierd has a chat/e2ee.h */
#include "tap.h"

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void test_hkdf_rfc5869(void)
{
	uint8_t ikm[80], salt[80], info[80], okm[82], want[82];
	size_t ni, ns, nf;

	/* RFC 5869 A.1 */
	ni = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm);
	ns = unhex("000102030405060708090a0b0c", salt);
	nf = unhex("f0f1f2f3f4f5f6f7f8f9", info);
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
	      want);
	pier_e2ee_hkdf(okm, 42, salt, ns, ikm, ni, info, nf);
	CHECK(memcmp(okm, want, 42) == 0, "RFC 5869 case 1");
	/* A.2 */
	for (int i = 0; i < 80; i++) {
		ikm[i] = (uint8_t)i;
		salt[i] = (uint8_t)(0x60 + i);
		info[i] = (uint8_t)(0xb0 + i);
	}
	unhex("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac78272"
	      "71cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f"
	      "1d87", want);
	pier_e2ee_hkdf(okm, 82, salt, 80, ikm, 80, info, 80);
	CHECK(memcmp(okm, want, 82) == 0, "RFC 5869 case 2");
	/* A.3: empty salt and info */
	ni = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm);
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
	      want);
	pier_e2ee_hkdf(okm, 42, NULL, 0, ikm, ni, NULL, 0);
	CHECK(memcmp(okm, want, 42) == 0, "RFC 5869 case 3");
	CHECK(pier_e2ee_hkdf(okm, 255 * 32 + 1, NULL, 0, ikm, ni, NULL, 0) == PIER_E2EE_ERR_LIMIT,
	      "L over 255 * 32 refused");
}

static void test_b64(void)
{
	uint8_t out[8];
	size_t len;

	CHECK(pier_e2ee_b64_decode("AQID", out, sizeof(out), &len) == 0 && len == 3 &&
	      out[2] == 3, "AQID");
	CHECK(pier_e2ee_b64_decode("_-8", out, sizeof(out), &len) == 0 && len == 2 &&
	      out[0] == 0xff && out[1] == 0xef, "url-safe alphabet");
	CHECK(pier_e2ee_b64_decode("AQI=", out, sizeof(out), &len) != 0, "padding refused");
	CHECK(pier_e2ee_b64_decode("AQ+/", out, sizeof(out), &len) != 0, "standard alphabet refused");
	CHECK(pier_e2ee_b64_decode("AQ I", out, sizeof(out), &len) != 0, "space refused");
	CHECK(pier_e2ee_b64_decode("AAAAAAAAAAAA", out, sizeof(out), &len) != 0, "over cap");
	CHECK(pier_e2ee_b64_decode_exact("AQID", out, 2) != 0, "exact: a length mismatch");
	CHECK(pier_e2ee_b64_decode("", out, sizeof(out), &len) == 0 && len == 0, "empty");
}

static void make_list(struct pier_devlist *l, unsigned count)
{
	memset(l, 0, sizeof(*l));
	strcpy(l->user, "bob_22");
	l->version = 3;
	memset(l->ak, 7, 32);
	l->count = count;
	for (unsigned i = 0; i < count; i++) {
		l->dev[i].id[0] = (uint8_t)(i + 1);
		memset(l->dev[i].sign_key, (int)i, 32);
		memset(l->dev[i].dh_key, (int)(i + 100), 32);
		l->dev[i].created_ms = 1795000000000ull + i;
		snprintf(l->dev[i].name, sizeof(l->dev[i].name), "device %u", i);
	}
}

static void test_devlist_codec(void)
{
	struct pier_devlist l, back;
	uint8_t buf[PIER_DEVLIST_MAX_BYTES];
	size_t n;

	make_list(&l, 32);
	memset(l.dev[31].name, 'x', 64);
	l.dev[31].name[64] = '\0';
	n = pier_devlist_encode(&l, buf, sizeof(buf));
	CHECK(n > 0 && pier_devlist_parse(buf, n, &back) == PIER_DEVLIST_OK &&
	      memcmp(&l, &back, sizeof(l)) == 0, "32 devices round trip");
	CHECK(pier_devlist_encode(&l, buf, n - 1) == 0, "encode: a buffer one byte short");
	CHECK(pier_devlist_find(&back, l.dev[5].id) == 5, "find");
	l.count = 33;
	CHECK(pier_devlist_check(&l) == PIER_DEVLIST_BAD_COUNT, "33 devices");
	l.count = 0;
	CHECK(pier_devlist_encode(&l, buf, sizeof(buf)) == 0, "0 devices: not encoded");
	make_list(&l, 2);
	strcpy(l.user, "Bob_22");
	CHECK(pier_devlist_check(&l) == PIER_DEVLIST_BAD_USER, "upper case user");
	strcpy(l.user, "bob 22");
	CHECK(pier_devlist_check(&l) == PIER_DEVLIST_BAD_USER, "bad user");
	make_list(&l, 2);
	l.dev[1].id[0] = 1;
	CHECK(pier_devlist_check(&l) == PIER_DEVLIST_UNSORTED, "repeated id");
	make_list(&l, 2);
	l.flags = 0x80;
	CHECK(pier_devlist_check(&l) == PIER_DEVLIST_BAD_FLAGS, "unknown flag");
	make_list(&l, 2);
	strcpy(l.dev[0].name, "\xff");
	CHECK(pier_devlist_check(&l) == PIER_DEVLIST_BAD_NAME, "name not UTF-8");
	strcpy(l.dev[0].name, "\xe6\x89\x8b\xe6\x9c\xba");
	CHECK(pier_devlist_check(&l) == PIER_DEVLIST_OK, "a Chinese name");
	/* every truncation of a valid list is refused */
	make_list(&l, 3);
	n = pier_devlist_encode(&l, buf, sizeof(buf));
	{
		int accepted = 0;

		for (size_t k = 0; k < n; k++)
			accepted += pier_devlist_parse(buf, k, &back) == PIER_DEVLIST_OK;
		CHECK(accepted == 0, "%d truncations accepted", accepted);
	}
	/* a signed list opens only for its user and with its signature */
	{
		uint8_t seed[32] = { 1 }, sig[64];

		pier_e2ee_sign_pub(seed, l.ak);
		n = pier_devlist_encode(&l, buf, sizeof(buf));
		pier_e2ee_devlist_sign(seed, buf, n, sig);
		CHECK(pier_e2ee_devlist_open(buf, n, sig, "Bob_22", &back, NULL) == 0,
		      "opens for its user (any case)");
		CHECK(pier_e2ee_devlist_open(buf, n, sig, "alice_1", &back, NULL) ==
		      PIER_E2EE_ERR_MISMATCH, "another user's list");
		sig[0] ^= 1;
		CHECK(pier_e2ee_devlist_open(buf, n, sig, "bob_22", &back, NULL) ==
		      PIER_E2EE_ERR_SIGNATURE, "a bad signature");
	}
}

static void test_device(void)
{
	struct pier_e2ee_device d, back;
	struct pier_e2ee_rng r;
	json_t *j, *j2;
	size_t first;

	pier_e2ee_rng_init_system(&r);
	pier_e2ee_device_create(&d, 1795000000000, &r);
	CHECK(pier_e2ee_spk_verify(d.pub.sign_pub, d.pub.id, d.spk.id, d.spk.pub, d.spk.sig),
	      "the SPK is signed");
	CHECK(pier_e2ee_device_add_opks(&d, 100, &r, &first) == 0 && first == 0, "100 opks");
	CHECK(pier_e2ee_device_add_opks(&d, 101, &r, &first) == PIER_E2EE_ERR_LIMIT &&
	      d.opk_count == 100, "past the OPK bound: nothing added");
	CHECK(pier_e2ee_device_add_opks(&d, 100, &r, &first) == 0 && first == 100 &&
	      d.opks[100].id == 101, "ids go on");
	pier_e2ee_device_remove_opk(&d, 50);
	CHECK(d.opk_count == 199 && pier_e2ee_device_find_opk(&d, 50) == NULL &&
	      pier_e2ee_device_find_opk(&d, 51) != NULL, "remove one");
	pier_e2ee_device_rotate_spk(&d, &r);
	CHECK(d.spk.id == 2 && pier_e2ee_device_find_spk(&d, 1) != NULL &&
	      pier_e2ee_device_find_spk(&d, 3) == NULL, "rotated SPK; the old one kept");
	j = pier_e2ee_device_to_json(&d);
	CHECK(j != NULL && pier_e2ee_device_from_json(j, &back) == 0, "device from JSON");
	j2 = pier_e2ee_device_to_json(&back);
	CHECK(json_equal(j, j2) && memcmp(&back.pub, &d.pub, sizeof(d.pub)) == 0 &&
	      memcmp(back.opks, d.opks, d.opk_count * sizeof(d.opks[0])) == 0,
	      "the same keys come back");
	json_object_set_new(j2, "sign_seed", json_string("short"));
	pier_e2ee_device_release(&back);
	CHECK(pier_e2ee_device_from_json(j2, &back) == PIER_E2EE_ERR_FORMAT, "a broken key refused");
	json_decref(j);
	json_decref(j2);
	pier_e2ee_device_release(&d);
	CHECK(d.opks == NULL && d.opk_count == 0, "released");
}

static int roundtrip_file(size_t n, int tamper)
{
	char *ct = NULL, *pt = NULL;
	size_t ct_len = 0, pt_len = 0;
	uint8_t key[32], header[24];
	FILE *in = tmpfile(), *out = open_memstream(&ct, &ct_len);
	int rc;

	for (size_t i = 0; i < n; i++)
		fputc((int)((i * 7) & 0xff), in);
	rewind(in);
	rc = pier_e2ee_file_encrypt_stream(in, out, NULL, key, header);
	fclose(in);
	fclose(out);
	if (rc != 0)
		return 100 + rc;
	if (ct_len != n + 17 * (n / PIER_E2EE_FILE_CHUNK + 1) - (n > 0 && n % PIER_E2EE_FILE_CHUNK == 0 ? 17 : 0))
		return 200;
	if (tamper == 1)
		ct[ct_len / 2] ^= 4;
	if (tamper == 2)
		ct_len -= PIER_E2EE_FILE_CHUNK_CT;   /* drop the last full chunk */
	in = fmemopen(ct, ct_len, "rb");
	out = open_memstream(&pt, &pt_len);
	rc = pier_e2ee_file_decrypt_stream(in, out, key, header);
	fclose(in);
	fclose(out);
	if (rc == 0) {
		if (pt_len != n)
			rc = 300;
		for (size_t i = 0; rc == 0 && i < n; i++)
			if ((uint8_t)pt[i] != ((i * 7) & 0xff))
				rc = 301;
	}
	free(ct);
	free(pt);
	return rc;
}

static void test_files(void)
{
	static const size_t sizes[] = { 1, 100, 65535, 65536, 65537, 3 * 65536, 3 * 65536 + 5 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK(roundtrip_file(sizes[i], 0) == 0, "file of %zu bytes", sizes[i]);
		CHECK(roundtrip_file(sizes[i], 1) != 0, "file of %zu bytes, a bit flipped", sizes[i]);
		if (sizes[i] > PIER_E2EE_FILE_CHUNK)
			CHECK(roundtrip_file(sizes[i], 2) != 0, "file of %zu, a chunk dropped", sizes[i]);
	}
	{
		struct pier_e2ee_file f;
		uint8_t key[32], header[24], in[10] = { 0 }, out[64];

		pier_e2ee_file_push_init(&f, NULL, key, header);
		CHECK(pier_e2ee_file_push(&f, in, sizeof(in), false, out) == PIER_E2EE_ERR_FORMAT,
		      "a short chunk must be the last");
		CHECK(pier_e2ee_file_push(&f, in, sizeof(in), true, out) == 0, "the last chunk");
		CHECK(pier_e2ee_file_push(&f, in, sizeof(in), true, out) == PIER_E2EE_ERR_FORMAT,
		      "nothing after FINAL");
		pier_e2ee_file_release(&f);
	}
}

static void test_safety(void)
{
	uint8_t a[32] = { 1 }, b[32] = { 2 };
	char d1[61], d2[61], d3[61], code[10];
	struct pier_e2ee_peer_keys k;

	CHECK(pier_e2ee_safety_number("alice_1", a, "bob_22", b, d1) == 0 &&
	      pier_e2ee_safety_number("Bob_22", b, "ALICE_1", a, d2) == 0 &&
	      strcmp(d1, d2) == 0 && strlen(d1) == 60, "symmetric, case-folded");
	b[31] ^= 1;
	pier_e2ee_safety_number("alice_1", a, "bob_22", b, d3);
	CHECK(strcmp(d1, d3) != 0 && memcmp(d1, d3, 30) == 0, "bob's AK changed: his half changed");
	CHECK(pier_e2ee_safety_number("x", a, "bob_22", b, d3) == PIER_E2EE_ERR_FORMAT, "bad name");
	memset(&k, 3, sizeof(k));
	pier_e2ee_approval_format(pier_e2ee_approval_code(a, &k), code);
	CHECK(strlen(code) == 9 && code[4] == ' ', "approval code shown as %s", code);
	pier_e2ee_approval_format(1234, code);
	CHECK(strcmp(code, "0000 1234") == 0, "leading zeros: %s", code);
}

static void test_bundle(void)
{
	const char *good =
		"{\"op\":\"keys\",\"user\":\"Bob_22\",\"version\":3,\"list\":\"UERMMQ\","
		"\"sig\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		"\"devices\":[{\"id\":\"AAAAAAAAAAAAAAAAAAAAAA\","
		"\"sign_key\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\","
		"\"dh_key\":\"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI\","
		"\"spk\":{\"id\":2,\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\","
		"\"sig\":\"BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA\"},"
		"\"opk\":{\"id\":7,\"key\":\"BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU\"}},"
		"{\"id\":\"AQAAAAAAAAAAAAAAAAAAAA\","
		"\"sign_key\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\","
		"\"dh_key\":\"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI\","
		"\"spk\":{\"id\":2,\"key\":\"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM\","
		"\"sig\":\"BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA\"},"
		"\"listed\":false}]}";
	json_t *j = json_loads(good, 0, NULL);
	struct pier_e2ee_bundle *b = malloc(sizeof(*b));

	CHECK(j != NULL && pier_e2ee_bundle_parse(j, b) == 0, "a keys reply parses");
	CHECK(strcmp(b->user, "bob_22") == 0 && b->version == 3 && b->list_len == 4 &&
	      b->count == 2, "its fields");
	CHECK(b->dev[0].has_opk && b->dev[0].opk_id == 7 && b->dev[0].listed &&
	      b->dev[0].spk_id == 2 && b->dev[0].spk_pub[0] == 3, "the first device");
	CHECK(!b->dev[1].has_opk && !b->dev[1].listed, "the second: no OPK, not listed");
	/* a device twice */
	json_object_set(json_array_get(json_object_get(j, "devices"), 1), "id",
	                json_object_get(json_array_get(json_object_get(j, "devices"), 0), "id"));
	CHECK(pier_e2ee_bundle_parse(j, b) == PIER_E2EE_ERR_FORMAT, "a device twice");
	json_decref(j);
	j = json_loads(good, 0, NULL);
	json_object_set_new(json_array_get(json_object_get(j, "devices"), 0), "dh_key",
	                    json_string("AgIC"));
	CHECK(pier_e2ee_bundle_parse(j, b) == PIER_E2EE_ERR_FORMAT, "a short key");
	json_decref(j);
	j = json_loads(good, 0, NULL);
	json_object_set_new(j, "version", json_integer(0));
	json_object_del(j, "list");
	CHECK(pier_e2ee_bundle_parse(j, b) == 0 && b->list_len == 0, "version 0: no list");
	json_object_set_new(j, "version", json_integer(-1));
	CHECK(pier_e2ee_bundle_parse(j, b) == PIER_E2EE_ERR_FORMAT, "a negative version");
	json_decref(j);
	free(b);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_hkdf_rfc5869();
	test_b64();
	test_devlist_codec();
	test_device();
	test_files();
	test_safety();
	test_bundle();
	return tap_done();
}
