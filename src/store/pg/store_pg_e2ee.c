/* store_pg_e2ee.c - the PostgreSQL back end's side of end-to-end encryption (store_e2ee.h):
 * devices, their prekeys, each user's signed device list and the per-device queues of
 * envelopes, with the statuses and answers of store_e2ee.c (SQLite), run inside the batch's
 * transaction like every job.
 *
 * What differs from SQLite is what several nodes writing at once need:
 *   - envelope qids come from the "env" counter row (store_pg_next_ids), never a SEQUENCE:
 *     a queue is read "after qid", and only ids handed out under the counter's row lock
 *     become visible in their order (docs/CLUSTER.md, "Ids");
 *   - a one-time prekey is claimed by one DELETE ... RETURNING of a row locked with SKIP
 *     LOCKED, so two nodes serving KEYS at once never hand out the same one;
 *   - the steps SQLite runs one statement each (expire, revoke, queue an envelope and count
 *     it, ack and uncount) are one statement here (data-modifying WITH), a round trip each.
 * A statement that fails aborts the job (store_pg.c rolls back to its savepoint), so the
 * checks that SQLite made by catching a constraint are counts here (ON CONFLICT DO NOTHING).
 */
#include "store_pg_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define DEVICE_COLS \
	"d.rid, d.id, (SELECT name FROM users WHERE id = d.user_id), d.sign_key, d.dh_key, " \
	"d.name, d.state, d.created, d.spk_id, d.spk_key, d.spk_sig, d.queued, " \
	"(SELECT count(*) FROM opks WHERE device = d.rid), d.user_id "

/* Revokes the devices g gives: their one-time prekeys and queues go, state 2, nothing queued. */
#define REVOKE_WITH(G) \
	"WITH g AS (" G "), " \
	"o AS (DELETE FROM opks WHERE device IN (SELECT rid FROM g)), " \
	"e AS (DELETE FROM envelopes WHERE device IN (SELECT rid FROM g)) " \
	"UPDATE devices SET state = 2, queued = 0 WHERE rid IN (SELECT rid FROM g)"

enum e2ee_pg_stmt {
	E_DEV_BY_ID,
	E_DEV_BY_RID,
	E_DEVS_OF,
	E_DEV_COUNT,
	E_DEV_INSERT,
	E_EXPIRE,
	E_REVOKE,
	E_SET_ACTIVE,
	E_DEV_SEEN,
	E_SPK_SET,
	E_OPK_INSERT,
	E_OPK_COUNT,
	E_OPK_CLAIM,
	E_LIST_GET,
	E_LIST_SET,
	E_QUEUE_ADD,
	E_QUEUE_PAGE,
	E_ACK,
	E_HAS_LIST,
	E_N
};

static const char *const e2ee_sql[E_N] = {
	[E_DEV_BY_ID] = "SELECT " DEVICE_COLS "FROM devices d WHERE d.id = $1",
	[E_DEV_BY_RID] = "SELECT " DEVICE_COLS "FROM devices d WHERE d.rid = $1",
	/* A user's devices: active ones, and ($2) pending ones not expired ($3); by id as SQLite
	 * orders them (bytes: COLLATE "C"). */
	[E_DEVS_OF] =
		"SELECT " DEVICE_COLS "FROM devices d WHERE d.user_id = $1 AND (d.state = 1 OR "
		"($2::boolean AND d.state = 0 AND d.created >= $3)) ORDER BY d.id COLLATE \"C\"",
	[E_DEV_COUNT] =
		"SELECT count(*) FILTER (WHERE state = 1), "
		"count(*) FILTER (WHERE state = 0 AND created >= $2) "
		"FROM devices WHERE user_id = $1 AND state < 2",
	[E_DEV_INSERT] =
		"INSERT INTO devices(id, user_id, sign_key, dh_key, name, state, created, spk_id, "
		"spk_key, spk_sig) VALUES($1, $2, $3, $4, $5, 0, $6, $7, $8, $9) "
		"ON CONFLICT (id) DO NOTHING RETURNING rid",
	/* Pending devices of user $1 registered before $2 are revoked with their keys and queues. */
	[E_EXPIRE] = REVOKE_WITH("SELECT rid FROM devices WHERE user_id = $1 AND state = 0 "
	                         "AND created < $2"),
	[E_REVOKE] = REVOKE_WITH("SELECT unnest($1::bigint[]) AS rid"),
	[E_SET_ACTIVE] = "UPDATE devices SET state = 1 WHERE user_id = $1 AND id = ANY($2::text[])",
	[E_DEV_SEEN] = "UPDATE devices SET seen = $2 WHERE rid = $1",
	[E_SPK_SET] = "UPDATE devices SET spk_id = $2, spk_key = $3, spk_sig = $4 WHERE rid = $1",
	/* An id already there (or twice in the request) is not inserted: fewer rows than asked. */
	[E_OPK_INSERT] =
		"INSERT INTO opks(device, id, key) SELECT $1, u.id, u.key "
		"FROM unnest($2::bigint[], $3::text[]) AS u(id, key) ON CONFLICT DO NOTHING",
	[E_OPK_COUNT] = "SELECT count(*) FROM opks WHERE device = $1",
	/* The lowest one-time prekey nobody else is claiming right now, taken. */
	[E_OPK_CLAIM] =
		"DELETE FROM opks WHERE (device, id) = (SELECT device, id FROM opks WHERE device = $1 "
		"ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, key",
	[E_LIST_GET] = "SELECT version, list, sig, ak FROM devlists WHERE user_id = $1",
	[E_LIST_SET] =
		"INSERT INTO devlists(user_id, version, list, sig, ak) VALUES($1, $2, $3, $4, $5) "
		"ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, list = excluded.list, "
		"sig = excluded.sig, ak = excluded.ak",
	/* Envelopes $3 (bodies) for devices $2, qids from $1 on in that order, of message $4 (NULL:
	 * a device_send with its own payload $6) from device $5; each device counts one more. */
	[E_QUEUE_ADD] =
		"WITH u AS (SELECT * FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY "
		"AS u(dev, body, ord)), "
		"i AS (INSERT INTO envelopes(qid, device, message_id, from_device, body, payload) "
		"SELECT $1::bigint + u.ord - 1, u.dev, $4::bigint, $5::bigint, u.body, $6::text FROM u) "
		"UPDATE devices SET queued = queued + 1 WHERE rid IN (SELECT dev FROM u)",
	/* A queue's page: the envelope, its message's metadata and payload (a device_send's
	 * own), the sending device and user. */
	[E_QUEUE_PAGE] =
		"SELECT e.qid, coalesce(e.message_id, 0), fd.id, "
		"(SELECT name FROM users WHERE id = fd.user_id), "
		"CASE WHEN m.id IS NOT NULL THEN '@' || (SELECT name FROM users WHERE id = m.recipient_id) END, "
		"coalesce(m.payload, e.payload), e.body, coalesce(m.ts, 0), coalesce(m.reply_to, 0), "
		"coalesce(m.media_id, 0), md.size, md.name, md.type "
		"FROM envelopes e JOIN devices fd ON fd.rid = e.from_device "
		"LEFT JOIN messages m ON m.id = e.message_id LEFT JOIN media md ON md.id = m.media_id "
		"WHERE e.device = $1 AND e.qid > $2 ORDER BY e.qid LIMIT $3",
	/* Deletes the queue up to qid $2 and uncounts what it deleted: that count. */
	[E_ACK] =
		"WITH d AS (DELETE FROM envelopes WHERE device = $1 AND qid <= $2 RETURNING 1), "
		"n AS (SELECT count(*) AS n FROM d), "
		"u AS (UPDATE devices SET queued = greatest(queued - (SELECT n FROM n), 0) "
		"WHERE rid = $1) "
		"SELECT n FROM n",
	[E_HAS_LIST] = "SELECT 1 FROM devlists WHERE user_id = $1",
};

int store_pg_e2ee_prepare(struct store_pg *pg, char **err)
{
	return store_pg_prepare(pg, STORE_PG_E2EE, e2ee_sql, E_N, err);
}

static PGresult *exec(struct store_pg *pg, enum e2ee_pg_stmt which,
                      const struct store_pg_params *p)
{
	return store_pg_exec(pg, STORE_PG_E2EE, which, p);
}

/* Runs a statement that returns no rows: 0, or -1. */
static int run(struct store_pg *pg, enum e2ee_pg_stmt which, const struct store_pg_params *p)
{
	return store_pg_exec_count(pg, STORE_PG_E2EE, which, p) < 0 ? -1 : 0;
}

/* A PostgreSQL array literal of n numbers ("{1,2}"), malloc'd; NULL when out of memory. */
static char *int_array(const int64_t *v, size_t stride, size_t n)
{
	size_t cap = 3 + n * 21, len = 0;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	s[len++] = '{';
	for (size_t i = 0; i < n; i++) {
		const int64_t *x = (const int64_t *)((const char *)v + i * stride);

		len += (size_t)snprintf(s + len, cap - len, "%s%" PRId64, i > 0 ? "," : "", *x);
	}
	s[len++] = '}';
	s[len] = '\0';
	return s;
}

/* A PostgreSQL array literal of n texts, each quoted (" and \ escaped), malloc'd; NULL when
 * out of memory. get(i) gives the i-th text. */
static char *text_array(const void *ud, size_t n, const char *(*get)(const void *ud, size_t i))
{
	size_t cap = 3, len = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		cap += 3 + 2 * strlen(get(ud, i));
	s = malloc(cap);
	if (s == NULL)
		return NULL;
	s[len++] = '{';
	for (size_t i = 0; i < n; i++) {
		const char *t = get(ud, i);

		if (i > 0)
			s[len++] = ',';
		s[len++] = '"';
		for (; *t != '\0'; t++) {
			if (*t == '"' || *t == '\\')
				s[len++] = '\\';
			s[len++] = *t;
		}
		s[len++] = '"';
	}
	s[len++] = '}';
	s[len] = '\0';
	return s;
}

/* Reads DEVICE_COLS of row into d (zeroed first); *user_id when not NULL. */
static void read_device(const PGresult *r, int row, struct store_device *d, int64_t *user_id)
{
	memset(d, 0, sizeof(*d));
	d->rid = store_pg_int(r, row, 0);
	store_pg_copy(r, row, 1, d->id, sizeof(d->id));
	store_pg_copy(r, row, 2, d->user, sizeof(d->user));
	store_pg_copy(r, row, 3, d->sign_key, sizeof(d->sign_key));
	store_pg_copy(r, row, 4, d->dh_key, sizeof(d->dh_key));
	store_pg_copy(r, row, 5, d->name, sizeof(d->name));
	d->state = (int)store_pg_int(r, row, 6);
	d->created = store_pg_int(r, row, 7);
	d->spk_id = store_pg_int(r, row, 8);
	store_pg_copy(r, row, 9, d->spk_key, sizeof(d->spk_key));
	store_pg_copy(r, row, 10, d->spk_sig, sizeof(d->spk_sig));
	d->queued = store_pg_int(r, row, 11);
	d->opk_count = store_pg_int(r, row, 12);
	d->listed = d->state == STORE_DEVICE_ACTIVE;
	if (user_id != NULL)
		*user_id = store_pg_int(r, row, 13);
}

/* Finds one device (by id text, or by rid when id is NULL): 0 found, 1 none, -1 error. */
static int find_device(struct store_pg *pg, const char *id, int64_t rid, struct store_device *d,
                       int64_t *user_id)
{
	struct store_pg_params p;
	PGresult *r;
	int rc;

	store_pg_params_init(&p);
	if (id != NULL)
		store_pg_add_text(&p, id);
	else
		store_pg_add_int(&p, rid);
	r = exec(pg, id != NULL ? E_DEV_BY_ID : E_DEV_BY_RID, &p);
	if (r == NULL)
		return -1;
	rc = PQntuples(r) > 0 ? 0 : 1;
	if (rc == 0)
		read_device(r, 0, d, user_id);
	PQclear(r);
	return rc;
}

/* Revokes user_id's pending devices registered before cutoff (with keys and queues). */
static int expire_pending(struct store_pg *pg, int64_t user_id, int64_t cutoff)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_add_int(&p, user_id);
	store_pg_add_int(&p, cutoff);
	return run(pg, E_EXPIRE, &p);
}

/* Appends user_id's devices (active; pending ones not past cutoff when with_pending) to *out
 * (*n of them). 0 or -1. */
static int devices_of(struct store_pg *pg, int64_t user_id, bool with_pending, int64_t cutoff,
                      struct store_device **out, size_t *n)
{
	struct store_pg_params p;
	struct store_device *v;
	PGresult *r;
	int rows;

	store_pg_params_init(&p);
	store_pg_add_int(&p, user_id);
	store_pg_add_bool(&p, with_pending);
	store_pg_add_int(&p, cutoff);
	r = exec(pg, E_DEVS_OF, &p);
	if (r == NULL)
		return -1;
	rows = PQntuples(r);
	if (rows == 0) {
		PQclear(r);
		return 0;
	}
	v = realloc(*out, (*n + (size_t)rows) * sizeof(*v));
	if (v == NULL) {
		PQclear(r);
		return -1;
	}
	*out = v;
	for (int i = 0; i < rows; i++)
		read_device(r, i, &v[(*n)++], NULL);
	PQclear(r);
	return 0;
}

/* Reads user_id's current list into e (version_out; list_out and sig_out, or only *ak when
 * ak is not NULL). No list: version 0. 0 or -1. */
static int read_list(struct store_pg *pg, int64_t user_id, struct store_e2ee *e, char **ak)
{
	struct store_pg_params p;
	PGresult *r;
	int ret = -1;

	e->version_out = 0;
	store_pg_params_init(&p);
	store_pg_add_int(&p, user_id);
	r = exec(pg, E_LIST_GET, &p);
	if (r == NULL)
		return -1;
	if (PQntuples(r) > 0) {
		e->version_out = store_pg_int(r, 0, 0);
		if (ak != NULL) {
			*ak = store_pg_dup(r, 0, 3);
			if (*ak == NULL)
				goto out;
		} else {
			e->list_out = store_pg_dup(r, 0, 1);
			e->sig_out = store_pg_dup(r, 0, 2);
			if (e->list_out == NULL || e->sig_out == NULL)
				goto out;
		}
	}
	ret = 0;
out:
	PQclear(r);
	return ret;
}

static int opk_count(struct store_pg *pg, int64_t rid, int64_t *count)
{
	struct store_pg_params p;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, rid);
	r = exec(pg, E_OPK_COUNT, &p);
	if (r == NULL)
		return -1;
	*count = store_pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

static const char *opk_key(const void *ud, size_t i)
{
	return ((const struct store_prekey *)ud)[i].key;
}

/* Adds the one-time prekeys of e to device rid: STORE_EXISTS for an id already there (or
 * twice in e), STORE_FULL past max_prekeys. */
static enum store_status add_opks(struct store_pg *pg, int64_t rid, const struct store_e2ee *e,
                                  int64_t *count)
{
	if (e->nopks > 0) {
		struct store_pg_params p;
		char *ids = int_array(&e->opks[0].id, sizeof(e->opks[0]), e->nopks);
		char *keys = text_array(e->opks, e->nopks, opk_key);
		int64_t added = -1;

		if (ids != NULL && keys != NULL) {
			store_pg_params_init(&p);
			store_pg_add_int(&p, rid);
			store_pg_add_text(&p, ids);
			store_pg_add_text(&p, keys);
			added = store_pg_exec_count(pg, STORE_PG_E2EE, E_OPK_INSERT, &p);
		}
		free(ids);
		free(keys);
		if (added < 0)
			return STORE_FAILED;
		if ((size_t)added != e->nopks)
			return STORE_EXISTS;
	}
	if (opk_count(pg, rid, count) != 0)
		return STORE_FAILED;
	return *count > e->max_prekeys ? STORE_FULL : STORE_OK;
}

static enum store_status run_register(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	const struct store_device *d = &e->dev;
	struct store_pg_params p;
	int64_t active, pending;
	PGresult *r;
	bool taken;

	if (expire_pending(pg, job->user_id, e->pending_cutoff) != 0)
		return STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, e->pending_cutoff);
	r = exec(pg, E_DEV_COUNT, &p);
	if (r == NULL)
		return STORE_FAILED;
	active = store_pg_int(r, 0, 0);
	pending = store_pg_int(r, 0, 1);
	PQclear(r);
	if (store_e2ee_register_rule(e, active, pending) != STORE_OK)
		return STORE_FULL;
	store_pg_params_init(&p);
	store_pg_add_text(&p, d->id);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_text(&p, d->sign_key);
	store_pg_add_text(&p, d->dh_key);
	store_pg_add_text(&p, d->name);
	store_pg_add_int(&p, job->ts != 0 ? job->ts : pier_now_ms());
	store_pg_add_int(&p, d->spk_id);
	store_pg_add_text(&p, d->spk_key);
	store_pg_add_text(&p, d->spk_sig);
	r = exec(pg, E_DEV_INSERT, &p);
	if (r == NULL)
		return STORE_FAILED;
	taken = PQntuples(r) == 0;
	if (!taken)
		e->rid = store_pg_int(r, 0, 0);
	PQclear(r);
	if (taken)
		return STORE_EXISTS;
	return add_opks(pg, e->rid, e, &e->opk_count);
}

static enum store_status run_hello(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_pg_params p;
	enum store_status status;
	int64_t owner = 0;
	int rc;

	if (e->device_id == NULL || expire_pending(pg, job->user_id, e->pending_cutoff) != 0)
		return STORE_FAILED;
	rc = find_device(pg, e->device_id, 0, &e->dev, &owner);
	status = store_e2ee_hello_rule(e, rc, owner, job->user_id);
	if (status != STORE_OK)
		return status;
	store_pg_params_init(&p);
	store_pg_add_int(&p, e->rid);
	store_pg_add_int(&p, pier_now_ms());
	return run(pg, E_DEV_SEEN, &p) == 0 ? STORE_OK : STORE_FAILED;
}

static enum store_status run_devices(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;

	if (expire_pending(pg, e->peer_id, e->pending_cutoff) != 0 ||
	    read_list(pg, e->peer_id, e, NULL) != 0 ||
	    devices_of(pg, e->peer_id, e->include_pending, e->pending_cutoff, &e->devices,
	               &e->ndevices) != 0)
		return STORE_FAILED;
	return STORE_OK;
}

static const char *listed_id(const void *ud, size_t i)
{
	return ((const struct store_device *)ud)[i].id;
}

/* Revokes the n devices of v (their rids). 0 or -1. */
static int revoke_all(struct store_pg *pg, const struct store_device *v, size_t n)
{
	struct store_pg_params p;
	char *rids;
	int rc;

	if (n == 0)
		return 0;
	rids = int_array(&v[0].rid, sizeof(v[0]), n);
	if (rids == NULL)
		return -1;
	store_pg_params_init(&p);
	store_pg_add_text(&p, rids);
	rc = run(pg, E_REVOKE, &p);
	free(rids);
	return rc;
}

/* Checks the listed devices of e: every one the user's, registered with the listed keys, not
 * revoked; on a reset, the session's own. STORE_OK, or why not. */
static enum store_status check_listed(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;

	for (size_t i = 0; i < e->nlisted; i++) {
		struct store_device d;
		int64_t owner = 0;
		int rc = find_device(pg, e->listed[i].id, 0, &d, &owner);
		enum store_status status = store_e2ee_listed_rule(job, i, rc, &d, owner);

		if (status != STORE_OK)
			return status;
	}
	return STORE_OK;
}

static enum store_status run_publish(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_device *old = NULL;
	size_t nold = 0, nmine = 0;
	enum store_status status = STORE_FAILED;
	struct store_pg_params p;
	char *ak = NULL, *ids = NULL;

	if (e->list == NULL || e->sig == NULL || e->ak == NULL ||
	    expire_pending(pg, job->user_id, e->pending_cutoff) != 0 ||
	    read_list(pg, job->user_id, e, &ak) != 0)
		goto out;
	status = store_e2ee_publish_rule(e, ak);
	if (status != STORE_OK)
		goto out;
	status = check_listed(pg, job);
	if (status != STORE_OK)
		goto out;
	status = STORE_FAILED;
	/* Left out: active ones (on a reset, pending ones too) are revoked; they are the output. */
	if (devices_of(pg, job->user_id, e->reset, e->pending_cutoff, &old, &nold) != 0)
		goto out;
	for (size_t i = 0; i < nold; i++) {
		if (store_e2ee_find_listed(e, old[i].id) == NULL)
			old[nmine++] = old[i];
	}
	if (revoke_all(pg, old, nmine) != 0)
		goto out;
	if (e->nlisted > 0) {
		ids = text_array(e->listed, e->nlisted, listed_id);
		if (ids == NULL)
			goto out;
		store_pg_params_init(&p);
		store_pg_add_int(&p, job->user_id);
		store_pg_add_text(&p, ids);
		if (run(pg, E_SET_ACTIVE, &p) != 0)
			goto out;
	}
	store_pg_params_init(&p);
	store_pg_add_int(&p, job->user_id);
	store_pg_add_int(&p, e->version);
	store_pg_add_text(&p, e->list);
	store_pg_add_text(&p, e->sig);
	store_pg_add_text(&p, e->ak);
	if (run(pg, E_LIST_SET, &p) != 0)
		goto out;
	e->version_out = e->version;
	if (nmine > 0) {
		e->devices = old;
		e->ndevices = nmine;
		old = NULL;
	}
	status = STORE_OK;
out:
	free(old);
	free(ak);
	free(ids);
	return status;
}

static enum store_status run_prekeys(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;

	if (e->dev.spk_id != 0) {
		struct store_pg_params p;

		store_pg_params_init(&p);
		store_pg_add_int(&p, e->device_rid);
		store_pg_add_int(&p, e->dev.spk_id);
		store_pg_add_text(&p, e->dev.spk_key);
		store_pg_add_text(&p, e->dev.spk_sig);
		if (run(pg, E_SPK_SET, &p) != 0)
			return STORE_FAILED;
	}
	return add_opks(pg, e->device_rid, e, &e->opk_count);
}

/* Claims one one-time prekey of d (none left: has_opk stays false). 0 or -1. */
static int claim_opk(struct store_pg *pg, struct store_device *d)
{
	struct store_pg_params p;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, d->rid);
	r = exec(pg, E_OPK_CLAIM, &p);
	if (r == NULL)
		return -1;
	if (PQntuples(r) > 0) {
		d->has_opk = true;
		d->opk.id = store_pg_int(r, 0, 0);
		store_pg_copy(r, 0, 1, d->opk.key, sizeof(d->opk.key));
		d->opk_count--;
	}
	PQclear(r);
	return 0;
}

static enum store_status run_keys(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	size_t keep = 0;

	if (read_list(pg, e->peer_id, e, NULL) != 0 ||
	    devices_of(pg, e->peer_id, false, 0, &e->devices, &e->ndevices) != 0)
		return STORE_FAILED;
	for (size_t i = 0; i < e->ndevices; i++) {
		if (e->devices[i].rid == e->device_rid)
			continue;            /* one's own device needs no session with itself */
		e->devices[keep] = e->devices[i];
		if (claim_opk(pg, &e->devices[keep]) != 0)
			return STORE_FAILED;
		keep++;
	}
	e->ndevices = keep;
	return STORE_OK;
}

/* Queues n envelopes from device from_rid: bodies[i] for device rids[i], of message msg_id
 * (0: a device_send, with payload); qids[i] set (consecutive, from the "env" counter). */
static int queue_envelopes(struct store_pg *pg, size_t n, const char *rids, const char *bodies,
                           int64_t msg_id, int64_t from_rid, const char *payload, int64_t *first)
{
	struct store_pg_params p;

	if (store_pg_next_ids(pg, "env", (int64_t)n, first) != 0)
		return -1;
	store_pg_params_init(&p);
	store_pg_add_int(&p, *first);
	store_pg_add_text(&p, rids);
	store_pg_add_text(&p, bodies);
	if (msg_id != 0)
		store_pg_add_int(&p, msg_id);
	else
		store_pg_add_null(&p);
	store_pg_add_int(&p, from_rid);
	store_pg_add_text(&p, payload);
	return run(pg, E_QUEUE_ADD, &p);
}

static const char *one_text(const void *ud, size_t i)
{
	(void)i;
	return ud;
}

static enum store_status run_device_send(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_device d;
	enum store_status status;
	int64_t owner = 0;
	char rid[24], *bodies;
	int rc;

	if (e->device_id == NULL || e->payload == NULL || e->body == NULL ||
	    expire_pending(pg, job->user_id, e->pending_cutoff) != 0)
		return STORE_FAILED;
	/* From a device of the user's that is still there (not revoked nor expired meanwhile). */
	rc = find_device(pg, NULL, e->device_rid, &d, &owner);
	status = store_e2ee_own_device(rc, &d, owner, job->user_id, STORE_NO_DEVICE);
	if (status != STORE_OK)
		return status;
	rc = find_device(pg, e->device_id, 0, &d, &owner);
	status = store_e2ee_own_device(rc, &d, owner, job->user_id, STORE_NOT_FOUND);
	if (status != STORE_OK)
		return status;
	if (d.queued >= e->max_queue)
		return STORE_FULL;
	e->rid = d.rid;
	snprintf(rid, sizeof rid, "{%" PRId64 "}", d.rid);
	bodies = text_array(e->body, 1, one_text);
	if (bodies == NULL)
		return STORE_FAILED;
	rc = queue_envelopes(pg, 1, rid, bodies, 0, e->device_rid, e->payload, &e->qid);
	free(bodies);
	return rc == 0 ? STORE_OK : STORE_FAILED;
}

static enum store_status run_queue(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_pg_params p;
	int limit = e->limit < 1 ? 1 : e->limit > 1000 ? 1000 : e->limit;
	enum store_status status = STORE_FAILED;
	bool failed = false;
	PGresult *r;
	int rows;

	store_pg_params_init(&p);
	store_pg_add_int(&p, e->device_rid);
	store_pg_add_int(&p, e->after);
	store_pg_add_int(&p, (int64_t)limit + 1);
	r = exec(pg, E_QUEUE_PAGE, &p);
	if (r == NULL)
		return STORE_FAILED;
	e->envs = calloc((size_t)limit, sizeof(*e->envs));
	if (e->envs == NULL)
		goto out;
	rows = PQntuples(r);
	e->more = rows > limit;
	if (rows > limit)
		rows = limit;
	for (int i = 0; i < rows; i++) {
		struct store_envelope *v = &e->envs[e->nenvs++];

		v->device_rid = e->device_rid;
		v->qid = store_pg_int(r, i, 0);
		v->msg_id = store_pg_int(r, i, 1);
		store_pg_copy(r, i, 2, v->from_device, sizeof(v->from_device));
		v->from = store_pg_dup(r, i, 3);
		v->to = store_pg_dup_or_null(r, i, 4, &failed);
		v->payload = store_pg_dup_or_null(r, i, 5, &failed);
		v->body = store_pg_dup(r, i, 6);
		v->ts = store_pg_int(r, i, 7);
		v->reply_to = store_pg_int(r, i, 8);
		v->media_id = store_pg_int(r, i, 9);
		if (v->media_id != 0) {
			v->media_size = store_pg_int(r, i, 10);
			v->media_name = store_pg_dup(r, i, 11);
			v->media_type = store_pg_dup(r, i, 12);
			if (v->media_name == NULL || v->media_type == NULL)
				goto out;
		}
		if (v->from == NULL || v->body == NULL || failed)
			goto out;
	}
	status = STORE_OK;
out:
	PQclear(r);
	return status;
}

static enum store_status run_ack(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_pg_params p;
	PGresult *r;

	store_pg_params_init(&p);
	store_pg_add_int(&p, e->device_rid);
	store_pg_add_int(&p, e->upto);
	r = exec(pg, E_ACK, &p);
	if (r == NULL)
		return STORE_FAILED;
	e->count = store_pg_int(r, 0, 0);
	PQclear(r);
	return STORE_OK;
}

enum store_status store_pg_e2ee_run(struct store_pg *pg, struct store_job *job)
{
	switch (job->op) {
	case STORE_E2EE_REGISTER:
		return run_register(pg, job);
	case STORE_E2EE_HELLO:
		return run_hello(pg, job);
	case STORE_E2EE_DEVICES:
		return run_devices(pg, job);
	case STORE_E2EE_PUBLISH:
		return run_publish(pg, job);
	case STORE_E2EE_PREKEYS:
		return run_prekeys(pg, job);
	case STORE_E2EE_KEYS:
		return run_keys(pg, job);
	case STORE_E2EE_DEVICE_SEND:
		return run_device_send(pg, job);
	case STORE_E2EE_QUEUE:
		return run_queue(pg, job);
	case STORE_E2EE_ACK:
		return run_ack(pg, job);
	default:
		return STORE_FAILED;
	}
}

/* ---- an encrypted message (STORE_APPEND with e2ee.payload) ---- */

enum store_status store_pg_e2ee_plain_check(struct store_pg *pg, struct store_job *job,
                                            bool media_e2ee)
{
	struct store_pg_params p;
	PGresult *r;
	bool has;

	if (media_e2ee)
		return STORE_E2EE_REQUIRED;   /* ciphertext goes only in an encrypted message */
	if (job->room != NULL)
		return STORE_OK;
	store_pg_params_init(&p);
	store_pg_add_int(&p, job->peer_id);
	r = exec(pg, E_HAS_LIST, &p);
	if (r == NULL)
		return STORE_FAILED;
	has = PQntuples(r) > 0;
	PQclear(r);
	return has ? STORE_E2EE_REQUIRED : STORE_OK;
}

enum store_status store_pg_e2ee_send_check(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_device me, *cur = NULL;
	size_t ncur = 0;
	int64_t owner = 0;
	enum store_status status = STORE_FAILED;
	int rc;

	if (job->room != NULL || job->peer_id <= 0)
		return STORE_NOT_FOUND;
	rc = find_device(pg, NULL, e->device_rid, &me, &owner);
	if (rc < 0)
		return STORE_FAILED;
	if (rc > 0 || owner != job->user_id || me.state != STORE_DEVICE_ACTIVE)
		return STORE_NO_DEVICE;
	if (devices_of(pg, job->peer_id, false, 0, &cur, &ncur) != 0)
		goto out;
	if (ncur == 0) {
		status = STORE_NO_DEVICE;    /* the recipient has no device to read it */
		goto out;
	}
	if (job->peer_id != job->user_id &&
	    devices_of(pg, job->user_id, false, 0, &cur, &ncur) != 0)
		goto out;
	status = store_e2ee_match(e, &cur, ncur);
out:
	free(cur);
	return status;
}

static const char *env_body(const void *ud, size_t i)
{
	return ((const struct store_envelope *)ud)[i].body_in;
}

enum store_status store_pg_e2ee_send_queue(struct store_pg *pg, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	enum store_status status = STORE_FAILED;
	char *rids, *bodies;
	int64_t first = 0;

	if (e->nenvs_in == 0)
		return STORE_OK;
	rids = int_array(&e->envs_in[0].device_rid, sizeof(e->envs_in[0]), e->nenvs_in);
	bodies = text_array(e->envs_in, e->nenvs_in, env_body);
	if (rids != NULL && bodies != NULL &&
	    queue_envelopes(pg, e->nenvs_in, rids, bodies, job->msg_id, e->device_rid, NULL,
	                    &first) == 0) {
		for (size_t i = 0; i < e->nenvs_in; i++)
			e->envs_in[i].qid = first + (int64_t)i;
		status = STORE_OK;
	}
	free(rids);
	free(bodies);
	return status;
}
