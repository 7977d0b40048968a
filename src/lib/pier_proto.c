/* pier_proto.c - libpier's request builders: one JSON object per request of docs/PROTOCOL.md. */
#include "pier.h"

/* Each builder returns a new object without "ref", or NULL when a string is not valid UTF-8
 * (jansson refuses it) or memory ran out; pier_client_request treats NULL as an encoding
 * failure, so callers need not check twice. */

json_t *pier_req_register(const char *user, const char *password)
{
	return json_pack("{s:s, s:s, s:s}", "op", "register", "user", user, "password", password);
}

json_t *pier_req_login(const char *user, const char *password)
{
	return json_pack("{s:s, s:s, s:s}", "op", "login", "user", user, "password", password);
}

json_t *pier_req_login_token(const char *token)
{
	return json_pack("{s:s, s:s}", "op", "login", "token", token);
}

json_t *pier_req_logout(void)
{
	return json_pack("{s:s}", "op", "logout");
}

json_t *pier_req_logout_all(void)
{
	return json_pack("{s:s}", "op", "logout_all");
}

json_t *pier_req_password(const char *old_password, const char *new_password)
{
	return json_pack("{s:s, s:s, s:s}", "op", "password", "old", old_password, "new",
	                 new_password);
}

json_t *pier_req_send(const char *to, const char *text, const char *cid)
{
	json_t *req = json_pack("{s:s, s:s, s:s}", "op", "send", "to", to, "text", text);

	if (req != NULL && cid != NULL && json_object_set_new(req, "cid", json_string(cid)) != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *pier_req_join(const char *room)
{
	return json_pack("{s:s, s:s}", "op", "join", "room", room);
}

json_t *pier_req_part(const char *room)
{
	return json_pack("{s:s, s:s}", "op", "part", "room", room);
}

json_t *pier_req_rooms(void)
{
	return json_pack("{s:s}", "op", "rooms");
}

/* Adds "after" (when not NULL) and "limit" (when > 0) to a page request; NULL on failure. */
static json_t *page(json_t *req, const char *after, int limit)
{
	if (req == NULL)
		return NULL;
	if (after != NULL && json_object_set_new(req, "after", json_string(after)) != 0)
		goto fail;
	if (limit > 0 && json_object_set_new(req, "limit", json_integer(limit)) != 0)
		goto fail;
	return req;
fail:
	json_decref(req);
	return NULL;
}

/* {"op":op} with "after" and "limit" when given: a page of a listing. */
static json_t *page_req(const char *op, const char *after, int limit)
{
	json_t *req = json_pack("{s:s}", "op", op);

	if (after != NULL)
		json_object_set_new(req, "after", json_string(after));
	if (limit > 0)
		json_object_set_new(req, "limit", json_integer(limit));
	return req;
}

json_t *pier_req_rooms_page(const char *after, int limit)
{
	return page_req("rooms", after, limit);
}

json_t *pier_req_users(void)
{
	return json_pack("{s:s}", "op", "users");
}

json_t *pier_req_users_page(const char *after, int limit)
{
	return page_req("users", after, limit);
}

json_t *pier_req_history(const char *with, int64_t before, int limit)
{
	json_t *req = json_pack("{s:s, s:s}", "op", "history", "with", with);

	if (req != NULL && before > 0 && json_object_set_new(req, "before", json_integer(before)) != 0) {
		json_decref(req);
		return NULL;
	}
	return page(req, NULL, limit);
}

json_t *pier_req_sync(int64_t after, int limit)
{
	json_t *req = json_pack("{s:s, s:I}", "op", "sync", "after", (json_int_t)(after > 0 ? after : 0));

	if (req != NULL && limit > 0 && json_object_set_new(req, "limit", json_integer(limit)) != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *pier_req_sync_changes(int64_t after, int64_t changes_after, int limit)
{
	json_t *req = pier_req_sync(after, limit);

	if (req != NULL && json_object_set_new(req, "changes_after",
	                                       json_integer(changes_after > 0 ? changes_after : 0)) != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *pier_req_send_reply(const char *to, const char *text, const char *cid, int64_t reply_to)
{
	json_t *req = pier_req_send(to, text, cid);

	if (req != NULL && reply_to > 0 &&
	    json_object_set_new(req, "reply_to", json_integer(reply_to)) != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *pier_req_recall(int64_t id)
{
	return json_pack("{s:s, s:I}", "op", "recall", "id", (json_int_t)id);
}

json_t *pier_req_edit(int64_t id, const char *text)
{
	return json_pack("{s:s, s:I, s:s}", "op", "edit", "id", (json_int_t)id, "text", text);
}

json_t *pier_req_react(int64_t id, const char *emoji, bool on)
{
	return json_pack("{s:s, s:I, s:s, s:b}", "op", "react", "id", (json_int_t)id, "emoji", emoji,
	                 "on", on);
}

json_t *pier_req_search(const char *q, const char *with, int64_t before, int limit)
{
	json_t *req = json_pack("{s:s, s:s}", "op", "search", "q", q);

	if (req != NULL && ((with != NULL && json_object_set_new(req, "with", json_string(with)) != 0) ||
	                    (before > 0 && json_object_set_new(req, "before", json_integer(before)) != 0))) {
		json_decref(req);
		return NULL;
	}
	return page(req, NULL, limit);
}

json_t *pier_req_ping(void)
{
	return json_pack("{s:s}", "op", "ping");
}

json_t *pier_req_register_display(const char *user, const char *password, const char *display)
{
	json_t *req = pier_req_register(user, password);

	if (req != NULL && display != NULL &&
	    json_object_set_new(req, "display", json_string(display)) != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *pier_req_read(const char *with, int64_t id)
{
	return json_pack("{s:s, s:s, s:I}", "op", "read", "with", with, "id",
	                 (json_int_t)(id > 0 ? id : 0));
}

json_t *pier_req_unread(const char *after, int limit)
{
	return page(json_pack("{s:s}", "op", "unread"), after, limit);
}

json_t *pier_req_typing(const char *to)
{
	return json_pack("{s:s, s:s}", "op", "typing", "to", to);
}

json_t *pier_req_members(const char *room, const char *after, int limit)
{
	return page(json_pack("{s:s, s:s}", "op", "members", "room", room), after, limit);
}

json_t *pier_req_topic(const char *room, const char *topic)
{
	if (topic == NULL)
		return json_pack("{s:s, s:s}", "op", "topic", "room", room);
	return json_pack("{s:s, s:s, s:s}", "op", "topic", "room", room, "topic", topic);
}

json_t *pier_req_profile(const char *display)
{
	if (display == NULL || display[0] == '\0')
		return json_pack("{s:s, s:n}", "op", "profile", "display");
	return json_pack("{s:s, s:s}", "op", "profile", "display", display);
}

const char *pier_event_op(const json_t *ev)
{
	const char *op = json_string_value(json_object_get(ev, "op"));

	return op != NULL ? op : "";
}

/* ---- end-to-end encryption ---- */

/* Sets key to the JSON integer v on req when v > 0; frees req (NULL) when that fails. */
static json_t *set_positive(json_t *req, const char *key, int64_t v)
{
	if (req != NULL && v > 0 && json_object_set_new(req, key, json_integer(v)) != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

/* Sets "opks" (taken; NULL: nothing) on req; frees req (NULL) when that fails. */
static json_t *set_opks(json_t *req, json_t *opks)
{
	if (opks == NULL)
		return req;
	if (req == NULL || json_object_set_new(req, "opks", opks) != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *pier_req_device_register(const char *id, const char *sign_key, const char *dh_key,
                                 const char *name, int64_t spk_id, const char *spk_key,
                                 const char *spk_sig, json_t *opks, const char *proof)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:I, s:s, s:s}, s:s}", "op",
	                        "device_register", "id", id, "sign_key", sign_key, "dh_key", dh_key,
	                        "name", name != NULL ? name : "", "spk", "id", (json_int_t)spk_id,
	                        "key", spk_key, "sig", spk_sig, "proof", proof);

	if (req == NULL) {
		json_decref(opks);
		return NULL;
	}
	return set_opks(req, opks);
}

json_t *pier_req_device_hello(const char *id, const char *proof)
{
	return json_pack("{s:s, s:s, s:s}", "op", "device_hello", "id", id, "proof", proof);
}

json_t *pier_req_devices(const char *user)
{
	json_t *req = json_pack("{s:s}", "op", "devices");

	if (req != NULL && user != NULL && json_object_set_new(req, "user", json_string(user)) != 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *pier_req_devices_publish(const char *list, const char *sig)
{
	return json_pack("{s:s, s:s, s:s}", "op", "devices_publish", "list", list, "sig", sig);
}

json_t *pier_req_prekeys(int64_t spk_id, const char *spk_key, const char *spk_sig, json_t *opks)
{
	json_t *req = json_pack("{s:s}", "op", "prekeys");

	if (req != NULL && spk_id > 0 &&
	    json_object_set_new(req, "spk", json_pack("{s:I, s:s, s:s}", "id", (json_int_t)spk_id,
	                                              "key", spk_key, "sig", spk_sig)) != 0) {
		json_decref(req);
		req = NULL;
	}
	if (req == NULL) {
		json_decref(opks);
		return NULL;
	}
	return set_opks(req, opks);
}

json_t *pier_req_keys(const char *user)
{
	return json_pack("{s:s, s:s}", "op", "keys", "user", user);
}

json_t *pier_req_send_e2ee(const char *to, const char *payload, json_t *keys, const char *cid,
                           int64_t media, int64_t reply_to)
{
	json_t *req = json_pack("{s:s, s:s, s:{s:s, s:o}}", "op", "send", "to", to, "e2ee",
	                        "payload", payload, "keys", keys);

	if (req != NULL && cid != NULL && json_object_set_new(req, "cid", json_string(cid)) != 0) {
		json_decref(req);
		return NULL;
	}
	return set_positive(set_positive(req, "media", media), "reply_to", reply_to);
}

json_t *pier_req_device_send(const char *device, const char *payload, const char *body)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "op", "device_send", "device", device,
	                 "payload", payload, "body", body);
}

json_t *pier_req_ack(int64_t upto)
{
	return json_pack("{s:s, s:I}", "op", "ack", "upto", (json_int_t)upto);
}
