/* static_files.c - serving the browser client's files from the binary or from --web-root
 * (see static_files.h). Files from disk are streamed in pieces as the socket takes them; they
 * are read on the loop thread, which is fine for development, not for large files. */
#include "static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "server.h"
#include "xalloc.h"

#define PATH_MAX_WEB 1024
#define DISK_CHUNK   (64 * 1024)

struct disk_file {
	int fd;
	int64_t left;
};

static const struct { const char *ext, *type; } types[] = {
	{"html", "text/html; charset=utf-8"},
	{"htm", "text/html; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"},
	{"mjs", "text/javascript; charset=utf-8"},
	{"json", "application/json"},
	{"map", "application/json"},
	{"webmanifest", "application/manifest+json"},
	{"txt", "text/plain; charset=utf-8"},
	{"svg", "image/svg+xml"},
	{"png", "image/png"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"gif", "image/gif"},
	{"webp", "image/webp"},
	{"avif", "image/avif"},
	{"ico", "image/x-icon"},
	{"woff2", "font/woff2"},
	{"woff", "font/woff"},
	{"wasm", "application/wasm"},
};

const char *static_content_type(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (dot != NULL && (slash == NULL || dot > slash)) {
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	}
	return "application/octet-stream";
}

int static_clean_path(const char *raw, char *out, size_t n)
{
	size_t len = 0, seg = 0;   /* seg: where the current segment starts in out */

	if (raw[0] != '/')
		return -1;
	for (const char *p = raw; *p != '\0'; p++) {
		char ch = *p;

		if (ch == '%') {
			int b = http_pct_byte(p, strnlen(p, 3));

			if (b < 0)
				return -1;
			ch = (char)b;
			p += 2;
		}
		if (ch == '\\' || len + 1 >= n)
			return -1;
		if (ch == '/') {
			/* the segment that just ended may not be "." or ".." */
			if ((len - seg == 1 && out[seg] == '.') ||
			    (len - seg == 2 && out[seg] == '.' && out[seg + 1] == '.'))
				return -1;
			if (len > 0 && out[len - 1] == '/')
				continue;       /* "//" is "/" */
			seg = len + 1;
		}
		out[len++] = ch;
	}
	if ((len - seg == 1 && out[seg] == '.') ||
	    (len - seg == 2 && out[seg] == '.' && out[seg + 1] == '.'))
		return -1;
	out[len] = '\0';
	if (out[len - 1] == '/') {
		if (len + sizeof("index.html") > n)
			return -1;
		memcpy(out + len, "index.html", sizeof("index.html"));
	}
	return 0;
}

bool static_etag_matches(const char *inm, const char *etag)
{
	size_t elen = strlen(etag);
	const char *p = inm;

	if (inm == NULL)
		return false;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;             /* weak comparison is right for If-None-Match */
		if (strncmp(p, etag, elen) == 0 && (p[elen] == '\0' || p[elen] == ',' ||
		                                    p[elen] == ' ' || p[elen] == '\t'))
			return true;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return false;
}

static void common_headers(struct http_exchange *x, const char *path, const char *etag)
{
	http_response_header(x, "Content-Type", "%s", static_content_type(path));
	http_response_header(x, "ETag", "%s", etag);
	http_response_header(x, "Cache-Control", "no-cache");
	http_response_header(x, "Content-Security-Policy", "%s", STATIC_CSP);
	http_response_header(x, "Referrer-Policy", "no-referrer");
	http_response_header(x, "X-Frame-Options", "DENY");
}

static void not_modified(struct http_exchange *x, const char *etag)
{
	http_response_start(x, 304, -1);
	http_response_header(x, "ETag", "%s", etag);
	http_response_header(x, "Cache-Control", "no-cache");
	http_response_end(x);
}

static void serve_embedded(struct http_exchange *x, const char *path)
{
	for (size_t i = 0; i < web_nfiles; i++) {
		const struct web_file *f = &web_files[i];

		if (strcmp(f->path, path) != 0)
			continue;
		if (static_etag_matches(http_header(x, "If-None-Match"), f->etag)) {
			not_modified(x, f->etag);
			return;
		}
		http_response_start(x, 200, (int64_t)f->len);
		common_headers(x, path, f->etag);
		http_response_body_static(x, f->data, f->len);
		http_response_end(x);
		return;
	}
	http_error(x, 404, "no such file");
}

/* Sends the next pieces of a file from disk until the output backs up or the file ends. */
static void stream_disk(struct http_exchange *x)
{
	struct disk_file *df = http_data(x);
	char buf[DISK_CHUNK];

	while (df->left > 0 && !http_response_backlogged(x)) {
		ssize_t n = read(df->fd, buf, df->left < DISK_CHUNK ? (size_t)df->left : sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The file shrank or failed under us: the length sent cannot be kept. */
			log_warn("static: read failed: %s", n < 0 ? strerror(errno) : "file shrank");
			http_error(x, 500, "read failed");
			return;
		}
		http_response_body(x, buf, (size_t)n);
		df->left -= n;
	}
	if (df->left == 0)
		http_response_end(x);
}

static void serve_disk(struct http_exchange *x, const char *root, const char *path)
{
	char full[PATH_MAX], real[PATH_MAX], realroot[PATH_MAX], etag[64];
	struct disk_file *df;
	struct stat st;
	size_t rlen;
	int fd;

	if (snprintf(full, sizeof(full), "%s%s", root, path) >= (int)sizeof(full) ||
	    realpath(root, realroot) == NULL || realpath(full, real) == NULL) {
		http_error(x, 404, "no such file");
		return;
	}
	rlen = strlen(realroot);
	if (strncmp(real, realroot, rlen) != 0 || real[rlen] != '/') {
		http_error(x, 404, "no such file");   /* a link out of the root */
		return;
	}
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		http_error(x, 404, "no such file");
		return;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
	         (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
	         (unsigned long long)st.st_mtim.tv_nsec);
	if (static_etag_matches(http_header(x, "If-None-Match"), etag)) {
		close(fd);
		not_modified(x, etag);
		return;
	}
	http_response_start(x, 200, (int64_t)st.st_size);
	common_headers(x, path, etag);
	if (http_is_head(x) || st.st_size == 0) {
		close(fd);
		http_response_end(x);
		return;
	}
	df = xmalloc(sizeof(*df));
	df->fd = fd;
	df->left = (int64_t)st.st_size;
	http_set_data(x, df);
	stream_disk(x);
}

void static_handle(struct http_exchange *x)
{
	const char *root = http_server(x)->cfg.web_root;
	char path[PATH_MAX_WEB];

	if (static_clean_path(http_path(x), path, sizeof(path)) != 0) {
		http_error(x, 400, "bad path");
		return;
	}
	if (root[0] != '\0')
		serve_disk(x, root, path);
	else
		serve_embedded(x, path);
}

void static_writable(struct http_exchange *x)
{
	if (http_data(x) != NULL)
		stream_disk(x);
}

void static_done(struct http_exchange *x)
{
	struct disk_file *df = http_data(x);

	if (df != NULL) {
		close(df->fd);
		free(df);
		http_set_data(x, NULL);
	}
}
