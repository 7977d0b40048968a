/* pg_app.c - the application: options, the window, app actions (see pg_app.h). */
#include "pg_app.h"

#include "pg_i18n.h"
#include "pg_settings.h"
#include "pg_window.h"

/* Options given on the command line (NULL / -1: not given). */
struct options {
	char *host, *port, *http_port, *ca_file, *data_dir, *style;
	gboolean tls, no_colours;
};

static struct options *options_of(GApplication *app)
{
	struct options *o = g_object_get_data(G_OBJECT(app), "pg-options");

	if (o == NULL) {
		o = g_new0(struct options, 1);
		g_object_set_data(G_OBJECT(app), "pg-options", o);
	}
	return o;
}

static void replace(char **dst, const char *src)
{
	if (src != NULL) {
		g_free(*dst);
		*dst = g_strdup(src);
	}
}

static void activate(GApplication *app, gpointer data)
{
	struct options *o = options_of(app);
	struct pg_settings st;
	GtkWindow *win = pg_app_window(GTK_APPLICATION(app));

	(void)data;
	if (win != NULL) {
		gtk_window_present(win);
		return;
	}
	pg_settings_load(&st);
	replace(&st.host, o->host);
	if (o->tls) {
		st.tls = TRUE;
		replace(&st.port, "6697");
		replace(&st.http_port, "8443");
	}
	replace(&st.port, o->port);
	replace(&st.http_port, o->http_port);
	replace(&st.ca_file, o->ca_file);
	replace(&st.data_dir, o->data_dir);
	if (o->no_colours)
		st.colours = FALSE;
	if (o->style != NULL)
		st.style = g_strcmp0(o->style, "dark") == 0 ? PG_STYLE_DARK
		         : g_strcmp0(o->style, "light") == 0 ? PG_STYLE_LIGHT : PG_STYLE_SYSTEM;
	win = pg_window_new(GTK_APPLICATION(app), &st);
	gtk_window_present(win);
}

static void act_open(GSimpleAction *a, GVariant *p, gpointer data)
{
	GtkWindow *win = pg_app_window(data);

	(void)a;
	if (win == NULL)
		return;
	gtk_window_present(win);
	pg_window_open(pg_window_from(win), g_variant_get_string(p, NULL));
}

static void startup(GApplication *app, gpointer data)
{
	static const GActionEntry entries[] = {
		{ .name = "open-conversation", .activate = act_open, .parameter_type = "s" },
	};

	(void)data;
	g_action_map_add_action_entries(G_ACTION_MAP(app), entries, G_N_ELEMENTS(entries), app);
	gtk_window_set_default_icon_name("pier-gtk");
}

static void options_free(gpointer p)
{
	struct options *o = p;

	g_free(o->host);
	g_free(o->port);
	g_free(o->http_port);
	g_free(o->ca_file);
	g_free(o->data_dir);
	g_free(o->style);
	g_free(o);
}

GtkApplication *pg_app_new(void)
{
	GtkApplication *app = gtk_application_new("org.pier.Gtk", G_APPLICATION_NON_UNIQUE);
	struct options *o = g_new0(struct options, 1);
	const GOptionEntry entries[] = {
		{ "host", 0, 0, G_OPTION_ARG_STRING, &o->host, N_("Server host"), "HOST" },
		{ "port", 0, 0, G_OPTION_ARG_STRING, &o->port, N_("Server port (6666; TLS 6697)"),
		  "PORT" },
		{ "http-port", 0, 0, G_OPTION_ARG_STRING, &o->http_port,
		  N_("HTTP port for files (8080; TLS 8443)"), "PORT" },
		{ "tls", 0, 0, G_OPTION_ARG_NONE, &o->tls, N_("Use TLS"), NULL },
		{ "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &o->ca_file,
		  N_("Trust only this certificate (PEM)"), "FILE" },
		{ "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->data_dir,
		  N_("Where the session and files are kept"), "DIR" },
		{ "style", 0, 0, G_OPTION_ARG_STRING, &o->style, N_("light, dark or system"), "STYLE" },
		{ "no-colours", 0, 0, G_OPTION_ARG_NONE, &o->no_colours,
		  N_("Do not show group messages red and private ones black"), NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	g_object_set_data_full(G_OBJECT(app), "pg-options", o, options_free);
	g_application_add_main_option_entries(G_APPLICATION(app), entries);
	g_signal_connect(app, "startup", G_CALLBACK(startup), NULL);
	g_signal_connect(app, "activate", G_CALLBACK(activate), NULL);
	return app;
}

GtkWindow *pg_app_window(GtkApplication *app)
{
	GList *wins = gtk_application_get_windows(app);

	return wins != NULL ? GTK_WINDOW(wins->data) : NULL;
}
