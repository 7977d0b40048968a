/* roominfo.c - room members and topics (roominfo.h).
 *
 * Members come from the store (every member, online or not, by name through the name index;
 * #lobby's are all the users), a page of at most MEMBERS_PAGE_MAX, and only to a member of the
 * room: who is in a room is as private as what is said there. The online flag and the display
 * name are the hub's, added on the loop.
 *
 * A topic is set by any member of the room (as on IRC without +t: rooms here have no owners
 * or operators); #lobby's cannot be set, since everyone is in it. The change is stored, then
 * told to the room's online members as a topic event; joins and room lists carry the topic.
 * Topic changes cost a message token (dispatch.c): each is a store write and a fan-out.
 */
#include "roominfo.h"

#include <string.h>

#include "clock.h"
#include "conn.h"
#include "deferred.h"
#include "display.h"
#include "events.h"
#include "hub.h"
#include "remote.h"
#include "reply.h"
#include "rooms.h"
#include "sbuf.h"
#include "server.h"

#define MEMBERS_PAGE_DEFAULT 100
#define MEMBERS_PAGE_MAX     1000

void roominfo_add_topic(json_t *o, const struct room *r)
{
	if (r->topic == NULL)
		return;
	json_object_set_new(o, "topic", json_string(r->topic));
	if (r->topic_by[0] != '\0')
		json_object_set_new(o, "topic_by", json_string(r->topic_by));
}

/* The room of req's "room" that c's user may look into: a room it is in, or #lobby. NULL
 * (answered) otherwise. */
static struct room *member_room(struct conn *c, json_t *req, json_t *ref)
{
	const char *name = rooms_name_arg(c, req, ref);
	struct room *r;

	if (name == NULL)
		return NULL;
	r = hub_find_room(&c->srv->hub, name);
	if (r == NULL) {
		reply_error(c, ref, PIER_ERR_NO_SUCH_ROOM, "no such room");
		return NULL;
	}
	if (r != c->srv->hub.lobby && !hub_is_member(c->user, r)) {
		reply_error(c, ref, PIER_ERR_NOT_MEMBER, "you are not in %s", r->name);
		return NULL;
	}
	return r;
}

static void members_read(struct store_job *job)
{
	struct deferred *d = job->data;
	struct hub *h = &d->c->srv->hub;
	json_t *r, *list;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not read the members"));
		return;
	}
	list = json_array();
	for (size_t i = 0; job->names != NULL && job->names[i] != NULL; i++) {
		struct user *u = hub_find_user(h, job->names[i]);
		json_t *o = json_pack("{s:s, s:b}", "user", job->names[i], "online",
		                      u != NULL && u->nsessions > 0);

		event_set_display(o, u);
		json_array_append_new(list, o);
	}
	r = reply_new("members", d->ref);
	json_object_set_new(r, "room", json_string(d->room->name));
	json_object_set_new(r, "members", list);
	json_object_set_new(r, "more", json_boolean(job->more));
	json_object_set_new(r, "total", json_integer(d->room == h->lobby ? h->nusers : d->room->members));
	deferred_finish(d, r);
}

void handle_members(struct conn *c, json_t *req, json_t *ref)
{
	const char *after = req_string(req, "after");
	json_t *jlimit = json_object_get(req, "limit");
	json_int_t limit = MEMBERS_PAGE_DEFAULT;
	struct room *r;
	struct deferred *d;

	if (jlimit != NULL && (!json_is_integer(jlimit) || json_integer_value(jlimit) < 1)) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "limit must be a positive integer");
		return;
	}
	if (jlimit != NULL)
		limit = json_integer_value(jlimit) < MEMBERS_PAGE_MAX ? json_integer_value(jlimit)
		                                                      : MEMBERS_PAGE_MAX;
	if (after != NULL && strlen(after) > PIER_NAME_MAX) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "after is a user name (the last of a page)");
		return;
	}
	r = member_room(c, req, ref);
	if (r == NULL)
		return;
	d = deferred_new(c, req, ref, STORE_MEMBERS, members_read);
	d->room = r;
	d->job.room = r->name;
	d->job.name = after;              /* lives in d->req */
	d->job.limit = (int)limit;
	store_submit(c->srv->store, &d->job);
}

static void topic_stored(struct store_job *job)
{
	struct deferred *d = job->data;
	struct server *srv = d->c->srv;
	json_t *ev, *r;
	struct sbuf *b;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not store the topic"));
		return;
	}
	hub_set_topic(d->room, job->topic, d->user->name, job->ts);
	remote_event(srv, CLUSTER_EV_TOPIC, d->user->name, d->room->name, d->room->topic, 0,
	             job->ts, false);
	ev = event_topic(d->room);
	b = sbuf_from_json(ev);
	hub_send_room(&srv->hub, d->room, b, d->c);
	sbuf_unref(b);
	r = json_deep_copy(ev);
	json_decref(ev);
	if (d->ref != NULL)
		json_object_set(r, "ref", d->ref);
	deferred_finish(d, r);
}

void handle_topic(struct conn *c, json_t *req, json_t *ref)
{
	json_t *t = json_object_get(req, "topic");
	char topic[DISPLAY_TOPIC_BYTES + 1];
	enum display_verdict v;
	struct room *r = member_room(c, req, ref);
	struct deferred *d;

	if (r == NULL)
		return;
	if (t == NULL) {
		json_t *reply = event_topic(r);

		if (ref != NULL)
			json_object_set(reply, "ref", ref);
		conn_reply(c, reply);
		return;
	}
	if (!json_is_string(t) && !json_is_null(t)) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "topic must be a string or null");
		return;
	}
	if (r == c->srv->hub.lobby) {
		reply_error(c, ref, PIER_ERR_FORBIDDEN, "#lobby's topic cannot be set");
		return;
	}
	topic[0] = '\0';
	if (json_is_string(t)) {
		v = display_topic_clean(c->srv->display, json_string_value(t), json_string_length(t), topic);
		if (v != DISPLAY_OK) {
			json_t *err = error_new(ref, PIER_ERR_BAD_TOPIC, "topics are at most %d bytes, "
			                        "without control or bidi characters (%s)",
			                        DISPLAY_TOPIC_BYTES, display_reason(v));

			json_object_set_new(err, "reason", json_string(display_reason(v)));
			conn_reply(c, err);
			return;
		}
	}
	d = deferred_new(c, req, ref, STORE_SET_TOPIC, topic_stored);
	d->room = r;
	d->job.room = r->name;
	if (topic[0] != '\0') {
		d->keep = json_string(topic);
		d->job.topic = json_string_value(d->keep);
	}
	d->job.ts = pier_now_ms();
	store_submit(c->srv->store, &d->job);
}
