/* e2ee_oneshot.h - the one-shot `pier send --to @user` encrypts too (cli_e2ee.h is the
 * chat's side): blocking, on the connection of the command's login. */
#ifndef PIER_CLI_E2EE_ONESHOT_H
#define PIER_CLI_E2EE_ONESHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "pier.h"

/* Sends plain (the payload fields: "text", "kind", "file"...) to `to` ("@user") encrypted,
 * with reply_to and media (0: none) as the server's metadata. login: the login reply (its
 * "challenge" and "user"). 0 with *id the stored message's id, or with *plaintext when to has
 * no device (or there is no encryption: --no-e2ee, an old server): the caller sends it
 * plainly. -1 after printing why on stderr. */
int e2ee_oneshot_send(struct pier_conn *conn, const struct cli_options *o, const json_t *login,
                      const char *to, const json_t *plain, int64_t reply_to, int64_t media,
                      int64_t *id, bool *plaintext);

/* Fills the encrypted messages of a history page (messages, changed in place) from this
 * device's message store (read only): their text, kind and file; encrypted edits are taken
 * out. Nothing happens without a store (or with --no-e2ee). */
void e2ee_oneshot_fill(const struct cli_options *o, const json_t *login, json_t *messages);

#endif
