/* pg_window.c - the main window (see pg_window.h). */
#include "pg_window.h"

#include <string.h>

#include "pg_command.h"
#include "pg_composer.h"
#include "pg_e2ee.h"
#include "pg_e2ee_ui.h"
#include "pg_i18n.h"
#include "pg_login.h"
#include "pg_members.h"
#include "pg_media.h"
#include "pg_msgactions.h"
#include "pg_msgview.h"
#include "pg_notify.h"
#include "pg_search.h"
#include "pg_sidebar.h"
#include "pg_switcher.h"
#include "pg_typing.h"

#define NOTICE_MS 6000

struct pg_window {
	GtkWindow *win;
	struct pg_settings settings;
	struct pg_session *session;
	struct pg_media *media;
	struct pg_login *login;
	struct pg_sidebar *sidebar;
	struct pg_msgview *view;
	struct pg_composer *composer;
	GtkWidget *stack, *title, *banner, *notice, *members;
	char *active;
	char *last_notice;
	guint notice_timer;
	guint notifications;
	GCancellable *upload;
	char *upload_to;
	struct upload_ctx *upload_ctx;
	struct pg_e2ee_ui *e2ee_ui;     /* end-to-end encryption's banner, lock and windows */
	/* the chat features (the end of this file) */
	struct pg_msgactions *actions;
	struct pg_typing *typing;
	struct pg_search *search;
	char *mode_with;        /* the conversation of the message edited or replied to */
	int64_t edit_id;        /* editing this message (0: not) */
	int64_t reply_id;       /* replying to this message (0: not) */
};

static void chat_features_new(struct pg_window *w, GtkWidget *right);
static void chat_features_free(struct pg_window *w);
static void chat_features_open(struct pg_window *w, const char *with);
static bool chat_features_submit(struct pg_window *w, const char *line);
static void chat_features_escape(struct pg_window *w);

/* What an upload's callbacks see: the window, or NULL once it is gone (the upload may end
 * after the window was closed). The window and the upload each hold a reference. */
struct upload_ctx {
	int refs;
	struct pg_window *w;
};

static void upload_ctx_unref(struct upload_ctx *u)
{
	if (--u->refs == 0)
		g_free(u);
}

static const char css[] =
	".pier-colours .msg-room { color: #c01c28; }\n"
	".pier-colours .msg-private { color: #000000; }\n"
	/* Black on a dark background cannot be read: private messages take the text colour. */
	".pier-colours.pier-dark .msg-private { color: @theme_fg_color; }\n"
	".pier-colours.pier-dark .msg-room { color: #ff7b63; }\n"
	".day-separator { font-weight: bold; opacity: 0.7; margin: 8px 0 4px 0; }\n"
	".msg-row { padding: 2px 12px; }\n"
	".msg-row.mentioned { background: alpha(#e5a50a, 0.15); }\n"
	".msg-row.pending { opacity: 0.6; }\n"
	".msg-sender { font-weight: bold; }\n"
	".msg-time { opacity: 0.6; font-size: smaller; }\n"
	".offline-banner { background: #e5a50a; color: #000000; padding: 4px; }\n"
	".notice { background: alpha(#3584e4, 0.2); padding: 4px; }\n"
	".unread-badge { background: #3584e4; color: #ffffff; border-radius: 9px; "
	"padding: 0 6px; font-size: smaller; }\n"
	".unread-badge.mention { background: #c01c28; }\n"
	".conv-title { font-weight: bold; font-size: larger; padding: 6px 12px; }\n"
	".e2ee-banner { background: alpha(#26a269, 0.2); padding: 4px 8px; }\n"
	".safety-number { font-size: x-large; }\n"
	".new-divider { color: #c01c28; font-weight: bold; border-top: 1px solid #c01c28; "
	"margin: 6px 0 2px 0; padding-top: 2px; }\n"
	".pier-dark .new-divider { color: #ff7b63; border-top-color: #ff7b63; }\n"
	".msg-quote { border-left: 3px solid alpha(currentColor, 0.4); padding-left: 6px; "
	"opacity: 0.75; font-size: smaller; }\n"
	".msg-quote-button { padding: 0 2px; min-height: 0; margin: 2px 0; }\n"
	".reaction-chip { padding: 0 6px; min-height: 22px; border-radius: 11px; }\n"
	".reaction-chip.mine { background: alpha(#3584e4, 0.25); "
	"box-shadow: inset 0 0 0 1px #3584e4; }\n"
	".msg-actions { min-height: 20px; padding: 0 4px; opacity: 0.55; }\n"
	".msg-row.recalled #msg-text { opacity: 0.7; }\n"
	".msg-row.flash { background: alpha(#f6d32d, 0.35); }\n"
	".typing-indicator { font-size: smaller; font-style: italic; padding: 0 12px; "
	"opacity: 0.8; }\n"
	".composer-mode { background: alpha(#3584e4, 0.15); padding: 2px 8px; }\n"
	"*:focus-visible { outline: 2px solid #3584e4; outline-offset: -2px; }\n";

static void install_css(void)
{
	static gboolean done;
	GtkCssProvider *p;

	if (done)
		return;
	done = TRUE;
	p = gtk_css_provider_new();
	gtk_css_provider_load_from_data(p, css, -1);
	gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(p),
	                                           GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(p);
}

struct pg_window *pg_window_from(GtkWindow *win)
{
	return g_object_get_data(G_OBJECT(win), "pg-window");
}

struct pg_session *pg_window_session(struct pg_window *w)
{
	return w->session;
}

const char *pg_window_active(struct pg_window *w)
{
	return w->active;
}

const char *pg_window_notice(struct pg_window *w)
{
	return w->last_notice;
}

guint pg_window_notifications(struct pg_window *w)
{
	return w->notifications;
}

static gboolean hide_notice(gpointer data)
{
	struct pg_window *w = data;

	w->notice_timer = 0;
	gtk_widget_set_visible(w->notice, FALSE);
	return G_SOURCE_REMOVE;
}

static void show_notice(struct pg_window *w, const char *text)
{
	g_free(w->last_notice);
	w->last_notice = g_strdup(text);
	gtk_label_set_text(GTK_LABEL(w->notice), text);
	gtk_widget_set_visible(w->notice, TRUE);
	if (w->notice_timer != 0)
		g_source_remove(w->notice_timer);
	w->notice_timer = g_timeout_add(NOTICE_MS, hide_notice, w);
}

void pg_window_set_look(struct pg_window *w, gboolean colours, enum pg_style style)
{
	gboolean dark = style == PG_STYLE_DARK ||
	                (style == PG_STYLE_SYSTEM && pg_settings_desktop_prefers_dark());

	w->settings.colours = colours;
	w->settings.style = style;
	if (colours)
		gtk_widget_add_css_class(GTK_WIDGET(w->win), "pier-colours");
	else
		gtk_widget_remove_css_class(GTK_WIDGET(w->win), "pier-colours");
	if (dark)
		gtk_widget_add_css_class(GTK_WIDGET(w->win), "pier-dark");
	else
		gtk_widget_remove_css_class(GTK_WIDGET(w->win), "pier-dark");
	g_object_set(gtk_settings_get_default(), "gtk-application-prefer-dark-theme", dark, NULL);
}

/* ---- conversations ---- */

void pg_window_open(struct pg_window *w, const char *with)
{
	char *title;

	if (with == NULL)
		return;
	if (w->active == NULL || g_ascii_strcasecmp(w->active, with) != 0) {
		g_free(w->active);
		w->active = g_strdup(with);
		pg_msgview_show(w->view, with);
	}
	pg_sidebar_select(w->sidebar, with);
	title = with[0] == '@' ? g_strdup_printf(_("Private chat with %s"), with + 1)
	                       : g_strdup(with);
	gtk_label_set_text(GTK_LABEL(w->title), title);
	g_free(title);
	pg_e2ee_ui_set_active(w->e2ee_ui, with);
	pg_members_set_room(w->members, with);
	chat_features_open(w, with);
	pg_session_set_active(w->session, with, gtk_window_is_active(w->win));
	gtk_widget_grab_focus(pg_composer_text_view(w->composer));
}

static void on_active_changed(GObject *obj, GParamSpec *ps, gpointer data)
{
	struct pg_window *w = data;

	(void)obj;
	(void)ps;
	pg_session_set_active(w->session, w->active, gtk_window_is_active(w->win));
}

/* ---- the session's callbacks ---- */

static void update_state(void *ud)
{
	struct pg_window *w = ud;
	enum pg_session_state st = pg_session_state(w->session);
	char *status;

	gtk_widget_set_visible(w->banner, st == PG_SESSION_OFFLINE);
	if (st != PG_SESSION_ONLINE && w->typing != NULL)
		pg_typing_clear(w->typing);
	if (st == PG_SESSION_ONLINE || st == PG_SESSION_OFFLINE) {
		gtk_stack_set_visible_child_name(GTK_STACK(w->stack), "chat");
		status = g_strdup_printf("%s · %s", pg_session_user(w->session),
		                         st == PG_SESSION_ONLINE ? _("online") : _("offline"));
		pg_sidebar_set_status(w->sidebar, status);
		g_free(status);
		if (w->active == NULL)
			pg_window_open(w, "#lobby");
	} else if (st == PG_SESSION_LOGGED_OUT) {
		gtk_stack_set_visible_child_name(GTK_STACK(w->stack), "login");
	}
}

static void on_login_result(void *ud, bool ok, const char *text)
{
	struct pg_window *w = ud;

	pg_login_set_status(w->login, text, false);
	if (ok)
		update_state(w);
}

static void on_incoming(void *ud, const char *with, PgMsg *msg)
{
	struct pg_window *w = ud;

	if (pg_notify_message(w->win, with, msg))
		w->notifications++;
}

static void on_notice(void *ud, const char *text)
{
	show_notice(ud, text);
}

static void on_joined(void *ud, const char *room)
{
	pg_window_open(ud, room);
}

static void on_parted(void *ud, const char *room)
{
	struct pg_window *w = ud;

	if (w->active != NULL && g_ascii_strcasecmp(w->active, room) == 0)
		pg_window_open(w, "#lobby");
}

static const struct pg_session_ops session_ops = {
	.state_changed = update_state,
	.login_result = on_login_result,
	.incoming = on_incoming,
	.notice = on_notice,
	.joined = on_joined,
	.parted = on_parted,
};

static void session_config(const struct pg_settings *st, struct pg_session_config *cfg)
{
	cfg->host = st->host;
	cfg->port = st->port;
	cfg->http_port = st->http_port;
	cfg->tls = st->tls;
	cfg->ca_file = st->ca_file;
	cfg->data_dir = st->data_dir;
}

static void on_login_submit(void *ud, const char *user, const char *password, bool reg)
{
	struct pg_window *w = ud;
	struct pg_session_config cfg;

	session_config(&w->settings, &cfg);
	pg_session_configure(w->session, &cfg);
	/* Perhaps another user: the conversation shown is chosen again after the login. */
	pg_msgview_show(w->view, NULL);
	g_clear_pointer(&w->active, g_free);
	pg_session_login(w->session, user, password, reg);
}

/* ---- the composer ---- */

static const char *help_text(void)
{
	return _("text sends to this conversation; text~user or /msg user text sends privately; "
	         "/join #room; /part [#room]; //text sends text starting with /; Ctrl+K finds a "
	         "conversation, Alt+Up/Down moves between them.");
}

static void on_submit(void *ud, const char *line)
{
	struct pg_window *w = ud;
	struct pg_command cmd;
	char *to = NULL, *msg;

	if (chat_features_submit(w, line))
		return;
	pg_command_parse(line, &cmd);
	switch (cmd.op) {
	case PG_CMD_TEXT:
		if (w->active == NULL)
			show_notice(w, _("Open a conversation first."));
		else if (pg_session_send(w->session, w->active, cmd.text, NULL, 0) != 0)
			show_notice(w, _("Too many messages wait to be sent."));
		break;
	case PG_CMD_PRIVATE:
		to = g_strconcat("@", cmd.user, NULL);
		if (pg_session_send(w->session, to, cmd.text, NULL, 0) != 0)
			show_notice(w, _("Too many messages wait to be sent."));
		break;
	case PG_CMD_JOIN:
		pg_session_join(w->session, cmd.room);
		break;
	case PG_CMD_PART:
		if (cmd.room != NULL)
			pg_session_part(w->session, cmd.room);
		else if (w->active != NULL && w->active[0] == '#')
			pg_session_part(w->session, w->active);
		break;
	case PG_CMD_HELP:
		show_notice(w, help_text());
		break;
	case PG_CMD_USAGE:
	case PG_CMD_UNKNOWN:
		if (cmd.op == PG_CMD_UNKNOWN)
			msg = g_strdup_printf(_("Unknown command /%s (/help)"), cmd.name);
		else
			msg = g_strdup_printf(_("Usage of %s: /help"), cmd.name);
		show_notice(w, msg);
		g_free(msg);
		pg_composer_set_text(w->composer, line);
		break;
	case PG_CMD_ASK:
		msg = g_strdup_printf(_("%s is not a user name: nothing was sent. Edit the line, or "
		                        "start it with // to send it as it is."), cmd.name);
		show_notice(w, msg);
		g_free(msg);
		pg_composer_set_text(w->composer, line);
		break;
	}
	g_free(to);
	pg_command_release(&cmd);
}

static void on_upload_progress(double fraction, gpointer ud)
{
	struct pg_window *w = ((struct upload_ctx *)ud)->w;

	if (w != NULL && w->upload != NULL)
		pg_composer_set_progress(w->composer, fraction, w->upload);
}

static void on_upload_done(json_t *result, const char *error, gpointer ud)
{
	struct upload_ctx *u = ud;
	struct pg_window *w = u->w;

	upload_ctx_unref(u);
	if (w == NULL)
		return;
	pg_composer_set_progress(w->composer, -1, NULL);
	g_clear_object(&w->upload);
	if (result == NULL) {
		char *msg = g_strdup_printf(_("Upload failed: %s"), error);

		show_notice(w, strcmp(error, "cancelled") == 0 ? _("Upload cancelled.") : msg);
		g_free(msg);
	} else {
		const char *type = json_string_value(json_object_get(result, "type"));

		/* an encrypted upload: its key goes with the encrypted send */
		if (json_object_get(result, "file") != NULL)
			pg_e2ee_add_file(pg_session_e2ee(w->session), json_object_get(result, "file"));
		pg_session_send(w->session, w->upload_to, "", pg_media_kind_of(type),
		                json_integer_value(json_object_get(result, "id")));
	}
	g_clear_pointer(&w->upload_to, g_free);
}

static void on_attach(void *ud, const char *path)
{
	struct pg_window *w = ud;

	if (w->active == NULL || w->upload != NULL) {
		show_notice(w, w->upload != NULL ? _("One upload at a time.")
		                                 : _("Open a conversation first."));
		return;
	}
	w->upload = g_cancellable_new();
	w->upload_to = g_strdup(w->active);
	if (w->upload_ctx == NULL) {
		w->upload_ctx = g_new0(struct upload_ctx, 1);
		w->upload_ctx->refs = 1;
		w->upload_ctx->w = w;
	}
	w->upload_ctx->refs++;
	pg_composer_set_progress(w->composer, 0, w->upload);
	if (pg_e2ee_private(pg_session_e2ee(w->session), w->active))
		pg_media_upload_e2ee(w->media, path, w->upload, on_upload_progress, on_upload_done,
		                     w->upload_ctx);
	else
		pg_media_upload(w->media, path, w->upload, on_upload_progress, on_upload_done,
		                w->upload_ctx);
}

void pg_window_attach(struct pg_window *w, const char *path)
{
	on_attach(w, path);
}

gboolean pg_window_uploading(struct pg_window *w)
{
	return w->upload != NULL;
}

static void on_escape(void *ud)
{
	struct pg_window *w = ud;

	gtk_widget_set_visible(w->notice, FALSE);
	chat_features_escape(w);
	pg_msgview_scroll_to_bottom(w->view);
}

/* ---- actions ---- */

static void switcher_open(const char *with, gpointer ud)
{
	pg_window_open(ud, with);
}

static void act_switcher(GSimpleAction *a, GVariant *p, gpointer ud)
{
	struct pg_window *w = ud;

	(void)a;
	(void)p;
	if (pg_session_state(w->session) == PG_SESSION_ONLINE ||
	    pg_session_state(w->session) == PG_SESSION_OFFLINE)
		pg_switcher_show(w->win, pg_session_conversations(w->session), switcher_open, w);
}

static void act_next(GSimpleAction *a, GVariant *p, gpointer ud)
{
	(void)a;
	(void)p;
	pg_sidebar_move(((struct pg_window *)ud)->sidebar, 1);
}

static void act_prev(GSimpleAction *a, GVariant *p, gpointer ud)
{
	(void)a;
	(void)p;
	pg_sidebar_move(((struct pg_window *)ud)->sidebar, -1);
}

static void act_colours(GSimpleAction *a, GVariant *p, gpointer ud)
{
	struct pg_window *w = ud;

	(void)a;
	(void)p;
	pg_window_set_look(w, !w->settings.colours, w->settings.style);
	pg_settings_save(&w->settings);
}

static void act_dark(GSimpleAction *a, GVariant *p, gpointer ud)
{
	struct pg_window *w = ud;
	gboolean dark = gtk_widget_has_css_class(GTK_WIDGET(w->win), "pier-dark");

	(void)a;
	(void)p;
	pg_window_set_look(w, w->settings.colours, dark ? PG_STYLE_LIGHT : PG_STYLE_DARK);
	pg_settings_save(&w->settings);
}

static void act_logout(GSimpleAction *a, GVariant *p, gpointer ud)
{
	struct pg_window *w = ud;

	(void)a;
	(void)p;
	pg_session_logout(w->session);
	pg_msgview_show(w->view, NULL);
	g_clear_pointer(&w->active, g_free);
	pg_login_set_status(w->login, NULL, false);
}

static void act_part(GSimpleAction *a, GVariant *p, gpointer ud)
{
	struct pg_window *w = ud;

	(void)a;
	(void)p;
	if (w->active != NULL && w->active[0] == '#' && g_ascii_strcasecmp(w->active, "#lobby") != 0)
		pg_session_part(w->session, w->active);
}

static void act_open(GSimpleAction *a, GVariant *p, gpointer ud)
{
	(void)a;
	pg_window_open(ud, g_variant_get_string(p, NULL));
}

static void act_e2ee_devices(GSimpleAction *a, GVariant *p, gpointer ud)
{
	(void)a;
	(void)p;
	pg_e2ee_ui_show_devices(((struct pg_window *)ud)->e2ee_ui);
}

static void act_e2ee_safety(GSimpleAction *a, GVariant *p, gpointer ud)
{
	(void)a;
	(void)p;
	pg_e2ee_ui_show_safety(((struct pg_window *)ud)->e2ee_ui);
}

static void leave_mode(struct pg_window *w);

/* The edit mode in an encrypted private chat: the edit of an encrypted message goes
 * encrypted (the server cannot edit what it cannot read). Replies need nothing here: they go
 * through the outbox, which encrypts private ones. True when the line was taken. */
static bool e2ee_mode_submit(struct pg_window *w, const char *line)
{
	struct pg_e2ee *e = pg_session_e2ee(w->session);
	PgMsgStore *st;
	PgMsg *msg;

	if (w->edit_id <= 0 || !pg_e2ee_private(e, w->mode_with))
		return false;
	st = pg_session_store(w->session, w->mode_with);
	msg = st != NULL ? pg_msg_store_find(st, w->edit_id, NULL) : NULL;
	if (msg == NULL || !msg->encrypted)
		return false;          /* a plaintext message from before: edited as such */
	if (pg_session_state(w->session) != PG_SESSION_ONLINE) {
		show_notice(w, _("Offline: try again when connected."));
		pg_composer_set_text(w->composer, line);
		return true;
	}
	pg_e2ee_send_change(e, w->mode_with, line, 0, w->edit_id);
	leave_mode(w);
	return true;
}
static void act_search(GSimpleAction *a, GVariant *p, gpointer ud);

static const GActionEntry actions[] = {
	{ .name = "switcher", .activate = act_switcher },
	{ .name = "next-conversation", .activate = act_next },
	{ .name = "prev-conversation", .activate = act_prev },
	{ .name = "toggle-colours", .activate = act_colours },
	{ .name = "toggle-dark", .activate = act_dark },
	{ .name = "logout", .activate = act_logout },
	{ .name = "part", .activate = act_part },
	{ .name = "open", .activate = act_open, .parameter_type = "s" },
	{ .name = "e2ee-devices", .activate = act_e2ee_devices },
	{ .name = "e2ee-safety", .activate = act_e2ee_safety },
	{ .name = "search", .activate = act_search },
};

static void add_shortcut(GtkShortcutController *sc, const char *accel, const char *action)
{
	gtk_shortcut_controller_add_shortcut(sc, gtk_shortcut_new(
		gtk_shortcut_trigger_parse_string(accel), gtk_named_action_new(action)));
}

/* ---- building ---- */

static GtkWidget *header_bar(struct pg_window *w)
{
	GtkWidget *bar = gtk_header_bar_new(), *menu_button;
	GMenu *menu = g_menu_new();

	(void)w;
	g_menu_append(menu, _("Go to conversation (Ctrl+K)"), "win.switcher");
	g_menu_append(menu, _("Search messages (Ctrl+F)"), "win.search");
	g_menu_append(menu, _("Leave this room"), "win.part");
	g_menu_append(menu, _("Devices and encryption"), "win.e2ee-devices");
	g_menu_append(menu, _("Safety number of this private chat"), "win.e2ee-safety");
	g_menu_append(menu, _("Group red, private black"), "win.toggle-colours");
	g_menu_append(menu, _("Dark style"), "win.toggle-dark");
	g_menu_append(menu, _("Log out"), "win.logout");
	menu_button = gtk_menu_button_new();
	gtk_widget_set_name(menu_button, "main-menu");
	gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(menu_button), "open-menu-symbolic");
	gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(menu_button), G_MENU_MODEL(menu));
	gtk_accessible_update_property(GTK_ACCESSIBLE(menu_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Main menu"), -1);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), menu_button);
	g_object_unref(menu);
	return bar;
}

static void sidebar_open(void *ud, const char *with)
{
	pg_window_open(ud, with);
}

static void sidebar_join(void *ud, const char *room)
{
	pg_session_join(((struct pg_window *)ud)->session, room);
}

static GtkWidget *chat_page(struct pg_window *w)
{
	static const struct pg_sidebar_ops sidebar_ops = {
		.open = sidebar_open,
		.join = sidebar_join,
	};
	static const struct pg_composer_ops composer_ops = {
		.submit = on_submit,
		.attach = on_attach,
		.escape = on_escape,
	};
	GtkWidget *paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
	GtkWidget *right = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	char *paste_dir = g_build_filename(w->settings.data_dir, "pasted", NULL);

	w->sidebar = pg_sidebar_new(w->session, &sidebar_ops, w);
	w->view = pg_msgview_new(w->session, w->media);
	w->composer = pg_composer_new(&composer_ops, w, paste_dir);
	g_free(paste_dir);
	w->title = gtk_label_new(NULL);
	gtk_widget_set_name(w->title, "conv-title");
	gtk_widget_add_css_class(w->title, "conv-title");
	gtk_label_set_xalign(GTK_LABEL(w->title), 0);
	w->banner = gtk_label_new(_("Offline: reconnecting… Messages you send now go out once "
	                            "connected."));
	gtk_widget_set_name(w->banner, "offline-banner");
	gtk_widget_add_css_class(w->banner, "offline-banner");
	gtk_widget_set_visible(w->banner, FALSE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(w->banner), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Connection state"), -1);
	w->notice = gtk_label_new(NULL);
	gtk_widget_set_name(w->notice, "notice");
	gtk_widget_add_css_class(w->notice, "notice");
	gtk_label_set_wrap(GTK_LABEL(w->notice), TRUE);
	gtk_widget_set_visible(w->notice, FALSE);
	gtk_box_append(GTK_BOX(right), w->banner);
	gtk_box_append(GTK_BOX(right), pg_e2ee_ui_banner(w->e2ee_ui));
	{
		GtkWidget *head = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

		gtk_widget_set_hexpand(w->title, TRUE);
		w->members = pg_members_button_new(w->session);
		gtk_widget_set_margin_end(w->members, 8);
		gtk_widget_set_valign(w->members, GTK_ALIGN_CENTER);
		gtk_widget_set_margin_start(pg_e2ee_ui_lock(w->e2ee_ui), 12);
		gtk_box_append(GTK_BOX(head), pg_e2ee_ui_lock(w->e2ee_ui));
		gtk_box_append(GTK_BOX(head), w->title);
		gtk_box_append(GTK_BOX(head), w->members);
		gtk_box_append(GTK_BOX(right), head);
	}
	gtk_box_append(GTK_BOX(right), pg_msgview_widget(w->view));
	chat_features_new(w, right);
	gtk_box_append(GTK_BOX(right), w->notice);
	gtk_box_append(GTK_BOX(right), pg_composer_widget(w->composer));
	gtk_paned_set_start_child(GTK_PANED(paned), pg_sidebar_widget(w->sidebar));
	gtk_paned_set_end_child(GTK_PANED(paned), right);
	gtk_paned_set_resize_start_child(GTK_PANED(paned), FALSE);
	gtk_paned_set_shrink_start_child(GTK_PANED(paned), FALSE);
	gtk_paned_set_position(GTK_PANED(paned), 240);
	return paned;
}

static void window_free(gpointer p)
{
	struct pg_window *w = p;

	if (w->notice_timer != 0)
		g_source_remove(w->notice_timer);
	if (w->upload != NULL)
		g_cancellable_cancel(w->upload);
	g_clear_object(&w->upload);
	if (w->upload_ctx != NULL) {
		w->upload_ctx->w = NULL;
		upload_ctx_unref(w->upload_ctx);
	}
	g_free(w->upload_to);
	pg_e2ee_ui_free(w->e2ee_ui);
	pg_session_set_media(w->session, NULL);
	/* The session first: its requests in flight end (with no reply) before what waits for
	 * them goes. */
	pg_session_free(w->session);
	chat_features_free(w);
	pg_media_free(w->media);
	pg_settings_release(&w->settings);
	g_free(w->active);
	g_free(w->last_notice);
	g_free(w);
}

GtkWindow *pg_window_new(GtkApplication *app, struct pg_settings *settings)
{
	static const struct pg_login_ops login_ops = { .submit = on_login_submit };
	struct pg_window *w = g_new0(struct pg_window, 1);
	struct pg_session_config cfg;
	GtkShortcutController *sc;
	GSimpleActionGroup *group;

	install_css();
	w->settings = *settings;
	memset(settings, 0, sizeof *settings);
	w->win = GTK_WINDOW(gtk_application_window_new(app));
	gtk_window_set_title(w->win, _("pier chat"));
	gtk_window_set_default_size(w->win, 960, 640);
	gtk_window_set_icon_name(w->win, "pier-gtk");
	gtk_window_set_titlebar(w->win, header_bar(w));
	session_config(&w->settings, &cfg);
	w->session = pg_session_new(&cfg, &session_ops, w);
	w->media = pg_media_new(w->session);
	w->e2ee_ui = pg_e2ee_ui_new(w->win, w->session);
	pg_session_set_media(w->session, w->media);
	w->login = pg_login_new(&w->settings, &login_ops, w);
	w->stack = gtk_stack_new();
	gtk_widget_set_name(w->stack, "main-stack");
	gtk_stack_add_named(GTK_STACK(w->stack), pg_login_widget(w->login), "login");
	gtk_stack_add_named(GTK_STACK(w->stack), chat_page(w), "chat");
	gtk_stack_set_visible_child_name(GTK_STACK(w->stack), "login");
	gtk_window_set_child(w->win, w->stack);
	g_object_set_data_full(G_OBJECT(w->win), "pg-window", w, window_free);

	group = g_simple_action_group_new();
	g_action_map_add_action_entries(G_ACTION_MAP(group), actions, G_N_ELEMENTS(actions), w);
	gtk_widget_insert_action_group(GTK_WIDGET(w->win), "win", G_ACTION_GROUP(group));
	g_object_unref(group);
	sc = GTK_SHORTCUT_CONTROLLER(gtk_shortcut_controller_new());
	gtk_shortcut_controller_set_scope(sc, GTK_SHORTCUT_SCOPE_GLOBAL);
	add_shortcut(sc, "<Control>k", "win.switcher");
	add_shortcut(sc, "<Alt>Down", "win.next-conversation");
	add_shortcut(sc, "<Alt>Up", "win.prev-conversation");
	add_shortcut(sc, "<Control>f", "win.search");
	gtk_widget_add_controller(GTK_WIDGET(w->win), GTK_EVENT_CONTROLLER(sc));
	g_signal_connect(w->win, "notify::is-active", G_CALLBACK(on_active_changed), w);
	pg_window_set_look(w, w->settings.colours, w->settings.style);

	if (pg_session_resume(w->session))
		pg_login_set_status(w->login, _("Logging in…"), true);
	else
		pg_login_focus(w->login);
	return w->win;
}

gboolean pg_window_screenshot(GtkWidget *widget, const char *path)
{
	GdkPaintable *paintable = gtk_widget_paintable_new(widget);
	int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
	GtkSnapshot *snap = gtk_snapshot_new();
	GskRenderNode *node;
	GskRenderer *renderer;
	GdkTexture *tex = NULL;
	gboolean ok = FALSE;

	gdk_paintable_snapshot(paintable, GDK_SNAPSHOT(snap), width, height);
	node = gtk_snapshot_free_to_node(snap);
	renderer = gtk_native_get_renderer(gtk_widget_get_native(widget));
	if (node != NULL && renderer != NULL) {
		tex = gsk_renderer_render_texture(renderer, node,
		                                  &GRAPHENE_RECT_INIT(0, 0, (float)width, (float)height));
		ok = tex != NULL && gdk_texture_save_to_png(tex, path);
	}
	g_clear_object(&tex);
	if (node != NULL)
		gsk_render_node_unref(node);
	g_object_unref(paintable);
	return ok;
}

/* ---- the chat features: message actions, edit and reply, typing, search ---- */

struct pg_msgactions *pg_window_actions(struct pg_window *w)
{
	return w->actions;
}

struct pg_typing *pg_window_typing(struct pg_window *w)
{
	return w->typing;
}

struct pg_search *pg_window_search(struct pg_window *w)
{
	return w->search;
}

struct pg_msgview *pg_window_view(struct pg_window *w)
{
	return w->view;
}

void pg_window_composer_send(struct pg_window *w)
{
	pg_composer_send(w->composer);
}

static void leave_mode(struct pg_window *w)
{
	w->edit_id = 0;
	w->reply_id = 0;
	g_clear_pointer(&w->mode_with, g_free);
	pg_composer_set_mode(w->composer, NULL);
}

/* The conversation msg is in, as the sidebar names it. */
static char *conversation_of(struct pg_window *w, const PgMsg *msg)
{
	const char *me = pg_session_user(w->session);

	if (msg->to[0] == '@' && me != NULL && g_ascii_strcasecmp(msg->from, me) != 0)
		return g_strconcat("@", msg->from, NULL);
	return g_strdup(msg->to);
}

static void actions_notice(void *ud, const char *text)
{
	show_notice(ud, text);
}

static void actions_edit(void *ud, PgMsg *msg)
{
	struct pg_window *w = ud;

	leave_mode(w);
	w->edit_id = msg->id;
	w->mode_with = conversation_of(w, msg);
	pg_composer_set_text(w->composer, msg->text);
	pg_composer_set_mode(w->composer, _("Editing a message · Enter saves, Esc cancels"));
}

static void actions_reply(void *ud, PgMsg *msg)
{
	struct pg_window *w = ud;
	char *banner, *start = g_utf8_substring(msg->text, 0, MIN(g_utf8_strlen(msg->text, -1), 60));

	leave_mode(w);
	w->reply_id = msg->id;
	w->mode_with = conversation_of(w, msg);
	banner = g_strdup_printf(_("Replying to %s: %s · Esc cancels"), msg->from, start);
	pg_composer_set_mode(w->composer, banner);
	g_free(banner);
	g_free(start);
}

static void search_open(void *ud, const char *with, int64_t id);

static void actions_jump(void *ud, const char *with, int64_t id)
{
	search_open(ud, with, id);
}

static void act_search(GSimpleAction *a, GVariant *p, gpointer ud)
{
	struct pg_window *w = ud;

	(void)a;
	(void)p;
	if (pg_session_state(w->session) == PG_SESSION_ONLINE ||
	    pg_session_state(w->session) == PG_SESSION_OFFLINE)
		pg_search_show(w->search, w->active);
}

static void chat_features_new(struct pg_window *w, GtkWidget *right)
{
	static const struct pg_msgactions_ops actions_ops = {
		.notice = actions_notice,
		.edit = actions_edit,
		.reply = actions_reply,
		.jump = actions_jump,
	};

	w->actions = pg_msgactions_new(w->session, &actions_ops, w);
	pg_msgview_set_actions(w->view, w->actions);
	pg_composer_take_drops(w->composer, pg_msgview_drop_area(w->view));
	w->typing = pg_typing_new(w->session, pg_composer_text_view(w->composer));
	gtk_box_append(GTK_BOX(right), pg_typing_widget(w->typing));
	w->search = pg_search_new(w->session, w->win, search_open, w);
}

static void chat_features_free(struct pg_window *w)
{
	pg_msgactions_free(w->actions);
	pg_typing_free(w->typing);
	pg_search_free(w->search);
	g_free(w->mode_with);
}

static void chat_features_open(struct pg_window *w, const char *with)
{
	if (w->mode_with != NULL && g_ascii_strcasecmp(w->mode_with, with) != 0) {
		leave_mode(w);
		pg_composer_set_text(w->composer, "");
	}
	pg_typing_set_active(w->typing, with);
}

static void chat_features_escape(struct pg_window *w)
{
	leave_mode(w);
}

/* Enter in a mode: the edit saved, or the reply sent. True when the line was taken. */
static bool chat_features_submit(struct pg_window *w, const char *line)
{
	bool ok = true;

	if (e2ee_mode_submit(w, line))
		return true;
	if (w->edit_id > 0) {
		ok = pg_msgactions_edit(w->actions, w->mode_with, w->edit_id, line);
	} else if (w->reply_id > 0) {
		/* through the outbox, as every message: offline it waits */
		if (pg_session_send_reply(w->session, w->mode_with, line, w->reply_id) != 0) {
			show_notice(w, _("Too many messages wait to be sent."));
			pg_composer_set_text(w->composer, line);
			return true;
		}
	} else {
		return false;
	}
	if (!ok) {
		/* an edit offline: the text stays, and the mode */
		show_notice(w, _("Offline: try again when connected."));
		pg_composer_set_text(w->composer, line);
		return true;
	}
	leave_mode(w);
	return true;
}

struct jump {
	struct pg_window *w;
	int64_t id;
};

static gboolean jump_later(gpointer data)
{
	struct jump *j = data;

	pg_msgview_scroll_to_id(j->w->view, j->id);
	g_free(j);
	return G_SOURCE_REMOVE;
}

static void on_around_loaded(json_t *reply, void *ud)
{
	struct jump *j = ud;

	if (reply == NULL) {
		g_free(j);
		return;
	}
	/* After the list view took the new page in. */
	g_idle_add_full(G_PRIORITY_LOW, jump_later, j, NULL);
}

static void search_open(void *ud, const char *with, int64_t id)
{
	struct pg_window *w = ud;
	struct jump *j;

	pg_window_open(w, with);
	gtk_window_present(w->win);
	if (pg_msgview_scroll_to_id(w->view, id))
		return;
	j = g_new0(struct jump, 1);
	j->w = w;
	j->id = id;
	if (!pg_session_load_around(w->session, with, id, on_around_loaded, j))
		g_free(j);
}
