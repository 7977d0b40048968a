/* account.h - getting onto the server: connecting, the password, register and login with
 * the report's status texts. Shared by the interactive mode and the one-shot commands. */
#ifndef PIER_CLI_ACCOUNT_H
#define PIER_CLI_ACCOUNT_H

#include "cli.h"
#include "input.h"
#include "pier.h"

/* Connects to o->host:o->port. NULL after printing why on stderr. */
struct pier_conn *account_connect(const struct cli_options *o);

/* The password: $PIER_PASSWORD if set, else a line of in when stdin is not a terminal, else
 * prompted on the terminal without echo. malloc'd, or NULL (end of input, Ctrl-C). */
char *account_password(const struct cli_options *o, struct input *in);

/* True when the password comes from $PIER_PASSWORD (asking again would not change it). */
bool account_password_from_env(void);

/* Sends register or login (with user and password) and waits for the reply. Returns the
 * status (PIER_LOGIN_* / PIER_REGISTER_*) and *reply (new reference, may be NULL), or
 * INT32_MIN when no usable reply came (an error reply stays in *reply). */
int account_call(struct pier_conn *conn, bool do_register, const char *user, const char *password,
		 json_t **reply);

/* Prints the text for a register or login result on f ("注册成功" ...), in o->lang; for an
 * error reply its readable text; for no reply at all "no reply from the server". */
void account_print_result(FILE *f, const struct cli_options *o, bool do_register, int status,
			  const json_t *reply);

#endif
