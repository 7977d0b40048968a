/* protocol.h - pier's wire vocabulary, shared by pierd, libpier and the clients: the request
 * ops, the error codes (JSON "error" and the HTTP API's), their names on the wire, and the
 * WebSocket close code each fatal error closes with. docs/PROTOCOL.md is the contract; a code
 * is added here and there together.
 *
 * Each list is an X-macro so that the enum and its name table cannot drift apart. */
#ifndef PIER_PROTOCOL_H
#define PIER_PROTOCOL_H

#include <stdbool.h>
#include <stdint.h>

/* Request ops (client to server). */
#define PIER_OPS(X) \
	X(SEND, "send") \
	X(PING, "ping") \
	X(REGISTER, "register") \
	X(LOGIN, "login") \
	X(LOGOUT, "logout") \
	X(LOGOUT_ALL, "logout_all") \
	X(PASSWORD, "password") \
	X(JOIN, "join") \
	X(PART, "part") \
	X(ROOMS, "rooms") \
	X(USERS, "users") \
	X(HISTORY, "history") \
	X(SYNC, "sync") \
	X(RECALL, "recall") \
	X(EDIT, "edit") \
	X(REACT, "react") \
	X(READ, "read") \
	X(UNREAD, "unread") \
	X(TYPING, "typing") \
	X(MEMBERS, "members") \
	X(TOPIC, "topic") \
	X(PROFILE, "profile") \
	X(SEARCH, "search") \
	X(DEVICE_REGISTER, "device_register") \
	X(DEVICE_HELLO, "device_hello") \
	X(DEVICES, "devices") \
	X(DEVICES_PUBLISH, "devices_publish") \
	X(PREKEYS, "prekeys") \
	X(KEYS, "keys") \
	X(DEVICE_SEND, "device_send") \
	X(ACK, "ack")

enum pier_op {
#define PIER_OP_ENUM(sym, name) PIER_OP_##sym,
	PIER_OPS(PIER_OP_ENUM)
#undef PIER_OP_ENUM
	PIER_OP_COUNT,
	PIER_OP_UNKNOWN = PIER_OP_COUNT
};

/* Error codes. The first group is fatal to a session (the server closes after sending it). */
#define PIER_ERRORS(X) \
	X(NONE, "none") \
	X(BAD_JSON, "bad_json") \
	X(BAD_UTF8, "bad_utf8") \
	X(LINE_TOO_LONG, "line_too_long") \
	X(BAD_REQUEST, "bad_request") \
	X(UNKNOWN_OP, "unknown_op") \
	X(NOT_LOGGED_IN, "not_logged_in") \
	X(ALREADY_LOGGED_IN, "already_logged_in") \
	X(BAD_TARGET, "bad_target") \
	X(BAD_ROOM, "bad_room") \
	X(NO_SUCH_USER, "no_such_user") \
	X(NO_SUCH_ROOM, "no_such_room") \
	X(NOT_MEMBER, "not_member") \
	X(NO_SUCH_MEDIA, "no_such_media") \
	X(CANNOT_PART, "cannot_part") \
	X(EMPTY_MESSAGE, "empty_message") \
	X(MESSAGE_TOO_LONG, "message_too_long") \
	X(RATE_LIMITED, "rate_limited") \
	X(BUSY, "busy") \
	X(TOO_MANY_CONNECTIONS, "too_many_connections") \
	X(LOGIN_TIMEOUT, "login_timeout") \
	X(PING_TIMEOUT, "ping_timeout") \
	X(SLOW_CONSUMER, "slow_consumer") \
	X(SHUTTING_DOWN, "shutting_down") \
	X(LOGGED_OUT, "logged_out") \
	X(STORE_FAILED, "store_failed") \
	X(INTERNAL, "internal") \
	X(BAD_NAME, "bad_name") \
	X(BAD_PASSWORD, "bad_password") \
	X(BAD_TOKEN, "bad_token") \
	X(NAME_TAKEN, "name_taken") \
	X(TOO_SHORT, "too_short") \
	X(WRONG_PASSWORD, "wrong_password") \
	X(EMPTY_FILE, "empty_file") \
	X(FORBIDDEN, "forbidden") \
	X(NO_SUCH_UPLOAD, "no_such_upload") \
	X(NO_THUMBNAIL, "no_thumbnail") \
	X(OFFSET_MISMATCH, "offset_mismatch") \
	X(OVER_QUOTA, "over_quota") \
	X(TOO_LARGE, "too_large") \
	X(UPLOAD_BUSY, "upload_busy") \
	X(UPLOAD_COMPLETE, "upload_complete") \
	X(TOO_MANY_ROOMS, "too_many_rooms") \
	X(CID_CONFLICT, "cid_conflict") \
	X(NO_SUCH_MESSAGE, "no_such_message") \
	X(NOT_OWN_MESSAGE, "not_own_message") \
	X(RECALL_EXPIRED, "recall_expired") \
	X(MESSAGE_RECALLED, "message_recalled") \
	X(BAD_EMOJI, "bad_emoji") \
	X(TOO_MANY_REACTIONS, "too_many_reactions") \
	X(BAD_DISPLAY, "bad_display") \
	X(BAD_TOPIC, "bad_topic") \
	X(QUERY_TOO_SHORT, "query_too_short") \
	X(QUERY_TOO_LONG, "query_too_long") \
	X(E2EE_REQUIRED, "e2ee_required") \
	X(NO_DEVICE, "no_device") \
	X(BAD_ENVELOPE, "bad_envelope") \
	X(QUEUE_FULL, "queue_full") \
	X(DEVICES_CHANGED, "devices_changed") \
	X(BAD_SIGNATURE, "bad_signature") \
	X(DEVICE_EXISTS, "device_exists") \
	X(TOO_MANY_DEVICES, "too_many_devices") \
	X(ALREADY_HAS_DEVICE, "already_has_device") \
	X(NO_SUCH_DEVICE, "no_such_device") \
	X(DEVICE_REVOKED, "device_revoked") \
	X(BAD_LIST, "bad_list") \
	X(STALE_VERSION, "stale_version") \
	X(RESET_NEEDS_PASSWORD, "reset_needs_password")

enum pier_error {
#define PIER_ERROR_ENUM(sym, name) PIER_ERR_##sym,
	PIER_ERRORS(PIER_ERROR_ENUM)
#undef PIER_ERROR_ENUM
	PIER_ERR_COUNT
};

/* The wire name of op ("send"...); "unknown" for PIER_OP_UNKNOWN. */
const char *pier_op_name(enum pier_op op);
/* The op named name (len bytes), or PIER_OP_UNKNOWN. */
enum pier_op pier_op_from_name(const char *name);

/* The wire name of an error code ("bad_json"...); NULL for PIER_ERR_NONE. */
const char *pier_error_name(enum pier_error err);
/* The code named name, or PIER_ERR_COUNT when it is not one of ours (a newer server's). */
enum pier_error pier_error_from_name(const char *name);

/* WebSocket close codes (RFC 6455 section 7.4.1). */
enum pier_ws_close {
	PIER_WS_NORMAL = 1000,
	PIER_WS_GOING_AWAY = 1001,
	PIER_WS_PROTOCOL_ERROR = 1002,
	PIER_WS_INVALID_DATA = 1007,
	PIER_WS_POLICY_VIOLATION = 1008,
	PIER_WS_TOO_BIG = 1009,
	PIER_WS_INTERNAL_ERROR = 1011
};

/* The close code a WebSocket session ends with after fatal error err (PIER_ERR_NONE: a
 * normal goodbye). */
enum pier_ws_close pier_ws_close_code(enum pier_error err);

#endif
