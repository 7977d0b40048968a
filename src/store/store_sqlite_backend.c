/* store_sqlite_backend.c - the SQLite back end's entry in store.c's back-end table: opening
 * DIR/pier.db as a private file, and the table's functions over struct store_db. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "store_checkpoint.h"

/* The database holds password and token hashes and every message: it and its -wal and -shm
 * files are the owner's alone (0600), whatever the umask and however an older pierd left them.
 * SQLite gives the -wal and -shm files it creates the database file's mode. */
static int private_files(const char *path, char **err)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		*err = store_errorf("creating %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char *p = store_errorf("%s%s", path, suffixes[i]);

		if (p == NULL) {
			*err = store_errorf("out of memory");
			return -1;
		}
		if (chmod(p, 0600) != 0 && errno != ENOENT) {
			*err = store_errorf("making %s private (chmod 0600): %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

static int sq_open(void **out, const char *dir, const struct store_options *opt, char **err)
{
	struct store_db *db = calloc(1, sizeof *db);
	char *path = store_errorf("%s/pier.db", dir != NULL ? dir : ".");
	int rc = -1;

	*out = NULL;
	if (db == NULL || path == NULL) {
		*err = store_errorf("out of memory");
		goto out;
	}
	if (private_files(path, err) != 0)
		goto out;
	if (store_db_open(db, path, opt != NULL && opt->no_sync, err) != 0)
		goto out;
	db->token_idle_ms = opt != NULL ? opt->token_idle_ms : 0;
	*out = db;
	db = NULL;
	rc = 0;
out:
	free(db);
	free(path);
	return rc;
}

static void sq_close(void *db)
{
	if (db == NULL)
		return;
	store_db_close(db);
	free(db);
}

static int sq_begin(void *db)
{
	return store_db_begin(db);
}

static int sq_commit(void *db)
{
	return store_db_commit(db);
}

static void sq_rollback(void *db)
{
	store_db_rollback(db);
}

static bool sq_in_txn(void *db)
{
	return store_db_in_txn(db);
}

static void sq_run(void *db, struct store_job *job)
{
	store_db_run(db, job);
}

/* The queued rows, the envelopes' qid counter (store_e2ee.c), then new messages into the
 * search index when it is due (store_db_index_due), in the batch's transaction. */
static int sq_batch_end(void *vdb)
{
	struct store_db *db = vdb;

	store_append_flush(db);          /* the queued rows (store_append.c) */
	if (!store_db_in_txn(db) || store_e2ee_batch_end(db) != 0)
		return -1;
	return store_db_index_due(db) ? store_db_index_new(db) : 0;
}

static int sq_count_users(void *db, int64_t *count)
{
	return store_db_count_users(db, count);
}

static int sq_newest_msg_id(void *db, int64_t *id)
{
	return store_db_newest_msg_id(db, id);
}

static int sq_each_user(void *db, void (*cb)(void *ud, int64_t id, const char *name), void *ud)
{
	return store_db_each_user(db, cb, ud);
}

static int sq_each_room(void *db, void (*cb)(void *ud, const char *room, int64_t members),
                        void *ud)
{
	return store_db_each_room(db, cb, ud);
}

static int sq_each_display(void *db, void (*cb)(void *ud, const char *name, const char *display),
                           void *ud)
{
	return store_db_each_display(db, cb, ud);
}

static int sq_each_topic(void *db,
                         void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                    int64_t ts), void *ud)
{
	return store_db_each_topic(db, cb, ud);
}

static void sq_checkpoints(void *vdb, uint64_t *by_thread, uint64_t *in_commit)
{
	struct store_db *db = vdb;

	*by_thread = store_ckpt_count(db->ckpt);
	*in_commit = store_ckpt_inline_count(db->ckpt);
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.in_txn = sq_in_txn,
	.run = sq_run,
	.batch_end = sq_batch_end,
	.count_users = sq_count_users,
	.newest_msg_id = sq_newest_msg_id,
	.each_user = sq_each_user,
	.each_room = sq_each_room,
	.each_display = sq_each_display,
	.each_topic = sq_each_topic,
	.checkpoints = sq_checkpoints,
};
