/* test_gtk_models.c - GTest unit tests of pier-gtk's models (no display needed): the message
 * store's bounded window and paging, the conversation list's order and unread counts, the
 * outbox (cids, resending, its file), the composer's line syntax, and what happens to a
 * message after it was sent (reactions, edits, recalls, the unread divider). */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "pg_changes.h"
#include "pg_command.h"
#include "pg_convlist.h"
#include "pg_msgstore.h"
#include "pg_outbox.h"

static json_t *msg(int64_t id, const char *from, const char *to, const char *text)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)id, "from", from, "to", to,
	                 "text", text, "ts", (json_int_t)(1795000000000 + id * 1000));
}

/* A history page: ids first..last (ascending). */
static json_t *page(int64_t first, int64_t last)
{
	json_t *arr = json_array();

	for (int64_t id = first; id <= last; id++)
		json_array_append_new(arr, msg(id, "bob_22", "#dev", "x"));
	return arr;
}

static void check_sorted(PgMsgStore *s)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(s));
	int64_t prev = 0;

	for (guint i = 0; i < n; i++) {
		PgMsg *m = pg_msg_store_peek(s, i);

		if (m->pending)
			continue;
		g_assert_cmpint(m->id, >, prev);
		prev = m->id;
	}
}

/* Counts items-changed notifications' net effect, so views stay consistent. */
static void on_items_changed(GListModel *model, guint pos, guint removed, guint added, gpointer ud)
{
	gint64 *n = ud;

	(void)model;
	(void)pos;
	*n += (gint64)added - (gint64)removed;
}

static void test_store_live_and_dedupe(void)
{
	PgMsgStore *s = pg_msg_store_new("#dev", 0);
	gint64 tracked = 0;
	json_t *m;

	g_signal_connect(s, "items-changed", G_CALLBACK(on_items_changed), &tracked);
	m = page(1, 50);
	pg_msg_store_reset(s, m, false);
	json_decref(m);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s)), ==, 50);
	/* The same message twice (a live event, then a sync after a reconnect): shown once. */
	m = msg(51, "bob_22", "#dev", "hi");
	g_assert_true(pg_msg_store_add(s, m));
	g_assert_false(pg_msg_store_add(s, m));
	json_decref(m);
	/* An older one arriving late goes in its place. */
	m = msg(7, "bob_22", "#dev", "dup");
	g_assert_false(pg_msg_store_add(s, m));
	json_decref(m);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s)), ==, 51);
	g_assert_cmpint(tracked, ==, 51);
	check_sorted(s);
	g_object_unref(s);
}

static void test_store_pending_ack(void)
{
	PgMsgStore *s = pg_msg_store_new("#dev", 0);
	json_t *m = page(1, 3), *sent;

	pg_msg_store_reset(s, m, false);
	json_decref(m);
	pg_msg_store_add_pending(s, "c-1", "me_user", "first", NULL);
	pg_msg_store_add_pending(s, "c-2", "me_user", "second", NULL);
	/* Someone else's message stored meanwhile goes before the pending ones. */
	m = msg(4, "bob_22", "#dev", "other");
	pg_msg_store_add(s, m);
	json_decref(m);
	g_assert_true(pg_msg_store_peek(s, 4)->pending);
	g_assert_cmpstr(pg_msg_store_peek(s, 4)->text, ==, "first");
	sent = json_pack("{s:s, s:I, s:I, s:s, s:s}", "op", "sent", "id", (json_int_t)5, "ts",
	                 (json_int_t)1, "to", "#dev", "cid", "c-1");
	pg_msg_store_ack(s, sent);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s)), ==, 6);
	g_assert_cmpint(pg_msg_store_peek(s, 4)->id, ==, 5);
	g_assert_cmpstr(pg_msg_store_peek(s, 4)->text, ==, "first");
	g_assert_false(pg_msg_store_peek(s, 4)->pending);
	/* The duplicate `sent` of a resend changes nothing. */
	pg_msg_store_ack(s, sent);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s)), ==, 6);
	json_decref(sent);
	/* A sync bringing our own second message (with its cid) replaces the pending copy. */
	m = msg(6, "me_user", "#dev", "second");
	json_object_set_new(m, "cid", json_string("c-2"));
	pg_msg_store_add(s, m);
	json_decref(m);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s)), ==, 6);
	g_assert_false(pg_msg_store_peek(s, 5)->pending);
	pg_msg_store_add_pending(s, "c-3", "me_user", "third", NULL);
	pg_msg_store_fail(s, "c-3");
	g_assert_true(pg_msg_store_peek(s, 6)->failed);
	check_sorted(s);
	g_object_unref(s);
}

/* 100 000 messages paged in from the newest to the oldest: the window never holds more than
 * its cap, and jumping back to the newest reattaches. */
static void test_store_paging_bounded(void)
{
	const guint cap = 1000;
	PgMsgStore *s = pg_msg_store_new("#dev", cap);
	json_t *m = page(99801, 100000);
	gint64 tracked = 0;
	int64_t before;

	g_signal_connect(s, "items-changed", G_CALLBACK(on_items_changed), &tracked);
	pg_msg_store_reset(s, m, true);
	json_decref(m);
	while (pg_msg_store_has_older(s)) {
		before = pg_msg_store_oldest_id(s);
		m = page(before - 200 > 0 ? before - 200 : 1, before - 1);
		pg_msg_store_add_older(s, m, before - 200 > 1);
		json_decref(m);
		g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s)), <=, cap);
		g_assert_cmpint(pg_msg_store_oldest_id(s), <, before);
	}
	g_assert_cmpint(pg_msg_store_oldest_id(s), ==, 1);
	g_assert_cmpint(pg_msg_store_newest_id(s), ==, cap);
	g_assert_true(pg_msg_store_has_newer(s));
	g_assert_cmpint(tracked, ==, cap);
	/* A live message while detached is not added (it is past the window). */
	m = msg(100001, "bob_22", "#dev", "live");
	g_assert_false(pg_msg_store_add(s, m));
	json_decref(m);
	m = page(99802, 100001);
	pg_msg_store_reset(s, m, true);
	json_decref(m);
	g_assert_false(pg_msg_store_has_newer(s));
	g_assert_cmpint(pg_msg_store_newest_id(s), ==, 100001);
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s)), ==, 200);
	g_assert_cmpint(tracked, ==, 200);
	/* Live messages past the cap push the oldest out. */
	for (int64_t id = 100002; id < 100002 + cap; id++) {
		m = msg(id, "bob_22", "#dev", "live");
		pg_msg_store_add(s, m);
		json_decref(m);
	}
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s)), ==, cap);
	g_assert_cmpint(pg_msg_store_newest_id(s), ==, 100001 + cap);
	g_assert_true(pg_msg_store_has_older(s));
	check_sorted(s);
	g_object_unref(s);
}

static void test_msg_conversation(void)
{
	json_t *m = msg(1, "bob_22", "@me_user", "x");
	char *c = pg_msg_conversation_of(m, "Me_User");

	g_assert_cmpstr(c, ==, "@bob_22");
	g_free(c);
	json_decref(m);
	m = msg(2, "me_user", "@bob_22", "x");
	c = pg_msg_conversation_of(m, "me_user");
	g_assert_cmpstr(c, ==, "@bob_22");
	g_free(c);
	json_decref(m);
	m = msg(3, "bob_22", "#dev", "x");
	c = pg_msg_conversation_of(m, "me_user");
	g_assert_cmpstr(c, ==, "#dev");
	g_free(c);
	json_decref(m);
	/* An end-to-end encrypted message comes without text: it is marked so. */
	m = json_pack("{s:I, s:s, s:s, s:I, s:b}", "id", (json_int_t)4, "from", "bob_22", "to",
	              "@me_user", "ts", (json_int_t)1, "e2ee", 1);
	{
		PgMsg *pm = pg_msg_new_from_json(m);

		g_assert_true(pm->encrypted);
		g_assert_cmpstr(pm->text, ==, "");
		g_object_unref(pm);
	}
	json_decref(m);
}

static void test_convlist(void)
{
	PgConvList *l = pg_conv_list_new();
	const char *order[] = { "#lobby", "#Alpha", "#dev", "@aaron_1", "@bob_22" };
	char buf[8];
	guint pos = 99;

	pg_conv_list_ensure(l, "@bob_22");
	pg_conv_list_ensure(l, "#dev");
	pg_conv_list_ensure(l, "#lobby");
	pg_conv_list_ensure(l, "@aaron_1");
	pg_conv_list_ensure(l, "#Alpha");
	pg_conv_list_ensure(l, "#DEV");   /* the same room: not added again */
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(l)), ==, G_N_ELEMENTS(order));
	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		PgConv *c = g_list_model_get_item(G_LIST_MODEL(l), i);

		g_assert_cmpstr(c->with, ==, order[i]);
		g_object_unref(c);
	}
	pg_conv_list_add_unread(l, "#dev", false);
	pg_conv_list_add_unread(l, "#dev", true);
	g_assert_nonnull(pg_conv_list_find(l, "#dev", &pos));
	g_assert_cmpuint(pos, ==, 2);
	g_assert_cmpstr(pg_conv_unread_text(pg_conv_list_find(l, "#dev", NULL), buf), ==, "2");
	g_assert_true(pg_conv_list_find(l, "#dev", NULL)->mentioned);
	pg_conv_list_set_unread(l, "@bob_22", 1000, true);
	g_assert_cmpstr(pg_conv_unread_text(pg_conv_list_find(l, "@bob_22", NULL), buf), ==, "999+");
	pg_conv_list_clear_unread(l, "#dev");
	g_assert_cmpstr(pg_conv_unread_text(pg_conv_list_find(l, "#dev", NULL), buf), ==, "");
	g_assert_false(pg_conv_list_find(l, "#dev", NULL)->mentioned);
	pg_conv_list_set_online(l, "BOB_22", true);
	g_assert_true(pg_conv_list_find(l, "@bob_22", NULL)->online);
	g_assert_true(pg_conv_list_remove(l, "#dev"));
	g_assert_false(pg_conv_list_remove(l, "#dev"));
	g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(l)), ==, 4);
	g_object_unref(l);
}

static void test_outbox(void)
{
	char *dir = g_dir_make_tmp("pg-outbox-XXXXXX", NULL);
	char *path = g_build_filename(dir, "outbox.json", NULL);
	struct pg_outbox *ob = pg_outbox_new(path, 3);
	const struct pg_outbox_entry *a, *b, *e;
	char cid_a[PG_OUTBOX_CID_MAX], cid_b[PG_OUTBOX_CID_MAX];
	json_t *req;
	GStatBuf st;

	a = pg_outbox_add(ob, "#dev", "one", NULL, 0);
	g_strlcpy(cid_a, a->cid, sizeof cid_a);
	b = pg_outbox_add(ob, "@bob_22", "", "image", 42);
	g_strlcpy(cid_b, b->cid, sizeof cid_b);
	g_assert_cmpstr(cid_a, !=, cid_b);
	g_assert_cmpint(b->reply_to, ==, 0);
	/* a reply: the next entry only quotes the message */
	pg_outbox_set_next_reply(ob, 118);
	e = pg_outbox_add(ob, "#dev", "three", NULL, 0);
	g_assert_nonnull(e);
	g_assert_cmpint(e->reply_to, ==, 118);
	req = pg_outbox_request(e);
	g_assert_cmpint(json_integer_value(json_object_get(req, "reply_to")), ==, 118);
	json_decref(req);
	g_assert_null(pg_outbox_add(ob, "#dev", "four", NULL, 0));   /* full */
	req = pg_outbox_request(b);
	g_assert_cmpstr(json_string_value(json_object_get(req, "cid")), ==, cid_b);
	g_assert_cmpint(json_integer_value(json_object_get(req, "media")), ==, 42);
	g_assert_cmpstr(json_string_value(json_object_get(req, "kind")), ==, "image");
	json_decref(req);
	/* Sent on a connection, which drops: all go again, with the same cids, in order. */
	e = pg_outbox_next_to_send(ob);
	g_assert_cmpstr(e->cid, ==, cid_a);
	e = pg_outbox_next_to_send(ob);
	g_assert_cmpstr(e->cid, ==, cid_b);
	pg_outbox_connection_lost(ob);
	e = pg_outbox_next_to_send(ob);
	g_assert_cmpstr(e->cid, ==, cid_a);
	g_assert_true(pg_outbox_remove(ob, cid_a));
	g_assert_false(pg_outbox_remove(ob, cid_a));   /* a duplicate `sent` */
	/* The file is private, and a restart of the app finds the rest. */
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	pg_outbox_free(ob);
	ob = pg_outbox_new(path, 0);
	g_assert_cmpuint(pg_outbox_count(ob), ==, 2);
	g_assert_cmpstr(pg_outbox_at(ob, 0)->cid, ==, cid_b);
	g_assert_cmpint(pg_outbox_at(ob, 0)->media, ==, 42);
	g_assert_false(pg_outbox_at(ob, 0)->in_flight);
	g_assert_cmpint(pg_outbox_at(ob, 1)->reply_to, ==, 118);   /* kept across a restart */
	g_assert_cmpint(pg_outbox_at(ob, 0)->reply_to, ==, 0);
	pg_outbox_free(ob);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

struct cmd_case {
	const char *line;
	enum pg_command_op op;
	const char *text, *user, *room, *name;
};


/* Reactions from events and own replies end as history would show them. */
static void test_changes_reactions(void)
{
	PgMsgStore *s = pg_msg_store_new("#dev", 0);
	json_t *m = msg(5, "bob_22", "#dev", "review at 3");
	json_t *ev;
	PgMsg *x;
	int64_t count;
	guint pos;

	json_object_set_new(m, "reactions", json_pack("[{s:s, s:i, s:[s], s:b}]", "emoji", "👍",
	                    "count", 1, "users", "carol_9", "mine", false));
	g_assert_true(pg_msg_store_add(s, m));
	x = pg_msg_store_find(s, 5, &pos);
	g_assert_nonnull(x);
	g_assert_cmpuint(pos, ==, 0);
	g_assert_null(pg_msg_store_find(s, 6, NULL));
	g_assert_false(pg_changes_has_mine(x, "👍", &count));
	g_assert_cmpint(count, ==, 1);
	/* someone else adds one: the count is the server's */
	ev = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:b, s:i}", "op", "reaction", "id",
	               (json_int_t)5, "from", "bob_22", "to", "#dev", "user", "dave_7", "emoji", "👍",
	               "on", true, "count", 2);
	g_assert_true(pg_changes_apply_event(s, ev, "alice_1"));
	json_decref(ev);
	g_assert_false(pg_changes_has_mine(x, "👍", &count));
	g_assert_cmpint(count, ==, 2);
	g_assert_cmpuint(json_array_size(json_object_get(json_array_get(x->reactions, 0), "users")),
	                 ==, 2);
	/* our own, from the react reply; then a new emoji; then removing ours */
	pg_changes_react(x, "👍", "alice_1", true, 3, true);
	g_assert_true(pg_changes_has_mine(x, "👍", &count));
	g_assert_cmpint(count, ==, 3);
	pg_changes_react(x, "收到", "alice_1", true, 1, true);
	g_assert_cmpuint(json_array_size(x->reactions), ==, 2);
	g_assert_cmpstr(json_string_value(json_object_get(json_array_get(x->reactions, 1), "emoji")),
	                ==, "收到");
	pg_changes_react(x, "👍", "alice_1", false, 2, true);
	g_assert_false(pg_changes_has_mine(x, "👍", &count));
	g_assert_cmpint(count, ==, 2);
	/* the last one of an emoji goes: its entry goes; unknown counts are counted here */
	pg_changes_react(x, "收到", "alice_1", false, -1, true);
	g_assert_cmpuint(json_array_size(x->reactions), ==, 1);
	pg_changes_react(x, "🎉", "dave_7", true, -1, false);
	g_assert_false(pg_changes_has_mine(x, "🎉", &count));
	g_assert_cmpint(count, ==, 1);
	/* a user listed once however often the event comes */
	pg_changes_react(x, "🎉", "DAVE_7", true, -1, false);
	g_assert_false(pg_changes_has_mine(x, "🎉", &count));
	g_assert_cmpint(count, ==, 1);
	json_decref(m);
	g_object_unref(s);
}

static void test_changes_edit_recall(void)
{
	PgMsgStore *s = pg_msg_store_new("#dev", 0);
	json_t *m = msg(7, "bob_22", "#dev", "review at 2");
	json_t *ev;
	PgMsg *x;
	int64_t count;

	json_object_set_new(m, "quote", json_pack("{s:I, s:s, s:s}", "id", (json_int_t)3, "from",
	                    "carol_9", "text", "when?"));
	json_object_set_new(m, "reply_to", json_integer(3));
	json_object_set_new(m, "kind", json_string("image"));
	json_object_set_new(m, "media", json_pack("{s:i, s:s}", "id", 42, "name", "a.png"));
	pg_msg_store_add(s, m);
	x = pg_msg_store_find(s, 7, NULL);
	g_assert_cmpint(x->reply_to, ==, 3);
	g_assert_nonnull(x->quote);
	ev = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I}", "op", "edited", "id", (json_int_t)7, "from",
	               "bob_22", "to", "#dev", "text", "review at 3, not 2", "edited",
	               (json_int_t)1795000090000);
	g_assert_true(pg_changes_apply_event(s, ev, "alice_1"));
	json_decref(ev);
	g_assert_cmpstr(x->text, ==, "review at 3, not 2");
	g_assert_true(x->edited);
	g_assert_cmpint(x->edited_at, ==, 1795000090000);
	g_assert_nonnull(x->media);   /* an edit keeps the file: only the caption changes */
	pg_changes_react(x, "👍", "alice_1", true, 1, true);
	ev = json_pack("{s:s, s:I, s:s, s:s}", "op", "recalled", "id", (json_int_t)7, "from",
	               "bob_22", "to", "#dev");
	g_assert_true(pg_changes_apply_event(s, ev, "alice_1"));
	json_decref(ev);
	g_assert_true(x->recalled);
	g_assert_cmpstr(x->text, ==, "");
	g_assert_null(x->media);
	g_assert_null(x->quote);
	g_assert_null(x->reactions);
	g_assert_false(pg_changes_has_mine(x, "👍", &count));
	/* a recalled message takes no more reactions or edits */
	pg_changes_react(x, "👍", "alice_1", true, 1, true);
	g_assert_null(x->reactions);
	pg_changes_edit(x, "back", 0);
	g_assert_cmpstr(x->text, ==, "");
	/* an event for a message not in the window changes nothing */
	ev = json_pack("{s:s, s:I, s:s}", "op", "recalled", "id", (json_int_t)99, "to", "#dev");
	g_assert_false(pg_changes_apply_event(s, ev, "alice_1"));
	json_decref(ev);
	json_decref(m);
	g_object_unref(s);
}

/* The divider follows the read position; a page ending at an older message is detached. */
static void test_divider_and_jump(void)
{
	PgMsgStore *s = pg_msg_store_new("#dev", 0);
	json_t *p = page(1, 50);
	int count;

	pg_msg_store_reset(s, p, true);
	json_decref(p);
	g_assert_cmpint(pg_msg_store_divider(s, &count), ==, 0);
	pg_msg_store_set_divider(s, 47, 3);
	g_assert_cmpint(pg_msg_store_divider(s, &count), ==, 47);
	g_assert_cmpint(count, ==, 3);
	pg_msg_store_set_divider(s, 50, 0);
	g_assert_cmpint(pg_msg_store_divider(s, &count), ==, 0);
	g_assert_false(pg_msg_store_has_newer(s));
	p = page(10, 20);
	pg_msg_store_reset_older(s, p, true);
	json_decref(p);
	g_assert_true(pg_msg_store_has_newer(s));
	g_assert_cmpint(pg_msg_store_newest_id(s), ==, 20);
	g_assert_nonnull(pg_msg_store_find(s, 15, NULL));
	/* live messages do not go into a detached window */
	p = msg(51, "bob_22", "#dev", "new");
	g_assert_false(pg_msg_store_add(s, p));
	json_decref(p);
	g_object_unref(s);
}

static void test_command(void)
{
	static const struct cmd_case cases[] = {
		{ "hello", PG_CMD_TEXT, "hello", NULL, NULL, NULL },
		{ "hi there~bob_22", PG_CMD_PRIVATE, "hi there", "bob_22", NULL, NULL },
		{ "a~b~ @bob_22 ", PG_CMD_PRIVATE, "a~b", "bob_22", NULL, NULL },
		{ "see https://host/~someone", PG_CMD_TEXT, "see https://host/~someone", NULL, NULL,
		  NULL },
		{ "hi~bob", PG_CMD_ASK, "hi~bob", NULL, NULL, "bob" },
		{ "~bob_22", PG_CMD_USAGE, NULL, NULL, NULL, "tilde" },
		{ "approx ~ 5 km", PG_CMD_TEXT, "approx ~ 5 km", NULL, NULL, NULL },
		{ "/msg bob_22 hello you", PG_CMD_PRIVATE, "hello you", "bob_22", NULL, NULL },
		{ "/msg bob_22", PG_CMD_USAGE, NULL, NULL, NULL, "msg" },
		{ "/join dev", PG_CMD_JOIN, NULL, NULL, "#dev", NULL },
		{ "/J #dev", PG_CMD_JOIN, NULL, NULL, "#dev", NULL },
		{ "/join #a b", PG_CMD_USAGE, NULL, NULL, NULL, "join" },
		{ "/part", PG_CMD_PART, NULL, NULL, NULL, NULL },
		{ "/part #dev", PG_CMD_PART, NULL, NULL, "#dev", NULL },
		{ "/help", PG_CMD_HELP, NULL, NULL, NULL, NULL },
		{ "/frob x", PG_CMD_UNKNOWN, NULL, NULL, NULL, "frob" },
		{ "//not a command", PG_CMD_TEXT, "/not a command", NULL, NULL, NULL },
		{ "你好~bob_22", PG_CMD_PRIVATE, "你好", "bob_22", NULL, NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct pg_command cmd;

		pg_command_parse(cases[i].line, &cmd);
		g_test_message("line %s", cases[i].line);
		g_assert_cmpint(cmd.op, ==, cases[i].op);
		g_assert_cmpstr(cmd.text, ==, cases[i].text);
		g_assert_cmpstr(cmd.user, ==, cases[i].user);
		g_assert_cmpstr(cmd.room, ==, cases[i].room);
		g_assert_cmpstr(cmd.name, ==, cases[i].name);
		pg_command_release(&cmd);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/msgstore/live-dedupe", test_store_live_and_dedupe);
	g_test_add_func("/msgstore/pending-ack", test_store_pending_ack);
	g_test_add_func("/msgstore/paging-100k-bounded", test_store_paging_bounded);
	g_test_add_func("/msg/conversation", test_msg_conversation);
	g_test_add_func("/convlist/order-unread", test_convlist);
	g_test_add_func("/outbox/cids-resend-file", test_outbox);
	g_test_add_func("/command/syntax", test_command);
	g_test_add_func("/changes/reactions", test_changes_reactions);
	g_test_add_func("/changes/edit-recall", test_changes_edit_recall);
	g_test_add_func("/msgstore/divider-jump", test_divider_and_jump);
	return g_test_run();
}
