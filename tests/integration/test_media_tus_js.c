/* test_media_tus_js.c - integration: the real tus-js-client (npm, tests/node) uploads to pierd,
 * is cut at half, resumes, and the file it uploaded downloads byte for byte. Needs node and
 * `npm ci --prefix tests/node` (make test runs it); without them the test fails, loudly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "harness.h"
#include "netclient.h"

#define FILE_SIZE (5 * 1024 * 1024 + 4321)

static bool have_node(void)
{
	char line[128] = "";
	FILE *f = popen("node --version 2>/dev/null", "r");
	int status;

	if (f == NULL)
		return false;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	status = pclose(f);
	return status == 0 && line[0] == 'v';
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	char user[HARNESS_NAME_MAX], token[128], file[1024], cmd[4096], out[8192] = "";
	char req[1024], modules[1024];
	unsigned char *data = malloc(FILE_SIZE);
	struct http_reply r = {0};
	struct pier_conn *c;
	struct pierd *p;
	struct stat st;
	json_t *j;
	FILE *f;
	int status;
	int64_t id;

	harness_watchdog(120);
	REQUIRE(have_node(), harness_done(),
	        "node is installed (the tus-js-client test needs Node.js; see tests/node)");
	snprintf(modules, sizeof(modules), "%s/node_modules/tus-js-client/package.json", TESTS_NODE_DIR);
	REQUIRE(stat(modules, &st) == 0, harness_done(),
	        "tus-js-client is installed: run `npm ci --prefix tests/node` (make test does)");
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");

	harness_user(user, "tusjs");
	c = client_connect(p);
	REQUIRE(c != NULL && client_register(c, user, HARNESS_PASSWORD) == PIER_REGISTER_OK,
	        harness_done(), "register");
	j = client_call(c, pier_req_login(user, HARNESS_PASSWORD));
	REQUIRE(j != NULL && jstr(j, "token") != NULL, harness_done(), "login: %s", jdump(j));
	snprintf(token, sizeof(token), "%s", jstr(j, "token"));
	json_decref(j);

	randombytes_buf(data, FILE_SIZE);
	snprintf(file, sizeof(file), "%s/tus-js.bin", pierd_dir(p));
	f = fopen(file, "wb");
	REQUIRE(f != NULL && fwrite(data, 1, FILE_SIZE, f) == FILE_SIZE && fclose(f) == 0,
	        harness_done(), "write the file to upload");

	snprintf(cmd, sizeof(cmd), "node '%s/tus_upload.mjs' 'http://127.0.0.1:%d' '%s' '%s'",
	         TESTS_NODE_DIR, pierd_http_port(p), token, file);
	f = popen(cmd, "r");
	REQUIRE(f != NULL, harness_done(), "run node");
	if (fgets(out, sizeof(out), f) == NULL)
		out[0] = '\0';
	status = pclose(f);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "tus-js-client uploads, cut at half and resumed (exit %d): %s",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
	j = json_loads(out, 0, NULL);
	id = jint(j, "mediaId", -1);
	CHECK(id > 0 && jint(j, "posts", 0) == 1 && jint(j, "heads", 0) >= 1,
	      "one creation, then HEAD to resume: %s", out);
	CHECK(json_array_size(json_object_get(j, "patchOffsets")) >= 2 &&
	      json_integer_value(json_array_get(json_object_get(j, "patchOffsets"), 0)) == 0,
	      "PATCHes from 0 and from where it stopped: %s", out);
	json_decref(j);

	snprintf(req, sizeof(req), "GET /media/%lld HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n\r\n",
	         (long long)id, token);
	http_exchange(pierd_http_port(p), NULL, req, &r);
	CHECK(r.status == 200 && r.body_len == FILE_SIZE && memcmp(r.body, data, FILE_SIZE) == 0,
	      "the file downloads byte for byte (%d, %zu bytes)", r.status, r.body_len);
	CHECK(r.head != NULL && strstr(r.head, "tus-js.bin") != NULL, "with the name from its metadata");
	http_reply_free(&r);
	pier_conn_close(c);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	free(data);
	return harness_done();
}
