/* account.h - getting onto the server: connecting, the password, register and login with
 * the report's status texts. Shared by the interactive mode and the one-shot commands; the
 * chat's questions (log in or register, user name, password) are here too. */
#ifndef PIER_CLI_ACCOUNT_H
#define PIER_CLI_ACCOUNT_H

#include "cli.h"
#include "input.h"
#include "pier.h"

/* Connects to o->host:o->port (with TLS when o->tls). NULL on failure, with *err a malloc'd
 * message when err is not NULL. Prints nothing; safe to call from another thread. */
struct pier_conn *account_open(const struct cli_options *o, char **err);

/* account_open, printing why on stderr when it fails. */
struct pier_conn *account_connect(const struct cli_options *o);

/* The password: $PIER_PASSWORD if set, else a line of in when stdin is not a terminal, else
 * prompted on the terminal without echo. malloc'd, or NULL (end of input, Ctrl-C). */
char *account_password(const struct cli_options *o, struct input *in);

/* True when the password comes from $PIER_PASSWORD (asking again would not change it). */
bool account_password_from_env(void);

/* Sends register (with display, a display name or NULL) or login (with user and password)
 * and waits for the reply. Returns the
 * status (PIER_LOGIN_* / PIER_REGISTER_*) and *reply (new reference, may be NULL), or
 * INT32_MIN when no usable reply came (an error reply stays in *reply). */
int account_call(struct pier_conn *conn, bool do_register, const char *user, const char *password,
		 const char *display, json_t **reply);

/* Prints the text for a register or login result on f ("注册成功" ...), in o->lang; for an
 * error reply its readable text; for no reply at all "no reply from the server". */
void account_print_result(FILE *f, const struct cli_options *o, bool do_register, int status,
			  const json_t *reply);

/* The chat's way in: connects, asks whether to log in or register (unless o->user is set),
 * the user name and the password, registers if asked and logs in, printing the report's
 * texts on stdout. Questions go through libedit when tty, else they are lines of in. Returns
 * the connection, logged in, with the login's reply in *reply (new reference, with "user"),
 * or NULL after printing why. */
struct pier_conn *account_dialogue(const struct cli_options *o, struct input *in, bool tty,
				   json_t **reply);

#endif
