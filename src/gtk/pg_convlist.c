/* pg_convlist.c - the sidebar's list of conversations (see pg_convlist.h). */
#include "pg_convlist.h"

#include <string.h>

G_DEFINE_TYPE(PgConv, pg_conv, G_TYPE_OBJECT)

static void pg_conv_finalize(GObject *obj)
{
	g_free(PG_CONV(obj)->with);
	G_OBJECT_CLASS(pg_conv_parent_class)->finalize(obj);
}

static void pg_conv_class_init(PgConvClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = pg_conv_finalize;
}

static void pg_conv_init(PgConv *c)
{
	(void)c;
}

const char *pg_conv_unread_text(const PgConv *c, char buf[8])
{
	if (c->unread <= 0)
		return "";
	if (c->capped || c->unread >= PG_CONV_UNREAD_CAP)
		return "999+";
	g_snprintf(buf, 8, "%d", c->unread);
	return buf;
}

struct _PgConvList {
	GObject parent;
	GPtrArray *items;   /* of PgConv *, in display order */
};

static void pg_conv_list_model_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(PgConvList, pg_conv_list, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, pg_conv_list_model_init))

static GType model_item_type(GListModel *model)
{
	(void)model;
	return PG_TYPE_CONV;
}

static guint model_n_items(GListModel *model)
{
	return PG_CONV_LIST(model)->items->len;
}

static gpointer model_item(GListModel *model, guint i)
{
	PgConvList *l = PG_CONV_LIST(model);

	return i < l->items->len ? g_object_ref(g_ptr_array_index(l->items, i)) : NULL;
}

static void pg_conv_list_model_init(GListModelInterface *iface)
{
	iface->get_item_type = model_item_type;
	iface->get_n_items = model_n_items;
	iface->get_item = model_item;
}

static void pg_conv_list_finalize(GObject *obj)
{
	g_ptr_array_unref(PG_CONV_LIST(obj)->items);
	G_OBJECT_CLASS(pg_conv_list_parent_class)->finalize(obj);
}

static void pg_conv_list_class_init(PgConvListClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = pg_conv_list_finalize;
}

static void pg_conv_list_init(PgConvList *l)
{
	l->items = g_ptr_array_new_with_free_func(g_object_unref);
}

PgConvList *pg_conv_list_new(void)
{
	return g_object_new(PG_TYPE_CONV_LIST, NULL);
}

/* The sidebar's order: #lobby, rooms, private chats; by name within a group. */
static int group_of(const char *with)
{
	if (g_ascii_strcasecmp(with, "#lobby") == 0)
		return 0;
	return with[0] == '#' ? 1 : 2;
}

static int conv_cmp(const char *a, const char *b)
{
	int ga = group_of(a), gb = group_of(b);

	if (ga != gb)
		return ga - gb;
	return g_ascii_strcasecmp(a, b);
}

PgConv *pg_conv_list_find(PgConvList *l, const char *with, guint *pos)
{
	for (guint i = 0; with != NULL && i < l->items->len; i++) {
		PgConv *c = g_ptr_array_index(l->items, i);

		if (g_ascii_strcasecmp(c->with, with) == 0) {
			if (pos != NULL)
				*pos = i;
			return c;
		}
	}
	return NULL;
}

PgConv *pg_conv_list_ensure(PgConvList *l, const char *with)
{
	PgConv *c = pg_conv_list_find(l, with, NULL);
	guint i = 0;

	if (c != NULL)
		return c;
	c = g_object_new(PG_TYPE_CONV, NULL);
	c->with = g_strdup(with);
	while (i < l->items->len && conv_cmp(((PgConv *)g_ptr_array_index(l->items, i))->with,
	                                     with) < 0)
		i++;
	g_ptr_array_insert(l->items, (gint)i, c);
	g_list_model_items_changed(G_LIST_MODEL(l), i, 0, 1);
	return c;
}

bool pg_conv_list_remove(PgConvList *l, const char *with)
{
	guint pos;

	if (pg_conv_list_find(l, with, &pos) == NULL)
		return false;
	g_ptr_array_remove_index(l->items, pos);
	g_list_model_items_changed(G_LIST_MODEL(l), pos, 1, 0);
	return true;
}

static void changed(PgConvList *l, const char *with)
{
	guint pos;

	if (pg_conv_list_find(l, with, &pos) != NULL)
		g_list_model_items_changed(G_LIST_MODEL(l), pos, 1, 1);
}

void pg_conv_list_set_unread(PgConvList *l, const char *with, int unread, bool capped)
{
	PgConv *c = pg_conv_list_ensure(l, with);

	c->unread = unread;
	c->capped = capped;
	if (unread == 0)
		c->mentioned = false;
	changed(l, with);
}

void pg_conv_list_add_unread(PgConvList *l, const char *with, bool mentioned)
{
	PgConv *c = pg_conv_list_ensure(l, with);

	if (c->unread < PG_CONV_UNREAD_CAP)
		c->unread++;
	else
		c->capped = true;
	c->mentioned = c->mentioned || mentioned;
	changed(l, with);
}

void pg_conv_list_clear_unread(PgConvList *l, const char *with)
{
	PgConv *c = pg_conv_list_find(l, with, NULL);

	if (c == NULL || (c->unread == 0 && !c->mentioned))
		return;
	c->unread = 0;
	c->capped = false;
	c->mentioned = false;
	changed(l, with);
}

void pg_conv_list_set_online(PgConvList *l, const char *user, bool online)
{
	char *with = g_strconcat("@", user, NULL);
	PgConv *c = pg_conv_list_find(l, with, NULL);

	if (c != NULL && c->online != online) {
		c->online = online;
		changed(l, with);
	}
	g_free(with);
}
