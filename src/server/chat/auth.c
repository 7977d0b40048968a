/* auth.c - accounts and sessions: register, login (password or token), the start and end of
 * a session; and what account.c shares with it (the op in progress, the login limits).
 *
 * Password hashing and checking (argon2id) run on pwhash.c's threads; a request holds one of
 * their slots from before any work (loading the user) until its answer. Reads and writes go
 * through the store thread. While a register or login is in progress the connection is
 * paused, so the requests after it see its outcome.
 *
 * Limits are taken before the work: a login takes a failed-login token (per address and per
 * account) and a password-login token before the user is even loaded, and gets the failed-login
 * one back only when it succeeds, so parallel guesses see each other (docs/SECURITY.md).
 *
 * Offline delivery (the backlog at login, the seen watermark) is offline.c's.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "account.h"
#include "auth_internal.h"
#include "clock.h"
#include "conn.h"
#include "e2ee_chat.h"
#include "events.h"
#include "log.h"
#include "names.h"
#include "offline.h"
#include "profile.h"
#include "ratelimit.h"
#include "remote.h"
#include "reply.h"
#include "sbuf.h"
#include "server.h"
#include "store.h"
#include "xalloc.h"

/* ---- the op in progress ---- */

struct auth_op *auth_op_new(struct conn *c, enum pier_op kind, json_t *ref)
{
	struct auth_op *op = xcalloc(1, sizeof(*op));

	op->op = kind;
	op->c = c;
	op->ref = ref ? json_incref(ref) : NULL;
	op->job.data = op;
	op->hash.data = op;
	conn_ref(c);
	conn_pause(c);
	op->slot = conn_slot_open(c);
	return op;
}

void auth_wipe(char **password)
{
	if (*password != NULL) {
		sodium_memzero(*password, strlen(*password));
		free(*password);
		*password = NULL;
	}
}

void auth_op_free(struct auth_op *op)
{
	struct conn *c = op->c;

	auth_wipe(&op->password);
	auth_wipe(&op->new_password);
	sodium_memzero(op->hash.hash, sizeof(op->hash.hash));
	if (op->hash_slot)
		pwhash_release(c->srv->pwhash);
	store_job_release(&op->job);
	json_decref(op->ref);
	free(op);
	conn_resume(c);
	conn_unref(c);
}

void auth_op_finish(struct auth_op *op, json_t *reply)
{
	conn_slot_fill(op->c, op->slot, reply);
	auth_op_free(op);
}

static void hash_finished(struct pwhash_job *job)
{
	struct auth_op *op = job->data;

	auth_wipe(&op->password);
	if (job->kind == PWHASH_VERIFY)
		sodium_memzero(op->hash.hash, sizeof(op->hash.hash));
	op->hash_done(op, job->ok);
}

void auth_op_hash(struct auth_op *op, enum pwhash_kind kind, char *password,
                  void (*done)(struct auth_op *op, bool ok))
{
	op->password = password;
	op->hash_done = done;
	op->hash.kind = kind;
	op->hash.weak = op->c->srv->cfg.weak_password_hash;
	op->hash.password = password;
	op->hash.done = hash_finished;
	pwhash_submit(op->c->srv->pwhash, &op->hash);
}

json_t *auth_status_reply(const char *op, json_t *ref, int status, enum pier_error error,
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

/* ---- login limits ---- */

bool login_limits_take(struct conn *c, const char *account_name, bool password,
                       struct login_charge *charge, json_t *ref)
{
	struct server *srv = c->srv;
	int64_t now = pier_mono_ms(), retry = 0, r = 0;
	struct limit_entry *addr, *acct = NULL;
	bool ok;

	memset(charge, 0, sizeof(*charge));
	if (srv->cfg.no_rate_limits)
		return true;
	addr = limit_get(srv->addr_limits, c->addr, now);
	if (account_name != NULL) {
		pier_name_key(account_name, charge->key);
		acct = limit_get(srv->account_limits, charge->key, now);
	}
	/* Look at every bucket first (all or none), keeping the longest wait. */
	ok = limit_has(srv->addr_limits, addr, ADDR_FAILS, now, &r);
	retry = ok ? 0 : r;
	if (acct != NULL && !limit_has(srv->account_limits, acct, ACCOUNT_FAILS, now, &r)) {
		ok = false;
		retry = r > retry ? r : retry;
	}
	if (password && !limit_has(srv->addr_limits, addr, ADDR_LOGINS, now, &r)) {
		ok = false;
		retry = r > retry ? r : retry;
	}
	if (password && acct != NULL &&
	    !limit_has(srv->account_limits, acct, ACCOUNT_LOGINS, now, &r)) {
		ok = false;
		retry = r > retry ? r : retry;
	}
	if (!ok) {
		json_t *err = error_new(ref, PIER_ERR_RATE_LIMITED,
		                        "too many logins; wait and try again");

		json_object_set_new(err, "retry_after_ms", json_integer(retry));
		conn_reply(c, err);
		return false;
	}
	limit_take(srv->addr_limits, addr, ADDR_FAILS, now, NULL);
	if (acct != NULL)
		limit_take(srv->account_limits, acct, ACCOUNT_FAILS, now, NULL);
	if (password) {
		limit_take(srv->addr_limits, addr, ADDR_LOGINS, now, NULL);
		if (acct != NULL)
			limit_take(srv->account_limits, acct, ACCOUNT_LOGINS, now, NULL);
	}
	charge->taken = true;
	charge->logins = password;
	charge->account = acct != NULL;
	return true;
}

/* Gives back the failed-login tokens, and the password-login ones too when all. The entries
 * are looked up again: the table may have forgotten them meanwhile (a new one is full). */
static void give_back(struct conn *c, struct login_charge *charge, bool all)
{
	struct server *srv = c->srv;
	int64_t now = pier_mono_ms();
	struct limit_entry *addr, *acct = NULL;

	if (!charge->taken)
		return;
	addr = limit_get(srv->addr_limits, c->addr, now);
	if (charge->account)
		acct = limit_get(srv->account_limits, charge->key, now);
	limit_give(srv->addr_limits, addr, ADDR_FAILS);
	if (acct != NULL)
		limit_give(srv->account_limits, acct, ACCOUNT_FAILS);
	if (all && charge->logins) {
		limit_give(srv->addr_limits, addr, ADDR_LOGINS);
		if (acct != NULL)
			limit_give(srv->account_limits, acct, ACCOUNT_LOGINS);
	}
	charge->taken = false;
}

void login_limits_succeeded(struct conn *c, struct login_charge *charge)
{
	give_back(c, charge, false);
}

void login_limits_cancel(struct conn *c, struct login_charge *charge)
{
	give_back(c, charge, true);
}

/* ---- register ---- */

static void register_stored(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct server *srv = op->c->srv;
	json_t *r;

	switch (job->status) {
	case STORE_OK: {
		struct user *u = hub_add_user(&srv->hub, job->user_id, op->name);

		hub_set_display(u, op->display);
		profile_user_added(srv, op->name);
		remote_event(srv, CLUSTER_EV_USER, op->name, NULL, NULL, job->user_id, 0, false);
		log_info("registered %s from %s", op->name, op->c->addr);
		r = auth_status_reply("register", op->ref, 3, PIER_ERR_NONE, NULL);
		json_object_set_new(r, "user", json_string(op->name));
		event_set_display(r, u);
		break;
	}
	case STORE_EXISTS:
		r = auth_status_reply("register", op->ref, 2, PIER_ERR_NAME_TAKEN, "that name is taken");
		break;
	default:
		r = error_new(op->ref, PIER_ERR_STORE_FAILED, "could not store the account; try again");
		break;
	}
	auth_op_finish(op, r);
}

static void register_hashed(struct auth_op *op, bool ok)
{
	if (!ok || op->c->closing) {
		auth_op_finish(op, error_new(op->ref, PIER_ERR_INTERNAL, "password hashing failed"));
		return;
	}
	store_job_init(&op->job, STORE_CREATE_USER);
	op->job.data = op;
	op->job.name = op->name;
	op->job.pw_hash = op->hash.hash;
	op->job.display = op->display[0] != '\0' ? op->display : NULL;
	op->job.done = register_stored;
	store_submit(op->c->srv->store, &op->job);
}

void auth_reply_busy(struct conn *c, json_t *ref)
{
	reply_error(c, ref, PIER_ERR_BUSY, "the server is busy checking passwords; try again shortly");
}

void handle_register(struct conn *c, json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	const char *user = req_string(req, "user"), *pw = req_string(req, "password");
	enum pier_name_check nc, pc;
	struct limit_entry *e;
	struct auth_op *op;
	int64_t retry = 0;
	char display[DISPLAY_BYTES_MAX + 1];

	if (user == NULL || pw == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "register needs string fields user and password");
		return;
	}
	nc = pier_name_check(user);
	pc = pier_password_check(pw);
	if (nc == PIER_NAME_TOO_SHORT || pc == PIER_NAME_TOO_SHORT) {
		conn_reply(c, auth_status_reply("register", ref, 4, PIER_ERR_TOO_SHORT,
		                                "name and password need at least 6 characters"));
		return;
	}
	if (nc != PIER_NAME_OK) {
		conn_reply(c, auth_status_reply("register", ref, 5, PIER_ERR_BAD_NAME,
		                                "names are 6-32 of letters, digits, '_', '-' and '.'"));
		return;
	}
	if (pc != PIER_NAME_OK) {
		conn_reply(c, auth_status_reply("register", ref, 5, PIER_ERR_BAD_PASSWORD,
		                                "passwords are at most 1024 bytes"));
		return;
	}
	if (!profile_check_register(c, req, ref, user, display))
		return;
	e = limit_get(srv->addr_limits, c->addr, pier_mono_ms());
	if (!srv->cfg.no_rate_limits &&
	    !limit_take(srv->addr_limits, e, ADDR_REGISTERS, pier_mono_ms(), &retry)) {
		json_t *err = error_new(ref, PIER_ERR_RATE_LIMITED, "too many registrations from your address");

		json_object_set_new(err, "retry_after_ms", json_integer(retry));
		conn_reply(c, err);
		return;
	}
	if (!pwhash_reserve(srv->pwhash)) {
		if (!srv->cfg.no_rate_limits)
			limit_give(srv->addr_limits, e, ADDR_REGISTERS);
		auth_reply_busy(c, ref);
		return;
	}
	op = auth_op_new(c, PIER_OP_REGISTER, ref);
	op->hash_slot = true;
	snprintf(op->name, sizeof(op->name), "%s", user);
	snprintf(op->display, sizeof(op->display), "%s", display);
	auth_op_hash(op, PWHASH_CREATE, xstrdup(pw), register_hashed);
}

/* ---- sessions ---- */

/* Presence goes only to those who share a room (besides #lobby and rooms past
 * HUB_CONTACT_ROOM_MAX members) or a private conversation with the user: to everyone, a
 * login would cost every online session a line (N squared for N logins). A small server may
 * ask for everyone's presence with --presence-limit N (hub_presence_to_all; docs/PROTOCOL.md). */
void auth_broadcast_presence(struct server *srv, struct user *u, bool online)
{
	json_t *ev = event_presence(u, online);
	struct sbuf *b = sbuf_from_json(ev);

	if (hub_presence_to_all(&srv->hub))
		hub_send_all(&srv->hub, b, u, NULL);
	else
		hub_send_contacts(&srv->hub, u, b);
	sbuf_unref(b);
	json_decref(ev);
}

/* The login completed: attach the session, answer, and tell everyone who should know. */
static void session_start(struct auth_op *op, char *const *rooms, char *const *peers,
                          int64_t change_seq)
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

	r = auth_status_reply("login", op->ref, 1, PIER_ERR_NONE, NULL);
	json_object_set_new(r, "user", json_string(u->name));
	event_set_display(r, u);
	json_object_set_new(r, "token", json_string(op->token));
	list = json_array();
	json_array_append_new(list, json_string(srv->hub.lobby->name));
	for (size_t i = 0; i < u->nrooms; i++)
		json_array_append_new(list, json_string(u->rooms[i]->name));
	json_object_set_new(r, "rooms", list);
	json_object_set_new(r, "change_seq", json_integer(change_seq));
	/* How long this server lets a message be recalled (clients offer it only that long). */
	json_object_set_new(r, "recall_window", json_integer((json_int_t)srv->cfg.recall_window));
	/* A device proves itself to this session by signing its challenge (device_hello). */
	e2ee_session_start(c, r, op->with_password);
	conn_slot_fill(c, op->slot, r);
	{
		json_t *users = event_users_login(&srv->hub, u);

		remote_add_online(srv, u, users);  /* a cluster: those online on other nodes too */
		conn_send_json(c, users);
	}
	if (first) {
		if (remote_presence(srv, u, true))
			auth_broadcast_presence(srv, u, true);
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
	session_start(op, job->rooms, job->peers, job->change_seq);
	auth_op_free(op);
}

static void make_token(struct auth_op *op)
{
	unsigned char raw[TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(op->token, sizeof(op->token), raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

void auth_hash_token(const char *token, unsigned char out[STORE_TOKEN_HASH_LEN])
{
	crypto_generichash(out, STORE_TOKEN_HASH_LEN, (const unsigned char *)token, strlen(token),
	                   NULL, 0);
}

void auth_token_hash(const char *token, unsigned char out[32])
{
	_Static_assert(STORE_TOKEN_HASH_LEN == 32, "auth_token_hash's size");
	_Static_assert(AUTH_TOKEN_MAX + 1 == TOKEN_TEXT, "AUTH_TOKEN_MAX");
	auth_hash_token(token, out);
}

/* The attempt succeeded: the failed-login tokens go back; the session is stored. */
static void submit_login(struct auth_op *op)
{
	struct server *srv = op->c->srv;

	login_limits_succeeded(op->c, &op->charge);
	store_job_release(&op->job);
	store_job_init(&op->job, STORE_LOGIN);
	op->job.data = op;
	op->job.user_id = op->user->id;
	auth_hash_token(op->token, op->job.token_hash);
	op->job.done = login_stored;
	store_submit(srv->store, &op->job);
}

static void password_checked(struct auth_op *op, bool ok)
{
	if (op->c->closing) {
		auth_op_finish(op, reply_new("login", op->ref));
		return;
	}
	if (op->no_account) {
		log_warn("login failed for '%s' from %s: no such user", op->name, op->c->addr);
		auth_op_finish(op, auth_status_reply("login", op->ref, 0, PIER_ERR_NO_SUCH_USER,
		                                     "no such user"));
		return;
	}
	if (!ok) {
		log_warn("login failed for '%s' from %s: wrong password", op->name, op->c->addr);
		auth_op_finish(op, auth_status_reply("login", op->ref, -1, PIER_ERR_WRONG_PASSWORD,
		                                     "wrong password"));
		return;
	}
	make_token(op);
	submit_login(op);
}

/* The account of op->name was read: check op->password against its hash. */
static void account_read(struct store_job *job)
{
	struct auth_op *op = job->data;

	if (job->status == STORE_NOT_FOUND) {
		op->no_account = true;
		op->hash_done(op, false);
		return;
	}
	if (job->status != STORE_OK || job->pw_hash_out == NULL ||
	    strlen(job->pw_hash_out) >= sizeof(op->hash.hash)) {
		login_limits_cancel(op->c, &op->charge);
		auth_op_finish(op, error_new(op->ref, PIER_ERR_STORE_FAILED, "could not read the account"));
		return;
	}
	if (op->user == NULL && job->user_name != NULL)   /* a cluster: registered elsewhere */
		op->user = remote_user_found(op->c->srv, job->user_id, job->user_name);
	if (op->user == NULL && op->op == PIER_OP_LOGIN) {
		op->no_account = true;
		op->hash_done(op, false);
		return;
	}
	snprintf(op->hash.hash, sizeof(op->hash.hash), "%s", job->pw_hash_out);
	store_job_release(&op->job);
	auth_op_hash(op, PWHASH_VERIFY, op->password, op->hash_done);
}

void auth_op_check_password(struct auth_op *op, const char *password,
                            void (*done)(struct auth_op *op, bool ok))
{
	op->password = xstrdup(password);
	op->hash_done = done;
	store_job_init(&op->job, STORE_GET_USER);
	op->job.data = op;
	op->job.name = op->name;
	op->job.done = account_read;
	store_submit(op->c->srv->store, &op->job);
}

static void token_loaded(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct server *srv = op->c->srv;

	op->user = job->status == STORE_OK ? hub_find_user(&srv->hub, job->user_name) : NULL;
	if (op->user == NULL && job->status == STORE_OK)   /* a cluster: registered elsewhere */
		op->user = remote_user_found(srv, job->user_id, job->user_name);
	if (op->user == NULL) {
		log_warn("login failed from %s: unknown, revoked or expired token", op->c->addr);
		auth_op_finish(op, auth_status_reply("login", op->ref, -1, PIER_ERR_BAD_TOKEN,
		                                     "unknown, revoked or expired token"));
		return;
	}
	submit_login(op);
}

static void login_with_token(struct conn *c, const char *token, json_t *ref)
{
	struct login_charge charge;
	struct auth_op *op;

	if (!login_limits_take(c, NULL, false, &charge, ref))
		return;
	if (strlen(token) >= TOKEN_TEXT) {
		log_warn("login failed from %s: token too long", c->addr);
		conn_reply(c, auth_status_reply("login", ref, -1, PIER_ERR_BAD_TOKEN,
		                                "unknown, revoked or expired token"));
		return;
	}
	op = auth_op_new(c, PIER_OP_LOGIN, ref);
	op->charge = charge;
	snprintf(op->token, sizeof(op->token), "%s", token);
	store_job_init(&op->job, STORE_TOKEN_USER);
	op->job.data = op;
	auth_hash_token(token, op->job.token_hash);
	op->job.done = token_loaded;
	store_submit(c->srv->store, &op->job);
}

void handle_login(struct conn *c, json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	const char *user = req_string(req, "user"), *pw = req_string(req, "password");
	const char *token = req_string(req, "token");
	bool valid_name;
	struct login_charge charge;
	struct auth_op *op;

	if (token != NULL) {
		login_with_token(c, token, ref);
		return;
	}
	if (user == NULL || pw == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "login needs user and password, or token");
		return;
	}
	valid_name = pier_name_check(user) == PIER_NAME_OK;
	if (!login_limits_take(c, valid_name ? user : NULL, true, &charge, ref))
		return;
	/* A cluster's node may not know yet a user registered on another: the store says. */
	if (!valid_name || (srv->cluster == NULL && hub_find_user(&srv->hub, user) == NULL)) {
		log_warn("login failed for %s%s%s from %s: no such user", valid_name ? "'" : "",
		         valid_name ? user : "an invalid name", valid_name ? "'" : "", c->addr);
		conn_reply(c, auth_status_reply("login", ref, 0, PIER_ERR_NO_SUCH_USER, "no such user"));
		return;
	}
	if (!pwhash_reserve(srv->pwhash)) {
		login_limits_cancel(c, &charge);
		auth_reply_busy(c, ref);
		return;
	}
	op = auth_op_new(c, PIER_OP_LOGIN, ref);
	op->hash_slot = true;
	op->with_password = true;
	op->charge = charge;
	op->user = hub_find_user(&srv->hub, user);
	snprintf(op->name, sizeof(op->name), "%s", op->user != NULL ? op->user->name : user);
	auth_op_check_password(op, pw, password_checked);
}

/* ---- session end ---- */

void session_end(struct conn *c)
{
	struct server *srv = c->srv;
	struct user *u = c->user;

	offline_session_leave(srv, u, c);
	account_session_closed(c);
	e2ee_session_end(c);
	c->user = NULL;
	if (!hub_session_close(&srv->hub, u, c))
		return;
	log_info("offline %s", u->name);
	if (remote_presence(srv, u, false))
		auth_broadcast_presence(srv, u, false);
	offline_user_gone(srv, u);
}
