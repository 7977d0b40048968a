/* test_hub_contacts.c - unit: who a user's presence reaches (hub_each_contact), and that it
 * is contacts only: private partners and members of shared rooms of at most
 * HUB_CONTACT_ROOM_MAX members, never #lobby, never a room past the bound, never everyone
 * online; and hub_presence_to_all's modes (--presence-limit 0 and N). Sessions are stand-in
 * pointers: the walk only counts them, nothing is sent. */
#include <stdio.h>
#include <string.h>

#include "hub.h"
#include "tap.h"

#define STRANGERS 50

struct visits {
	const struct user *seen[64];
	size_t n;
};

static void visit(void *ud, struct user *v)
{
	struct visits *vs = ud;

	if (vs->n < sizeof(vs->seen) / sizeof(vs->seen[0]))
		vs->seen[vs->n] = v;
	vs->n++;
}

static bool visited(const struct visits *vs, const struct user *u)
{
	for (size_t i = 0; i < vs->n && i < sizeof(vs->seen) / sizeof(vs->seen[0]); i++)
		if (vs->seen[i] == u)
			return true;
	return false;
}

/* Puts u online with one stand-in session (never dereferenced by the walk). */
static void online(struct hub *h, struct user *u, struct conn *fake)
{
	hub_load_user(h, u, NULL, NULL);
	hub_session_open(h, u, fake);
}

int main(void)
{
	struct hub h;
	struct user *me, *partner, *mate, *crowd_mate, *strangers[STRANGERS];
	struct room *small, *big;
	struct visits vs = {0};
	char name[32];
	struct conn *fake = (struct conn *)&vs;   /* a distinct non-NULL pointer */

	hub_init(&h);
	CHECK(h.presence_limit == 0, "the default is contacts only");
	me = hub_add_user(&h, 1, "me");
	partner = hub_add_user(&h, 2, "partner");
	mate = hub_add_user(&h, 3, "mate");
	crowd_mate = hub_add_user(&h, 4, "crowd_mate");
	for (int i = 0; i < STRANGERS; i++) {
		snprintf(name, sizeof(name), "stranger%d", i);
		strangers[i] = hub_add_user(&h, 10 + i, name);
		online(&h, strangers[i], fake);
	}
	online(&h, partner, fake);
	online(&h, mate, fake);
	online(&h, crowd_mate, fake);
	small = hub_add_room(&h, "#small", 0);
	big = hub_add_room(&h, "#big", 0);
	hub_load_user(&h, me, NULL, NULL);
	hub_add_contact(me, partner);
	hub_join(&h, me, small);
	hub_join(&h, mate, small);
	hub_join(&h, me, big);
	hub_join(&h, crowd_mate, big);
	big->members = HUB_CONTACT_ROOM_MAX + 1;   /* offline members count too */
	hub_session_open(&h, me, fake);

	hub_each_contact(&h, me, visit, &vs);
	CHECK(vs.n == 3, "me, its partner and its room-mate: %zu visited", vs.n);
	CHECK(visited(&vs, me) && visited(&vs, partner) && visited(&vs, mate),
	      "the partner and the small room's member are contacts");
	CHECK(!visited(&vs, crowd_mate), "a room past HUB_CONTACT_ROOM_MAX members makes no contact");
	for (int i = 0; i < STRANGERS; i++)
		CHECK(!visited(&vs, strangers[i]), "stranger %d (only #lobby in common) is none", i);

	big->members = HUB_CONTACT_ROOM_MAX;
	vs.n = 0;
	hub_each_contact(&h, me, visit, &vs);
	CHECK(vs.n == 4 && visited(&vs, crowd_mate), "at the bound the room counts: %zu", vs.n);

	CHECK(!hub_presence_to_all(&h), "limit 0: never presence to all (%zu online)", h.nonline);
	h.presence_limit = h.nonline;
	CHECK(hub_presence_to_all(&h), "limit N, N online: presence to all");
	h.presence_limit = h.nonline - 1;
	CHECK(!hub_presence_to_all(&h), "limit N, N + 1 online: contacts only");

	hub_release(&h);
	return tap_done();
}
