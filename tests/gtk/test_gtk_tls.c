/* test_gtk_tls.c - pier-gtk over TLS against a real pierd with a self-signed certificate
 * (pierd --gen-cert): without the certificate pinned the login fails with the reason shown
 * (GIO checks the system's store and the host name); with it pinned (the login page's field)
 * it registers, logs in, sends a message over the TLS port and an image over HTTPS (libcurl
 * with the same pinned file), and shows the image's thumbnail. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "gtkdrive.h"
#include "harness.h"
#include "pg_i18n.h"

#define WAIT_MS 20000

static GtkWindow *win;
static struct pierd *p;

static void fill(struct pg_settings *st, void *ud)
{
	(void)ud;
	g_free(st->host);
	st->host = g_strdup("127.0.0.1");
	g_free(st->port);
	st->port = g_strdup(pierd_tls_port_str(p));
	g_free(st->http_port);
	st->http_port = g_strdup_printf("%d", pierd_https_port(p));
	st->tls = true;
}

static const char *status_text(void)
{
	return gtk_label_get_text(GTK_LABEL(gtkdrive_find(GTK_WIDGET(win), "login-status")));
}

static gboolean status_settled(gconstpointer ud)
{
	(void)ud;
	return gtk_widget_get_sensitive(gtkdrive_find(GTK_WIDGET(win), "login-button"));
}

static gboolean online_and_flushed(gconstpointer ud)
{
	struct pg_session *s = pg_window_session(pg_window_from(win));

	(void)ud;
	return pg_session_state(s) == PG_SESSION_ONLINE && pg_session_outbox_count(s) == 0 &&
	       !pg_window_uploading(pg_window_from(win));
}

static gboolean find_thumb(GtkWidget *root)
{
	if (GTK_IS_PICTURE(root) && gtk_picture_get_paintable(GTK_PICTURE(root)) != NULL)
		return TRUE;
	for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
	     c = gtk_widget_get_next_sibling(c))
		if (find_thumb(c))
			return TRUE;
	return FALSE;
}

static gboolean thumbnail_shown(gconstpointer ud)
{
	(void)ud;
	return find_thumb(gtkdrive_find(GTK_WIDGET(win), "msg-list"));
}

int main(void)
{
	char dir[256], cert[300], key[300], user[HARNESS_NAME_MAX], *tmp, *png;
	const char *t = getenv("TMPDIR");
	struct pier_conn *c;
	json_t *hist;
	GdkPixbuf *pb;

	harness_watchdog(240);
	tmp = gtkdrive_begin("tls");
	snprintf(dir, sizeof dir, "%s/pier-gtk-tls-XXXXXX", t != NULL && *t ? t : "/tmp");
	REQUIRE(mkdtemp(dir) != NULL, harness_done(), "mkdtemp: %s", strerror(errno));
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	REQUIRE(harness_gen_cert(dir) == 0, harness_done(), "pierd --gen-cert");
	{
		const char *const args[] = { "--no-rate-limits", "--tls-cert", cert, "--tls-key", key,
		                             "--tls-listen", "127.0.0.1:0", "--https", "127.0.0.1:0",
		                             NULL };

		p = pierd_start(args);
	}
	REQUIRE(p != NULL && pierd_tls_port(p) > 0, harness_done(), "pierd starts with TLS");
	win = gtkdrive_window("org.pier.GtkTls", fill, NULL);
	REQUIRE(win != NULL, harness_done(), "the window opens");
	harness_user(user, "tls");

	/* Not pinned: the self-signed certificate is refused, and the page says why. */
	gtkdrive_login(win, user, HARNESS_PASSWORD, true);
	gtkdrive_until(status_settled, NULL, WAIT_MS, "the refusal");
	CHECK(pg_session_state(pg_window_session(pg_window_from(win))) == PG_SESSION_LOGGED_OUT,
	      "no login with an untrusted certificate");
	CHECK(strlen(status_text()) > 0, "the reason is shown: %s", status_text());

	/* Pinned: register and log in over TLS. */
	gtk_editable_set_text(GTK_EDITABLE(gtkdrive_find(GTK_WIDGET(win), "login-ca")), cert);
	gtkdrive_login(win, user, HARNESS_PASSWORD, true);
	REQUIRE(gtkdrive_until(online_and_flushed, NULL, WAIT_MS, "the TLS login"), harness_done(),
	        "registered and logged in over TLS (%s)", status_text());
	CHECK(strcmp(status_text(), pier_login_status_text(PIER_LOGIN_OK, pg_i18n_lang())) == 0,
	      "the login text: %s", status_text());
	pg_session_send(pg_window_session(pg_window_from(win)), "#lobby", "over tls", NULL, 0);
	png = g_build_filename(tmp, "tls.png", NULL);
	pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 40, 30);
	gdk_pixbuf_fill(pb, 0x26a269ff);
	gdk_pixbuf_save(pb, png, "png", NULL, NULL);
	g_object_unref(pb);
	pg_window_attach(pg_window_from(win), png);
	CHECK(gtkdrive_until(online_and_flushed, NULL, WAIT_MS, "the sends"), "sent over TLS");
	CHECK(gtkdrive_until(thumbnail_shown, NULL, WAIT_MS, "the thumbnail"),
	      "the image went up and its thumbnail came down over HTTPS");
	c = client_login(p, user, HARNESS_PASSWORD);
	hist = c != NULL ? client_call(c, pier_req_history("#lobby", 0, 10)) : NULL;
	CHECK(jfind(hist, "messages", "text", "over tls") != NULL, "the message is stored");
	CHECK(json_array_size(json_object_get(hist, "messages")) == 2, "and the image (%zu)",
	      json_array_size(json_object_get(hist, "messages")));
	json_decref(hist);
	pier_conn_close(c);
	gtk_window_destroy(win);
	gtkdrive_spin(200);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	g_free(png);
	curl_global_cleanup();
	return harness_done();
}
