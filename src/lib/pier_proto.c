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

json_t *pier_req_rooms_page(const char *after, int limit)
{
	json_t *req = json_pack("{s:s}", "op", "rooms");

	if (after != NULL)
		json_object_set_new(req, "after", json_string(after));
	if (limit > 0)
		json_object_set_new(req, "limit", json_integer(limit));
	return req;
}

json_t *pier_req_users(void)
{
	return json_pack("{s:s}", "op", "users");
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
