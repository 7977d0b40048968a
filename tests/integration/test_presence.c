/* test_presence.c - integration: who gets presence. By default contacts only: a login with
 * many strangers online tells none of them and lists none of them (a partial users event with
 * the total), while its private-chat partner and its room-mate hear it, and the paged users
 * request still lists everyone. With --presence-limit N, everyone while at most N are online
 * (the all-presence mode), contacts only past N; paging through the users online. */
#include <string.h>

#include "harness.h"

static const char *const args[] = {"--no-rate-limits", "--presence-limit", "2", NULL};

#define STRANGERS 30

static bool has_name(const json_t *list, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

static size_t presence_of(struct pier_conn *c, const char *user)
{
	json_t *events = client_events(c);
	size_t n = events ? count_op(events, "presence", "user", user) : 0;

	json_decref(events);
	return n;
}

/* Every name online, by paging with the users request (limit per page). */
static size_t count_all_online(struct pier_conn *c, int limit, json_int_t *total)
{
	char after[HARNESS_NAME_MAX + 1] = "";
	size_t seen = 0;
	bool more = true;

	for (int pages = 0; more && pages < 100; pages++) {
		json_t *req = pier_req_users(), *page;

		json_object_set_new(req, "limit", json_integer(limit));
		if (after[0] != '\0')
			json_object_set_new(req, "after", json_string(after));
		page = client_call(c, req);
		if (!CHECK(page != NULL && json_is_array(json_object_get(page, "online")),
		           "a users page: %s", jdump(page))) {
			json_decref(page);
			break;
		}
		json_t *online = json_object_get(page, "online");
		const char *last = json_string_value(json_array_get(online, json_array_size(online) - 1));

		seen += json_array_size(online);
		more = jtrue(page, "more");
		*total = jint(page, "total", -1);
		snprintf(after, sizeof(after), "%s", last != NULL ? last : "");
		json_decref(page);
	}
	return seen;
}

/* The default (--presence-limit 0): a login with STRANGERS strangers online. */
static void test_contacts_only(void)
{
	static const char *const dargs[] = {"--no-rate-limits", NULL};
	struct pierd *p = pierd_start(dargs);
	struct pier_conn *strangers[STRANGERS], *cpart, *cmate, *cn, *reg;
	char sn[HARNESS_NAME_MAX], part[HARNESS_NAME_MAX], mate[HARNESS_NAME_MAX];
	char n[HARNESS_NAME_MAX], to[HARNESS_NAME_MAX + 1];
	json_t *r, *users;
	json_int_t total = 0;
	size_t heard = 0;

	REQUIRE(p != NULL, , "pierd starts (default presence)");
	memset(strangers, 0, sizeof(strangers));
	for (int i = 0; i < STRANGERS; i++)
		strangers[i] = client_new_user(p, "ps", sn);
	cpart = client_new_user(p, "pp", part);
	cmate = client_new_user(p, "pm", mate);
	harness_user(n, "pn");
	reg = client_connect(p);
	REQUIRE(cpart && cmate && reg, , "partner, room-mate online");
	CHECK(client_register(reg, n, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register n");
	pier_conn_close(reg);
	/* n's contacts, made while n is offline: a private message, a shared room. */
	snprintf(to, sizeof(to), "@%s", n);
	CHECK(client_send(cpart, to, "hello n", NULL, NULL) > 0, "the partner writes to n");
	r = client_call(cmate, pier_req_join("#pshared"));
	json_decref(r);
	for (int i = 0; i < STRANGERS; i++)
		if (strangers[i] != NULL)
			client_drain(strangers[i]);
	client_drain(cpart);
	client_drain(cmate);

	cn = client_connect(p);
	REQUIRE(cn != NULL, , "connect n");
	r = client_call(cn, pier_req_login(n, HARNESS_PASSWORD));
	CHECK(r != NULL && jint(r, "status", 99) == 1, "n logs in: %s", jdump(r));
	json_decref(r);
	users = client_wait_op(cn, "users");
	if (users != NULL) {
		json_t *online = json_object_get(users, "online");

		CHECK(jtrue(users, "partial") && jint(users, "total", 0) == STRANGERS + 3,
		      "the login's users event is partial, with the total: %s", jdump(users));
		CHECK(json_array_size(online) == 2 && has_name(online, n) && has_name(online, part),
		      "it lists n and its partner, no stranger: %s", jdump(users));
	}
	json_decref(users);
	r = client_call(cn, pier_req_join("#pshared"));
	json_decref(r);
	CHECK(presence_of(cpart, n) == 1, "the partner hears n come online");
	for (int i = 0; i < STRANGERS; i++)
		if (strangers[i] != NULL)
			heard += presence_of(strangers[i], n);
	CHECK(heard == 0, "none of the %d strangers hears it: %zu presence events", STRANGERS, heard);

	/* Paging (3 a page) still lists everyone online. */
	CHECK(count_all_online(cn, 3, &total) == STRANGERS + 3 && total == STRANGERS + 3,
	      "the users pages list all %d online (total %lld)", STRANGERS + 3, (long long)total);

	/* Now n and mate share #pshared: mate hears n leave; the strangers do not. */
	pier_conn_close(cn);
	r = client_wait_op(cmate, "presence");
	CHECK(r != NULL && strcmp(jstr(r, "user") ? jstr(r, "user") : "", n) == 0 &&
	      !jtrue(r, "online"), "the room-mate hears n go offline: %s", jdump(r));
	json_decref(r);
	CHECK(presence_of(cpart, n) == 1, "and the partner");
	heard = 0;
	for (int i = 0; i < STRANGERS; i++)
		if (strangers[i] != NULL)
			heard += presence_of(strangers[i], n);
	CHECK(heard == 0, "the strangers do not: %zu", heard);

	for (int i = 0; i < STRANGERS; i++)
		pier_conn_close(strangers[i]);
	pier_conn_close(cpart);
	pier_conn_close(cmate);
	CHECK(pierd_stop(p), "clean stop (default presence)");
}

/* --presence-limit 10 with 3 online: everyone's presence and the whole list at login. */
static void test_all_presence(void)
{
	static const char *const aargs[] = {"--no-rate-limits", "--presence-limit", "10", NULL};
	struct pierd *p = pierd_start(aargs);
	struct pier_conn *ca, *cb, *cc;
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX];
	json_t *users;

	REQUIRE(p != NULL, , "pierd starts (all presence)");
	ca = client_new_user(p, "qa", a);
	cb = client_new_user(p, "qb", b);
	REQUIRE(ca && cb, , "a, b online");
	client_drain(ca);
	client_drain(cb);
	cc = client_connect(p);
	REQUIRE(cc != NULL, , "connect c");
	harness_user(c, "qc");
	CHECK(client_register(cc, c, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register c");
	json_decref(client_call(cc, pier_req_login(c, HARNESS_PASSWORD)));
	users = client_wait_op(cc, "users");
	CHECK(users != NULL && !jtrue(users, "partial") &&
	      json_array_size(json_object_get(users, "online")) == 3,
	      "within the limit the login lists everyone online: %s", jdump(users));
	json_decref(users);
	CHECK(presence_of(ca, c) == 1 && presence_of(cb, c) == 1,
	      "strangers hear c come online within the limit");
	pier_conn_close(ca);
	pier_conn_close(cb);
	pier_conn_close(cc);
	CHECK(pierd_stop(p), "clean stop (all presence)");
}

int main(void)
{
	struct pierd *p;
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX], d[HARNESS_NAME_MAX];
	struct pier_conn *ca, *cb, *cd, *cc, *reg;
	json_t *r, *users;

	harness_watchdog(120);
	test_contacts_only();
	test_all_presence();
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");

	/* c has a private conversation with a (while c is offline); a and b share #x. */
	harness_user(c, "pc");
	reg = client_connect(p);
	REQUIRE(reg != NULL, harness_done(), "connect");
	CHECK(client_register(reg, c, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register c");
	pier_conn_close(reg);
	ca = client_new_user(p, "pa", a);
	cb = client_new_user(p, "pb", b);
	cd = client_new_user(p, "pd", d);
	REQUIRE(ca && cb && cd, harness_done(), "a, b, d online");
	{
		char to[HARNESS_NAME_MAX + 1];

		snprintf(to, sizeof(to), "@%s", c);
		CHECK(client_send(ca, to, "hello c", NULL, NULL) > 0, "a writes to c");
	}
	r = client_call(ca, pier_req_join("#x"));
	json_decref(r);
	r = client_call(cb, pier_req_join("#x"));
	json_decref(r);
	client_drain(ca);
	client_drain(cb);
	client_drain(cd);

	/* Four online, past the limit of 2: c's presence reaches a (contact) only. */
	cc = client_connect(p);
	REQUIRE(cc != NULL, harness_done(), "connect c");
	r = client_call(cc, pier_req_login(c, HARNESS_PASSWORD));
	CHECK(r != NULL && jint(r, "status", 99) == 1, "c logs in: %s", jdump(r));
	json_decref(r);
	users = client_wait_op(cc, "users");
	if (users != NULL) {
		json_t *online = json_object_get(users, "online");

		CHECK(jtrue(users, "partial") && jint(users, "total", 0) == 4,
		      "past the limit the users event is partial, with the total: %s", jdump(users));
		CHECK(json_array_size(online) == 2 && has_name(online, c) && has_name(online, a),
		      "it lists c and its contact a: %s", jdump(users));
	}
	json_decref(users);
	CHECK(presence_of(ca, c) == 1, "a (a contact) sees c come online");
	CHECK(presence_of(cb, c) == 0, "b (no contact) does not");
	CHECK(presence_of(cd, c) == 0, "d (no contact) does not");

	/* b leaves: a shares #x with b and hears it; d does not. */
	pier_conn_close(cb);
	r = client_wait_op(ca, "presence");
	CHECK(r != NULL && strcmp(jstr(r, "user") ? jstr(r, "user") : "", b) == 0 &&
	      !jtrue(r, "online"), "a sees b (a room-mate) go offline: %s", jdump(r));
	json_decref(r);
	CHECK(presence_of(cd, b) == 0, "d does not");

	/* Paging through everyone online: a, c, d (by name). */
	{
		json_t *req = pier_req_users(), *page;
		size_t seen = 0;

		json_object_set_new(req, "limit", json_integer(2));
		page = client_call(cd, req);
		CHECK(page != NULL && json_array_size(json_object_get(page, "online")) == 2 &&
		      jtrue(page, "more") && jint(page, "total", 0) == 3, "first page: %s", jdump(page));
		if (page != NULL) {
			json_t *online = json_object_get(page, "online");
			const char *last = json_string_value(json_array_get(online, 1));

			seen += json_array_size(online);
			req = pier_req_users();
			json_object_set_new(req, "after", json_string(last ? last : ""));
			json_object_set_new(req, "limit", json_integer(2));
			json_decref(page);
			page = client_call(cd, req);
			CHECK(page != NULL && json_array_size(json_object_get(page, "online")) == 1 &&
			      !jtrue(page, "more"), "second page: %s", jdump(page));
			if (page != NULL)
				seen += json_array_size(json_object_get(page, "online"));
		}
		json_decref(page);
		CHECK(seen == 3, "pages cover everyone online once: %zu", seen);
	}

	pier_conn_close(ca);
	pier_conn_close(cc);
	pier_conn_close(cd);
	CHECK(pierd_stop(p), "clean stop");
	return harness_done();
}
