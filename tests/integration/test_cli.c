/* test_cli.c - integration: the terminal client `pier` against a real pierd. One-shot
 * commands (statuses, texts, output formats, exit codes), the chat fed through a pipe, and
 * the chat on a pseudo-terminal: log in, room and "text~user" messages, a message arriving
 * while a line is half typed, the register-then-login questions in Chinese. */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cliterm.h"
#include "clock.h"
#include "harness.h"

#define RUN_TIMEOUT_MS  20000

static const char *const server_args[] = { "--no-rate-limits", NULL };

static struct pierd *server;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- running `pier` with pipes ---- */

struct run {
	int status;     /* exit status; -1 if it did not exit normally in time */
	char *out, *err;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Runs pier with args, feeding stdin_text (NULL: nothing) through a pipe; collects stdout and
 * stderr. */
static void run_pier(struct run *r, const char *password, const char *stdin_text,
		     const char *const *args)
{
	int fds[3];
	char **argv = cliterm_argv(pierd_port_str(server), args);
	size_t out_len = 0, err_len = 0, in_off = 0, in_len = stdin_text != NULL ? strlen(stdin_text) : 0;
	int64_t deadline = pier_mono_ms() + RUN_TIMEOUT_MS;
	int status;
	pid_t pid;

	memset(r, 0, sizeof *r);
	r->status = -1;
	r->out = strdup("");
	r->err = strdup("");
	pid = cliterm_spawn_piped(argv, password, fds);
	free(argv);
	if (pid < 0)
		return;
	if (in_len == 0) {
		close(fds[0]);
		fds[0] = -1;
	}
	while ((fds[1] >= 0 || fds[2] >= 0) && pier_mono_ms() < deadline) {
		struct pollfd p[3] = {
			{ .fd = fds[1], .events = POLLIN },
			{ .fd = fds[2], .events = POLLIN },
			{ .fd = fds[0], .events = POLLOUT },
		};
		char buf[4096];

		if (poll(p, 3, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].revents == 0)
				continue;
			n = read(p[i].fd, buf, sizeof buf);
			if (n > 0) {
				cliterm_append(i == 0 ? &r->out : &r->err, i == 0 ? &out_len : &err_len, buf,
					       (size_t)n);
			} else {
				close(p[i].fd);
				fds[1 + i] = -1;
			}
		}
		if (p[2].revents != 0) {
			ssize_t n = write(fds[0], stdin_text + in_off, in_len - in_off);

			if (n > 0)
				in_off += (size_t)n;
			if (n <= 0 || in_off == in_len) {
				close(fds[0]);
				fds[0] = -1;
			}
		}
	}
	if (fds[1] >= 0 || fds[2] >= 0) {
		CHECK(false, "pier %s did not finish in time", args[0]);
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && (fds[1] < 0 && fds[2] < 0))
		r->status = WEXITSTATUS(status);
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
}

static bool contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static bool streq_safe(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* ---- one-shot commands ---- */

static void test_register(void)
{
	char u[HARNESS_NAME_MAX];
	struct run r;

	harness_user(u, "reg");
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("register", "--user", u));
	CHECK(r.status == 0 && strcmp(r.out, "Registered\n") == 0, "register: %d [%s] [%s]", r.status,
	      r.out, r.err);
	run_free(&r);

	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("register", "--user", u));
	CHECK(r.status == 1 && contains(r.err, "User name already exists"), "taken: %d [%s]", r.status,
	      r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("--lang", "zh", "register", "--user", u));
	CHECK(r.status == 1 && contains(r.err, "用户名已存在"), "taken, zh: %d [%s]", r.status, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("--lang", "zh", "register", "--user", "abc"));
	CHECK(r.status == 1 && contains(r.err, "账号或密码过短"), "short name, zh: %d [%s]", r.status,
	      r.err);
	run_free(&r);
	harness_user(u, "reg");
	run_pier(&r, "12345", NULL, ARGS("register", "--user", u));
	CHECK(r.status == 1 && contains(r.err, "too short"), "short password: %d [%s]", r.status, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("register", "--user", "bad name!"));
	CHECK(r.status == 1 && contains(r.err, "Invalid"), "bad name: %d [%s]", r.status, r.err);
	run_free(&r);

	/* The password from stdin when it is not a terminal; registered here, so 注册成功. */
	run_pier(&r, NULL, HARNESS_PASSWORD "\n", ARGS("--lang", "zh", "register", "--user", u));
	CHECK(r.status == 0 && strcmp(r.out, "注册成功\n") == 0, "register, password on stdin: %d [%s] [%s]",
	      r.status, r.out, r.err);
	run_free(&r);
	run_pier(&r, NULL, HARNESS_PASSWORD "\r\n", ARGS("who", "--user", u));
	CHECK(r.status == 0 && contains(r.out, u), "log in with the password on stdin (CRLF): %d [%s] [%s]",
	      r.status, r.out, r.err);
	run_free(&r);
	run_pier(&r, NULL, NULL, ARGS("who", "--user", u));
	CHECK(r.status == 1 && contains(r.err, "password"), "no password at all: %d [%s]", r.status, r.err);
	run_free(&r);

	/* Login failures: the report's texts. */
	run_pier(&r, "wrong-password", NULL, ARGS("--lang", "zh", "who", "--user", u));
	CHECK(r.status == 1 && contains(r.err, "密码错误"), "wrong password, zh: %d [%s]", r.status, r.err);
	run_free(&r);
	run_pier(&r, "wrong-password", NULL, ARGS("who", "--user", u));
	CHECK(r.status == 1 && contains(r.err, "Wrong password"), "wrong password: %d [%s]", r.status, r.err);
	run_free(&r);
	harness_user(u, "ghost");
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("--lang", "zh", "rooms", "--user", u));
	CHECK(r.status == 1 && contains(r.err, "用户名不存在"), "no such user, zh: %d [%s]", r.status, r.err);
	run_free(&r);
}

/* Registers a user through the CLI. */
static void cli_register(char u[HARNESS_NAME_MAX], const char *prefix)
{
	struct run r;

	harness_user(u, prefix);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("register", "--user", u));
	CHECK(r.status == 0, "register %s: %d [%s]", u, r.status, r.err);
	run_free(&r);
}

static void test_send_history(void)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], room[64], to_b[64], to_a[64];
	struct pier_conn *bc;
	struct run r;
	long long id1 = 0, id2 = 0, id3 = 0;
	json_t *msg;

	cli_register(a, "snd");
	bc = client_new_user(server, "rcv", b);
	if (bc == NULL)
		return;
	client_drain(bc);
	snprintf(to_b, sizeof to_b, "@%s", b);
	snprintf(to_a, sizeof to_a, "@%s", a);

	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("send", "--user", a, "--to", "#lobby", "hello lobby"));
	CHECK(r.status == 0 && sscanf(r.out, "%lld", &id1) == 1 && id1 > 0, "send to #lobby: %d [%s] [%s]",
	      r.status, r.out, r.err);
	run_free(&r);
	msg = client_wait_msg(bc, "hello lobby");
	CHECK(msg != NULL && jint(msg, "id", 0) == id1 && streq_safe(jstr(msg, "from"), a) &&
	      streq_safe(jstr(msg, "to"), "#lobby"), "the room message arrives: %s", jdump(msg));
	json_decref(msg);

	/* Several words make one text; newlines survive. */
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("send", "--user", a, "--to", to_b, "two\nlines", "and more"));
	CHECK(r.status == 0 && sscanf(r.out, "%lld", &id2) == 1 && id2 > id1, "send to @user: %d [%s] [%s]",
	      r.status, r.out, r.err);
	run_free(&r);
	msg = client_wait_msg(bc, "two\nlines and more");
	CHECK(msg != NULL && jint(msg, "id", 0) == id2 && streq_safe(jstr(msg, "to"), to_b),
	      "the private message arrives: %s", jdump(msg));
	json_decref(msg);
	/* A bare user name means @user. */
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("send", "--user", a, "--to", b, "third\ttab"));
	CHECK(r.status == 0 && sscanf(r.out, "%lld", &id3) == 1 && id3 > id2, "send --to NAME: %d [%s]",
	      r.status, r.err);
	run_free(&r);
	json_decref(client_wait_msg(bc, "third\ttab"));

	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("send", "--user", a, "--to", "@no_such_user_x", "hi"));
	CHECK(r.status == 1 && contains(r.err, "No such user") && r.out[0] == '\0',
	      "send to nobody: %d [%s]", r.status, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("send", "--user", a, "--to", "#not_joined_room", "hi"));
	CHECK(r.status == 1 && r.err[0] != '\0', "send to a room that does not exist: %d [%s]", r.status,
	      r.err);
	run_free(&r);

	/* history: tab-separated, escaped, oldest first. */
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("history", "--user", b, to_a));
	{
		char l2[256], l3[256];

		snprintf(l2, sizeof l2, "%lld\t", id2);
		snprintf(l3, sizeof l3, "\t%s\t%s\tthird\\ttab\n", a, to_b);
		CHECK(r.status == 0 && strncmp(r.out, l2, strlen(l2)) == 0 &&
		      contains(r.out, "\ttwo\\nlines and more\n") && contains(r.out, l3) &&
		      strchr(strchr(r.out, '\n') + 1, '\n') != NULL, "history lines: %d [%s] [%s]", r.status,
		      r.out, r.err);
	}
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("history", "--user", a, to_b, "--limit", "1"));
	{
		char want[64];

		snprintf(want, sizeof want, "%lld\t", id3);
		CHECK(r.status == 0 && strncmp(r.out, want, strlen(want)) == 0 &&
		      strchr(r.out, '\n') == r.out + strlen(r.out) - 1, "history --limit 1: [%s]", r.out);
	}
	run_free(&r);
	{
		char before[32];

		snprintf(before, sizeof before, "%lld", id3);
		run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("history", "--user", a, to_b, "--before", before, "--json"));
	}
	{
		json_t *j = json_loads(r.out, JSON_DISABLE_EOF_CHECK, NULL);

		CHECK(r.status == 0 && j != NULL && jint(j, "id", 0) == id2 &&
		      streq_safe(jstr(j, "text"), "two\nlines and more") &&
		      strchr(r.out, '\n') == r.out + strlen(r.out) - 1, "history --before --json: [%s]", r.out);
		json_decref(j);
	}
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("history", "--user", a, "#lobby"));
	CHECK(r.status == 0 && contains(r.out, "\t#lobby\thello lobby\n"), "lobby history: [%s]", r.out);
	run_free(&r);

	/* rooms, join, part, who. */
	snprintf(room, sizeof room, "#r%d", (int)getpid());
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("join", "--user", a, room));
	CHECK(r.status == 0 && contains(r.out, "created") && contains(r.out, room), "join creates: [%s] [%s]",
	      r.out, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("join", "--user", a, room + 1));
	CHECK(r.status == 0 && contains(r.out, "already"), "join without '#', again: [%s] [%s]", r.out, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("rooms", "--user", a));
	{
		char want[96];

		snprintf(want, sizeof want, "%s\t1\tjoined\n", room);
		CHECK(r.status == 0 && strncmp(r.out, "#lobby\t", 7) == 0 && contains(r.out, want),
		      "rooms: [%s]", r.out);
	}
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("rooms", "--user", b, "--json"));
	CHECK(r.status == 0 && strncmp(r.out, "{\"room\":\"#lobby\"", 16) == 0, "rooms --json: [%s]", r.out);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("part", "--user", a, room));
	CHECK(r.status == 0 && contains(r.out, room), "part: [%s] [%s]", r.out, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("part", "--user", a, "#lobby"));
	CHECK(r.status == 1 && contains(r.err, "#lobby"), "part #lobby fails: %d [%s]", r.status, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("who", "--user", a));
	{
		char want[64];

		snprintf(want, sizeof want, "%s\n", b);
		CHECK(r.status == 0 && contains(r.out, want) && contains(r.out, a), "who: [%s]", r.out);
	}
	run_free(&r);
	pier_conn_close(bc);
}

static void test_usage(void)
{
	struct run r;

	run_pier(&r, NULL, NULL, ARGS("--help"));
	CHECK(r.status == 0 && contains(r.out, "Usage: pier") && contains(r.out, "--no-color") &&
	      contains(r.out, "PIER_PASSWORD"), "--help");
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("frobnicate", "--user", "someone1"));
	CHECK(r.status == 2 && contains(r.err, "unknown command"), "unknown command: %d [%s]", r.status, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("send", "--user", "someone1", "text"));
	CHECK(r.status == 2 && contains(r.err, "--to"), "send without --to: %d [%s]", r.status, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("who"));
	CHECK(r.status == 2 && contains(r.err, "--user"), "no --user: %d [%s]", r.status, r.err);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("--lang", "fr", "who", "--user", "someone1"));
	CHECK(r.status == 2, "bad --lang: %d", r.status);
	run_free(&r);
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("rooms", "--user", "someone1", "--limit", "5"));
	CHECK(r.status == 2, "--limit outside history: %d", r.status);
	run_free(&r);
	/* A port where nothing listens (the later --port wins): a message and status 1. */
	run_pier(&r, HARNESS_PASSWORD, NULL, ARGS("--port", "1", "who", "--user", "someone1"));
	CHECK(r.status == 1 && contains(r.err, "cannot connect"), "no server: %d [%s]", r.status, r.err);
	run_free(&r);
}

/* ---- the chat through a pipe ---- */

static void test_chat_pipe(void)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], input[512];
	struct pier_conn *bc;
	struct run r;
	json_t *msg;

	cli_register(a, "pipe");
	bc = client_new_user(server, "pobs", b);
	if (bc == NULL)
		return;
	client_drain(bc);
	snprintf(input, sizeof input,
		 "piped hello\n"
		 "piped secret~%s\n"
		 "odd~not a name\n"
		 "/msg %s via msg\n"
		 "/frob\n"
		 "/quit\n"
		 "never sent\n", b, b);
	run_pier(&r, HARNESS_PASSWORD, input, ARGS("--user", a));
	CHECK(r.status == 0, "chat through a pipe: %d [%s] [%s]", r.status, r.out, r.err);
	CHECK(contains(r.out, "Logged in\n"), "the login status text: [%s]", r.out);
	CHECK(contains(r.out, "Unknown command /frob"), "an unknown command is named");
	CHECK(!contains(r.out, "\033["), "no colour in a pipe");
	/* Private lines wait for the device's setup and the peer's keys: they may arrive after
	 * the room lines typed later, so the four are collected in any order. */
	{
		static const char *const texts[] = { "piped hello", "piped secret", "odd~not a name",
		                                     "via msg" };
		static const bool priv[] = { false, true, false, true };
		bool seen[4] = { false, false, false, false };
		int64_t end = pier_mono_ms() + HARNESS_TIMEOUT_MS;

		while (pier_mono_ms() < end && !(seen[0] && seen[1] && seen[2] && seen[3])) {
			msg = pier_conn_wait_op(bc, "msg", (int)(end - pier_mono_ms()));
			if (msg == NULL)
				break;
			for (int k = 0; k < 4; k++) {
				const char *to = jstr(msg, "to");

				if (streq_safe(jstr(msg, "text"), texts[k]) && to != NULL &&
				    (priv[k] ? to[0] == '@' : strcmp(to, "#lobby") == 0))
					seen[k] = true;
			}
			json_decref(msg);
		}
		CHECK(seen[0], "piped room message");
		CHECK(seen[1], "text~user is private");
		CHECK(seen[2], "text~non-name goes to the room as is");
		CHECK(seen[3], "/msg is private");
	}
	{
		json_t *events = client_events(bc);

		CHECK(events != NULL && count_op(events, "msg", "text", "never sent") == 0,
		      "nothing after /quit is sent");
		json_decref(events);
	}
	run_free(&r);
	pier_conn_close(bc);
}

/* ---- the chat on a pseudo-terminal ---- */

static void test_chat_tty(void)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], line[128];
	struct pier_conn *bc;
	struct term t;
	json_t *msg;

	cli_register(a, "tty");
	bc = client_new_user(server, "tobs", b);
	/* --no-e2ee: the raw client below writes to it in plaintext, which a user with devices
	 * refuses (test_cli_e2ee has the encrypted chat) */
	if (bc == NULL || !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD,
	                              ARGS("--user", a, "--no-e2ee"))) {
		pier_conn_close(bc);
		return;
	}
	client_drain(bc);
	if (!expect(&t, "Logged in", "login status") || !expect(&t, "#lobby> ", "prompt"))
		goto out;

	type(&t, "hello from the terminal\r");
	msg = client_wait_msg(bc, "hello from the terminal");
	CHECK(msg != NULL && streq_safe(jstr(msg, "from"), a) && streq_safe(jstr(msg, "to"), "#lobby"),
	      "typed text goes to #lobby: %s", jdump(msg));
	json_decref(msg);
	/* Shown back, red (the report's colour of group messages), with time and room. */
	snprintf(line, sizeof line, "#lobby %s: hello from the terminal", a);
	expect(&t, "\033[31m[", "own room message in red");
	expect(&t, line, "own room message shown");

	snprintf(line, sizeof line, "whisper~%s\r", b);
	type(&t, line);
	msg = client_wait_msg(bc, "whisper");
	snprintf(line, sizeof line, "@%s", b);
	CHECK(msg != NULL && streq_safe(jstr(msg, "to"), line), "text~user is private: %s", jdump(msg));
	json_decref(msg);
	expect(&t, "\033[1;35m[", "private message in its own colour");

	/* A message arrives while a line is half typed: the typed part is redrawn after the
	 * message and still goes out whole. */
	type(&t, "keep this t");
	if (!expect(&t, "keep this t", "echo of the partial line"))
		goto out;
	client_send(bc, "#lobby", "interrupting you", NULL, NULL);
	snprintf(line, sizeof line, "#lobby %s: interrupting you", b);
	expect(&t, line, "incoming room message shown");
	expect(&t, "#lobby> keep this t", "partial line redrawn after it");
	snprintf(line, sizeof line, "@%s", a);
	client_send(bc, line, "psst back", NULL, NULL);
	expect(&t, "\033[1;35m[", "incoming private message coloured");
	expect(&t, "psst back", "incoming private message shown");
	expect(&t, "#lobby> keep this t", "partial line redrawn again");
	type(&t, "ext\r");
	msg = client_wait_msg(bc, "keep this text");
	CHECK(msg != NULL && streq_safe(jstr(msg, "to"), "#lobby"), "the interrupted line arrives whole: %s",
	      jdump(msg));
	json_decref(msg);

	/* Commands: join switches the prompt; /quit ends with status 0. */
	snprintf(line, sizeof line, "/join #t%d\r", (int)getpid());
	type(&t, line);
	snprintf(line, sizeof line, "#t%d> ", (int)getpid());
	expect(&t, line, "prompt follows /join");
	type(&t, "/quit\r");
out:
	CHECK(term_finish(&t) == 0, "/quit exits with 0");
	term_free(&t);
	pier_conn_close(bc);
}

/* LANG naming a locale that is not installed (zh_CN.UTF-8 over ssh from a Chinese desktop),
 * or a non-UTF-8 one: pier falls back to C.UTF-8 and typed Chinese arrives whole. */
static void test_locale_fallback(const char *lang)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX];
	struct pier_conn *bc;
	struct term t;
	json_t *msg;
	bool started;

	cli_register(a, "loc");
	bc = client_new_user(server, "lobs", b);
	cliterm_set_lang(lang);
	started = bc != NULL && term_start(&t, pierd_port_str(server), HARNESS_PASSWORD,
	                                   ARGS("--user", a));
	cliterm_set_lang(NULL);
	if (!CHECK(started, "LANG=%s: pier starts", lang)) {
		pier_conn_close(bc);
		return;
	}
	client_drain(bc);
	if (expect(&t, "> ", "prompt")) {
		type(&t, "中文测试 POSIX\r");
		msg = client_wait_msg(bc, "中文测试 POSIX");
		CHECK(msg != NULL, "LANG=%s: typed Chinese arrives whole: %s", lang, jdump(msg));
		json_decref(msg);
		type(&t, "/quit\r");
	}
	CHECK(term_finish(&t) == 0, "LANG=%s: pier exits cleanly (no crash)", lang);
	term_free(&t);
	pier_conn_close(bc);
}

/* /passwd asks for the passwords without echo and changes it; another device's session ends;
 * /logout-all ends every session and leaves. */
static void test_tty_account(void)
{
	char a[HARNESS_NAME_MAX];
	struct pier_conn *other, *again;
	struct term t;
	json_t *ev;
	bool closed = false;

	cli_register(a, "acct");
	other = client_login(server, a, HARNESS_PASSWORD);
	if (other == NULL || !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD, ARGS("--user", a))) {
		CHECK(false, "a session elsewhere, and pier logged in");
		pier_conn_close(other);
		return;
	}
	if (!expect(&t, "#lobby> ", "prompt"))
		goto out;
	type(&t, "/passwd\r");
	expect(&t, "current one", "asks for the current password");
	type(&t, HARNESS_PASSWORD "\r");
	expect(&t, "new password", "asks for the new one");
	type(&t, "brand-new-pw-1\r");
	expect(&t, "again", "asks for it again");
	type(&t, "brand-new-pw-1\r");
	expect(&t, "Password changed", "says it changed");
	CHECK(!contains(t.buf, "brand-new-pw-1"), "the passwords were not echoed");
	ev = client_read_until_closed(other, 10000, &closed);
	CHECK(closed && ev != NULL && strstr(jdump(ev), "logged_out") != NULL,
	      "the other device's session ends with logged_out");
	json_decref(ev);
	again = client_login(server, a, "brand-new-pw-1");
	CHECK(again != NULL, "the new password logs in");
	type(&t, "/logout-all\r");
	expect(&t, "Logged out everywhere", "says so");
	CHECK(term_finish(&t) == 0, "and pier exits with 0");
	if (again != NULL) {
		ev = client_read_until_closed(again, 10000, &closed);
		CHECK(closed, "every other session ends too");
		json_decref(ev);
		pier_conn_close(again);
	}
	pier_conn_close(other);
	term_free(&t);
	return;
out:
	term_finish(&t);
	term_free(&t);
	pier_conn_close(other);
}

/* Without --user: the questions, in Chinese, register then log in; the password is not echoed. */
static void test_tty_register(void)
{
	char u[HARNESS_NAME_MAX], line[128];
	struct term t;

	harness_user(u, "newbie");
	if (!term_start(&t, pierd_port_str(server), NULL, ARGS("--lang", "zh")))
		return;
	if (!expect(&t, "登录还是注册", "the login-or-register question"))
		goto out;
	type(&t, "r\r");
	expect(&t, "用户名", "user name question");
	snprintf(line, sizeof line, "%s\r", u);
	type(&t, line);
	expect(&t, "密码", "password question");
	type(&t, "tty-secret-pw\r");
	expect(&t, "注册成功", "register status text");
	if (!expect(&t, "[Y/n]", "offer to log in"))
		goto out;
	type(&t, "y\r");
	expect(&t, "登录成功", "login status text");
	expect(&t, "#lobby> ", "chat prompt");
	CHECK(strstr(t.buf, "tty-secret-pw") == NULL, "the password is never echoed");
	type(&t, "\004");     /* Ctrl-D on an empty line */
out:
	CHECK(term_finish(&t) == 0, "Ctrl-D exits with 0");
	term_free(&t);
}

int main(void)
{
	harness_watchdog(240);
	signal(SIGPIPE, SIG_IGN);
	server = pierd_start(server_args);
	if (server == NULL)
		return harness_done();
	test_usage();
	test_register();
	test_send_history();
	test_chat_pipe();
	test_chat_tty();
	test_tty_register();
	test_tty_account();
	test_locale_fallback("zh_CN.UTF-8");
	test_locale_fallback("POSIX");
	sleep_ms(10);
	CHECK(pierd_stop(server), "pierd stops cleanly");
	return harness_done();
}
