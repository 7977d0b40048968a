/* test_gtk_bulk.c - pier-gtk with a long conversation: a room of $PIER_GTK_BULK messages
 * (100 000 by default) in a real pierd, opened in the real window (xvfb-run), then scrolled
 * up through GTK's own scroll adjustment until its first message, and back down with the
 * "New messages" button.
 *
 * Checks counts only: the window's store never holds more than its cap however far one
 * scrolls, every page arrives in order without a gap, and jumping back reloads the newest
 * page. Prints the figures the issue asks for (no assertion on them, they depend on the
 * machine): the time to open the conversation (its newest page shown) and the process's RSS
 * after opening, after scrolling through everything and after jumping back.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <gtk/gtk.h>

#include "gtkdrive.h"
#include "harness.h"
#include "pg_i18n.h"
#include "pg_window.h"

#define FILL_BATCH 1000
#define WAIT_MS    60000

static GtkWindow *win;
static struct pg_window *pw;

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kib;
}

#define spin gtkdrive_spin
#define spin_until gtkdrive_until
#define find_in gtkdrive_find

static gboolean is_online(gconstpointer ud)
{
	(void)ud;
	return pg_session_state(pg_window_session(pw)) == PG_SESSION_ONLINE;
}

static PgMsgStore *store(void)
{
	return pg_session_open(pg_window_session(pw), "#bulk");
}

/* A row of the message list is mapped (the page is on screen). */
static gboolean rows_shown(gconstpointer ud)
{
	GtkWidget *list = find_in(GTK_WIDGET(win), "msg-list");
	GtkWidget *row = list != NULL ? gtk_widget_get_first_child(list) : NULL;

	(void)ud;
	return pg_msg_store_is_loaded(store()) && row != NULL && gtk_widget_get_mapped(row) &&
	       g_list_model_get_n_items(G_LIST_MODEL(store())) > 0;
}

static gboolean oldest_below(gconstpointer ud)
{
	return pg_msg_store_oldest_id(store()) < *(const int64_t *)ud;
}

static gboolean newest_page(gconstpointer ud)
{
	return !pg_msg_store_has_newer(store()) && pg_msg_store_newest_id(store()) == *(const int64_t *)ud;
}

static void fill_settings(struct pg_settings *st, void *ud)
{
	g_free(st->host);
	st->host = g_strdup("127.0.0.1");
	g_free(st->port);
	st->port = g_strdup(pierd_port_str(ud));
}

/* Fills #bulk with n messages "bulk N", pipelined a batch at a time. Returns the last id. */
static int64_t fill(struct pierd *p, long n, int64_t *first_id)
{
	char user[HARNESS_NAME_MAX];
	struct pier_conn *c = client_new_user(p, "bulk", user);
	json_t *ev;
	int64_t last = 0;

	if (c == NULL)
		return 0;
	json_decref(client_call(c, pier_req_join("#bulk")));
	for (long done = 0; done < n; done += FILL_BATCH) {
		long batch = n - done < FILL_BATCH ? n - done : FILL_BATCH, got = 0;

		for (long i = 0; i < batch; i++) {
			char text[32];

			snprintf(text, sizeof text, "bulk %ld", done + i + 1);
			if (pier_conn_send(c, pier_req_send("#bulk", text, NULL), NULL) != 0)
				break;
		}
		while (got < batch && (ev = pier_conn_next(c, HARNESS_TIMEOUT_MS)) != NULL) {
			if (strcmp(pier_event_op(ev), "sent") == 0) {
				last = json_integer_value(json_object_get(ev, "id"));
				if (*first_id == 0)
					*first_id = last;
				got++;
			}
			json_decref(ev);
		}
		if (!CHECK(got == batch, "batch at %ld stored (%ld of %ld)", done, got, batch))
			break;
	}
	pier_conn_close(c);
	return last;
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	const char *env = getenv("PIER_GTK_BULK"), *env_pages = getenv("PIER_GTK_BULK_PAGES");
	long n = env != NULL ? strtol(env, NULL, 10) : 100000;
	/* How many pages to scroll up (0: to the first message). make test scrolls well past
	 * the window's cap but not through all 1000 pages (minutes under AddressSanitizer). */
	long max_pages = env_pages != NULL ? strtol(env_pages, NULL, 10) : 0;
	struct pierd *p;
	GtkAdjustment *adj;
	char user[HARNESS_NAME_MAX];
	int64_t first = 0, last, oldest;
	gint64 t0, t_open;
	long rss_before, rss_open, rss_top, rss_back;
	guint max_items = 0, pages = 0;
	bool ordered = true;

	harness_watchdog(1500);
	g_free(gtkdrive_begin("bulk"));
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	t0 = g_get_monotonic_time();
	last = fill(p, n, &first);
	printf("# filled #bulk with %ld messages in %.1f s\n", n,
	       (double)(g_get_monotonic_time() - t0) / 1e6);
	REQUIRE(last > 0, harness_done(), "messages stored");
	REQUIRE(gtkdrive_register(p, user, "reader"), harness_done(), "register");

	win = gtkdrive_window("org.pier.GtkBulk", fill_settings, p);
	REQUIRE(win != NULL, harness_done(), "the window opens");
	pw = pg_window_from(win);
	gtkdrive_login(win, user, HARNESS_PASSWORD, false);
	REQUIRE(spin_until(is_online, NULL, WAIT_MS, "login"), harness_done(), "logged in");
	spin(500);
	rss_before = rss_kib();

	/* /join #bulk through the composer; the join opens it. */
	t0 = g_get_monotonic_time();
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(
		find_in(GTK_WIDGET(win), "composer-text"))), "/join #bulk", -1);
	g_signal_emit_by_name(find_in(GTK_WIDGET(win), "send-button"), "clicked");
	REQUIRE(spin_until(rows_shown, NULL, WAIT_MS, "the newest page"), harness_done(),
	        "the conversation opens");
	t_open = g_get_monotonic_time() - t0;
	CHECK(pg_msg_store_newest_id(store()) == last, "the newest message is there");
	spin(300);
	rss_open = rss_kib();

	/* Up to the first message, a page at a time, by scrolling. */
	adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(gtk_widget_get_parent(
		find_in(GTK_WIDGET(win), "msg-list"))));
	while ((oldest = pg_msg_store_oldest_id(store())) > first &&
	       (max_pages <= 0 || pages < (guint)max_pages)) {
		PgMsgStore *s = store();
		guint items = g_list_model_get_n_items(G_LIST_MODEL(s));

		/* A user scrolling up: down a little, then to the top. */
		gtk_adjustment_set_value(adj, gtk_adjustment_get_page_size(adj));
		spin(1);
		gtk_adjustment_set_value(adj, 0);
		if (!spin_until(oldest_below, &oldest, WAIT_MS, "an older page"))
			break;
		pages++;
		if (getenv("PIER_GTK_BULK_TRACE") != NULL)
			printf("# page %u: oldest %" G_GINT64_FORMAT ", %u items, RSS %ld KiB, upper %.0f\n",
			       pages, pg_msg_store_oldest_id(s), g_list_model_get_n_items(G_LIST_MODEL(s)),
			       rss_kib(), gtk_adjustment_get_upper(adj));
		items = g_list_model_get_n_items(G_LIST_MODEL(s));
		if (items > max_items)
			max_items = items;
		for (guint i = 1; i < items && ordered; i++)
			ordered = pg_msg_store_peek(s, i)->id > pg_msg_store_peek(s, i - 1)->id;
	}
	if (max_pages <= 0) {
		CHECK(pg_msg_store_oldest_id(store()) == first, "scrolled up to the first message");
		CHECK(strcmp(pg_msg_store_peek(store(), 0)->text, "bulk 1") == 0,
		      "which is \"bulk 1\"");
	} else {
		CHECK(pages == (guint)max_pages, "scrolled up %ld pages", max_pages);
		CHECK(pg_msg_store_newest_id(store()) < last, "past the window's cap");
	}
	CHECK(max_items <= PG_MSG_STORE_CAP_DEFAULT, "the window stayed at most %d messages (%u)",
	      PG_MSG_STORE_CAP_DEFAULT, max_items);
	CHECK(ordered, "in order, every page");
	CHECK(max_pages > 0 || pages >= (guint)(n / 100) - 1, "%u pages of history", pages);
	CHECK(pg_msg_store_has_newer(store()), "detached from the newest end");
	spin(300);
	rss_top = rss_kib();

	/* The "New messages" button (shown when detached) goes back down. */
	gtk_widget_set_visible(find_in(GTK_WIDGET(win), "new-messages"), TRUE);
	g_signal_emit_by_name(find_in(GTK_WIDGET(win), "new-messages"), "clicked");
	CHECK(spin_until(newest_page, &last, WAIT_MS, "the newest page again"),
	      "back at the newest message");
	spin(300);
	rss_back = rss_kib();

	printf("# %ld messages: open (newest page shown) %.0f ms; RSS before %ld KiB, opened %ld "
	       "KiB, after scrolling to the first message %ld KiB, back at the newest %ld KiB; "
	       "window at most %u messages, %u pages\n",
	       n, (double)t_open / 1000.0, rss_before, rss_open, rss_top, rss_back, max_items, pages);
	gtk_window_destroy(win);
	spin(200);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	curl_global_cleanup();
	return harness_done();
}
