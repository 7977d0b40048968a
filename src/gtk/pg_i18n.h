/* pg_i18n.h - pier-gtk's translations: gettext (domain "pier-gtk", po/zh_CN.po) for its own
 * texts, libpier's tables for the report's status and error texts. */
#ifndef PG_I18N_H
#define PG_I18N_H

#include <libintl.h>

#include "pier.h"

#define PG_GETTEXT_PACKAGE "pier-gtk"
#define _(s) gettext(s)
#define N_(s) (s)

/* Binds the text domain: $PIER_GTK_LOCALEDIR (tests: the build's locale/), else the
 * installed one. Call once after setlocale. */
void pg_i18n_init(void);
/* The language of libpier's texts: LANGUAGE's first entry when set (gettext's own order),
 * else LC_ALL / LC_MESSAGES / LANG. */
enum pier_lang pg_i18n_lang(void);

#endif
