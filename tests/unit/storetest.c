/* storetest.c - helpers of the store's unit tests (storetest.h). */
#include "storetest.h"

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "tap.h"

void storetest_done_flag(struct store_job *job)
{
	*(bool *)job->data = true;
}

enum store_status storetest_run(uv_loop_t *loop, struct store *st, struct store_job *job)
{
	bool done = false;

	job->data = &done;
	job->done = storetest_done_flag;
	store_submit(st, job);
	while (!done)
		uv_run(loop, UV_RUN_ONCE);
	return job->status;
}

void storetest_remove_dir(const char *dir)
{
	static const char *const files[] = { "pier.db", "pier.db-wal", "pier.db-shm" };
	char path[4200];

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	CHECK(rmdir(dir) == 0, "temporary directory empty");
}
