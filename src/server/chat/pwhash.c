/* pwhash.c - argon2id on threads of its own: a FIFO of jobs under a mutex, worker threads
 * that take them, and an async handle that runs their done callbacks on the loop. */
#include "pwhash.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct pwhash_pool {
	uv_loop_t *loop;
	uv_async_t async;            /* wakes the loop: jobs finished */
	uv_mutex_t lock;
	uv_cond_t wake;              /* wakes a worker: a job queued, or stop */
	struct pwhash_job *queue, *queue_tail;   /* under lock */
	struct pwhash_job *finished;             /* under lock; newest first */
	bool stop;                               /* under lock */
	int reserved, max_jobs, peak;            /* loop thread only */
	unsigned long long hashed;               /* loop thread only: done callbacks run */
	int nthreads;
	uv_thread_t *threads;
};

static void run_job(struct pwhash_job *job)
{
	unsigned long long ops = job->weak ? crypto_pwhash_OPSLIMIT_MIN :
	                         crypto_pwhash_OPSLIMIT_INTERACTIVE;
	size_t mem = job->weak ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
	size_t len = strlen(job->password);

	if (job->kind == PWHASH_CREATE)
		job->ok = crypto_pwhash_str(job->hash, job->password, len, ops, mem) == 0;
	else
		job->ok = crypto_pwhash_str_verify(job->hash, job->password, len) == 0;
}

static void worker(void *arg)
{
	struct pwhash_pool *p = arg;

	uv_mutex_lock(&p->lock);
	for (;;) {
		struct pwhash_job *job;

		while (p->queue == NULL && !p->stop)
			uv_cond_wait(&p->wake, &p->lock);
		if (p->queue == NULL)
			break;
		job = p->queue;
		p->queue = job->next;
		if (p->queue == NULL)
			p->queue_tail = NULL;
		uv_mutex_unlock(&p->lock);
		run_job(job);
		uv_mutex_lock(&p->lock);
		job->next = p->finished;
		p->finished = job;
		uv_async_send(&p->async);
	}
	uv_mutex_unlock(&p->lock);
}

/* Runs the done callbacks of finished jobs, oldest first. */
static void on_async(uv_async_t *a)
{
	struct pwhash_pool *p = a->data;
	struct pwhash_job *list, *prev = NULL, *next;

	uv_mutex_lock(&p->lock);
	list = p->finished;
	p->finished = NULL;
	uv_mutex_unlock(&p->lock);
	for (; list != NULL; list = next) {   /* reverse: newest first -> oldest first */
		next = list->next;
		list->next = prev;
		prev = list;
	}
	for (list = prev; list != NULL; list = next) {
		next = list->next;
		list->next = NULL;
		p->hashed++;
		list->done(list);
	}
}

struct pwhash_pool *pwhash_pool_new(uv_loop_t *loop, int threads, int max_jobs)
{
	struct pwhash_pool *p = xcalloc(1, sizeof(*p));
	int started = 0;

	p->loop = loop;
	p->max_jobs = max_jobs;
	p->nthreads = threads < 1 ? 1 : threads;
	p->threads = xcalloc((size_t)p->nthreads, sizeof(*p->threads));
	if (uv_mutex_init(&p->lock) != 0)
		goto fail_mutex;
	if (uv_cond_init(&p->wake) != 0)
		goto fail_cond;
	if (uv_async_init(loop, &p->async, on_async) != 0)
		goto fail_async;
	p->async.data = p;
	for (; started < p->nthreads; started++)
		if (uv_thread_create(&p->threads[started], worker, p) != 0)
			break;
	if (started == p->nthreads)
		return p;
	p->nthreads = started;
	pwhash_pool_free(p);
	return NULL;
fail_async:
	uv_cond_destroy(&p->wake);
fail_cond:
	uv_mutex_destroy(&p->lock);
fail_mutex:
	free(p->threads);
	free(p);
	return NULL;
}

static void on_closed(uv_handle_t *h)
{
	struct pwhash_pool *p = h->data;

	uv_cond_destroy(&p->wake);
	uv_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

void pwhash_pool_free(struct pwhash_pool *p)
{
	if (p == NULL)
		return;
	uv_mutex_lock(&p->lock);
	p->stop = true;
	uv_cond_broadcast(&p->wake);
	uv_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		uv_thread_join(&p->threads[i]);
	uv_close((uv_handle_t *)&p->async, on_closed);
}

bool pwhash_reserve(struct pwhash_pool *p)
{
	if (p->reserved >= p->max_jobs)
		return false;
	if (++p->reserved > p->peak)
		p->peak = p->reserved;
	return true;
}

void pwhash_release(struct pwhash_pool *p)
{
	p->reserved--;
}

int pwhash_reserved(const struct pwhash_pool *p)
{
	return p->reserved;
}

int pwhash_peak(const struct pwhash_pool *p)
{
	return p->peak;
}

unsigned long long pwhash_count(const struct pwhash_pool *p)
{
	return p->hashed;
}

void pwhash_submit(struct pwhash_pool *p, struct pwhash_job *job)
{
	job->next = NULL;
	uv_mutex_lock(&p->lock);
	if (p->queue_tail != NULL)
		p->queue_tail->next = job;
	else
		p->queue = job;
	p->queue_tail = job;
	uv_cond_signal(&p->wake);
	uv_mutex_unlock(&p->lock);
}
