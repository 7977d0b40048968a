/* events.c - every event the chat sends that is not a reply, built in one place. */
#include "events.h"

#include "hub.h"
#include "media.h"
#include "store.h"

json_t *event_msg(const struct store_msg *m)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I}", "op", "msg", "id", (json_int_t)m->id,
	                      "from", m->from, "to", m->to, "text", m->text, "ts", (json_int_t)m->ts);

	if (m->media_id != 0) {
		json_object_set_new(j, "kind", json_string(m->kind ? m->kind : "file"));
		json_object_set_new(j, "media", media_json(m->media_id, m->media_name, m->media_size,
		                                           m->media_type, m->media_width,
		                                           m->media_height));
	}
	return j;
}

json_t *event_msg_offline(const struct store_msg *m)
{
	json_t *ev = event_msg(m);

	json_object_set_new(ev, "offline", json_true());
	return ev;
}

json_t *event_offline_more(int64_t after)
{
	return json_pack("{s:s, s:b, s:I}", "op", "offline", "more", 1, "after", (json_int_t)after);
}

json_t *event_presence(const struct user *u, bool online)
{
	return json_pack("{s:s, s:s, s:b}", "op", "presence", "user", u->name, "online", online);
}

json_t *event_member(const struct room *r, const struct user *u, bool joined)
{
	return json_pack("{s:s, s:s, s:s, s:b}", "op", "member", "room", r->name, "user", u->name,
	                 "joined", joined);
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
	return ev;
}
