/* pier_client.c - libpier's protocol core: requests become lines to send, received bytes
 * become parsed events. No I/O happens here; a caller (pier_conn.c, a GUI's event loop)
 * moves the bytes.
 *
 * Memory: the buffers grow as needed and abort the process when memory runs out (decided
 * once for the whole core, like tmux's xmalloc); the input side is bounded by max_line.
 */
#include "pier.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct pier_event {
	json_t *ev;
	struct pier_event *next;
};

/* Bytes in data[start, len) wait; the space before start is reclaimed lazily. */
struct out_buf {
	char *data;
	size_t start, len, cap;
};

/* A partial line: data[0, len), of which [0, scanned) holds no newline. */
struct in_buf {
	char *data;
	size_t len, scanned, cap;
};

struct pier_client {
	size_t max_line;
	uint64_t next_ref;
	bool broken;                 /* the server broke the protocol: feed refuses more */
	struct out_buf out;
	struct in_buf in;
	struct pier_event *head, *tail;
};

/* Grows *cap (doubling) until it holds need bytes. */
static size_t grow_cap(size_t cap, size_t need)
{
	if (cap == 0)
		cap = 256;
	while (cap < need)
		cap *= 2;
	return cap;
}

struct pier_client *pier_client_new(size_t max_line)
{
	struct pier_client *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->max_line = max_line != 0 ? max_line : PIER_DEFAULT_MAX_LINE;
	c->next_ref = 1;
	return c;
}

void pier_client_free(struct pier_client *c)
{
	if (c == NULL)
		return;
	while (c->head != NULL) {
		struct pier_event *e = c->head;

		c->head = e->next;
		json_decref(e->ev);
		free(e);
	}
	free(c->out.data);
	free(c->in.data);
	free(c);
}

static void out_append(struct out_buf *o, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (o->start > 0 && (o->start == o->len || o->len + len > o->cap)) {
		/* Compact: slide the waiting bytes to the front before growing. */
		memmove(o->data, o->data + o->start, o->len - o->start);
		o->len -= o->start;
		o->start = 0;
	}
	if (o->len + len > o->cap) {
		o->cap = grow_cap(o->cap, o->len + len);
		o->data = xrealloc(o->data, o->cap);
	}
	memcpy(o->data + o->len, data, len);
	o->len += len;
}

int pier_client_request(struct pier_client *c, json_t *req, char ref_out[PIER_REF_MAX])
{
	char ref[PIER_REF_MAX] = "";
	char *line = NULL;
	int rc = -1;

	if (!json_is_object(req))
		goto out;
	if (json_object_get(req, "ref") == NULL) {
		snprintf(ref, sizeof ref, "r%" PRIu64, c->next_ref++);
		if (json_object_set_new(req, "ref", json_string(ref)) != 0)
			goto out;
	} else {
		const char *given = json_string_value(json_object_get(req, "ref"));

		/* A caller's own ref; a non-string one (a test of bad input) reports "". */
		snprintf(ref, sizeof ref, "%s", given != NULL ? given : "");
	}
	line = json_dumps(req, JSON_COMPACT);
	if (line == NULL)
		goto out;
	/* Compact encoding escapes control characters, so the line holds no raw newline. */
	out_append(&c->out, line, strlen(line));
	out_append(&c->out, "\n", 1);
	rc = 0;
out:
	if (ref_out != NULL)
		memcpy(ref_out, rc == 0 ? ref : "", rc == 0 ? strlen(ref) + 1 : 1);
	free(line);
	json_decref(req);
	return rc;
}

void pier_client_queue_raw(struct pier_client *c, const void *data, size_t len)
{
	out_append(&c->out, data, len);
}

size_t pier_client_pending(struct pier_client *c, const char **data)
{
	*data = c->out.data != NULL ? c->out.data + c->out.start : "";
	return c->out.len - c->out.start;
}

void pier_client_consume(struct pier_client *c, size_t n)
{
	size_t waiting = c->out.len - c->out.start;

	c->out.start += n < waiting ? n : waiting;
	if (c->out.start == c->out.len)
		c->out.start = c->out.len = 0;
}

static void push_event(struct pier_client *c, json_t *ev)
{
	struct pier_event *e = xmalloc(sizeof *e);

	e->ev = ev;
	e->next = NULL;
	if (c->tail != NULL)
		c->tail->next = e;
	else
		c->head = e;
	c->tail = e;
}

/* Parses one complete line (newline removed). 0, or -1 if it breaks the protocol. */
static int parse_line(struct pier_client *c, const char *line, size_t len)
{
	json_t *ev;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	if (len > c->max_line)
		return -1;
	ev = json_loadb(line, len, 0, NULL);
	if (ev == NULL)
		return -1;
	if (!json_is_object(ev)) {
		json_decref(ev);
		return -1;
	}
	push_event(c, ev);
	return 0;
}

int pier_client_feed(struct pier_client *c, const void *data, size_t len)
{
	struct in_buf *in = &c->in;
	size_t start = 0;

	if (c->broken)
		return -1;
	if (len == 0)
		return 0;
	if (in->len + len > in->cap) {
		in->cap = grow_cap(in->cap, in->len + len);
		in->data = xrealloc(in->data, in->cap);
	}
	memcpy(in->data + in->len, data, len);
	in->len += len;

	for (;;) {
		char *nl = memchr(in->data + in->scanned, '\n', in->len - in->scanned);

		if (nl == NULL)
			break;
		if (parse_line(c, in->data + start, (size_t)(nl - (in->data + start))) != 0)
			goto broken;
		start = (size_t)(nl - in->data) + 1;
		in->scanned = start;
	}
	/* Keep the partial line; a '\r' may still precede its newline, hence the + 1. */
	memmove(in->data, in->data + start, in->len - start);
	in->len -= start;
	in->scanned = in->len;
	if (in->len > c->max_line + 1)
		goto broken;
	/* Give back memory a long line took once it is done. */
	if (in->len == 0 && in->cap > 64 * 1024) {
		free(in->data);
		in->data = NULL;
		in->cap = 0;
	}
	return 0;
broken:
	c->broken = true;
	in->len = in->scanned = 0;
	return -1;
}

json_t *pier_client_next(struct pier_client *c)
{
	struct pier_event *e = c->head;
	json_t *ev;

	if (e == NULL)
		return NULL;
	c->head = e->next;
	if (c->head == NULL)
		c->tail = NULL;
	ev = e->ev;
	free(e);
	return ev;
}
