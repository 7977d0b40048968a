/* test_cluster_codec.c - the bus's payloads (src/server/cluster/cluster_codec.c): every kind
 * round-trips, and every field a hostile node could bend is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_codec.h"
#include "tap.h"

static const struct cluster_limits lim = { .max_text = 4096 };

static struct store_msg sample(void)
{
	struct store_msg m = {
		.id = 42, .ts = 1700000000000, .from = "alice_1", .to = "#Lobby2",
		.text = "hello @bob_22 你好", .mentions = "[\"bob_22\"]",
		.reply_to = 40, .quote_from = "bob_22", .quote_text = "earlier", .quote_cut = true,
		.kind = "image", .media_id = 7, .media_name = "cat.png", .media_type = "image/png",
		.media_size = 1234, .media_width = 10, .media_height = 20, .changed = 3,
		.reactions = "[{\"emoji\":\"👍\",\"count\":2,\"users\":[\"bob_22\",\"carol_3\"],"
		             "\"mine\":true}]",
		.mentioned = true,
	};
	return m;
}

/* Decodes the JSON text s as a msg payload: 0 or -1. */
static int decode_msg_text(const char *s)
{
	char node[CLUSTER_NODE_MAX + 1];
	struct store_msg m;
	int rc = cluster_decode_msg(s, strlen(s), &lim, node, &m);

	store_msg_release(&m);
	return rc;
}

static void test_msg_roundtrip(void)
{
	struct store_msg in = sample(), out;
	char node[CLUSTER_NODE_MAX + 1];
	size_t len;
	char *bytes = cluster_encode_msg("node-a.1", &in, &len);

	REQUIRE(cluster_decode_msg(bytes, len, &lim, node, &out) == 0, , "msg decodes: %s", bytes);
	CHECK(strcmp(node, "node-a.1") == 0, "node kept");
	CHECK(out.id == 42 && out.ts == 1700000000000, "id, ts");
	CHECK(strcmp(out.from, "alice_1") == 0 && strcmp(out.to, "#Lobby2") == 0, "from, to");
	CHECK(strcmp(out.text, in.text) == 0, "text (UTF-8) kept");
	CHECK(strcmp(out.mentions, "[\"bob_22\"]") == 0, "mentions: %s", out.mentions);
	CHECK(out.reply_to == 40 && strcmp(out.quote_from, "bob_22") == 0 &&
	      strcmp(out.quote_text, "earlier") == 0 && out.quote_cut && !out.quote_recalled,
	      "quote kept");
	CHECK(out.media_id == 7 && strcmp(out.media_name, "cat.png") == 0 &&
	      strcmp(out.media_type, "image/png") == 0 && out.media_size == 1234 &&
	      out.media_width == 10 && out.media_height == 20 && strcmp(out.kind, "image") == 0,
	      "media kept");
	CHECK(out.changed == 3 && !out.e2ee, "changed");
	CHECK(out.reactions != NULL && strstr(out.reactions, "mine") == NULL &&
	      strstr(out.reactions, "carol_3") != NULL, "reactions kept, the reader's 'mine' not: %s",
	      out.reactions);
	CHECK(!out.mentioned, "the reader's mentioned flag does not travel");
	store_msg_release(&out);
	free(bytes);

	/* a plain private message, and a copy */
	struct store_msg p = { .id = 9, .ts = 5, .from = "alice_1", .to = "@bob_22", .text = "hi" };
	struct store_msg c;

	cluster_msg_copy(&c, &p);
	bytes = cluster_encode_msg("n1", &c, &len);
	store_msg_release(&c);
	CHECK(cluster_decode_msg(bytes, len, &lim, node, &out) == 0 && out.kind == NULL &&
	      out.media_id == 0 && out.reply_to == 0 && out.mentions == NULL, "plain private msg");
	store_msg_release(&out);
	free(bytes);
}

static void test_msg_refusals(void)
{
	char big[8192];

	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\"}}") == 0, "a minimal message is fine");
	CHECK(decode_msg_text("") != 0, "empty bytes");
	CHECK(decode_msg_text("[1]") != 0, "not an object");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\"},\"node\":\"m\"}") != 0,
	      "duplicate keys");
	CHECK(decode_msg_text("{\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\",\"to\":\"#r\","
	                      "\"text\":\"x\"}}") != 0, "no node");
	CHECK(decode_msg_text("{\"node\":\"a b\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\"}}") != 0, "bad node name");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":0,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\"}}") != 0, "id 0");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":\"1\",\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\"}}") != 0, "id as a string");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":-1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\"}}") != 0, "negative ts");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"al\","
	                      "\"to\":\"#r\",\"text\":\"x\"}}") != 0, "short sender name");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice\\u0000xx\","
	                      "\"to\":\"#r\",\"text\":\"x\"}}") != 0, "NUL in a name");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"r\",\"text\":\"x\"}}") != 0, "target without # or @");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r/x\",\"text\":\"x\"}}") != 0, "bad room");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\\u0000y\"}}") != 0, "NUL in text");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"kind\":\"exe\",\"media\":{\"id\":1,"
	                      "\"name\":\"a\",\"type\":\"b\",\"size\":1}}}") != 0, "bad kind");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"kind\":\"file\"}}") != 0,
	      "kind without media");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"media\":{\"id\":1,\"name\":\"a\","
	                      "\"type\":\"b\",\"size\":-5}}}") != 0, "negative media size");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":5,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"reply_to\":3}}") != 0,
	      "reply without quote");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":5,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"reply_to\":3,\"quote\":{\"id\":4}}}") != 0,
	      "quote of another id");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":5,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"reply_to\":5,\"quote\":{\"id\":5}}}") != 0,
	      "a reply to itself");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"mentions\":[\"x\"]}}") != 0,
	      "a mention that is no name");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"@bob_22\",\"text\":\"x\",\"mentions\":[\"carol_3\"]}}") != 0,
	      "mentions in a private message");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"@bob_22\",\"text\":\"secret\",\"e2ee\":true}}") != 0,
	      "text in an encrypted message");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"reactions\":[{\"emoji\":\"a b\","
	                      "\"count\":1,\"users\":[]}]}}") != 0, "a reaction with a space");
	CHECK(decode_msg_text("{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	                      "\"to\":\"#r\",\"text\":\"x\",\"e2ee\":1}}") != 0, "e2ee not a boolean");

	/* text over the node's limit */
	memset(big, 'a', sizeof(big));
	snprintf(big, sizeof(big), "{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	         "\"to\":\"#r\",\"text\":\"%0*d\"}}", 5000, 0);
	CHECK(decode_msg_text(big) != 0, "text over max_text");
	snprintf(big, sizeof(big), "{\"node\":\"n\",\"msg\":{\"id\":1,\"ts\":1,\"from\":\"alice_1\","
	         "\"to\":\"#r\",\"text\":\"%0*d\"}}", 4096, 0);
	CHECK(decode_msg_text(big) == 0, "text at max_text");
}

static void test_change(void)
{
	struct cluster_change in = { .op = CLUSTER_REACTION, .msg = sample(), .user = "carol_3",
	                             .emoji = "👍", .on = true, .count = 2 }, out;
	char node[CLUSTER_NODE_MAX + 1];
	size_t len;
	char *bytes = cluster_encode_change("n1", &in, &len);

	CHECK(cluster_decode_change(bytes, len, &lim, node, &out) == 0 && out.op == CLUSTER_REACTION &&
	      strcmp(out.user, "carol_3") == 0 && strcmp(out.emoji, "👍") == 0 && out.on &&
	      out.count == 2 && out.msg.id == 42, "reaction round-trips");
	cluster_change_release(&out);
	free(bytes);

	in.op = CLUSTER_RECALLED;
	bytes = cluster_encode_change("n1", &in, &len);
	CHECK(cluster_decode_change(bytes, len, &lim, node, &out) != 0,
	      "a recall of a message not recalled is refused");
	free(bytes);
	in.msg.recalled = 99;
	in.msg.text = "";
	bytes = cluster_encode_change("n1", &in, &len);
	CHECK(cluster_decode_change(bytes, len, &lim, node, &out) == 0 && out.op == CLUSTER_RECALLED,
	      "recalled round-trips");
	cluster_change_release(&out);
	free(bytes);

	const char *bad = "{\"node\":\"n\",\"ev\":{\"op\":\"deleted\",\"msg\":{\"id\":1,\"ts\":1,"
	                  "\"from\":\"alice_1\",\"to\":\"#r\",\"text\":\"x\",\"changed\":1}}}";
	CHECK(cluster_decode_change(bad, strlen(bad), &lim, node, &out) != 0, "unknown change op");
}

static void test_env_presence_hb(void)
{
	char node[CLUSTER_NODE_MAX + 1];
	size_t len;
	struct cluster_env e = { .user = "alice_1", .peer = "bob_22", .device = 3, .qid = 77 }, e2;
	struct cluster_presence_msg p = { .user = "alice_1", .online = true }, p2;
	struct cluster_hb hb = { .seq = 5, .users = 2, .digest = UINT64_MAX - 3 }, hb2;
	char *b;

	b = cluster_encode_env("n1", &e, &len);
	CHECK(cluster_decode_env(b, len, node, &e2) == 0 && e2.device == 3 && e2.qid == 77 &&
	      strcmp(e2.user, "alice_1") == 0 && strcmp(e2.peer, "bob_22") == 0, "env");
	free(b);
	const char *dev0 = "{\"node\":\"n\",\"user\":\"alice_1\",\"device\":0,\"qid\":1}";
	const char *nouser = "{\"node\":\"n\",\"device\":1,\"qid\":1}";

	CHECK(cluster_decode_env(dev0, strlen(dev0), node, &e2) != 0, "env device 0");
	CHECK(cluster_decode_env(nouser, strlen(nouser), node, &e2) != 0, "env without user");
	b = cluster_encode_presence("n1", &p, &len);
	CHECK(cluster_decode_presence(b, len, node, &p2) == 0 && p2.online &&
	      strcmp(p2.user, "alice_1") == 0, "presence");
	free(b);
	b = cluster_encode_hb("n1", &hb, &len);
	CHECK(cluster_decode_hb(b, len, node, &hb2) == 0 && hb2.seq == 5 && hb2.users == 2 &&
	      hb2.digest == UINT64_MAX - 3, "heartbeat with a 64-bit digest: %s", b);
	free(b);
	const char *neg = "{\"node\":\"n\",\"seq\":1,\"users\":1,\"digest\":\"-1\"}";
	CHECK(cluster_decode_hb(neg, strlen(neg), node, &hb2) != 0, "negative digest");
	const char *ovf = "{\"node\":\"n\",\"seq\":1,\"users\":1,\"digest\":\"99999999999999999999\"}";
	CHECK(cluster_decode_hb(ovf, strlen(ovf), node, &hb2) != 0 || hb2.digest == UINT64_MAX,
	      "digest past 64 bits");
}

static void test_event_hello(void)
{
	char node[CLUSTER_NODE_MAX + 1];
	size_t len, n;
	struct cluster_event ev = { .op = CLUSTER_EV_TOPIC, .user = "alice_1", .target = "#room",
	                            .text = "新话题", .ts = 10 }, out;
	const char *names[] = { "alice_1", "bob_22" };
	char **got;
	char *b = cluster_encode_event("n1", &ev, &len);

	CHECK(cluster_decode_event(b, len, &lim, node, &out) == 0 && out.op == CLUSTER_EV_TOPIC &&
	      strcmp(out.text, "新话题") == 0 && strcmp(out.target, "#room") == 0 && out.ts == 10,
	      "topic event");
	cluster_event_release(&out);
	free(b);

	struct cluster_event bad_member = { .op = CLUSTER_EV_MEMBER, .user = "alice_1",
	                                    .target = "@bob_22" };
	b = cluster_encode_event("n1", &bad_member, &len);
	CHECK(cluster_decode_event(b, len, &lim, node, &out) != 0, "member of a user, not a room");
	free(b);
	struct cluster_event user = { .op = CLUSTER_EV_USER, .user = "dave_44", .id = 12 };
	b = cluster_encode_event("n1", &user, &len);
	CHECK(cluster_decode_event(b, len, &lim, node, &out) == 0 && out.id == 12, "new user");
	cluster_event_release(&out);
	free(b);
	user.id = 0;
	b = cluster_encode_event("n1", &user, &len);
	CHECK(cluster_decode_event(b, len, &lim, node, &out) != 0, "new user without id");
	free(b);

	b = cluster_encode_hello("n1", names, 2, &len);
	CHECK(cluster_decode_hello(b, len, node, &got, &n) == 0 && n == 2 &&
	      strcmp(got[1], "bob_22") == 0, "hello");
	cluster_names_free(got, n);
	free(b);
	const char *badh = "{\"node\":\"n\",\"online\":[\"alice_1\",7]}";
	CHECK(cluster_decode_hello(badh, strlen(badh), node, &got, &n) != 0 && got == NULL,
	      "hello with a number");
	CHECK(cluster_encode_hello("n1", names, CLUSTER_HELLO_MAX + 1, &len) == NULL,
	      "hello past its bound is not encoded");
}

static void test_names(void)
{
	CHECK(cluster_node_name_ok("node-1.example"), "node name");
	CHECK(!cluster_node_name_ok(""), "empty node name");
	CHECK(!cluster_node_name_ok("a*b"), "node name with *");
	CHECK(cluster_name_ok("pier"), "cluster name");
	CHECK(!cluster_name_ok("pier.x"), "a cluster name is one subject token");
	CHECK(!cluster_name_ok(">"), "a wildcard is no cluster name");
}

int main(void)
{
	test_msg_roundtrip();
	test_msg_refusals();
	test_change();
	test_env_presence_hb();
	test_event_hello();
	test_names();
	return tap_done();
}
