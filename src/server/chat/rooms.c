/* rooms.c - room membership, the rooms directory's limits and its paged listing.
 * Membership changes in memory at once, so the requests a client pipelines after a join see
 * it; the store gets the change through its FIFO before any later message, and the reply and
 * member events go out once it is committed.
 *
 * Limits (taken before the join, given back by part and by forgetting): a user is in at most
 * --max-rooms-per-user rooms besides #lobby; at most --max-rooms rooms exist in the directory;
 * a room without members for --room-forget-after seconds is forgotten (rooms_sweep), so rooms
 * nobody uses stop counting. Its history stays in the store and a join brings it back. */
#include "rooms.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "conn.h"
#include "events.h"
#include "hub.h"
#include "log.h"
#include "deferred.h"
#include "remote.h"
#include "reply.h"
#include "roominfo.h"
#include "sbuf.h"
#include "server.h"
#include "xalloc.h"

#define USERS_PAGE_MAX 1000
#define ROOMS_PAGE_MAX 1000   /* ~80 bytes an entry: a page stays under ~100 KB */

static void member_event(struct server *srv, struct deferred *d, bool joined)
{
	json_t *ev = event_member(d->room, d->user, joined);
	struct sbuf *b = sbuf_from_json(ev);

	hub_send_room(&srv->hub, d->room, b, d->c);
	remote_event(srv, CLUSTER_EV_MEMBER, d->user->name, d->room->name, NULL, 0, 0, joined);
	if (!joined)
		hub_send_user(d->user, b, d->c);   /* no longer a member, but its other sessions care */
	sbuf_unref(b);
	json_decref(ev);
}

static void join_stored(struct store_job *job)
{
	struct deferred *d = job->data;
	struct server *srv = d->c->srv;
	json_t *r;

	if (job->status != STORE_OK) {
		if (!d->flag)
			hub_part(&srv->hub, d->user, d->room);
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not store the membership"));
		return;
	}
	/* A room forgotten and joined again gets its stored topic back. */
	if (d->room->topic == NULL && job->topic_out != NULL)
		hub_set_topic(d->room, job->topic_out, job->topic_by, job->topic_ts);
	r = reply_new("join", d->ref);
	json_object_set_new(r, "room", json_string(d->room->name));
	json_object_set_new(r, "members", json_integer(d->room->members));
	json_object_set_new(r, "created", json_boolean(job->created));
	roominfo_add_topic(r, d->room);
	if (d->flag)
		json_object_set_new(r, "already", json_true());
	else
		member_event(srv, d, true);
	deferred_finish(d, r);
}

/* Answers too_many_rooms with the limit that refused. */
static void too_many_rooms(struct conn *c, json_t *ref, int limit, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void too_many_rooms(struct conn *c, json_t *ref, int limit, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = error_new(ref, PIER_ERR_TOO_MANY_ROOMS, "%s", msg);
	json_object_set_new(e, "limit", json_integer(limit));
	conn_reply(c, e);
}

const char *rooms_name_arg(struct conn *c, json_t *req, json_t *ref)
{
	const char *name = req_string(req, "room");

	if (name == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "a string field room is needed");
		return NULL;
	}
	if (pier_room_check(name) != PIER_NAME_OK) {
		reply_error(c, ref, PIER_ERR_BAD_ROOM, "room names are '#' and 1-32 of letters, digits, '_', '-', '.'");
		return NULL;
	}
	return name;
}

void handle_join(struct conn *c, json_t *req, json_t *ref)
{
	struct hub *h = &c->srv->hub;
	const char *name = rooms_name_arg(c, req, ref);
	struct room *r;
	struct deferred *d;

	if (name == NULL)
		return;
	r = hub_find_room(h, name);
	if (r != h->lobby && (r == NULL || !hub_is_member(c->user, r)) &&
	    c->user->nrooms >= (size_t)c->srv->cfg.max_rooms_per_user) {
		too_many_rooms(c, ref, c->srv->cfg.max_rooms_per_user,
		               "you are in %zu rooms, the most one user may be in: part one first",
		               c->user->nrooms);
		return;
	}
	if (r == NULL && h->nrooms >= (size_t)c->srv->cfg.max_rooms) {
		too_many_rooms(c, ref, c->srv->cfg.max_rooms,
		               "the server holds %zu rooms, its most: join an existing room, or try "
		               "later (rooms without members are forgotten)", h->nrooms);
		return;
	}
	if (r == NULL) {
		r = hub_add_room(h, name, 0);
		log_info("room %s created by %s", r->name, c->user->name);
	}
	d = deferred_new(c, req, ref, STORE_JOIN, join_stored);
	d->room = r;
	d->flag = r == h->lobby || hub_is_member(c->user, r);
	hub_join(h, c->user, r);
	d->job.room = r->name;
	store_submit(c->srv->store, &d->job);
}

static void part_stored(struct store_job *job)
{
	struct deferred *d = job->data;
	struct server *srv = d->c->srv;
	json_t *r;

	if (job->status != STORE_OK && job->status != STORE_NOT_FOUND) {
		hub_join(&srv->hub, d->user, d->room);
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not store the change"));
		return;
	}
	r = reply_new("part", d->ref);
	json_object_set_new(r, "room", json_string(d->room->name));
	json_object_set_new(r, "members", json_integer(d->room->members));
	member_event(srv, d, false);
	deferred_finish(d, r);
}

void handle_part(struct conn *c, json_t *req, json_t *ref)
{
	struct hub *h = &c->srv->hub;
	const char *name = rooms_name_arg(c, req, ref);
	struct room *r;
	struct deferred *d;

	if (name == NULL)
		return;
	r = hub_find_room(h, name);
	if (r == h->lobby) {
		reply_error(c, ref, PIER_ERR_CANNOT_PART, "everyone stays in #lobby");
		return;
	}
	if (r == NULL || !hub_is_member(c->user, r)) {
		reply_error(c, ref, PIER_ERR_NOT_MEMBER, "you are not in %s", r ? r->name : name);
		return;
	}
	d = deferred_new(c, req, ref, STORE_PART, part_stored);
	d->room = r;
	hub_part(h, c->user, r);
	d->job.room = r->name;
	store_submit(c->srv->store, &d->job);
}

static int by_key(const void *a, const void *b)
{
	const struct room *ra = *(const struct room *const *)a, *rb = *(const struct room *const *)b;

	return strcmp(ra->key, rb->key);
}

/* A page of the rooms: #lobby first, then the others by name (any case); those after
 * "after", at most "limit" (default and most ROOMS_PAGE_MAX), so that an answer stays small
 * however many rooms exist. "more" says whether a next page exists, "total" counts them all. */
void handle_rooms(struct conn *c, json_t *req, json_t *ref)
{
	struct hub *h = &c->srv->hub;
	const char *after = req_string(req, "after");
	json_t *jlimit = json_object_get(req, "limit"), *list, *reply;
	json_int_t limit = ROOMS_PAGE_MAX;
	char after_key[PIER_KEY_MAX] = "";
	struct room **all = NULL, *r, *tmp;
	size_t n = 0, k = 0, shown = 0;

	if (jlimit != NULL && (!json_is_integer(jlimit) || json_integer_value(jlimit) < 1)) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "limit must be a positive integer");
		return;
	}
	if (jlimit != NULL && json_integer_value(jlimit) < ROOMS_PAGE_MAX)
		limit = json_integer_value(jlimit);
	if (after != NULL && strlen(after) <= PIER_ROOM_MAX + 1)
		pier_name_key(after, after_key);
	list = json_array();
	if (after == NULL) {
		json_array_append_new(list, json_pack("{s:s, s:I, s:b}", "room", h->lobby->name,
		                                      "members", (json_int_t)h->lobby->members,
		                                      "joined", true));
		shown = 1;
	}
	/* Only the rooms after the cursor are sorted. */
	all = xcalloc(h->nrooms + 1, sizeof(*all));
	HASH_ITER(hh, h->rooms, r, tmp)
		if (r != h->lobby && (after == NULL || strcmp(r->key, after_key) > 0))
			all[n++] = r;
	qsort(all, n, sizeof(*all), by_key);
	for (; k < n && (json_int_t)shown < limit; k++, shown++) {
		struct room *x = all[k];
		json_t *o = json_pack("{s:s, s:I, s:b}", "room", x->name, "members",
		                      (json_int_t)x->members, "joined", hub_is_member(c->user, x));

		roominfo_add_topic(o, x);
		json_array_append_new(list, o);
	}
	reply = reply_new("rooms", ref);
	json_object_set_new(reply, "rooms", list);
	json_object_set_new(reply, "more", json_boolean(k < n));
	json_object_set_new(reply, "total", json_integer((json_int_t)h->nrooms + 1));
	conn_reply(c, reply);
	free(all);
}

/* What a forgetting batch waits for: every store job submitted before it, which may still
 * point at the rooms (joins, parts, messages in flight). */
struct forget_barrier {
	struct store_job job;
	struct server *srv;
	uint64_t seq;
};

static void forget_barrier_done(struct store_job *job)
{
	struct forget_barrier *b = job->data;

	hub_free_forgotten(&b->srv->hub, b->seq);
	store_job_release(job);
	free(b);
}

void rooms_sweep(struct server *srv)
{
	struct forget_barrier *b;
	uint64_t seq;
	size_t n;

	if (srv->store == NULL || srv->stopping)
		return;
	n = hub_forget_rooms(&srv->hub, pier_mono_ms(), (int64_t)(srv->cfg.room_forget_after * 1000),
	                     &seq);
	if (n == 0)
		return;
	log_info("forgot %zu rooms without members (%zu remain)", n, srv->hub.nrooms);
	b = xcalloc(1, sizeof(*b));
	b->srv = srv;
	b->seq = seq;
	store_job_init(&b->job, STORE_BARRIER);
	b->job.data = b;
	b->job.done = forget_barrier_done;
	store_submit(srv->store, &b->job);
}

static int by_user_key(const void *a, const void *b)
{
	return strcmp((*(const struct user *const *)a)->key, (*(const struct user *const *)b)->key);
}

/* A page of the users online, by name: those after "after" (any case), at most "limit". */
void handle_users(struct conn *c, json_t *req, json_t *ref)
{
	struct hub *h = &c->srv->hub;
	const char *after = req_string(req, "after");
	json_t *jlimit = json_object_get(req, "limit"), *list, *reply;
	json_int_t limit = USERS_PAGE_MAX;
	char after_key[PIER_KEY_MAX] = "";
	struct user **all, *u;
	size_t n = 0, first = 0, k;

	if (jlimit != NULL && (!json_is_integer(jlimit) || json_integer_value(jlimit) < 1)) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "limit must be a positive integer");
		return;
	}
	if (jlimit != NULL && json_integer_value(jlimit) < USERS_PAGE_MAX)
		limit = json_integer_value(jlimit);
	if (after != NULL && strlen(after) <= PIER_NAME_MAX)
		pier_name_key(after, after_key);
	{
		/* A cluster: the users online on other nodes too (remote.c). */
		size_t nremote;
		struct user **remote = remote_online_users(c->srv, &nremote);

		all = xcalloc(h->nonline + nremote + 1, sizeof(*all));
		for (u = h->online; u != NULL; u = u->online_next)
			all[n++] = u;
		for (size_t i = 0; i < nremote; i++)
			all[n++] = remote[i];
		free(remote);
	}
	qsort(all, n, sizeof(*all), by_user_key);
	while (after != NULL && first < n && strcmp(all[first]->key, after_key) <= 0)
		first++;
	list = json_array();
	for (k = first; k < n && (json_int_t)(k - first) < limit; k++)
		json_array_append_new(list, json_string(all[k]->name));
	reply = reply_new("users", ref);
	json_object_set_new(reply, "online", list);
	event_add_displays(h, reply);
	json_object_set_new(reply, "more", json_boolean(k < n));
	json_object_set_new(reply, "total", json_integer((json_int_t)n));
	conn_reply(c, reply);
	free(all);
}
