/* pg_main.c - pier-gtk, the GTK 4 desktop client of pier: main(). */
#include <locale.h>

#include <curl/curl.h>

#include "pg_app.h"
#include "pg_i18n.h"

int main(int argc, char **argv)
{
	GtkApplication *app;
	int status;

	setlocale(LC_ALL, "");
	pg_i18n_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	app = pg_app_new();
	status = g_application_run(G_APPLICATION(app), argc, argv);
	g_object_unref(app);
	curl_global_cleanup();
	return status;
}
