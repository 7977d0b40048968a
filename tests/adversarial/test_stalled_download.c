/* test_stalled_download.c - adversarial: a download whose client never reads. The attacker
 * asks for a large file with a 4 KiB receive buffer and then reads nothing; pierd's write
 * stops making progress and must be given up after --http-write-timeout seconds. Asserts:
 * the connection is closed within the deadline (plus the 1 s tick and slack), pierd's
 * descriptors return to where they were, a bystander is served.
 */
#include "attack.h"

#define FILE_SIZE (24u << 20)

int main(void)
{
	static const char *const args[] = { "--http-write-timeout", "2", "--no-rate-limits", NULL };
	struct pierd *pd;
	struct pier_conn *c;
	char user[HARNESS_NAME_MAX], head[1024], buf[8192];
	const char *token, *p;
	json_t *r;
	char *body;
	long long id = -1;
	int pid, fd, fds0, fds1, n;
	int64_t t0;

	harness_watchdog(90);
	atk_small_quarantine();
	pd = pierd_start(args);
	REQUIRE(pd != NULL, harness_done(), "pierd starts");
	pid = pierd_pid(pd);
	c = client_connect(pd);
	REQUIRE(c != NULL, harness_done(), "connect");
	harness_user(user, "dl");
	REQUIRE(client_register(c, user, HARNESS_PASSWORD) == 3, harness_done(), "register");
	r = client_call(c, pier_req_login(user, HARNESS_PASSWORD));
	token = jstr(r, "token");
	REQUIRE(token != NULL, harness_done(), "login gives a token");

	/* Upload the file to download. */
	body = malloc(FILE_SIZE);
	REQUIRE(body != NULL, harness_done(), "memory");
	memset(body, 'z', FILE_SIZE);
	n = snprintf(head, sizeof(head), "POST /api/media?name=big.bin HTTP/1.1\r\nHost: x\r\n"
	             "Authorization: Bearer %s\r\nContent-Type: application/octet-stream\r\n"
	             "Content-Length: %u\r\n\r\n", token, FILE_SIZE);
	fd = atk_connect(pierd_http_port(pd), 0);
	REQUIRE(fd >= 0, harness_done(), "connect to the HTTP port");
	CHECK(atk_send_all(fd, head, (size_t)n, 5000) == 0 &&
	      atk_send_all(fd, body, FILE_SIZE, 30000) == 0, "upload sent");
	free(body);
	if (atk_read_until(fd, "}", buf, sizeof(buf), 20000) && (p = strstr(buf, "\"id\":")) != NULL)
		id = strtoll(p + 5, NULL, 10);
	close(fd);
	REQUIRE(id > 0, harness_done(), "the upload is stored: %.200s", buf);

	/* The stalled download. */
	fds0 = atk_fd_count(pid);
	fd = atk_connect(pierd_http_port(pd), 4096);
	REQUIRE(fd >= 0, harness_done(), "connect to the HTTP port");
	n = snprintf(head, sizeof(head), "GET /media/%lld HTTP/1.1\r\nHost: x\r\n"
	             "Authorization: Bearer %s\r\n\r\n", id, token);
	json_decref(r);
	CHECK(atk_send_all(fd, head, (size_t)n, 5000) == 0, "the download is asked for");
	t0 = atk_now_ms();
	/* Read nothing: pierd's side of the connection must go (its descriptor is released)
	 * within the deadline, the tick and slack, while ours is still open and unread. */
	usleep(500 * 1000);
	CHECK(atk_fd_count(pid) > fds0, "the download is being served");
	fds1 = atk_wait_fds(pid, fds0, 10000);
	CHECK(fds1 <= fds0, "pierd gives up the stalled download: descriptors back to %d (now %d, "
	      "%lld ms)", fds0, fds1, (long long)(atk_now_ms() - t0));
	close(fd);
	atk_bystander_ok(pd);
	pier_conn_close(c);
	CHECK(pierd_is_running(pd), "pierd still runs");
	CHECK(pierd_stop(pd), "pierd stops cleanly");
	return harness_done();
}
