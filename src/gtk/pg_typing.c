/* pg_typing.c - typing indicators (see pg_typing.h). */
#include "pg_typing.h"

#include <string.h>

#include "pg_i18n.h"

/* Someone typing in a conversation, until the timer ends it. */
struct typist {
	struct pg_typing *t;
	char *conv;      /* folded conversation key */
	char *user;
	char *label;     /* "display (user)" or the user name */
	guint timer;
};

struct pg_typing {
	struct pg_session *session;
	GtkWidget *label, *text_view;
	GPtrArray *typists;         /* of struct typist *, in the order they started */
	GHashTable *sent_at;        /* folded conversation -> gint64 * (monotonic µs) */
	char *active;               /* folded, or NULL */
	guint sent;
	gulong changed_id;
	GtkTextBuffer *buffer;
};

static void typist_free(gpointer p)
{
	struct typist *ty = p;

	if (ty->timer != 0)
		g_source_remove(ty->timer);
	g_free(ty->conv);
	g_free(ty->user);
	g_free(ty->label);
	g_free(ty);
}

char *pg_typing_sentence(const char *const *names, guint n)
{
	if (n == 0)
		return g_strdup("");
	if (n == 1)
		return g_strdup_printf(_("%s is typing…"), names[0]);
	if (n == 2)
		return g_strdup_printf(_("%s and %s are typing…"), names[0], names[1]);
	return g_strdup_printf(_("%s, %s and %u more are typing…"), names[0], names[1], n - 2);
}

static void render(struct pg_typing *t)
{
	const char **names = g_new0(const char *, t->typists->len + 1);
	GString *who = g_string_new(NULL);
	guint n = 0;
	char *text;

	for (guint i = 0; i < t->typists->len; i++) {
		struct typist *ty = g_ptr_array_index(t->typists, i);

		if (t->active == NULL || strcmp(ty->conv, t->active) != 0)
			continue;
		names[n++] = ty->label;
		if (who->len > 0)
			g_string_append(who, ", ");
		g_string_append(who, ty->user);
	}
	text = pg_typing_sentence(names, n);
	gtk_label_set_text(GTK_LABEL(t->label), text);
	gtk_widget_set_tooltip_text(t->label, n > 0 ? who->str : NULL);
	/* It keeps its height when empty: the message list does not jump when someone types. */
	gtk_widget_set_opacity(t->label, n > 0 ? 1.0 : 0.0);
	g_free(text);
	g_free(names);
	g_string_free(who, TRUE);
}

static guint find_typist(struct pg_typing *t, const char *conv, const char *user)
{
	for (guint i = 0; i < t->typists->len; i++) {
		struct typist *ty = g_ptr_array_index(t->typists, i);

		if (strcmp(ty->conv, conv) == 0 && g_ascii_strcasecmp(ty->user, user) == 0)
			return i;
	}
	return G_MAXUINT;
}

static void stop(struct pg_typing *t, const char *conv, const char *user)
{
	guint i = find_typist(t, conv, user);

	if (i == G_MAXUINT)
		return;
	g_ptr_array_remove_index(t->typists, i);
	render(t);
}

static gboolean on_expired(gpointer data)
{
	struct typist *ty = data;
	struct pg_typing *t = ty->t;
	char *conv = g_strdup(ty->conv), *user = g_strdup(ty->user);

	ty->timer = 0;
	stop(t, conv, user);
	g_free(conv);
	g_free(user);
	return G_SOURCE_REMOVE;
}

static void on_event(json_t *ev, void *ud)
{
	struct pg_typing *t = ud;
	const char *op = json_string_value(json_object_get(ev, "op"));
	const char *from = json_string_value(json_object_get(ev, "from"));
	const char *to = json_string_value(json_object_get(ev, "to"));
	const char *me = pg_session_user(t->session);
	char *conv, *tmp;
	guint i;

	if (op == NULL || from == NULL || to == NULL || (to[0] != '#' && to[0] != '@'))
		return;
	if (me != NULL && g_ascii_strcasecmp(from, me) == 0)
		return;
	tmp = to[0] == '#' ? g_strdup(to) : g_strconcat("@", from, NULL);
	conv = g_ascii_strdown(tmp, -1);
	g_free(tmp);
	if (strcmp(op, "msg") == 0) {
		stop(t, conv, from);   /* the message they were typing came */
	} else if (strcmp(op, "typing") == 0) {
		const char *display = json_string_value(json_object_get(ev, "display"));
		struct typist *ty;

		i = find_typist(t, conv, from);
		if (i != G_MAXUINT) {
			ty = g_ptr_array_index(t->typists, i);
			g_source_remove(ty->timer);
		} else {
			ty = g_new0(struct typist, 1);
			ty->t = t;
			ty->conv = g_strdup(conv);
			ty->user = g_strdup(from);
			ty->label = display != NULL ? g_strdup_printf("%s (%s)", display, from)
			                            : g_strdup(from);
			g_ptr_array_add(t->typists, ty);
		}
		ty->timer = g_timeout_add(PG_TYPING_SHOW_MS, on_expired, ty);
		render(t);
	}
	g_free(conv);
}

/* The composer changed: tell the conversation, unless told within 3 s or not a message. */
static void on_changed(GtkTextBuffer *buf, gpointer data)
{
	struct pg_typing *t = data;
	GtkTextIter a, b;
	char *text;
	gint64 now = g_get_monotonic_time(), *last;
	const char *with;
	PgMsgStore *st;

	if (t->active == NULL || pg_session_state(t->session) != PG_SESSION_ONLINE)
		return;
	gtk_text_buffer_get_bounds(buf, &a, &b);
	text = gtk_text_buffer_get_text(buf, &a, &b, FALSE);
	g_strstrip(text);
	if (text[0] == '\0' || (text[0] == '/' && text[1] != '/')) {
		g_free(text);
		return;
	}
	g_free(text);
	last = g_hash_table_lookup(t->sent_at, t->active);
	if (last != NULL && now - *last < (gint64)PG_TYPING_SEND_EVERY_MS * 1000)
		return;
	st = pg_session_store(t->session, t->active);
	with = st != NULL ? pg_msg_store_with(st) : t->active;
	if (!pg_session_notify(t->session, pier_req_typing(with)))
		return;
	if (last == NULL) {
		last = g_new(gint64, 1);
		g_hash_table_insert(t->sent_at, g_strdup(t->active), last);
	}
	*last = now;
	t->sent++;
}

struct pg_typing *pg_typing_new(struct pg_session *s, GtkWidget *text_view)
{
	struct pg_typing *t = g_new0(struct pg_typing, 1);

	t->session = s;
	t->typists = g_ptr_array_new_with_free_func(typist_free);
	t->sent_at = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	t->label = gtk_label_new("");
	gtk_widget_set_name(t->label, "typing-indicator");
	gtk_widget_add_css_class(t->label, "typing-indicator");
	gtk_label_set_xalign(GTK_LABEL(t->label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(t->label), PANGO_ELLIPSIZE_END);
	gtk_widget_set_opacity(t->label, 0.0);
	gtk_accessible_update_property(GTK_ACCESSIBLE(t->label), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Who is typing"), -1);
	t->text_view = text_view;
	t->buffer = g_object_ref(gtk_text_view_get_buffer(GTK_TEXT_VIEW(text_view)));
	t->changed_id = g_signal_connect(t->buffer, "changed", G_CALLBACK(on_changed), t);
	pg_session_listen(s, on_event, t);
	return t;
}

void pg_typing_free(struct pg_typing *t)
{
	if (t == NULL)
		return;
	g_signal_handler_disconnect(t->buffer, t->changed_id);
	g_object_unref(t->buffer);
	g_ptr_array_unref(t->typists);
	g_hash_table_unref(t->sent_at);
	g_free(t->active);
	g_free(t);
}

GtkWidget *pg_typing_widget(struct pg_typing *t)
{
	return t->label;
}

void pg_typing_set_active(struct pg_typing *t, const char *with)
{
	g_free(t->active);
	t->active = with != NULL ? g_ascii_strdown(with, -1) : NULL;
	render(t);
}

void pg_typing_clear(struct pg_typing *t)
{
	g_ptr_array_set_size(t->typists, 0);
	render(t);
}

guint pg_typing_sent(const struct pg_typing *t)
{
	return t->sent;
}
