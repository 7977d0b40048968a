/* test_store_rules.c - the store's back-end-neutral decisions (src/store/store_rules.c): the
 * statuses of reply, edit, recall and react from what a query read, the media kind, and the
 * e2ee rules. Both back ends call these; their end-to-end behaviour is in test_store (SQLite
 * and, as pg/unit_test_store, PostgreSQL). */
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

int main(void)
{
	test_media_kind();
	test_reply();
	test_edit();
	test_recall_react();
	return tap_done();
}
