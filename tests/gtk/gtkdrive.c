/* gtkdrive.c - main loop, widget and window helpers for pier-gtk's tests (see gtkdrive.h). */
#include "gtkdrive.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"
#include "pg_i18n.h"
#include "tap.h"

char *gtkdrive_begin(const char *name)
{
	char *tmpl = g_strdup_printf("pier-gtk-%s-XXXXXX", name);
	char *tmp;

	setlocale(LC_ALL, "");
	pg_i18n_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	tmp = g_dir_make_tmp(tmpl, NULL);
	g_free(tmpl);
	g_setenv("XDG_CONFIG_HOME", tmp, TRUE);
	g_setenv("XDG_DATA_HOME", tmp, TRUE);
	return tmp;
}

char *gtkdrive_shots_dir(void)
{
	char *shots = g_strdup(getenv("PIER_SCREENSHOTS") != NULL ? getenv("PIER_SCREENSHOTS")
	                                                           : ".");

	g_mkdir_with_parents(shots, 0755);
	return shots;
}

bool gtkdrive_register(struct pierd *p, char *out, const char *prefix)
{
	struct pier_conn *c = client_connect(p);
	int st;

	harness_user(out, prefix);
	st = c != NULL ? client_register(c, out, HARNESS_PASSWORD) : HARNESS_NO_STATUS;
	if (c != NULL)
		pier_conn_close(c);
	return CHECK(st == PIER_REGISTER_OK, "%s registers", out);
}

void gtkdrive_fill_pierd(struct pg_settings *st, void *p)
{
	g_free(st->host);
	st->host = g_strdup("127.0.0.1");
	g_free(st->port);
	st->port = g_strdup(pierd_port_str(p));
	g_free(st->http_port);
	st->http_port = g_strdup_printf("%d", pierd_http_port(p));
}

void gtkdrive_spin(int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

	while (g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(500);
	}
}

bool gtkdrive_until(gtkdrive_cond cond, gconstpointer ud, int ms, const char *what)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

	while (!cond(ud)) {
		if (g_get_monotonic_time() > end)
			return CHECK(false, "timed out waiting for %s", what);
		g_main_context_iteration(NULL, FALSE);
		g_usleep(200);
	}
	return true;
}

struct session_cond {
	GtkWindow *win;
	enum pg_session_state st;
};

static struct pg_session *session_of(GtkWindow *win)
{
	return pg_window_session(pg_window_from(win));
}

static gboolean is_state(gconstpointer ud)
{
	const struct session_cond *c = ud;

	return pg_session_state(session_of(c->win)) == c->st;
}

static gboolean is_sent(gconstpointer ud)
{
	const struct session_cond *c = ud;

	return pg_session_state(session_of(c->win)) == PG_SESSION_ONLINE &&
	       pg_session_outbox_count(session_of(c->win)) == 0;
}

bool gtkdrive_until_state(GtkWindow *win, enum pg_session_state st, int ms, const char *what)
{
	struct session_cond c = { win, st };

	return gtkdrive_until(is_state, &c, ms, what);
}

bool gtkdrive_until_sent(GtkWindow *win, int ms, const char *what)
{
	struct session_cond c = { win, PG_SESSION_ONLINE };

	return gtkdrive_until(is_sent, &c, ms, what);
}

void gtkdrive_drain(struct pier_conn *c, json_t *into)
{
	json_t *ev;

	while ((ev = pier_conn_next(c, 0)) != NULL)
		json_array_append_new(into, ev);
}

GtkWidget *gtkdrive_need(GtkWidget *root, const char *name)
{
	GtkWidget *w = gtkdrive_find(root, name);

	CHECK(w != NULL, "widget %s exists", name);
	return w;
}

GtkWidget *gtkdrive_find(GtkWidget *root, const char *name)
{
	if (g_strcmp0(gtk_widget_get_name(root), name) == 0)
		return root;
	for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
	     c = gtk_widget_get_next_sibling(c)) {
		GtkWidget *found = gtkdrive_find(c, name);

		if (found != NULL)
			return found;
	}
	return NULL;
}

GtkWidget *gtkdrive_find_label(GtkWidget *root, const char *name, const char *text)
{
	if (root == NULL)
		return NULL;
	if (GTK_IS_LABEL(root) && g_strcmp0(gtk_widget_get_name(root), name) == 0 &&
	    gtk_widget_get_mapped(root) &&
	    (text == NULL || strstr(gtk_label_get_text(GTK_LABEL(root)), text) != NULL))
		return root;
	for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
	     c = gtk_widget_get_next_sibling(c)) {
		GtkWidget *found = gtkdrive_find_label(c, name, text);

		if (found != NULL)
			return found;
	}
	return NULL;
}

GtkWidget *gtkdrive_toplevel(const char *name)
{
	GListModel *tops = gtk_window_get_toplevels();

	for (guint i = 0; i < g_list_model_get_n_items(tops); i++) {
		GtkWidget *w = g_list_model_get_item(tops, i);

		g_object_unref(w);   /* the toplevels' list keeps it */
		if (g_strcmp0(gtk_widget_get_name(w), name) == 0 && gtk_widget_get_visible(w))
			return w;
	}
	return NULL;
}

GtkWidget *gtkdrive_row_around(GtkWidget *w)
{
	while (w != NULL && !gtk_widget_has_css_class(w, "msg-row"))
		w = gtk_widget_get_parent(w);
	return w;
}

GtkWindow *gtkdrive_window(const char *app_id, void (*fill)(struct pg_settings *st, void *ud),
                           void *ud)
{
	GtkApplication *app;
	struct pg_settings st;
	GtkWindow *win;

	gtk_init();
	gtkdrive_keyring();
	app = gtk_application_new(app_id, G_APPLICATION_NON_UNIQUE);
	if (!CHECK(g_application_register(G_APPLICATION(app), NULL, NULL), "%s registers", app_id))
		return NULL;
	pg_settings_load(&st);
	if (fill != NULL)
		fill(&st, ud);
	win = pg_window_new(app, &st);
	/* The window holds the application; the application goes with the window. */
	g_object_set_data_full(G_OBJECT(win), "gtkdrive-app", app, g_object_unref);
	gtk_window_present(win);
	return win;
}

void gtkdrive_login(GtkWindow *win, const char *user, const char *password, bool reg)
{
	gtk_editable_set_text(GTK_EDITABLE(gtkdrive_find(GTK_WIDGET(win), "login-user")), user);
	gtk_editable_set_text(GTK_EDITABLE(gtkdrive_find(GTK_WIDGET(win), "login-password")),
	                      password);
	g_signal_emit_by_name(gtkdrive_find(GTK_WIDGET(win), reg ? "register-button"
	                                                        : "login-button"), "clicked");
}

bool gtkdrive_keyring(void)
{
	static int state;   /* 0: not tried, 1: running, -1: none */
	const char *argv[] = { "gnome-keyring-daemon", "--unlock", "--components=secrets",
	                       "--daemonize", NULL };
	char *path = g_find_program_in_path("gnome-keyring-daemon"), *out = NULL;
	GPid pid;
	int in_fd = -1, out_fd = -1, status = 0;

	if (state != 0 || path == NULL) {
		g_free(path);
		if (state == 0)
			state = -1;
		return state > 0;
	}
	g_free(path);
	state = -1;
	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
	                              G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
	                              &pid, &in_fd, &out_fd, NULL, NULL))
		return false;
	/* The password of the new login keyring on its standard input, then end of input. */
	if (write(in_fd, "pier-test-keyring", 17) != 17)
		g_warning("gtkdrive: writing the keyring password failed");
	close(in_fd);
	{
		GIOChannel *ch = g_io_channel_unix_new(out_fd);
		gsize len;

		/* --daemonize: the first process prints the daemon's variables, then exits */
		g_io_channel_read_to_end(ch, &out, &len, NULL);
		g_io_channel_shutdown(ch, FALSE, NULL);
		g_io_channel_unref(ch);
	}
	close(out_fd);
	waitpid(pid, &status, 0);
	g_spawn_close_pid(pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && out != NULL &&
	    strstr(out, "GNOME_KEYRING_CONTROL") != NULL)
		state = 1;
	g_free(out);
	return state > 0;
}
