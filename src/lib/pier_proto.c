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

	if (req == NULL)
		return NULL;
	if (before > 0 && json_object_set_new(req, "before", json_integer(before)) != 0)
		goto fail;
	if (limit > 0 && json_object_set_new(req, "limit", json_integer(limit)) != 0)
		goto fail;
	return req;
fail:
	json_decref(req);
	return NULL;
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

json_t *pier_req_search(const char *q, const char *with, int64_t before, int limit)
{
	json_t *req = json_pack("{s:s, s:s}", "op", "search", "q", q);

	if (req == NULL)
		return NULL;
	if (with != NULL && json_object_set_new(req, "with", json_string(with)) != 0)
		goto fail;
	if (before > 0 && json_object_set_new(req, "before", json_integer(before)) != 0)
		goto fail;
	if (limit > 0 && json_object_set_new(req, "limit", json_integer(limit)) != 0)
		goto fail;
	return req;
fail:
	json_decref(req);
	return NULL;
}

json_t *pier_req_ping(void)
{
	return json_pack("{s:s}", "op", "ping");
}

const char *pier_event_op(const json_t *ev)
{
	const char *op = json_string_value(json_object_get(ev, "op"));

	return op != NULL ? op : "";
}
