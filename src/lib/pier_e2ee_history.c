/* pier_e2ee_history.c - the decrypted messages of encrypted chats, kept by the device: the
 * server keeps only ciphertext until each device took its copy, so history, quotes and edits
 * of encrypted conversations come from here. At most PIER_E2EE_HISTORY_MAX messages (the
 * oldest ids go first); saved beside the key file with the same protection. */
#include "pier_e2ee.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define HISTORY_VERSION 1

void pier_e2ee_history_init(struct pier_e2ee_history *h)
{
	h->msgs = json_object();
	h->count = 0;
	h->dirty = false;
}

void pier_e2ee_history_release(struct pier_e2ee_history *h)
{
	json_decref(h->msgs);
	h->msgs = NULL;
	h->count = 0;
}

static int64_t id_of(const json_t *m)
{
	return json_integer_value(json_object_get(m, "id"));
}

/* The conversation key of peer: "@" and the name in lower case; false if unusable. */
static bool conv_key(const char *peer, char key[PIER_E2EE_USER_MAX + 2])
{
	key[0] = '@';
	return pier_e2ee_user_key(peer, key + 1, PIER_E2EE_USER_MAX + 1);
}

/* Drops the message with the lowest id of all conversations. */
static void drop_oldest(struct pier_e2ee_history *h)
{
	const char *k, *best_k = NULL;
	json_t *a;
	int64_t best = INT64_MAX;

	json_object_foreach(h->msgs, k, a) {
		json_t *first = json_array_get(a, 0);

		if (first != NULL && id_of(first) < best) {
			best = id_of(first);
			best_k = k;
		}
	}
	if (best_k == NULL)
		return;
	a = json_object_get(h->msgs, best_k);
	json_array_remove(a, 0);
	h->count--;
	if (json_array_size(a) == 0)
		json_object_del(h->msgs, best_k);
}

int pier_e2ee_history_add(struct pier_e2ee_history *h, const char *peer, const json_t *msg)
{
	char key[PIER_E2EE_USER_MAX + 2];
	int64_t id = id_of(msg);
	json_t *a;
	size_t i, n;

	if (id <= 0 || !json_is_object(msg) || !conv_key(peer, key))
		return -1;
	a = json_object_get(h->msgs, key);
	if (a == NULL) {
		a = json_array();
		json_object_set_new(h->msgs, key, a);
	}
	/* Messages mostly come in order: look from the end. */
	n = json_array_size(a);
	for (i = n; i > 0 && id_of(json_array_get(a, i - 1)) > id; i--)
		;
	if (i > 0 && id_of(json_array_get(a, i - 1)) == id) {
		json_array_set_new(a, i - 1, json_deep_copy(msg));
	} else {
		json_array_insert_new(a, i, json_deep_copy(msg));
		h->count++;
	}
	while (h->count > PIER_E2EE_HISTORY_MAX)
		drop_oldest(h);
	h->dirty = true;
	return 0;
}

/* The array and index of message id, or NULL. */
static json_t *locate(const struct pier_e2ee_history *h, int64_t id, size_t *index)
{
	const char *k;
	json_t *a;

	json_object_foreach(h->msgs, k, a) {
		size_t lo = 0, hi = json_array_size(a);

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int64_t m = id_of(json_array_get(a, mid));

			if (m == id) {
				*index = mid;
				return a;
			}
			if (m < id)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return NULL;
}

const json_t *pier_e2ee_history_find(const struct pier_e2ee_history *h, int64_t id)
{
	size_t i;
	json_t *a = locate(h, id, &i);

	return a != NULL ? json_array_get(a, i) : NULL;
}

int pier_e2ee_history_edit(struct pier_e2ee_history *h, int64_t id, const char *text)
{
	size_t i;
	json_t *a = locate(h, id, &i), *m;

	if (a == NULL || text == NULL)
		return -1;
	m = json_array_get(a, i);
	json_object_set_new(m, "text", json_string(text));
	json_object_set_new(m, "edited", json_integer(1));
	h->dirty = true;
	return 0;
}

json_t *pier_e2ee_history_page(const struct pier_e2ee_history *h, const char *peer,
                               int64_t before, int limit)
{
	char key[PIER_E2EE_USER_MAX + 2];
	json_t *out = json_array(), *a;
	size_t end, start;

	if (limit <= 0 || !conv_key(peer, key))
		return out;
	a = json_object_get(h->msgs, key);
	end = json_array_size(a);
	while (before > 0 && end > 0 && id_of(json_array_get(a, end - 1)) >= before)
		end--;
	/* the newest `limit` shown ones (edits are kept as hidden entries: not shown) */
	start = end;
	for (size_t shown = 0; start > 0 && shown < (size_t)limit; start--)
		if (!json_is_true(json_object_get(json_array_get(a, start - 1), "hidden")))
			shown++;
	for (size_t i = start; i < end; i++)
		if (!json_is_true(json_object_get(json_array_get(a, i), "hidden")))
			json_array_append(out, json_array_get(a, i));
	return out;
}

static int cmp_msg_id(const void *a, const void *b)
{
	int64_t x = id_of(*(json_t *const *)a), y = id_of(*(json_t *const *)b);

	return x < y ? -1 : x > y ? 1 : 0;
}

static int cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Sorts a list of messages by id (the transfer is in order). */
static void sort_by_id(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **v = xmalloc((n + 1) * sizeof *v);

	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(list, i));
	qsort(v, n, sizeof *v, cmp_msg_id);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, v[i]);
	free(v);
}

json_t *pier_e2ee_history_export(const struct pier_e2ee_history *h, size_t limit)
{
	json_t *a, *list = json_array();
	const char *k;
	int64_t floor = 0;

	/* The id below which messages are left out: the limit-th newest overall. */
	if (h->count > limit && limit > 0) {
		int64_t *ids = xmalloc(h->count * sizeof *ids);
		size_t n = 0, i;
		json_t *m;

		json_object_foreach(h->msgs, k, a)
			json_array_foreach(a, i, m)
				if (n < h->count)
					ids[n++] = id_of(m);
		qsort(ids, n, sizeof *ids, cmp_desc);
		floor = ids[limit - 1];
		free(ids);
	} else if (limit == 0) {
		floor = INT64_MAX;
	}
	/* The transfer format (E2EE.md, the browser's too): one list, each message with its
	 * conversation ("conv") and type; an edit as {"type":"edit","edit_of","text"}. */
	json_object_foreach(h->msgs, k, a) {
		size_t i;
		json_t *m;

		json_array_foreach(a, i, m) {
			json_t *c;

			if (id_of(m) < floor)
				continue;
			c = json_deep_copy(m);
			json_object_set_new(c, "conv", json_string(k));
			if (json_is_true(json_object_get(c, "hidden"))) {
				json_object_del(c, "hidden");
				json_object_set_new(c, "type", json_string("edit"));
			} else {
				json_object_set_new(c, "type", json_string("message"));
			}
			json_array_append_new(list, c);
		}
	}
	sort_by_id(list);
	return json_pack("{s:i, s:o}", "v", HISTORY_VERSION, "messages", list);
}

/* Takes one message of a transfer into h (conv: its conversation). */
static int import_one(struct pier_e2ee_history *h, const char *conv, const json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	json_t *c;
	int rc;

	if (pier_e2ee_history_find(h, id_of(m)) != NULL)
		return 0;
	if (!json_is_string(json_object_get(m, "from")) || conv == NULL || conv[0] != '@')
		return -1;
	c = json_deep_copy(m);
	json_object_del(c, "conv");
	json_object_del(c, "type");
	json_object_del(c, "media");
	if (type != NULL && strcmp(type, "edit") == 0) {
		const json_t *text = json_object_get(m, "text");
		json_int_t of = json_integer_value(json_object_get(m, "edit_of"));
		const json_t *orig = pier_e2ee_history_find(h, of);

		/* an edit of a message of the same sender's: applied, kept hidden */
		if (orig != NULL && json_is_string(text) &&
		    json_equal(json_object_get(orig, "from"), json_object_get(m, "from")))
			pier_e2ee_history_edit(h, of, json_string_value(text));
		json_object_set_new(c, "hidden", json_true());
	}
	rc = pier_e2ee_history_add(h, conv, c);
	json_decref(c);
	return rc;
}

int pier_e2ee_history_import(struct pier_e2ee_history *h, const json_t *export_, const char *self)
{
	const json_t *convs = json_object_get(export_, "conversations"), *a, *m;
	const json_t *list = json_object_get(export_, "messages");
	const char *k;
	size_t i;

	(void)self;
	if (json_is_array(list)) {
		/* a transfer: oldest first, so that edits find what they edit */
		json_array_foreach(list, i, m)
			if (import_one(h, json_string_value(json_object_get(m, "conv")), m) != 0)
				return -1;
		return 0;
	}
	/* the local file (messages.json): by conversation */
	if (!json_is_object(convs))
		return -1;
	json_object_foreach((json_t *)convs, k, a) {
		if (!json_is_array(a) || k[0] != '@')
			return -1;
		json_array_foreach(a, i, m) {
			if (pier_e2ee_history_find(h, id_of(m)) != NULL)
				continue;
			if (!json_is_string(json_object_get(m, "from")) ||
			    pier_e2ee_history_add(h, k, m) != 0)
				return -1;
		}
	}
	return 0;
}

int pier_e2ee_history_save(struct pier_e2ee_history *h, const char *path,
                           struct pier_e2ee_seal *seal, char **err)
{
	json_t *j = json_pack("{s:i, s:O}", "v", HISTORY_VERSION, "conversations", h->msgs);
	int rc = pier_e2ee_save_json(path, j, seal, err);

	json_decref(j);
	if (rc == 0)
		h->dirty = false;
	return rc;
}

int pier_e2ee_history_load(struct pier_e2ee_history *h, const char *path,
                           struct pier_e2ee_seal *seal, char **err)
{
	json_t *j = NULL;
	struct pier_e2ee_history n;
	int rc = pier_e2ee_load_json(path, seal, PIER_E2EE_HISTORY_FILE_MAX, &j, err);

	if (rc != 0)
		return rc;
	pier_e2ee_history_init(&n);
	if (pier_e2ee_history_import(&n, j, NULL) != 0) {
		pier_e2ee_history_release(&n);
		json_decref(j);
		if (err != NULL) {
			free(*err);
			*err = xstrdup("the message store is damaged");
		}
		return -1;
	}
	json_decref(j);
	n.dirty = false;
	pier_e2ee_history_release(h);
	*h = n;
	return 0;
}
