/* test_http_nits.c - adversarial: the small holes of the byte layers. Two Host headers get
 * 400; a Content-Length of 2^63 or more gets 413 (never a negative length that skips the body
 * deadline and the size limit); a WebSocket close frame with a 1-byte payload gets close 1002;
 * a Range whose numbers overflow 64 bits is read for what it means (an end past the file is
 * the file's end: 206; so is a suffix longer than the file; a start past it is 416), never
 * ignored as if there were no Range; a file name that hides U+202E between two malformed
 * bytes ("\xE2" U+202E "\x80\xAE": the control removed, the bytes around it join into a
 * new U+202E) is stored without it (found by fuzz/fuzz_disposition.c);
 * /metrics is answered to loopback peers by default and, with --metrics-allow token, only to
 * the holder of --metrics-token (so that refusal is exercised from 127.0.0.1 too).
 */
#include "attack.h"

static int status_of(int port, const char *request)
{
	struct http_reply r = {0};
	int status;

	http_exchange(port, NULL, request, &r);
	status = r.status;
	http_reply_free(&r);
	return status;
}

static void test_headers(struct pierd *pd)
{
	int port = pierd_http_port(pd);
	int st;

	st = status_of(port, "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
	CHECK(st == 400, "two Host headers: 400 (got %d)", st);
	st = status_of(port, "POST /api/session HTTP/1.1\r\nHost: a\r\n"
	                     "Content-Length: 9223372036854775808\r\n\r\nxxxx");
	CHECK(st == 413 || st == 400, "Content-Length 2^63: 413 or 400 (got %d)", st);
	st = status_of(port, "POST /api/media HTTP/1.1\r\nHost: a\r\n"
	                     "Content-Length: 18446744073709551614\r\n\r\nxxxx");
	CHECK(st == 413 || st == 400, "Content-Length 2^64-2: 413 or 400 (got %d)", st);
}

#define RANGE_FILE_LEN 100

/* GET /media/ID with the Range header range; the reply in r (the caller frees it). */
static void get_range(int port, const char *token, long long id, const char *range,
                      struct http_reply *r)
{
	char req[1024];

	snprintf(req, sizeof(req), "GET /media/%lld HTTP/1.1\r\nHost: a\r\n"
	         "Authorization: Bearer %s\r\nRange: %s\r\n\r\n", id, token, range);
	http_exchange(port, NULL, req, r);
}

/* POSTs a file of RANGE_FILE_LEN bytes as ?name=query_name; its id (and its stored name in
 * name, n bytes), or -1. */
static long long upload_file(int port, const char *token, const char *query_name, char *name,
                             size_t n)
{
	struct http_reply r = {0};
	char req[1024], body[RANGE_FILE_LEN + 1];
	long long id = -1;
	json_t *j;

	memset(body, 'r', RANGE_FILE_LEN);
	body[RANGE_FILE_LEN] = '\0';
	snprintf(req, sizeof(req), "POST /api/media?name=%s HTTP/1.1\r\nHost: a\r\n"
	         "Authorization: Bearer %s\r\nContent-Type: application/octet-stream\r\n"
	         "Content-Length: %d\r\n\r\n%s", query_name, token, RANGE_FILE_LEN, body);
	http_exchange(port, NULL, req, &r);
	j = r.status == 201 && r.body != NULL ? json_loads(r.body, 0, NULL) : NULL;
	if (j != NULL) {
		id = jint(j, "id", -1);
		snprintf(name, n, "%s", jstr(j, "name") ? jstr(j, "name") : "");
		json_decref(j);
	}
	http_reply_free(&r);
	return id;
}

static void test_media_nits(struct pierd *pd)
{
	int port = pierd_http_port(pd);
	struct pier_conn *c = client_connect(pd);
	struct http_reply r = {0};
	char user[HARNESS_NAME_MAX], req[1024], cr[64], name[256];
	const char *token;
	long long id;
	json_t *login;

	if (!CHECK(c != NULL, "connect"))
		return;
	harness_user(user, "range");
	CHECK(client_register(c, user, HARNESS_PASSWORD) == 3, "register");
	login = client_call(c, pier_req_login(user, HARNESS_PASSWORD));
	token = jstr(login, "token");
	if (!CHECK(token != NULL, "login gives a token"))
		goto out;
	id = upload_file(port, token, "x%E2%E2%80%AE%80%AEgpj.exe", name, sizeof(name));
	CHECK(id > 0 && strcmp(name, "x___gpj.exe") == 0 && strstr(name, "\xE2\x80\xAE") == NULL,
	      "U+202E between malformed bytes: stored as x___gpj.exe, no U+202E (got %s)", name);
	id = upload_file(port, token, "r.bin", name, sizeof(name));
	if (!CHECK(id > 0, "a file of %d bytes is stored", RANGE_FILE_LEN))
		goto out;

	/* An end past int64: the end of the file. */
	get_range(port, token, id, "bytes=10-99999999999999999999", &r);
	snprintf(cr, sizeof(cr), "bytes 10-%d/%d", RANGE_FILE_LEN - 1, RANGE_FILE_LEN);
	CHECK(r.status == 206 && http_reply_header(&r, "Content-Range", req, sizeof(req)) &&
	      strcmp(req, cr) == 0 && r.body_len == RANGE_FILE_LEN - 10,
	      "bytes=10-(2^66): 206 %s, %d bytes (got %d, %zu bytes)", cr, RANGE_FILE_LEN - 10,
	      r.status, r.body_len);
	http_reply_free(&r);
	/* A suffix past int64: longer than the file, so all of it, as a range. */
	get_range(port, token, id, "bytes=-99999999999999999999", &r);
	snprintf(cr, sizeof(cr), "bytes 0-%d/%d", RANGE_FILE_LEN - 1, RANGE_FILE_LEN);
	CHECK(r.status == 206 && http_reply_header(&r, "Content-Range", req, sizeof(req)) &&
	      strcmp(req, cr) == 0 && r.body_len == RANGE_FILE_LEN,
	      "bytes=-(2^66): 206 %s, the whole file (got %d, %zu bytes)", cr, r.status,
	      r.body_len);
	http_reply_free(&r);
	/* A start past int64: past the end of any file. */
	get_range(port, token, id, "bytes=99999999999999999999-", &r);
	snprintf(cr, sizeof(cr), "bytes */%d", RANGE_FILE_LEN);
	CHECK(r.status == 416 && http_reply_header(&r, "Content-Range", req, sizeof(req)) &&
	      strcmp(req, cr) == 0, "bytes=(2^66)-: 416 %s (got %d)", cr, r.status);
	http_reply_free(&r);
	get_range(port, token, id, "bytes=99999999999999999999-99999999999999999999", &r);
	CHECK(r.status == 416, "bytes=(2^66)-(2^66): 416 (got %d)", r.status);
	http_reply_free(&r);
out:
	json_decref(login);
	pier_conn_close(c);
}

static void test_ws_close(struct pierd *pd)
{
	int status = 0, code = 0;
	char reason[128] = "";
	struct ws_client *w = ws_open(pierd_http_port(pd), NULL, NULL, &status);

	if (!CHECK(w != NULL, "WebSocket opens (status %d)", status))
		return;
	ws_send_frame(w, 0x8, true, "x", 1, true);
	CHECK(ws_wait_close(w, 5000, &code, reason, sizeof(reason)) && code == 1002,
	      "a close frame with a 1-byte payload: close 1002 (got %d %s)", code, reason);
	ws_free(w);
}

static void test_metrics(void)
{
	static const char *const args[] = { "--metrics-allow", "token", "--metrics-token",
	                                    "s3cret-metrics", NULL };
	struct pierd *pd = pierd_start(args);
	int port, st;

	if (!CHECK(pd != NULL, "pierd with --metrics-allow token starts"))
		return;
	port = pierd_http_port(pd);
	st = status_of(port, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(st == 403, "token only: /metrics without the token is refused, even on loopback "
	      "(got %d)", st);
	st = status_of(port, "GET /metrics HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer nope\r\n\r\n");
	CHECK(st == 403, "token only: a wrong token is refused (got %d)", st);
	st = status_of(port, "GET /metrics HTTP/1.1\r\nHost: a\r\n"
	                     "Authorization: Bearer s3cret-metrics\r\n\r\n");
	CHECK(st == 200, "token only: the token holder reads /metrics (got %d)", st);
	st = status_of(port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(st == 200, "/healthz stays open (got %d)", st);
	CHECK(pierd_stop(pd), "pierd stops cleanly");
}

int main(void)
{
	struct pierd *pd;
	int st;

	harness_watchdog(90);
	pd = pierd_start(NULL);
	REQUIRE(pd != NULL, harness_done(), "pierd starts");
	test_headers(pd);
	test_media_nits(pd);
	test_ws_close(pd);
	st = status_of(pierd_http_port(pd), "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(st == 200, "default: /metrics answers a loopback peer (got %d)", st);
	atk_bystander_ok(pd);
	CHECK(pierd_stop(pd), "pierd stops cleanly");
	test_metrics();
	return harness_done();
}
