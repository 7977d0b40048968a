/* pg_secret.h - the session token in the desktop's keyring (the Secret Service, through
 * libsecret) when pier-gtk was built with it and a keyring answers; the session falls back
 * to its 0600 file otherwise. Asynchronous: nothing waits on D-Bus on the UI thread.
 * Callbacks are not called once cancel is cancelled (the caller may be gone). */
#ifndef PG_SECRET_H
#define PG_SECRET_H

#include <stdbool.h>

#include <gio/gio.h>

typedef void (*pg_secret_done_cb)(bool ok, void *ud);
typedef void (*pg_secret_token_cb)(const char *token, void *ud);

/* Stores token for user on server ("host:port"); cb says whether the keyring took it
 * (false at once, from an idle callback, without libsecret). */
void pg_secret_store(const char *server, const char *user, const char *token,
                     GCancellable *cancel, pg_secret_done_cb cb, void *ud);
/* Looks the token up; cb gets it, or NULL. */
void pg_secret_lookup(const char *server, const char *user, GCancellable *cancel,
                      pg_secret_token_cb cb, void *ud);
/* Removes it (fire and forget). */
void pg_secret_clear(const char *server, const char *user);

#endif
