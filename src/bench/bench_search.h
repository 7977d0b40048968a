/* bench_search.h - the search scenario: a database of many messages (1 000 000 by default)
 * written straight into a store, indexed by the migration that makes the message index, then
 * searches over the wire. Reports the index's size per million messages, how long indexing
 * took, and search latency (p50, p99) over a set of queries. */
#ifndef BENCH_SEARCH_H
#define BENCH_SEARCH_H

#include <stddef.h>

#include "bench_report.h"
#include "bench_scenarios.h"

#define BSEARCH_MESSAGES        1000000   /* the standard size */
#define BSEARCH_QUICK_MESSAGES  20000
#define BSEARCH_TIME_LIMIT_S    600       /* setup (writing, indexing) included */

/* nmsgs messages (0: the standard size, or the quick one). Needs its own pierd (not with
 * --target: the database is written before it starts). */
void bscen_search(const struct bconfig *cfg, struct breport *rep, size_t nmsgs);

#endif
