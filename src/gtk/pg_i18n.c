/* pg_i18n.c - text domain binding and the language of libpier's texts (see pg_i18n.h). */
#include "pg_i18n.h"

#include <stdlib.h>
#include <string.h>

#ifndef PIER_GTK_LOCALEDIR
#define PIER_GTK_LOCALEDIR "/usr/local/share/locale"
#endif

void pg_i18n_init(void)
{
	const char *dir = getenv("PIER_GTK_LOCALEDIR");

	bindtextdomain(PG_GETTEXT_PACKAGE, dir != NULL && dir[0] != '\0' ? dir : PIER_GTK_LOCALEDIR);
	bind_textdomain_codeset(PG_GETTEXT_PACKAGE, "UTF-8");
	textdomain(PG_GETTEXT_PACKAGE);
}

enum pier_lang pg_i18n_lang(void)
{
	const char *language = getenv("LANGUAGE");

	if (language != NULL && language[0] != '\0')
		return strncmp(language, "zh", 2) == 0 ? PIER_LANG_ZH : PIER_LANG_EN;
	return pier_lang_from_env();
}
