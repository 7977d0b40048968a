/* screen.c - the chat's terminal (screen.h): libedit in callback mode, lines printed above
 * the input line, the prompt, Ctrl-C (through a self-pipe, so that the caller's poll(2)
 * loop sees it) and the password question in the middle of a chat. */
#define _XOPEN_SOURCE 700      /* wcwidth(3): where the cursor is on a wrapped input line */

#include "screen.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include <editline/readline.h>

#include "input.h"

/* libedit's line callback takes no context: the screen that installed it. */
static struct screen *rl_screen;
/* The write end of the SIGINT pipe, for the signal handler. */
static volatile sig_atomic_t sigint_fd = -1;

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

/* The line being typed: its text (not NUL-terminated), length and cursor. libedit updates
 * rl_line_buffer, rl_end and rl_point only after a key that leaves the line non-empty
 * (screen_read starts each key from an empty line's values), and not for rl_insert_text. */
static const char *input_line(const struct screen *sc, size_t *len, size_t *point)
{
	if (sc->restored != NULL) {
		*len = *point = strlen(sc->restored);
		return sc->restored;
	}
	if (rl_line_buffer == NULL) {
		*len = *point = 0;
		return "";
	}
	*len = rl_end > 0 ? (size_t)rl_end : 0;
	*point = rl_point > 0 && (size_t)rl_point <= *len ? (size_t)rl_point : *len;
	return rl_line_buffer;
}

/* Columns from the start of the prompt to the cursor in libedit's line. */
static int input_columns(const struct screen *sc)
{
	size_t len, point;
	const char *line = input_line(sc, &len, &point);

	return text_width(sc->prompt, strlen(sc->prompt)) + text_width(line, point);
}

static void on_rl_line(char *line)
{
	struct screen *sc = rl_screen;

	sc->line_done = true;
	if (line == NULL) {          /* Ctrl-D on an empty line */
		sc->want_more = sc->on_line(sc->ctx, NULL);
		return;
	}
	if (line[0] != '\0')
		add_history(line);
	/* The cursor is on a line of its own and libedit's buffer still holds this line: what
	 * the callback prints goes out plainly; the handler, installed again, draws the prompt. */
	sc->rl_on = false;
	sc->want_more = sc->on_line(sc->ctx, line);
	sc->rl_on = true;
	free(line);
}

/* (Re)installs libedit's handler: an empty line after the prompt. */
static void fresh_line(struct screen *sc)
{
	rl_callback_handler_install(sc->prompt, on_rl_line);
	rl_end = rl_point = 0;
}

void screen_init(struct screen *sc, const struct render *r, bool tty, screen_line_fn *on_line,
		 void *ctx)
{
	memset(sc, 0, sizeof *sc);
	sc->r = r;
	sc->tty = tty;
	sc->on_line = on_line;
	sc->ctx = ctx;
	sc->want_more = true;
	sc->sigpipe[0] = sc->sigpipe[1] = -1;
}

void screen_set_completion(struct screen *sc, screen_complete_fn *fn, void *ctx)
{
	sc->complete = fn;
	sc->complete_ctx = ctx;
}

static char *complete_next(const char *word, int state)
{
	struct screen *sc = rl_screen;

	return sc != NULL && sc->complete != NULL ? sc->complete(sc->complete_ctx, word, state) : NULL;
}

/* libedit's completion hook: @names only; never libedit's default, file names. */
static char **complete_word(const char *word, int start, int end)
{
	(void)start;
	(void)end;
	rl_attempted_completion_over = 1;
	if (word[0] != '@' && strncmp(word, "\xEF\xBC\xA0", 3) != 0)
		return NULL;
	return rl_completion_matches(word, complete_next);
}

void screen_start(struct screen *sc)
{
	if (!sc->tty || sc->rl_on)
		return;
	rl_screen = sc;
	/* '@' is part of the word to complete (libedit breaks words at it by default). */
	rl_basic_word_break_characters = " \t\n\"\\'`$><=;|&{(";
	rl_attempted_completion_function = complete_word;
	sc->line_done = false;
	fresh_line(sc);
	sc->rl_on = true;
}

void screen_stop(struct screen *sc)
{
	if (!sc->rl_on)
		return;
	/* Leave a clean line: erase the prompt and any unfinished input (after a finished line
	 * the cursor is already on a line of its own, maybe behind libedit's "^D"). */
	erase_back(sc->line_done ? 0 : input_columns(sc));
	fflush(stdout);
	rl_callback_handler_remove();
	sc->rl_on = false;
	rl_screen = NULL;
	free(sc->restored);
	sc->restored = NULL;
}

void screen_set_prompt(struct screen *sc, const char *prompt, bool redraw)
{
	redraw = redraw && sc->rl_on && strcmp(prompt, sc->prompt) != 0;
	if (redraw)
		erase_back(input_columns(sc));
	snprintf(sc->prompt, sizeof sc->prompt, "%s", prompt);
	if (!sc->rl_on)
		return;
	rl_set_prompt(sc->prompt);
	if (redraw) {
		rl_forced_update_display();
		fflush(stdout);
	}
}

bool screen_read(struct screen *sc, short revents)
{
	if (!(revents & POLLIN))         /* hung up */
		return false;
	sc->line_done = false;
	sc->ctrl_c_armed = false;
	free(sc->restored);
	sc->restored = NULL;
	/* libedit updates rl_end and rl_point only while the line is not empty: start from an
	 * empty line's values, so that they are right when it is. */
	rl_end = rl_point = 0;
	rl_callback_read_char();
	/* libedit leaves the editor half reset after a line: install the handler again for a
	 * fresh, editable line with the (maybe changed) prompt. */
	if (sc->line_done && sc->want_more && sc->rl_on)
		fresh_line(sc);
	return sc->want_more;
}

bool screen_typing(const struct screen *sc)
{
	size_t len, point;
	const char *line;

	if (!sc->tty || !sc->rl_on)
		return false;
	line = input_line(sc, &len, &point);
	return len > 0 && line[0] != '/';
}

void screen_erase_echo(struct screen *sc, const char *line)
{
	int columns, cols;

	if (!sc->tty)
		return;
	/* the cursor is on the line after the echo */
	columns = text_width(sc->prompt, strlen(sc->prompt)) + text_width(line, strlen(line));
	cols = screen_cols();
	fprintf(stdout, "\033[%dA", (columns + cols - 1) / cols > 0 ? (columns + cols - 1) / cols : 1);
	erase_back(0);
	fflush(stdout);
}

static void on_sigint(int sig)
{
	int fd = (int)sigint_fd;

	(void)sig;
	if (fd >= 0 && write(fd, "", 1) < 0) {
		/* the pipe is full: a Ctrl-C is waiting already */
	}
}

int screen_catch_sigint(struct screen *sc)
{
	struct sigaction sa;

	if (pipe(sc->sigpipe) != 0) {
		sc->sigpipe[0] = sc->sigpipe[1] = -1;
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(sc->sigpipe[i], F_SETFL, fcntl(sc->sigpipe[i], F_GETFL) | O_NONBLOCK);
		fcntl(sc->sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	sigint_fd = sc->sigpipe[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	return 0;
}

int screen_sigint_fd(const struct screen *sc)
{
	return sc->sigpipe[0];
}

void screen_release(struct screen *sc)
{
	screen_stop(sc);
	if (sc->sigpipe[0] < 0)
		return;
	signal(SIGINT, SIG_DFL);
	sigint_fd = -1;
	close(sc->sigpipe[0]);
	close(sc->sigpipe[1]);
	sc->sigpipe[0] = sc->sigpipe[1] = -1;
}

enum screen_ctrl_c screen_sigint(struct screen *sc)
{
	size_t len, point;
	char buf[16];
	ssize_t n = 0;

	while (read(sc->sigpipe[0], buf, sizeof buf) > 0)
		n++;         /* one Ctrl-C or several: the same */
	if (n == 0)
		return SCREEN_CTRL_C_NONE;
	if (!sc->rl_on)
		return SCREEN_CTRL_C_QUIT;
	input_line(sc, &len, &point);
	if (len > 0) {
		/* libedit's rl_replace_line ignores "": start a fresh line instead */
		erase_back(input_columns(sc));
		rl_callback_handler_remove();
		free(sc->restored);
		sc->restored = NULL;
		fresh_line(sc);
		fflush(stdout);
		sc->ctrl_c_armed = true;
		return SCREEN_CTRL_C_CLEARED;
	}
	if (sc->ctrl_c_armed)
		return SCREEN_CTRL_C_QUIT;
	screen_info(sc, "%s", render_tr(sc->r, "(Ctrl-C again or Ctrl-D to quit)",
					"（再按 Ctrl-C 或 Ctrl-D 退出）"));
	sc->ctrl_c_armed = true;
	return SCREEN_CTRL_C_ASK;
}

char *screen_password(struct screen *sc, const char *note)
{
	bool was_on = sc->rl_on;
	char *saved = NULL, *pw;

	if (!sc->tty)
		return NULL;
	if (was_on) {
		size_t len, point;
		const char *line = input_line(sc, &len, &point);

		saved = len > 0 ? strndup(line, len) : NULL;
		screen_stop(sc);
	}
	fprintf(stdout, "%s\n", note);
	fflush(stdout);
	pw = input_password_tty(STDIN_FILENO, render_tr(sc->r, "Password: ", "密码: "));
	if (was_on) {
		screen_start(sc);
		if (saved != NULL) {
			/* the prompt is drawn: draw it again with the line */
			rl_insert_text(saved);
			erase_back(text_width(sc->prompt, strlen(sc->prompt)));
			rl_forced_update_display();
			fflush(stdout);
			sc->restored = saved;
			saved = NULL;
		}
	}
	free(saved);
	return pw;
}

void screen_say(struct screen *sc, const char *text, size_t len)
{
	if (len == 0)
		return;
	if (sc->rl_on)
		erase_back(input_columns(sc));
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	if (sc->rl_on)
		rl_forced_update_display();
}

FILE *screen_out_open(struct screen_out *out)
{
	out->buf = NULL;
	out->len = 0;
	out->f = open_memstream(&out->buf, &out->len);
	return out->f != NULL ? out->f : stdout;
}

void screen_out_say(struct screen *sc, struct screen_out *out)
{
	if (out->f == NULL)
		return;
	fclose(out->f);
	screen_say(sc, out->buf, out->len);
	free(out->buf);
}

void screen_info(struct screen *sc, const char *fmt, ...)
{
	struct screen_out out;
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	render_info(screen_out_open(&out), sc->r, "%s", buf);
	screen_out_say(sc, &out);
}

void screen_error(struct screen *sc, const json_t *err, const char *context)
{
	struct screen_out out;

	render_error(screen_out_open(&out), sc->r, err, context);
	screen_out_say(sc, &out);
}

void screen_error_text(struct screen *sc, const char *text)
{
	json_t *err = json_pack("{s:s, s:s}", "op", "error", "message", text);

	screen_error(sc, err, NULL);
	json_decref(err);
}

void screen_msg(struct screen *sc, const json_t *msg)
{
	struct screen_out out;

	render_msg(screen_out_open(&out), sc->r, msg);
	screen_out_say(sc, &out);
}
