/* actions.c - what happens to a message after it was sent: recall (撤回), edit, reactions.
 *
 * Each is a store job on a message the user may see (a member of its room, a party of its
 * private conversation): the store checks it, changes it, gives it the next change sequence
 * number and reads it back; then everyone online who can see it gets an event (encoded once,
 * shared), the asking session the reply. Someone who was offline learns the change with
 * sync's changes_after (docs/PROTOCOL.md, "Changes to messages").
 */
#include "actions.h"

#include <string.h>

#include "clock.h"
#include "conn.h"
#include "deferred.h"
#include "events.h"
#include "hub.h"
#include "msgrules.h"
#include "remote.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"

void actions_fan_out(struct server *srv, const struct store_msg *m, struct sbuf *b,
                     const struct conn *except)
{
	struct hub *h = &srv->hub;

	if (m->to[0] == '#') {
		struct room *r = hub_find_room(h, m->to);

		/* Not in the directory: forgotten for having no members, so nobody to tell. */
		if (r != NULL)
			hub_send_room(h, r, b, except);
	} else {
		struct user *from = hub_find_user(h, m->from), *to = hub_find_user(h, m->to + 1);

		if (from != NULL)
			hub_send_user(from, b, except);
		if (to != NULL && to != from)
			hub_send_user(to, b, except);
	}
}

/* Encodes ev (taken) once and fans it out to those who may see m. */
static void announce(struct deferred *d, const struct store_msg *m, json_t *ev)
{
	struct sbuf *b = sbuf_from_json(ev);

	json_decref(ev);
	actions_fan_out(d->c->srv, m, b, d->c);
	sbuf_unref(b);
}

/* The answer to a status the three ops share; NULL when the job succeeded. */
static json_t *common_error(struct deferred *d, enum store_status status)
{
	switch (status) {
	case STORE_OK:
		return NULL;
	case STORE_NOT_FOUND:
		return error_new(d->ref, PIER_ERR_NO_SUCH_MESSAGE,
		                 "no such message, or not one you can see");
	case STORE_NOT_OWN:
		return error_new(d->ref, PIER_ERR_NOT_OWN_MESSAGE, "that message is not yours");
	case STORE_RECALLED:
		return error_new(d->ref, PIER_ERR_MESSAGE_RECALLED, "that message was recalled");
	case STORE_E2EE_REQUIRED:
		return error_new(d->ref, PIER_ERR_E2EE_REQUIRED, "an encrypted message is edited by an "
		                 "encrypted edit payload, not by the server");
	default:
		return error_new(d->ref, PIER_ERR_STORE_FAILED, "the change was not stored");
	}
}

/* A reply {"op":op,"id","to","changed"} about m. */
static json_t *change_reply(struct deferred *d, const char *op, const struct store_msg *m)
{
	json_t *r = reply_new(op, d->ref);

	json_object_set_new(r, "id", json_integer(m->id));
	json_object_set_new(r, "to", json_string(m->to));
	json_object_set_new(r, "changed", json_integer(m->changed));
	return r;
}

/* The message id of req, or 0 (answered bad_request) when it is not a positive integer. */
static int64_t message_id(struct conn *c, json_t *req, json_t *ref)
{
	json_t *id = json_object_get(req, "id");

	if (!json_is_integer(id) || json_integer_value(id) <= 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "id must be the id of a message");
		return 0;
	}
	return json_integer_value(id);
}

/* ---- recall ---- */

static void recalled(struct store_job *job)
{
	struct deferred *d = job->data;
	const struct server *srv = d->c->srv;
	json_t *r;

	if (job->status == STORE_TOO_LATE) {
		r = error_new(d->ref, PIER_ERR_RECALL_EXPIRED,
		              "messages can be recalled for %.0f s after they were sent",
		              srv->cfg.recall_window);
		json_object_set_new(r, "window_s", json_real(srv->cfg.recall_window));
		deferred_finish(d, r);
		return;
	}
	r = common_error(d, job->status);
	if (r != NULL) {
		deferred_finish(d, r);
		return;
	}
	if (job->already) {
		r = reply_new("recall", d->ref);
		json_object_set_new(r, "id", json_integer(job->msg_id));
		json_object_set_new(r, "already", json_true());
		deferred_finish(d, r);
		return;
	}
	announce(d, &job->msgs[0], event_recalled(&d->c->srv->hub, &job->msgs[0]));
	remote_change(d->c->srv, CLUSTER_RECALLED, &job->msgs[0], NULL, NULL, false, 0);
	deferred_finish(d, change_reply(d, "recall", &job->msgs[0]));
}

void handle_recall(struct conn *c, json_t *req, json_t *ref)
{
	const struct config *cfg = &c->srv->cfg;
	int64_t id = message_id(c, req, ref);
	struct deferred *d;

	if (id == 0)
		return;
	if (cfg->recall_window <= 0) {
		reply_error(c, ref, PIER_ERR_RECALL_EXPIRED, "recalling messages is turned off here");
		return;
	}
	d = deferred_new(c, req, ref, STORE_RECALL, recalled);
	d->job.msg_id = id;
	d->job.ts = pier_now_ms();
	d->job.window_ms = (int64_t)(cfg->recall_window * 1000.0);
	store_submit(c->srv->store, &d->job);
}

/* ---- edit ---- */

static void edited(struct store_job *job)
{
	struct deferred *d = job->data;
	const struct store_msg *m;
	json_t *r, *mentions;

	if (job->status == STORE_EMPTY) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_EMPTY_MESSAGE,
		                             "a message without a file needs text"));
		return;
	}
	r = common_error(d, job->status);
	if (r != NULL) {
		deferred_finish(d, r);
		return;
	}
	m = &job->msgs[0];
	announce(d, m, event_edited(&d->c->srv->hub, m));
	remote_change(d->c->srv, CLUSTER_EDITED, m, NULL, NULL, false, 0);
	r = change_reply(d, "edit", m);
	json_object_set_new(r, "edited", json_integer(m->edited));
	mentions = event_mentions(m);
	if (mentions != NULL)
		json_object_set_new(r, "mentions", mentions);
	deferred_finish(d, r);
}

void handle_edit(struct conn *c, json_t *req, json_t *ref)
{
	const char *text = req_string(req, "text");
	int64_t id = message_id(c, req, ref);
	struct deferred *d;

	if (id == 0)
		return;
	if (text == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "edit needs a string field text");
		return;
	}
	/* Empty text is for captions: the store knows whether the message has a file. */
	if (strlen(text) > c->srv->cfg.max_text) {
		reply_error(c, ref, PIER_ERR_MESSAGE_TOO_LONG, "the message is over %zu bytes",
		            c->srv->cfg.max_text);
		return;
	}
	d = deferred_new(c, req, ref, STORE_EDIT, edited);
	d->job.msg_id = id;
	d->job.text = text;
	d->job.ts = pier_now_ms();
	store_submit(c->srv->store, &d->job);
}

/* ---- reactions ---- */

static void reacted(struct store_job *job)
{
	struct deferred *d = job->data;
	json_t *r;

	if (job->status == STORE_LIMIT) {
		r = error_new(d->ref, PIER_ERR_TOO_MANY_REACTIONS,
		              "a message has at most %d different reactions", ACTIONS_REACTIONS_MAX);
		json_object_set_new(r, "limit", json_integer(ACTIONS_REACTIONS_MAX));
		deferred_finish(d, r);
		return;
	}
	r = common_error(d, job->status);
	if (r != NULL) {
		deferred_finish(d, r);
		return;
	}
	if (job->already) {
		r = reply_new("react", d->ref);
		json_object_set_new(r, "id", json_integer(job->msg_id));
		json_object_set_new(r, "already", json_true());
	} else {
		announce(d, &job->msgs[0], event_reaction(&job->msgs[0], d->user, job->emoji,
		                                          job->on, job->count));
		remote_change(d->c->srv, CLUSTER_REACTION, &job->msgs[0], d->user->name, job->emoji,
		              job->on, job->count);
		r = change_reply(d, "react", &job->msgs[0]);
	}
	json_object_set_new(r, "emoji", json_string(job->emoji));
	json_object_set_new(r, "on", json_boolean(job->on));
	json_object_set_new(r, "count", json_integer(job->count));
	deferred_finish(d, r);
}

void handle_react(struct conn *c, json_t *req, json_t *ref)
{
	const char *emoji = req_string(req, "emoji");
	json_t *on = json_object_get(req, "on");
	int64_t id = message_id(c, req, ref);
	struct deferred *d;

	if (id == 0)
		return;
	if (on != NULL && !json_is_boolean(on)) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "on must be true or false");
		return;
	}
	if (emoji == NULL || !pier_reaction_check(emoji)) {
		reply_error(c, ref, PIER_ERR_BAD_EMOJI,
		            "a reaction is one short emoji: 1-%d bytes, no spaces or control characters",
		            PIER_REACTION_MAX_BYTES);
		return;
	}
	d = deferred_new(c, req, ref, STORE_REACT, reacted);
	d->job.msg_id = id;
	d->job.emoji = emoji;
	d->job.on = on == NULL || json_is_true(on);
	d->job.ts = pier_now_ms();
	d->job.max_reactions = ACTIONS_REACTIONS_MAX;
	store_submit(c->srv->store, &d->job);
}
