/* pwhash.c - argon2id on threads of its own: a FIFO of jobs under a mutex, worker threads
 * that take them, and an async handle that runs their done callbacks on the loop.
 *
 * The tests' and benchmarks' cheap hashing (--weak-password-hash) is not argon2id: a salted
 * BLAKE2b of the password, "$pier-weak$v=1$SALT$HASH", made and checked on the loop thread
 * (about a microsecond). Even argon2id at libsodium's minimum (t=1, 8 KiB) cost ~100 k
 * instructions, an mmap/munmap per hash and a thread switch there and back: ~50 us of the
 * ~100 us a registration took (docs/PERFORMANCE.md, "Registrations and logins"). Such a hash
 * is worthless against an offline guesser: the option says so, and pierd warns at start. A
 * weak hash stored by such a server is still checked by one without the option (its accounts
 * are not locked out); a server without it never makes one. */
#include "pwhash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thread_name.h"
#include "xalloc.h"

struct pwhash_pool {
	uv_loop_t *loop;
	uv_async_t async;            /* wakes the loop: jobs finished */
	uv_idle_t idle;              /* runs while cheap jobs wait for their done callbacks */
	struct pwhash_job *ready, *ready_tail;   /* loop thread only: cheap jobs run, FIFO */
	int open_handles;                        /* loop thread only: async and idle until closed */
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

#define WEAK_PREFIX "$pier-weak$v=1$"
#define WEAK_SALT 16
#define WEAK_HASH 32
#define WEAK_B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* The weak hash of password with salt, base64url in out (sodium_base64_ENCODED_LEN). */
static void weak_digest(const char *password, const unsigned char salt[WEAK_SALT],
                        char out[sodium_base64_ENCODED_LEN(WEAK_HASH, WEAK_B64)])
{
	unsigned char h[WEAK_HASH];

	crypto_generichash(h, sizeof(h), (const unsigned char *)password, strlen(password),
	                   salt, WEAK_SALT);
	sodium_bin2base64(out, sodium_base64_ENCODED_LEN(WEAK_HASH, WEAK_B64), h, sizeof(h),
	                  WEAK_B64);
	sodium_memzero(h, sizeof(h));
}

static bool weak_create(struct pwhash_job *job)
{
	unsigned char salt[WEAK_SALT];
	char s64[sodium_base64_ENCODED_LEN(WEAK_SALT, WEAK_B64)];
	char h64[sodium_base64_ENCODED_LEN(WEAK_HASH, WEAK_B64)];
	int n;

	randombytes_buf(salt, sizeof(salt));
	sodium_bin2base64(s64, sizeof(s64), salt, sizeof(salt), WEAK_B64);
	weak_digest(job->password, salt, h64);
	n = snprintf(job->hash, sizeof(job->hash), "%s%s$%s", WEAK_PREFIX, s64, h64);
	sodium_memzero(h64, sizeof(h64));
	return n > 0 && (size_t)n < sizeof(job->hash);
}

static bool weak_verify(const struct pwhash_job *job)
{
	const char *s64 = job->hash + strlen(WEAK_PREFIX), *dollar = strchr(s64, '$');
	unsigned char salt[WEAK_SALT];
	char h64[sodium_base64_ENCODED_LEN(WEAK_HASH, WEAK_B64)];
	size_t saltlen = 0;
	bool ok;

	if (dollar == NULL ||
	    sodium_base642bin(salt, sizeof(salt), s64, (size_t)(dollar - s64), NULL, &saltlen, NULL,
	                      WEAK_B64) != 0 || saltlen != sizeof(salt) ||
	    strlen(dollar + 1) != sizeof(h64) - 1)
		return false;
	weak_digest(job->password, salt, h64);
	ok = sodium_memcmp(h64, dollar + 1, sizeof(h64) - 1) == 0;
	sodium_memzero(h64, sizeof(h64));
	return ok;
}

bool pwhash_is_weak(const char *hash)
{
	return strncmp(hash, WEAK_PREFIX, strlen(WEAK_PREFIX)) == 0;
}

/* Whether job is the cheap kind, run on the loop thread. */
static bool job_is_cheap(const struct pwhash_job *job)
{
	return job->kind == PWHASH_CREATE ? job->weak : pwhash_is_weak(job->hash);
}

static void run_job(struct pwhash_job *job)
{
	size_t len = strlen(job->password);

	if (job_is_cheap(job))
		job->ok = job->kind == PWHASH_CREATE ? weak_create(job) : weak_verify(job);
	else if (job->kind == PWHASH_CREATE)
		job->ok = crypto_pwhash_str(job->hash, job->password, len,
		                            crypto_pwhash_OPSLIMIT_INTERACTIVE,
		                            crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
	else
		job->ok = crypto_pwhash_str_verify(job->hash, job->password, len) == 0;
}

static void worker(void *arg)
{
	struct pwhash_pool *p = arg;

	thread_name_set("pierd-hash");
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

/* Runs the done callbacks of the cheap jobs run on the loop, oldest first (those their
 * callbacks submit wait for the next turn: callbacks never run inside pwhash_submit). */
static void on_idle(uv_idle_t *h)
{
	struct pwhash_pool *p = h->data;
	struct pwhash_job *list = p->ready, *next;

	p->ready = p->ready_tail = NULL;
	for (; list != NULL; list = next) {
		next = list->next;
		list->next = NULL;
		p->hashed++;
		list->done(list);
	}
	if (p->ready == NULL)
		uv_idle_stop(&p->idle);
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
	uv_idle_init(loop, &p->idle);   /* cannot fail */
	p->idle.data = p;
	p->open_handles = 2;
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

	if (--p->open_handles > 0)
		return;
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
	uv_close((uv_handle_t *)&p->idle, on_closed);
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
	if (job_is_cheap(job)) {
		run_job(job);
		if (p->ready_tail != NULL)
			p->ready_tail->next = job;
		else
			p->ready = job;
		p->ready_tail = job;
		uv_idle_start(&p->idle, on_idle);
		return;
	}
	uv_mutex_lock(&p->lock);
	if (p->queue_tail != NULL)
		p->queue_tail->next = job;
	else
		p->queue = job;
	p->queue_tail = job;
	uv_cond_signal(&p->wake);
	uv_mutex_unlock(&p->lock);
}
