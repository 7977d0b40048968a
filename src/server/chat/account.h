/* account.h - a logged-in user's account and tokens: logout, logout_all, password change, and
 * the upkeep of tokens (idle expiry). docs/PROTOCOL.md, "Tokens and account". */
#ifndef PIER_ACCOUNT_H
#define PIER_ACCOUNT_H

#include <stdint.h>

#include <jansson.h>

struct conn;
struct server;

void handle_logout(struct conn *c, json_t *req, json_t *ref);
void handle_logout_all(struct conn *c, json_t *req, json_t *ref);
void handle_password(struct conn *c, json_t *req, json_t *ref);

/* A logged-in session is ending: its token counts as used until now. */
void account_session_closed(struct conn *c);

/* From the server's 1 s tick: now and then marks the tokens of open sessions used and forgets
 * the tokens unused for --token-idle. */
void account_tick(struct server *srv, int64_t now_ms);

#endif
