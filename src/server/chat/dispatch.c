/* dispatch.c - the op table and the checks every request passes before its handler.
 *
 * Two ways in: the hot shapes (send, plain or encrypted, and ping) decoded by fastreq.c
 * without a JSON tree, and every other line through json_loadb. Both meet the same checks (ref, login
 * state, rate bucket) in the same order; fastreq declines whatever it is not sure of, so the
 * JSON path is the only one that answers a malformed request. */
#include "dispatch.h"

#include <string.h>

#include "account.h"
#include "actions.h"
#include "auth.h"
#include "chat.h"
#include "clock.h"
#include "conn.h"
#include "e2ee_chat.h"
#include "fastreq.h"
#include "hub.h"
#include "profile.h"
#include "readstate.h"
#include "remote.h"
#include "reply.h"
#include "roominfo.h"
#include "rooms.h"
#include "search.h"
#include "server.h"
#include "typing.h"

#define REF_MAX 64

enum op_access { ANYTIME, LOGGED_OUT, LOGGED_IN };
enum op_bucket { NO_BUCKET, MSG_BUCKET, REQ_BUCKET };

struct op_entry {
	void (*handle)(struct conn *c, json_t *req, json_t *ref);
	enum op_access access;
	enum op_bucket bucket;
};

static void handle_ping(struct conn *c, json_t *req, json_t *ref)
{
	(void)req;
	conn_reply(c, reply_new("pong", ref));
}

/* Indexed by the op (protocol.h names them); every op has an entry. */
static const struct op_entry ops[PIER_OP_COUNT] = {
	[PIER_OP_SEND] = {handle_send, LOGGED_IN, MSG_BUCKET},
	[PIER_OP_PING] = {handle_ping, ANYTIME, NO_BUCKET},
	[PIER_OP_REGISTER] = {handle_register, LOGGED_OUT, NO_BUCKET},
	[PIER_OP_LOGIN] = {handle_login, LOGGED_OUT, NO_BUCKET},
	[PIER_OP_LOGOUT] = {handle_logout, LOGGED_IN, NO_BUCKET},
	[PIER_OP_LOGOUT_ALL] = {handle_logout_all, LOGGED_IN, NO_BUCKET},
	[PIER_OP_PASSWORD] = {handle_password, LOGGED_IN, NO_BUCKET},   /* login limits */
	[PIER_OP_JOIN] = {handle_join, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_PART] = {handle_part, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_ROOMS] = {handle_rooms, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_USERS] = {handle_users, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_HISTORY] = {handle_history, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_SYNC] = {handle_sync, LOGGED_IN, REQ_BUCKET},
	/* They change what others see, like a message: the message bucket. */
	[PIER_OP_RECALL] = {handle_recall, LOGGED_IN, MSG_BUCKET},
	[PIER_OP_EDIT] = {handle_edit, LOGGED_IN, MSG_BUCKET},
	[PIER_OP_REACT] = {handle_react, LOGGED_IN, MSG_BUCKET},
	[PIER_OP_READ] = {handle_read, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_UNREAD] = {handle_unread, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_TYPING] = {handle_typing, LOGGED_IN, REQ_BUCKET},    /* and 1 per 3 s per conversation */
	[PIER_OP_MEMBERS] = {handle_members, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_TOPIC] = {handle_topic, LOGGED_IN, MSG_BUCKET},      /* a write and a fan-out */
	[PIER_OP_PROFILE] = {handle_profile, LOGGED_IN, MSG_BUCKET},  /* and 1 per 10 s */
	[PIER_OP_SEARCH] = {handle_search, LOGGED_IN, REQ_BUCKET},
	/* End-to-end encryption (e2ee*.c). Keys claims one-time prekeys: the request bucket slows
	 * a drain. device_send and devices_publish write for others to read: messages. */
	[PIER_OP_DEVICE_REGISTER] = {handle_device_register, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_DEVICE_HELLO] = {handle_device_hello, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_DEVICES] = {handle_devices, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_DEVICES_PUBLISH] = {handle_devices_publish, LOGGED_IN, MSG_BUCKET},
	[PIER_OP_PREKEYS] = {handle_prekeys, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_KEYS] = {handle_keys, LOGGED_IN, REQ_BUCKET},
	[PIER_OP_DEVICE_SEND] = {handle_device_send, LOGGED_IN, MSG_BUCKET},
	[PIER_OP_ACK] = {handle_ack, LOGGED_IN, REQ_BUCKET},
};

static const struct op_entry *find_op(const char *name)
{
	enum pier_op op = pier_op_from_name(name);

	return op == PIER_OP_UNKNOWN || ops[op].handle == NULL ? NULL : &ops[op];
}

/* Takes a token from the op's bucket; answers rate_limited when there is none. The buckets
 * are the user's (only ops after login have one): every session of a user draws on them. */
static int take_token(struct conn *c, const struct op_entry *e, json_t *ref)
{
	const struct config *cfg = &c->srv->cfg;
	struct user *u = c->user;
	int64_t retry = 0, now = pier_mono_ms();
	bool ok = true;

	if (cfg->no_rate_limits || e->bucket == NO_BUCKET || u == NULL)
		return 0;
	if (!u->buckets_ready) {
		bucket_init(&u->msg_bucket, cfg->msg_burst, now);
		bucket_init(&u->req_bucket, cfg->req_burst, now);
		u->buckets_ready = true;
	}
	if (e->bucket == MSG_BUCKET)
		ok = bucket_take(&u->msg_bucket, cfg->msg_burst, cfg->msg_rate, now, &retry);
	else
		ok = bucket_take(&u->req_bucket, cfg->req_burst, cfg->req_rate, now, &retry);
	if (ok)
		return 0;
	json_t *err = error_new(ref, PIER_ERR_RATE_LIMITED, "too many requests; slow down");
	json_object_set_new(err, "retry_after_ms", json_integer(retry));
	conn_reply(c, err);
	return -1;
}

/* The op's login state: 0, or -1 after answering not_logged_in or already_logged_in. */
static int check_access(struct conn *c, const struct op_entry *e, json_t *ref)
{
	if (e->access == LOGGED_IN && c->user == NULL) {
		reply_error(c, ref, PIER_ERR_NOT_LOGGED_IN, "log in first");
		return -1;
	}
	if (e->access == LOGGED_OUT && c->user != NULL) {
		reply_error(c, ref, PIER_ERR_ALREADY_LOGGED_IN, "this connection is logged in already");
		return -1;
	}
	return 0;
}

/* A request fastreq decoded, through the checks the JSON path makes in the same order. False,
 * having done nothing, when it must take the JSON path after all: a ref over its limit (that
 * error is the JSON path's), or a send a cluster node would hold (remote_hold needs the tree;
 * the check here is broader than remote_hold's, which decides). */
static bool dispatch_fast(struct conn *c, const struct fastreq *fr)
{
	const struct op_entry *e = &ops[fr->op];
	json_t *ref = NULL;

	if (fr->ref.s != NULL && fr->ref.len > REF_MAX)
		return false;
	if (fr->op == PIER_OP_SEND && c->srv->cluster != NULL && fr->to.s != NULL &&
	    fr->to.s[0] == '@' && hub_find_user(&c->srv->hub, fr->to.s + 1) == NULL)
		return false;
	/* The replies echo ref as a json_t: made only when the request has one. */
	if (fr->ref.s != NULL)
		ref = json_stringn_nocheck(fr->ref.s, fr->ref.len);
	if (check_access(c, e, ref) == 0 && take_token(c, e, ref) == 0) {
		if (fr->op == PIER_OP_SEND && fr->e2ee) {
			struct e2ee_send_req r = {
				.to = fr->to.s, .payload = fr->payload, .keys = fr->keys,
				.nkeys = fr->nkeys, .cid = fr->cid.s, .cid_len = fr->cid.len,
				.media = fr->media, .reply_to = fr->reply_to,
			};

			e2ee_send(c, &r, ref);
		} else if (fr->op == PIER_OP_SEND) {
			struct chat_send_req r = {
				.to = fr->to.s, .text = fr->text.s, .text_len = fr->text.len,
				.cid = fr->cid.s, .cid_len = fr->cid.len, .media = fr->media,
				.reply_to = fr->reply_to,
			};

			chat_send(c, &r, ref);
		} else {
			handle_ping(c, NULL, ref);
		}
	}
	json_decref(ref);
	return true;
}

/* Any request: a jansson tree, then the op table. */
static void dispatch_json(struct conn *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr), *ref;
	const char *opname;
	const struct op_entry *e;

	if (req == NULL) {
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			reply_error(c, NULL, PIER_ERR_BAD_UTF8, "the request is not valid UTF-8");
		else
			reply_error(c, NULL, PIER_ERR_BAD_JSON, "not JSON: %s at column %d", jerr.text,
			            jerr.column);
		return;
	}
	if (!json_is_object(req)) {
		reply_error(c, NULL, PIER_ERR_BAD_JSON, "a request must be a JSON object");
		goto out;
	}
	ref = json_object_get(req, "ref");
	if (ref != NULL && (!json_is_string(ref) || json_string_length(ref) > REF_MAX)) {
		reply_error(c, NULL, PIER_ERR_BAD_REQUEST, "ref must be a string of at most %d bytes", REF_MAX);
		goto out;
	}
	opname = req_string(req, "op");
	if (opname == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "op missing or not a string");
		goto out;
	}
	e = find_op(opname);
	if (e == NULL) {
		reply_error(c, ref, PIER_ERR_UNKNOWN_OP, "unknown op");
		goto out;
	}
	if (check_access(c, e, ref) == 0 && take_token(c, e, ref) == 0 &&
	    !remote_hold(c, e->handle, req, ref))
		e->handle(c, req, ref);
out:
	json_decref(req);
}

void dispatch_line(struct conn *c, const char *line, size_t len)
{
	struct fastreq fr;

	if (fastreq_decode(line, len, &fr) && dispatch_fast(c, &fr))
		return;
	dispatch_json(c, line, len);
}
