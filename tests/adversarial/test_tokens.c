/* test_tokens.c - adversarial: a token that is revoked or expired opens nothing any more.
 *
 * logout ends every session opened with that token (not only the one asking) and the token
 * stops working over HTTP too; logout_all ends them all; a password change needs the old
 * password, keeps the asking token and revokes every other one; a token unused for
 * --token-idle expires, while one held by an open session does not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "netclient.h"
#include "rawline.h"

#define NEWPW "another-secret-9"

/* A session logged in with a password (token out, malloc'd) or with token. */
static struct rawline *session(struct pierd *p, const char *user, const char *pw,
                               const char *token, char **token_out)
{
	struct rawline *r = raw_connect(pierd_port(p));
	json_t *rep = r != NULL ? raw_login(r, user, pw, token) : NULL;

	if (rep == NULL) {
		raw_free(r);
		return NULL;
	}
	if (token_out != NULL)
		*token_out = strdup(jstr(rep, "token"));
	json_decref(rep);
	return r;
}

/* True when r gets the fatal error code and is then closed. */
static bool ended_with(struct rawline *r, const char *code)
{
	json_t *j = raw_wait_op(r, "error", 10000);
	bool ok = j != NULL && is_error(j, code) && jtrue(j, "fatal");

	json_decref(j);
	while (ok && raw_read(r, 5000) > 0)
		;
	return ok && r->eof;
}

/* Sends a ping and sees the pong: the session is alive. */
static bool alive(struct rawline *r)
{
	json_t *j;

	raw_send_json(r, json_pack("{s:s}", "op", "ping"));
	j = raw_wait_op(r, "pong", 10000);
	json_decref(j);
	return j != NULL;
}

/* The HTTP status of GET /media/999999 with "Authorization: Bearer token" (401: refused). */
static int http_status(struct pierd *p, const char *token)
{
	char req[512];
	struct http_reply r = {0};
	int status;

	snprintf(req, sizeof(req), "GET /media/999999 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	         "Authorization: Bearer %s\r\nConnection: close\r\n\r\n", token);
	status = http_exchange(pierd_http_port(p), NULL, req, &r) == 0 ? r.status : -1;
	http_reply_free(&r);
	return status;
}

/* Sends req on r and returns the first reply with op or an error. */
static json_t *call(struct rawline *r, json_t *req, const char *op)
{
	json_t *j;

	raw_send_json(r, req);
	for (j = raw_next(r, 20000); j != NULL; j = raw_next(r, 20000)) {
		if (is_op(j, op) || is_op(j, "error"))
			return j;
		json_decref(j);
	}
	return NULL;
}

static void logout_ends_the_tokens_sessions(struct pierd *p, const char *user)
{
	char *t1 = NULL, *t2 = NULL;
	struct rawline *a = session(p, user, HARNESS_PASSWORD, NULL, &t1);
	struct rawline *b = a ? session(p, NULL, NULL, t1, NULL) : NULL;
	struct rawline *other = session(p, user, HARNESS_PASSWORD, NULL, &t2);
	json_t *rep;

	if (!CHECK(a && b && other, "three sessions, two of them on one token"))
		return;
	CHECK(http_status(p, t1) == 404, "the token works over HTTP (404: no such media)");
	rep = call(a, json_pack("{s:s, s:s}", "op", "logout", "ref", "lo"), "logout");
	CHECK(rep != NULL && is_op(rep, "logout"), "logout answers");
	json_decref(rep);
	CHECK(ended_with(b, "logged_out"), "the other session on that token ends: logged_out");
	CHECK(alive(other), "a session on another token goes on");
	CHECK(http_status(p, t1) == 401, "the token no longer works over HTTP (401)");
	raw_free(a);
	a = raw_connect(pierd_port(p));
	rep = call(a, json_pack("{s:s, s:s}", "op", "login", "token", t1), "login");
	CHECK(rep != NULL && jint(rep, "status", 0) == -1 && jstr(rep, "error") != NULL &&
	      strcmp(jstr(rep, "error"), "bad_token") == 0, "logging in with it again: bad_token");
	json_decref(rep);
	raw_free(a);
	raw_free(b);
	raw_free(other);
	free(t1);
	free(t2);
}

static void password_change(struct pierd *p, const char *user)
{
	char *mine = NULL, *theirs = NULL;
	struct rawline *a = session(p, user, HARNESS_PASSWORD, NULL, &mine);
	struct rawline *a2 = a ? session(p, NULL, NULL, mine, NULL) : NULL;
	struct rawline *b = session(p, user, HARNESS_PASSWORD, NULL, &theirs);
	struct rawline *x;
	json_t *rep;

	if (!CHECK(a && a2 && b, "sessions on two tokens"))
		return;
	rep = call(a, json_pack("{s:s, s:s, s:s}", "op", "password", "old", "not-the-password",
	                        "new", NEWPW), "password");
	CHECK(rep != NULL && is_error(rep, "wrong_password"), "a wrong old password is refused");
	json_decref(rep);
	rep = call(a, json_pack("{s:s, s:s, s:s}", "op", "password", "old", HARNESS_PASSWORD,
	                        "new", "short"), "password");
	CHECK(rep != NULL && is_error(rep, "too_short"), "a short new password is refused");
	json_decref(rep);
	CHECK(alive(b), "nothing changed yet");
	rep = call(a, json_pack("{s:s, s:s, s:s}", "op", "password", "old", HARNESS_PASSWORD,
	                        "new", NEWPW), "password");
	CHECK(rep != NULL && is_op(rep, "password") && jint(rep, "revoked", -1) >= 1,
	      "the password changes; other tokens revoked (%lld)", (long long)jint(rep, "revoked", -1));
	json_decref(rep);
	CHECK(ended_with(b, "logged_out"), "a session on another token ends");
	CHECK(alive(a) && alive(a2), "the asking token's sessions go on");
	CHECK(http_status(p, theirs) == 401 && http_status(p, mine) == 404,
	      "over HTTP: the other token is refused, the asking one works");
	x = session(p, user, HARNESS_PASSWORD, NULL, NULL);
	CHECK(x == NULL, "the old password no longer logs in");
	raw_free(x);
	x = session(p, user, NEWPW, NULL, NULL);
	CHECK(x != NULL, "the new one does");
	raw_free(x);

	/* logout_all: every token, every session. */
	rep = call(a, json_pack("{s:s}", "op", "logout_all"), "logout_all");
	CHECK(rep != NULL && is_op(rep, "logout_all") && jint(rep, "revoked", 0) >= 2,
	      "logout_all revokes every token (%lld)", (long long)jint(rep, "revoked", -1));
	json_decref(rep);
	CHECK(ended_with(a2, "logged_out"), "the user's other sessions end");
	CHECK(http_status(p, mine) == 401, "no token of the user's works any more");
	raw_free(a);
	raw_free(a2);
	raw_free(b);
	free(mine);
	free(theirs);
}

static void idle_tokens_expire(void)
{
	static const char *const args[] = { "--token-idle", "2", NULL };
	char user[HARNESS_NAME_MAX], *idle = NULL, *held = NULL;
	struct pierd *p = pierd_start(args);
	struct pier_conn *c;
	struct rawline *r, *holder;

	if (!CHECK(p != NULL, "pierd starts with --token-idle 2"))
		return;
	c = client_new_user(p, "idle", user);
	if (!CHECK(c != NULL, "user registers"))
		return;
	pier_conn_close(c);
	r = session(p, user, HARNESS_PASSWORD, NULL, &idle);
	raw_free(r);
	holder = session(p, user, HARNESS_PASSWORD, NULL, &held);
	if (!CHECK(idle != NULL && holder != NULL, "two tokens; a session keeps one open"))
		return;
	sleep(4);
	r = session(p, NULL, NULL, idle, NULL);
	CHECK(r == NULL, "a token unused for longer than --token-idle no longer logs in");
	raw_free(r);
	CHECK(http_status(p, idle) == 401, "nor works over HTTP");
	r = session(p, NULL, NULL, held, NULL);
	CHECK(r != NULL, "a token held by an open session stays valid past --token-idle");
	raw_free(r);
	raw_free(holder);
	free(idle);
	free(held);
	CHECK(pierd_stop(p), "pierd stops cleanly");
}

int main(void)
{
	char user[HARNESS_NAME_MAX];
	struct pier_conn *c;
	struct pierd *p;

	harness_watchdog(100);
	p = pierd_start(NULL);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	c = client_new_user(p, "tok", user);
	REQUIRE(c != NULL, harness_done(), "user registers");
	pier_conn_close(c);
	logout_ends_the_tokens_sessions(p, user);
	password_change(p, user);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	idle_tokens_expire();
	return harness_done();
}
