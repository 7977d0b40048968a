/* test_tls.c - integration: TLS on the JSON protocol port (--tls-listen) and on HTTP
 * (--https, wss://). libpier and the pier client verify certificates by default; a pinned
 * self-signed certificate (pierd --gen-cert) works with --ca-file; plain text to a TLS port
 * is refused with a clear answer and the server goes on serving. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "netclient.h"

static char cert_dir[64], cert[128], key[128];

/* Runs pier with args (NULL-terminated) and $PIER_PASSWORD; its stdout and stderr together
 * in *out (malloc'd). Returns the exit status, or -1. */
static int run_pier(const char *const *args, char **out)
{
	char path[160];
	const char *argv[32];
	int n = 0, status = 0, fd;
	pid_t pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pier.out", cert_dir);
	argv[n++] = PIER_CLI_PATH;
	while (*args != NULL && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(126);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		setenv("PIER_PASSWORD", HARNESS_PASSWORD, 1);
		execv(PIER_CLI_PATH, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	*out = calloc(1, 4096);
	f = fopen(path, "r");
	if (f != NULL && *out != NULL) {
		size_t got = fread(*out, 1, 4095, f);

		(*out)[got] = '\0';
	}
	if (f != NULL)
		fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_libpier(struct pierd *p, const char *user, struct pier_conn *plain)
{
	struct pier_tls_options pinned = { .ca_file = cert };
	struct pier_tls_options system = { 0 };
	struct pier_tls_options wrong_name = { .ca_file = cert, .server_name = "chat.example.org" };
	struct pier_tls_options insecure = { .insecure = true };
	struct pier_conn *c;
	char *err = NULL;
	json_t *r;

	c = pier_conn_open_tls("127.0.0.1", pierd_tls_port_str(p), HARNESS_TIMEOUT_MS, &system, &err);
	CHECK(c == NULL && err != NULL && strstr(err, "does not verify") != NULL,
	      "a self-signed certificate fails against the system store: %s", err ? err : "(none)");
	free(err);
	pier_conn_close(c);
	c = pier_conn_open_tls("127.0.0.1", pierd_tls_port_str(p), HARNESS_TIMEOUT_MS, &wrong_name,
	                       &err);
	CHECK(c == NULL && err != NULL, "the pinned certificate for another name fails: %s",
	      err ? err : "(none)");
	free(err);
	pier_conn_close(c);
	c = pier_conn_open_tls("localhost", pierd_tls_port_str(p), HARNESS_TIMEOUT_MS, &insecure, &err);
	CHECK(c != NULL, "--insecure connects: %s", err ? err : "");
	free(err);
	r = client_call(c, pier_req_ping());
	CHECK(is_op(r, "pong"), "ping over an unchecked TLS connection: %s", jdump(r));
	json_decref(r);
	pier_conn_close(c);

	/* the pinned certificate: by IP address and by name */
	c = pier_conn_open_tls("localhost", pierd_tls_port_str(p), HARNESS_TIMEOUT_MS, &pinned, &err);
	CHECK(c != NULL, "pinned certificate, name localhost: %s", err ? err : "");
	free(err);
	pier_conn_close(c);
	c = client_connect_tls(p, &pinned);
	r = client_call(c, pier_req_login(user, HARNESS_PASSWORD));
	CHECK(is_op(r, "login") && jint(r, "status", -9) == 1, "login over TLS: %s", jdump(r));
	json_decref(r);
	json_decref(client_wait_op(c, "users"));
	client_drain(plain);
	CHECK(client_send(c, "#lobby", "over TLS", NULL, NULL) > 0, "send over TLS");
	json_decref(client_wait_msg(plain, "over TLS"));
	CHECK(client_send(plain, "#lobby", "over TCP", NULL, NULL) > 0, "send over TCP");
	json_decref(client_wait_msg(c, "over TCP"));
	/* many replies at once: more than one TLS record, decrypted data waiting in OpenSSL */
	for (int i = 0; i < 200; i++)
		pier_conn_send(c, pier_req_users(), NULL);
	for (int i = 0; i < 200; i++) {
		json_t *ev = pier_conn_wait_op(c, "users", HARNESS_TIMEOUT_MS);

		if (!CHECK(ev != NULL, "pipelined reply %d over TLS", i))
			break;
		json_decref(ev);
	}
	pier_conn_close(c);
}

static void test_cli(struct pierd *p, const char *user)
{
	const char *port = pierd_tls_port_str(p);
	char *out = NULL;
	int rc;

	rc = run_pier((const char *[]){ "--port", port, "--ca-file", cert, "--user", user, "who", NULL },
	              &out);
	CHECK(rc == 0 && out != NULL && strstr(out, user) != NULL,
	      "pier --ca-file over TLS: exit %d, output %s", rc, out ? out : "");
	free(out);
	out = NULL;
	rc = run_pier((const char *[]){ "--port", port, "--tls", "--user", user, "who", NULL }, &out);
	CHECK(rc == 1 && out != NULL && strstr(out, "does not verify") != NULL,
	      "pier --tls checks the certificate by default: exit %d, output %s", rc, out ? out : "");
	free(out);
	out = NULL;
	rc = run_pier((const char *[]){ "--port", port, "--insecure", "--user", user, "send", "--to",
	                                "#lobby", "from", "pier", NULL }, &out);
	CHECK(rc == 0, "pier --insecure sends: exit %d, output %s", rc, out ? out : "");
	free(out);
	out = NULL;
	rc = run_pier((const char *[]){ "--port", pierd_port_str(p), "--tls", "--insecure", "--user",
	                                user, "who", NULL }, &out);
	CHECK(rc == 1, "pier --tls to the plain port fails: exit %d, output %s", rc, out ? out : "");
	free(out);
}

static void test_plain_to_tls(struct pierd *p)
{
	struct net *n = net_connect(pierd_tls_port(p), NULL, 5000);
	struct http_reply r = {0};
	const char *data;
	size_t len;
	char req[128];

	if (CHECK(n != NULL, "plain connect to the TLS port")) {
		net_send(n, "{\"op\":\"ping\"}\n", 14);
		CHECK(net_read_until_closed(n, HARNESS_TIMEOUT_MS), "plain text to the TLS port: closed");
		data = net_data(n, &len);
		CHECK(strstr(data, "\"tls_required\"") != NULL && strstr(data, "\"fatal\":true") != NULL,
		      "plain text to the TLS port: a tls_required error line first: %.200s", data);
	}
	net_close(n);
	/* garbage that looks like a handshake record */
	n = net_connect(pierd_tls_port(p), NULL, 5000);
	if (CHECK(n != NULL, "connect to the TLS port")) {
		net_send(n, "\x16\x03\x01\x00\x05hello-not-tls", 19);
		CHECK(net_read_until_closed(n, HARNESS_TIMEOUT_MS), "a broken handshake: closed");
	}
	net_close(n);
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	CHECK(http_exchange(pierd_https_port(p), NULL, req, &r) == 0 && r.status == 400 &&
	      strstr(r.body, "HTTPS") != NULL,
	      "plain HTTP to the HTTPS port: 400 saying so (got %d)", r.status);
	http_reply_free(&r);
}

static void test_https_wss(struct pierd *p, const char *user, struct pier_conn *plain)
{
	struct http_reply r = {0};
	struct ws_client *w;
	char origin[64];
	int status;
	json_t *reply;

	CHECK(http_exchange(pierd_https_port(p), cert,
	                    "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", &r) == 0 &&
	      r.status == 200 && strcmp(r.body, "ok\n") == 0, "GET /healthz over HTTPS (got %d)",
	      r.status);
	http_reply_free(&r);
	snprintf(origin, sizeof(origin), "https://127.0.0.1:%d", pierd_https_port(p));
	w = ws_open(pierd_https_port(p), cert, origin, &status);
	if (!CHECK(w != NULL, "wss:// handshake (status %d)", status))
		return;
	reply = ws_call(w, pier_req_login(user, HARNESS_PASSWORD), HARNESS_TIMEOUT_MS);
	CHECK(is_op(reply, "login") && jint(reply, "status", -9) == 1, "login over wss: %s",
	      jdump(reply));
	json_decref(reply);
	client_drain(plain);
	reply = ws_call(w, pier_req_send("#lobby", "over wss", NULL), HARNESS_TIMEOUT_MS);
	CHECK(is_op(reply, "sent"), "send over wss: %s", jdump(reply));
	json_decref(reply);
	json_decref(client_wait_msg(plain, "over wss"));
	CHECK(client_send(plain, "#lobby", "to wss", NULL, NULL) > 0, "send to the wss session");
	reply = ws_wait_op(w, "msg", HARNESS_TIMEOUT_MS);
	CHECK(reply != NULL && strcmp(jstr(reply, "text") ? jstr(reply, "text") : "", "to wss") == 0,
	      "the wss session gets it: %s", jdump(reply));
	json_decref(reply);
	ws_free(w);
}

int main(void)
{
	char user[HARNESS_NAME_MAX], user2[HARNESS_NAME_MAX];
	const char *tmp = getenv("TMPDIR");
	struct pierd *p;
	struct pier_conn *plain;

	harness_watchdog(180);
	snprintf(cert_dir, sizeof(cert_dir), "%s/pier-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	REQUIRE(mkdtemp(cert_dir) != NULL, harness_done(), "mkdtemp: %s", strerror(errno));
	snprintf(cert, sizeof(cert), "%s/cert.pem", cert_dir);
	snprintf(key, sizeof(key), "%s/key.pem", cert_dir);
	REQUIRE(harness_gen_cert(cert_dir) == 0, harness_done(), "pierd --gen-cert");
	{
		const char *const args[] = { "--no-rate-limits", "--tls-cert", cert, "--tls-key", key,
		                             "--tls-listen", "127.0.0.1:0", "--https", "127.0.0.1:0",
		                             NULL };

		p = pierd_start(args);
	}
	REQUIRE(p != NULL, harness_done(), "pierd starts with TLS");
	REQUIRE(pierd_tls_port(p) > 0 && pierd_https_port(p) > 0, harness_done(),
	        "pierd logs its TLS ports");
	plain = client_new_user(p, "plain", user);
	{
		struct pier_conn *c = client_connect(p);

		harness_user(user2, "tls");
		CHECK(client_register(c, user2, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register");
		pier_conn_close(c);
	}
	test_libpier(p, user2, plain);
	test_cli(p, user2);
	test_plain_to_tls(p);
	test_https_wss(p, user2, plain);
	CHECK(client_send(plain, "#lobby", "still serving", NULL, NULL) > 0,
	      "the plain port still serves");
	pier_conn_close(plain);
	CHECK(pierd_is_running(p), "pierd still runs");
	CHECK(pierd_stop(p), "pierd stops cleanly");
	unlink(cert);
	unlink(key);
	{
		char out[160];

		snprintf(out, sizeof(out), "%s/pier.out", cert_dir);
		unlink(out);
	}
	rmdir(cert_dir);
	return harness_done();
}
