/* interactive.h - `pier` without a command: log in (or register) and chat. */
#ifndef PIER_CLI_INTERACTIVE_H
#define PIER_CLI_INTERACTIVE_H

#include "cli.h"

/* Runs the chat session until /quit, end of input or a lost connection. Returns the exit
 * status (CLI_EXIT_*). */
int interactive_run(const struct cli_options *o);

#endif
