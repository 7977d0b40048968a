/* oneshot.c - `pier COMMAND`: register, or log in and make one request, print the result for
 * scripts and exit with a status that says how it went. */
#include "oneshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "e2ee_oneshot.h"
#include "input.h"
#include "media.h"
#include "media_e2ee.h"
#include "msgrules.h"
#include "names.h"
#include "render.h"

#define LOGOUT_TIMEOUT_MS  2000

typedef int command_fn(struct pier_conn *conn, const struct cli_options *o);

struct command {
	const char *name;
	int min_args, max_args;    /* positional arguments; max -1: any number */
	command_fn *run;           /* NULL: register (needs no login) */
};

/* Prints "pier: [context: ]text" on stderr for an error reply (or a missing one). */
static void print_failure(const struct cli_options *o, const json_t *reply, const char *context)
{
	const char *code = json_string_value(json_object_get(reply, "error"));
	const char *text = pier_error_text(code, o->lang);

	if (text == NULL)
		text = json_string_value(json_object_get(reply, "message"));
	if (reply == NULL)
		text = o->lang == PIER_LANG_ZH ? "服务器没有回应（超时或连接已关闭）"
					       : "no reply from the server (timeout or connection closed)";
	else if (text == NULL)
		text = code != NULL ? code : "unexpected reply";
	fprintf(stderr, "pier: %s%s%s\n", context != NULL ? context : "", context != NULL ? ": " : "",
		text);
}

/* Calls req; the reply if its op is op, else NULL after print_failure. */
static json_t *call_expect(struct pier_conn *conn, const struct cli_options *o, json_t *req,
			   const char *op, const char *context)
{
	json_t *reply = pier_conn_call(conn, req, CLI_REPLY_TIMEOUT_MS);

	if (reply != NULL && strcmp(pier_event_op(reply), op) == 0)
		return reply;
	print_failure(o, reply, context);
	json_decref(reply);
	return NULL;
}

/* "#room" and "@user" as they are; a bare name means "@name" when it can be a user's name,
 * else "#name" ("lobby": #lobby). call_target tries the room too when no such user exists. */
static void normalize_target(const char *in, char *out, size_t size)
{
	if (in[0] == '#' || in[0] == '@')
		snprintf(out, size, "%s", in);
	else if (pier_name_check(in) == PIER_NAME_OK)
		snprintf(out, size, "@%s", in);
	else
		snprintf(out, size, "#%s", in);
}

/* Calls make(o, target, text) on o's bare or marked name target; a bare name that is no user is
 * tried as a room. The reply with op, or NULL (the failure printed). */
static json_t *call_target(struct pier_conn *conn, const struct cli_options *o, const char *in,
                           json_t *(*make)(const struct cli_options *o, const char *target,
                                           const char *text),
                           const char *text, const char *op, char *target, size_t size)
{
	json_t *reply;

	normalize_target(in, target, size);
	reply = pier_conn_call(conn, make(o, target, text), CLI_REPLY_TIMEOUT_MS);
	if (reply != NULL && target[0] == '@' && in[0] != '@' &&
	    strcmp(pier_event_op(reply), "error") == 0 &&
	    json_is_string(json_object_get(reply, "error")) &&
	    strcmp(json_string_value(json_object_get(reply, "error")), "no_such_user") == 0) {
		json_decref(reply);
		snprintf(target, size, "#%s", in);
		reply = pier_conn_call(conn, make(o, target, text), CLI_REPLY_TIMEOUT_MS);
	}
	if (reply != NULL && strcmp(pier_event_op(reply), op) == 0)
		return reply;
	print_failure(o, reply, target);
	json_decref(reply);
	return NULL;
}

/* A room with its '#' (added when missing). */
static void normalize_room(const char *in, char *out, size_t size)
{
	snprintf(out, size, "%s%s", in[0] == '#' ? "" : "#", in);
}

/* The login reply of this run (its challenge proves the device of an encrypted send). */
static const json_t *login_reply;

static json_t *make_send(const struct cli_options *o, const char *target, const char *text)
{
	return pier_req_send_reply(target, text, NULL, o->reply_to);
}

static json_t *make_history(const struct cli_options *o, const char *target, const char *text)
{
	(void)text;
	return pier_req_history(target, o->before, o->limit);
}

static json_t *make_search(const struct cli_options *o, const char *target, const char *text)
{
	return pier_req_search(text, target, o->before, o->limit);
}

/* The command's arguments joined by spaces (malloc'd; NULL out of memory). */
static char *joined_args(const struct cli_options *o)
{
	size_t len = 0;
	char *text;

	for (int i = 0; i < o->nargs; i++)
		len += strlen(o->args[i]) + 1;
	text = malloc(len + 1);
	if (text == NULL)
		return NULL;
	text[0] = '\0';
	for (int i = 0; i < o->nargs; i++) {
		if (i > 0)
			strcat(text, " ");
		strcat(text, o->args[i]);
	}
	return text;
}


static int cmd_send(struct pier_conn *conn, const struct cli_options *o)
{
	char to[256];
	char *text = joined_args(o);
	json_t *reply;
	int rc = CLI_EXIT_FAIL;

	if (text == NULL)
		return CLI_EXIT_FAIL;
	normalize_target(o->to, to, sizeof to);
	if (to[0] == '@') {
		/* Private: end-to-end encrypted, unless the user has no device (or there is no
		 * encryption here): then as before. */
		json_t *plain = json_pack("{s:s, s:s}", "text", text, "kind", "text");
		bool plaintext = false;
		int64_t id = 0;

		if (o->reply_to > 0)
			json_object_set_new(plain, "reply_to", json_integer(o->reply_to));
		rc = e2ee_oneshot_send(conn, o, login_reply, to, plain, o->reply_to, 0, &id,
		                       &plaintext);
		json_decref(plain);
		if (rc != 0 || !plaintext) {
			if (rc == 0)
				printf("%lld\n", (long long)id);
			free(text);
			return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		}
	}
	reply = call_target(conn, o, o->to, make_send, text, "sent", to, sizeof to);
	if (reply != NULL) {
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(reply, "id")));
		rc = CLI_EXIT_OK;
	}
	json_decref(reply);
	free(text);
	return rc;
}

/* The messages of a history or search reply, one a line: JSON with --json, else the plain
 * format (a search's matches marked on a terminal). How many there were. */
static size_t print_msgs(const json_t *reply, const struct cli_options *o, bool search)
{
	json_t *msg;
	size_t i;

	json_array_foreach(json_object_get(reply, "messages"), i, msg) {
		if (o->json) {
			char *line = json_dumps(msg, JSON_COMPACT);

			if (line != NULL)
				puts(line);
			free(line);
		} else if (search) {
			render_plain_search(stdout, msg, o->color);
		} else {
			render_plain_msg(stdout, msg);
		}
	}
	return json_array_size(json_object_get(reply, "messages"));
}

static int cmd_history(struct pier_conn *conn, const struct cli_options *o)
{
	char with[256];
	json_t *reply;

	reply = call_target(conn, o, o->args[0], make_history, NULL, "history", with, sizeof with);
	if (reply == NULL)
		return CLI_EXIT_FAIL;
	/* encrypted messages: their text from this device's store */
	if (with[0] == '@')
		e2ee_oneshot_fill(o, login_reply, json_object_get(reply, "messages"));
	print_msgs(reply, o, false);
	json_decref(reply);
	return CLI_EXIT_OK;
}

#define SEARCH_DEFAULT  50     /* messages a search prints without --limit */
#define SEARCH_REQUESTS 10     /* requests one search makes at most: the server looks at a
                                * bounded number of matches per request, so a page may come
                                * back short, or empty, with more to come */

/* search TEXT... [--with TARGET]: the matches, newest first, as history prints them (the
 * matched parts in reverse video on a terminal); a note on stderr when older ones exist. */
static int cmd_search(struct pier_conn *conn, const struct cli_options *o)
{
	struct cli_options page = *o;
	char with[256];
	char *q = joined_args(o);
	int want = o->limit > 0 ? o->limit : SEARCH_DEFAULT, got = 0;
	json_int_t next = 0;
	bool zh = o->lang == PIER_LANG_ZH;

	if (q == NULL)
		return CLI_EXIT_FAIL;
	for (int asked = 0; asked < SEARCH_REQUESTS && got < want; asked++) {
		json_t *reply;

		page.limit = want - got;
		page.before = asked == 0 ? o->before : (int64_t)next;
		if (o->with != NULL)
			reply = call_target(conn, &page, o->with, make_search, q, "search", with,
			                    sizeof with);
		else
			reply = call_expect(conn, &page, make_search(&page, NULL, q), "search", NULL);
		if (reply == NULL) {
			free(q);
			return CLI_EXIT_FAIL;
		}
		got += (int)print_msgs(reply, o, true);
		next = json_is_true(json_object_get(reply, "more"))
		       ? json_integer_value(json_object_get(reply, "next_before")) : 0;
		json_decref(reply);
		if (next <= 0)
			break;
	}
	free(q);
	if (next > 0)
		fprintf(stderr, zh ? "pier: 还有更早的结果：加上 --before %" JSON_INTEGER_FORMAT "\n"
		                   : "pier: older matches exist: add --before %" JSON_INTEGER_FORMAT "\n",
		        next);
	else if (got == 0)
		fputs(zh ? "pier: 没有匹配的消息\n" : "pier: no messages match\n", stderr);
	return CLI_EXIT_OK;
}

static void print_rooms(const json_t *rooms, const struct cli_options *o)
{
	json_t *room;
	size_t i;

	json_array_foreach(rooms, i, room) {
		if (o->json) {
			char *line = json_dumps(room, JSON_COMPACT);

			if (line != NULL)
				puts(line);
			free(line);
			continue;
		}
		printf("%s\t%" JSON_INTEGER_FORMAT "\t%s\n",
		       json_string_value(json_object_get(room, "room")) != NULL
			       ? json_string_value(json_object_get(room, "room")) : "?",
		       json_integer_value(json_object_get(room, "members")),
		       json_is_true(json_object_get(room, "joined")) ? "joined" : "-");
	}
}

/* Every room, a page at a time (the server sends at most 1000 an answer). */
static int cmd_rooms(struct pier_conn *conn, const struct cli_options *o)
{
	char after[PIER_KEY_MAX + 8] = "";
	bool more = true;

	/* Bounded: a million rooms at most, and a server that says "more" without moving on is
	 * not followed. */
	for (int pages = 0; more && pages < 1000; pages++) {
		json_t *reply = call_expect(conn, o, pier_req_rooms_page(after[0] ? after : NULL, 0),
		                            "rooms", NULL), *rooms, *last;
		const char *last_name;

		if (reply == NULL)
			return CLI_EXIT_FAIL;
		rooms = json_object_get(reply, "rooms");
		print_rooms(rooms, o);
		last = json_array_get(rooms, json_array_size(rooms) - 1);
		last_name = json_string_value(json_object_get(last, "room"));
		more = json_is_true(json_object_get(reply, "more")) && last_name != NULL &&
		       strcmp(last_name, after) != 0;
		if (last_name != NULL)
			snprintf(after, sizeof(after), "%s", last_name);
		json_decref(reply);
	}
	return CLI_EXIT_OK;
}

static int cmd_who(struct pier_conn *conn, const struct cli_options *o)
{
	json_t *reply = call_expect(conn, o, pier_req_users(), "users", NULL), *user;
	size_t i;

	if (reply == NULL)
		return CLI_EXIT_FAIL;
	json_array_foreach(json_object_get(reply, "online"), i, user) {
		if (o->json) {
			char *line = json_dumps(user, JSON_COMPACT | JSON_ENCODE_ANY);

			if (line != NULL)
				puts(line);
			free(line);
		} else if (json_is_string(user)) {
			puts(json_string_value(user));
		}
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int cmd_join(struct pier_conn *conn, const struct cli_options *o)
{
	char room[256];
	json_t *reply;
	const char *name;
	json_int_t members;
	bool zh = o->lang == PIER_LANG_ZH;

	normalize_room(o->args[0], room, sizeof room);
	reply = call_expect(conn, o, pier_req_join(room), "join", room);
	if (reply == NULL)
		return CLI_EXIT_FAIL;
	name = json_string_value(json_object_get(reply, "room"));
	name = name != NULL ? name : room;
	members = json_integer_value(json_object_get(reply, "members"));
	if (json_is_true(json_object_get(reply, "already")))
		printf(zh ? "已在 %s 中（%" JSON_INTEGER_FORMAT " 名成员）\n"
			  : "already in %s (members: %" JSON_INTEGER_FORMAT ")\n", name, members);
	else if (json_is_true(json_object_get(reply, "created")))
		printf(zh ? "已创建并加入 %s\n" : "created and joined %s\n", name);
	else
		printf(zh ? "已加入 %s（%" JSON_INTEGER_FORMAT " 名成员）\n"
			  : "joined %s (members: %" JSON_INTEGER_FORMAT ")\n", name, members);
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int cmd_part(struct pier_conn *conn, const struct cli_options *o)
{
	char room[256];
	json_t *reply;
	const char *name;

	normalize_room(o->args[0], room, sizeof room);
	reply = call_expect(conn, o, pier_req_part(room), "part", room);
	if (reply == NULL)
		return CLI_EXIT_FAIL;
	name = json_string_value(json_object_get(reply, "room"));
	printf(o->lang == PIER_LANG_ZH ? "已退出 %s\n" : "left %s\n", name != NULL ? name : room);
	json_decref(reply);
	return CLI_EXIT_OK;
}

/* The arguments from the first'th on, joined by spaces (malloc'd). */
static char *join_args(const struct cli_options *o, int first)
{
	size_t len = 1;
	char *text;

	for (int i = first; i < o->nargs; i++)
		len += strlen(o->args[i]) + 1;
	text = malloc(len);
	if (text == NULL)
		return NULL;
	text[0] = '\0';
	for (int i = first; i < o->nargs; i++) {
		if (i > first)
			strcat(text, " ");
		strcat(text, o->args[i]);
	}
	return text;
}

/* args[0] as a message id; 0 (said so) when it is not one. */
static int64_t message_id_arg(const struct cli_options *o)
{
	char *end;
	long long id = strtoll(o->args[0], &end, 10);

	if (*end != '\0' || end == o->args[0] || id <= 0) {
		fprintf(stderr, "pier: %s needs a message id (a number, as send prints it and history "
		        "shows it), not '%s'\n", o->command, o->args[0]);
		return 0;
	}
	return id;
}

static int cmd_recall(struct pier_conn *conn, const struct cli_options *o)
{
	int64_t id = message_id_arg(o);
	json_t *reply;

	if (id == 0)
		return CLI_EXIT_USAGE;
	reply = call_expect(conn, o, pier_req_recall(id), "recall", o->args[0]);
	if (reply == NULL)
		return CLI_EXIT_FAIL;
	printf(o->lang == PIER_LANG_ZH ? "已撤回 %lld\n" : "recalled %lld\n", (long long)id);
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int cmd_edit(struct pier_conn *conn, const struct cli_options *o)
{
	int64_t id = message_id_arg(o);
	char *text;
	json_t *reply;

	if (id == 0)
		return CLI_EXIT_USAGE;
	text = join_args(o, 1);
	if (text == NULL)
		return CLI_EXIT_FAIL;
	reply = call_expect(conn, o, pier_req_edit(id, text), "edit", o->args[0]);
	free(text);
	if (reply == NULL)
		return CLI_EXIT_FAIL;
	printf(o->lang == PIER_LANG_ZH ? "已编辑 %lld\n" : "edited %lld\n", (long long)id);
	json_decref(reply);
	return CLI_EXIT_OK;
}

static int cmd_react(struct pier_conn *conn, const struct cli_options *o)
{
	int64_t id = message_id_arg(o);
	json_t *reply;

	if (id == 0)
		return CLI_EXIT_USAGE;
	if (!pier_reaction_check(o->args[1])) {
		fprintf(stderr, "pier: %s\n", pier_error_text("bad_emoji", o->lang));
		return CLI_EXIT_USAGE;
	}
	reply = call_expect(conn, o, pier_req_react(id, o->args[1], !o->off), "react", o->args[0]);
	if (reply == NULL)
		return CLI_EXIT_FAIL;
	/* the count of that emoji on the message now */
	printf("%lld %s %" JSON_INTEGER_FORMAT "\n", (long long)id, o->args[1],
	       json_integer_value(json_object_get(reply, "count")));
	json_decref(reply);
	return CLI_EXIT_OK;
}

/* send --file PATH: upload (media.h), then send it with the arguments as its caption. */
static int oneshot_send_file(struct pier_conn *conn, const struct cli_options *o, const char *token)
{
	char to[256], caption[4096] = "";
	size_t len = 0;

	normalize_target(o->to, to, sizeof to);
	for (int i = 0; i < o->nargs; i++) {
		int n = snprintf(caption + len, sizeof caption - len, "%s%s", i > 0 ? " " : "", o->args[i]);

		if (n < 0 || (size_t)n >= sizeof caption - len)
			break;
		len += (size_t)n;
	}
	if (to[0] == '@' && !o->no_e2ee &&
	    json_string_value(json_object_get(login_reply, "challenge")) != NULL) {
		/* Private: the file is encrypted here first (media_e2ee.h), then sent encrypted; a
		 * user without devices gets it as before. */
		struct cli_media m;
		char err[512] = "";
		json_t *file = NULL, *plain;
		int64_t media, id = 0;
		bool plaintext = false;
		int rc;

		cli_media_init(&m, o, NULL);
		media = media_e2ee_upload(&m, token, o->file, &file, err, sizeof err);
		cli_media_release(&m);
		if (media <= 0) {
			fprintf(stderr, "pier: %s: %s\n", o->file, err);
			return CLI_EXIT_FAIL;
		}
		plain = json_pack("{s:s, s:O, s:O}", "text", caption, "kind",
		                  json_object_get(file, "kind"), "file", file);
		json_object_del(json_object_get(plain, "file"), "kind");
		rc = e2ee_oneshot_send(conn, o, login_reply, to, plain, 0, media, &id, &plaintext);
		json_decref(plain);
		json_decref(file);
		if (rc == 0 && !plaintext) {
			printf("%lld\n", (long long)id);
			return CLI_EXIT_OK;
		}
		if (rc != 0)
			return CLI_EXIT_FAIL;
	}
	return cli_media_oneshot_send(conn, o, token, to, caption);
}

static const struct command commands[] = {
	{ "register", 0, 0, NULL },
	{ "send", 1, -1, cmd_send },
	{ "history", 1, 1, cmd_history },
	{ "search", 1, -1, cmd_search },
	{ "rooms", 0, 0, cmd_rooms },
	{ "who", 0, 0, cmd_who },
	{ "join", 1, 1, cmd_join },
	{ "part", 1, 1, cmd_part },
	{ "recall", 1, 1, cmd_recall },
	{ "edit", 2, -1, cmd_edit },
	{ "react", 2, 2, cmd_react },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

bool oneshot_is_command(const char *name)
{
	return find_command(name) != NULL;
}

/* Arguments a command cannot do without, checked before anything goes on the network. */
static bool check_usage(const struct command *cmd, const struct cli_options *o)
{
	const char *problem = NULL;

	if (o->user == NULL)
		problem = "needs --user NAME";
	else if (o->nargs < cmd->min_args && !(strcmp(cmd->name, "send") == 0 && o->file != NULL))
		problem = strcmp(cmd->name, "send") == 0 ? "needs the text to send"
		        : strcmp(cmd->name, "search") == 0 ? "needs the text to search for"
		        : "needs an argument";
	else if (cmd->max_args >= 0 && o->nargs > cmd->max_args)
		problem = "has too many arguments";
	else if (strcmp(cmd->name, "send") == 0 && o->to == NULL)
		problem = "needs --to #ROOM or --to @USER";
	if (problem == NULL)
		return true;
	fprintf(stderr, "pier: %s %s\nTry 'pier --help'.\n", cmd->name, problem);
	return false;
}

int oneshot_run(const struct cli_options *o)
{
	const struct command *cmd = find_command(o->command);
	struct input *in = NULL;
	struct pier_conn *conn = NULL;
	char *password = NULL;
	json_t *reply = NULL;
	bool do_register;
	int status, rc = CLI_EXIT_FAIL;

	if (cmd == NULL || !check_usage(cmd, o))
		return CLI_EXIT_USAGE;
	do_register = cmd->run == NULL;
	in = input_new(STDIN_FILENO);
	if (in == NULL)
		goto out;
	password = account_password(o, in);
	if (password == NULL) {
		fputs(o->lang == PIER_LANG_ZH ? "pier: 没有密码\n" : "pier: no password given\n", stderr);
		goto out;
	}
	conn = account_connect(o);
	if (conn == NULL)
		goto out;
	status = account_call(conn, do_register, o->user, password, o->display, &reply);
	if (do_register && status == PIER_REGISTER_OK) {
		account_print_result(stdout, o, true, status, reply);
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (do_register || status != PIER_LOGIN_OK) {
		fputs("pier: ", stderr);
		account_print_result(stderr, o, do_register, status, reply);
		goto out;
	}
	login_reply = reply;
	if (strcmp(cmd->name, "send") == 0 && o->file != NULL)
		rc = oneshot_send_file(conn, o, json_string_value(json_object_get(reply, "token")));
	else
		rc = cmd->run(conn, o);
	/* Revoke this session's token: a one-shot login should leave nothing behind. */
	json_decref(pier_conn_call(conn, pier_req_logout(), LOGOUT_TIMEOUT_MS));
out:
	if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
		perror("pier: stdout");
		rc = CLI_EXIT_FAIL;
	}
	json_decref(reply);
	pier_conn_close(conn);
	if (password != NULL)
		explicit_bzero(password, strlen(password));
	free(password);
	input_free(in);
	return rc;
}
