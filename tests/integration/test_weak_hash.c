/* test_weak_hash.c - integration: the tests' cheap password hash (--weak-password-hash, a
 * salted BLAKE2b, pwhash.c) and argon2id side by side on one data directory: an account
 * registered under the option still logs in on a server without it (wrong passwords still
 * refused), and one registered with argon2id logs in on a server with it. */
#define _GNU_SOURCE   /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *const weak_args[] = { "--no-rate-limits", NULL };

/* A login on a fresh connection with password pw: its status (HARNESS_NO_STATUS if none). */
static int64_t login_status(struct pierd *p, const char *user, const char *pw)
{
	struct pier_conn *c = client_connect(p);
	json_t *r;
	int64_t status = HARNESS_NO_STATUS;

	if (c == NULL)
		return status;
	r = client_call(c, pier_req_login(user, pw));
	if (r != NULL)
		status = jint(r, "status", HARNESS_NO_STATUS);
	json_decref(r);
	pier_conn_close(c);
	return status;
}

int main(void)
{
	char weak_user[HARNESS_NAME_MAX], strong_user[HARNESS_NAME_MAX];
	struct pierd *weak, *strong, *again;
	struct pier_conn *c;

	harness_watchdog(120);
	weak = pierd_start(weak_args);
	if (weak == NULL)
		return harness_done();
	c = client_new_user(weak, "weakhash", weak_user);
	if (c != NULL)
		pier_conn_close(c);
	CHECK(login_status(weak, weak_user, "not-the-password") == -1,
	      "a wrong password is refused under the weak hash");
	if (!CHECK(pierd_stop(weak), "the weak-hashing server stops cleanly"))
		return harness_done();
	{
		size_t len = 0;
		char *dump = pierd_store_dump(weak, &len);

		CHECK(dump != NULL && memmem(dump, len, "$pier-weak$v=1$", 15) != NULL &&
		      memmem(dump, len, "$argon2id$", 10) == NULL,
		      "the store holds the weak hash, no argon2id one");
		free(dump);
	}

	{
		const char *const args[] = { "--no-rate-limits", "--weak-password-hash=false",
		                             "--data-dir", pierd_dir(weak), NULL };

		strong = pierd_start(args);
	}
	if (strong == NULL)
		return harness_done();
	CHECK(login_status(strong, weak_user, HARNESS_PASSWORD) == 1,
	      "an account registered with the weak hash logs in on a server without the option");
	CHECK(login_status(strong, weak_user, "not-the-password") == -1,
	      "and a wrong password is still refused there");
	c = client_new_user(strong, "stronghash", strong_user);
	if (c != NULL)
		pier_conn_close(c);
	if (!CHECK(pierd_stop(strong), "the argon2id server stops cleanly"))
		return harness_done();

	{
		const char *const args[] = { "--no-rate-limits", "--data-dir", pierd_dir(weak), NULL };

		again = pierd_start(args);
	}
	if (again == NULL)
		return harness_done();
	CHECK(login_status(again, strong_user, HARNESS_PASSWORD) == 1,
	      "an argon2id account logs in on a server with the weak option");
	CHECK(login_status(again, strong_user, "not-the-password") == -1,
	      "and its wrong password is refused");
	CHECK(login_status(again, weak_user, HARNESS_PASSWORD) == 1, "the weak account too");
	return harness_done();
}
