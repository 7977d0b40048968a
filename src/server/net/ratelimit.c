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
	struct bucket buckets[LIMIT_MAX_RULES];
	UT_hash_handle hh;
};

struct limit_table {
	struct limit_rule rules[LIMIT_MAX_RULES];
	int nrules;
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

void bucket_give(struct bucket *b, double burst)
{
	b->tokens += 1.0;
	if (b->tokens > burst)
		b->tokens = burst;
}

bool bucket_is_full(struct bucket *b, double burst, double rate, int64_t now_ms)
{
	refill(b, burst, rate, now_ms);
	return b->tokens >= burst;
}

struct limit_table *limit_table_new(const struct limit_rule *rules, int nrules)
{
	struct limit_table *t = xcalloc(1, sizeof(struct limit_table));

	if (nrules > LIMIT_MAX_RULES)
		nrules = LIMIT_MAX_RULES;
	for (int i = 0; i < nrules; i++)
		t->rules[i] = rules[i];
	t->nrules = nrules < 0 ? 0 : nrules;
	return t;
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

struct limit_entry *limit_get(struct limit_table *t, const char *key, int64_t now_ms)
{
	struct limit_entry *e;

	HASH_FIND_STR(t->entries, key, e);
	if (e != NULL)
		return e;
	e = xcalloc(1, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	for (int i = 0; i < t->nrules; i++)
		bucket_init(&e->buckets[i], t->rules[i].burst, now_ms);
	HASH_ADD_STR(t->entries, key, e);
	return e;
}

bool limit_has(struct limit_table *t, struct limit_entry *e, int rule, int64_t now_ms,
               int64_t *retry_ms)
{
	const struct limit_rule *r = &t->rules[rule];

	return bucket_has(&e->buckets[rule], r->burst, r->rate, now_ms, retry_ms);
}

bool limit_take(struct limit_table *t, struct limit_entry *e, int rule, int64_t now_ms,
                int64_t *retry_ms)
{
	const struct limit_rule *r = &t->rules[rule];

	return bucket_take(&e->buckets[rule], r->burst, r->rate, now_ms, retry_ms);
}

void limit_give(struct limit_table *t, struct limit_entry *e, int rule)
{
	bucket_give(&e->buckets[rule], t->rules[rule].burst);
}

int *limit_conns(struct limit_entry *e)
{
	return &e->conns;
}

void limit_sweep(struct limit_table *t, int64_t now_ms)
{
	struct limit_entry *e, *tmp;

	HASH_ITER(hh, t->entries, e, tmp) {
		bool full = e->conns == 0;

		for (int i = 0; full && i < t->nrules; i++)
			full = bucket_is_full(&e->buckets[i], t->rules[i].burst, t->rules[i].rate, now_ms);
		if (full) {
			HASH_DEL(t->entries, e);
			free(e);
		}
	}
}

unsigned limit_count(const struct limit_table *t)
{
	return HASH_COUNT(t->entries);
}
