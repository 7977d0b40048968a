/* offline.h - delivery of the private messages that arrived while their recipient was offline,
 * paced by the receiving connection's output budget, and the seen watermark that says where
 * the next login's backlog starts. See offline.c for the rules. */
#ifndef PIER_OFFLINE_H
#define PIER_OFFLINE_H

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct sbuf;
struct server;
struct user;

/* Backlog messages pushed in one online period; past it an offline notice says where to go on
 * with sync. */
#define OFFLINE_PUSH_MAX 1000
/* Backlog messages read from the store at a time. */
#define OFFLINE_PAGE 32

/* u's first session c opened: its backlog (private messages above the stored watermark) starts
 * going to c, a page at a time, as c's output drains. */
void offline_start(struct server *srv, struct user *u, struct conn *c);

/* Delivers b, the msg event of the private message id to u, to every session of u but except
 * (may be NULL) and those skip (may be NULL) says true for, tagged so the watermark follows
 * what was written. While u's backlog is still being read, the catching-up session does not
 * get it live: the backlog brings it in order. */
void offline_deliver_private(struct user *u, struct sbuf *b, int64_t id, const struct conn *except,
                             bool (*skip)(const struct conn *c));

/* c's output drained (conn_handler.drained): moves the watermark to what c wrote and sends c
 * the next page of its backlog. */
void offline_drained(struct conn *c);

/* c, a session of u, is closing (before hub_session_close). When it was the catching-up one,
 * another session of u takes over the backlog from the watermark. */
void offline_session_leave(struct server *srv, struct user *u, struct conn *c);

/* u's last session closed: stores the watermark (users.seen_id) and ends the online period. */
void offline_user_gone(struct server *srv, struct user *u);
/* Cluster (each second): stores the watermark of every online user whose written messages
 * passed it, so that a login on another node, which reads it from the store, starts there.
 * One node: nothing (the watermark is stored when the last session closes). */
void offline_tick(struct server *srv);

#endif
