/* interactive.c - the chat session of `pier`: log in or register, then one poll(2) loop over
 * stdin and the server.
 *
 * The network never blocks the keyboard: requests are queued in libpier's core and sent by
 * pier_conn_pump when the socket takes them; replies are matched to what asked for them by
 * "ref" (struct pending). On a terminal, typing goes through libedit's readline-compatible
 * callback interface, and a line that arrives meanwhile is printed above the input line:
 * the prompt and the partial input are erased, the line printed, and libedit redraws both
 * (its buffer is untouched, so nothing typed is lost). When stdin is not a terminal, plain
 * lines are read instead, with the same meaning.
 */
#define _XOPEN_SOURCE 700      /* wcwidth(3): where the cursor is on a wrapped input line */

#include "interactive.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include <editline/readline.h>

#include "account.h"
#include "clock.h"
#include "input.h"
#include "names.h"
#include "render.h"

#define TARGET_MAX          40      /* "#room" or "@user" and NUL */
#define HISTORY_DEFAULT     20
#define HISTORY_MAX         200
#define SYNC_PAGE           200
#define DRAIN_TIMEOUT_MS    10000   /* at the end: how long replies still awaited may take */
#define LOGOUT_TIMEOUT_MS   2000
#define LOGIN_ATTEMPTS      5

enum req_kind { REQ_SEND, REQ_JOIN, REQ_PART, REQ_ROOMS, REQ_USERS, REQ_HISTORY, REQ_SYNC };

/* A request waiting for its reply. */
struct pending {
	char ref[PIER_REF_MAX];
	enum req_kind kind;
	char target[TARGET_MAX];   /* send: to; join: where we talked before; part: the room;
				    * history: with */
	char *text;                /* send: the text, shown once the server has stored it */
	struct pending *next;
};

struct chat {
	const struct cli_options *o;
	struct render r;
	struct pier_conn *conn;
	struct input *in;          /* stdin when it is not a terminal */
	bool tty;                  /* stdin is a terminal: libedit */
	bool rl_on;                /* libedit's callback handler is installed */
	bool line_done;            /* libedit handed over a line (reinstall the handler) */
	bool closing;              /* no more input: finish the replies awaited, then quit */
	bool quit;
	int rc;
	char self[PIER_NAME_MAX + 1];
	char target[TARGET_MAX];   /* where typed text goes */
	char prompt[TARGET_MAX + 2];
	struct pending *pending, *pending_tail;
};

/* libedit's line callback takes no context: the one chat of this process, for on_rl_line. */
static struct chat *rl_chat;

/* The text in the session's language. A macro, so that printf formats stay literals the
 * compiler checks. */
#define TR(ch, en, zh)  ((ch)->r.lang == PIER_LANG_ZH ? (zh) : (en))

/* ---- the terminal ---- */

static int screen_cols(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Columns the first n bytes of s take on the screen. */
static int text_width(const char *s, size_t n)
{
	mbstate_t st;
	int w = 0;

	memset(&st, 0, sizeof st);
	while (n > 0) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, n, &st);
		int cw;

		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&st, 0, sizeof st);
			k = 1;
			cw = 1;
		} else {
			if (k == 0)
				k = 1;
			cw = wcwidth(wc);
		}
		w += cw > 0 ? cw : 0;
		s += k;
		n -= k;
	}
	return w;
}

/* Moves the cursor to where a line of `columns` columns, printed from column 0, began, and
 * clears from there to the end of the screen. */
static void erase_back(int columns)
{
	int rows = columns / screen_cols();

	fputc('\r', stdout);
	if (rows > 0)
		fprintf(stdout, "\033[%dA", rows);
	fputs("\033[J", stdout);
}

/* Prints text (whole lines) so that the input line is not garbled: on a terminal with the
 * line editor active, the prompt and the partial input are erased first and redrawn after. */
static void say(struct chat *ch, const char *text, size_t len)
{
	if (len == 0)
		return;
	if (ch->rl_on) {
		size_t point = rl_line_buffer != NULL ? (size_t)(rl_point > 0 ? rl_point : 0) : 0;

		erase_back((int)strlen(ch->prompt) + text_width(rl_line_buffer != NULL ? rl_line_buffer : "",
								   point));
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		rl_forced_update_display();
	} else {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
	}
}

/* A memory stream for building what say() prints. */
struct out {
	FILE *f;
	char *buf;
	size_t len;
};

static FILE *out_open(struct out *out)
{
	out->buf = NULL;
	out->len = 0;
	out->f = open_memstream(&out->buf, &out->len);
	return out->f != NULL ? out->f : stdout;
}

static void out_say(struct chat *ch, struct out *out)
{
	if (out->f == NULL)
		return;
	fclose(out->f);
	say(ch, out->buf, out->len);
	free(out->buf);
}

static void info(struct chat *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void info(struct chat *ch, const char *fmt, ...)
{
	struct out out;
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	render_info(out_open(&out), &ch->r, "%s", buf);
	out_say(ch, &out);
}

static void error_reply(struct chat *ch, const json_t *err, const char *context)
{
	struct out out;

	render_error(out_open(&out), &ch->r, err, context);
	out_say(ch, &out);
}

/* An error of the client's own (not from the server), shown like the server's. */
static void error_text(struct chat *ch, const char *text)
{
	json_t *err = json_pack("{s:s, s:s}", "op", "error", "message", text);

	error_reply(ch, err, NULL);
	json_decref(err);
}

static void set_target(struct chat *ch, const char *target)
{
	snprintf(ch->target, sizeof ch->target, "%s", target);
	snprintf(ch->prompt, sizeof ch->prompt, "%s> ", ch->target);
	if (ch->rl_on)
		rl_set_prompt(ch->prompt);
}

/* ---- requests ---- */

/* Queues req (taken); the reply is handled by kind. 0, or -1 if it could not be encoded. */
static int request(struct chat *ch, json_t *req, enum req_kind kind, const char *target,
		   const char *text)
{
	struct pending *p = calloc(1, sizeof *p);

	if (p == NULL || (text != NULL && (p->text = strdup(text)) == NULL) ||
	    pier_client_request(pier_conn_client(ch->conn), req, p->ref) != 0) {
		if (p == NULL || p->text != NULL || text == NULL)
			error_text(ch, TR(ch, "Could not make the request (invalid UTF-8?)",
					  "无法生成请求（文本不是有效的 UTF-8？）"));
		if (p != NULL)
			free(p->text);
		free(p);
		return -1;
	}
	p->kind = kind;
	snprintf(p->target, sizeof p->target, "%s", target != NULL ? target : "");
	if (ch->pending_tail != NULL)
		ch->pending_tail->next = p;
	else
		ch->pending = p;
	ch->pending_tail = p;
	return 0;
}

/* Removes and returns the pending request with this ref, or NULL. */
static struct pending *take_pending(struct chat *ch, const char *ref)
{
	struct pending *prev = NULL;

	for (struct pending *p = ch->pending; p != NULL; prev = p, p = p->next) {
		if (strcmp(p->ref, ref) != 0)
			continue;
		if (prev != NULL)
			prev->next = p->next;
		else
			ch->pending = p->next;
		if (ch->pending_tail == p)
			ch->pending_tail = prev;
		return p;
	}
	return NULL;
}

static void free_pending(struct pending *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p);
}

static void send_text(struct chat *ch, const char *to, const char *text)
{
	request(ch, pier_req_send(to, text, NULL), REQ_SEND, to, text);
}

/* ---- what the user types ---- */

static bool same_key(const char *a, const char *b)
{
	char ka[PIER_KEY_MAX], kb[PIER_KEY_MAX];

	pier_name_key(a, ka);
	pier_name_key(b, kb);
	return strcmp(ka, kb) == 0;
}

static char *skip_space(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
}

/* "user" or "@user" as "@user" in out; false if it is no valid user name. */
static bool user_target(const char *arg, char out[TARGET_MAX])
{
	const char *name = arg[0] == '@' ? arg + 1 : arg;

	if (pier_name_check(name) != PIER_NAME_OK)
		return false;
	snprintf(out, TARGET_MAX, "@%s", name);
	return true;
}

/* "room" or "#room" as "#room" in out; false if it is no valid room name. */
static bool room_target(const char *arg, char out[TARGET_MAX])
{
	snprintf(out, TARGET_MAX, "%s%s", arg[0] == '#' ? "" : "#", arg);
	return strlen(arg) < TARGET_MAX - 1 && pier_room_check(out) == PIER_NAME_OK;
}

static void show_help(struct chat *ch)
{
	static const char en[] =
		"Typed text goes to the current room or user (shown in the prompt).\n"
		"  text~user           send text privately to user\n"
		"  /msg USER TEXT      send TEXT privately to USER\n"
		"  /join #ROOM         join (or create) #ROOM and talk there\n"
		"  /part [#ROOM]       leave #ROOM (default: the current one)\n"
		"  /rooms              list the rooms\n"
		"  /who                list the users online\n"
		"  /history [N]        the last N messages here (default 20)\n"
		"  /switch #ROOM|@USER talk to another room or user\n"
		"  /help               this help\n"
		"  /quit               leave (also Ctrl-D)\n"
		"  //text              send text that starts with '/'";
	static const char zh[] =
		"输入的文字发送到当前聊天室或用户（见提示符）。\n"
		"  文字~用户名          私聊：把文字发给该用户\n"
		"  /msg 用户 文字       私聊\n"
		"  /join #聊天室        加入（或创建）聊天室并切换过去\n"
		"  /part [#聊天室]      退出聊天室（默认当前聊天室）\n"
		"  /rooms              列出聊天室\n"
		"  /who                列出在线用户\n"
		"  /history [N]        当前会话最近 N 条消息（默认 20）\n"
		"  /switch #聊天室|@用户 切换会话\n"
		"  /help               显示帮助\n"
		"  /quit               退出（或 Ctrl-D）\n"
		"  //文字               发送以 '/' 开头的文字";
	info(ch, "%s", ch->r.lang == PIER_LANG_ZH ? zh : en);
}

static void cmd_msg(struct chat *ch, char *args)
{
	char *text = args, to[TARGET_MAX];

	while (*text != '\0' && *text != ' ' && *text != '\t')
		text++;
	if (*text != '\0')
		*text++ = '\0';
	text = skip_space(text);
	if (!user_target(args, to) || *text == '\0') {
		error_text(ch, TR(ch, "Usage: /msg USER TEXT", "用法：/msg 用户 文字"));
		return;
	}
	send_text(ch, to, text);
}

static void cmd_part(struct chat *ch, char *args)
{
	char room[TARGET_MAX];

	if (*args == '\0' && ch->target[0] == '#')
		snprintf(room, sizeof room, "%s", ch->target);
	else if (*args == '\0' || !room_target(args, room)) {
		error_text(ch, TR(ch, "Usage: /part [#ROOM]", "用法：/part [#聊天室]"));
		return;
	}
	request(ch, pier_req_part(room), REQ_PART, room, NULL);
}

static void cmd_history(struct chat *ch, char *args)
{
	long n = HISTORY_DEFAULT;

	if (*args != '\0') {
		char *end;

		n = strtol(args, &end, 10);
		if (*end != '\0' || n < 1 || n > HISTORY_MAX) {
			error_text(ch, TR(ch, "Usage: /history [N], N from 1 to 200",
					  "用法：/history [N]，N 为 1 到 200"));
			return;
		}
	}
	request(ch, pier_req_history(ch->target, 0, (int)n), REQ_HISTORY, ch->target, NULL);
}

static void cmd_switch(struct chat *ch, char *args)
{
	char target[TARGET_MAX];

	if ((args[0] == '#' && room_target(args, target)) ||
	    (args[0] != '#' && user_target(args, target))) {
		set_target(ch, target);
		info(ch, TR(ch, "Now talking to %s", "当前会话：%s"), target);
		return;
	}
	error_text(ch, TR(ch, "Usage: /switch #ROOM or /switch @USER", "用法：/switch #聊天室 或 /switch @用户"));
}

static void command(struct chat *ch, char *line)
{
	char *name = line + 1, *args = name;

	while (*args != '\0' && *args != ' ' && *args != '\t')
		args++;
	if (*args != '\0')
		*args++ = '\0';
	args = skip_space(args);
	trim_end(args);

	if (strcmp(name, "msg") == 0 || strcmp(name, "m") == 0) {
		cmd_msg(ch, args);
	} else if (strcmp(name, "join") == 0 || strcmp(name, "j") == 0) {
		char room[TARGET_MAX];

		/* Talk there at once (typed-ahead lines go to the room); an error switches back. */
		if (!room_target(args, room))
			error_text(ch, TR(ch, "Usage: /join #ROOM", "用法：/join #聊天室"));
		else if (request(ch, pier_req_join(room), REQ_JOIN, ch->target, NULL) == 0)
			set_target(ch, room);
	} else if (strcmp(name, "part") == 0 || strcmp(name, "leave") == 0) {
		cmd_part(ch, args);
	} else if (strcmp(name, "rooms") == 0) {
		request(ch, pier_req_rooms(), REQ_ROOMS, NULL, NULL);
	} else if (strcmp(name, "who") == 0 || strcmp(name, "users") == 0) {
		request(ch, pier_req_users(), REQ_USERS, NULL, NULL);
	} else if (strcmp(name, "history") == 0) {
		cmd_history(ch, args);
	} else if (strcmp(name, "switch") == 0 || strcmp(name, "s") == 0) {
		cmd_switch(ch, args);
	} else if (strcmp(name, "help") == 0 || strcmp(name, "?") == 0) {
		show_help(ch);
	} else if (strcmp(name, "quit") == 0 || strcmp(name, "exit") == 0 || strcmp(name, "q") == 0) {
		ch->closing = true;
	} else {
		char buf[128];

		snprintf(buf, sizeof buf, TR(ch, "Unknown command /%.40s; /help lists them",
					     "未知命令 /%.40s；输入 /help 查看帮助"), name);
		error_text(ch, buf);
	}
}

/* The report's private syntax: "text~user" (the LAST '~' splits) sends text to user; when
 * what follows is no valid user name, the line is an ordinary message. */
static void message(struct chat *ch, char *line)
{
	char *tilde = strrchr(line, '~');

	if (tilde != NULL && tilde != line) {
		char *name = skip_space(tilde + 1), to[TARGET_MAX];

		trim_end(name);
		if (user_target(name, to)) {
			*tilde = '\0';
			trim_end(line);
			if (line[0] != '\0') {
				send_text(ch, to, line);
				return;
			}
			*tilde = '~';
		}
	}
	send_text(ch, ch->target, line);
}

/* One line typed (libedit already showed it on a terminal). */
static void handle_line(struct chat *ch, char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		line[--n] = '\0';
	if (line[strspn(line, " \t")] == '\0')
		return;
	if (line[0] == '/' && line[1] != '/') {
		command(ch, line);
		return;
	}
	if (ch->tty) {
		/* The message is shown again, with time and target, once the server stored it:
		 * erase libedit's echo of it (the cursor is on the line after it). */
		int columns = (int)strlen(ch->prompt) + text_width(line, n);
		int cols = screen_cols();

		fprintf(stdout, "\033[%dA", (columns + cols - 1) / cols > 0 ? (columns + cols - 1) / cols : 1);
		erase_back(0);
		fflush(stdout);
	}
	message(ch, line[0] == '/' ? line + 1 : line);
}

static void on_rl_line(char *line)
{
	struct chat *ch = rl_chat;

	ch->line_done = true;
	if (line == NULL) {          /* Ctrl-D on an empty line */
		ch->closing = true;
		return;
	}
	if (line[0] != '\0')
		add_history(line);
	/* The cursor is on a line of its own and libedit's buffer still holds this line: what
	 * handle_line prints goes out plainly; the handler, installed again, draws the prompt. */
	ch->rl_on = false;
	handle_line(ch, line);
	ch->rl_on = true;
	free(line);
}

/* ---- what the server sends ---- */

/* A message the server stored for us: shown like the ones others send. */
static void show_sent(struct chat *ch, const struct pending *p, const json_t *reply)
{
	json_t *msg;
	struct out out;

	if (json_is_true(json_object_get(reply, "duplicate")))
		return;
	msg = json_pack("{s:O?, s:s, s:s, s:s, s:O?}", "id", json_object_get(reply, "id"),
			"from", ch->self, "to", p->target, "text", p->text != NULL ? p->text : "",
			"ts", json_object_get(reply, "ts"));
	if (msg == NULL)
		return;
	render_msg(out_open(&out), &ch->r, msg);
	out_say(ch, &out);
	json_decref(msg);
}

static void show_messages(struct chat *ch, const json_t *messages)
{
	struct out out;
	FILE *f = out_open(&out);
	json_t *msg;
	size_t i;

	json_array_foreach(messages, i, msg)
		render_msg(f, &ch->r, msg);
	out_say(ch, &out);
}

static void show_rooms(struct chat *ch, const json_t *reply)
{
	struct out out;
	FILE *f = out_open(&out);
	json_t *room;
	size_t i;

	render_info(f, &ch->r, "%s", TR(ch, "Rooms:", "聊天室："));
	json_array_foreach(json_object_get(reply, "rooms"), i, room) {
		const char *name = json_string_value(json_object_get(room, "room"));
		bool joined = json_is_true(json_object_get(room, "joined"));

		fprintf(f, "  %s ", name != NULL && same_key(name, ch->target) ? "*" : " ");
		render_safe(f, name != NULL ? name : "?", false);
		fprintf(f, TR(ch, "  (%" JSON_INTEGER_FORMAT ")%s\n", "  （%" JSON_INTEGER_FORMAT " 人）%s\n"),
			json_integer_value(json_object_get(room, "members")),
			joined ? TR(ch, " joined", " 已加入") : "");
	}
	out_say(ch, &out);
}

static void show_users(struct chat *ch, const json_t *ev)
{
	json_t *online = json_object_get(ev, "online"), *u;
	char buf[900] = "";
	size_t i, len = 0;

	json_array_foreach(online, i, u) {
		const char *name = json_string_value(u);
		int n;

		if (name == NULL || len >= sizeof buf)
			continue;
		n = snprintf(buf + len, sizeof buf - len, "%s%s", len > 0 ? ", " : "", name);
		len += n > 0 ? (size_t)n : 0;
	}
	info(ch, TR(ch, "Online (%zu): %s", "在线用户（%zu）：%s"), json_array_size(online), buf);
}

static void handle_reply(struct chat *ch, struct pending *p, json_t *reply)
{
	const char *op = pier_event_op(reply);
	const char *room = json_string_value(json_object_get(reply, "room"));
	char ctx[TARGET_MAX + 64];

	if (strcmp(op, "error") == 0) {
		if (p->kind == REQ_SEND)
			snprintf(ctx, sizeof ctx, TR(ch, "Not sent to %s", "未能发送到 %s"), p->target);
		else if (p->kind != REQ_JOIN)
			snprintf(ctx, sizeof ctx, "%s", p->target);
		else
			ctx[0] = '\0';
		error_reply(ch, reply, ctx[0] != '\0' ? ctx : NULL);
		if (p->kind == REQ_JOIN) {
			set_target(ch, p->target);
			info(ch, TR(ch, "Talking to %s again", "回到会话 %s"), p->target);
		}
		return;
	}
	room = room != NULL ? room : p->target;
	switch (p->kind) {
	case REQ_SEND:
		show_sent(ch, p, reply);
		break;
	case REQ_JOIN:
		if (json_is_true(json_object_get(reply, "already")))
			info(ch, TR(ch, "Already in %s", "已在 %s 中"), room);
		else if (json_is_true(json_object_get(reply, "created")))
			info(ch, TR(ch, "Created and joined %s", "已创建并加入 %s"), room);
		else
			info(ch, TR(ch, "Joined %s (members: %" JSON_INTEGER_FORMAT ")",
				    "已加入 %s（%" JSON_INTEGER_FORMAT " 名成员）"),
			     room, json_integer_value(json_object_get(reply, "members")));
		break;
	case REQ_PART:
		info(ch, TR(ch, "Left %s", "已退出 %s"), room);
		if (same_key(room, ch->target))
			set_target(ch, "#lobby");
		break;
	case REQ_ROOMS:
		show_rooms(ch, reply);
		break;
	case REQ_USERS:
		show_users(ch, reply);
		break;
	case REQ_HISTORY:
		if (json_array_size(json_object_get(reply, "messages")) == 0) {
			info(ch, TR(ch, "No messages with %s yet", "与 %s 还没有消息"), p->target);
			break;
		}
		info(ch, TR(ch, "History of %s:", "%s 的历史消息："), p->target);
		show_messages(ch, json_object_get(reply, "messages"));
		break;
	case REQ_SYNC: {
		json_t *messages = json_object_get(reply, "messages");
		json_t *last = json_array_get(messages, json_array_size(messages) - 1);

		show_messages(ch, messages);
		if (json_is_true(json_object_get(reply, "more")) && last != NULL)
			request(ch, pier_req_sync(json_integer_value(json_object_get(last, "id")), SYNC_PAGE),
				REQ_SYNC, NULL, NULL);
		break;
	}
	}
}

static void handle_event(struct chat *ch, json_t *ev)
{
	const char *op = pier_event_op(ev);
	const char *ref = json_string_value(json_object_get(ev, "ref"));
	const char *user = json_string_value(json_object_get(ev, "user"));
	struct pending *p = ref != NULL ? take_pending(ch, ref) : NULL;

	if (p != NULL) {
		handle_reply(ch, p, ev);
		free_pending(p);
		return;
	}
	user = user != NULL ? user : "?";
	if (strcmp(op, "msg") == 0) {
		struct out out;

		render_msg(out_open(&out), &ch->r, ev);
		out_say(ch, &out);
	} else if (strcmp(op, "presence") == 0) {
		if (json_is_true(json_object_get(ev, "online")))
			info(ch, TR(ch, "%s is online", "%s 上线了"), user);
		else
			info(ch, TR(ch, "%s went offline", "%s 下线了"), user);
	} else if (strcmp(op, "member") == 0) {
		const char *room = json_string_value(json_object_get(ev, "room"));

		if (json_is_true(json_object_get(ev, "joined")))
			info(ch, TR(ch, "%s joined %s", "%s 加入了 %s"), user, room != NULL ? room : "?");
		else
			info(ch, TR(ch, "%s left %s", "%s 退出了 %s"), user, room != NULL ? room : "?");
	} else if (strcmp(op, "users") == 0) {
		show_users(ch, ev);
	} else if (strcmp(op, "offline") == 0) {
		/* More private messages arrived while we were away than the server pushes. */
		if (json_is_true(json_object_get(ev, "more")))
			request(ch, pier_req_sync(json_integer_value(json_object_get(ev, "after")), SYNC_PAGE),
				REQ_SYNC, NULL, NULL);
	} else if (strcmp(op, "error") == 0) {
		error_reply(ch, ev, NULL);
	}
	/* pong, replies to requests no longer awaited, unknown ops: nothing to show. */
}

/* Handles every event read so far. False once the connection is gone. */
static bool drain_events(struct chat *ch)
{
	json_t *ev;

	while ((ev = pier_conn_next(ch->conn, 0)) != NULL) {
		handle_event(ch, ev);
		json_decref(ev);
	}
	return !pier_conn_is_closed(ch->conn);
}

/* ---- logging in ---- */

/* A line typed in answer to a question: libedit on a terminal, a plain line otherwise. */
static char *ask(struct chat *ch, const char *prompt)
{
	char *line;

	if (!ch->tty)
		return input_read_line(ch->in);
	line = readline(prompt);
	if (line != NULL)
		trim_end(line);
	return line;
}

/* A connection that is still open: the server closes one that has not logged in within
 * its login timeout, which a person answering questions may well pass. */
static int ensure_connected(struct chat *ch)
{
	json_t *ev;

	while ((ev = pier_conn_next(ch->conn, 0)) != NULL)
		json_decref(ev);           /* before login: only a login_timeout error */
	if (!pier_conn_is_closed(ch->conn))
		return 0;
	pier_conn_close(ch->conn);
	ch->conn = account_connect(ch->o);
	return ch->conn != NULL ? 0 : -1;
}

/* Register or log in; prints the report's text for the status. The status, or INT32_MIN. */
static int account_step(struct chat *ch, bool do_register, const char *user, const char *password,
			json_t **reply)
{
	int status;

	*reply = NULL;
	if (ensure_connected(ch) != 0)
		return INT32_MIN;
	status = account_call(ch->conn, do_register, user, password, reply);
	account_print_result(stdout, ch->o, do_register, status, *reply);
	fflush(stdout);
	return status;
}

/* Asks whether to log in or register. 1 register, 0 log in, -1 end of input. */
static int ask_action(struct chat *ch)
{
	for (;;) {
		char *ans = ask(ch, TR(ch, "Log in or register? [L/r] ", "登录还是注册？[L/r] "));
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
		if (!ch->tty) {
			fprintf(stderr, "pier: %s\n", TR(ch, "expected l (log in) or r (register)",
							   "应输入 l（登录）或 r（注册）"));
			return -1;
		}
		puts(TR(ch, "Please answer l (log in) or r (register).", "请输入 l（登录）或 r（注册）。"));
	}
}

/* True if the answer to a yes/no question (default yes) is yes. */
static bool ask_yes(struct chat *ch, const char *prompt)
{
	char *ans = ask(ch, prompt);
	bool yes;

	if (ans == NULL)
		return false;
	trim_end(ans);
	yes = ans[0] == '\0' || ans[0] == 'y' || ans[0] == 'Y' || strcmp(ans, "是") == 0;
	free(ans);
	return yes;
}

/* The rooms the user is in, from the login reply. */
static void show_my_rooms(struct chat *ch, const json_t *rooms)
{
	char buf[900] = "";
	size_t len = 0, i;
	json_t *room;

	json_array_foreach(rooms, i, room) {
		const char *name = json_string_value(room);
		int n;

		if (name == NULL || len >= sizeof buf)
			continue;
		n = snprintf(buf + len, sizeof buf - len, "%s%s", len > 0 ? ", " : "", name);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len > 0)
		info(ch, TR(ch, "Your rooms: %s", "你的聊天室：%s"), buf);
}

/* Logs in (registering first if asked). 0 once logged in, -1 to give up. */
static int log_in(struct chat *ch)
{
	for (int attempt = 0; attempt < LOGIN_ATTEMPTS; attempt++) {
		int action = ch->o->user != NULL ? 0 : ask_action(ch);
		char *user = NULL, *password = NULL;
		json_t *reply = NULL;
		int status, rc = -1;
		bool have_password;
		char prompt[128];

		if (action < 0)
			return -1;
		user = ch->o->user != NULL ? strdup(ch->o->user) : ask(ch, TR(ch, "User name: ", "用户名："));
		if (user == NULL)
			return -1;
		password = account_password(ch->o, ch->in);
		have_password = password != NULL;
		if (!have_password)
			goto next;
		if (action == 1) {
			status = account_step(ch, true, user, password, &reply);
			json_decref(reply);
			reply = NULL;
			if (status != PIER_REGISTER_OK)
				goto next;
			snprintf(prompt, sizeof prompt, TR(ch, "Log in as %s now? [Y/n] ", "现在以 %s 登录？[Y/n] "),
				 user);
			if (!ask_yes(ch, prompt))
				goto next;
		}
		status = account_step(ch, false, user, password, &reply);
		if (status == PIER_LOGIN_OK) {
			const char *name = json_string_value(json_object_get(reply, "user"));

			snprintf(ch->self, sizeof ch->self, "%s", name != NULL ? name : user);
			show_my_rooms(ch, json_object_get(reply, "rooms"));
			rc = 0;
		}
next:
		if (password != NULL)
			explicit_bzero(password, strlen(password));
		free(password);
		free(user);
		json_decref(reply);
		if (rc == 0)
			return 0;
		if (ch->conn == NULL || !have_password || !ch->tty ||
		    (ch->o->user != NULL && account_password_from_env()))
			return -1;   /* nothing would change when asking again */
	}
	return -1;
}

/* ---- the loop ---- */

static void rl_start(struct chat *ch)
{
	rl_chat = ch;
	rl_callback_handler_install(ch->prompt, on_rl_line);
	ch->rl_on = true;
}

static void rl_stop(struct chat *ch)
{
	if (!ch->rl_on)
		return;
	/* Leave a clean line: erase the prompt and any unfinished input (after a finished line
	 * the cursor is already on a line of its own, maybe behind libedit's "^D"). */
	if (ch->line_done)
		erase_back(0);
	else
		erase_back((int)strlen(ch->prompt) +
			   text_width(rl_line_buffer != NULL ? rl_line_buffer : "",
				      rl_line_buffer != NULL && rl_point > 0 ? (size_t)rl_point : 0));
	fflush(stdout);
	rl_callback_handler_remove();
	ch->rl_on = false;
}

static void read_stdin(struct chat *ch, short revents)
{
	char *line;

	if (ch->tty) {
		if (!(revents & POLLIN)) {       /* hung up */
			ch->closing = true;
			return;
		}
		ch->line_done = false;
		rl_callback_read_char();
		/* libedit leaves the editor half reset after a line: install the handler again for
		 * a fresh, editable line with the (maybe changed) prompt. */
		if (ch->line_done && !ch->closing)
			rl_callback_handler_install(ch->prompt, on_rl_line);
		return;
	}
	input_fill(ch->in);
	while ((line = input_take_line(ch->in)) != NULL) {
		if (!ch->closing)          /* nothing after /quit */
			handle_line(ch, line);
		free(line);
	}
	if (input_at_eof(ch->in))
		ch->closing = true;
}

static int chat_loop(struct chat *ch)
{
	int64_t drain_deadline = -1;

	info(ch, TR(ch, "Talking in %s. /help lists the commands.", "当前会话 %s。输入 /help 查看命令。"),
	     ch->target);
	if (ch->tty)
		rl_start(ch);
	while (!ch->quit) {
		struct pollfd fds[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = pier_conn_fd(ch->conn), .events = POLLIN },
		};
		const char *data;
		int timeout = -1;

		if (pier_conn_pump(ch->conn) != 0 || !drain_events(ch)) {
			error_text(ch, TR(ch, "The connection to the server was lost", "与服务器的连接已断开"));
			ch->rc = CLI_EXIT_FAIL;
			break;
		}
		if (ch->closing) {
			if (ch->pending == NULL)
				break;
			if (drain_deadline < 0)
				drain_deadline = pier_mono_ms() + DRAIN_TIMEOUT_MS;
			timeout = (int)(drain_deadline - pier_mono_ms());
			if (timeout <= 0)
				break;
			fds[0].fd = -1;      /* no more input */
		}
		if (pier_client_pending(pier_conn_client(ch->conn), &data) > 0)
			fds[1].events |= POLLOUT;
		if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
			ch->rc = CLI_EXIT_FAIL;
			break;
		}
		if (fds[0].revents != 0)
			read_stdin(ch, fds[0].revents);
	}
	rl_stop(ch);
	return ch->rc;
}

int interactive_run(const struct cli_options *o)
{
	struct chat ch = {
		.o = o,
		.tty = isatty(STDIN_FILENO) == 1,
		.rc = CLI_EXIT_OK,
	};

	ch.r.color = o->color;
	ch.r.lang = o->lang;
	set_target(&ch, "#lobby");
	ch.in = input_new(STDIN_FILENO);
	if (ch.in == NULL)
		return CLI_EXIT_FAIL;
	ch.conn = account_connect(o);
	if (ch.conn == NULL || log_in(&ch) != 0) {
		ch.rc = CLI_EXIT_FAIL;
		goto out;
	}
	ch.r.self = ch.self;
	ch.rc = chat_loop(&ch);
	if (ch.conn != NULL && !pier_conn_is_closed(ch.conn))
		json_decref(pier_conn_call(ch.conn, pier_req_logout(), LOGOUT_TIMEOUT_MS));
out:
	while (ch.pending != NULL) {
		struct pending *p = ch.pending;

		ch.pending = p->next;
		free_pending(p);
	}
	pier_conn_close(ch.conn);
	input_free(ch.in);
	rl_chat = NULL;
	return ch.rc;
}
