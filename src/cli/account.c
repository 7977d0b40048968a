/* account.c - connecting, reading the password, register and login with the report's texts,
 * and the chat's login questions. */
#include "account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "xalloc.h"

#define LOGIN_ATTEMPTS  5

/* The text in o's language; a macro, so that printf formats stay literals. */
#define TR(o, en, zh)  ((o)->lang == PIER_LANG_ZH ? (zh) : (en))

struct pier_conn *account_open(const struct cli_options *o, char **err)
{
	return o->tls ? pier_conn_open_tls(o->host, o->port, CLI_CONNECT_TIMEOUT_MS, &o->tls_opt, err)
		      : pier_conn_open(o->host, o->port, CLI_CONNECT_TIMEOUT_MS, err);
}

struct pier_conn *account_connect(const struct cli_options *o)
{
	char *err = NULL;
	struct pier_conn *conn = account_open(o, &err);

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
		 const char *display, json_t **reply)
{
	json_t *req = do_register ? pier_req_register_display(user, password, display)
				  : pier_req_login(user, password);
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

/* ---- the chat's questions ---- */

/* What account_dialogue works with. */
struct dialogue {
	const struct cli_options *o;
	struct input *in;
	bool tty;
	struct pier_conn *conn;
};

static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
}

/* A line typed in answer to a question: libedit on a terminal, a plain line otherwise. */
static char *ask(struct dialogue *d, const char *prompt)
{
	char *line;

	if (!d->tty)
		return input_read_line(d->in);
	line = readline(prompt);
	if (line != NULL)
		trim_end(line);
	return line;
}

/* A connection that is still open: the server closes one that has not logged in within
 * its login timeout, which a person answering questions may well pass. */
static int ensure_connected(struct dialogue *d)
{
	json_t *ev;

	while ((ev = pier_conn_next(d->conn, 0)) != NULL)
		json_decref(ev);           /* before login: only a login_timeout error */
	if (!pier_conn_is_closed(d->conn))
		return 0;
	pier_conn_close(d->conn);
	d->conn = account_connect(d->o);
	return d->conn != NULL ? 0 : -1;
}

/* Register or log in; prints the report's text for the status. The status, or INT32_MIN. */
static int account_step(struct dialogue *d, bool do_register, const char *user,
			const char *password, json_t **reply)
{
	int status;

	*reply = NULL;
	if (ensure_connected(d) != 0)
		return INT32_MIN;
	status = account_call(d->conn, do_register, user, password, d->o->display, reply);
	account_print_result(stdout, d->o, do_register, status, *reply);
	fflush(stdout);
	return status;
}

/* Asks whether to log in or register. 1 register, 0 log in, -1 end of input. */
static int ask_action(struct dialogue *d)
{
	for (;;) {
		char *ans = ask(d, TR(d->o, "Log in or register? [L/r] ", "登录还是注册？[L/r] "));
		int action;

		if (ans == NULL)
			return -1;
		trim_end(ans);
		if (ans[0] == '\0' || strcmp(ans, "l") == 0 || strcmp(ans, "L") == 0 ||
		    strcmp(ans, "login") == 0 || strcmp(ans, "登录") == 0)
			action = 0;
		else if (strcmp(ans, "r") == 0 || strcmp(ans, "R") == 0 ||
			 strcmp(ans, "register") == 0 || strcmp(ans, "注册") == 0)
			action = 1;
		else
			action = 2;
		free(ans);
		if (action < 2)
			return action;
		if (!d->tty) {
			fprintf(stderr, "pier: %s\n", TR(d->o, "expected l (log in) or r (register)",
							   "应输入 l（登录）或 r（注册）"));
			return -1;
		}
		puts(TR(d->o, "Please answer l (log in) or r (register).", "请输入 l（登录）或 r（注册）。"));
	}
}

/* True if the answer to a yes/no question (default yes) is yes. */
static bool ask_yes(struct dialogue *d, const char *prompt)
{
	char *ans = ask(d, prompt);
	bool yes;

	if (ans == NULL)
		return false;
	trim_end(ans);
	yes = ans[0] == '\0' || ans[0] == 'y' || ans[0] == 'Y' || strcmp(ans, "是") == 0;
	free(ans);
	return yes;
}

/* One round: the questions, then register and/or log in. 1 logged in (*reply set), 0 not
 * (asking again may help), -1 give up. */
static int dialogue_round(struct dialogue *d, json_t **reply_out)
{
	int action = d->o->user != NULL ? 0 : ask_action(d);
	char *user = NULL, *password = NULL;
	json_t *reply = NULL;
	int status, rc = 0;
	char prompt[128];

	if (action < 0)
		return -1;
	user = d->o->user != NULL ? xstrdup(d->o->user) : ask(d, TR(d->o, "User name: ", "用户名："));
	if (user == NULL)
		return -1;
	password = account_password(d->o, d->in);
	if (password == NULL) {
		rc = -1;
		goto out;
	}
	if (action == 1) {
		status = account_step(d, true, user, password, &reply);
		json_decref(reply);
		reply = NULL;
		if (status != PIER_REGISTER_OK)
			goto out;
		snprintf(prompt, sizeof prompt, TR(d->o, "Log in as %s now? [Y/n] ", "现在以 %s 登录？[Y/n] "),
			 user);
		if (!ask_yes(d, prompt))
			goto out;
	}
	status = account_step(d, false, user, password, &reply);
	if (status == PIER_LOGIN_OK) {
		if (json_string_value(json_object_get(reply, "user")) == NULL)
			json_object_set_new(reply, "user", json_string(user));
		*reply_out = reply;
		reply = NULL;
		rc = 1;
	}
out:
	if (password != NULL)
		explicit_bzero(password, strlen(password));
	free(password);
	free(user);
	json_decref(reply);
	return rc;
}

struct pier_conn *account_dialogue(const struct cli_options *o, struct input *in, bool tty,
				   json_t **reply)
{
	struct dialogue d = { .o = o, .in = in, .tty = tty };

	*reply = NULL;
	d.conn = account_connect(o);
	for (int attempt = 0; d.conn != NULL && attempt < LOGIN_ATTEMPTS; attempt++) {
		int rc = dialogue_round(&d, reply);

		if (rc > 0)
			return d.conn;
		if (rc < 0 || d.conn == NULL || !tty || (o->user != NULL && account_password_from_env()))
			break;   /* nothing would change when asking again */
	}
	pier_conn_close(d.conn);
	return NULL;
}
