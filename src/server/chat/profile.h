/* profile.h - display names: the profile op, the check shared with register, and loading the
 * display names, the login-name index they are checked against and the room topics at start.
 * The rules are display.h's. */
#ifndef PIER_PROFILE_H
#define PIER_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "display.h"

struct conn;
struct server;

/* {"op":"profile","display":...}: sets (or with null or "" removes) the user's display name. */
void handle_profile(struct conn *c, json_t *req, json_t *ref);

/* Checks the optional "display" field of a register request for the new user name into out
 * (DISPLAY_BYTES_MAX + 1 bytes; "" when the field is absent or null). false when it is
 * refused (answered with bad_display or bad_request). */
bool profile_check_register(struct conn *c, json_t *req, json_t *ref, const char *name,
                            char *out);

/* A user was registered: its name joins the index display names are checked against. */
void profile_user_added(struct server *srv, const char *name);

/* At start, after the users and rooms are loaded: the rules, the index of login names, the
 * stored display names and topics. 0, or -1 (logged). */
int profile_load(struct server *srv);
/* Frees what profile_load made. */
void profile_unload(struct server *srv);

#endif
