/* pg_changes.c - reactions, edits and recalls applied to messages (see pg_changes.h). */
#include "pg_changes.h"

#include <string.h>

#include <glib.h>

static json_t *find_entry(const PgMsg *msg, const char *emoji, size_t *index)
{
	size_t i;
	json_t *r;

	json_array_foreach(msg->reactions, i, r) {
		if (g_strcmp0(json_string_value(json_object_get(r, "emoji")), emoji) == 0) {
			if (index != NULL)
				*index = i;
			return r;
		}
	}
	return NULL;
}

/* The index of user in the entry's "users" (any case), or -1. */
static int find_user(const json_t *users, const char *user)
{
	size_t i;
	json_t *u;

	json_array_foreach(users, i, u)
		if (json_is_string(u) && g_ascii_strcasecmp(json_string_value(u), user) == 0)
			return (int)i;
	return -1;
}

void pg_changes_react(PgMsg *msg, const char *emoji, const char *user, bool on, int64_t count,
                      bool by_me)
{
	size_t index = 0;
	json_t *r, *users;
	int64_t old;
	int at;

	if (emoji == NULL || user == NULL || msg->recalled)
		return;
	r = find_entry(msg, emoji, &index);
	if (r == NULL) {
		if (!on)
			return;
		if (msg->reactions == NULL)
			msg->reactions = json_array();
		r = json_pack("{s:s, s:I, s:[], s:b}", "emoji", emoji, "count", (json_int_t)0, "users",
		              "mine", false);
		json_array_append_new(msg->reactions, r);
		index = json_array_size(msg->reactions) - 1;
	}
	users = json_object_get(r, "users");
	if (!json_is_array(users)) {
		users = json_array();
		json_object_set_new(r, "users", users);
	}
	at = find_user(users, user);
	old = json_integer_value(json_object_get(r, "count"));
	if (count < 0)
		count = on ? old + (at < 0 ? 1 : 0) : old - (at >= 0 || by_me ? 1 : 0);
	if (on && at < 0 && json_array_size(users) < PG_REACTION_USERS_MAX)
		json_array_append_new(users, json_string(user));
	else if (!on && at >= 0)
		json_array_remove(users, (size_t)at);
	if (by_me)
		json_object_set_new(r, "mine", json_boolean(on));
	if (count <= 0) {
		json_array_remove(msg->reactions, index);
		if (json_array_size(msg->reactions) == 0)
			g_clear_pointer(&msg->reactions, json_decref);
		return;
	}
	json_object_set_new(r, "count", json_integer(count));
}

void pg_changes_edit(PgMsg *msg, const char *text, int64_t edited_at)
{
	if (msg->recalled)
		return;
	g_free(msg->text);
	msg->text = g_strdup(text != NULL ? text : "");
	msg->edited = true;
	msg->edited_at = edited_at > 0 ? edited_at : g_get_real_time() / 1000;
}

void pg_changes_recall(PgMsg *msg)
{
	msg->recalled = true;
	g_free(msg->text);
	msg->text = g_strdup("");
	g_clear_pointer(&msg->kind, g_free);
	g_clear_pointer(&msg->media, json_decref);
	g_clear_pointer(&msg->reactions, json_decref);
	g_clear_pointer(&msg->quote, json_decref);
	msg->reply_to = 0;
}

bool pg_changes_has_mine(const PgMsg *msg, const char *emoji, int64_t *count)
{
	json_t *r = find_entry(msg, emoji, NULL);

	if (count != NULL)
		*count = r != NULL ? json_integer_value(json_object_get(r, "count")) : 0;
	return r != NULL && json_is_true(json_object_get(r, "mine"));
}

bool pg_changes_apply_event(PgMsgStore *st, const json_t *ev, const char *me)
{
	const char *op = json_string_value(json_object_get(ev, "op"));
	json_int_t id = json_integer_value(json_object_get(ev, "id"));
	guint pos;
	PgMsg *msg = st != NULL && op != NULL ? pg_msg_store_find(st, id, &pos) : NULL;

	if (msg == NULL)
		return false;
	if (strcmp(op, "reaction") == 0) {
		const char *user = json_string_value(json_object_get(ev, "user"));
		json_t *on = json_object_get(ev, "on");
		json_t *count = json_object_get(ev, "count");

		pg_changes_react(msg, json_string_value(json_object_get(ev, "emoji")), user,
		                 on == NULL || json_is_true(on),
		                 json_is_integer(count) ? json_integer_value(count) : -1,
		                 user != NULL && me != NULL && g_ascii_strcasecmp(user, me) == 0);
	} else if (strcmp(op, "edited") == 0) {
		pg_changes_edit(msg, json_string_value(json_object_get(ev, "text")),
		                json_integer_value(json_object_get(ev, "edited")));
	} else if (strcmp(op, "recalled") == 0) {
		pg_changes_recall(msg);
	} else {
		return false;
	}
	pg_msg_store_changed_at(st, pos);
	return true;
}
