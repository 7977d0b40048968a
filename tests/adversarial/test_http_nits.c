/* test_http_nits.c - adversarial: the small holes of the byte layers. Two Host headers get
 * 400; a Content-Length of 2^63 or more gets 413 (never a negative length that skips the body
 * deadline and the size limit); a WebSocket close frame with a 1-byte payload gets close 1002;
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
	test_ws_close(pd);
	st = status_of(pierd_http_port(pd), "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(st == 200, "default: /metrics answers a loopback peer (got %d)", st);
	atk_bystander_ok(pd);
	CHECK(pierd_stop(pd), "pierd stops cleanly");
	test_metrics();
	return harness_done();
}
