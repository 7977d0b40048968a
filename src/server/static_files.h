/* static_files.h - the files of the browser client, served from "/": built into the binary
 * from web/ (src/tools/embed.c writes the table at build time), or read from --web-root DIR
 * for development. Every answer carries an ETag (If-None-Match gets 304), the Content-Type of
 * its extension, X-Content-Type-Options: nosniff and a strict Content-Security-Policy. */
#ifndef PIER_STATIC_FILES_H
#define PIER_STATIC_FILES_H

#include <stdbool.h>
#include <stddef.h>

struct http_exchange;

/* One embedded file. The table ends with a NULL path. */
struct web_file {
	const char *path;               /* "/index.html" */
	const unsigned char *data;
	size_t len;
	const char *etag;               /* quoted, as sent */
};

extern const struct web_file web_files[];
extern const size_t web_nfiles;

/* The policy every static answer carries. 'wasm-unsafe-eval' lets the page compile
 * WebAssembly (the vendored libsodium of end-to-end encryption instantiates its module from
 * bytes in web/vendor/libsodium-sumo.mjs); it allows no eval() of JavaScript. media-src
 * blob: lets it play the audio and video of encrypted chats, which it decrypts itself. */
#define STATIC_CSP "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " \
	"img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; " \
	"base-uri 'none'; " \
	"frame-ancestors 'none'; form-action 'self'"

/* Route handlers of GET / (prefix): see http.h. */
void static_handle(struct http_exchange *x);
void static_writable(struct http_exchange *x);
void static_done(struct http_exchange *x);

/* The Content-Type for a path's extension (application/octet-stream when unknown). */
const char *static_content_type(const char *path);
/* %-decodes a request path into out and maps a trailing '/' to index.html. -1 for paths that
 * are no file (a ".." or "." segment, %00, bad %-escapes, a backslash, too long). */
int static_clean_path(const char *raw, char *out, size_t n);
/* True if an If-None-Match value names etag (or is "*"). */
bool static_etag_matches(const char *if_none_match, const char *etag);

#endif
