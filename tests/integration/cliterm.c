/* cliterm.c - runs the terminal client `pier` for integration tests, on a pseudo-terminal or
 * on pipes (cliterm.h). */
#include "cliterm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "tap.h"

void cliterm_append(char **buf, size_t *len, const char *data, size_t n)
{
	char *p = realloc(*buf, *len + n + 1);

	if (p == NULL)
		return;
	memcpy(p + *len, data, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
}

static const char *child_lang;

void cliterm_set_lang(const char *lang)
{
	child_lang = lang;
}

void cliterm_child_env(const char *password)
{
	if (child_lang != NULL) {
		unsetenv("LC_ALL");
		unsetenv("LC_CTYPE");
		setenv("LANG", child_lang, 1);
	} else {
		setenv("LC_ALL", "C.UTF-8", 1);
		unsetenv("LANG");
	}
	unsetenv("LC_MESSAGES");
	/* Device keys (end-to-end encryption) go to a directory of the test's, never the
	 * user's: PIER_CLI_DATA when the test chose one (one per device), else one per test
	 * process. */
	{
		const char *chosen = getenv("PIER_CLI_DATA"), *tmp = getenv("TMPDIR");
		char dir[512];

		if (chosen != NULL)
			snprintf(dir, sizeof dir, "%s", chosen);
		else
			snprintf(dir, sizeof dir, "%s/pier-cli-data-%ld",
			         tmp != NULL && tmp[0] == '/' ? tmp : "/tmp", (long)getppid());
		setenv("XDG_DATA_HOME", dir, 1);
	}
	if (password != NULL)
		setenv("PIER_PASSWORD", password, 1);
	else
		unsetenv("PIER_PASSWORD");
}

char **cliterm_argv(const char *port, const char *const *args)
{
	size_t n = 0;
	char **argv;

	while (args[n] != NULL)
		n++;
	argv = calloc(n + 4, sizeof *argv);
	argv[0] = (char *)PIER_CLI_PATH;
	argv[1] = (char *)"--port";
	argv[2] = (char *)port;
	for (size_t i = 0; i < n; i++)
		argv[3 + i] = (char *)args[i];
	return argv;
}

pid_t cliterm_spawn_piped(char *const *argv, const char *password, int fds[3])
{
	int in[2], out[2], err[2];
	pid_t pid;

	if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) {
		CHECK(false, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
		cliterm_child_env(password);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		CHECK(false, "fork: %s", strerror(errno));
		close(in[1]);
		close(out[0]);
		close(err[0]);
		return -1;
	}
	/* a pierd started later must not hold the client's stdin open */
	fcntl(in[1], F_SETFD, FD_CLOEXEC);
	fcntl(out[0], F_SETFD, FD_CLOEXEC);
	fcntl(err[0], F_SETFD, FD_CLOEXEC);
	fds[0] = in[1];
	fds[1] = out[0];
	fds[2] = err[0];
	return pid;
}

bool term_start(struct term *t, const char *port, const char *password, const char *const *args)
{
	struct winsize ws = { .ws_row = 40, .ws_col = 200 };
	char **argv = cliterm_argv(port, args);

	memset(t, 0, sizeof t[0]);
	t->buf = strdup("");
	t->err = strdup("");
	t->err_fd = -1;
	t->pid = forkpty(&t->fd, NULL, NULL, &ws);
	if (t->pid == 0) {
		cliterm_child_env(password);
		setenv("TERM", "xterm", 1);
		unsetenv("NO_COLOR");
		execv(argv[0], argv);
		_exit(127);
	}
	t->in_fd = t->fd;
	fcntl(t->fd, F_SETFD, FD_CLOEXEC);
	free(argv);
	return CHECK(t->pid > 0, "forkpty: %s", strerror(errno));
}

bool term_pipe_start(struct term *t, const char *port, const char *password,
                     const char *const *args)
{
	char **argv = cliterm_argv(port, args);
	int fds[3];

	memset(t, 0, sizeof t[0]);
	t->buf = strdup("");
	t->err = strdup("");
	t->pid = cliterm_spawn_piped(argv, password, fds);
	free(argv);
	if (t->pid < 0)
		return false;
	t->piped = true;
	t->in_fd = fds[0];
	t->fd = fds[1];
	t->err_fd = fds[2];
	return true;
}

void term_read(struct term *t, int ms)
{
	int64_t end = pier_mono_ms() + ms;

	for (;;) {
		int64_t left = end - pier_mono_ms();
		struct pollfd p[2] = { { .fd = t->fd, .events = POLLIN }, { .fd = t->err_fd, .events = POLLIN } };
		char buf[4096];
		ssize_t n;

		if (poll(p, 2, left > 0 ? (int)left : 0) <= 0)
			return;
		if (p[1].revents != 0) {
			n = read(t->err_fd, buf, sizeof buf);
			if (n > 0) {
				cliterm_append(&t->err, &t->err_len, buf, (size_t)n);
			} else {
				close(t->err_fd);
				t->err_fd = -1;
			}
		}
		if (p[0].revents != 0) {
			n = read(t->fd, buf, sizeof buf);
			if (n <= 0)
				return;
			cliterm_append(&t->buf, &t->len, buf, (size_t)n);
		}
	}
}

bool expect_within(struct term *t, const char *needle, const char *what, int ms)
{
	int64_t end = pier_mono_ms() + ms;
	char *hit;

	while ((hit = strstr(t->buf + t->mark, needle)) == NULL && pier_mono_ms() < end)
		term_read(t, 50);
	if (hit == NULL) {
		CHECK(false, "%s: \"%s\" not seen; the client wrote: [%s] [stderr: %s]", what, needle,
		      t->buf + t->mark, t->err);
		return false;
	}
	t->mark = (size_t)(hit - t->buf) + strlen(needle);
	return true;
}

bool expect(struct term *t, const char *needle, const char *what)
{
	return expect_within(t, needle, what, CLITERM_TIMEOUT_MS);
}

void type(struct term *t, const char *s)
{
	if (t->in_fd < 0 || write(t->in_fd, s, strlen(s)) < 0)
		CHECK(false, "write to the client: %s", strerror(errno));
}

long term_number_of(const struct term *t, const char *needle)
{
	const char *at = NULL, *p, *line;
	long n = 0;

	for (p = t->buf; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		at = p;
	if (at == NULL)
		return -1;
	line = at;
	while (line > t->buf && line[-1] != '\n' && line[-1] != '\r')
		line--;
	for (;;) {
		if (*line == '\a') {
			line++;
		} else if (line[0] == '\033' && line[1] == '[') {
			line += 2;
			while (*line != '\0' && !(*line >= '@' && *line <= '~'))
				line++;
			if (*line != '\0')
				line++;
		} else {
			break;
		}
	}
	if (*line < '0' || *line > '9')
		return -1;
	while (*line >= '0' && *line <= '9')
		n = n * 10 + (*line++ - '0');
	return n;
}

void term_typef(struct term *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	type(t, line);
}

int term_finish(struct term *t)
{
	int64_t end = pier_mono_ms() + CLITERM_TIMEOUT_MS;
	int status = 0;
	pid_t r = 0;

	if (t->piped && t->in_fd >= 0) {
		close(t->in_fd);     /* end of input */
		t->in_fd = -1;
	}
	while ((r = waitpid(t->pid, &status, WNOHANG)) == 0 && pier_mono_ms() < end)
		term_read(t, 50);
	if (r == 0) {
		CHECK(false, "the client did not exit; it wrote: [%s]", t->buf + t->mark);
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
	}
	term_read(t, 0);
	close(t->fd);
	if (t->err_fd >= 0)
		close(t->err_fd);
	return r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void term_free(struct term *t)
{
	free(t->buf);
	free(t->err);
}
