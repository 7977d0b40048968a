/* store_bench.c - pier-store-bench: the store thread's cost per private message, alone.
 *
 * Opens a store (SQLite) in a fresh directory, creates 2 * PAIRS users, then submits N
 * private appends (STORE_APPEND as handle_send fills it: text "b SENDER SEQ TS" like
 * pier-bench's, no cid, new_contact on a pair's first message only) and waits for every
 * completion. It keeps two batches' worth of jobs in flight, so that while the store thread
 * commits one batch the next one waits whole in the FIFO: batches of BATCH jobs, as under load.
 *
 * Prints messages, commits (batches) and the process's CPU time per message. For counts
 * that do not depend on the machine's load run it under `valgrind --tool=callgrind`: when built
 * with valgrind's headers it zeroes callgrind's counters before the appends and dumps them
 * after, so the first dump (callgrind.out.PID.1) holds the append phase only.
 * `strace -f -c -e trace=fdatasync,fsync` counts syncs per batch.
 *
 * Usage: pier-store-bench [--messages N] [--batch B] [--pairs P] [--no-sync] [--dir DIR]
 * (defaults 100000, 256, 500; DIR: a new directory under /tmp, removed at the end).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "store.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_ZERO_STATS ((void)0)
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#define TEXT_MAX 64

struct bench {
	uv_loop_t loop;
	struct store *st;
	size_t done, failed;
};

struct msg_job {
	struct store_job job;
	struct bench *b;
	char text[TEXT_MAX];
};

static void on_done(struct store_job *job)
{
	struct msg_job *m = (struct msg_job *)job;

	m->b->done++;
	if (job->status != STORE_OK)
		m->b->failed++;
	store_job_release(job);
}

static void on_setup_done(struct store_job *job)
{
	((struct bench *)job->data)->done++;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double wall_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = { "pier.db", "pier.db-wal", "pier.db-shm" };
	char path[4200];

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static int usage(void)
{
	fprintf(stderr, "usage: pier-store-bench [--messages N] [--batch B] [--pairs P] [--no-sync] "
	                "[--dir DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct store_options opt = { 0 };
	struct msg_job *jobs = NULL;
	struct store_job *users_jobs = NULL, search;
	char *names = NULL;
	char tmpl[] = "/tmp/pier-store-bench.XXXXXX", *dir = NULL, *err = NULL;
	size_t messages = 100000, batch = 256, pairs = 500, users, next;
	bool own_dir = false, *contact = NULL;
	uint64_t commits0;
	double cpu0, wall0, cpu, wall;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
			messages = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc)
			pairs = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--no-sync") == 0)
			opt.no_sync = true;
		else
			return usage();
	}
	if (messages == 0 || batch == 0 || batch > 100000 || pairs == 0 || pairs > 1000000)
		return usage();
	users = pairs * 2;
	if (dir == NULL) {
		dir = mkdtemp(tmpl);
		if (dir == NULL) {
			perror("mkdtemp");
			return 1;
		}
		own_dir = true;
	}
	opt.max_batch = (int)batch;
	uv_loop_init(&b.loop);
	b.st = store_open(&b.loop, dir, &opt, &err);
	if (b.st == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		free(err);
		goto out;
	}
	jobs = calloc(2 * batch, sizeof *jobs);
	contact = calloc(pairs, sizeof *contact);
	if (jobs == NULL || contact == NULL)
		goto out;

	/* the users, in as few transactions as the batch size allows */
	users_jobs = calloc(users, sizeof *users_jobs);
	names = calloc(users, 32);
	if (users_jobs == NULL || names == NULL)
		goto out;
	for (size_t i = 0; i < users; i++) {
		struct store_job *job = &users_jobs[i];

		snprintf(names + i * 32, 32, "sbench%zu", i);
		store_job_init(job, STORE_CREATE_USER);
		job->name = names + i * 32;
		job->pw_hash = "x";
		job->data = &b;
		job->done = on_setup_done;
		store_submit(b.st, job);
	}
	while (b.done < users)
		uv_run(&b.loop, UV_RUN_ONCE);
	for (size_t i = 0; i < users; i++) {
		if (users_jobs[i].status != STORE_OK || users_jobs[i].user_id != (int64_t)i + 1) {
			fprintf(stderr, "creating user %zu failed (status %d; a fresh --dir?)\n", i,
			        (int)users_jobs[i].status);
			goto out;
		}
		store_job_release(&users_jobs[i]);
	}
	b.done = 0;

	commits0 = store_commits(b.st);
	cpu0 = cpu_seconds();
	wall0 = wall_seconds();
	CALLGRIND_ZERO_STATS;
	/* Job j uses slot j % (2 batch): it waits for job j - 2 batch, so one batch is refilled
	 * while the other runs. Completions come in order, so done counts jobs [0, done). */
	for (next = 0; next < messages; next++) {
		struct msg_job *m = &jobs[next % (2 * batch)];
		size_t sender = next % users, pair = sender / 2;

		while (next >= 2 * batch && b.done <= next - 2 * batch)
			uv_run(&b.loop, UV_RUN_ONCE);
		store_job_init(&m->job, STORE_APPEND);
		m->b = &b;
		m->job.done = on_done;
		m->job.user_id = (int64_t)sender + 1;
		m->job.peer_id = (int64_t)(sender ^ 1u) + 1;
		m->job.ts = (int64_t)time(NULL) * 1000;
		snprintf(m->text, sizeof m->text, "b %zu %zu %" PRId64, sender, next / users,
		         m->job.ts + (int64_t)next);
		m->job.text = m->text;
		m->job.new_contact = !contact[pair];
		contact[pair] = true;
		store_submit(b.st, &m->job);
	}
	while (b.done < messages)
		uv_run(&b.loop, UV_RUN_ONCE);
	/* A search indexes whatever the store has not indexed yet: counted with the appends. */
	store_job_init(&search, STORE_SEARCH);
	search.user_id = 1;
	search.text = "zzzzzz";
	search.limit = 10;
	search.data = &b;
	search.done = on_setup_done;
	store_submit(b.st, &search);
	while (b.done < messages + 1)
		uv_run(&b.loop, UV_RUN_ONCE);
	if (search.status != STORE_OK)
		b.failed++;
	store_job_release(&search);
	CALLGRIND_DUMP_STATS_AT("appends");
	cpu = cpu_seconds() - cpu0;
	wall = wall_seconds() - wall0;
	printf("messages %zu  failed %zu  commits %" PRIu64 "  (%.1f per commit)\n", messages,
	       b.failed, store_commits(b.st) - commits0,
	       (double)messages / (double)(store_commits(b.st) - commits0));
	printf("wall %.3f s  (%.0f msg/s)  process CPU %.3f s  = %.2f us/msg%s\n", wall,
	       (double)messages / wall, cpu, cpu * 1e6 / (double)messages,
	       opt.no_sync ? "  [no-sync]" : "");
	rc = b.failed == 0 ? 0 : 1;
out:
	if (b.st != NULL)
		store_close(b.st);
	uv_run(&b.loop, UV_RUN_DEFAULT);
	uv_loop_close(&b.loop);
	if (own_dir)
		remove_dir(dir);
	free(jobs);
	free(users_jobs);
	free(names);
	free(contact);
	return rc;
}
