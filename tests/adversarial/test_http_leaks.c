/* test_http_leaks.c - adversarial: an error answer given while an upload body is paused must
 * end the connection. An attacker sends POST /api/media (and tus PATCH / POST) with a body and
 * a bogus token (or a tus upload that does not exist), reads the 401 / 404 and leaves. 70 of them in a row (over --max-conns-per-addr,
 * 64): each connection is closed by pierd (EOF after the answer), pierd's descriptors return
 * to where they were, and /healthz and a JSON-port login are still served to the address.
 */
#include "attack.h"

#define ROUNDS 70

static struct pierd *pd;

/* One request with head and a first part of a body that is never finished: the answer must
 * come, and then the close (the rest of the body is not read). */
static bool attack_once(const char *head)
{
	static char body[2048];
	char buf[4096], req[1024];
	int fd = atk_connect(pierd_http_port(pd), 0);
	bool ok = true;

	if (fd < 0)
		return CHECK(false, "connect to the HTTP port");
	memset(body, 'A', sizeof(body));
	snprintf(req, sizeof(req), "%s", head);
	if (atk_send_all(fd, req, strlen(req), 5000) != 0 ||
	    atk_send_all(fd, body, sizeof(body), 5000) != 0)
		ok = CHECK(false, "send the request");
	if (ok && !atk_read_until(fd, "\r\n\r\n", buf, sizeof(buf), 5000))
		ok = CHECK(false, "an answer arrives: %.80s", buf);
	if (ok && strncmp(buf, "HTTP/1.1 4", 10) != 0)
		ok = CHECK(false, "the answer is an error (4xx): %.80s", buf);
	/* The server closes its side once the answer is out; we do not send the rest. */
	if (ok && !atk_wait_closed(fd, 5000))
		ok = CHECK(false, "pierd closes the connection after the error answer");
	close(fd);
	return ok;
}

int main(void)
{
	static const char *const args[] = { "--http-header-timeout", "3", NULL };
	const char *media_post = "POST /api/media?name=x.bin HTTP/1.1\r\nHost: x\r\n"
	                         "Authorization: Bearer bogus-token-000000\r\n"
	                         "Content-Type: application/octet-stream\r\n"
	                         "Content-Length: 1000000\r\n\r\n";
	const char *tus_patch = "PATCH /api/tus/nosuchupload HTTP/1.1\r\nHost: x\r\n"
	                        "Authorization: Bearer bogus-token-000000\r\n"
	                        "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
	                        "Content-Type: application/offset+octet-stream\r\n"
	                        "Content-Length: 1000000\r\n\r\n";
	const char *tus_post = "POST /api/tus HTTP/1.1\r\nHost: x\r\n"
	                       "Authorization: Bearer bogus-token-000000\r\n"
	                       "Tus-Resumable: 1.0.0\r\nUpload-Length: 1000000\r\n"
	                       "Content-Type: application/offset+octet-stream\r\n"
	                       "Content-Length: 1000000\r\n\r\n";
	int pid, fds0, fds1, failures = 0;

	harness_watchdog(120);
	atk_small_quarantine();
	pd = pierd_start(args);
	REQUIRE(pd != NULL, harness_done(), "pierd starts");
	pid = pierd_pid(pd);
	fds0 = atk_fd_count(pid);
	for (int i = 0; i < ROUNDS && failures < 3; i++) {
		const char *head = i % 3 == 0 ? media_post : i % 3 == 1 ? tus_patch : tus_post;

		if (!attack_once(head))
			failures++;
	}
	CHECK(failures == 0, "%d requests answered with an error while the body was paused: every one closed", ROUNDS);
	fds1 = atk_wait_fds(pid, fds0, 5000);
	CHECK(fds1 <= fds0, "pierd's descriptors return to %d (now %d)", fds0, fds1);
	atk_bystander_ok(pd);
	CHECK(pierd_is_running(pd), "pierd still runs");
	CHECK(pierd_stop(pd), "pierd stops cleanly");
	return harness_done();
}
