/* test_store_e2ee_qid.c - the encrypted queues across schema step 9 (SQLite): a database of
 * version 8, with envelopes waiting and the highest ones acked, migrates with its envelopes
 * and counts intact; a qid is never given twice (not after an ack of the highest envelope, not
 * after a restart, whose table's max(qid) is below what was given); a device written by
 * another connection without its queue row gets one; a send refused for one full queue of
 * three leaves every count as it was (no savepoint: the rooms taken are given back); encrypted
 * messages queued with a plain one whose multi-row INSERT fails are written one by one, each
 * with its envelopes (store_append.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "store_fts.h"
#include "store_internal.h"
#include "storetest.h"
#include "tap.h"

/* Version 8: ann (1) has d1, d2; ben (2) has d3. Five envelopes were queued (qids 1-5); d2
 * acked up to 5 (its 4 and 5 deleted), so sqlite_sequence says 5 and max(qid) is 3. */
#define OLD_ROWS \
	"INSERT INTO users(id, name, name_key, pw_hash, created) VALUES(1, 'ann', 'ann', 'x', 0)," \
	"  (2, 'ben', 'ben', 'x', 0);" \
	"INSERT INTO devices(rid, id, user_id, sign_key, dh_key, state, created, spk_id, spk_key," \
	"  spk_sig, queued) VALUES(1, 'd1', 1, 'S', 'D', 1, 0, 1, 'K', 'G', 2)," \
	"  (2, 'd2', 1, 'S', 'D', 1, 0, 1, 'K', 'G', 0), (3, 'd3', 2, 'S', 'D', 1, 0, 1, 'K', 'G', 1);" \
	"INSERT INTO messages(id, ts, sender_id, recipient_id, pair_lo, pair_hi, text, e2ee, payload)" \
	"  VALUES(1, 7, 2, 1, 1, 2, '', 1, 'P1');" \
	"INSERT INTO envelopes(device, message_id, from_device, body) VALUES(1, 1, 3, 'B1');" \
	"INSERT INTO envelopes(device, from_device, body, payload) VALUES(3, 1, 'B2', 'P2');" \
	"INSERT INTO envelopes(device, from_device, body, payload) VALUES(1, 2, 'B3', 'P3');" \
	"INSERT INTO envelopes(device, from_device, body, payload) VALUES(2, 1, 'B4', 'P4');" \
	"INSERT INTO envelopes(device, from_device, body, payload) VALUES(2, 1, 'B5', 'P5');" \
	"DELETE FROM envelopes WHERE device = 2 AND qid <= 5;"

struct env {
	uv_loop_t loop;
	struct store *st;
	char dir[64], path[128];
};

static bool exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK)
		fprintf(stderr, "# %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc == SQLITE_OK;
}

/* The first column of sql's first row as text, through a connection of its own ("!" on
 * error, "" for NULL). */
static const char *text_of(const char *path, const char *sql)
{
	static char buf[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	snprintf(buf, sizeof(buf), "!");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(buf, sizeof(buf), "%s", t != NULL ? (const char *)t : "");
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return buf;
}

static bool make_old(struct env *e)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	bool ok;

	if (!CHECK(sqlite3_open(e->path, &db) == SQLITE_OK, "create the old database"))
		return false;
	ok = CHECK(store_fts_register(db, &err) == 0 && store_schema_migrate_to(db, 8, &err) == 0,
	           "schema version 8: %s", err != NULL ? err : "");
	free(err);
	ok = ok && CHECK(sqlite3_exec(db, "PRAGMA foreign_keys = ON;" OLD_ROWS, NULL, NULL, NULL) ==
	                 SQLITE_OK, "old rows: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	return ok;
}

static bool open_store(struct env *e)
{
	struct store_options opt = { .no_sync = true };
	char *err = NULL;

	e->st = store_open(&e->loop, e->dir, &opt, &err);
	CHECK(e->st != NULL, "store_open: %s", err != NULL ? err : "");
	free(err);
	return e->st != NULL;
}

static void close_store(struct env *e)
{
	store_close(e->st);
	e->st = NULL;
	uv_run(&e->loop, UV_RUN_NOWAIT);
}

/* A device_send from device from_rid of user to device id to: its status, *qid. */
static enum store_status device_send(struct env *e, int64_t user, int64_t from_rid,
                                     const char *to, int64_t *qid)
{
	struct store_job j;
	enum store_status st;

	store_job_init(&j, STORE_E2EE_DEVICE_SEND);
	j.user_id = user;
	j.e2ee.device_rid = from_rid;
	j.e2ee.device_id = to;
	j.e2ee.payload = "PX";
	j.e2ee.body = "BX";
	j.e2ee.max_queue = 100;
	st = storetest_run(&e->loop, e->st, &j);
	*qid = j.e2ee.qid;
	store_job_release(&j);
	return st;
}

static enum store_status ack(struct env *e, int64_t rid, int64_t upto, int64_t *count)
{
	struct store_job j;
	enum store_status st;

	store_job_init(&j, STORE_E2EE_ACK);
	j.e2ee.device_rid = rid;
	j.e2ee.upto = upto;
	st = storetest_run(&e->loop, e->st, &j);
	*count = j.e2ee.count;
	store_job_release(&j);
	return st;
}

/* An encrypted message from ann's d1 to ben, envelopes for the devices named in order. */
static enum store_status send_msg(struct env *e, const char *const *ids, size_t n,
                                  int64_t max_queue)
{
	struct store_envelope envs[4];
	struct store_job j;
	enum store_status st;

	for (size_t i = 0; i < n; i++) {
		memset(&envs[i], 0, sizeof(envs[i]));
		snprintf(envs[i].device, sizeof(envs[i].device), "%s", ids[i]);
		envs[i].body_in = "BODY";
	}
	store_job_init(&j, STORE_APPEND);
	j.user_id = 1;
	j.peer_id = 2;
	j.text = "";
	j.e2ee.payload = "PAYLOAD";
	j.e2ee.envs_in = envs;
	j.e2ee.nenvs_in = n;
	j.e2ee.device_rid = 1;
	j.e2ee.max_queue = max_queue;
	st = storetest_run(&e->loop, e->st, &j);
	store_job_release(&j);
	return st;
}

/* jobs[0..n) as one batch (storetest_run_batch), the lock held by a connection of the
 * test's. */
static void run_together(struct env *e, struct store_job *jobs, size_t n)
{
	struct store_job *p[64];
	sqlite3 *raw = NULL;

	CHECK(n <= 64 && sqlite3_open_v2(e->path, &raw, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK,
	      "a second connection");
	for (size_t i = 0; i < n; i++)
		p[i] = &jobs[i];
	storetest_run_batch(&e->loop, e->st, raw, p, n);
	sqlite3_close(raw);
}

#define COUNTS_SQL \
	"SELECT group_concat(device || '=' || queued, ' ') FROM (SELECT * FROM queues ORDER BY device)"
/* Encrypted messages whose envelopes are not one for each of d3, d4, d2, in qid order */
#define ENVS_OFF_SQL \
	"SELECT count(*) FROM (SELECT message_id, group_concat(device, '') AS d FROM " \
	"(SELECT * FROM envelopes WHERE message_id > 1 ORDER BY qid) GROUP BY message_id) " \
	"WHERE d <> '342'"
#define COUNTS_OFF_SQL \
	"SELECT count(*) FROM devices d WHERE coalesce((SELECT queued FROM queues WHERE " \
	"device = d.rid), 0) <> (SELECT count(*) FROM envelopes WHERE device = d.rid)"

/* The queues' counts are counts (per device: want), each equal to its rows, and every
 * message's envelopes went to d3, d4, d2 in that order. */
static void check_queues(struct env *e, const char *want)
{
	CHECK(strcmp(text_of(e->path, COUNTS_SQL), want) == 0, "counted: %s",
	      text_of(e->path, COUNTS_SQL));
	CHECK(strcmp(text_of(e->path, COUNTS_OFF_SQL), "0") == 0, "every count is its rows");
	CHECK(strcmp(text_of(e->path, ENVS_OFF_SQL), "0") == 0,
	      "each message's envelopes for d3, d4, d2, in order (%s off)",
	      text_of(e->path, ENVS_OFF_SQL));
}

/* An encrypted message from user 1's device 1 to user 2, with the three envelopes envs. */
static void init_send(struct store_job *k, struct store_envelope *envs)
{
	store_job_init(k, STORE_APPEND);
	k->user_id = 1;
	k->peer_id = 2;
	k->text = "";
	k->e2ee.payload = "PAYLOAD";
	k->e2ee.envs_in = envs;
	k->e2ee.nenvs_in = 3;
	k->e2ee.device_rid = 1;
	k->e2ee.max_queue = 100;
}

int main(void)
{
	struct env e = { 0 };
	struct store_job j;
	int64_t q1 = 0, q2 = 0, count = 0;
	const char *ben_and_d2[] = { "d3", "d4", "d2" }, *d4_first[] = { "d4", "d2", "d3" };

	snprintf(e.dir, sizeof(e.dir), "/tmp/pier-store-qid-XXXXXX");
	if (mkdtemp(e.dir) == NULL || uv_loop_init(&e.loop) != 0)
		return 1;
	snprintf(e.path, sizeof(e.path), "%s/pier.db", e.dir);
	if (!make_old(&e) || !open_store(&e))
		return tap_done();

	/* The migration: every envelope as it was, the counts moved, the high-water mark. */
	CHECK(strcmp(text_of(e.path, "PRAGMA user_version"), "9") == 0, "schema version 9");
	CHECK(strcmp(text_of(e.path, "SELECT group_concat(qid || ':' || device || ':' || "
	                     "coalesce(message_id, 0) || ':' || from_device || ':' || body || ':' || "
	                     "coalesce(payload, ''), ' ') FROM (SELECT * FROM envelopes ORDER BY qid)"),
	             "1:1:1:3:B1: 2:3:0:1:B2:P2 3:1:0:2:B3:P3") == 0,
	      "the envelopes kept: %s", text_of(e.path, "SELECT count(*) FROM envelopes"));
	CHECK(strcmp(text_of(e.path, COUNTS_SQL), "1=2 2=0 3=1") == 0, "the counts kept: %s",
	      text_of(e.path, COUNTS_SQL));
	CHECK(strcmp(text_of(e.path, "SELECT hwm FROM e2ee_qid"), "5") == 0,
	      "the highest qid given is 5 (sqlite_sequence), not max(qid) 3");
	CHECK(strcmp(text_of(e.path, "SELECT count(*) FROM pragma_table_info('devices') "
	                     "WHERE name = 'queued'"), "0") == 0, "devices.queued gone");
	CHECK(strcmp(text_of(e.path, "SELECT count(*) FROM sqlite_sequence WHERE "
	                     "name LIKE 'envelopes%'"), "0") == 0, "no sequence row for envelopes");

	/* Through the store: the count and the queue read as before. */
	store_job_init(&j, STORE_E2EE_HELLO);
	j.user_id = 1;
	j.e2ee.device_id = "d1";
	CHECK(storetest_run(&e.loop, e.st, &j) == STORE_OK && j.e2ee.queued == 2,
	      "hello d1: 2 queued (%" PRId64 ")", j.e2ee.queued);
	store_job_release(&j);
	store_job_init(&j, STORE_E2EE_QUEUE);
	j.e2ee.device_rid = 1;
	j.e2ee.limit = 10;
	CHECK(storetest_run(&e.loop, e.st, &j) == STORE_OK && j.e2ee.nenvs == 2 &&
	      j.e2ee.envs[0].qid == 1 && j.e2ee.envs[1].qid == 3 &&
	      strcmp(j.e2ee.envs[0].body, "B1") == 0 && strcmp(j.e2ee.envs[0].payload, "P1") == 0 &&
	      strcmp(j.e2ee.envs[1].payload, "P3") == 0, "d1's queue: 1 and 3, in order");
	store_job_release(&j);

	/* A new envelope's qid is above every one given, the acked 4 and 5 too. */
	CHECK(device_send(&e, 1, 1, "d2", &q1) == STORE_OK && q1 == 6,
	      "d1 to d2: qid 6, not 4 (%" PRId64 ")", q1);
	CHECK(ack(&e, 2, q1, &count) == STORE_OK && count == 1, "d2 acks it: the highest gone");
	CHECK(device_send(&e, 1, 1, "d2", &q2) == STORE_OK && q2 == 7,
	      "after the ack of the highest: 7 (%" PRId64 ")", q2);
	CHECK(ack(&e, 2, q2, &count) == STORE_OK && count == 1, "and acked again");
	CHECK(strcmp(text_of(e.path, "SELECT hwm FROM e2ee_qid"), "7") == 0,
	      "hwm saved with the batch: 7");

	/* A restart: max(qid) is 3, the counter goes on from the saved 7. */
	close_store(&e);
	if (!open_store(&e))
		return tap_done();
	CHECK(device_send(&e, 1, 1, "d2", &q1) == STORE_OK && q1 == 8,
	      "after a restart: 8, above every acked qid (%" PRId64 ")", q1);
	CHECK(ack(&e, 2, q1, &count) == STORE_OK && count == 1, "acked");

	/* A device another connection wrote (no queue row): a send gets it one. */
	CHECK(exec_sql(e.path, "INSERT INTO devices(rid, id, user_id, sign_key, dh_key, state, "
	                       "created, spk_id, spk_key, spk_sig) VALUES(4, 'd4', 2, 'S', 'D', 1, 0, "
	                       "1, 'K', 'G')"), "d4 written behind the store");
	CHECK(send_msg(&e, ben_and_d2, 3, 100) == STORE_OK, "a message to d3, d4 and d2: stored");
	CHECK(strcmp(text_of(e.path, COUNTS_SQL), "1=2 2=1 3=2 4=1") == 0, "counted: %s",
	      text_of(e.path, COUNTS_SQL));
	CHECK(strcmp(text_of(e.path, "SELECT min(qid) FROM envelopes WHERE message_id > 1"), "9") == 0,
	      "its envelopes from 9 on, after the other connection's write");

	/* d3 is full at 2: the send is refused, d4's and d2's rooms given back. */
	CHECK(send_msg(&e, d4_first, 3, 2) == STORE_FULL, "d3 full: queue_full");
	CHECK(strcmp(text_of(e.path, COUNTS_SQL), "1=2 2=1 3=2 4=1") == 0,
	      "every count as it was: %s", text_of(e.path, COUNTS_SQL));
	CHECK(strcmp(text_of(e.path, COUNTS_OFF_SQL), "0") == 0, "every count is its rows");
	CHECK(strcmp(text_of(e.path, "SELECT count(*) FROM messages"), "2") == 0,
	      "the refused message not stored");

	/* Nine jobs in one batch: a plain message to a user who does not exist, then eight
	 * encrypted ones, queued together. Their 8-row INSERT fails on the first row's
	 * foreign key, so each row is written alone: the encrypted ones with their envelopes. */
	{
		struct store_job jobs[9];
		struct store_envelope envs[8][3];
		bool ok = true;
		int64_t last_msg = 0, last_qid = 0;

		store_job_init(&jobs[0], STORE_APPEND);
		jobs[0].user_id = 1;
		jobs[0].peer_id = 99;
		jobs[0].text = "to nobody";
		for (size_t m = 0; m < 8; m++) {
			struct store_job *k = &jobs[m + 1];

			for (size_t i = 0; i < 3; i++) {
				memset(&envs[m][i], 0, sizeof(envs[m][i]));
				snprintf(envs[m][i].device, sizeof(envs[m][i].device), "%s", ben_and_d2[i]);
				envs[m][i].body_in = "BODY";
			}
			store_job_init(k, STORE_APPEND);
			k->user_id = 1;
			k->peer_id = 2;
			k->text = "";
			k->e2ee.payload = "PAYLOAD";
			k->e2ee.envs_in = envs[m];
			k->e2ee.nenvs_in = 3;
			k->e2ee.device_rid = 1;
			k->e2ee.max_queue = 100;
		}
		run_together(&e, jobs, 9);
		CHECK(jobs[0].status == STORE_NOT_FOUND, "the plain one: no such recipient (%d)",
		      jobs[0].status);
		for (size_t m = 1; m < 9; m++) {
			ok = ok && jobs[m].status == STORE_OK && jobs[m].msg_id > last_msg &&
			     jobs[m].e2ee.envs_in[0].qid > last_qid &&
			     jobs[m].e2ee.envs_in[2].qid == jobs[m].e2ee.envs_in[0].qid + 2;
			last_msg = jobs[m].msg_id;
			last_qid = jobs[m].e2ee.envs_in[2].qid;
		}
		CHECK(ok, "eight encrypted messages stored in order, their envelopes' qids in order");
		for (size_t m = 0; m < 9; m++)
			store_job_release(&jobs[m]);
		CHECK(strcmp(text_of(e.path, COUNTS_SQL), "1=2 2=9 3=10 4=9") == 0, "counted: %s",
		      text_of(e.path, COUNTS_SQL));
		CHECK(strcmp(text_of(e.path, COUNTS_OFF_SQL), "0") == 0, "every count is its rows");
		CHECK(strcmp(text_of(e.path, ENVS_OFF_SQL), "0") == 0,
		      "each message's envelopes for d3, d4, d2, in order (%s off)",
		      text_of(e.path, ENVS_OFF_SQL));
		CHECK(strcmp(text_of(e.path, "SELECT count(*) FROM envelopes e JOIN messages m ON "
		                     "m.id = e.message_id WHERE m.payload = 'PAYLOAD'"), "27") == 0,
		      "27 envelopes, each with its message");

		/* The eight again, alone in a batch: one 8-row INSERT, then the envelopes. */
		for (size_t m = 1; m < 9; m++) {
			struct store_job *k = &jobs[m];

			init_send(k, envs[m - 1]);
		}
		run_together(&e, jobs + 1, 8);
		ok = true;
		for (size_t m = 1; m < 9; m++) {
			ok = ok && jobs[m].status == STORE_OK && jobs[m].msg_id == last_msg + (int64_t)m &&
			     jobs[m].e2ee.envs_in[0].qid > last_qid;
			last_qid = jobs[m].e2ee.envs_in[2].qid;
			store_job_release(&jobs[m]);
		}
		CHECK(ok, "eight in one statement: consecutive ids, envelopes after");
		check_queues(&e, "1=2 2=17 3=18 4=17");
	}

	/* 64 in one batch: one 64-row INSERT, then 192 envelopes, 64 to a statement. */
	{
		static struct store_job big[64];
		static struct store_envelope benvs[64][3];
		bool ok = true;

		for (size_t m = 0; m < 64; m++) {
			for (size_t i = 0; i < 3; i++) {
				memset(&benvs[m][i], 0, sizeof(benvs[m][i]));
				snprintf(benvs[m][i].device, sizeof(benvs[m][i].device), "%s", ben_and_d2[i]);
				benvs[m][i].body_in = "BODY";
			}
			init_send(&big[m], benvs[m]);
		}
		run_together(&e, big, 64);
		for (size_t m = 0; m < 64; m++) {
			ok = ok && big[m].status == STORE_OK &&
			     (m == 0 || (big[m].msg_id == big[m - 1].msg_id + 1 &&
			                 big[m].e2ee.envs_in[0].qid == big[m - 1].e2ee.envs_in[2].qid + 1));
			store_job_release(&big[m]);
		}
		CHECK(ok, "64 messages in one statement, their 192 envelopes' qids in order");
		check_queues(&e, "1=2 2=81 3=82 4=81");
		CHECK(strcmp(text_of(e.path, "SELECT count(*) FROM envelopes e JOIN messages m ON "
		                     "m.id = e.message_id WHERE m.payload = 'PAYLOAD' AND e.body = 'BODY' "
		                     "AND e.from_device = 1 AND e.payload IS NULL"), "243") == 0,
		      "243 envelopes, each with its message, sender device and body");
	}

	close_store(&e);
	CHECK(uv_loop_close(&e.loop) == 0, "loop closed");
	storetest_remove_dir(e.dir);
	return tap_done();
}
