/* test_cli_reconnect.c - integration: the terminal client `pier` when the connection drops.
 *
 * pierd restarts (SIGTERM) and crashes (kill -9) under a chatting client on a
 * pseudo-terminal and under one fed through a pipe: the client marks itself offline, keeps
 * the line being typed, reconnects by itself with its token, shows each message it missed
 * once and in order, and delivers what was typed meanwhile exactly once. A token the server
 * no longer knows makes it ask for the password (terminal) or give up clearly (pipe). A fake
 * server checks the cid path exactly: a send cut by a drop goes again with the same cid, and
 * its duplicate `sent` is not shown twice. Ctrl-C clears the line, then quits.
 *
 * Every wait is bounded; reconnect waits are generous (backoff and a loaded machine).
 * Clients run with --no-color, so that what they show can be matched as plain text.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cliterm.h"
#include "clock.h"
#include "harness.h"

#define RECONNECT_TIMEOUT_MS  45000   /* backoff tops at 30 s */

static struct pierd *server;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* How often needle occurs in hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ---- helpers ---- */

/* Registers a fresh user through libpier. */
static bool new_user(char u[HARNESS_NAME_MAX], const char *prefix)
{
	struct pier_conn *c = client_connect(server);
	int status;

	harness_user(u, prefix);
	status = client_register(c, u, HARNESS_PASSWORD);
	pier_conn_close(c);
	return CHECK(status == PIER_REGISTER_OK, "register %s: %d", u, status);
}

/* The texts of #lobby's history (up to 200), joined by '\n' with a '\n' after each. */
static char *lobby_texts(struct pier_conn *c)
{
	json_t *reply = client_call(c, pier_req_history("#lobby", 0, 200)), *msg;
	char *all = strdup("");
	size_t len = 0, i;

	json_array_foreach(json_object_get(reply, "messages"), i, msg) {
		const char *text = jstr(msg, "text");

		if (text != NULL) {
			cliterm_append(&all, &len, text, strlen(text));
			cliterm_append(&all, &len, "\n", 1);
		}
	}
	json_decref(reply);
	return all;
}

/* Restarts the server on its port; true if it came up. */
static bool restart(void)
{
	return CHECK(pierd_restart_same_port(server) == 0, "pierd comes back on port %d",
		     pierd_port(server));
}

/* ---- a restart (SIGTERM) under a chatting client on a terminal ---- */

static void test_restart_tty(void)
{
	char x[HARNESS_NAME_MAX], y[HARNESS_NAME_MAX], line[256];
	struct pier_conn *yc = NULL;
	struct term t;
	char *texts = NULL;
	size_t from;

	if (!new_user(x, "rx") || !new_user(y, "ry") ||
	    !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD,
			ARGS("--no-color", "--user", x)))
		return;
	if (!expect(&t, "#lobby> ", "first prompt"))
		goto out;
	type(&t, "x before\r");
	snprintf(line, sizeof line, "#lobby %s: x before", x);
	if (!expect(&t, line, "own message shown"))
		goto out;

	CHECK(pierd_stop(server), "pierd stops (SIGTERM)");
	expect(&t, "(offline) #lobby> ", "the prompt says offline");
	expect(&t, "connection to the server was lost", "an offline notice");
	type(&t, "x while offline\r");
	expect(&t, "(pending) #lobby: x while offline", "the offline line is pending");

	/* Freeze the client so that it cannot reconnect before Y has spoken. */
	kill(t.pid, SIGSTOP);
	if (!restart())
		goto cont;
	yc = client_login(server, y, HARNESS_PASSWORD);
	for (int i = 1; i <= 3; i++) {
		snprintf(line, sizeof line, "y missed %d", i);
		client_send(yc, "#lobby", line, NULL, NULL);
	}
cont:
	type(&t, "half typ");   /* waits in the terminal until the client runs again */
	from = t.len;
	kill(t.pid, SIGCONT);
	if (yc == NULL)
		goto out;
	expect_within(&t, "Reconnected as", "reconnects by itself", RECONNECT_TIMEOUT_MS);
	/* What was shown before the drop counts as read on the server: the divider counts the
	 * three missed messages and comes before the first of them. */
	expect(&t, "-- 3 new messages --", "the new-messages divider where reading stopped");
	for (int i = 1; i <= 3; i++) {
		snprintf(line, sizeof line, "#lobby %s: y missed %d", y, i);
		expect(&t, line, "a missed message, in order");
	}
	expect(&t, "3 message(s) you missed", "the catch-up is counted");
	snprintf(line, sizeof line, "#lobby %s: x while offline", x);
	expect(&t, line, "the offline line is stored and shown");
	expect(&t, "#lobby> half typ", "the half-typed line survives");
	type(&t, "ed\r");
	snprintf(line, sizeof line, "#lobby %s: half typed", x);
	expect(&t, line, "the finished line goes out");
	/* A live message after the catch-up: everything before it has been shown. */
	client_send(yc, "#lobby", "y after", NULL, NULL);
	snprintf(line, sizeof line, "#lobby %s: y after", y);
	expect(&t, line, "live messages flow again");
	for (int i = 1; i <= 3; i++) {
		snprintf(line, sizeof line, ": y missed %d", i);
		CHECK(count_of(t.buf + from, line) == 1, "\"%s\" shown once, not %d times", line,
		      count_of(t.buf + from, line));
	}
	snprintf(line, sizeof line, "%s: x while offline", x);
	CHECK(count_of(t.buf + from, line) == 1, "own offline line shown once");

	texts = lobby_texts(yc);
	CHECK(count_of(texts, "x while offline\n") == 1, "the offline line is stored once: [%s]", texts);
	CHECK(count_of(texts, "half typed\n") == 1 && count_of(texts, "x before\n") == 1,
	      "the other lines once each: [%s]", texts);
	type(&t, "/quit\r");
out:
	CHECK(term_finish(&t) == 0, "/quit exits with 0");
	term_free(&t);
	free(texts);
	pier_conn_close(yc);
}

/* ---- a crash (kill -9) with a send in flight: resent with its cid, stored once ---- */

static void test_kill9_resend(void)
{
	char x[HARNESS_NAME_MAX], line[256];
	struct pier_conn *c = NULL;
	struct term t;
	char *texts = NULL;
	size_t from;

	if (!new_user(x, "kx") || !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD,
					      ARGS("--no-color", "--user", x)))
		return;
	if (!expect(&t, "#lobby> ", "first prompt"))
		goto out;
	/* Frozen, the server takes the bytes of the send into its socket but never answers. */
	kill(pierd_pid(server), SIGSTOP);
	from = t.len;
	type(&t, "in flight at the crash\r");
	sleep_ms(300);
	pierd_kill9(server);
	expect(&t, "(offline) #lobby> ", "the prompt says offline");
	expect(&t, "1 message(s) not confirmed yet", "the unconfirmed send is announced");
	if (!restart())
		goto out;
	expect_within(&t, "Reconnected as", "reconnects after the crash", RECONNECT_TIMEOUT_MS);
	snprintf(line, sizeof line, "#lobby %s: in flight at the crash", x);
	expect(&t, line, "the resent message is shown");
	c = client_login(server, x, HARNESS_PASSWORD);
	texts = lobby_texts(c);
	CHECK(count_of(texts, "in flight at the crash\n") == 1, "stored exactly once: [%s]", texts);
	type(&t, "after the crash\r");
	snprintf(line, sizeof line, "#lobby %s: after the crash", x);
	expect(&t, line, "chatting goes on");
	snprintf(line, sizeof line, "%s: in flight at the crash", x);
	CHECK(count_of(t.buf + from, line) == 1, "shown once");
	type(&t, "\004");
out:
	CHECK(term_finish(&t) == 0, "Ctrl-D exits with 0");
	term_free(&t);
	free(texts);
	pier_conn_close(c);
}

/* ---- through a pipe: the same, for scripts ---- */

static void test_restart_pipe(void)
{
	char x[HARNESS_NAME_MAX], line[256];
	struct pier_conn *c = NULL;
	struct term t;
	char *texts = NULL;

	if (!new_user(x, "px") || !term_pipe_start(&t, pierd_port_str(server), HARNESS_PASSWORD,
						   ARGS("--no-color", "--user", x)))
		return;
	type(&t, "piped before\n");
	snprintf(line, sizeof line, "#lobby %s: piped before", x);
	if (!expect(&t, line, "piped line shown"))
		goto out;
	CHECK(pierd_stop(server), "pierd stops (SIGTERM)");
	expect(&t, "connection to the server was lost", "an offline notice");
	type(&t, "piped while offline\n");
	expect(&t, "(pending) #lobby: piped while offline", "queued");
	if (!restart())
		goto out;
	expect_within(&t, "Reconnected as", "reconnects by itself", RECONNECT_TIMEOUT_MS);
	snprintf(line, sizeof line, "#lobby %s: piped while offline", x);
	expect(&t, line, "the queued line is sent");
	type(&t, "piped last\n");
out:
	CHECK(term_finish(&t) == 0, "end of input: exit 0 once all is sent [%s]", t.err);
	c = client_login(server, x, HARNESS_PASSWORD);
	texts = lobby_texts(c);
	CHECK(count_of(texts, "piped while offline\n") == 1 && count_of(texts, "piped last\n") == 1,
	      "each piped line stored once: [%s]", texts);
	term_free(&t);
	free(texts);
	pier_conn_close(c);
}

/* ---- a token the server does not know ---- */

/* Stops the server and empties its data directory (the log stays): every account and token
 * is gone when it comes back. */
static void forget_everything(void)
{
	CHECK(pierd_stop(server), "pierd stops (SIGTERM)");
	CHECK(pierd_wipe_store(server), "pierd's store is wiped");
}

/* A pipe cannot be asked for a password: a clear error and exit status 1. */
static void check_bad_token_pipe(struct term *t)
{
	int64_t end = pier_mono_ms() + RECONNECT_TIMEOUT_MS;

	while (strstr(t->err, "refused the session token") == NULL && pier_mono_ms() < end)
		term_read(t, 50);
	CHECK(strstr(t->err, "refused the session token") != NULL, "a pipe says why on stderr: [%s]",
	      t->err);
	CHECK(term_finish(t) == 1, "token refused in a pipe: exit status 1");
	term_free(t);
}

/* A terminal is asked for the password again; the half-typed line comes back after. */
static void test_bad_token(void)
{
	char x[HARNESS_NAME_MAX], p[HARNESS_NAME_MAX], line[256];
	struct pier_conn *c = NULL;
	struct term t, pt;
	bool piped = false;

	if (!new_user(x, "tx") || !new_user(p, "tp") ||
	    !term_start(&t, pierd_port_str(server), NULL, ARGS("--no-color", "--user", x)))
		return;
	/* No PIER_PASSWORD: typed at the prompt, so the client cannot know it later. */
	if (!expect(&t, "Password: ", "password question"))
		goto out;
	type(&t, HARNESS_PASSWORD "\r");
	if (!expect(&t, "#lobby> ", "first prompt"))
		goto out;
	/* The pipe's password is its first line, not something it can read again either. */
	piped = term_pipe_start(&pt, pierd_port_str(server), NULL, ARGS("--no-color", "--user", p));
	if (piped) {
		type(&pt, HARNESS_PASSWORD "\n");
		piped = expect(&pt, "Talking in #lobby", "the piped client logs in");
	}
	forget_everything();
	expect(&t, "(offline) #lobby> ", "offline");
	type(&t, "half");
	if (!restart())
		goto out;
	c = client_connect(server);
	CHECK(client_register(c, x, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register %s again", x);
	expect_within(&t, "no longer accepts this session", "told why", RECONNECT_TIMEOUT_MS);
	if (!expect(&t, "Password: ", "asked for the password"))
		goto out;
	type(&t, "wrong-password\r");
	expect(&t, "Wrong password", "a wrong password is said so");
	if (!expect(&t, "Password: ", "asked again"))
		goto out;
	type(&t, HARNESS_PASSWORD "\r");
	expect(&t, "Logged in again as", "logged in with the password");
	expect(&t, "#lobby> half", "the half-typed line comes back");
	type(&t, " done\r");
	snprintf(line, sizeof line, "#lobby %s: half done", x);
	expect(&t, line, "chatting goes on");
	CHECK(strstr(t.buf, HARNESS_PASSWORD) == NULL, "the password is never echoed");
	type(&t, "/quit\r");
	if (piped)
		check_bad_token_pipe(&pt);
	piped = false;
out:
	CHECK(term_finish(&t) == 0, "/quit exits with 0");
	term_free(&t);
	if (piped) {
		term_finish(&pt);
		term_free(&pt);
	}
	pier_conn_close(c);
}

/* ---- Ctrl-C ---- */

static void test_ctrl_c(void)
{
	char x[HARNESS_NAME_MAX], line[256];
	struct pier_conn *c = NULL;
	struct term t;
	char *texts = NULL;

	if (!new_user(x, "cx") || !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD,
					      ARGS("--no-color", "--user", x)))
		return;
	if (!expect(&t, "#lobby> ", "first prompt"))
		goto out;
	/* the device's setup (end-to-end encryption) prints once after the login: typed
	 * characters are not what this test is about while that line is drawn */
	expect(&t, "End-to-end encryption is on", "the device is set up");
	type(&t, "thrown away");
	expect(&t, "thrown away", "echo");
	type(&t, "\003");
	expect(&t, "#lobby> ", "a fresh prompt after Ctrl-C");
	type(&t, "kept\r");
	snprintf(line, sizeof line, "#lobby %s: kept", x);
	expect(&t, line, "only what was typed after Ctrl-C goes out");
	type(&t, "\003");
	expect(&t, "Ctrl-C again", "Ctrl-C on an empty line asks first");
	type(&t, "\003");
out:
	CHECK(term_finish(&t) == 0, "the second Ctrl-C quits with 0");
	c = client_login(server, x, HARNESS_PASSWORD);
	texts = lobby_texts(c);
	CHECK(count_of(texts, "kept\n") == 1 && strstr(texts, "thrown away") == NULL,
	      "the cleared text was not sent: [%s]", texts);
	term_free(&t);
	free(texts);
	pier_conn_close(c);
}

/* ---- a fake server: the cid of a resend, the duplicate `sent` ---- */

struct fake {
	int lfd, fd;
	char buf[65536];
	size_t len;
	struct term *t;    /* read meanwhile, so that the client never blocks on its output */
};

static int fake_listen(struct fake *f)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;

	memset(f, 0, sizeof *f);
	f->fd = -1;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(f->lfd, 4) != 0 ||
	    getsockname(f->lfd, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	return ntohs(a.sin_port);
}

/* Waits for fd to be readable, reading the client's terminal meanwhile. */
static bool fake_wait(struct fake *f, int fd)
{
	int64_t end = pier_mono_ms() + RECONNECT_TIMEOUT_MS;

	while (pier_mono_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 20) > 0)
			return true;
		term_read(f->t, 0);
	}
	return false;
}

static bool fake_accept(struct fake *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->len = 0;
	if (!CHECK(fake_wait(f, f->lfd), "the client connects to the fake server"))
		return false;
	f->fd = accept(f->lfd, NULL, NULL);
	return CHECK(f->fd >= 0, "accept: %s", strerror(errno));
}

/* The next request from the client (new reference), or NULL. */
static json_t *fake_read(struct fake *f)
{
	for (;;) {
		char *nl = memchr(f->buf, '\n', f->len);
		ssize_t n;

		if (nl != NULL) {
			json_t *j = json_loadb(f->buf, (size_t)(nl - f->buf), 0, NULL);

			f->len -= (size_t)(nl - f->buf) + 1;
			memmove(f->buf, nl + 1, f->len);
			return j;
		}
		if (f->len == sizeof f->buf || !fake_wait(f, f->fd))
			return NULL;
		n = read(f->fd, f->buf + f->len, sizeof f->buf - f->len);
		if (n <= 0)
			return NULL;
		f->len += (size_t)n;
	}
}

static void fake_send(struct fake *f, json_t *j, const json_t *ref);

/* The next request whose op is op, answering pings meanwhile; NULL with a failed check. The
 * client's read state and typing requests are let by: unread gets an empty count, read and
 * typing nothing (this fake server tests the session's cids, not them). */
static json_t *fake_expect(struct fake *f, const char *op)
{
	json_t *req;

	while ((req = fake_read(f)) != NULL) {
		if (is_op(req, op))
			return req;
		if (is_op(req, "unread"))
			fake_send(f, json_pack("{s:s, s:[], s:b}", "op", "unread", "conversations", "more",
					       0), req);
		else
			CHECK(is_op(req, "ping") || is_op(req, "read") || is_op(req, "typing"),
			      "the fake server wanted %s, got %s", op, jdump(req));
		json_decref(req);
	}
	CHECK(false, "the fake server got no %s", op);
	return NULL;
}

/* Sends j (taken), with ref's "ref" when ref is not NULL. */
static void fake_send(struct fake *f, json_t *j, const json_t *ref)
{
	char *line;

	if (ref != NULL)
		json_object_set(j, "ref", json_object_get(ref, "ref"));
	line = json_dumps(j, JSON_COMPACT);
	if (line == NULL || write(f->fd, line, strlen(line)) < 0 || write(f->fd, "\n", 1) < 0)
		CHECK(false, "the fake server could not write");
	free(line);
	json_decref(j);
}

static void fake_login(struct fake *f, const char *user, const char *want_token)
{
	json_t *req = fake_expect(f, "login");

	if (want_token != NULL)
		CHECK(streq(jstr(req, "token"), want_token), "logs in again with the token: %s",
		      jdump(req));
	fake_send(f, json_pack("{s:s, s:i, s:s, s:s, s:[s]}", "op", "login", "status", 1, "user", user,
			       "token", "tok-1", "rooms", "#lobby"), req);
	fake_send(f, json_pack("{s:s, s:[s]}", "op", "users", "online", user), NULL);
	json_decref(req);
}

static void test_fake_cid(void)
{
	struct fake f;
	struct term t;
	json_t *req, *msg;
	char port[16], cid[80] = "", line[128] = "";
	int p = fake_listen(&f);

	if (!CHECK(p > 0, "fake server: %s", strerror(errno)))
		return;
	snprintf(port, sizeof port, "%d", p);
	if (!term_start(&t, port, HARNESS_PASSWORD, ARGS("--no-color", "--user", "fake_user")))
		goto out;
	f.t = &t;
	if (!fake_accept(&f))
		goto stop;
	fake_login(&f, "fake_user", NULL);
	/* After the first login, the newest id of each room says where a catch-up starts. */
	req = fake_expect(&f, "history");
	msg = json_pack("{s:i, s:s, s:s, s:s, s:I}", "id", 41, "from", "someone", "to", "#lobby",
			"text", "old", "ts", (json_int_t)pier_now_ms());
	fake_send(&f, json_pack("{s:s, s:s, s:[O], s:b}", "op", "history", "with", "#lobby",
				"messages", msg, "more", 0), req);
	json_decref(req);
	if (!expect(&t, "#lobby> ", "prompt"))
		goto stop;
	type(&t, "stored but not confirmed\r");
	req = fake_expect(&f, "send");
	CHECK(jstr(req, "cid") != NULL && strlen(jstr(req, "cid")) <= 64, "a send has a cid: %s", jdump(req));
	snprintf(cid, sizeof cid, "%s", jstr(req, "cid") != NULL ? jstr(req, "cid") : "");
	json_decref(req);
	/* The server stored it as id 42, then the connection broke before `sent` went out. */
	close(f.fd);
	f.fd = -1;
	expect(&t, "(offline) #lobby> ", "offline");
	if (!fake_accept(&f))
		goto stop;
	fake_login(&f, "fake_user", "tok-1");
	req = fake_expect(&f, "sync");
	CHECK(jint(req, "after", -1) == 41, "the catch-up starts after the newest id seen: %s", jdump(req));
	json_object_set_new(msg, "id", json_integer(42));
	json_object_set_new(msg, "from", json_string("fake_user"));
	json_object_set_new(msg, "text", json_string("stored but not confirmed"));
	fake_send(&f, json_pack("{s:s, s:[O], s:b}", "op", "sync", "messages", msg, "more", 0), req);
	json_decref(req);
	req = fake_expect(&f, "send");
	CHECK(streq(jstr(req, "cid"), cid) && streq(jstr(req, "text"), "stored but not confirmed"),
	      "the resend has the same cid (%s): %s", cid, jdump(req));
	fake_send(&f, json_pack("{s:s, s:i, s:I, s:s, s:s, s:b}", "op", "sent", "id", 42, "ts",
				(json_int_t)pier_now_ms(), "to", "#lobby", "cid", cid, "duplicate", 1), req);
	json_decref(req);
	json_decref(msg);
	expect(&t, "1 message(s) you missed", "the stored message came with the catch-up");
	type(&t, "/quit\r");
	req = fake_expect(&f, "logout");
	if (req != NULL)
		fake_send(&f, json_pack("{s:s}", "op", "logout"), req);
	json_decref(req);
	snprintf(line, sizeof line, "fake_user: stored but not confirmed");
stop:
	CHECK(term_finish(&t) == 0, "/quit exits with 0");
	if (line[0] != '\0')
		CHECK(count_of(t.buf, line) == 1, "the message is shown once, not %d times: [%s]",
		      count_of(t.buf, line), t.buf);
	term_free(&t);
out:
	if (f.fd >= 0)
		close(f.fd);
	close(f.lfd);
}

int main(void)
{
	harness_watchdog(400);
	signal(SIGPIPE, SIG_IGN);
	server = pierd_start(ARGS("--no-rate-limits"));
	if (server == NULL)
		return harness_done();
	test_ctrl_c();
	test_fake_cid();
	test_restart_tty();
	test_kill9_resend();
	test_restart_pipe();
	test_bad_token();        /* last: it empties the server */
	CHECK(pierd_stop(server), "pierd stops cleanly");
	return harness_done();
}
