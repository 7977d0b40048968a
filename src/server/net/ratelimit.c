/* ratelimit.c - token buckets and the tables of them keyed by address or account. */
#include "ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "xalloc.h"

struct limit_entry {
	char key[64];
	int conns;
	struct bucket a, b;
	UT_hash_handle hh;
};

struct limit_table {
	struct limit_entry *entries;
};

static void refill(struct bucket *b, double burst, double rate, int64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ms = now_ms;
	}
}

void bucket_init(struct bucket *b, double burst, int64_t now_ms)
{
	b->tokens = burst;
	b->last_ms = now_ms;
}

bool bucket_has(struct bucket *b, double burst, double rate, int64_t now_ms, int64_t *retry_ms)
{
	refill(b, burst, rate, now_ms);
	if (b->tokens >= 1.0)
		return true;
	if (retry_ms != NULL)
		*retry_ms = (int64_t)((1.0 - b->tokens) * 1000.0 / rate) + 1;
	return false;
}

bool bucket_take(struct bucket *b, double burst, double rate, int64_t now_ms, int64_t *retry_ms)
{
	if (!bucket_has(b, burst, rate, now_ms, retry_ms))
		return false;
	b->tokens -= 1.0;
	return true;
}

bool bucket_is_full(struct bucket *b, double burst, double rate, int64_t now_ms)
{
	refill(b, burst, rate, now_ms);
	return b->tokens >= burst;
}

struct limit_table *limit_table_new(void)
{
	return xcalloc(1, sizeof(struct limit_table));
}

void limit_table_free(struct limit_table *t)
{
	struct limit_entry *e, *tmp;

	if (t == NULL)
		return;
	HASH_ITER(hh, t->entries, e, tmp) {
		HASH_DEL(t->entries, e);
		free(e);
	}
	free(t);
}

struct limit_entry *limit_get(struct limit_table *t, const char *key, double burst_a,
                              double burst_b, int64_t now_ms)
{
	struct limit_entry *e;

	HASH_FIND_STR(t->entries, key, e);
	if (e != NULL)
		return e;
	e = xcalloc(1, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	bucket_init(&e->a, burst_a, now_ms);
	bucket_init(&e->b, burst_b, now_ms);
	HASH_ADD_STR(t->entries, key, e);
	return e;
}

struct bucket *limit_bucket_a(struct limit_entry *e)
{
	return &e->a;
}

struct bucket *limit_bucket_b(struct limit_entry *e)
{
	return &e->b;
}

int *limit_conns(struct limit_entry *e)
{
	return &e->conns;
}

void limit_sweep(struct limit_table *t, double burst_a, double rate_a, double burst_b,
                 double rate_b, int64_t now_ms)
{
	struct limit_entry *e, *tmp;

	HASH_ITER(hh, t->entries, e, tmp) {
		if (e->conns == 0 && bucket_is_full(&e->a, burst_a, rate_a, now_ms) &&
		    bucket_is_full(&e->b, burst_b, rate_b, now_ms)) {
			HASH_DEL(t->entries, e);
			free(e);
		}
	}
}

unsigned limit_count(const struct limit_table *t)
{
	return HASH_COUNT(t->entries);
}
