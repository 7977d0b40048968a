/* msgref.h - the numbers `pier` shows next to the messages of the chat, for /recall, /edit,
 * /reply and /react: 1, 2, 3... in the order messages are shown, the same number each time
 * the same message is shown again (its edit, its reaction, /history). Message ids are the
 * server's and grow large; these stay short enough to type. The last MSGREF_MAX messages are
 * remembered; older numbers are forgotten (the command then says so).
 */
#ifndef PIER_CLI_MSGREF_H
#define PIER_CLI_MSGREF_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "session.h"

#define MSGREF_MAX 1024

struct msgref_entry {
	unsigned n;                      /* its number; 0: an empty slot */
	int64_t id;                      /* the server's message id */
	char conv[SESSION_TARGET_MAX];   /* where a reply goes: "#room", or "@the other party" */
	bool own;                        /* the user sent it */
};

struct msgref {
	struct msgref_entry ring[MSGREF_MAX];   /* number n lives at (n - 1) % MSGREF_MAX */
	unsigned next;                   /* numbers given so far */
	unsigned last_own;               /* the number of the newest message of the user's */
};

/* Empties r (the caller's). */
void msgref_init(struct msgref *r);

/* The number of the message msg ({"id","from","to",...}, an event about one too) as seen by
 * self: the one it had, or the next one. 0 when msg has no id. */
unsigned msgref_number(struct msgref *r, const json_t *msg, const char *self);

/* The number message id has, or 0 when it has none (never shown, or forgotten). */
unsigned msgref_of(const struct msgref *r, int64_t id);

/* The message numbered n, or NULL when there is none (not given yet, or forgotten). */
const struct msgref_entry *msgref_find(const struct msgref *r, unsigned n);

/* The newest message of the user's still remembered, or NULL. */
const struct msgref_entry *msgref_last_own(const struct msgref *r);

/* Reads "N" (a number the chat showed) from the start of s: the entry, or NULL when there is
 * none by that number. *rest is after the number and its spaces when s starts with a number
 * (remembered or not), else s. */
const struct msgref_entry *msgref_parse(const struct msgref *r, const char *s, const char **rest);

#endif
