/* test_classroom.c - integration: a class of 60 behind one NAT registers at once with the
 * default limits (the 11th student was refused before); the 61st registration from that
 * address is rate_limited with a retry time, so one address still cannot flood. */
#include <stdio.h>

#include "harness.h"

#define CLASS 60

int main(void)
{
	struct pier_conn *c;
	struct pierd *p;
	json_t *r;
	int ok = 0;

	harness_watchdog(60);
	p = pierd_start(NULL);
	REQUIRE(p != NULL, harness_done(), "pierd starts with the default limits");
	c = client_connect(p);
	REQUIRE(c != NULL, harness_done(), "connects");
	for (int i = 0; i < CLASS; i++) {
		char name[HARNESS_NAME_MAX];

		harness_user(name, "pupil");
		ok += client_register(c, name, HARNESS_PASSWORD) == 3;
	}
	CHECK(ok == CLASS, "%d of %d students register from one address", ok, CLASS);
	{
		char name[HARNESS_NAME_MAX];

		harness_user(name, "pupil");
		r = client_call(c, pier_req_register(name, HARNESS_PASSWORD));
	}
	CHECK(r != NULL && is_error(r, "rate_limited") && jint(r, "retry_after_ms", 0) > 1000,
	      "the next one waits: %s", jdump(r));
	json_decref(r);
	pier_conn_close(c);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
