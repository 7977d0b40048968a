/* auth.c - accounts and sessions.
 *
 * Password hashing and checking (argon2id, libsodium) run on libuv's thread pool; reads and
 * writes go through the store thread. While a register or login is in progress the connection
 * is paused, so the requests after it see its outcome.
 *
 * Offline delivery (the backlog at login, the seen watermark) is offline.c's.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "conn.h"
#include "events.h"
#include "log.h"
#include "names.h"
#include "offline.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "store.h"
#include "xalloc.h"

#define TOKEN_BYTES 32
#define TOKEN_TEXT  64           /* base64url of 32 bytes is 43 characters */

enum auth_kind { AUTH_REGISTER, AUTH_LOGIN, AUTH_TOKEN };

/* One register or login in progress. Holds a reference on its connection. */
struct auth_op {
	enum auth_kind kind;
	struct conn *c;
	struct reply_slot *slot;
	json_t *ref;
	uv_work_t work;
	char name[PIER_NAME_MAX + 1];
	char *password;              /* wiped and freed as soon as hashed or checked */
	char hash[crypto_pwhash_STRBYTES];
	bool weak;
	bool ok;                     /* work result */
	struct user *user;
	char token[TOKEN_TEXT];
	struct store_job job;
};

static struct auth_op *auth_op_new(struct conn *c, enum auth_kind kind, json_t *ref)
{
	struct auth_op *op = xcalloc(1, sizeof(*op));

	op->kind = kind;
	op->c = c;
	op->ref = ref ? json_incref(ref) : NULL;
	op->weak = c->srv->cfg.weak_password_hash;
	op->work.data = op;
	op->job.data = op;
	conn_ref(c);
	conn_pause(c);
	op->slot = conn_slot_open(c);
	return op;
}

static void wipe_password(struct auth_op *op)
{
	if (op->password != NULL) {
		sodium_memzero(op->password, strlen(op->password));
		free(op->password);
		op->password = NULL;
	}
}

/* Frees op (its reply slot filled already) and lets the connection read on. */
static void auth_op_free(struct auth_op *op)
{
	struct conn *c = op->c;

	wipe_password(op);
	store_job_release(&op->job);
	json_decref(op->ref);
	free(op);
	conn_resume(c);
	conn_unref(c);
}

/* Answers (takes reply) and frees op. */
static void auth_op_finish(struct auth_op *op, json_t *reply)
{
	conn_slot_fill(op->c, op->slot, reply);
	auth_op_free(op);
}

static json_t *status_reply(const char *op, json_t *ref, int status, enum pier_error error,
                            const char *message)
{
	json_t *r = reply_new(op, ref);

	json_object_set_new(r, "status", json_integer(status));
	if (error != PIER_ERR_NONE)
		json_object_set_new(r, "error", json_string(pier_error_name(error)));
	if (message != NULL)
		json_object_set_new(r, "message", json_string(message));
	return r;
}

/* ---- register ---- */

static void hash_work(uv_work_t *w)
{
	struct auth_op *op = w->data;
	unsigned long long ops = op->weak ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
	size_t mem = op->weak ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;

	op->ok = crypto_pwhash_str(op->hash, op->password, strlen(op->password), ops, mem) == 0;
}

static void register_stored(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct server *srv = op->c->srv;
	json_t *r;

	switch (job->status) {
	case STORE_OK:
		hub_add_user(&srv->hub, job->user_id, op->name);
		log_info("registered %s from %s", op->name, op->c->addr);
		r = status_reply("register", op->ref, 3, PIER_ERR_NONE, NULL);
		json_object_set_new(r, "user", json_string(op->name));
		break;
	case STORE_EXISTS:
		r = status_reply("register", op->ref, 2, PIER_ERR_NAME_TAKEN, "that name is taken");
		break;
	default:
		r = error_new(op->ref, PIER_ERR_STORE_FAILED, "could not store the account; try again");
		break;
	}
	auth_op_finish(op, r);
}

static void hash_done(uv_work_t *w, int status)
{
	struct auth_op *op = w->data;
	struct server *srv = op->c->srv;

	srv->hash_jobs--;
	wipe_password(op);
	if (status != 0 || !op->ok || op->c->closing) {
		auth_op_finish(op, error_new(op->ref, PIER_ERR_INTERNAL, "password hashing failed"));
		return;
	}
	store_job_init(&op->job, STORE_CREATE_USER);
	op->job.data = op;
	op->job.name = op->name;
	op->job.pw_hash = op->hash;
	op->job.done = register_stored;
	store_submit(srv->store, &op->job);
}

/* Refuses when the thread pool already has its fill of password work. */
static int hash_slot_free(struct conn *c, json_t *ref)
{
	if (c->srv->hash_jobs < c->srv->cfg.max_hash_jobs)
		return 1;
	reply_error(c, ref, PIER_ERR_BUSY, "the server is busy checking passwords; try again shortly");
	return 0;
}

void handle_register(struct conn *c, json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	const char *user = req_string(req, "user"), *pw = req_string(req, "password");
	enum pier_name_check nc, pc;
	struct limit_entry *e;
	struct auth_op *op;
	int64_t retry = 0;

	if (user == NULL || pw == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "register needs string fields user and password");
		return;
	}
	nc = pier_name_check(user);
	pc = pier_password_check(pw);
	if (nc == PIER_NAME_TOO_SHORT || pc == PIER_NAME_TOO_SHORT) {
		conn_reply(c, status_reply("register", ref, 4, PIER_ERR_TOO_SHORT,
		                           "name and password need at least 6 characters"));
		return;
	}
	if (nc != PIER_NAME_OK) {
		conn_reply(c, status_reply("register", ref, 5, PIER_ERR_BAD_NAME,
		                           "names are 6-32 of letters, digits, '_', '-' and '.'"));
		return;
	}
	if (pc != PIER_NAME_OK) {
		conn_reply(c, status_reply("register", ref, 5, PIER_ERR_BAD_PASSWORD,
		                           "passwords are at most 1024 bytes"));
		return;
	}
	e = limit_get(srv->addr_limits, c->addr, srv->cfg.addr_fail_burst, srv->cfg.register_burst,
	              pier_mono_ms());
	if (!srv->cfg.no_rate_limits &&
	    !bucket_take(limit_bucket_b(e), srv->cfg.register_burst, 1.0 / srv->cfg.register_interval,
	                 pier_mono_ms(), &retry)) {
		json_t *err = error_new(ref, PIER_ERR_RATE_LIMITED, "too many registrations from your address");

		json_object_set_new(err, "retry_after_ms", json_integer(retry));
		conn_reply(c, err);
		return;
	}
	if (!hash_slot_free(c, ref))
		return;
	op = auth_op_new(c, AUTH_REGISTER, ref);
	snprintf(op->name, sizeof(op->name), "%s", user);
	op->password = xstrdup(pw);
	srv->hash_jobs++;
	uv_queue_work(srv->loop, &op->work, hash_work, hash_done);
}

/* ---- sessions ---- */

/* Presence goes to everyone while few are online. Past hub.presence_limit, a login would
 * cost every online session a line (N squared for N logins), so it goes only to those who
 * share a room besides #lobby or a private conversation with the user (docs/PROTOCOL.md). */
static void broadcast_presence(struct server *srv, struct user *u, bool online)
{
	json_t *ev = event_presence(u, online);
	struct sbuf *b = sbuf_from_json(ev);

	if (srv->hub.nonline <= srv->hub.presence_limit)
		hub_send_all(&srv->hub, b, u, NULL);
	else
		hub_send_contacts(&srv->hub, u, b);
	sbuf_unref(b);
	json_decref(ev);
}

/* The login completed: attach the session, answer, and tell everyone who should know. */
static void session_start(struct auth_op *op, char *const *rooms, char *const *peers)
{
	struct conn *c = op->c;
	struct server *srv = c->srv;
	struct user *u = op->user;
	json_t *r, *list;
	bool first;

	if (!u->rooms_loaded)
		hub_load_user(&srv->hub, u, rooms, peers);
	c->user = u;
	first = hub_session_open(&srv->hub, u, c);
	srv->metrics.logins++;
	log_info("login %s from %s (%zu sessions)", u->name, c->addr, u->nsessions);

	r = status_reply("login", op->ref, 1, PIER_ERR_NONE, NULL);
	json_object_set_new(r, "user", json_string(u->name));
	json_object_set_new(r, "token", json_string(op->token));
	list = json_array();
	json_array_append_new(list, json_string(srv->hub.lobby->name));
	for (size_t i = 0; i < u->nrooms; i++)
		json_array_append_new(list, json_string(u->rooms[i]->name));
	json_object_set_new(r, "rooms", list);
	conn_slot_fill(c, op->slot, r);
	conn_send_json(c, event_users_login(&srv->hub, u));
	if (first) {
		broadcast_presence(srv, u, true);
		offline_start(srv, u, c);
	}
}

static void login_stored(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct conn *c = op->c;

	if (job->status != STORE_OK) {
		auth_op_finish(op, error_new(op->ref, PIER_ERR_STORE_FAILED, "could not start the session"));
		return;
	}
	if (c->closing) {
		auth_op_finish(op, reply_new("login", op->ref));
		return;
	}
	memcpy(c->token_hash, job->token_hash, STORE_TOKEN_HASH_LEN);
	session_start(op, job->rooms, job->peers);
	auth_op_free(op);
}

/* Counts a failed login against the address and, when known, the account. */
static void note_failure(struct server *srv, struct conn *c, const char *name)
{
	int64_t now = pier_mono_ms();
	struct limit_entry *e;

	log_warn("login failed for '%s' from %s", name, c->addr);
	e = limit_get(srv->addr_limits, c->addr, srv->cfg.addr_fail_burst, srv->cfg.register_burst, now);
	bucket_take(limit_bucket_a(e), srv->cfg.addr_fail_burst, 1.0 / srv->cfg.addr_fail_interval,
	            now, NULL);
	if (name[0] != '\0') {
		char key[PIER_KEY_MAX];

		pier_name_key(name, key);
		e = limit_get(srv->account_limits, key, srv->cfg.login_fail_burst, 1, now);
		bucket_take(limit_bucket_a(e), srv->cfg.login_fail_burst,
		            1.0 / srv->cfg.login_fail_interval, now, NULL);
	}
}

/* 0 when a login attempt may go on; otherwise answers rate_limited and returns -1. */
static int check_login_limits(struct conn *c, const char *name, json_t *ref)
{
	struct server *srv = c->srv;
	int64_t now = pier_mono_ms(), retry = 0;
	struct limit_entry *e;
	bool ok;

	if (srv->cfg.no_rate_limits)
		return 0;
	e = limit_get(srv->addr_limits, c->addr, srv->cfg.addr_fail_burst, srv->cfg.register_burst, now);
	ok = bucket_has(limit_bucket_a(e), srv->cfg.addr_fail_burst,
	                1.0 / srv->cfg.addr_fail_interval, now, &retry);
	if (ok && name != NULL) {
		char key[PIER_KEY_MAX];

		pier_name_key(name, key);
		e = limit_get(srv->account_limits, key, srv->cfg.login_fail_burst, 1, now);
		ok = bucket_has(limit_bucket_a(e), srv->cfg.login_fail_burst,
		                1.0 / srv->cfg.login_fail_interval, now, &retry);
	}
	if (ok)
		return 0;
	json_t *err = error_new(ref, PIER_ERR_RATE_LIMITED, "too many failed logins; wait and try again");
	json_object_set_new(err, "retry_after_ms", json_integer(retry));
	conn_reply(c, err);
	return -1;
}

static void make_token(struct auth_op *op)
{
	unsigned char raw[TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(op->token, sizeof(op->token), raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static void hash_token(const char *token, unsigned char out[STORE_TOKEN_HASH_LEN])
{
	crypto_generichash(out, STORE_TOKEN_HASH_LEN, (const unsigned char *)token, strlen(token),
	                   NULL, 0);
}

void auth_token_hash(const char *token, unsigned char out[32])
{
	_Static_assert(STORE_TOKEN_HASH_LEN == 32, "auth_token_hash's size");
	_Static_assert(AUTH_TOKEN_MAX + 1 == TOKEN_TEXT, "AUTH_TOKEN_MAX");
	hash_token(token, out);
}

static void submit_login(struct auth_op *op)
{
	struct server *srv = op->c->srv;

	store_job_release(&op->job);
	store_job_init(&op->job, STORE_LOGIN);
	op->job.data = op;
	op->job.user_id = op->user->id;
	hash_token(op->token, op->job.token_hash);
	op->job.done = login_stored;
	store_submit(srv->store, &op->job);
}

static void verify_work(uv_work_t *w)
{
	struct auth_op *op = w->data;

	op->ok = crypto_pwhash_str_verify(op->hash, op->password, strlen(op->password)) == 0;
}

static void verify_done(uv_work_t *w, int status)
{
	struct auth_op *op = w->data;
	struct server *srv = op->c->srv;

	srv->hash_jobs--;
	wipe_password(op);
	sodium_memzero(op->hash, sizeof(op->hash));
	if (status != 0 || op->c->closing) {
		auth_op_finish(op, reply_new("login", op->ref));
		return;
	}
	if (!op->ok) {
		note_failure(srv, op->c, op->name);
		auth_op_finish(op, status_reply("login", op->ref, -1, PIER_ERR_WRONG_PASSWORD,
		                                "wrong password"));
		return;
	}
	make_token(op);
	submit_login(op);
}

static void user_loaded(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct server *srv = op->c->srv;

	if (job->status == STORE_NOT_FOUND) {
		note_failure(srv, op->c, op->name);
		auth_op_finish(op, status_reply("login", op->ref, 0, PIER_ERR_NO_SUCH_USER, "no such user"));
		return;
	}
	if (job->status != STORE_OK || job->pw_hash_out == NULL ||
	    strlen(job->pw_hash_out) >= sizeof(op->hash)) {
		auth_op_finish(op, error_new(op->ref, PIER_ERR_STORE_FAILED, "could not read the account"));
		return;
	}
	snprintf(op->hash, sizeof(op->hash), "%s", job->pw_hash_out);
	srv->hash_jobs++;
	uv_queue_work(srv->loop, &op->work, verify_work, verify_done);
}

static void token_loaded(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct server *srv = op->c->srv;

	op->user = job->status == STORE_OK ? hub_find_user(&srv->hub, job->user_name) : NULL;
	if (op->user == NULL) {
		note_failure(srv, op->c, "");
		auth_op_finish(op, status_reply("login", op->ref, -1, PIER_ERR_BAD_TOKEN,
		                                "unknown or revoked token"));
		return;
	}
	submit_login(op);
}

void handle_login(struct conn *c, json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	const char *user = req_string(req, "user"), *pw = req_string(req, "password");
	const char *token = req_string(req, "token");
	struct auth_op *op;

	if (token != NULL) {
		if (check_login_limits(c, NULL, ref) != 0)
			return;
		if (strlen(token) >= TOKEN_TEXT) {
			note_failure(srv, c, "");
			conn_reply(c, status_reply("login", ref, -1, PIER_ERR_BAD_TOKEN, "unknown or revoked token"));
			return;
		}
		op = auth_op_new(c, AUTH_TOKEN, ref);
		snprintf(op->token, sizeof(op->token), "%s", token);
		store_job_init(&op->job, STORE_TOKEN_USER);
		op->job.data = op;
		hash_token(token, op->job.token_hash);
		op->job.done = token_loaded;
		store_submit(srv->store, &op->job);
		return;
	}
	if (user == NULL || pw == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "login needs user and password, or token");
		return;
	}
	if (check_login_limits(c, pier_name_check(user) == PIER_NAME_OK ? user : NULL, ref) != 0)
		return;
	if (pier_name_check(user) != PIER_NAME_OK || hub_find_user(&srv->hub, user) == NULL) {
		note_failure(srv, c, pier_name_check(user) == PIER_NAME_OK ? user : "");
		conn_reply(c, status_reply("login", ref, 0, PIER_ERR_NO_SUCH_USER, "no such user"));
		return;
	}
	if (!hash_slot_free(c, ref))
		return;
	op = auth_op_new(c, AUTH_LOGIN, ref);
	op->user = hub_find_user(&srv->hub, user);
	snprintf(op->name, sizeof(op->name), "%s", op->user->name);
	op->password = xstrdup(pw);
	store_job_init(&op->job, STORE_GET_USER);
	op->job.data = op;
	op->job.name = op->name;
	op->job.done = user_loaded;
	store_submit(srv->store, &op->job);
}

/* ---- logout and session end ---- */

static void token_deleted(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct conn *c = op->c;

	conn_slot_fill(c, op->slot, reply_new("logout", op->ref));
	conn_close(c, PIER_ERR_NONE, NULL);
	auth_op_free(op);
}

void handle_logout(struct conn *c, json_t *req, json_t *ref)
{
	struct auth_op *op = auth_op_new(c, AUTH_LOGIN, ref);

	(void)req;
	store_job_init(&op->job, STORE_DELETE_TOKEN);
	op->job.data = op;
	memcpy(op->job.token_hash, c->token_hash, STORE_TOKEN_HASH_LEN);
	op->job.done = token_deleted;
	store_submit(c->srv->store, &op->job);
}

void session_end(struct conn *c)
{
	struct server *srv = c->srv;
	struct user *u = c->user;

	offline_session_leave(srv, u, c);
	c->user = NULL;
	if (!hub_session_close(&srv->hub, u, c))
		return;
	log_info("offline %s", u->name);
	broadcast_presence(srv, u, false);
	offline_user_gone(srv, u);
}
