/* interactive.c - the chat of `pier`: log in or register, then one poll(2) loop over stdin,
 * the server and Ctrl-C; typed lines become commands and messages, what the server sends
 * becomes lines on the screen.
 *
 * The network never blocks the keyboard: struct session (session.c) owns the connection,
 * reconnects after a drop and keeps the messages typed meanwhile; requests are queued and
 * sent when the socket takes them, and their replies are matched to what asked for them by
 * "ref" (struct pending). The terminal side, libedit and printing above the line being typed,
 * is screen.c. When stdin is not a terminal, plain lines are read instead, with the same
 * meaning.
 */
#include "interactive.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "cli_e2ee.h"
#include "clock.h"
#include "input.h"
#include "media.h"
#include "media_e2ee.h"
#include "msgref.h"
#include "msgrules.h"
#include "names.h"
#include "render.h"
#include "screen.h"
#include "session.h"
#include "social.h"
#include "xalloc.h"

#define TARGET_MAX          SESSION_TARGET_MAX
#define HISTORY_DEFAULT     20
#define HISTORY_MAX         200
#define ROOMS_PAGE          50      /* rooms a /rooms shows: a screenful, the rest a page away */
#define WHO_PAGE            200     /* users a /who shows; the rest a page away (/who AFTER) */
#define SEARCH_PAGE         20      /* matches a /search shows; /search alone shows older ones */
#define SEARCH_QUERY_MAX    256     /* bytes of a search (docs/PROTOCOL.md) */
#define SEARCH_ASKS         5       /* requests one /search makes by itself: a page may come
                                     * back short (the server looks at a bounded number of
                                     * matches per request) with more to come */
#define DRAIN_TTY_MS        10000   /* at the end: how long what is awaited may still take */
#define DRAIN_PIPE_MS       30000   /* ... reading a pipe (a script's lines are worth a reconnect) */
#define LOGOUT_TIMEOUT_MS   2000
#define NAMES_MAX           2000    /* user names remembered for completing @names */

enum req_kind { REQ_JOIN, REQ_PART, REQ_ROOMS, REQ_USERS, REQ_HISTORY, REQ_PASSWORD,
	        REQ_LOGOUT_ALL, REQ_RECALL, REQ_EDIT, REQ_REACT, REQ_MEMBERS, REQ_TOPIC, REQ_NICK,
	        REQ_UNREAD, REQ_UNREAD_ARM, REQ_SEARCH };

/* A request waiting for its reply. */
struct pending {
	char ref[PIER_REF_MAX];    /* empty: to be sent again after reconnecting (join) */
	enum req_kind kind;
	char target[TARGET_MAX];   /* join, part: the room; history: with */
	char before[TARGET_MAX];   /* join: where we talked before */
	unsigned num;              /* recall, edit, react: the message's number on screen */
	char *text;                /* edit: the new text (malloc'd) */
	struct pending *next;
};

struct chat {
	const struct cli_options *o;
	struct render r;
	struct screen sc;
	struct session s;          /* the server, once logged in */
	struct input *in;          /* stdin when it is not a terminal */
	bool tty;                  /* stdin is a terminal: libedit */
	bool started;              /* logged in: the prompt may say "offline" */
	bool closing;              /* no more input: finish what is awaited, then quit */
	bool quit;
	bool logged_out;           /* /logout-all: every token is gone already */
	int rc;
	char target[TARGET_MAX];   /* where typed text goes */
	struct pending *pending, *pending_tail;
	struct cli_media media;    /* /send PATH, /open N (media.h) */
	struct msgref refs;        /* the numbers shown next to messages (msgref.h) */
	char **names;              /* user names seen (online, senders), for completing @names */
	size_t nnames;
	struct cli_social social;  /* read state, typing, names (social.h) */
	struct cli_e2ee e2ee;      /* end-to-end encrypted private chats (cli_e2ee.h) */
	char search_q[SEARCH_QUERY_MAX + 1];  /* the last /search, for /search alone (older) */
	int64_t search_next;       /* where its next page starts; 0: no more */
	int search_shown;          /* messages this /search showed so far */
	int search_asked;          /* requests it made */
	bool search_headed;        /* its heading was shown */
};

/* The text in the session's language. A macro, so that printf formats stay literals the
 * compiler checks. */
#define TR(ch, en, zh)  ((ch)->r.lang == PIER_LANG_ZH ? (zh) : (en))

static void info(struct chat *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void info(struct chat *ch, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	screen_info(&ch->sc, "%s", buf);
}

static void error_reply(struct chat *ch, const json_t *err, const char *context)
{
	screen_error(&ch->sc, err, context);
}

static void error_text(struct chat *ch, const char *text)
{
	screen_error_text(&ch->sc, text);
}

/* The prompt: the conversation, marked while offline ("(offline) #lobby> "). With redraw,
 * the input line is drawn again at once (the partial input stays as it was). */
static void update_prompt(struct chat *ch, bool redraw)
{
	bool offline = ch->started && !session_is_online(&ch->s);
	/* The typing notice gets what the longest "(离线) [...] TARGET> " leaves of the prompt:
	 * cut at a character by social.c rather than anywhere by snprintf. */
	char prompt[SCREEN_PROMPT_MAX], typing[SCREEN_PROMPT_MAX - TARGET_MAX - 16];

	social_typing_notice(&ch->social, typing, sizeof typing);
	snprintf(prompt, sizeof prompt, "%s%s%s%s%s> ", offline ? TR(ch, "(offline) ", "(离线) ") : "",
		 typing[0] != '\0' ? "[" : "", typing, typing[0] != '\0' ? "] " : "", ch->target);
	screen_set_prompt(&ch->sc, prompt, redraw);
}

static void set_target(struct chat *ch, const char *target)
{
	snprintf(ch->target, sizeof ch->target, "%s", target);
	update_prompt(ch, true);     /* no redraw while a typed line is being handled */
}

/* ---- requests ---- */

static void add_pending(struct chat *ch, struct pending *p)
{
	p->next = NULL;
	if (ch->pending_tail != NULL)
		ch->pending_tail->next = p;
	else
		ch->pending = p;
	ch->pending_tail = p;
}

/* Queues req (taken); the reply is handled by kind. 0, or -1 (said why) when offline or when
 * req could not be encoded. */
static int request(struct chat *ch, json_t *req, enum req_kind kind, const char *target,
		   const char *before)
{
	struct pending *p;

	if (!session_is_online(&ch->s)) {
		json_decref(req);
		error_text(ch, TR(ch, "Offline: that needs the server; try again once reconnected",
				  "离线：该操作需要连接服务器，请在重新连接后再试"));
		return -1;
	}
	p = xcalloc(1, sizeof *p);
	if (session_request(&ch->s, req, p->ref) != 0) {
		error_text(ch, TR(ch, "Could not make the request (invalid UTF-8?)",
				  "无法生成请求（文本不是有效的 UTF-8？）"));
		free(p);
		return -1;
	}
	p->kind = kind;
	snprintf(p->target, sizeof p->target, "%s", target != NULL ? target : "");
	snprintf(p->before, sizeof p->before, "%s", before != NULL ? before : "");
	add_pending(ch, p);
	return 0;
}

static void pending_free(struct pending *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p);
}

/* Removes and returns the pending request with this ref, or NULL. */
static struct pending *take_pending(struct chat *ch, const char *ref)
{
	struct pending *prev = NULL;

	for (struct pending *p = ch->pending; p != NULL; prev = p, p = p->next) {
		if (p->ref[0] == '\0' || strcmp(p->ref, ref) != 0)
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

/* Says what became of a message handed to the session (session_send, session_send_reply). */
static void sent_outcome(struct chat *ch, enum session_send_result r, const char *to,
                         const char *text)
{
	switch (r) {
	case SESSION_SEND_OK:
		break;      /* shown once the server has stored it */
	case SESSION_SEND_QUEUED:
		info(ch, TR(ch, "(pending) %s: %s", "（待发送）%s：%s"), to, text);
		break;
	case SESSION_SEND_FULL:
		error_text(ch, TR(ch, "Not sent: too many messages are waiting for the server already",
				  "未发送：等待服务器确认的消息过多"));
		break;
	case SESSION_SEND_BAD:
		error_text(ch, TR(ch, "Could not make the request (invalid UTF-8?)",
				  "无法生成请求（文本不是有效的 UTF-8？）"));
		break;
	}
}

static void send_text(struct chat *ch, const char *to, const char *text)
{
	if (cli_e2ee_private(&ch->e2ee, to)) {
		cli_e2ee_send(&ch->e2ee, to, text, 0, NULL, 0);
		return;
	}
	sent_outcome(ch, session_send(&ch->s, to, text), to, text);
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
		"  /rooms [AFTER]      list the rooms (a page; AFTER: the page after that room)\n"
		"  /who [AFTER]        list who is online (a page; AFTER: the page after that user)\n"
		"  /history [N]        the last N messages here (default 20)\n"
		"  /reply N TEXT       answer message N (the number before each message), quoting it\n"
		"  /edit N TEXT        change the text of your message N\n"
		"  /recall [N]         recall your message N (default: your last), within 2 minutes\n"
		"  /react N EMOJI      react to message N (/unreact N EMOJI takes it back)\n"
		"  /unread             unread messages per conversation\n"
		"  /members [#ROOM]    who is in the room (default: the current one)\n"
		"  /topic [TEXT|-]     show or set (- removes) the current room's topic\n"
		"  /nick TEXT|-        your display name, shown as \"TEXT (name)\" (- removes it)\n"
		"  /search TEXT        find TEXT in your rooms and private chats (newest first,\n"
		"                      the match highlighted, numbered for /reply, /react...);\n"
		"                      /search alone: older matches\n"
		"  /switch #ROOM|@USER talk to another room or user\n"
		"  /send PATH [TEXT]   upload a file (resumes if cut) and send it here\n"
		"  /open N             download file number N and open it\n"
		"  /passwd             change your password (other devices are logged out)\n"
		"  /logout-all         log out everywhere (every device) and leave\n"
		"  /help               this help\n"
		"  /quit               leave (also Ctrl-D, or Ctrl-C twice)\n"
		"  //text              send text that starts with '/'\n"
		"Tab completes @names. A message that mentions you rings the bell and is highlighted.\n"
		"When the connection drops, pier reconnects by itself and shows what was missed;\n"
		"lines typed meanwhile are sent once it is back.";
	static const char zh[] =
		"输入的文字发送到当前聊天室或用户（见提示符）。\n"
		"  文字~用户名          私聊：把文字发给该用户\n"
		"  /msg 用户 文字       私聊\n"
		"  /join #聊天室        加入（或创建）聊天室并切换过去\n"
		"  /part [#聊天室]      退出聊天室（默认当前聊天室）\n"
		"  /rooms [之后]        列出聊天室（一页；之后：从该聊天室之后的一页）\n"
		"  /who [之后]          列出在线用户（一页；之后：从该用户之后的一页）\n"
		"  /history [N]        当前会话最近 N 条消息（默认 20）\n"
		"  /reply N 文字        回复第 N 条消息（消息前的编号）并引用它\n"
		"  /edit N 文字         修改你的第 N 条消息\n"
		"  /recall [N]         撤回你的第 N 条消息（默认最后一条），限发送后 2 分钟内\n"
		"  /react N 表情        对第 N 条消息做出表情回应（/unreact N 表情 取消）\n"
		"  /unread             各会话的未读消息数\n"
		"  /members [#聊天室]   聊天室成员（默认当前聊天室）\n"
		"  /topic [文字|-]      查看或设置当前聊天室的话题（- 删除）\n"
		"  /nick 文字|-         设置显示名称，显示为“文字 (用户名)”（- 删除）\n"
		"  /search 文字         在你的聊天室和私聊中搜索（最新的在前，匹配处高亮，\n"
		"                      带编号，可用于 /reply、/react 等）；只输入 /search：更早的结果\n"
		"  /switch #聊天室|@用户 切换会话\n"
		"  /send 路径 [文字]    上传文件（中断后续传）并发送到当前会话\n"
		"  /open N             下载并打开第 N 个文件\n"
		"  /passwd             修改密码（其他设备将被登出）\n"
		"  /logout-all         在所有设备上登出并退出\n"
		"  /help               显示帮助\n"
		"  /quit               退出（或 Ctrl-D，或按两次 Ctrl-C）\n"
		"  //文字               发送以 '/' 开头的文字\n"
		"按 Tab 补全 @用户名。提到你的消息会响铃并高亮显示。\n"
		"连接断开时 pier 会自动重连并显示错过的消息；其间输入的消息在恢复后发送。";
	struct screen_out out;

	/* longer than info()'s line */
	render_info_text(screen_out_open(&out), &ch->r, ch->r.lang == PIER_LANG_ZH ? zh : en);
	screen_out_say(&ch->sc, &out);
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
	/* Encrypted messages come without text: show_messages fills them from the local store
	 * (the device kept what it decrypted); older plaintext ones come as they are. */
	request(ch, pier_req_history(ch->target, 0, (int)n), REQ_HISTORY, ch->target, NULL);
}

/* /search TEXT: a new search everywhere the user may read; /search alone: the next (older)
 * page of the last one. */
static void cmd_search(struct chat *ch, char *args)
{
	if (*args == '\0') {
		if (ch->search_q[0] == '\0' || ch->search_next <= 0) {
			error_text(ch, TR(ch, ch->search_q[0] == '\0'
			                      ? "Usage: /search TEXT (then /search alone for older matches)"
			                      : "No older matches",
			                  ch->search_q[0] == '\0'
			                      ? "用法：/search 文字（之后只输入 /search 查看更早的结果）"
			                      : "没有更早的结果"));
			return;
		}
		ch->search_shown = 0;
		ch->search_asked = 1;
		ch->search_headed = false;
		request(ch, pier_req_search(ch->search_q, NULL, ch->search_next, SEARCH_PAGE),
		        REQ_SEARCH, NULL, "more");
		return;
	}
	/* a longer one is refused by the server (query_too_long) and not kept */
	snprintf(ch->search_q, sizeof(ch->search_q), "%s",
	         strlen(args) <= SEARCH_QUERY_MAX ? args : "");
	ch->search_next = 0;
	ch->search_shown = 0;
	ch->search_asked = 1;
	ch->search_headed = false;
	request(ch, pier_req_search(args, NULL, 0, SEARCH_PAGE), REQ_SEARCH, NULL, NULL);
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

/* The message numbered at the start of *args (the number shown before it); *args moves past
 * it. NULL (after saying why) when there is none. */
static const struct msgref_entry *numbered(struct chat *ch, char **args, const char *usage)
{
	const char *rest;
	const struct msgref_entry *e = msgref_parse(&ch->refs, *args, &rest);

	if (e == NULL) {
		error_text(ch, rest != *args ? TR(ch, "No message with that number on the screen "
		                                      "(the number shown before a message)",
		                                  "屏幕上没有该编号的消息（编号显示在消息前）")
		                             : usage);
		return NULL;
	}
	*args = (char *)rest;
	return e;
}

static void cmd_recall(struct chat *ch, char *args)
{
	const struct msgref_entry *e;
	struct pending *p;

	if (*args == '\0') {
		e = msgref_last_own(&ch->refs);
		if (e == NULL) {
			error_text(ch, TR(ch, "You have sent no message here yet; /recall N recalls message N",
			                  "你还没有发送消息；/recall N 撤回第 N 条消息"));
			return;
		}
	} else {
		e = numbered(ch, &args, TR(ch, "Usage: /recall [N]", "用法：/recall [N]"));
		if (e == NULL)
			return;
	}
	if (request(ch, pier_req_recall(e->id), REQ_RECALL, NULL, NULL) == 0) {
		p = ch->pending_tail;
		p->num = e->n;
	}
}

static void cmd_edit(struct chat *ch, char *args)
{
	const char *usage = TR(ch, "Usage: /edit N TEXT", "用法：/edit N 文字");
	const struct msgref_entry *e = numbered(ch, &args, usage);

	if (e == NULL)
		return;
	if (*args == '\0') {
		error_text(ch, usage);
		return;
	}
	/* An encrypted message is edited by an encrypted edit (the server cannot read it). */
	if (cli_e2ee_private(&ch->e2ee, e->conv) && cli_e2ee_find(&ch->e2ee, e->id) != NULL) {
		cli_e2ee_edit(&ch->e2ee, e->conv, e->id, args);
		return;
	}
	if (request(ch, pier_req_edit(e->id, args), REQ_EDIT, e->conv, NULL) == 0) {
		ch->pending_tail->num = e->n;
		ch->pending_tail->text = xstrdup(args);
	}
}

static void cmd_reply(struct chat *ch, char *args)
{
	const char *usage = TR(ch, "Usage: /reply N TEXT", "用法：/reply N 文字");
	const struct msgref_entry *e = numbered(ch, &args, usage);

	if (e == NULL)
		return;
	if (*args == '\0' || e->conv[0] == '\0') {
		error_text(ch, usage);
		return;
	}
	if (cli_e2ee_private(&ch->e2ee, e->conv)) {
		cli_e2ee_send(&ch->e2ee, e->conv, args, e->id, NULL, 0);
		return;
	}
	sent_outcome(ch, session_send_reply(&ch->s, e->conv, args, e->id), e->conv, args);
}

static void cmd_react(struct chat *ch, char *args, bool on)
{
	const char *usage = on ? TR(ch, "Usage: /react N EMOJI", "用法：/react N 表情")
	                       : TR(ch, "Usage: /unreact N EMOJI", "用法：/unreact N 表情");
	const struct msgref_entry *e = numbered(ch, &args, usage);

	if (e == NULL)
		return;
	if (!pier_reaction_check(args)) {
		error_text(ch, *args == '\0' ? usage : pier_error_text("bad_emoji", ch->r.lang));
		return;
	}
	if (request(ch, pier_req_react(e->id, args, on), REQ_REACT, NULL, NULL) == 0)
		ch->pending_tail->num = e->n;
}

static void wipe(char *s)
{
	if (s != NULL) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

/* Asks (without echo) for the current password and the new one twice, then sends them. */
static void cmd_passwd(struct chat *ch)
{
	char *old, *pw = NULL, *again = NULL;

	if (!ch->tty) {
		error_text(ch, TR(ch, "/passwd needs a terminal to ask for the passwords",
				  "/passwd 需要终端来输入密码"));
		return;
	}
	old = screen_password(&ch->sc, TR(ch, "Changing your password. First the current one:",
					  "修改密码。先输入当前密码："));
	if (old != NULL)
		pw = screen_password(&ch->sc, TR(ch, "The new password (at least 6 characters):",
						"新密码（至少 6 个字符）："));
	if (pw != NULL)
		again = screen_password(&ch->sc, TR(ch, "The new password again:", "再次输入新密码："));
	if (old == NULL || pw == NULL || again == NULL || old[0] == '\0')
		error_text(ch, TR(ch, "Password not changed", "密码未修改"));
	else if (strcmp(pw, again) != 0)
		error_text(ch, TR(ch, "The two new passwords differ; password not changed",
				  "两次输入的新密码不一致；密码未修改"));
	else
		request(ch, pier_req_password(old, pw), REQ_PASSWORD, NULL, NULL);
	wipe(old);
	wipe(pw);
	wipe(again);
}

/* The room args names, or the current one: false (said why) when there is none. */
static bool room_or_current(struct chat *ch, const char *args, char room[TARGET_MAX],
			    const char *usage)
{
	if (args[0] == '\0' && ch->target[0] == '#') {
		snprintf(room, TARGET_MAX, "%s", ch->target);
		return true;
	}
	if (args[0] != '\0' && room_target(args, room))
		return true;
	error_text(ch, usage);
	return false;
}

static void cmd_members(struct chat *ch, char *args)
{
	char room[TARGET_MAX], *after = args;

	while (*after != '\0' && *after != ' ')
		after++;
	if (*after != '\0')
		*after++ = '\0';
	after = skip_space(after);
	if (room_or_current(ch, args, room, TR(ch, "Usage: /members [#ROOM [AFTER]]",
					       "用法：/members [#聊天室 [之后]]")))
		request(ch, pier_req_members(room, after[0] != '\0' ? after : NULL, 50), REQ_MEMBERS,
			room, NULL);
}

static void cmd_topic(struct chat *ch, char *args)
{
	char room[TARGET_MAX];

	if (!room_or_current(ch, "", room, TR(ch, "/topic works in a room: /switch #ROOM first",
					      "/topic 只能在聊天室中使用：先 /switch #聊天室")))
		return;
	request(ch, pier_req_topic(room, args[0] == '\0' ? NULL : strcmp(args, "-") == 0 ? "" : args),
		REQ_TOPIC, room, NULL);
}

static void cmd_nick(struct chat *ch, char *args)
{
	if (args[0] == '\0') {
		error_text(ch, TR(ch, "Usage: /nick TEXT (or /nick - to remove it)",
				  "用法：/nick 文字（或 /nick - 删除）"));
		return;
	}
	request(ch, pier_req_profile(strcmp(args, "-") == 0 ? NULL : args), REQ_NICK, NULL, NULL);
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
		else if (request(ch, pier_req_join(room), REQ_JOIN, room, ch->target) == 0)
			set_target(ch, room);
	} else if (strcmp(name, "part") == 0 || strcmp(name, "leave") == 0) {
		cmd_part(ch, args);
	} else if (strcmp(name, "rooms") == 0) {
		/* One page; show_rooms says how to ask for the next. */
		while (*args == ' ')
			args++;
		request(ch, pier_req_rooms_page(*args != '\0' ? args : NULL, ROOMS_PAGE), REQ_ROOMS,
		        NULL, NULL);
	} else if (strcmp(name, "who") == 0 || strcmp(name, "users") == 0) {
		/* Who is online is not pushed (presence comes from contacts only): asked for here,
		 * one page at a time. */
		while (*args == ' ')
			args++;
		request(ch, pier_req_users_page(*args != '\0' ? args : NULL, WHO_PAGE), REQ_USERS,
		        NULL, NULL);
	} else if (strcmp(name, "history") == 0) {
		cmd_history(ch, args);
	} else if (strcmp(name, "members") == 0 || strcmp(name, "names") == 0) {
		cmd_members(ch, args);
	} else if (strcmp(name, "topic") == 0) {
		cmd_topic(ch, args);
	} else if (strcmp(name, "nick") == 0) {
		cmd_nick(ch, args);
	} else if (strcmp(name, "unread") == 0) {
		request(ch, pier_req_unread(NULL, 0), REQ_UNREAD, NULL, NULL);
	} else if (strcmp(name, "search") == 0 || strcmp(name, "find") == 0) {
		cmd_search(ch, args);
	} else if (strcmp(name, "switch") == 0 || strcmp(name, "s") == 0) {
		cmd_switch(ch, args);
	} else if (strcmp(name, "send") == 0) {
		cli_media_command_send(&ch->media, ch->target, args);
	} else if (strcmp(name, "open") == 0) {
		cli_media_command_open(&ch->media, args);
	} else if (strcmp(name, "recall") == 0) {
		cmd_recall(ch, args);
	} else if (strcmp(name, "edit") == 0) {
		cmd_edit(ch, args);
	} else if (strcmp(name, "reply") == 0 || strcmp(name, "re") == 0) {
		cmd_reply(ch, args);
	} else if (strcmp(name, "react") == 0) {
		cmd_react(ch, args, true);
	} else if (strcmp(name, "unreact") == 0) {
		cmd_react(ch, args, false);
	} else if (strcmp(name, "passwd") == 0 || strcmp(name, "password") == 0) {
		cmd_passwd(ch);
	} else if (strcmp(name, "logout-all") == 0) {
		request(ch, pier_req_logout_all(), REQ_LOGOUT_ALL, NULL, NULL);
	} else if (cli_e2ee_command(&ch->e2ee, name, args)) {
		;                          /* devices, approve, safety, verify... (cli_e2ee.c) */
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

/* One line typed (libedit already showed it on a terminal); NULL: Ctrl-D. screen_line_fn. */
static bool handle_line(void *ctx, char *line)
{
	struct chat *ch = ctx;
	size_t n;

	if (line == NULL) {
		ch->closing = true;
		return false;
	}
	if (ch->closing)
		return false;              /* nothing after /quit */
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		line[--n] = '\0';
	if (line[strspn(line, " \t")] == '\0')
		return true;
	if (line[0] == '/' && line[1] != '/') {
		command(ch, line);
		return !ch->closing;
	}
	/* The message is shown again, with time and target, once the server stored it. */
	screen_erase_echo(&ch->sc, line);
	message(ch, line[0] == '/' ? line + 1 : line);
	return true;
}

/* ---- names for completing @names ---- */

static void remember_name(struct chat *ch, const char *name)
{
	if (name == NULL || pier_name_check(name) != PIER_NAME_OK)
		return;
	for (size_t i = 0; i < ch->nnames; i++) {
		if (strcmp(ch->names[i], name) == 0)
			return;
	}
	if (ch->nnames == NAMES_MAX) {
		/* the oldest goes */
		free(ch->names[0]);
		memmove(ch->names, ch->names + 1, (NAMES_MAX - 1) * sizeof *ch->names);
		ch->nnames--;
	}
	if (ch->names == NULL)
		ch->names = xcalloc(NAMES_MAX, sizeof *ch->names);
	ch->names[ch->nnames++] = xstrdup(name);
}

/* The names of list: strings, or objects with "user" (a members page). */
static void remember_names(struct chat *ch, const json_t *list)
{
	const json_t *name;
	size_t i;

	json_array_foreach(list, i, name)
		remember_name(ch, json_string_value(json_is_object(name) ? json_object_get(name, "user")
		                                                         : name));
}

/* ---- what the server sends ---- */

/* read: shown in their conversation (history), so they count as read there; a search's
 * matches are shown out of theirs and do not. */
static void show_messages(struct chat *ch, const json_t *messages, bool read)
{
	struct screen_out out;
	FILE *f = screen_out_open(&out);
	json_t *msg;
	size_t i;

	json_array_foreach(messages, i, msg) {
		bool hidden;
		json_t *filled = cli_e2ee_fill(&ch->e2ee, msg, &hidden);

		if (hidden)
			continue;          /* an encrypted edit: applied to the message it edits */
		if (read)
			social_message(&ch->social, msg, NULL);
		render_msg(f, &ch->r, filled != NULL ? filled : msg);
		json_decref(filled);
	}
	screen_out_say(&ch->sc, &out);
}

static void show_rooms(struct chat *ch, const json_t *reply)
{
	struct screen_out out;
	FILE *f = screen_out_open(&out);
	const char *last = NULL;
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
		if (json_string_value(json_object_get(room, "topic")) != NULL) {
			fputs("      ", f);
			render_safe(f, json_string_value(json_object_get(room, "topic")), false);
			fputc('\n', f);
		}
		last = name;
	}
	if (json_is_true(json_object_get(reply, "more")) && last != NULL) {
		render_info(f, &ch->r, TR(ch, "%" JSON_INTEGER_FORMAT " rooms in all; the next page: /rooms %s",
		                          "共 %" JSON_INTEGER_FORMAT " 个聊天室；下一页：/rooms %s"),
		            json_integer_value(json_object_get(reply, "total")), last);
	}
	screen_out_say(&ch->sc, &out);
}

/* A users reply (a /who page: everyone online, paged) or the login's users event (partial:
 * the user and its contacts online, with the total online). */
static void show_users(struct chat *ch, const json_t *ev)
{
	json_t *online = json_object_get(ev, "online"), *u;
	json_t *total = json_object_get(ev, "total");
	struct screen_out out;
	FILE *f;
	const char *last = NULL;
	char *names = NULL;
	size_t len = 0, i;
	FILE *nf = open_memstream(&names, &len);

	if (nf == NULL)
		return;
	json_array_foreach(online, i, u) {
		const char *name = json_string_value(u);
		char who[96];

		if (name == NULL)
			continue;
		social_name(who, sizeof who, name,
			    json_string_value(json_object_get(json_object_get(ev, "display"), name)));
		fprintf(nf, "%s%s", i > 0 ? ", " : "", who);
		last = name;
	}
	fclose(nf);
	f = screen_out_open(&out);
	if (json_is_true(json_object_get(ev, "partial"))) {
		render_info(f, &ch->r, TR(ch, "Contacts online (%zu of %" JSON_INTEGER_FORMAT " online; /who lists everyone):",
		                          "在线联系人（%zu，共 %" JSON_INTEGER_FORMAT " 人在线；/who 列出所有人）："),
		            json_array_size(online), json_integer_value(total));
	} else {
		render_info(f, &ch->r, TR(ch, "Online (%" JSON_INTEGER_FORMAT "):", "在线用户（%" JSON_INTEGER_FORMAT "）："),
		            json_is_integer(total) ? json_integer_value(total)
		                                   : (json_int_t)json_array_size(online));
	}
	render_info_text(f, &ch->r, names != NULL ? names : "");
	if (json_is_true(json_object_get(ev, "more")) && last != NULL)
		render_info(f, &ch->r, TR(ch, "the next page: /who %s", "下一页：/who %s"), last);
	screen_out_say(&ch->sc, &out);
	free(names);
}

/* Our edit was stored: the message again, as the others now see it. */
static void show_own_edit(struct chat *ch, const struct pending *p, const json_t *reply)
{
	json_t *msg = json_pack("{s:O?, s:s, s:O?, s:s, s:O?, s:O?}", "id",
	                        json_object_get(reply, "id"), "from", session_self(&ch->s),
	                        "to", json_object_get(reply, "to"), "text", p->text ? p->text : "",
	                        "ts", json_object_get(reply, "edited"),
	                        "edited", json_object_get(reply, "edited"));

	if (msg != NULL)
		screen_msg(&ch->sc, msg);
	json_decref(msg);
}

/* The replies social.c shows. */
static void social_reply(struct chat *ch, enum req_kind kind, const json_t *reply)
{
	struct screen_out out;
	FILE *f = screen_out_open(&out);

	if (kind == REQ_MEMBERS) {
		remember_names(ch, json_object_get(reply, "members"));
		social_show_members(&ch->social, reply, f);
	} else if (kind == REQ_TOPIC) {
		social_show_topic(&ch->social, reply, false, f);
	} else if (kind == REQ_NICK) {
		social_show_profile(&ch->social, reply, true, f);
	} else {
		social_unread(&ch->social, reply, kind == REQ_UNREAD_ARM ? SOCIAL_ARM_ALL : SOCIAL_ARM_NONE,
			      kind == REQ_UNREAD ? f : NULL);
	}
	screen_out_say(&ch->sc, &out);
}

/* The matches of a search, newest first, each marked where it matched. A page that came back
 * short with more to come is followed by the next one at once (at most SEARCH_ASKS requests
 * for one /search). */
static void show_search(struct chat *ch, const struct pending *p, const json_t *reply)
{
	const json_t *msgs = json_object_get(reply, "messages");
	const char *q = json_string_value(json_object_get(reply, "q"));
	bool older = p->before[0] != '\0';
	int n = (int)json_array_size(msgs);

	q = q != NULL ? q : "";
	ch->search_next = json_is_true(json_object_get(reply, "more"))
	                  ? json_integer_value(json_object_get(reply, "next_before")) : 0;
	if (n > 0) {
		if (!ch->search_headed)
			info(ch, older ? TR(ch, "Older messages matching \"%s\":", "更早的匹配“%s”的消息：")
			               : TR(ch, "Messages matching \"%s\" (newest first):",
			                    "匹配“%s”的消息（最新的在前）："), q);
		ch->search_headed = true;
		show_messages(ch, msgs, false);
		ch->search_shown += n;
	}
	if (ch->search_next > 0 && ch->search_shown < SEARCH_PAGE && ch->search_asked < SEARCH_ASKS &&
	    ch->search_q[0] != '\0') {
		ch->search_asked++;
		request(ch, pier_req_search(ch->search_q, NULL, ch->search_next,
		                            SEARCH_PAGE - ch->search_shown), REQ_SEARCH, NULL, p->before);
		return;
	}
	if (ch->search_shown == 0 && ch->search_next <= 0)
		info(ch, older ? TR(ch, "No older messages match \"%s\"", "没有更早的消息匹配“%s”")
		               : TR(ch, "No messages match \"%s\"", "没有消息匹配“%s”"), q);
	else if (ch->search_next > 0)
		info(ch, "%s", TR(ch, "Older matches: /search", "更早的结果：/search"));
}

static void handle_reply(struct chat *ch, struct pending *p, const json_t *reply)
{
	const char *op = pier_event_op(reply);
	const char *room = json_string_value(json_object_get(reply, "room"));

	if (strcmp(op, "error") == 0) {
		error_reply(ch, reply, p->kind != REQ_JOIN && p->target[0] != '\0' ? p->target : NULL);
		if (p->kind == REQ_JOIN) {
			set_target(ch, p->before);
			info(ch, TR(ch, "Talking to %s again", "回到会话 %s"), p->before);
		}
		return;
	}
	room = room != NULL ? room : p->target;
	switch (p->kind) {
	case REQ_MEMBERS:
	case REQ_TOPIC:
	case REQ_NICK:
	case REQ_UNREAD:
	case REQ_UNREAD_ARM:
		social_reply(ch, p->kind, reply);
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
		if (json_string_value(json_object_get(reply, "topic")) != NULL)
			info(ch, TR(ch, "Topic: %s", "话题：%s"),
			     json_string_value(json_object_get(reply, "topic")));
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
		session_saw(&ch->s, json_object_get(reply, "messages"));
		info(ch, TR(ch, "History of %s:", "%s 的历史消息："), p->target);
		show_messages(ch, json_object_get(reply, "messages"), true);
		break;
	case REQ_SEARCH:
		show_search(ch, p, reply);
		break;
	case REQ_PASSWORD:
		info(ch, TR(ch, "Password changed; %" JSON_INTEGER_FORMAT " other login(s) were logged out",
			    "密码已修改；%" JSON_INTEGER_FORMAT " 个其他登录已被登出"),
		     json_integer_value(json_object_get(reply, "revoked")));
		break;
	case REQ_LOGOUT_ALL:
		info(ch, TR(ch, "Logged out everywhere (%" JSON_INTEGER_FORMAT " login(s) ended); bye",
			    "已在所有设备上登出（结束了 %" JSON_INTEGER_FORMAT " 个登录）；再见"),
		     json_integer_value(json_object_get(reply, "revoked")));
		ch->logged_out = true;
		ch->quit = true;
		break;
	case REQ_RECALL:
		info(ch, TR(ch, "You recalled message %u", "你撤回了第 %u 条消息"), p->num);
		break;
	case REQ_EDIT:
		show_own_edit(ch, p, reply);
		break;
	case REQ_REACT: {
		const char *emoji = json_string_value(json_object_get(reply, "emoji"));
		json_int_t count = json_integer_value(json_object_get(reply, "count"));

		if (json_is_true(json_object_get(reply, "on")))
			info(ch, TR(ch, "You reacted to message %u with %s (%" JSON_INTEGER_FORMAT " in all)",
			            "你对第 %u 条消息回应了 %s（共 %" JSON_INTEGER_FORMAT " 个）"),
			     p->num, emoji != NULL ? emoji : "?", count);
		else
			info(ch, TR(ch, "You took back your reaction to message %u (%s)",
			            "你取消了对第 %u 条消息的回应（%s）"), p->num, emoji != NULL ? emoji : "?");
		break;
	}
	}
}

/* screen_complete_fn: the state-th name starting with prefix ("@" and part of a name). */
static char *complete_name(void *ctx, const char *prefix, int state)
{
	struct chat *ch = ctx;
	size_t len = strlen(prefix);
	int found = 0;

	if (len == 0 || (prefix[0] != '@' && strncmp(prefix, "\xEF\xBC\xA0", 3) != 0))
		return NULL;
	prefix += prefix[0] == '@' ? 1 : 3;
	len = strlen(prefix);
	for (size_t i = 0; i < ch->nnames; i++) {
		char *match;

		if (strncasecmp(ch->names[i], prefix, len) != 0 || found++ < state)
			continue;
		match = xmalloc(strlen(ch->names[i]) + 2);
		match[0] = '@';
		strcpy(match + 1, ch->names[i]);
		return match;
	}
	return NULL;
}

/* ---- changes to messages ---- */

/* A live change: an edit shows the message again, a recall and a reaction a line about it. */
static void show_change(struct chat *ch, const json_t *ev)
{
	const char *op = pier_event_op(ev);
	const char *from = json_string_value(json_object_get(ev, "from"));
	const char *user = json_string_value(json_object_get(ev, "user"));
	const char *emoji = json_string_value(json_object_get(ev, "emoji"));
	const char *actor = strcmp(op, "reaction") == 0 ? user : from;
	unsigned n = msgref_number(&ch->refs, ev, session_self(&ch->s));
	char who[96];

	/* "display" is the display name of whoever did it: the sender, or who reacted. */
	social_name(who, sizeof who, actor != NULL ? actor : "?",
	            json_string_value(json_object_get(ev, "display")));
	if (strcmp(op, "edited") == 0) {
		json_t *msg = json_deep_copy(ev);

		json_object_del(msg, "op");
		json_object_set(msg, "ts", json_object_get(ev, "edited"));
		screen_msg(&ch->sc, msg);
		json_decref(msg);
	} else if (strcmp(op, "recalled") == 0) {
		info(ch, TR(ch, "%s recalled message %u", "%s 撤回了第 %u 条消息"), who, n);
	} else if (json_is_true(json_object_get(ev, "on"))) {
		info(ch, TR(ch, "%s reacted to message %u with %s (%" JSON_INTEGER_FORMAT " in all)",
		            "%s 对第 %u 条消息回应了 %s（共 %" JSON_INTEGER_FORMAT " 个）"),
		     who, n, emoji ? emoji : "?", json_integer_value(json_object_get(ev, "count")));
	} else {
		info(ch, TR(ch, "%s took back a reaction to message %u (%s)",
		            "%s 取消了对第 %u 条消息的回应（%s）"), who, n, emoji ? emoji : "?");
	}
}

/* ---- what the session reports (struct session_ops) ---- */

static void on_message(void *ctx, const json_t *msg, enum session_origin origin)
{
	struct chat *ch = ctx;
	struct screen_out out;
	FILE *f;

	/* An encrypted message as the server has it (no text): this device gets its own copy as
	 * an envelope, or, not approved yet, cannot read it. */
	if (json_is_true(json_object_get(msg, "e2ee")) && json_object_get(msg, "text") == NULL) {
		if (!ch->e2ee.usable || ch->e2ee.m.state != PIER_E2EE_ACTIVE)
			info(ch, TR(ch, "An encrypted message from %s: it can be read on your approved "
			                "devices", "来自 %s 的加密消息：可在您已批准的设备上阅读"),
			     json_string_value(json_object_get(msg, "from")) != NULL
			     ? json_string_value(json_object_get(msg, "from")) : "?");
		return;
	}
	f = screen_out_open(&out);

	remember_name(ch, json_string_value(json_object_get(msg, "from")));
	/* Missed ones come in order, looking like the rest, then a note; the divider goes before
	 * the first one past where reading stopped. */
	social_message(&ch->social, msg, origin == SESSION_MSG_OFFLINE || origin == SESSION_MSG_MISSED
					 ? f : NULL);
	render_msg(f, &ch->r, msg);
	screen_out_say(&ch->sc, &out);
}

/* A message changed while we were away: as it is now (a recall says so in its line). */
static void on_changed(void *ctx, const json_t *msg)
{
	struct chat *ch = ctx;

	screen_msg(&ch->sc, msg);
}

static void on_event(void *ctx, const json_t *ev)
{
	struct chat *ch = ctx;
	const char *op = pier_event_op(ev);
	const char *ref = json_string_value(json_object_get(ev, "ref"));
	const char *user = json_string_value(json_object_get(ev, "user"));
	struct pending *p;

	if (cli_e2ee_event(&ch->e2ee, ev))
		return;                    /* devices, envelopes and their replies */
	p = ref != NULL ? take_pending(ch, ref) : NULL;
	if (p == NULL && cli_media_event(&ch->media, ev))
		return;                    /* the reply to a /send */
	if (p == NULL && social_owns_reply(&ch->social, ev)) {
		if (strcmp(op, "read") == 0)
			social_read_event(&ch->social, ev);
		return;                    /* marking read, typing: nothing to show */
	}
	if (p != NULL) {
		handle_reply(ch, p, ev);
		pending_free(p);
		return;
	}
	user = user != NULL ? user : "?";
	if (strcmp(op, "edited") == 0 || strcmp(op, "recalled") == 0 || strcmp(op, "reaction") == 0) {
		show_change(ch, ev);
	} else if (strcmp(op, "presence") == 0) {
		char who[96];

		social_name(who, sizeof who, user, json_string_value(json_object_get(ev, "display")));
		if (json_is_true(json_object_get(ev, "online"))) {
			remember_name(ch, user);
			info(ch, TR(ch, "%s is online", "%s 上线了"), who);
		} else {
			info(ch, TR(ch, "%s went offline", "%s 下线了"), who);
		}
	} else if (strcmp(op, "member") == 0) {
		const char *room = json_string_value(json_object_get(ev, "room"));
		char who[96];

		social_name(who, sizeof who, user, json_string_value(json_object_get(ev, "display")));
		if (json_is_true(json_object_get(ev, "joined")))
			info(ch, TR(ch, "%s joined %s", "%s 加入了 %s"), who, room != NULL ? room : "?");
		else
			info(ch, TR(ch, "%s left %s", "%s 退出了 %s"), who, room != NULL ? room : "?");
	} else if (strcmp(op, "read") == 0) {
		social_read_event(&ch->social, ev);
	} else if (strcmp(op, "typing") == 0) {
		social_typing_event(&ch->social, ev);
	} else if (strcmp(op, "topic") == 0 || strcmp(op, "profile") == 0) {
		struct screen_out out;
		FILE *f = screen_out_open(&out);

		if (op[0] == 't')
			social_show_topic(&ch->social, ev, true, f);
		else
			social_show_profile(&ch->social, ev, false, f);
		screen_out_say(&ch->sc, &out);
	} else if (strcmp(op, "users") == 0) {
		remember_names(ch, json_object_get(ev, "online"));
		show_users(ch, ev);
	} else if (strcmp(op, "error") == 0) {
		error_reply(ch, ev, NULL);
	}
	/* pong, replies to requests no longer awaited, unknown ops: nothing to show. */
}

static void on_send_failed(void *ctx, const char *to, const char *text, const json_t *err)
{
	struct chat *ch = ctx;
	char context[TARGET_MAX + 96];

	snprintf(context, sizeof context, TR(ch, "Not sent to %s (\"%.40s\")", "未能发送到 %s（“%.40s”）"),
		 to, text);
	error_reply(ch, err, context);
}

static void on_offline(void *ctx, enum session_drop why, size_t unsent)
{
	cli_e2ee_offline(&((struct chat *)ctx)->e2ee);
	struct chat *ch = ctx;
	struct pending *p = ch->pending, *next;
	size_t lost = 0;

	/* Replies will not come on a new connection; a join is sent again (joining twice is
	 * harmless), the rest is forgotten. */
	ch->pending = ch->pending_tail = NULL;
	for (; p != NULL; p = next) {
		next = p->next;
		if (p->kind == REQ_JOIN) {
			p->ref[0] = '\0';
			add_pending(ch, p);
		} else {
			pending_free(p);
			lost++;
		}
	}
	update_prompt(ch, true);
	if (why == SESSION_DROP_SILENT)
		info(ch, TR(ch, "The server stopped answering; reconnecting in the background",
			    "服务器无响应；正在后台重新连接"));
	else
		info(ch, TR(ch, "The connection to the server was lost; reconnecting in the background",
			    "与服务器的连接已断开；正在后台重新连接"));
	if (unsent > 0)
		info(ch, TR(ch, "%zu message(s) not confirmed yet: sent again once reconnected",
			    "%zu 条消息尚未确认：重新连接后再次发送"), unsent);
	if (lost > 0)
		info(ch, TR(ch, "%zu request(s) went unanswered; try again once reconnected",
			    "%zu 个请求未得到回应；请在重新连接后再试"), lost);
}

static void on_reconnected(void *ctx, bool relogin)
{
	struct chat *ch = ctx;

	update_prompt(ch, true);
	info(ch, relogin ? TR(ch, "Logged in again as %s", "已重新登录为 %s")
			 : TR(ch, "Reconnected as %s", "已重新连接（%s）"), session_self(&ch->s));
	/* What was shown before the drop is read; then where reading stopped, for the divider
	 * before the first missed message (the count comes before the catch-up's messages). */
	social_flush(&ch->social, true);
	cli_e2ee_login(&ch->e2ee, session_self(&ch->s), session_challenge(&ch->s));
	request(ch, pier_req_unread(NULL, 0), REQ_UNREAD_ARM, NULL, NULL);
	for (struct pending *p = ch->pending; p != NULL; p = p->next) {
		if (p->ref[0] == '\0')
			session_request(&ch->s, pier_req_join(p->target), p->ref);
	}
}

static void on_caught_up(void *ctx, size_t missed, size_t changes, bool truncated, bool unknown)
{
	struct chat *ch = ctx;

	if (missed > 0)
		info(ch, TR(ch, "%zu message(s) you missed are shown above", "以上是你错过的 %zu 条消息"),
		     missed);
	if (changes > 0)
		info(ch, TR(ch, "%zu message(s) changed while you were away (edited, recalled or "
		                "reacted to): shown above as they are now",
		            "你离开期间有 %zu 条消息被修改、撤回或收到回应：以上为其当前内容"), changes);
	if (truncated)
		info(ch, TR(ch, "More messages were missed than shown; /history shows a conversation's",
			    "错过的消息多于显示的；/history 可查看会话历史"));
	if (unknown)
		info(ch, TR(ch, "Messages sent while offline may not be shown; /history shows them",
			    "离线期间的消息可能未显示；/history 可查看"));
}

static char *on_password(void *ctx, bool again)
{
	struct chat *ch = ctx;
	const char *env = getenv("PIER_PASSWORD");
	char note[256];

	if (env != NULL)
		return again ? NULL : xstrdup(env);   /* the same password again would not help */
	if (again)
		snprintf(note, sizeof note, "%s", pier_login_status_text(PIER_LOGIN_WRONG_PASSWORD, ch->r.lang));
	else
		snprintf(note, sizeof note, TR(ch, "The server no longer accepts this session; log in again as %s.",
					       "服务器不再接受此会话；请重新以 %s 登录。"), session_self(&ch->s));
	/* NULL without a terminal: stdin holds chat lines now, not a password */
	return screen_password(&ch->sc, note);
}

static void on_failed(void *ctx, enum session_fail why)
{
	struct chat *ch = ctx;
	const char *text;

	switch (why) {
	case SESSION_FAIL_NO_PASSWORD:
		text = ch->tty ? TR(ch, "The server refused the session token; not logged in again",
				   "服务器拒绝了会话令牌；未能重新登录")
			       : TR(ch, "The server refused the session token and the password cannot be "
				   "asked for (stdin is not a terminal; set PIER_PASSWORD); giving up",
				   "服务器拒绝了会话令牌，且无法询问密码（标准输入不是终端；"
				   "可设置 PIER_PASSWORD）；退出");
		break;
	case SESSION_FAIL_NO_USER:
		text = TR(ch, "The account no longer exists; giving up", "该账号已不存在；退出");
		break;
	default:
		text = TR(ch, "Could not log in again; giving up", "未能重新登录；退出");
		break;
	}
	if (ch->tty)
		error_text(ch, text);
	else
		fprintf(stderr, "pier: %s\n", text);
	ch->rc = CLI_EXIT_FAIL;
	ch->quit = true;
}

static const struct session_ops chat_session_ops = {
	.message = on_message,
	.event = on_event,
	.changed = on_changed,
	.send_failed = on_send_failed,
	.offline = on_offline,
	.reconnected = on_reconnected,
	.caught_up = on_caught_up,
	.password = on_password,
	.failed = on_failed,
};

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

/* ---- the loop ---- */

/* A script's lines wait while this many messages wait for the server (they are read again
 * once there is room: the lines already read stay in ch->in). */
static bool pipe_full(const struct chat *ch)
{
	return session_unsent(&ch->s) >= SESSION_OUTBOX_MAX ||
	       cli_e2ee_unsent(&ch->e2ee) >= CLI_E2EE_JOBS_MAX / 2;
}

/* The lines read so far, while there is room for what they send. */
static void take_lines(struct chat *ch)
{
	char *line;

	while (!ch->closing && !pipe_full(ch) && (line = input_take_line(ch->in)) != NULL) {
		handle_line(ch, line);
		free(line);
	}
	if (input_at_eof(ch->in) && !input_has_line(ch->in))
		ch->closing = true;
}

static void read_stdin(struct chat *ch, short revents)
{
	if (ch->tty) {
		if (!screen_read(&ch->sc, revents))
			ch->closing = true;
		return;
	}
	input_fill(ch->in);
	take_lines(ch);
}

/* While closing: true once nothing awaited is left, or waiting makes no sense any more;
 * else *timeout says how long to wait at most. */
static bool closing_done(struct chat *ch, int64_t *deadline, int *timeout)
{
	if (ch->pending == NULL && session_unsent(&ch->s) == 0 && !cli_e2ee_busy(&ch->e2ee))
		return true;
	/* Someone at a terminal who quits while offline means it; a script's lines are worth
	 * waiting for the reconnect. */
	if (ch->tty && !session_is_online(&ch->s))
		return true;
	if (*deadline < 0)
		*deadline = pier_mono_ms() + (ch->tty ? DRAIN_TTY_MS : DRAIN_PIPE_MS);
	*timeout = (int)(*deadline - pier_mono_ms());
	return *timeout <= 0;
}

static void chat_loop(struct chat *ch)
{
	int64_t drain_deadline = -1;

	info(ch, TR(ch, "Talking in %s. /help lists the commands.", "当前会话 %s。输入 /help 查看命令。"),
	     ch->target);
	screen_start(&ch->sc);
	while (!ch->quit) {
		struct pollfd fds[3] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = screen_sigint_fd(&ch->sc), .events = POLLIN },
		};
		int timeout = -1, t;

		session_run(&ch->s);
		cli_e2ee_flush(&ch->e2ee);     /* save, then acknowledge what was opened */
		if (ch->quit)
			break;
		if (ch->closing) {
			if (closing_done(ch, &drain_deadline, &timeout))
				break;
			screen_stop(&ch->sc);   /* no more input; Ctrl-C now quits at once */
			fds[0].fd = -1;
		} else if (!ch->tty && pipe_full(ch)) {
			fds[0].fd = -1;      /* a script waits until the outbox has room */
		} else if (!ch->tty && input_has_line(ch->in)) {
			take_lines(ch);      /* lines read before, held while it was full */
			continue;
		}
		session_pollfd(&ch->s, &fds[2]);
		t = session_timeout_ms(&ch->s);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
		t = social_timeout_ms(&ch->social);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
		if (poll(fds, 3, timeout) < 0 && errno != EINTR) {
			ch->rc = CLI_EXIT_FAIL;
			break;
		}
		if (fds[1].revents != 0 && screen_sigint(&ch->sc) == SCREEN_CTRL_C_QUIT) {
			ch->quit = ch->closing;    /* a second Ctrl-C stops waiting for replies */
			ch->closing = true;
		}
		if (fds[0].revents != 0 && !ch->quit && !ch->closing) {
			read_stdin(ch, fds[0].revents);
			if (screen_typing(&ch->sc) && session_is_online(&ch->s))
				social_keys(&ch->social, ch->target);
		}
		social_tick(&ch->social);
	}
	screen_stop(&ch->sc);
}

/* Messages that could not be sent before the end: an error, and exit status 1. */
static void report_unsent(struct chat *ch)
{
	size_t unsent = session_unsent(&ch->s) + cli_e2ee_unsent(&ch->e2ee);
	char text[160];

	if (unsent == 0)
		return;
	snprintf(text, sizeof text, TR(ch, "%zu message(s) were not sent", "%zu 条消息未能发送"), unsent);
	if (ch->tty)
		error_text(ch, text);
	else
		fprintf(stderr, "pier: %s\n", text);
	ch->rc = CLI_EXIT_FAIL;
}

/* ---- what the media commands borrow (struct cli_media_host) ---- */

static const char *media_token(void *ctx)
{
	return ((struct chat *)ctx)->s.token;
}

static const char *media_self(void *ctx)
{
	return session_self(&((struct chat *)ctx)->s);
}

static int media_request(void *ctx, json_t *req, char ref_out[PIER_REF_MAX])
{
	return session_request(&((struct chat *)ctx)->s, req, ref_out);
}

static void media_info(void *ctx, const char *text)
{
	info(ctx, "%s", text);
}

static void media_error(void *ctx, const char *text)
{
	error_text(ctx, text);
}

static void media_show(void *ctx, const json_t *msg)
{
	screen_msg(&((struct chat *)ctx)->sc, msg);
}

static int social_request(void *ctx, json_t *req, char ref_out[PIER_REF_MAX])
{
	if (!session_is_online(&((struct chat *)ctx)->s)) {
		json_decref(req);
		return -1;
	}
	return session_request(&((struct chat *)ctx)->s, req, ref_out);
}

static void social_prompt(void *ctx)
{
	update_prompt(ctx, true);
}

static void e2ee_send_plain(void *ctx, const char *to, const char *text, int64_t reply_to)
{
	struct chat *ch = ctx;

	sent_outcome(ch, session_send_reply(&ch->s, to, text, reply_to), to, text);
}

static int64_t e2ee_upload_history(void *ctx, const struct pier_e2ee_history *hist,
                                   json_t **file)
{
	struct chat *ch = ctx;
	char err[512] = "";
	int64_t id = media_e2ee_send_history(&ch->media, ch->s.token, hist, file, err, sizeof err);

	if (id <= 0)
		error_text(ch, err);
	return id;
}

static long e2ee_fetch_history(void *ctx, const json_t *file, struct pier_e2ee_history *hist)
{
	struct chat *ch = ctx;
	char err[512] = "";
	long n = media_e2ee_take_history(&ch->media, ch->s.token, file, hist, err, sizeof err);

	if (n < 0)
		error_text(ch, err);
	return n;
}

/* A decrypted message: shown like any other, and noted for the read position (the server
 * counts it unread until this device says it was shown). */
static void e2ee_show(void *ctx, const json_t *msg)
{
	struct chat *ch = ctx;
	struct screen_out out;
	FILE *f;

	remember_name(ch, json_string_value(json_object_get(msg, "from")));
	f = screen_out_open(&out);
	social_message(&ch->social, msg, NULL);
	render_msg(f, &ch->r, msg);
	screen_out_say(&ch->sc, &out);
}

static const struct cli_e2ee_host chat_e2ee_host = {
	.request = social_request, .info = media_info, .error = media_error, .show = e2ee_show,
	.send_plain = e2ee_send_plain, .upload_history = e2ee_upload_history,
	.fetch_history = e2ee_fetch_history,
};

static const struct cli_social_host chat_social_host = {
	.request = social_request, .self = media_self, .prompt_changed = social_prompt,
};

/* Unread counts right after the login, before the messages that came with it are shown:
 * they say where reading stopped (the divider). */
static void first_unread(struct chat *ch, struct pier_conn *conn)
{
	json_t *reply = pier_conn_call(conn, pier_req_unread(NULL, 0), CLI_REPLY_TIMEOUT_MS);
	struct screen_out out;
	FILE *f;

	if (reply == NULL || strcmp(pier_event_op(reply), "unread") != 0) {
		json_decref(reply);
		return;
	}
	f = screen_out_open(&out);
	social_unread(&ch->social, reply, SOCIAL_ARM_PRIVATE, f);
	screen_out_say(&ch->sc, &out);
	json_decref(reply);
}

static bool media_encrypts(void *ctx, const char *target)
{
	return cli_e2ee_private(&((struct chat *)ctx)->e2ee, target);
}

static void media_send_encrypted(void *ctx, const char *target, const char *caption,
                                 const json_t *file, int64_t media)
{
	cli_e2ee_send(&((struct chat *)ctx)->e2ee, target, caption, 0, file, media);
}

static const struct cli_media_host chat_media_host = {
	.token = media_token, .self = media_self, .request = media_request, .info = media_info,
	.error = media_error, .show = media_show, .encrypts = media_encrypts,
	.send_encrypted = media_send_encrypted,
};

int interactive_run(const struct cli_options *o)
{
	struct chat ch = {
		.o = o,
		.tty = isatty(STDIN_FILENO) == 1,
		.rc = CLI_EXIT_OK,
	};
	struct pier_conn *conn;
	json_t *reply = NULL;

	ch.r.color = o->color;
	ch.r.bell = isatty(STDOUT_FILENO) == 1;
	ch.r.lang = o->lang;
	msgref_init(&ch.refs);
	ch.r.refs = &ch.refs;
	cli_media_init(&ch.media, o, &chat_media_host);
	ch.media.host.ctx = &ch;
	ch.r.media = &ch.media;
	screen_init(&ch.sc, &ch.r, ch.tty, handle_line, &ch);
	screen_set_completion(&ch.sc, complete_name, &ch);
	social_init(&ch.social, &chat_social_host, &ch.r);
	ch.social.host.ctx = &ch;
	session_init(&ch.s, o, &chat_session_ops, &ch);
	cli_e2ee_init(&ch.e2ee, o, &chat_e2ee_host);
	ch.e2ee.host.ctx = &ch;
	set_target(&ch, "#lobby");
	ch.in = input_new(STDIN_FILENO);
	conn = ch.in != NULL ? account_dialogue(o, ch.in, ch.tty, &reply) : NULL;
	if (conn == NULL || screen_catch_sigint(&ch.sc) != 0) {
		pier_conn_close(conn);
		ch.rc = CLI_EXIT_FAIL;
		goto out;
	}
	show_my_rooms(&ch, json_object_get(reply, "rooms"));
	first_unread(&ch, conn);
	session_start(&ch.s, conn, reply);
	ch.started = true;
	ch.r.self = session_self(&ch.s);
	cli_e2ee_login(&ch.e2ee, session_self(&ch.s), session_challenge(&ch.s));
	update_prompt(&ch, false);
	chat_loop(&ch);
	report_unsent(&ch);
	if (!ch.logged_out)
		session_logout(&ch.s, LOGOUT_TIMEOUT_MS);
out:
	screen_release(&ch.sc);
	json_decref(reply);
	while (ch.pending != NULL) {
		struct pending *p = ch.pending;

		ch.pending = p->next;
		pending_free(p);
	}
	for (size_t i = 0; i < ch.nnames; i++)
		free(ch.names[i]);
	free(ch.names);
	cli_e2ee_flush(&ch.e2ee);
	session_release(&ch.s);
	cli_e2ee_release(&ch.e2ee);
	cli_media_release(&ch.media);
	input_free(ch.in);
	return ch.rc;
}
