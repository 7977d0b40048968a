/* chat.c - sending messages and reading them back.
 *
 * A message is acknowledged (sent) and delivered (msg) only after the store committed it.
 * The store completes jobs in submission order, so deliveries leave in id order: every
 * session sees a conversation in the same order. The msg event (wire_msg.c, written without
 * a jansson tree; events.c builds the tree it equals) is encoded once and the same bytes are
 * queued on every recipient's connection; a private message goes to its recipient through
 * offline.c, which keeps the seen watermark.
 */
#include "chat.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cluster.h"
#include "conn.h"
#include "events.h"
#include "hub.h"
#include "media.h"
#include "offline.h"
#include "deferred.h"
#include "e2ee_chat.h"
#include "remote.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "wire_msg.h"

#define CID_MAX       64
#define PAGE_DEFAULT  50
#define PAGE_MAX      200

int chat_target(struct conn *c, json_t *ref, const char *to, struct room **room,
                struct user **peer)
{
	struct hub *h = &c->srv->hub;

	*room = NULL;
	*peer = NULL;
	if (to[0] == '#') {
		if (pier_room_check(to) != PIER_NAME_OK) {
			reply_error(c, ref, PIER_ERR_BAD_ROOM, "room names are '#' and 1-32 of letters, digits, '_', '-', '.'");
			return -1;
		}
		*room = hub_find_room(h, to);
		if (*room == NULL) {
			reply_error(c, ref, PIER_ERR_NO_SUCH_ROOM, "no such room");
			return -1;
		}
		if (*room != h->lobby && !hub_is_member(c->user, *room)) {
			reply_error(c, ref, PIER_ERR_NOT_MEMBER, "you are not in %s", (*room)->name);
			return -1;
		}
		return 0;
	}
	if (to[0] == '@') {
		*peer = hub_find_user(h, to + 1);
		if (*peer == NULL) {
			remote_lookup_user(c->srv, to + 1);   /* a cluster: registered elsewhere? */
			reply_error(c, ref, PIER_ERR_NO_SUCH_USER, "no such user");
			return -1;
		}
		return 0;
	}
	reply_error(c, ref, PIER_ERR_BAD_TARGET, "a target is \"#room\" or \"@user\"");
	return -1;
}

static void target_name(const struct deferred *d, char *out, size_t n)
{
	const char *name = d->room != NULL ? d->room->name : d->peer->name;
	size_t at = d->room != NULL ? 0 : 1, len = strlen(name);

	if (len > n - 1 - at)       /* names are shorter (PIER_KEY_MAX); cut rather than overrun */
		len = n - 1 - at;
	out[0] = '@';
	memcpy(out + at, name, len);
	out[at + len] = '\0';
}

/* Marks the online users m mentions (hub_mark_round); how many were marked. */
static size_t mark_mentioned(struct hub *h, const struct store_msg *m, unsigned round)
{
	json_t *list = event_mentions(m), *name;
	size_t i, n = 0;

	json_array_foreach(list, i, name) {
		struct user *u = hub_find_user(h, json_string_value(name));

		if (u != NULL && u->nsessions > 0) {
			u->mark = round;
			n++;
		}
	}
	json_decref(list);
	return n;
}

/* A room message to its room: mentioned users get a copy flagged "mentioned":true so that
 * their clients notify them (encoded once for all of them). */
static void deliver_room(struct server *srv, struct room *room, const struct store_msg *m,
                         struct sbuf *b, const struct conn *except)
{
	unsigned round = hub_mark_round(&srv->hub);
	struct sbuf *flagged;

	if (m->mentions == NULL || mark_mentioned(&srv->hub, m, round) == 0) {
		hub_send_room(&srv->hub, room, b, except);
		return;
	}
	flagged = wire_msg_mentioned(b);
	hub_send_room_split(&srv->hub, room, b, flagged, round, except);
	srv->metrics.deliveries += flagged->refs - 1;
	sbuf_unref(flagged);
}

/* chat_deliver_msg with the private message's two users when the caller has them (NULL:
 * found by name): the send path knows them, so its messages skip two look-ups. */
static void deliver_msg(struct server *srv, const struct store_msg *stored,
                        const struct conn *except, struct user *from, struct user *peer)
{
	struct hub *h = &srv->hub;
	struct store_msg m = *stored;
	struct sbuf *b;

	m.mentioned = false;        /* the reader's flag: not in the bytes everyone shares */
	/* Written straight into the shared buffer (wire_msg.h); the tree only for what the
	 * writer leaves to jansson (a string that is not UTF-8). */
	b = wire_msg_live_buf(h, stored);
	if (m.to[0] == '#') {
		struct room *room = hub_find_room(h, m.to);

		/* Not in the directory: forgotten for having no members, so nobody to tell. */
		if (room != NULL)
			deliver_room(srv, room, &m, b, except);
	} else {
		if (from == NULL)
			from = hub_find_user(h, m.from);
		if (peer == NULL)
			peer = hub_find_user(h, m.to + 1);
		if (from != NULL && peer != NULL)
			hub_add_contact(from, peer);
		if (m.e2ee) {
			e2ee_deliver_msg_event(from, peer, b, m.id, except);
		} else {
			if (peer != NULL)
				offline_deliver_private(peer, b, m.id, except, NULL);
			if (from != NULL && peer != from)
				hub_send_user(from, b, except);
		}
	}
	/* Every recipient's queue holds a reference until the next flush: they are counted. */
	srv->metrics.deliveries += b->refs - 1;
	sbuf_unref(b);
}

void chat_deliver_msg(struct server *srv, const struct store_msg *m, const struct conn *except)
{
	deliver_msg(srv, m, except, NULL, NULL);
}

static void deliver(struct server *srv, struct deferred *d, const char *to)
{
	const struct store_media *md = &d->job.media;
	struct store_msg plain = {
		.id = d->job.msg_id, .ts = d->job.ts, .from = d->user->name, .to = (char *)to,
		.text = (char *)d->job.text, .kind = (char *)d->job.kind, .media_id = d->job.media_id,
		.media_name = (char *)md->name, .media_type = (char *)md->type, .media_size = md->size,
		.media_width = md->width, .media_height = md->height,
	};
	/* With a quote or mentions the store read the message back: it says all. */
	struct store_msg *m = d->job.nmsgs == 1 ? &d->job.msgs[0] : &plain;

	srv->metrics.messages++;
	if (srv->cluster != NULL) {
		if (d->room == NULL)
			hub_add_contact(d->user, d->peer);
		/* In id order with every node's messages: through the sequencer (CLUSTER.md). */
		conn_ref(d->c);
		cluster_msg_stored(srv->cluster, m, d->c);
		return;
	}
	/* deliver_msg adds the contact of a private message */
	deliver_msg(srv, m, d->c, d->room == NULL ? d->user : NULL, d->room == NULL ? d->peer : NULL);
}

static void send_stored(struct store_job *job)
{
	struct deferred *d = job->data;
	struct server *srv = d->c->srv;
	char to[PIER_KEY_MAX + 1];
	struct sbuf *b;

	if (job->status == STORE_DENIED) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_NO_SUCH_MEDIA,
		                             "no such media, or not one you may send"));
		return;
	}
	if (job->status == STORE_BAD_REPLY) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_NO_SUCH_MESSAGE,
		                             "reply_to is no message of this conversation"));
		return;
	}
	if (job->status == STORE_RECALLED) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_MESSAGE_RECALLED,
		                             "the message to reply to was recalled"));
		return;
	}
	if (job->status == STORE_E2EE_REQUIRED) {
		/* The recipient has a device list, or the media is ciphertext. */
		deferred_finish(d, error_new(d->ref, PIER_ERR_E2EE_REQUIRED,
		                             "end-to-end encrypted: send with e2ee"));
		return;
	}
	if (job->status == STORE_CONFLICT) {
		/* Echoing the original as "sent" would claim a message stored at this target. */
		deferred_finish(d, error_new(d->ref, PIER_ERR_CID_CONFLICT,
		                             "that cid was used for a message to another target"));
		return;
	}
	if (job->status != STORE_OK && job->status != STORE_DUPLICATE) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "the message was not stored"));
		return;
	}
	target_name(d, to, sizeof(to));
	/* Written straight into its buffer (wire_msg.h); the tree only for what the writer
	 * leaves to jansson. Built before deliver, as the reply always was. */
	b = wire_sent(&srv->hub, d->ref, job, to);
	if (b == NULL) {
		json_t *r = wire_sent_json(&srv->hub, d->ref, job, to);

		b = sbuf_from_json(r);
		json_decref(r);
	}
	if (job->status != STORE_DUPLICATE)
		deliver(srv, d, to);
	deferred_finish_buf(d, b);
}

/* cid: absent, or a string of 1-CID_MAX bytes (bad: present and not a string). */
static int check_cid(struct conn *c, json_t *ref, bool bad, const char *cid, size_t len)
{
	if (bad || (cid != NULL && (len > CID_MAX || len == 0))) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "cid must be a string of 1-%d bytes", CID_MAX);
		return -1;
	}
	return 0;
}

void chat_send(struct conn *c, const struct chat_send_req *r, json_t *ref)
{
	const char *text = r->text;
	size_t text_len = r->text_len, bytes;
	int64_t media_id = 0;
	struct room *room;
	struct user *peer;
	struct deferred *d;

	if (r->media != 0) {
		if (r->media < 0) {
			reply_error(c, ref, PIER_ERR_BAD_REQUEST, "media must be the id of an uploaded file");
			return;
		}
		media_id = r->media;
		if (r->kind != NULL && !media_kind_valid(r->kind)) {
			reply_error(c, ref, PIER_ERR_BAD_REQUEST, "kind is image, video, audio or file");
			return;
		}
		if (text == NULL && !r->text_bad) {
			text = "";             /* a caption is optional */
			text_len = 0;
		}
	} else if (r->kind != NULL && strcmp(r->kind, "text") != 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "a kind other than text needs media");
		return;
	}
	if (r->to == NULL || text == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "send needs string fields to and text");
		return;
	}
	if (check_cid(c, ref, r->cid_bad, r->cid, r->cid_len) != 0)
		return;
	if (r->reply_to < 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "reply_to must be the id of a message");
		return;
	}
	/* JSON strings hold no NUL (jansson and fastreq refuse \u0000): len is strlen. */
	if (text_len == 0 && media_id == 0) {
		reply_error(c, ref, PIER_ERR_EMPTY_MESSAGE, "the message is empty");
		return;
	}
	if (text_len > c->srv->cfg.max_text) {
		reply_error(c, ref, PIER_ERR_MESSAGE_TOO_LONG, "the message is over %zu bytes",
		            c->srv->cfg.max_text);
		return;
	}
	if (chat_target(c, ref, r->to, &room, &peer) != 0)
		return;
	/* The job's strings are copied into d (one allocation): the request may be gone. */
	bytes = text_len + 1 + (r->kind != NULL ? strlen(r->kind) + 1 : 0) +
	        (r->cid != NULL ? r->cid_len + 1 : 0);
	d = deferred_new_sized(c, ref, STORE_APPEND, send_stored, bytes);
	deferred_set_target(d, room, peer);
	/* The sender is online, so its contacts are loaded: this is exact. */
	d->job.new_contact = peer != NULL && peer != c->user && !hub_has_contact(c->user, peer);
	d->job.text = deferred_copy(d, text, text_len);
	d->job.media_id = media_id;
	d->job.kind = r->kind != NULL ? deferred_copy(d, r->kind, strlen(r->kind)) : NULL;
	d->job.cid = r->cid != NULL ? deferred_copy(d, r->cid, r->cid_len) : NULL;
	d->job.reply_to = r->reply_to;
	d->job.ts = pier_now_ms();
	store_submit(c->srv->store, &d->job);
}

/* media or reply_to as struct chat_send_req has it: 0 absent or null, -1 bad, else the id. */
static int64_t send_id(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return 0;
	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : -1;
}

void handle_send(struct conn *c, json_t *req, json_t *ref)
{
	json_t *text = json_object_get(req, "text"), *cid = json_object_get(req, "cid");
	struct chat_send_req r = {
		.to = req_string(req, "to"),
		.text = json_string_value(text),
		.text_len = json_string_length(text),
		.text_bad = text != NULL && !json_is_null(text) && !json_is_string(text),
		.kind = req_string(req, "kind"),
		.cid = json_string_value(cid),
		.cid_len = json_string_length(cid),
		.cid_bad = cid != NULL && !json_is_string(cid),
		.media = send_id(json_object_get(req, "media")),
		.reply_to = send_id(json_object_get(req, "reply_to")),
	};

	if (json_object_get(req, "e2ee") != NULL) {
		e2ee_handle_send(c, req, ref);
		return;
	}
	chat_send(c, &r, ref);
}

static json_t *msgs_json(struct hub *h, const struct store_msg *msgs, size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *m = event_msg(h, &msgs[i]);

		json_object_del(m, "op");
		json_array_append_new(list, m);
	}
	return list;
}

static void page_read(struct store_job *job)
{
	struct deferred *d = job->data;
	struct hub *h = &d->c->srv->hub;
	json_t *r;
	char with[PIER_KEY_MAX + 1];

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "could not read messages"));
		return;
	}
	r = reply_new(job->op == STORE_HISTORY ? "history" : "sync", d->ref);
	if (job->op == STORE_HISTORY) {
		target_name(d, with, sizeof(with));
		json_object_set_new(r, "with", json_string(with));
	}
	json_object_set_new(r, "messages", msgs_json(h, job->msgs, job->nmsgs));
	json_object_set_new(r, "more", json_boolean(job->more));
	if (job->op == STORE_SYNC) {
		if (job->changes_after >= 0) {
			json_object_set_new(r, "changes", msgs_json(h, job->changes, job->nchanges));
			json_object_set_new(r, "changes_more", json_boolean(job->changes_more));
		}
		json_object_set_new(r, "change_seq", json_integer(job->change_seq));
	}
	deferred_finish(d, r);
}

int chat_check_cid(struct conn *c, json_t *ref, bool bad, const char *cid, size_t len)
{
	return check_cid(c, ref, bad, cid, len);
}

int chat_opt_int(struct conn *c, json_t *req, json_t *ref, const char *key, int64_t *out)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "%s must be a non-negative integer", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int page_limit(int64_t asked, int dflt)
{
	if (asked <= 0)
		return dflt;
	return asked > PAGE_MAX ? PAGE_MAX : (int)asked;
}

void handle_history(struct conn *c, json_t *req, json_t *ref)
{
	const char *with = req_string(req, "with");
	int64_t before = 0, limit = 0;
	struct room *room;
	struct user *peer;
	struct deferred *d;

	if (with == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "history needs a string field with");
		return;
	}
	if (chat_opt_int(c, req, ref, "before", &before) != 0 ||
	    chat_opt_int(c, req, ref, "limit", &limit) != 0)
		return;
	if (chat_target(c, ref, with, &room, &peer) != 0)
		return;
	d = deferred_new(c, req, ref, STORE_HISTORY, page_read);
	deferred_set_target(d, room, peer);
	d->job.before = before;
	d->job.limit = page_limit(limit, PAGE_DEFAULT);
	store_submit(c->srv->store, &d->job);
}

void handle_sync(struct conn *c, json_t *req, json_t *ref)
{
	int64_t after = 0, limit = 0, changes_after = -1;
	struct deferred *d;

	if (chat_opt_int(c, req, ref, "after", &after) != 0 ||
	    chat_opt_int(c, req, ref, "limit", &limit) != 0 ||
	    chat_opt_int(c, req, ref, "changes_after", &changes_after) != 0)
		return;
	d = deferred_new(c, req, ref, STORE_SYNC, page_read);
	d->job.after = after;
	d->job.changes_after = changes_after;
	d->job.limit = page_limit(limit, PAGE_MAX);
	store_submit(c->srv->store, &d->job);
}
