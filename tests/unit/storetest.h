/* storetest.h - what the store's unit tests (test_store.c, test_search_store.c) share: running
 * one job to its end on the loop, and removing the temporary directory of a store. */
#ifndef PIER_STORETEST_H
#define PIER_STORETEST_H

#include <uv.h>

#include "store.h"

/* A done callback: sets the bool job->data points to. */
void storetest_done_flag(struct store_job *job);

/* Submits job to st (its data and done are taken for this) and turns loop until it is done;
 * its status. */
enum store_status storetest_run(uv_loop_t *loop, struct store *st, struct store_job *job);

/* Removes dir's database files (pier.db and its WAL and shared memory) and dir itself, which
 * must then be empty (a failed check if not). */
void storetest_remove_dir(const char *dir);

#endif
