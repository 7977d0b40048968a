/* test_store_rules.c - the store's back-end-neutral decisions (src/store/store_rules.c): the
 * statuses of reply, edit, recall and react from what a query read, the media kind, and the
 * e2ee rules. Both back ends call these; their end-to-end behaviour is in test_store (SQLite
 * and, as pg/unit_test_store, PostgreSQL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_rules.h"
#include "tap.h"

static struct store_job job_of(int64_t user_id)
{
	struct store_job job;

	memset(&job, 0, sizeof(job));
	job.user_id = user_id;
	return job;
}

static void test_media_kind(void)
{
	CHECK(strcmp(store_media_kind(NULL, "image/png"), "image") == 0, "image/png is an image");
	CHECK(strcmp(store_media_kind(NULL, "video/mp4"), "video") == 0, "video/mp4 is a video");
	CHECK(strcmp(store_media_kind(NULL, "application/pdf"), "file") == 0, "pdf is a file");
	CHECK(strcmp(store_media_kind(NULL, "imagex/png"), "file") == 0, "a prefix is not a type");
	CHECK(strcmp(store_media_kind("file", "image/png"), "file") == 0, "file fits everything");
	CHECK(strcmp(store_media_kind("audio", "image/png"), "file") == 0,
	      "a kind that does not fit falls back to file");
	CHECK(strcmp(store_media_kind("audio", "audio/ogg"), "audio") == 0, "a kind that fits");
}

static void test_cid_media(void)
{
	struct store_job job = job_of(5);

	CHECK(store_rule_cid(1) == STORE_OK, "a new cid");
	CHECK(store_rule_cid(0) == STORE_DUPLICATE, "a resend");
	CHECK(store_rule_cid(2) == STORE_CONFLICT, "a cid reused for another target");
	CHECK(store_rule_cid(-1) == STORE_FAILED, "a failed read");

	snprintf(job.media.type, sizeof(job.media.type), "image/png");
	CHECK(store_rule_media(STORE_NOT_FOUND, &job, false) == STORE_DENIED,
	      "media the user may not see");
	CHECK(store_rule_media(STORE_FAILED, &job, false) == STORE_FAILED, "a failed read");
	CHECK(store_rule_media(STORE_OK, &job, false) == STORE_OK && job.kind != NULL &&
	      strcmp(job.kind, "image") == 0, "the kind from the type");
	CHECK(store_rule_media(STORE_OK, &job, true) == STORE_DENIED,
	      "plain media in an encrypted message");
	job.media.e2ee = true;
	CHECK(store_rule_media(STORE_OK, &job, true) == STORE_OK, "ciphertext in an encrypted one");
}

static void test_reply(void)
{
	struct store_job job = job_of(5);
	struct store_msg_check q = { .room_id = 0, .pair_lo = 3, .pair_hi = 5 };

	job.peer_id = 3;
	CHECK(store_rule_reply(STORE_OK, &q, &job, 0) == STORE_OK, "a quote of the same pair");
	q.pair_lo = 4;
	CHECK(store_rule_reply(STORE_OK, &q, &job, 0) == STORE_BAD_REPLY, "another pair's message");
	q.pair_lo = 3;
	q.recalled = true;
	CHECK(store_rule_reply(STORE_OK, &q, &job, 0) == STORE_RECALLED, "a recalled quote");
	q.recalled = false;
	CHECK(store_rule_reply(STORE_NOT_FOUND, &q, &job, 0) == STORE_BAD_REPLY,
	      "a message the sender may not see");
	CHECK(store_rule_reply(STORE_FAILED, &q, &job, 0) == STORE_FAILED, "a failed read");
	job.room = "#r";
	q = (struct store_msg_check){ .room_id = 7 };
	CHECK(store_rule_reply(STORE_OK, &q, &job, 7) == STORE_OK, "a quote of the same room");
	CHECK(store_rule_reply(STORE_OK, &q, &job, 8) == STORE_BAD_REPLY, "another room's message");
}

static void test_edit(void)
{
	struct store_job job = job_of(5);
	struct store_msg_check m = { .sender_id = 5 };

	CHECK(store_rule_edit(STORE_OK, &m, &job) == STORE_FAILED, "no text");
	job.text = "new";
	CHECK(store_rule_edit(STORE_OK, &m, &job) == STORE_OK, "one's own message");
	CHECK(store_rule_edit(STORE_NOT_FOUND, &m, &job) == STORE_NOT_FOUND, "not found stays");
	m.sender_id = 6;
	CHECK(store_rule_edit(STORE_OK, &m, &job) == STORE_NOT_OWN, "another's message");
	m.sender_id = 5;
	m.recalled = true;
	CHECK(store_rule_edit(STORE_OK, &m, &job) == STORE_RECALLED, "a recalled message");
	m.recalled = false;
	m.e2ee = true;
	CHECK(store_rule_edit(STORE_OK, &m, &job) == STORE_E2EE_REQUIRED, "an encrypted message");
	m.e2ee = false;
	job.text = "";
	CHECK(store_rule_edit(STORE_OK, &m, &job) == STORE_EMPTY, "emptied text without media");
	m.has_media = true;
	CHECK(store_rule_edit(STORE_OK, &m, &job) == STORE_OK, "emptied text with media");
}

static void test_recall_react(void)
{
	struct store_job job = job_of(5);
	struct store_msg_check m = { .sender_id = 5, .ts = 1000 };

	job.window_ms = 100;
	job.already = true;
	CHECK(store_rule_recall(STORE_OK, &m, &job, 1100) == STORE_OK && !job.already,
	      "inside the window");
	CHECK(store_rule_recall(STORE_OK, &m, &job, 1101) == STORE_TOO_LATE, "past the window");
	m.sender_id = 6;
	CHECK(store_rule_recall(STORE_OK, &m, &job, 1000) == STORE_NOT_OWN, "another's message");
	m.sender_id = 5;
	m.recalled = true;
	CHECK(store_rule_recall(STORE_OK, &m, &job, 9999) == STORE_OK && job.already,
	      "recalled before: already, nothing to write");
	CHECK(store_rule_recall(STORE_NOT_FOUND, &m, &job, 0) == STORE_NOT_FOUND && !job.already,
	      "not found stays");

	CHECK(store_rule_react(STORE_OK, &m, &job) == STORE_FAILED, "no emoji");
	job.emoji = "👍";
	CHECK(store_rule_react(STORE_OK, &m, &job) == STORE_RECALLED, "a recalled message");
	m.recalled = false;
	CHECK(store_rule_react(STORE_OK, &m, &job) == STORE_OK, "anyone may react");
	CHECK(store_rule_react(STORE_NOT_FOUND, &m, &job) == STORE_NOT_FOUND, "not found stays");
}

static void test_social(void)
{
	struct store_job job = job_of(5);
	char key[PIER_KEY_MAX];
	int64_t lo = -1, hi = -1;

	CHECK(store_rule_conv(0, NULL, 7, 3, &lo, &hi) == STORE_OK && lo == 3 && hi == 7,
	      "a pair, lower id first");
	CHECK(store_rule_conv(0, NULL, 3, 7, &lo, &hi) == STORE_OK && lo == 3 && hi == 7,
	      "the same pair from the other side");
	CHECK(store_rule_conv(0, NULL, 3, 0, &lo, &hi) == STORE_NOT_FOUND, "no peer");
	CHECK(store_rule_conv(0, "#r", 3, 7, &lo, &hi) == STORE_OK && lo == 0 && hi == 0,
	      "a room has no pair");
	CHECK(store_rule_conv(1, "#r", 3, 0, &lo, &hi) == STORE_NOT_FOUND, "no such room");
	CHECK(store_rule_conv(-1, "#r", 3, 0, &lo, &hi) == STORE_FAILED, "a failed lookup");

	job.read_id = 50;
	CHECK(store_rule_read(&job, 10, 40) && job.moved && job.read_id == 40,
	      "not past the newest message");
	job.read_id = 20;
	CHECK(store_rule_read(&job, 10, 40) && job.read_id == 20, "forwards");
	job.read_id = 5;
	CHECK(!store_rule_read(&job, 10, 40) && !job.moved && job.read_id == 10, "never back");

	job.limit = 0;
	job.name = NULL;
	CHECK(store_rule_members(&job, key) == 1 && key[0] == '\0', "at least 1, from the start");
	job.limit = 1 << 30;
	job.name = "Alice";
	CHECK(store_rule_members(&job, key) == STORE_MEMBERS_MAX && strcmp(key, "alice") == 0,
	      "at most STORE_MEMBERS_MAX, after the name's key");
}

/* A fake back end for store_mentions_scan: users alice_1 (1) and bob_22 (2); carol_3's lookup
 * fails. */
struct fake_mentions {
	char seen[256];
	int64_t stored_ids[8];
	int n;
};

static int fake_user(void *ud, const char *key, int64_t *user_id)
{
	struct fake_mentions *f = ud;

	snprintf(f->seen + strlen(f->seen), sizeof(f->seen) - strlen(f->seen), "%s ", key);
	if (strcmp(key, "carol_3") == 0)
		return -1;
	*user_id = strcmp(key, "alice_1") == 0 ? 1 : strcmp(key, "bob_22") == 0 ? 2 : 0;
	return *user_id != 0;
}

static int64_t fake_insert(void *ud, int64_t user_id, int pos)
{
	struct fake_mentions *f = ud;

	for (int i = 0; i < f->n; i++) {
		if (f->stored_ids[i] == user_id)
			return 0;
	}
	if (pos != f->n || f->n == 8)
		return -1;
	f->stored_ids[f->n++] = user_id;
	return 1;
}

static void test_mentions(void)
{
	static const struct store_mention_ops ops = { fake_user, fake_insert };
	struct fake_mentions f = { "", { 0 }, 0 };
	size_t stored = 99;

	enum store_status st;

	st = store_mentions_scan("hi @Alice_1, @nobody and @bob_22. @alice_1", &ops, &f, &stored);
	CHECK(st == STORE_OK && stored == 2 && f.n == 2 && f.stored_ids[0] == 1 &&
	      f.stored_ids[1] == 2, "two users stored once each");
	CHECK(strcmp(f.seen, "alice_1 nobody bob_22. bob_22 alice_1 ") == 0,
	      "names looked up by key, a full stop's name without it next: %s", f.seen);
	memset(&f, 0, sizeof(f));
	CHECK(store_mentions_scan("no mentions", &ops, &f, &stored) == STORE_OK && stored == 0,
	      "none");
	memset(&f, 0, sizeof(f));
	CHECK(store_mentions_scan("@carol_3 @alice_1", &ops, &f, &stored) == STORE_FAILED && f.n == 0,
	      "a failed lookup stops the scan");
}

static struct store_device dev(int64_t rid, const char *id, int state, int64_t queued)
{
	struct store_device d;

	memset(&d, 0, sizeof(d));
	d.rid = rid;
	snprintf(d.id, sizeof(d.id), "%s", id);
	snprintf(d.sign_key, sizeof(d.sign_key), "s-%s", id);
	snprintf(d.dh_key, sizeof(d.dh_key), "d-%s", id);
	d.state = state;
	d.queued = queued;
	return d;
}

static void test_e2ee_devices(void)
{
	struct store_job job = job_of(5);
	struct store_e2ee *e = &job.e2ee;
	struct store_device d = dev(9, "A", STORE_DEVICE_ACTIVE, 0), listed[2];

	e->max_devices = 2;
	CHECK(store_e2ee_register_rule(e, 1, 0) == STORE_OK, "room for a device");
	CHECK(store_e2ee_register_rule(e, 2, STORE_E2EE_PENDING_MAX - 1) == STORE_OK,
	      "at the limit, pending ones wait");
	CHECK(store_e2ee_register_rule(e, 2, STORE_E2EE_PENDING_MAX) == STORE_FULL,
	      "not past listed + pending");
	CHECK(store_e2ee_register_rule(e, 0, STORE_E2EE_PENDING_MAX) == STORE_FULL,
	      "pending ones are not a way past the limit");

	CHECK(store_e2ee_own_device(0, &d, 5, 5, STORE_NO_DEVICE) == STORE_OK, "one's own device");
	CHECK(store_e2ee_own_device(0, &d, 6, 5, STORE_NO_DEVICE) == STORE_NO_DEVICE,
	      "another's device");
	CHECK(store_e2ee_own_device(1, &d, 5, 5, STORE_NOT_FOUND) == STORE_NOT_FOUND, "none");
	CHECK(store_e2ee_own_device(-1, &d, 5, 5, STORE_NOT_FOUND) == STORE_FAILED, "a failed read");
	d.state = STORE_DEVICE_REVOKED;
	CHECK(store_e2ee_own_device(0, &d, 5, 5, STORE_NOT_FOUND) == STORE_NOT_FOUND, "revoked");

	e->dev = dev(9, "A", STORE_DEVICE_PENDING, 4);
	e->dev.opk_count = 7;
	CHECK(store_e2ee_hello_rule(e, 0, 6, 5) == STORE_NOT_FOUND, "hello: another's device");
	CHECK(e->rid == 0, "nothing set when refused");
	CHECK(store_e2ee_hello_rule(e, 0, 5, 5) == STORE_OK && e->rid == 9 &&
	      e->state == STORE_DEVICE_PENDING && e->opk_count == 7 && e->queued == 4,
	      "hello: one's own device, its state copied out");
	e->dev.state = STORE_DEVICE_REVOKED;
	CHECK(store_e2ee_hello_rule(e, 0, 5, 5) == STORE_REVOKED, "hello: a revoked device");

	listed[0] = dev(9, "A", STORE_DEVICE_ACTIVE, 0);
	listed[1] = dev(10, "B", STORE_DEVICE_ACTIVE, 0);
	e->listed = listed;
	e->nlisted = 2;
	e->ak = "ak";
	e->version = 3;
	e->version_out = 2;
	CHECK(store_e2ee_publish_rule(e, "ak") == STORE_OK, "the next version, the same key");
	CHECK(store_e2ee_publish_rule(e, NULL) == STORE_OK, "a first list");
	CHECK(store_e2ee_publish_rule(e, "other") == STORE_CONFLICT, "another account key");
	e->version_out = 3;
	CHECK(store_e2ee_publish_rule(e, "ak") == STORE_STALE, "not the next version");
	e->version_out = 2;
	e->reset = true;
	CHECK(store_e2ee_publish_rule(e, "other") == STORE_DENIED, "a reset not allowed");
	e->reset_allowed = true;
	CHECK(store_e2ee_publish_rule(e, "other") == STORE_CONFLICT, "a reset lists one device");
	e->nlisted = 1;
	CHECK(store_e2ee_publish_rule(e, "other") == STORE_OK, "a reset, a new account key");
	e->device_rid = 10;
	d = dev(9, "A", STORE_DEVICE_PENDING, 0);
	CHECK(store_e2ee_listed_rule(&job, 0, 0, &d, 5) == STORE_CONFLICT,
	      "a reset lists the session's own device");
	e->reset = false;
	e->nlisted = 2;
	CHECK(store_e2ee_listed_rule(&job, 0, 0, &d, 5) == STORE_OK, "a pending device listed");
	CHECK(store_e2ee_listed_rule(&job, 1, 0, &d, 5) == STORE_NOT_FOUND,
	      "keys other than the listed ones");
	CHECK(store_e2ee_listed_rule(&job, 0, 0, &d, 6) == STORE_NOT_FOUND, "another's device");
	CHECK(store_e2ee_listed_rule(&job, 0, -1, &d, 5) == STORE_FAILED, "a failed read");
	CHECK(store_e2ee_find_listed(e, "B") == &listed[1] && store_e2ee_find_listed(e, "C") == NULL,
	      "find_listed");
}

static void test_e2ee_match(void)
{
	struct store_job job = job_of(5);
	struct store_e2ee *e = &job.e2ee;
	struct store_envelope envs[2];
	struct store_device *cur = calloc(3, sizeof(*cur));

	REQUIRE(cur != NULL, , "memory");
	/* the recipient's B and C, the sender's own A (left out) */
	cur[0] = dev(1, "A", STORE_DEVICE_ACTIVE, 0);
	cur[1] = dev(2, "B", STORE_DEVICE_ACTIVE, 0);
	cur[2] = dev(3, "C", STORE_DEVICE_ACTIVE, 5);
	memset(envs, 0, sizeof(envs));
	snprintf(envs[0].device, sizeof(envs[0].device), "C");
	snprintf(envs[1].device, sizeof(envs[1].device), "B");
	e->device_rid = 1;
	e->envs_in = envs;
	e->nenvs_in = 2;
	e->max_queue = 10;
	CHECK(store_e2ee_match(e, &cur, 3) == STORE_OK && cur != NULL && envs[0].device_rid == 3 &&
	      envs[1].device_rid == 2, "one envelope per device: each gets its rid");
	e->max_queue = 5;
	CHECK(store_e2ee_match(e, &cur, 3) == STORE_FULL && cur != NULL, "a full queue");
	e->nenvs_in = 1;
	CHECK(store_e2ee_match(e, &cur, 3) == STORE_CHANGED && cur == NULL && e->ndevices == 2 &&
	      e->devices[0].rid == 2 && e->devices[1].rid == 3,
	      "a device without an envelope: the current set, the sender's own left out");
	free(e->devices);

	cur = calloc(1, sizeof(*cur));
	REQUIRE(cur != NULL, , "memory");
	cur[0] = dev(2, "B", STORE_DEVICE_ACTIVE, 0);
	e->devices = NULL;
	e->nenvs_in = 2;
	CHECK(store_e2ee_match(e, &cur, 1) == STORE_CHANGED && cur == NULL && e->ndevices == 1,
	      "an envelope for a device that is gone");
	free(e->devices);
}

int main(void)
{
	test_media_kind();
	test_cid_media();
	test_reply();
	test_edit();
	test_recall_react();
	test_mentions();
	test_social();
	test_e2ee_devices();
	test_e2ee_match();
	return tap_done();
}
