/* chat.h - messages: send (store, acknowledge, fan out), history and sync. */
#ifndef PIER_CHAT_H
#define PIER_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

struct conn;
struct room;
struct server;
struct user;

void handle_send(struct conn *c, json_t *req, json_t *ref);

/* A plaintext send's members as plain values, however the request was decoded (a tree in
 * handle_send, fastreq.h on the fast path). The strings need only live through chat_send,
 * which copies what the store job keeps. "Bad" is present, not null and of the wrong type. */
struct chat_send_req {
	const char *to;              /* NULL when absent or not a string */
	const char *text;            /* NULL when absent or not a string; else text_len bytes */
	size_t text_len;
	bool text_bad;
	const char *kind;            /* NULL when absent or not a string */
	const char *cid;             /* NULL when absent or bad; else cid_len bytes */
	size_t cid_len;
	bool cid_bad;
	int64_t media;               /* 0 absent or null, -1 not a positive integer, else the id */
	int64_t reply_to;            /* the same */
};

/* Checks r in the order handle_send always has (answering the first error), resolves the
 * target and submits the store job; the reply (sent) comes when it is done. ref may be NULL. */
void chat_send(struct conn *c, const struct chat_send_req *r, json_t *ref);
void handle_history(struct conn *c, json_t *req, json_t *ref);
void handle_sync(struct conn *c, json_t *req, json_t *ref);

/* Resolves to ("#room" or "@user") for c's user: a room it is in (or #lobby), or a user that
 * exists. On failure answers (bad_target, bad_room, no_such_room, not_member, no_such_user)
 * and returns -1. */
int chat_target(struct conn *c, json_t *ref, const char *to, struct room **room,
                struct user **peer);
/* Reads the optional non-negative integer member key of req into *out (left alone when
 * absent or null). 0, or -1 after answering bad_request when it is malformed. */
int chat_opt_int(struct conn *c, json_t *req, json_t *ref, const char *key, int64_t *out);
/* Checks a send's optional client id (cid: absent (NULL), or a string of 1-64 bytes (len);
 * bad: present and not a string; the same limit for plain and encrypted sends, since both
 * share the dedup table). 0, or -1 after answering bad_request. */
int chat_check_cid(struct conn *c, json_t *ref, bool bad, const char *cid, size_t len);

/* Fans the stored message m out to this node's sessions that may see it (the online members
 * of its room; the two parties of a private one, through offline.c's watermark; for an
 * encrypted one only the sessions without a device, which get envelopes instead), but
 * except (may be NULL). Single node: right after the commit; cluster: in id order, from the
 * sequencer, for every node's messages. */
void chat_deliver_msg(struct server *srv, const struct store_msg *m, const struct conn *except);

#endif
