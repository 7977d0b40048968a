/* test_search.c - integration: the search op against a real pierd.
 *
 * The corpus (data/search_corpus.json: Chinese, Japanese, Korean, mixed and accented Latin
 * messages in #lobby, a room, a room one user left, and two private conversations) is stored
 * through the protocol; every query must find exactly its hits, newest first, with the
 * expected parts marked. Then the refusals (malformed, too short, too long, conversations one
 * may not read), FTS5 syntax that must stay text, paging, what happens to a message after it
 * was sent (a reply, a mention, reactions, a display name: as history has them; an edit; a
 * recall, after which nobody finds it), the rate limit, and the migration:
 * the database is rebuilt as the pierd before search left it (no index), and after a restart
 * the same queries find the same messages. On PostgreSQL (PIER_TEST_STORE) the database is
 * taken back to schema version 1 (the search index's objects dropped), and the restart's
 * migration step indexes every message.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "harness.h"
#include "store_internal.h"

#define NKEYS 64

struct world {
	struct pierd *p;
	char name[3][HARNESS_NAME_MAX];      /* a, b, c */
	struct pier_conn *conn[3];
	json_t *corpus;
	const char *key[NKEYS];
	int64_t id[NKEYS];
	int nkeys;
};

static int who(const char *letter)
{
	return letter != NULL && letter[0] >= 'a' && letter[0] <= 'c' ? letter[0] - 'a' : 0;
}

static int64_t id_of(const struct world *w, const char *key)
{
	for (int i = 0; i < w->nkeys; i++) {
		if (strcmp(w->key[i], key) == 0)
			return w->id[i];
	}
	CHECK(false, "no message with key %s", key);
	return -1;
}

/* "#room", "@letter" (the user's real name) or "#lobby". */
static void target(const struct world *w, const char *to, char *out, size_t n)
{
	if (to[0] == '@')
		snprintf(out, n, "@%s", w->name[who(to + 1)]);
	else
		snprintf(out, n, "%s", to);
}

/* The substring of text from code point start to end. */
static void cp_slice(const char *text, int64_t start, int64_t end, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, from = 0, to = 0, len;
	int64_t cp = 0;

	for (; p[i] != '\0'; i++) {
		if ((p[i] & 0xC0) == 0x80)
			continue;
		if (cp == start)
			from = i;
		if (cp == end)
			break;
		cp++;
	}
	to = i;
	if (cp < start)
		from = to;
	len = to > from ? to - from : 0;
	if (len >= n)
		len = n - 1;
	memcpy(out, text + from, len);
	out[len] = '\0';
}

/* Checks a search reply against the expected keys (newest first) and marks. */
static void check_hits(struct world *w, const char *what, json_t *reply, json_t *hits,
                       json_t *marks)
{
	json_t *msgs = json_object_get(reply, "messages"), *m, *k;
	size_t i;
	bool same;

	if (!CHECK(is_op(reply, "search") && json_is_array(msgs), "%s: a search reply: %s", what,
	           jdump(reply)))
		return;
	same = json_array_size(msgs) == json_array_size(hits);
	json_array_foreach(hits, i, k) {
		m = json_array_get(msgs, i);
		same = same && m != NULL && jint(m, "id", -1) == id_of(w, json_string_value(k));
	}
	CHECK(same, "%s: want %s, got %s", what, jdump(hits), jdump(msgs));
	CHECK(!jtrue(reply, "more"), "%s: one page", what);
	json_array_foreach(msgs, i, m) {
		json_t *hl = json_object_get(m, "highlight");

		CHECK(json_is_array(hl) && json_array_size(hl) > 0, "%s: message %" PRId64
		      " has a highlight", what, jint(m, "id", -1));
	}
	{
		const char *key;
		json_t *want;

		json_object_foreach(marks, key, want) {
			int64_t id = id_of(w, key);
			json_t *msg = NULL, *hl, *r, *got = json_array();
			size_t j;

			json_array_foreach(msgs, j, m) {
				if (jint(m, "id", -1) == id)
					msg = m;
			}
			if (!CHECK(msg != NULL, "%s: %s is among the hits", what, key)) {
				json_decref(got);
				continue;
			}
			hl = json_object_get(msg, "highlight");
			json_array_foreach(hl, j, r) {
				char part[256];

				cp_slice(jstr(msg, "text"), json_integer_value(json_array_get(r, 0)),
				         json_integer_value(json_array_get(r, 1)), part, sizeof(part));
				json_array_append_new(got, json_string(part));
			}
			CHECK(json_equal(got, want), "%s: marks in %s: want %s, got %s", what, key,
			      jdump(want), jdump(got));
			json_decref(got);
		}
	}
}

static void run_queries(struct world *w, const char *when)
{
	json_t *q;
	size_t i;

	json_array_foreach(json_object_get(w->corpus, "queries"), i, q) {
		const char *text = jstr(q, "q"), *user = jstr(q, "user");
		char what[256];
		json_t *reply;

		snprintf(what, sizeof(what), "%s: %s searching \"%s\"", when, user, text);
		reply = client_call(w->conn[who(user)], pier_req_search(text, NULL, 0, 0));
		check_hits(w, what, reply, json_object_get(q, "hits"), json_object_get(q, "marks"));
		json_decref(reply);
	}
}

static bool store_corpus(struct world *w)
{
	json_t *rooms = json_object_get(w->corpus, "rooms"), *members, *m, *x;
	const char *room;
	size_t i;

	json_object_foreach(rooms, room, members) {
		json_array_foreach(members, i, m) {
			json_t *r = client_call(w->conn[who(json_string_value(m))], pier_req_join(room));

			CHECK(is_op(r, "join"), "join %s: %s", room, jdump(r));
			json_decref(r);
		}
	}
	json_array_foreach(json_object_get(w->corpus, "messages"), i, m) {
		char to[64];

		if (!CHECK(w->nkeys < NKEYS, "corpus fits"))
			return false;
		target(w, jstr(m, "to"), to, sizeof(to));
		w->key[w->nkeys] = jstr(m, "key");
		w->id[w->nkeys] = client_send(w->conn[who(jstr(m, "from"))], to, jstr(m, "text"), NULL,
		                              NULL);
		if (w->id[w->nkeys] < 0)
			return false;
		w->nkeys++;
	}
	json_object_foreach(json_object_get(w->corpus, "leave"), room, members) {
		json_array_foreach(members, i, x) {
			json_t *r = client_call(w->conn[who(json_string_value(x))], pier_req_part(room));

			CHECK(is_op(r, "part"), "part %s: %s", room, jdump(r));
			json_decref(r);
		}
	}
	for (int k = 0; k < 3; k++)
		client_drain(w->conn[k]);
	return true;
}

static void expect_error(struct pier_conn *c, json_t *req, const char *code, const char *what)
{
	json_t *r = client_call(c, req);

	CHECK(is_error(r, code), "%s: want %s, got %s", what, code, jdump(r));
	json_decref(r);
}

static json_t *search_req(const char *q)
{
	return pier_req_search(q, NULL, 0, 0);
}

static void test_refusals(struct world *w)
{
	struct pier_conn *a = w->conn[0], *c = w->conn[2];
	char big[300];
	json_t *req;

	expect_error(a, json_pack("{s:s}", "op", "search"), "bad_request", "no q");
	expect_error(a, json_pack("{s:s, s:i}", "op", "search", "q", 5), "bad_request", "q a number");
	expect_error(a, search_req(""), "query_too_short", "empty");
	expect_error(a, search_req("   "), "query_too_short", "spaces");
	expect_error(a, search_req("a"), "query_too_short", "one letter");
	expect_error(a, search_req("a b c"), "query_too_short", "single letters");
	expect_error(a, search_req("！？。👍"), "query_too_short", "punctuation and emoji");
	memset(big, 'x', 257);
	big[257] = '\0';
	expect_error(a, search_req(big), "query_too_long", "257 bytes");
	big[256] = '\0';
	req = client_call(a, search_req(big));
	CHECK(is_op(req, "search"), "256 bytes is a query: %s", jdump(req));
	json_decref(req);
	strcpy(big, "");
	for (int i = 0; i < 17; i++)
		strcat(big, "ab ");
	expect_error(a, search_req(big), "query_too_long", "17 terms");
	/* conversations one may not read, and bad ones */
	expect_error(c, pier_req_search("电影", "#cjk", 0, 0), "not_member", "c in #cjk");
	expect_error(a, pier_req_search("电影", "#gone", 0, 0), "not_member", "a in #gone, left");
	expect_error(a, pier_req_search("电影", "#nosuchroom", 0, 0), "no_such_room", "no room");
	expect_error(a, pier_req_search("电影", "@nobody_here_x", 0, 0), "no_such_user", "no user");
	expect_error(a, pier_req_search("电影", "lobby", 0, 0), "bad_target", "no # or @");
	expect_error(a, json_pack("{s:s, s:s, s:i}", "op", "search", "q", "电影", "with", 3),
	             "bad_request", "with a number");
	expect_error(a, json_pack("{s:s, s:s, s:i}", "op", "search", "q", "电影", "before", -1),
	             "bad_request", "negative before");
	expect_error(a, json_pack("{s:s, s:s, s:s}", "op", "search", "q", "电影", "limit", "x"),
	             "bad_request", "limit a string");
}

/* FTS5's syntax is text to pier: none of these is an error, and they find what their words
 * find. */
static void test_no_injection(struct world *w)
{
	static const char *const evil[] = {
		"电影\" OR \"a", "NEAR(电影 你好)", "电影*", "text:电影", "name:电影", "^电影", "-电影",
		"\"", "\"\"\"\"", "电影 AND", "(电影", "电影)", "\\电影", "{text} : 电影", "电影 NOT 你好",
		"电影 + 你好", "'; DROP TABLE messages; --", "電影' OR 1=1 --",
	};
	struct pier_conn *a = w->conn[0];
	json_t *r, *plain = client_call(a, search_req("电影"));
	size_t nplain = json_array_size(json_object_get(plain, "messages"));

	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		r = client_call(a, search_req(evil[i]));
		CHECK(is_op(r, "search") || is_error(r, "query_too_short"),
		      "\"%s\" is text, not FTS5 syntax: %s", evil[i], jdump(r));
		json_decref(r);
	}
	/* punctuation around a word changes nothing; NOT is a word, so it must be there too */
	r = client_call(a, search_req("电影*"));
	CHECK(json_array_size(json_object_get(r, "messages")) == nplain, "电影* is 电影");
	json_decref(r);
	r = client_call(a, search_req("电影 NOT 你好"));
	CHECK(json_array_size(json_object_get(r, "messages")) == 0, "NOT is a word no message has");
	json_decref(r);
	r = client_call(a, search_req("'; DROP TABLE messages; --"));
	CHECK(is_op(r, "search") && json_array_size(json_object_get(r, "messages")) == 0,
	      "SQL is text too: %s", jdump(r));
	json_decref(r);
	json_decref(plain);
}

static void test_with(struct world *w)
{
	json_t *r = client_call(w->conn[0], pier_req_search("电影", "#lobby", 0, 0));
	json_t *want = json_pack("[s,s,s]", "zh_cinema", "zh_movie", "zh_hello");
	json_t *none = json_object();
	char peer[64];

	check_hits(w, "a searching 电影 in #lobby", r, want, none);
	json_decref(r);
	json_decref(want);
	snprintf(peer, sizeof(peer), "@%s", w->name[1]);
	r = client_call(w->conn[0], pier_req_search("电影", peer, 0, 0));
	want = json_pack("[s]", "pm_ab");
	check_hits(w, "a searching 电影 with b", r, want, none);
	json_decref(r);
	json_decref(want);
	r = client_call(w->conn[1], pier_req_search("电影", "#cjk", 0, 0));
	want = json_pack("[s]", "room_cjk");
	check_hits(w, "b searching 电影 in #cjk", r, want, none);
	json_decref(r);
	json_decref(want);
	json_decref(none);
}

/* 25 matches in pages of 10: newest first, each once, next_before chains the pages. */
static void test_paging(struct world *w)
{
	int64_t sent[25], before = 0;
	int got = 0, pages = 0;
	bool order = true, more = true;

	for (int i = 0; i < 25; i++) {
		char text[64];

		snprintf(text, sizeof(text), "分页测试 第%d条", i);
		sent[i] = client_send(w->conn[1], "#lobby", text, NULL, NULL);
	}
	while (more && pages < 5) {
		json_t *r = client_call(w->conn[2], pier_req_search("分页", NULL, before, 10)), *m;
		size_t i;

		pages++;
		json_array_foreach(json_object_get(r, "messages"), i, m) {
			order = order && got < 25 && jint(m, "id", -1) == sent[24 - got];
			got++;
		}
		more = jtrue(r, "more");
		before = jint(r, "next_before", 0);
		CHECK(!more || before == sent[25 - got], "next_before is the last id of the page: %s",
		      jdump(r));
		json_decref(r);
	}
	CHECK(got == 25 && pages == 3 && order, "25 matches in 3 pages, newest first (%d in %d)", got,
	      pages);
	{
		json_t *r = client_call(w->conn[2], pier_req_search("分页", NULL, 0, 1000));

		CHECK(json_array_size(json_object_get(r, "messages")) == 25 && !jtrue(r, "more"),
		      "a limit over 100 is cut to 100, not refused");
		json_decref(r);
	}
}

/* The one message a search by c for q found (new reference), or NULL after a failed check. */
static json_t *found_one(struct pier_conn *c, const char *q, const char *what)
{
	json_t *r = client_call(c, search_req(q)), *m = NULL;

	if (CHECK(is_op(r, "search") && json_array_size(json_object_get(r, "messages")) == 1,
	          "%s: one match for %s: %s", what, q, jdump(r)))
		m = json_incref(json_array_get(json_object_get(r, "messages"), 0));
	json_decref(r);
	return m;
}

static void found_none(struct pier_conn *c, const char *q, const char *with, const char *what)
{
	json_t *r = client_call(c, pier_req_search(q, with, 0, 0));

	CHECK(is_op(r, "search") && json_array_size(json_object_get(r, "messages")) == 0,
	      "%s: nothing for %s%s%s: %s", what, q, with != NULL ? " in " : "",
	      with != NULL ? with : "", jdump(r));
	json_decref(r);
}

/* A match is the message as history gives it to the same reader, plus its highlight. */
static void check_as_history(struct pier_conn *c, json_t *m, const char *what)
{
	json_t *copy, *h;

	if (m == NULL)
		return;
	copy = json_deep_copy(m);
	json_object_del(copy, "highlight");
	json_object_del(copy, "name_highlight");
	h = client_history_msg(c, jstr(m, "to"), jint(m, "id", -1));
	CHECK(h != NULL && json_equal(copy, h), "%s: as history has it\n  search  %s\n  history %s",
	      what, jdump(copy), jdump(h));
	json_decref(copy);
	json_decref(h);
}

/* What happened to a message after it was sent, seen through search: a reply with its quote,
 * a mention, reactions and the sender's display name come as history has them; an edit
 * changes what finds it (the old words no more, the new ones); a recalled message is found
 * by nobody, its sender included, and its words no longer find it after a restart either. */
static void test_changes(struct world *w)
{
	struct pier_conn *a = w->conn[0], *b = w->conn[1];
	char text[256];
	int64_t first, reply;
	json_t *r, *m;

	first = client_send(a, "#lobby", "看完电影一起吃火锅 hotpotplan", NULL, NULL);
	r = client_call(b, pier_req_profile("搜索测试员"));
	CHECK(is_op(r, "profile"), "b takes a display name: %s", jdump(r));
	json_decref(r);
	snprintf(text, sizeof(text), "@%s 火锅店我来订 hotpotreply", w->name[0]);
	r = client_call(b, pier_req_send_reply("#lobby", text, NULL, first));
	reply = jint(r, "id", -1);
	CHECK(is_op(r, "sent") && reply > 0, "b replies: %s", jdump(r));
	json_decref(r);
	r = client_call(a, pier_req_react(reply, "👍", true));
	CHECK(is_op(r, "react"), "a reacts: %s", jdump(r));
	json_decref(r);
	client_drain(a);
	client_drain(b);

	m = found_one(a, "hotpotreply", "a, the reply");
	CHECK(m != NULL && jint(m, "reply_to", -1) == first && jtrue(m, "mentioned") &&
	      json_is_object(json_object_get(m, "quote")) &&
	      json_array_size(json_object_get(m, "reactions")) == 1 &&
	      strcmp(jstr(m, "display") ? jstr(m, "display") : "", "搜索测试员") == 0,
	      "the reply with its quote, mention, reaction and display name: %s", jdump(m));
	check_as_history(a, m, "a, the reply");
	json_decref(m);
	m = found_one(b, "hotpotreply", "b, its own reply");
	CHECK(m != NULL && !jtrue(m, "mentioned"), "not mentioned for b: %s", jdump(m));
	check_as_history(b, m, "b, its own reply");
	json_decref(m);

	/* an edit: the old words find it no more, the new ones do */
	r = client_call(a, pier_req_edit(first, "改成去看话剧 theatreplan"));
	CHECK(is_op(r, "edit"), "a edits: %s", jdump(r));
	json_decref(r);
	found_none(b, "hotpotplan", NULL, "b after the edit");
	found_none(b, "吃火锅", NULL, "b after the edit");
	m = found_one(b, "看话剧", "b after the edit");
	CHECK(m != NULL && jint(m, "id", -1) == first && json_is_integer(json_object_get(m, "edited")) &&
	      strcmp(jstr(m, "text") ? jstr(m, "text") : "", "改成去看话剧 theatreplan") == 0,
	      "the edited text, marked edited: %s", jdump(m));
	check_as_history(b, m, "b, the edited message");
	json_decref(m);
	/* the reply quotes the message as it is now */
	m = found_one(b, "hotpotreply", "b, the reply after the edit");
	check_as_history(b, m, "b, the reply after the edit");
	json_decref(m);

	/* a recall: nobody finds it, the sender included, everywhere or in its conversation */
	r = client_call(a, pier_req_recall(first));
	CHECK(is_op(r, "recall"), "a recalls: %s", jdump(r));
	json_decref(r);
	for (int k = 0; k < 3; k++) {
		char what[64];

		snprintf(what, sizeof(what), "%c after the recall", 'a' + k);
		found_none(w->conn[k], "看话剧", NULL, what);
		found_none(w->conn[k], "theatreplan", NULL, what);
		found_none(w->conn[k], "theatreplan", "#lobby", what);
	}
	/* the reply is still found, its quote saying the message was recalled */
	m = found_one(a, "hotpotreply", "a, the reply after the recall");
	CHECK(m != NULL && jtrue(json_object_get(m, "quote"), "recalled"),
	      "the quote says recalled: %s", jdump(m));
	check_as_history(a, m, "a, the reply after the recall");
	json_decref(m);
	client_drain(a);
	client_drain(b);
}

/* After the migration (test_migration): the edited message by its new words only, the
 * recalled one not at all. */
static void check_changes_kept(struct world *w)
{
	found_none(w->conn[1], "hotpotplan", NULL, "after the migration, the edited-away words");
	found_none(w->conn[0], "theatreplan", NULL, "after the migration, the recalled message");
	json_decref(found_one(w->conn[0], "hotpotreply", "after the migration, the reply"));
}

static void log_in_all(struct world *w)
{
	for (int k = 0; k < 3; k++)
		w->conn[k] = client_login(w->p, w->name[k], HARNESS_PASSWORD);
}

static bool exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	bool ok = sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;

	CHECK(ok, "%.80s...: %s", sql, msg != NULL ? msg : "?");
	sqlite3_free(msg);
	return ok;
}

/* Rebuilds DIR/pier.db as the pierd before search left it: the schema up to the step before
 * the index, and every row the corpus made (the columns that existed then). */
static bool make_old_database(struct world *w)
{
	char cur[512], old[512], attach[600], path[600];
	sqlite3 *db = NULL;
	char *err = NULL;
	bool ok;

	snprintf(cur, sizeof(cur), "%s/pier.db", pierd_dir(w->p));
	snprintf(old, sizeof(old), "%s/pier-old.db", pierd_dir(w->p));
	if (!CHECK(sqlite3_open(old, &db) == SQLITE_OK, "create %s", old))
		return false;
	ok = CHECK(store_schema_migrate_to(db, STORE_SCHEMA_SEARCH_VERSION - 1, &err) == 0,
	           "schema before search: %s", err != NULL ? err : "");
	free(err);
	snprintf(attach, sizeof(attach), "ATTACH '%s' AS cur", cur);
	ok = ok && exec(db, attach) && exec(db,
		"BEGIN;"
		"INSERT INTO users(id, name, name_key, pw_hash, created, seen_id, display)"
		"  SELECT id, name, name_key, pw_hash, created, seen_id, display FROM cur.users;"
		"INSERT OR REPLACE INTO rooms(id, name, name_key, created)"
		"  SELECT id, name, name_key, created FROM cur.rooms;"
		"INSERT INTO members(room_id, user_id, joined) SELECT room_id, user_id, joined FROM cur.members;"
		"INSERT INTO contacts(user_id, peer_id) SELECT user_id, peer_id FROM cur.contacts;"
		"INSERT INTO messages(id, ts, sender_id, room_id, recipient_id, pair_lo, pair_hi, text, cid,"
		"  reply_to, mentions, edited, recalled, changed)"
		"  SELECT id, ts, sender_id, room_id, recipient_id, pair_lo, pair_hi, text, cid,"
		"  reply_to, mentions, edited, recalled, changed FROM cur.messages;"
		"INSERT INTO mentions SELECT * FROM cur.mentions;"
		"INSERT INTO reactions SELECT * FROM cur.reactions;"
		"COMMIT;") && exec(db, "DETACH cur");
	{
		sqlite3_stmt *s = NULL;

		ok = ok && sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'message_fts'",
		                              -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
		     CHECK(sqlite3_column_int(s, 0) == 0, "the old database has no index");
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	if (!ok)
		return false;
	unlink(cur);
	snprintf(path, sizeof(path), "%s-wal", cur);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", cur);
	unlink(path);
	return CHECK(rename(old, cur) == 0, "the old database in place");
}

/* PostgreSQL: the database as the pierd before search left it (schema version 1: no index,
 * no triggers, no queue). */
static bool make_old_pg_database(struct world *w)
{
	char *url = harness_pg_url(strrchr(pierd_dir(w->p), '/') + 1);
	PGconn *c = url != NULL ? PQconnectdb(url) : NULL;
	PGresult *r = NULL;
	bool ok = false;

	if (CHECK(c != NULL && PQstatus(c) == CONNECTION_OK, "connect to pierd's database: %s",
	          c != NULL ? PQerrorMessage(c) : "no URL")) {
		r = PQexec(c,
			"BEGIN;"
			"DROP TRIGGER messages_search_insert ON messages;"
			"DROP TRIGGER messages_search_update ON messages;"
			"DROP FUNCTION message_search_queue_new();"
			"DROP FUNCTION message_search_queue_one();"
			"DROP TABLE message_search;"
			"DROP TABLE message_search_pending;"
			"UPDATE schema_version SET version = 1;"
			"COMMIT");
		ok = CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "back to schema version 1: %s",
		           PQresultErrorMessage(r));
	}
	PQclear(r);
	PQfinish(c);
	free(url);
	return ok;
}

static void test_migration(struct world *w)
{
	for (int k = 0; k < 3; k++) {
		pier_conn_close(w->conn[k]);
		w->conn[k] = NULL;
	}
	if (!CHECK(pierd_stop(w->p), "pierd stops") ||
	    !(harness_store_url() != NULL ? make_old_pg_database(w) : make_old_database(w)) ||
	    pierd_restart(w->p) != 0)
		return;
	log_in_all(w);
	if (w->conn[0] == NULL || w->conn[1] == NULL || w->conn[2] == NULL)
		return;
	run_queries(w, "after the migration");
	check_changes_kept(w);
	/* and what is stored now is found with them */
	{
		int64_t id = client_send(w->conn[2], "#lobby", "迁移以后的新电影", NULL, NULL);
		json_t *r = client_call(w->conn[0], search_req("新电影"));

		CHECK(json_array_size(json_object_get(r, "messages")) == 1 &&
		      jint(json_array_get(json_object_get(r, "messages"), 0), "id", -1) == id,
		      "a new message after the migration: %s", jdump(r));
		json_decref(r);
	}
}

/* Searches take request tokens: past the burst, rate_limited with retry_after_ms. */
static void test_rate_limit(void)
{
	static const char *const args[] = { "--req-burst", "3", "--req-rate", "0.01", NULL };
	struct pierd *p = pierd_start(args);
	char name[HARNESS_NAME_MAX];
	struct pier_conn *c;
	json_t *r;

	if (p == NULL)
		return;
	c = client_new_user(p, "srate", name);
	if (c != NULL) {
		for (int i = 0; i < 3; i++) {
			r = client_call(c, search_req("电影"));
			CHECK(is_op(r, "search"), "search %d within the burst: %s", i, jdump(r));
			json_decref(r);
		}
		r = client_call(c, search_req("电影"));
		CHECK(is_error(r, "rate_limited") && jint(r, "retry_after_ms", 0) > 0,
		      "the 4th search: %s", jdump(r));
		json_decref(r);
		r = client_call(c, search_req(""));
		CHECK(is_error(r, "rate_limited"), "the limit comes before the checks: %s", jdump(r));
		json_decref(r);
		pier_conn_close(c);
	}
	pierd_stop(p);
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	struct world w;
	json_error_t jerr;

	harness_watchdog(240);
	memset(&w, 0, sizeof(w));
	w.corpus = json_load_file(SEARCH_CORPUS, 0, &jerr);
	if (!CHECK(w.corpus != NULL, "the corpus %s: %s", SEARCH_CORPUS, jerr.text))
		return harness_done();
	w.p = pierd_start(args);
	if (w.p == NULL)
		return harness_done();
	for (int k = 0; k < 3; k++) {
		char prefix[8];

		snprintf(prefix, sizeof(prefix), "s%c", 'a' + k);
		w.conn[k] = client_new_user(w.p, prefix, w.name[k]);
	}
	if (w.conn[0] != NULL && w.conn[1] != NULL && w.conn[2] != NULL && store_corpus(&w)) {
		run_queries(&w, "stored live");
		test_refusals(&w);
		test_no_injection(&w);
		test_with(&w);
		test_paging(&w);
		test_changes(&w);
		test_migration(&w);
	}
	for (int k = 0; k < 3; k++)
		pier_conn_close(w.conn[k]);
	pierd_stop(w.p);
	test_rate_limit();
	json_decref(w.corpus);
	return harness_done();
}
