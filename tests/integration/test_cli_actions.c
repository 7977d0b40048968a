/* test_cli_actions.c - integration: `pier` on a pseudo-terminal with what happens to messages
 * after they were sent. The number shown before each message; /reply N, /react N, /edit N,
 * /recall [N] and their refusals; others' edits, recalls and reactions shown live; a
 * mention ringing the bell, highlighted; Tab completing an @name; /help in English and
 * Chinese; the one-shot commands recall, edit, react and send --reply-to; all of it with
 * display names ("王小明 (name)"); and the changes made while pier was offline shown after it
 * reconnects. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cliterm.h"
#include "harness.h"

#define RECONNECT_TIMEOUT_MS  45000   /* backoff tops at 30 s */

static const char *const server_args[] = { "--no-rate-limits", NULL };

static struct pierd *server;

static bool streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The event op about message id on c (others skipped), or NULL with a failed check. */
static json_t *wait_about(struct pier_conn *c, const char *op, int64_t id)
{
	for (int i = 0; i < 20; i++) {
		json_t *ev = client_wait_op(c, op);

		if (ev == NULL || jint(ev, "id", -1) == id)
			return ev;
		json_decref(ev);
	}
	CHECK(false, "no %s about %lld", op, (long long)id);
	return NULL;
}

static void test_chat_commands(void)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], line[256];
	struct pier_conn *ac = client_new_user(server, "cla", a), *bc = client_new_user(server, "clb", b);
	struct term t;
	int64_t q, mine = 0;
	long n, m;
	json_t *ev;

	if (ac == NULL || bc == NULL ||
	    !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD, ARGS("--user", a))) {
		pier_conn_close(ac);
		pier_conn_close(bc);
		return;
	}
	if (!expect(&t, "#lobby> ", "prompt"))
		goto out;
	client_drain(bc);

	/* a mention: the bell, reverse video, and a number first */
	snprintf(line, sizeof line, "question for @%s", a);
	q = client_send(bc, "#lobby", line, NULL, NULL);
	expect(&t, line, "the message that mentions us");
	CHECK(strchr(t.buf, '\a') != NULL, "the mention rang the bell");
	CHECK(strstr(t.buf, "\033[7m[") != NULL, "the mention is in reverse video");
	n = term_number_of(&t, line);
	if (!CHECK(n > 0, "a number before the message: [%s]", t.buf))
		goto out;

	/* /reply N: quoting B's message */
	term_typef(&t, "/reply %ld answer from A\r", n);
	ev = client_wait_msg(bc, "answer from A");
	CHECK(ev != NULL && jint(ev, "reply_to", -1) == q &&
	      streq(jstr(json_object_get(ev, "quote"), "text"), line), "B gets the reply with its quote: %s",
	      jdump(ev));
	json_decref(ev);
	snprintf(line, sizeof line, "[re %ld %s: question for @%s] answer from A", n, b, a);
	expect(&t, line, "our reply shown with its quote");

	/* /react N */
	term_typef(&t, "/react %ld 👍\r", n);
	ev = wait_about(bc, "reaction", q);
	CHECK(ev != NULL && streq(jstr(ev, "user"), a) && streq(jstr(ev, "emoji"), "👍"),
	      "B hears of the reaction: %s", jdump(ev));
	json_decref(ev);
	snprintf(line, sizeof line, "You reacted to message %ld with 👍 (1 in all)", n);
	expect(&t, line, "our reaction confirmed");

	/* others' changes, live */
	json_decref(client_call(bc, pier_req_edit(q, "question, edited")));
	expect(&t, "question, edited (edited)", "B's edit shown");
	CHECK(term_number_of(&t, "question, edited (edited)") == n, "an edited message keeps its number");
	json_decref(client_call(bc, pier_req_react(q, "🎉", true)));
	snprintf(line, sizeof line, "%s reacted to message %ld with 🎉 (1 in all)", b, n);
	expect(&t, line, "B's reaction shown");
	json_decref(client_call(bc, pier_req_recall(q)));
	snprintf(line, sizeof line, "%s recalled message %ld", b, n);
	expect(&t, line, "B's recall shown");

	/* /edit N and /recall on our own */
	type(&t, "mine to edit\r");
	ev = client_wait_msg(bc, "mine to edit");
	mine = jint(ev, "id", -1);
	json_decref(ev);
	snprintf(line, sizeof line, "#lobby %s: mine to edit", a);
	expect(&t, line, "our message shown");
	m = term_number_of(&t, "mine to edit");
	CHECK(m > n, "a new number: %ld after %ld", m, n);
	term_typef(&t, "/edit %ld mine, edited\r", m);
	ev = wait_about(bc, "edited", mine);
	CHECK(ev != NULL && streq(jstr(ev, "text"), "mine, edited"), "B gets our edit: %s", jdump(ev));
	json_decref(ev);
	expect(&t, "mine, edited (edited)", "our edit shown");
	type(&t, "/recall\r");
	ev = wait_about(bc, "recalled", mine);
	CHECK(ev != NULL, "/recall without a number recalls our last message");
	json_decref(ev);
	snprintf(line, sizeof line, "You recalled message %ld", m);
	expect(&t, line, "our recall confirmed");

	/* refusals */
	term_typef(&t, "/recall %ld\r", n);
	expect(&t, "That is not your message", "recalling B's message");
	type(&t, "/react 99999 x\r");
	expect(&t, "No message with that number on the screen", "an unknown number");
	term_typef(&t, "/react %ld a b\r", m);
	expect(&t, "Not a reaction", "a reaction with a space");
	term_typef(&t, "/edit %ld\r", m);
	expect(&t, "Usage: /edit N TEXT", "/edit without text");
	term_typef(&t, "/edit %ld again\r", m);
	expect(&t, "That message was recalled", "editing a recalled message");

	/* Tab completes an @name B's messages taught pier */
	client_drain(bc);
	snprintf(line, sizeof line, "hi @%.4s\t", b);
	type(&t, line);
	term_read(&t, 300);        /* libedit completes, then Enter */
	type(&t, "\r");
	snprintf(line, sizeof line, "hi @%s", b);
	ev = client_wait_op(bc, "msg");
	CHECK(ev != NULL && strncmp(jstr(ev, "text") ? jstr(ev, "text") : "", line, strlen(line)) == 0,
	      "Tab completed the name: %s", jdump(ev));
	json_decref(ev);

	type(&t, "/help\r");
	expect(&t, "/react N EMOJI", "/help lists /react");
	expect(&t, "Tab completes @names", "/help tells of completion");
	type(&t, "/quit\r");
out:
	CHECK(term_finish(&t) == 0, "/quit exits with 0");
	term_free(&t);
	pier_conn_close(ac);
	pier_conn_close(bc);
}

static void test_help_zh(void)
{
	char a[HARNESS_NAME_MAX];
	struct pier_conn *ac = client_new_user(server, "clz", a);
	struct term t;

	if (ac == NULL || !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD,
	                              ARGS("--lang", "zh", "--user", a))) {
		pier_conn_close(ac);
		return;
	}
	if (expect(&t, "#lobby> ", "prompt")) {
		type(&t, "/help\r");
		expect(&t, "/reply N 文字", "zh /help: /reply");
		expect(&t, "撤回你的第 N 条消息", "zh /help: /recall");
		expect(&t, "表情回应", "zh /help: /react");
		type(&t, "/recall\r");
		expect(&t, "你还没有发送消息", "zh: nothing to recall");
		type(&t, "/quit\r");
	}
	CHECK(term_finish(&t) == 0, "zh: /quit exits with 0");
	term_free(&t);
	pier_conn_close(ac);
}

/* Runs a one-shot pier command (pipes) and returns its stdout (malloc'd); *status its exit. */
static char *oneshot(int *status, const char *const *args)
{
	struct term t;
	char *out;

	*status = -1;
	if (!term_pipe_start(&t, pierd_port_str(server), HARNESS_PASSWORD, args))
		return strdup("");
	*status = term_finish(&t);
	out = strdup(t.buf != NULL ? t.buf : "");
	if (t.err_len > 0)
		fprintf(stderr, "# pier %s: %s", args[0], t.err);
	term_free(&t);
	return out;
}

static void test_oneshot(void)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], id[32], to_b[HARNESS_NAME_MAX + 1];
	struct pier_conn *ac = client_new_user(server, "osa", a), *bc = client_new_user(server, "osb", b);
	int64_t q;
	int status;
	char *out;
	json_t *ev;

	if (ac == NULL || bc == NULL)
		goto out;
	snprintf(to_b, sizeof to_b, "@%s", b);
	q = client_send(bc, "#lobby", "one-shot target", NULL, NULL);
	snprintf(id, sizeof id, "%lld", (long long)q);
	client_drain(bc);

	out = oneshot(&status, ARGS("send", "--user", a, "--to", "#lobby", "--reply-to", id, "a reply"));
	ev = client_wait_msg(bc, "a reply");
	CHECK(status == 0 && atoll(out) > q && jint(ev, "reply_to", -1) == q,
	      "send --reply-to: %d [%s] %s", status, out, jdump(ev));
	json_decref(ev);
	free(out);
	out = oneshot(&status, ARGS("react", "--user", a, id, "👍"));
	CHECK(status == 0 && strstr(out, " 👍 1") != NULL, "react: %d [%s]", status, out);
	free(out);
	out = oneshot(&status, ARGS("react", "--user", a, id, "👍", "--off"));
	CHECK(status == 0 && strstr(out, " 👍 0") != NULL, "react --off: %d [%s]", status, out);
	free(out);
	out = oneshot(&status, ARGS("react", "--user", a, id, "a b"));
	CHECK(status == 2, "react with a bad emoji: %d", status);
	free(out);
	out = oneshot(&status, ARGS("edit", "--user", a, id, "not", "mine"));
	CHECK(status == 1, "edit someone else's message: %d [%s]", status, out);
	free(out);
	out = oneshot(&status, ARGS("edit", "--user", b, id, "edited", "by", "B"));
	ev = wait_about(ac, "edited", q);
	CHECK(status == 0 && ev != NULL && streq(jstr(ev, "text"), "edited by B"),
	      "edit joins the words: %d [%s] %s", status, out, jdump(ev));
	json_decref(ev);
	free(out);
	out = oneshot(&status, ARGS("recall", "--user", b, "x12"));
	CHECK(status == 2, "recall of a non-number: %d", status);
	free(out);
	out = oneshot(&status, ARGS("recall", "--user", b, id));
	CHECK(status == 0 && strstr(out, "recalled") != NULL, "recall: %d [%s]", status, out);
	free(out);
	out = oneshot(&status, ARGS("history", "--user", a, "#lobby"));
	{
		char want[64];

		snprintf(want, sizeof want, "%s\t#lobby\t[recalled]\n", b);
		CHECK(status == 0 && strstr(out, want) != NULL && strstr(out, "[re ") != NULL,
		      "history shows the recall and the reply: [%s]", out);
	}
	free(out);
	out = oneshot(&status, ARGS("recall", "--user", a, "--off", id));
	CHECK(status == 2, "--off outside react: %d", status);
	free(out);
out:
	pier_conn_close(ac);
	pier_conn_close(bc);
}

/* Changes made while pier was offline are shown once it is back, as the messages are now. */
static void test_changes_while_offline(void)
{
	char x[HARNESS_NAME_MAX], y[HARNESS_NAME_MAX], line[256];
	struct pier_conn *xc = client_new_user(server, "clx", x), *yc = client_new_user(server, "cly", y);
	int64_t ids[3];
	long nums[3];
	struct term t;

	pier_conn_close(xc);
	if (xc == NULL || yc == NULL ||
	    !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD, ARGS("--no-color", "--user", x))) {
		pier_conn_close(yc);
		return;
	}
	if (!expect(&t, "#lobby> ", "prompt"))
		goto out;
	for (int i = 0; i < 3; i++) {
		snprintf(line, sizeof line, "before the drop %d", i);
		ids[i] = client_send(yc, "#lobby", line, NULL, NULL);
		expect(&t, line, "shown");
		nums[i] = term_number_of(&t, line);
	}
	pier_conn_close(yc);
	yc = NULL;
	CHECK(pierd_stop(server), "pierd stops");
	expect(&t, "(offline) #lobby> ", "offline");
	kill(t.pid, SIGSTOP);     /* no reconnect before the changes are made */
	if (pierd_restart_same_port(server) == 0) {
		yc = client_login(server, y, HARNESS_PASSWORD);
		json_decref(client_call(yc, pier_req_edit(ids[0], "changed while you were away")));
		json_decref(client_call(yc, pier_req_recall(ids[1])));
		json_decref(client_call(yc, pier_req_react(ids[2], "🎉", true)));
	} else {
		CHECK(false, "pierd comes back");
	}
	kill(t.pid, SIGCONT);
	if (yc == NULL)
		goto out;
	expect_within(&t, "Reconnected as", "reconnects", RECONNECT_TIMEOUT_MS);
	snprintf(line, sizeof line, "#lobby %s: changed while you were away (edited)", y);
	expect(&t, line, "the edit made meanwhile");
	CHECK(term_number_of(&t, "changed while you were away (edited)") == nums[0],
	      "with the number it had");
	snprintf(line, sizeof line, "#lobby %s: (message recalled)", y);
	expect(&t, line, "the recall made meanwhile");
	CHECK(term_number_of(&t, "(message recalled)") == nums[1], "with the number it had");
	expect(&t, "before the drop 2 [🎉 1]", "the reaction made meanwhile");
	expect(&t, "3 message(s) changed while you were away", "counted");
	type(&t, "/quit\r");
out:
	CHECK(term_finish(&t) == 0, "/quit exits with 0");
	term_free(&t);
	pier_conn_close(yc);
}

/* Display names with the numbers, quotes, edits, reactions and recalls: senders, quoted
 * senders and whoever reacted show as "王小明 (name)". */
static void test_display_names(void)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX], line[256], text[128];
	struct pier_conn *ac = client_new_user(server, "cld", a);
	struct pier_conn *bc = client_new_user_display(server, "cle", "王小明", b);
	struct pier_conn *cc = client_new_user_display(server, "clf", "爱丽丝", c);
	int64_t q, r;
	long n, m;
	struct term t;
	json_t *reply;

	pier_conn_close(ac);
	if (ac == NULL || bc == NULL || cc == NULL ||
	    !term_start(&t, pierd_port_str(server), HARNESS_PASSWORD, ARGS("--no-color", "--user", a))) {
		pier_conn_close(bc);
		pier_conn_close(cc);
		return;
	}
	if (!expect(&t, "#lobby> ", "prompt"))
		goto out;
	q = client_send(cc, "#lobby", "shall we ship?", NULL, NULL);
	snprintf(line, sizeof line, "#lobby 爱丽丝 (%s): shall we ship?", c);
	expect(&t, line, "a sender with a display name");
	n = term_number_of(&t, "shall we ship?");
	snprintf(text, sizeof text, "@%s yes, on Friday", a);
	reply = client_call(bc, pier_req_send_reply("#lobby", text, NULL, q));
	r = jint(reply, "id", -1);
	json_decref(reply);
	snprintf(line, sizeof line, "#lobby 王小明 (%s): [re %ld 爱丽丝 (%s): shall we ship?] @%s yes, on Friday",
	         b, n, c, a);
	expect(&t, line, "a reply: both display names, the quote's number");
	CHECK(strstr(t.buf, ">> ") != NULL && strchr(t.buf, '\a') != NULL, "it mentions us: the bell");
	m = term_number_of(&t, "yes, on Friday");
	CHECK(m > n, "the reply has its own number: %ld after %ld", m, n);

	json_decref(client_call(bc, pier_req_edit(r, "yes, on Friday at 3")));
	snprintf(line, sizeof line, "#lobby 王小明 (%s): yes, on Friday at 3 (edited)", b);
	expect(&t, line, "the edit, by display name");
	CHECK(term_number_of(&t, "yes, on Friday at 3 (edited)") == m, "with the reply's number");
	json_decref(client_call(cc, pier_req_react(r, "👍", true)));
	snprintf(line, sizeof line, "爱丽丝 (%s) reacted to message %ld with 👍 (1 in all)", c, m);
	expect(&t, line, "who reacted, by display name, and the number");
	json_decref(client_call(bc, pier_req_recall(r)));
	snprintf(line, sizeof line, "王小明 (%s) recalled message %ld", b, m);
	expect(&t, line, "who recalled, by display name");
	type(&t, "/history 5\r");
	snprintf(line, sizeof line, "#lobby 王小明 (%s): (message recalled)", b);
	expect(&t, line, "history: the recalled message, its sender by display name");
	type(&t, "/quit\r");
out:
	CHECK(term_finish(&t) == 0, "/quit exits with 0");
	term_free(&t);
	pier_conn_close(bc);
	pier_conn_close(cc);
}

int main(void)
{
	harness_watchdog(300);
	signal(SIGPIPE, SIG_IGN);
	server = pierd_start(server_args);
	if (server == NULL)
		return harness_done();
	test_chat_commands();
	test_help_zh();
	test_oneshot();
	test_display_names();
	test_changes_while_offline();
	CHECK(pierd_stop(server), "pierd stops cleanly");
	return harness_done();
}
