/* test_chat.c - integration: #lobby and private fan-out, rooms, send errors, presence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "harness.h"

#define ROOM       "#Dev.x-1"   /* as its creator spells it */
#define ROOM_OTHER "#dev.X-1"   /* the same room in another case */

static const char *const args[] = { "--no-rate-limits", "--max-text", "100", NULL };

struct world {
	struct pierd *p;
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX];
	struct pier_conn *a1, *a2, *b1, *c1;
	int64_t t0;  /* ms since the epoch when the test began, to bound ts */
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void drain_all(struct world *w)
{
	client_drain(w->a1);
	client_drain(w->a2);
	client_drain(w->b1);
	client_drain(w->c1);
}

/* Checks that no "msg" (and, when other_op is not NULL, no event of that op) reached c. */
static void expect_no_msg(struct pier_conn *c, const char *who, const char *other_op)
{
	json_t *events = client_events(c);

	if (events == NULL)
		return;
	CHECK(count_op(events, "msg", NULL, NULL) == 0, "%s must get no msg, got %s", who,
	      jdump(events));
	if (other_op != NULL)
		CHECK(count_op(events, other_op, NULL, NULL) == 0, "%s must get no %s, got %s", who,
		      other_op, jdump(events));
	json_decref(events);
}

/* Waits on c for the msg with text and checks every field against the sender's sent. */
static void expect_msg(struct pier_conn *c, const char *who, const char *text, int64_t id,
                       int64_t ts, const char *from, const char *to)
{
	json_t *m = client_wait_msg(c, text);

	if (m == NULL) {
		CHECK(false, "%s did not get \"%s\"", who, text);
		return;
	}
	CHECK(jint(m, "id", -1) == id && jint(m, "ts", -1) == ts && streq(jstr(m, "from"), from) &&
	      streq(jstr(m, "to"), to),
	      "%s: want msg id %lld ts %lld from %s to %s, got %s", who, (long long)id,
	      (long long)ts, from, to, jdump(m));
	CHECK(json_object_get(m, "ref") == NULL, "%s: a msg event carries no ref: %s", who,
	      jdump(m));
	json_decref(m);
}

/* Sends and checks the whole sent reply; returns its id (ts in *ts). */
static int64_t send_checked(struct world *w, struct pier_conn *c, const char *to,
                            const char *text, const char *cid, int64_t *ts)
{
	json_t *reply = client_call(c, pier_req_send(to, text, cid));
	int64_t id = jint(reply, "id", -1);

	*ts = jint(reply, "ts", -1);
	if (reply == NULL)
		return -1;
	CHECK(is_op(reply, "sent") && id > 0, "send to %s: want sent, got %s", to, jdump(reply));
	CHECK(*ts >= w->t0 - 5000 && *ts <= pier_now_ms() + 5000, "sent ts %lld is not now",
	      (long long)*ts);
	CHECK(streq(jstr(reply, "to"), to), "sent: want to %s, got %s", to, jdump(reply));
	if (cid != NULL)
		CHECK(streq(jstr(reply, "cid"), cid), "sent: want cid %s, got %s", cid, jdump(reply));
	CHECK(!jtrue(reply, "duplicate"), "a first send is no duplicate: %s", jdump(reply));
	json_decref(reply);
	return id;
}

static void test_lobby(struct world *w)
{
	int64_t id, id2, ts, ts2;

	drain_all(w);
	id = send_checked(w, w->a1, "#lobby", "hello lobby", "c-1", &ts);
	expect_msg(w->a2, "A's other session", "hello lobby", id, ts, w->a, "#lobby");
	expect_msg(w->b1, "B", "hello lobby", id, ts, w->a, "#lobby");
	expect_msg(w->c1, "C", "hello lobby", id, ts, w->a, "#lobby");
	expect_no_msg(w->a1, "the sending session", NULL);

	id2 = send_checked(w, w->b1, "#lobby", "hi from B", NULL, &ts2);
	CHECK(id2 > id, "ids grow: %lld then %lld", (long long)id, (long long)id2);
	expect_msg(w->a1, "A", "hi from B", id2, ts2, w->b, "#lobby");
	expect_msg(w->a2, "A's other session", "hi from B", id2, ts2, w->b, "#lobby");
	expect_msg(w->c1, "C", "hi from B", id2, ts2, w->b, "#lobby");
	expect_no_msg(w->b1, "the sending session", NULL);

	/* the target's case does not matter */
	CHECK(client_send(w->c1, "#LOBBY", "shouting lobby", NULL, NULL) > 0, "send to #LOBBY");
	json_decref(client_wait_msg(w->a1, "shouting lobby"));
	json_decref(client_wait_msg(w->b1, "shouting lobby"));
}

static void test_private(struct world *w)
{
	char to_b[HARNESS_NAME_MAX + 1], to_a[HARNESS_NAME_MAX + 1], lower_b[HARNESS_NAME_MAX + 1];
	int64_t id, ts;

	snprintf(to_b, sizeof(to_b), "@%s", w->b);
	snprintf(to_a, sizeof(to_a), "@%s", w->a);
	drain_all(w);
	id = send_checked(w, w->a1, to_b, "psst B", "c-2", &ts);
	expect_msg(w->b1, "B", "psst B", id, ts, w->a, to_b);
	expect_msg(w->a2, "A's other session", "psst B", id, ts, w->a, to_b);
	expect_no_msg(w->c1, "C (a private message between A and B)", NULL);
	expect_no_msg(w->a1, "the sending session", NULL);

	id = send_checked(w, w->b1, to_a, "psst A", NULL, &ts);
	expect_msg(w->a1, "A", "psst A", id, ts, w->b, to_a);
	expect_msg(w->a2, "A's other session", "psst A", id, ts, w->b, to_a);
	expect_no_msg(w->c1, "C (a private message between B and A)", NULL);
	expect_no_msg(w->b1, "the sending session", NULL);

	/* user names are case-insensitive in targets too */
	for (size_t i = 0; to_b[i] != '\0'; i++)
		lower_b[i] = (to_b[i] >= 'A' && to_b[i] <= 'Z') ? (char)(to_b[i] + 32) : to_b[i];
	lower_b[strlen(to_b)] = '\0';
	CHECK(client_send(w->c1, lower_b, "psst b in lower case", NULL, NULL) > 0, "send to %s",
	      lower_b);
	json_decref(client_wait_msg(w->b1, "psst b in lower case"));
	expect_no_msg(w->a1, "A (a private message between C and B)", NULL);
}

/* Finds room in a rooms reply; NULL if absent. */
static const json_t *find_room(const json_t *reply, const char *room)
{
	const json_t *rooms = json_object_get(reply, "rooms"), *r;
	size_t i;

	json_array_foreach(rooms, i, r) {
		if (streq(jstr(r, "room"), room))
			return r;
	}
	return NULL;
}

static void check_rooms(struct pier_conn *c, const char *who, int lobby_members,
                        int room_members, bool room_joined)
{
	json_t *reply = client_call(c, pier_req_rooms());
	const json_t *first = json_array_get(json_object_get(reply, "rooms"), 0), *r;

	if (reply == NULL)
		return;
	CHECK(is_op(reply, "rooms") && streq(jstr(first, "room"), "#lobby") &&
	      jint(first, "members", -1) == lobby_members && jtrue(first, "joined"),
	      "%s: rooms must start with #lobby, %d members, joined; got %s", who, lobby_members,
	      jdump(reply));
	r = find_room(reply, ROOM);
	if (room_members == 0) {
		CHECK(r == NULL || jint(r, "members", -1) == 0, "%s: %s should be gone or empty: %s",
		      who, ROOM, jdump(reply));
	} else {
		CHECK(r != NULL && jint(r, "members", -1) == room_members &&
		      json_is_boolean(json_object_get(r, "joined")) &&
		      jtrue(r, "joined") == room_joined,
		      "%s: want %s with %d members, joined %d; got %s", who, ROOM, room_members,
		      room_joined, jdump(reply));
	}
	json_decref(reply);
}

static void expect_member(struct pier_conn *c, const char *who, const char *user, bool joined)
{
	json_t *ev = client_wait_op(c, "member");

	if (ev == NULL)
		return;
	CHECK(streq(jstr(ev, "room"), ROOM) && streq(jstr(ev, "user"), user) &&
	      json_is_boolean(json_object_get(ev, "joined")) && jtrue(ev, "joined") == joined,
	      "%s: want member %s %s %s, got %s", who, ROOM, user, joined ? "joined" : "parted",
	      jdump(ev));
	json_decref(ev);
}

static void test_rooms(struct world *w)
{
	json_t *reply;
	int64_t id, ts;
	char *name;

	drain_all(w);
	/* B creates the room */
	reply = client_call(w->b1, pier_req_join(ROOM));
	CHECK(is_op(reply, "join") && streq(jstr(reply, "room"), ROOM) && jtrue(reply, "created") &&
	      jint(reply, "members", -1) == 1,
	      "join a new room: want created, 1 member, got %s", jdump(reply));
	json_decref(reply);

	/* C joins it spelled in another case: the creator's spelling, 2 members */
	reply = client_call(w->c1, pier_req_join(ROOM_OTHER));
	CHECK(is_op(reply, "join") && streq(jstr(reply, "room"), ROOM) &&
	      json_is_false(json_object_get(reply, "created")) && jint(reply, "members", -1) == 2,
	      "second joiner: want room %s, created false, 2 members; got %s", ROOM, jdump(reply));
	json_decref(reply);
	expect_member(w->b1, "B (a member)", w->c, true);

	/* joining again: already */
	reply = client_call(w->c1, pier_req_join(ROOM));
	CHECK(is_op(reply, "join") && jtrue(reply, "already"),
	      "join a room one is in: want already:true, got %s", jdump(reply));
	json_decref(reply);

	/* non-members: no member events, cannot send or read */
	expect_no_msg(w->a1, "A (not a member)", "member");
	client_expect_error(w->a1, pier_req_send(ROOM, "let me in", NULL), "not_member");
	client_expect_error(w->a1, pier_req_history(ROOM, 0, 10), "not_member");

	/* a room message reaches the members only */
	drain_all(w);
	id = send_checked(w, w->b1, ROOM, "in the room", NULL, &ts);
	expect_msg(w->c1, "C (a member)", "in the room", id, ts, w->b, ROOM);
	expect_no_msg(w->a1, "A (not a member)", NULL);
	expect_no_msg(w->a2, "A's other session (not a member)", NULL);
	expect_no_msg(w->b1, "the sending session", NULL);

	/* the rooms list */
	check_rooms(w->b1, "B", 3, 2, true);
	check_rooms(w->a1, "A", 3, 2, false);

	/* C parts: B sees it, C gets no more messages */
	drain_all(w);
	reply = client_call(w->c1, pier_req_part(ROOM_OTHER));
	CHECK(is_op(reply, "part") && streq(jstr(reply, "room"), ROOM) &&
	      jint(reply, "members", -1) == 1,
	      "part: want room %s, 1 member left, got %s", ROOM, jdump(reply));
	json_decref(reply);
	expect_member(w->b1, "B (a member)", w->c, false);
	id = send_checked(w, w->b1, ROOM, "after C left", NULL, &ts);
	expect_no_msg(w->c1, "C (parted)", NULL);
	client_expect_error(w->c1, pier_req_send(ROOM, "back?", NULL), "not_member");
	client_expect_error(w->c1, pier_req_part(ROOM), "not_member");
	check_rooms(w->c1, "C", 3, 1, false);

	/* #lobby cannot be left, in any spelling */
	client_expect_error(w->a1, pier_req_part("#lobby"), "cannot_part");
	client_expect_error(w->a1, pier_req_part("#Lobby"), "cannot_part");

	/* room names */
	client_expect_error(w->a1, pier_req_join("#bad room"), "bad_room");
	client_expect_error(w->a1, pier_req_join("#"), "bad_room");
	client_expect_error(w->a1, pier_req_join("#a/b"), "bad_room");
	client_expect_error(w->a1, pier_req_join("#名字"), "bad_room");
	client_expect_error(w->a1, pier_req_join("nohash"), "bad_room");
	name = malloc(35);
	name[0] = '#';
	memset(name + 1, 'r', 33);
	name[34] = '\0';
	client_expect_error(w->a1, pier_req_join(name), "bad_room");
	name[33] = '\0'; /* 32 characters: fine */
	reply = client_call(w->a1, pier_req_join(name));
	CHECK(is_op(reply, "join") && jtrue(reply, "created"), "join %s: want created, got %s",
	      name, jdump(reply));
	json_decref(reply);
	free(name);
	reply = client_call(w->a1, pier_req_join("#x"));
	CHECK(is_op(reply, "join") && jtrue(reply, "created"),
	      "join a one-character room: want created, got %s", jdump(reply));
	json_decref(reply);

	/* membership belongs to the user: A's other session is in #x too */
	reply = client_call(w->a2, pier_req_send("#x", "from the other session", NULL));
	CHECK(is_op(reply, "sent"), "A's other session sends to the room A joined: %s",
	      jdump(reply));
	json_decref(reply);
	json_decref(client_wait_msg(w->a1, "from the other session"));
}

static void test_send_errors(struct world *w)
{
	char text[102];
	json_t *reply;

	client_expect_error(w->a1, pier_req_send("@nosuchuser1", "hello?", NULL), "no_such_user");
	client_expect_error(w->a1, pier_req_send("#nosuch", "hello?", NULL), "no_such_room");
	client_expect_error(w->a1, pier_req_send("lobby", "hello?", NULL), "bad_target");
	client_expect_error(w->a1, pier_req_send("nobody", "hello?", NULL), "bad_target");
	client_expect_error(w->a1, pier_req_send("", "hello?", NULL), "bad_target");
	client_expect_error(w->a1, pier_req_history("lobby", 0, 10), "bad_target");
	client_expect_error(w->a1, pier_req_history("@nosuchuser1", 0, 10), "no_such_user");
	client_expect_error(w->a1, pier_req_history("#nosuch", 0, 10), "no_such_room");
	client_expect_error(w->a1, pier_req_send("#lobby", "", NULL), "empty_message");

	/* --max-text 100 */
	memset(text, 't', 101);
	text[101] = '\0';
	client_expect_error(w->a1, pier_req_send("#lobby", text, NULL), "message_too_long");
	text[100] = '\0';
	reply = client_call(w->a1, pier_req_send("#lobby", text, NULL));
	CHECK(is_op(reply, "sent"), "a text of exactly --max-text bytes: want sent, got %s",
	      jdump(reply));
	json_decref(reply);
	/* nothing of the refused ones went out */
	json_decref(client_wait_msg(w->b1, text));
	expect_no_msg(w->b1, "B (refused sends)", NULL);
}

static bool users_has(const json_t *reply, const char *user)
{
	const json_t *online = json_object_get(reply, "online"), *u;
	size_t i;

	json_array_foreach(online, i, u) {
		if (streq(json_string_value(u), user))
			return true;
	}
	return false;
}

static void expect_presence(struct pier_conn *c, const char *who, const char *user, bool online)
{
	json_t *ev = client_wait_op(c, "presence");

	if (ev == NULL)
		return;
	CHECK(streq(jstr(ev, "user"), user) && json_is_boolean(json_object_get(ev, "online")) &&
	      jtrue(ev, "online") == online,
	      "%s: want presence %s online:%s, got %s", who, user, online ? "true" : "false",
	      jdump(ev));
	json_decref(ev);
}

static void test_presence(struct world *w)
{
	char d[HARNESS_NAME_MAX];
	struct pier_conn *d1, *d2;
	json_t *reply, *events;
	const char *who[] = { "A", "A's other session", "B", "C" };
	struct pier_conn *others[4];

	others[0] = w->a1;
	others[1] = w->a2;
	others[2] = w->b1;
	others[3] = w->c1;
	drain_all(w);
	d1 = client_new_user(w->p, "Dave", d);
	if (d1 == NULL)
		return;
	/* A stranger's login tells nobody (presence goes to contacts only). */
	sleep_ms(HARNESS_QUIET_MS);
	for (int i = 0; i < 4; i++) {
		events = client_events(others[i]);
		CHECK(count_op(events, "presence", NULL, NULL) == 0,
		      "%s: a stranger's login: want no presence, got %s", who[i], jdump(events));
		json_decref(events);
	}
	/* Dave writes to A, B and C: contacts now; they hear it when Dave comes back. */
	{
		const char *to[] = { w->a, w->b, w->c };

		for (int i = 0; i < 3; i++) {
			char target[HARNESS_NAME_MAX + 1];

			snprintf(target, sizeof(target), "@%s", to[i]);
			CHECK(client_send(d1, target, "hi", NULL, NULL) > 0, "Dave writes to %s", to[i]);
		}
	}
	pier_conn_close(d1);
	for (int i = 0; i < 4; i++)
		expect_presence(others[i], who[i], d, false);
	drain_all(w);
	d1 = client_login(w->p, d, HARNESS_PASSWORD);
	if (d1 == NULL)
		return;
	for (int i = 0; i < 4; i++)
		expect_presence(others[i], who[i], d, true);
	reply = client_call(d1, pier_req_users());
	CHECK(is_op(reply, "users") && users_has(reply, d) && users_has(reply, w->a) &&
	      users_has(reply, w->b) && users_has(reply, w->c),
	      "users: want %s (self), %s, %s, %s; got %s", d, w->a, w->b, w->c, jdump(reply));
	json_decref(reply);

	/* a second session: no presence */
	d2 = client_login(w->p, d, HARNESS_PASSWORD);
	events = client_events(w->b1);
	CHECK(count_op(events, "presence", NULL, NULL) == 0,
	      "a user's second session: want no presence, got %s", jdump(events));
	json_decref(events);

	/* closing one of two sessions: still online */
	pier_conn_close(d2);
	sleep_ms(HARNESS_QUIET_MS);
	events = client_events(w->b1);
	CHECK(count_op(events, "presence", NULL, NULL) == 0,
	      "closing one of two sessions: want no presence, got %s", jdump(events));
	json_decref(events);
	reply = client_call(w->b1, pier_req_users());
	CHECK(users_has(reply, d), "%s still online with one session: %s", d, jdump(reply));
	json_decref(reply);

	/* closing the last one: offline */
	pier_conn_close(d1);
	for (int i = 0; i < 4; i++)
		expect_presence(others[i], who[i], d, false);
	reply = client_call(w->b1, pier_req_users());
	CHECK(is_op(reply, "users") && !users_has(reply, d) && users_has(reply, w->b),
	      "users after %s left: %s", d, jdump(reply));
	json_decref(reply);

	/* B's membership in ROOM is kept across logins: its rooms at login list it */
	{
		struct pier_conn *b2 = client_connect(w->p);

		reply = client_call(b2, pier_req_login(w->b, HARNESS_PASSWORD));
		CHECK(jint(reply, "status", -99) == 1 && strstr(jdump(reply), ROOM) != NULL,
		      "B's login rooms include %s: %s", ROOM, jdump(reply));
		json_decref(reply);
		pier_conn_close(b2);
	}
}

/* A client connected while pierd stops gets shutting_down (fatal), then the close. */
static void test_shutdown(struct world *w)
{
	json_t *events;
	bool closed;
	size_t i;
	const json_t *ev;
	bool seen = false;

	drain_all(w);
	CHECK(pierd_stop(w->p), "pierd stops cleanly");
	events = client_read_until_closed(w->c1, HARNESS_TIMEOUT_MS, &closed);
	CHECK(closed, "the connection closes when pierd stops");
	json_array_foreach(events, i, ev) {
		if (is_error(ev, "shutting_down") && jtrue(ev, "fatal"))
			seen = true;
	}
	CHECK(seen, "want {\"op\":\"error\",\"error\":\"shutting_down\",\"fatal\":true} on stop, "
	      "got %s", jdump(events));
	json_decref(events);
}

int main(void)
{
	struct world w;

	memset(&w, 0, sizeof(w));
	harness_watchdog(180);
	w.t0 = pier_now_ms();
	w.p = pierd_start(args);
	REQUIRE(w.p != NULL, harness_done(), "pierd starts");
	w.a1 = client_new_user(w.p, "Alice", w.a);
	w.b1 = client_new_user(w.p, "Bob", w.b);
	w.c1 = client_new_user(w.p, "Carol", w.c);
	w.a2 = client_login(w.p, w.a, HARNESS_PASSWORD);
	if (CHECK(w.a1 != NULL && w.a2 != NULL && w.b1 != NULL && w.c1 != NULL, "users log in")) {
		test_lobby(&w);
		test_private(&w);
		test_rooms(&w);
		test_send_errors(&w);
		test_presence(&w);
		CHECK(pierd_is_running(w.p), "pierd still runs");
		test_shutdown(&w);
	}
	pier_conn_close(w.a1);
	pier_conn_close(w.a2);
	pier_conn_close(w.b1);
	pier_conn_close(w.c1);
	CHECK(pierd_stop(w.p), "pierd stops cleanly");
	return harness_done();
}
