/* pg_e2ee_ui.c - the banner, the lock, the devices and safety number windows of end-to-end
 * encryption in pier-gtk (see pg_e2ee_ui.h). Everything is rebuilt from pg_e2ee's state when
 * it says something changed. */
#include "pg_e2ee_ui.h"

#include <stdlib.h>
#include <string.h>

#include "pg_e2ee.h"
#include "pg_i18n.h"
#include "pg_session.h"

struct pg_e2ee_ui {
	GtkWindow *win;
	struct pg_session *session;
	struct pg_e2ee *e2ee;
	GtkWidget *banner, *banner_text, *banner_button, *lock;
	GtkWidget *devices, *device_list, *code_entry, *reset_button, *devices_status;
	GtkWidget *safety, *safety_number, *safety_status, *verify;
	char *active;                   /* the conversation shown */
	char *safety_user;              /* the safety window's contact */
	char *devices_shown;            /* the rows shown (JSON), rebuilt only when they change:
	                                 * a name being typed or a click stays */
	bool updating;                  /* the verify toggle is set by the code, not the user */
};

static void set_label(GtkWidget *w, const char *text)
{
	gtk_accessible_update_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

/* ---- the banner and the lock ---- */

static void update_banner(struct pg_e2ee_ui *ui)
{
	enum pg_e2ee_state st = pg_e2ee_state(ui->e2ee);
	unsigned pending = pg_e2ee_pending_count(ui->e2ee);
	char code[10], *text = NULL;
	bool button = false;

	if (st == PG_E2EE_PENDING && pg_e2ee_code(ui->e2ee, code)) {
		text = g_strdup_printf(_("New device: its code is %s. Approve it on one of your other "
		                         "devices (Devices and encryption) after checking that the "
		                         "code is the same there."), code);
	} else if (st == PG_E2EE_REVOKED) {
		text = g_strdup(_("This device was removed from your account: log in again to set it "
		                  "up as a new device."));
	} else if (st == PG_E2EE_ACTIVE && pending > 0) {
		text = g_strdup_printf(ngettext("%u new device of yours waits for approval.",
		                                   "%u new devices of yours wait for approval.",
		                                   pending), pending);
		button = true;
	} else if (ui->active != NULL && ui->active[0] == '@' &&
	           pg_e2ee_safety_changed(ui->e2ee, ui->active)) {
		text = g_strdup_printf(_("%s's safety number changed: compare it again."),
		                       ui->active + 1);
	}
	gtk_widget_set_visible(ui->banner, text != NULL);
	gtk_widget_set_visible(ui->banner_button, button);
	gtk_label_set_text(GTK_LABEL(ui->banner_text), text != NULL ? text : "");
	g_free(text);
}

static void update_lock(struct pg_e2ee_ui *ui)
{
	bool on = ui->active != NULL && ui->active[0] == '@' &&
	          pg_e2ee_state(ui->e2ee) == PG_E2EE_ACTIVE;

	gtk_widget_set_visible(ui->lock, on);
}

/* Esc closes a window of these (keyboard-only use). */
static void close_on_escape(GtkWidget *win)
{
	GtkEventController *sc = gtk_shortcut_controller_new();

	gtk_shortcut_controller_add_shortcut(GTK_SHORTCUT_CONTROLLER(sc), gtk_shortcut_new(
		gtk_keyval_trigger_new(GDK_KEY_Escape, 0), gtk_named_action_new("window.close")));
	gtk_widget_add_controller(win, sc);
}

/* ---- the devices window ---- */

static void clear_box(GtkWidget *box)
{
	GtkWidget *c;

	while ((c = gtk_widget_get_first_child(box)) != NULL)
		gtk_box_remove(GTK_BOX(box), c);
}

static void on_approve_row(GtkButton *b, gpointer data)
{
	struct pg_e2ee_ui *ui = data;

	pg_e2ee_approve(ui->e2ee, g_object_get_data(G_OBJECT(b), "pg-code"));
}

static void on_remove_row(GtkButton *b, gpointer data)
{
	struct pg_e2ee_ui *ui = data;

	pg_e2ee_remove(ui->e2ee, g_object_get_data(G_OBJECT(b), "pg-id"));
}

static void on_rename_row(GtkEntry *entry, gpointer data)
{
	struct pg_e2ee_ui *ui = data;
	const char *name = gtk_editable_get_text(GTK_EDITABLE(entry));

	if (name[0] != '\0')
		pg_e2ee_rename(ui->e2ee, g_object_get_data(G_OBJECT(entry), "pg-id"), name);
}

static GtkWidget *device_row(struct pg_e2ee_ui *ui, const json_t *d, bool can_change)
{
	const char *id = json_string_value(json_object_get(d, "id"));
	const char *name = json_string_value(json_object_get(d, "name"));
	const char *state = json_string_value(json_object_get(d, "state"));
	const char *code = json_string_value(json_object_get(d, "code"));
	bool self = json_is_true(json_object_get(d, "this"));
	bool pending = g_strcmp0(state, "pending") == 0;
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *info = gtk_label_new(NULL), *b;
	char *text;

	gtk_widget_set_name(row, "device-row");
	text = g_strdup_printf("%s%s\n%s · %s%s%s",
	                       name != NULL && name[0] != '\0' ? name : _("(no name)"),
	                       self ? _(" (this device)") : "",
	                       pending ? _("waiting for approval") : _("approved"), id,
	                       code != NULL ? _(" · code ") : "", code != NULL ? code : "");
	gtk_label_set_text(GTK_LABEL(info), text);
	gtk_label_set_xalign(GTK_LABEL(info), 0);
	gtk_label_set_selectable(GTK_LABEL(info), TRUE);
	gtk_widget_set_name(info, "device-info");
	gtk_widget_set_hexpand(info, TRUE);
	gtk_box_append(GTK_BOX(row), info);
	g_free(text);
	if (pending && code != NULL && can_change) {
		b = gtk_button_new_with_label(_("Approve"));
		gtk_widget_set_name(b, "device-approve");
		text = g_strdup_printf(_("Approve device %s (code %s)"), name != NULL ? name : id, code);
		set_label(b, text);
		g_free(text);
		g_object_set_data_full(G_OBJECT(b), "pg-code", g_strdup(code), g_free);
		g_signal_connect(b, "clicked", G_CALLBACK(on_approve_row), ui);
		gtk_box_append(GTK_BOX(row), b);
	}
	if (!pending && can_change) {
		GtkWidget *entry = gtk_entry_new();

		gtk_widget_set_name(entry, "device-rename");
		gtk_entry_set_placeholder_text(GTK_ENTRY(entry), _("New name, Enter"));
		gtk_entry_set_max_length(GTK_ENTRY(entry), 64);
		text = g_strdup_printf(_("Rename device %s"), name != NULL ? name : id);
		set_label(entry, text);
		g_free(text);
		g_object_set_data_full(G_OBJECT(entry), "pg-id", g_strdup(id), g_free);
		g_signal_connect(entry, "activate", G_CALLBACK(on_rename_row), ui);
		gtk_box_append(GTK_BOX(row), entry);
	}
	if (!self && can_change) {
		b = gtk_button_new_with_label(_("Remove"));
		gtk_widget_set_name(b, "device-remove");
		gtk_widget_add_css_class(b, "destructive-action");
		text = g_strdup_printf(_("Remove device %s"), name != NULL ? name : id);
		set_label(b, text);
		g_free(text);
		g_object_set_data_full(G_OBJECT(b), "pg-id", g_strdup(id), g_free);
		g_signal_connect(b, "clicked", G_CALLBACK(on_remove_row), ui);
		gtk_box_append(GTK_BOX(row), b);
	}
	return row;
}

static void update_devices(struct pg_e2ee_ui *ui)
{
	json_t *devs, *d;
	size_t i;
	enum pg_e2ee_state st = pg_e2ee_state(ui->e2ee);
	bool active = st == PG_E2EE_ACTIVE;
	char code[10], *text;

	if (ui->devices == NULL)
		return;
	devs = pg_e2ee_devices(ui->e2ee);
	json_array_append_new(devs, json_boolean(active));
	text = json_dumps(devs, JSON_COMPACT | JSON_SORT_KEYS);
	json_array_remove(devs, json_array_size(devs) - 1);
	if (g_strcmp0(text, ui->devices_shown) != 0) {
		clear_box(ui->device_list);
		json_array_foreach(devs, i, d)
			gtk_box_append(GTK_BOX(ui->device_list), device_row(ui, d, active));
		g_free(ui->devices_shown);
		ui->devices_shown = g_strdup(text);
	}
	free(text);
	json_decref(devs);
	if (st == PG_E2EE_PENDING && pg_e2ee_code(ui->e2ee, code))
		text = g_strdup_printf(_("This device (%s) waits for approval. Its code: %s"),
		                       pg_e2ee_device_name(ui->e2ee), code);
	else if (active)
		text = g_strdup_printf(_("End-to-end encryption is on: this device (%s) is approved."),
		                       pg_e2ee_device_name(ui->e2ee));
	else if (st == PG_E2EE_SETTING_UP)
		text = g_strdup(_("Setting up this device…"));
	else
		text = g_strdup(_("End-to-end encryption is off on this device."));
	gtk_label_set_text(GTK_LABEL(ui->devices_status), text);
	g_free(text);
	gtk_widget_set_sensitive(ui->code_entry, active);
	gtk_widget_set_visible(ui->reset_button, st == PG_E2EE_PENDING);
}

static void on_code_activate(GtkWidget *w, gpointer data)
{
	struct pg_e2ee_ui *ui = data;

	(void)w;
	if (pg_e2ee_approve(ui->e2ee, gtk_editable_get_text(GTK_EDITABLE(ui->code_entry))))
		gtk_editable_set_text(GTK_EDITABLE(ui->code_entry), "");
}

static void on_reset_response(GtkDialog *dlg, int response, gpointer data)
{
	struct pg_e2ee_ui *ui = data;

	if (response == GTK_RESPONSE_ACCEPT)
		pg_e2ee_reset(ui->e2ee);
	gtk_window_destroy(GTK_WINDOW(dlg));
}

/* GTK 4.8 (Debian 12) has no GtkAlertDialog: a message dialog it is. */
static void on_reset(GtkButton *b, gpointer data)
{
	struct pg_e2ee_ui *ui = data;
	GtkWidget *dlg = gtk_message_dialog_new(GTK_WINDOW(ui->devices), GTK_DIALOG_MODAL,
	                                        GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE, "%s",
	                                        _("Start a new identity?"));

	(void)b;
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dlg), "%s",
		_("Your other devices stop working and your contacts see that your safety number "
		  "changed. Only for when every other device of yours is lost; it needs a login with "
		  "the password."));
	gtk_widget_set_name(dlg, "reset-dialog");
	gtk_dialog_add_button(GTK_DIALOG(dlg), _("Cancel"), GTK_RESPONSE_CANCEL);
	gtk_dialog_add_button(GTK_DIALOG(dlg), _("Reset"), GTK_RESPONSE_ACCEPT);
	g_signal_connect(dlg, "response", G_CALLBACK(on_reset_response), ui);
	gtk_window_present(GTK_WINDOW(dlg));
}

static void on_devices_destroy(GtkWidget *w, gpointer data)
{
	struct pg_e2ee_ui *ui = data;

	(void)w;
	ui->devices = NULL;
	g_clear_pointer(&ui->devices_shown, g_free);
}

void pg_e2ee_ui_show_devices(struct pg_e2ee_ui *ui)
{
	GtkWidget *box, *scroll, *row, *b;

	if (ui->devices != NULL) {
		gtk_window_present(GTK_WINDOW(ui->devices));
		pg_e2ee_refresh(ui->e2ee);
		return;
	}
	ui->devices = gtk_window_new();
	gtk_widget_set_name(ui->devices, "e2ee-devices");
	gtk_window_set_title(GTK_WINDOW(ui->devices), _("Devices and encryption"));
	gtk_window_set_transient_for(GTK_WINDOW(ui->devices), ui->win);
	gtk_window_set_default_size(GTK_WINDOW(ui->devices), 640, 420);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 12);
	ui->devices_status = gtk_label_new(NULL);
	gtk_widget_set_name(ui->devices_status, "devices-status");
	gtk_label_set_wrap(GTK_LABEL(ui->devices_status), TRUE);
	gtk_label_set_xalign(GTK_LABEL(ui->devices_status), 0);
	gtk_box_append(GTK_BOX(box), ui->devices_status);
	ui->device_list = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_widget_set_name(ui->device_list, "device-list");
	set_label(ui->device_list, _("Your devices"));
	scroll = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), ui->device_list);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_box_append(GTK_BOX(box), scroll);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	ui->code_entry = gtk_entry_new();
	gtk_widget_set_name(ui->code_entry, "approve-code");
	gtk_entry_set_placeholder_text(GTK_ENTRY(ui->code_entry), _("Code the new device shows"));
	gtk_entry_set_max_length(GTK_ENTRY(ui->code_entry), 12);
	gtk_widget_set_hexpand(ui->code_entry, TRUE);
	set_label(ui->code_entry, _("Code of the device to approve"));
	g_signal_connect(ui->code_entry, "activate", G_CALLBACK(on_code_activate), ui);
	b = gtk_button_new_with_label(_("Approve"));
	gtk_widget_set_name(b, "approve-button");
	set_label(b, _("Approve the device with this code"));
	g_signal_connect(b, "clicked", G_CALLBACK(on_code_activate), ui);
	gtk_box_append(GTK_BOX(row), ui->code_entry);
	gtk_box_append(GTK_BOX(row), b);
	gtk_box_append(GTK_BOX(box), row);
	ui->reset_button = gtk_button_new_with_label(_("Reset identity…"));
	gtk_widget_set_name(ui->reset_button, "reset-button");
	gtk_widget_add_css_class(ui->reset_button, "destructive-action");
	set_label(ui->reset_button, _("Reset identity: for when every other device is lost"));
	g_signal_connect(ui->reset_button, "clicked", G_CALLBACK(on_reset), ui);
	gtk_box_append(GTK_BOX(box), ui->reset_button);
	gtk_window_set_child(GTK_WINDOW(ui->devices), box);
	g_signal_connect(ui->devices, "destroy", G_CALLBACK(on_devices_destroy), ui);
	close_on_escape(ui->devices);
	update_devices(ui);
	gtk_window_set_focus(GTK_WINDOW(ui->devices), ui->code_entry);
	gtk_window_present(GTK_WINDOW(ui->devices));
	pg_e2ee_refresh(ui->e2ee);
}

/* ---- the safety number window ---- */

static void update_safety(struct pg_e2ee_ui *ui)
{
	char number[80], *text;
	bool verified = false, known;

	if (ui->safety == NULL)
		return;
	known = pg_e2ee_safety(ui->e2ee, ui->safety_user, number, &verified);
	if (known) {
		/* 12 groups of 5 on three lines, as one reads them out */
		GString *s = g_string_new(NULL);
		char **groups = g_strsplit(number, " ", -1);

		for (int i = 0; groups[i] != NULL; i++)
			g_string_append_printf(s, "%s%s", groups[i], i % 4 == 3 ? "\n" : "  ");
		g_strfreev(groups);
		gtk_label_set_text(GTK_LABEL(ui->safety_number), g_strchomp(s->str));
		g_string_free(s, TRUE);
	} else {
		gtk_label_set_text(GTK_LABEL(ui->safety_number), "");
	}
	if (!known)
		text = g_strdup_printf(_("No safety number with %s: they have no device yet (or this "
		                         "device is not approved)."), ui->safety_user);
	else if (verified)
		text = g_strdup_printf(_("%s is verified."), ui->safety_user);
	else
		text = g_strdup_printf(_("Compare these digits with %s's screen, in person or on a call. "
		                         "When they match, mark them verified."), ui->safety_user);
	gtk_label_set_text(GTK_LABEL(ui->safety_status), text);
	g_free(text);
	ui->updating = true;
	gtk_widget_set_sensitive(ui->verify, known);
	gtk_check_button_set_active(GTK_CHECK_BUTTON(ui->verify), verified);
	ui->updating = false;
}

static void on_verify_toggled(GtkCheckButton *b, gpointer data)
{
	struct pg_e2ee_ui *ui = data;

	if (!ui->updating)
		pg_e2ee_verify(ui->e2ee, ui->safety_user, gtk_check_button_get_active(b));
}

static void on_safety_destroy(GtkWidget *w, gpointer data)
{
	struct pg_e2ee_ui *ui = data;

	(void)w;
	ui->safety = NULL;
}

void pg_e2ee_ui_show_safety(struct pg_e2ee_ui *ui)
{
	GtkWidget *box, *title;
	char *text;

	if (ui->active == NULL || ui->active[0] != '@')
		return;
	if (ui->safety != NULL)
		gtk_window_destroy(GTK_WINDOW(ui->safety));
	g_free(ui->safety_user);
	ui->safety_user = g_strdup(ui->active + 1);
	ui->safety = gtk_window_new();
	gtk_widget_set_name(ui->safety, "e2ee-safety");
	text = g_strdup_printf(_("Safety number with %s"), ui->safety_user);
	gtk_window_set_title(GTK_WINDOW(ui->safety), text);
	gtk_window_set_transient_for(GTK_WINDOW(ui->safety), ui->win);
	gtk_window_set_default_size(GTK_WINDOW(ui->safety), 420, 260);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
	gtk_widget_set_margin_start(box, 16);
	gtk_widget_set_margin_end(box, 16);
	gtk_widget_set_margin_top(box, 16);
	gtk_widget_set_margin_bottom(box, 16);
	title = gtk_label_new(text);
	gtk_widget_add_css_class(title, "conv-title");
	gtk_box_append(GTK_BOX(box), title);
	g_free(text);
	ui->safety_number = gtk_label_new(NULL);
	gtk_widget_set_name(ui->safety_number, "safety-number");
	gtk_widget_add_css_class(ui->safety_number, "monospace");
	gtk_widget_add_css_class(ui->safety_number, "safety-number");
	gtk_label_set_selectable(GTK_LABEL(ui->safety_number), TRUE);
	set_label(ui->safety_number, _("Safety number"));
	gtk_box_append(GTK_BOX(box), ui->safety_number);
	ui->safety_status = gtk_label_new(NULL);
	gtk_widget_set_name(ui->safety_status, "safety-status");
	gtk_label_set_wrap(GTK_LABEL(ui->safety_status), TRUE);
	gtk_box_append(GTK_BOX(box), ui->safety_status);
	ui->verify = gtk_check_button_new_with_label(_("Verified: the numbers match"));
	gtk_widget_set_name(ui->verify, "verify-button");
	g_signal_connect(ui->verify, "toggled", G_CALLBACK(on_verify_toggled), ui);
	gtk_box_append(GTK_BOX(box), ui->verify);
	gtk_window_set_child(GTK_WINDOW(ui->safety), box);
	g_signal_connect(ui->safety, "destroy", G_CALLBACK(on_safety_destroy), ui);
	close_on_escape(ui->safety);
	update_safety(ui);
	pg_e2ee_safety_seen(ui->e2ee, ui->safety_user);
	/* the focus on the check box: a selectable label with the focus shows itself selected */
	gtk_window_set_focus(GTK_WINDOW(ui->safety), ui->verify);
	gtk_window_present(GTK_WINDOW(ui->safety));
	pg_e2ee_ask_safety(ui->e2ee, ui->safety_user);
}

/* ---- the whole ---- */

static void on_changed(void *ud)
{
	struct pg_e2ee_ui *ui = ud;

	update_banner(ui);
	update_lock(ui);
	update_devices(ui);
	update_safety(ui);
}

static void on_banner_button(GtkButton *b, gpointer data)
{
	(void)b;
	pg_e2ee_ui_show_devices(data);
}

struct pg_e2ee_ui *pg_e2ee_ui_new(GtkWindow *win, struct pg_session *session)
{
	struct pg_e2ee_ui *ui = g_new0(struct pg_e2ee_ui, 1);

	ui->win = win;
	ui->session = session;
	ui->e2ee = pg_session_e2ee(session);
	ui->banner = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	gtk_widget_set_name(ui->banner, "e2ee-banner");
	gtk_widget_add_css_class(ui->banner, "e2ee-banner");
	ui->banner_text = gtk_label_new(NULL);
	gtk_widget_set_name(ui->banner_text, "e2ee-banner-text");
	gtk_label_set_wrap(GTK_LABEL(ui->banner_text), TRUE);
	gtk_label_set_xalign(GTK_LABEL(ui->banner_text), 0);
	gtk_label_set_selectable(GTK_LABEL(ui->banner_text), TRUE);
	gtk_widget_set_hexpand(ui->banner_text, TRUE);
	set_label(ui->banner, _("End-to-end encryption"));
	ui->banner_button = gtk_button_new_with_label(_("Devices…"));
	gtk_widget_set_name(ui->banner_button, "e2ee-banner-button");
	g_signal_connect(ui->banner_button, "clicked", G_CALLBACK(on_banner_button), ui);
	gtk_box_append(GTK_BOX(ui->banner), ui->banner_text);
	gtk_box_append(GTK_BOX(ui->banner), ui->banner_button);
	gtk_widget_set_visible(ui->banner, FALSE);
	ui->lock = gtk_image_new_from_icon_name("channel-secure-symbolic");
	gtk_widget_set_name(ui->lock, "conv-lock");
	gtk_widget_set_tooltip_text(ui->lock, _("End-to-end encrypted conversation"));
	set_label(ui->lock, _("End-to-end encrypted conversation"));
	gtk_widget_set_visible(ui->lock, FALSE);
	pg_session_on_e2ee_changed(session, on_changed, ui);
	return ui;
}

void pg_e2ee_ui_free(struct pg_e2ee_ui *ui)
{
	if (ui == NULL)
		return;
	pg_session_on_e2ee_changed(ui->session, NULL, NULL);
	if (ui->devices != NULL)
		gtk_window_destroy(GTK_WINDOW(ui->devices));
	if (ui->safety != NULL)
		gtk_window_destroy(GTK_WINDOW(ui->safety));
	g_free(ui->active);
	g_free(ui->safety_user);
	g_free(ui->devices_shown);
	g_free(ui);
}

GtkWidget *pg_e2ee_ui_banner(struct pg_e2ee_ui *ui)
{
	return ui->banner;
}

GtkWidget *pg_e2ee_ui_lock(struct pg_e2ee_ui *ui)
{
	return ui->lock;
}

void pg_e2ee_ui_set_active(struct pg_e2ee_ui *ui, const char *with)
{
	g_free(ui->active);
	ui->active = g_strdup(with);
	update_banner(ui);
	update_lock(ui);
}
