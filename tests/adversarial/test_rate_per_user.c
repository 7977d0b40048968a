/* test_rate_per_user.c - adversarial: one user, one token, many sessions, every session
 * pipelining sends (then other requests) as fast as it can. The rates are the user's, not the
 * session's: what is accepted over the run stays within one burst plus the rate times the
 * run's length, however many sessions share it. A second user sending meanwhile keeps its own
 * full burst. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "rawline.h"

#define NSESS   16
#define PER     40          /* sends pipelined per session */
#define BURST   5
#define RATE    2

static const char *const args[] = { "--msg-burst", "5", "--msg-rate", "2", "--req-burst", "5",
	                             "--req-rate", "2", "--max-conns-per-addr", "64", NULL };

/* Every session pipelines PER requests of op (a send when op is "send"); returns how many were
 * accepted (answered with answer_op), checking the rest were rate_limited. */
static int flood(struct rawline **s, const char *op, const char *answer_op, long long *ms)
{
	long long t0 = raw_now_ms();
	int accepted = 0, limited = 0;

	for (int k = 0; k < PER; k++)
		for (int i = 0; i < NSESS; i++)
			raw_send_json(s[i], strcmp(op, "send") == 0
			              ? json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", "#lobby",
			                          "text", "rate", "ref", "r")
			              : json_pack("{s:s, s:s}", "op", op, "ref", "r"));
	for (int i = 0; i < NSESS; i++) {
		int answers = 0;
		json_t *j;

		while (answers < PER && (j = raw_next(s[i], 10000)) != NULL) {
			if (is_op(j, answer_op)) {
				accepted++;
				answers++;
			} else if (is_op(j, "error")) {
				limited += is_error(j, "rate_limited");
				answers++;
			}
			json_decref(j);
		}
		CHECK(answers == PER, "%s, session %d: every request answered (%d of %d)", op, i,
		      answers, PER);
	}
	*ms = raw_now_ms() - t0;
	CHECK(accepted >= 1 && limited == NSESS * PER - accepted, "%s: the rest were rate_limited (%d)",
	      op, limited);
	return accepted;
}

int main(void)
{
	char user[HARNESS_NAME_MAX], other[HARNESS_NAME_MAX];
	struct rawline *s[NSESS] = {0}, *b;
	struct pier_conn *c;
	struct pierd *p;
	json_t *rep;
	char *token;
	long long ms = 0;
	int accepted, b_ok = 0;

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

	/* Every session fires at once; the clock runs from the first send to the last answer.
	 * The bound holds whatever the machine's speed: the run's own length is in it. */
	accepted = flood(s, "send", "sent", &ms);
	CHECK(accepted <= BURST + RATE * ms / 1000.0 + 1,
	      "%d messages accepted from %d sessions in %lld ms: within one user's burst %d + %d/s",
	      accepted, NSESS, ms, BURST, RATE);
	fprintf(stderr, "# %d of %d sends accepted in %lld ms from %d sessions\n", accepted,
	        NSESS * PER, ms, NSESS);
	accepted = flood(s, "rooms", "rooms", &ms);
	CHECK(accepted <= BURST + RATE * ms / 1000.0 + 1,
	      "%d requests accepted from %d sessions in %lld ms: within one user's burst %d + %d/s",
	      accepted, NSESS, ms, BURST, RATE);
	fprintf(stderr, "# %d of %d rooms requests accepted in %lld ms\n", accepted, NSESS * PER, ms);

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
