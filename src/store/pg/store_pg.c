/* store_pg.c - the PostgreSQL back end's entry in store.c's back-end table: the connection,
 * the batch's transaction, each job under its own savepoint, and the op switch. */
#include "store_pg_internal.h"

#include <stdlib.h>

static int pg_open(void **out, const char *dir, const struct store_options *opt, char **err)
{
	(void)dir;
	(void)opt;
	*out = NULL;
	*err = store_errorf("the PostgreSQL store is not built yet");
	return -1;
}

static void pg_close(void *db)
{
	struct store_pg *pg = db;

	if (pg == NULL)
		return;
	if (pg->conn != NULL)
		PQfinish(pg->conn);
	free(pg);
}

static int pg_begin(void *db)
{
	(void)db;
	return -1;
}

static int pg_commit(void *db)
{
	(void)db;
	return -1;
}

static void pg_rollback(void *db)
{
	(void)db;
}

static bool pg_in_txn(void *db)
{
	return ((struct store_pg *)db)->in_txn;
}

static void pg_run(void *db, struct store_job *job)
{
	(void)db;
	job->status = STORE_FAILED;
}

static int pg_batch_end(void *db)
{
	struct store_pg *pg = db;

	return pg->search_pending ? store_pg_search_batch_end(pg) : 0;
}

static int pg_count_users(void *db, int64_t *count)
{
	(void)db;
	(void)count;
	return -1;
}

static int pg_each_user(void *db, void (*cb)(void *ud, int64_t id, const char *name), void *ud)
{
	(void)db;
	(void)cb;
	(void)ud;
	return -1;
}

static int pg_each_room(void *db, void (*cb)(void *ud, const char *room, int64_t members),
                        void *ud)
{
	(void)db;
	(void)cb;
	(void)ud;
	return -1;
}

static int pg_each_display(void *db, void (*cb)(void *ud, const char *name, const char *display),
                           void *ud)
{
	return store_pg_each_display(db, cb, ud);
}

static int pg_each_topic(void *db,
                         void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                    int64_t ts), void *ud)
{
	return store_pg_each_topic(db, cb, ud);
}

const struct store_backend store_pg_backend = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_txn = pg_in_txn,
	.run = pg_run,
	.batch_end = pg_batch_end,
	.count_users = pg_count_users,
	.each_user = pg_each_user,
	.each_room = pg_each_room,
	.each_display = pg_each_display,
	.each_topic = pg_each_topic,
};
