/* store_pg_users.c - the PostgreSQL back end's users and tokens: CREATE_USER, GET_USER, LOGIN,
 * TOKEN_USER, DELETE_TOKEN, TOKEN_TOUCH, DELETE_TOKENS, SET_PASSWORD, PRUNE_TOKENS, SET_SEEN,
 * and the startup reads of users. The same semantics and statuses as store_sqlite.c's. */
#include "store_pg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"

enum {
	USR_INSERT,
	USR_BY_KEY,
	USR_SET_SEEN,
	USR_COUNT,
	USR_EACH,
	USR_SET_PASSWORD,
	TOKEN_INSERT,
	TOKEN_USER,
	TOKEN_DELETE,
	TOKEN_TOUCH,
	TOKEN_DELETE_USER,
	TOKEN_PRUNE,
	MEMBER_ROOMS,
	CONTACT_NAMES,
	USR_STMTS
};

static const char *const sql[USR_STMTS] = {
	[USR_INSERT] =
		"INSERT INTO users(name, name_key, pw_hash, created, display) "
		"VALUES($1, $2, $3, $4, $5) ON CONFLICT (name_key) DO NOTHING RETURNING id",
	[USR_BY_KEY] = "SELECT id, name, pw_hash, seen_id FROM users WHERE name_key = $1",
	[USR_SET_SEEN] = "UPDATE users SET seen_id = greatest(seen_id, $2) WHERE id = $1",
	[USR_COUNT] = "SELECT count(*) FROM users",
	[USR_EACH] = "SELECT id, name FROM users ORDER BY id",
	[USR_SET_PASSWORD] = "UPDATE users SET pw_hash = $2 WHERE id = $1",
	[TOKEN_INSERT] =
		"INSERT INTO tokens(hash, user_id, created, used) VALUES($1, $2, $3, $3) "
		"ON CONFLICT (hash) DO UPDATE SET used = excluded.used",
	[TOKEN_USER] =
		"SELECT u.id, u.name, u.seen_id, t.used FROM tokens t JOIN users u ON u.id = t.user_id "
		"WHERE t.hash = $1",
	[TOKEN_DELETE] = "DELETE FROM tokens WHERE hash = $1",
	[TOKEN_TOUCH] = "UPDATE tokens SET used = greatest(used, $2) WHERE hash = $1",
	[TOKEN_DELETE_USER] = "DELETE FROM tokens WHERE user_id = $1 AND hash IS DISTINCT FROM $2",
	[TOKEN_PRUNE] = "DELETE FROM tokens WHERE used < $1",
	[MEMBER_ROOMS] =
		"SELECT r.name FROM members m JOIN rooms r ON r.id = m.room_id "
		"WHERE m.user_id = $1 ORDER BY r.name_key",
	[CONTACT_NAMES] =
		"SELECT u.name FROM contacts c JOIN users u ON u.id = c.peer_id "
		"WHERE c.user_id = $1 AND c.peer_id <> $1 ORDER BY u.name_key",
};

int store_pg_users_prepare(struct store_pg *pg, char **err)
{
	return store_pg_prepare(pg, STORE_PG_USERS, sql, USR_STMTS, err);
}

static PGresult *exec(struct store_pg *pg, int which, const struct store_pg_params *p)
{
	return store_pg_exec(pg, STORE_PG_USERS, which, p);
}

static int64_t exec_count(struct store_pg *pg, int which, const struct store_pg_params *p)
{
	return store_pg_exec_count(pg, STORE_PG_USERS, which, p);
}

/* The key of a valid user name; false for a name no user can have. */
static bool user_key(const char *name, char key[PIER_KEY_MAX])
{
	if (name == NULL || pier_name_check(name) != PIER_NAME_OK)
		return false;
	pier_name_key(name, key);
	return true;
}

static enum store_status run_create_user(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	char key[PIER_KEY_MAX];
	PGresult *r;
	bool taken;

	if (!user_key(job->name, key) || job->pw_hash == NULL)
		return STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_text(&p, job->name);
	store_pg_add_text(&p, key);
	store_pg_add_text(&p, job->pw_hash);
	store_pg_add_int(&p, pier_now_ms());
	store_pg_add_text(&p, job->display);
	r = exec(pg, USR_INSERT, &p);
	if (r == NULL)
		return STORE_FAILED;
	taken = PQntuples(r) == 0;
	if (!taken)
		job->user_id = store_pg_int(r, 0, 0);
	PQclear(r);
	if (taken)
		return STORE_EXISTS;
	return store_pg_social_read_baseline(pg, job->user_id, pg->lobby_id) == 0 ? STORE_OK
	                                                                         : STORE_FAILED;
}

static enum store_status run_get_user(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	char key[PIER_KEY_MAX];
	enum store_status status = STORE_FAILED;
	PGresult *r;

	if (!user_key(job->name, key))
		return STORE_NOT_FOUND;
	store_pg_params_init(&p);
	store_pg_add_text(&p, key);
	r = exec(pg, USR_BY_KEY, &p);
	if (r == NULL)
		return STORE_FAILED;
	if (PQntuples(r) == 0) {
		status = STORE_NOT_FOUND;
	} else {
		job->user_id = store_pg_int(r, 0, 0);
		job->user_name = store_pg_dup(r, 0, 1);
		job->pw_hash_out = store_pg_dup(r, 0, 2);
		job->seen_id = store_pg_int(r, 0, 3);
		if (job->user_name != NULL && job->pw_hash_out != NULL)
			status = STORE_OK;
	}
	PQclear(r);
	return status;
}

/* Appends the names statement which (one int64 parameter) gives to *out. */
static enum store_status collect(struct store_pg *pg, int which, int64_t id, char ***out)
{
	struct store_pg_params p;
	enum store_status st;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, id);
	r = exec(pg, which, &p);
	if (r == NULL)
		return STORE_FAILED;
	st = store_pg_collect_names(r, out);
	PQclear(r);
	return st;
}

static enum store_status run_login(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_add_bytes(&p, job->token_hash, STORE_TOKEN_HASH_LEN);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, pier_now_ms());
	if (exec_count(pg, TOKEN_INSERT, &p) < 0)
		return store_pg_failed_with(pg, STORE_PG_FOREIGN_KEY) ? STORE_NOT_FOUND : STORE_FAILED;

	/* #lobby first, then the rooms of members, by key; always NULL-terminated. */
	job->rooms = calloc(2, sizeof *job->rooms);
	if (job->rooms == NULL)
		return STORE_FAILED;
	job->rooms[0] = strdup(STORE_LOBBY);
	if (job->rooms[0] == NULL)
		return STORE_FAILED;
	if (collect(pg, MEMBER_ROOMS, job->user_id, &job->rooms) != STORE_OK ||
	    collect(pg, CONTACT_NAMES, job->user_id, &job->peers) != STORE_OK)
		return STORE_FAILED;
	return store_pg_counter(pg, "change", &job->change_seq) == 0 ? STORE_OK : STORE_FAILED;
}

static enum store_status run_delete_token(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t n;

	store_pg_params_init(&p);
	store_pg_add_bytes(&p, job->token_hash, STORE_TOKEN_HASH_LEN);
	n = exec_count(pg, TOKEN_DELETE, &p);
	if (n < 0)
		return STORE_FAILED;
	return n == 0 ? STORE_NOT_FOUND : STORE_OK;
}

static enum store_status run_token_user(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	enum store_status status = STORE_FAILED;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_bytes(&p, job->token_hash, STORE_TOKEN_HASH_LEN);
	r = exec(pg, TOKEN_USER, &p);
	if (r == NULL)
		return STORE_FAILED;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return STORE_NOT_FOUND;
	}
	if (pg->token_idle_ms > 0 && store_pg_int(r, 0, 3) < pier_now_ms() - pg->token_idle_ms) {
		PQclear(r);
		/* Expired: gone for good (the caller's answer does not depend on this delete). */
		return run_delete_token(pg, job) == STORE_FAILED ? STORE_FAILED : STORE_NOT_FOUND;
	}
	job->user_id = store_pg_int(r, 0, 0);
	job->user_name = store_pg_dup(r, 0, 1);
	job->pw_hash_out = NULL;
	job->seen_id = store_pg_int(r, 0, 2);
	if (job->user_name != NULL)
		status = STORE_OK;
	PQclear(r);
	return status;
}

static enum store_status run_token_touch(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t n;

	store_pg_params_init(&p);
	store_pg_add_bytes(&p, job->token_hash, STORE_TOKEN_HASH_LEN);
	store_pg_add_int(&p, pier_now_ms());
	n = exec_count(pg, TOKEN_TOUCH, &p);
	if (n < 0)
		return STORE_FAILED;
	return n == 0 ? STORE_NOT_FOUND : STORE_OK;
}

/* Deletes the user's tokens, but token_hash when keep_token. */
static enum store_status delete_user_tokens(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t n;

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	if (job->keep_token)
		store_pg_add_bytes(&p, job->token_hash, STORE_TOKEN_HASH_LEN);
	else
		store_pg_add_null(&p);
	n = exec_count(pg, TOKEN_DELETE_USER, &p);
	if (n < 0)
		return STORE_FAILED;
	job->count = n;
	return STORE_OK;
}

static enum store_status run_set_password(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t n;

	if (job->pw_hash == NULL)
		return STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_text(&p, job->pw_hash);
	n = exec_count(pg, USR_SET_PASSWORD, &p);
	if (n < 0)
		return STORE_FAILED;
	if (n == 0)
		return STORE_NOT_FOUND;
	job->keep_token = true;
	return delete_user_tokens(pg, job);
}

static enum store_status run_prune_tokens(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t n;

	if (pg->token_idle_ms <= 0)
		return STORE_OK;
	store_pg_params_init(&p);
	store_pg_add_int(&p, pier_now_ms() - pg->token_idle_ms);
	n = exec_count(pg, TOKEN_PRUNE, &p);
	if (n < 0)
		return STORE_FAILED;
	job->count = n;
	return STORE_OK;
}

static enum store_status run_set_seen(struct store_pg *pg, struct store_job *job)
{
	struct store_pg_params p;
	int64_t n;

	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, job->seen_id);
	n = exec_count(pg, USR_SET_SEEN, &p);
	if (n < 0)
		return STORE_FAILED;
	return n == 0 ? STORE_NOT_FOUND : STORE_OK;
}

enum store_status store_pg_users_run(struct store_pg *pg, struct store_job *job)
{
	switch (job->op) {
	case STORE_CREATE_USER:
		return run_create_user(pg, job);
	case STORE_GET_USER:
		return run_get_user(pg, job);
	case STORE_LOGIN:
		return run_login(pg, job);
	case STORE_TOKEN_USER:
		return run_token_user(pg, job);
	case STORE_DELETE_TOKEN:
		return run_delete_token(pg, job);
	case STORE_TOKEN_TOUCH:
		return run_token_touch(pg, job);
	case STORE_DELETE_TOKENS:
		return delete_user_tokens(pg, job);
	case STORE_SET_PASSWORD:
		return run_set_password(pg, job);
	case STORE_PRUNE_TOKENS:
		return run_prune_tokens(pg, job);
	case STORE_SET_SEEN:
		return run_set_seen(pg, job);
	default:
		return STORE_FAILED;
	}
}

int store_pg_users_count(struct store_pg *pg, int64_t *count)
{
	PGresult *r = exec(pg, USR_COUNT, NULL);

	if (r == NULL)
		return -1;
	*count = store_pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int store_pg_users_each(struct store_pg *pg,
                        void (*cb)(void *ud, int64_t id, const char *name), void *ud)
{
	PGresult *r = exec(pg, USR_EACH, NULL);

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		cb(ud, store_pg_int(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return 0;
}
