/* oneshot.h - `pier COMMAND ...`: one request for scripts (register, send, history, rooms,
 * who, join, part, recall, edit, react). */
#ifndef PIER_CLI_ONESHOT_H
#define PIER_CLI_ONESHOT_H

#include <stdbool.h>

#include "cli.h"

/* True if name is a one-shot command. */
bool oneshot_is_command(const char *name);

/* Runs o->command. Results go to stdout, failures to stderr. Returns the exit status. */
int oneshot_run(const struct cli_options *o);

#endif
