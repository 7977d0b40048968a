/* test_store.c - the store on a real loop and a real database in a temporary directory:
 * every job kind, paging, group commit and ordering, close with work queued, persistence.
 * With PIER_TEST_STORE=postgresql://... the same on a new database of that PostgreSQL server
 * (storetest.h): the back ends must give the same answers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_internal.h"
#include "storetest.h"
#include "tap.h"

#define BULK 2000
#define T0 1795000000000LL

struct env {
	uv_loop_t loop;
	struct store *st;
	char dir[64];
	int64_t alice, bob, carol;
	int64_t last_id;      /* the highest id acked so far */
	int64_t acked;        /* messages acked STORE_OK so far */
	const char *pg;       /* PostgreSQL mode: the server (NULL: SQLite) */
	char pg_name[64];     /* its database of this run */
	char url[512];        /* and the URL to that database */
};

static enum store_status run(struct env *e, struct store_job *job)
{
	return storetest_run(&e->loop, e->st, job);
}

static bool reopen(struct env *e, const struct store_options *opt)
{
	struct store_options o = { 0 };
	char *err = NULL;

	if (opt != NULL)
		o = *opt;
	if (e->pg != NULL)
		o.url = e->url;
	e->st = store_open(&e->loop, e->dir, &o, &err);
	CHECK(e->st != NULL, "store_open: %s", err != NULL ? err : "?");
	free(err);
	return e->st != NULL;
}

static void close_store(struct env *e)
{
	store_close(e->st);
	e->st = NULL;
	uv_run(&e->loop, UV_RUN_NOWAIT);   /* the async handle's close callback */
}

static int64_t create_user(struct env *e, const char *name, enum store_status want)
{
	struct store_job j;
	int64_t id;

	store_job_init(&j, STORE_CREATE_USER);
	j.name = name;
	j.pw_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
	CHECK(run(e, &j) == want, "create %s: status %d, want %d", name, j.status, want);
	id = j.user_id;
	store_job_release(&j);
	return id;
}

static struct store_job append(struct env *e, int64_t from, const char *room, int64_t peer,
                               const char *text, const char *cid, int64_t ts)
{
	struct store_job j;

	store_job_init(&j, STORE_APPEND);
	j.user_id = from;
	j.room = room;
	j.peer_id = peer;
	j.text = text;
	j.cid = cid;
	j.ts = ts;
	j.new_contact = room == NULL;   /* as the server does on a first private message */
	run(e, &j);
	if (j.status == STORE_OK) {
		CHECK(j.msg_id > e->last_id, "append id %" PRId64 " after %" PRId64, j.msg_id,
		      e->last_id);
		e->last_id = j.msg_id;
		e->acked++;
	}
	return j;
}

static enum store_status join(struct env *e, int64_t user, const char *room, bool *created,
                              bool *already)
{
	struct store_job j;

	store_job_init(&j, STORE_JOIN);
	j.user_id = user;
	j.room = room;
	run(e, &j);
	*created = j.created;
	*already = j.already;
	return j.status;
}

static enum store_status part(struct env *e, int64_t user, const char *room)
{
	struct store_job j;

	store_job_init(&j, STORE_PART);
	j.user_id = user;
	j.room = room;
	return run(e, &j);
}

/* Checks msgs are strictly increasing by id. */
static bool ascending(const struct store_job *j)
{
	for (size_t i = 1; i < j->nmsgs; i++) {
		if (j->msgs[i].id <= j->msgs[i - 1].id)
			return false;
	}
	return true;
}

static void on_user(void *ud, int64_t id, const char *name)
{
	char *buf = ud;
	size_t len = strlen(buf);

	snprintf(buf + len, 256 - len, "%" PRId64 ":%s ", id, name);
}

static void test_users(struct env *e)
{
	struct store_job j;
	int64_t n = 0;
	char list[256] = "", want[256];

	e->alice = create_user(e, "Alice_1", STORE_OK);
	create_user(e, "alice_1", STORE_EXISTS);
	create_user(e, "ALICE_1", STORE_EXISTS);
	e->bob = create_user(e, "bob_22", STORE_OK);
	e->carol = create_user(e, "Carol.3", STORE_OK);
	CHECK(e->alice > 0 && e->bob > e->alice && e->carol > e->bob, "user ids");
	create_user(e, "bad name!", STORE_FAILED);

	store_job_init(&j, STORE_GET_USER);
	j.name = "aLiCe_1";
	CHECK(run(e, &j) == STORE_OK, "get user");
	CHECK(j.user_id == e->alice, "get user id");
	CHECK(j.user_name != NULL && strcmp(j.user_name, "Alice_1") == 0, "canonical name");
	CHECK(j.pw_hash_out != NULL && strncmp(j.pw_hash_out, "$argon2id$", 10) == 0, "pw hash");
	CHECK(j.seen_id == 0, "seen_id starts at 0");
	store_job_release(&j);
	CHECK(j.user_name == NULL && j.pw_hash_out == NULL, "release clears");

	store_job_init(&j, STORE_GET_USER);
	j.name = "nobody_here";
	CHECK(run(e, &j) == STORE_NOT_FOUND, "get unknown user");
	store_job_release(&j);

	CHECK(store_count_users(e->st, &n) == 0 && n == 3, "count users %" PRId64, n);
	snprintf(want, sizeof want, "%" PRId64 ":Alice_1 %" PRId64 ":bob_22 %" PRId64 ":Carol.3 ",
	         e->alice, e->bob, e->carol);
	CHECK(store_each_user(e->st, on_user, list) == 0 && strcmp(list, want) == 0,
	      "each user: %s", list);
}

static void on_room(void *ud, const char *room, int64_t members)
{
	char *buf = ud;
	size_t len = strlen(buf);

	snprintf(buf + len, 256 - len, "%s=%" PRId64 " ", room, members);
}

static void test_rooms(struct env *e)
{
	char list[256] = "";
	bool created, already;

	CHECK(join(e, e->alice, "#Dev", &created, &already) == STORE_OK && created && !already,
	      "create #Dev");
	CHECK(join(e, e->bob, "#dev", &created, &already) == STORE_OK && !created && !already,
	      "bob joins #dev");
	CHECK(join(e, e->alice, "#DEV", &created, &already) == STORE_OK && !created && already,
	      "alice joins #DEV again");
	CHECK(join(e, e->alice, "#Lobby", &created, &already) == STORE_OK && !created && already,
	      "join #lobby: already");
	CHECK(join(e, e->alice, "#Zeta", &created, &already) == STORE_OK && created, "#Zeta");
	CHECK(join(e, e->carol, "#abc", &created, &already) == STORE_OK && created, "#abc");
	CHECK(join(e, 9999, "#ghost", &created, &already) == STORE_NOT_FOUND, "join: no user");
	CHECK(join(e, e->alice, "nohash", &created, &already) == STORE_FAILED, "join: bad name");

	CHECK(store_each_room(e->st, on_room, list) == 0, "each room");
	CHECK(strcmp(list, "#abc=1 #Dev=2 #Zeta=1 ") == 0, "rooms: %s", list);

	CHECK(part(e, e->bob, "#DEV") == STORE_OK, "bob parts");
	CHECK(part(e, e->bob, "#dev") == STORE_NOT_FOUND, "part twice");
	CHECK(part(e, e->bob, "#nosuch") == STORE_NOT_FOUND, "part unknown room");
	CHECK(part(e, e->bob, "#lobby") == STORE_NOT_FOUND, "part lobby");
	list[0] = '\0';
	store_each_room(e->st, on_room, list);
	CHECK(strcmp(list, "#abc=1 #Dev=1 #Zeta=1 ") == 0, "rooms after part: %s", list);
	CHECK(join(e, e->bob, "#dev", &created, &already) == STORE_OK && !created && !already,
	      "bob joins again");
}

static void test_tokens(struct env *e)
{
	struct store_job j;
	unsigned char tok[STORE_TOKEN_HASH_LEN];

	memset(tok, 0xab, sizeof tok);
	store_job_init(&j, STORE_LOGIN);
	j.user_id = e->alice;
	memcpy(j.token_hash, tok, sizeof tok);
	CHECK(run(e, &j) == STORE_OK, "login");
	CHECK(j.rooms != NULL && j.rooms[0] != NULL && strcmp(j.rooms[0], "#lobby") == 0 &&
	      j.rooms[1] != NULL && strcmp(j.rooms[1], "#Dev") == 0 &&
	      j.rooms[2] != NULL && strcmp(j.rooms[2], "#Zeta") == 0 && j.rooms[3] == NULL,
	      "login rooms");
	store_job_release(&j);

	store_job_init(&j, STORE_LOGIN);
	j.user_id = e->bob;
	j.token_hash[0] = 1;
	CHECK(run(e, &j) == STORE_OK && j.rooms[0] != NULL && strcmp(j.rooms[1], "#Dev") == 0 &&
	      j.rooms[2] == NULL, "bob's rooms");
	store_job_release(&j);

	store_job_init(&j, STORE_LOGIN);
	j.user_id = 9999;
	j.token_hash[0] = 2;
	CHECK(run(e, &j) == STORE_NOT_FOUND && j.rooms == NULL, "login of no such user");
	store_job_release(&j);

	store_job_init(&j, STORE_TOKEN_USER);
	memcpy(j.token_hash, tok, sizeof tok);
	CHECK(run(e, &j) == STORE_OK && j.user_id == e->alice && j.user_name != NULL &&
	      strcmp(j.user_name, "Alice_1") == 0 && j.pw_hash_out == NULL, "token user");
	store_job_release(&j);

	store_job_init(&j, STORE_DELETE_TOKEN);
	memcpy(j.token_hash, tok, sizeof tok);
	CHECK(run(e, &j) == STORE_OK, "delete token");
	CHECK(run(e, &j) == STORE_NOT_FOUND, "delete token twice");

	store_job_init(&j, STORE_TOKEN_USER);
	memcpy(j.token_hash, tok, sizeof tok);
	CHECK(run(e, &j) == STORE_NOT_FOUND && j.user_name == NULL, "revoked token");
	store_job_release(&j);
}

static struct store_job history(struct env *e, int64_t user, const char *room, int64_t peer,
                                int64_t before, int limit)
{
	struct store_job j;

	store_job_init(&j, STORE_HISTORY);
	j.user_id = user;
	j.room = room;
	j.peer_id = peer;
	j.before = before;
	j.limit = limit;
	run(e, &j);
	return j;
}

static void test_messages(struct env *e)
{
	struct store_job j, h;
	int64_t first, dup_id, dup_ts, ids[26];
	char text[32];
	int got = 0;

	j = append(e, e->alice, "#DEV", 0, "hello dev", NULL, T0);
	CHECK(j.status == STORE_OK && j.ts == T0, "append to room");
	first = j.msg_id;
	j = append(e, e->alice, "#nosuch", 0, "x", NULL, T0);
	CHECK(j.status == STORE_NOT_FOUND, "append to no such room");
	j = append(e, e->alice, NULL, 9999, "x", NULL, T0);
	CHECK(j.status == STORE_NOT_FOUND, "append to no such user");

	/* A private conversation of 26 messages, both directions, the first with a cid. */
	j = append(e, e->alice, NULL, e->bob, "pm 0", "c-1", T0 + 1);
	CHECK(j.status == STORE_OK, "private append");
	dup_id = j.msg_id;
	dup_ts = j.ts;
	ids[0] = dup_id;
	j = append(e, e->alice, NULL, e->bob, "pm 0 again", "c-1", T0 + 99);
	CHECK(j.status == STORE_DUPLICATE && j.msg_id == dup_id && j.ts == dup_ts, "duplicate cid");
	j = append(e, e->bob, NULL, e->alice, "other sender", "c-1", T0 + 2);
	CHECK(j.status == STORE_OK, "same cid, other sender");
	ids[1] = j.msg_id;
	for (int i = 2; i < 26; i++) {
		snprintf(text, sizeof text, "pm %d", i);
		j = append(e, i % 2 ? e->bob : e->alice, NULL, i % 2 ? e->alice : e->bob, text, NULL,
		           T0 + i);
		ids[i] = j.msg_id;
	}

	/* Page backwards through it by 10, from either side. */
	h = history(e, e->alice, NULL, e->bob, 0, 10);
	CHECK(h.status == STORE_OK && h.nmsgs == 10 && h.more && ascending(&h), "page 1");
	if (h.nmsgs == 10) {
		CHECK(h.msgs[9].id == ids[25] && h.msgs[0].id == ids[16], "page 1 is the newest");
		CHECK(strcmp(h.msgs[9].from, "bob_22") == 0 && strcmp(h.msgs[9].to, "@Alice_1") == 0 &&
		      strcmp(h.msgs[9].text, "pm 25") == 0 && h.msgs[9].ts == T0 + 25, "msg fields");
		CHECK(strcmp(h.msgs[8].from, "Alice_1") == 0 && strcmp(h.msgs[8].to, "@bob_22") == 0,
		      "msg fields, other way");
		got += (int)h.nmsgs;
		first = h.msgs[0].id;
	}
	store_job_release(&h);
	h = history(e, e->bob, NULL, e->alice, first, 10);
	CHECK(h.status == STORE_OK && h.nmsgs == 10 && h.more && ascending(&h) &&
	      h.msgs[9].id < first, "page 2 from bob's side");
	if (h.nmsgs == 10) {
		got += (int)h.nmsgs;
		first = h.msgs[0].id;
	}
	store_job_release(&h);
	h = history(e, e->alice, NULL, e->bob, first, 10);
	CHECK(h.status == STORE_OK && h.nmsgs == 6 && !h.more && ascending(&h), "last page");
	if (h.nmsgs == 6) {
		CHECK(h.msgs[0].id == ids[0] && strcmp(h.msgs[0].text, "pm 0") == 0,
		      "the oldest, stored once");
		got += (int)h.nmsgs;
	}
	store_job_release(&h);
	CHECK(got == 26, "26 private messages, got %d", got);

	h = history(e, e->alice, NULL, e->bob, 0, 0);
	CHECK(h.nmsgs == 1 && h.more, "limit clamped to 1");
	store_job_release(&h);
	h = history(e, e->alice, NULL, e->carol, 0, 50);
	CHECK(h.status == STORE_OK && h.nmsgs == 0 && !h.more && h.msgs == NULL, "empty chat");
	store_job_release(&h);

	h = history(e, e->bob, "#dEv", 0, 0, 50);
	CHECK(h.status == STORE_OK && h.nmsgs == 1 && !h.more, "room history");
	if (h.nmsgs == 1)
		CHECK(strcmp(h.msgs[0].to, "#Dev") == 0 && strcmp(h.msgs[0].from, "Alice_1") == 0 &&
		      strcmp(h.msgs[0].text, "hello dev") == 0, "room message fields");
	store_job_release(&h);
	h = history(e, e->bob, "#nosuch", 0, 0, 50);
	CHECK(h.status == STORE_NOT_FOUND, "history of no such room");
	store_job_release(&h);

	/* Contacts: the private conversation made alice and bob each other's, carol nobody's. */
	store_job_init(&j, STORE_LOGIN);
	j.user_id = e->bob;
	j.token_hash[0] = 0x42;
	CHECK(run(e, &j) == STORE_OK && j.peers != NULL && j.peers[0] != NULL &&
	      strcmp(j.peers[0], "Alice_1") == 0 && j.peers[1] == NULL, "bob's contacts: alice");
	store_job_release(&j);
	store_job_init(&j, STORE_LOGIN);
	j.user_id = e->carol;
	j.token_hash[0] = 0x43;
	CHECK(run(e, &j) == STORE_OK && j.peers != NULL && j.peers[0] == NULL, "carol has none");
	store_job_release(&j);
}

static void test_sync_offline(struct env *e)
{
	struct store_job j;
	int64_t lobby1, abc1, pm1, start = e->last_id;

	/* carol is in #lobby and #abc; she must see those and her private messages only. */
	lobby1 = append(e, e->bob, "#lobby", 0, "lobby 1", NULL, T0).msg_id;
	append(e, e->alice, "#Dev", 0, "dev only", NULL, T0);
	abc1 = append(e, e->carol, "#ABC", 0, "abc 1", NULL, T0).msg_id;
	append(e, e->alice, NULL, e->bob, "not carol's", NULL, T0);
	pm1 = append(e, e->alice, NULL, e->carol, "to carol", NULL, T0).msg_id;
	append(e, e->carol, NULL, e->bob, "from carol", NULL, T0);

	store_job_init(&j, STORE_SYNC);
	j.user_id = e->carol;
	j.after = start;
	j.limit = 3;
	CHECK(run(e, &j) == STORE_OK && j.nmsgs == 3 && j.more, "sync page 1");
	if (j.nmsgs == 3)
		CHECK(j.msgs[0].id == lobby1 && j.msgs[1].id == abc1 && j.msgs[2].id == pm1 &&
		      strcmp(j.msgs[0].to, "#lobby") == 0 && strcmp(j.msgs[2].to, "@Carol.3") == 0,
		      "sync: carol's conversations only, oldest first");
	store_job_release(&j);
	store_job_init(&j, STORE_SYNC);
	j.user_id = e->carol;
	j.after = pm1;
	j.limit = 200;
	CHECK(run(e, &j) == STORE_OK && j.nmsgs == 1 && !j.more && j.msgs[0].id == e->last_id &&
	      strcmp(j.msgs[0].to, "@bob_22") == 0, "sync page 2: her own private message");
	store_job_release(&j);

	/* Everything since the start, from bob's side (in #dev, chats with both). */
	store_job_init(&j, STORE_SYNC);
	j.user_id = e->bob;
	j.after = start;
	j.limit = 1000;
	CHECK(run(e, &j) == STORE_OK && j.nmsgs == 4 && !j.more && ascending(&j),
	      "bob's sync: %zu", j.nmsgs);
	store_job_release(&j);

	/* Offline: bob's private messages past his seen id. */
	store_job_init(&j, STORE_OFFLINE);
	j.user_id = e->bob;
	j.limit = 1000;
	CHECK(run(e, &j) == STORE_OK && j.nmsgs == 15 && !j.more && ascending(&j),
	      "offline: %zu", j.nmsgs);
	store_job_release(&j);

	store_job_init(&j, STORE_SET_SEEN);
	j.user_id = e->bob;
	j.seen_id = start;
	CHECK(run(e, &j) == STORE_OK, "set seen");
	j.seen_id = 1;
	CHECK(run(e, &j) == STORE_OK, "set seen lower");
	j.user_id = 9999;
	CHECK(run(e, &j) == STORE_NOT_FOUND, "set seen, no such user");

	store_job_init(&j, STORE_GET_USER);
	j.name = "BOB_22";
	CHECK(run(e, &j) == STORE_OK && j.seen_id == start, "seen id only rises");
	store_job_release(&j);

	store_job_init(&j, STORE_OFFLINE);
	j.user_id = e->bob;
	j.limit = 1;
	CHECK(run(e, &j) == STORE_OK && j.nmsgs == 1 && j.more && j.msgs[0].id > start &&
	      strcmp(j.msgs[0].text, "not carol's") == 0, "offline after seen, limited");
	store_job_release(&j);
}

struct bulk {
	struct store_job *jobs;
	size_t n;             /* callbacks run */
	int out_of_order;
	int64_t last_id;
	int not_ok;
};

static void on_bulk(struct store_job *job)
{
	struct bulk *b = job->data;

	if ((size_t)(job - b->jobs) != b->n)
		b->out_of_order++;
	if (job->status != STORE_OK || job->msg_id <= b->last_id)
		b->not_ok++;
	b->last_id = job->msg_id;
	b->n++;
}

static void submit_bulk(struct env *e, struct bulk *b, size_t n)
{
	memset(b, 0, sizeof *b);
	b->jobs = calloc(n, sizeof *b->jobs);
	b->last_id = e->last_id;
	for (size_t i = 0; i < n; i++) {
		struct store_job *j = &b->jobs[i];

		store_job_init(j, STORE_APPEND);
		j->user_id = i % 2 ? e->alice : e->bob;
		j->room = i % 3 ? "#lobby" : NULL;
		j->peer_id = e->carol;
		j->text = "bulk";
		j->ts = T0 + (int64_t)i;
		j->done = on_bulk;
		j->data = b;
		store_submit(e->st, j);
	}
}

/* A change job (EDIT, RECALL, REACT) on message id by user. */
static struct store_job change(struct env *e, enum store_op op, int64_t user, int64_t id,
                               const char *arg, int64_t ts)
{
	struct store_job j;

	store_job_init(&j, op);
	j.user_id = user;
	j.msg_id = id;
	j.ts = ts;
	j.text = op == STORE_EDIT ? arg : NULL;
	j.emoji = op == STORE_REACT ? arg : NULL;
	j.on = true;
	j.window_ms = 120000;
	j.max_reactions = 3;
	run(e, &j);
	return j;
}

/* Edits, recalls, reactions, replies and mentions; the change sequence and sync's changes. */
static void test_changes(struct env *e)
{
	struct store_job m, j, r;
	int64_t id, pm, seq0, seq1, seq2, seq3;

	m = append(e, e->alice, "#Dev", 0, "hi @bob_22 and @Carol.3.", NULL, T0);
	id = m.msg_id;
	CHECK(m.status == STORE_OK && m.nmsgs == 1 && m.msgs[0].mentions != NULL &&
	      strcmp(m.msgs[0].mentions, "[\"bob_22\"]") == 0,
	      "a room message mentions members only (carol is not in #Dev): %s",
	      m.nmsgs == 1 && m.msgs[0].mentions ? m.msgs[0].mentions : "none");
	store_job_release(&m);
	m = append(e, e->bob, NULL, e->alice, "private", NULL, T0);
	pm = m.msg_id;
	store_job_release(&m);

	j = change(e, STORE_EDIT, e->alice, id, "edited", T0 + 5);
	seq0 = j.nmsgs == 1 ? j.msgs[0].changed : -1;
	CHECK(j.status == STORE_OK && j.nmsgs == 1 && strcmp(j.msgs[0].text, "edited") == 0 &&
	      j.msgs[0].edited == T0 + 5 && seq0 > 0 && j.msgs[0].mentions == NULL,
	      "edit: the new text, when, a change number, the mentions found again");
	store_job_release(&j);
	j = change(e, STORE_EDIT, e->bob, id, "mine", T0);
	CHECK(j.status == STORE_NOT_OWN, "edit someone else's");
	store_job_release(&j);
	j = change(e, STORE_EDIT, e->carol, id, "peek", T0);
	CHECK(j.status == STORE_NOT_FOUND, "edit a message one may not see");
	store_job_release(&j);
	j = change(e, STORE_EDIT, e->alice, id, "", T0);
	CHECK(j.status == STORE_EMPTY, "empty text without media");
	store_job_release(&j);

	j = change(e, STORE_REACT, e->bob, id, "a", T0 + 6);
	seq1 = j.nmsgs == 1 ? j.msgs[0].changed : -1;
	CHECK(j.status == STORE_OK && j.count == 1 && !j.already && seq1 > seq0, "react: %d",
	      j.status);
	store_job_release(&j);
	j = change(e, STORE_REACT, e->bob, id, "a", T0 + 7);
	CHECK(j.status == STORE_OK && j.already && j.count == 1 && j.nmsgs == 0, "react again");
	store_job_release(&j);
	j = change(e, STORE_REACT, e->alice, id, "b", T0 + 8);
	store_job_release(&j);
	j = change(e, STORE_REACT, e->alice, id, "c", T0 + 9);
	CHECK(j.status == STORE_OK && j.nmsgs == 1 && j.msgs[0].reactions != NULL &&
	      strstr(j.msgs[0].reactions, "\"emoji\":\"a\",\"count\":1,\"users\":[\"bob_22\"],\"mine\":false") != NULL,
	      "the reactions as JSON, for the reader: %s",
	      j.nmsgs == 1 && j.msgs[0].reactions ? j.msgs[0].reactions : "none");
	store_job_release(&j);
	j = change(e, STORE_REACT, e->bob, id, "d", T0 + 10);
	CHECK(j.status == STORE_LIMIT, "a fourth kind past max_reactions 3");
	store_job_release(&j);
	j = change(e, STORE_REACT, e->carol, pm, "a", T0);
	CHECK(j.status == STORE_NOT_FOUND, "react to others' private message");
	store_job_release(&j);

	m = append(e, e->bob, "#Dev", 0, "replying", NULL, T0 + 11);
	store_job_release(&m);
	store_job_init(&m, STORE_APPEND);
	m.user_id = e->bob;
	m.room = "#Dev";
	m.text = "a reply";
	m.reply_to = id;
	CHECK(run(e, &m) == STORE_OK && m.nmsgs == 1 && m.msgs[0].reply_to == id &&
	      strcmp(m.msgs[0].quote_from, "Alice_1") == 0 && strcmp(m.msgs[0].quote_text, "edited") == 0,
	      "a reply and its quote");
	e->last_id = m.msg_id;
	e->acked++;
	store_job_release(&m);
	store_job_init(&m, STORE_APPEND);
	m.user_id = e->bob;
	m.room = "#lobby";
	m.text = "elsewhere";
	m.reply_to = id;
	CHECK(run(e, &m) == STORE_BAD_REPLY, "a reply to a message of another conversation");
	store_job_release(&m);

	j = change(e, STORE_RECALL, e->alice, id, NULL, T0 + 120001);
	CHECK(j.status == STORE_TOO_LATE, "recall past the window");
	store_job_release(&j);
	j = change(e, STORE_RECALL, e->bob, id, NULL, T0 + 1);
	CHECK(j.status == STORE_NOT_OWN, "recall someone else's");
	store_job_release(&j);
	j = change(e, STORE_RECALL, e->alice, id, NULL, T0 + 120000);
	seq2 = j.nmsgs == 1 ? j.msgs[0].changed : -1;
	CHECK(j.status == STORE_OK && j.nmsgs == 1 && j.msgs[0].recalled == T0 + 120000 &&
	      j.msgs[0].text[0] == '\0' && j.msgs[0].reactions == NULL && j.msgs[0].mentions == NULL &&
	      seq2 > seq1, "recall at the window's edge: text, reactions, mentions gone");
	store_job_release(&j);
	j = change(e, STORE_RECALL, e->alice, id, NULL, T0 + 120000);
	CHECK(j.status == STORE_OK && j.already, "recall twice");
	store_job_release(&j);
	j = change(e, STORE_REACT, e->bob, id, "a", T0);
	CHECK(j.status == STORE_RECALLED, "react to a recalled message");
	store_job_release(&j);
	j = change(e, STORE_EDIT, e->bob, pm, "pm edited", T0 + 12);
	seq3 = j.nmsgs == 1 ? j.msgs[0].changed : -1;
	CHECK(j.status == STORE_OK && seq3 > seq2, "edit a private message");
	store_job_release(&j);

	/* sync's changes: bob sees both messages' last state, once each, in change order */
	store_job_init(&r, STORE_SYNC);
	r.user_id = e->bob;
	r.after = e->last_id;
	r.changes_after = seq0 - 1;
	r.limit = 1;
	run(e, &r);
	CHECK(r.status == STORE_OK && r.nmsgs == 0 && r.nchanges == 1 && r.changes_more &&
	      r.changes[0].id == id && r.changes[0].changed == seq2 && r.changes[0].recalled != 0 &&
	      r.change_seq == seq3, "bob's changes, page 1: the room message, recalled (its last "
	      "state, once)");
	store_job_release(&r);
	store_job_init(&r, STORE_SYNC);
	r.user_id = e->bob;
	r.after = e->last_id;
	r.changes_after = seq2;
	r.limit = 1;
	run(e, &r);
	CHECK(r.status == STORE_OK && r.nchanges == 1 && !r.changes_more && r.changes[0].id == pm &&
	      strcmp(r.changes[0].text, "pm edited") == 0, "page 2: the private edit");
	store_job_release(&r);
	store_job_init(&r, STORE_SYNC);
	r.user_id = e->carol;
	r.after = e->last_id;
	r.changes_after = 0;
	r.limit = 50;
	CHECK(run(e, &r) == STORE_OK && r.nchanges == 0 && !r.changes_more && r.change_seq == seq3,
	      "carol's changes: none of #Dev or of others' private chat");
	store_job_release(&r);
	store_job_init(&r, STORE_SYNC);
	r.user_id = e->bob;
	r.after = e->last_id;
	r.changes_after = -1;
	r.limit = 50;
	CHECK(run(e, &r) == STORE_OK && r.nchanges == 0 && r.changes == NULL, "changes not asked");
	store_job_release(&r);
}

static void test_group_commit(struct env *e)
{
	struct bulk b;
	uint64_t c0 = store_commits(e->st);
	uint64_t commits;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	submit_bulk(e, &b, BULK);
	CHECK(store_pending(e->st) > 0, "pending while queued");
	while (b.n < BULK)
		uv_run(&e->loop, UV_RUN_ONCE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	commits = store_commits(e->st) - c0;
	CHECK(b.out_of_order == 0, "callbacks in submission order (%d out)", b.out_of_order);
	CHECK(b.not_ok == 0, "all stored, ids strictly increasing (%d not)", b.not_ok);
	CHECK(store_pending(e->st) == 0, "nothing pending");
	CHECK(commits >= 4 && commits <= BULK / 10, "grouped: %d jobs in %" PRIu64 " commits",
	      BULK, commits);
	printf("# %d appends in %" PRIu64 " commits, %.1f ms\n", BULK, commits,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	e->last_id = b.last_id;
	e->acked += BULK;
	free(b.jobs);
}

/* Messages submitted together (one batch, on PostgreSQL one pipeline): one from no such user,
 * one to no such room or user fail alone, a resent cid in the same batch is a duplicate of the
 * first (or a conflict, to another conversation), the others are stored in order. */
static void test_batch_mixed(struct env *e)
{
	struct bulk b;
	struct store_job *j, h;
	/* user 1: alice; peer 1: carol */
	static const struct {
		int64_t user;
		const char *room;
		int64_t peer;
		const char *cid;
		enum store_status want;
	} in[] = {
		{ 1, "#lobby", 0, NULL, STORE_OK }, { 9999, "#lobby", 0, NULL, STORE_NOT_FOUND },
		{ 1, "#lobby", 0, "mixed-1", STORE_OK }, { 1, "#nosuch", 0, NULL, STORE_NOT_FOUND },
		{ 1, "#lobby", 0, "mixed-1", STORE_DUPLICATE },
		{ 1, "#Zeta", 0, "mixed-1", STORE_CONFLICT },
		{ 1, "#lobby", 0, NULL, STORE_OK },
		{ 1, NULL, 1, "mixed-2", STORE_OK }, { 1, NULL, 9999, NULL, STORE_NOT_FOUND },
		{ 1, NULL, 1, "mixed-2", STORE_DUPLICATE }, { 1, NULL, 1, "mixed-1", STORE_CONFLICT },
		{ 1, "#lobby", 0, "mixed-2", STORE_CONFLICT },
	};
	enum { N = sizeof in / sizeof in[0] };
	int64_t prev = e->last_id;

	memset(&b, 0, sizeof b);
	b.jobs = calloc(N, sizeof *b.jobs);
	b.last_id = -1;
	for (int i = 0; i < N; i++) {
		j = &b.jobs[i];
		store_job_init(j, STORE_APPEND);
		j->user_id = in[i].user == 1 ? e->alice : in[i].user;
		j->room = in[i].room;
		j->peer_id = in[i].peer == 1 ? e->carol : in[i].peer;
		j->cid = in[i].cid;
		j->text = "mixed";
		j->done = on_bulk;
		j->data = &b;
		store_submit(e->st, j);
	}
	while (b.n < N)
		uv_run(&e->loop, UV_RUN_ONCE);
	for (int i = 0; i < N; i++)
		CHECK(b.jobs[i].status == in[i].want, "mixed batch: job %d status %d, want %d", i,
		      b.jobs[i].status, in[i].want);
	CHECK(b.jobs[4].msg_id == b.jobs[2].msg_id && b.jobs[4].ts == b.jobs[2].ts,
	      "mixed batch: the duplicate names the original");
	CHECK(b.jobs[9].msg_id == b.jobs[7].msg_id && b.jobs[7].msg_id > b.jobs[6].msg_id,
	      "mixed batch: the private duplicate names the original");
	CHECK(b.jobs[0].msg_id > prev && b.jobs[2].msg_id > b.jobs[0].msg_id &&
	      b.jobs[6].msg_id > b.jobs[2].msg_id, "mixed batch: ids in order");
	store_job_init(&h, STORE_HISTORY);
	h.user_id = e->alice;
	h.room = "#lobby";
	h.limit = 5;
	CHECK(run(e, &h) == STORE_OK && h.nmsgs == 5 && h.msgs[4].id == b.jobs[6].msg_id &&
	      h.msgs[3].id == b.jobs[2].msg_id && h.msgs[2].id == b.jobs[0].msg_id,
	      "mixed batch: the three stored, once each");
	store_job_release(&h);
	e->last_id = b.jobs[7].msg_id;
	e->acked += 4;
	free(b.jobs);
}

/* PostgreSQL: the server drops the store's connection (a restart, a failover). The batch that
 * finds it gone fails; the next one connects again, with its statements prepared again. */
static void test_reconnect(struct env *e)
{
	struct store_job j;
	void *pg;
	int fails = 0;

	pg = storetest_pg_open(e->url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	                               "WHERE application_name = 'pierd' AND datname = "
	                               "current_database()");
	if (!CHECK(pg != NULL, "drop the store's connection"))
		return;
	storetest_pg_close(pg);
	for (int i = 0; i < 3; i++) {
		j = append(e, e->alice, "#lobby", 0, "after the drop", NULL, T0);
		if (j.status == STORE_OK)
			break;
		fails++;
		store_job_release(&j);
	}
	CHECK(j.status == STORE_OK && fails <= 1, "stored again after the connection was dropped "
	      "(%d failed first)", fails);
	store_job_release(&j);
	j = append(e, e->bob, NULL, e->alice, "and a private one @Alice_1", "reconnected", T0);
	CHECK(j.status == STORE_OK, "every statement prepared again");
	store_job_release(&j);
}

/* Another connection holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the writers'
 * advisory lock): the batch gives up after the busy (lock) timeout and every job of the batch
 * fails, outputs dropped, nothing stored. About 10 s. */
static void test_failed_batch(struct env *e)
{
	char path[128];
	sqlite3 *db = NULL;
	void *pg = NULL;
	struct bulk b;
	struct store_job *j, ok;
	struct timespec pause = { 0, 200 * 1000 * 1000 };

	snprintf(path, sizeof path, "%s/pier.db", e->dir);
	if (e->pg != NULL) {
		pg = storetest_pg_open(e->url, "SELECT pg_advisory_lock(7307173707470628)");
		if (!CHECK(pg != NULL, "take the writers' lock"))
			return;
	} else if (!CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
	                  sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK,
	                  "lock the database: %s", sqlite3_errmsg(db))) {
		sqlite3_close(db);
		return;
	}
	memset(&b, 0, sizeof b);
	b.jobs = calloc(4, sizeof *b.jobs);
	b.last_id = -1;
	for (int i = 0; i < 4; i++) {
		j = &b.jobs[i];
		store_job_init(j, i == 1 ? STORE_HISTORY : STORE_APPEND);
		j->user_id = e->alice;
		j->room = "#lobby";
		j->text = "never stored";
		j->cid = i == 3 ? "c-failed" : NULL;
		j->limit = 10;
		j->done = on_bulk;
		j->data = &b;
	}
	/* The first waits alone in BEGIN; the other three queue up behind it: one batch. */
	store_submit(e->st, &b.jobs[0]);
	nanosleep(&pause, NULL);
	for (int i = 1; i < 4; i++)
		store_submit(e->st, &b.jobs[i]);
	while (b.n < 4)
		uv_run(&e->loop, UV_RUN_ONCE);
	if (pg != NULL) {
		storetest_pg_close(pg);
	} else {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	for (int i = 0; i < 4; i++)
		CHECK(b.jobs[i].status == STORE_FAILED, "job %d failed", i);
	CHECK(b.jobs[1].msgs == NULL && b.jobs[1].nmsgs == 0, "failed history has no outputs");
	CHECK(b.out_of_order == 0, "failed jobs completed in order");
	free(b.jobs);

	ok = append(e, e->alice, "#lobby", 0, "stored", "c-failed", T0);
	CHECK(ok.status == STORE_OK, "the failed cid was not stored");
}

static void test_close_queued(struct env *e)
{
	struct bulk b;

	submit_bulk(e, &b, 300);
	close_store(e);
	CHECK(b.n == 300 && b.out_of_order == 0 && b.not_ok == 0,
	      "close completed every queued job (%zu)", b.n);
	e->last_id = b.last_id;
	e->acked += 300;
	free(b.jobs);
}

struct chain {
	struct store *st;
	struct store_job first, second;
	bool second_done;
};

static void on_second(struct store_job *job)
{
	struct chain *c = job->data;

	c->second_done = job->status == STORE_OK;
}

static void on_first(struct store_job *job)
{
	struct chain *c = job->data;

	store_job_init(&c->second, STORE_SET_SEEN);
	c->second.user_id = job->user_id;
	c->second.seen_id = 1;
	c->second.done = on_second;
	c->second.data = c;
	store_submit(c->st, &c->second);
}

/* A callback run by store_close submits another job: store_close runs that one too. */
static void test_close_chained(struct env *e)
{
	struct chain c;

	memset(&c, 0, sizeof c);
	c.st = e->st;
	store_job_init(&c.first, STORE_SET_SEEN);
	c.first.user_id = e->alice;
	c.first.seen_id = 1;
	c.first.done = on_first;
	c.first.data = &c;
	store_submit(e->st, &c.first);
	close_store(e);
	CHECK(c.second_done, "the job submitted during close completed");
}

static void close_in_callback(struct store_job *job)
{
	struct env *e = job->data;

	CHECK(job->status == STORE_OK, "job before close");
	store_close(e->st);
	e->st = NULL;
}

static void test_close_from_callback(struct env *e)
{
	struct store_job j[2];

	for (int i = 0; i < 2; i++) {
		store_job_init(&j[i], STORE_SET_SEEN);
		j[i].user_id = e->alice;
		j[i].seen_id = 1;
		j[i].done = close_in_callback;
		j[i].data = e;
	}
	j[1].done = storetest_done_flag;
	j[1].data = &(bool){ false };
	store_submit(e->st, &j[0]);
	store_submit(e->st, &j[1]);
	while (e->st != NULL)
		uv_run(&e->loop, UV_RUN_ONCE);
	CHECK(*(bool *)j[1].data, "the job after the closing one completed too");
	uv_run(&e->loop, UV_RUN_NOWAIT);
}

/* check_db on PostgreSQL. */
static void check_pg(struct env *e)
{
	int64_t v[6] = { 0 };

	if (storetest_pg_ints(e->url,
	                      "SELECT (SELECT version FROM schema_version), "
	                      "(SELECT count(*) FROM rooms WHERE name_key = '#lobby'), "
	                      "(SELECT count(*) FROM messages), (SELECT max(id) FROM messages), "
	                      "(SELECT count(*) FROM members m JOIN rooms r ON r.id = m.room_id "
	                      " WHERE r.name_key = '#lobby'), "
	                      "(SELECT value FROM counters WHERE name = 'msg')", v, 6) != 0)
		return;
	CHECK(v[0] >= 1, "schema version");
	CHECK(v[1] == 1, "one #lobby row");
	CHECK(v[2] == e->acked, "every acked message stored: %" PRId64 " of %" PRId64, v[2],
	      e->acked);
	CHECK(v[3] == e->last_id, "the last acked id is the last");
	CHECK(v[4] == 0, "no #lobby members rows");
	CHECK(v[5] == v[3] && v[3] == v[2], "ids dense: the counter at the last id, as many "
	      "messages as ids (%" PRId64 ", %" PRId64 ", %" PRId64 ")", v[5], v[3], v[2]);
}

/* Reads the database behind the store's back: schema version, lobby rows, message count. */
static void check_db(struct env *e)
{
	char path[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	if (e->pg != NULL) {
		check_pg(e);
		return;
	}
	snprintf(path, sizeof path, "%s/pier.db", e->dir);
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open db");
	CHECK(sqlite3_prepare_v2(db,
	                         "SELECT (SELECT user_version FROM pragma_user_version), "
	                         "(SELECT count(*) FROM rooms WHERE name_key = '#lobby'), "
	                         "(SELECT count(*) FROM messages), (SELECT max(id) FROM messages), "
	                         "(SELECT count(*) FROM members m JOIN rooms r ON r.id = m.room_id "
	                         " WHERE r.name_key = '#lobby')",
	                         -1, &s, NULL) == SQLITE_OK &&
	      sqlite3_step(s) == SQLITE_ROW, "query db: %s", sqlite3_errmsg(db));
	CHECK(sqlite3_column_int(s, 0) == STORE_SCHEMA_VERSION, "schema version");
	CHECK(sqlite3_column_int(s, 1) == 1, "one #lobby row");
	CHECK(sqlite3_column_int64(s, 2) == e->acked, "every acked message stored: %" PRId64
	      " of %" PRId64, (int64_t)sqlite3_column_int64(s, 2), e->acked);
	CHECK(sqlite3_column_int64(s, 3) == e->last_id, "the last acked id is the last");
	CHECK(sqlite3_column_int(s, 4) == 0, "no #lobby members rows");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_persistence(struct env *e)
{
	struct store_job j;
	int64_t n = 0;

	check_db(e);
	if (!reopen(e, NULL))
		return;
	CHECK(store_count_users(e->st, &n) == 0 && n == 3, "users after reopen");
	store_job_init(&j, STORE_SYNC);
	j.user_id = e->carol;
	j.after = e->last_id - 10;
	j.limit = 100;
	CHECK(run(e, &j) == STORE_OK && j.nmsgs > 0 && j.msgs[j.nmsgs - 1].id == e->last_id,
	      "the last message after reopen");
	store_job_release(&j);
	j = append(e, e->alice, "#lobby", 0, "after reopen", NULL, T0);
	CHECK(j.status == STORE_OK, "append after reopen");
	close_store(e);
	check_db(e);
	if (reopen(e, NULL))
		close_store(e);
	check_db(e);
}

static struct store_job stream(struct env *e, int64_t after, int64_t upto, int limit)
{
	struct store_job j;

	store_job_init(&j, STORE_STREAM);
	j.after = after;
	j.msg_id = upto;
	j.limit = limit;
	run(e, &j);
	return j;
}

/* STREAM: every conversation's messages in id order, as no reader sees them. */
static void test_stream(struct env *e)
{
	struct store_job a, b, c, r, j;

	a = append(e, e->alice, "#Zeta", 0, "stream one @Alice_1", NULL, T0 + 500);
	b = append(e, e->bob, NULL, e->alice, "stream two", NULL, T0 + 501);
	c = append(e, e->carol, "#lobby", 0, "stream three", NULL, T0 + 502);
	CHECK(a.status == STORE_OK && b.status == STORE_OK && c.status == STORE_OK,
	      "stream: three appends");
	CHECK(a.nmsgs == 1 && a.msgs[0].mentioned, "the sender mentioned herself");
	r = change(e, STORE_REACT, e->alice, a.msg_id, "\xf0\x9f\x91\x8d", T0 + 503);
	CHECK(r.status == STORE_OK, "stream: a reaction");
	store_job_release(&r);

	j = stream(e, a.msg_id - 1, 0, 10);
	CHECK(j.status == STORE_OK && j.nmsgs == 3 && !j.more && ascending(&j), "stream: all three");
	if (j.nmsgs == 3) {
		CHECK(j.msgs[0].id == a.msg_id && j.msgs[1].id == b.msg_id && j.msgs[2].id == c.msg_id,
		      "stream: by id");
		CHECK(strcmp(j.msgs[0].to, "#Zeta") == 0 && strcmp(j.msgs[1].to, "@Alice_1") == 0 &&
		      strcmp(j.msgs[1].from, "bob_22") == 0 && strcmp(j.msgs[2].to, "#lobby") == 0,
		      "stream: every conversation");
		CHECK(j.msgs[0].mentions != NULL && !j.msgs[0].mentioned, "stream: mentions, no reader");
		CHECK(j.msgs[0].reactions != NULL && strstr(j.msgs[0].reactions, "true") == NULL,
		      "stream: reactions, mine false: %s",
		      j.msgs[0].reactions != NULL ? j.msgs[0].reactions : "(none)");
		CHECK(j.msgs[2].ts == T0 + 502 && strcmp(j.msgs[2].text, "stream three") == 0,
		      "stream: fields");
	}
	store_job_release(&j);
	j = stream(e, a.msg_id - 1, 0, 2);
	CHECK(j.status == STORE_OK && j.nmsgs == 2 && j.more, "stream: limit, more");
	store_job_release(&j);
	j = stream(e, a.msg_id - 1, b.msg_id, 10);
	CHECK(j.status == STORE_OK && j.nmsgs == 2 && !j.more && j.msgs[1].id == b.msg_id,
	      "stream: upto bounds it");
	store_job_release(&j);
	j = stream(e, c.msg_id, 0, 10);
	CHECK(j.status == STORE_OK && j.nmsgs == 0 && !j.more, "stream: nothing after the newest");
	store_job_release(&j);
	j = stream(e, 0, 0, 5000);
	CHECK(j.status == STORE_OK && j.nmsgs <= 1000 && ascending(&j), "stream: limit clamped");
	store_job_release(&j);
	store_job_release(&a);
	store_job_release(&b);
	store_job_release(&c);
}

int main(void)
{
	struct env e;
	struct store_options opt = { .max_batch = 0, .no_sync = true };
	char *err = NULL;

	memset(&e, 0, sizeof e);
	snprintf(e.dir, sizeof e.dir, "/tmp/pier-store-XXXXXX");
	if (!CHECK(mkdtemp(e.dir) != NULL, "mkdtemp"))
		return tap_done();
	uv_loop_init(&e.loop);
	e.pg = storetest_pg_server();
	if (e.pg != NULL) {
		printf("# on PostgreSQL\n");
		if (storetest_pg_create(e.pg, e.pg_name, e.url, sizeof e.url) != 0)
			return tap_done();
	} else {
		CHECK(store_open(&e.loop, "/nonexistent/dir", NULL, &err) == NULL && err != NULL,
		      "open fails in a missing directory");
		free(err);
		uv_run(&e.loop, UV_RUN_NOWAIT);
	}
	{
		struct store_options bad = { .url = "mysql://localhost/pier" };

		err = NULL;
		CHECK(store_open(&e.loop, e.dir, &bad, &err) == NULL && err != NULL &&
		      strstr(err, "unknown store") != NULL, "open refuses an unknown store URL: %s",
		      err != NULL ? err : "(no message)");
		free(err);
	}

	if (reopen(&e, NULL)) {
		test_users(&e);
		test_rooms(&e);
		test_tokens(&e);
		test_messages(&e);
		test_sync_offline(&e);
		test_changes(&e);
		test_stream(&e);
		test_group_commit(&e);
		test_batch_mixed(&e);
		if (e.pg != NULL)
			test_reconnect(&e);
		test_failed_batch(&e);
		test_close_queued(&e);
		if (reopen(&e, NULL))
			test_close_chained(&e);
		if (reopen(&e, &opt)) {
			test_close_from_callback(&e);
			test_persistence(&e);
		}
	}
	CHECK(uv_loop_close(&e.loop) == 0, "no handle left on the loop");
	storetest_remove_dir(e.dir);
	if (e.pg != NULL)
		storetest_pg_drop(e.pg, e.pg_name);
	return tap_done();
}
