/* http_fields.h - the request header fields (and query parameters) that pierd's endpoints read
 * by hand, as pure parsers: a string in, values out. No I/O, no connection, no server, so
 * each is unit tested (tests/unit/test_http_fields.c) and fuzzed alone (fuzz/fuzz_range.c,
 * fuzz_disposition.c, fuzz_auth_headers.c, fuzz_tus_headers.c).
 *
 * Conventions: a NULL field is an absent one. Every function that writes into out writes at
 * most n bytes, NUL included, and leaves out NUL-terminated when it says it found something
 * (n must be at least 1); on failure out may hold anything. Header values come from
 * http-parser, so they hold no CR, LF or NUL.
 */
#ifndef PIER_HTTP_FIELDS_H
#define PIER_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Range (RFC 9110, 14.2) ---- */

enum http_range {
	HTTP_RANGE_NONE,           /* no Range, or one ignored (several ranges, not bytes=...,
	                              malformed): the whole file, 200 */
	HTTP_RANGE_PART,           /* bytes *first..*last (inclusive), 0 <= first <= last < size: 206 */
	HTTP_RANGE_UNSATISFIABLE,  /* starts at or past the end (or size is 0): 416 */
};

/* Reads a Range header h against a file of size bytes (size >= 0). Only one byte range:
 * "bytes=A-B", "bytes=A-" and "bytes=-N" (the last N bytes). Numbers past int64 mean what
 * they say: an end past the file is its last byte, a suffix longer than the file is all of
 * it, a start past the file is unsatisfiable. *first and *last are set for HTTP_RANGE_PART
 * only. */
enum http_range http_field_range(const char *h, int64_t size, int64_t *first, int64_t *last);

/* ---- names of uploaded files ---- */

/* Percent-decodes len bytes of src ('+' is a space) into out. 0, or -1 when an escape is
 * malformed or %00, or the result does not fit. */
int http_field_pct_decode(const char *src, size_t len, char *out, size_t n);

/* The value of the parameter key of a query string ("a=1&name=x"), percent-decoded into out.
 * False when absent, malformed or too long. */
bool http_field_query_param(const char *query, const char *key, char *out, size_t n);

/* The file name of a Content-Disposition header (RFC 6266): the last filename*=UTF-8''...
 * (percent-decoded) when there is one that decodes, else the last filename="..." (quotes
 * and backslash escapes removed, cut to fit). False when there is neither. The name is as
 * the client sent it: media_clean_name makes it safe. */
bool http_field_disposition_name(const char *h, char *out, size_t n);

/* ---- credentials ---- */

/* The token of "Authorization: Bearer TOKEN" (scheme in any case, then spaces or tabs):
 * 1 and the token in out; 0 when h is absent, another scheme or has no token; -1 when the
 * token is n bytes or longer (out is then the empty string). */
int http_field_bearer(const char *h, char *out, size_t n);

/* The value of the cookie name in a Cookie header ("a=1; name=VALUE"; surrounding spaces
 * and tabs dropped): 1 and the value in out; 0 when there is none or the first one of that
 * name is empty; -1 when it is n bytes or longer (out is then the empty string). */
int http_field_cookie(const char *h, const char *name, char *out, size_t n);

/* ---- tus (https://tus.io/protocols/resumable-upload) ---- */

#define HTTP_TUS_VERSION   "1.0.0"
#define HTTP_TUS_KEY_LEN   32      /* an upload's key: 32 lowercase hex digits */

/* A non-negative decimal header value (Upload-Offset, Upload-Length): digits, then only
 * spaces or tabs. -1 when absent, empty, malformed or past int64. */
int64_t http_field_uint(const char *v);

/* True when Tus-Resumable (v) names the version pierd speaks. */
bool http_field_tus_resumable(const char *v);

/* The value of key in Upload-Metadata ("key base64,key2 base64"), base64-decoded (standard
 * alphabet, with or without padding) into out and NUL-terminated. False when absent, not
 * base64 or longer than n - 1 bytes. The bytes are the client's: they may hold anything. */
bool http_field_tus_metadata(const char *h, const char *key, char *out, size_t n);

/* The tus endpoint of a path: 0 for the collection ("/api/tus" or "/api/tus/"), 1 for an
 * upload ("/api/tus/KEY", *key pointing at KEY in path), -1 for anything else. */
int http_field_tus_path(const char *path, const char **key);

#endif
