/* cli.h - what every part of the terminal client `pier` shares: the parsed command line. */
#ifndef PIER_CLI_H
#define PIER_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "pier.h"

#define CLI_CONNECT_TIMEOUT_MS  10000
#define CLI_REPLY_TIMEOUT_MS    30000  /* a reply (password hashing can take a while) */

/* Exit statuses. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,     /* the server refused, or the connection failed */
	CLI_EXIT_USAGE = 2     /* a bad command line */
};

struct cli_options {
	const char *host;
	const char *port;
	bool tls;                  /* --tls (or --insecure / --ca-file) */
	struct pier_tls_options tls_opt;
	const char *user;          /* NULL: ask (interactive) */
	const char *to;            /* send --to */
	const char *with;          /* search --with: one conversation (NULL: all) */
	const char *file;          /* send --file: a file to upload and send (media.h) */
	const char *http_url;      /* --http-url: the server's HTTP side for files (NULL: guess) */
	const char *display;       /* --display: a display name to register with (NULL: none) */
	enum pier_lang lang;
	bool color;                /* decided once: --no-color, NO_COLOR, stdout a terminal */
	bool json;                 /* history/rooms/who/search --json */
	int limit;                 /* history, search --limit (0: default) */
	int64_t before;            /* history, search --before (0: newest) */
	int64_t reply_to;          /* send --reply-to (0: none) */
	bool off;                  /* react --off: take the reaction back */
	bool no_e2ee;              /* --no-e2ee: this run is no device (cli_e2ee.h) */
	const char *passphrase;    /* the device keys' ($PIER_PASSPHRASE or --passphrase), or NULL */
	const char *command;       /* NULL: interactive */
	char **args;               /* the command's other arguments */
	int nargs;
};

#endif
