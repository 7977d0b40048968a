/* readstate.c - read positions and unread counts (readstate.h).
 *
 * The position is the store's (STORE_READ: only up, never past the conversation's newest
 * message); a move is told to the user's other sessions as a read event, so every device shows
 * the same unread counts. Which conversations a user may ask about is decided here, from the
 * hub: the rooms it is in now and #lobby, and the users it has a private conversation with
 * (chat_target refuses the rest), so no count leaks a room one is not in or another pair's chat.
 *
 * Unread counts go a page of conversations at a time (#lobby, the user's rooms by name, then
 * its private conversations by name), at most UNREAD_PAGE_MAX, each count capped at
 * UNREAD_CAP rows: one request reads at most UNREAD_PAGE_MAX * (UNREAD_CAP + 3) index entries.
 */
#include "readstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "conn.h"
#include "deferred.h"
#include "events.h"
#include "hub.h"
#include "remote.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "xalloc.h"

#define UNREAD_PAGE_MAX 100
#define UNREAD_CAP      1000    /* counts stop here: "capped" (a client shows "999+") */
#define WITH_MAX        (PIER_KEY_MAX + 2)

/* ---- read ---- */

static void with_name(const struct room *room, const struct user *peer, char out[WITH_MAX])
{
	if (room != NULL)
		snprintf(out, WITH_MAX, "%s", room->name);
	else
		snprintf(out, WITH_MAX, "@%s", peer->name);
}

static void read_stored(struct store_job *job)
{
	struct deferred *d = job->data;
	char with[WITH_MAX];
	json_t *r;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not store the position"));
		return;
	}
	with_name(d->room, d->peer, with);
	r = reply_new("read", d->ref);
	json_object_set_new(r, "with", json_string(with));
	json_object_set_new(r, "id", json_integer(job->read_id));
	if (job->moved) {
		json_t *ev = event_read(with, job->read_id);
		struct sbuf *b = sbuf_from_json(ev);

		hub_send_user(d->user, b, d->c);
		remote_event(d->c->srv, CLUSTER_EV_READ, d->user->name, with, NULL, job->read_id, 0,
		             false);
		sbuf_unref(b);
		json_decref(ev);
	}
	deferred_finish(d, r);
}

void handle_read(struct conn *c, json_t *req, json_t *ref)
{
	const char *with = req_string(req, "with");
	json_t *id = json_object_get(req, "id");
	struct room *room;
	struct user *peer;
	struct deferred *d;

	if (with == NULL || !json_is_integer(id) || json_integer_value(id) < 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "read needs with (a string) and id (an integer >= 0)");
		return;
	}
	if (chat_target(c, ref, with, &room, &peer) != 0)
		return;
	d = deferred_new(c, req, ref, STORE_READ, read_stored);
	deferred_set_target(d, room, peer);
	d->job.read_id = json_integer_value(id);
	store_submit(c->srv->store, &d->job);
}

/* ---- unread ---- */

/* The page's conversations and, right after them in the same block, their names: one
 * allocation, freed when the count is answered. */
static char (*page_names(struct store_conv *convs, size_t n))[WITH_MAX]
{
	return (char (*)[WITH_MAX])(void *)(convs + n);
}

static void unread_counted(struct store_job *job)
{
	struct deferred *d = job->data;
	char (*with)[WITH_MAX] = page_names(job->convs, job->nconvs);
	struct store_conv *convs = job->convs;
	json_t *r, *list;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not count"));
		free(convs);
		return;
	}
	list = json_array();
	for (size_t i = 0; i < job->nconvs; i++) {
		const struct store_conv *cv = &convs[i];
		json_t *o = json_pack("{s:s, s:I, s:I, s:I}", "with", with[i], "read",
		                      (json_int_t)cv->read_id, "unread", (json_int_t)cv->unread,
		                      "last", (json_int_t)cv->last_id);

		if (cv->unread >= UNREAD_CAP)
			json_object_set_new(o, "capped", json_true());
		json_array_append_new(list, o);
	}
	r = reply_new("unread", d->ref);
	json_object_set_new(r, "conversations", list);
	json_object_set_new(r, "more", json_boolean(d->flag));
	deferred_finish(d, r);
	free(convs);
}

static int by_room_key(const void *a, const void *b)
{
	return strcmp((*(struct room *const *)a)->key, (*(struct room *const *)b)->key);
}

static int by_user_key(const void *a, const void *b)
{
	return strcmp((*(struct user *const *)a)->key, (*(struct user *const *)b)->key);
}

/* The page: #lobby, the user's rooms by key, its private conversations by key; those after
 * the cursor (a "#room" or "@user" of the previous page), at most limit. */
void handle_unread(struct conn *c, json_t *req, json_t *ref)
{
	struct user *u = c->user;
	struct hub *h = &c->srv->hub;
	const char *after = req_string(req, "after");
	json_t *jlimit = json_object_get(req, "limit");
	json_int_t limit = UNREAD_PAGE_MAX;
	char key[PIER_KEY_MAX] = "";
	struct room **rooms;
	struct user **peers;
	struct store_conv *convs;
	char (*with)[WITH_MAX];
	size_t nr = u->nrooms, np = u->ncontacts, total, n = 0, k;
	struct deferred *d;
	bool lobby = after == NULL, more = false, after_lobby;

	if (jlimit != NULL && (!json_is_integer(jlimit) || json_integer_value(jlimit) < 1)) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "limit must be a positive integer");
		return;
	}
	if (jlimit != NULL && json_integer_value(jlimit) < UNREAD_PAGE_MAX)
		limit = json_integer_value(jlimit);
	if (after != NULL && ((after[0] != '#' && after[0] != '@') || strlen(after) > PIER_KEY_MAX)) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "after is a \"#room\" or \"@user\" of the last page");
		return;
	}
	if (after != NULL)
		pier_name_key(after[0] == '@' ? after + 1 : after, key);
	after_lobby = after != NULL && strcmp(key, h->lobby->key) == 0;
	rooms = xcalloc(nr + 1, sizeof(*rooms));
	peers = xcalloc(np + 1, sizeof(*peers));
	if (nr > 0)
		memcpy(rooms, u->rooms, nr * sizeof(*rooms));
	if (np > 0)
		memcpy(peers, u->contacts, np * sizeof(*peers));
	qsort(rooms, nr, sizeof(*rooms), by_room_key);
	qsort(peers, np, sizeof(*peers), by_user_key);
	total = (size_t)limit;
	convs = xcalloc(1, total * (sizeof(*convs) + WITH_MAX));
	with = page_names(convs, total);
	if (lobby) {
		convs[n].room = h->lobby->name;
		snprintf(with[n++], WITH_MAX, "%s", h->lobby->name);
	}
	for (k = 0; k < nr; k++) {
		if (after != NULL && !after_lobby && (after[0] == '@' || strcmp(rooms[k]->key, key) <= 0))
			continue;
		if (n == total) {
			more = true;
			break;
		}
		convs[n].room = rooms[k]->name;
		snprintf(with[n++], WITH_MAX, "%s", rooms[k]->name);
	}
	for (k = 0; k < np && !more; k++) {
		if (after != NULL && after[0] == '@' && strcmp(peers[k]->key, key) <= 0)
			continue;
		if (n == total) {
			more = true;
			break;
		}
		convs[n].peer_id = peers[k]->id;
		snprintf(with[n++], WITH_MAX, "@%s", peers[k]->name);
	}
	free(rooms);
	free(peers);
	/* The names stay after the n conversations: move them down next to the last one. */
	memmove(page_names(convs, n), with, n * WITH_MAX);
	d = deferred_new(c, req, ref, STORE_UNREAD, unread_counted);
	d->flag = more;
	d->job.convs = convs;
	d->job.nconvs = n;
	d->job.limit = UNREAD_CAP;
	store_submit(c->srv->store, &d->job);
}
