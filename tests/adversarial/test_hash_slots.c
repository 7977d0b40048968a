/* test_hash_slots.c - adversarial: --max-hash-jobs holds for logins fired in parallel.
 *
 * With real argon2id (not the tests' cheap setting), one hashing thread and 4 slots, 40 logins
 * with the right password arrive at once on 40 connections. A login takes its slot before
 * the user is even loaded, so no more than 4 are ever in progress (pierd's own high-water mark,
 * from /metrics) and the rest are answered "busy" at once instead of queueing argon2 work
 * (64 MiB each) without bound. Every request gets an answer; pierd keeps serving. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "netclient.h"
#include "rawline.h"

#define LOGINS 40
#define SLOTS  4

static const char *const args[] = { "--weak-password-hash=false", "--max-hash-jobs", "4",
	                             "--hash-threads", "1", "--no-rate-limits", NULL };

static long metric(struct pierd *p, const char *name)
{
	return http_metric(pierd_http_port(p), name);
}

int main(void)
{
	char user[HARNESS_NAME_MAX];
	struct rawline *s[LOGINS] = {0};
	struct pier_conn *c;
	struct pierd *p;
	int ok = 0, busy = 0, answered = 0;
	long peak;

	harness_watchdog(110);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	c = client_new_user(p, "slots", user);
	REQUIRE(c != NULL, harness_done(), "user registers (real argon2id)");
	pier_conn_close(c);
	for (int i = 0; i < LOGINS; i++) {
		s[i] = raw_connect(pierd_port(p));
		REQUIRE(s[i] != NULL, harness_done(), "connection %d", i);
	}
	for (int i = 0; i < LOGINS; i++)
		raw_send_json(s[i], json_pack("{s:s, s:s, s:s}", "op", "login", "user", user,
		                              "password", HARNESS_PASSWORD));
	for (int i = 0; i < LOGINS; i++) {
		json_t *j = raw_next(s[i], 60000);

		while (j != NULL && !is_op(j, "login") && !is_op(j, "error")) {
			json_decref(j);
			j = raw_next(s[i], 60000);
		}
		answered += j != NULL;
		ok += j != NULL && is_op(j, "login") && jint(j, "status", 0) == 1;
		busy += j != NULL && is_error(j, "busy");
		json_decref(j);
	}
	peak = metric(p, "pier_password_slots_peak");
	fprintf(stderr, "# %d parallel logins, %d slots: %d logged in, %d busy, peak %ld slots\n",
	        LOGINS, SLOTS, ok, busy, peak);
	CHECK(answered == LOGINS, "every login is answered (%d)", answered);
	CHECK(ok + busy == LOGINS, "each logged in or was told busy (%d + %d)", ok, busy);
	CHECK(ok >= 1, "logins went through (%d)", ok);
	CHECK(busy >= 1, "past the slots, logins are refused at once (%d busy)", busy);
	CHECK(peak >= 1 && peak <= SLOTS, "never more than %d password requests in progress (peak %ld)",
	      SLOTS, peak);
	CHECK(metric(p, "pier_password_slots_in_use") == 0, "every slot is given back");
	for (int i = 0; i < LOGINS; i++)
		raw_free(s[i]);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
