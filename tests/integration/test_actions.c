/* test_actions.c - integration: what happens to a message after it was sent. Recall (撤回)
 * within the window and past it, edit, replies with their quote, @mentions, reactions; each
 * in a room and in a private chat, each refused for someone else's message, a message one may
 * not see, bad input and over its limits; each reaching exactly those who may see the
 * message; the message bucket; a client that was away catching up with sync's
 * changes_after; and a recalled text gone from the database file, not just hidden. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "netclient.h"

#define ROOM       "#act"
#define OTHER_ROOM "#act-other"
#define MAX_TEXT   20000

static const char *const main_args[] = { "--no-rate-limits", "--max-text", "20000", NULL };

struct world {
	struct pierd *p;
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX];
	char to_a[HARNESS_NAME_MAX + 1], to_b[HARNESS_NAME_MAX + 1], to_c[HARNESS_NAME_MAX + 1];
	struct pier_conn *a1, *a2, *b1, *c1;  /* A has two sessions; C is not in ROOM */
	char a_token[128];
	char secret[64];                      /* a recalled text, looked for in the file later */
	char old_text[64];                    /* an edited-away text, likewise */
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void drain_all(struct world *w)
{
	client_drain(w->a1);
	client_drain(w->a2);
	client_drain(w->b1);
	client_drain(w->c1);
}

/* Checks that no event of op reached c (a ping round trip: anything sent before is in). */
static void expect_none(struct pier_conn *c, const char *who, const char *op)
{
	json_t *events = client_events(c);

	CHECK(events != NULL && count_op(events, op, NULL, NULL) == 0, "%s must get no %s, got %s",
	      who, op, jdump(events));
	json_decref(events);
}

/* Waits for the event op about message id on c; NULL (a failed check) if it does not come. */
static json_t *expect_event(struct pier_conn *c, const char *who, const char *op, int64_t id)
{
	json_t *ev = client_wait_op(c, op);

	if (ev == NULL)
		return NULL;
	if (!CHECK(jint(ev, "id", -1) == id, "%s: want %s about %lld, got %s", who, op,
	           (long long)id, jdump(ev))) {
		json_decref(ev);
		return NULL;
	}
	CHECK(json_object_get(ev, "ref") == NULL, "%s: an event carries no ref: %s", who, jdump(ev));
	return ev;
}

static json_t *req_id(const char *op, int64_t id)
{
	return json_pack("{s:s, s:I}", "op", op, "id", (json_int_t)id);
}

/* Logs in user on a new connection; the login reply in *reply_out (new reference). */
static struct pier_conn *login_reply(struct pierd *p, const char *user, json_t **reply_out)
{
	struct pier_conn *c = client_connect(p);
	json_t *reply;

	*reply_out = NULL;
	if (c == NULL)
		return NULL;
	reply = client_call(c, pier_req_login(user, HARNESS_PASSWORD));
	if (!CHECK(reply != NULL && jint(reply, "status", -9) == 1 &&
	           json_is_integer(json_object_get(reply, "change_seq")),
	           "login %s: status 1 with change_seq, got %s", user, jdump(reply))) {
		json_decref(reply);
		pier_conn_close(c);
		return NULL;
	}
	json_decref(client_wait_op(c, "users"));
	*reply_out = reply;
	return c;
}

static bool setup(struct world *w)
{
	json_t *reply;

	w->p = pierd_start(main_args);
	if (w->p == NULL)
		return false;
	w->a1 = client_new_user(w->p, "actA", w->a);
	w->b1 = client_new_user(w->p, "actB", w->b);
	w->c1 = client_new_user(w->p, "actC", w->c);
	if (w->a1 == NULL || w->b1 == NULL || w->c1 == NULL)
		return false;
	w->a2 = login_reply(w->p, w->a, &reply);
	if (w->a2 == NULL)
		return false;
	snprintf(w->a_token, sizeof w->a_token, "%s", jstr(reply, "token") ? jstr(reply, "token") : "");
	json_decref(reply);
	snprintf(w->to_a, sizeof w->to_a, "@%s", w->a);
	snprintf(w->to_b, sizeof w->to_b, "@%s", w->b);
	snprintf(w->to_c, sizeof w->to_c, "@%s", w->c);
	json_decref(client_call(w->a1, pier_req_join(ROOM)));
	json_decref(client_call(w->b1, pier_req_join(ROOM)));
	json_decref(client_call(w->a1, pier_req_join(OTHER_ROOM)));
	drain_all(w);
	return true;
}

/* ---- edit ---- */

static void test_edit(struct world *w)
{
	char big[9000];
	int64_t id, pm;
	json_t *r, *ev, *m;
	char long_text[MAX_TEXT + 2];

	snprintf(w->old_text, sizeof w->old_text, "first version %d", (int)getpid());
	memset(big, '.', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (size_t at = 0; at + strlen(w->old_text) < sizeof big - 1; at += 1000)
		memcpy(big + at, w->old_text, strlen(w->old_text));
	id = client_send(w->a1, ROOM, big, NULL, NULL);
	drain_all(w);
	r = client_call(w->a1, json_pack("{s:s, s:I, s:s}", "op", "edit", "id", (json_int_t)id,
	                                 "text", "second version"));
	CHECK(is_op(r, "edit") && jint(r, "id", -1) == id && streq(jstr(r, "to"), ROOM) &&
	      jint(r, "edited", 0) > 0 && jint(r, "changed", 0) > 0, "edit: the reply, got %s",
	      jdump(r));
	ev = expect_event(w->b1, "B (in the room)", "edited", id);
	CHECK(ev != NULL && streq(jstr(ev, "text"), "second version") && streq(jstr(ev, "from"), w->a) &&
	      streq(jstr(ev, "to"), ROOM) && jint(ev, "edited", -1) == jint(r, "edited", -2) &&
	      jint(ev, "changed", -1) == jint(r, "changed", -2), "B: the edited event, got %s",
	      jdump(ev));
	json_decref(ev);
	json_decref(expect_event(w->a2, "A's other session", "edited", id));
	expect_none(w->a1, "the editing session (it has the reply)", "edited");
	expect_none(w->c1, "C (not in the room)", "edited");
	m = client_history_msg(w->b1, ROOM, id);
	CHECK(streq(jstr(m, "text"), "second version") && jint(m, "edited", -1) == jint(r, "edited", -2) &&
	      jint(m, "changed", -1) == jint(r, "changed", -2), "history shows the edit: %s", jdump(m));
	json_decref(m);
	json_decref(r);

	/* refusals */
	CHECK(client_expect_error(w->b1, pier_req_edit(id, "not mine"), "not_own_message"),
	      "editing someone else's message");
	CHECK(client_expect_error(w->c1, pier_req_edit(id, "peek"), "no_such_message"),
	      "editing a message of a room one is not in");
	CHECK(client_expect_error(w->a1, pier_req_edit(999999999, "x"), "no_such_message"),
	      "editing a message that does not exist");
	CHECK(client_expect_error(w->a1, pier_req_edit(id, ""), "empty_message"),
	      "an empty text for a text message");
	memset(long_text, 'x', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	CHECK(client_expect_error(w->a1, pier_req_edit(id, long_text), "message_too_long"),
	      "a text over --max-text");
	CHECK(client_expect_error(w->a1, json_pack("{s:s, s:s, s:s}", "op", "edit", "id", "1",
	                                           "text", "x"), "bad_request"), "a string id");
	CHECK(client_expect_error(w->a1, req_id("edit", id), "bad_request"), "no text");
	CHECK(client_expect_error(w->a1, req_id("edit", 0), "bad_request"), "id 0");
	m = client_history_msg(w->a1, ROOM, id);
	CHECK(streq(jstr(m, "text"), "second version"), "refused edits changed nothing: %s", jdump(m));
	json_decref(m);

	/* a private message: both parties hear, nobody else */
	pm = client_send(w->a1, w->to_b, "pm v1", NULL, NULL);
	drain_all(w);
	r = client_call(w->a1, pier_req_edit(pm, "pm v2"));
	CHECK(is_op(r, "edit") && streq(jstr(r, "to"), w->to_b), "edit a private message: %s", jdump(r));
	json_decref(r);
	ev = expect_event(w->b1, "B (the recipient)", "edited", pm);
	CHECK(ev != NULL && streq(jstr(ev, "text"), "pm v2"), "B gets the new text: %s", jdump(ev));
	json_decref(ev);
	json_decref(expect_event(w->a2, "A's other session", "edited", pm));
	expect_none(w->c1, "C (not a party)", "edited");
	CHECK(client_expect_error(w->b1, pier_req_edit(pm, "mine now"), "not_own_message"),
	      "the recipient may not edit");
	CHECK(client_expect_error(w->c1, pier_req_edit(pm, "peek"), "no_such_message"),
	      "a third user may not even see it");
}

/* ---- replies ---- */

static void test_reply(struct world *w)
{
	char text[1024] = "", want[512] = "";
	int64_t q, pm_ac, id;
	json_t *r, *ev, *quote;

	/* 120 Chinese characters: the excerpt is the first 100 characters (not bytes) */
	for (int i = 0; i < 120; i++)
		strcat(text, i < 100 ? "回" : "尾");
	for (int i = 0; i < 100; i++)
		strcat(want, "回");
	q = client_send(w->a1, ROOM, text, NULL, NULL);
	drain_all(w);
	r = client_call(w->b1, pier_req_send_reply(ROOM, "复", NULL, q));
	quote = json_object_get(r, "quote");
	CHECK(is_op(r, "sent") && jint(r, "reply_to", -1) == q && jint(quote, "id", -1) == q &&
	      streq(jstr(quote, "from"), w->a) && streq(jstr(quote, "text"), want) &&
	      jtrue(quote, "cut"), "sent for a reply: the quote (100 characters, cut), got %s",
	      jdump(r));
	id = jint(r, "id", -1);
	json_decref(r);
	ev = client_wait_msg(w->a1, "复");
	quote = json_object_get(ev, "quote");
	CHECK(ev != NULL && jint(ev, "reply_to", -1) == q && streq(jstr(quote, "text"), want) &&
	      streq(jstr(quote, "from"), w->a), "the msg event carries the quote: %s", jdump(ev));
	json_decref(ev);
	ev = client_history_msg(w->a1, ROOM, id);
	CHECK(jint(ev, "reply_to", -1) == q && streq(jstr(json_object_get(ev, "quote"), "text"), want),
	      "history carries the quote: %s", jdump(ev));
	json_decref(ev);

	/* a short quote is whole */
	r = client_call(w->a1, pier_req_send_reply(ROOM, "yes", NULL, id));
	quote = json_object_get(r, "quote");
	CHECK(streq(jstr(quote, "text"), "复") && !jtrue(quote, "cut"), "a short quote: %s", jdump(r));
	json_decref(r);

	/* the quoted message must be of the same conversation */
	CHECK(client_expect_error(w->b1, pier_req_send_reply("#lobby", "elsewhere", NULL, q),
	                          "no_such_message"), "quoting a message of another room");
	pm_ac = client_send(w->c1, w->to_a, "between A and C", NULL, NULL);
	CHECK(client_expect_error(w->b1, pier_req_send_reply(w->to_a, "sneaky", NULL, pm_ac),
	                          "no_such_message"), "quoting someone else's private message");
	CHECK(client_expect_error(w->c1, pier_req_send_reply("#lobby", "peek", NULL, q),
	                          "no_such_message"), "quoting a message of a room one is not in");
	CHECK(client_expect_error(w->a1, pier_req_send_reply("#lobby", "x", NULL, 999999999),
	                          "no_such_message"), "quoting a message that does not exist");
	r = client_call(w->a1, pier_req_send_reply(w->to_c, "answer", NULL, pm_ac));
	CHECK(is_op(r, "sent") && streq(jstr(json_object_get(r, "quote"), "text"), "between A and C"),
	      "quoting in a private chat: %s", jdump(r));
	json_decref(r);
	CHECK(client_expect_error(w->a1, json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", ROOM,
	                                           "text", "x", "reply_to", "12"), "bad_request"),
	      "reply_to as a string");
	CHECK(client_expect_error(w->a1, json_pack("{s:s, s:s, s:s, s:i}", "op", "send", "to", ROOM,
	                                           "text", "x", "reply_to", -4), "bad_request"),
	      "reply_to negative");
	drain_all(w);
}

/* ---- mentions ---- */

static void test_mentions(struct world *w)
{
	char text[1024];
	json_t *r, *ev, *list;
	int64_t id;

	snprintf(text, sizeof text, "hey @%s, @%s and @nobody_here_x; mail %s@example.org", w->b, w->c,
	         w->c);
	r = client_call(w->a1, pier_req_send(ROOM, text, NULL));
	list = json_object_get(r, "mentions");
	CHECK(json_array_size(list) == 1 && streq(json_string_value(json_array_get(list, 0)), w->b),
	      "only users who can see the room are mentioned (not C, who is not in it): %s", jdump(r));
	id = jint(r, "id", -1);
	json_decref(r);
	ev = client_wait_msg(w->b1, text);
	CHECK(ev != NULL && jtrue(ev, "mentioned") && json_array_size(json_object_get(ev, "mentions")) == 1,
	      "B is flagged: %s", jdump(ev));
	json_decref(ev);
	ev = client_wait_msg(w->a2, text);
	CHECK(ev != NULL && !jtrue(ev, "mentioned") && json_array_size(json_object_get(ev, "mentions")) == 1,
	      "A's other session has the list but no flag: %s", jdump(ev));
	json_decref(ev);
	ev = client_history_msg(w->b1, ROOM, id);
	CHECK(jtrue(ev, "mentioned"), "B's history flags it too: %s", jdump(ev));
	json_decref(ev);
	ev = client_history_msg(w->a1, ROOM, id);
	CHECK(!jtrue(ev, "mentioned") && json_array_size(json_object_get(ev, "mentions")) == 1,
	      "A's history does not: %s", jdump(ev));
	json_decref(ev);

	/* #lobby: everyone can see it; upper case and a full stop after the name */
	snprintf(text, sizeof text, "ping @%s.", w->c);
	for (char *p = text + 6; *p != '\0'; p++)
		*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	client_send(w->a1, "#lobby", text, NULL, NULL);
	ev = client_wait_msg(w->c1, text);
	CHECK(ev != NULL && jtrue(ev, "mentioned") &&
	      streq(json_string_value(json_array_get(json_object_get(ev, "mentions"), 0)), w->c),
	      "C is mentioned in #lobby (any case, spelled canonically): %s", jdump(ev));
	json_decref(ev);
	ev = client_wait_msg(w->b1, text);
	CHECK(ev != NULL && !jtrue(ev, "mentioned"), "B is not flagged: %s", jdump(ev));
	json_decref(ev);

	/* private messages carry no mentions; repeats count once; the token bound */
	snprintf(text, sizeof text, "@%s hi", w->b);
	r = client_call(w->a1, pier_req_send(w->to_b, text, NULL));
	CHECK(is_op(r, "sent") && json_object_get(r, "mentions") == NULL, "a private message: %s",
	      jdump(r));
	json_decref(r);
	snprintf(text, sizeof text, "@%s @%s @%s", w->b, w->b, w->b);
	r = client_call(w->a1, pier_req_send(ROOM, text, NULL));
	CHECK(json_array_size(json_object_get(r, "mentions")) == 1, "repeats once: %s", jdump(r));
	json_decref(r);
	text[0] = '\0';
	for (int i = 0; i < 20; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "@nobody_%02d ", i);
	snprintf(text + strlen(text), sizeof text - strlen(text), "@%s", w->b);
	r = client_call(w->a1, pier_req_send(ROOM, text, NULL));
	CHECK(is_op(r, "sent") && json_object_get(r, "mentions") == NULL,
	      "only the first 20 @names are looked at: %s", jdump(r));
	/* an edit finds them again */
	json_decref(client_call(w->a1, pier_req_edit(jint(r, "id", -1), text + 11 * 19)));
	json_decref(r);
	ev = client_wait_op(w->b1, "edited");
	CHECK(ev != NULL && json_array_size(json_object_get(ev, "mentions")) == 1,
	      "an edit that names B carries the mention: %s", jdump(ev));
	json_decref(ev);
	drain_all(w);
}

/* ---- reactions ---- */

static json_t *react(struct pier_conn *c, int64_t id, const char *emoji, bool on)
{
	return client_call(c, pier_req_react(id, emoji, on));
}

static void test_reactions(struct world *w)
{
	json_t *r, *ev, *m, *list;
	int64_t id, pm;
	char emoji[16];

	id = client_send(w->a1, ROOM, "react to me", NULL, NULL);
	drain_all(w);
	r = react(w->b1, id, "👍", true);
	CHECK(is_op(r, "react") && jint(r, "count", -1) == 1 && jtrue(r, "on") &&
	      jint(r, "changed", 0) > 0 && !jtrue(r, "already"), "B reacts: %s", jdump(r));
	json_decref(r);
	ev = expect_event(w->a1, "A", "reaction", id);
	CHECK(ev != NULL && streq(jstr(ev, "user"), w->b) && streq(jstr(ev, "emoji"), "👍") &&
	      jtrue(ev, "on") && jint(ev, "count", -1) == 1 && streq(jstr(ev, "to"), ROOM),
	      "A hears of it: %s", jdump(ev));
	json_decref(ev);
	json_decref(expect_event(w->a2, "A's other session", "reaction", id));
	expect_none(w->c1, "C (not in the room)", "reaction");
	expect_none(w->b1, "the reacting session", "reaction");

	r = react(w->b1, id, "👍", true);
	CHECK(jtrue(r, "already") && jint(r, "count", -1) == 1, "one per user and emoji: %s", jdump(r));
	json_decref(r);
	expect_none(w->a1, "A, for a reaction that changed nothing", "reaction");
	/* Reactions are listed by their time (ms), then by user id: a later millisecond makes
	 * B's the first whatever the ids (the same millisecond would put A first). */
	sleep_ms(5);
	r = react(w->a1, id, "👍", true);
	CHECK(jint(r, "count", -1) == 2, "A reacts too: %s", jdump(r));
	json_decref(r);
	m = client_history_msg(w->b1, ROOM, id);
	list = json_object_get(m, "reactions");
	ev = json_array_get(list, 0);
	CHECK(json_array_size(list) == 1 && streq(jstr(ev, "emoji"), "👍") && jint(ev, "count", -1) == 2 &&
	      json_array_size(json_object_get(ev, "users")) == 2 &&
	      streq(json_string_value(json_array_get(json_object_get(ev, "users"), 0)), w->b) &&
	      jtrue(ev, "mine"), "history: count, who (first first), mine: %s", jdump(m));
	json_decref(m);
	r = react(w->b1, id, "👍", false);
	CHECK(jint(r, "count", -1) == 1 && !jtrue(r, "on") && !jtrue(r, "already"), "B takes it back: %s",
	      jdump(r));
	json_decref(r);
	ev = expect_event(w->a1, "A", "reaction", id);
	CHECK(ev != NULL && !jtrue(ev, "on") && jint(ev, "count", -1) == 1, "A hears that: %s", jdump(ev));
	json_decref(ev);
	r = react(w->b1, id, "👍", false);
	CHECK(jtrue(r, "already"), "taking back what is not there: %s", jdump(r));
	json_decref(r);
	m = client_history_msg(w->b1, ROOM, id);
	CHECK(!jtrue(json_array_get(json_object_get(m, "reactions"), 0), "mine"), "no longer B's: %s",
	      jdump(m));
	json_decref(m);

	/* refusals */
	CHECK(client_expect_error(w->b1, pier_req_react(id, "a b", true), "bad_emoji"), "a space");
	CHECK(client_expect_error(w->b1, pier_req_react(id, "\xe2\x80\xae!", true), "bad_emoji"),
	      "a bidi override");
	CHECK(client_expect_error(w->b1, pier_req_react(id, "123456789012345678901234567890123", true),
	                          "bad_emoji"), "33 bytes");
	CHECK(client_expect_error(w->b1, req_id("react", id), "bad_emoji"), "no emoji");
	CHECK(client_expect_error(w->b1, json_pack("{s:s, s:I, s:s, s:s}", "op", "react", "id",
	                                           (json_int_t)id, "emoji", "👍", "on", "yes"),
	                          "bad_request"), "on is not a boolean");
	CHECK(client_expect_error(w->c1, pier_req_react(id, "👍", true), "no_such_message"),
	      "reacting to a message of a room one is not in");

	/* at most 20 different reactions; more of an existing one is fine */
	for (int i = 0; i < 19; i++) {
		snprintf(emoji, sizeof emoji, "r%d", i);
		r = react(w->b1, id, emoji, true);
		CHECK(is_op(r, "react"), "reaction %d of 20: %s", i + 2, jdump(r));
		json_decref(r);
	}
	r = react(w->b1, id, "r19", true);
	CHECK(is_error(r, "too_many_reactions") && jint(r, "limit", -1) == 20, "the 21st kind: %s",
	      jdump(r));
	json_decref(r);
	r = react(w->a1, id, "r7", true);
	CHECK(is_op(r, "react") && jint(r, "count", -1) == 2, "an existing kind still: %s", jdump(r));
	json_decref(r);
	m = client_history_msg(w->a1, ROOM, id);
	CHECK(json_array_size(json_object_get(m, "reactions")) == 20, "20 kinds listed: %zu",
	      json_array_size(json_object_get(m, "reactions")));
	json_decref(m);

	/* private: the other party hears, a third user may not react */
	pm = client_send(w->a1, w->to_b, "react privately", NULL, NULL);
	drain_all(w);
	r = react(w->b1, pm, "❤️", true);
	CHECK(is_op(r, "react") && streq(jstr(r, "to"), w->to_b), "reacting in a private chat: %s",
	      jdump(r));
	json_decref(r);
	json_decref(expect_event(w->a1, "A", "reaction", pm));
	expect_none(w->c1, "C", "reaction");
	CHECK(client_expect_error(w->c1, pier_req_react(pm, "❤️", true), "no_such_message"),
	      "a third user may not react to a private message");
	drain_all(w);
}

/* Who reacted is listed up to 10 names; the count is exact. */
static void test_reaction_users(struct world *w)
{
	struct pier_conn *many[12];
	char name[HARNESS_NAME_MAX];
	int64_t id = client_send(w->a1, "#lobby", "everyone likes this", NULL, NULL);
	json_t *m, *first;

	for (int i = 0; i < 12; i++) {
		many[i] = client_new_user(w->p, "fan", name);
		if (many[i] != NULL)
			json_decref(react(many[i], id, "🎉", true));
	}
	m = client_history_msg(w->a1, "#lobby", id);
	first = json_array_get(json_object_get(m, "reactions"), 0);
	CHECK(jint(first, "count", -1) == 12 && json_array_size(json_object_get(first, "users")) == 10 &&
	      !jtrue(first, "mine"), "12 reactions, 10 names: %s", jdump(m));
	json_decref(m);
	for (int i = 0; i < 12; i++)
		pier_conn_close(many[i]);
	drain_all(w);
}

/* ---- recall ---- */

/* POST /api/media as the holder of token; the media id or -1. */
static int64_t upload_text(struct world *w, const char *name, const char *body)
{
	char request[2048];
	struct http_reply r = {0};
	json_t *j;
	int64_t id = -1;

	snprintf(request, sizeof request,
	         "POST /api/media?name=%s HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
	         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", name, w->a_token, strlen(body),
	         body);
	if (http_exchange(pierd_http_port(w->p), NULL, request, &r) == 0 && r.status == 201) {
		j = json_loadb(r.body, r.body_len, 0, NULL);
		id = jint(j, "id", -1);
		json_decref(j);
	}
	CHECK(id > 0, "upload %s: %d %s", name, r.status, r.body ? r.body : "");
	http_reply_free(&r);
	return id;
}

/* GET /media/id with user's token (logged in on a fresh connection): the status. */
static int download_status(struct world *w, const char *user, int64_t media)
{
	char request[1024];
	struct http_reply r = {0};
	json_t *reply = NULL;
	struct pier_conn *c = login_reply(w->p, user, &reply);
	int status;

	snprintf(request, sizeof request, "GET /media/%lld HTTP/1.1\r\nHost: t\r\n"
	         "Authorization: Bearer %s\r\nConnection: close\r\n\r\n", (long long)media,
	         jstr(reply, "token") ? jstr(reply, "token") : "");
	status = http_exchange(pierd_http_port(w->p), NULL, request, &r) == 0 ? r.status : -1;
	http_reply_free(&r);
	json_decref(reply);
	pier_conn_close(c);
	return status;
}

static void test_recall(struct world *w)
{
	char big[9000];
	int64_t id, reply_id, media, pm;
	json_t *r, *ev, *m;

	/* Long enough for SQLite's overflow pages, which a plain delete leaves in the file. */
	snprintf(w->secret, sizeof w->secret, "secret words %d", (int)getpid());
	memset(big, '.', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (size_t at = 0; at + strlen(w->secret) < sizeof big - 1; at += 1000)
		memcpy(big + at, w->secret, strlen(w->secret));
	id = client_send(w->a1, ROOM, big, NULL, NULL);
	drain_all(w);
	json_decref(react(w->b1, id, "😮", true));
	{
		json_t *q = client_call(w->b1, pier_req_send_reply(ROOM, "quoting it", NULL, id));

		reply_id = jint(q, "id", -1);
		json_decref(q);
	}
	drain_all(w);

	CHECK(client_expect_error(w->b1, pier_req_recall(id), "not_own_message"),
	      "recalling someone else's message");
	CHECK(client_expect_error(w->c1, pier_req_recall(id), "no_such_message"),
	      "recalling a message one may not see");
	CHECK(client_expect_error(w->a1, pier_req_recall(999999999), "no_such_message"),
	      "recalling a message that does not exist");
	CHECK(client_expect_error(w->a1, req_id("recall", -3), "bad_request"), "a negative id");

	r = client_call(w->a1, pier_req_recall(id));
	CHECK(is_op(r, "recall") && jint(r, "id", -1) == id && streq(jstr(r, "to"), ROOM) &&
	      jint(r, "changed", 0) > 0 && !jtrue(r, "already"), "recall: the reply, got %s", jdump(r));
	json_decref(r);
	ev = expect_event(w->b1, "B", "recalled", id);
	CHECK(ev != NULL && streq(jstr(ev, "from"), w->a) && streq(jstr(ev, "to"), ROOM) &&
	      json_object_get(ev, "text") == NULL, "B: the recalled event: %s", jdump(ev));
	json_decref(ev);
	json_decref(expect_event(w->a2, "A's other session", "recalled", id));
	expect_none(w->c1, "C (not in the room)", "recalled");

	m = client_history_msg(w->b1, ROOM, id);
	CHECK(jtrue(m, "recalled") && json_object_get(m, "text") == NULL &&
	      json_object_get(m, "reactions") == NULL && streq(jstr(m, "from"), w->a),
	      "history: recalled, no text, no reactions: %s", jdump(m));
	CHECK(strstr(jdump(m), "secret") == NULL, "nothing of the text is left: %s", jdump(m));
	json_decref(m);
	m = client_history_msg(w->b1, ROOM, reply_id);
	CHECK(jtrue(json_object_get(m, "quote"), "recalled") &&
	      jstr(json_object_get(m, "quote"), "text") == NULL,
	      "a reply to it quotes it as recalled: %s", jdump(m));
	json_decref(m);

	r = client_call(w->a1, pier_req_recall(id));
	CHECK(is_op(r, "recall") && jtrue(r, "already"), "recalling twice: %s", jdump(r));
	json_decref(r);
	expect_none(w->b1, "B, for a second recall", "recalled");
	CHECK(client_expect_error(w->a1, pier_req_edit(id, "back"), "message_recalled"),
	      "editing a recalled message");
	CHECK(client_expect_error(w->b1, pier_req_react(id, "👍", true), "message_recalled"),
	      "reacting to a recalled message");
	CHECK(client_expect_error(w->b1, pier_req_send_reply(ROOM, "re", NULL, id), "message_recalled"),
	      "replying to a recalled message");

	/* a file sent privately: recalled, the recipient may no longer download it */
	media = upload_text(w, "note.txt", "a file that will be recalled");
	r = client_call(w->a1, json_pack("{s:s, s:s, s:I, s:s}", "op", "send", "to", w->to_b,
	                                 "media", (json_int_t)media, "text", "a file"));
	pm = jint(r, "id", -1);
	json_decref(r);
	CHECK(download_status(w, w->b, media) == 200, "B may download the file first");
	CHECK(download_status(w, w->c, media) == 403, "C may not");
	drain_all(w);
	r = client_call(w->a1, pier_req_recall(pm));
	CHECK(is_op(r, "recall") && streq(jstr(r, "to"), w->to_b), "recall a private file: %s",
	      jdump(r));
	json_decref(r);
	json_decref(expect_event(w->b1, "B (the recipient)", "recalled", pm));
	m = client_history_msg(w->b1, w->to_a, pm);
	CHECK(jtrue(m, "recalled") && json_object_get(m, "media") == NULL, "no media left: %s",
	      jdump(m));
	json_decref(m);
	CHECK(download_status(w, w->b, media) == 403, "B may no longer download it");
	CHECK(download_status(w, w->a, media) == 200, "the uploader still may (it is their file)");

	/* a caption can be edited to nothing */
	r = client_call(w->a1, json_pack("{s:s, s:s, s:I, s:s}", "op", "send", "to", w->to_b,
	                                 "media", (json_int_t)media, "text", "caption"));
	pm = jint(r, "id", -1);
	json_decref(r);
	r = client_call(w->a1, pier_req_edit(pm, ""));
	CHECK(is_op(r, "edit"), "a media message's caption may become empty: %s", jdump(r));
	json_decref(r);
	drain_all(w);
}

/* True if needle's bytes occur in data[0, n). */
static bool has_bytes(const char *data, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k <= n && i <= n - k; i++) {
		if (memcmp(data + i, needle, k) == 0)
			return true;
	}
	return false;
}

/* The recalled text and the edited-away one are gone from the store itself: on SQLite from
 * the database file and its WAL, old page versions included (secure_delete); on PostgreSQL
 * from every live row and index entry (its dead row versions stay until VACUUM, which
 * docs/SECURITY.md says). */
static void check_file(struct world *w)
{
	size_t len;
	char *data = pierd_store_dump(w->p, &len);

	if (data == NULL)
		return;
	CHECK(!has_bytes(data, len, w->secret), "the recalled text is nowhere in the store");
	CHECK(!has_bytes(data, len, w->old_text), "the edited-away text is nowhere in the store");
	CHECK(has_bytes(data, len, "second version"),
	      "(the search works: the edited text is in the store)");
	free(data);
}

/* ---- a client that was away ---- */

static void test_away(struct world *w)
{
	char r_name[HARNESS_NAME_MAX], to_r[HARNESS_NAME_MAX + 1];
	struct pier_conn *r1 = client_new_user(w->p, "away", r_name), *r2;
	int64_t m1, m2, m3, m4, other, high, seen_seq, last;
	json_t *reply, *ev, *changes, *ch;
	size_t i;

	if (r1 == NULL)
		return;
	snprintf(to_r, sizeof to_r, "@%s", r_name);
	json_decref(client_call(r1, pier_req_join(ROOM)));
	m1 = client_send(w->a1, ROOM, "away m1", NULL, NULL);
	m2 = client_send(w->a1, ROOM, "away m2", NULL, NULL);
	m3 = client_send(w->a1, ROOM, "away m3", NULL, NULL);
	m4 = client_send(w->a1, to_r, "away m4", NULL, NULL);
	other = client_send(w->a1, OTHER_ROOM, "not for R", NULL, NULL);
	high = m4 > other ? m4 : other;
	json_decref(react(w->a1, m3, "👀", true));
	ev = expect_event(r1, "R", "reaction", m3);
	seen_seq = jint(ev, "changed", -1);
	json_decref(ev);
	pier_conn_close(r1);
	drain_all(w);

	/* while R is away */
	json_decref(client_call(w->a1, pier_req_edit(m1, "away m1, edited")));
	json_decref(client_call(w->a1, pier_req_recall(m2)));
	json_decref(react(w->b1, m3, "🎉", true));
	json_decref(client_call(w->a1, pier_req_edit(m4, "away m4, edited")));
	json_decref(client_call(w->a1, pier_req_edit(other, "still not for R")));
	drain_all(w);

	r2 = login_reply(w->p, r_name, &reply);
	if (r2 == NULL)
		return;
	CHECK(jint(reply, "change_seq", -1) > seen_seq, "the login tells the newest change: %s",
	      jdump(reply));
	last = jint(reply, "change_seq", -1);
	json_decref(reply);
	client_drain(r2);
	reply = client_call(r2, pier_req_sync_changes(high, seen_seq, 0));
	changes = json_object_get(reply, "changes");
	CHECK(is_op(reply, "sync") && json_array_size(json_object_get(reply, "messages")) == 0 &&
	      json_array_size(changes) == 4 && !jtrue(reply, "changes_more") &&
	      jint(reply, "change_seq", -1) == last, "sync brings the 4 changes R may see: %s",
	      jdump(reply));
	json_array_foreach(changes, i, ch) {
		int64_t id = jint(ch, "id", -1);

		CHECK(id != other, "nothing of a room R is not in: %s", jdump(ch));
		CHECK(jint(ch, "changed", -1) > seen_seq && (i == 0 || jint(ch, "changed", -1) >
		      jint(json_array_get(changes, i - 1), "changed", -1)), "in change order: %s",
		      jdump(changes));
		if (id == m1)
			CHECK(streq(jstr(ch, "text"), "away m1, edited") && jint(ch, "edited", 0) > 0,
			      "m1's edit: %s", jdump(ch));
		else if (id == m2)
			CHECK(jtrue(ch, "recalled") && json_object_get(ch, "text") == NULL, "m2's recall: %s",
			      jdump(ch));
		else if (id == m3)
			CHECK(json_array_size(json_object_get(ch, "reactions")) == 2, "m3's reactions: %s",
			      jdump(ch));
		else
			CHECK(id == m4 && streq(jstr(ch, "text"), "away m4, edited"), "m4's edit: %s",
			      jdump(ch));
	}
	json_decref(reply);

	/* a page at a time */
	reply = client_call(r2, pier_req_sync_changes(high, seen_seq, 3));
	changes = json_object_get(reply, "changes");
	CHECK(json_array_size(changes) == 3 && jtrue(reply, "changes_more"), "page 1 of the changes: %s",
	      jdump(reply));
	seen_seq = jint(json_array_get(changes, 2), "changed", -1);
	json_decref(reply);
	reply = client_call(r2, pier_req_sync_changes(high, seen_seq, 3));
	CHECK(json_array_size(json_object_get(reply, "changes")) == 1 && !jtrue(reply, "changes_more"),
	      "page 2: %s", jdump(reply));
	json_decref(reply);

	/* without changes_after: messages only, and where the changes stand */
	reply = client_call(r2, pier_req_sync(high, 0));
	CHECK(json_object_get(reply, "changes") == NULL && jint(reply, "change_seq", -1) == last,
	      "a plain sync: %s", jdump(reply));
	json_decref(reply);
	CHECK(client_expect_error(r2, json_pack("{s:s, s:i, s:i}", "op", "sync", "after", 0,
	                                        "changes_after", -1), "bad_request"),
	      "a negative changes_after");
	pier_conn_close(r2);
}

/* ---- the window and the message bucket, on servers of their own ---- */

static void test_window_and_rate(void)
{
	static const char *const args[] = { "--recall-window", "1", "--msg-burst", "4",
	                                    "--msg-rate", "0.01", NULL };
	static const char *const off[] = { "--recall-window", "0", "--no-rate-limits", NULL };
	struct pierd *p = pierd_start(args), *q;
	char d[HARNESS_NAME_MAX];
	struct pier_conn *c;
	json_t *r;
	int64_t id;

	if (p == NULL)
		return;
	c = client_new_user(p, "win", d);
	if (c != NULL) {
		json_t *lr = NULL;
		struct pier_conn *c2 = login_reply(p, d, &lr);

		CHECK(jint(lr, "recall_window", -1) == 1, "the login tells the recall window: %s",
		      jdump(lr));
		json_decref(lr);
		if (c2 != NULL)
			pier_conn_close(c2);
		id = client_send(c, "#lobby", "too late to take back", NULL, NULL);   /* token 1 */
		sleep_ms(1300);                                    /* past the 1 s window */
		r = client_call(c, pier_req_recall(id));           /* token 2 */
		CHECK(is_error(r, "recall_expired") && json_is_number(json_object_get(r, "window_s")),
		      "recall past the window: %s", jdump(r));
		json_decref(r);
		r = client_call(c, pier_req_edit(id, "but editing is fine"));   /* token 3 */
		CHECK(is_op(r, "edit"), "edit any time: %s", jdump(r));
		json_decref(r);
		json_decref(client_call(c, pier_req_react(id, "👍", true)));    /* token 4 */
		r = client_call(c, pier_req_edit(id, "one too many"));
		CHECK(is_error(r, "rate_limited"), "edits, recalls and reactions draw on the message "
		      "bucket: %s", jdump(r));
		json_decref(r);
		r = client_call(c, pier_req_history("#lobby", 0, 1));
		CHECK(is_op(r, "history"), "other requests go on: %s", jdump(r));
		json_decref(r);
		pier_conn_close(c);
	}
	CHECK(pierd_stop(p), "the window server stops cleanly");

	q = pierd_start(off);
	if (q == NULL)
		return;
	c = client_new_user(q, "off", d);
	if (c != NULL) {
		json_t *lr = NULL;
		struct pier_conn *c2 = login_reply(q, d, &lr);

		CHECK(jint(lr, "recall_window", -1) == 0, "recall off: the login says 0: %s", jdump(lr));
		json_decref(lr);
		if (c2 != NULL)
			pier_conn_close(c2);
		id = client_send(c, "#lobby", "cannot take back", NULL, NULL);
		CHECK(client_expect_error(c, pier_req_recall(id), "recall_expired"),
		      "--recall-window 0 turns recall off");
		pier_conn_close(c);
	}
	CHECK(pierd_stop(q), "the server without recall stops cleanly");
}

int main(void)
{
	struct world w;

	harness_watchdog(240);
	memset(&w, 0, sizeof w);
	if (setup(&w)) {
		test_edit(&w);
		test_reply(&w);
		test_mentions(&w);
		test_reactions(&w);
		test_reaction_users(&w);
		test_recall(&w);
		test_away(&w);
	}
	pier_conn_close(w.a1);
	pier_conn_close(w.a2);
	pier_conn_close(w.b1);
	pier_conn_close(w.c1);
	CHECK(pierd_stop(w.p), "pierd stops cleanly");
	if (w.p != NULL && w.secret[0] != '\0')
		check_file(&w);
	test_window_and_rate();
	return harness_done();
}
