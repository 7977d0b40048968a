/* bench_history.h - the history scenario: concurrent history page reads, each page compared
 * with what was stored. */
#ifndef BENCH_HISTORY_H
#define BENCH_HISTORY_H

#include <stddef.h>

#include "bench_report.h"
#include "bench_scenarios.h"

/* readers members page through a room one writer filled (10000 messages; --quick: 500). */
void bscen_history(const struct bconfig *cfg, struct breport *rep, size_t readers);

#endif
