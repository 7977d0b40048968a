/* test_http_fields.c - the header-field parsers (net/http_fields.c): Range with numbers past
 * int64, Content-Disposition and ?name=, Bearer and the session cookie, the tus headers. */
#include <stdio.h>
#include <string.h>

#include "http_fields.h"
#include "tap.h"

/* "P a-b" for a part, "N" for none, "U" for unsatisfiable: easy to compare. */
static const char *range(const char *h, int64_t size)
{
	static char out[64];
	int64_t a = -7, b = -7;

	switch (http_field_range(h, size, &a, &b)) {
	case HTTP_RANGE_PART:
		snprintf(out, sizeof(out), "P %lld-%lld", (long long)a, (long long)b);
		break;
	case HTTP_RANGE_UNSATISFIABLE:
		snprintf(out, sizeof(out), "U");
		break;
	default:
		snprintf(out, sizeof(out), "N");
		break;
	}
	return out;
}

static void check_range(const char *h, int64_t size, const char *want, int line)
{
	char got[64];

	snprintf(got, sizeof(got), "%s", range(h, size));
	tap_check(strcmp(got, want) == 0, __FILE__, line, "Range %s on %lld bytes: %s (got %s)",
	          h != NULL ? h : "(none)", (long long)size, want, got);
}

#define RANGE(h, size, want) check_range(h, size, want, __LINE__)

static void test_range(void)
{
	RANGE("bytes=0-9", 100, "P 0-9");
	RANGE("bytes=10-", 100, "P 10-99");
	RANGE("bytes=10- ", 100, "P 10-99");
	RANGE("BYTES= 10-19", 100, "P 10-19");
	RANGE("bytes=-10", 100, "P 90-99");
	RANGE("bytes=-100", 100, "P 0-99");
	RANGE("bytes=-1000", 100, "P 0-99");
	RANGE("bytes=50-5000", 100, "P 50-99");
	RANGE("bytes=99-99", 100, "P 99-99");
	RANGE("bytes=100-", 100, "U");
	RANGE("bytes=100-200", 100, "U");
	RANGE("bytes=-0", 100, "U");
	RANGE("bytes=0-", 0, "U");
	RANGE("bytes=-5", 0, "U");
	/* ignored: the whole file */
	RANGE(NULL, 100, "N");
	RANGE("", 100, "N");
	RANGE("items=0-9", 100, "N");
	RANGE("bytes=0-1,5-6", 100, "N");
	RANGE("bytes=9-5", 100, "N");
	RANGE("bytes=-", 100, "N");
	RANGE("bytes=--5", 100, "N");
	RANGE("bytes=+5-9", 100, "N");
	RANGE("bytes=5-+9", 100, "N");
	RANGE("bytes=5--9", 100, "N");
	RANGE("bytes=5-9x", 100, "N");
	RANGE("bytes=5x-9", 100, "N");
	RANGE("bytes=-5x", 100, "N");
	RANGE("bytes= -5", 100, "P 95-99");
	/* numbers past int64 (issue 8's nit): read for what they mean */
	RANGE("bytes=10-99999999999999999999", 100, "P 10-99");
	RANGE("bytes=10-9223372036854775807", 100, "P 10-99");
	RANGE("bytes=10-9223372036854775808", 100, "P 10-99");
	RANGE("bytes=-99999999999999999999", 100, "P 0-99");
	RANGE("bytes=-99999999999999999999", 0, "U");
	RANGE("bytes=99999999999999999999-", 100, "U");
	RANGE("bytes=99999999999999999999-99999999999999999999", 100, "U");
	RANGE("bytes=99999999999999999999-5", 100, "N");
	CHECK(strcmp(range("bytes=0-", INT64_MAX), "P 0-9223372036854775806") == 0,
	      "the largest size: %s", range("bytes=0-", INT64_MAX));
}

static void test_names(void)
{
	char out[32];

	CHECK(http_field_pct_decode("a%20b+c", 7, out, sizeof(out)) == 0 &&
	      strcmp(out, "a b c") == 0, "pct: %s", out);
	CHECK(http_field_pct_decode("%e4%B8%AD", 9, out, sizeof(out)) == 0 &&
	      strcmp(out, "\xe4\xb8\xad") == 0, "pct: UTF-8, either case");
	CHECK(http_field_pct_decode("a%00b", 5, out, sizeof(out)) != 0, "pct: %%00 refused");
	CHECK(http_field_pct_decode("a%2", 3, out, sizeof(out)) != 0, "pct: cut escape refused");
	CHECK(http_field_pct_decode("a%zz", 4, out, sizeof(out)) != 0, "pct: bad escape refused");
	CHECK(http_field_pct_decode("abcd", 4, out, 4) != 0, "pct: too long for out");
	CHECK(http_field_pct_decode("abc", 3, out, 4) == 0 && strcmp(out, "abc") == 0,
	      "pct: exactly fits");

	CHECK(http_field_query_param("name=a.txt", "name", out, sizeof(out)) &&
	      strcmp(out, "a.txt") == 0, "query: %s", out);
	CHECK(http_field_query_param("x=1&name=b%2Fc&name=z", "name", out, sizeof(out)) &&
	      strcmp(out, "b/c") == 0, "query: the first, decoded (%s)", out);
	CHECK(!http_field_query_param("names=x&nam=y", "name", out, sizeof(out)), "query: absent");
	CHECK(!http_field_query_param(NULL, "name", out, sizeof(out)), "query: none");
	CHECK(!http_field_query_param("name=%zz", "name", out, sizeof(out)), "query: malformed");

	CHECK(http_field_disposition_name("attachment; filename=\"a b.txt\"", out, sizeof(out)) &&
	      strcmp(out, "a b.txt") == 0, "disposition: quoted (%s)", out);
	CHECK(http_field_disposition_name("attachment; filename=plain.txt", out, sizeof(out)) &&
	      strcmp(out, "plain.txt") == 0, "disposition: token (%s)", out);
	CHECK(http_field_disposition_name("form-data; filename=\"a;b\\\"c.txt\"", out, sizeof(out)) &&
	      strcmp(out, "a;b\"c.txt") == 0, "disposition: ';' and an escape inside quotes (%s)",
	      out);
	CHECK(http_field_disposition_name("attachment; filename*=UTF-8''%e4%b8%ad.txt; "
	                                  "filename=\"x.txt\"", out, sizeof(out)) &&
	      strcmp(out, "\xe4\xb8\xad.txt") == 0, "disposition: filename* first (%s)", out);
	CHECK(http_field_disposition_name("attachment; filename=\"x.txt\"; "
	                                  "FILENAME*=utf-8''y.txt", out, sizeof(out)) &&
	      strcmp(out, "y.txt") == 0, "disposition: filename* wins wherever it is (%s)", out);
	CHECK(http_field_disposition_name("attachment; filename*=UTF-8''good.txt; "
	                                  "filename*=UTF-8''bad%zz", out, sizeof(out)) &&
	      strcmp(out, "good.txt") == 0, "disposition: a filename* that does not decode does "
	      "not spoil one that did (%s)", out);
	CHECK(http_field_disposition_name("attachment; filename*=UTF-8''bad%zz; filename=ok.txt",
	                                  out, sizeof(out)) && strcmp(out, "ok.txt") == 0,
	      "disposition: a bad filename* falls back to filename (%s)", out);
	CHECK(http_field_disposition_name("attachment; filename=\"0123456789012345678901234567"
	                                  "890123456789\"", out, 8) && strcmp(out, "0123456") == 0,
	      "disposition: a long filename is cut (%s)", out);
	CHECK(!http_field_disposition_name("attachment", out, sizeof(out)), "disposition: no name");
	CHECK(!http_field_disposition_name("attachment; filename=\"\"", out, sizeof(out)),
	      "disposition: an empty name");
	CHECK(!http_field_disposition_name(NULL, out, sizeof(out)), "disposition: no header");
	CHECK(!http_field_disposition_name("attachment; filename*=ISO-8859-1''x", out, sizeof(out)),
	      "disposition: another charset");
}

static void test_credentials(void)
{
	char out[16];

	CHECK(http_field_bearer("Bearer abc123", out, sizeof(out)) == 1 &&
	      strcmp(out, "abc123") == 0, "bearer: %s", out);
	CHECK(http_field_bearer("bearer \t xyz", out, sizeof(out)) == 1 && strcmp(out, "xyz") == 0,
	      "bearer: any case, spaces and tabs (%s)", out);
	CHECK(http_field_bearer("Bearer 0123456789abcde", out, sizeof(out)) == 1,
	      "bearer: 15 bytes fit 16");
	CHECK(http_field_bearer("Bearer 0123456789abcdef", out, sizeof(out)) == -1 && out[0] == '\0',
	      "bearer: 16 bytes do not fit 16");
	CHECK(http_field_bearer("Bearer", out, sizeof(out)) == 0, "bearer: no token");
	CHECK(http_field_bearer("Bearer   ", out, sizeof(out)) == 0, "bearer: only spaces");
	CHECK(http_field_bearer("Bearerx abc", out, sizeof(out)) == 0, "bearer: another scheme");
	CHECK(http_field_bearer("Basic YTpi", out, sizeof(out)) == 0, "bearer: Basic");
	CHECK(http_field_bearer(NULL, out, sizeof(out)) == 0, "bearer: no header");

	CHECK(http_field_cookie("pier_session=tok", "pier_session", out, sizeof(out)) == 1 &&
	      strcmp(out, "tok") == 0, "cookie: %s", out);
	CHECK(http_field_cookie("theme=dark; pier_session=tok2 ; x=y", "pier_session", out,
	                        sizeof(out)) == 1 && strcmp(out, "tok2") == 0,
	      "cookie: among others, spaces dropped (%s)", out);
	CHECK(http_field_cookie("xpier_session=a; pier_sessionx=b", "pier_session", out,
	                        sizeof(out)) == 0, "cookie: only the exact name");
	CHECK(http_field_cookie("pier_session=; pier_session=late", "pier_session", out,
	                        sizeof(out)) == 0, "cookie: the first one is empty");
	CHECK(http_field_cookie("pier_session=0123456789abcdef", "pier_session", out, sizeof(out))
	      == -1 && out[0] == '\0', "cookie: too long");
	CHECK(http_field_cookie(NULL, "pier_session", out, sizeof(out)) == 0, "cookie: no header");
}

static void test_tus(void)
{
	char out[16];
	const char *key = NULL;

	CHECK(http_field_uint("0") == 0 && http_field_uint("123") == 123, "uint");
	CHECK(http_field_uint("42 \t") == 42, "uint: trailing blanks");
	CHECK(http_field_uint("9223372036854775807") == INT64_MAX, "uint: INT64_MAX");
	CHECK(http_field_uint("9223372036854775808") == -1, "uint: past INT64_MAX");
	CHECK(http_field_uint("99999999999999999999999") == -1, "uint: far past");
	CHECK(http_field_uint(NULL) == -1 && http_field_uint("") == -1, "uint: absent, empty");
	CHECK(http_field_uint(" ") == -1 && http_field_uint("\t") == -1, "uint: only blanks");
	CHECK(http_field_uint("-1") == -1 && http_field_uint("+1") == -1 &&
	      http_field_uint(" 1") == -1 && http_field_uint("1x") == -1 &&
	      http_field_uint("1 2") == -1, "uint: malformed");

	CHECK(http_field_tus_resumable("1.0.0"), "Tus-Resumable 1.0.0");
	CHECK(!http_field_tus_resumable(NULL) && !http_field_tus_resumable("0.2.2") &&
	      !http_field_tus_resumable("1.0.0 "), "other Tus-Resumable");

	/* "a.txt" is YS50eHQ=, "image/png" aW1hZ2UvcG5n */
	CHECK(http_field_tus_metadata("filename YS50eHQ=,filetype aW1hZ2UvcG5n", "filename", out,
	                              sizeof(out)) && strcmp(out, "a.txt") == 0, "metadata: %s", out);
	CHECK(http_field_tus_metadata("filename YS50eHQ=, filetype aW1hZ2UvcG5n", "filetype", out,
	                              sizeof(out)) && strcmp(out, "image/png") == 0,
	      "metadata: after a comma and a space (%s)", out);
	CHECK(http_field_tus_metadata("filename YS50eHQ", "filename", out, sizeof(out)) &&
	      strcmp(out, "a.txt") == 0, "metadata: no padding (%s)", out);
	CHECK(!http_field_tus_metadata("filename YS5*eHQ=", "filename", out, sizeof(out)),
	      "metadata: not base64");
	CHECK(!http_field_tus_metadata("filenames YS50eHQ=,name", "filename", out, sizeof(out)),
	      "metadata: absent (and a key without value)");
	/* 16 bytes, "0123456789abcdef", do not fit 15 + NUL */
	CHECK(!http_field_tus_metadata("filename MDEyMzQ1Njc4OWFiY2RlZg==", "filename", out,
	                               sizeof(out)), "metadata: too long");
	CHECK(http_field_tus_metadata("filename MDEyMzQ1Njc4OWFiY2Rl", "filename", out,
	                              sizeof(out)) && strlen(out) == 15, "metadata: 15 bytes fit");
	CHECK(!http_field_tus_metadata(NULL, "filename", out, sizeof(out)), "metadata: no header");

	CHECK(http_field_tus_path("/api/tus", &key) == 0 && http_field_tus_path("/api/tus/", &key) == 0,
	      "tus path: the collection");
	CHECK(http_field_tus_path("/api/tus/0123456789abcdef0123456789abcdef", &key) == 1 &&
	      strcmp(key, "0123456789abcdef0123456789abcdef") == 0, "tus path: an upload");
	CHECK(http_field_tus_path("/api/tus/0123456789ABCDEF0123456789abcdef", &key) == -1 &&
	      http_field_tus_path("/api/tus/0123456789abcdef0123456789abcde", &key) == -1 &&
	      http_field_tus_path("/api/tus/0123456789abcdef0123456789abcdef0", &key) == -1 &&
	      http_field_tus_path("/api/tus/../../etc/passwd", &key) == -1 &&
	      http_field_tus_path("/api/tusx", &key) == -1, "tus path: anything else");
}

int main(void)
{
	test_range();
	test_names();
	test_credentials();
	test_tus();
	return tap_done();
}
