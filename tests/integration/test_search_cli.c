/* test_search_cli.c - integration: search in the terminal client. `pier search` one-shot
 * (plain lines as history prints them, --json with the highlight, --with, --limit with the
 * note about older matches, refusals), and /search in the chat on a pseudo-terminal with the
 * match in reverse video and the number every message has (/react N on a match), then
 * /search alone for older matches; a match that mentions the user does not ring. Newer than a's matches are
 * FLOOD matches in a room a is not in: more than the server looks at in one request, so both
 * clients must go on by themselves past an empty page to find a's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliterm.h"
#include "harness.h"

#define FLOOD 2100     /* > STORE_SEARCH_SCAN_MAX (2000) */

static struct pierd *server;

struct world {
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX];
	struct pier_conn *bconn;
	int64_t lobby, pm, room;
};

static bool contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Runs `pier --user A [--lang L] ARGS...` on pipes, with the password; its exit status. */
static int run(struct term *t, const char *const *args)
{
	if (!term_pipe_start(t, pierd_port_str(server), HARNESS_PASSWORD, args))
		return -1;
	return term_finish(t);
}

static void test_oneshot(struct world *w)
{
	struct term t;
	char id[32];
	json_t *j;
	json_error_t jerr;
	int rc;

	rc = run(&t, ARGS("--user", w->a, "search", "电影"));
	CHECK(rc == 0, "search exits with 0 (%d): %s", rc, t.err);
	CHECK(count_lines(t.buf) == 2, "two messages a may read: %s", t.buf);
	snprintf(id, sizeof(id), "%lld\t", (long long)w->pm);
	CHECK(strncmp(t.buf, id, strlen(id)) == 0, "newest first (the private one): %s", t.buf);
	CHECK(contains(t.buf, "我们今天晚上去看电影吧") && !contains(t.buf, "房间电影") &&
	      !contains(t.buf, "\033["), "history's columns, no colour on a pipe, no other room: %s",
	      t.buf);
	term_free(&t);

	rc = run(&t, ARGS("--user", w->a, "search", "--json", "--with", "#lobby", "电影"));
	j = json_loads(t.buf, JSON_DISABLE_EOF_CHECK, &jerr);
	CHECK(rc == 0 && count_lines(t.buf) == 1 && j != NULL && jint(j, "id", -1) == w->lobby &&
	      json_is_array(json_object_get(j, "highlight")) &&
	      json_integer_value(json_array_get(json_array_get(json_object_get(j, "highlight"), 0), 0)) == 8,
	      "--json --with #lobby: one object with its highlight [[8,10]]: %s", t.buf);
	json_decref(j);
	term_free(&t);

	/* a bare name is a user (a private conversation) */
	rc = run(&t, ARGS("--user", w->a, "search", "--with", w->b, "电影"));
	CHECK(rc == 0 && count_lines(t.buf) == 1 && contains(t.buf, "私聊电影"), "--with NAME: %s",
	      t.buf);
	term_free(&t);

	rc = run(&t, ARGS("--user", w->a, "search", "--limit", "1", "电影"));
	snprintf(id, sizeof(id), "--before %lld", (long long)w->pm);
	CHECK(rc == 0 && count_lines(t.buf) == 1 && contains(t.err, id),
	      "--limit 1: one line, stderr says how to go on (%s): %s", id, t.err);
	term_free(&t);

	rc = run(&t, ARGS("--user", w->a, "--lang", "zh", "search", "没有这个词"));
	CHECK(rc == 0 && t.len == 0 && contains(t.err, "没有匹配的消息"), "nothing found (zh): %s",
	      t.err);
	term_free(&t);

	rc = run(&t, ARGS("--user", w->a, "search", "a"));
	CHECK(rc == 1 && contains(t.err, "Nothing to search for"), "one letter: status 1, why: %s",
	      t.err);
	term_free(&t);

	rc = run(&t, ARGS("--user", w->a, "search", "--with", "#nosuchroom", "电影"));
	CHECK(rc == 1 && contains(t.err, "No such room"), "no such room: %s", t.err);
	term_free(&t);

	rc = run(&t, ARGS("--user", w->a, "history", "--with", "#lobby"));
	CHECK(rc == 2 && contains(t.err, "--with belongs to search"), "--with is search's: %s", t.err);
	term_free(&t);
	rc = run(&t, ARGS("--user", w->a, "search"));
	CHECK(rc == 2 && contains(t.err, "needs the text to search for"), "no text: %s", t.err);
	term_free(&t);
}

static void test_chat(struct world *w)
{
	struct term t;
	long n;

	if (!term_start(&t, pierd_port_str(server), HARNESS_PASSWORD, ARGS("--user", w->a)))
		return;
	if (!expect(&t, "#lobby> ", "prompt"))
		goto out;
	type(&t, "/search 电影\r");
	expect(&t, "Messages matching \"电影\" (newest first)", "the results' heading");
	/* the private message first, the match in reverse video inside its colour */
	expect(&t, "私聊\033[7m电影\033[27m secret", "the private match marked");
	expect(&t, "去看\033[7m电影\033[27m吧", "the room match marked");
	/* numbered like every message on the screen: /react N acts on a match */
	n = term_number_of(&t, "去看\033[7m电影\033[27m吧");
	if (CHECK(n > 0, "a number before the match: [%s]", t.buf)) {
		char line[128];

		term_typef(&t, "/react %ld 👍\r", n);
		snprintf(line, sizeof(line), "You reacted to message %ld with 👍 (1 in all)", n);
		expect(&t, line, "a reaction to the numbered match");
	}
	type(&t, "/search\r");
	expect(&t, "No older matches", "/search alone without older ones");
	/* a match that mentions a: its words stand out, the line neither rings nor stands out as
	 * the live mention did */
	{
		char text[128];

		snprintf(text, sizeof(text), "@%s 记得带伞 umbrellanote", w->a);
		client_send(w->bconn, "#lobby", text, NULL, NULL);
		expect(&t, "umbrellanote", "the mention, live");
		type(&t, "/search umbrellanote\r");
		if (expect(&t, "Messages matching \"umbrellanote\"", "the heading")) {
			size_t from = t.mark;

			if (expect(&t, "\033[7mumbrellanote\033[27m", "the match marked")) {
				char *seg = strndup(t.buf + from, t.mark - from);

				CHECK(seg != NULL && strchr(seg, '\a') == NULL && strstr(seg, "\033[7m[") == NULL,
				      "no bell, no reverse line for a match that mentions a: %s", seg);
				free(seg);
			}
		}
	}
	type(&t, "/search 房间\r");
	expect(&t, "No messages match \"房间\"", "another room's message is not found");
	type(&t, "/quit\r");
out:
	CHECK(term_finish(&t) == 0, "/quit exits with 0");
	term_free(&t);
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	struct pier_conn *a, *b;
	struct world w;
	char to[64];
	json_t *r;

	harness_watchdog(120);
	memset(&w, 0, sizeof(w));
	server = pierd_start(args);
	if (server == NULL)
		return harness_done();
	a = client_new_user(server, "cli_sa", w.a);
	b = client_new_user(server, "cli_sb", w.b);
	if (a != NULL && b != NULL) {
		r = client_call(b, pier_req_join("#elsewhere"));
		json_decref(r);
		w.room = client_send(b, "#elsewhere", "房间电影", NULL, NULL);
		w.lobby = client_send(a, "#lobby", "我们今天晚上去看电影吧", NULL, NULL);
		snprintf(to, sizeof(to), "@%s", w.b);
		w.pm = client_send(a, to, "私聊电影 secret", NULL, NULL);
		for (int i = 0; i < FLOOD; i++) {
			char text[64];

			snprintf(text, sizeof(text), "别的房间的电影 %d", i);
			if (client_send(b, "#elsewhere", text, NULL, NULL) < 0)
				break;
		}
		r = client_call(a, pier_req_search("电影", NULL, 0, 0));
		CHECK(json_array_size(json_object_get(r, "messages")) == 0 && jtrue(r, "more"),
		      "the server's first page for a is empty, with more: %s", jdump(r));
		json_decref(r);
		w.bconn = b;
		test_oneshot(&w);
		test_chat(&w);
	}
	pier_conn_close(a);
	pier_conn_close(b);
	pierd_stop(server);
	return harness_done();
}
