/* auth.h - accounts and sessions: register, login (password or token), the start and end of a
 * session (presence; the offline backlog is offline.h's; logout and the rest of a logged-in
 * user's account are account.h's). */
#ifndef PIER_AUTH_H
#define PIER_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct conn;
struct server;
struct user;

void handle_register(struct conn *c, json_t *req, json_t *ref);
void handle_login(struct conn *c, json_t *req, json_t *ref);

/* Detaches a closing connection from its user (presence, offline bookkeeping). */
void session_end(struct conn *c);
/* Tells those who should know that u came online or went offline (u's contacts; everyone
 * online only in the mode hub_presence_to_all says): a presence event, u's own sessions spared. */
void auth_broadcast_presence(struct server *srv, struct user *u, bool online);

/* Session tokens are at most this many characters (longer ones are never valid). */
#define AUTH_TOKEN_MAX 63
/* The stored form of a session token (BLAKE2b-256): what STORE_TOKEN_USER looks up. Used by
 * the HTTP side (media) to turn "Authorization: Bearer TOKEN" or a cookie into a user. */
void auth_token_hash(const char *token, unsigned char out[32]);

#endif
