/* pg_composer.c - the text box, attachments and upload progress (see pg_composer.h). */
#include "pg_composer.h"

#include <string.h>

#include <glib/gstdio.h>

#include "pg_i18n.h"

struct pg_composer {
	struct pg_composer_ops ops;
	void *ud;
	char *paste_dir;
	GtkWidget *box, *text, *send, *attach, *progress_box, *progress, *cancel_btn;
	GCancellable *cancel;
	gboolean preedit;        /* an input method is composing: Enter is its */
	GtkWidget *mode;         /* the banner of a mode (editing, replying), or hidden */
};

static GtkWidget *mode_banner_new(struct pg_composer *c);

char *pg_composer_get_text(struct pg_composer *c)
{
	GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(c->text));
	GtkTextIter a, b;

	gtk_text_buffer_get_bounds(buf, &a, &b);
	return gtk_text_buffer_get_text(buf, &a, &b, FALSE);
}

void pg_composer_set_text(struct pg_composer *c, const char *text)
{
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(c->text)), text, -1);
}

void pg_composer_send(struct pg_composer *c)
{
	char *text = pg_composer_get_text(c);

	g_strchomp(text);
	if (text[0] != '\0') {
		pg_composer_set_text(c, "");
		c->ops.submit(c->ud, text);
	}
	g_free(text);
}

static void on_preedit(GtkTextView *tv, const char *preedit, gpointer data)
{
	struct pg_composer *c = data;

	(void)tv;
	c->preedit = preedit != NULL && preedit[0] != '\0';
}

static gboolean on_key(GtkEventControllerKey *ctl, guint keyval, guint keycode,
                       GdkModifierType state, gpointer data)
{
	struct pg_composer *c = data;

	(void)ctl;
	(void)keycode;
	if (c->preedit)
		return FALSE;
	if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter) &&
	    (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) == 0) {
		pg_composer_send(c);
		return TRUE;
	}
	if (keyval == GDK_KEY_Escape && c->ops.escape != NULL && pg_composer_in_mode(c)) {
		pg_composer_set_mode(c, NULL);
		pg_composer_set_text(c, "");
		c->ops.escape(c->ud);
		return TRUE;
	}
	if (keyval == GDK_KEY_Escape && c->ops.escape != NULL) {
		char *text = pg_composer_get_text(c);
		gboolean empty = text[0] == '\0';

		g_free(text);
		if (empty) {
			c->ops.escape(c->ud);
			return TRUE;
		}
		pg_composer_set_text(c, "");
		return TRUE;
	}
	return FALSE;
}

static void on_send_clicked(GtkButton *b, gpointer data)
{
	(void)b;
	pg_composer_send(data);
}

static void on_chooser_response(GtkNativeDialog *dlg, int response, gpointer data)
{
	struct pg_composer *c = data;

	if (response == GTK_RESPONSE_ACCEPT) {
		GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dlg));
		char *path = f != NULL ? g_file_get_path(f) : NULL;

		if (path != NULL)
			c->ops.attach(c->ud, path);
		g_free(path);
		g_clear_object(&f);
	}
	g_object_unref(dlg);
}

static void on_attach_clicked(GtkButton *b, gpointer data)
{
	struct pg_composer *c = data;
	GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(b));
	GtkFileChooserNative *dlg = gtk_file_chooser_native_new(
		_("Send a file"), GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
		GTK_FILE_CHOOSER_ACTION_OPEN, _("_Send"), _("_Cancel"));

	g_signal_connect(dlg, "response", G_CALLBACK(on_chooser_response), c);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
}

static gboolean on_drop(GtkDropTarget *t, const GValue *value, double x, double y, gpointer data)
{
	struct pg_composer *c = data;
	GSList *files;

	(void)t;
	(void)x;
	(void)y;
	if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST))
		return FALSE;
	files = gdk_file_list_get_files(g_value_get_boxed(value));
	for (GSList *l = files; l != NULL; l = l->next) {
		char *path = g_file_get_path(l->data);

		if (path != NULL)
			c->ops.attach(c->ud, path);
		g_free(path);
	}
	g_slist_free(files);
	return TRUE;
}

void pg_composer_take_drops(struct pg_composer *c, GtkWidget *area)
{
	GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

	g_signal_connect(drop, "drop", G_CALLBACK(on_drop), c);
	gtk_widget_add_controller(area, GTK_EVENT_CONTROLLER(drop));
}

/* A pasted image: saved as PNG in the data dir (private), then sent like a file. */
static void on_texture_read(GObject *src, GAsyncResult *res, gpointer data)
{
	struct pg_composer *c = data;
	const GValue *v = gdk_clipboard_read_value_finish(GDK_CLIPBOARD(src), res, NULL);
	char *path;

	if (v == NULL || !G_VALUE_HOLDS(v, GDK_TYPE_TEXTURE))
		return;
	g_mkdir_with_parents(c->paste_dir, 0700);
	path = g_strdup_printf("%s/pasted-%" G_GINT64_FORMAT ".png", c->paste_dir,
	                       g_get_real_time() / 1000);
	if (gdk_texture_save_to_png(g_value_get_object(v), path))
		c->ops.attach(c->ud, path);
	g_free(path);
}

static void on_paste(GtkTextView *tv, gpointer data)
{
	struct pg_composer *c = data;
	GdkClipboard *cb = gtk_widget_get_clipboard(GTK_WIDGET(tv));
	GdkContentFormats *f = gdk_clipboard_get_formats(cb);

	if (gdk_content_formats_contain_gtype(f, GDK_TYPE_TEXTURE) &&
	    !gdk_content_formats_contain_gtype(f, G_TYPE_STRING)) {
		g_signal_stop_emission_by_name(tv, "paste-clipboard");
		gdk_clipboard_read_value_async(cb, GDK_TYPE_TEXTURE, G_PRIORITY_DEFAULT, NULL,
		                               on_texture_read, c);
	}
}

static void on_cancel_clicked(GtkButton *b, gpointer data)
{
	struct pg_composer *c = data;

	(void)b;
	if (c->cancel != NULL)
		g_cancellable_cancel(c->cancel);
}

void pg_composer_set_progress(struct pg_composer *c, double fraction, GCancellable *cancel)
{
	if (fraction < 0) {
		gtk_widget_set_visible(c->progress_box, FALSE);
		g_clear_object(&c->cancel);
		return;
	}
	if (cancel != NULL && cancel != c->cancel) {
		g_clear_object(&c->cancel);
		c->cancel = g_object_ref(cancel);
	}
	gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(c->progress), fraction);
	gtk_widget_set_visible(c->progress_box, TRUE);
}

static void composer_free(gpointer p)
{
	struct pg_composer *c = p;

	g_clear_object(&c->cancel);
	g_free(c->paste_dir);
	g_free(c);
}

static GtkWidget *labelled_button(const char *icon, const char *label, const char *name)
{
	GtkWidget *b = gtk_button_new_from_icon_name(icon);

	gtk_widget_set_name(b, name);
	gtk_widget_set_tooltip_text(b, label);
	gtk_accessible_update_property(GTK_ACCESSIBLE(b), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
	return b;
}

struct pg_composer *pg_composer_new(const struct pg_composer_ops *ops, void *ud,
                                    const char *paste_dir)
{
	struct pg_composer *c = g_new0(struct pg_composer, 1);
	GtkWidget *scroll, *row;
	GtkEventController *key;

	c->ops = *ops;
	c->ud = ud;
	c->paste_dir = g_strdup(paste_dir);
	c->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	gtk_widget_add_css_class(c->box, "composer");
	c->progress_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	c->progress = gtk_progress_bar_new();
	gtk_widget_set_name(c->progress, "upload-progress");
	gtk_widget_set_hexpand(c->progress, TRUE);
	gtk_widget_set_valign(c->progress, GTK_ALIGN_CENTER);
	gtk_progress_bar_set_text(GTK_PROGRESS_BAR(c->progress), _("Uploading…"));
	gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(c->progress), TRUE);
	c->cancel_btn = gtk_button_new_with_label(_("Cancel upload"));
	gtk_widget_set_name(c->cancel_btn, "upload-cancel");
	g_signal_connect(c->cancel_btn, "clicked", G_CALLBACK(on_cancel_clicked), c);
	gtk_box_append(GTK_BOX(c->progress_box), c->progress);
	gtk_box_append(GTK_BOX(c->progress_box), c->cancel_btn);
	gtk_widget_set_visible(c->progress_box, FALSE);

	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	c->attach = labelled_button("mail-attachment-symbolic", _("Send a file"), "attach-button");
	g_signal_connect(c->attach, "clicked", G_CALLBACK(on_attach_clicked), c);
	c->text = gtk_text_view_new();
	gtk_widget_set_name(c->text, "composer-text");
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(c->text), GTK_WRAP_WORD_CHAR);
	gtk_text_view_set_accepts_tab(GTK_TEXT_VIEW(c->text), FALSE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(c->text), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Message (Enter sends, Shift+Enter new line)"), -1);
	g_signal_connect(c->text, "preedit-changed", G_CALLBACK(on_preedit), c);
	g_signal_connect(c->text, "paste-clipboard", G_CALLBACK(on_paste), c);
	/* Capture phase: before the text view inserts a newline for Enter; an input method
	 * that is composing still gets it (preedit). */
	key = gtk_event_controller_key_new();
	gtk_event_controller_set_propagation_phase(key, GTK_PHASE_CAPTURE);
	g_signal_connect(key, "key-pressed", G_CALLBACK(on_key), c);
	gtk_widget_add_controller(c->text, key);
	pg_composer_take_drops(c, c->box);
	scroll = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), c->text);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
	                               GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 48);
	gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(scroll), 160);
	gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(scroll), TRUE);
	gtk_widget_set_hexpand(scroll, TRUE);
	gtk_widget_add_css_class(scroll, "composer-frame");
	c->send = labelled_button("mail-send-symbolic", _("Send"), "send-button");
	g_signal_connect(c->send, "clicked", G_CALLBACK(on_send_clicked), c);
	gtk_box_append(GTK_BOX(row), c->attach);
	gtk_box_append(GTK_BOX(row), scroll);
	gtk_box_append(GTK_BOX(row), c->send);
	gtk_box_append(GTK_BOX(c->box), c->progress_box);
	gtk_box_append(GTK_BOX(c->box), mode_banner_new(c));
	gtk_box_append(GTK_BOX(c->box), row);
	g_object_set_data_full(G_OBJECT(c->box), "pg-composer", c, composer_free);
	return c;
}

GtkWidget *pg_composer_widget(struct pg_composer *c)
{
	return c->box;
}

GtkWidget *pg_composer_text_view(struct pg_composer *c)
{
	return c->text;
}

/* ---- modes: editing a message, replying to one ---- */

static GtkWidget *mode_banner_new(struct pg_composer *c)
{
	c->mode = gtk_label_new(NULL);
	gtk_widget_set_name(c->mode, "composer-mode");
	gtk_widget_add_css_class(c->mode, "composer-mode");
	gtk_label_set_xalign(GTK_LABEL(c->mode), 0);
	gtk_label_set_ellipsize(GTK_LABEL(c->mode), PANGO_ELLIPSIZE_END);
	gtk_widget_set_visible(c->mode, FALSE);
	return c->mode;
}

void pg_composer_set_mode(struct pg_composer *c, const char *banner)
{
	gtk_label_set_text(GTK_LABEL(c->mode), banner != NULL ? banner : "");
	gtk_widget_set_visible(c->mode, banner != NULL);
	if (banner != NULL)
		gtk_widget_grab_focus(c->text);
}

bool pg_composer_in_mode(struct pg_composer *c)
{
	return gtk_widget_get_visible(c->mode);
}
