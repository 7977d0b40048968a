/* test_http_layer.c - the HTTP layer fed bytes through a memory transport (no socket,
 * tests/support/memtransport.h): writes are collected and completed when the test says.
 * Also the pure helpers of the WebSocket handshake and the static files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "http.h"
#include "memtransport.h"
#include "server.h"
#include "static_files.h"
#include "stubserver.h"
#include "tap.h"
#include "transport.h"
#include "ws.h"

static struct server srv;
static uv_loop_t loop;
static struct mem_wire wire;     /* what the transport under test wrote */

/* A transport with an HTTP connection on it. */
static struct transport *open_http(void)
{
	struct transport *t = mem_open(&srv.net, LISTEN_HTTP, &wire);

	http_conn_new(t);
	return t;
}

static void feed(struct transport *t, const char *data)
{
	mem_input(t, data, strlen(data));
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void close_all(struct transport *t)
{
	if (!t->closing)
		transport_close(t);
	uv_run(&loop, UV_RUN_NOWAIT);   /* the close callback frees the connection */
}

static void test_layer(void)
{
	struct transport *t;

	/* two pipelined requests in one read: both answers, in order, in one write */
	t = open_http();
	feed(t, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(wire.pending == 1 && count(wire.out, "HTTP/1.1 200 OK") == 1 &&
	      count(wire.out, "HTTP/1.1 404") == 1 &&
	      strstr(wire.out, "200 OK") < strstr(wire.out, "404"),
	      "pipelined: two answers in order in one write: %s", wire.out);
	mem_complete(t);
	CHECK(!t->closing, "keep-alive: still open");
	close_all(t);

	/* a request one byte at a time */
	t = open_http();
	for (const char *p = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"; *p != '\0'; p++) {
		char b[2] = { *p, '\0' };

		feed(t, b);
	}
	CHECK(count(wire.out, "HTTP/1.1 200 OK") == 1 && strstr(wire.out, "\r\n\r\nok\n") != NULL,
	      "byte by byte: %s", wire.out);
	mem_complete(t);
	close_all(t);

	/* a malformed request line: 400, Connection: close, and the connection ends */
	t = open_http();
	feed(t, "BLAH BLAH\r\n\r\n");
	CHECK(strstr(wire.out, "HTTP/1.1 400 Bad Request") == wire.out &&
	      strstr(wire.out, "Connection: close"),
	      "garbage: 400 and close: %s", wire.out);
	mem_complete(t);
	CHECK(t->shut, "garbage: the connection is shut down after the answer");
	close_all(t);

	/* headers over the limit */
	t = open_http();
	{
		char *big = malloc(srv.cfg.http_max_header + 64);

		memset(big, 'a', srv.cfg.http_max_header + 63);
		big[srv.cfg.http_max_header + 63] = '\0';
		feed(t, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
		feed(t, big);
		free(big);
	}
	CHECK(strstr(wire.out, "HTTP/1.1 431") == wire.out, "a huge header: 431: %.60s", wire.out);
	mem_complete(t);
	close_all(t);

	/* HEAD: the headers of GET, no body */
	t = open_http();
	feed(t, "HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(strstr(wire.out, "Content-Length: 3\r\n") != NULL &&
	      strstr(wire.out, "\r\n\r\nok") == NULL,
	      "HEAD: length without body: %s", wire.out);
	mem_complete(t);
	close_all(t);

	/* a 405 names what the path allows */
	t = open_http();
	feed(t, "DELETE /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(strstr(wire.out, "HTTP/1.1 405") == wire.out &&
	      strstr(wire.out, "Allow: GET, HEAD\r\n") != NULL,
	      "405 with Allow: %s", wire.out);
	mem_complete(t);
	close_all(t);

	/* HTTP/1.0 without keep-alive: answered, then shut */
	t = open_http();
	feed(t, "GET /healthz HTTP/1.0\r\n\r\n");
	CHECK(strstr(wire.out, "Connection: close") != NULL, "HTTP/1.0: Connection: close");
	mem_complete(t);
	CHECK(t->shut, "HTTP/1.0: shut after the answer");
	close_all(t);
}

static void test_ws_helpers(void)
{
	char accept[29];

	/* RFC 6455, section 1.3 */
	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept);
	CHECK(strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "accept key: %s", accept);
	CHECK(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="), "a valid key");
	CHECK(!ws_key_valid(NULL) && !ws_key_valid("") && !ws_key_valid("dGhlIHNhbXBsZSBub25jZQ") &&
	      !ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=") && !ws_key_valid("dGhlIHNhbXBsZSBub25j!Q=="),
	      "invalid keys");

	CHECK(ws_origin_allowed("", NULL, "example.org"), "no Origin: allowed");
	CHECK(ws_origin_allowed("", "https://example.org", "example.org"), "same host");
	CHECK(ws_origin_allowed("", "https://Example.org", "example.org:443"), "default port, case");
	CHECK(ws_origin_allowed("", "http://127.0.0.1:8080", "127.0.0.1:8080"), "same host and port");
	CHECK(!ws_origin_allowed("", "http://127.0.0.1:8081", "127.0.0.1:8080"), "another port");
	CHECK(!ws_origin_allowed("", "https://evil.example", "example.org"), "another host");
	CHECK(!ws_origin_allowed("", "https://example.org.evil.example", "example.org"), "a suffix");
	CHECK(!ws_origin_allowed("", "null", "example.org"), "the null origin");
	CHECK(!ws_origin_allowed("", "https://example.org", NULL), "no Host");
	CHECK(ws_origin_allowed("https://a.example, https://b.example:8443", "https://b.example:8443",
	                        "x"), "listed");
	CHECK(!ws_origin_allowed("https://a.example", "https://example.org", "example.org"),
	      "a list replaces the same-host rule");
	CHECK(ws_origin_allowed("*", "https://anything.example", "x"), "*");
}

static void test_static_helpers(void)
{
	char out[256];

	CHECK(strcmp(static_content_type("/index.html"), "text/html; charset=utf-8") == 0, "html");
	CHECK(strcmp(static_content_type("/a/app.JS"), "text/javascript; charset=utf-8") == 0, "js");
	CHECK(strcmp(static_content_type("/x.svg"), "image/svg+xml") == 0, "svg");
	CHECK(strcmp(static_content_type("/x.tar.gz"), "application/octet-stream") == 0, "unknown");
	CHECK(strcmp(static_content_type("/dir.d/file"), "application/octet-stream") == 0,
	      "a dot in a directory name");

	CHECK(static_clean_path("/", out, sizeof(out)) == 0 && strcmp(out, "/index.html") == 0, "/");
	CHECK(static_clean_path("/a%20b/", out, sizeof(out)) == 0 &&
	      strcmp(out, "/a b/index.html") == 0, "%%20 and a directory: %s", out);
	CHECK(static_clean_path("//a//b.css", out, sizeof(out)) == 0 && strcmp(out, "/a/b.css") == 0,
	      "double slashes: %s", out);
	CHECK(static_clean_path("/../x", out, sizeof(out)) != 0, "..");
	CHECK(static_clean_path("/a/..", out, sizeof(out)) != 0, "trailing ..");
	CHECK(static_clean_path("/%2e%2E/x", out, sizeof(out)) != 0, "encoded ..");
	CHECK(static_clean_path("/./x", out, sizeof(out)) != 0, ".");
	CHECK(static_clean_path("/a%00b", out, sizeof(out)) != 0, "%%00");
	CHECK(static_clean_path("/a%zz", out, sizeof(out)) != 0, "bad escape");
	CHECK(static_clean_path("/a\\b", out, sizeof(out)) != 0, "backslash");
	CHECK(static_clean_path("/..a/b..", out, sizeof(out)) == 0, "dots inside names are fine");

	CHECK(static_etag_matches("\"abc\"", "\"abc\""), "etag");
	CHECK(static_etag_matches("\"x\", W/\"abc\"", "\"abc\""), "a list, weak");
	CHECK(static_etag_matches("*", "\"abc\""), "*");
	CHECK(!static_etag_matches("\"abcd\"", "\"abc\""), "a longer tag");
	CHECK(!static_etag_matches(NULL, "\"abc\""), "no header");

	CHECK(web_nfiles >= 2, "the built-in files: %zu", web_nfiles);
	for (size_t i = 0; i < web_nfiles; i++)
		CHECK(web_files[i].path[0] == '/' && web_files[i].etag[0] == '"' && web_files[i].len > 0,
		      "built-in file %s", web_files[i].path);
}

int main(void)
{
	uv_loop_init(&loop);
	stub_server_init(&srv, &loop, NULL);
	srv.cfg.no_rate_limits = true;
	mem_wire_init(&wire, 1 << 16);
	test_layer();
	test_ws_helpers();
	test_static_helpers();
	uv_run(&loop, UV_RUN_NOWAIT);
	CHECK(srv.net.nhttp == 0, "every HTTP connection was freed (%u left)", srv.net.nhttp);
	CHECK(uv_loop_close(&loop) == 0, "the loop closes: nothing leaked");
	stub_server_release(&srv);
	mem_wire_release(&wire);
	return tap_done();
}
