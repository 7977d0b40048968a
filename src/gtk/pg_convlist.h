/* pg_convlist.h - the sidebar's conversations as a GListModel of PgConv: #lobby first, then
 * the user's rooms, then its private chats, each group by name (case-insensitive), with
 * unread counts and, for private chats, whether the other user is online. Pure GLib. A
 * change to a conversation is an items-changed of its row, so views rebind just that row. */
#ifndef PG_CONVLIST_H
#define PG_CONVLIST_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>

G_BEGIN_DECLS

#define PG_CONV_UNREAD_CAP 1000   /* the server's cap: shown as "999+" */

#define PG_TYPE_CONV (pg_conv_get_type())
G_DECLARE_FINAL_TYPE(PgConv, pg_conv, PG, CONV, GObject)

struct _PgConv {
	GObject parent;
	char *with;        /* "#room" or "@user" */
	int unread;
	bool capped;       /* unread is PG_CONV_UNREAD_CAP or more */
	bool mentioned;    /* an unread message mentions the user */
	bool online;       /* @user: the other user is online */
};

/* "999+", "12" or "" (nothing unread); a static or the caller's buffer. */
const char *pg_conv_unread_text(const PgConv *c, char buf[8]);

#define PG_TYPE_CONV_LIST (pg_conv_list_get_type())
G_DECLARE_FINAL_TYPE(PgConvList, pg_conv_list, PG, CONV_LIST, GObject)

PgConvList *pg_conv_list_new(void);
/* The conversation with (borrowed), added in its place when absent. */
PgConv *pg_conv_list_ensure(PgConvList *l, const char *with);
/* The conversation with (borrowed) or NULL; *pos (may be NULL) gets its position. */
PgConv *pg_conv_list_find(PgConvList *l, const char *with, guint *pos);
/* Removes with (a part). True if it was there. */
bool pg_conv_list_remove(PgConvList *l, const char *with);
/* Sets the unread count (from the server's `unread`). */
void pg_conv_list_set_unread(PgConvList *l, const char *with, int unread, bool capped);
/* One more unread message in with (added when absent); mentioned: it mentions the user. */
void pg_conv_list_add_unread(PgConvList *l, const char *with, bool mentioned);
/* Nothing unread in with. */
void pg_conv_list_clear_unread(PgConvList *l, const char *with);
/* Marks @user online or not (only when its conversation is listed). */
void pg_conv_list_set_online(PgConvList *l, const char *user, bool online);

G_END_DECLS

#endif
