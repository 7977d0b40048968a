/* store_append.c - the SQLite back end's message INSERT, and plain private messages written
 * several rows to a statement (store_internal.h, "queued appends").
 *
 * Why: one INSERT into messages opens a cursor on the table, on each of its seven indexes, on
 * sqlite_sequence (AUTOINCREMENT) and on users twice (foreign keys), and writes
 * sqlite_sequence back: about 24 k instructions for one row, 16 k a row for 8 rows to a
 * statement, 15 k for 64 (docs/PERFORMANCE.md, "The store's cost per message").
 *
 * How: a plain private message (the jobs store_db_run runs without a savepoint) has passed
 * every check when it would be inserted, and nothing is written for it but its row; an
 * encrypted one has passed every check and taken its queues' rooms, and nothing is written
 * for it but its row and then its envelopes (right after the statement that wrote the row,
 * the message id known; an envelope that fails ends the transaction). It waits
 * in db->queued instead; the queue is written before any other job runs (so every job, and
 * every check of a later queued one, sees the rows of the jobs before it: the FIFO's order),
 * when it is full, and at the batch's end before the index step and the commit. Rows go in
 * FIFO order, so their ids grow in submission order as before (AUTOINCREMENT gives the rows
 * of one statement consecutive ids, in the order of its VALUES). When a statement of several
 * rows fails, SQLite backs it out whole (ABORT) and each of its rows is tried alone, so each
 * job ends as it would have alone (STORE_NOT_FOUND for a recipient that does not exist).
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define MSG_COLUMNS 13
#define INSERT_HEAD \
	"INSERT INTO messages(ts, sender_id, room_id, recipient_id, pair_lo, pair_hi, text, cid, " \
	"kind, media_id, reply_to, e2ee, payload) VALUES"
#define INSERT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

/* Rows to a statement: the queue's size, and a smaller statement for the rest. */
static const int chunk_rows[STORE_INSERT_CHUNKS] = { STORE_QUEUED_MAX, 8 };

void store_bind_msg_insert(sqlite3_stmt *s, int row, const struct store_job *job,
                           int64_t room_id)
{
	int o = row * MSG_COLUMNS;

	sqlite3_bind_int64(s, o + 1, job->ts);
	sqlite3_bind_int64(s, o + 2, job->user_id);
	if (job->room != NULL) {
		sqlite3_bind_int64(s, o + 3, room_id);
		/* 4, 5, 6 stay NULL */
	} else {
		int64_t lo = job->user_id < job->peer_id ? job->user_id : job->peer_id;
		int64_t hi = job->user_id < job->peer_id ? job->peer_id : job->user_id;

		sqlite3_bind_int64(s, o + 4, job->peer_id);
		sqlite3_bind_int64(s, o + 5, lo);
		sqlite3_bind_int64(s, o + 6, hi);
	}
	sqlite3_bind_text(s, o + 7, job->text, -1, SQLITE_STATIC);
	if (job->cid != NULL)
		sqlite3_bind_text(s, o + 8, job->cid, -1, SQLITE_STATIC);
	if (job->media_id != 0) {
		sqlite3_bind_text(s, o + 9, job->kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, o + 10, job->media_id);
	}
	if (job->reply_to != 0)
		sqlite3_bind_int64(s, o + 11, job->reply_to);
	if (job->e2ee.payload != NULL) {
		sqlite3_bind_int(s, o + 12, 1);
		sqlite3_bind_text(s, o + 13, job->e2ee.payload, -1, SQLITE_STATIC);
	}
}

int store_prepare_rows(struct store_db *db, const char *head, const char *row,
                       const int rows[STORE_INSERT_CHUNKS], const char *what,
                       sqlite3_stmt *out[STORE_INSERT_CHUNKS], char **err)
{
	size_t hlen = strlen(head), rlen = strlen(row);

	for (int c = 0; c < STORE_INSERT_CHUNKS; c++) {
		char *sql = malloc(hlen + (size_t)rows[c] * (rlen + 1) + 1), *p;

		if (sql == NULL) {
			*err = store_errorf("out of memory");
			return -1;
		}
		memcpy(sql, head, hlen);
		p = sql + hlen;
		for (int r = 0; r < rows[c]; r++) {
			if (r > 0)
				*p++ = ',';
			memcpy(p, row, rlen);
			p += rlen;
		}
		*p = '\0';
		if (sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &out[c], NULL) !=
		    SQLITE_OK) {
			*err = store_errorf("preparing the insert of %d %s: %s", rows[c], what,
			                    sqlite3_errmsg(db->db));
			free(sql);
			return -1;
		}
		free(sql);
	}
	return 0;
}

void store_finalize_rows(sqlite3_stmt *stmts[STORE_INSERT_CHUNKS])
{
	for (int c = 0; c < STORE_INSERT_CHUNKS; c++) {
		sqlite3_finalize(stmts[c]);
		stmts[c] = NULL;
	}
}

int store_append_prepare(struct store_db *db, char **err)
{
	return store_prepare_rows(db, INSERT_HEAD, INSERT_ROW, chunk_rows, "rows", db->insert_chunk,
	                          err);
}

void store_append_finalize(struct store_db *db)
{
	store_finalize_rows(db->insert_chunk);
}

/* A queued job whose row is written (msg_id set): an encrypted one's envelopes follow. Its
 * status. An encrypted message took its queues' rooms when it was checked, so one that cannot
 * be written whole ends the transaction (store_db_abandon: the batch fails, nothing of it
 * stays), as store_sqlite.c's is_plain_e2ee says. */
static enum store_status written(struct store_db *db, struct store_job *job)
{
	if (job->e2ee.payload == NULL || store_e2ee_send_queue(db, job) == STORE_OK)
		return STORE_OK;
	store_db_abandon(db);
	return STORE_FAILED;
}

/* Inserts one job's row alone: its status. */
static enum store_status insert_one(struct store_db *db, struct store_job *job)
{
	sqlite3_stmt *s = db->stmt[STMT_MSG_INSERT];
	int rc;

	store_bind_msg_insert(s, 0, job, 0);
	rc = sqlite3_step(s);
	store_stmt_reset(s);
	if (rc == SQLITE_DONE) {
		job->msg_id = sqlite3_last_insert_rowid(db->db);
		return written(db, job);
	}
	if (job->e2ee.payload != NULL) {
		store_db_abandon(db);       /* its rooms are taken: nothing of it may stay */
		return STORE_FAILED;
	}
	return rc == SQLITE_CONSTRAINT_FOREIGNKEY ? STORE_NOT_FOUND : STORE_FAILED;
}

/* Ends a queued job whose row is written (or not): its status, and its outputs dropped when
 * it failed (store_db_run's rule). */
static void finish(struct store_job *job, enum store_status status)
{
	if (status == STORE_FAILED)
		store_job_release(job);
	job->status = status;
}

/* Writes queued jobs [from, from + n) with statement s of n rows; each alone if it fails while
 * the transaction goes on. */
static void insert_rows(struct store_db *db, sqlite3_stmt *s, size_t from, int n)
{
	int64_t last;
	int rc;

	for (int r = 0; r < n; r++)
		store_bind_msg_insert(s, r, db->queued[from + (size_t)r], 0);
	rc = sqlite3_step(s);
	store_stmt_reset(s);
	if (rc == SQLITE_DONE) {
		last = sqlite3_last_insert_rowid(db->db);
		enum store_status st = STORE_OK;

		for (int r = 0; r < n; r++)
			db->queued[from + (size_t)r]->msg_id = last - (n - 1) + r;
		/* the encrypted ones' envelopes, several to a statement */
		if (store_e2ee_queue_rows(db, db->queued + from, (size_t)n) != 0) {
			store_db_abandon(db);
			st = STORE_FAILED;
		}
		for (int r = 0; r < n; r++)
			finish(db->queued[from + (size_t)r], st);
		return;
	}
	for (int r = 0; r < n; r++) {
		struct store_job *job = db->queued[from + (size_t)r];

		finish(job, store_db_in_txn(db) ? insert_one(db, job) : STORE_FAILED);
	}
}

void store_append_flush(struct store_db *db)
{
	size_t i = 0;

	while (i < db->nqueued) {
		size_t left = db->nqueued - i;
		int c = 0;

		while (c < STORE_INSERT_CHUNKS && left < (size_t)chunk_rows[c])
			c++;
		if (c < STORE_INSERT_CHUNKS) {
			insert_rows(db, db->insert_chunk[c], i, chunk_rows[c]);
			i += (size_t)chunk_rows[c];
		} else {
			struct store_job *job = db->queued[i++];

			finish(job, store_db_in_txn(db) ? insert_one(db, job) : STORE_FAILED);
		}
	}
	db->nqueued = 0;
}

void store_append_queue(struct store_db *db, struct store_job *job)
{
	db->queued[db->nqueued++] = job;
}

bool store_append_queued_cid(const struct store_db *db, const struct store_job *job)
{
	for (size_t i = 0; i < db->nqueued; i++) {
		const struct store_job *q = db->queued[i];

		if (q->user_id == job->user_id && q->cid != NULL && strcmp(q->cid, job->cid) == 0)
			return true;
	}
	return false;
}
