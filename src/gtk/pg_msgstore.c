/* pg_msgstore.c - one conversation's bounded window of messages (see pg_msgstore.h). */
#include "pg_msgstore.h"

#include <string.h>

struct _PgMsgStore {
	GObject parent;
	char *with;
	GPtrArray *items;    /* of PgMsg *, stored ones by id, then pending ones by seq */
	guint cap;
	int64_t pending_seq;
	bool has_older;
	bool detached;       /* newer messages than the window exist on the server */
	bool loaded;
	int64_t divider_read;  /* the "new messages" divider follows this id (0: none) */
	int divider_count;
	int64_t flash;         /* the message a jump led to, 0: none */
};

static void pg_msg_store_model_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(PgMsgStore, pg_msg_store, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, pg_msg_store_model_init))

static GType model_item_type(GListModel *model)
{
	(void)model;
	return PG_TYPE_MSG;
}

static guint model_n_items(GListModel *model)
{
	return PG_MSG_STORE(model)->items->len;
}

static gpointer model_item(GListModel *model, guint i)
{
	PgMsgStore *s = PG_MSG_STORE(model);

	return i < s->items->len ? g_object_ref(g_ptr_array_index(s->items, i)) : NULL;
}

static void pg_msg_store_model_init(GListModelInterface *iface)
{
	iface->get_item_type = model_item_type;
	iface->get_n_items = model_n_items;
	iface->get_item = model_item;
}

static void pg_msg_store_finalize(GObject *obj)
{
	PgMsgStore *s = PG_MSG_STORE(obj);

	g_ptr_array_unref(s->items);
	g_free(s->with);
	G_OBJECT_CLASS(pg_msg_store_parent_class)->finalize(obj);
}

static void pg_msg_store_class_init(PgMsgStoreClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = pg_msg_store_finalize;
}

static void pg_msg_store_init(PgMsgStore *s)
{
	s->items = g_ptr_array_new_with_free_func(g_object_unref);
	s->has_older = true;
}

PgMsgStore *pg_msg_store_new(const char *with, guint cap)
{
	PgMsgStore *s = g_object_new(PG_TYPE_MSG_STORE, NULL);

	s->with = g_strdup(with);
	s->cap = cap > 0 ? cap : PG_MSG_STORE_CAP_DEFAULT;
	if (s->cap < 400)
		s->cap = 400;
	return s;
}

const char *pg_msg_store_with(PgMsgStore *s)
{
	return s->with;
}

/* How many stored (not pending) messages lead the array. */
static guint stored_count(PgMsgStore *s)
{
	guint n = s->items->len;

	while (n > 0 && ((PgMsg *)g_ptr_array_index(s->items, n - 1))->pending)
		n--;
	return n;
}

/* The index of the first stored message with id >= id (binary search). */
static guint lower_bound(PgMsgStore *s, int64_t id)
{
	guint lo = 0, hi = stored_count(s);

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (((PgMsg *)g_ptr_array_index(s->items, mid))->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool contains_id(PgMsgStore *s, int64_t id)
{
	guint i = lower_bound(s, id);

	return i < stored_count(s) && ((PgMsg *)g_ptr_array_index(s->items, i))->id == id;
}

/* Drops the oldest stored messages past the cap (the window slides down). */
static void trim_oldest(PgMsgStore *s)
{
	guint over;

	if (s->items->len <= s->cap)
		return;
	over = s->items->len - s->cap;
	if (over > stored_count(s))
		over = stored_count(s);
	g_ptr_array_remove_range(s->items, 0, over);
	s->has_older = true;
	g_list_model_items_changed(G_LIST_MODEL(s), 0, over, 0);
}

/* Drops the newest stored messages past the cap (the window slid up: detached). */
static void trim_newest(PgMsgStore *s)
{
	guint stored = stored_count(s), over;

	if (s->items->len <= s->cap)
		return;
	over = s->items->len - s->cap;
	if (over > stored)
		over = stored;
	g_ptr_array_remove_range(s->items, stored - over, over);
	s->detached = true;
	g_list_model_items_changed(G_LIST_MODEL(s), stored - over, over, 0);
}

/* Inserts msg (taken) in id order; false (msg dropped) when its id is there already. */
static bool insert_sorted(PgMsgStore *s, PgMsg *msg)
{
	guint i = lower_bound(s, msg->id);

	if (i < stored_count(s) && ((PgMsg *)g_ptr_array_index(s->items, i))->id == msg->id) {
		g_object_unref(msg);
		return false;
	}
	g_ptr_array_insert(s->items, (gint)i, msg);
	g_list_model_items_changed(G_LIST_MODEL(s), i, 0, 1);
	/* The next row's day separator and grouping depend on this one: rebind it. */
	if (i + 1 < s->items->len)
		g_list_model_items_changed(G_LIST_MODEL(s), i + 1, 1, 1);
	return true;
}

/* The pending message with cid, or G_MAXUINT. */
static guint find_pending(PgMsgStore *s, const char *cid)
{
	for (guint i = stored_count(s); cid != NULL && i < s->items->len; i++) {
		PgMsg *m = g_ptr_array_index(s->items, i);

		if (m->cid != NULL && strcmp(m->cid, cid) == 0)
			return i;
	}
	return G_MAXUINT;
}

static void remove_at(PgMsgStore *s, guint i)
{
	g_ptr_array_remove_index(s->items, i);
	g_list_model_items_changed(G_LIST_MODEL(s), i, 1, 0);
}

bool pg_msg_store_add(PgMsgStore *s, const json_t *m)
{
	PgMsg *msg = pg_msg_new_from_json(m);
	guint pend;

	if (msg == NULL)
		return false;
	if (s->detached && msg->id > pg_msg_store_newest_id(s)) {
		g_object_unref(msg);
		return false;
	}
	/* Our own message seen through another path (sync after a drop): the pending copy goes. */
	pend = find_pending(s, msg->cid);
	if (pend != G_MAXUINT)
		remove_at(s, pend);
	if (!insert_sorted(s, msg))
		return false;
	trim_oldest(s);
	return true;
}

void pg_msg_store_add_older(PgMsgStore *s, const json_t *msgs, bool more)
{
	int64_t oldest = pg_msg_store_oldest_id(s), prev = 0;
	GPtrArray *page = g_ptr_array_new();
	bool before_all = true;
	size_t i;
	json_t *m;

	json_array_foreach(msgs, i, m) {
		PgMsg *msg = pg_msg_new_from_json(m);

		if (msg == NULL)
			continue;
		before_all = before_all && msg->id > prev && (oldest == 0 || msg->id < oldest);
		prev = msg->id;
		g_ptr_array_add(page, msg);
	}
	if (before_all) {
		/* The usual case: the whole page goes before the window, in one change. */
		for (guint k = 0; k < page->len; k++)
			g_ptr_array_insert(s->items, (gint)k, g_ptr_array_index(page, k));
		g_list_model_items_changed(G_LIST_MODEL(s), 0, 0, page->len);
		if (page->len > 0 && page->len < s->items->len)
			g_list_model_items_changed(G_LIST_MODEL(s), page->len, 1, 1);
	} else {
		for (guint k = 0; k < page->len; k++)
			insert_sorted(s, g_ptr_array_index(page, k));
	}
	g_ptr_array_unref(page);
	s->has_older = more;
	trim_newest(s);
}

void pg_msg_store_reset(PgMsgStore *s, const json_t *msgs, bool more)
{
	guint stored = stored_count(s);
	GPtrArray *fresh = g_ptr_array_new_with_free_func(g_object_unref);
	size_t i;
	json_t *m;

	json_array_foreach(msgs, i, m) {
		PgMsg *msg = pg_msg_new_from_json(m);

		if (msg != NULL)
			g_ptr_array_add(fresh, msg);
	}
	/* One change for the whole swap, so the view relayouts once. */
	g_ptr_array_remove_range(s->items, 0, stored);
	for (guint k = 0; k < fresh->len; k++)
		g_ptr_array_insert(s->items, (gint)k, g_object_ref(g_ptr_array_index(fresh, k)));
	g_ptr_array_unref(fresh);
	s->has_older = more;
	s->detached = false;
	s->loaded = true;
	g_list_model_items_changed(G_LIST_MODEL(s), 0, stored, (guint)json_array_size(msgs));
	/* Pending messages the page holds already (sent, then the page) are not shown twice. */
	for (guint k = stored_count(s); k < s->items->len;) {
		PgMsg *p = g_ptr_array_index(s->items, k);
		bool seen = false;

		for (guint j = 0; j < stored_count(s) && !seen; j++) {
			PgMsg *q = g_ptr_array_index(s->items, j);

			seen = q->cid != NULL && p->cid != NULL && strcmp(q->cid, p->cid) == 0;
		}
		if (seen)
			remove_at(s, k);
		else
			k++;
	}
}

void pg_msg_store_add_pending(PgMsgStore *s, const char *cid, const char *from, const char *text,
                              const char *kind)
{
	PgMsg *msg = pg_msg_new_pending(cid, from, s->with, text, kind, ++s->pending_seq);

	g_ptr_array_add(s->items, msg);
	g_list_model_items_changed(G_LIST_MODEL(s), s->items->len - 1, 0, 1);
	trim_oldest(s);
}

void pg_msg_store_ack(PgMsgStore *s, const json_t *sent)
{
	const char *cid = json_string_value(json_object_get(sent, "cid"));
	guint pend = find_pending(s, cid);
	json_int_t id = json_integer_value(json_object_get(sent, "id"));
	PgMsg *old, *msg;

	if (pend == G_MAXUINT || id <= 0)
		return;
	old = g_ptr_array_index(s->items, pend);
	msg = g_object_new(PG_TYPE_MSG, NULL);
	msg->id = id;
	msg->ts = json_integer_value(json_object_get(sent, "ts"));
	msg->from = g_strdup(old->from);
	msg->to = g_strdup(old->to);
	msg->cid = g_strdup(cid);
	msg->display = g_strdup(old->display);
	pg_msg_update_from_json(msg, sent);
	if (json_object_get(sent, "text") == NULL) {
		g_free(msg->text);
		msg->text = g_strdup(old->text);
	}
	remove_at(s, pend);
	if (s->detached || contains_id(s, id)) {
		g_object_unref(msg);
		return;
	}
	insert_sorted(s, msg);
}

void pg_msg_store_fail(PgMsgStore *s, const char *cid)
{
	guint pend = find_pending(s, cid);

	if (pend == G_MAXUINT)
		return;
	((PgMsg *)g_ptr_array_index(s->items, pend))->failed = true;
	g_list_model_items_changed(G_LIST_MODEL(s), pend, 1, 1);
}

void pg_msg_store_update(PgMsgStore *s, const json_t *m)
{
	json_int_t id = json_integer_value(json_object_get(m, "id"));
	guint i = lower_bound(s, id);

	if (id <= 0 || i >= stored_count(s) || ((PgMsg *)g_ptr_array_index(s->items, i))->id != id)
		return;
	pg_msg_update_from_json(g_ptr_array_index(s->items, i), m);
	g_list_model_items_changed(G_LIST_MODEL(s), i, 1, 1);
}

int64_t pg_msg_store_oldest_id(PgMsgStore *s)
{
	return stored_count(s) > 0 ? ((PgMsg *)g_ptr_array_index(s->items, 0))->id : 0;
}

int64_t pg_msg_store_newest_id(PgMsgStore *s)
{
	guint n = stored_count(s);

	return n > 0 ? ((PgMsg *)g_ptr_array_index(s->items, n - 1))->id : 0;
}

bool pg_msg_store_has_older(PgMsgStore *s)
{
	return s->has_older;
}

bool pg_msg_store_has_newer(PgMsgStore *s)
{
	return s->detached;
}

bool pg_msg_store_is_loaded(PgMsgStore *s)
{
	return s->loaded;
}

PgMsg *pg_msg_store_peek(PgMsgStore *s, guint i)
{
	return i < s->items->len ? g_ptr_array_index(s->items, i) : NULL;
}

/* ---- changes, the unread divider, jumps ---- */

PgMsg *pg_msg_store_find(PgMsgStore *s, int64_t id, guint *pos)
{
	guint i = lower_bound(s, id);
	PgMsg *m;

	if (id <= 0 || i >= stored_count(s))
		return NULL;
	m = g_ptr_array_index(s->items, i);
	if (m->id != id)
		return NULL;
	if (pos != NULL)
		*pos = i;
	return m;
}

void pg_msg_store_changed_at(PgMsgStore *s, guint pos)
{
	if (pos < s->items->len)
		g_list_model_items_changed(G_LIST_MODEL(s), pos, 1, 1);
}

/* The position of the first stored message after id, or G_MAXUINT. */
static guint first_after(PgMsgStore *s, int64_t id)
{
	guint i = lower_bound(s, id + 1);

	return id > 0 && i < stored_count(s) ? i : G_MAXUINT;
}

void pg_msg_store_set_divider(PgMsgStore *s, int64_t read, int count)
{
	guint old = first_after(s, s->divider_read), now;

	s->divider_read = count > 0 ? read : 0;
	s->divider_count = count > 0 ? count : 0;
	now = first_after(s, s->divider_read);
	if (old != G_MAXUINT)
		pg_msg_store_changed_at(s, old);
	if (now != G_MAXUINT && now != old)
		pg_msg_store_changed_at(s, now);
}

int64_t pg_msg_store_divider(PgMsgStore *s, int *count)
{
	if (count != NULL)
		*count = s->divider_count;
	return s->divider_read;
}

void pg_msg_store_reset_older(PgMsgStore *s, const json_t *msgs, bool more)
{
	pg_msg_store_reset(s, msgs, more);
	s->detached = true;
}

void pg_msg_store_set_flash(PgMsgStore *s, int64_t id)
{
	guint pos;
	int64_t old = s->flash;

	s->flash = id;
	if (old > 0 && pg_msg_store_find(s, old, &pos) != NULL)
		pg_msg_store_changed_at(s, pos);
	if (id > 0 && id != old && pg_msg_store_find(s, id, &pos) != NULL)
		pg_msg_store_changed_at(s, pos);
}

int64_t pg_msg_store_flash(PgMsgStore *s)
{
	return s->flash;
}
