/* pg_secret.c - the token in the keyring, with libsecret when built with it (see
 * pg_secret.h). */
#include "pg_secret.h"

#ifdef PIER_GTK_LIBSECRET
#include <libsecret/secret.h>

static const SecretSchema *schema(void)
{
	static const SecretSchema s = {
		"org.pier.Gtk.Session", SECRET_SCHEMA_NONE,
		{
			{ "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
			{ "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
			{ NULL, 0 },
		},
		0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	};

	return &s;
}
#endif

struct call {
	GCancellable *cancel;
	pg_secret_done_cb done;
	pg_secret_token_cb token;
	void *ud;
};

static struct call *call_new(GCancellable *cancel, pg_secret_done_cb done,
                             pg_secret_token_cb token, void *ud)
{
	struct call *c = g_new0(struct call, 1);

	c->cancel = cancel != NULL ? g_object_ref(cancel) : NULL;
	c->done = done;
	c->token = token;
	c->ud = ud;
	return c;
}

static bool call_live(struct call *c)
{
	return c->cancel == NULL || !g_cancellable_is_cancelled(c->cancel);
}

static void call_free(struct call *c)
{
	g_clear_object(&c->cancel);
	g_free(c);
}

#ifdef PIER_GTK_LIBSECRET
static void stored(GObject *src, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	GError *err = NULL;
	gboolean ok = secret_password_store_finish(res, &err);

	(void)src;
	if (err != NULL)
		g_debug("pier-gtk: keyring: %s", err->message);
	g_clear_error(&err);
	if (call_live(c))
		c->done(ok, c->ud);
	call_free(c);
}

static void looked_up(GObject *src, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	GError *err = NULL;
	char *token = secret_password_lookup_finish(res, &err);

	(void)src;
	g_clear_error(&err);
	if (call_live(c))
		c->token(token, c->ud);
	secret_password_free(token);
	call_free(c);
}
#else
static gboolean not_stored(gpointer data)
{
	struct call *c = data;

	if (call_live(c))
		c->done(false, c->ud);
	call_free(c);
	return G_SOURCE_REMOVE;
}

static gboolean not_found(gpointer data)
{
	struct call *c = data;

	if (call_live(c))
		c->token(NULL, c->ud);
	call_free(c);
	return G_SOURCE_REMOVE;
}
#endif

void pg_secret_store(const char *server, const char *user, const char *token,
                     GCancellable *cancel, pg_secret_done_cb cb, void *ud)
{
	struct call *c = call_new(cancel, cb, NULL, ud);

#ifdef PIER_GTK_LIBSECRET
	char *label = g_strdup_printf("pier chat: %s on %s", user, server);

	secret_password_store(schema(), SECRET_COLLECTION_DEFAULT, label, token, cancel, stored, c,
	                      "server", server, "user", user, NULL);
	g_free(label);
#else
	(void)server;
	(void)user;
	(void)token;
	g_idle_add(not_stored, c);
#endif
}

void pg_secret_lookup(const char *server, const char *user, GCancellable *cancel,
                      pg_secret_token_cb cb, void *ud)
{
	struct call *c = call_new(cancel, NULL, cb, ud);

#ifdef PIER_GTK_LIBSECRET
	secret_password_lookup(schema(), cancel, looked_up, c, "server", server, "user", user, NULL);
#else
	(void)server;
	(void)user;
	g_idle_add(not_found, c);
#endif
}

void pg_secret_clear(const char *server, const char *user)
{
#ifdef PIER_GTK_LIBSECRET
	secret_password_clear(schema(), NULL, NULL, NULL, "server", server, "user", user, NULL);
#else
	(void)server;
	(void)user;
#endif
}
