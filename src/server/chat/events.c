/* events.c - every event the chat sends that is not a reply, built in one place. */
#include "events.h"

#include "hub.h"
#include "media.h"
#include "store.h"

void event_set_display(json_t *o, const struct user *u)
{
	if (u != NULL && u->display != NULL)
		json_object_set_new(o, "display", json_string(u->display));
}

const char *event_sender_display(struct hub *h, const struct store_msg *m)
{
	struct user *u = m->from != NULL ? hub_find_user(h, m->from) : NULL;

	return u != NULL ? u->display : NULL;
}

json_t *event_msg(const struct store_msg *m, const char *display)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I}", "op", "msg", "id", (json_int_t)m->id,
	                      "from", m->from, "to", m->to, "text", m->text, "ts", (json_int_t)m->ts);

	if (m->media_id != 0) {
		json_object_set_new(j, "kind", json_string(m->kind ? m->kind : "file"));
		json_object_set_new(j, "media", media_json(m->media_id, m->media_name, m->media_size,
		                                           m->media_type, m->media_width,
		                                           m->media_height));
	}
	if (display != NULL)
		json_object_set_new(j, "display", json_string(display));
	return j;
}

json_t *event_msg_offline(const struct store_msg *m, const char *display)
{
	json_t *ev = event_msg(m, display);

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

	if (h->nonline <= h->presence_limit) {
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
