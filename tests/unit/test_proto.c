/* test_proto.c - libpier's request builders, pier_event_op and the status/error texts. */
#include <stdlib.h>
#include <string.h>

#include "pier.h"
#include "tap.h"

/* True if obj's key is the string want. */
static bool has_str(const json_t *obj, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v != NULL && strcmp(v, want) == 0;
}

static void test_builders(void)
{
	json_t *r;

	r = pier_req_register("Alice_1", "secret-pw");
	CHECK(has_str(r, "op", "register") && has_str(r, "user", "Alice_1") &&
	      has_str(r, "password", "secret-pw") && json_object_size(r) == 3, "register");
	CHECK(json_object_get(r, "ref") == NULL, "builders add no ref");
	json_decref(r);

	r = pier_req_login("alice_1", "pw-123456");
	CHECK(has_str(r, "op", "login") && has_str(r, "user", "alice_1") &&
	      has_str(r, "password", "pw-123456"), "login");
	json_decref(r);

	r = pier_req_login_token("tok");
	CHECK(has_str(r, "op", "login") && has_str(r, "token", "tok") &&
	      json_object_get(r, "user") == NULL, "login with token");
	json_decref(r);

	r = pier_req_logout();
	CHECK(has_str(r, "op", "logout") && json_object_size(r) == 1, "logout");
	json_decref(r);

	r = pier_req_send("#lobby", "hello", NULL);
	CHECK(has_str(r, "op", "send") && has_str(r, "to", "#lobby") && has_str(r, "text", "hello") &&
	      json_object_get(r, "cid") == NULL, "send without cid");
	json_decref(r);
	r = pier_req_send("@bob_22", "hi", "c-1");
	CHECK(has_str(r, "to", "@bob_22") && has_str(r, "cid", "c-1"), "send with cid");
	json_decref(r);
	r = pier_req_send("#lobby", "bad \xff utf-8", NULL);
	CHECK(r == NULL, "send with invalid UTF-8 gives NULL");
	json_decref(r);

	r = pier_req_join("#dev");
	CHECK(has_str(r, "op", "join") && has_str(r, "room", "#dev"), "join");
	json_decref(r);
	r = pier_req_part("#dev");
	CHECK(has_str(r, "op", "part") && has_str(r, "room", "#dev"), "part");
	json_decref(r);
	r = pier_req_rooms();
	CHECK(has_str(r, "op", "rooms") && json_object_size(r) == 1, "rooms");
	json_decref(r);
	r = pier_req_users();
	CHECK(has_str(r, "op", "users") && json_object_size(r) == 1, "users");
	json_decref(r);
	r = pier_req_ping();
	CHECK(has_str(r, "op", "ping") && json_object_size(r) == 1, "ping");
	json_decref(r);

	r = pier_req_history("#lobby", 0, 0);
	CHECK(has_str(r, "op", "history") && has_str(r, "with", "#lobby") &&
	      json_object_get(r, "before") == NULL && json_object_get(r, "limit") == NULL,
	      "history: newest, server's default limit");
	json_decref(r);
	r = pier_req_history("@bob_22", 120, 50);
	CHECK(json_integer_value(json_object_get(r, "before")) == 120 &&
	      json_integer_value(json_object_get(r, "limit")) == 50, "history with before and limit");
	json_decref(r);

	r = pier_req_sync(118, 200);
	CHECK(has_str(r, "op", "sync") && json_integer_value(json_object_get(r, "after")) == 118 &&
	      json_integer_value(json_object_get(r, "limit")) == 200, "sync");
	json_decref(r);
	r = pier_req_sync(0, 0);
	CHECK(json_is_integer(json_object_get(r, "after")) &&
	      json_integer_value(json_object_get(r, "after")) == 0 &&
	      json_object_get(r, "limit") == NULL, "sync from the start");
	json_decref(r);
	r = pier_req_sync_changes(118, 7, 0);
	CHECK(has_str(r, "op", "sync") && json_integer_value(json_object_get(r, "after")) == 118 &&
	      json_integer_value(json_object_get(r, "changes_after")) == 7 &&
	      json_object_get(r, "limit") == NULL, "sync with changes_after");
	json_decref(r);

	r = pier_req_send_reply("#lobby", "me too", "c-9", 118);
	CHECK(has_str(r, "op", "send") && has_str(r, "text", "me too") && has_str(r, "cid", "c-9") &&
	      json_integer_value(json_object_get(r, "reply_to")) == 118, "send with reply_to");
	json_decref(r);
	r = pier_req_send_reply("#lobby", "plain", NULL, 0);
	CHECK(json_object_get(r, "reply_to") == NULL && json_object_get(r, "cid") == NULL,
	      "send_reply without a quoted message is a plain send");
	json_decref(r);
	r = pier_req_recall(118);
	CHECK(has_str(r, "op", "recall") && json_integer_value(json_object_get(r, "id")) == 118 &&
	      json_object_size(r) == 2, "recall");
	json_decref(r);
	r = pier_req_edit(118, "fixed typo");
	CHECK(has_str(r, "op", "edit") && json_integer_value(json_object_get(r, "id")) == 118 &&
	      has_str(r, "text", "fixed typo"), "edit");
	json_decref(r);
	r = pier_req_react(118, "👍", false);
	CHECK(has_str(r, "op", "react") && has_str(r, "emoji", "👍") &&
	      json_is_false(json_object_get(r, "on")), "react off");
	json_decref(r);

	r = pier_req_register_display("wang_xm", "secret-pw", "王小明");
	CHECK(has_str(r, "op", "register") && has_str(r, "display", "王小明"), "register with a display name");
	json_decref(r);
	r = pier_req_register_display("wang_xm", "secret-pw", NULL);
	CHECK(r != NULL && json_object_get(r, "display") == NULL, "register without one");
	json_decref(r);
	r = pier_req_read("#dev", 131);
	CHECK(has_str(r, "op", "read") && has_str(r, "with", "#dev") &&
	      json_integer_value(json_object_get(r, "id")) == 131, "read");
	json_decref(r);
	r = pier_req_unread(NULL, 0);
	CHECK(has_str(r, "op", "unread") && json_object_get(r, "after") == NULL &&
	      json_object_get(r, "limit") == NULL, "unread, the first page");
	json_decref(r);
	r = pier_req_unread("#dev", 10);
	CHECK(has_str(r, "after", "#dev") && json_integer_value(json_object_get(r, "limit")) == 10,
	      "unread, a later page");
	json_decref(r);
	r = pier_req_typing("@bob_22");
	CHECK(has_str(r, "op", "typing") && has_str(r, "to", "@bob_22"), "typing");
	json_decref(r);
	r = pier_req_members("#dev", "alice_1", 50);
	CHECK(has_str(r, "op", "members") && has_str(r, "room", "#dev") && has_str(r, "after", "alice_1") &&
	      json_integer_value(json_object_get(r, "limit")) == 50, "members");
	json_decref(r);
	r = pier_req_topic("#dev", NULL);
	CHECK(has_str(r, "op", "topic") && json_object_get(r, "topic") == NULL, "topic: ask");
	json_decref(r);
	r = pier_req_topic("#dev", "周五发布");
	CHECK(has_str(r, "topic", "周五发布"), "topic: set");
	json_decref(r);
	r = pier_req_profile("王小明");
	CHECK(has_str(r, "op", "profile") && has_str(r, "display", "王小明"), "profile");
	json_decref(r);
	r = pier_req_profile(NULL);
	CHECK(json_is_null(json_object_get(r, "display")), "profile: remove (null)");
	json_decref(r);
	CHECK(pier_error_text("bad_display", PIER_LANG_ZH) != NULL &&
	      pier_error_text("bad_topic", PIER_LANG_EN) != NULL, "texts for the new errors");

	r = pier_req_search("电影", NULL, 0, 0);
	CHECK(has_str(r, "op", "search") && has_str(r, "q", "电影") && json_object_size(r) == 2,
	      "search everywhere, from the newest, the server's page");
	json_decref(r);
	r = pier_req_search("\"new york\" OR", "#dev", 99, 20);
	CHECK(has_str(r, "q", "\"new york\" OR") && has_str(r, "with", "#dev") &&
	      json_integer_value(json_object_get(r, "before")) == 99 &&
	      json_integer_value(json_object_get(r, "limit")) == 20, "search in a room, paged");
	json_decref(r);
	CHECK(pier_req_search("bad \xff", NULL, 0, 0) == NULL, "search: invalid UTF-8 refused");
}

/* The end-to-end encryption ops (docs/PROTOCOL.md, "End-to-end encryption"). */
static void test_e2ee_builders(void)
{
	json_t *r, *spk, *e;

	r = pier_req_device_register("ID", "SK", "DK", NULL, 7, "SPK", "SIG",
	                             json_pack("[{s:i, s:s}]", "id", 1, "key", "K"), "P");
	spk = json_object_get(r, "spk");
	CHECK(has_str(r, "op", "device_register") && has_str(r, "id", "ID") &&
	      has_str(r, "sign_key", "SK") && has_str(r, "dh_key", "DK") && has_str(r, "name", "") &&
	      has_str(r, "proof", "P") && json_integer_value(json_object_get(spk, "id")) == 7 &&
	      has_str(spk, "key", "SPK") && has_str(spk, "sig", "SIG") &&
	      json_array_size(json_object_get(r, "opks")) == 1, "device_register");
	json_decref(r);
	r = pier_req_device_hello("ID", "P");
	CHECK(has_str(r, "op", "device_hello") && has_str(r, "id", "ID") && has_str(r, "proof", "P"),
	      "device_hello");
	json_decref(r);
	r = pier_req_devices(NULL);
	CHECK(has_str(r, "op", "devices") && json_object_size(r) == 1, "devices of oneself");
	json_decref(r);
	r = pier_req_devices("bob");
	CHECK(has_str(r, "user", "bob"), "devices of bob");
	json_decref(r);
	r = pier_req_devices_publish("L", "S");
	CHECK(has_str(r, "op", "devices_publish") && has_str(r, "list", "L") && has_str(r, "sig", "S"),
	      "devices_publish");
	json_decref(r);
	r = pier_req_prekeys(0, NULL, NULL, NULL);
	CHECK(has_str(r, "op", "prekeys") && json_object_size(r) == 1, "prekeys with nothing");
	json_decref(r);
	r = pier_req_prekeys(3, "K", "S", json_array());
	CHECK(json_integer_value(json_object_get(json_object_get(r, "spk"), "id")) == 3 &&
	      json_is_array(json_object_get(r, "opks")), "prekeys with a signed prekey");
	json_decref(r);
	r = pier_req_keys("bob");
	CHECK(has_str(r, "op", "keys") && has_str(r, "user", "bob"), "keys");
	json_decref(r);
	r = pier_req_send_e2ee("@bob", "PL", json_pack("[{s:s, s:s}]", "device", "D", "body", "B"),
	                       "c-1", 0, 12);
	e = json_object_get(r, "e2ee");
	CHECK(has_str(r, "op", "send") && has_str(r, "to", "@bob") && has_str(e, "payload", "PL") &&
	      json_array_size(json_object_get(e, "keys")) == 1 && has_str(r, "cid", "c-1") &&
	      json_object_get(r, "media") == NULL && json_object_get(r, "text") == NULL &&
	      json_integer_value(json_object_get(r, "reply_to")) == 12, "send with e2ee");
	json_decref(r);
	r = pier_req_device_send("D", "PL", "B");
	CHECK(has_str(r, "op", "device_send") && has_str(r, "device", "D") &&
	      has_str(r, "payload", "PL") && has_str(r, "body", "B"), "device_send");
	json_decref(r);
	r = pier_req_ack(901);
	CHECK(has_str(r, "op", "ack") && json_integer_value(json_object_get(r, "upto")) == 901, "ack");
	json_decref(r);
}

static void test_event_op(void)
{
	json_t *ev = json_pack("{s:s}", "op", "msg");
	json_t *no_op = json_pack("{s:i}", "id", 1);
	json_t *bad_op = json_pack("{s:i}", "op", 1);

	CHECK(strcmp(pier_event_op(ev), "msg") == 0, "op of an event");
	CHECK(strcmp(pier_event_op(no_op), "") == 0, "no op: empty");
	CHECK(strcmp(pier_event_op(bad_op), "") == 0, "non-string op: empty");
	CHECK(strcmp(pier_event_op(NULL), "") == 0, "NULL: empty");
	json_decref(ev);
	json_decref(no_op);
	json_decref(bad_op);
}

static void test_status_texts(void)
{
	/* The report's table 4.1. */
	CHECK(strcmp(pier_login_status_text(-1, PIER_LANG_ZH), "密码错误") == 0, "-1 zh");
	CHECK(strcmp(pier_login_status_text(0, PIER_LANG_ZH), "用户名不存在") == 0, "0 zh");
	CHECK(strcmp(pier_login_status_text(1, PIER_LANG_ZH), "登录成功") == 0, "1 zh");
	CHECK(strcmp(pier_register_status_text(2, PIER_LANG_ZH), "用户名已存在") == 0, "2 zh");
	CHECK(strcmp(pier_register_status_text(3, PIER_LANG_ZH), "注册成功") == 0, "3 zh");
	CHECK(strcmp(pier_register_status_text(4, PIER_LANG_ZH), "账号或密码过短") == 0, "4 zh");

	CHECK(strcmp(pier_login_status_text(-1, PIER_LANG_EN), "Wrong password") == 0, "-1 en");
	CHECK(strcmp(pier_login_status_text(0, PIER_LANG_EN), "No such user") == 0, "0 en");
	CHECK(strcmp(pier_login_status_text(1, PIER_LANG_EN), "Logged in") == 0, "1 en");
	CHECK(strcmp(pier_register_status_text(3, PIER_LANG_EN), "Registered") == 0, "3 en");
	for (int s = 2; s <= 5; s++) {
		const char *en = pier_register_status_text(s, PIER_LANG_EN);
		const char *zh = pier_register_status_text(s, PIER_LANG_ZH);

		CHECK(en != NULL && zh != NULL && strcmp(en, zh) != 0, "register %d en and zh", s);
	}
	CHECK(pier_login_status_text(7, PIER_LANG_EN) != NULL &&
	      strcmp(pier_login_status_text(7, PIER_LANG_EN), pier_login_status_text(1, PIER_LANG_EN)) != 0,
	      "unknown login status: a generic text");
	CHECK(pier_register_status_text(1, PIER_LANG_ZH) != NULL &&
	      strcmp(pier_register_status_text(1, PIER_LANG_ZH), "登录成功") != 0,
	      "register texts do not answer login statuses");
	CHECK(pier_register_status_text(-5, PIER_LANG_EN) != NULL, "unknown register status");
}

static void test_error_texts(void)
{
	/* Every code of docs/PROTOCOL.md's error table has a text in both languages. */
	static const char *const codes[] = {
		"bad_json", "bad_utf8", "line_too_long", "bad_request", "unknown_op",
		"not_logged_in", "already_logged_in", "bad_target", "bad_room", "no_such_user",
		"no_such_room", "not_member", "cannot_part", "empty_message", "message_too_long",
		"rate_limited", "busy", "too_many_connections", "login_timeout", "slow_consumer",
		"shutting_down", "store_failed", "internal", "bad_name", "bad_password", "bad_token",
		"no_such_message", "not_own_message", "recall_expired", "message_recalled", "bad_emoji",
		"too_many_reactions", "query_too_short", "query_too_long",
		"e2ee_required", "no_device", "bad_envelope", "queue_full", "devices_changed",
		"bad_signature", "device_exists", "too_many_devices", "already_has_device",
		"no_such_device", "device_revoked", "bad_list", "stale_version", "reset_needs_password",
	};

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *en = pier_error_text(codes[i], PIER_LANG_EN);
		const char *zh = pier_error_text(codes[i], PIER_LANG_ZH);

		CHECK(en != NULL && en[0] != '\0', "%s has an English text", codes[i]);
		CHECK(zh != NULL && zh[0] != '\0' && (en == NULL || strcmp(en, zh) != 0),
		      "%s has a Chinese text", codes[i]);
	}
	CHECK(pier_error_text("no_such_code", PIER_LANG_EN) == NULL, "unknown code: NULL");
	CHECK(pier_error_text(NULL, PIER_LANG_ZH) == NULL, "NULL code: NULL");
}

static void test_lang_from_env(void)
{
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	unsetenv("LANG");
	CHECK(pier_lang_from_env() == PIER_LANG_EN, "nothing set: English");
	setenv("LANG", "zh_CN.UTF-8", 1);
	CHECK(pier_lang_from_env() == PIER_LANG_ZH, "LANG=zh_CN");
	setenv("LC_MESSAGES", "en_US.UTF-8", 1);
	CHECK(pier_lang_from_env() == PIER_LANG_EN, "LC_MESSAGES wins over LANG");
	setenv("LC_ALL", "zh_TW.UTF-8", 1);
	CHECK(pier_lang_from_env() == PIER_LANG_ZH, "LC_ALL wins over all");
	setenv("LC_ALL", "", 1);
	CHECK(pier_lang_from_env() == PIER_LANG_EN, "empty LC_ALL is skipped");
	setenv("LC_MESSAGES", "C", 1);
	CHECK(pier_lang_from_env() == PIER_LANG_EN, "C: English");
}

int main(void)
{
	test_builders();
	test_e2ee_builders();
	test_event_op();
	test_status_texts();
	test_error_texts();
	test_lang_from_env();
	return tap_done();
}
