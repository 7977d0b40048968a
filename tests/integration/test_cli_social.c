/* test_cli_social.c - integration: `pier` in a pseudo-terminal with read state, typing,
 * display names, members and topics: unread counts and the "-- N new messages --" divider at
 * login, what it showed marked read on the server (seen by the user's other session),
 * "王小明 (name)" for senders, another user's typing in the prompt without losing the typed
 * line, /members, /topic, /nick (and a refused one), /unread. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cliterm.h"
#include "harness.h"

int main(void)
{
	/* Typing in #lobby goes out only in the all-presence mode (--presence-limit N). */
	static const char *const args[] = {"--no-rate-limits", "--presence-limit", "10", NULL};
	struct pierd *p;
	struct pier_conn *cb, *a2, *reg;
	struct term t;
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], to_a[HARNESS_NAME_MAX + 1];
	char to_b[HARNESS_NAME_MAX + 1], room[40], line[200];
	int64_t last;
	json_t *r;

	harness_watchdog(120);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	harness_user(a, "tca");
	reg = client_connect(p);
	REQUIRE(reg != NULL, harness_done(), "connect");
	CHECK(client_register(reg, a, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register a");
	pier_conn_close(reg);
	cb = client_new_user(p, "tcb", b);
	REQUIRE(cb != NULL, harness_done(), "b online");
	r = client_call(cb, pier_req_profile("王小明"));
	CHECK(r && is_op(r, "profile"), "b's display name: %s", jdump(r));
	json_decref(r);
	snprintf(room, sizeof room, "#tc%d", (int)(getpid() % 100000));
	json_decref(client_call(cb, pier_req_join(room)));

	/* Two private messages while a is offline. */
	snprintf(to_a, sizeof to_a, "@%s", a);
	snprintf(to_b, sizeof to_b, "@%s", b);
	CHECK(client_send(cb, to_a, "first while away", NULL, NULL) > 0, "b writes to a");
	last = client_send(cb, to_a, "second while away", NULL, NULL);
	CHECK(last > 0, "and again");

	if (!term_start(&t, pierd_port_str(p), HARNESS_PASSWORD, ARGS("--no-color", "--user", a)))
		return harness_done();
	expect(&t, "Unread:", "unread counts at login");
	snprintf(line, sizeof line, "%s  2", to_b);
	expect(&t, line, "two unread from b");
	expect(&t, "-- 2 new messages --", "the divider where reading stopped");
	snprintf(line, sizeof line, "王小明 (%s) -> %s: first while away", b, a);
	expect(&t, line, "the first message after the divider, with b's display name");
	expect(&t, "second while away", "the second");
	expect(&t, "#lobby> ", "prompt");

	/* What pier showed is marked read: a's other session hears it. */
	a2 = client_login(p, a, HARNESS_PASSWORD);
	REQUIRE(a2 != NULL, harness_done(), "a's second session");
	r = client_wait_op(a2, "read");
	CHECK(r && jstr(r, "with") && strcmp(jstr(r, "with"), to_b) == 0 && jint(r, "id", 0) == last,
	      "pier marked the conversation read up to what it showed: %s", jdump(r));
	json_decref(r);
	r = client_call(a2, pier_req_unread(NULL, 0));
	{
		json_t *v;
		size_t i;
		int64_t unread = -1;

		json_array_foreach(json_object_get(r, "conversations"), i, v)
			if (strcmp(jstr(v, "with"), to_b) == 0)
				unread = jint(v, "unread", -1);
		CHECK(unread == 0, "the other device counts 0 unread: %s", jdump(r));
	}
	json_decref(r);

	/* b types to a: shown in the prompt, the partial line kept. */
	type(&t, "half a li");
	expect(&t, "half a li", "the partial line is echoed");
	pier_conn_send(cb, pier_req_typing(to_a), NULL);
	snprintf(line, sizeof line, "[王小明 (%s) is typing] #lobby> half a li", b);
	expect(&t, line, "the typing notice in the prompt, the typed text kept");
	type(&t, "ne\r");
	/* a typed in #lobby: b, online, heard a typing there. */
	r = client_wait_op(cb, "typing");
	CHECK(r && jstr(r, "from") && strcmp(jstr(r, "from"), a) == 0 && strcmp(jstr(r, "to"), "#lobby") == 0,
	      "pier told #lobby it was typing: %s", jdump(r));
	json_decref(r);
	expect(&t, "half a line", "the line was sent");

	/* /nick, a refused one, /join, /members, /topic, /unread. */
	type(&t, "/nick 测试 用户\r");
	snprintf(line, sizeof line, "You are now shown as 测试 用户 (%s)", a);
	expect(&t, line, "/nick sets the display name");
	type(&t, "/nick \xe2\x80\xae" "evil\r");
	expect(&t, "Display names are", "a bidi control is refused, with a reason in words");
	snprintf(line, sizeof line, "/join %s\r", room);
	type(&t, line);
	expect(&t, "Joined", "joined b's room");
	type(&t, "/members\r");
	snprintf(line, sizeof line, "王小明 (%s)", b);
	expect(&t, line, "/members lists b with its display name");
	snprintf(line, sizeof line, "测试 用户 (%s)  (online)", a);
	expect(&t, line, "and a, online");
	type(&t, "/topic 周五发布\r");
	snprintf(line, sizeof line, "Topic of %s: 周五发布", room);
	expect(&t, line, "/topic sets it");
	r = client_wait_op(cb, "topic");
	CHECK(r && jstr(r, "topic") && strcmp(jstr(r, "topic"), "周五发布") == 0,
	      "b hears the topic: %s", jdump(r));
	json_decref(r);
	r = client_call(cb, pier_req_topic(room, "新话题"));
	json_decref(r);
	snprintf(line, sizeof line, "%s set the topic of %s: 新话题", b, room);
	expect(&t, line, "b's topic change is shown");
	CHECK(client_send(cb, room, "unread in the room", NULL, NULL) > 0, "b writes in the room");
	expect(&t, "unread in the room", "shown live");
	for (int i = 0; i < 10; i++) {
		bool done;

		r = client_wait_op(a2, "read");
		done = r == NULL || (jstr(r, "with") && strcmp(jstr(r, "with"), room) == 0);
		json_decref(r);
		if (done)
			break;
	}
	type(&t, "/unread\r");
	expect(&t, "No unread messages", "/unread: what was shown counts as read once marked");
	type(&t, "/quit\r");
	CHECK(term_finish(&t) == 0, "pier exits 0");
	term_free(&t);
	pier_conn_close(a2);
	pier_conn_close(cb);

	/* pier register --display. */
	{
		char c[HARNESS_NAME_MAX];
		struct pier_conn *cc;

		harness_user(c, "tcc");
		if (term_pipe_start(&t, pierd_port_str(p), HARNESS_PASSWORD,
				    ARGS("--user", c, "--display", "王五", "register"))) {
			CHECK(term_finish(&t) == 0, "pier register --display exits 0");
			term_free(&t);
		}
		cc = client_connect(p);
		r = cc ? client_call(cc, pier_req_login(c, HARNESS_PASSWORD)) : NULL;
		CHECK(r && jstr(r, "display") && strcmp(jstr(r, "display"), "王五") == 0,
		      "registered with its display name: %s", jdump(r));
		json_decref(r);
		pier_conn_close(cc);
	}
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
