/* profile.c - display names (profile.h): checked (display.c), stored, then told to those who
 * get the user's presence and to its other sessions.
 *
 * A display name is shown next to the login name, which stays the unique handle. Changing it
 * costs a message token and is allowed once per PROFILE_INTERVAL_MS, because every change is
 * a line to every online user (presence's audience) while few are online.
 */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn.h"
#include "deferred.h"
#include "events.h"
#include "hub.h"
#include "log.h"
#include "remote.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "store.h"

#define PROFILE_INTERVAL_MS 10000

/* Checks the "display" member of req for user self into out ("" when absent or null). On a
 * refusal answers and returns false. */
static bool check_display(struct conn *c, json_t *req, json_t *ref, const char *self, char *out)
{
	json_t *v = json_object_get(req, "display");
	enum display_verdict verdict;
	json_t *err;

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "display must be a string or null");
		return false;
	}
	if (json_string_length(v) == 0)
		return true;
	verdict = display_name_clean(c->srv->display, json_string_value(v), json_string_length(v),
	                             self, out);
	if (verdict == DISPLAY_OK)
		return true;
	err = error_new(ref, PIER_ERR_BAD_DISPLAY, "display names are 1-%d letters, marks, digits "
	                "and single spaces, in one script, not like another user's name (%s)",
	                DISPLAY_CHARS_MAX, display_reason(verdict));
	json_object_set_new(err, "reason", json_string(display_reason(verdict)));
	conn_reply(c, err);
	return false;
}

bool profile_check_register(struct conn *c, json_t *req, json_t *ref, const char *name,
                            char *out)
{
	return check_display(c, req, ref, name, out);
}

void profile_user_added(struct server *srv, const char *name)
{
	display_rules_add_user(srv->display, name);
}

/* The change is told to whoever gets u's presence (u's contacts, or everyone online in the
 * mode hub_presence_to_all says) and to u's other sessions. */
static void tell_profile(struct server *srv, struct user *u, const struct conn *except)
{
	json_t *ev = event_profile(u);
	struct sbuf *b = sbuf_from_json(ev);

	if (hub_presence_to_all(&srv->hub))
		hub_send_all(&srv->hub, b, u, NULL);
	else
		hub_send_contacts(&srv->hub, u, b);
	hub_send_user(u, b, except);
	sbuf_unref(b);
	json_decref(ev);
}

static void profile_stored(struct store_job *job)
{
	struct deferred *d = job->data;
	struct server *srv = d->c->srv;
	json_t *r;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not store the name"));
		return;
	}
	hub_set_display(d->user, job->display);
	log_info("%s is now shown as '%s'", d->user->name, d->user->display ? d->user->display : "");
	r = reply_new("profile", d->ref);
	json_object_set_new(r, "user", json_string(d->user->name));
	event_set_display(r, d->user);
	tell_profile(srv, d->user, d->c);
	remote_event(srv, CLUSTER_EV_PROFILE, d->user->name, NULL, d->user->display, 0, 0, false);
	deferred_finish(d, r);
}

void handle_profile(struct conn *c, json_t *req, json_t *ref)
{
	struct user *u = c->user;
	char display[DISPLAY_BYTES_MAX + 1];
	int64_t now = pier_mono_ms(), wait;
	struct deferred *d;

	if (json_object_get(req, "display") == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "profile needs display (a string, or null)");
		return;
	}
	if (!check_display(c, req, ref, u->name, display))
		return;
	wait = u->profile_at_ms != 0 ? u->profile_at_ms + PROFILE_INTERVAL_MS - now : 0;
	if (!c->srv->cfg.no_rate_limits && wait > 0) {
		json_t *err = error_new(ref, PIER_ERR_RATE_LIMITED,
		                        "one display name change per %d s", PROFILE_INTERVAL_MS / 1000);

		json_object_set_new(err, "retry_after_ms", json_integer(wait));
		conn_reply(c, err);
		return;
	}
	u->profile_at_ms = now;
	d = deferred_new(c, req, ref, STORE_SET_DISPLAY, profile_stored);
	if (display[0] != '\0') {
		d->keep = json_string(display);      /* the job's input lives as long as d */
		d->job.display = json_string_value(d->keep);
	}
	store_submit(c->srv->store, &d->job);
}

static void load_display(void *ud, const char *name, const char *display)
{
	struct server *srv = ud;
	struct user *u = hub_find_user(&srv->hub, name);

	if (u != NULL)
		hub_set_display(u, display);
}

static void load_topic(void *ud, const char *room, const char *topic, const char *by,
                       int64_t ts)
{
	struct server *srv = ud;
	struct room *r = hub_find_room(&srv->hub, room);

	if (r != NULL)
		hub_set_topic(r, topic, by, ts);
}

int profile_load(struct server *srv)
{
	struct user *u, *tmp;

	srv->display = display_rules_new();
	if (srv->display == NULL) {
		log_error("ICU's spoof checker could not be opened (display names)");
		return -1;
	}
	HASH_ITER(hh, srv->hub.users, u, tmp)
		display_rules_add_user(srv->display, u->name);
	if (store_each_display(srv->store, load_display, srv) != 0 ||
	    store_each_topic(srv->store, load_topic, srv) != 0) {
		log_error("cannot load display names and topics");
		return -1;
	}
	return 0;
}

void profile_unload(struct server *srv)
{
	display_rules_free(srv->display);
	srv->display = NULL;
}
