/* test_social.c - integration: display names (profile, register, where they are carried, the
 * refusals), read positions synced across two sessions and unread counts (paging, the cap,
 * scope), typing indicators (who gets them, the per-conversation limit), room members
 * (paged, online flags, members only) and topics (who may, refusals, events, kept across a
 * restart). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const char *const no_limits[] = {"--no-rate-limits", NULL};

static json_t *find_conv(const json_t *reply, const char *with)
{
	return jfind(reply, "conversations", "with", with);
}

static json_t *find_member(const json_t *reply, const char *user)
{
	return jfind(reply, "members", "user", user);
}

static bool error_reason(struct pier_conn *c, json_t *req, const char *code, const char *reason)
{
	json_t *r = client_call(c, req);
	bool ok = CHECK(r != NULL && is_error(r, code) && jstr(r, "reason") != NULL &&
	                strcmp(jstr(r, "reason"), reason) == 0,
	                "want %s (%s): %s", code, reason, jdump(r));

	json_decref(r);
	return ok;
}

static void test_display(struct pierd *p)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], to_a[HARNESS_NAME_MAX + 1], name33[200];
	struct pier_conn *ca, *cb, *ca2;
	json_t *r, *ev;

	ca = client_new_user_display(p, "wang", "王小明", a);
	cb = client_new_user(p, "dsp", b);
	REQUIRE(ca && cb, , "two users");
	client_drain(cb);

	/* Login replies carry it; so does a presence event. */
	ca2 = client_connect(p);
	REQUIRE(ca2 != NULL, , "connect");
	r = client_call(ca2, pier_req_login(a, HARNESS_PASSWORD));
	CHECK(r && jstr(r, "display") && strcmp(jstr(r, "display"), "王小明") == 0,
	      "the login reply carries the display name: %s", jdump(r));
	json_decref(r);
	ev = client_wait_op(ca2, "users");
	CHECK(ev && json_is_object(json_object_get(ev, "display")) &&
	      jstr(json_object_get(ev, "display"), a) != NULL,
	      "the users event maps names to display names: %s", jdump(ev));
	json_decref(ev);
	pier_conn_close(ca2);

	/* Messages carry the sender's display name, live and in history. */
	snprintf(to_a, sizeof to_a, "@%s", b);
	CHECK(client_send(ca, to_a, "你好", NULL, NULL) > 0, "a writes to b");
	ev = client_wait_msg(cb, "你好");
	CHECK(ev && jstr(ev, "display") && strcmp(jstr(ev, "display"), "王小明") == 0 &&
	      strcmp(jstr(ev, "from"), a) == 0, "msg: display next to from: %s", jdump(ev));
	json_decref(ev);
	snprintf(to_a, sizeof to_a, "@%s", a);
	r = client_call(cb, pier_req_history(to_a, 0, 5));
	ev = json_array_get(json_object_get(r, "messages"), 0);
	CHECK(ev && jstr(ev, "display") && strcmp(jstr(ev, "display"), "王小明") == 0,
	      "history carries it too: %s", jdump(r));
	json_decref(r);

	/* profile: changed, told to others; NFC applied; removed. */
	client_drain(cb);
	r = client_call(ca, pier_req_profile("Rene\xcc\x81 Wang"));
	CHECK(r && is_op(r, "profile") && jstr(r, "display") &&
	      strcmp(jstr(r, "display"), "Ren\xc3\xa9 Wang") == 0,
	      "input not in NFC is normalized: %s", jdump(r));
	json_decref(r);
	ev = client_wait_op(cb, "profile");
	CHECK(ev && strcmp(jstr(ev, "user"), a) == 0 && jstr(ev, "display") &&
	      strcmp(jstr(ev, "display"), "Ren\xc3\xa9 Wang") == 0, "others hear of it: %s", jdump(ev));
	json_decref(ev);
	r = client_call(cb, pier_req_users());
	CHECK(r && jstr(json_object_get(r, "display"), a) != NULL &&
	      strcmp(jstr(json_object_get(r, "display"), a), "Ren\xc3\xa9 Wang") == 0,
	      "users lists it: %s", jdump(r));
	json_decref(r);

	/* Refusals: each with its reason; nothing changes. */
	error_reason(ca, pier_req_profile("ab\x01" "cd"), "bad_display", "control");
	error_reason(ca, pier_req_profile("\xe2\x80\xae" "evil"), "bad_display", "bidi");
	error_reason(ca, pier_req_profile("ab\xe2\x80\x8b" "cd"), "bad_display", "bidi");
	error_reason(ca, pier_req_profile(b), "bad_display", "looks_like_user");
	error_reason(ca, pier_req_profile("p\xd0\xb0ypal"), "bad_display", "mixed_script");
	error_reason(ca, pier_req_profile("smile 😀"), "bad_display", "character");
	memset(name33, 'x', 33);
	name33[33] = '\0';
	error_reason(ca, pier_req_profile(name33), "bad_display", "too_long");
	CHECK(client_expect_error(ca, json_pack("{s:s, s:i}", "op", "profile", "display", 5),
	                          "bad_request"), "display must be a string");
	CHECK(client_expect_error(ca, json_pack("{s:s}", "op", "profile"), "bad_request"),
	      "display is needed");
	{
		struct pier_conn *reg = client_connect(p);
		char c[HARNESS_NAME_MAX];

		harness_user(c, "regbad");
		r = client_call(reg, pier_req_register_display(c, HARNESS_PASSWORD, "\xe2\x81\xa6x"));
		CHECK(r && is_error(r, "bad_display"), "register refuses a bad display name: %s", jdump(r));
		json_decref(r);
		r = client_call(reg, pier_req_login(c, HARNESS_PASSWORD));
		CHECK(r && jint(r, "status", 9) == 0, "and registers nobody: %s", jdump(r));
		json_decref(r);
		pier_conn_close(reg);
	}
	r = client_call(ca, pier_req_profile(NULL));
	CHECK(r && is_op(r, "profile") && json_object_get(r, "display") == NULL,
	      "null removes it: %s", jdump(r));
	json_decref(r);
	r = client_call(ca, pier_req_profile("王小明"));
	json_decref(r);
	pier_conn_close(ca);
	pier_conn_close(cb);
}

static void test_read(struct pierd *p)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX], to[HARNESS_NAME_MAX + 1];
	char room[40];
	struct pier_conn *a1, *a2, *cb, *cc;
	int64_t m1, m2, m3;
	json_t *r, *cv, *events;

	a1 = client_new_user(p, "rda", a);
	cb = client_new_user(p, "rdb", b);
	cc = client_new_user(p, "rdc", c);
	REQUIRE(a1 && cb && cc, , "three users");
	a2 = client_login(p, a, HARNESS_PASSWORD);
	REQUIRE(a2 != NULL, , "a's second session");
	snprintf(room, sizeof room, "#rd%d", (int)(getpid() % 100000));
	json_decref(client_call(a1, pier_req_join(room)));
	json_decref(client_call(cb, pier_req_join(room)));
	m1 = client_send(cb, room, "one", NULL, NULL);
	m2 = client_send(cb, room, "two", NULL, NULL);
	m3 = client_send(cb, room, "three", NULL, NULL);
	CHECK(client_send(a1, room, "mine", NULL, NULL) > m3, "a's own message");
	client_drain(a1);
	client_drain(a2);

	r = client_call(a1, pier_req_unread(NULL, 0));
	cv = find_conv(r, room);
	CHECK(cv && jint(cv, "unread", -1) == 3 && jint(cv, "read", -1) == 0 &&
	      jint(cv, "last", 0) > m3, "3 unread (own messages do not count): %s", jdump(r));
	CHECK(r && strcmp(jstr(json_array_get(json_object_get(r, "conversations"), 0), "with"),
	                  "#lobby") == 0, "#lobby comes first");
	json_decref(r);

	/* Device 1 reads up to m2: device 2 hears it, and counts agree. */
	r = client_call(a1, pier_req_read(room, m2));
	CHECK(r && is_op(r, "read") && jint(r, "id", 0) == m2, "read moves: %s", jdump(r));
	json_decref(r);
	r = client_wait_op(a2, "read");
	CHECK(r && strcmp(jstr(r, "with"), room) == 0 && jint(r, "id", 0) == m2,
	      "the other session gets the read event: %s", jdump(r));
	json_decref(r);
	r = client_call(a2, pier_req_unread(NULL, 0));
	cv = find_conv(r, room);
	CHECK(cv && jint(cv, "unread", -1) == 1 && jint(cv, "read", 0) == m2,
	      "the other session counts 1: %s", jdump(r));
	json_decref(r);

	/* Never backwards; never past the newest message. */
	r = client_call(a1, pier_req_read(room, m1));
	CHECK(r && jint(r, "id", 0) == m2, "a lower id does not move it back: %s", jdump(r));
	json_decref(r);
	events = client_events(a2);
	CHECK(events && count_op(events, "read", NULL, NULL) == 0, "and tells nobody: %s", jdump(events));
	json_decref(events);
	r = client_call(a1, pier_req_read(room, 1000000000));
	CHECK(r && jint(r, "id", 0) > m3 && jint(r, "id", 0) < 1000000000,
	      "an id past the newest stops at the newest: %s", jdump(r));
	json_decref(r);

	/* Scope: rooms one is not in, users that do not exist, malformed requests. */
	CHECK(client_expect_error(cc, pier_req_read(room, m3), "not_member"), "read a room one is not in");
	r = client_call(cc, pier_req_unread(NULL, 0));
	CHECK(r && find_conv(r, room) == NULL, "unread lists only one's own rooms: %s", jdump(r));
	json_decref(r);
	CHECK(client_expect_error(a1, pier_req_read("@nobody_here_x", 1), "no_such_user"), "no such user");
	CHECK(client_expect_error(a1, json_pack("{s:s, s:s}", "op", "read", "with", room),
	                          "bad_request"), "read needs an id");
	CHECK(client_expect_error(a1, pier_req_read("lobby", 1), "bad_target"), "bad target");
	CHECK(client_expect_error(a1, json_pack("{s:s, s:i}", "op", "unread", "limit", 0),
	                          "bad_request"), "limit 0");
	CHECK(client_expect_error(a1, json_pack("{s:s, s:s}", "op", "unread", "after", "lobby"),
	                          "bad_request"), "after without # or @");

	/* Private: b writes to a; c's chat with b is not a's to count. */
	snprintf(to, sizeof to, "@%s", a);
	m1 = client_send(cb, to, "psst", NULL, NULL);
	snprintf(to, sizeof to, "@%s", c);
	CHECK(client_send(cb, to, "for c only", NULL, NULL) > m1, "b writes to c");
	r = client_call(a1, pier_req_unread(NULL, 0));
	snprintf(to, sizeof to, "@%s", b);
	cv = find_conv(r, to);
	CHECK(cv && jint(cv, "unread", -1) == 1 && jint(cv, "last", 0) == m1,
	      "the private conversation counts 1: %s", jdump(r));
	snprintf(to, sizeof to, "@%s", c);
	CHECK(r && find_conv(r, to) == NULL, "b and c's conversation is not a's: %s", jdump(r));
	json_decref(r);
	snprintf(to, sizeof to, "@%s", b);
	r = client_call(a2, pier_req_read(to, m1));
	CHECK(r && jint(r, "id", 0) == m1, "read the private one: %s", jdump(r));
	json_decref(r);
	r = client_wait_op(a1, "read");
	CHECK(r && strcmp(jstr(r, "with"), to) == 0, "the first session hears it: %s", jdump(r));
	json_decref(r);

	/* Paging: one conversation a page. */
	r = client_call(a1, pier_req_unread(NULL, 1));
	CHECK(r && json_array_size(json_object_get(r, "conversations")) == 1 && jtrue(r, "more"),
	      "a page of one: %s", jdump(r));
	json_decref(r);
	r = client_call(a1, pier_req_unread("#lobby", 1));
	cv = json_array_get(json_object_get(r, "conversations"), 0);
	CHECK(cv && strcmp(jstr(cv, "with"), room) == 0 && jtrue(r, "more"),
	      "after #lobby: the room: %s", jdump(r));
	json_decref(r);
	r = client_call(a1, pier_req_unread(room, 10));
	cv = json_array_get(json_object_get(r, "conversations"), 0);
	CHECK(cv && strcmp(jstr(cv, "with"), to) == 0 && !jtrue(r, "more") &&
	      json_array_size(json_object_get(r, "conversations")) == 1,
	      "after the room: the private conversation, the last: %s", jdump(r));
	json_decref(r);
	pier_conn_close(a1);
	pier_conn_close(a2);
	pier_conn_close(cb);
	pier_conn_close(cc);
}

/* 1001 messages to a room: the count stops at the cap. */
static void test_unread_cap(struct pierd *p)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], room[40];
	struct pier_conn *ca, *cb;
	json_t *r, *cv;
	int i;

	ca = client_new_user(p, "capa", a);
	cb = client_new_user(p, "capb", b);
	REQUIRE(ca && cb, , "two users");
	snprintf(room, sizeof room, "#cap%d", (int)(getpid() % 100000));
	json_decref(client_call(ca, pier_req_join(room)));
	json_decref(client_call(cb, pier_req_join(room)));
	for (i = 0; i < 1000; i++)
		pier_conn_send(cb, pier_req_send(room, "flood", NULL), NULL);
	CHECK(client_send(cb, room, "last", NULL, NULL) > 0, "1001 messages stored");
	r = client_call(ca, pier_req_unread(NULL, 0));
	cv = find_conv(r, room);
	CHECK(cv && jint(cv, "unread", 0) == 1000 && jtrue(cv, "capped"),
	      "the count stops at 1000, capped: %s", jdump(cv));
	json_decref(r);
	pier_conn_close(ca);
	pier_conn_close(cb);
}

static void test_members_topic(struct pierd *p)
{
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX], room[40], big[400];
	struct pier_conn *ca, *cb, *cc;
	json_t *r, *m;

	ca = client_new_user_display(p, "mema", "成员甲", a);
	cb = client_new_user(p, "memb", b);
	cc = client_new_user(p, "memc", c);
	REQUIRE(ca && cb && cc, , "three users");
	snprintf(room, sizeof room, "#mt%d", (int)(getpid() % 100000));
	json_decref(client_call(ca, pier_req_join(room)));
	json_decref(client_call(cb, pier_req_join(room)));
	pier_conn_close(cb);                 /* b: a member, offline */

	r = client_call(ca, pier_req_members(room, NULL, 0));
	CHECK(r && is_op(r, "members") && json_array_size(json_object_get(r, "members")) == 2 &&
	      jint(r, "total", 0) == 2 && !jtrue(r, "more"), "two members: %s", jdump(r));
	m = find_member(r, a);
	CHECK(m && jtrue(m, "online") && jstr(m, "display") && strcmp(jstr(m, "display"), "成员甲") == 0,
	      "a: online, with its display name: %s", jdump(m));
	m = find_member(r, b);
	CHECK(m && json_is_false(json_object_get(m, "online")), "b: a member, offline: %s", jdump(m));
	json_decref(r);
	r = client_call(ca, pier_req_members(room, NULL, 1));
	CHECK(r && json_array_size(json_object_get(r, "members")) == 1 && jtrue(r, "more"),
	      "a page of one: %s", jdump(r));
	m = json_array_get(json_object_get(r, "members"), 0);
	if (m != NULL) {
		json_t *r2 = client_call(ca, pier_req_members(room, jstr(m, "user"), 1));

		CHECK(r2 && json_array_size(json_object_get(r2, "members")) == 1 && !jtrue(r2, "more") &&
		      strcmp(jstr(json_array_get(json_object_get(r2, "members"), 0), "user"),
		             jstr(m, "user")) != 0, "the next page: the other: %s", jdump(r2));
		json_decref(r2);
	}
	json_decref(r);
	CHECK(client_expect_error(cc, pier_req_members(room, NULL, 0), "not_member"),
	      "members of a room one is not in");
	CHECK(client_expect_error(cc, pier_req_members("#no_such_room_x", NULL, 0), "no_such_room"),
	      "no such room");
	CHECK(client_expect_error(cc, pier_req_members("bad room", NULL, 0), "bad_room"), "bad room");
	CHECK(client_expect_error(ca, json_pack("{s:s, s:s, s:i}", "op", "members", "room", room,
	                                        "limit", -1), "bad_request"), "negative limit");
	r = client_call(cc, pier_req_members("#lobby", NULL, 2));
	CHECK(r && json_array_size(json_object_get(r, "members")) == 2 && jtrue(r, "more") &&
	      jint(r, "total", 0) >= 3, "#lobby: every user, paged: %s", jdump(r));
	json_decref(r);

	/* Topics. */
	client_drain(ca);
	CHECK(client_expect_error(cc, pier_req_topic(room, "hi"), "not_member"), "not a member");
	CHECK(client_expect_error(ca, pier_req_topic("#lobby", "mine"), "forbidden"), "#lobby's");
	error_reason(ca, pier_req_topic(room, "a\nb"), "bad_topic", "control");
	error_reason(ca, pier_req_topic(room, "a\xe2\x80\xae" "b"), "bad_topic", "bidi");
	memset(big, 'x', 257);
	big[257] = '\0';
	error_reason(ca, pier_req_topic(room, big), "bad_topic", "too_long");
	cb = client_login(p, b, HARNESS_PASSWORD);
	REQUIRE(cb != NULL, , "b back");
	r = client_call(ca, pier_req_topic(room, "发布 2.0 🚀"));
	CHECK(r && is_op(r, "topic") && strcmp(jstr(r, "topic"), "发布 2.0 🚀") == 0 &&
	      strcmp(jstr(r, "by"), a) == 0, "a sets the topic: %s", jdump(r));
	json_decref(r);
	r = client_wait_op(cb, "topic");
	CHECK(r && strcmp(jstr(r, "room"), room) == 0 && strcmp(jstr(r, "topic"), "发布 2.0 🚀") == 0,
	      "b hears it: %s", jdump(r));
	json_decref(r);
	r = client_call(cc, pier_req_join(room));
	CHECK(r && jstr(r, "topic") && strcmp(jstr(r, "topic"), "发布 2.0 🚀") == 0,
	      "the join reply carries it: %s", jdump(r));
	json_decref(r);
	r = client_call(cc, pier_req_rooms_page(NULL, 0));
	{
		json_t *v;
		size_t i;
		bool seen = false;

		json_array_foreach(json_object_get(r, "rooms"), i, v)
			seen |= strcmp(jstr(v, "room"), room) == 0 && jstr(v, "topic") != NULL;
		CHECK(seen, "rooms pages carry it: %s", jdump(r));
	}
	json_decref(r);
	r = client_call(cc, pier_req_topic(room, NULL));
	CHECK(r && jstr(r, "topic") && strcmp(jstr(r, "topic"), "发布 2.0 🚀") == 0,
	      "without topic: it is told: %s", jdump(r));
	json_decref(r);
	pier_conn_close(ca);
	pier_conn_close(cb);
	pier_conn_close(cc);
}

/* After a restart: display names, topics and read positions are the store's. */
static void test_restart(struct pierd *p)
{
	char a[HARNESS_NAME_MAX], room[40];
	struct pier_conn *ca;
	json_t *r, *cv;
	int64_t id;

	ca = client_new_user_display(p, "rst", "李四", a);
	REQUIRE(ca != NULL, , "a user");
	snprintf(room, sizeof room, "#rs%d", (int)(getpid() % 100000));
	json_decref(client_call(ca, pier_req_join(room)));
	json_decref(client_call(ca, pier_req_topic(room, "kept")));
	id = client_send(ca, room, "x", NULL, NULL);
	json_decref(client_call(ca, pier_req_read(room, id)));
	pier_conn_close(ca);
	REQUIRE(pierd_stop(p) && pierd_restart(p) == 0, , "restart");
	ca = client_connect(p);
	REQUIRE(ca != NULL, , "connect");
	r = client_call(ca, pier_req_login(a, HARNESS_PASSWORD));
	CHECK(r && jstr(r, "display") && strcmp(jstr(r, "display"), "李四") == 0,
	      "the display name is kept: %s", jdump(r));
	json_decref(r);
	r = client_call(ca, pier_req_join(room));
	CHECK(r && jstr(r, "topic") && strcmp(jstr(r, "topic"), "kept") == 0,
	      "the topic is kept: %s", jdump(r));
	json_decref(r);
	r = client_call(ca, pier_req_unread(NULL, 0));
	cv = find_conv(r, room);
	CHECK(cv && jint(cv, "read", 0) == id, "the read position is kept: %s", jdump(r));
	json_decref(r);
	pier_conn_close(ca);
}

/* With the default limits: typing (who gets it, one per 3 s) and display name changes. */
static void test_limits(void)
{
	struct pierd *p = pierd_start(NULL);
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX], room[40];
	char to[HARNESS_NAME_MAX + 1];
	struct pier_conn *ca, *cb, *cc;
	json_t *r, *events;
	int i;

	REQUIRE(p != NULL, , "pierd with limits");
	ca = client_new_user_display(p, "tya", "打字员", a);
	cb = client_new_user(p, "tyb", b);
	cc = client_new_user(p, "tyc", c);
	REQUIRE(ca && cb && cc, , "three users");
	snprintf(room, sizeof room, "#ty%d", (int)(getpid() % 100000));
	json_decref(client_call(ca, pier_req_join(room)));
	json_decref(client_call(cb, pier_req_join(room)));
	client_drain(ca);
	client_drain(cb);
	client_drain(cc);

	for (i = 0; i < 10; i++)
		pier_conn_send(ca, pier_req_typing(room), NULL);
	r = client_call(ca, pier_req_ping());
	CHECK(r && is_op(r, "pong"), "typing gets no reply: the next reply is the pong: %s", jdump(r));
	json_decref(r);
	r = client_wait_op(cb, "typing");
	CHECK(r && strcmp(jstr(r, "from"), a) == 0 && strcmp(jstr(r, "to"), room) == 0 &&
	      jstr(r, "display") && strcmp(jstr(r, "display"), "打字员") == 0,
	      "b sees a typing: %s", jdump(r));
	json_decref(r);
	events = client_events(cb);
	CHECK(events && count_op(events, "typing", NULL, NULL) == 0,
	      "10 in a row make 1 event: %s", jdump(events));
	json_decref(events);
	events = client_events(cc);
	CHECK(events && count_op(events, "typing", NULL, NULL) == 0,
	      "c, not in the room, sees none: %s", jdump(events));
	json_decref(events);
	events = client_events(ca);
	CHECK(events && count_op(events, "typing", NULL, NULL) == 0,
	      "nor does the typist: %s", jdump(events));
	json_decref(events);

	snprintf(to, sizeof to, "@%s", b);
	pier_conn_send(ca, pier_req_typing(to), NULL);
	r = client_wait_op(cb, "typing");
	CHECK(r && strcmp(jstr(r, "to"), to) == 0, "a private conversation is another one: %s", jdump(r));
	json_decref(r);
	events = client_events(cc);
	CHECK(events && count_op(events, "typing", NULL, NULL) == 0, "c sees nothing: %s", jdump(events));
	json_decref(events);
	CHECK(client_expect_error(cc, pier_req_typing(room), "not_member"), "typing in a room one is not in");
	CHECK(client_expect_error(cc, pier_req_typing("@no_such_user_x"), "no_such_user"), "to nobody");
	CHECK(client_expect_error(cc, json_pack("{s:s}", "op", "typing"), "bad_request"), "no to");

	r = client_call(ca, pier_req_profile("新名字"));
	CHECK(r && is_op(r, "profile"), "a display name change: %s", jdump(r));
	json_decref(r);
	r = client_call(ca, pier_req_profile("又一个"));
	CHECK(r && is_error(r, "rate_limited") && jint(r, "retry_after_ms", 0) > 0,
	      "a second within 10 s is refused: %s", jdump(r));
	json_decref(r);
	pier_conn_close(ca);
	pier_conn_close(cb);
	pier_conn_close(cc);
	CHECK(pierd_stop(p), "pierd with limits stops cleanly");
}

/* What was said before one registered (in #lobby) or joined (a room) is history, not unread:
 * a newcomer's counts start at 0 and grow with what comes after. */
static void test_newcomer(struct pierd *p)
{
	char old[HARNESS_NAME_MAX], newbie[HARNESS_NAME_MAX], room[40];
	struct pier_conn *co, *cn;
	int64_t last = 0;
	json_t *r, *cv;

	co = client_new_user(p, "oldt", old);
	REQUIRE(co != NULL, , "an old-timer");
	snprintf(room, sizeof room, "#nc%d", (int)(getpid() % 100000));
	json_decref(client_call(co, pier_req_join(room)));
	for (int i = 0; i < 3; i++) {
		client_send(co, "#lobby", "before you came", NULL, NULL);
		last = client_send(co, room, "room history", NULL, NULL);
	}
	cn = client_new_user(p, "newb", newbie);
	REQUIRE(cn != NULL, , "a newcomer registers");
	r = client_call(cn, pier_req_unread(NULL, 0));
	cv = find_conv(r, "#lobby");
	CHECK(cv && jint(cv, "unread", -1) == 0, "#lobby before one registered is not unread: %s",
	      jdump(cv));
	json_decref(r);
	client_send(co, "#lobby", "after you came", NULL, NULL);
	json_decref(client_call(cn, pier_req_join(room)));
	r = client_call(cn, pier_req_unread(NULL, 0));
	cv = find_conv(r, "#lobby");
	CHECK(cv && jint(cv, "unread", -1) == 1, "what came after counts: %s", jdump(cv));
	cv = find_conv(r, room);
	CHECK(cv && jint(cv, "unread", -1) == 0 && jint(cv, "read", 0) == last,
	      "a room's history before one joined is read: %s", jdump(cv));
	json_decref(r);
	pier_conn_close(co);
	pier_conn_close(cn);
}

int main(void)
{
	struct pierd *p;

	harness_watchdog(240);
	p = pierd_start(no_limits);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	test_display(p);
	test_read(p);
	test_unread_cap(p);
	test_newcomer(p);
	test_members_topic(p);
	test_restart(p);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	test_limits();
	return harness_done();
}
