/* test_auth.c - integration: register and login statuses, tokens, the login gate, rate limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "harness.h"

static const char *const no_limits[] = { "--no-rate-limits", NULL };

static const char *const small_limits[] = {
	"--login-fail-burst", "3", "--register-burst", "2", "--msg-burst", "5", "--msg-rate", "1",
	"--login-timeout", "1", "--max-conns-per-addr", "3", NULL
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A string of n copies of c (malloc'd). */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Registers and checks the whole reply: status, user echo for 3, message otherwise, and the
 * error code for 5 (err may be NULL). */
static void expect_register(struct pier_conn *c, const char *user, const char *pw, int status,
                            const char *err)
{
	json_t *reply = client_call(c, pier_req_register(user, pw));

	if (reply == NULL)
		return;
	if (!CHECK(is_op(reply, "register") && jint(reply, "status", -99) == status,
	           "register \"%.40s\": want status %d, got %s", user, status, jdump(reply)))
		goto out;
	if (status == PIER_REGISTER_OK) {
		const char *u = jstr(reply, "user");

		CHECK(u != NULL && strcmp(u, user) == 0, "register reply user: want %s, got %s", user,
		      jdump(reply));
	} else {
		CHECK(jstr(reply, "message") != NULL, "register status %d without message: %s",
		      status, jdump(reply));
	}
	if (err != NULL) {
		const char *e = jstr(reply, "error");

		CHECK(e != NULL && strcmp(e, err) == 0, "register \"%.40s\": want error %s, got %s",
		      user, err, jdump(reply));
	}
out:
	json_decref(reply);
}

/* Logs in on c and returns the reply (new reference) after checking its op and status. */
static json_t *expect_login(struct pier_conn *c, json_t *req, int status)
{
	char what[256];
	json_t *reply;

	snprintf(what, sizeof(what), "%s", jdump(req));
	reply = client_call(c, req);
	if (reply != NULL)
		CHECK(is_op(reply, "login") && jint(reply, "status", -99) == status,
		      "%s: want login status %d, got %s", what, status, jdump(reply));
	return reply;
}

/* Password login on a new connection; copies the token (up to 255 bytes) to token_out. */
static struct pier_conn *login_with_token(struct pierd *p, const char *user, char token_out[256])
{
	struct pier_conn *c = client_connect(p);
	json_t *reply = expect_login(c, pier_req_login(user, HARNESS_PASSWORD), 1);
	const char *t = jstr(reply, "token");

	snprintf(token_out, 256, "%s", t != NULL ? t : "");
	json_decref(reply);
	if (c != NULL && !CHECK(t != NULL, "login gives a token")) {
		pier_conn_close(c);
		c = NULL;
	}
	json_decref(c != NULL ? client_wait_op(c, "users") : NULL);
	return c;
}

static bool is_rate_limited(const json_t *reply)
{
	const char *e = jstr(reply, "error");

	return e != NULL && strcmp(e, "rate_limited") == 0 && jint(reply, "retry_after_ms", -1) > 0;
}

static void test_register(struct pierd *p)
{
	struct pier_conn *c = client_connect(p);
	char alice[HARNESS_NAME_MAX], lower[HARNESS_NAME_MAX], *s;

	if (c == NULL)
		return;
	harness_user(alice, "Alice");
	expect_register(c, alice, HARNESS_PASSWORD, PIER_REGISTER_OK, NULL);
	/* the same name in another case is taken */
	for (size_t i = 0; i < sizeof(lower); i++)
		lower[i] = (alice[i] >= 'A' && alice[i] <= 'Z') ? (char)(alice[i] + 32) : alice[i];
	expect_register(c, lower, "another-pw", PIER_REGISTER_NAME_TAKEN, NULL);
	expect_register(c, alice, HARNESS_PASSWORD, PIER_REGISTER_NAME_TAKEN, NULL);
	expect_register(c, "ALICE_1x", HARNESS_PASSWORD, PIER_REGISTER_OK, NULL);
	expect_register(c, "alice_1X", HARNESS_PASSWORD, PIER_REGISTER_NAME_TAKEN, NULL);

	/* too short: 5 characters or fewer, name or password */
	expect_register(c, "abcde", HARNESS_PASSWORD, PIER_REGISTER_TOO_SHORT, NULL);
	expect_register(c, "a", HARNESS_PASSWORD, PIER_REGISTER_TOO_SHORT, NULL);
	expect_register(c, "short_pw_user", "12345", PIER_REGISTER_TOO_SHORT, NULL);
	expect_register(c, "short_pw_user2", "", PIER_REGISTER_TOO_SHORT, NULL);
	/* the shortest accepted */
	expect_register(c, "six6ch", "123456", PIER_REGISTER_OK, NULL);

	/* forbidden characters, too long */
	expect_register(c, "bad name!", HARNESS_PASSWORD, PIER_REGISTER_INVALID, "bad_name");
	expect_register(c, "名字名字名字", HARNESS_PASSWORD, PIER_REGISTER_INVALID, "bad_name");
	expect_register(c, "slash/name", HARNESS_PASSWORD, PIER_REGISTER_INVALID, "bad_name");
	expect_register(c, "at@name1", HARNESS_PASSWORD, PIER_REGISTER_INVALID, "bad_name");
	s = repeat('n', 33);
	expect_register(c, s, HARNESS_PASSWORD, PIER_REGISTER_INVALID, "bad_name");
	s[32] = '\0';
	expect_register(c, s, HARNESS_PASSWORD, PIER_REGISTER_OK, NULL);
	free(s);

	/* passwords: bytes, any UTF-8, at most 1024 */
	s = repeat('p', 1025);
	expect_register(c, "long_pw_user", s, PIER_REGISTER_INVALID, "bad_password");
	s[1024] = '\0';
	expect_register(c, "max_pw_user", s, PIER_REGISTER_OK, NULL);
	free(s);
	expect_register(c, "utf8_pw_user", "пароль-секрет", PIER_REGISTER_OK, NULL);
	pier_conn_close(c);

	/* the long and the UTF-8 passwords work for login */
	c = client_login(p, "utf8_pw_user", "пароль-секрет");
	pier_conn_close(c);
	s = repeat('p', 1024);
	c = client_login(p, "max_pw_user", s);
	pier_conn_close(c);
	free(s);
}

static void test_login(struct pierd *p)
{
	char user[HARNESS_NAME_MAX], lower[HARNESS_NAME_MAX], token[256] = "", token2[256] = "";
	struct pier_conn *c = client_connect(p), *c2;
	json_t *reply, *users, *rooms;
	const char *u, *t;

	if (c == NULL)
		return;
	harness_user(user, "LoginUser");
	CHECK(client_register(c, user, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register %s", user);
	for (size_t i = 0; i < sizeof(lower); i++)
		lower[i] = (user[i] >= 'A' && user[i] <= 'Z') ? (char)(user[i] + 32) : user[i];

	/* 0: no such user; -1: wrong password (the connection stays usable) */
	json_decref(expect_login(c, pier_req_login("nosuchuser_1", HARNESS_PASSWORD), 0));
	json_decref(expect_login(c, pier_req_login(user, "wrong-password"), -1));

	/* 1 with the name in another case: canonical spelling, token, rooms from #lobby */
	reply = expect_login(c, pier_req_login(lower, HARNESS_PASSWORD), 1);
	u = jstr(reply, "user");
	t = jstr(reply, "token");
	rooms = json_object_get(reply, "rooms");
	CHECK(u != NULL && strcmp(u, user) == 0, "login user: want %s, got %s", user, jdump(reply));
	CHECK(t != NULL && t[0] != '\0' && strlen(t) < sizeof(token), "login token: %s",
	      jdump(reply));
	if (t != NULL)
		snprintf(token, sizeof(token), "%s", t);
	CHECK(json_is_array(rooms) && json_array_size(rooms) >= 1 &&
	      json_is_string(json_array_get(rooms, 0)) &&
	      strcmp(json_string_value(json_array_get(rooms, 0)), "#lobby") == 0,
	      "login rooms start with #lobby: %s", jdump(reply));
	json_decref(reply);
	users = client_wait_op(c, "users");
	CHECK(users != NULL && json_is_array(json_object_get(users, "online")),
	      "users event after login: %s", jdump(users));
	json_decref(users);

	/* already logged in: login and register */
	client_expect_error(c, pier_req_login(user, HARNESS_PASSWORD), "already_logged_in");
	client_expect_error(c, pier_req_register("another_user", HARNESS_PASSWORD),
	                    "already_logged_in");
	pier_conn_close(c);

	/* the token logs in again after its connection closed */
	c = client_connect(p);
	reply = expect_login(c, pier_req_login_token(token), 1);
	u = jstr(reply, "user");
	CHECK(u != NULL && strcmp(u, user) == 0, "token login user: want %s, got %s", user,
	      jdump(reply));
	if (jint(reply, "status", -99) == 1)
		json_decref(client_wait_op(c, "users"));
	json_decref(reply);
	pier_conn_close(c);

	/* an unknown token */
	c = client_connect(p);
	reply = expect_login(c, pier_req_login_token("not-a-token-0123456789"), -1);
	t = jstr(reply, "error");
	CHECK(t != NULL && strcmp(t, "bad_token") == 0, "bad token: want error bad_token, got %s",
	      jdump(reply));
	json_decref(reply);
	pier_conn_close(c);

	/* logout revokes that session's token (another login's token stays good) and closes */
	c = login_with_token(p, user, token);
	c2 = login_with_token(p, user, token2);
	pier_conn_close(c2);
	if (c != NULL) {
		json_t *events;
		bool closed;

		reply = client_call(c, pier_req_logout());
		CHECK(is_op(reply, "logout"), "logout: want {\"op\":\"logout\"}, got %s",
		      jdump(reply));
		json_decref(reply);
		events = client_read_until_closed(c, HARNESS_TIMEOUT_MS, &closed);
		CHECK(closed, "logout closes the connection (got %s)", jdump(events));
		json_decref(events);
		pier_conn_close(c);

		c = client_connect(p);
		reply = expect_login(c, pier_req_login_token(token), -1);
		t = jstr(reply, "error");
		CHECK(t != NULL && strcmp(t, "bad_token") == 0,
		      "token login after logout: want -1 bad_token, got %s", jdump(reply));
		json_decref(reply);
		pier_conn_close(c);

		c = client_connect(p);
		json_decref(expect_login(c, pier_req_login_token(token2), 1));
		pier_conn_close(c);
	}
}

static void test_before_login(struct pierd *p)
{
	struct pier_conn *c = client_connect(p);
	json_t *reply;

	if (c == NULL)
		return;
	reply = client_call(c, pier_req_ping());
	CHECK(is_op(reply, "pong"), "ping before login: %s", jdump(reply));
	json_decref(reply);
	client_expect_error(c, pier_req_send("#lobby", "hello", NULL), "not_logged_in");
	client_expect_error(c, pier_req_join("#dev"), "not_logged_in");
	client_expect_error(c, pier_req_part("#dev"), "not_logged_in");
	client_expect_error(c, pier_req_rooms(), "not_logged_in");
	client_expect_error(c, pier_req_users(), "not_logged_in");
	client_expect_error(c, pier_req_history("#lobby", 0, 10), "not_logged_in");
	client_expect_error(c, pier_req_sync(0, 10), "not_logged_in");
	client_expect_error(c, pier_req_logout(), "not_logged_in");
	/* the connection is still usable: ping again */
	reply = client_call(c, pier_req_ping());
	CHECK(is_op(reply, "pong"), "ping after not_logged_in errors: %s", jdump(reply));
	json_decref(reply);
	pier_conn_close(c);
}

/* The limits: a second pierd with small ones. */
static void test_rate_limits(void)
{
	struct pierd *q = pierd_start(small_limits);
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], x[HARNESS_NAME_MAX];
	struct pier_conn *c, *b1 = NULL, *b2 = NULL, *b3 = NULL;
	char refs[6][PIER_REF_MAX];
	json_t *reply, *events;
	int64_t t0;
	bool closed;
	int nsent = 0, nlimited = 0, retry = 1000;

	if (!CHECK(q != NULL, "pierd with small limits starts"))
		return;

	/* registrations per address: burst 2 */
	harness_user(a, "rl_a");
	harness_user(b, "rl_b");
	harness_user(x, "rl_x");
	c = client_connect(q);
	CHECK(client_register(c, a, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register %s", a);
	CHECK(client_register(c, b, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register %s", b);
	reply = client_call(c, pier_req_register(x, HARNESS_PASSWORD));
	CHECK(is_rate_limited(reply), "third registration: want rate_limited with retry_after_ms, "
	      "got %s", jdump(reply));
	json_decref(reply);
	pier_conn_close(c);

	/* failed logins per account: burst 3, then rate_limited whatever the password */
	c = client_connect(q);
	for (int i = 0; i < 3; i++)
		json_decref(expect_login(c, pier_req_login(a, "wrong-password"), -1));
	reply = client_call(c, pier_req_login(a, "wrong-password"));
	CHECK(is_rate_limited(reply), "4th failed login: want rate_limited with retry_after_ms, "
	      "got %s", jdump(reply));
	json_decref(reply);
	reply = client_call(c, pier_req_login(a, HARNESS_PASSWORD));
	CHECK(is_rate_limited(reply), "right password past the limit: want rate_limited, got %s",
	      jdump(reply));
	json_decref(reply);
	pier_conn_close(c);

	/* another account from the same address is not locked out */
	b1 = client_login(q, b, HARNESS_PASSWORD);

	/* messages: burst 5, then 1/s; six pipelined sends */
	for (int i = 0; b1 != NULL && i < 6; i++) {
		char text[32];

		snprintf(text, sizeof(text), "burst %d", i);
		refs[i][0] = '\0';
		CHECK(pier_conn_send(b1, pier_req_send("#lobby", text, NULL), refs[i]) == 0,
		      "pipelined send %d", i);
	}
	t0 = pier_mono_ms();
	for (int i = 0; b1 != NULL && i < 6 && pier_mono_ms() - t0 < HARNESS_TIMEOUT_MS;) {
		json_t *ev = pier_conn_next(b1, HARNESS_TIMEOUT_MS);
		const char *ref = jstr(ev, "ref");

		if (ev == NULL)
			break;
		if (ref != NULL && strcmp(ref, refs[i]) == 0) {
			if (i < 5) {
				CHECK(is_op(ev, "sent"), "send %d of burst 5: want sent, got %s", i,
				      jdump(ev));
				nsent += is_op(ev, "sent");
			} else {
				CHECK(is_error(ev, "rate_limited") && is_rate_limited(ev),
				      "6th quick send: want rate_limited with retry_after_ms, got %s",
				      jdump(ev));
				if (is_rate_limited(ev))
					retry = (int)jint(ev, "retry_after_ms", 1000);
				nlimited += is_rate_limited(ev);
			}
			i++;
		}
		json_decref(ev);
	}
	CHECK(nsent == 5 && nlimited == 1, "burst: %d sent, %d rate_limited; want 5 and 1", nsent,
	      nlimited);
	if (b1 != NULL) {
		/* the bucket refills: after retry_after_ms a send goes through */
		sleep_ms((retry > 3000 ? 3000 : retry) + 100);
		CHECK(client_send(b1, "#lobby", "after the wait", NULL, NULL) > 0,
		      "send after retry_after_ms");
	}

	/* login timeout: an idle connection gets login_timeout (fatal) and is closed */
	c = client_connect(q);
	t0 = pier_mono_ms();
	events = client_read_until_closed(c, 8000, &closed);
	CHECK(closed, "idle unauthenticated connection closed (after %lld ms)",
	      (long long)(pier_mono_ms() - t0));
	CHECK(pier_mono_ms() - t0 >= 700, "closed after %lld ms, --login-timeout is 1 s",
	      (long long)(pier_mono_ms() - t0));
	CHECK(json_array_size(events) >= 1 && is_error(json_array_get(events, 0), "login_timeout") &&
	      jtrue(json_array_get(events, 0), "fatal"),
	      "want {\"op\":\"error\",\"error\":\"login_timeout\",\"fatal\":true}, got %s",
	      jdump(events));
	json_decref(events);
	pier_conn_close(c);

	/* connections per address: 3 open (b1, b2, b3), the 4th is refused */
	b2 = client_login(q, b, HARNESS_PASSWORD);
	b3 = client_login(q, b, HARNESS_PASSWORD);
	if (b1 != NULL && b2 != NULL && b3 != NULL) {
		c = client_connect(q);
		events = client_read_until_closed(c, HARNESS_TIMEOUT_MS, &closed);
		CHECK(closed, "4th connection from one address closed");
		CHECK(json_array_size(events) >= 1 &&
		      is_error(json_array_get(events, 0), "too_many_connections") &&
		      jtrue(json_array_get(events, 0), "fatal"),
		      "4th connection: want too_many_connections (fatal), got %s", jdump(events));
		json_decref(events);
		pier_conn_close(c);

		/* one closes: a new connection is accepted again (the close is seen soon) */
		pier_conn_close(b3);
		b3 = NULL;
		t0 = pier_mono_ms();
		for (;;) {
			c = client_connect(q);
			reply = c != NULL ? pier_conn_call(c, pier_req_ping(), 2000) : NULL;
			pier_conn_close(c);
			if (is_op(reply, "pong") || pier_mono_ms() - t0 > 5000)
				break;
			json_decref(reply);
			sleep_ms(100);
		}
		CHECK(is_op(reply, "pong"), "a connection after one of three closed: got %s",
		      jdump(reply));
		json_decref(reply);
	}
	pier_conn_close(b1);
	pier_conn_close(b2);
	pier_conn_close(b3);
	CHECK(pierd_stop(q), "pierd with small limits stops cleanly");
}

int main(void)
{
	struct pierd *p;

	harness_watchdog(180);
	p = pierd_start(no_limits);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	test_register(p);
	test_login(p);
	test_before_login(p);
	CHECK(pierd_is_running(p), "pierd still runs");
	CHECK(pierd_stop(p), "pierd stops cleanly");
	test_rate_limits();
	return harness_done();
}
