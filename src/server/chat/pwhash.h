/* pwhash.h - password hashing (argon2id) on threads of pierd's own (and the tests' cheap hash,
 * --weak-password-hash, on the loop: pwhash.c).
 *
 * argon2id is meant to be slow and to take memory (64 MiB a hash). On libuv's shared thread
 * pool a burst of logins would make every file read and write wait behind it; here it runs on
 * a fixed number of threads nothing else uses, so a login storm costs logins time, not media.
 *
 * Slots bound the work: a caller reserves a slot before it does anything for a request
 * (loading the user, say) and releases it when the request is over; at most max_jobs are
 * reserved at once, so at most that many requests wait here. A slot may run several jobs one
 * after another (a password change checks the old one, then hashes the new one). */
#ifndef PIER_PWHASH_H
#define PIER_PWHASH_H

#include <stdbool.h>

#include <sodium.h>
#include <uv.h>

enum pwhash_kind {
	PWHASH_CREATE,   /* password -> hash */
	PWHASH_VERIFY    /* does password match hash? */
};

struct pwhash_job {
	enum pwhash_kind kind;
	bool weak;                          /* CREATE: tests' and benchmarks' cheap hash (pwhash.c) */
	const char *password;               /* the caller's, valid until done */
	char hash[crypto_pwhash_STRBYTES];  /* CREATE out, VERIFY in */
	bool ok;                            /* out: hashed / matched */
	void (*done)(struct pwhash_job *job);   /* on the loop thread */
	void *data;                         /* the caller's */
	struct pwhash_job *next;            /* the pool's */
};

struct pwhash_pool;

/* A pool of threads threads (at least 1) on loop, with max_jobs slots. NULL on failure. */
struct pwhash_pool *pwhash_pool_new(uv_loop_t *loop, int threads, int max_jobs);
/* Waits for the threads (every slot must be released), closes the loop handle; the memory
 * goes once the loop has run the handle's close. */
void pwhash_pool_free(struct pwhash_pool *p);

/* Takes a slot: false when all are taken (answer "busy"). */
bool pwhash_reserve(struct pwhash_pool *p);
/* Gives a slot back (the request is over, its jobs done). */
void pwhash_release(struct pwhash_pool *p);
/* Slots taken now; the most ever taken at once; hashes run (on the loop thread's count). */
int pwhash_reserved(const struct pwhash_pool *p);
int pwhash_peak(const struct pwhash_pool *p);
unsigned long long pwhash_count(const struct pwhash_pool *p);

/* Queues job on a slot the caller holds; job->done runs on the loop thread once it ran, never
 * inside this call. A weak job (CREATE with weak, VERIFY of a weak hash) runs here on the loop
 * thread, its done callback on a later turn; any other goes to the threads. */
void pwhash_submit(struct pwhash_pool *p, struct pwhash_job *job);
/* Whether hash is the tests' cheap kind (--weak-password-hash), not argon2id. */
bool pwhash_is_weak(const char *hash);

#endif
