/* account.c - connecting, reading the password, register and login with the report's texts. */
#include "account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pier_conn *account_connect(const struct cli_options *o)
{
	char *err = NULL;
	struct pier_conn *conn = pier_conn_open(o->host, o->port, CLI_CONNECT_TIMEOUT_MS, &err);

	if (conn == NULL) {
		fprintf(stderr, "pier: %s\n", err != NULL ? err : "cannot connect");
		free(err);
	}
	return conn;
}

bool account_password_from_env(void)
{
	return getenv("PIER_PASSWORD") != NULL;
}

char *account_password(const struct cli_options *o, struct input *in)
{
	const char *env = getenv("PIER_PASSWORD");

	if (env != NULL)
		return strdup(env);
	if (isatty(STDIN_FILENO) != 1)
		return input_read_line(in);
	return input_password_tty(STDIN_FILENO, o->lang == PIER_LANG_ZH ? "密码: " : "Password: ");
}

int account_call(struct pier_conn *conn, bool do_register, const char *user, const char *password,
		 json_t **reply)
{
	json_t *req = do_register ? pier_req_register(user, password) : pier_req_login(user, password);
	json_t *r, *status;

	*reply = NULL;
	if (req == NULL)
		return INT32_MIN;
	r = pier_conn_call(conn, req, CLI_REPLY_TIMEOUT_MS);
	*reply = r;
	status = json_object_get(r, "status");
	if (r == NULL || !json_is_integer(status) ||
	    strcmp(pier_event_op(r), do_register ? "register" : "login") != 0)
		return INT32_MIN;
	return (int)json_integer_value(status);
}

void account_print_result(FILE *f, const struct cli_options *o, bool do_register, int status,
			  const json_t *reply)
{
	const char *code = json_string_value(json_object_get(reply, "error"));
	const char *detail = pier_error_text(code, o->lang);

	if (status != INT32_MIN) {
		const char *text = do_register ? pier_register_status_text(status, o->lang)
					       : pier_login_status_text(status, o->lang);

		fputs(text, f);
		if (detail != NULL && strcmp(detail, text) != 0)
			fprintf(f, " (%s)", detail);
		fputc('\n', f);
	} else if (reply != NULL) {
		const char *msg = json_string_value(json_object_get(reply, "message"));

		fprintf(f, "%s\n", detail != NULL ? detail : msg != NULL ? msg : "unexpected reply");
	} else {
		fputs(o->lang == PIER_LANG_ZH ? "服务器没有回应\n" : "No reply from the server\n", f);
	}
}
