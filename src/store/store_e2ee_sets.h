/* store_e2ee_sets.h - the store thread's memory of each user's active devices (rid and id),
 * so that an encrypted send checks its envelopes against the current sets without reading
 * them from the devices table every time (docs/PERFORMANCE.md, "The encrypted path's ratio
 * (session 2)").
 *
 * What it holds is always what the transaction would read: store_e2ee.c forgets everything
 * before any job that may change a device's state (every e2ee op but QUEUE and ACK), the
 * connection's rollback hook forgets everything when a transaction is rolled back (a set read
 * inside a batch may hold devices that batch activated), and a new data version (PRAGMA
 * data_version: another connection committed to the file) forgets everything. A job rolled back to its savepoint
 * changes no set the memory holds: a job that changes devices ran after a forget, and sets
 * are only learnt by sends, which change no device's state.
 *
 * Bounded: at most STORE_E2EE_SETS_MAX users (then everything is forgotten and learnt again)
 * and STORE_E2EE_SET_DEVICES devices a user (a bigger set is not kept: read every time).
 * Memory: the struct owns its entries; one per struct store_db, used by its thread alone.
 */
#ifndef PIER_STORE_E2EE_SETS_H
#define PIER_STORE_E2EE_SETS_H

#include <stddef.h>
#include <stdint.h>

#include "store_e2ee.h"

#define STORE_E2EE_SETS_MAX     4096
#define STORE_E2EE_SET_DEVICES  32     /* --e2ee-max-devices is at most 32 */

struct store_e2ee_dev {
	int64_t rid;
	char id[STORE_DEVICE_ID_TEXT + 1];
};

struct store_e2ee_set {
	int64_t user_id;
	size_t n;
	struct store_e2ee_dev dev[];           /* n of them */
};

struct store_e2ee_sets {
	struct store_e2ee_set **slot;          /* open addressing by user_id; NULL: empty */
	size_t cap, count;                     /* cap: a power of two, 2 * STORE_E2EE_SETS_MAX */
	int64_t version;                       /* the file's data version they were learnt at */
};

/* Empty memory (no allocation until the first store_e2ee_sets_put). */
void store_e2ee_sets_init(struct store_e2ee_sets *s);
/* Frees every entry and the table. */
void store_e2ee_sets_release(struct store_e2ee_sets *s);
/* Forgets every user's set. */
void store_e2ee_sets_forget(struct store_e2ee_sets *s);
/* Forgets every set when version is not the one they were learnt at, and keeps version. */
void store_e2ee_sets_at_version(struct store_e2ee_sets *s, int64_t version);
/* The set of user_id as last put, or NULL when it is not known. */
const struct store_e2ee_set *store_e2ee_sets_get(const struct store_e2ee_sets *s,
                                                 int64_t user_id);
/* Keeps user_id's active devices (n of them, copied; n may be 0). Does nothing when n passes
 * STORE_E2EE_SET_DEVICES or memory runs out; forgets everything first when
 * STORE_E2EE_SETS_MAX users are kept. */
void store_e2ee_sets_put(struct store_e2ee_sets *s, int64_t user_id,
                         const struct store_e2ee_dev *dev, size_t n);

#endif
