/* pg_outbox.c - the outbox of messages awaiting their `sent` (see pg_outbox.h). */
#include "pg_outbox.h"

#include <string.h>

#include <glib.h>

struct pg_outbox {
	GPtrArray *entries;   /* of struct pg_outbox_entry *, oldest first */
	char *path;
	size_t max;
	int64_t next_reply_to;   /* the next entry added quotes this message (0: none) */
};

static void entry_free(gpointer p)
{
	struct pg_outbox_entry *e = p;

	g_free(e->to);
	g_free(e->text);
	g_free(e->kind);
	g_free(e);
}

static struct pg_outbox_entry *entry_new(const char *cid, const char *to, const char *text,
                                         const char *kind, int64_t media)
{
	struct pg_outbox_entry *e = g_new0(struct pg_outbox_entry, 1);

	g_strlcpy(e->cid, cid, sizeof e->cid);
	e->to = g_strdup(to);
	e->text = g_strdup(text != NULL ? text : "");
	e->kind = g_strdup(kind);
	e->media = media;
	return e;
}

/* Writes the entries to the file (atomically: a crash leaves the old or the new). */
static void outbox_save(struct pg_outbox *ob)
{
	json_t *arr;
	char *s;

	if (ob->path == NULL)
		return;
	arr = json_array();
	for (guint i = 0; i < ob->entries->len; i++)
		json_array_append_new(arr, pg_outbox_request(g_ptr_array_index(ob->entries, i)));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (s != NULL)
		g_file_set_contents_full(ob->path, s, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
	free(s);
}

static void outbox_load(struct pg_outbox *ob)
{
	json_t *arr = json_load_file(ob->path, 0, NULL), *req;
	size_t i;

	json_array_foreach(arr, i, req) {
		const char *cid = json_string_value(json_object_get(req, "cid"));
		const char *to = json_string_value(json_object_get(req, "to"));

		if (cid == NULL || to == NULL || ob->entries->len >= ob->max)
			continue;
		g_ptr_array_add(ob->entries,
		                entry_new(cid, to, json_string_value(json_object_get(req, "text")),
		                          json_string_value(json_object_get(req, "kind")),
		                          json_integer_value(json_object_get(req, "media"))));
		((struct pg_outbox_entry *)g_ptr_array_index(ob->entries, ob->entries->len - 1))
			->reply_to = json_integer_value(json_object_get(req, "reply_to"));
	}
	json_decref(arr);
}

struct pg_outbox *pg_outbox_new(const char *path, size_t max)
{
	struct pg_outbox *ob = g_new0(struct pg_outbox, 1);

	ob->entries = g_ptr_array_new_with_free_func(entry_free);
	ob->path = g_strdup(path);
	ob->max = max > 0 ? max : PG_OUTBOX_MAX;
	if (path != NULL)
		outbox_load(ob);
	return ob;
}

void pg_outbox_free(struct pg_outbox *ob)
{
	if (ob == NULL)
		return;
	g_ptr_array_unref(ob->entries);
	g_free(ob->path);
	g_free(ob);
}

const struct pg_outbox_entry *pg_outbox_add(struct pg_outbox *ob, const char *to,
                                            const char *text, const char *kind, int64_t media)
{
	struct pg_outbox_entry *e;
	char cid[PG_OUTBOX_CID_MAX];

	if (ob->entries->len >= ob->max)
		return NULL;
	/* Random enough to be unique per sender across restarts and devices: 96 bits. */
	g_snprintf(cid, sizeof cid, "g-%08x%08x%08x", g_random_int(), g_random_int(),
	           g_random_int());
	e = entry_new(cid, to, text, kind, media);
	e->reply_to = ob->next_reply_to;
	ob->next_reply_to = 0;
	g_ptr_array_add(ob->entries, e);
	outbox_save(ob);
	return e;
}

json_t *pg_outbox_request(const struct pg_outbox_entry *e)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "op", "send", "to", e->to, "text", e->text,
	                        "cid", e->cid);

	if (e->kind != NULL)
		json_object_set_new(req, "kind", json_string(e->kind));
	if (e->media > 0)
		json_object_set_new(req, "media", json_integer(e->media));
	if (e->reply_to > 0)
		json_object_set_new(req, "reply_to", json_integer(e->reply_to));
	return req;
}

void pg_outbox_set_next_reply(struct pg_outbox *ob, int64_t reply_to)
{
	ob->next_reply_to = reply_to > 0 ? reply_to : 0;
}

size_t pg_outbox_count(const struct pg_outbox *ob)
{
	return ob->entries->len;
}

const struct pg_outbox_entry *pg_outbox_at(const struct pg_outbox *ob, size_t i)
{
	return i < ob->entries->len ? g_ptr_array_index(ob->entries, i) : NULL;
}

static guint find_index(const struct pg_outbox *ob, const char *cid)
{
	for (guint i = 0; cid != NULL && i < ob->entries->len; i++) {
		const struct pg_outbox_entry *e = g_ptr_array_index(ob->entries, i);

		if (strcmp(e->cid, cid) == 0)
			return i;
	}
	return G_MAXUINT;
}

const struct pg_outbox_entry *pg_outbox_find(const struct pg_outbox *ob, const char *cid)
{
	guint i = find_index(ob, cid);

	return i == G_MAXUINT ? NULL : g_ptr_array_index(ob->entries, i);
}

const struct pg_outbox_entry *pg_outbox_next_to_send(struct pg_outbox *ob)
{
	for (guint i = 0; i < ob->entries->len; i++) {
		struct pg_outbox_entry *e = g_ptr_array_index(ob->entries, i);

		if (!e->in_flight) {
			e->in_flight = true;
			return e;
		}
	}
	return NULL;
}

void pg_outbox_connection_lost(struct pg_outbox *ob)
{
	for (guint i = 0; i < ob->entries->len; i++)
		((struct pg_outbox_entry *)g_ptr_array_index(ob->entries, i))->in_flight = false;
}

void pg_outbox_retry(struct pg_outbox *ob, const char *cid)
{
	guint i = find_index(ob, cid);

	if (i != G_MAXUINT)
		((struct pg_outbox_entry *)g_ptr_array_index(ob->entries, i))->in_flight = false;
}

bool pg_outbox_remove(struct pg_outbox *ob, const char *cid)
{
	guint i = find_index(ob, cid);

	if (i == G_MAXUINT)
		return false;
	g_ptr_array_remove_index(ob->entries, i);
	outbox_save(ob);
	return true;
}
