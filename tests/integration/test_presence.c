/* test_presence.c - integration: the presence rule past --presence-limit (contacts only),
 * the partial users event at login, and paging through the users online. */
#include <string.h>

#include "harness.h"

static const char *const args[] = {"--no-rate-limits", "--presence-limit", "2", NULL};

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

int main(void)
{
	struct pierd *p;
	char a[HARNESS_NAME_MAX], b[HARNESS_NAME_MAX], c[HARNESS_NAME_MAX], d[HARNESS_NAME_MAX];
	struct pier_conn *ca, *cb, *cd, *cc, *reg;
	json_t *r, *users;

	harness_watchdog(60);
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
