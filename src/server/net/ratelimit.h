/* ratelimit.h - abuse limits: token buckets, and the per-address / per-account tables that hold
 * them. Time is monotonic milliseconds, passed in so the logic is testable. */
#ifndef PIER_RATELIMIT_H
#define PIER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* A token bucket: holds up to burst tokens, refills rate tokens per second. */
struct bucket {
	double tokens;
	int64_t last_ms;
};

/* Starts full. */
void bucket_init(struct bucket *b, double burst, int64_t now_ms);
/* Takes one token if there is one. When there is none, returns false and, if retry_ms is not
 * NULL, sets it to the milliseconds until one will be there. */
bool bucket_take(struct bucket *b, double burst, double rate, int64_t now_ms, int64_t *retry_ms);
/* True when a token is there (takes none); otherwise sets *retry_ms like bucket_take. */
bool bucket_has(struct bucket *b, double burst, double rate, int64_t now_ms, int64_t *retry_ms);
/* True when nothing would be held back (full after refill): the entry can be forgotten. */
bool bucket_is_full(struct bucket *b, double burst, double rate, int64_t now_ms);

/* Adds back one token taken for work that turned out not to count (never above burst). */
void bucket_give(struct bucket *b, double burst);

/* One limit of a table: a bucket of burst tokens refilled at rate tokens per second. */
struct limit_rule {
	double burst;
	double rate;
};

#define LIMIT_MAX_RULES 4

/* What pierd remembers about one address or one account name: a bucket per rule of its table
 * and (addresses) the connection count. */
struct limit_entry;

struct limit_table;

/* A table whose entries each hold nrules buckets (rules copied; at most LIMIT_MAX_RULES). */
struct limit_table *limit_table_new(const struct limit_rule *rules, int nrules);
void limit_table_free(struct limit_table *t);

/* The entry for key (an address or a user-name key), created if new (full buckets). */
struct limit_entry *limit_get(struct limit_table *t, const char *key, int64_t now_ms);
/* bucket_has / bucket_take / bucket_give on the entry's bucket of rule. */
bool limit_has(struct limit_table *t, struct limit_entry *e, int rule, int64_t now_ms,
               int64_t *retry_ms);
bool limit_take(struct limit_table *t, struct limit_entry *e, int rule, int64_t now_ms,
                int64_t *retry_ms);
void limit_give(struct limit_table *t, struct limit_entry *e, int rule);
int *limit_conns(struct limit_entry *e);

/* Forgets entries with no connections whose buckets are full again. */
void limit_sweep(struct limit_table *t, int64_t now_ms);
unsigned limit_count(const struct limit_table *t);

#endif
