/* store_search.c - STORE_SEARCH: the full-text index's matches, newest first, kept when the
 * user may read them, each with the ranges the query matched (store.h).
 *
 * New messages enter the index some batches at a time (store_db_index_new): at the end of a
 * batch when store_db_index_due says so (every batch while the store keeps up, every
 * STORE_FTS_BATCH messages when it is busy), and always before a search, so a search sees every
 * message stored before it in the FIFO. Between two steps message_fts_state.upto says what is
 * indexed (the triggers leave messages past it alone); a message stored but not yet indexed
 * when pierd stops is indexed at the next start.
 *
 * The index (message_fts, schema step 7) knows nothing of conversations; each match is read
 * from messages with the user's scope in the WHERE clause (STMT_SEARCH_MSG_*), so a message
 * the user may not read is never read into a job. Reading stops at limit + 1 messages found or
 * STORE_SEARCH_SCAN_MAX matches looked at, whichever comes first: a query common in other
 * people's conversations costs a bounded amount, and paging goes on from where it stopped.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define SEARCH_LIMIT_MAX 200

/* Binds the scope statement for the job: #room, @peer, or all of the user's. NULL when the
 * room does not exist (*status STORE_NOT_FOUND) or on error (STORE_FAILED). */
static sqlite3_stmt *scope_stmt(struct store_db *db, struct store_job *job,
                                enum store_status *status)
{
	sqlite3_stmt *s;

	if (job->room != NULL) {
		int64_t room_id = 0;
		int rc = store_room_id(db, job->room, &room_id);

		if (rc != 0) {
			*status = rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
			return NULL;
		}
		s = db->stmt[STMT_SEARCH_MSG_ROOM];
		sqlite3_bind_int64(s, 2, room_id);
	} else if (job->peer_id > 0) {
		s = db->stmt[STMT_SEARCH_MSG_PAIR];
		sqlite3_bind_int64(s, 2, job->user_id < job->peer_id ? job->user_id : job->peer_id);
		sqlite3_bind_int64(s, 3, job->user_id < job->peer_id ? job->peer_id : job->user_id);
	} else {
		s = db->stmt[STMT_SEARCH_MSG_ALL];
		sqlite3_bind_int64(s, 2, db->lobby_id);
		sqlite3_bind_int64(s, 3, job->user_id);
	}
	store_bind_reader(s, job->user_id);
	return s;
}

/* Appends the message s's row holds to job->msgs (room for it is there), with its spans. */
static int take_msg(sqlite3_stmt *s, const struct store_query *q, struct store_job *job)
{
	struct store_msg *m = &job->msgs[job->nmsgs++];

	if (store_read_msg(s, m) != 0 ||
	    store_query_spans_dup(q, m->text, &m->spans, &m->nspans) != 0)
		return -1;
	if (m->media_name != NULL &&
	    store_query_spans_dup(q, m->media_name, &m->name_spans, &m->nname_spans) != 0)
		return -1;
	return 0;
}

int store_db_index_new(struct store_db *db)
{
	if (store_stmt_exec(db, STMT_FTS_INDEX_NEW) != SQLITE_DONE ||
	    store_stmt_exec(db, STMT_FTS_STATE_SET) != SQLITE_DONE)
		return -1;
	db->fts_pending = false;
	db->fts_unindexed = 0;
	return 0;
}

bool store_db_index_due(const struct store_db *db)
{
	return db->fts_pending && db->fts_unindexed >= STORE_FTS_BATCH;
}

enum store_status store_db_search(struct store_db *db, struct store_job *job)
{
	struct store_query *q = malloc(sizeof(*q));
	sqlite3_stmt *match = db->stmt[STMT_FTS_MATCH], *scope = NULL;
	enum store_status status = STORE_FAILED;
	int limit = job->limit < 1 ? 1 : job->limit > SEARCH_LIMIT_MAX ? SEARCH_LIMIT_MAX : job->limit;
	int scanned = 0, rc = SQLITE_DONE;
	int64_t last = 0;

	job->msgs = NULL;
	job->nmsgs = 0;
	job->more = false;
	job->next_before = 0;
	/* what was stored before this search, in this batch too, is found (the FIFO's order) */
	if (store_db_index_new(db) != 0)
		goto out;
	if (q == NULL || job->text == NULL ||
	    store_query_parse(q, job->text, strlen(job->text)) != STORE_QUERY_OK)
		goto out;
	scope = scope_stmt(db, job, &status);
	if (scope == NULL)
		goto out;
	status = STORE_FAILED;
	job->msgs = calloc((size_t)limit, sizeof(*job->msgs));
	if (job->msgs == NULL)
		goto out;
	sqlite3_bind_text(match, 1, q->match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(match, 2, job->before > 0 ? job->before : INT64_MAX);
	for (;;) {
		int64_t id;
		int found;

		rc = sqlite3_step(match);
		if (rc != SQLITE_ROW)
			break;
		id = sqlite3_column_int64(match, 0);
		if (scanned == STORE_SEARCH_SCAN_MAX) {
			/* matches are left: go on after the last one looked at */
			job->more = true;
			job->next_before = last;
			break;
		}
		scanned++;
		last = id;
		sqlite3_bind_int64(scope, 1, id);
		found = sqlite3_step(scope);
		if (found == SQLITE_ROW && job->nmsgs == (size_t)limit) {
			/* one more than the page: the next page starts below the last message taken */
			job->more = true;
			job->next_before = job->msgs[job->nmsgs - 1].id;
			sqlite3_reset(scope);
			break;
		}
		if (found == SQLITE_ROW && take_msg(scope, q, job) != 0)
			found = SQLITE_NOMEM;
		sqlite3_reset(scope);
		if (found != SQLITE_ROW && found != SQLITE_DONE)
			goto out;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto out;
	status = STORE_OK;
out:
	store_stmt_reset(match);
	if (scope != NULL)
		store_stmt_reset(scope);
	free(q);
	/* a job that does not end in STORE_OK is rolled back to its savepoint, the indexing
	 * above with it: the end of the batch does it again */
	if (status != STORE_OK)
		db->fts_pending = true;
	return status;
}
