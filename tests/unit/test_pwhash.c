/* test_pwhash.c - the password pool (pwhash.c): the tests' cheap hash (--weak-password-hash)
 * is made and checked on the loop with its done callback on a later turn, never inside the
 * submit; malformed weak hashes are refused, not crashed on; argon2id still goes to the
 * threads and its hashes are still checked. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "pwhash.h"
#include "tap.h"

struct waiter {
	int done;
};

static void on_done(struct pwhash_job *job)
{
	struct waiter *w = job->data;

	w->done++;
}

/* Submits job and runs the loop until its callback ran; whether it ran inside the submit. */
static bool run(uv_loop_t *loop, struct pwhash_pool *p, struct pwhash_job *job)
{
	struct waiter w = {0};
	bool inside;

	job->data = &w;
	job->done = on_done;
	pwhash_submit(p, job);
	inside = w.done != 0;
	while (w.done == 0)
		uv_run(loop, UV_RUN_ONCE);
	return inside;
}

static bool verify(uv_loop_t *loop, struct pwhash_pool *p, const char *hash, const char *pw)
{
	struct pwhash_job job = {.kind = PWHASH_VERIFY, .password = pw};

	snprintf(job.hash, sizeof(job.hash), "%s", hash);
	run(loop, p, &job);
	return job.ok;
}

int main(void)
{
	uv_loop_t loop;
	struct pwhash_pool *p;
	struct pwhash_job job = {.kind = PWHASH_CREATE, .weak = true, .password = "secret-pw"};
	char weak[crypto_pwhash_STRBYTES], other[crypto_pwhash_STRBYTES];
	char bad[crypto_pwhash_STRBYTES + 4];
	unsigned long long before;

	if (sodium_init() < 0 || uv_loop_init(&loop) != 0)
		return 1;
	p = pwhash_pool_new(&loop, 1, 4);
	if (!CHECK(p != NULL, "pool starts"))
		return tap_done();

	CHECK(!run(&loop, p, &job), "a weak job's callback does not run inside the submit");
	CHECK(job.ok && pwhash_is_weak(job.hash) && strncmp(job.hash, "$argon2", 7) != 0,
	      "weak hash made: %s", job.hash);
	snprintf(weak, sizeof(weak), "%s", job.hash);
	run(&loop, p, &job);
	snprintf(other, sizeof(other), "%s", job.hash);
	CHECK(strcmp(weak, other) != 0, "each weak hash has its own salt");

	CHECK(verify(&loop, p, weak, "secret-pw"), "the right password matches the weak hash");
	CHECK(!verify(&loop, p, weak, "secret-pX"), "a wrong password does not");
	CHECK(!verify(&loop, p, weak, ""), "nor an empty one");
	CHECK(verify(&loop, p, other, "secret-pw"), "the second hash matches too");

	/* Malformed weak hashes: refused, never read past their end. */
	{
		static const char *const cut[] = {
			"$pier-weak$v=1$", "$pier-weak$v=1$$", "$pier-weak$v=1$abc$def",
			"$pier-weak$v=1$AAAAAAAAAAAAAAAAAAAAAA", "$pier-weak$v=1$!!!!$xyz",
		};
		size_t dollar = strrchr(weak, '$') - weak;

		for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
			CHECK(!verify(&loop, p, cut[i], "secret-pw"), "malformed refused: %s", cut[i]);
		snprintf(bad, sizeof(bad), "%.*s", (int)(dollar + 5), weak);
		CHECK(!verify(&loop, p, bad, "secret-pw"), "a truncated digest is refused");
		snprintf(bad, sizeof(bad), "%sAA", weak);
		CHECK(!verify(&loop, p, bad, "secret-pw"), "a longer digest is refused");
		snprintf(bad, sizeof(bad), "%s", weak);
		bad[strlen("$pier-weak$v=1$") + 1] ^= 1;
		CHECK(!verify(&loop, p, bad, "secret-pw"), "another salt does not match");
	}

	/* An argon2id hash (libsodium's cheapest, for speed) is checked on the threads. */
	before = pwhash_count(p);
	{
		struct pwhash_job a = {.kind = PWHASH_CREATE, .weak = false, .password = "secret-pw"};

		CHECK(crypto_pwhash_str(a.hash, "secret-pw", 9, crypto_pwhash_OPSLIMIT_MIN,
		                        crypto_pwhash_MEMLIMIT_MIN) == 0 && !pwhash_is_weak(a.hash),
		      "an argon2id hash is not weak");
		CHECK(verify(&loop, p, a.hash, "secret-pw"), "argon2id still verified (threads)");
		CHECK(!verify(&loop, p, a.hash, "secret-pX"), "argon2id wrong password refused");
	}
	CHECK(pwhash_count(p) == before + 2, "every done callback counted");

	pwhash_pool_free(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(uv_loop_close(&loop) == 0, "every handle closed");
	return tap_done();
}
