/* test_pipeline.c - adversarial: HTTP pipelining without reading. The attacker pipelines
 * GET /healthz as fast as it can with a 4 KiB receive buffer and never reads. Answers must
 * not be made faster than they are written: pierd stops parsing the next request while the
 * connection's output is over its soft mark, and stops reading. Asserts: pierd's RSS grows
 * by less than a fixed bound over a bounded flood; a bystander is served meanwhile; once the
 * attacker leaves, pierd's descriptors return to where they were.
 */
#include "attack.h"

#define FLOOD_MS     3000
#define FLOOD_MAX    (512u << 20)
#define RSS_BOUND_KB (48 * 1024)

int main(void)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct pierd *pd;
	int pid, fd, fds0, fds1;
	long rss0, rss1;
	size_t sent;
	bool closed;

	harness_watchdog(90);
	atk_small_quarantine();
	pd = pierd_start(NULL);
	REQUIRE(pd != NULL, harness_done(), "pierd starts");
	pid = pierd_pid(pd);
	fds0 = atk_fd_count(pid);
	fd = atk_connect(pierd_http_port(pd), 4096);
	REQUIRE(fd >= 0, harness_done(), "connect to the HTTP port");
	rss0 = atk_rss_kib(pid);
	sent = atk_flood(fd, req, sizeof(req) - 1, FLOOD_MAX, FLOOD_MS, &closed);
	rss1 = atk_rss_kib(pid);
	fprintf(stderr, "# pipeline: %zu bytes of requests sent (%s), RSS %ld -> %ld KiB\n", sent,
	        closed ? "dropped" : "not dropped", rss0, rss1);
	CHECK(rss0 > 0 && rss1 - rss0 < RSS_BOUND_KB,
	      "pierd's RSS grows by less than %d MiB under the pipelined flood (%ld KiB)",
	      RSS_BOUND_KB / 1024, rss1 - rss0);
	atk_bystander_ok(pd);
	close(fd);
	fds1 = atk_wait_fds(pid, fds0, 8000);
	CHECK(fds1 <= fds0, "pierd's descriptors return to %d (now %d)", fds0, fds1);
	CHECK(pierd_is_running(pd), "pierd still runs");
	CHECK(pierd_stop(pd), "pierd stops cleanly");
	return harness_done();
}
