/* pg_login.c - the login and register page (see pg_login.h). */
#include "pg_login.h"

#include <string.h>

#include "pg_i18n.h"

struct pg_login {
	struct pg_settings *settings;
	struct pg_login_ops ops;
	void *ud;
	GtkWidget *box, *user, *password, *server, *tls, *ca, *login, *reg, *status, *spinner;
};

static GtkWidget *labelled_entry(GtkWidget *grid, int row, const char *label, const char *name)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(label);
	GtkWidget *e = gtk_entry_new();

	gtk_widget_set_halign(l, GTK_ALIGN_END);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), e);
	gtk_widget_set_name(e, name);
	gtk_widget_set_hexpand(e, TRUE);
	gtk_accessible_update_relation(GTK_ACCESSIBLE(e), GTK_ACCESSIBLE_RELATION_LABELLED_BY, l,
	                               NULL, -1);
	gtk_grid_attach(GTK_GRID(grid), l, 0, row, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), e, 1, row, 1, 1);
	return e;
}

/* "host:port" (or "[v6]:port", or "host") into the settings. */
static void apply_server(struct pg_login *l)
{
	const char *text = gtk_editable_get_text(GTK_EDITABLE(l->server));
	const char *colon = strrchr(text, ':');
	const char *ca = gtk_editable_get_text(GTK_EDITABLE(l->ca));
	bool tls = gtk_check_button_get_active(GTK_CHECK_BUTTON(l->tls));

	if (text[0] == '\0')
		return;
	g_free(l->settings->host);
	g_free(l->settings->port);
	if (colon != NULL && strchr(colon, ']') == NULL && colon[1] != '\0') {
		l->settings->host = g_strndup(text, colon - text);
		l->settings->port = g_strdup(colon + 1);
	} else {
		l->settings->host = g_strdup(text);
		l->settings->port = g_strdup(tls ? "6697" : "6666");
	}
	g_strdelimit(l->settings->host, "[]", ' ');
	g_strstrip(l->settings->host);
	if (tls != l->settings->tls) {
		g_free(l->settings->http_port);
		l->settings->http_port = g_strdup(tls ? "8443" : "8080");
	}
	l->settings->tls = tls;
	g_free(l->settings->ca_file);
	l->settings->ca_file = ca[0] != '\0' ? g_strdup(ca) : NULL;
	pg_settings_save(l->settings);
}

static void submit(struct pg_login *l, bool reg)
{
	const char *user = gtk_editable_get_text(GTK_EDITABLE(l->user));
	const char *pw = gtk_editable_get_text(GTK_EDITABLE(l->password));

	if (user[0] == '\0' || pw[0] == '\0') {
		pg_login_set_status(l, _("Enter a user name and a password."), false);
		return;
	}
	apply_server(l);
	pg_login_set_status(l, reg ? _("Registering…") : _("Logging in…"), true);
	l->ops.submit(l->ud, user, pw, reg);
}

static void on_login(GtkWidget *w, gpointer data)
{
	(void)w;
	submit(data, false);
}

static void on_register(GtkWidget *w, gpointer data)
{
	(void)w;
	submit(data, true);
}

void pg_login_set_status(struct pg_login *l, const char *text, bool busy)
{
	gtk_label_set_text(GTK_LABEL(l->status), text != NULL ? text : "");
	gtk_widget_set_sensitive(l->login, !busy);
	gtk_widget_set_sensitive(l->reg, !busy);
	gtk_widget_set_visible(l->spinner, busy);
	gtk_spinner_set_spinning(GTK_SPINNER(l->spinner), busy);
}

void pg_login_focus(struct pg_login *l)
{
	gtk_widget_grab_focus(l->user);
}

struct pg_login *pg_login_new(struct pg_settings *settings, const struct pg_login_ops *ops,
                              void *ud)
{
	struct pg_login *l = g_new0(struct pg_login, 1);
	GtkWidget *grid = gtk_grid_new(), *title, *buttons;
	char *server;

	l->settings = settings;
	l->ops = *ops;
	l->ud = ud;
	l->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	gtk_widget_set_name(l->box, "login-page");
	gtk_widget_set_halign(l->box, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(l->box, GTK_ALIGN_CENTER);
	gtk_widget_set_size_request(l->box, 380, -1);
	title = gtk_label_new(_("pier chat"));
	gtk_widget_add_css_class(title, "title-1");
	gtk_grid_set_row_spacing(GTK_GRID(grid), 8);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
	l->user = labelled_entry(grid, 0, _("_User name"), "login-user");
	l->password = labelled_entry(grid, 1, _("_Password"), "login-password");
	gtk_entry_set_visibility(GTK_ENTRY(l->password), FALSE);
	gtk_entry_set_input_purpose(GTK_ENTRY(l->password), GTK_INPUT_PURPOSE_PASSWORD);
	l->server = labelled_entry(grid, 2, _("_Server"), "login-server");
	server = g_strdup_printf("%s:%s", settings->host, settings->port);
	gtk_editable_set_text(GTK_EDITABLE(l->server), server);
	g_free(server);
	l->tls = gtk_check_button_new_with_mnemonic(_("Use _TLS (certificate checked)"));
	gtk_widget_set_name(l->tls, "login-tls");
	gtk_check_button_set_active(GTK_CHECK_BUTTON(l->tls), settings->tls);
	gtk_grid_attach(GTK_GRID(grid), l->tls, 1, 3, 1, 1);
	l->ca = labelled_entry(grid, 4, _("Pinned _certificate"), "login-ca");
	gtk_entry_set_placeholder_text(GTK_ENTRY(l->ca), _("PEM file (optional)"));
	if (settings->ca_file != NULL)
		gtk_editable_set_text(GTK_EDITABLE(l->ca), settings->ca_file);
	buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	gtk_widget_set_halign(buttons, GTK_ALIGN_END);
	l->spinner = gtk_spinner_new();
	gtk_widget_set_visible(l->spinner, FALSE);
	l->reg = gtk_button_new_with_mnemonic(_("_Register"));
	gtk_widget_set_name(l->reg, "register-button");
	l->login = gtk_button_new_with_mnemonic(_("_Log in"));
	gtk_widget_set_name(l->login, "login-button");
	gtk_widget_add_css_class(l->login, "suggested-action");
	gtk_box_append(GTK_BOX(buttons), l->spinner);
	gtk_box_append(GTK_BOX(buttons), l->reg);
	gtk_box_append(GTK_BOX(buttons), l->login);
	l->status = gtk_label_new(NULL);
	gtk_widget_set_name(l->status, "login-status");
	gtk_label_set_wrap(GTK_LABEL(l->status), TRUE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(l->status), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Login status"), -1);
	g_signal_connect(l->login, "clicked", G_CALLBACK(on_login), l);
	g_signal_connect(l->reg, "clicked", G_CALLBACK(on_register), l);
	g_signal_connect(l->password, "activate", G_CALLBACK(on_login), l);
	g_signal_connect(l->user, "activate", G_CALLBACK(on_login), l);
	gtk_box_append(GTK_BOX(l->box), title);
	gtk_box_append(GTK_BOX(l->box), grid);
	gtk_box_append(GTK_BOX(l->box), buttons);
	gtk_box_append(GTK_BOX(l->box), l->status);
	g_object_set_data_full(G_OBJECT(l->box), "pg-login", l, g_free);
	return l;
}

GtkWidget *pg_login_widget(struct pg_login *l)
{
	return l->box;
}
