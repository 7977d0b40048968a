/* test_fastreq_wire.c - integration: a send (plain or encrypted) or ping the decoder without a
 * tree takes (fastreq.c) is answered on the wire exactly as the same request through jansson. Every case
 * is sent twice with one ref: as the hot shape, and with an extra member "x" that makes
 * fastreq decline; the two replies must be equal but for the new message's id and ts, and a
 * message sent must reach the peer with the text jansson would decode (an encrypted one: the
 * envelope with the payload and body sent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "e2eetest.h"
#include "harness.h"

struct world {
	struct pierd *p;
	struct pier_conn *a, *b, *anon;
	char ua[HARNESS_NAME_MAX], ub[HARNESS_NAME_MAX];
	int n;                       /* refs made */
};

/* The first event on c carrying ref (others dropped), or NULL on timeout. */
static json_t *reply_for(struct pier_conn *c, const char *ref)
{
	int64_t deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;

	while (pier_mono_ms() < deadline) {
		json_t *ev = pier_conn_next(c, (int)(deadline - pier_mono_ms()));
		const char *r = jstr(ev, "ref");

		if (ev == NULL)
			return NULL;
		if (r != NULL && strcmp(r, ref) == 0)
			return ev;
		json_decref(ev);
	}
	return NULL;
}

/* Sends "{<members>,\"ref\":ref<extra>}\n" on c and returns the reply to it. */
static json_t *ask(struct pier_conn *c, const char *members, const char *ref, const char *extra)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "{%s,\"ref\":\"%s\"%s}\n", members, ref, extra);

	if (n < 0 || (size_t)n >= sizeof(line) || pier_conn_send_raw(c, line, (size_t)n) != 0)
		return NULL;
	return reply_for(c, ref);
}

/* members sent on c both ways; the replies must agree and be of op (with error code when
 * op is "error"). Returns the fast reply's id (sent) or 0. */
static int64_t both_ways(struct world *w, struct pier_conn *c, const char *members,
                         const char *op, const char *code)
{
	char ref[32];
	json_t *fast, *tree;
	int64_t id = 0;

	snprintf(ref, sizeof(ref), "w%d", w->n++);
	fast = ask(c, members, ref, "");
	tree = ask(c, members, ref, ",\"x\":0");
	CHECK(is_op(fast, op) && (code == NULL || is_error(fast, code)), "%s: want %s %s, got %s",
	      members, op, code != NULL ? code : "", jdump(fast));
	if (fast != NULL && tree != NULL) {
		id = jint(fast, "id", 0);
		json_object_del(fast, "id");
		json_object_del(fast, "ts");
		json_object_del(tree, "id");
		json_object_del(tree, "ts");
		/* The second of two sends with one cid is its duplicate: the first's id. */
		json_object_del(tree, "duplicate");
		if (!CHECK(json_equal(fast, tree), "%s: the fast path's reply %s", members, jdump(fast)))
			CHECK(false, "%s: differs from jansson's %s", members, jdump(tree));
	} else {
		CHECK(false, "%s: both replies (fast %s, tree %s)", members, fast ? "yes" : "no",
		      tree ? "yes" : "no");
	}
	json_decref(fast);
	json_decref(tree);
	return id;
}

/* b gets two messages with text (the fast and the tree send). */
static void peer_gets(struct world *w, const char *text)
{
	for (int i = 0; i < 2; i++) {
		json_t *m = client_wait_msg(w->b, text);

		CHECK(m != NULL, "b gets \"%s\" (%d of 2)", text, i + 1);
		json_decref(m);
	}
}

static void test_sends(struct world *w)
{
	char members[512], to_b[HARNESS_NAME_MAX + 1];
	int64_t id;

	snprintf(to_b, sizeof(to_b), "@%s", w->ub);
#define TO_B(fmt, ...) (snprintf(members, sizeof(members), "\"op\":\"send\",\"to\":\"%s\"" fmt, \
                                 to_b, __VA_ARGS__), members)

	id = both_ways(w, w->a, TO_B(",\"text\":\"%s\"", "plain ascii"), "sent", NULL);
	peer_gets(w, "plain ascii");
	both_ways(w, w->a, TO_B(",\"text\":\"%s\"", "你好，世界 😀"), "sent", NULL);
	peer_gets(w, "你好，世界 😀");
	both_ways(w, w->a, TO_B(",\"text\":\"%s\"", "\\u4f60\\u597d \\ud83d\\ude00 \\\"q\\\" \\/"),
	          "sent", NULL);
	peer_gets(w, "你好 😀 \"q\" /");
	both_ways(w, w->a, TO_B(",\"text\":\"%s\",\"reply_to\":%lld", "a reply", (long long)id),
	          "sent", NULL);
	peer_gets(w, "a reply");
	both_ways(w, w->a, TO_B(",\"cid\":\"%s\",\"text\":\"with a cid\"", "cid-1"), "sent", NULL);

	both_ways(w, w->a, TO_B(",\"text\":\"%s\"", ""), "error", "empty_message");
	both_ways(w, w->a, TO_B("%s", ""), "error", "bad_request");
	both_ways(w, w->a, TO_B(",\"text\":\"a\",\"cid\":\"%s\"", ""), "error", "bad_request");
	both_ways(w, w->a, TO_B(",\"text\":\"a\",\"cid\":\"%065d\"", 0), "error", "bad_request");
	both_ways(w, w->a, TO_B(",\"text\":\"a\",\"reply_to\":%s", "999999999"), "error",
	          "no_such_message");
	both_ways(w, w->a, "\"op\":\"send\",\"to\":\"nobody\",\"text\":\"a\"", "error", "bad_target");
	both_ways(w, w->a, "\"op\":\"send\",\"to\":\"#no_such_room_x\",\"text\":\"a\"", "error",
	          "no_such_room");
	both_ways(w, w->a, "\"op\":\"send\",\"to\":\"#bad room\",\"text\":\"a\"", "error", "bad_room");
	both_ways(w, w->a, "\"op\":\"send\",\"to\":\"@no_such_user_x\",\"text\":\"a\"", "error",
	          "no_such_user");
	both_ways(w, w->a, "\"op\":\"send\",\"text\":\"a\"", "error", "bad_request");
	both_ways(w, w->anon, TO_B(",\"text\":\"%s\"", "before login"), "error", "not_logged_in");
#undef TO_B
}

/* Two users with one device each, lists published: a1 sends to bob's b1. */
struct e2ee_world {
	char alice[HARNESS_NAME_MAX], bob[HARNESS_NAME_MAX];
	struct tdev a1, b1;
	struct tacct ak, bk;
};

static bool e2ee_setup(struct world *w, struct e2ee_world *e)
{
	struct tdev *one[1];

	harness_user(e->alice, "fqa");
	harness_user(e->bob, "fqb");
	if (!t_register(w->p, e->alice) || !t_register(w->p, e->bob))
		return false;
	t_dev_init(&e->a1, e->alice, "a1");
	t_dev_init(&e->b1, e->bob, "b1");
	t_acct_init(&e->ak, e->alice);
	t_acct_init(&e->bk, e->bob);
	if (!t_dev_register(w->p, &e->a1, 4) || !t_dev_register(w->p, &e->b1, 4))
		return false;
	one[0] = &e->a1;
	if (!t_publish(e->a1.s.c, &e->ak, one, 1))
		return false;
	one[0] = &e->b1;
	if (!t_publish(e->b1.s.c, &e->bk, one, 1))
		return false;
	client_drain(e->a1.s.c);
	client_drain(e->b1.s.c);
	return true;
}

/* b1 gets n envelopes (the fast and the tree send, or one for a cid's duplicate) with
 * payload and body. */
static void b1_gets(struct e2ee_world *e, size_t n, const char *payload, const char *body)
{
	json_t *envs = json_array();
	size_t i;
	json_t *v;

	if (t_collect_envelopes(e->b1.s.c, n, envs)) {
		json_array_foreach(envs, i, v) {
			CHECK(t_streq(jstr(v, "payload"), payload) && t_streq(jstr(v, "body"), body),
			      "envelope %zu: payload and body as sent: %s", i, jdump(v));
		}
	}
	json_decref(envs);
}

static void test_e2ee(struct world *w)
{
	struct e2ee_world e;
	char members[1536], other[T_ID_TEXT], to_bob[HARNESS_NAME_MAX + 1];
	unsigned char rnd[16] = {1, 2, 3};
	char *payload = t_random_b64(120), *body = t_random_b64(96);
	int64_t id;

	memset(&e, 0, sizeof(e));
	if (!CHECK(e2ee_setup(w, &e), "e2ee: devices set up"))
		goto out;
	snprintf(to_bob, sizeof(to_bob), "@%s", e.bob);
	t_b64(other, sizeof(other), rnd, sizeof(rnd));
#define E2EE(to, pl, dev, bd, fmt, ...) (snprintf(members, sizeof(members), \
	"\"op\":\"send\",\"to\":\"%s\",\"e2ee\":{\"payload\":\"%s\",\"keys\":[{\"device\":\"%s\"," \
	"\"body\":\"%s\"}]}" fmt, to, pl, dev, bd, __VA_ARGS__), members)

	id = both_ways(w, e.a1.s.c, E2EE(to_bob, payload, e.b1.id64, body, "%s", ""), "sent", NULL);
	b1_gets(&e, 2, payload, body);
	both_ways(w, e.a1.s.c, E2EE(to_bob, payload, e.b1.id64, body, ",\"cid\":\"%s\"", "e-1"),
	          "sent", NULL);
	b1_gets(&e, 1, payload, body);
	both_ways(w, e.a1.s.c, E2EE(to_bob, payload, e.b1.id64, body, ",\"reply_to\":%lld",
	                            (long long)id), "sent", NULL);
	b1_gets(&e, 2, payload, body);
	/* Escapes in the base64url ("\/" is '/': not base64url) and the id. */
	both_ways(w, e.a1.s.c, E2EE(to_bob, "\\u0041\\u0041", e.b1.id64, body, "%s", ""), "sent", NULL);
	b1_gets(&e, 2, "AA", body);
	both_ways(w, e.a1.s.c, E2EE(to_bob, "QQ\\/", e.b1.id64, body, "%s", ""), "error",
	          "bad_envelope");

	both_ways(w, e.a1.s.c, E2EE(to_bob, payload, other, body, "%s", ""), "error",
	          "devices_changed");
	both_ways(w, e.a1.s.c, E2EE(to_bob, payload, "abc", body, "%s", ""), "error", "bad_envelope");
	both_ways(w, e.a1.s.c, E2EE(to_bob, payload, e.b1.id64, "!!", "%s", ""), "error",
	          "bad_envelope");
	both_ways(w, e.a1.s.c, E2EE(to_bob, "", e.b1.id64, body, "%s", ""), "error", "bad_envelope");
	both_ways(w, e.a1.s.c, E2EE(to_bob, payload, e.b1.id64, body, ",\"media\":%s", "999999"),
	          "error", "no_such_media");
	both_ways(w, e.a1.s.c, E2EE(to_bob, payload, e.b1.id64, body, ",\"reply_to\":%s",
	                            "999999999"), "error", "no_such_message");
	both_ways(w, e.a1.s.c, E2EE(to_bob, payload, e.b1.id64, body, ",\"cid\":\"%s\"", ""),
	          "error", "bad_request");
	both_ways(w, e.a1.s.c, E2EE("#lobby", payload, e.b1.id64, body, "%s", ""), "error",
	          "bad_target");
	both_ways(w, e.a1.s.c, E2EE("@no_such_user_x", payload, e.b1.id64, body, "%s", ""), "error",
	          "no_such_user");
	both_ways(w, w->a, E2EE(to_bob, payload, e.b1.id64, body, "%s", ""), "error", "no_device");
	both_ways(w, w->anon, E2EE(to_bob, payload, e.b1.id64, body, "%s", ""), "error",
	          "not_logged_in");
	snprintf(members, sizeof(members), "\"op\":\"send\",\"to\":\"%s\",\"e2ee\":{\"payload\":\"%s\"}",
	         to_bob, payload);
	both_ways(w, e.a1.s.c, members, "error", "bad_envelope");
	snprintf(members, sizeof(members), "\"op\":\"send\",\"to\":\"%s\",\"e2ee\":{\"payload\":\"%s\","
	         "\"keys\":[{\"device\":\"%s\",\"body\":\"%s\"},{\"device\":\"%s\",\"body\":\"%s\"}]}",
	         to_bob, payload, e.b1.id64, body, e.b1.id64, body);
	both_ways(w, e.a1.s.c, members, "error", "bad_envelope");
	snprintf(members, sizeof(members), "\"op\":\"send\",\"e2ee\":{\"keys\":[{\"device\":\"%s\"}]}",
	         e.b1.id64);
	both_ways(w, e.a1.s.c, members, "error", "bad_request");
#undef E2EE
out:
	t_dev_close(&e.a1);
	t_dev_close(&e.b1);
	free(payload);
	free(body);
}

static void test_ping(struct world *w)
{
	both_ways(w, w->a, "\"op\":\"ping\"", "pong", NULL);
	both_ways(w, w->anon, "\"op\":\"ping\"", "pong", NULL);
}

int main(void)
{
	static const char *const args[] = {"--no-rate-limits", NULL};
	struct world w;

	memset(&w, 0, sizeof(w));
	harness_watchdog(120);
	w.p = pierd_start(args);
	REQUIRE(w.p != NULL, harness_done(), "pierd starts");
	w.a = client_new_user(w.p, "fastreq_a", w.ua);
	w.b = client_new_user(w.p, "fastreq_b", w.ub);
	w.anon = client_connect(w.p);
	if (CHECK(w.a != NULL && w.b != NULL && w.anon != NULL, "clients connect")) {
		test_sends(&w);
		test_e2ee(&w);
		test_ping(&w);
	}
	pier_conn_close(w.a);
	pier_conn_close(w.b);
	pier_conn_close(w.anon);
	CHECK(pierd_stop(w.p), "pierd stops cleanly (exit 0, no sanitizer report)");
	return harness_done();
}
