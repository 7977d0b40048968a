/* pg_settings.h - pier-gtk's settings: the server (host, ports, TLS, a pinned certificate),
 * the look (the report's colours on or off, light/dark/follow the desktop) and where its
 * data lives. Kept in $XDG_CONFIG_HOME/pier-gtk/settings.ini (GKeyFile); command-line options
 * override them for one run. */
#ifndef PG_SETTINGS_H
#define PG_SETTINGS_H

#include <stdbool.h>

enum pg_style { PG_STYLE_SYSTEM, PG_STYLE_LIGHT, PG_STYLE_DARK };

struct pg_settings {
	char *host;
	char *port;
	char *http_port;
	bool tls;
	char *ca_file;
	bool colours;        /* group red, private black (the report's) */
	enum pg_style style;
	char *data_dir;      /* $XDG_DATA_HOME/pier-gtk: token, outbox, received media */
	char *path;          /* the settings file */
};

/* Fills s with the saved settings (defaults when none). */
void pg_settings_load(struct pg_settings *s);
/* Writes them back (0600). */
void pg_settings_save(const struct pg_settings *s);
void pg_settings_release(struct pg_settings *s);
/* Whether the desktop asks for a dark style (org.gnome.desktop.interface color-scheme, when
 * that schema is installed). */
bool pg_settings_desktop_prefers_dark(void);

#endif
