/* test_store_social.c - the store's social jobs (store_social.c on SQLite, store_pg_social.c on
 * PostgreSQL: the same checks on both) on a real loop and database: display names, room
 * topics (set, cleared, read back by a JOIN and at startup), read positions (never past the
 * conversation's newest message, never down; a new member starts read up to the newest),
 * unread counts (others' messages only, capped, a missing room counts nothing) and member
 * lists (#lobby: every user; pages by name key). With PIER_TEST_STORE set to a PostgreSQL
 * server's URL the store is a new database there (storetest.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "storetest.h"
#include "tap.h"

struct env {
	uv_loop_t loop;
	struct store *st;
	char dir[64];
	int64_t alice, bob, carol, zed;
};

static enum store_status run(struct env *e, struct store_job *job)
{
	return storetest_run(&e->loop, e->st, job);
}

static int64_t create_user(struct env *e, const char *name)
{
	return storetest_create_user(&e->loop, e->st, name);
}

static void join(struct env *e, int64_t user, const char *room)
{
	struct store_job j;

	store_job_init(&j, STORE_JOIN);
	j.user_id = user;
	j.room = room;
	CHECK(run(e, &j) == STORE_OK, "join %s", room);
	store_job_release(&j);
}

static int64_t say(struct env *e, int64_t from, const char *room, int64_t peer, const char *text)
{
	struct store_job j;
	int64_t id;

	store_job_init(&j, STORE_APPEND);
	j.user_id = from;
	j.room = room;
	j.peer_id = peer;
	j.text = text;
	j.new_contact = room == NULL;
	CHECK(run(e, &j) == STORE_OK, "append %s", text);
	id = j.msg_id;
	store_job_release(&j);
	return id;
}

/* READ: the position after it, and whether it moved. */
static enum store_status read_to(struct env *e, int64_t user, const char *room, int64_t peer,
                                 int64_t read_id, int64_t *now, bool *moved)
{
	struct store_job j;
	enum store_status st;

	store_job_init(&j, STORE_READ);
	j.user_id = user;
	j.room = room;
	j.peer_id = peer;
	j.read_id = read_id;
	st = run(e, &j);
	*now = j.read_id;
	*moved = j.moved;
	store_job_release(&j);
	return st;
}

/* MEMBERS: the page's names joined by spaces into out. */
static enum store_status members(struct env *e, const char *room, const char *after, int limit,
                                 char *out, size_t n, bool *more)
{
	struct store_job j;
	enum store_status st;
	size_t len = 0;

	store_job_init(&j, STORE_MEMBERS);
	j.room = room;
	j.name = after;
	j.limit = limit;
	st = run(e, &j);
	out[0] = '\0';
	for (size_t i = 0; st == STORE_OK && j.names[i] != NULL; i++)
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", i > 0 ? " " : "",
		                        j.names[i]);
	*more = j.more;
	store_job_release(&j);
	return st;
}

struct seen {
	char text[256];
	int n;
};

static void on_display(void *ud, const char *name, const char *display)
{
	struct seen *s = ud;

	s->n++;
	snprintf(s->text, sizeof s->text, "%s=%s", name, display);
}

static void on_topic(void *ud, const char *room, const char *topic, const char *by, int64_t ts)
{
	struct seen *s = ud;

	s->n++;
	snprintf(s->text, sizeof s->text, "%s=%s by %s at %" PRId64, room, topic,
	         by != NULL ? by : "(nobody)", ts);
}

static void test_display(struct env *e)
{
	struct store_job j;
	struct seen s = { "", 0 };

	store_job_init(&j, STORE_SET_DISPLAY);
	j.user_id = e->alice;
	j.display = "艾丽斯";
	CHECK(run(e, &j) == STORE_OK, "a display name");
	store_job_release(&j);
	store_job_init(&j, STORE_SET_DISPLAY);
	j.user_id = e->alice + 1000;
	j.display = "nobody";
	CHECK(run(e, &j) == STORE_NOT_FOUND, "no such user: not found (%d)", j.status);
	store_job_release(&j);
	CHECK(store_each_display(e->st, on_display, &s) == 0 && s.n == 1 &&
	      strcmp(s.text, "alice_1=艾丽斯") == 0, "startup read: %d, %s", s.n, s.text);
	store_job_init(&j, STORE_SET_DISPLAY);
	j.user_id = e->alice;
	CHECK(run(e, &j) == STORE_OK, "display cleared");
	store_job_release(&j);
	s.n = 0;
	CHECK(store_each_display(e->st, on_display, &s) == 0 && s.n == 0, "none left (%d)", s.n);
}

static void test_topic(struct env *e)
{
	struct store_job j;
	struct seen s = { "", 0 };

	store_job_init(&j, STORE_SET_TOPIC);
	j.user_id = e->bob;
	j.room = "#DEV";                     /* any case */
	j.topic = "发布 v2 的话题";
	j.ts = 1795000000123LL;
	CHECK(run(e, &j) == STORE_OK, "a topic");
	store_job_release(&j);
	store_job_init(&j, STORE_SET_TOPIC);
	j.user_id = e->bob;
	j.room = "#nowhere";
	j.topic = "x";
	CHECK(run(e, &j) == STORE_NOT_FOUND, "no such room: not found (%d)", j.status);
	store_job_release(&j);
	CHECK(store_each_topic(e->st, on_topic, &s) == 0 && s.n == 1 &&
	      strcmp(s.text, "#Dev=发布 v2 的话题 by bob_22 at 1795000000123") == 0,
	      "startup read: %d, %s", s.n, s.text);
	/* a JOIN of the room tells the topic */
	store_job_init(&j, STORE_JOIN);
	j.user_id = e->carol;
	j.room = "#dev";
	CHECK(run(e, &j) == STORE_OK && !j.created && j.topic_out != NULL &&
	      strcmp(j.topic_out, "发布 v2 的话题") == 0 && j.topic_by != NULL &&
	      strcmp(j.topic_by, "bob_22") == 0 && j.topic_ts == 1795000000123LL,
	      "join reads the topic");
	store_job_release(&j);
	store_job_init(&j, STORE_SET_TOPIC);
	j.user_id = e->bob;
	j.room = "#dev";
	CHECK(run(e, &j) == STORE_OK, "topic cleared");
	store_job_release(&j);
	s.n = 0;
	CHECK(store_each_topic(e->st, on_topic, &s) == 0 && s.n == 0, "no topic left (%d)", s.n);
}

static void test_reads(struct env *e, int64_t last_dev, int64_t last_pair)
{
	struct store_conv cv[4];
	struct store_job j;
	int64_t now = 0;
	bool moved = false;

	CHECK(read_to(e, e->alice, "#Dev", 0, last_dev + 100, &now, &moved) == STORE_OK &&
	      now == last_dev && moved, "read past the newest: at the newest (%" PRId64 ")", now);
	CHECK(read_to(e, e->alice, "#dev", 0, 1, &now, &moved) == STORE_OK && now == last_dev &&
	      !moved, "never down");
	CHECK(read_to(e, e->alice, NULL, e->bob, last_pair - 1, &now, &moved) == STORE_OK &&
	      now == last_pair - 1 && moved, "a private conversation's position");
	CHECK(read_to(e, e->alice, "#nowhere", 0, 5, &now, &moved) == STORE_NOT_FOUND,
	      "no such room: not found");
	CHECK(read_to(e, e->alice, NULL, 0, 5, &now, &moved) == STORE_NOT_FOUND, "no peer");

	memset(cv, 0, sizeof cv);
	cv[0].room = "#dev";
	cv[1].peer_id = e->bob;
	cv[2].room = "#nowhere";
	cv[3].room = "#lobby";
	store_job_init(&j, STORE_UNREAD);
	j.user_id = e->alice;
	j.convs = cv;
	j.nconvs = 4;
	j.limit = 10;
	CHECK(run(e, &j) == STORE_OK, "unread counts");
	CHECK(cv[0].read_id == last_dev && cv[0].unread == 0 && cv[0].last_id == last_dev,
	      "#dev read to the end: 0 unread");
	CHECK(cv[1].read_id == last_pair - 1 && cv[1].unread == 1 && cv[1].last_id == last_pair,
	      "the private one: 1 unread (%" PRId64 ")", cv[1].unread);
	CHECK(cv[2].read_id == 0 && cv[2].unread == 0 && cv[2].last_id == 0, "a missing room: 0");
	CHECK(cv[3].unread == 0, "#lobby: registered after its messages, none unread (%" PRId64 ")",
	      cv[3].unread);
	store_job_release(&j);
	/* zed never read #dev (it is no member): bob's 2 and alice's 1 count, capped at 2 */
	memset(cv, 0, sizeof cv);
	cv[0].room = "#dev";
	store_job_init(&j, STORE_UNREAD);
	j.user_id = e->zed;
	j.convs = cv;
	j.nconvs = 1;
	j.limit = 2;
	CHECK(run(e, &j) == STORE_OK && cv[0].read_id == 0 && cv[0].unread == 2,
	      "counted to the cap (%" PRId64 ")", cv[0].unread);
	store_job_release(&j);
	/* bob's own messages are not unread for him */
	memset(cv, 0, sizeof cv);
	cv[0].room = "#dev";
	store_job_init(&j, STORE_UNREAD);
	j.user_id = e->bob;
	j.convs = cv;
	j.nconvs = 1;
	j.limit = 10;
	CHECK(run(e, &j) == STORE_OK && cv[0].unread == 1, "others' messages only (%" PRId64 ")",
	      cv[0].unread);
	store_job_release(&j);
}

static void test_members(struct env *e)
{
	char names[256];
	bool more = false;

	CHECK(members(e, "#lobby", NULL, 2, names, sizeof names, &more) == STORE_OK &&
	      strcmp(names, "_under alice_1") == 0 && more, "#lobby, page 1: %s", names);
	CHECK(members(e, "#lobby", "ALICE_1", 2, names, sizeof names, &more) == STORE_OK &&
	      strcmp(names, "bob_22 carol_3") == 0 && more, "#lobby after ALICE_1: %s", names);
	CHECK(members(e, "#lobby", "carol_3", 5, names, sizeof names, &more) == STORE_OK &&
	      strcmp(names, "Zed_999") == 0 && !more, "#lobby's last page: %s", names);
	CHECK(members(e, "#Dev", NULL, 10, names, sizeof names, &more) == STORE_OK &&
	      strcmp(names, "alice_1 bob_22 carol_3") == 0 && !more, "#dev's members: %s", names);
	CHECK(members(e, "#nowhere", NULL, 10, names, sizeof names, &more) == STORE_NOT_FOUND,
	      "no such room");
}

int main(void)
{
	struct env e;
	struct store_options opt = { .no_sync = true };
	const char *server = storetest_pg_server();
	char db[64] = "", url[512] = "", *err = NULL;
	int64_t last_dev, last_pair;

	memset(&e, 0, sizeof e);
	snprintf(e.dir, sizeof e.dir, "/tmp/pier-store-social-XXXXXX");
	if (!CHECK(mkdtemp(e.dir) != NULL, "mkdtemp") || uv_loop_init(&e.loop) != 0)
		return tap_done();
	if (server != NULL) {
		if (storetest_pg_create(server, db, url, sizeof url) != 0)
			return tap_done();
		opt.url = url;
	}
	e.st = store_open(&e.loop, e.dir, &opt, &err);
	if (!CHECK(e.st != NULL, "store_open (%s): %s", server != NULL ? "postgresql" : "sqlite",
	           err != NULL ? err : "?"))
		return tap_done();

	e.alice = create_user(&e, "alice_1");
	e.bob = create_user(&e, "bob_22");
	join(&e, e.alice, "#Dev");
	join(&e, e.bob, "#dev");
	say(&e, e.alice, "#lobby", 0, "hello lobby");
	e.carol = create_user(&e, "carol_3");
	e.zed = create_user(&e, "Zed_999");
	create_user(&e, "_under");
	say(&e, e.alice, "#dev", 0, "a");
	say(&e, e.bob, "#dev", 0, "b");
	last_dev = say(&e, e.bob, "#dev", 0, "c");
	say(&e, e.bob, NULL, e.alice, "p");
	last_pair = say(&e, e.bob, NULL, e.alice, "q");

	test_display(&e);
	test_topic(&e);
	test_reads(&e, last_dev, last_pair);
	test_members(&e);

	store_close(e.st);
	uv_run(&e.loop, UV_RUN_NOWAIT);
	CHECK(uv_loop_close(&e.loop) == 0, "loop closed");
	storetest_remove_dir(e.dir);
	if (server != NULL)
		storetest_pg_drop(server, db);
	return tap_done();
}
