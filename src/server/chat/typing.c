/* typing.c - typing indicators (typing.h).
 *
 * A typing request is told, as {"op":"typing","from","to"}, to the sessions of everyone else
 * who can see the conversation: the online members of the room, or the other user of a private
 * conversation. Nothing is stored and nothing answers a request that went through: a client
 * sends one every few seconds while its user types, and a reply each time would double that.
 *
 * Limits: the request bucket first (dispatch.c), then one indicator per user and conversation
 * per TYPING_INTERVAL_MS, also under --no-rate-limits (it is what an indicator means) (the user's HUB_TYPING_SLOTS most recent conversations are
 * remembered; an older one's slot is reused). In #lobby, indicators go out only in the all-presence
 * mode (hub_presence_to_all: --presence-limit N, at most N online): otherwise every keystroke
 * pause would cost every online session a line.
 */
#include "typing.h"

#include <stdio.h>

#include "chat.h"
#include "clock.h"
#include "conn.h"
#include "events.h"
#include "hub.h"
#include "remote.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"

/* Whether u may tell conv it types now; takes the slot when it may. */
static bool typing_allowed(struct user *u, const void *conv, int64_t now)
{
	struct typing_slot *oldest = &u->typing[0];

	for (size_t i = 0; i < HUB_TYPING_SLOTS; i++) {
		struct typing_slot *s = &u->typing[i];

		if (s->conv == conv) {
			if (now - s->at_ms < TYPING_INTERVAL_MS)
				return false;
			s->at_ms = now;
			return true;
		}
		if (s->conv == NULL || s->at_ms < oldest->at_ms)
			oldest = s;
	}
	oldest->conv = conv;
	oldest->at_ms = now;
	return true;
}

void handle_typing(struct conn *c, json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	struct hub *h = &srv->hub;
	struct user *u = c->user;
	const char *to = req_string(req, "to");
	struct room *room;
	struct user *peer;
	json_t *ev;
	struct sbuf *b;

	if (to == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "typing needs a string field to");
		return;
	}
	if (chat_target(c, ref, to, &room, &peer) != 0)
		return;
	if (room == h->lobby && !hub_presence_to_all(h))
		return;
	if (!typing_allowed(u, room != NULL ? (const void *)room : (const void *)peer, pier_mono_ms()))
		return;
	if (room != NULL) {
		ev = event_typing(u, room->name);
	} else {
		char target[PIER_NAME_MAX + 2];

		snprintf(target, sizeof(target), "@%s", peer->name);
		ev = event_typing(u, target);
	}
	remote_event(c->srv, CLUSTER_EV_TYPING, u->name,
	             json_string_value(json_object_get(ev, "to")), NULL, 0, 0, false);
	b = sbuf_from_json(ev);
	json_decref(ev);
	if (room == h->lobby) {
		hub_send_all(h, b, u, NULL);
	} else if (room != NULL) {
		for (size_t i = 0; i < room->nonline; i++)
			if (room->online[i] != u)
				hub_send_user(room->online[i], b, NULL);
	} else if (peer != u) {
		hub_send_user(peer, b, NULL);
	}
	sbuf_unref(b);
}
