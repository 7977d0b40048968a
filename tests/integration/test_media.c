/* test_media.c - integration: files in chat. Upload (POST /api/media) of a PNG made here by
 * hand and a JPEG made with GdkPixbuf; sending them to a room and privately; downloads by
 * those who may see them (bytes identical), 403 to others, 401 without a token; ranges, ETag,
 * the headers that keep a browser safe; thumbnails; the session cookie; history; a tus upload
 * cut at half, carried over a restart of pierd and finished; termination; limits (413) with
 * nothing left behind; and a clean stop under the sanitizers. */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <sodium.h>

#include "clock.h"
#include "harness.h"
#include "netclient.h"

#define MAX_SIZE  (3 * 1024 * 1024)
#define QUOTA     (8 * 1024 * 1024)

static struct pierd *pd;
static int port;

struct who {
	char name[HARNESS_NAME_MAX];
	char token[128];
	char auth[200];             /* "Authorization: Bearer ...\r\n" */
	struct pier_conn *c;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- HTTP ---- */

/* One request on a fresh connection: method, path, extra header lines, a body. The reply's
 * status (0 when none came). */
static int req(const char *method, const char *path, const char *headers, const void *body,
               size_t len, struct http_reply *r)
{
	char head[4096];
	struct net *n;
	int hl;

	memset(r, 0, sizeof(*r));
	hl = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: t\r\n%s", method, path,
	              headers ? headers : "");
	if (body != NULL)
		hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "Content-Length: %zu\r\n", len);
	hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "\r\n");
	n = net_connect(port, NULL, 5000);
	if (n == NULL)
		return 0;
	if (strcmp(method, "HEAD") == 0)
		r->body_len = (size_t)-1;
	/* The reply is read even when the body could not all be sent: pierd answers a refused
	 * upload (over_quota, too_large) before reading its body, reads and drops at most 1 MiB
	 * more (http.c's lingering close), then closes, and the rest of a bigger body then meets a
	 * reset; the answer is already here, as a browser or curl would read it. */
	if (net_send(n, head, (size_t)hl) == 0) {
		if (body != NULL && len > 0)
			(void)net_send(n, body, len);
		http_read_reply(n, r, 20000);
	}
	net_close(n);
	return r->status;
}

static bool header_has(const struct http_reply *r, const char *name, const char *part)
{
	char v[1024];

	return http_reply_header(r, name, v, sizeof(v)) && strstr(v, part) != NULL;
}

static int64_t header_num(const struct http_reply *r, const char *name)
{
	char v[64];

	return http_reply_header(r, name, v, sizeof(v)) ? strtoll(v, NULL, 10) : -1;
}

/* o[key] as a string, "" when missing. */
static const char *js(const json_t *o, const char *key)
{
	const char *v = jstr(o, key);

	return v != NULL ? v : "";
}

static json_t *body_json(const struct http_reply *r)
{
	return r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
}

/* POST /api/media with data: returns the reply's JSON (new reference) or NULL, *status set. */
static json_t *upload(const struct who *w, const char *query, const char *extra, const void *data,
                      size_t len, int *status)
{
	char path[512], headers[1024];
	struct http_reply r = {0};
	json_t *j;

	snprintf(path, sizeof(path), "/api/media%s", query ? query : "");
	snprintf(headers, sizeof(headers), "%s%s", w->auth, extra ? extra : "");
	*status = req("POST", path, headers, data, len, &r);
	j = body_json(&r);
	http_reply_free(&r);
	return j;
}

/* GET /media/ID[suffix] as w (NULL: no token), with extra header lines. */
static int get_media(const struct who *w, int64_t id, const char *suffix, const char *extra,
                     struct http_reply *r)
{
	char path[128], headers[1024];

	snprintf(path, sizeof(path), "/media/%lld%s", (long long)id, suffix ? suffix : "");
	snprintf(headers, sizeof(headers), "%s%s", w ? w->auth : "", extra ? extra : "");
	return req("GET", path, headers, NULL, 0, r);
}

/* ---- files to upload ---- */

static uint32_t crc32_of(const unsigned char *p, size_t n, uint32_t crc)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static size_t png_chunk(unsigned char *out, const char *type, const unsigned char *data, size_t n)
{
	put32(out, (uint32_t)n);
	memcpy(out + 4, type, 4);
	if (n > 0)
		memcpy(out + 8, data, n);
	put32(out + 8 + n, crc32_of(out + 4, n + 4, 0));
	return n + 12;
}

/* A w x h RGB PNG written by hand: zlib "stored" blocks, no compression library needed. */
static unsigned char *make_png(int w, int h, size_t *len)
{
	size_t raw_len = (size_t)h * (1 + 3 * (size_t)w), nblocks = raw_len / 65535 + 1;
	size_t z_len = 2 + raw_len + 5 * nblocks + 4;
	unsigned char *raw = malloc(raw_len), *z = malloc(z_len), *png = malloc(z_len + 100);
	unsigned char ihdr[13];
	uint32_t a = 1, b = 0;
	size_t o = 0, zo = 0;

	for (int y = 0; y < h; y++) {
		unsigned char *row = raw + (size_t)y * (1 + 3 * (size_t)w);

		row[0] = 0;
		for (int x = 0; x < w; x++) {
			row[1 + 3 * x] = (unsigned char)(x * 255 / w);
			row[2 + 3 * x] = (unsigned char)(y * 255 / h);
			row[3 + 3 * x] = (unsigned char)((x + y) & 0xff);
		}
	}
	z[zo++] = 0x78;
	z[zo++] = 0x01;
	for (size_t off = 0; off < raw_len || off == 0;) {
		size_t n = raw_len - off > 65535 ? 65535 : raw_len - off;

		z[zo++] = off + n == raw_len ? 1 : 0;
		z[zo++] = (unsigned char)(n & 0xff);
		z[zo++] = (unsigned char)(n >> 8);
		z[zo++] = (unsigned char)(~n & 0xff);
		z[zo++] = (unsigned char)((~n >> 8) & 0xff);
		memcpy(z + zo, raw + off, n);
		zo += n;
		off += n;
		if (n == 0)
			break;
	}
	for (size_t i = 0; i < raw_len; i++) {
		a = (a + raw[i]) % 65521;
		b = (b + a) % 65521;
	}
	put32(z + zo, (b << 16) | a);
	zo += 4;
	memcpy(png, "\x89PNG\r\n\x1a\n", 8);
	o = 8;
	put32(ihdr, (uint32_t)w);
	put32(ihdr + 4, (uint32_t)h);
	ihdr[8] = 8;               /* bit depth */
	ihdr[9] = 2;               /* RGB */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	o += png_chunk(png + o, "IHDR", ihdr, sizeof(ihdr));
	o += png_chunk(png + o, "IDAT", z, zo);
	o += png_chunk(png + o, "IEND", NULL, 0);
	free(raw);
	free(z);
	*len = o;
	return png;
}

/* A small JPEG made with GdkPixbuf. */
static unsigned char *make_jpeg(int w, int h, size_t *len)
{
	GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
	gchar *buf = NULL;
	gsize n = 0;
	unsigned char *out;

	gdk_pixbuf_fill(pb, 0x3080c0ff);
	if (!gdk_pixbuf_save_to_buffer(pb, &buf, &n, "jpeg", NULL, "quality", "80", NULL)) {
		g_object_unref(pb);
		return NULL;
	}
	out = malloc(n);
	memcpy(out, buf, n);
	g_free(buf);
	g_object_unref(pb);
	*len = n;
	return out;
}

static unsigned char *random_bytes(size_t n)
{
	unsigned char *p = malloc(n);

	randombytes_buf(p, n);
	return p;
}

/* The size of a PNG or JPEG in memory, with GdkPixbuf. */
static bool image_size(const void *data, size_t len, int *w, int *h)
{
	GdkPixbufLoader *l = gdk_pixbuf_loader_new();
	GdkPixbuf *pb;
	bool ok = false;

	if (gdk_pixbuf_loader_write(l, data, len, NULL) && gdk_pixbuf_loader_close(l, NULL)) {
		pb = gdk_pixbuf_loader_get_pixbuf(l);
		if (pb != NULL) {
			*w = gdk_pixbuf_get_width(pb);
			*h = gdk_pixbuf_get_height(pb);
			ok = true;
		}
	} else {
		gdk_pixbuf_loader_close(l, NULL);
	}
	g_object_unref(l);
	return ok;
}

/* ---- files in the data directory ---- */

/* Regular files under dir, recursively. */
static int count_in(const char *dir)
{
	char path[2048];
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			n += count_in(path);
		else if (S_ISREG(st.st_mode))
			n++;
	}
	closedir(d);
	return n;
}

static int count_files(const char *sub)
{
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/%s", pierd_dir(pd), sub);
	return count_in(dir);
}

/* ---- users ---- */

static bool login(struct who *w)
{
	json_t *r;

	w->c = client_connect(pd);
	if (w->c == NULL)
		return false;
	r = client_call(w->c, pier_req_login(w->name, HARNESS_PASSWORD));
	if (!CHECK(r != NULL && jint(r, "status", -9) == 1 && jstr(r, "token") != NULL,
	           "login %s: %s", w->name, jdump(r))) {
		json_decref(r);
		return false;
	}
	snprintf(w->token, sizeof(w->token), "%s", jstr(r, "token"));
	snprintf(w->auth, sizeof(w->auth), "Authorization: Bearer %s\r\n", w->token);
	json_decref(r);
	json_decref(client_wait_op(w->c, "users"));
	return true;
}

static bool new_user(struct who *w, const char *prefix)
{
	struct pier_conn *c = client_connect(pd);
	int status;

	if (c == NULL)
		return false;
	harness_user(w->name, prefix);
	status = client_register(c, w->name, HARNESS_PASSWORD);
	pier_conn_close(c);
	if (!CHECK(status == PIER_REGISTER_OK, "register %s", w->name))
		return false;
	return login(w);
}

static json_t *send_media(struct who *w, const char *to, const char *kind, int64_t id,
                          const char *caption)
{
	json_t *req = json_pack("{s:s, s:s, s:I}", "op", "send", "to", to, "media", (json_int_t)id);

	if (kind != NULL)
		json_object_set_new(req, "kind", json_string(kind));
	if (caption != NULL)
		json_object_set_new(req, "text", json_string(caption));
	return client_call(w->c, req);
}

static bool media_is(const json_t *m, int64_t id, const char *name, int64_t size, const char *type,
                     int width, int height)
{
	return json_is_object(m) && jint(m, "id", -1) == id && jstr(m, "name") != NULL &&
	       strcmp(jstr(m, "name"), name) == 0 && jint(m, "size", -1) == size &&
	       jstr(m, "type") != NULL && strcmp(jstr(m, "type"), type) == 0 &&
	       jint(m, "width", 0) == width && jint(m, "height", 0) == height;
}

/* ---- the tests ---- */

static struct who alice, bob, carol, dave;
static unsigned char *png, *jpeg, *doc;
static size_t png_len, jpeg_len, doc_len;
static int64_t png_id, jpeg_id, doc_id;
static char room[64];

static void test_upload(void)
{
	int status;
	json_t *j;

	png = make_png(640, 480, &png_len);
	j = upload(&alice, "?name=sunset%20%C3%A9t%C3%A9.png", "Content-Type: text/plain\r\n", png,
	           png_len, &status);
	CHECK(status == 201, "POST /api/media: 201 (got %d: %s)", status, jdump(j));
	png_id = jint(j, "id", -1);
	CHECK(media_is(j, png_id, "sunset \xc3\xa9t\xc3\xa9.png", (int64_t)png_len, "image/png", 640, 480) &&
	      jtrue(j, "thumb"), "the answer: id, name, size, type from the content (not the "
	      "client's text/plain), dimensions, a thumbnail: %s", jdump(j));
	json_decref(j);

	jpeg = make_jpeg(64, 48, &jpeg_len);
	REQUIRE(jpeg != NULL, , "GdkPixbuf makes a JPEG");
	j = upload(&alice, NULL, "Content-Disposition: attachment; filename=\"../../etc/photo.jpg\"\r\n",
	           jpeg, jpeg_len, &status);
	jpeg_id = jint(j, "id", -1);
	CHECK(status == 201 && media_is(j, jpeg_id, "photo.jpg", (int64_t)jpeg_len, "image/jpeg", 64, 48),
	      "a JPEG named by Content-Disposition (directories dropped): %d %s", status, jdump(j));
	json_decref(j);

	doc_len = 4000;
	doc = malloc(doc_len);
	for (size_t i = 0; i < doc_len; i++)
		doc[i] = (unsigned char)("<html><script>alert(1)</script>\n"[i % 32]);
	j = upload(&alice, "?name=notes.html", NULL, doc, doc_len, &status);
	doc_id = jint(j, "id", -1);
	CHECK(status == 201 && doc_id > 0 && jstr(j, "type") != NULL &&
	      strncmp(jstr(j, "type"), "text/", 5) == 0 && !jtrue(j, "thumb"),
	      "a text file: its type, no thumbnail: %d %s", status, jdump(j));
	json_decref(j);

	j = upload(&carol, NULL, NULL, NULL, 0, &status);
	CHECK(status == 400, "an empty body: 400 (got %d)", status);
	json_decref(j);
	{
		struct who nobody = {0};

		j = upload(&nobody, NULL, NULL, png, 100, &status);
		CHECK(status == 401 && j != NULL && strcmp(js(j, "error"), "not_logged_in") == 0,
		      "an upload without a token: 401 (got %d %s)", status, jdump(j));
		json_decref(j);
		snprintf(nobody.auth, sizeof(nobody.auth), "Authorization: Bearer nope\r\n");
		j = upload(&nobody, NULL, NULL, png, 100, &status);
		CHECK(status == 401, "an upload with a bad token: 401 (got %d)", status);
		json_decref(j);
	}
}

static void test_send(void)
{
	json_t *r, *ev;

	snprintf(room, sizeof(room), "#media%d", (int)getpid() % 100000);
	json_decref(client_call(alice.c, pier_req_join(room)));
	json_decref(client_call(bob.c, pier_req_join(room)));
	client_drain(alice.c);
	r = send_media(&alice, room, "image", png_id, "the view");
	CHECK(is_op(r, "sent") && strcmp(js(r, "kind"), "image") == 0 &&
	      media_is(json_object_get(r, "media"), png_id, "sunset \xc3\xa9t\xc3\xa9.png",
	               (int64_t)png_len, "image/png", 640, 480),
	      "send to a room: sent, with the media: %s", jdump(r));
	json_decref(r);
	ev = client_wait_msg(bob.c, "the view");
	CHECK(ev != NULL && strcmp(js(ev, "kind"), "image") == 0 &&
	      media_is(json_object_get(ev, "media"), png_id, "sunset \xc3\xa9t\xc3\xa9.png",
	               (int64_t)png_len, "image/png", 640, 480),
	      "the member gets the message with id, name, size, type, dimensions: %s", jdump(ev));
	json_decref(ev);

	{
		char to[HARNESS_NAME_MAX + 1];

		snprintf(to, sizeof(to), "@%s", dave.name);
		r = send_media(&alice, to, "file", doc_id, NULL);
		CHECK(is_op(r, "sent") && strcmp(js(r, "kind"), "file") == 0,
		      "send privately without a caption: %s", jdump(r));
		json_decref(r);
		ev = client_wait_op(dave.c, "msg");
		CHECK(ev != NULL && jint(json_object_get(ev, "media"), "id", -1) == doc_id &&
		      strcmp(js(ev, "text"), "") == 0, "the private party gets it: %s", jdump(ev));
		json_decref(ev);
		/* A kind that does not fit the content is shown as a file. */
		r = send_media(&alice, to, "video", jpeg_id, "not a video");
		CHECK(is_op(r, "sent") && strcmp(js(r, "kind"), "file") == 0,
		      "kind video for a JPEG is stored as file: %s", jdump(r));
		json_decref(r);
		json_decref(client_wait_msg(dave.c, "not a video"));
	}

	CHECK(client_expect_error(carol.c, json_pack("{s:s, s:s, s:s, s:I, s:s}", "op", "send", "to",
	                                             "#lobby", "kind", "image", "media",
	                                             (json_int_t)jpeg_id, "text", "mine now?"),
	                          "no_such_media"),
	      "sending media one may not see: no_such_media");
	CHECK(client_expect_error(carol.c, json_pack("{s:s, s:s, s:I}", "op", "send", "to", "#lobby",
	                                             "media", (json_int_t)999999),
	                          "no_such_media"), "sending media that does not exist: no_such_media");
	CHECK(client_expect_error(carol.c, json_pack("{s:s, s:s, s:s, s:I}", "op", "send", "to",
	                                             "#lobby", "kind", "sticker", "media",
	                                             (json_int_t)png_id), "bad_request"),
	      "an unknown kind: bad_request");
	CHECK(client_expect_error(carol.c, json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to",
	                                             "#lobby", "kind", "image", "text", "x"),
	                          "bad_request"), "kind image without media: bad_request");
}

static void test_download(void)
{
	struct http_reply r = {0};
	char etag[128] = "", extra[256];

	get_media(&bob, png_id, NULL, NULL, &r);
	CHECK(r.status == 200 && r.body_len == png_len &&
	      memcmp(r.body, png, png_len) == 0, "a room member downloads it, bytes identical (%d, %zu)",
	      r.status, r.body_len);
	CHECK(header_has(&r, "Content-Type", "image/png"), "Content-Type from the content");
	CHECK(header_has(&r, "X-Content-Type-Options", "nosniff"), "nosniff");
	CHECK(header_has(&r, "Content-Security-Policy", "default-src 'none'") &&
	      header_has(&r, "Content-Security-Policy", "sandbox"), "a restrictive CSP");
	CHECK(header_has(&r, "Content-Disposition", "inline") &&
	      header_has(&r, "Content-Disposition", "filename*=UTF-8''sunset%20%C3%A9t%C3%A9.png"),
	      "an image is inline, with its name");
	CHECK(header_has(&r, "Accept-Ranges", "bytes"), "Accept-Ranges");
	CHECK(http_reply_header(&r, "ETag", etag, sizeof(etag)) && strlen(etag) == 66,
	      "the ETag is the SHA-256: %s", etag);
	http_reply_free(&r);
	snprintf(extra, sizeof(extra), "If-None-Match: %s\r\n", etag);
	get_media(&bob, png_id, NULL, extra, &r);
	CHECK(r.status == 304 && r.body_len == 0,
	      "If-None-Match: 304 (got %d)", r.status);
	http_reply_free(&r);

	get_media(&carol, png_id, NULL, NULL, &r);
	CHECK(r.status == 403, "a non-member: 403 (got %d)", r.status);
	http_reply_free(&r);
	get_media(NULL, png_id, NULL, NULL, &r);
	CHECK(r.status == 401 &&
	      header_has(&r, "WWW-Authenticate", "Bearer"), "no token: 401 (got %d)", r.status);
	http_reply_free(&r);
	get_media(&bob, 999999, NULL, NULL, &r);
	CHECK(r.status == 404, "no such media: 404 (got %d)", r.status);
	http_reply_free(&r);
	get_media(&alice, jpeg_id, NULL, NULL, &r);
	CHECK(r.status == 200 && r.body_len == jpeg_len,
	      "the uploader sees what it sent nowhere else (%d)", r.status);
	http_reply_free(&r);

	get_media(&dave, doc_id, NULL, NULL, &r);
	CHECK(r.status == 200 && r.body_len == doc_len &&
	      memcmp(r.body, doc, doc_len) == 0, "the private party downloads the file (%d)", r.status);
	CHECK(header_has(&r, "Content-Disposition", "attachment"),
	      "HTML is offered as an attachment, never shown in place");
	http_reply_free(&r);
	get_media(&bob, doc_id, NULL, NULL, &r);
	CHECK(r.status == 403, "someone else's private file: 403 (got %d)",
	      r.status);
	http_reply_free(&r);

	/* Whoever may see media may pass it on: dave sends the JPEG he got to carol. */
	{
		char to[HARNESS_NAME_MAX + 1];
		json_t *s;

		snprintf(to, sizeof(to), "@%s", carol.name);
		s = send_media(&dave, to, "image", jpeg_id, "fwd");
		CHECK(is_op(s, "sent"), "a recipient forwards the media: %s", jdump(s));
		json_decref(s);
		get_media(&carol, jpeg_id, NULL, NULL, &r);
		CHECK(r.status == 200, "and the new party may read it (%d)",
		      r.status);
		http_reply_free(&r);
	}

	/* thumbnails */
	get_media(&bob, png_id, "/thumb", NULL, &r);
	CHECK(r.status == 200 && header_has(&r, "Content-Type", "image/png"),
	      "GET /media/ID/thumb: 200 (got %d)", r.status);
	{
		int w = 0, h = 0;

		CHECK(image_size(r.body, r.body_len, &w, &h) && w == 320 && h == 240,
		      "the thumbnail is 320x240 (got %dx%d)", w, h);
	}
	http_reply_free(&r);
	get_media(&carol, png_id, "/thumb", NULL, &r);
	CHECK(r.status == 403, "the thumbnail is checked too (%d)",
	      r.status);
	http_reply_free(&r);
	get_media(&alice, jpeg_id, "/thumb", NULL, &r);
	CHECK(r.status == 200 &&
	      header_has(&r, "Content-Type", "image/jpeg"), "a JPEG's thumbnail is a JPEG (%d)", r.status);
	http_reply_free(&r);
	get_media(&alice, doc_id, "/thumb", NULL, &r);
	CHECK(r.status == 404, "no thumbnail for text: 404 (%d)",
	      r.status);
	http_reply_free(&r);
}

static void test_ranges(void)
{
	struct http_reply r = {0};
	char cr[128];

	get_media(&bob, png_id, NULL, "Range: bytes=0-9\r\n", &r);
	CHECK(r.status == 206 && r.body_len == 10 &&
	      memcmp(r.body, png, 10) == 0, "bytes=0-9: 206 and the first 10 bytes (%d)", r.status);
	snprintf(cr, sizeof(cr), "bytes 0-9/%zu", png_len);
	CHECK(header_has(&r, "Content-Range", cr), "Content-Range %s", cr);
	http_reply_free(&r);
	get_media(&bob, png_id, NULL, "Range: bytes=-100\r\n", &r);
	CHECK(r.status == 206 && r.body_len == 100 &&
	      memcmp(r.body, png + png_len - 100, 100) == 0, "bytes=-100: the last 100 (%d)", r.status);
	http_reply_free(&r);
	get_media(&bob, png_id, NULL, "Range: bytes=500000-\r\n", &r);
	CHECK(r.status == 206 &&
	      r.body_len == png_len - 500000 && memcmp(r.body, png + 500000, r.body_len) == 0,
	      "bytes=500000-: the rest (%d)", r.status);
	http_reply_free(&r);
	get_media(&bob, png_id, NULL, "Range: bytes=100-199\r\n", &r);
	CHECK(r.status == 206 && r.body_len == 100 &&
	      memcmp(r.body, png + 100, 100) == 0, "bytes=100-199 (%d)", r.status);
	http_reply_free(&r);
	{
		char range[64];

		snprintf(range, sizeof(range), "Range: bytes=%zu-\r\n", png_len);
		get_media(&bob, png_id, NULL, range, &r);
		CHECK(r.status == 416, "a range past the end: 416 (%d)",
		      r.status);
		snprintf(cr, sizeof(cr), "bytes */%zu", png_len);
		CHECK(header_has(&r, "Content-Range", cr), "416 says the size");
		http_reply_free(&r);
	}
	get_media(&bob, png_id, NULL, "Range: bytes=0-1,5-6\r\n", &r);
	CHECK(r.status == 200 && r.body_len == png_len,
	      "several ranges: the whole file (%d)", r.status);
	http_reply_free(&r);
	get_media(&bob, png_id, NULL, "Range: bytes=0-9\r\nIf-Range: \"other\"\r\n", &r);
	CHECK(r.status == 200,
	      "If-Range with another ETag: the whole file (%d)", r.status);
	http_reply_free(&r);
}

static void test_cookie(void)
{
	struct http_reply r = {0};
	char cookie[256], extra[300];

	req("POST", "/api/session", bob.auth, NULL, 0, &r);
	CHECK(r.status == 200, "POST /api/session: 200 (%d)",
	      r.status);
	CHECK(http_reply_header(&r, "Set-Cookie", cookie, sizeof(cookie)) &&
	      strstr(cookie, "HttpOnly") != NULL && strstr(cookie, "SameSite=Strict") != NULL,
	      "an HttpOnly, SameSite=Strict cookie: %s", cookie);
	http_reply_free(&r);
	*strchr(cookie, ';') = '\0';
	snprintf(extra, sizeof(extra), "Cookie: theme=dark; %s\r\n", cookie);
	get_media(NULL, png_id, NULL, extra, &r);
	CHECK(r.status == 200 && r.body_len == png_len,
	      "GET /media with the cookie: 200 (%d)", r.status);
	http_reply_free(&r);
	req("POST", "/api/session", NULL, NULL, 0, &r);
	CHECK(r.status == 401, "no token, no cookie: 401 (%d)",
	      r.status);
	http_reply_free(&r);
}

static void test_history(void)
{
	json_t *h = client_call(bob.c, pier_req_history(room, 0, 10)), *m;

	m = json_array_get(json_object_get(h, "messages"), 0);
	CHECK(m != NULL && strcmp(js(m, "kind"), "image") == 0 &&
	      media_is(json_object_get(m, "media"), png_id, "sunset \xc3\xa9t\xc3\xa9.png",
	               (int64_t)png_len, "image/png", 640, 480),
	      "history has the media the same way: %s", jdump(h));
	json_decref(h);
	h = client_call(dave.c, pier_req_sync(0, 50));
	CHECK(h != NULL && strstr(jdump(h), "\"media\"") != NULL, "sync too: %s", jdump(h));
	json_decref(h);
}

static void test_limits(void)
{
	struct who q = {0};
	unsigned char *big = random_bytes(MAX_SIZE + 65536);
	int status, media_before, blobs;
	json_t *j;
	struct http_reply r = {0};

	REQUIRE(new_user(&q, "quota"), , "a user for the limits");
	media_before = count_files("media");
	{
		char headers[512];

		snprintf(headers, sizeof(headers), "%sContent-Length: %d\r\n", q.auth, MAX_SIZE + 1);
		status = req("POST", "/api/media", headers, NULL, 0, &r);
		j = body_json(&r);
		CHECK(status == 413 && strcmp(js(j, "error"), "too_large") == 0 &&
		      jint(j, "limit", 0) == MAX_SIZE, "a declared length over the limit: 413 at once: %d %s",
		      status, r.body ? r.body : "");
		json_decref(j);
		http_reply_free(&r);
	}
	/* Chunked, so the server learns the size only as bytes come. */
	{
		struct net *n = net_connect(port, NULL, 5000);
		char head[512], line[32];
		size_t sent = 0;

		snprintf(head, sizeof(head), "POST /api/media HTTP/1.1\r\nHost: t\r\n%s"
		         "Transfer-Encoding: chunked\r\n\r\n", q.auth);
		net_send(n, head, strlen(head));
		while (sent < (size_t)MAX_SIZE + 65536) {
			size_t c = 65536;

			snprintf(line, sizeof(line), "%zx\r\n", c);
			if (net_send(n, line, strlen(line)) != 0 || net_send(n, big + sent, c) != 0 ||
			    net_send(n, "\r\n", 2) != 0)
				break;
			sent += c;
		}
		memset(&r, 0, sizeof(r));
		http_read_reply(n, &r, 10000);
		j = body_json(&r);
		CHECK(r.status == 413 && strcmp(js(j, "error"), "too_large") == 0,
		      "a chunked body past the limit: 413 with a JSON error: %d %s", r.status,
		      r.body ? r.body : "");
		json_decref(j);
		http_reply_free(&r);
		net_close(n);
	}
	/* the quota: 8 MiB. The same file twice counts once (stored once); three different files
	 * of 2.5 MiB fit, a fourth does not. */
	for (int i = 0; i < 4; i++) {
		j = upload(&q, NULL, NULL, big + (i == 0 ? 0 : i - 1) * 4096, 2500 * 1024, &status);
		CHECK(status == 201, "upload %d under the quota: 201 (%d %s)", i, status, jdump(j));
		json_decref(j);
	}
	blobs = count_files("media");
	CHECK(blobs == media_before + 3, "three blobs stored for four uploads (%d -> %d)", media_before,
	      blobs);
	j = upload(&q, NULL, NULL, big + 99, 2500 * 1024, &status);
	CHECK(status == 413 && strcmp(js(j, "error"), "over_quota") == 0 &&
	      jint(j, "quota", 0) == QUOTA && jint(j, "used", 0) == 3 * 2500 * 1024,
	      "past the quota: 413 over_quota with the numbers: %d %s", status, jdump(j));
	json_decref(j);
	sleep_ms(300);
	CHECK(count_files("media") == blobs, "nothing of the refused uploads stored");
	CHECK(count_files("uploads") == 0, "nothing left in uploads/ (%d files)", count_files("uploads"));
	pier_conn_close(q.c);
	free(big);
}

/* ---- tus, by hand ---- */

static int tus(const struct who *w, const char *method, const char *path, const char *extra,
               const void *body, size_t len, struct http_reply *r)
{
	char headers[2048];

	snprintf(headers, sizeof(headers), "%sTus-Resumable: 1.0.0\r\n%s", w->auth, extra ? extra : "");
	return req(method, path, headers, body, len, r);
}

static int64_t tus_offset(const struct who *w, const char *path, int *status)
{
	struct http_reply r = {0};
	int64_t off;

	*status = tus(w, "HEAD", path, NULL, NULL, 0, &r);
	off = header_num(&r, "Upload-Offset");
	http_reply_free(&r);
	return off;
}

static void test_tus(void)
{
	size_t len = 2 * 1024 * 1024 + 12345, half = len / 2;
	unsigned char *data = random_bytes(len);
	char path[128], extra[512], loc[128] = "";
	struct http_reply r = {0};
	int status = 0;
	int64_t off = -1, id;

	req("OPTIONS", "/api/tus/", NULL, NULL, 0, &r);
	CHECK(r.status == 204 &&
	      header_has(&r, "Tus-Version", "1.0.0") && header_has(&r, "Tus-Extension", "creation") &&
	      header_has(&r, "Tus-Extension", "termination") && header_num(&r, "Tus-Max-Size") == MAX_SIZE,
	      "OPTIONS: versions, extensions, max size (%d)", r.status);
	http_reply_free(&r);
	req("POST", "/api/tus/", alice.auth, NULL, 0, &r);
	CHECK(r.status == 412 && header_has(&r, "Tus-Version", "1.0.0"),
	      "without Tus-Resumable: 412 (%d)", r.status);
	http_reply_free(&r);
	snprintf(extra, sizeof(extra), "Upload-Length: %d\r\n", MAX_SIZE + 1);
	tus(&alice, "POST", "/api/tus/", extra, NULL, 0, &r);
	CHECK(r.status == 413, "Upload-Length over the limit: 413 (%d)",
	      r.status);
	http_reply_free(&r);

	/* create: "cut.bin" in base64 */
	snprintf(extra, sizeof(extra), "Upload-Length: %zu\r\nUpload-Metadata: filename Y3V0LmJpbg==,filetype YXBwbGljYXRpb24vb2N0ZXQtc3RyZWFt\r\n", len);
	tus(&alice, "POST", "/api/tus/", extra, NULL, 0, &r);
	CHECK(r.status == 201 &&
	      http_reply_header(&r, "Location", loc, sizeof(loc)) && strncmp(loc, "/api/tus/", 9) == 0,
	      "POST: 201 with a Location (%d %s)", r.status, loc);
	CHECK(header_has(&r, "Tus-Resumable", "1.0.0"), "answers say Tus-Resumable");
	http_reply_free(&r);
	snprintf(path, sizeof(path), "%s", loc);
	CHECK(tus_offset(&alice, path, &status) == 0 && status == 200, "HEAD: offset 0 (%d)", status);
	tus_offset(&bob, path, &status);
	CHECK(status == 404, "someone else's upload: 404 (%d)", status);
	tus(&alice, "PATCH", path, "Upload-Offset: 0\r\nContent-Type: text/plain\r\n", data, 10, &r);
	CHECK(r.status == 415,
	      "PATCH with the wrong Content-Type: 415 (%d)", r.status);
	http_reply_free(&r);
	tus(&alice, "PATCH", path, "Upload-Offset: 5\r\nContent-Type: application/offset+octet-stream\r\n",
	          data, 10, &r);
	CHECK(r.status == 409, "PATCH at the wrong offset: 409 (%d)", r.status);
	http_reply_free(&r);

	/* The first half, then the connection drops in the middle of the body. */
	{
		struct net *n = net_connect(port, NULL, 5000);
		char head[1024];

		snprintf(head, sizeof(head), "PATCH %s HTTP/1.1\r\nHost: t\r\n%sTus-Resumable: 1.0.0\r\n"
		         "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
		         "Content-Length: %zu\r\n\r\n", path, alice.auth, len);
		CHECK(n != NULL && net_send(n, head, strlen(head)) == 0 && net_send(n, data, half) == 0,
		      "half of a PATCH sent");
		sleep_ms(200);
		net_close(n);
	}
	for (int i = 0; i < 100 && (off = tus_offset(&alice, path, &status)) != (int64_t)half; i++)
		sleep_ms(50);
	CHECK(off == (int64_t)half, "HEAD after the cut: the bytes that came are kept (%lld of %zu)",
	      (long long)off, half);

	/* pierd restarts: the upload goes on where it stopped. */
	CHECK(pierd_stop(pd), "pierd stops cleanly with an upload half done");
	REQUIRE(pierd_restart(pd) == 0, , "pierd restarts");
	port = pierd_http_port(pd);
	off = tus_offset(&alice, path, &status);
	CHECK(status == 200 && off == (int64_t)half, "after the restart, HEAD says %lld (%d)",
	      (long long)off, status);
	snprintf(extra, sizeof(extra), "Upload-Offset: %lld\r\nContent-Type: application/offset+octet-stream\r\n",
	         (long long)off);
	for (int i = 0; i < 50; i++) {
		status = tus(&alice, "PATCH", path, extra, data + off, len - (size_t)off, &r);
		if (status != 423)
			break;
		http_reply_free(&r);
		sleep_ms(100);
	}
	id = header_num(&r, "Pier-Media-Id");
	CHECK(status == 204 && header_num(&r, "Upload-Offset") == (int64_t)len && id > 0,
	      "the rest: 204, offset %zu, the media id (%d, %lld)", len, status, (long long)id);
	http_reply_free(&r);
	off = tus_offset(&alice, path, &status);
	CHECK(status == 200 && off == (int64_t)len, "HEAD of a finished upload: complete (%lld)", (long long)off);
	get_media(&alice, id, NULL, NULL, &r);
	CHECK(r.status == 200 && r.body_len == len &&
	      memcmp(r.body, data, len) == 0, "the resumed upload's bytes are identical (%d, %zu)",
	      r.status, r.body_len);
	CHECK(header_has(&r, "Content-Disposition", "cut.bin"), "named from Upload-Metadata");
	http_reply_free(&r);

	/* termination */
	snprintf(extra, sizeof(extra), "Upload-Length: 1000\r\n");
	tus(&bob, "POST", "/api/tus/", extra, NULL, 0, &r);
	CHECK(r.status == 201 &&
	      http_reply_header(&r, "Location", loc, sizeof(loc)), "another upload (%d)", r.status);
	http_reply_free(&r);
	tus(&bob, "PATCH", loc, "Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n",
	          data, 400, &r);
	CHECK(r.status == 204 && header_num(&r, "Upload-Offset") == 400, "a PATCH of 400 (%d)",
	      r.status);
	http_reply_free(&r);
	CHECK(count_files("uploads") == 1, "its part file is there");
	tus(&alice, "DELETE", loc, NULL, NULL, 0, &r);
	CHECK(r.status == 404, "DELETE by another user: 404 (%d)",
	      r.status);
	http_reply_free(&r);
	tus(&bob, "DELETE", loc, NULL, NULL, 0, &r);
	CHECK(r.status == 204, "DELETE: 204 (%d)", r.status);
	http_reply_free(&r);
	tus_offset(&bob, loc, &status);
	CHECK(status == 404, "HEAD after DELETE: 404 (%d)", status);
	sleep_ms(200);
	CHECK(count_files("uploads") == 0, "nothing left in uploads/ (%d)", count_files("uploads"));
	free(data);
}

int main(void)
{
	static const char *const args[] = {
		"--no-rate-limits", "--media-max-size", "3M", "--media-quota", "8M", NULL,
	};

	harness_watchdog(120);
	pd = pierd_start(args);
	REQUIRE(pd != NULL, harness_done(), "pierd starts");
	port = pierd_http_port(pd);
	REQUIRE(new_user(&alice, "alice") && new_user(&bob, "bob") && new_user(&carol, "carol") &&
	        new_user(&dave, "dave"), harness_done(), "four users");
	test_upload();
	test_send();
	test_download();
	test_ranges();
	test_cookie();
	test_history();
	test_limits();
	pier_conn_close(alice.c);
	pier_conn_close(bob.c);
	pier_conn_close(carol.c);
	pier_conn_close(dave.c);
	test_tus();
	CHECK(pierd_stop(pd), "pierd stops cleanly");
	free(png);
	free(jpeg);
	free(doc);
	return harness_done();
}
