/* test_rate_per_user.c - adversarial: one user, one token, many sessions, every session
 * pipelining sends as fast as it can. The message rate is the user's, not the session's: the
 * messages accepted over the run stay within one burst plus the rate times the run's length,
 * however many sessions share it. A second user sending meanwhile keeps its own full burst. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "rawline.h"

#define NSESS   16
#define PER     40          /* sends pipelined per session */
#define BURST   5
#define RATE    2

static const char *const args[] = { "--msg-burst", "5", "--msg-rate", "2",
	                             "--max-conns-per-addr", "64", NULL };

int main(void)
{
	char user[HARNESS_NAME_MAX], other[HARNESS_NAME_MAX];
	struct rawline *s[NSESS] = {0}, *b;
	struct pier_conn *c;
	struct pierd *p;
	json_t *rep;
	char *token;
	long long t0, t1;
	int accepted = 0, limited = 0, b_ok = 0;

	harness_watchdog(55);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	c = client_new_user(p, "rateu", user);
	REQUIRE(c != NULL, harness_done(), "user registers");
	pier_conn_close(c);
	c = client_new_user(p, "rateo", other);
	REQUIRE(c != NULL, harness_done(), "other user registers");
	pier_conn_close(c);

	s[0] = raw_connect(pierd_port(p));
	REQUIRE(s[0] != NULL, harness_done(), "connects");
	rep = raw_login(s[0], user, HARNESS_PASSWORD, NULL);
	REQUIRE(rep != NULL, harness_done(), "logs in");
	token = strdup(jstr(rep, "token"));
	json_decref(rep);
	for (int i = 1; i < NSESS; i++) {
		s[i] = raw_connect(pierd_port(p));
		REQUIRE(s[i] != NULL, harness_done(), "session %d connects", i);
		rep = raw_login(s[i], NULL, NULL, token);
		REQUIRE(rep != NULL, harness_done(), "session %d logs in with the token", i);
		json_decref(rep);
	}
	b = raw_connect(pierd_port(p));
	REQUIRE(b != NULL, harness_done(), "bystander connects");
	rep = raw_login(b, other, HARNESS_PASSWORD, NULL);
	REQUIRE(rep != NULL, harness_done(), "bystander logs in");
	json_decref(rep);

	/* Every session fires at once; the clock runs from the first send to the last answer. */
	t0 = raw_now_ms();
	for (int k = 0; k < PER; k++)
		for (int i = 0; i < NSESS; i++)
			raw_send_json(s[i], json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", "#lobby",
			                              "text", "rate", "ref", "r"));
	for (int i = 0; i < NSESS; i++) {
		int answers = 0;
		json_t *j;

		while (answers < PER && (j = raw_next(s[i], 10000)) != NULL) {
			if (is_op(j, "sent")) {
				accepted++;
				answers++;
			} else if (is_op(j, "error")) {
				limited += is_error(j, "rate_limited");
				answers++;
			}
			json_decref(j);
		}
		CHECK(answers == PER, "session %d: every send answered (%d of %d)", i, answers, PER);
	}
	t1 = raw_now_ms();
	/* The bound holds whatever the machine's speed: the run's own length is in it. */
	CHECK(accepted <= BURST + RATE * (t1 - t0) / 1000.0 + 1,
	      "%d accepted from %d sessions in %lld ms: within one user's burst %d + %d/s", accepted,
	      NSESS, t1 - t0, BURST, RATE);
	CHECK(accepted >= 1 && limited == NSESS * PER - accepted,
	      "the rest were rate_limited (%d)", limited);
	fprintf(stderr, "# %d of %d sends accepted in %lld ms from %d sessions\n", accepted,
	        NSESS * PER, t1 - t0, NSESS);

	/* The other user's bucket is its own: a full burst goes through. */
	for (int k = 0; k < BURST; k++)
		raw_send_json(b, json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", "#lobby",
		                           "text", "bystander", "ref", "b"));
	for (int k = 0; k < BURST; k++) {
		json_t *j = raw_next(b, 10000);

		while (j != NULL && !is_op(j, "sent") && !is_op(j, "error")) {
			json_decref(j);
			j = raw_next(b, 10000);
		}
		b_ok += j != NULL && is_op(j, "sent");
		json_decref(j);
	}
	CHECK(b_ok == BURST, "the other user sends its whole burst (%d of %d)", b_ok, BURST);
	for (int i = 0; i < NSESS; i++)
		raw_free(s[i]);
	free(token);
	raw_free(b);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
