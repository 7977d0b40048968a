/* screen.h - the chat's terminal: what is typed, and what is printed around it.
 *
 * On a terminal, typing goes through libedit's readline-compatible callback interface, and a
 * line printed meanwhile goes above the input line: the prompt and the partial input are
 * erased, the line printed, and libedit redraws both (its buffer is untouched, so nothing
 * typed is lost). When stdin is not a terminal the screen only prints; the caller reads the
 * lines itself (input.h).
 *
 * libedit's line callback takes no context, so there is one active screen per process.
 */
#ifndef PIER_CLI_SCREEN_H
#define PIER_CLI_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pier.h"
#include "render.h"

#define SCREEN_PROMPT_MAX  96

/* Called with each line typed (malloc'd; the screen frees it after the call), or NULL for
 * Ctrl-D on an empty line. Returns false when no more input is wanted. */
typedef bool screen_line_fn(void *ctx, char *line);

/* Tab completion: the state-th (from 0) completion of word (malloc'd), or NULL when there are
 * no more. word is what precedes the cursor back to a space ("@bo"). */
typedef char *screen_complete_fn(void *ctx, const char *word, int state);

struct screen {
	const struct render *r;
	bool tty;                  /* stdin is a terminal: libedit */
	bool rl_on;                /* libedit's callback handler is installed */
	bool line_done;            /* libedit handed over a line (reinstall the handler) */
	bool want_more;            /* what the line callback said */
	bool ctrl_c_armed;         /* Ctrl-C on an empty line now quits */
	char prompt[SCREEN_PROMPT_MAX];
	char *restored;            /* a line put back after a question, until a key is pressed
				    * (libedit's rl_line_buffer and rl_end do not show it) */
	int sigpipe[2];            /* SIGINT writes a byte to sigpipe[1] */
	screen_line_fn *on_line;
	void *ctx;
	screen_complete_fn *complete;   /* NULL: Tab completes nothing */
	void *complete_ctx;
};

/* Fills sc (the caller's); r must outlive it. tty: stdin is a terminal. */
void screen_init(struct screen *sc, const struct render *r, bool tty, screen_line_fn *on_line,
		 void *ctx);

/* Completes words starting with '@' (or the full-width U+FF20) with fn; nothing else (no file
 * names). Call before screen_start. */
void screen_set_completion(struct screen *sc, screen_complete_fn *fn, void *ctx);

/* Starts and stops the line editor (nothing without a terminal). Stopping leaves a clean line. */
void screen_start(struct screen *sc);
void screen_stop(struct screen *sc);

/* Sets the prompt; with redraw, the input line is drawn again at once with it. */
void screen_set_prompt(struct screen *sc, const char *prompt, bool redraw);

/* Handles what the terminal has for the line editor (poll said revents). False when stdin
 * hung up or the line callback wants no more input. */
bool screen_read(struct screen *sc, short revents);

/* True when a chat line (not a /command) is being typed: something is in the input line. */
bool screen_typing(const struct screen *sc);

/* Called from the line callback: erases libedit's echo of line (on a terminal), for lines
 * that are shown again otherwise (a chat message once stored). */
void screen_erase_echo(struct screen *sc, const char *line);

/* Ctrl-C, as in a shell: SIGINT is caught (written to a pipe the caller polls) from
 * screen_catch_sigint until screen_release. 0, or -1 if the pipe could not be made. */
int screen_catch_sigint(struct screen *sc);
/* The fd to poll for POLLIN (-1 before screen_catch_sigint). */
int screen_sigint_fd(const struct screen *sc);
enum screen_ctrl_c {
	SCREEN_CTRL_C_NONE,        /* nothing was pressed after all */
	SCREEN_CTRL_C_CLEARED,     /* the line being typed was cleared */
	SCREEN_CTRL_C_ASK,         /* the line was empty: a hint to press again was shown */
	SCREEN_CTRL_C_QUIT         /* pressed again on an empty line, or no line editor: quit */
};
/* What the Ctrl-C (or several) waiting in the pipe mean; does the clearing and the hint. */
enum screen_ctrl_c screen_sigint(struct screen *sc);
/* Stops catching SIGINT. */
void screen_release(struct screen *sc);

/* Asks for a password without echo, with note printed first; the line being typed is put
 * aside meanwhile and comes back after. malloc'd, or NULL (no terminal, end of input, Ctrl-C). */
char *screen_password(struct screen *sc, const char *note);

/* Output. Everything goes to stdout through screen_say, above the input line. */
void screen_say(struct screen *sc, const char *text, size_t len);
void screen_info(struct screen *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void screen_error(struct screen *sc, const json_t *err, const char *context);
/* An error of the client's own (not from the server), shown like the server's. */
void screen_error_text(struct screen *sc, const char *text);
void screen_msg(struct screen *sc, const json_t *msg);

/* A memory stream for building several lines that go out in one screen_say. */
struct screen_out {
	FILE *f;
	char *buf;
	size_t len;
};
/* The stream to write to (stdout itself if memory ran out). */
FILE *screen_out_open(struct screen_out *out);
/* Closes the stream and says what it holds. */
void screen_out_say(struct screen *sc, struct screen_out *out);

#endif
