/* test_gtk_tus.c - pier-gtk's uploads resume after a dropped connection: a 64 MiB file is
 * being uploaded (tus) when pierd stops; pierd comes back on the same ports and the upload
 * goes on from where the server's part file ends (not from the start), the message is sent
 * once, and the stored file has every byte. Then an upload cancelled with the composer's
 * button sends nothing. */
#include <arpa/inet.h>
#include <locale.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib/gstdio.h>

#include "gtkdrive.h"
#include "harness.h"
#include "pg_i18n.h"

#define FILE_BYTES (64 * 1024 * 1024)
#define WAIT_MS    90000

static GtkWindow *win;
static struct pierd *p;
static int http_port;

/* A port free now (bound to 0, read, closed): pierd's HTTP listener keeps it across the
 * restart, so that the window's uploads find the server again. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void fill(struct pg_settings *st, void *ud)
{
	(void)ud;
	g_free(st->host);
	st->host = g_strdup("127.0.0.1");
	g_free(st->port);
	st->port = g_strdup(pierd_port_str(p));
	g_free(st->http_port);
	st->http_port = g_strdup_printf("%d", http_port);
}

static double progress(void)
{
	GtkWidget *bar = gtkdrive_find(GTK_WIDGET(win), "upload-progress");

	return gtk_widget_get_visible(gtk_widget_get_parent(bar))
	       ? gtk_progress_bar_get_fraction(GTK_PROGRESS_BAR(bar)) : -1;
}

static gboolean is_online(gconstpointer ud)
{
	(void)ud;
	return pg_session_state(pg_window_session(pg_window_from(win))) == PG_SESSION_ONLINE;
}

static gboolean past_a_fifth(gconstpointer ud)
{
	(void)ud;
	return progress() > 0.2;
}

static double lowest_after_restart = 2;

static gboolean done_watching(gconstpointer ud)
{
	double f = progress();

	(void)ud;
	if (f >= 0 && f < lowest_after_restart)
		lowest_after_restart = f;
	return !pg_window_uploading(pg_window_from(win)) &&
	       pg_session_outbox_count(pg_window_session(pg_window_from(win))) == 0 &&
	       is_online(NULL);
}

int main(void)
{
	char user[HARNESS_NAME_MAX], port_arg[32], *tmp, *path, *buf;
	struct pier_conn *c;
	json_t *hist, *m;
	double before;

	harness_watchdog(400);
	tmp = gtkdrive_begin("tus");
	http_port = free_port();
	snprintf(port_arg, sizeof port_arg, "127.0.0.1:%d", http_port);
	{
		const char *const args[] = { "--no-rate-limits", "--http", port_arg, NULL };

		p = pierd_start(args);
	}
	REQUIRE(p != NULL && pierd_http_port(p) == http_port, harness_done(),
	        "pierd starts with HTTP on %d", http_port);
	REQUIRE(gtkdrive_register(p, user, "upl"), harness_done(), "register");
	path = g_build_filename(tmp, "big.bin", NULL);
	buf = g_malloc(FILE_BYTES);
	for (size_t i = 0; i < FILE_BYTES; i += 4) {
		guint32 r = g_random_int();

		memcpy(buf + i, &r, 4);
	}
	REQUIRE(g_file_set_contents(path, buf, FILE_BYTES, NULL), harness_done(), "file written");
	g_free(buf);

	win = gtkdrive_window("org.pier.GtkTus", fill, NULL);
	REQUIRE(win != NULL, harness_done(), "the window opens");
	gtkdrive_login(win, user, HARNESS_PASSWORD, false);
	REQUIRE(gtkdrive_until(is_online, NULL, WAIT_MS, "login"), harness_done(), "logged in");
	gtkdrive_spin(300);

	pg_window_attach(pg_window_from(win), path);
	REQUIRE(gtkdrive_until(past_a_fifth, NULL, WAIT_MS, "a fifth uploaded"), harness_done(),
	        "the upload is under way");
	before = progress();
	CHECK(pierd_stop(p), "pierd stops (the upload is cut)");
	CHECK(pg_window_uploading(pg_window_from(win)), "the upload waits for the server");
	REQUIRE(pierd_restart_same_port(p) == 0 && pierd_http_port(p) == http_port, harness_done(),
	        "pierd is back on the same ports");
	CHECK(gtkdrive_until(done_watching, NULL, WAIT_MS, "the upload to finish"),
	      "the upload finishes and the message is sent");
	CHECK(lowest_after_restart >= before - 0.07,
	      "it went on from the server's offset (%.2f before the stop, %.2f lowest after)",
	      before, lowest_after_restart);

	printf("# upload of 64 MiB: %.0f%% done when pierd stopped, lowest after the restart %.0f%%\n",
	       before * 100, lowest_after_restart * 100);
	c = client_login(p, user, HARNESS_PASSWORD);
	hist = c != NULL ? client_call(c, pier_req_history("#lobby", 0, 10)) : NULL;
	CHECK(json_array_size(json_object_get(hist, "messages")) == 1, "one message (%zu)",
	      json_array_size(json_object_get(hist, "messages")));
	m = json_object_get(json_array_get(json_object_get(hist, "messages"), 0), "media");
	CHECK(json_integer_value(json_object_get(m, "size")) == FILE_BYTES, "every byte (%lld)",
	      (long long)json_integer_value(json_object_get(m, "size")));
	CHECK(g_strcmp0(json_string_value(json_object_get(m, "name")), "big.bin") == 0,
	      "its name");
	json_decref(hist);

	/* Cancel: the upload stops, nothing is sent, and the window says so. */
	pg_window_attach(pg_window_from(win), path);
	lowest_after_restart = 2;
	REQUIRE(gtkdrive_until(past_a_fifth, NULL, WAIT_MS, "the second upload"), harness_done(),
	        "a second upload is under way");
	g_signal_emit_by_name(gtkdrive_find(GTK_WIDGET(win), "upload-cancel"), "clicked");
	CHECK(gtkdrive_until(done_watching, NULL, WAIT_MS, "the cancel"), "the upload stops");
	CHECK(!gtk_widget_get_visible(gtk_widget_get_parent(gtkdrive_find(GTK_WIDGET(win),
	                                                                   "upload-progress"))),
	      "the progress bar goes");
	CHECK(g_strcmp0(pg_window_notice(pg_window_from(win)), _("Upload cancelled.")) == 0,
	      "the window says it was cancelled (%s)", pg_window_notice(pg_window_from(win)));
	hist = c != NULL ? client_call(c, pier_req_history("#lobby", 0, 10)) : NULL;
	CHECK(json_array_size(json_object_get(hist, "messages")) == 1, "nothing more was sent");
	json_decref(hist);
	pier_conn_close(c);
	gtk_window_destroy(win);
	gtkdrive_spin(200);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	g_unlink(path);
	g_free(path);
	curl_global_cleanup();
	return harness_done();
}
