/* test_social_actions.c - integration: the two feature sets on one message. A reply that
 * mentions someone, sent by a user with a display name and quoting a user with another, then
 * edited, reacted to and read: every event carries the display names next to the actions'
 * fields, and a second device of the mentioned user finds it all in history, in sync (with
 * its changes) and in its read position; a display name changed later shows in history as it
 * is now. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define ROOM "#both"

static const char *const args[] = { "--no-rate-limits", NULL };

struct both {
	struct pierd *p;
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX];
	struct pier_conn *a1, *b1, *c1;   /* c1: the mentioned user's first device */
	int64_t question, reply, gone;    /* A's question, B's reply to it, A's recalled one */
};

static bool streq(const char *x, const char *y)
{
	return x != NULL && y != NULL && strcmp(x, y) == 0;
}

/* True if list is a JSON array holding exactly the one string name. */
static bool just(const json_t *list, const char *name)
{
	return json_array_size(list) == 1 && streq(json_string_value(json_array_get(list, 0)), name);
}

/* The message id in a list of messages (borrowed), or NULL. */
static json_t *find_msg(const json_t *list, int64_t id)
{
	json_t *m;
	size_t i;

	json_array_foreach(list, i, m) {
		if (jint(m, "id", -1) == id)
			return m;
	}
	return NULL;
}

/* The reply as everyone reads it once all happened: B's display name, the quote with A's,
 * the edited text, C mentioned (and flagged for C, the reader), A's reaction. */
static void check_reply(const struct both *w, const json_t *m, const char *b_display,
                        const char *where)
{
	const json_t *q = json_object_get(m, "quote");
	const json_t *re = json_array_get(json_object_get(m, "reactions"), 0);

	CHECK(m != NULL && streq(jstr(m, "from"), w->b) && streq(jstr(m, "display"), b_display),
	      "%s: the sender's display name: %s", where, jdump(m));
	CHECK(jint(m, "reply_to", -1) == w->question && streq(jstr(q, "from"), w->a) &&
	      streq(jstr(q, "display"), "爱丽丝") && streq(jstr(q, "text"), "who reviews the build?"),
	      "%s: the quote with the quoted sender's display name: %s", where, jdump(m));
	CHECK(jint(m, "edited", 0) > 0 && jstr(m, "text") != NULL &&
	      strstr(jstr(m, "text"), "I cannot, sorry") != NULL, "%s: the edit: %s", where, jdump(m));
	CHECK(just(json_object_get(m, "mentions"), w->c) && jtrue(m, "mentioned"),
	      "%s: C mentioned, and told so: %s", where, jdump(m));
	CHECK(json_array_size(json_object_get(m, "reactions")) == 1 && streq(jstr(re, "emoji"), "👍") &&
	      jint(re, "count", 0) == 1 && just(json_object_get(re, "users"), w->a) &&
	      !jtrue(re, "mine") && jint(m, "changed", 0) > 0,
	      "%s: A's reaction: %s", where, jdump(m));
}

static bool setup(struct both *w)
{
	w->p = pierd_start(args);
	if (w->p == NULL)
		return false;
	w->a1 = client_new_user_display(w->p, "bothA", "爱丽丝", w->a);
	w->b1 = client_new_user_display(w->p, "bothB", "王小明", w->b);
	w->c1 = client_new_user_display(w->p, "bothC", "鲍勃", w->c);
	if (w->a1 == NULL || w->b1 == NULL || w->c1 == NULL)
		return false;
	json_decref(client_call(w->a1, pier_req_join(ROOM)));
	json_decref(client_call(w->b1, pier_req_join(ROOM)));
	json_decref(client_call(w->c1, pier_req_join(ROOM)));
	client_drain(w->a1);
	client_drain(w->b1);
	client_drain(w->c1);
	return true;
}

/* Live: the reply, its edit, a reaction and a recall, each event with its display name. */
static void test_live(struct both *w)
{
	char text[128], edited[128];
	json_t *r, *ev;

	w->question = client_send(w->a1, ROOM, "who reviews the build?", NULL, NULL);
	snprintf(text, sizeof text, "@%s can you? I can't", w->c);
	r = client_call(w->b1, pier_req_send_reply(ROOM, text, NULL, w->question));
	w->reply = jint(r, "id", -1);
	CHECK(is_op(r, "sent") && streq(jstr(json_object_get(r, "quote"), "display"), "爱丽丝") &&
	      just(json_object_get(r, "mentions"), w->c), "sent: the quote and the mention: %s",
	      jdump(r));
	json_decref(r);

	ev = client_wait_msg(w->c1, text);
	CHECK(ev != NULL && streq(jstr(ev, "display"), "王小明") &&
	      jint(ev, "reply_to", -1) == w->question &&
	      streq(jstr(json_object_get(ev, "quote"), "display"), "爱丽丝") &&
	      just(json_object_get(ev, "mentions"), w->c) && jtrue(ev, "mentioned"),
	      "C's msg: display names, quote, mention, flagged: %s", jdump(ev));
	json_decref(ev);

	snprintf(edited, sizeof edited, "@%s can you? I cannot, sorry", w->c);
	r = client_call(w->b1, pier_req_edit(w->reply, edited));
	CHECK(is_op(r, "edit"), "B edits the reply: %s", jdump(r));
	json_decref(r);
	ev = client_wait_op(w->c1, "edited");
	CHECK(ev != NULL && jint(ev, "id", -1) == w->reply && streq(jstr(ev, "display"), "王小明") &&
	      streq(jstr(ev, "text"), edited) && just(json_object_get(ev, "mentions"), w->c),
	      "C's edited event, with the sender's display name: %s", jdump(ev));
	json_decref(ev);

	r = client_call(w->a1, pier_req_react(w->reply, "👍", true));
	CHECK(is_op(r, "react") && jint(r, "count", 0) == 1, "A reacts: %s", jdump(r));
	json_decref(r);
	ev = client_wait_op(w->c1, "reaction");
	CHECK(ev != NULL && streq(jstr(ev, "from"), w->b) && streq(jstr(ev, "user"), w->a) &&
	      streq(jstr(ev, "display"), "爱丽丝"),
	      "C's reaction event: display is the reactor's, not the sender's: %s", jdump(ev));
	json_decref(ev);

	w->gone = client_send(w->a1, ROOM, "not for this room", NULL, NULL);
	r = client_call(w->a1, pier_req_recall(w->gone));
	CHECK(is_op(r, "recall"), "A recalls: %s", jdump(r));
	json_decref(r);
	ev = client_wait_op(w->c1, "recalled");
	CHECK(ev != NULL && jint(ev, "id", -1) == w->gone && streq(jstr(ev, "display"), "爱丽丝"),
	      "C's recalled event, with the sender's display name: %s", jdump(ev));
	json_decref(ev);
}

/* C's second device: history, sync with changes, and the read position shared with c1. */
static void test_second_device(struct both *w)
{
	struct pier_conn *c2 = client_login(w->p, w->c, HARNESS_PASSWORD);
	json_t *r, *ev, *m, *conv;

	if (c2 == NULL)
		return;
	client_drain(c2);
	r = client_call(c2, pier_req_history(ROOM, 0, 50));
	check_reply(w, find_msg(json_object_get(r, "messages"), w->reply), "王小明", "history");
	m = find_msg(json_object_get(r, "messages"), w->gone);
	CHECK(m != NULL && jtrue(m, "recalled") && json_object_get(m, "text") == NULL &&
	      streq(jstr(m, "display"), "爱丽丝"), "history: recalled, its sender still named: %s",
	      jdump(m));
	json_decref(r);

	r = client_call(c2, pier_req_sync_changes(w->question - 1, 0, 0));
	check_reply(w, find_msg(json_object_get(r, "messages"), w->reply), "王小明", "sync");
	check_reply(w, find_msg(json_object_get(r, "changes"), w->reply), "王小明", "sync changes");
	m = find_msg(json_object_get(r, "changes"), w->gone);
	CHECK(m != NULL && jtrue(m, "recalled") && streq(jstr(m, "display"), "爱丽丝"),
	      "sync changes: the recall: %s", jdump(r));
	json_decref(r);

	/* Read on the second device: the first one hears it, and nothing is unread there. */
	client_drain(w->c1);
	r = client_call(c2, pier_req_read(ROOM, w->gone));
	CHECK(is_op(r, "read") && jint(r, "id", -1) == w->gone, "c2 reads up to the last: %s",
	      jdump(r));
	json_decref(r);
	ev = client_wait_op(w->c1, "read");
	CHECK(ev != NULL && streq(jstr(ev, "with"), ROOM) && jint(ev, "id", -1) == w->gone,
	      "c1 hears the read position: %s", jdump(ev));
	json_decref(ev);
	r = client_call(w->c1, pier_req_unread(NULL, 0));
	conv = jfind(r, "conversations", "with", ROOM);
	CHECK(conv != NULL && jint(conv, "read", -1) == w->gone && jint(conv, "unread", -1) == 0 &&
	      jint(conv, "last", -1) == w->gone, "c1: nothing unread in %s: %s", ROOM, jdump(r));
	json_decref(r);

	/* A display name is shown as it is now, also on the old, changed message. */
	r = client_call(w->b1, pier_req_profile("小明"));
	CHECK(is_op(r, "profile") && streq(jstr(r, "display"), "小明"), "B renames: %s", jdump(r));
	json_decref(r);
	r = client_call(c2, pier_req_history(ROOM, 0, 50));
	check_reply(w, find_msg(json_object_get(r, "messages"), w->reply), "小明", "history after");
	json_decref(r);
	pier_conn_close(c2);
}

int main(void)
{
	struct both w;

	harness_watchdog(120);
	memset(&w, 0, sizeof w);
	if (setup(&w)) {
		test_live(&w);
		test_second_device(&w);
	}
	pier_conn_close(w.a1);
	pier_conn_close(w.b1);
	pier_conn_close(w.c1);
	if (w.p != NULL)
		CHECK(pierd_stop(w.p), "pierd stops cleanly");
	return harness_done();
}
