/* test_store_e2ee.c - the store's end-to-end encryption jobs (store_e2ee.c) on a real loop and
 * database: registering devices (a taken id, the pending limit, expiry), publishing lists
 * (versions, registered keys, revocation with prekeys and queue), claiming one-time prekeys,
 * an encrypted APPEND (the exact device set, the queue limit, no plaintext to a user with a
 * list), the queue read in pages and acked; and what the loop relies on: jobs submitted
 * together act in FIFO order on one state, so two sends racing for the last place in a queue,
 * or a send behind a publish that adds a device, see each other. devices.queued is checked
 * against the envelopes' rows after every step that changes them. On SQLite also what the
 * store thread's memory of the device sets (store_e2ee_sets.h) must not hide: a device
 * written into the file by another connection, a revocation in a later batch, and a send
 * refused for one full queue leaving the others' counts as they were. With PIER_TEST_STORE set to a
 * PostgreSQL server's URL the same checks run on a new database there (storetest.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "storetest.h"
#include "tap.h"

struct env {
	uv_loop_t loop;
	struct store *st;
	char dir[64];
	const char *server;    /* PostgreSQL (NULL: SQLite in dir) */
	char db[64], url[512];
	int64_t alice, bob, carol;
};

static enum store_status run(struct env *e, struct store_job *job)
{
	return storetest_run(&e->loop, e->st, job);
}

/* Submits n jobs at once, then runs the loop until every one is done (FIFO order). */
static void run_together(struct env *e, struct store_job **jobs, size_t n)
{
	bool done[8] = { false };
	bool all;

	for (size_t i = 0; i < n; i++) {
		jobs[i]->data = &done[i];
		jobs[i]->done = storetest_done_flag;
		store_submit(e->st, jobs[i]);
	}
	do {
		uv_run(&e->loop, UV_RUN_ONCE);
		all = true;
		for (size_t i = 0; i < n; i++)
			all = all && done[i];
	} while (!all);
}

static int64_t create_user(struct env *e, const char *name)
{
	struct store_job j;
	int64_t id;

	store_job_init(&j, STORE_CREATE_USER);
	j.name = name;
	j.pw_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
	CHECK(run(e, &j) == STORE_OK, "create %s", name);
	id = j.user_id;
	store_job_release(&j);
	if (id == 0) {
		store_job_init(&j, STORE_GET_USER);
		j.name = name;
		run(e, &j);
		id = j.user_id;
		store_job_release(&j);
	}
	return id;
}

/* A device of the test: id and keys are just distinct texts here (the loop checks forms). */
static void dev(struct store_device *d, const char *id)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", id);
	snprintf(d->sign_key, sizeof(d->sign_key), "S-%s", id);
	snprintf(d->dh_key, sizeof(d->dh_key), "D-%s", id);
	snprintf(d->name, sizeof(d->name), "n-%s", id);
	d->spk_id = 1;
	snprintf(d->spk_key, sizeof(d->spk_key), "P-%s", id);
	snprintf(d->spk_sig, sizeof(d->spk_sig), "G-%s", id);
}

static enum store_status reg(struct env *e, int64_t user, const char *id, int nopks,
                             int64_t cutoff, int64_t *rid)
{
	struct store_prekey opks[8];
	struct store_job j;
	enum store_status st;

	for (int i = 0; i < nopks; i++) {
		opks[i].id = i + 1;
		snprintf(opks[i].key, sizeof(opks[i].key), "O%d-%s", i, id);
	}
	store_job_init(&j, STORE_E2EE_REGISTER);
	j.user_id = user;
	dev(&j.e2ee.dev, id);
	j.e2ee.opks = opks;
	j.e2ee.nopks = (size_t)nopks;
	j.e2ee.max_devices = 10;
	j.e2ee.max_prekeys = 100;
	j.e2ee.pending_cutoff = cutoff;
	st = run(e, &j);
	if (rid != NULL)
		*rid = j.e2ee.rid;
	store_job_release(&j);
	return st;
}

static void publish_job(struct store_job *j, int64_t user, int64_t version, const char *ak,
                        const struct store_device *listed, size_t n, int64_t device_rid)
{
	store_job_init(j, STORE_E2EE_PUBLISH);
	j->user_id = user;
	j->e2ee.list = "LIST";
	j->e2ee.sig = "SIG";
	j->e2ee.ak = ak;
	j->e2ee.version = version;
	j->e2ee.listed = listed;
	j->e2ee.nlisted = n;
	j->e2ee.device_rid = device_rid;
}

static enum store_status publish(struct env *e, int64_t user, int64_t version, const char *ak,
                                 const char *const *ids, size_t n, int64_t *version_out)
{
	struct store_device listed[4];
	struct store_job j;
	enum store_status st;

	for (size_t i = 0; i < n; i++)
		dev(&listed[i], ids[i]);
	publish_job(&j, user, version, ak, listed, n, 0);
	st = run(e, &j);
	if (version_out != NULL)
		*version_out = j.e2ee.version_out;
	store_job_release(&j);
	return st;
}

static void send_job(struct store_job *j, struct store_envelope *envs, int64_t from,
                     int64_t from_rid, int64_t to, const char *const *ids, size_t n,
                     int64_t max_queue)
{
	for (size_t i = 0; i < n; i++) {
		memset(&envs[i], 0, sizeof(envs[i]));
		snprintf(envs[i].device, sizeof(envs[i].device), "%s", ids[i]);
		envs[i].body_in = "BODY";
	}
	store_job_init(j, STORE_APPEND);
	j->user_id = from;
	j->peer_id = to;
	j->text = "";
	j->e2ee.payload = "PAYLOAD";
	j->e2ee.envs_in = envs;
	j->e2ee.nenvs_in = n;
	j->e2ee.device_rid = from_rid;
	j->e2ee.max_queue = max_queue;
}

/* Every device's queued count equals its envelopes' rows. */
static void check_counts(struct env *e, const char *when)
{
	static const char pg_sql[] = "SELECT count(*) FROM devices d WHERE queued <> "
	                             "(SELECT count(*) FROM envelopes WHERE device = d.rid)";
	/* SQLite: the counts in queues (schema step 9); a device without its row counts 0 */
	static const char sql[] =
		"SELECT count(*) FROM devices d WHERE "
		"coalesce((SELECT queued FROM queues WHERE device = d.rid), 0) <> "
		"(SELECT count(*) FROM envelopes WHERE device = d.rid)";
	char path[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t bad = -1;

	if (e->server != NULL) {
		storetest_pg_ints(e->url, pg_sql, &bad, 1);
	} else {
		snprintf(path, sizeof(path), "%s/pier.db", e->dir);
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
			bad = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		sqlite3_close(db);
	}
	CHECK(bad == 0, "%s: every device's queued count is its envelopes (%" PRId64 " off)", when,
	      bad);
}

/* Runs sql on the SQLite file through a connection of its own (another writer, as a
 * compromised server or an operator could be). 0, or -1. */
static int behind(struct env *e, const char *sql)
{
	char path[128];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/pier.db", e->dir);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Whether the job's changed set names device id. */
static bool names_device(const struct store_job *j, const char *id)
{
	for (size_t i = 0; i < j->e2ee.ndevices; i++) {
		if (strcmp(j->e2ee.devices[i].id, id) == 0)
			return true;
	}
	return false;
}

/* SQLite: what the memory of device sets must not hide (store_e2ee_sets.h). Alice has a1
 * and a2, bob b1; b1's queue holds 3 envelopes, a2's 1. Returns the messages it stored. */
static int check_sets(struct env *e, int64_t a1)
{
	struct store_job j;
	struct store_envelope envs[3];
	const char *to_b1[] = { "b1" }, *to_b1_a2[] = { "b1", "a2" }, *to_a2_b1[] = { "a2", "b1" };
	char sql[512];

	/* both sets are in memory after this send */
	send_job(&j, envs, e->alice, a1, e->bob, to_b1_a2, 2, 100);
	CHECK(run(e, &j) == STORE_OK, "a send with both sets known (%d)", j.status);
	store_job_release(&j);
	snprintf(sql, sizeof(sql), "INSERT INTO devices(id, user_id, sign_key, dh_key, name, state, "
	         "created, spk_id, spk_key, spk_sig) VALUES('spy', %" PRId64 ", 'K', 'K', 'spy', 1, "
	         "1, 1, 'K', 'S')", e->bob);
	CHECK(behind(e, sql) == 0, "a device of bob's written behind the store");
	send_job(&j, envs, e->alice, a1, e->bob, to_b1_a2, 2, 100);
	CHECK(run(e, &j) == STORE_CHANGED && names_device(&j, "spy") && names_device(&j, "b1"),
	      "the next send sees it: changed, naming it (%d)", j.status);
	store_job_release(&j);
	CHECK(behind(e, "DELETE FROM devices WHERE id = 'spy'") == 0, "and removed again");
	send_job(&j, envs, e->alice, a1, e->bob, to_b1_a2, 2, 100);
	CHECK(run(e, &j) == STORE_OK, "then b1 and a2 are the set again (%d)", j.status);
	store_job_release(&j);
	check_counts(e, "after the device written behind");

	/* b1 holds 5 now, a2 3: a limit of 5 leaves a2 room and b1 none */
	send_job(&j, envs, e->alice, a1, e->bob, to_a2_b1, 2, 5);
	CHECK(run(e, &j) == STORE_FULL, "one full queue of two: full (%d)", j.status);
	store_job_release(&j);
	check_counts(e, "after a send refused for b1's queue, a2's room taken first");
	send_job(&j, envs, e->alice, a1, e->bob, to_b1, 1, 100);
	CHECK(run(e, &j) == STORE_CHANGED, "still a2 in the set (%d)", j.status);
	store_job_release(&j);
	return 2;
}

int main(void)
{
	struct env e = { 0 };
	struct store_options opt = { .no_sync = true };
	struct store_job j, j2, j3, *jobs[3];
	struct store_envelope envs[3][4];
	int64_t a1 = 0, a2 = 0, b1 = 0, c = 0, version = 0;
	int extra = 0;      /* messages check_sets stored */
	char *err = NULL;
	const char *ids1[] = { "a1" }, *ids2[] = { "a1", "a2" }, *bob1[] = { "b1" };
	const char *to_b1[] = { "b1" }, *to_b1_a2[] = { "b1", "a2" };

	snprintf(e.dir, sizeof(e.dir), "/tmp/pier-store-e2ee-XXXXXX");
	if (mkdtemp(e.dir) == NULL || uv_loop_init(&e.loop) != 0)
		return 1;
	e.server = storetest_pg_server();
	if (e.server != NULL) {
		if (storetest_pg_create(e.server, e.db, e.url, sizeof e.url) != 0)
			return tap_done();
		opt.url = e.url;
	}
	e.st = store_open(&e.loop, e.dir, &opt, &err);
	if (!CHECK(e.st != NULL, "store_open (%s): %s", e.server != NULL ? "postgresql" : "sqlite",
	           err != NULL ? err : "?"))
		return tap_done();
	e.alice = create_user(&e, "alice_1");
	e.bob = create_user(&e, "bob_22");
	e.carol = create_user(&e, "carol_3");

	/* Devices: registered pending; an id is taken for good; 3 pending at once. */
	CHECK(reg(&e, e.alice, "a1", 3, 0, &a1) == STORE_OK && a1 > 0, "a1 registered");
	CHECK(reg(&e, e.bob, "a1", 0, 0, NULL) == STORE_EXISTS, "a1's id taken, for bob too");
	CHECK(reg(&e, e.bob, "b1", 0, 0, &b1) == STORE_OK, "b1 registered");
	for (int i = 0; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "c%d", i);
		CHECK(reg(&e, e.carol, id, 0, 0, NULL) == STORE_OK, "carol's pending %d", i);
	}
	CHECK(reg(&e, e.carol, "c3", 0, 0, NULL) == STORE_FULL, "a 4th pending device");
	/* Expiry: with the cutoff in the future every pending one is past it: revoked. */
	CHECK(reg(&e, e.carol, "c4", 0, INT64_MAX, &c) == STORE_OK, "room once the others expired");
	store_job_init(&j, STORE_E2EE_HELLO);
	j.user_id = e.carol;
	j.e2ee.device_id = "c0";
	CHECK(run(&e, &j) == STORE_REVOKED, "an expired pending device is revoked (%d)", j.status);
	store_job_release(&j);

	/* Lists. */
	CHECK(publish(&e, e.alice, 1, "AK1", ids1, 1, NULL) == STORE_OK, "alice's first list");
	CHECK(publish(&e, e.alice, 1, "AK1", ids1, 1, &version) == STORE_STALE && version == 1,
	      "version 1 again: stale, the current is 1 (%" PRId64 ")", version);
	CHECK(publish(&e, e.alice, 2, "AK2", ids1, 1, NULL) == STORE_CONFLICT,
	      "another account key without reset");
	CHECK(publish(&e, e.alice, 2, "AK1", bob1, 1, NULL) == STORE_NOT_FOUND,
	      "a list naming bob's device");
	CHECK(publish(&e, e.bob, 1, "BK1", bob1, 1, NULL) == STORE_OK, "bob's first list");

	/* No plaintext to a user with a list. */
	store_job_init(&j, STORE_APPEND);
	j.user_id = e.alice;
	j.peer_id = e.bob;
	j.text = "in clear";
	CHECK(run(&e, &j) == STORE_E2EE_REQUIRED, "plaintext to bob: e2ee required");
	store_job_release(&j);

	/* The exact set; the queue limit decided in FIFO order for sends submitted together. */
	send_job(&j, envs[0], e.alice, a1, e.bob, ids2, 2, 2);
	CHECK(run(&e, &j) == STORE_CHANGED && j.e2ee.ndevices == 1 &&
	      strcmp(j.e2ee.devices[0].id, "b1") == 0, "an envelope for a device alice has not: "
	      "changed, the current set is b1 (%d)", j.status);
	store_job_release(&j);
	send_job(&j, envs[0], e.alice, a1, e.bob, to_b1, 1, 2);
	send_job(&j2, envs[1], e.alice, a1, e.bob, to_b1, 1, 2);
	send_job(&j3, envs[2], e.alice, a1, e.bob, to_b1, 1, 2);
	jobs[0] = &j;
	jobs[1] = &j2;
	jobs[2] = &j3;
	run_together(&e, jobs, 3);
	CHECK(j.status == STORE_OK && j2.status == STORE_OK && j3.status == STORE_FULL &&
	      envs[0][0].qid > 0 && envs[1][0].qid > envs[0][0].qid,
	      "three sends for a queue of 2 at once: two stored, the third full (%d %d %d)",
	      j.status, j2.status, j3.status);
	store_job_release(&j);
	store_job_release(&j2);
	store_job_release(&j3);
	check_counts(&e, "after the sends");

	/* A publish adding a2, and a send behind it in the same FIFO: the send sees a2. */
	CHECK(reg(&e, e.alice, "a2", 0, 0, &a2) == STORE_OK, "a2 registered");
	{
		struct store_device listed[2];

		dev(&listed[0], "a1");
		dev(&listed[1], "a2");
		publish_job(&j, e.alice, 2, "AK1", listed, 2, a1);
		send_job(&j2, envs[0], e.alice, a1, e.bob, to_b1, 1, 100);
		send_job(&j3, envs[1], e.alice, a1, e.bob, to_b1_a2, 2, 100);
		jobs[0] = &j;
		jobs[1] = &j2;
		jobs[2] = &j3;
		run_together(&e, jobs, 3);
		CHECK(j.status == STORE_OK && j2.status == STORE_CHANGED && j3.status == STORE_OK,
		      "a send behind the publish that added a2 needs a2 (%d %d %d)", j.status,
		      j2.status, j3.status);
		store_job_release(&j);
		store_job_release(&j2);
		store_job_release(&j3);
	}
	check_counts(&e, "after the publish");
	if (e.server == NULL)
		extra = check_sets(&e, a1);

	/* Keys claim one-time prekeys one by one, the device asking left out. */
	for (int i = 0; i < 4; i++) {
		store_job_init(&j, STORE_E2EE_KEYS);
		j.user_id = e.bob;
		j.e2ee.peer_id = e.alice;
		run(&e, &j);
		{
			const struct store_device *d = j.e2ee.ndevices > 0 && strcmp(j.e2ee.devices[0].id, "a1") == 0
			                               ? &j.e2ee.devices[0] : j.e2ee.ndevices > 1 ? &j.e2ee.devices[1] : NULL;

			CHECK(d != NULL && j.e2ee.ndevices == 2 && d->has_opk == (i < 3) &&
			      (i >= 3 || d->opk.id == i + 1) && strcmp(j.e2ee.list_out, "LIST") == 0,
			      "claim %d of a1's 3 one-time prekeys", i + 1);
		}
		store_job_release(&j);
	}

	/* The queue: pages in order, an ack deletes up to a qid. */
	store_job_init(&j, STORE_E2EE_QUEUE);
	j.e2ee.device_rid = b1;
	j.e2ee.limit = 2;
	run(&e, &j);
	CHECK(j.status == STORE_OK && j.e2ee.nenvs == 2 && j.e2ee.more &&
	      j.e2ee.envs[0].qid < j.e2ee.envs[1].qid && strcmp(j.e2ee.envs[0].payload, "PAYLOAD") == 0 &&
	      strcmp(j.e2ee.envs[0].from_device, "a1") == 0 && strcmp(j.e2ee.envs[0].to, "@bob_22") == 0 &&
	      j.e2ee.envs[0].msg_id > 0, "b1's queue, a page of 2, more waiting");
	{
		int64_t upto = j.e2ee.envs[1].qid;

		store_job_release(&j);
		store_job_init(&j, STORE_E2EE_ACK);
		j.e2ee.device_rid = b1;
		j.e2ee.upto = upto;
		CHECK(run(&e, &j) == STORE_OK && j.e2ee.count == 2, "ack of 2 (%" PRId64 ")", j.e2ee.count);
		store_job_release(&j);
	}
	check_counts(&e, "after the ack");

	/* History: the encrypted message is flagged, its text empty, no payload column read. */
	store_job_init(&j, STORE_HISTORY);
	j.user_id = e.bob;
	j.peer_id = e.alice;
	j.limit = 10;
	run(&e, &j);
	CHECK(j.status == STORE_OK && j.nmsgs == (size_t)(3 + extra) && j.msgs[0].e2ee &&
	      j.msgs[0].text[0] == '\0', "history: %d encrypted messages, no text", 3 + extra);
	store_job_release(&j);

	/* Revocation by a list without a2: its queue and prekeys go. */
	CHECK(publish(&e, e.alice, 3, "AK1", ids1, 1, NULL) == STORE_OK, "a list without a2");
	store_job_init(&j, STORE_E2EE_HELLO);
	j.user_id = e.alice;
	j.e2ee.device_id = "a2";
	CHECK(run(&e, &j) == STORE_REVOKED, "a2 is revoked");
	store_job_release(&j);
	check_counts(&e, "after the revocation");
	{
		const char *to_a1_a2[] = { "a1", "a2" }, *to_a1[] = { "a1" };

		/* a send after the revocation, in a later batch: a2 is no longer in the set */
		send_job(&j, envs[0], e.bob, b1, e.alice, to_a1_a2, 2, 100);
		CHECK(run(&e, &j) == STORE_CHANGED && j.e2ee.ndevices == 1 &&
		      strcmp(j.e2ee.devices[0].id, "a1") == 0, "an envelope for revoked a2: changed, "
		      "the set is a1 (%d)", j.status);
		store_job_release(&j);
		send_job(&j, envs[0], e.bob, b1, e.alice, to_a1, 1, 100);
		CHECK(run(&e, &j) == STORE_OK, "for a1 alone: stored (%d)", j.status);
		store_job_release(&j);
		check_counts(&e, "after the sends to alice");
	}

	store_close(e.st);
	uv_run(&e.loop, UV_RUN_NOWAIT);
	CHECK(uv_loop_close(&e.loop) == 0, "loop closed");
	storetest_remove_dir(e.dir);
	if (e.server != NULL)
		storetest_pg_drop(e.server, e.db);
	return tap_done();
}
