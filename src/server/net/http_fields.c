/* http_fields.c - pure parsers of the header fields the endpoints read by hand: Range,
 * Content-Disposition, the query's name, Bearer and the session cookie, tus headers
 * (see http_fields.h). Base64 is libsodium's, percent escapes http.c's http_pct_byte. */
#include "http_fields.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "http.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ---- Range ---- */

/* A decimal number at s (its first character a digit) into *v; *end after it. Past int64:
 * *v is INT64_MAX and false. */
static bool range_number(const char *s, int64_t *v, const char **end)
{
	char *e;
	long long n;

	errno = 0;
	n = strtoll(s, &e, 10);
	*end = e;
	*v = n;
	return errno == 0;
}

enum http_range http_field_range(const char *h, int64_t size, int64_t *first, int64_t *last)
{
	const char *end;
	int64_t x, y = INT64_MAX;
	bool x_fits;

	if (h == NULL || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return HTTP_RANGE_NONE;
	h += 6;
	while (*h == ' ')
		h++;
	if (*h == '-') {
		/* The last y bytes; more than the file (past int64 too) is all of it. */
		if (!is_digit(h[1]))
			return HTTP_RANGE_NONE;
		if (!range_number(h + 1, &y, &end))
			y = INT64_MAX;
		if (*end != '\0' && *end != ' ')
			return HTTP_RANGE_NONE;
		if (y == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		*first = y >= size ? 0 : size - y;
		*last = size - 1;
		return HTTP_RANGE_PART;
	}
	if (!is_digit(*h))
		return HTTP_RANGE_NONE;
	x_fits = range_number(h, &x, &end);
	if (*end != '-')
		return HTTP_RANGE_NONE;
	h = end + 1;
	if (*h != '\0' && *h != ' ') {
		/* An end past int64 reads as INT64_MAX: past the file, so its last byte. */
		if (!is_digit(*h))
			return HTTP_RANGE_NONE;
		(void)range_number(h, &y, &end);
		if (*end != '\0' && *end != ' ')
			return HTTP_RANGE_NONE;
		/* An end before the start is invalid: ignored (RFC 9110). Both past int64 cannot
		 * be compared, but the start is past any file: unsatisfiable below. */
		if (y < x)
			return HTTP_RANGE_NONE;
	}
	if (!x_fits || x >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*first = x;
	*last = y >= size ? size - 1 : y;
	return HTTP_RANGE_PART;
}

/* ---- names ---- */

int http_field_pct_decode(const char *src, size_t len, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = src[i];

		if (ch == '%') {
			int b = http_pct_byte(src + i, len - i);

			if (b < 0)
				return -1;
			ch = (char)b;
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

bool http_field_query_param(const char *query, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);

	while (query != NULL && *query != '\0') {
		const char *end = strchr(query, '&');
		size_t len = end ? (size_t)(end - query) : strlen(query);

		if (len > klen && strncmp(query, key, klen) == 0 && query[klen] == '=')
			return http_field_pct_decode(query + klen + 1, len - klen - 1, out, n) == 0;
		query = end ? end + 1 : NULL;
	}
	return false;
}

/* The plain filename="..." value v (vlen bytes, quotes included) into out, unescaped and cut
 * to fit. */
static void copy_quoted(const char *v, size_t vlen, char *out, size_t n)
{
	size_t o = 0;

	if (vlen >= 2 && v[0] == '"') {
		v++;
		vlen -= 2;
	}
	for (size_t i = 0; i < vlen && o + 1 < n; i++) {
		if (v[i] == '\\' && i + 1 < vlen)
			i++;
		out[o++] = v[i];
	}
	out[o] = '\0';
}

bool http_field_disposition_name(const char *h, char *out, size_t n)
{
	const char *ext = NULL, *plain = NULL;
	size_t ext_len = 0, plain_len = 0;

	/* The last filename* that decodes wins, else the last filename. Each filename* is
	 * decoded to see whether it does, and the winner again at the end: a later one that
	 * failed may have written part of itself into out. */
	while (h != NULL && *h != '\0') {
		const char *semi, *eq, *v;
		size_t klen, vlen;

		while (*h == ' ' || *h == '\t' || *h == ';')
			h++;
		semi = h;
		while (*semi != '\0' && *semi != ';') {
			if (*semi == '"') {      /* a quoted value may hold ';' */
				semi++;
				while (*semi != '\0' && *semi != '"')
					semi += semi[0] == '\\' && semi[1] != '\0' ? 2 : 1;
				if (*semi == '\0')
					break;
			}
			semi++;
		}
		eq = memchr(h, '=', (size_t)(semi - h));
		if (eq == NULL) {
			h = semi;
			continue;
		}
		klen = (size_t)(eq - h);
		while (klen > 0 && (h[klen - 1] == ' ' || h[klen - 1] == '\t'))
			klen--;
		v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		vlen = (size_t)(semi - v);
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (klen == 9 && strncasecmp(h, "filename*", 9) == 0 && vlen > 7 &&
		    strncasecmp(v, "UTF-8''", 7) == 0) {
			if (http_field_pct_decode(v + 7, vlen - 7, out, n) == 0) {
				ext = v + 7;
				ext_len = vlen - 7;
			}
		} else if (klen == 8 && strncasecmp(h, "filename", 8) == 0) {
			plain = v;
			plain_len = vlen;
		}
		h = semi;
	}
	if (ext != NULL)
		return http_field_pct_decode(ext, ext_len, out, n) == 0;
	if (plain == NULL)
		return false;
	copy_quoted(plain, plain_len, out, n);
	return out[0] != '\0';
}

/* ---- credentials ---- */

/* len bytes of src into out as a string: 1, or -1 (out empty) when they do not fit. */
static int copy_token(const char *src, size_t len, char *out, size_t n)
{
	if (len >= n) {
		out[0] = '\0';
		return -1;
	}
	memcpy(out, src, len);
	out[len] = '\0';
	return 1;
}

int http_field_bearer(const char *h, char *out, size_t n)
{
	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return 0;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	if (*h == '\0')
		return 0;
	return copy_token(h, strlen(h), out, n);
}

int http_field_cookie(const char *h, const char *name, char *out, size_t n)
{
	size_t nlen = strlen(name);

	while (h != NULL && *h != '\0') {
		const char *end;

		while (*h == ' ' || *h == '\t' || *h == ';')
			h++;
		end = h;
		while (*end != '\0' && *end != ';')
			end++;
		if ((size_t)(end - h) > nlen && strncmp(h, name, nlen) == 0 && h[nlen] == '=') {
			const char *v = h + nlen + 1;
			size_t len = (size_t)(end - v);

			while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
			if (len == 0)
				return 0;
			return copy_token(v, len, out, n);
		}
		h = end;
	}
	return 0;
}

/* ---- tus ---- */

int64_t http_field_uint(const char *v)
{
	int64_t n = 0;

	if (v == NULL || !is_digit(*v))
		return -1;
	for (; is_digit(*v); v++) {
		if (n > (INT64_MAX - (*v - '0')) / 10)
			return -1;
		n = n * 10 + (*v - '0');
	}
	while (*v == ' ' || *v == '\t')
		v++;
	return *v == '\0' ? n : -1;
}

bool http_field_tus_resumable(const char *v)
{
	return v != NULL && strcmp(v, HTTP_TUS_VERSION) == 0;
}

bool http_field_tus_metadata(const char *h, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);

	while (h != NULL && *h != '\0') {
		const char *end = strchr(h, ','), *v;
		size_t len, binlen = 0;

		while (*h == ' ')
			h++;
		len = end ? (size_t)(end - h) : strlen(h);
		if (len > klen && strncmp(h, key, klen) == 0 && h[klen] == ' ') {
			v = h + klen + 1;
			len -= klen + 1;
			if (sodium_base642bin((unsigned char *)out, n - 1, v, len, " ", &binlen, NULL,
			                      sodium_base64_VARIANT_ORIGINAL) != 0 &&
			    sodium_base642bin((unsigned char *)out, n - 1, v, len, " ", &binlen, NULL,
			                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
				return false;
			out[binlen] = '\0';
			return true;
		}
		h = end ? end + 1 : NULL;
	}
	return false;
}

int http_field_tus_path(const char *path, const char **key)
{
	static const char prefix[] = "/api/tus/";
	const size_t plen = sizeof(prefix) - 1;
	const char *k;

	if (strcmp(path, "/api/tus") == 0 || strcmp(path, prefix) == 0)
		return 0;
	if (strncmp(path, prefix, plen) != 0)
		return -1;
	k = path + plen;
	if (strlen(k) != HTTP_TUS_KEY_LEN)
		return -1;
	for (size_t i = 0; i < HTTP_TUS_KEY_LEN; i++)
		if (!is_digit(k[i]) && !(k[i] >= 'a' && k[i] <= 'f'))
			return -1;
	*key = k;
	return 1;
}
