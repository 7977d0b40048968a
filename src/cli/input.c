/* input.c - lines from a non-terminal stdin, and passwords typed without echo. */
#include "input.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define READ_CHUNK  4096

struct input {
	int fd;
	bool eof;
	char *buf;
	size_t len, cap;
};

struct input *input_new(int fd)
{
	struct input *in = calloc(1, sizeof *in);

	if (in != NULL)
		in->fd = fd;
	return in;
}

void input_free(struct input *in)
{
	if (in == NULL)
		return;
	free(in->buf);
	free(in);
}

bool input_at_eof(const struct input *in)
{
	return in->eof;
}

int input_fill(struct input *in)
{
	ssize_t n;

	if (in->eof)
		return 0;
	if (in->cap - in->len < READ_CHUNK) {
		size_t cap = in->cap == 0 ? 2 * READ_CHUNK : in->cap * 2;
		char *p = realloc(in->buf, cap);

		if (p == NULL)
			return -1;
		in->buf = p;
		in->cap = cap;
	}
	do {
		n = read(in->fd, in->buf + in->len, in->cap - in->len);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		in->eof = true;
		return n == 0 ? 0 : -1;
	}
	in->len += (size_t)n;
	return 1;
}

/* Cuts the first n bytes off the buffer as a line; skip more bytes (the newline) go too. */
static char *cut(struct input *in, size_t n, size_t skip)
{
	char *line = malloc(n + 1);

	if (line == NULL)
		return NULL;
	memcpy(line, in->buf, n);
	line[n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	memmove(in->buf, in->buf + n + skip, in->len - n - skip);
	in->len -= n + skip;
	return line;
}

char *input_take_line(struct input *in)
{
	char *nl = in->len > 0 ? memchr(in->buf, '\n', in->len) : NULL;

	if (nl != NULL)
		return cut(in, (size_t)(nl - in->buf), 1);
	if (in->len >= INPUT_LINE_MAX)
		return cut(in, INPUT_LINE_MAX, 0);
	if (in->eof && in->len > 0)
		return cut(in, in->len, 0);
	return NULL;
}

bool input_has_line(const struct input *in)
{
	return (in->len > 0 && memchr(in->buf, '\n', in->len) != NULL) ||
	       in->len >= INPUT_LINE_MAX || (in->eof && in->len > 0);
}

char *input_read_line(struct input *in)
{
	for (;;) {
		char *line = input_take_line(in);

		if (line != NULL || in->eof)
			return line;
		if (input_fill(in) < 0)
			return NULL;
	}
}

/* Ctrl-C while the password is typed: read(2) fails with EINTR and the prompt gives up. */
static void on_sigint(int sig)
{
	(void)sig;
}

char *input_password_tty(int fd, const char *prompt)
{
	struct termios old, quiet;
	struct sigaction sa, old_sa;
	char buf[2048];
	size_t len = 0;
	char *line = NULL;

	if (tcgetattr(fd, &old) != 0)
		return NULL;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;    /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		goto out;
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n <= 0)
			goto restore;
		if (c == '\n' || c == '\r')
			break;
		if (len < sizeof buf - 1)
			buf[len++] = c;
	}
	buf[len] = '\0';
	line = strdup(buf);
restore:
	tcsetattr(fd, TCSAFLUSH, &old);
	fputc('\n', stderr);
out:
	sigaction(SIGINT, &old_sa, NULL);
	explicit_bzero(buf, sizeof buf);
	return line;
}
