/* test_cid_target.c - adversarial: a cid already stored, sent again to another target. The
 * server must not claim a message stored where none is: the answer is cid_conflict, the other
 * target receives nothing and its history stays empty. The same cid to the same target is
 * still the original's "sent" with "duplicate":true and the original target. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(void)
{
	char alice[HARNESS_NAME_MAX], bob[HARNESS_NAME_MAX], to_bob[HARNESS_NAME_MAX + 1];
	struct pier_conn *a, *b;
	struct pierd *p;
	json_t *r, *ev;
	int64_t id;

	harness_watchdog(50);
	p = pierd_start(NULL);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	a = client_new_user(p, "cida", alice);
	b = client_new_user(p, "cidb", bob);
	REQUIRE(a != NULL && b != NULL, harness_done(), "users log in");
	snprintf(to_bob, sizeof(to_bob), "@%s", bob);
	client_drain(b);

	id = client_send(a, "#lobby", "first", "cid-1", NULL);
	REQUIRE(id > 0, harness_done(), "the original is stored");
	ev = client_wait_msg(b, "first");
	CHECK(ev != NULL, "bob sees it in #lobby");
	json_decref(ev);

	/* The same cid to another target: refused, nothing stored there. */
	r = client_call(a, json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", to_bob, "text",
	                             "second", "cid", "cid-1"));
	CHECK(r != NULL && is_error(r, "cid_conflict"), "cid reused for @bob: cid_conflict (%s)",
	      jdump(r));
	CHECK(r == NULL || jint(r, "id", 0) == 0, "no id is claimed");
	json_decref(r);
	ev = client_events(b);
	CHECK(ev != NULL && count_op(ev, "msg", NULL, NULL) == 0, "bob receives nothing (%s)",
	      jdump(ev));
	json_decref(ev);
	r = client_call(a, json_pack("{s:s, s:s}", "op", "history", "with", to_bob));
	CHECK(r != NULL && json_array_size(json_object_get(r, "messages")) == 0,
	      "nothing is stored with @bob (%s)", jdump(r));
	json_decref(r);

	/* The same cid to the same target: the original, as before. */
	r = client_call(a, json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", "#lobby", "text",
	                             "first", "cid", "cid-1"));
	CHECK(r != NULL && is_op(r, "sent") && jint(r, "id", 0) == id && jtrue(r, "duplicate") &&
	      jstr(r, "to") != NULL && strcmp(jstr(r, "to"), "#lobby") == 0,
	      "a resend to the same target is the original (%s)", jdump(r));
	json_decref(r);

	/* A private original, resent to a room: refused as well. */
	id = client_send(a, to_bob, "private", "cid-2", NULL);
	CHECK(id > 0, "a private original");
	r = client_call(a, json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", "#lobby", "text",
	                             "private", "cid", "cid-2"));
	CHECK(r != NULL && is_error(r, "cid_conflict"), "cid reused for #lobby: cid_conflict (%s)",
	      jdump(r));
	json_decref(r);

	pier_conn_close(a);
	pier_conn_close(b);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
