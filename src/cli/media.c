/* media.c - files in `pier` (see media.h): tus uploads and downloads with libcurl, progress
 * bars, the numbers of /open, the desktop's opener. */
#include "media.h"
#include "media_e2ee.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "clock.h"
#include "render.h"
#include "xalloc.h"

#define CONNECT_TIMEOUT_S  10
#define STALL_SECONDS      30         /* a transfer slower than 1 byte/s this long fails */
#define UPLOAD_TRIES       8          /* PATCH attempts before giving up (resumes between) */
#define BAR_WIDTH          30

struct cli_media_send {
	char ref[PIER_REF_MAX];
	char *caption;
	struct cli_media_send *next;
};

/* What a transfer learns from the response headers. */
struct heads {
	long status;
	char location[1024];
	int64_t offset, media_id;
};

/* The progress bar of one transfer. */
struct bar {
	const char *name;
	int64_t base, total;             /* bytes done before this request; the whole */
	int64_t last_ms;
	bool shown, tty;
};

/* ---- small helpers ---- */

static void set_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

static void human_size(char *out, size_t n, int64_t bytes)
{
	if (bytes < 1024)
		snprintf(out, n, "%lld B", (long long)bytes);
	else if (bytes < 1024 * 1024)
		snprintf(out, n, "%.1f KB", (double)bytes / 1024);
	else if (bytes < 1024LL * 1024 * 1024)
		snprintf(out, n, "%.1f MB", (double)bytes / (1024 * 1024));
	else
		snprintf(out, n, "%.2f GB", (double)bytes / (1024.0 * 1024 * 1024));
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

void cli_media_init(struct cli_media *m, const struct cli_options *o,
                    const struct cli_media_host *host)
{
	memset(m, 0, sizeof(*m));
	m->o = o;
	if (host != NULL)
		m->host = *host;
	if (o->http_url != NULL) {
		snprintf(m->base, sizeof(m->base), "%s", o->http_url);
	} else {
		bool v6 = strchr(o->host, ':') != NULL;

		snprintf(m->base, sizeof(m->base), "%s://%s%s%s:%s", o->tls ? "https" : "http",
		         v6 ? "[" : "", o->host, v6 ? "]" : "", o->tls ? "8443" : "8080");
	}
	while (m->base[0] != '\0' && m->base[strlen(m->base) - 1] == '/')
		m->base[strlen(m->base) - 1] = '\0';
}

void cli_media_release(struct cli_media *m)
{
	for (int i = 0; i < CLI_MEDIA_SEEN_MAX; i++)
		json_decref(m->seen[i]);
	while (m->sends != NULL) {
		struct cli_media_send *s = m->sends;

		m->sends = s->next;
		free(s->caption);
		free(s);
	}
	memset(m->seen, 0, sizeof(m->seen));
}

/* ---- libcurl ---- */

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
	struct heads *h = ud;
	size_t len = size * n;
	char line[1200];
	char *colon, *v;

	if (len >= sizeof(line))
		return len;
	memcpy(line, buf, len);
	line[len] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		h->location[0] = '\0';   /* a new response (after 100 Continue) */
		return len;
	}
	colon = strchr(line, ':');
	if (colon == NULL)
		return len;
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	v[strcspn(v, "\r\n")] = '\0';
	if (strcasecmp(line, "Location") == 0)
		snprintf(h->location, sizeof(h->location), "%s", v);
	else if (strcasecmp(line, "Upload-Offset") == 0)
		h->offset = strtoll(v, NULL, 10);
	else if (strcasecmp(line, "Pier-Media-Id") == 0)
		h->media_id = strtoll(v, NULL, 10);
	return len;
}

static void bar_draw(struct bar *b, int64_t done, bool final)
{
	char d[32], t[32], line[160];
	int64_t now = pier_mono_ms();
	int fill, pct;

	if (!b->tty || b->total <= 0 || (!final && now - b->last_ms < 100))
		return;
	b->last_ms = now;
	if (done > b->total)
		done = b->total;
	pct = (int)(done * 100 / b->total);
	fill = (int)(done * BAR_WIDTH / b->total);
	human_size(d, sizeof(d), done);
	human_size(t, sizeof(t), b->total);
	snprintf(line, sizeof(line), "\r%-24.24s [%.*s%*s] %3d%% %s / %s", b->name, fill,
	         "##############################", BAR_WIDTH - fill, "", pct, d, t);
	fputs(line, stderr);
	if (final)
		fputs("\r\033[K", stderr);
	fflush(stderr);
	b->shown = true;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct bar *b = ud;

	(void)dltotal;
	(void)ultotal;
	bar_draw(b, b->base + (int64_t)(ulnow > 0 ? ulnow : dlnow), false);
	return 0;
}

/* A handle with the common settings: TLS as the chat's, timeouts, the token. */
static CURL *easy(struct cli_media *m, const char *url, const char *token,
                  struct curl_slist **hdrs, struct heads *h)
{
	CURL *c = curl_easy_init();
	char auth[256];

	if (c == NULL)
		return NULL;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token != NULL ? token : "");
	*hdrs = curl_slist_append(*hdrs, auth);
	*hdrs = curl_slist_append(*hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)STALL_SECONDS);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	if (m->o->tls_opt.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, m->o->tls_opt.ca_file);
	if (m->o->tls_opt.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	memset(h, 0, sizeof(*h));
	h->offset = -1;
	return c;
}

/* Runs c; the status, or -1 on a transport error (err set). Frees c and hdrs. */
static long perform(CURL *c, struct curl_slist *hdrs, struct heads *h, char *err, size_t errlen)
{
	CURLcode rc = curl_easy_perform(c);

	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	else
		set_err(err, errlen, "%s", curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	return rc == CURLE_OK ? h->status : -1;
}

/* ---- uploads (tus) ---- */

/* Where the tus URL of an upload of this file (by this user, to this server) is kept:
 * ~/.cache/pier/uploads/HASH. Creates the directories. False if there is no home. */
static bool state_path(struct cli_media *m, const char *path, const struct stat *st, char *out,
                       size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX], real[PATH_MAX], key[PATH_MAX + 1024], hex[65];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (cache != NULL && cache[0] == '/')
		snprintf(dir, sizeof(dir), "%s/pier", cache);
	else if (home != NULL && home[0] == '/')
		snprintf(dir, sizeof(dir), "%s/.cache/pier", home);
	else
		return false;
	if (realpath(path, real) == NULL)
		snprintf(real, sizeof(real), "%s", path);
	snprintf(key, sizeof(key), "%s\n%s\n%s\n%lld\n%lld", m->base, m->o->user ? m->o->user : "",
	         real, (long long)st->st_size, (long long)st->st_mtime);
	if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1)
		return false;
	for (unsigned i = 0; i < 32 && i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	/* mkdir -p, one level at a time */
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
	}
	mkdir(dir, 0700);
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/uploads");
	mkdir(dir, 0700);
	snprintf(out, n, "%s/%s", dir, hex);
	return true;
}

static void state_read(const char *state, char *url, size_t n)
{
	FILE *f = fopen(state, "r");

	url[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(url, (int)n, f) == NULL)
		url[0] = '\0';
	url[strcspn(url, "\r\n")] = '\0';
	fclose(f);
}

static void state_write(const char *state, const char *url)
{
	FILE *f = fopen(state, "w");

	if (f == NULL)
		return;
	fprintf(f, "%s\n", url);
	fclose(f);
}

/* HEAD of an upload: 0 (h->offset, h->media_id set), 1 gone (start again), -1 failed. */
static int tus_head(struct cli_media *m, const char *token, const char *url, struct heads *h,
                    char *err, size_t errlen)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Tus-Resumable: 1.0.0");
	CURL *c = easy(m, url, token, &hdrs, h);
	long st;

	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	st = perform(c, hdrs, h, err, errlen);
	if (st == 200 && h->offset >= 0)
		return 0;
	if (st >= 400 && st < 500 && st != 423)
		return 1;
	if (st > 0)
		set_err(err, errlen, "the server answered %ld", st);
	return -1;
}

static int tus_create(struct cli_media *m, const char *token, const char *path, int64_t size,
                      char *url, size_t n, char *err, size_t errlen)
{
	char len_h[64], meta[1024], b64[700], endpoint[600];
	const char *name = base_name(path);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Tus-Resumable: 1.0.0");
	struct heads h;
	CURL *c;
	long st;
	int blen;

	blen = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)name,
	                       (int)(strlen(name) > 500 ? 500 : strlen(name)));
	b64[blen > 0 ? blen : 0] = '\0';
	snprintf(len_h, sizeof(len_h), "Upload-Length: %lld", (long long)size);
	/* ciphertext of an encrypted chat: the tus metadata "e2ee" says so (docs/PROTOCOL.md) */
	snprintf(meta, sizeof(meta), "Upload-Metadata: filename %s%s", b64,
	         m->e2ee_upload ? ",e2ee MQ==" : "");
	hdrs = curl_slist_append(hdrs, len_h);
	hdrs = curl_slist_append(hdrs, meta);
	snprintf(endpoint, sizeof(endpoint), "%s/api/tus/", m->base);
	c = easy(m, endpoint, token, &hdrs, &h);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	st = perform(c, hdrs, &h, err, errlen);
	if (st == 413) {
		set_err(err, errlen, "the file is over the server's size limit or your quota");
		return -1;
	}
	if (st != 201 || h.location[0] == '\0') {
		if (st > 0)
			set_err(err, errlen, "the server refused the upload (%ld)", st);
		return -1;
	}
	if (h.location[0] == '/' ? snprintf(url, n, "%s%s", m->base, h.location) >= (int)n
	                         : snprintf(url, n, "%s", h.location) >= (int)n) {
		set_err(err, errlen, "the server's upload address is too long");
		return -1;
	}
	return 0;
}

static size_t read_file(char *buf, size_t size, size_t n, void *ud)
{
	return fread(buf, size, n, ud);
}

/* One PATCH from offset to the end. The status, or -1 (err set). */
static long tus_patch(struct cli_media *m, const char *token, const char *url, FILE *f,
                      int64_t offset, int64_t size, struct bar *b, struct heads *h, char *err,
                      size_t errlen)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Tus-Resumable: 1.0.0");
	char off_h[64];
	CURL *c;

	if (fseeko(f, (off_t)offset, SEEK_SET) != 0) {
		set_err(err, errlen, "cannot read the file: %s", strerror(errno));
		return -1;
	}
	snprintf(off_h, sizeof(off_h), "Upload-Offset: %lld", (long long)offset);
	hdrs = curl_slist_append(hdrs, off_h);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/offset+octet-stream");
	c = easy(m, url, token, &hdrs, h);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_file);
	curl_easy_setopt(c, CURLOPT_READDATA, f);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(size - offset));
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, b);
	/* Tests slow the upload down to cut it in the middle. */
	if (getenv("PIER_UPLOAD_RATE") != NULL)
		curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE,
		                 (curl_off_t)strtoll(getenv("PIER_UPLOAD_RATE"), NULL, 10));
	b->base = offset;
	return perform(c, hdrs, h, err, errlen);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int64_t cli_media_upload(struct cli_media *m, const char *token, const char *path, char *err,
                         size_t errlen)
{
	char state[PATH_MAX], url[1200] = "";
	struct stat st;
	struct heads h;
	struct bar b = { .name = base_name(path), .tty = isatty(STDERR_FILENO) };
	bool have_state;
	int64_t offset = 0, id = -1;
	FILE *f = NULL;
	int rc;

	if (token == NULL) {
		set_err(err, errlen, "not logged in");
		return -1;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: %s", path, errno ? strerror(errno) : "not a regular file");
		return -1;
	}
	if (st.st_size == 0) {
		set_err(err, errlen, "%s is empty", path);
		return -1;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	b.total = (int64_t)st.st_size;
	have_state = state_path(m, path, &st, state, sizeof(state));
	if (have_state)
		state_read(state, url, sizeof(url));
	/* A known upload: where it stopped (or its media id, when it was finished). */
	if (url[0] != '\0') {
		rc = tus_head(m, token, url, &h, err, errlen);
		if (rc == 0 && h.media_id > 0) {
			id = h.media_id;
			goto done;
		}
		if (rc == 0)
			offset = h.offset;
		else
			url[0] = '\0';         /* gone, or unreachable: start again */
	}
	if (url[0] == '\0') {
		if (tus_create(m, token, path, (int64_t)st.st_size, url, sizeof(url), err, errlen) != 0)
			goto out;
		if (have_state)
			state_write(state, url);
		offset = 0;
	}
	for (int attempt = 0; attempt < UPLOAD_TRIES; attempt++) {
		long status = tus_patch(m, token, url, f, offset, (int64_t)st.st_size, &b, &h, err, errlen);

		if (status == 204 && h.media_id > 0) {
			id = h.media_id;
			break;
		}
		if (status == 413 || (status >= 400 && status < 500 && status != 409 && status != 423)) {
			set_err(err, errlen, "the server refused the upload (%ld)", status);
			goto out;
		}
		/* Cut, or not finished yet: ask where it stands and go on from there. */
		if (status != 204)
			sleep_ms(250 << (attempt < 4 ? attempt : 4));
		rc = tus_head(m, token, url, &h, err, errlen);
		if (rc == 0 && h.media_id > 0) {
			id = h.media_id;
			break;
		}
		if (rc == 1) {
			set_err(err, errlen, "the upload is gone from the server");
			goto out;
		}
		if (rc == 0)
			offset = h.offset;
	}
	if (id < 0 && err[0] == '\0')
		set_err(err, errlen, "the upload did not finish");
done:
	if (id > 0) {
		bar_draw(&b, b.total, true);
		if (have_state)
			unlink(state);
	}
out:
	if (b.shown && id < 0)
		fputs("\n", stderr);
	fclose(f);
	return id;
}

/* ---- downloads ---- */

static size_t write_file(char *buf, size_t size, size_t n, void *ud)
{
	return fwrite(buf, size, n, ud);
}

/* A directory for downloads: ~/Downloads if it exists, else $TMPDIR or /tmp. */
static void download_dir(char *out, size_t n)
{
	const char *home = getenv("HOME"), *tmp = getenv("TMPDIR");
	struct stat st;

	if (home != NULL && home[0] == '/') {
		snprintf(out, n, "%s/Downloads", home);
		if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
			return;
	}
	snprintf(out, n, "%s", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
}

/* A safe local name for a file called name: no directories, no leading dot, no controls. */
static void local_name(const char *name, char *out, size_t n)
{
	size_t o = 0;

	name = base_name(name);
	while (*name == '.')
		name++;
	for (; *name != '\0' && o + 1 < n; name++)
		out[o++] = (unsigned char)*name < 0x20 || *name == '/' || *name == 0x7f ? '_' : *name;
	out[o] = '\0';
	if (o == 0)
		snprintf(out, n, "download");
}

int cli_media_download(struct cli_media *m, const char *token, const json_t *media, char *path,
                       size_t pathlen, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(media, "name"));
	json_int_t id = json_integer_value(json_object_get(media, "id"));
	char dir[PATH_MAX], fname[256], part[PATH_MAX + 16], url[700];
	struct bar b = { .tty = isatty(STDERR_FILENO) };
	struct curl_slist *hdrs = NULL;
	struct stat st;
	struct heads h;
	int64_t have = 0;
	long status;
	FILE *f;
	CURL *c;

	if (m->into != NULL)
		snprintf(dir, sizeof(dir), "%s", m->into);
	else
		download_dir(dir, sizeof(dir));
	local_name(name != NULL ? name : "download", fname, sizeof(fname));
	/* Never overwrite: "name (1).ext", "name (2).ext", ... */
	snprintf(path, pathlen, "%s/%s", dir, fname);
	for (int i = 1; stat(path, &st) == 0 && i < 1000; i++) {
		const char *dot = strrchr(fname, '.');
		int stem = dot != NULL && dot != fname ? (int)(dot - fname) : (int)strlen(fname);

		snprintf(path, pathlen, "%s/%.*s (%d)%s", dir, stem, fname, i, dot && dot != fname ? dot : "");
	}
	snprintf(part, sizeof(part), "%s.part", path);
	f = fopen(part, "ab");
	if (f == NULL) {
		set_err(err, errlen, "%s: %s", part, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0)
		have = (int64_t)st.st_size;
	b.name = fname;
	b.total = json_integer_value(json_object_get(media, "size"));
	b.base = have;
	snprintf(url, sizeof(url), "%s/media/%" JSON_INTEGER_FORMAT, m->base, id);
	c = easy(m, url, token, &hdrs, &h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_file);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &b);
	if (have > 0)
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)have);
	status = perform(c, hdrs, &h, err, errlen);
	if (fclose(f) != 0 && status > 0) {
		set_err(err, errlen, "%s: %s", part, strerror(errno));
		status = -1;
	}
	if (b.shown)
		bar_draw(&b, b.total, true);
	if (status != 200 && status != 206) {
		if (status == -1 && strstr(err, "403") != NULL)
			set_err(err, errlen, "you may not see this file");
		else if (status == -1 && strstr(err, "404") != NULL)
			set_err(err, errlen, "the file is not on the server");
		if (status != -1 || strstr(err, "requested URL returned") != NULL)
			unlink(part);
		return -1;
	}
	if (rename(part, path) != 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

bool cli_media_open_file(const char *path)
{
	const char *opener = NULL;
	char *p, *dirs, *save = NULL;
	char cand[PATH_MAX];
	pid_t pid;
	int status;

#ifdef __APPLE__
	opener = "open";
#else
	if ((getenv("DISPLAY") == NULL || getenv("DISPLAY")[0] == '\0') &&
	    (getenv("WAYLAND_DISPLAY") == NULL || getenv("WAYLAND_DISPLAY")[0] == '\0'))
		return false;           /* no desktop to open it on */
	dirs = xstrdup(getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
	for (p = strtok_r(dirs, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save)) {
		snprintf(cand, sizeof(cand), "%s/xdg-open", p);
		if (access(cand, X_OK) == 0) {
			opener = "xdg-open";
			break;
		}
	}
	free(dirs);
	if (opener == NULL)
		return false;
#endif
	/* Twice forked, so that no zombie waits for pier and the opener outlives nothing. */
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fork() != 0)
			_exit(0);
		setsid();
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execlp(opener, opener, path, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return true;
}

/* ---- numbering and showing ---- */

int cli_media_remember(struct cli_media *m, const json_t *media)
{
	json_int_t id = json_integer_value(json_object_get(media, "id"));
	int first;

	if (m == NULL || id <= 0)
		return 0;
	first = m->nseen > CLI_MEDIA_SEEN_MAX ? m->nseen - CLI_MEDIA_SEEN_MAX : 0;
	for (int n = m->nseen; n > first; n--)
		if (json_integer_value(json_object_get(m->seen[(n - 1) % CLI_MEDIA_SEEN_MAX], "id")) == id)
			return n;
	json_decref(m->seen[m->nseen % CLI_MEDIA_SEEN_MAX]);
	m->seen[m->nseen % CLI_MEDIA_SEEN_MAX] = json_deep_copy(media);
	return ++m->nseen;
}

void cli_media_describe(FILE *f, const json_t *msg, int number)
{
	const json_t *media = json_object_get(msg, "media");
	const char *kind = json_string_value(json_object_get(msg, "kind"));
	const char *name = json_string_value(json_object_get(media, "name"));
	const char *type = json_string_value(json_object_get(media, "type"));
	json_int_t w = json_integer_value(json_object_get(media, "width"));
	json_int_t h = json_integer_value(json_object_get(media, "height"));
	char size[32];

	if (!json_is_object(media))
		return;
	human_size(size, sizeof(size), json_integer_value(json_object_get(media, "size")));
	fprintf(f, " [%s: ", kind != NULL ? kind : "file");
	render_safe(f, name != NULL ? name : "?", false);
	fprintf(f, ", %s, ", size);
	render_safe(f, type != NULL ? type : "?", false);
	if (w > 0 && h > 0)
		fprintf(f, ", %" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT, w, h);
	fputs("]", f);
	if (number > 0)
		fprintf(f, " /open %d", number);
}

/* ---- commands ---- */

/* PATH (quoted with "..." or '...' when it has spaces) and the caption after it. */
static bool parse_send(const char *args, char *path, size_t n, const char **caption)
{
	size_t o = 0;
	char quote = 0;

	while (*args == ' ' || *args == '\t')
		args++;
	if (*args == '"' || *args == '\'')
		quote = *args++;
	while (*args != '\0' && (quote ? *args != quote : (*args != ' ' && *args != '\t'))) {
		if (o + 1 >= n)
			return false;
		path[o++] = *args++;
	}
	if (quote && *args == quote)
		args++;
	path[o] = '\0';
	while (*args == ' ' || *args == '\t')
		args++;
	*caption = args;
	if (path[0] == '~' && path[1] == '/' && getenv("HOME") != NULL) {
		char tmp[PATH_MAX];

		snprintf(tmp, sizeof(tmp), "%s%s", getenv("HOME"), path + 1);
		snprintf(path, n, "%s", tmp);
	}
	return o > 0;
}

static json_t *send_req(const char *to, int64_t id, const char *caption)
{
	return json_pack("{s:s, s:s, s:I, s:s}", "op", "send", "to", to, "media", (json_int_t)id,
	                 "text", caption != NULL ? caption : "");
}

void cli_media_command_send(struct cli_media *m, const char *target, const char *args)
{
	const struct cli_media_host *h = &m->host;
	char path[PATH_MAX], err[512] = "", ref[PIER_REF_MAX];
	const char *caption = "";
	struct cli_media_send *s;
	int64_t id;

	if (!parse_send(args, path, sizeof(path), &caption)) {
		h->error(h->ctx, render_tr(&(struct render){ .lang = m->o->lang },
		                           "Usage: /send PATH [CAPTION]", "用法：/send 文件路径 [说明]"));
		return;
	}
	if (h->encrypts != NULL && h->encrypts(h->ctx, target)) {
		json_t *file = NULL;

		id = media_e2ee_upload(m, h->token(h->ctx), path, &file, err, sizeof(err));
		if (id > 0)
			h->send_encrypted(h->ctx, target, caption, file, id);
		json_decref(file);
	} else {
		id = cli_media_upload(m, h->token(h->ctx), path, err, sizeof(err));
	}
	if (id <= 0) {
		char msg[700];

		snprintf(msg, sizeof(msg), "%s: %s", base_name(path), err);
		h->error(h->ctx, msg);
		return;
	}
	if (h->encrypts != NULL && h->encrypts(h->ctx, target))
		return;                    /* posted by send_encrypted */
	if (h->request(h->ctx, send_req(target, id, caption), ref) != 0) {
		h->error(h->ctx, render_tr(&(struct render){ .lang = m->o->lang },
		                           "Offline: the file is uploaded; /send it again to post it",
		                           "离线：文件已上传；重新 /send 以发送"));
		return;
	}
	s = xcalloc(1, sizeof(*s));
	snprintf(s->ref, sizeof(s->ref), "%s", ref);
	s->caption = xstrdup(caption);
	s->next = m->sends;
	m->sends = s;
}

bool cli_media_event(struct cli_media *m, const json_t *ev)
{
	const char *ref = json_string_value(json_object_get(ev, "ref"));
	struct cli_media_send **pp = &m->sends, *s;
	json_t *msg;

	if (ref == NULL)
		return false;
	while (*pp != NULL && strcmp((*pp)->ref, ref) != 0)
		pp = &(*pp)->next;
	s = *pp;
	if (s == NULL)
		return false;
	*pp = s->next;
	if (strcmp(pier_event_op(ev), "sent") != 0) {
		free(s->caption);
		free(s);
		const char *text = pier_error_text(json_string_value(json_object_get(ev, "error")), m->o->lang);

		if (text == NULL)
			text = json_string_value(json_object_get(ev, "message"));
		m->host.error(m->host.ctx, text != NULL ? text : "the file was not sent");
		return true;
	}
	/* Shown as every message: from us, to the target, with the media. */
	msg = json_deep_copy(ev);
	json_object_set_new(msg, "op", json_string("msg"));
	json_object_set_new(msg, "from", json_string(m->host.self(m->host.ctx)));
	json_object_del(msg, "ref");
	json_object_del(msg, "cid");
	json_object_set_new(msg, "text", json_string(s->caption));
	m->host.show(m->host.ctx, msg);
	json_decref(msg);
	free(s->caption);
	free(s);
	return true;
}

void cli_media_command_open(struct cli_media *m, const char *args)
{
	const struct cli_media_host *h = &m->host;
	struct render r = { .lang = m->o->lang };
	char path[PATH_MAX + 32], err[512] = "", msg[PATH_MAX + 64];
	char *end;
	long n = strtol(args, &end, 10);
	int first = m->nseen > CLI_MEDIA_SEEN_MAX ? m->nseen - CLI_MEDIA_SEEN_MAX : 0;

	if (end == args || *end != '\0' || n <= first || n > m->nseen) {
		h->error(h->ctx, render_tr(&r, "Usage: /open N, N the number shown after a file",
		                           "用法：/open N，N 是文件后面显示的编号"));
		return;
	}
	if (cli_media_download(m, h->token(h->ctx), m->seen[(n - 1) % CLI_MEDIA_SEEN_MAX], path,
	                       sizeof(path), err, sizeof(err)) != 0 ||
	    media_e2ee_decrypt(m->seen[(n - 1) % CLI_MEDIA_SEEN_MAX], path, err, sizeof(err)) != 0) {
		h->error(h->ctx, err);
		return;
	}
	snprintf(msg, sizeof(msg), "%s %s", render_tr(&r, "Saved", "已保存"), path);
	h->info(h->ctx, msg);
	if (cli_media_open_file(path))
		h->info(h->ctx, render_tr(&r, "Opened with the desktop's opener", "已用桌面程序打开"));
}

int cli_media_oneshot_send(struct pier_conn *conn, const struct cli_options *o, const char *token,
                           const char *to, const char *caption)
{
	struct cli_media m;
	char err[512] = "";
	json_t *reply;
	int64_t id;
	int rc = CLI_EXIT_FAIL;

	cli_media_init(&m, o, NULL);
	id = cli_media_upload(&m, token, o->file, err, sizeof(err));
	if (id <= 0) {
		fprintf(stderr, "pier: %s: %s\n", o->file, err);
		goto out;
	}
	reply = pier_conn_call(conn, send_req(to, id, caption), CLI_REPLY_TIMEOUT_MS);
	if (reply != NULL && strcmp(pier_event_op(reply), "sent") == 0) {
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(reply, "id")));
		rc = CLI_EXIT_OK;
	} else {
		const char *text = pier_error_text(json_string_value(json_object_get(reply, "error")), o->lang);

		fprintf(stderr, "pier: %s\n", text != NULL ? text : reply != NULL ? "the file was not sent"
		                                                              : "no reply from the server");
	}
	json_decref(reply);
out:
	cli_media_release(&m);
	return rc;
}
