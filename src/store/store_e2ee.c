/* store_e2ee.c - the store's side of end-to-end encryption (store_e2ee.h): devices, their
 * prekeys, each user's signed device list, and the per-device queues of envelopes, run by
 * store_sqlite.c inside the batch transaction like every job.
 *
 * The store decides what depends on stored state, in the transaction that acts on it: that a
 * list grows by one version and names only the user's registered devices, that an encrypted
 * send has an envelope for exactly the current devices, that no queue passes its limit. So
 * two sends or publishes racing in one batch see each other. What needs no state (base64url
 * forms, signatures) the loop checked before.
 *
 * A queue is the device's rows of envelopes in qid order (one index serves reads and acks);
 * queues.queued counts them (a narrow row of its own, not the wide devices row), so a send
 * checks the limit of each recipient device without counting its queue. An encrypted message
 * takes its room in each queue (the count up by one where it is below the limit) before its
 * row is written, and is refused (STORE_FULL, the rooms taken given back) when a queue has
 * none. Qids come from a counter of the store's (next_qid), never reused.
 *
 * The active devices of the users who send encrypted messages are kept in memory
 * (store_e2ee_sets.h): the usual send then reads no device row to check its envelopes.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_rules.h"

#define DEVICE_COLS \
	"d.rid, d.id, (SELECT name FROM users WHERE id = d.user_id), d.sign_key, d.dh_key, " \
	"d.name, d.state, d.created, d.spk_id, d.spk_key, d.spk_sig, " \
	"coalesce((SELECT queued FROM queues WHERE device = d.rid), 0), " \
	"(SELECT count(*) FROM opks WHERE device = d.rid), d.user_id "

#define PENDING_GONE "d.state = 0 AND d.created < ?2"

const char *const store_e2ee_sql[E2EE_COUNT] = {
	[E2EE_DEV_BY_ID] = "SELECT " DEVICE_COLS "FROM devices d WHERE d.id = ?1",
	[E2EE_DEV_BY_RID] = "SELECT " DEVICE_COLS "FROM devices d WHERE d.rid = ?1",
	/* A user's devices: active ones, and (?2) pending ones not expired (?3). */
	[E2EE_DEVS_OF] =
		"SELECT " DEVICE_COLS "FROM devices d WHERE d.user_id = ?1 AND (d.state = 1 OR "
		"(?2 AND d.state = 0 AND d.created >= ?3)) ORDER BY d.id",
	[E2EE_DEV_COUNT] =
		"SELECT coalesce(sum(state = 1), 0), coalesce(sum(state = 0 AND created >= ?2), 0) "
		"FROM devices WHERE user_id = ?1 AND state < 2",
	[E2EE_DEV_INSERT] =
		"INSERT INTO devices(id, user_id, sign_key, dh_key, name, state, created, spk_id, "
		"spk_key, spk_sig) VALUES(?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9) "
		"ON CONFLICT(id) DO NOTHING",
	/* Pending devices of user ?1 past their time (?2) are revoked with their keys and queues. */
	[E2EE_EXPIRE_OPKS] =
		"DELETE FROM opks WHERE device IN (SELECT rid FROM devices d WHERE d.user_id = ?1 AND "
		PENDING_GONE ")",
	[E2EE_EXPIRE_ENVS] =
		"DELETE FROM envelopes WHERE device IN (SELECT rid FROM devices d WHERE "
		"d.user_id = ?1 AND " PENDING_GONE ")",
	[E2EE_EXPIRE_QUEUES] =
		"UPDATE queues SET queued = 0 WHERE device IN (SELECT rid FROM devices d WHERE "
		"d.user_id = ?1 AND " PENDING_GONE ")",
	[E2EE_EXPIRE_DEVS] =
		"UPDATE devices SET state = 2 WHERE user_id = ?1 AND state = 0 AND created < ?2",
	[E2EE_DEV_SET_STATE] = "UPDATE devices SET state = ?2 WHERE rid = ?1",
	[E2EE_DEV_REVOKE] = "UPDATE devices SET state = 2 WHERE rid = ?1",
	[E2EE_DEV_QUEUE_ZERO] = "UPDATE queues SET queued = 0 WHERE device = ?1",
	[E2EE_DEV_SEEN] = "UPDATE devices SET seen = ?2 WHERE rid = ?1",
	[E2EE_DEV_OPKS_DELETE] = "DELETE FROM opks WHERE device = ?1",
	[E2EE_DEV_ENVS_DELETE] = "DELETE FROM envelopes WHERE device = ?1",
	[E2EE_SPK_SET] = "UPDATE devices SET spk_id = ?2, spk_key = ?3, spk_sig = ?4 WHERE rid = ?1",
	[E2EE_OPK_INSERT] = "INSERT INTO opks(device, id, key) VALUES(?1, ?2, ?3)",
	[E2EE_OPK_COUNT] = "SELECT count(*) FROM opks WHERE device = ?1",
	[E2EE_OPK_FIRST] = "SELECT id, key FROM opks WHERE device = ?1 ORDER BY id LIMIT 1",
	[E2EE_OPK_DELETE] = "DELETE FROM opks WHERE device = ?1 AND id = ?2",
	[E2EE_LIST_GET] = "SELECT version, list, sig, ak FROM devlists WHERE user_id = ?1",
	[E2EE_LIST_SET] =
		"INSERT INTO devlists(user_id, version, list, sig, ak) VALUES(?1, ?2, ?3, ?4, ?5) "
		"ON CONFLICT(user_id) DO UPDATE SET version = excluded.version, list = excluded.list, "
		"sig = excluded.sig, ak = excluded.ak",
	[E2EE_ENV_INSERT] =
		"INSERT INTO envelopes(qid, device, message_id, from_device, body, payload) "
		"VALUES(?6, ?1, ?2, ?3, ?4, ?5)",
	/* A device's queue row: written with the device; also for a device another connection
	 * wrote without one (take_one). */
	[E2EE_QUEUE_NEW] = "INSERT OR IGNORE INTO queues(device, queued) VALUES(?1, 0)",
	[E2EE_QUEUE_ADD] =
		"INSERT INTO queues(device, queued) VALUES(?1, 1) "
		"ON CONFLICT(device) DO UPDATE SET queued = queued + 1",
	[E2EE_QUEUE_SUB] = "UPDATE queues SET queued = max(queued - ?2, 0) WHERE device = ?1",
	/* A queue's page: the envelope, its message's metadata and payload (a device_send's
	 * own), the sending device and user. */
	[E2EE_QUEUE_PAGE] =
		"SELECT e.qid, coalesce(e.message_id, 0), fd.id, (SELECT name FROM users WHERE id = fd.user_id), "
		"CASE WHEN m.id IS NOT NULL THEN '@' || (SELECT name FROM users WHERE id = m.recipient_id) END, "
		"coalesce(m.payload, e.payload), e.body, coalesce(m.ts, 0), coalesce(m.reply_to, 0), "
		"coalesce(m.media_id, 0), md.size, md.name, md.type "
		"FROM envelopes e JOIN devices fd ON fd.rid = e.from_device "
		"LEFT JOIN messages m ON m.id = e.message_id LEFT JOIN media md ON md.id = m.media_id "
		"WHERE e.device = ?1 AND e.qid > ?2 ORDER BY e.qid LIMIT ?3",
	[E2EE_ACK] = "DELETE FROM envelopes WHERE device = ?1 AND qid <= ?2",
	[E2EE_HAS_LIST] = "SELECT 1 FROM devlists WHERE user_id = ?1",
	[E2EE_MEDIA_E2EE] = "SELECT e2ee FROM media WHERE id = ?1",
	/* An encrypted send's check: the active devices of sender and recipient, only what the
	 * check reads (one index range per user; no names, no prekey counts). Two searches, not
	 * "user_id IN (?1, ?2)": SQLite builds a temporary table for an IN list of variables
	 * (38k instructions a run against 12k). */
	[E2EE_SEND_SET] =
		"SELECT rid, id, user_id FROM devices WHERE user_id = ?1 AND state = 1 "
		"UNION ALL SELECT rid, id, user_id FROM devices WHERE user_id = ?2 AND "
		"?2 <> ?1 AND state = 1",
	/* An encrypted message's room in a queue (below ?2), taken before its row is written:
	 * no row changed, no room. (RETURNING the count instead cost 3.5 times as much.) */
	[E2EE_QUEUE_TAKE] = "UPDATE queues SET queued = queued + 1 WHERE device = ?1 AND queued < ?2",
	/* A room taken and given back: another queue of the same message had none. */
	[E2EE_QUEUE_GIVE] = "UPDATE queues SET queued = queued - 1 WHERE device = ?1",
	/* The qid counter (next_qid): the highest qid given, as saved and as the table has it. */
	[E2EE_QID_LOAD] =
		"SELECT coalesce((SELECT hwm FROM e2ee_qid WHERE id = 1), 0), "
		"coalesce((SELECT max(qid) FROM envelopes), 0)",
	[E2EE_QID_SAVE] =
		"INSERT INTO e2ee_qid(id, hwm) VALUES(1, ?1) "
		"ON CONFLICT(id) DO UPDATE SET hwm = max(hwm, excluded.hwm)",
	/* Changes only when another connection (another process) committed to the file. */
	[E2EE_DATA_VERSION] = "PRAGMA data_version",
};

static void copy_col(sqlite3_stmt *s, int col, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t len = t != NULL ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (len >= n)
		len = n - 1;
	if (len > 0)
		memcpy(out, t, len);
	out[len] = '\0';
}

/* Reads DEVICE_COLS of the current row into d (zeroed first); *user_id when not NULL. */
static void read_device(sqlite3_stmt *s, struct store_device *d, int64_t *user_id)
{
	memset(d, 0, sizeof(*d));
	d->rid = sqlite3_column_int64(s, 0);
	copy_col(s, 1, d->id, sizeof(d->id));
	copy_col(s, 2, d->user, sizeof(d->user));
	copy_col(s, 3, d->sign_key, sizeof(d->sign_key));
	copy_col(s, 4, d->dh_key, sizeof(d->dh_key));
	copy_col(s, 5, d->name, sizeof(d->name));
	d->state = sqlite3_column_int(s, 6);
	d->created = sqlite3_column_int64(s, 7);
	d->spk_id = sqlite3_column_int64(s, 8);
	copy_col(s, 9, d->spk_key, sizeof(d->spk_key));
	copy_col(s, 10, d->spk_sig, sizeof(d->spk_sig));
	d->queued = sqlite3_column_int64(s, 11);
	d->opk_count = sqlite3_column_int64(s, 12);
	d->listed = d->state == STORE_DEVICE_ACTIVE;
	if (user_id != NULL)
		*user_id = sqlite3_column_int64(s, 13);
}

static sqlite3_stmt *st(struct store_db *db, enum e2ee_stmt which)
{
	return db->e2ee[which];
}

/* Runs a bound statement that returns no rows (and resets it): 0, or -1. */
static int run(struct store_db *db, enum e2ee_stmt which)
{
	sqlite3_stmt *s = st(db, which);
	int rc = sqlite3_step(s);

	store_stmt_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Finds a device by its id (1: none, 0 found, -1 error), with its user's id. */
static int device_by_id(struct store_db *db, const char *id, struct store_device *d,
                        int64_t *user_id)
{
	sqlite3_stmt *s = st(db, E2EE_DEV_BY_ID);
	int rc;

	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_device(s, d, user_id);
	store_stmt_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int device_by_rid(struct store_db *db, int64_t rid, struct store_device *d,
                         int64_t *user_id)
{
	sqlite3_stmt *s = st(db, E2EE_DEV_BY_RID);
	int rc;

	sqlite3_bind_int64(s, 1, rid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_device(s, d, user_id);
	store_stmt_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* Revokes user_id's pending devices registered before cutoff (with keys and queues). */
static int expire_pending(struct store_db *db, int64_t user_id, int64_t cutoff)
{
	static const enum e2ee_stmt steps[] = {
		E2EE_EXPIRE_OPKS, E2EE_EXPIRE_ENVS, E2EE_EXPIRE_QUEUES, E2EE_EXPIRE_DEVS
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sqlite3_bind_int64(st(db, steps[i]), 1, user_id);
		sqlite3_bind_int64(st(db, steps[i]), 2, cutoff);
		if (run(db, steps[i]) != 0)
			return -1;
	}
	return 0;
}

/* Appends the devices s gives to *out (*n of them). 0 or -1. Resets s. */
static int collect_devices(sqlite3_stmt *s, struct store_device **out, size_t *n)
{
	size_t cap = *n;
	int rc, ret = -1;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (*n == cap) {
			size_t ncap = cap == 0 ? 8 : cap * 2;
			struct store_device *v = realloc(*out, ncap * sizeof(*v));

			if (v == NULL)
				goto out;
			*out = v;
			cap = ncap;
		}
		read_device(s, &(*out)[(*n)++], NULL);
	}
	if (rc == SQLITE_DONE)
		ret = 0;
out:
	store_stmt_reset(s);
	return ret;
}

/* user_id's devices: active, and pending (not past cutoff) when with_pending. */
static int devices_of(struct store_db *db, int64_t user_id, bool with_pending, int64_t cutoff,
                      struct store_device **out, size_t *n)
{
	sqlite3_stmt *s = st(db, E2EE_DEVS_OF);

	sqlite3_bind_int64(s, 1, user_id);
	sqlite3_bind_int(s, 2, with_pending);
	sqlite3_bind_int64(s, 3, cutoff);
	return collect_devices(s, out, n);
}

/* Reads user_id's list into job->e2ee (version_out 0 and no text when there is none). */
static int read_list(struct store_db *db, int64_t user_id, struct store_e2ee *e, char **ak)
{
	sqlite3_stmt *s = st(db, E2EE_LIST_GET);
	int rc, ret = -1;

	e->version_out = 0;
	sqlite3_bind_int64(s, 1, user_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		e->version_out = sqlite3_column_int64(s, 0);
		if (ak != NULL) {
			*ak = store_column_dup(s, 3);
			if (*ak == NULL)
				goto out;
		} else {
			e->list_out = store_column_dup(s, 1);
			e->sig_out = store_column_dup(s, 2);
			if (e->list_out == NULL || e->sig_out == NULL)
				goto out;
		}
	} else if (rc != SQLITE_DONE) {
		goto out;
	}
	ret = 0;
out:
	store_stmt_reset(s);
	return ret;
}

static int opk_count(struct store_db *db, int64_t rid, int64_t *count)
{
	sqlite3_stmt *s = st(db, E2EE_OPK_COUNT);
	int rc;

	sqlite3_bind_int64(s, 1, rid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(s, 0);
	store_stmt_reset(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Adds the one-time prekeys of e to device rid: STORE_EXISTS for an id already there,
 * STORE_FULL past max_prekeys. */
static enum store_status add_opks(struct store_db *db, int64_t rid, const struct store_e2ee *e,
                                  int64_t *count)
{
	sqlite3_stmt *s = st(db, E2EE_OPK_INSERT);

	for (size_t i = 0; i < e->nopks; i++) {
		int rc;

		sqlite3_bind_int64(s, 1, rid);
		sqlite3_bind_int64(s, 2, e->opks[i].id);
		sqlite3_bind_text(s, 3, e->opks[i].key, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		store_stmt_reset(s);
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return STORE_EXISTS;
		if (rc != SQLITE_DONE)
			return STORE_FAILED;
	}
	if (opk_count(db, rid, count) != 0)
		return STORE_FAILED;
	return *count > e->max_prekeys ? STORE_FULL : STORE_OK;
}

static enum store_status run_register(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	const struct store_device *d = &e->dev;
	sqlite3_stmt *s = st(db, E2EE_DEV_COUNT);
	int64_t active = 0, pending = 0;
	int rc;

	if (expire_pending(db, job->user_id, e->pending_cutoff) != 0)
		return STORE_FAILED;
	sqlite3_bind_int64(s, 1, job->user_id);
	sqlite3_bind_int64(s, 2, e->pending_cutoff);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		active = sqlite3_column_int64(s, 0);
		pending = sqlite3_column_int64(s, 1);
	}
	store_stmt_reset(s);
	if (rc != SQLITE_ROW)
		return STORE_FAILED;
	if (store_e2ee_register_rule(e, active, pending) != STORE_OK)
		return STORE_FULL;
	s = st(db, E2EE_DEV_INSERT);
	sqlite3_bind_text(s, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, job->user_id);
	sqlite3_bind_text(s, 3, d->sign_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, d->dh_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, d->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, job->ts != 0 ? job->ts : pier_now_ms());
	sqlite3_bind_int64(s, 7, d->spk_id);
	sqlite3_bind_text(s, 8, d->spk_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, d->spk_sig, -1, SQLITE_STATIC);
	if (run(db, E2EE_DEV_INSERT) != 0)
		return STORE_FAILED;
	if (sqlite3_changes(db->db) == 0)
		return STORE_EXISTS;
	e->rid = sqlite3_last_insert_rowid(db->db);
	sqlite3_bind_int64(st(db, E2EE_QUEUE_NEW), 1, e->rid);
	if (run(db, E2EE_QUEUE_NEW) != 0)
		return STORE_FAILED;
	return add_opks(db, e->rid, e, &e->opk_count);
}

static enum store_status run_hello(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	enum store_status status;
	int64_t owner = 0;
	int rc;

	if (e->device_id == NULL || expire_pending(db, job->user_id, e->pending_cutoff) != 0)
		return STORE_FAILED;
	rc = device_by_id(db, e->device_id, &e->dev, &owner);
	status = store_e2ee_hello_rule(e, rc, owner, job->user_id);
	if (status != STORE_OK)
		return status;
	sqlite3_bind_int64(st(db, E2EE_DEV_SEEN), 1, e->rid);
	sqlite3_bind_int64(st(db, E2EE_DEV_SEEN), 2, pier_now_ms());
	return run(db, E2EE_DEV_SEEN) == 0 ? STORE_OK : STORE_FAILED;
}

static enum store_status run_devices(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;

	if (expire_pending(db, e->peer_id, e->pending_cutoff) != 0 ||
	    read_list(db, e->peer_id, e, NULL) != 0 ||
	    devices_of(db, e->peer_id, e->include_pending, e->pending_cutoff, &e->devices,
	               &e->ndevices) != 0)
		return STORE_FAILED;
	return STORE_OK;
}

/* Revokes device rid: its state, one-time prekeys and queue. */
static int revoke(struct store_db *db, int64_t rid)
{
	static const enum e2ee_stmt steps[] = {
		E2EE_DEV_REVOKE, E2EE_DEV_QUEUE_ZERO, E2EE_DEV_OPKS_DELETE, E2EE_DEV_ENVS_DELETE
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sqlite3_bind_int64(st(db, steps[i]), 1, rid);
		if (run(db, steps[i]) != 0)
			return -1;
	}
	return 0;
}

static enum store_status run_publish(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_device *mine = NULL, *old = NULL;
	size_t nmine = 0, nold = 0;
	enum store_status status = STORE_FAILED;
	sqlite3_stmt *s = st(db, E2EE_LIST_SET);
	char *ak = NULL;
	int rc;

	if (e->list == NULL || e->sig == NULL || e->ak == NULL ||
	    expire_pending(db, job->user_id, e->pending_cutoff) != 0 ||
	    read_list(db, job->user_id, e, &ak) != 0)
		goto out;
	status = store_e2ee_publish_rule(e, ak);
	/* Every listed device is the user's, registered with the listed keys, not revoked. */
	for (size_t i = 0; i < e->nlisted && status == STORE_OK; i++) {
		struct store_device d;
		int64_t owner = 0;

		rc = device_by_id(db, e->listed[i].id, &d, &owner);
		status = store_e2ee_listed_rule(job, i, rc, &d, owner);
	}
	if (status != STORE_OK)
		goto out;
	status = STORE_FAILED;
	/* Left out: active ones (on a reset, pending ones too) are revoked. */
	if (devices_of(db, job->user_id, e->reset, e->pending_cutoff, &old, &nold) != 0)
		goto out;
	for (size_t i = 0; i < nold; i++) {
		if (store_e2ee_find_listed(e, old[i].id) != NULL)
			continue;
		if (revoke(db, old[i].rid) != 0)
			goto out;
		if (nmine % 8 == 0) {
			struct store_device *v = realloc(mine, (nmine + 8) * sizeof(*v));

			if (v == NULL)
				goto out;
			mine = v;
		}
		mine[nmine++] = old[i];
	}
	for (size_t i = 0; i < e->nlisted; i++) {
		struct store_device d;

		if (device_by_id(db, e->listed[i].id, &d, NULL) != 0)
			goto out;
		sqlite3_bind_int64(st(db, E2EE_DEV_SET_STATE), 1, d.rid);
		sqlite3_bind_int(st(db, E2EE_DEV_SET_STATE), 2, STORE_DEVICE_ACTIVE);
		if (run(db, E2EE_DEV_SET_STATE) != 0)
			goto out;
	}
	sqlite3_bind_int64(s, 1, job->user_id);
	sqlite3_bind_int64(s, 2, e->version);
	sqlite3_bind_text(s, 3, e->list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->sig, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, e->ak, -1, SQLITE_STATIC);
	if (run(db, E2EE_LIST_SET) != 0)
		goto out;
	e->version_out = e->version;
	e->devices = mine;
	e->ndevices = nmine;
	mine = NULL;
	status = STORE_OK;
out:
	free(mine);
	free(old);
	free(ak);
	return status;
}

static enum store_status run_prekeys(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;

	if (e->dev.spk_id != 0) {
		sqlite3_stmt *s = st(db, E2EE_SPK_SET);

		sqlite3_bind_int64(s, 1, e->device_rid);
		sqlite3_bind_int64(s, 2, e->dev.spk_id);
		sqlite3_bind_text(s, 3, e->dev.spk_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, e->dev.spk_sig, -1, SQLITE_STATIC);
		if (run(db, E2EE_SPK_SET) != 0)
			return STORE_FAILED;
	}
	return add_opks(db, e->device_rid, e, &e->opk_count);
}

/* Claims one one-time prekey of d (none left: has_opk stays false). */
static int claim_opk(struct store_db *db, struct store_device *d)
{
	sqlite3_stmt *s = st(db, E2EE_OPK_FIRST);
	int rc;

	sqlite3_bind_int64(s, 1, d->rid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		d->has_opk = true;
		d->opk.id = sqlite3_column_int64(s, 0);
		copy_col(s, 1, d->opk.key, sizeof(d->opk.key));
	}
	store_stmt_reset(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	sqlite3_bind_int64(st(db, E2EE_OPK_DELETE), 1, d->rid);
	sqlite3_bind_int64(st(db, E2EE_OPK_DELETE), 2, d->opk.id);
	if (run(db, E2EE_OPK_DELETE) != 0)
		return -1;
	d->opk_count--;
	return 0;
}

static enum store_status run_keys(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	size_t keep = 0;

	if (read_list(db, e->peer_id, e, NULL) != 0 ||
	    devices_of(db, e->peer_id, false, 0, &e->devices, &e->ndevices) != 0)
		return STORE_FAILED;
	for (size_t i = 0; i < e->ndevices; i++) {
		if (e->devices[i].rid == e->device_rid)
			continue;            /* one's own device needs no session with itself */
		e->devices[keep] = e->devices[i];
		if (claim_opk(db, &e->devices[keep]) != 0)
			return STORE_FAILED;
		keep++;
	}
	e->ndevices = keep;
	return STORE_OK;
}

/* Forgets the sets, and has the qid counter read again, when another connection wrote to the
 * file since they were learnt (a device written behind pierd's back, as
 * tests/integration/test_cli_e2ee does: pierd's own changes leave the version as it is).
 * Once a batch: inside its write transaction (BEGIN IMMEDIATE) no other connection commits,
 * so the version read by its first e2ee job holds for the rest (store_db_begin clears
 * db->version_checked). 0, or -1. */
static int check_version(struct store_db *db)
{
	sqlite3_stmt *s = st(db, E2EE_DATA_VERSION);
	int64_t v;
	int rc;

	if (db->version_checked)
		return 0;
	rc = sqlite3_step(s);

	v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	store_stmt_reset(s);
	if (rc != SQLITE_ROW)
		return -1;
	store_e2ee_sets_at_version(&db->e2ee_sets, v);
	db->version_checked = true;
	if (v != db->qid_version) {
		db->qid_version = v;
		db->qid_reload = true;
	}
	return 0;
}

/* The next qid (*qid), from the store's counter. A qid is never given twice, nor below one
 * given before, so an ack up to a qid never takes an envelope stored later, and a queue read
 * in qid order is the order its envelopes were written (the batch's jobs run one at a time).
 * The counter starts at max(e2ee_qid.hwm, max(qid)) + 1: hwm is the highest qid given,
 * saved by store_e2ee_batch_end in the transaction of the batch that gave it, so it
 * outlives the acks that delete the envelopes (AUTOINCREMENT did this with a read and a write
 * of sqlite_sequence per INSERT). It is read again (never lowered) when another connection
 * has written to the file (check_version). Qids of a job or a batch rolled back are not given
 * again: skipped, as AUTOINCREMENT skipped them; nobody saw them. 0, or -1. */
static int next_qid(struct store_db *db, int64_t *qid)
{
	sqlite3_stmt *s;
	int rc;

	if (db->qid_next == 0 || db->qid_reload) {
		s = st(db, E2EE_QID_LOAD);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			int64_t hwm = sqlite3_column_int64(s, 0), top = sqlite3_column_int64(s, 1);
			int64_t next = (hwm > top ? hwm : top) + 1;

			if (next > db->qid_next)
				db->qid_next = next;
			db->qid_saved = hwm;
			db->qid_reload = false;
		}
		store_stmt_reset(s);
		if (rc != SQLITE_ROW)
			return -1;
	}
	*qid = db->qid_next++;
	return 0;
}

int store_e2ee_batch_end(struct store_db *db)
{
	sqlite3_stmt *s = st(db, E2EE_QID_SAVE);

	if (db->qid_next == 0 || db->qid_next - 1 <= db->qid_saved)
		return 0;                /* no qid given since the last save */
	sqlite3_bind_int64(s, 1, db->qid_next - 1);
	if (run(db, E2EE_QID_SAVE) != 0)
		return -1;
	db->qid_saved = db->qid_next - 1;
	return 0;
}

/* Writes an envelope's row for device rid from device from_rid (with payload for a
 * device_send), its qid from next_qid; its queue's count is the caller's. 0, or -1. */
static int insert_envelope(struct store_db *db, int64_t rid, int64_t msg_id, int64_t from_rid,
                           const char *body, const char *payload, int64_t *qid)
{
	sqlite3_stmt *s = st(db, E2EE_ENV_INSERT);

	if (next_qid(db, qid) != 0)
		return -1;
	sqlite3_bind_int64(s, 6, *qid);
	sqlite3_bind_int64(s, 1, rid);
	if (msg_id != 0)
		sqlite3_bind_int64(s, 2, msg_id);
	sqlite3_bind_int64(s, 3, from_rid);
	sqlite3_bind_text(s, 4, body, -1, SQLITE_STATIC);
	if (payload != NULL)
		sqlite3_bind_text(s, 5, payload, -1, SQLITE_STATIC);
	return run(db, E2EE_ENV_INSERT);
}

/* An envelope into the queue of device rid, counted. 0, or -1. */
static int queue_envelope(struct store_db *db, int64_t rid, int64_t msg_id, int64_t from_rid,
                          const char *body, const char *payload, int64_t *qid)
{
	if (insert_envelope(db, rid, msg_id, from_rid, body, payload, qid) != 0)
		return -1;
	sqlite3_bind_int64(st(db, E2EE_QUEUE_ADD), 1, rid);
	return run(db, E2EE_QUEUE_ADD);
}

static enum store_status run_device_send(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_device d;
	enum store_status status;
	int64_t owner = 0;
	int rc;

	if (e->device_id == NULL || e->payload == NULL || e->body == NULL ||
	    check_version(db) != 0 || expire_pending(db, job->user_id, e->pending_cutoff) != 0)
		return STORE_FAILED;
	/* From a device of the user's that is still there (not revoked nor expired meanwhile). */
	rc = device_by_rid(db, e->device_rid, &d, &owner);
	status = store_e2ee_own_device(rc, &d, owner, job->user_id, STORE_NO_DEVICE);
	if (status != STORE_OK)
		return status;
	rc = device_by_id(db, e->device_id, &d, &owner);
	status = store_e2ee_own_device(rc, &d, owner, job->user_id, STORE_NOT_FOUND);
	if (status != STORE_OK)
		return status;
	if (d.queued >= e->max_queue)
		return STORE_FULL;
	e->rid = d.rid;
	if (queue_envelope(db, d.rid, 0, e->device_rid, e->body, e->payload, &e->qid) != 0)
		return STORE_FAILED;
	return STORE_OK;
}

static enum store_status run_queue(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	sqlite3_stmt *s = st(db, E2EE_QUEUE_PAGE);
	int limit = e->limit < 1 ? 1 : e->limit > 1000 ? 1000 : e->limit;
	enum store_status status = STORE_FAILED;
	int rc;

	e->envs = calloc((size_t)limit, sizeof(*e->envs));
	if (e->envs == NULL)
		return STORE_FAILED;
	sqlite3_bind_int64(s, 1, e->device_rid);
	sqlite3_bind_int64(s, 2, e->after);
	sqlite3_bind_int64(s, 3, (int64_t)limit + 1);
	for (;;) {
		struct store_envelope *v;

		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (e->nenvs == (size_t)limit) {
			e->more = true;
			rc = SQLITE_DONE;
			break;
		}
		v = &e->envs[e->nenvs++];
		v->device_rid = e->device_rid;
		v->qid = sqlite3_column_int64(s, 0);
		v->msg_id = sqlite3_column_int64(s, 1);
		copy_col(s, 2, v->from_device, sizeof(v->from_device));
		v->from = store_column_dup(s, 3);
		if (sqlite3_column_type(s, 4) != SQLITE_NULL)
			v->to = store_column_dup(s, 4);
		if (sqlite3_column_type(s, 5) != SQLITE_NULL)
			v->payload = store_column_dup(s, 5);
		v->body = store_column_dup(s, 6);
		v->ts = sqlite3_column_int64(s, 7);
		v->reply_to = sqlite3_column_int64(s, 8);
		v->media_id = sqlite3_column_int64(s, 9);
		if (v->media_id != 0) {
			v->media_size = sqlite3_column_int64(s, 10);
			v->media_name = store_column_dup(s, 11);
			v->media_type = store_column_dup(s, 12);
			if (v->media_name == NULL || v->media_type == NULL)
				goto out;
		}
		if (v->from == NULL || v->body == NULL)
			goto out;
	}
	if (rc == SQLITE_DONE)
		status = STORE_OK;
out:
	store_stmt_reset(s);
	return status;
}

static enum store_status run_ack(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;

	sqlite3_bind_int64(st(db, E2EE_ACK), 1, e->device_rid);
	sqlite3_bind_int64(st(db, E2EE_ACK), 2, e->upto);
	if (run(db, E2EE_ACK) != 0)
		return STORE_FAILED;
	e->count = sqlite3_changes(db->db);
	sqlite3_bind_int64(st(db, E2EE_QUEUE_SUB), 1, e->device_rid);
	sqlite3_bind_int64(st(db, E2EE_QUEUE_SUB), 2, e->count);
	return run(db, E2EE_QUEUE_SUB) == 0 ? STORE_OK : STORE_FAILED;
}

void store_e2ee_on_rollback(void *arg)
{
	struct store_db *db = arg;

	store_e2ee_sets_forget(&db->e2ee_sets);
	db->qid_saved = 0;          /* what the batch saved is gone: saved again at the next end */
}

enum store_status store_e2ee_run(struct store_db *db, struct store_job *job)
{
	/* Every op but these may change a device's state (store_e2ee_sets.h). */
	if (job->op != STORE_E2EE_QUEUE && job->op != STORE_E2EE_ACK)
		store_e2ee_sets_forget(&db->e2ee_sets);
	switch (job->op) {
	case STORE_E2EE_REGISTER:
		return run_register(db, job);
	case STORE_E2EE_HELLO:
		return run_hello(db, job);
	case STORE_E2EE_DEVICES:
		return run_devices(db, job);
	case STORE_E2EE_PUBLISH:
		return run_publish(db, job);
	case STORE_E2EE_PREKEYS:
		return run_prekeys(db, job);
	case STORE_E2EE_KEYS:
		return run_keys(db, job);
	case STORE_E2EE_DEVICE_SEND:
		return run_device_send(db, job);
	case STORE_E2EE_QUEUE:
		return run_queue(db, job);
	case STORE_E2EE_ACK:
		return run_ack(db, job);
	default:
		return STORE_FAILED;
	}
}

/* ---- an encrypted message (STORE_APPEND with e2ee.payload) ---- */

enum store_status store_e2ee_plain_check(struct store_db *db, struct store_job *job,
                                         bool media_e2ee)
{
	sqlite3_stmt *s = st(db, E2EE_HAS_LIST);
	int rc;

	if (media_e2ee)
		return STORE_E2EE_REQUIRED;   /* ciphertext goes only in an encrypted message */
	if (job->room != NULL)
		return STORE_OK;
	sqlite3_bind_int64(s, 1, job->peer_id);
	rc = sqlite3_step(s);
	store_stmt_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_E2EE_REQUIRED;
	return rc == SQLITE_DONE ? STORE_OK : STORE_FAILED;
}

int store_e2ee_media_flag(struct store_db *db, int64_t media_id, bool *e2ee)
{
	sqlite3_stmt *s = st(db, E2EE_MEDIA_E2EE);
	int rc;

	sqlite3_bind_int64(s, 1, media_id);
	rc = sqlite3_step(s);
	*e2ee = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
	store_stmt_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The check with every device's whole row (names for the answer): what a send whose
 * envelopes do not match the current set gets, devices_changed with the current set. */
static enum store_status send_check_full(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_device me, *cur = NULL;
	size_t ncur = 0;
	int64_t owner = 0;
	enum store_status status = STORE_FAILED;
	int rc;

	rc = device_by_rid(db, e->device_rid, &me, &owner);
	if (rc < 0)
		return STORE_FAILED;
	if (rc > 0 || owner != job->user_id || me.state != STORE_DEVICE_ACTIVE)
		return STORE_NO_DEVICE;
	if (devices_of(db, job->peer_id, false, 0, &cur, &ncur) != 0)
		goto out;
	if (ncur == 0) {
		status = STORE_NO_DEVICE;    /* the recipient has no device to read it */
		goto out;
	}
	if (job->peer_id != job->user_id &&
	    devices_of(db, job->user_id, false, 0, &cur, &ncur) != 0)
		goto out;
	status = store_e2ee_match(e, &cur, ncur);
out:
	free(cur);
	return status;
}

/* Reads the active devices of user_id and peer_id (E2EE_SEND_SET) into memory. 0, or -1. */
static int learn_sets(struct store_db *db, int64_t user_id, int64_t peer_id)
{
	sqlite3_stmt *s = st(db, E2EE_SEND_SET);
	struct store_e2ee_dev mine[STORE_E2EE_SET_DEVICES + 1], theirs[STORE_E2EE_SET_DEVICES + 1];
	size_t nmine = 0, ntheirs = 0;
	int rc;

	sqlite3_bind_int64(s, 1, user_id);
	sqlite3_bind_int64(s, 2, peer_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		bool is_mine = sqlite3_column_int64(s, 2) == user_id;
		size_t *n = is_mine ? &nmine : &ntheirs;
		struct store_e2ee_dev *d = is_mine ? &mine[*n] : &theirs[*n];

		if (*n > STORE_E2EE_SET_DEVICES)
			continue;       /* too many to keep: counted past the mark, not kept */
		d->rid = sqlite3_column_int64(s, 0);
		copy_col(s, 1, d->id, sizeof(d->id));
		(*n)++;
	}
	store_stmt_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	store_e2ee_sets_put(&db->e2ee_sets, user_id, mine, nmine);
	if (peer_id != user_id)
		store_e2ee_sets_put(&db->e2ee_sets, peer_id, theirs, ntheirs);
	return 0;
}

/* Appends a set's devices to cur (their queues' counts left 0: the room is taken after). */
static void add_set(struct store_device *cur, size_t *ncur, const struct store_e2ee_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct store_device *d = &cur[(*ncur)++];

		d->rid = set->dev[i].rid;
		memcpy(d->id, set->dev[i].id, sizeof(d->id));
		d->queued = 0;
		d->state = STORE_DEVICE_ACTIVE;
	}
}

/* Takes one room in device rid's queue (below max): 0, 1 when it has none, -1 on error. A
 * device written by another connection may have no queue row: it gets one (empty), once. */
static int take_one(struct store_db *db, int64_t rid, int64_t max)
{
	for (int tries = 0; tries < 2; tries++) {
		sqlite3_bind_int64(st(db, E2EE_QUEUE_TAKE), 1, rid);
		sqlite3_bind_int64(st(db, E2EE_QUEUE_TAKE), 2, max);
		if (run(db, E2EE_QUEUE_TAKE) != 0)
			return -1;
		if (sqlite3_changes(db->db) > 0)
			return 0;
		sqlite3_bind_int64(st(db, E2EE_QUEUE_NEW), 1, rid);
		if (run(db, E2EE_QUEUE_NEW) != 0)
			return -1;
		if (sqlite3_changes(db->db) == 0)
			return 1;           /* the row was there: full */
	}
	return 1;
}

/* Takes the message's room in each envelope's queue (the count up by one where it is below
 * the limit). A queue without room: STORE_FULL, the rooms already taken given back, so that
 * the refused send leaves every count as it was without a savepoint (store_sqlite.c,
 * needs_savepoint). STORE_FAILED (an SQLite error) may leave rooms taken: the caller's
 * savepoint, or the batch's rollback, undoes them. */
static enum store_status take_room(struct store_db *db, struct store_e2ee *e)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < e->nenvs_in && rc == 0; i++)
		rc = take_one(db, e->envs_in[i].device_rid, e->max_queue);
	if (rc <= 0)
		return rc == 0 ? STORE_OK : STORE_FAILED;
	for (size_t j = 0; j + 1 < i; j++) {
		sqlite3_bind_int64(st(db, E2EE_QUEUE_GIVE), 1, e->envs_in[j].device_rid);
		if (run(db, E2EE_QUEUE_GIVE) != 0)
			return STORE_FAILED;
	}
	return STORE_FULL;
}

/* The usual check from memory (store_e2ee_sets.h): the sending device active and the
 * sender's, the recipient with an active device, an envelope for exactly the others; then
 * each queue's room taken. Any other answer is decided again by send_check_full (same
 * rules, and the current set with names for devices_changed). */
enum store_status store_e2ee_send_check(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;
	struct store_device cur[2 * STORE_E2EE_SET_DEVICES];
	struct store_device *p = cur;
	const struct store_e2ee_set *mine, *theirs;
	size_t ncur = 0;
	bool active = false;
	enum store_status status;

	if (job->room != NULL || job->peer_id <= 0)
		return STORE_NOT_FOUND;
	if (check_version(db) != 0)
		return STORE_FAILED;
	/* both learnt at once when either is missing (learning replaces both entries) */
	if ((store_e2ee_sets_get(&db->e2ee_sets, job->peer_id) == NULL ||
	     store_e2ee_sets_get(&db->e2ee_sets, job->user_id) == NULL) &&
	    learn_sets(db, job->user_id, job->peer_id) != 0)
		return STORE_FAILED;
	theirs = store_e2ee_sets_get(&db->e2ee_sets, job->peer_id);
	mine = store_e2ee_sets_get(&db->e2ee_sets, job->user_id);
	if (mine == NULL || theirs == NULL || theirs->n == 0) {
		status = send_check_full(db, job);
		return status == STORE_OK ? take_room(db, e) : status;
	}
	for (size_t i = 0; i < mine->n; i++) {
		if (mine->dev[i].rid == e->device_rid)
			active = true;
	}
	if (!active)
		return send_check_full(db, job);
	add_set(cur, &ncur, theirs);
	if (job->peer_id != job->user_id)
		add_set(cur, &ncur, mine);
	status = store_e2ee_match(e, &p, ncur);
	if (status == STORE_CHANGED) {
		/* p is cur (on the stack) and e->devices points into it: ask again, whole rows. */
		e->devices = NULL;
		e->ndevices = 0;
		return send_check_full(db, job);
	}
	return status == STORE_OK ? take_room(db, e) : status;
}

/* Envelope rows to a statement: as many as the messages' queue holds, and 8 for the rest. */
#define ENV_COLUMNS 6
#define ENV_HEAD "INSERT INTO envelopes(qid, device, message_id, from_device, body, payload) VALUES"
#define ENV_ROW "(?, ?, ?, ?, ?, ?)"
static const int env_rows[STORE_INSERT_CHUNKS] = { STORE_QUEUED_MAX, 8 };

int store_e2ee_prepare(struct store_db *db, char **err)
{
	return store_prepare_rows(db, ENV_HEAD, ENV_ROW, env_rows, "envelopes", db->env_chunk, err);
}

void store_e2ee_finalize(struct store_db *db)
{
	store_finalize_rows(db->env_chunk);
}

/* Writes n envelopes (their qids given) of the messages owner[i], with statement s of n rows,
 * or one at a time when s is NULL. 0, or -1. */
static int write_envelopes(struct store_db *db, sqlite3_stmt *s, struct store_envelope *const *v,
                           struct store_job *const *owner, int n)
{
	if (s == NULL) {
		for (int i = 0; i < n; i++) {
			sqlite3_stmt *one = st(db, E2EE_ENV_INSERT);

			sqlite3_bind_int64(one, 6, v[i]->qid);
			sqlite3_bind_int64(one, 1, v[i]->device_rid);
			sqlite3_bind_int64(one, 2, owner[i]->msg_id);
			sqlite3_bind_int64(one, 3, owner[i]->e2ee.device_rid);
			sqlite3_bind_text(one, 4, v[i]->body_in, -1, SQLITE_STATIC);
			if (run(db, E2EE_ENV_INSERT) != 0)
				return -1;
		}
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int o = i * ENV_COLUMNS;

		sqlite3_bind_int64(s, o + 1, v[i]->qid);
		sqlite3_bind_int64(s, o + 2, v[i]->device_rid);
		sqlite3_bind_int64(s, o + 3, owner[i]->msg_id);
		sqlite3_bind_int64(s, o + 4, owner[i]->e2ee.device_rid);
		sqlite3_bind_text(s, o + 5, v[i]->body_in, -1, SQLITE_STATIC);
		/* o + 6, the payload, stays NULL: a message's is in its row */
	}
	{
		int rc = sqlite3_step(s);

		store_stmt_reset(s);
		return rc == SQLITE_DONE ? 0 : -1;
	}
}

/* Writes the pending envelopes v[0..*n) in statements of 64 and 8 rows, then one at a time
 * when all (the last call); empties what it wrote. 0, or -1. */
static int flush_envelopes(struct store_db *db, struct store_envelope **v,
                           struct store_job **owner, size_t *n, bool all)
{
	size_t i = 0;

	while (i < *n) {
		size_t left = *n - i;
		int c = 0;

		while (c < STORE_INSERT_CHUNKS && left < (size_t)env_rows[c])
			c++;
		if (c == STORE_INSERT_CHUNKS && !all)
			break;
		if (c < STORE_INSERT_CHUNKS) {
			if (write_envelopes(db, db->env_chunk[c], v + i, owner + i, env_rows[c]) != 0)
				return -1;
			i += (size_t)env_rows[c];
		} else {
			if (write_envelopes(db, NULL, v + i, owner + i, (int)left) != 0)
				return -1;
			i += left;
		}
	}
	memmove(v, v + i, (*n - i) * sizeof(*v));
	memmove(owner, owner + i, (*n - i) * sizeof(*owner));
	*n -= i;
	return 0;
}

int store_e2ee_queue_rows(struct store_db *db, struct store_job *const *jobs, size_t n)
{
	struct store_envelope *v[STORE_QUEUED_MAX];
	struct store_job *owner[STORE_QUEUED_MAX];
	size_t np = 0;

	for (size_t j = 0; j < n; j++) {
		struct store_e2ee *e = &jobs[j]->e2ee;

		if (e->payload == NULL)
			continue;
		for (size_t i = 0; i < e->nenvs_in; i++) {
			if (np == STORE_QUEUED_MAX && flush_envelopes(db, v, owner, &np, false) != 0)
				return -1;
			if (next_qid(db, &e->envs_in[i].qid) != 0)
				return -1;
			v[np] = &e->envs_in[i];
			owner[np++] = jobs[j];
		}
	}
	return flush_envelopes(db, v, owner, &np, true);
}

enum store_status store_e2ee_send_queue(struct store_db *db, struct store_job *job)
{
	struct store_e2ee *e = &job->e2ee;

	/* each queue's room was taken by store_e2ee_send_check */
	for (size_t i = 0; i < e->nenvs_in; i++) {
		struct store_envelope *v = &e->envs_in[i];

		if (insert_envelope(db, v->device_rid, job->msg_id, e->device_rid, v->body_in, NULL,
		                    &v->qid) != 0)
			return STORE_FAILED;
	}
	return STORE_OK;
}

void store_e2ee_release(struct store_e2ee *e)
{
	free(e->list_out);
	e->list_out = NULL;
	free(e->sig_out);
	e->sig_out = NULL;
	free(e->devices);
	e->devices = NULL;
	e->ndevices = 0;
	for (size_t i = 0; i < e->nenvs; i++) {
		struct store_envelope *v = &e->envs[i];

		free(v->from);
		free(v->to);
		free(v->payload);
		free(v->body);
		free(v->media_name);
		free(v->media_type);
	}
	free(e->envs);
	e->envs = NULL;
	e->nenvs = 0;
	e->more = false;
}
