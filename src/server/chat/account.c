/* account.c - what a logged-in user does to its account and tokens: logout (this token),
 * logout_all (every token), password (a new password; every other token revoked), and the
 * upkeep of tokens (marked used while sessions hold them, forgotten once unused for
 * --token-idle). A revoked token's sessions end at once, on every transport; HTTP requests
 * with it fail from then on, since media looks every token up in the store. */
#include "account.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth_internal.h"
#include "clock.h"
#include "conn.h"
#include "log.h"
#include "names.h"
#include "reply.h"
#include "server.h"
#include "store.h"
#include "xalloc.h"

/* How often the token upkeep runs at most (it runs at least twice per --token-idle). */
#define SWEEP_MAX_MS (24LL * 3600 * 1000)

void auth_end_sessions(struct user *u, const unsigned char token_hash[STORE_TOKEN_HASH_LEN],
                       enum end_sessions which, struct conn *except)
{
	struct conn **list;
	size_t n = 0;

	if (u == NULL || u->nsessions == 0)
		return;
	/* A copy: closing may change u->sessions. */
	list = xcalloc(u->nsessions, sizeof(*list));
	for (size_t i = 0; i < u->nsessions; i++) {
		struct conn *s = u->sessions[i];

		if (s == except || s->closing)
			continue;
		bool same = memcmp(s->token_hash, token_hash, STORE_TOKEN_HASH_LEN) == 0;

		if ((which == END_THIS_TOKEN && !same) || (which == END_OTHER_TOKENS && same))
			continue;
		conn_ref(s);
		list[n++] = s;
	}
	for (size_t i = 0; i < n; i++) {
		conn_close(list[i], PIER_ERR_LOGGED_OUT,
		           "this session's token was revoked (a logout or a password change)");
		conn_unref(list[i]);
	}
	free(list);
}

/* ---- logout, logout_all ---- */

static void tokens_deleted(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct conn *c = op->c;
	bool all = op->op == PIER_OP_LOGOUT_ALL;
	json_t *r;

	if (job->status == STORE_FAILED) {
		auth_op_finish(op, error_new(op->ref, PIER_ERR_STORE_FAILED,
		                             "could not revoke the token; try again"));
		return;
	}
	r = reply_new(all ? "logout_all" : "logout", op->ref);
	if (all)
		json_object_set_new(r, "revoked", json_integer(job->count));
	log_info("%s %s from %s", all ? "logout everywhere:" : "logout:", c->user ? c->user->name : "?",
	         c->addr);
	auth_end_sessions(c->user, c->token_hash, all ? END_ALL_TOKENS : END_THIS_TOKEN, c);
	conn_slot_fill(c, op->slot, r);
	conn_close(c, PIER_ERR_NONE, NULL);
	auth_op_free(op);
}

static void logout(struct conn *c, json_t *ref, bool all)
{
	struct auth_op *op = auth_op_new(c, all ? PIER_OP_LOGOUT_ALL : PIER_OP_LOGOUT, ref);

	store_job_init(&op->job, all ? STORE_DELETE_TOKENS : STORE_DELETE_TOKEN);
	op->job.data = op;
	op->job.user_id = c->user->id;
	op->job.keep_token = false;
	memcpy(op->job.token_hash, c->token_hash, STORE_TOKEN_HASH_LEN);
	op->job.done = tokens_deleted;
	store_submit(c->srv->store, &op->job);
}

void handle_logout(struct conn *c, json_t *req, json_t *ref)
{
	(void)req;
	logout(c, ref, false);
}

void handle_logout_all(struct conn *c, json_t *req, json_t *ref)
{
	(void)req;
	logout(c, ref, true);
}

/* ---- password change ---- */

static void password_stored(struct store_job *job)
{
	struct auth_op *op = job->data;
	struct conn *c = op->c;
	json_t *r;

	if (job->status != STORE_OK) {
		auth_op_finish(op, error_new(op->ref, PIER_ERR_STORE_FAILED,
		                             "could not store the new password; the old one stays"));
		return;
	}
	log_info("password changed: %s from %s (%lld other tokens revoked)", c->user->name, c->addr,
	         (long long)job->count);
	/* Every other token is gone, and so are its sessions; this token's stay. */
	auth_end_sessions(c->user, c->token_hash, END_OTHER_TOKENS, c);
	r = reply_new("password", op->ref);
	json_object_set_new(r, "revoked", json_integer(job->count));
	auth_op_finish(op, r);
}

static void new_password_hashed(struct auth_op *op, bool ok)
{
	if (!ok || op->c->closing) {
		auth_op_finish(op, error_new(op->ref, PIER_ERR_INTERNAL, "password hashing failed"));
		return;
	}
	store_job_release(&op->job);
	store_job_init(&op->job, STORE_SET_PASSWORD);
	op->job.data = op;
	op->job.user_id = op->c->user->id;
	op->job.pw_hash = op->hash.hash;
	memcpy(op->job.token_hash, op->c->token_hash, STORE_TOKEN_HASH_LEN);
	op->job.done = password_stored;
	store_submit(op->c->srv->store, &op->job);
}

static void old_password_checked(struct auth_op *op, bool ok)
{
	char *pw;

	if (op->no_account) {      /* cannot be: the user is logged in */
		auth_op_finish(op, error_new(op->ref, PIER_ERR_STORE_FAILED, "could not read the account"));
		return;
	}
	if (op->c->closing) {
		auth_op_finish(op, reply_new("password", op->ref));
		return;
	}
	if (!ok) {
		log_warn("password change refused for '%s' from %s: wrong password", op->name,
		         op->c->addr);
		auth_op_finish(op, error_new(op->ref, PIER_ERR_WRONG_PASSWORD,
		                             "the current password is wrong"));
		return;
	}
	login_limits_succeeded(op->c, &op->charge);
	pw = op->new_password;
	op->new_password = NULL;
	auth_op_hash(op, PWHASH_CREATE, pw, new_password_hashed);
}

void handle_password(struct conn *c, json_t *req, json_t *ref)
{
	struct server *srv = c->srv;
	const char *old = req_string(req, "old"), *new = req_string(req, "new");
	struct login_charge charge;
	enum pier_name_check check;
	struct auth_op *op;

	if (old == NULL || new == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "password needs string fields old and new");
		return;
	}
	check = pier_password_check(new);
	if (check == PIER_NAME_TOO_SHORT) {
		reply_error(c, ref, PIER_ERR_TOO_SHORT, "passwords need at least 6 characters");
		return;
	}
	if (check != PIER_NAME_OK) {
		reply_error(c, ref, PIER_ERR_BAD_PASSWORD, "passwords are at most 1024 bytes");
		return;
	}
	/* Checking the old password is a login attempt: the same limits, taken first. */
	if (!login_limits_take(c, c->user->name, true, &charge, ref))
		return;
	if (!pwhash_reserve(srv->pwhash)) {
		login_limits_cancel(c, &charge);
		auth_reply_busy(c, ref);
		return;
	}
	op = auth_op_new(c, PIER_OP_PASSWORD, ref);
	op->hash_slot = true;
	op->charge = charge;
	snprintf(op->name, sizeof(op->name), "%s", c->user->name);
	op->new_password = xstrdup(new);
	auth_op_check_password(op, old, old_password_checked);
}

/* ---- token upkeep ---- */

/* A store job of its own (the session it was for may be gone by the time it runs). */
struct token_job {
	struct store_job job;
};

static void token_job_done(struct store_job *job)
{
	if (job->op == STORE_PRUNE_TOKENS && job->status == STORE_OK && job->count > 0)
		log_info("forgot %lld session tokens unused for --token-idle", (long long)job->count);
	store_job_release(job);
	free(job->data);
}

static void submit_token_job(struct server *srv, enum store_op op, const unsigned char *hash)
{
	struct token_job *t = xcalloc(1, sizeof(*t));

	store_job_init(&t->job, op);
	t->job.data = t;
	if (hash != NULL)
		memcpy(t->job.token_hash, hash, STORE_TOKEN_HASH_LEN);
	t->job.done = token_job_done;
	store_submit(srv->store, &t->job);
}

void account_session_closed(struct conn *c)
{
	/* The token was in use until now: its idle time starts here. */
	if (c->srv->cfg.token_idle > 0)
		submit_token_job(c->srv, STORE_TOKEN_TOUCH, c->token_hash);
}

void account_tick(struct server *srv, int64_t now_ms)
{
	int64_t every = (int64_t)(srv->cfg.token_idle * 1000) / 2;
	struct user *u;

	if (srv->cfg.token_idle <= 0 || srv->store == NULL)
		return;
	if (every > SWEEP_MAX_MS)
		every = SWEEP_MAX_MS;
	if (every < 1000)
		every = 1000;
	if (now_ms < srv->token_sweep_ms)
		return;
	srv->token_sweep_ms = now_ms + every;
	/* A session open longer than --token-idle must not lose its token: open sessions mark
	 * theirs used at least twice per idle period. */
	for (u = srv->hub.online; u != NULL; u = u->online_next)
		for (size_t i = 0; i < u->nsessions; i++)
			if (!u->sessions[i]->closing)
				submit_token_job(srv, STORE_TOKEN_TOUCH, u->sessions[i]->token_hash);
	submit_token_job(srv, STORE_PRUNE_TOKENS, NULL);
}
