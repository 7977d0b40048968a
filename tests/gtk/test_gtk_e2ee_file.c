/* test_gtk_e2ee_file.c - GTest unit tests of pier-gtk's encrypted files (pg_e2ee_file.h, no
 * display needed): a file encrypted for upload decrypts in memory to the same bytes (empty,
 * one chunk, several chunks), and a flipped byte, a cut stream, bytes after the end, a wrong
 * key or a damaged key object give nothing; the ciphertext file is 0600 and shows no
 * plaintext. */
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "pg_e2ee_file.h"
#include "pier_e2ee.h"

struct sealed {
	char *dir, *plain, *enc;
	json_t *media;           /* {id, key, header} */
	GBytes *ct;
};

static void seal(struct sealed *s, const guint8 *data, gsize len)
{
	uint8_t key[32], header[24];
	gchar *bytes = NULL;
	gsize n = 0;
	GStatBuf st;

	s->dir = g_dir_make_tmp("pg-e2ee-file-XXXXXX", NULL);
	s->plain = g_build_filename(s->dir, "plain.bin", NULL);
	s->enc = g_build_filename(s->dir, "encrypted", NULL);
	g_assert_true(g_file_set_contents(s->plain, (const char *)data, (gssize)len, NULL));
	g_assert_cmpint(pg_e2ee_file_encrypt(s->plain, s->enc, key, header), ==, 0);
	g_assert_cmpint(g_stat(s->enc, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	s->media = pg_e2ee_file_object(7, "plain.bin", "application/octet-stream", (int64_t)len,
	                               "file", key, header);
	json_object_set_new(s->media, "id", json_integer(7));
	g_assert_true(pg_e2ee_file_is_encrypted(s->media));
	g_assert_true(g_file_get_contents(s->enc, &bytes, &n, NULL));
	s->ct = g_bytes_new_take(bytes, n);
}

static void unseal(struct sealed *s)
{
	g_unlink(s->plain);
	g_unlink(s->enc);
	g_rmdir(s->dir);
	g_free(s->dir);
	g_free(s->plain);
	g_free(s->enc);
	json_decref(s->media);
	g_bytes_unref(s->ct);
}

static gboolean holds(const guint8 *hay, gsize n, const guint8 *needle, gsize len)
{
	for (gsize i = 0; i + len <= n; i++)
		if (memcmp(hay + i, needle, len) == 0)
			return TRUE;
	return FALSE;
}

static GBytes *open_ct(const struct sealed *s, const guint8 *ct, gsize len)
{
	return pg_e2ee_file_decrypt(s->media, ct, len);
}

static void round_trip(gsize len)
{
	guint8 *data = g_malloc(len + 1);
	struct sealed s;
	GBytes *back;
	gsize n;
	const guint8 *ct;

	randombytes_buf(data, len);
	seal(&s, data, len);
	ct = g_bytes_get_data(s.ct, &n);
	/* the ciphertext does not hold the plaintext (a long enough piece of it) */
	if (len >= 64)
		g_assert_false(holds(ct, n, data, 32));
	back = open_ct(&s, ct, n);
	g_assert_nonnull(back);
	g_assert_cmpmem(g_bytes_get_data(back, NULL), g_bytes_get_size(back), data, len);
	g_bytes_unref(back);
	g_free(data);
	unseal(&s);
}

static void test_round_trips(void)
{
	round_trip(0);
	round_trip(100);
	round_trip(65536);
	round_trip(65536 * 3 + 17);
}

static void test_refused(void)
{
	gsize len = 65536 + 500, n;
	guint8 *data = g_malloc(len), *bad;
	struct sealed s;
	const guint8 *ct;
	json_t *wrong;
	uint8_t key[32];

	randombytes_buf(data, len);
	seal(&s, data, len);
	ct = g_bytes_get_data(s.ct, &n);
	bad = g_malloc(n + 10);
	memcpy(bad, ct, n);
	/* a flipped byte in the first chunk, then in the last */
	bad[10] ^= 1;
	g_assert_null(open_ct(&s, bad, n));
	bad[10] ^= 1;
	bad[n - 3] ^= 0x80;
	g_assert_null(open_ct(&s, bad, n));
	bad[n - 3] ^= 0x80;
	/* cut: the first chunk only (no FINAL), or a byte short */
	g_assert_null(open_ct(&s, bad, 65536 + 17));
	g_assert_null(open_ct(&s, bad, n - 1));
	/* bytes after the end */
	memset(bad + n, 0, 10);
	g_assert_null(open_ct(&s, bad, n + 10));
	/* a wrong key; a key object that is not one */
	wrong = json_deep_copy(s.media);
	randombytes_buf(key, sizeof key);
	pier_e2ee_json_set_bytes(wrong, "key", key, sizeof key);
	g_assert_null(pg_e2ee_file_decrypt(wrong, ct, n));
	json_object_set_new(wrong, "key", json_string("not base64url!"));
	g_assert_null(pg_e2ee_file_decrypt(wrong, ct, n));
	g_assert_false(pg_e2ee_file_is_encrypted(json_object_get(wrong, "nothing")));
	json_decref(wrong);
	/* and the untouched one still opens */
	{
		GBytes *back = open_ct(&s, ct, n);

		g_assert_nonnull(back);
		g_bytes_unref(back);
	}
	g_free(bad);
	g_free(data);
	unseal(&s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(sodium_init(), >=, 0);
	g_test_add_func("/e2ee-file/round-trips", test_round_trips);
	g_test_add_func("/e2ee-file/refused", test_refused);
	return g_test_run();
}
