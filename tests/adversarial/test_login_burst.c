/* test_login_burst.c - adversarial: wrong passwords and logins fired in parallel.
 *
 * 60 guesses at one account, each on its own connection, all written before any answer: the
 * per-account throttle (burst 10) must hold for parallel attempts too, because its token is
 * taken before the password is checked. Then: the right password is throttled as well while
 * the account's bucket is empty; another account from the same address still logs in; and
 * successful password logins are throttled per address (--login-burst) while token logins
 * are not. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "rawline.h"

#define GUESSES 60
#define FAIL_BURST 10
#define LOGIN_BURST 20

static const char *const args[] = { "--max-conns-per-addr", "200", "--login-burst", "20",
	                             "--login-interval", "600", NULL };

/* Sends a login on every connection first, then reads every answer. Counts by outcome. */
static void fire(struct rawline **s, int n, const char *user, const char *password,
                 int *checked, int *limited, int *ok)
{
	*checked = *limited = *ok = 0;
	for (int i = 0; i < n; i++)
		raw_send_json(s[i], json_pack("{s:s, s:s, s:s}", "op", "login", "user", user,
		                              "password", password));
	for (int i = 0; i < n; i++) {
		json_t *j = raw_next(s[i], 20000);

		while (j != NULL && !is_op(j, "login") && !is_op(j, "error")) {
			json_decref(j);
			j = raw_next(s[i], 20000);
		}
		if (j != NULL && is_op(j, "login")) {
			int st = (int)jint(j, "status", 99);

			*checked += st == -1;
			*ok += st == 1;
		} else if (j != NULL) {
			*limited += is_error(j, "rate_limited");
		}
		json_decref(j);
	}
}

static void reconnect_all(struct rawline **s, int n, int port)
{
	for (int i = 0; i < n; i++) {
		raw_free(s[i]);
		s[i] = raw_connect(port);
	}
}

int main(void)
{
	char victim[HARNESS_NAME_MAX], other[HARNESS_NAME_MAX];
	struct rawline *s[GUESSES] = {0};
	struct pier_conn *c;
	struct pierd *p;
	json_t *rep;
	char *token = NULL;
	int checked, limited, ok;

	harness_watchdog(100);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	c = client_new_user(p, "victim", victim);
	REQUIRE(c != NULL, harness_done(), "victim registers");
	pier_conn_close(c);
	c = client_new_user(p, "other", other);
	REQUIRE(c != NULL, harness_done(), "other user registers");
	pier_conn_close(c);
	for (int i = 0; i < GUESSES; i++) {
		s[i] = raw_connect(pierd_port(p));
		REQUIRE(s[i] != NULL, harness_done(), "connection %d", i);
	}

	fire(s, GUESSES, victim, "wrong-password", &checked, &limited, &ok);
	fprintf(stderr, "# %d parallel guesses: %d checked, %d rate_limited\n", GUESSES, checked,
	        limited);
	CHECK(checked <= FAIL_BURST, "at most the account's burst of guesses is checked (%d of %d)",
	      checked, GUESSES);
	CHECK(checked >= 1 && checked + limited == GUESSES, "the rest are rate_limited (%d + %d)",
	      checked, limited);

	reconnect_all(s, 1, pierd_port(p));
	fire(s, 1, victim, HARNESS_PASSWORD, &checked, &limited, &ok);
	CHECK(limited == 1, "while the account's bucket is empty even the right password waits");

	reconnect_all(s, 1, pierd_port(p));
	rep = raw_login(s[0], other, HARNESS_PASSWORD, NULL);
	CHECK(rep != NULL, "another account logs in from the same address");
	if (rep != NULL)
		token = strdup(jstr(rep, "token"));
	json_decref(rep);

	/* Successful logins count too: the address has LOGIN_BURST password logins (one went
	 * to the line above, GUESSES + 1 to the victim's attempts that were checked or not). */
	reconnect_all(s, GUESSES, pierd_port(p));
	fire(s, GUESSES, other, HARNESS_PASSWORD, &checked, &limited, &ok);
	fprintf(stderr, "# %d parallel right passwords: %d logged in, %d rate_limited\n", GUESSES,
	        ok, limited);
	CHECK(ok + checked <= LOGIN_BURST, "password logins per address are throttled: %d got through",
	      ok + checked);
	CHECK(ok + limited == GUESSES, "the others are rate_limited (%d + %d)", ok, limited);

	/* A token login costs no password check: not throttled by the password-login bucket. */
	reconnect_all(s, 5, pierd_port(p));
	for (int i = 0; i < 5 && token != NULL; i++) {
		rep = raw_login(s[i], NULL, NULL, token);
		CHECK(rep != NULL, "token login %d goes through", i);
		json_decref(rep);
	}
	CHECK(pierd_is_running(p), "pierd is up");
	for (int i = 0; i < GUESSES; i++)
		raw_free(s[i]);
	free(token);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
