/* pg_login.h - the login page: user name, password, the server (host:port, TLS, a pinned
 * certificate file), "Log in" and "Register", and the report's status texts (登录成功,
 * 密码错误, 用户名不存在, 注册成功 ...) from libpier in the user's language. */
#ifndef PG_LOGIN_H
#define PG_LOGIN_H

#include <stdbool.h>

#include <gtk/gtk.h>

#include "pg_settings.h"

struct pg_login_ops {
	/* The user asked to log in (or register and log in). The settings (server) may have
	 * changed: they are saved already. */
	void (*submit)(void *ud, const char *user, const char *password, bool register_first);
};

struct pg_login;

/* settings: borrowed, updated from the server fields on submit. */
struct pg_login *pg_login_new(struct pg_settings *settings, const struct pg_login_ops *ops,
                              void *ud);
GtkWidget *pg_login_widget(struct pg_login *l);
/* Shows text under the form; busy greys the buttons out. */
void pg_login_set_status(struct pg_login *l, const char *text, bool busy);
void pg_login_focus(struct pg_login *l);

#endif
