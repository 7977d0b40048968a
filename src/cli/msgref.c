/* msgref.c - the numbers the chat shows next to messages (msgref.h). */
#include "msgref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

void msgref_init(struct msgref *r)
{
	memset(r, 0, sizeof *r);
}

static bool same_name(const char *a, const char *b)
{
	char ka[PIER_KEY_MAX], kb[PIER_KEY_MAX];

	if (a == NULL || b == NULL || strlen(a) >= PIER_KEY_MAX || strlen(b) >= PIER_KEY_MAX)
		return false;
	pier_name_key(a, ka);
	pier_name_key(b, kb);
	return strcmp(ka, kb) == 0;
}

unsigned msgref_of(const struct msgref *r, int64_t id)
{
	for (size_t i = 0; i < MSGREF_MAX; i++) {
		if (r->ring[i].n != 0 && r->ring[i].id == id)
			return r->ring[i].n;
	}
	return 0;
}

unsigned msgref_number(struct msgref *r, const json_t *msg, const char *self)
{
	int64_t id = json_integer_value(json_object_get(msg, "id"));
	const char *from = json_string_value(json_object_get(msg, "from"));
	const char *to = json_string_value(json_object_get(msg, "to"));
	struct msgref_entry *e;
	unsigned n;

	if (id <= 0)
		return 0;
	n = msgref_of(r, id);
	if (n != 0)
		return n;
	n = ++r->next;
	e = &r->ring[(n - 1) % MSGREF_MAX];
	memset(e, 0, sizeof *e);
	e->n = n;
	e->id = id;
	e->own = same_name(from, self);
	/* A reply goes where the message is: its room, or the private chat with the other one. */
	if (to != NULL && to[0] == '@' && !e->own && from != NULL)
		snprintf(e->conv, sizeof e->conv, "@%s", from);
	else
		snprintf(e->conv, sizeof e->conv, "%s", to != NULL ? to : "");
	if (e->own)
		r->last_own = n;
	return n;
}

const struct msgref_entry *msgref_find(const struct msgref *r, unsigned n)
{
	const struct msgref_entry *e;

	if (n == 0 || n > r->next)
		return NULL;
	e = &r->ring[(n - 1) % MSGREF_MAX];
	return e->n == n ? e : NULL;
}

const struct msgref_entry *msgref_last_own(const struct msgref *r)
{
	return msgref_find(r, r->last_own);
}

const struct msgref_entry *msgref_parse(const struct msgref *r, const char *s, const char **rest)
{
	unsigned long n = 0;
	const char *p = s;

	*rest = s;
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9' && n < 100000000UL)
		n = n * 10 + (unsigned long)(*p++ - '0');
	if (*p != '\0' && *p != ' ' && *p != '\t')
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	*rest = p;
	return msgref_find(r, (unsigned)n);
}
