/* i18n.h: gettext for hola's programs: _() translates a message, N_() marks one for
 * xgettext where a call cannot stand (a static initializer). The practice's protocol lines,
 * "Conectado a <addr>" and "Hola <name>", are never translated: they are its output in
 * every language. */
#ifndef HOLA_I18N_H
#define HOLA_I18N_H

#include <libintl.h>

#define HOLA_TEXTDOMAIN "hola"

#define _(s) gettext(s)
#define N_(s) s

/* Call first in main(): the locale from the environment (but numbers stay in the C
 * locale's notation, for --stats JSON and option values like --loss 2.5) and the catalog
 * from, in order: $HOLA_LOCALEDIR; the install's localedir when it holds a catalog for the
 * current language; this build tree's po/, so an uninstalled build speaks it too. */
void hola_i18n_init(void);

#endif
