/* pg_command.h - what a line typed in pier-gtk's composer means, in the syntax of the
 * terminal client and the browser (web/js/command.js): `text~user` and `/msg user text` send
 * privately, `/join #room`, `/part [#room]`, `/help`; `//text` sends text starting with '/'.
 * Pure: the composer acts on the answer. */
#ifndef PG_COMMAND_H
#define PG_COMMAND_H

enum pg_command_op {
	PG_CMD_TEXT,      /* text to the current conversation */
	PG_CMD_PRIVATE,   /* text to user */
	PG_CMD_JOIN,      /* room */
	PG_CMD_PART,      /* room, or NULL: the current one */
	PG_CMD_HELP,
	PG_CMD_USAGE,     /* a known command used wrongly: name says which ("msg", "join", ...) */
	PG_CMD_UNKNOWN,   /* no such command: name */
	PG_CMD_ASK        /* `text~word` where word is no user name: ask before sending text */
};

struct pg_command {
	enum pg_command_op op;
	char *text;    /* TEXT, PRIVATE, ASK (the whole line) */
	char *user;    /* PRIVATE */
	char *room;    /* JOIN, PART ("#name") */
	char *name;    /* USAGE, UNKNOWN, ASK (the word) */
};

/* Parses line (UTF-8) into cmd (fields g_malloc'd; release with pg_command_release). */
void pg_command_parse(const char *line, struct pg_command *cmd);
void pg_command_release(struct pg_command *cmd);

#endif
