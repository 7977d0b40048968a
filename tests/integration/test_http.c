/* test_http.c - integration: the HTTP port. /healthz, /metrics, the built-in files (types,
 * ETag and 304, nosniff, CSP; the vendored libsodium's modules and WebAssembly), files from
 * --web-root, keep-alive and pipelining, and bad requests: malformed request lines, huge
 * headers, bodies over the limit, a slowloris client. Each gets a clear 4xx and the server
 * keeps serving everyone else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "netclient.h"

static int port;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One request on a fresh connection; the reply's status (0: none). */
static int get(const char *request, struct http_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (http_exchange(port, NULL, request, r) != 0)
		return 0;
	return r->status;
}

static bool header_is(const struct http_reply *r, const char *name, const char *want)
{
	char v[512];

	return http_reply_header(r, name, v, sizeof(v)) && strcmp(v, want) == 0;
}

static bool header_has(const struct http_reply *r, const char *name, const char *part)
{
	char v[512];

	return http_reply_header(r, name, v, sizeof(v)) && strstr(v, part) != NULL;
}

static void test_health_metrics(void)
{
	struct http_reply r = {0};

	CHECK(get("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200 &&
	      strcmp(r.body, "ok\n") == 0, "GET /healthz: 200 ok (got %d)", r.status);
	CHECK(header_is(&r, "X-Content-Type-Options", "nosniff"), "nosniff on every answer");
	http_reply_free(&r);
	CHECK(get("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200 &&
	      header_is(&r, "Content-Length", "3") && r.body_len == 0,
	      "HEAD /healthz: the length, no body (got %d)", r.status);
	http_reply_free(&r);
	CHECK(get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200, "GET /metrics: 200");
	CHECK(header_has(&r, "Content-Type", "text/plain; version=0.0.4"), "Prometheus text type");
	{
		static const char *const names[] = {
			"pier_connections{listener=\"http\"}", "pier_sessions ", "pier_messages_total ",
			"pier_messages_per_second ", "pier_deliveries_total ", "pier_bytes_received_total ",
			"pier_bytes_sent_total ", "pier_store_queue_depth ", "pier_store_commit_seconds_sum ",
			"pier_store_commit_seconds_count ", "pier_uploads_total ", "pier_http_requests_total ",
			"# TYPE pier_deliveries_total counter",
		};

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			CHECK(r.body != NULL && strstr(r.body, names[i]) != NULL, "/metrics has %s", names[i]);
	}
	/* SQLite's checkpoints (store_checkpoint.h); PostgreSQL has none to count */
	if (harness_store_url() == NULL)
		CHECK(r.body != NULL && strstr(r.body, "\npier_store_checkpoints_total ") != NULL &&
		      strstr(r.body, "\npier_store_checkpoints_in_commit_total ") != NULL,
		      "/metrics counts the checkpoints, beside and inside commits");
	http_reply_free(&r);
}

static void test_files(void)
{
	struct http_reply r = {0};
	char etag[128] = "", req[512];

	CHECK(get("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200, "GET /: 200 (got %d)", r.status);
	CHECK(header_is(&r, "Content-Type", "text/html; charset=utf-8"), "/ is HTML");
	CHECK(header_has(&r, "Content-Security-Policy", "default-src 'self'") &&
	      header_has(&r, "Content-Security-Policy", "object-src 'none'"), "a strict CSP");
	CHECK(header_is(&r, "X-Content-Type-Options", "nosniff"), "nosniff");
	CHECK(r.body != NULL && strstr(r.body, "pier is running") != NULL, "the page says so");
	CHECK(http_reply_header(&r, "ETag", etag, sizeof(etag)) && etag[0] == '"', "an ETag: %s", etag);
	http_reply_free(&r);
	snprintf(req, sizeof(req), "GET /index.html HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n",
	         etag);
	CHECK(get(req, &r) == 304 && r.body_len == 0, "If-None-Match with the ETag: 304 (got %d)",
	      r.status);
	CHECK(header_is(&r, "ETag", etag), "the 304 repeats the ETag");
	http_reply_free(&r);
	CHECK(get("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\"\r\n\r\n", &r) == 200,
	      "another ETag: 200 (got %d)", r.status);
	http_reply_free(&r);
	CHECK(get("GET /app.css HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200 &&
	      header_is(&r, "Content-Type", "text/css; charset=utf-8"), "app.css is CSS (got %d)",
	      r.status);
	http_reply_free(&r);
	CHECK(get("GET /nothing-here.js HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 404, "404 (got %d)",
	      r.status);
	http_reply_free(&r);
	CHECK(get("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 400, "'..' refused (got %d)",
	      r.status);
	http_reply_free(&r);
	CHECK(get("GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 400,
	      "'%%2e%%2e' refused (got %d)", r.status);
	http_reply_free(&r);
	CHECK(get("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", &r) == 405 &&
	      header_has(&r, "Allow", "GET"), "POST /: 405 with Allow (got %d)", r.status);
	http_reply_free(&r);
}

/* The vendored libsodium of end-to-end encryption (web/vendor/): its ES modules are served as
 * JavaScript, and the page's CSP lets it compile WebAssembly ('wasm-unsafe-eval') without
 * allowing eval() of scripts ('unsafe-eval'). The browser test of the same is
 * tests/e2e/e2ee_sodium.mjs. */
static void test_vendor_libsodium(void)
{
	struct http_reply r = {0};

	CHECK(get("GET /vendor/libsodium-sumo.mjs HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200,
	      "GET /vendor/libsodium-sumo.mjs: 200 (got %d)", r.status);
	CHECK(header_is(&r, "Content-Type", "text/javascript; charset=utf-8"), ".mjs is JavaScript");
	CHECK(header_has(&r, "Content-Security-Policy", "script-src 'self' 'wasm-unsafe-eval';"),
	      "the CSP lets the page compile WebAssembly");
	CHECK(!header_has(&r, "Content-Security-Policy", "'unsafe-eval'") &&
	      !header_has(&r, "Content-Security-Policy", "'unsafe-inline'"), "and no eval of scripts");
	CHECK(r.body != NULL && r.body_len > 100000 && strstr(r.body, "WebAssembly") != NULL,
	      "the whole module (%zu bytes)", r.body_len);
	http_reply_free(&r);
	CHECK(get("GET /vendor/libsodium-wrappers-sumo.mjs HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200 &&
	      header_is(&r, "Content-Type", "text/javascript; charset=utf-8"),
	      "the wrapper is JavaScript too (got %d)", r.status);
	CHECK(r.body != NULL && strstr(r.body, "from\"./libsodium-sumo.mjs\"") != NULL,
	      "the wrapper imports the file beside it (no bare specifier, no build step)");
	http_reply_free(&r);
	CHECK(get("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200 &&
	      header_has(&r, "Content-Security-Policy", "'wasm-unsafe-eval'"),
	      "the page that imports it carries the same policy");
	http_reply_free(&r);
}

static void test_keepalive(void)
{
	struct net *n = net_connect(port, NULL, 5000);
	struct http_reply r = {0};
	const char *two = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /app.css HTTP/1.1\r\nHost: x\r\n\r\n";

	if (!CHECK(n != NULL, "connect"))
		return;
	net_send(n, two, strlen(two));
	CHECK(http_read_reply(n, &r, 5000) == 0 && r.status == 200 && strcmp(r.body, "ok\n") == 0,
	      "pipelined request 1 (got %d)", r.status);
	http_reply_free(&r);
	CHECK(http_read_reply(n, &r, 5000) == 0 && r.status == 200 &&
	      header_has(&r, "Content-Type", "text/css"), "pipelined request 2 (got %d)", r.status);
	http_reply_free(&r);
	/* the connection is still usable, one byte at a time too */
	for (const char *p = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"; *p != '\0'; p++)
		net_send(n, p, 1);
	CHECK(http_read_reply(n, &r, 5000) == 0 && r.status == 200, "a request in single bytes");
	http_reply_free(&r);
	net_close(n);

	n = net_connect(port, NULL, 5000);
	if (!CHECK(n != NULL, "connect"))
		return;
	net_send(n, "GET /healthz HTTP/1.0\r\n\r\n", 25);
	CHECK(http_read_reply(n, &r, 5000) == 0 && r.status == 200 &&
	      header_is(&r, "Connection", "close"), "HTTP/1.0: Connection: close");
	CHECK(net_read_until_closed(n, 5000), "HTTP/1.0: closed after the answer");
	http_reply_free(&r);
	net_close(n);
}

/* A bad request: the status, Connection: close, and the connection closes. */
static void expect_bad(const char *what, const char *request, size_t len, int want)
{
	struct net *n = net_connect(port, NULL, 5000);
	struct http_reply r = {0};

	if (!CHECK(n != NULL, "%s: connect", what))
		return;
	net_send(n, request, len);
	int rc = http_read_reply(n, &r, HARNESS_TIMEOUT_MS);

	if (!CHECK(rc == 0 && r.status == want, "%s: %d (got %d)", what, want, r.status)) {
		size_t have;
		const char *d = net_data(n, &have);

		fprintf(stderr, "  head: %s\n  rest: %.*s\n", r.head ? r.head : "(none)", (int)have, d);
	}
	CHECK(header_is(&r, "Connection", "close"), "%s: Connection: close", what);
	CHECK(net_read_until_closed(n, HARNESS_TIMEOUT_MS), "%s: closed", what);
	http_reply_free(&r);
	net_close(n);
}

static void test_bad_requests(void)
{
	size_t big = 20 * 1024;
	char *huge = malloc(big + 256);

	expect_bad("garbage request line", "GARBAGE\r\n\r\n", 11, 400);
	expect_bad("no HTTP version (HTTP/0.9)", "GET /\r\n\r\n", 9, 505);
	expect_bad("a space in the target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 31, 400);
	expect_bad("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 18, 400);
	expect_bad("a binary zero", "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n", 28, 400);
	expect_bad("a body over the limit", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n",
	           51, 413);
	expect_bad("a bad Content-Length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
	           47, 400);
	if (huge != NULL) {
		int n = snprintf(huge, 256, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");

		memset(huge + n, 'a', big);
		memcpy(huge + n + big, "\r\n\r\n", 4);
		expect_bad("a 20 KiB header", huge, (size_t)n + big + 4, 431);
		n = snprintf(huge, 256, "GET /");
		memset(huge + n, 'a', big);
		n += snprintf(huge + n + big, 256, " HTTP/1.1\r\nHost: x\r\n\r\n");
		expect_bad("a 20 KiB URL", huge, (size_t)n + big, 414);
		free(huge);
	}
}

/* A client that sends its head a byte at a time, too slowly (--http-header-timeout 2). */
static void test_slowloris(void)
{
	struct net *slow = net_connect(port, NULL, 5000), *idle = net_connect(port, NULL, 5000);
	struct http_reply r = {0};
	int64_t start = pier_mono_ms(), answered = 0;
	const char *head = "GET / HTTP/1.1\r\nHost: x\r\n";
	bool closed = false;

	if (!CHECK(slow != NULL && idle != NULL, "connect"))
		goto out;
	net_send(slow, head, strlen(head));
	for (int i = 0; i < 40 && !closed; i++) {
		struct http_reply ok;
		int64_t t0 = pier_mono_ms();

		if (net_send(slow, "X-Slow: 1\r\n", 11) != 0)
			break;
		/* everyone else is served promptly meanwhile */
		if (i % 5 == 0) {
			CHECK(get("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &ok) == 200 &&
			      pier_mono_ms() - t0 < 2000, "others are served during the slow client");
			http_reply_free(&ok);
		}
		sleep_ms(200);
		if (net_read(slow, 0) >= 0) {
			size_t len;

			if (strstr(net_data(slow, &len), "\r\n\r\n") != NULL) {
				answered = pier_mono_ms();
				closed = true;
			}
		}
	}
	CHECK(http_read_reply(slow, &r, HARNESS_TIMEOUT_MS) == 0 && r.status == 408,
	      "the slow head: 408 (got %d)", r.status);
	CHECK(answered == 0 || (answered - start >= 1500 && answered - start < 6000),
	      "408 after about --http-header-timeout (%lld ms)", (long long)(answered - start));
	CHECK(net_read_until_closed(slow, HARNESS_TIMEOUT_MS), "the slow client is closed");
	CHECK(net_read_until_closed(idle, HARNESS_TIMEOUT_MS), "an idle connection is closed");
	{
		size_t len;

		net_data(idle, &len);
		CHECK(len == 0, "quietly: an idle connection gets no 408 (%zu bytes)", len);
	}
out:
	http_reply_free(&r);
	net_close(slow);
	net_close(idle);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* --web-root: files from disk, streamed, with types and ETags; no way out of the root. */
static void test_web_root(void)
{
	char root[96], path[160], req[256], etag[128] = "";
	const char *tmp = getenv("TMPDIR");
	struct pierd *p2;
	struct http_reply r = {0};
	size_t big = 300 * 1024;
	char *content = malloc(big + 1);
	FILE *f;
	int saved = port;

	snprintf(root, sizeof(root), "%s/pier-web-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!CHECK(mkdtemp(root) != NULL && content != NULL, "mkdtemp: %s", strerror(errno)))
		return;
	snprintf(path, sizeof(path), "%s/index.html", root);
	write_file(path, "<!doctype html><title>dev</title>\n");
	snprintf(path, sizeof(path), "%s/app.js", root);
	for (size_t i = 0; i < big; i++)
		content[i] = (char)('a' + i % 26);
	content[big] = '\0';
	f = fopen(path, "w");
	if (f != NULL) {
		fwrite(content, 1, big, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/out", root);
	symlink("/etc", path);
	{
		const char *const args[] = { "--web-root", root, NULL };

		p2 = pierd_start(args);
	}
	if (!CHECK(p2 != NULL, "pierd starts with --web-root"))
		goto out;
	port = pierd_http_port(p2);
	CHECK(get("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200 && strstr(r.body, "dev") != NULL,
	      "/ from --web-root (got %d)", r.status);
	CHECK(http_reply_header(&r, "ETag", etag, sizeof(etag)), "an ETag from disk");
	http_reply_free(&r);
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n", etag);
	CHECK(get(req, &r) == 304, "304 from disk (got %d)", r.status);
	http_reply_free(&r);
	CHECK(get("GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 200 &&
	      header_is(&r, "Content-Type", "text/javascript; charset=utf-8") && r.body_len == big &&
	      memcmp(r.body, content, big) == 0, "a 300 KiB file streamed whole (got %d, %zu bytes)",
	      r.status, r.body_len);
	http_reply_free(&r);
	CHECK(get("GET /out/passwd HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 404,
	      "a link out of the root: 404 (got %d)", r.status);
	http_reply_free(&r);
	CHECK(pierd_stop(p2), "the --web-root pierd stops cleanly");
out:
	port = saved;
	unlink(path);
	snprintf(path, sizeof(path), "%s/app.js", root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/index.html", root);
	unlink(path);
	rmdir(root);
	free(content);
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", "--http-header-timeout", "2", NULL };
	char user[HARNESS_NAME_MAX];
	struct pierd *p;
	struct pier_conn *c;
	struct http_reply r = {0};

	harness_watchdog(180);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	port = pierd_http_port(p);
	REQUIRE(port > 0, harness_done(), "pierd logs its HTTP port");
	c = client_new_user(p, "http", user);
	test_health_metrics();
	test_files();
	test_vendor_libsodium();
	test_keepalive();
	test_bad_requests();
	test_slowloris();
	CHECK(c != NULL && client_send(c, "#lobby", "still here", NULL, NULL) > 0,
	      "the JSON port serves on after the bad HTTP clients");
	get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	CHECK(r.status == 200 && strstr(r.body, "pier_messages_total 1\n") != NULL &&
	      strstr(r.body, "pier_sessions 1\n") != NULL &&
	      strstr(r.body, "pier_http_responses_total{code=\"4xx\"}") != NULL,
	      "/metrics counts the message and the session: %.300s", r.body ? r.body : "");
	http_reply_free(&r);
	pier_conn_close(c);
	CHECK(pierd_is_running(p), "pierd still runs");
	test_web_root();
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
