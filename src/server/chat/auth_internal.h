/* auth_internal.h - what auth.c (register, login, sessions) and account.c (logout, log out
 * everywhere, password change, token upkeep) share: the request in progress and the login
 * limits, which are taken before any work and given back when the attempt succeeds. */
#ifndef PIER_AUTH_INTERNAL_H
#define PIER_AUTH_INTERNAL_H

#include <stdbool.h>

#include <jansson.h>

#include "display.h"
#include "names.h"
#include "protocol.h"
#include "pwhash.h"
#include "store.h"

#define TOKEN_BYTES 32
#define TOKEN_TEXT  64           /* base64url of 32 bytes is 43 characters */

struct conn;
struct user;

/* The limit tokens one attempt took (login_limits_take), to give back what did not count. */
struct login_charge {
	bool taken;                  /* anything taken (false under --no-rate-limits) */
	bool logins;                 /* the password-login buckets too */
	bool account;                /* the account's buckets (key) too */
	char key[PIER_KEY_MAX];
};

/* One register, login, logout or password change in progress. It holds a reference on its
 * connection, which reads no further request until the answer (the next request sees the
 * outcome), a reply slot, and maybe a password hashing slot. */
struct auth_op {
	enum pier_op op;
	struct conn *c;
	struct reply_slot *slot;
	json_t *ref;
	char name[PIER_NAME_MAX + 1];
	char display[DISPLAY_BYTES_MAX + 1]; /* register: the display name asked for ("": none) */
	char *password;              /* wiped and freed as soon as it is hashed or checked */
	char *new_password;          /* password change: the new one (wiped and freed too) */
	bool hash_slot;              /* holds a slot of srv->pwhash (taken before the op, with
	                              * pwhash_reserve; auth_op_free gives it back) */
	struct pwhash_job hash;
	void (*hash_done)(struct auth_op *op, bool ok);
	bool no_account;             /* auth_op_check_password: op->name has no account */
	bool with_password;          /* login: by password (not a token): may reset E2EE identity */
	struct login_charge charge;
	struct user *user;
	char token[TOKEN_TEXT];
	struct store_job job;
};

/* A new op answering req (ref) on c: pauses c, opens the reply slot. */
struct auth_op *auth_op_new(struct conn *c, enum pier_op op, json_t *ref);
/* The answer when every password hashing slot is taken (pwhash_reserve failed). */
void auth_reply_busy(struct conn *c, json_t *ref);
/* Runs op->hash (kind, password, hash set by the caller) on the hashing threads; done is
 * called on the loop with op->hash.ok set. op->password is wiped and freed then. */
void auth_op_hash(struct auth_op *op, enum pwhash_kind kind, char *password,
                  void (*done)(struct auth_op *op, bool ok));
/* Reads op->name's account and checks password (copied) against its hash on the hashing
 * threads, then done(op, matched); no account: done(op, false) with op->no_account set. A
 * store failure is answered here (store_failed; the login limits given back). */
void auth_op_check_password(struct auth_op *op, const char *password,
                            void (*done)(struct auth_op *op, bool ok));
/* Answers (takes reply) and frees op: the slots go back, the connection reads on. */
void auth_op_finish(struct auth_op *op, json_t *reply);
/* Frees op whose reply slot was filled already. */
void auth_op_free(struct auth_op *op);
/* Frees *password after wiping it. */
void auth_wipe(char **password);

/* {"op":op,"status":status} with error and message when given. */
json_t *auth_status_reply(const char *op, json_t *ref, int status, enum pier_error error,
                          const char *message);

/* Takes, before any work, one token of each login limit that applies: failed logins per
 * address and (when account_name is not NULL) per account; with password also the password
 * logins per address and per account. All or none: when one is empty, answers rate_limited
 * (retry_after_ms) on c and returns false. A failure keeps what it took; see below. */
bool login_limits_take(struct conn *c, const char *account_name, bool password,
                       struct login_charge *charge, json_t *ref);
/* The attempt succeeded: the failed-login tokens go back (the password-login ones stay). */
void login_limits_succeeded(struct conn *c, struct login_charge *charge);
/* The attempt never happened (busy): every token goes back. */
void login_limits_cancel(struct conn *c, struct login_charge *charge);

/* The stored form of a token. */
void auth_hash_token(const char *token, unsigned char out[STORE_TOKEN_HASH_LEN]);

enum end_sessions { END_THIS_TOKEN, END_OTHER_TOKENS, END_ALL_TOKENS };

/* Closes the sessions of u's that hold token_hash, or that do not, or all, sparing except:
 * each gets the fatal error "logged_out" (the token it was opened with is no longer valid). */
void auth_end_sessions(struct user *u, const unsigned char token_hash[STORE_TOKEN_HASH_LEN],
                       enum end_sessions which, struct conn *except);

#endif
