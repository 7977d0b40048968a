/* test_store_e2ee_sets.c - the store thread's memory of users' active devices
 * (store_e2ee_sets.c): sets kept and replaced, empty sets, sets too big to keep, the bound on
 * users (everything forgotten, then learnt again) with the table half full, a new data
 * version forgetting everything, and the rollback hook store_db_open registers
 * (store_e2ee_on_rollback) forgetting everything when SQLite rolls a transaction back, not
 * when a savepoint is rolled back to (a job's: it changes no set kept). What store_e2ee.c does with it (forgetting before
 * device changes, on rollback, behind an external write) test_store_e2ee checks. */
#include <stdio.h>
#include <string.h>

#include "store_e2ee_sets.h"
#include "store_internal.h"
#include "tap.h"

static void devs(struct store_e2ee_dev *d, size_t n, int64_t base)
{
	for (size_t i = 0; i < n; i++) {
		d[i].rid = base + (int64_t)i;
		snprintf(d[i].id, sizeof(d[i].id), "dev%lld", (long long)(base + (int64_t)i));
	}
}

int main(void)
{
	struct store_e2ee_sets s;
	struct store_e2ee_dev d[STORE_E2EE_SET_DEVICES + 1];
	const struct store_e2ee_set *got;
	bool all = true;

	store_e2ee_sets_init(&s);
	CHECK(store_e2ee_sets_get(&s, 1) == NULL, "nothing known at first");
	store_e2ee_sets_forget(&s);      /* before any allocation: fine */

	devs(d, 3, 100);
	store_e2ee_sets_put(&s, 7, d, 3);
	got = store_e2ee_sets_get(&s, 7);
	CHECK(got != NULL && got->user_id == 7 && got->n == 3 && got->dev[2].rid == 102 &&
	      strcmp(got->dev[2].id, "dev102") == 0, "a set kept, copied");
	devs(d, 1, 200);
	store_e2ee_sets_put(&s, 7, d, 1);
	got = store_e2ee_sets_get(&s, 7);
	CHECK(got != NULL && got->n == 1 && got->dev[0].rid == 200 && s.count == 1,
	      "a set replaced, one user still");
	store_e2ee_sets_put(&s, 8, NULL, 0);
	got = store_e2ee_sets_get(&s, 8);
	CHECK(got != NULL && got->n == 0, "an empty set is known too");

	devs(d, STORE_E2EE_SET_DEVICES + 1, 300);
	store_e2ee_sets_put(&s, 9, d, STORE_E2EE_SET_DEVICES + 1);
	CHECK(store_e2ee_sets_get(&s, 9) == NULL, "a set of %d devices is not kept",
	      STORE_E2EE_SET_DEVICES + 1);
	store_e2ee_sets_put(&s, 9, d, STORE_E2EE_SET_DEVICES);
	CHECK(store_e2ee_sets_get(&s, 9) != NULL, "one of %d is", STORE_E2EE_SET_DEVICES);

	/* the table half full (4096 users in 8192 slots: many share a home slot and probe on)
	 * and the bound: past STORE_E2EE_SETS_MAX users everything is forgotten first */
	store_e2ee_sets_forget(&s);
	CHECK(store_e2ee_sets_get(&s, 7) == NULL && s.count == 0, "forgotten");
	devs(d, 1, 1);
	for (int64_t u = 1; u <= STORE_E2EE_SETS_MAX; u++) {
		d[0].rid = u;
		store_e2ee_sets_put(&s, u * 8192, d, 1);
	}
	for (int64_t u = 1; u <= STORE_E2EE_SETS_MAX && all; u++) {
		got = store_e2ee_sets_get(&s, u * 8192);
		all = got != NULL && got->dev[0].rid == u;
	}
	CHECK(all && s.count == STORE_E2EE_SETS_MAX, "%d users kept, each its own set",
	      STORE_E2EE_SETS_MAX);
	CHECK(store_e2ee_sets_get(&s, 3) == NULL, "an unknown user among them is unknown");
	store_e2ee_sets_put(&s, 5, d, 1);
	CHECK(s.count == 1 && store_e2ee_sets_get(&s, 5) != NULL &&
	      store_e2ee_sets_get(&s, 8192) == NULL, "one more: the others forgotten first");

	store_e2ee_sets_at_version(&s, 0);
	CHECK(store_e2ee_sets_get(&s, 5) != NULL, "the same data version keeps them");
	store_e2ee_sets_at_version(&s, 2);
	CHECK(store_e2ee_sets_get(&s, 5) == NULL && s.version == 2,
	      "another data version forgets them");

	store_e2ee_sets_release(&s);
	CHECK(s.slot == NULL && s.count == 0, "released");

	/* the hook, on a connection of its own */
	{
		struct store_db db;

		memset(&db, 0, sizeof(db));
		if (CHECK(sqlite3_open(":memory:", &db.db) == SQLITE_OK, "an SQLite connection")) {
			sqlite3_rollback_hook(db.db, store_e2ee_on_rollback, &db);
			devs(d, 1, 1);
			store_e2ee_sets_put(&db.e2ee_sets, 1, d, 1);
			CHECK(sqlite3_exec(db.db, "CREATE TABLE t(x); BEGIN; INSERT INTO t VALUES(1); "
			                   "SAVEPOINT job; INSERT INTO t VALUES(2); ROLLBACK TO job; "
			                   "RELEASE job; COMMIT", NULL, NULL, NULL) == SQLITE_OK &&
			      store_e2ee_sets_get(&db.e2ee_sets, 1) != NULL,
			      "a savepoint rolled back to and a commit keep the sets");
			CHECK(sqlite3_exec(db.db, "BEGIN; INSERT INTO t VALUES(3); ROLLBACK", NULL, NULL,
			                   NULL) == SQLITE_OK &&
			      store_e2ee_sets_get(&db.e2ee_sets, 1) == NULL,
			      "a transaction rolled back forgets them");
		}
		sqlite3_close(db.db);
		store_e2ee_sets_release(&db.e2ee_sets);
	}
	return tap_done();
}
