/* test_e2ee_media.c - integration: files in encrypted chats, and the canary of issue 10.
 *
 * An upload with ?e2ee=1 (and a tus upload with the e2ee metadata) is stored as it came,
 * application/octet-stream, named "encrypted", never typed from its bytes nor thumbnailed
 * (even when the bytes look like a PNG), always served as an attachment; it may be sent only
 * in an encrypted private message (plaintext: e2ee_required), and an encrypted message carries
 * no plaintext upload (no_such_media).
 *
 * The canary: a random string goes into a message's payload and into a file, both encrypted
 * by this test with libsodium (XChaCha20-Poly1305 for the payload, secretstream for the
 * file) as a client would; the recipient device gets them back and opens them (the canary is
 * inside); and the canary is found nowhere on the server: not in pier.db, its WAL, the media
 * directory nor pierd's log, while it runs and after it stopped. */
#define _GNU_SOURCE   /* memmem */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "e2eetest.h"
#include "netclient.h"

static const char *const args[] = { "--no-rate-limits", NULL };

/* One HTTP request with a binary body; the reply in *r (free it). Returns the status. */
static int http(struct pierd *p, const char *method, const char *path, const char *headers,
                const void *body, size_t len, struct http_reply *r)
{
	char head[4096];
	struct net *n;
	int hl = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
	                  "Content-Length: %zu\r\nConnection: close\r\n\r\n", method, path,
	                  headers, len);

	memset(r, 0, sizeof(*r));
	n = net_connect(pierd_http_port(p), NULL, 5000);
	if (n == NULL)
		return 0;
	if (strcmp(method, "HEAD") == 0)
		r->body_len = (size_t)-1;
	if (net_send(n, head, (size_t)hl) == 0 && (len == 0 || net_send(n, body, len) == 0))
		http_read_reply(n, r, 20000);
	net_close(n);
	return r->status;
}

/* Whether the file at path holds needle (n bytes). */
static bool file_has(const char *path, const void *needle, size_t n)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;
	bool found = false;

	if (f == NULL)
		return false;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	if (buf != NULL && fread(buf, 1, (size_t)len, f) == (size_t)len)
		found = memmem(buf, (size_t)len, needle, n) != NULL;
	free(buf);
	fclose(f);
	return found;
}

/* Whether any file under dir (recursively) holds needle; *files counts those looked at. */
static bool tree_has(const char *dir, const void *needle, size_t n, int *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (d == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			found = tree_has(path, needle, n, files);
		} else {
			(*files)++;
			found = file_has(path, needle, n);
		}
	}
	closedir(d);
	return found;
}

struct world {
	struct pierd *p;
	char alice[HARNESS_NAME_MAX], bob[HARNESS_NAME_MAX], carol[HARNESS_NAME_MAX];
	char to_bob[HARNESS_NAME_MAX + 1], to_carol[HARNESS_NAME_MAX + 1];
	char auth[256];                   /* alice's Authorization header line */
	struct tdev a1, b1;
	struct tacct ak, bk;
};

static bool setup(struct world *w)
{
	struct tdev *one[1];

	harness_user(w->alice, "ma");
	harness_user(w->bob, "mb");
	harness_user(w->carol, "mc");
	snprintf(w->to_bob, sizeof(w->to_bob), "@%s", w->bob);
	snprintf(w->to_carol, sizeof(w->to_carol), "@%s", w->carol);
	if (!t_register(w->p, w->alice) || !t_register(w->p, w->bob) || !t_register(w->p, w->carol))
		return false;
	t_dev_init(&w->a1, w->alice, "a1");
	t_dev_init(&w->b1, w->bob, "b1");
	t_acct_init(&w->ak, w->alice);
	t_acct_init(&w->bk, w->bob);
	if (!t_dev_register(w->p, &w->a1, 5) || !t_dev_register(w->p, &w->b1, 5))
		return false;
	one[0] = &w->a1;
	if (!t_publish(w->a1.s.c, &w->ak, one, 1))
		return false;
	one[0] = &w->b1;
	if (!t_publish(w->b1.s.c, &w->bk, one, 1))
		return false;
	snprintf(w->auth, sizeof(w->auth), "Authorization: Bearer %s\r\n", w->a1.s.token);
	return true;
}

/* Uploads data; returns the reply's JSON (new reference) and the status. */
static json_t *upload(struct world *w, const char *query, const void *data, size_t len,
                      int *status)
{
	char path[256];
	struct http_reply r;
	json_t *j;

	snprintf(path, sizeof(path), "/api/media%s", query);
	*status = http(w->p, "POST", path, w->auth, data, len, &r);
	j = r.body != NULL ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
	http_reply_free(&r);
	return j;
}

/* A PNG signature and header: a file libmagic would call image/png. */
static const unsigned char png_like[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
	0, 0, 0, 16, 0, 0, 0, 16, 8, 2, 0, 0, 0, 0x90, 0x91, 0x68, 0x36
};

static void test_uploads(struct world *w)
{
	struct http_reply r;
	char headers[512], value[256];
	json_t *j;
	int status;
	int64_t id;

	j = upload(w, "?e2ee=1&name=holiday.png", png_like, sizeof(png_like), &status);
	id = jint(j, "id", 0);
	CHECK(status == 201 && id > 0 && t_streq(jstr(j, "type"), "application/octet-stream") &&
	      t_streq(jstr(j, "name"), "encrypted") && !jtrue(j, "thumb") && jtrue(j, "e2ee") &&
	      jint(j, "size", 0) == (int64_t)sizeof(png_like),
	      "an encrypted upload is octet-stream, \"encrypted\", no thumbnail: %d %s", status,
	      jdump(j));
	json_decref(j);
	status = http(w->p, "GET", "/media/0", w->auth, NULL, 0, &r);
	http_reply_free(&r);
	snprintf(value, sizeof(value), "/media/%lld", (long long)id);
	status = http(w->p, "GET", value, w->auth, NULL, 0, &r);
	CHECK(status == 200 && http_reply_header(&r, "Content-Type", headers, sizeof(headers)) &&
	      strstr(headers, "application/octet-stream") != NULL &&
	      http_reply_header(&r, "Content-Disposition", value, sizeof(value)) &&
	      strncmp(value, "attachment", 10) == 0 && r.body_len == sizeof(png_like) &&
	      memcmp(r.body, png_like, sizeof(png_like)) == 0,
	      "served as it came, an attachment of type octet-stream (%d)", status);
	http_reply_free(&r);
	snprintf(value, sizeof(value), "/media/%lld/thumb", (long long)id);
	status = http(w->p, "GET", value, w->auth, NULL, 0, &r);
	CHECK(status == 404, "no thumbnail of ciphertext (%d)", status);
	http_reply_free(&r);

	/* Not in a plaintext message, to anyone; a plaintext upload not in an encrypted one. */
	{
		json_t *req = pier_req_send(w->to_carol, "", NULL), *rep;
		const char *ids[] = { w->b1.id64 };
		char *payload = t_random_b64(64);
		int64_t plain_id;

		json_object_set_new(req, "media", json_integer(id));
		rep = client_call(w->a1.s.c, req);
		CHECK(rep != NULL && is_error(rep, "e2ee_required"),
		      "encrypted media in a plaintext message: %s", jdump(rep));
		json_decref(rep);
		req = pier_req_send("#lobby", "", NULL);
		json_object_set_new(req, "media", json_integer(id));
		rep = client_call(w->a1.s.c, req);
		CHECK(rep != NULL && is_error(rep, "e2ee_required"),
		      "encrypted media in a room: %s", jdump(rep));
		json_decref(rep);
		j = upload(w, "?name=plain.txt", "plain words", 11, &status);
		plain_id = jint(j, "id", 0);
		json_decref(j);
		req = t_send_req(w->to_bob, payload, ids, 1, NULL);
		json_object_set_new(req, "media", json_integer(plain_id));
		rep = client_call(w->a1.s.c, req);
		CHECK(rep != NULL && is_error(rep, "no_such_media"),
		      "a plaintext upload in an encrypted message: %s", jdump(rep));
		json_decref(rep);
		free(payload);
	}

	/* tus with the e2ee metadata. */
	{
		char loc[256], mid[32];
		const char *meta = "Upload-Metadata: filename aG9saWRheS5wbmc=,e2ee MQ==\r\n";

		snprintf(headers, sizeof(headers), "%sTus-Resumable: 1.0.0\r\nUpload-Length: %zu\r\n%s",
		         w->auth, sizeof(png_like), meta);
		status = http(w->p, "POST", "/api/tus/", headers, NULL, 0, &r);
		CHECK(status == 201 && http_reply_header(&r, "Location", loc, sizeof(loc)),
		      "tus creation (%d)", status);
		http_reply_free(&r);
		snprintf(headers, sizeof(headers), "%sTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
		         "Content-Type: application/offset+octet-stream\r\n", w->auth);
		status = http(w->p, "PATCH", loc, headers, png_like, sizeof(png_like), &r);
		CHECK(status == 204 && http_reply_header(&r, "Pier-Media-Id", mid, sizeof(mid)),
		      "tus PATCH (%d)", status);
		http_reply_free(&r);
		snprintf(value, sizeof(value), "/media/%s", mid);
		status = http(w->p, "GET", value, w->auth, NULL, 0, &r);
		CHECK(status == 200 && http_reply_header(&r, "Content-Type", headers, sizeof(headers)) &&
		      strstr(headers, "application/octet-stream") != NULL &&
		      http_reply_header(&r, "Content-Disposition", value, sizeof(value)) &&
		      strstr(value, "encrypted") != NULL && strstr(value, "holiday") == NULL,
		      "a tus upload with e2ee: octet-stream named encrypted (%d)", status);
		http_reply_free(&r);
	}
}

static void test_canary(struct world *w)
{
	unsigned char rnd[12], key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned char fkey[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	char canary[64], text[256], path[4096];
	unsigned char ct[512], file[4096 + 64];
	unsigned long long ctlen = 0, flen = 0;
	size_t plain_len, b64len;
	char *payload;
	const char *ids[] = { w->b1.id64 };
	json_t *req, *rep, *j, *ev;
	int status, files = 0;
	int64_t media_id;

	randombytes_buf(rnd, sizeof(rnd));
	memcpy(canary, "CANARY-", 7);
	sodium_bin2hex(canary + 7, sizeof(canary) - 7, rnd, sizeof(rnd));

	/* The file: the canary many times over, encrypted as the clients do (secretstream). */
	{
		unsigned char plain[4096];

		for (size_t i = 0; i < sizeof(plain); i++)
			plain[i] = (unsigned char)canary[i % strlen(canary)];
		crypto_secretstream_xchacha20poly1305_keygen(fkey);
		crypto_secretstream_xchacha20poly1305_init_push(&st, file, fkey);
		crypto_secretstream_xchacha20poly1305_push(&st, file + crypto_secretstream_xchacha20poly1305_HEADERBYTES,
		                                           &flen, plain, sizeof(plain), NULL, 0,
		                                           crypto_secretstream_xchacha20poly1305_TAG_FINAL);
		flen += crypto_secretstream_xchacha20poly1305_HEADERBYTES;
	}
	j = upload(w, "?e2ee=1", file, (size_t)flen, &status);
	media_id = jint(j, "id", 0);
	CHECK(status == 201 && media_id > 0, "the encrypted file is stored (%d)", status);
	json_decref(j);

	/* The payload: JSON with the canary, XChaCha20-Poly1305 with a fresh key. */
	plain_len = (size_t)snprintf(text, sizeof(text), "{\"v\":1,\"text\":\"secret %s\"}", canary);
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	randombytes_buf(nonce, sizeof(nonce));
	memcpy(ct, nonce, sizeof(nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct + sizeof(nonce), &ctlen,
	                                           (unsigned char *)text, plain_len,
	                                           (const unsigned char *)"pier-payload-v1", 15,
	                                           NULL, nonce, key);
	ctlen += sizeof(nonce);
	b64len = sodium_base64_ENCODED_LEN(ctlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	payload = malloc(b64len);
	t_b64(payload, b64len, ct, (size_t)ctlen);
	req = t_send_req(w->to_bob, payload, ids, 1, NULL);
	json_object_set_new(req, "media", json_integer(media_id));
	rep = client_call(w->a1.s.c, req);
	CHECK(rep != NULL && is_op(rep, "sent") && jtrue(rep, "e2ee"), "the canary's message: %s",
	      jdump(rep));
	json_decref(rep);

	/* Bob's device gets the ciphertext back and opens it: the canary is inside. */
	ev = client_wait_op(w->b1.s.c, "envelope");
	if (CHECK(ev != NULL && jint(json_object_get(ev, "media"), "id", 0) == media_id,
	          "b1's envelope names the file: %s", jdump(ev))) {
		unsigned char got[512], plain[512];
		unsigned long long plen = 0;
		size_t glen = 0;
		const char *pl = jstr(ev, "payload");

		CHECK(pl != NULL && sodium_base642bin(got, sizeof(got), pl, strlen(pl), NULL, &glen, NULL,
		                                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
		      crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, got + 24, glen - 24,
		                                                 (const unsigned char *)"pier-payload-v1",
		                                                 15, got, key) == 0 &&
		      memmem(plain, (size_t)plen, canary, strlen(canary)) != NULL,
		      "the recipient opens the payload and finds the canary");
	}
	json_decref(ev);

	/* Search never finds an encrypted message (its file is indexed as "encrypted" only so
	 * that the index stays consistent; no match is shown). */
	{
		json_t *r = client_call(w->a1.s.c, pier_req_search("encrypted", w->to_bob, 0, 0));

		CHECK(r != NULL && is_op(r, "search") && json_array_size(json_object_get(r, "messages")) == 0,
		      "search finds no encrypted message: %s", jdump(r));
		json_decref(r);
	}
	/* Nowhere on the server, while it runs (the WAL holds the latest pages)... */
	{
		size_t len;
		char *dump = pierd_store_dump(w->p, &len);

		CHECK(dump != NULL && !memmem(dump, len, canary, strlen(canary)),
		      "the canary is not in the store (pier.db and its WAL, or PostgreSQL's rows)");
		free(dump);
	}
	snprintf(path, sizeof(path), "%s/media", pierd_dir(w->p));
	CHECK(!tree_has(path, canary, strlen(canary), &files) && files > 0,
	      "the canary is in none of the %d files of the media directory", files);
	/* ... nor after it stopped, nor in its log. */
	t_dev_close(&w->a1);
	t_dev_close(&w->b1);
	pierd_stop(w->p);
	files = 0;
	CHECK(!tree_has(pierd_dir(w->p), canary, strlen(canary), &files) && files > 2,
	      "after the stop: in none of the %d files of the data directory (pier.db, the log, "
	      "media)", files);
	CHECK(!pierd_log_contains(w->p, canary), "not in pierd's log");
	free(payload);
}

int main(void)
{
	struct world w = { 0 };

	harness_watchdog(240);
	if (sodium_init() < 0)
		return 1;
	w.p = pierd_start(args);
	if (w.p == NULL)
		return harness_done();
	if (setup(&w)) {
		test_uploads(&w);
		test_canary(&w);
	}
	t_dev_close(&w.a1);
	t_dev_close(&w.b1);
	pierd_stop(w.p);
	return harness_done();
}
