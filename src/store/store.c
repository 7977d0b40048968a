/* store.c - the store's thread and queues: jobs in, group commit, completions back on the loop.
 *
 * The database work is the back end's (struct store_backend, store_internal.h: SQLite or
 * PostgreSQL, chosen at open by store_options.url); this file only drives it. Submitted jobs
 * wait in a FIFO (lock + cond). The store thread takes every waiting job (up to max_batch),
 * runs them all in one transaction under the db lock, commits once, and only then moves the
 * whole batch to the done FIFO and wakes the loop through a uv_async_t; the async callback
 * completes the jobs in order. If the batch cannot be committed (or the back end abandons
 * the transaction), every job of the batch completes with STORE_FAILED: nothing is acked that
 * was not durably stored.
 *
 * Locks: `lock` guards the two FIFOs and `stopping` (held briefly, never while the database runs);
 * `db_lock` serializes every use of the connection and its statements: the thread holds it
 * for a batch, and the synchronous startup reads (store_count_users, store_each_user, ...)
 * take it on the caller's thread. The two are never held together.
 *
 * The async handle is allocated apart from struct store so that store_close can free the
 * store at once; the handle frees itself in its close callback.
 */
#include "store.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_internal.h"
#include "thread_name.h"

#define DEFAULT_MAX_BATCH 512

struct store {
	uv_async_t *async;             /* data points back here until store_close */
	pthread_t thread;
	bool thread_started;
	int max_batch;

	pthread_mutex_t lock;
	pthread_cond_t cond;           /* signalled when the job FIFO gets work or on stop */
	struct store_job *head, *tail; /* submitted, not yet taken by the thread */
	struct store_job *done_head, *done_tail; /* run, waiting for their done callback */
	bool stopping;

	pthread_mutex_t db_lock;
	const struct store_backend *be;
	void *db;                      /* the back end's */

	atomic_size_t pending;         /* submitted, done callback not yet called */
	atomic_uint_least64_t commits; /* batches committed */
	atomic_uint_least64_t commit_usec; /* time spent in those commits */
	bool *freed;                   /* on_async's flag: store_close ran inside a callback */
};

char *store_errorf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = malloc((size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void store_job_init(struct store_job *job, enum store_op op)
{
	memset(job, 0, sizeof *job);
	job->op = op;
}

/* Frees a NULL-terminated array of strings and clears the pointer. */
static void free_names(char ***names)
{
	if (*names == NULL)
		return;
	for (char **r = *names; *r != NULL; r++)
		free(*r);
	free(*names);
	*names = NULL;
}

void store_msg_release(struct store_msg *m)
{
	free(m->from);
	free(m->to);
	free(m->text);
	free(m->kind);
	free(m->media_name);
	free(m->media_type);
	free(m->quote_from);
	free(m->quote_text);
	free(m->quote_kind);
	free(m->mentions);
	free(m->reactions);
	free(m->spans);
	free(m->name_spans);
	memset(m, 0, sizeof(*m));
}

/* Frees an array of n messages and clears it. */
static void free_msgs(struct store_msg **msgs, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		store_msg_release(&(*msgs)[i]);
	free(*msgs);
	*msgs = NULL;
	*n = 0;
}

void store_job_release(struct store_job *job)
{
	free(job->user_name);
	job->user_name = NULL;
	free(job->pw_hash_out);
	job->pw_hash_out = NULL;
	free_names(&job->rooms);
	free_names(&job->peers);
	free_names(&job->names);
	free(job->topic_out);
	job->topic_out = NULL;
	free(job->topic_by);
	job->topic_by = NULL;
	free_msgs(&job->msgs, &job->nmsgs);
	job->more = false;
	free_msgs(&job->changes, &job->nchanges);
	job->changes_more = false;
	job->next_before = 0;
	store_e2ee_release(&job->e2ee);
}

/* Takes up to max_batch jobs off the FIFO as a NULL-terminated list. wait: block until there
 * is work or the store is stopping. NULL when there is nothing to do. */
static struct store_job *take_batch(struct store *st, bool wait)
{
	struct store_job *first, *last;
	int n = 1;

	pthread_mutex_lock(&st->lock);
	while (wait && st->head == NULL && !st->stopping)
		pthread_cond_wait(&st->cond, &st->lock);
	first = st->head;
	if (first != NULL) {
		last = first;
		while (last->next != NULL && n < st->max_batch) {
			last = last->next;
			n++;
		}
		st->head = last->next;
		if (st->head == NULL)
			st->tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&st->lock);
	return first;
}

/* Marks one job of an uncommitted batch failed, dropping any outputs it had. */
static void fail_job(struct store_job *job)
{
	store_job_release(job);
	job->created = false;
	job->already = false;
	job->status = STORE_FAILED;
}

/* Runs a batch in one transaction. On any failure of the transaction itself every job of the
 * batch is failed (their changes were rolled back with it). */
static void run_batch(struct store *st, struct store_job *batch)
{
	const struct store_backend *be = st->be;
	struct timespec t0, t1;
	bool ok = false;

	pthread_mutex_lock(&st->db_lock);
	if (be->begin(st->db) != 0)
		goto out;
	for (struct store_job *job = batch; job != NULL; job = job->next) {
		be->run(st->db, job);
		if (!be->in_txn(st->db))
			goto out;
	}
	/* e.g. the batch's new messages into the search index, in the same transaction */
	if (be->batch_end(st->db) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (be->commit(st->db) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_fetch_add(&st->commit_usec, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
	                                              (t1.tv_nsec - t0.tv_nsec) / 1000));
	atomic_fetch_add(&st->commits, 1);
	ok = true;
out:
	if (!ok) {
		be->rollback(st->db);
		for (struct store_job *job = batch; job != NULL; job = job->next)
			fail_job(job);
	}
	pthread_mutex_unlock(&st->db_lock);
}

/* Appends a run batch to the done FIFO. */
static void finish_batch(struct store *st, struct store_job *batch)
{
	struct store_job *last = batch;

	while (last->next != NULL)
		last = last->next;
	pthread_mutex_lock(&st->lock);
	if (st->done_tail != NULL)
		st->done_tail->next = batch;
	else
		st->done_head = batch;
	st->done_tail = last;
	pthread_mutex_unlock(&st->lock);
}

static void *store_thread(void *arg)
{
	struct store *st = arg;

	thread_name_set("pierd-store");
	for (;;) {
		struct store_job *batch = take_batch(st, true);

		if (batch == NULL)
			break;
		run_batch(st, batch);
		finish_batch(st, batch);
		uv_async_send(st->async);
	}
	return NULL;
}

static struct store_job *pop_done(struct store *st)
{
	struct store_job *job;

	pthread_mutex_lock(&st->lock);
	job = st->done_head;
	if (job != NULL) {
		st->done_head = job->next;
		if (st->done_head == NULL)
			st->done_tail = NULL;
		job->next = NULL;
	}
	pthread_mutex_unlock(&st->lock);
	return job;
}

/* Completes one job. Not pending any more when its callback runs, so a callback that sees
 * store_pending() == 0 may close the store. */
static void complete(struct store *st, struct store_job *job)
{
	atomic_fetch_sub(&st->pending, 1);
	if (job->done != NULL)
		job->done(job);
}

/* The loop side: completes every finished job, in order. One job at a time (the lock is
 * retaken per job) so that a callback may submit, or even close the store. */
static void on_async(uv_async_t *async)
{
	struct store *st = async->data;
	bool freed = false;

	if (st == NULL)
		return;
	st->freed = &freed;
	for (;;) {
		struct store_job *job = pop_done(st);

		if (job == NULL)
			break;
		complete(st, job);
		if (freed)
			return;     /* store_close ran in the callback: st is gone */
	}
	st->freed = NULL;
}

static void on_async_closed(uv_handle_t *handle)
{
	free(handle);
}

/* Whether url is a libpq connection URI pier takes. */
static bool is_pg_url(const char *url)
{
	return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

const struct store_backend *store_backend_for(const char *url, char **err)
{
	if (url == NULL || strcmp(url, "sqlite") == 0)
		return &store_sqlite_backend;
	if (is_pg_url(url))
		return &store_pg_backend;
	*err = store_errorf("unknown store \"%.64s\": \"sqlite\" or a postgresql:// URL", url);
	return NULL;
}

struct store *store_open(uv_loop_t *loop, const char *dir, const struct store_options *opt,
                         char **err)
{
	struct store *st = NULL;
	char *msg = NULL;
	bool db_open = false;
	sigset_t all, old;
	int rc;

	st = calloc(1, sizeof *st);
	if (st == NULL) {
		msg = store_errorf("out of memory");
		goto fail;
	}
	st->be = store_backend_for(opt != NULL ? opt->url : NULL, &msg);
	if (st->be == NULL)
		goto fail;
	st->max_batch = opt != NULL && opt->max_batch > 0 ? opt->max_batch : DEFAULT_MAX_BATCH;
	atomic_init(&st->pending, 0);
	atomic_init(&st->commits, 0);
	atomic_init(&st->commit_usec, 0);
	if (pthread_mutex_init(&st->lock, NULL) != 0 || pthread_cond_init(&st->cond, NULL) != 0 ||
	    pthread_mutex_init(&st->db_lock, NULL) != 0) {
		msg = store_errorf("initializing the store's locks");
		goto fail;
	}
	if (st->be->open(&st->db, dir, opt, &msg) != 0)
		goto fail;
	db_open = true;

	st->async = malloc(sizeof *st->async);
	if (st->async == NULL) {
		msg = store_errorf("out of memory");
		goto fail;
	}
	rc = uv_async_init(loop, st->async, on_async);
	if (rc != 0) {
		free(st->async);
		st->async = NULL;
		msg = store_errorf("uv_async_init: %s", uv_strerror(rc));
		goto fail;
	}
	st->async->data = st;

	/* The thread takes no signals: they belong to the loop thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&st->thread, NULL, store_thread, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		msg = store_errorf("starting the store thread: %s", strerror(rc));
		goto fail;
	}
	st->thread_started = true;
	return st;
fail:
	if (st != NULL) {
		if (st->async != NULL) {
			st->async->data = NULL;
			uv_close((uv_handle_t *)st->async, on_async_closed);
		}
		if (db_open)
			st->be->close(st->db);
		pthread_mutex_destroy(&st->lock);
		pthread_cond_destroy(&st->cond);
		pthread_mutex_destroy(&st->db_lock);
		free(st);
	}
	if (err != NULL)
		*err = msg != NULL ? msg : store_errorf("store_open failed");
	else
		free(msg);
	return NULL;
}

void store_submit(struct store *st, struct store_job *job)
{
	bool was_empty;

	job->next = NULL;
	atomic_fetch_add(&st->pending, 1);
	pthread_mutex_lock(&st->lock);
	was_empty = st->head == NULL;
	if (st->tail != NULL)
		st->tail->next = job;
	else
		st->head = job;
	st->tail = job;
	if (was_empty)
		pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

size_t store_pending(const struct store *st)
{
	return atomic_load(&st->pending);
}

uint64_t store_commits(const struct store *st)
{
	return atomic_load(&st->commits);
}

uint64_t store_commit_usec(const struct store *st)
{
	return atomic_load(&st->commit_usec);
}

bool store_checkpoints(const struct store *st, uint64_t *by_thread, uint64_t *in_commit)
{
	if (st->be->checkpoints == NULL)
		return false;
	st->be->checkpoints(st->db, by_thread, in_commit);
	return true;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->lock);
	st->stopping = true;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
	if (st->thread_started)
		pthread_join(st->thread, NULL);

	/* The thread has run everything queued before the stop. Complete it here, and run any job
	 * a callback submits meanwhile on this thread, until nothing is left. */
	for (;;) {
		struct store_job *job = pop_done(st);
		struct store_job *batch;

		if (job != NULL) {
			complete(st, job);
			continue;
		}
		batch = take_batch(st, false);
		if (batch == NULL)
			break;
		run_batch(st, batch);
		finish_batch(st, batch);
	}

	st->be->close(st->db);
	st->db = NULL;
	st->async->data = NULL;
	uv_close((uv_handle_t *)st->async, on_async_closed);
	if (st->freed != NULL)
		*st->freed = true;
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->db_lock);
	free(st);
}

int store_count_users(struct store *st, int64_t *count)
{
	int rc;

	pthread_mutex_lock(&st->db_lock);
	rc = st->be->count_users(st->db, count);
	pthread_mutex_unlock(&st->db_lock);
	return rc;
}

int store_newest_msg_id(struct store *st, int64_t *id)
{
	int rc;

	pthread_mutex_lock(&st->db_lock);
	rc = st->be->newest_msg_id(st->db, id);
	pthread_mutex_unlock(&st->db_lock);
	return rc;
}

int store_each_user(struct store *st, void (*cb)(void *ud, int64_t id, const char *name),
                    void *ud)
{
	int rc;

	pthread_mutex_lock(&st->db_lock);
	rc = st->be->each_user(st->db, cb, ud);
	pthread_mutex_unlock(&st->db_lock);
	return rc;
}

int store_each_display(struct store *st,
                       void (*cb)(void *ud, const char *name, const char *display), void *ud)
{
	int rc;

	pthread_mutex_lock(&st->db_lock);
	rc = st->be->each_display(st->db, cb, ud);
	pthread_mutex_unlock(&st->db_lock);
	return rc;
}

int store_each_topic(struct store *st,
                     void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                int64_t ts), void *ud)
{
	int rc;

	pthread_mutex_lock(&st->db_lock);
	rc = st->be->each_topic(st->db, cb, ud);
	pthread_mutex_unlock(&st->db_lock);
	return rc;
}

int store_each_room(struct store *st, void (*cb)(void *ud, const char *room, int64_t members),
                    void *ud)
{
	int rc;

	pthread_mutex_lock(&st->db_lock);
	rc = st->be->each_room(st->db, cb, ud);
	pthread_mutex_unlock(&st->db_lock);
	return rc;
}
