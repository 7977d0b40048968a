/* remote.c - the chat's side of a cluster: other nodes' messages, changes, events, envelopes
 * and presence applied here, and this node's announced (remote.h). What another node says is
 * applied as far as a client's request could: names resolve in this node's directory, rooms
 * are created here only for a member online here and within --max-rooms, and envelopes are
 * never taken from the bus (the device's session reads its queue from the store). */
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "auth.h"
#include "chat.h"
#include "cluster.h"
#include "conn.h"
#include "display.h"
#include "e2ee_chat.h"
#include "events.h"
#include "hub.h"
#include "log.h"
#include "profile.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "store.h"
#include "xalloc.h"

static bool jtrue_of(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* ---- announcing ---- */

bool remote_presence(struct server *srv, struct user *u, bool online)
{
	if (srv->cluster == NULL)
		return true;
	return cluster_presence_changed(srv->cluster, u->name, online);
}

void remote_event(struct server *srv, enum cluster_event_op op, const char *user,
                  const char *target, const char *text, int64_t id, int64_t ts, bool flag)
{
	struct cluster_event ev = { .op = op, .text = (char *)text, .id = id, .ts = ts,
	                            .flag = flag };

	if (srv->cluster == NULL)
		return;
	snprintf(ev.user, sizeof(ev.user), "%s", user);
	if (target != NULL)
		snprintf(ev.target, sizeof(ev.target), "%s", target);
	cluster_event_send(srv->cluster, &ev);
}

void remote_change(struct server *srv, enum cluster_change_op op, const struct store_msg *m,
                   const char *user, const char *emoji, bool on, int64_t count)
{
	struct cluster_change ch = { .op = op, .msg = *m, .on = on, .count = count };

	if (srv->cluster == NULL)
		return;
	if (user != NULL)
		snprintf(ch.user, sizeof(ch.user), "%s", user);
	if (emoji != NULL)
		snprintf(ch.emoji, sizeof(ch.emoji), "%s", emoji);
	cluster_change_stored(srv->cluster, &ch);
}

struct online_add {
	struct server *srv;
	json_t *list;
};

static void add_remote_name(void *ud, const char *name)
{
	struct online_add *a = ud;
	struct user *u = hub_find_user(&a->srv->hub, name);

	if (u != NULL && u->nsessions == 0)
		json_array_append_new(a->list, json_string(u->name));
}

struct online_list {
	struct server *srv;
	struct user **users;
	size_t n, cap;
};

static void list_remote_user(void *ud, const char *name)
{
	struct online_list *l = ud;
	struct user *u = hub_find_user(&l->srv->hub, name);

	if (u == NULL || u->nsessions > 0)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->users = xrealloc(l->users, l->cap * sizeof(*l->users));
	}
	l->users[l->n++] = u;
}

struct user **remote_online_users(struct server *srv, size_t *n)
{
	struct online_list l = { srv, NULL, 0, 0 };

	if (srv->cluster != NULL)
		cluster_each_online_elsewhere(srv->cluster, list_remote_user, &l);
	*n = l.n;
	return l.users;
}

void remote_add_online(struct server *srv, const struct user *u, json_t *ev)
{
	struct online_add a = { srv, json_object_get(ev, "online") };
	size_t local;

	if (srv->cluster == NULL || !json_is_array(a.list))
		return;
	if (jtrue_of(ev, "partial")) {
		/* Contacts only: u's private partners online on other nodes too, O(contacts). */
		size_t before = json_array_size(a.list);

		for (size_t i = 0; i < u->ncontacts; i++) {
			const struct user *v = u->contacts[i];

			if (v->nsessions == 0 &&
			    cluster_user_online_elsewhere(srv->cluster, v->name))
				json_array_append_new(a.list, json_string(v->name));
		}
		if (json_array_size(a.list) > before)
			event_add_displays(&srv->hub, ev);   /* the map again, with theirs */
		return;
	}
	local = json_array_size(a.list);
	cluster_each_online_elsewhere(srv->cluster, add_remote_name, &a);
	if (json_array_size(a.list) > srv->hub.presence_limit) {
		/* Past the limit: only the local part (the users request pages through this
		 * node's online users). */
		while (json_array_size(a.list) > local)
			json_array_remove(a.list, json_array_size(a.list) - 1);
		json_object_set_new(ev, "partial", json_true());
		json_object_set_new(ev, "total", json_integer((json_int_t)local));
		return;
	}
	event_add_displays(&srv->hub, ev);
}

struct user *remote_user_found(struct server *srv, int64_t id, const char *name)
{
	struct user *u = hub_find_user(&srv->hub, name);

	if (u != NULL || srv->cluster == NULL || id <= 0 || pier_name_check(name) != PIER_NAME_OK)
		return u;
	u = hub_add_user(&srv->hub, id, name);
	profile_user_added(srv, name);
	log_info("cluster: %s (registered on another node) found in the store", name);
	return u;
}

struct lookup {
	struct server *srv;
	char name[PIER_NAME_MAX + 1];
	struct store_job job;
};

static void looked_up(struct store_job *job)
{
	struct lookup *l = job->data;
	struct server *srv = l->srv;

	srv->remote_lookups--;
	if (job->status == STORE_OK && job->user_name != NULL)
		remote_user_found(srv, job->user_id, job->user_name);
	store_job_release(job);
	free(l);
}

void remote_lookup_user(struct server *srv, const char *name)
{
	struct lookup *l;

	if (srv->cluster == NULL || srv->remote_lookups >= REMOTE_LOOKUPS_MAX ||
	    pier_name_check(name) != PIER_NAME_OK)
		return;
	l = xcalloc(1, sizeof(*l));
	l->srv = srv;
	snprintf(l->name, sizeof(l->name), "%s", name);
	store_job_init(&l->job, STORE_GET_USER);
	l->job.name = l->name;
	l->job.done = looked_up;
	l->job.data = l;
	srv->remote_lookups++;
	store_submit(srv->store, &l->job);
}

struct held_request {
	struct conn *c;
	void (*handle)(struct conn *, json_t *, json_t *);
	json_t *req;
	char name[PIER_NAME_MAX + 1];
	struct store_job job;
};

static void held_looked_up(struct store_job *job)
{
	struct held_request *h = job->data;
	struct conn *c = h->c;

	c->srv->remote_lookups--;
	if (job->status == STORE_OK && job->user_name != NULL)
		remote_user_found(c->srv, job->user_id, job->user_name);
	if (!c->closing && c->user != NULL)
		h->handle(c, h->req, json_object_get(h->req, "ref"));
	conn_resume(c);
	conn_unref(c);
	json_decref(h->req);
	store_job_release(job);
	free(h);
}

bool remote_hold(struct conn *c, void (*handle)(struct conn *, json_t *, json_t *),
                 json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	const char *to = req_string(req, "to");
	struct held_request *h;

	(void)ref;
	if (srv->cluster == NULL || c->user == NULL)
		return false;
	if (to == NULL)
		to = req_string(req, "with");
	if (to == NULL || to[0] != '@' || pier_name_check(to + 1) != PIER_NAME_OK ||
	    hub_find_user(&srv->hub, to + 1) != NULL || srv->remote_lookups >= REMOTE_LOOKUPS_MAX)
		return false;
	h = xcalloc(1, sizeof(*h));
	h->c = c;
	h->handle = handle;
	h->req = json_incref(req);
	snprintf(h->name, sizeof(h->name), "%s", to + 1);
	store_job_init(&h->job, STORE_GET_USER);
	h->job.name = h->name;
	h->job.done = held_looked_up;
	h->job.data = h;
	conn_ref(c);
	conn_pause(c);
	srv->remote_lookups++;
	store_submit(srv->store, &h->job);
	return true;
}

/* ---- what other nodes announce ---- */

static void send_json(json_t *ev, void (*fn)(struct server *, struct sbuf *, void *),
                      struct server *srv, void *arg)
{
	struct sbuf *b = sbuf_from_json(ev);

	json_decref(ev);
	fn(srv, b, arg);
	sbuf_unref(b);
}

static void on_deliver_msg(void *ud, const struct store_msg *m, void *except)
{
	chat_deliver_msg(ud, m, except);
}

static void on_release_except(void *ud, void *except)
{
	(void)ud;
	conn_unref(except);
}

static void to_conversation(struct server *srv, struct sbuf *b, void *m)
{
	actions_fan_out(srv, m, b, NULL);
}

static void on_change(void *ud, const struct cluster_change *ch)
{
	struct server *srv = ud;
	struct user *who;

	switch (ch->op) {
	case CLUSTER_EDITED:
		send_json(event_edited(&srv->hub, &ch->msg), to_conversation, srv, (void *)&ch->msg);
		break;
	case CLUSTER_RECALLED:
		send_json(event_recalled(&srv->hub, &ch->msg), to_conversation, srv, (void *)&ch->msg);
		break;
	case CLUSTER_REACTION:
		who = hub_find_user(&srv->hub, ch->user);
		if (who != NULL)
			send_json(event_reaction(&ch->msg, who, ch->emoji, ch->on, ch->count),
			          to_conversation, srv, (void *)&ch->msg);
		break;
	}
}

static void to_room(struct server *srv, struct sbuf *b, void *r)
{
	hub_send_room(&srv->hub, r, b, NULL);
}

static void to_user(struct server *srv, struct sbuf *b, void *u)
{
	(void)srv;
	hub_send_user(u, b, NULL);
}

/* Those who get u's presence, and u's own sessions (profile.c's rule). */
static void to_presence_audience(struct server *srv, struct sbuf *b, void *u)
{
	if (hub_presence_to_all(&srv->hub))
		hub_send_all(&srv->hub, b, u, NULL);
	else
		hub_send_contacts(&srv->hub, u, b);
	hub_send_user(u, b, NULL);
}

static void member(struct server *srv, struct user *u, const struct cluster_event *ev)
{
	struct hub *h = &srv->hub;
	struct room *r = hub_find_room(h, ev->target);

	if (r == NULL) {
		/* Known here only when someone here needs it: u online here, within the limit. */
		if (!ev->flag || u->nsessions == 0 || h->nrooms >= (size_t)srv->cfg.max_rooms)
			return;
		r = hub_add_room(h, ev->target, 0);
	}
	if (r == h->lobby)
		return;
	if (u->rooms_loaded) {
		if (ev->flag)
			hub_join(h, u, r);
		else
			hub_part(h, u, r);
	} else if (ev->flag) {
		r->members++;                /* the count of members, online here or not */
	} else if (r->members > 0) {
		r->members--;
	}
	send_json(event_member(r, u, ev->flag), to_room, srv, r);
	if (!ev->flag)
		send_json(event_member(r, u, false), to_user, srv, u);
}

static void typing(struct server *srv, struct user *u, const struct cluster_event *ev)
{
	struct hub *h = &srv->hub;
	struct sbuf *b;

	if (ev->target[0] == '#') {
		struct room *r = hub_find_room(h, ev->target);

		if (r == NULL || (r == h->lobby && !hub_presence_to_all(h)))
			return;
		json_t *j = event_typing(u, r->name);

		b = sbuf_from_json(j);
		json_decref(j);
		if (r == h->lobby) {
			hub_send_all(h, b, u, NULL);
		} else {
			for (size_t i = 0; i < r->nonline; i++)
				if (r->online[i] != u)
					hub_send_user(r->online[i], b, NULL);
		}
		sbuf_unref(b);
	} else {
		struct user *peer = hub_find_user(h, ev->target + 1);

		if (peer != NULL && peer != u)
			send_json(event_typing(u, ev->target), to_user, srv, peer);
	}
}

static void on_event(void *ud, const struct cluster_event *ev)
{
	struct server *srv = ud;
	struct hub *h = &srv->hub;
	struct user *u = hub_find_user(h, ev->user);
	struct room *r;

	if (ev->op == CLUSTER_EV_USER) {
		if (u == NULL) {
			hub_add_user(h, ev->id, ev->user);
			profile_user_added(srv, ev->user);
		}
		return;
	}
	if (u == NULL)
		return;              /* registered elsewhere and not announced here (yet) */
	switch (ev->op) {
	case CLUSTER_EV_MEMBER:
		member(srv, u, ev);
		break;
	case CLUSTER_EV_TOPIC: {
		char topic[DISPLAY_TOPIC_BYTES + 1] = "";

		/* The rules a client's topic is held to (the sender's node held it to them too). */
		r = hub_find_room(h, ev->target);
		if (r == NULL || (ev->text != NULL &&
		                  display_topic_clean(srv->display, ev->text, strlen(ev->text),
		                                      topic) != DISPLAY_OK))
			break;
		hub_set_topic(r, topic, u->name, ev->ts);
		send_json(event_topic(r), to_room, srv, r);
		break;
	}
	case CLUSTER_EV_READ:
		send_json(event_read(ev->target, ev->id), to_user, srv, u);
		break;
	case CLUSTER_EV_PROFILE: {
		char display[DISPLAY_BYTES_MAX + 1] = "";

		if (ev->text != NULL && ev->text[0] != '\0' &&
		    display_name_clean(srv->display, ev->text, strlen(ev->text), u->name,
		                       display) != DISPLAY_OK)
			break;
		hub_set_display(u, display);
		send_json(event_profile(u), to_presence_audience, srv, u);
		break;
	}
	case CLUSTER_EV_TYPING:
		typing(srv, u, ev);
		break;
	case CLUSTER_EV_DEVICES: {
		json_t *j = json_pack("{s:s, s:s}", "op", "devices_changed", "user", u->name);

		if (ev->text != NULL)
			json_object_set_new(j, "pending", json_string(ev->text));
		else
			json_object_set_new(j, "version", json_integer(ev->id));
		send_json(j, to_user, srv, u);
		if (ev->text == NULL)
			e2ee_devices_refresh(srv, u);   /* its sessions here: active, or revoked */
		break;
	}
	case CLUSTER_EV_USER:
		break;
	}
}

static void on_env(void *ud, const struct cluster_env *e)
{
	struct server *srv = ud;
	const char *names[2] = { e->user, e->peer };

	for (size_t i = 0; i < 2; i++) {
		struct user *u = names[i][0] != '\0' ? hub_find_user(&srv->hub, names[i]) : NULL;
		struct conn *c = u != NULL ? e2ee_session_for_device(u, e->device) : NULL;

		if (c != NULL) {
			e2ee_queue_poke(c);
			return;
		}
	}
}

static void on_presence(void *ud, const char *name, bool online)
{
	struct server *srv = ud;
	struct user *u = hub_find_user(&srv->hub, name);

	if (u != NULL)
		auth_broadcast_presence(srv, u, online);
}

static bool on_local_online(void *ud, const char *name)
{
	struct server *srv = ud;
	struct user *u = hub_find_user(&srv->hub, name);

	return u != NULL && u->nsessions > 0;
}

static size_t on_online_names(void *ud, const char **names, size_t max)
{
	struct server *srv = ud;
	size_t n = 0;

	for (struct user *u = srv->hub.online; u != NULL && n < max; u = u->online_next)
		names[n++] = u->name;
	return n;
}

static const struct cluster_handler handler = {
	.deliver_msg = on_deliver_msg,
	.release_except = on_release_except,
	.change = on_change,
	.event = on_event,
	.env = on_env,
	.presence = on_presence,
	.local_online = on_local_online,
	.online_names = on_online_names,
};

const struct cluster_handler *remote_handler(void)
{
	return &handler;
}
