/* cliterm.h - integration-test helpers that run the terminal client `pier` as a child process,
 * on a pseudo-terminal or on pipes, and wait for what it writes.
 *
 * (Not "pty.h": tests include the system's <pty.h> for forkpty, and the integration
 * directory is on the include path.)
 *
 * Every wait is bounded (CLITERM_TIMEOUT_MS unless a call takes its own); failures are failed
 * checks (tap.h), and the helper returns false / -1 so a test can stop early.
 */
#ifndef PIER_CLITERM_H
#define PIER_CLITERM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CLITERM_TIMEOUT_MS 10000

/* A NULL-terminated argument list, for the args of the functions below. */
#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Appends n bytes of data to the NUL-terminated *buf of *len bytes (growing it). Out of memory:
 * nothing is appended. */
void cliterm_append(char **buf, size_t *len, const char *data, size_t n);

/* Sets up the environment of a pier child (call in the child): English; XDG_DATA_HOME (the
 * device keys) is $PIER_CLI_DATA, or a directory of the test process's; PIER_PASSWORD is
 * password, or unset when password is NULL. */
/* The children's locale: NULL (the default) is LC_ALL=C.UTF-8; else LANG=lang with LC_ALL and
 * LC_CTYPE unset (a locale that may not be installed, as a user's ssh session brings it). */
void cliterm_set_lang(const char *lang);
void cliterm_child_env(const char *password);

/* argv for pier (allocated; free the array, not its strings): PIER_CLI_PATH, --port port, then
 * args (NULL-terminated; borrowed). */
char **cliterm_argv(const char *port, const char *const *args);

/* Forks and execs argv with its stdin, stdout and stderr on pipes, the environment set by
 * cliterm_child_env(password). fds gets the parent's ends: [0] the child's stdin (write),
 * [1] its stdout and [2] its stderr (read); all close-on-exec. The pid, or -1 (a failed check)
 * when no pipe or process could be made. */
pid_t cliterm_spawn_piped(char *const *argv, const char *password, int fds[3]);

/* A running client and everything it wrote. */
struct term {
	pid_t pid;
	int fd;         /* the pty's master, or the child's stdout with pipes */
	int in_fd;      /* pipes: the child's stdin (-1 once closed); pty: fd */
	int err_fd;     /* pipes: the child's stderr; pty: -1 */
	bool piped;
	char *buf;      /* everything the client wrote */
	size_t len;
	size_t mark;    /* expect() searches from here */
	char *err;      /* pipes: its stderr */
	size_t err_len;
};

/* Starts pier (cliterm_argv(port, args)) on a 200x40 pseudo-terminal with TERM=xterm and
 * NO_COLOR unset. True, or false with a failed check. Either way, end with term_finish (when
 * it started) and term_free. */
bool term_start(struct term *t, const char *port, const char *password, const char *const *args);

/* The same on pipes (cliterm_spawn_piped): what is typed goes to its stdin; its stderr is
 * collected in t->err. */
bool term_pipe_start(struct term *t, const char *port, const char *password,
                     const char *const *args);

/* Reads what the client wrote for up to ms. */
void term_read(struct term *t, int ms);

/* Waits up to ms until needle appears after the mark; moves the mark past it. False (a failed
 * check naming what) if it did not appear. */
bool expect_within(struct term *t, const char *needle, const char *what, int ms);

/* expect_within with CLITERM_TIMEOUT_MS. */
bool expect(struct term *t, const char *needle, const char *what);

/* Writes s to the client's input. */
void type(struct term *t, const char *s);

/* Types a line built with fmt (printf), as type does. */
void term_typef(struct term *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The number pier shows at the start of the last line holding needle (colour codes and the
 * bell skipped), or -1. */
long term_number_of(const struct term *t, const char *needle);

/* Ends a piped client's input, waits up to CLITERM_TIMEOUT_MS for the client to exit (then
 * SIGKILL and a failed check), closes the descriptors. The exit status, or -1. */
int term_finish(struct term *t);

/* Frees what the client wrote. */
void term_free(struct term *t);

#endif
