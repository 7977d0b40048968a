/* hub.c - the directory of users and rooms, online sessions, membership, and fan-out. */
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "clock.h"
#include "conn.h"
#include "sbuf.h"
#include "xalloc.h"

/* Appends item to a growable array of pointers. */
#define PUSH(arr, len, cap, item) do { \
	if ((len) == (cap)) { \
		(cap) = (cap) ? (cap) * 2 : 4; \
		(arr) = xrealloc((arr), (cap) * sizeof(*(arr))); \
	} \
	(arr)[(len)++] = (item); \
} while (0)

/* Removes item from an array of pointers (order not kept). Returns 1 if it was there. */
static int remove_ptr(void **arr, size_t *len, const void *item)
{
	for (size_t i = 0; i < *len; i++) {
		if (arr[i] == item) {
			arr[i] = arr[--*len];
			return 1;
		}
	}
	return 0;
}

void hub_init(struct hub *h)
{
	memset(h, 0, sizeof(*h));
	h->presence_limit = 0;
	h->lobby = hub_add_room(h, "#lobby", 0);
}

void hub_release(struct hub *h)
{
	struct user *u, *ut;
	struct room *r, *rt;

	HASH_ITER(hh, h->users, u, ut) {
		HASH_DEL(h->users, u);
		free(u->sessions);
		free(u->rooms);
		free(u->contacts);
		free(u->display);
		free(u);
	}
	HASH_ITER(hh, h->rooms, r, rt) {
		HASH_DEL(h->rooms, r);
		free(r->online);
		free(r->topic);
		free(r);
	}
	hub_free_forgotten(h, UINT64_MAX);
	memset(h, 0, sizeof(*h));
}

struct user *hub_add_user(struct hub *h, int64_t id, const char *name)
{
	struct user *u = xcalloc(1, sizeof(*u));

	u->id = id;
	snprintf(u->name, sizeof(u->name), "%s", name);
	pier_name_key(name, u->key);
	HASH_ADD_STR(h->users, key, u);
	h->nusers++;
	h->lobby->members = h->nusers;
	return u;
}

void hub_set_display(struct user *u, const char *display)
{
	free(u->display);
	u->display = display != NULL && display[0] != '\0' ? xstrdup(display) : NULL;
}

void hub_set_topic(struct room *r, const char *topic, const char *by, int64_t ts)
{
	free(r->topic);
	r->topic = topic != NULL && topic[0] != '\0' ? xstrdup(topic) : NULL;
	snprintf(r->topic_by, sizeof(r->topic_by), "%s", r->topic != NULL && by != NULL ? by : "");
	r->topic_ts = r->topic != NULL ? ts : 0;
}

struct user *hub_find_user(struct hub *h, const char *name)
{
	char key[PIER_KEY_MAX];
	struct user *u;

	if (strlen(name) > PIER_NAME_MAX)
		return NULL;
	pier_name_key(name, key);
	HASH_FIND_STR(h->users, key, u);
	return u;
}

/* A room's member count went to 0 (or it came without members): the forgetting clock runs. */
static void empty_list_add(struct hub *h, struct room *r)
{
	if (r == h->lobby || r->listed)
		return;
	r->listed = true;
	r->empty_since_ms = pier_mono_ms();
	DL_APPEND2(h->empty, r, list_prev, list_next);
}

static void empty_list_remove(struct hub *h, struct room *r)
{
	if (!r->listed)
		return;
	r->listed = false;
	DL_DELETE2(h->empty, r, list_prev, list_next);
}

struct room *hub_add_room(struct hub *h, const char *name, int64_t members)
{
	struct room *r = xcalloc(1, sizeof(*r));

	snprintf(r->name, sizeof(r->name), "%s", name);
	pier_name_key(name, r->key);
	r->members = members;
	HASH_ADD_STR(h->rooms, key, r);
	if (h->lobby != NULL)
		h->nrooms++;
	if (members == 0 && h->lobby != NULL)
		empty_list_add(h, r);
	return r;
}

size_t hub_forget_rooms(struct hub *h, int64_t now_ms, int64_t after_ms, uint64_t *seq)
{
	size_t n = 0;

	*seq = h->forget_seq + 1;
	/* Oldest first: the walk stops at the first room not yet due. */
	while (h->empty != NULL && now_ms - h->empty->empty_since_ms >= after_ms) {
		struct room *r = h->empty;

		empty_list_remove(h, r);
		HASH_DEL(h->rooms, r);
		h->nrooms--;
		r->forget_seq = *seq;
		DL_APPEND2(h->forgotten, r, list_prev, list_next);
		n++;
	}
	if (n > 0)
		h->forget_seq = *seq;
	return n;
}

void hub_free_forgotten(struct hub *h, uint64_t seq)
{
	struct room *r, *tmp;

	DL_FOREACH_SAFE2(h->forgotten, r, tmp, list_next) {
		if (r->forget_seq > seq)
			break;
		DL_DELETE2(h->forgotten, r, list_prev, list_next);
		free(r->online);
		free(r->topic);
		free(r);
	}
}

struct room *hub_find_room(struct hub *h, const char *name)
{
	char key[PIER_KEY_MAX];
	struct room *r;

	if (strlen(name) > PIER_ROOM_MAX + 1)
		return NULL;
	pier_name_key(name, key);
	HASH_FIND_STR(h->rooms, key, r);
	return r;
}

bool hub_session_open(struct hub *h, struct user *u, struct conn *c)
{
	PUSH(u->sessions, u->nsessions, u->sessions_cap, c);
	if (u->nsessions > 1)
		return false;
	DL_APPEND2(h->online, u, online_prev, online_next);
	h->nonline++;
	for (size_t i = 0; i < u->nrooms; i++)
		PUSH(u->rooms[i]->online, u->rooms[i]->nonline, u->rooms[i]->online_cap, u);
	return true;
}

bool hub_session_close(struct hub *h, struct user *u, struct conn *c)
{
	if (!remove_ptr((void **)u->sessions, &u->nsessions, c) || u->nsessions > 0)
		return false;
	DL_DELETE2(h->online, u, online_prev, online_next);
	h->nonline--;
	for (size_t i = 0; i < u->nrooms; i++)
		remove_ptr((void **)u->rooms[i]->online, &u->rooms[i]->nonline, u);
	return true;
}

bool hub_has_contact(const struct user *u, const struct user *v)
{
	for (size_t i = 0; i < u->ncontacts; i++)
		if (u->contacts[i] == v)
			return true;
	return false;
}

void hub_add_contact(struct user *a, struct user *b)
{
	if (a == b)
		return;
	if (!hub_has_contact(a, b))
		PUSH(a->contacts, a->ncontacts, a->contacts_cap, b);
	if (!hub_has_contact(b, a))
		PUSH(b->contacts, b->ncontacts, b->contacts_cap, a);
}

void hub_load_user(struct hub *h, struct user *u, char *const *rooms, char *const *peers)
{
	for (size_t i = 0; rooms != NULL && rooms[i] != NULL; i++) {
		struct room *r = hub_find_room(h, rooms[i]);

		if (r == NULL)
			r = hub_add_room(h, rooms[i], 1);
		if (r != h->lobby && !hub_is_member(u, r))
			PUSH(u->rooms, u->nrooms, u->rooms_cap, r);
	}
	for (size_t i = 0; peers != NULL && peers[i] != NULL; i++) {
		struct user *v = hub_find_user(h, peers[i]);

		if (v != NULL)
			hub_add_contact(u, v);
	}
	u->rooms_loaded = true;
}

bool hub_is_member(const struct user *u, const struct room *r)
{
	for (size_t i = 0; i < u->nrooms; i++)
		if (u->rooms[i] == r)
			return true;
	return false;
}

void hub_join(struct hub *h, struct user *u, struct room *r)
{
	if (r == h->lobby || hub_is_member(u, r))
		return;
	PUSH(u->rooms, u->nrooms, u->rooms_cap, r);
	r->members++;
	empty_list_remove(h, r);
	if (u->nsessions > 0)
		PUSH(r->online, r->nonline, r->online_cap, u);
}

void hub_part(struct hub *h, struct user *u, struct room *r)
{
	if (r == h->lobby || !remove_ptr((void **)u->rooms, &u->nrooms, r))
		return;
	r->members--;
	remove_ptr((void **)r->online, &r->nonline, u);
	if (r->members <= 0)
		empty_list_add(h, r);
}

/* conn_send never closes a connection on the spot (see conn.h), so these loops may walk the
 * session and member arrays directly. */
void hub_send_user(struct user *u, struct sbuf *b, const struct conn *except)
{
	for (size_t i = 0; i < u->nsessions; i++)
		if (u->sessions[i] != except)
			conn_send(u->sessions[i], b);
}

void hub_send_room(struct hub *h, struct room *r, struct sbuf *b, const struct conn *except)
{
	if (r == h->lobby) {
		hub_send_all(h, b, NULL, except);
		return;
	}
	for (size_t i = 0; i < r->nonline; i++)
		hub_send_user(r->online[i], b, except);
}

unsigned hub_mark_round(struct hub *h)
{
	return ++h->mark_round;
}

void hub_send_room_split(struct hub *h, struct room *r, struct sbuf *b, struct sbuf *marked_b,
                         unsigned round, const struct conn *except)
{
	struct user *u;

	if (r == h->lobby) {
		DL_FOREACH2(h->online, u, online_next)
			hub_send_user(u, u->mark == round ? marked_b : b, except);
		return;
	}
	for (size_t i = 0; i < r->nonline; i++) {
		u = r->online[i];
		hub_send_user(u, u->mark == round ? marked_b : b, except);
	}
}

bool hub_presence_to_all(const struct hub *h)
{
	return h->presence_limit > 0 && h->nonline <= h->presence_limit;
}

/* Visits each online user sharing a room (not #lobby, not one past HUB_CONTACT_ROOM_MAX
 * members) or a private conversation with u, once. */
static void visit_contacts(struct hub *h, struct user *u, void (*fn)(void *ud, struct user *v),
                           void *ud)
{
	unsigned round = ++h->mark_round;

	u->mark = round;
	for (size_t i = 0; i < u->nrooms; i++) {
		struct room *r = u->rooms[i];

		if (r->members > HUB_CONTACT_ROOM_MAX)
			continue;
		for (size_t k = 0; k < r->nonline; k++) {
			struct user *v = r->online[k];

			if (v->mark != round) {
				v->mark = round;
				fn(ud, v);
			}
		}
	}
	for (size_t i = 0; i < u->ncontacts; i++) {
		struct user *v = u->contacts[i];

		if (v->nsessions > 0 && v->mark != round) {
			v->mark = round;
			fn(ud, v);
		}
	}
}

struct send_ctx {
	struct sbuf *b;
	size_t reached;
};

static void send_to(void *ud, struct user *v)
{
	struct send_ctx *ctx = ud;

	hub_send_user(v, ctx->b, NULL);
	ctx->reached++;
}

size_t hub_send_contacts(struct hub *h, struct user *u, struct sbuf *b)
{
	struct send_ctx ctx = {.b = b};

	visit_contacts(h, u, send_to, &ctx);
	return ctx.reached;
}

void hub_each_contact(struct hub *h, struct user *u, void (*fn)(void *ud, struct user *v),
                      void *ud)
{
	if (u->nsessions > 0)
		fn(ud, u);
	visit_contacts(h, u, fn, ud);
}

void hub_send_all(struct hub *h, struct sbuf *b, const struct user *except_user,
                  const struct conn *except)
{
	struct user *u;

	DL_FOREACH2(h->online, u, online_next)
		if (u != except_user)
			hub_send_user(u, b, except);
}
