/* test_ratelimit.c - token buckets and the per-address/per-account tables, with a fake clock. */
#include <stddef.h>

#include "ratelimit.h"
#include "tap.h"

int main(void)
{
	struct bucket b;
	struct limit_table *t;
	struct limit_entry *e, *e2;
	int64_t retry = 0;
	int taken = 0;

	/* burst 3, then 2 per second */
	bucket_init(&b, 3, 0);
	for (int i = 0; i < 10; i++)
		taken += bucket_take(&b, 3, 2, 0, NULL);
	CHECK(taken == 3, "a full bucket gives its burst at once: %d", taken);
	CHECK(!bucket_take(&b, 3, 2, 0, &retry), "empty");
	CHECK(retry > 0 && retry <= 501, "retry_after for 2/s is about 500 ms: %lld", (long long)retry);
	CHECK(!bucket_has(&b, 3, 2, 400, NULL), "not yet after 400 ms");
	CHECK(bucket_take(&b, 3, 2, 500, NULL), "one token after 500 ms");
	CHECK(!bucket_take(&b, 3, 2, 500, NULL), "only one");
	CHECK(bucket_has(&b, 3, 2, 10000, NULL), "refilled later");
	CHECK(bucket_is_full(&b, 3, 2, 10000), "never above burst: full after a long time");
	taken = 0;
	for (int i = 0; i < 10; i++)
		taken += bucket_take(&b, 3, 2, 10000, NULL);
	CHECK(taken == 3, "refill stops at the burst: %d", taken);

	{
		const struct limit_rule rules[] = {{5, 1}, {2, 1}};

		t = limit_table_new(rules, 2);
	}
	e = limit_get(t, "127.0.0.1", 0);
	e2 = limit_get(t, "127.0.0.1", 0);
	CHECK(e == e2, "same key, same entry");
	CHECK(limit_count(t) == 1, "one entry");
	CHECK(limit_take(t, e, 1, 0, NULL) && limit_take(t, e, 1, 0, NULL), "rule 1: a burst of 2");
	CHECK(!limit_take(t, e, 1, 0, &retry), "the third is refused");
	CHECK(retry > 0 && retry <= 1001, "retry after about a second: %lld", (long long)retry);
	limit_give(t, e, 1);
	CHECK(limit_has(t, e, 1, 0, NULL) && limit_take(t, e, 1, 0, NULL), "a token given back is there");
	limit_give(t, e, 0);
	for (taken = 0; limit_take(t, e, 0, 0, NULL) && taken < 100; taken++)
		;
	CHECK(taken == 5, "giving to a full bucket does not raise it past its burst: %d", taken);
	(*limit_conns(e))++;
	limit_get(t, "::1", 0);
	limit_sweep(t, 100000);
	CHECK(limit_count(t) == 1, "sweep keeps the entry with a connection, drops the idle one: %u",
	      limit_count(t));
	(*limit_conns(e))--;
	limit_sweep(t, 100000);
	CHECK(limit_count(t) == 0, "then drops it too");
	limit_table_free(t);
	return tap_done();
}
