/* input.h - reading what the user types when it is not going through libedit: lines from a
 * non-terminal stdin (pipes, files, tests) and passwords typed without echo. */
#ifndef PIER_CLI_INPUT_H
#define PIER_CLI_INPUT_H

#include <stdbool.h>

#define INPUT_LINE_MAX  (1024 * 1024)  /* a longer line is cut into pieces of this size */

struct input;

/* Lines from fd, read with read(2) only (no stdio buffering, so poll(2) on fd stays true). */
struct input *input_new(int fd);
void input_free(struct input *in);

/* One read(2) into the buffer: 1 if bytes came, 0 at end of file, -1 on error (errno). */
int input_fill(struct input *in);

/* The next complete line (malloc'd, without "\n" or "\r\n"), or NULL when none is complete.
 * After end of file a last line without newline is returned too. */
char *input_take_line(struct input *in);

/* True when input_take_line would return a line without reading. */
bool input_has_line(const struct input *in);

/* Waits for the next line: malloc'd, or NULL at end of file or on error. */
char *input_read_line(struct input *in);

/* True once end of file (or an error) was seen. */
bool input_at_eof(const struct input *in);

/* Prompts on stderr and reads a line from the terminal on fd without echo. malloc'd, or NULL
 * on end of file, error or Ctrl-C. */
char *input_password_tty(int fd, const char *prompt);

#endif
