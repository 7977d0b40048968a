/* pg_settings.c - the settings file (see pg_settings.h). */
#include "pg_settings.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

static char *get_string(GKeyFile *kf, const char *key, const char *dflt)
{
	char *v = g_key_file_get_string(kf, "server", key, NULL);

	return v != NULL ? v : g_strdup(dflt);
}

void pg_settings_load(struct pg_settings *s)
{
	GKeyFile *kf = g_key_file_new();
	char *style;

	memset(s, 0, sizeof *s);
	s->path = g_build_filename(g_get_user_config_dir(), "pier-gtk", "settings.ini", NULL);
	s->data_dir = g_build_filename(g_get_user_data_dir(), "pier-gtk", NULL);
	g_key_file_load_from_file(kf, s->path, G_KEY_FILE_NONE, NULL);
	s->host = get_string(kf, "host", "localhost");
	s->tls = g_key_file_get_boolean(kf, "server", "tls", NULL);
	s->port = get_string(kf, "port", s->tls ? "6697" : "6666");
	s->http_port = get_string(kf, "http_port", s->tls ? "8443" : "8080");
	s->ca_file = g_key_file_get_string(kf, "server", "ca_file", NULL);
	s->colours = !g_key_file_has_key(kf, "look", "colours", NULL) ||
	             g_key_file_get_boolean(kf, "look", "colours", NULL);
	style = g_key_file_get_string(kf, "look", "style", NULL);
	s->style = style == NULL ? PG_STYLE_SYSTEM
	           : strcmp(style, "dark") == 0 ? PG_STYLE_DARK
	           : strcmp(style, "light") == 0 ? PG_STYLE_LIGHT : PG_STYLE_SYSTEM;
	g_free(style);
	g_key_file_unref(kf);
}

void pg_settings_save(const struct pg_settings *s)
{
	GKeyFile *kf = g_key_file_new();
	static const char *const styles[] = { "system", "light", "dark" };
	char *dir = g_path_get_dirname(s->path);

	g_key_file_set_string(kf, "server", "host", s->host);
	g_key_file_set_string(kf, "server", "port", s->port);
	g_key_file_set_string(kf, "server", "http_port", s->http_port);
	g_key_file_set_boolean(kf, "server", "tls", s->tls);
	if (s->ca_file != NULL)
		g_key_file_set_string(kf, "server", "ca_file", s->ca_file);
	g_key_file_set_boolean(kf, "look", "colours", s->colours);
	g_key_file_set_string(kf, "look", "style", styles[s->style]);
	g_mkdir_with_parents(dir, 0700);
	g_key_file_save_to_file(kf, s->path, NULL);
	g_chmod(s->path, 0600);
	g_free(dir);
	g_key_file_unref(kf);
}

void pg_settings_release(struct pg_settings *s)
{
	g_free(s->host);
	g_free(s->port);
	g_free(s->http_port);
	g_free(s->ca_file);
	g_free(s->data_dir);
	g_free(s->path);
	memset(s, 0, sizeof *s);
}

bool pg_settings_desktop_prefers_dark(void)
{
	GSettingsSchemaSource *src = g_settings_schema_source_get_default();
	GSettingsSchema *schema = src != NULL
		? g_settings_schema_source_lookup(src, "org.gnome.desktop.interface", TRUE) : NULL;
	bool dark = false;

	if (schema != NULL && g_settings_schema_has_key(schema, "color-scheme")) {
		GSettings *gs = g_settings_new("org.gnome.desktop.interface");
		char *v = g_settings_get_string(gs, "color-scheme");

		dark = v != NULL && strcmp(v, "prefer-dark") == 0;
		g_free(v);
		g_object_unref(gs);
	}
	if (schema != NULL)
		g_settings_schema_unref(schema);
	return dark;
}
