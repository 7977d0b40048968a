/* test_json_stall.c - adversarial: a JSON-lines session asks for a lot and never reads.
 *
 * Below the output limit its answers would wait in pierd forever (a descriptor and up to
 * --max-output of memory per such client). Every connection state has a deadline: once the
 * peer takes no output for --http-write-timeout, the session is closed, on the plain JSON
 * port as on WebSocket and HTTP. A bystander that reads is served meanwhile and stays. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attack.h"
#include "harness.h"
#include "rawline.h"

#define NMSG     200
#define TEXT_LEN 15000
#define ASKS     10          /* history pages of ~3 MB each: far past the socket buffers */

static const char *const args[] = { "--http-write-timeout", "2", "--max-output", "256M",
	                             "--msg-burst", "1000", "--msg-rate", "1000", NULL };

int main(void)
{
	char user[HARNESS_NAME_MAX], other[HARNESS_NAME_MAX];
	static char text[TEXT_LEN + 1];
	struct rawline *staller, *bystander;
	struct pier_conn *c;
	struct pierd *p;
	json_t *rep;
	int pid, fds0, fds;

	harness_watchdog(90);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	pid = pierd_pid(p);
	c = client_new_user(p, "stall", user);
	REQUIRE(c != NULL, harness_done(), "user registers");
	memset(text, 'x', TEXT_LEN);
	for (int i = 0; i < NMSG; i++)
		client_send(c, "#lobby", text, NULL, NULL);
	pier_conn_close(c);
	c = client_new_user(p, "bystd", other);
	REQUIRE(c != NULL, harness_done(), "bystander registers");
	pier_conn_close(c);
	bystander = raw_connect(pierd_port(p));
	rep = bystander != NULL ? raw_login(bystander, other, HARNESS_PASSWORD, NULL) : NULL;
	REQUIRE(rep != NULL, harness_done(), "bystander logs in");
	json_decref(rep);
	usleep(200 * 1000);
	fds0 = atk_fd_count(pid);

	staller = raw_connect_rcvbuf(pierd_port(p), 4096);
	rep = staller != NULL ? raw_login(staller, user, HARNESS_PASSWORD, NULL) : NULL;
	REQUIRE(rep != NULL, harness_done(), "the staller logs in");
	json_decref(rep);
	for (int i = 0; i < ASKS; i++)
		raw_send_json(staller, json_pack("{s:s, s:s, s:i}", "op", "history", "with", "#lobby",
		                                 "limit", 200));
	CHECK(atk_fd_count(pid) > fds0, "the staller's session is open");

	/* It never reads again. Within the deadline (2 s) plus a tick, pierd lets it go. */
	fds = atk_wait_fds(pid, fds0, 15000);
	CHECK(fds <= fds0, "the session that took no output is closed (%d -> %d descriptors)",
	      fds0, fds);
	CHECK(pierd_log_contains(p, "took no output"), "pierd says why");
	raw_send_json(bystander, json_pack("{s:s}", "op", "ping"));
	rep = raw_wait_op(bystander, "pong", 10000);
	CHECK(rep != NULL, "the bystander, which reads, is served and stays");
	json_decref(rep);
	raw_free(staller);
	raw_free(bystander);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
