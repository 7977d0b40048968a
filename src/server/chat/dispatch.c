/* dispatch.c - the op table and the checks every request passes before its handler. */
#include "dispatch.h"

#include <string.h>

#include "account.h"
#include "actions.h"
#include "auth.h"
#include "chat.h"
#include "clock.h"
#include "conn.h"
#include "e2ee_chat.h"
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

void dispatch_line(struct conn *c, const char *line, size_t len)
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
	if (e->access == LOGGED_IN && c->user == NULL) {
		reply_error(c, ref, PIER_ERR_NOT_LOGGED_IN, "log in first");
		goto out;
	}
	if (e->access == LOGGED_OUT && c->user != NULL) {
		reply_error(c, ref, PIER_ERR_ALREADY_LOGGED_IN, "this connection is logged in already");
		goto out;
	}
	if (take_token(c, e, ref) == 0 && !remote_hold(c, e->handle, req, ref))
		e->handle(c, req, ref);
out:
	json_decref(req);
}
