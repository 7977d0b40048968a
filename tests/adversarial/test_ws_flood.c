/* test_ws_flood.c - adversarial: a WebSocket client floods masked empty PINGs and never reads
 * (its receive buffer is 4 KiB). Every PING makes a PONG; they must count in the connection's
 * output budget, so that pierd stops reading the flood instead of queueing PONGs without
 * bound. Asserts: pierd's RSS grows by less than a fixed bound over a bounded flood; the
 * attacker is dropped (it answers no ping) within the ping deadline; a bystander is served;
 * pierd's descriptors return to where they were.
 */
#include "attack.h"

#define FLOOD_MS     3000
#define FLOOD_MAX    (512u << 20)
#define RSS_BOUND_KB (48 * 1024)

static int ws_connect_raw(int port)
{
	static const char req[] = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	                          "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
	char buf[2048];
	int fd = atk_connect(port, 4096);

	if (fd < 0)
		return -1;
	if (atk_send_all(fd, req, sizeof(req) - 1, 5000) != 0 ||
	    !atk_read_until(fd, "\r\n\r\n", buf, sizeof(buf), 5000) ||
	    strncmp(buf, "HTTP/1.1 101", 12) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(void)
{
	static const char *const args[] = { "--ws-ping-interval", "1", "--ws-ping-timeout", "2", NULL };
	/* FIN + PING, MASK + length 0, the mask key. */
	static const unsigned char ping[6] = { 0x89, 0x80, 0x11, 0x22, 0x33, 0x44 };
	struct pierd *pd;
	int pid, fd, fds0, fds1;
	long rss0, rss1;
	size_t sent;
	bool closed;

	harness_watchdog(90);
	atk_small_quarantine();
	pd = pierd_start(args);
	REQUIRE(pd != NULL, harness_done(), "pierd starts");
	pid = pierd_pid(pd);
	fds0 = atk_fd_count(pid);
	fd = ws_connect_raw(pierd_http_port(pd));
	REQUIRE(fd >= 0, harness_done(), "the WebSocket upgrade answers 101");
	rss0 = atk_rss_kib(pid);
	sent = atk_flood(fd, ping, sizeof(ping), FLOOD_MAX, FLOOD_MS, &closed);
	rss1 = atk_rss_kib(pid);
	fprintf(stderr, "# flood: %zu bytes of PINGs sent (%s), RSS %ld -> %ld KiB\n", sent,
	        closed ? "dropped" : "not dropped", rss0, rss1);
	CHECK(rss0 > 0 && rss1 - rss0 < RSS_BOUND_KB,
	      "pierd's RSS grows by less than %d MiB under the PING flood (%ld KiB)",
	      RSS_BOUND_KB / 1024, rss1 - rss0);
	CHECK(closed || atk_wait_closed(fd, 8000),
	      "the flooder, which reads nothing, is dropped within the ping deadline");
	close(fd);
	atk_bystander_ok(pd);
	fds1 = atk_wait_fds(pid, fds0, 5000);
	CHECK(fds1 <= fds0, "pierd's descriptors return to %d (now %d)", fds0, fds1);
	CHECK(pierd_is_running(pd), "pierd still runs");
	CHECK(pierd_stop(pd), "pierd stops cleanly");
	return harness_done();
}
