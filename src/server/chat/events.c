/* events.c - every event the chat sends that is not a reply, built in one place. */
#include "events.h"

#include "hub.h"
#include "media.h"
#include "store.h"

/* A JSON array the store built (SQLite's json_group_array), or NULL. */
static json_t *stored_array(const char *text)
{
	json_t *a = text != NULL ? json_loads(text, 0, NULL) : NULL;

	if (a != NULL && (!json_is_array(a) || json_array_size(a) == 0)) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

void event_set_display(json_t *o, const struct user *u)
{
	if (u != NULL && u->display != NULL)
		json_object_set_new(o, "display", json_string(u->display));
}

/* Sets "display" on o to the display name of the user called name, if it has one. */
static void set_display_of(struct hub *h, json_t *o, const char *name)
{
	if (name != NULL && name[0] != '\0')
		event_set_display(o, hub_find_user(h, name));
}

json_t *event_quote(struct hub *h, const struct store_msg *m)
{
	json_t *q = json_pack("{s:I, s:s}", "id", (json_int_t)m->reply_to, "from",
	                      m->quote_from != NULL ? m->quote_from : "");

	set_display_of(h, q, m->quote_from);
	if (m->quote_recalled) {
		json_object_set_new(q, "recalled", json_true());
		return q;
	}
	json_object_set_new(q, "text", json_string(m->quote_text != NULL ? m->quote_text : ""));
	if (m->quote_cut)
		json_object_set_new(q, "cut", json_true());
	if (m->quote_kind != NULL)
		json_object_set_new(q, "kind", json_string(m->quote_kind));
	return q;
}

json_t *event_mentions(const struct store_msg *m)
{
	return stored_array(m->mentions);
}

json_t *event_msg(struct hub *h, const struct store_msg *m)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:I}", "op", "msg", "id", (json_int_t)m->id,
	                      "from", m->from, "to", m->to, "ts", (json_int_t)m->ts), *list;

	set_display_of(h, j, m->from);
	if (m->recalled != 0) {
		/* Nothing of what it said is left: no text, media, quote, mentions or reactions. */
		json_object_set_new(j, "recalled", json_true());
		json_object_set_new(j, "changed", json_integer(m->changed));
		return j;
	}
	/* Encrypted: the text is in the payload, which only the devices' envelopes open. */
	if (m->e2ee)
		json_object_set_new(j, "e2ee", json_true());
	else
		json_object_set_new(j, "text", json_string(m->text));
	if (m->media_id != 0) {
		json_object_set_new(j, "kind", json_string(m->kind ? m->kind : "file"));
		json_object_set_new(j, "media", media_json(m->media_id, m->media_name, m->media_size,
		                                           m->media_type, m->media_width,
		                                           m->media_height));
	}
	if (m->reply_to != 0) {
		json_object_set_new(j, "reply_to", json_integer(m->reply_to));
		json_object_set_new(j, "quote", event_quote(h, m));
	}
	list = stored_array(m->mentions);
	if (list != NULL)
		json_object_set_new(j, "mentions", list);
	if (m->mentioned)
		json_object_set_new(j, "mentioned", json_true());
	if (m->edited != 0)
		json_object_set_new(j, "edited", json_integer(m->edited));
	list = stored_array(m->reactions);
	if (list != NULL)
		json_object_set_new(j, "reactions", list);
	if (m->changed != 0)
		json_object_set_new(j, "changed", json_integer(m->changed));
	return j;
}

json_t *event_edited(struct hub *h, const struct store_msg *m)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:I}", "op", "edited",
	                      "id", (json_int_t)m->id, "from", m->from, "to", m->to,
	                      "text", m->text, "edited", (json_int_t)m->edited,
	                      "changed", (json_int_t)m->changed);
	json_t *mentions = stored_array(m->mentions);

	set_display_of(h, j, m->from);
	if (mentions != NULL)
		json_object_set_new(j, "mentions", mentions);
	return j;
}

json_t *event_recalled(struct hub *h, const struct store_msg *m)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:I}", "op", "recalled", "id", (json_int_t)m->id,
	                      "from", m->from, "to", m->to, "changed", (json_int_t)m->changed);

	set_display_of(h, j, m->from);
	return j;
}

json_t *event_reaction(const struct store_msg *m, const struct user *user, const char *emoji,
                       bool on, int64_t count)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "op", "reaction",
	                      "id", (json_int_t)m->id, "from", m->from, "to", m->to,
	                      "user", user->name, "emoji", emoji, "on", on,
	                      "count", (json_int_t)count, "changed", (json_int_t)m->changed);

	event_set_display(j, user);
	return j;
}

json_t *event_msg_offline(struct hub *h, const struct store_msg *m)
{
	json_t *ev = event_msg(h, m);

	json_object_set_new(ev, "offline", json_true());
	return ev;
}

json_t *event_offline_more(int64_t after)
{
	return json_pack("{s:s, s:b, s:I}", "op", "offline", "more", 1, "after", (json_int_t)after);
}

json_t *event_presence(const struct user *u, bool online)
{
	json_t *ev = json_pack("{s:s, s:s, s:b}", "op", "presence", "user", u->name, "online", online);

	event_set_display(ev, u);
	return ev;
}

json_t *event_member(const struct room *r, const struct user *u, bool joined)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:b}", "op", "member", "room", r->name, "user",
	                       u->name, "joined", joined);

	event_set_display(ev, u);
	return ev;
}

static void append_name(void *ud, struct user *v)
{
	json_array_append_new(ud, json_string(v->name));
}

json_t *event_users_login(struct hub *h, struct user *u)
{
	json_t *ev = json_pack("{s:s}", "op", "users"), *list = json_array();

	if (hub_presence_to_all(h)) {
		for (struct user *v = h->online; v != NULL; v = v->online_next)
			json_array_append_new(list, json_string(v->name));
	} else {
		hub_each_contact(h, u, append_name, list);
		json_object_set_new(ev, "partial", json_true());
		json_object_set_new(ev, "total", json_integer((json_int_t)h->nonline));
	}
	json_object_set_new(ev, "online", list);
	event_add_displays(h, ev);
	return ev;
}

void event_add_displays(struct hub *h, json_t *ev)
{
	json_t *map = NULL, *name;
	size_t i;

	json_array_foreach(json_object_get(ev, "online"), i, name) {
		struct user *u = hub_find_user(h, json_string_value(name));

		if (u == NULL || u->display == NULL)
			continue;
		if (map == NULL)
			map = json_object();
		json_object_set_new(map, u->name, json_string(u->display));
	}
	if (map != NULL)
		json_object_set_new(ev, "display", map);
}

json_t *event_typing(const struct user *from, const char *to)
{
	json_t *ev = json_pack("{s:s, s:s, s:s}", "op", "typing", "from", from->name, "to", to);

	event_set_display(ev, from);
	return ev;
}

json_t *event_topic(const struct room *r)
{
	json_t *ev = json_pack("{s:s, s:s}", "op", "topic", "room", r->name);

	if (r->topic != NULL) {
		json_object_set_new(ev, "topic", json_string(r->topic));
		json_object_set_new(ev, "by", json_string(r->topic_by));
		json_object_set_new(ev, "ts", json_integer(r->topic_ts));
	}
	return ev;
}

json_t *event_read(const char *with, int64_t id)
{
	return json_pack("{s:s, s:s, s:I}", "op", "read", "with", with, "id", (json_int_t)id);
}

json_t *event_profile(const struct user *u)
{
	json_t *ev = json_pack("{s:s, s:s}", "op", "profile", "user", u->name);

	event_set_display(ev, u);
	return ev;
}
