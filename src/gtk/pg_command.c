/* pg_command.c - the composer's line syntax (see pg_command.h). */
#include "pg_command.h"

#include <string.h>

#include <glib.h>

#include "names.h"

static char *room_name(const char *s)
{
	char *r = s[0] == '#' ? g_strdup(s) : g_strconcat("#", s, NULL);

	if (pier_room_check(r) != PIER_NAME_OK) {
		g_free(r);
		return NULL;
	}
	return r;
}

static bool has_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (g_ascii_isspace(*s))
			return true;
	return false;
}

static void command(const char *rest, struct pg_command *cmd)
{
	const char *sp = rest;
	char *name, *args;

	while (*sp != '\0' && !g_ascii_isspace(*sp))
		sp++;
	name = g_ascii_strdown(rest, sp - rest);
	args = g_strstrip(g_strdup(sp));
	if (strcmp(name, "help") == 0 || strcmp(name, "?") == 0) {
		cmd->op = PG_CMD_HELP;
	} else if (strcmp(name, "msg") == 0 || strcmp(name, "m") == 0) {
		char *space = args;
		const char *user;

		while (*space != '\0' && !g_ascii_isspace(*space))
			space++;
		cmd->op = PG_CMD_USAGE;
		if (*space != '\0') {
			*space = '\0';
			user = args[0] == '@' ? args + 1 : args;
			if (pier_name_check(user) == PIER_NAME_OK) {
				cmd->op = PG_CMD_PRIVATE;
				cmd->user = g_strdup(user);
				cmd->text = g_strstrip(g_strdup(space + 1));
			}
		}
		if (cmd->op == PG_CMD_USAGE)
			cmd->name = g_strdup("msg");
	} else if (strcmp(name, "join") == 0 || strcmp(name, "j") == 0) {
		cmd->room = has_space(args) || args[0] == '\0' ? NULL : room_name(args);
		cmd->op = cmd->room != NULL ? PG_CMD_JOIN : PG_CMD_USAGE;
		if (cmd->room == NULL)
			cmd->name = g_strdup("join");
	} else if (strcmp(name, "part") == 0 || strcmp(name, "leave") == 0) {
		cmd->op = PG_CMD_PART;
		if (args[0] != '\0') {
			cmd->room = has_space(args) ? NULL : room_name(args);
			if (cmd->room == NULL) {
				cmd->op = PG_CMD_USAGE;
				cmd->name = g_strdup("part");
			}
		}
	} else {
		cmd->op = PG_CMD_UNKNOWN;
		cmd->name = g_strdup(name);
	}
	g_free(name);
	g_free(args);
}

static bool is_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!g_ascii_isspace(*s))
			return false;
	return true;
}

/* "scheme://" just before the '~' (a link like https://host/~me): the '~' is text. */
static bool in_link(const char *line, const char *tilde)
{
	const char *start = tilde;

	while (start > line && !g_ascii_isspace(start[-1]))
		start--;
	for (const char *p = start; p < tilde; p++) {
		if (*p == ':')
			return p + 2 < tilde && p[1] == '/' && p[2] == '/' && p > start;
		if (!g_ascii_isalnum(*p) && *p != '+' && *p != '.' && *p != '-')
			return false;
	}
	return false;
}

static void tilde(const char *line, struct pg_command *cmd)
{
	const char *t = strrchr(line, '~');
	char *word, *text;
	const char *user;

	cmd->op = PG_CMD_TEXT;
	if (t == NULL || in_link(line, t)) {
		cmd->text = g_strdup(line);
		return;
	}
	word = g_strstrip(g_strdup(t + 1));
	if (word[0] == '\0' || has_space(word)) {
		cmd->text = g_strdup(line);
		g_free(word);
		return;
	}
	user = word[0] == '@' ? word + 1 : word;
	text = g_strchomp(g_strndup(line, t - line));
	if (pier_name_check(user) != PIER_NAME_OK) {
		cmd->op = PG_CMD_ASK;
		cmd->name = g_strdup(user);
		cmd->text = g_strdup(line);
		g_free(text);
	} else if (is_blank(text)) {
		cmd->op = PG_CMD_USAGE;
		cmd->name = g_strdup("tilde");
		g_free(text);
	} else {
		cmd->op = PG_CMD_PRIVATE;
		cmd->user = g_strdup(user);
		cmd->text = text;
	}
	g_free(word);
}

void pg_command_parse(const char *line, struct pg_command *cmd)
{
	memset(cmd, 0, sizeof *cmd);
	if (strncmp(line, "//", 2) == 0) {
		cmd->op = PG_CMD_TEXT;
		cmd->text = g_strdup(line + 1);
	} else if (line[0] == '/') {
		command(line + 1, cmd);
	} else {
		tilde(line, cmd);
	}
}

void pg_command_release(struct pg_command *cmd)
{
	g_free(cmd->text);
	g_free(cmd->user);
	g_free(cmd->room);
	g_free(cmd->name);
	memset(cmd, 0, sizeof *cmd);
}
