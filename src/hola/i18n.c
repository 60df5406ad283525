/* i18n.c: locale and message catalog setup for hola-server, hola-client and hola-compare;
 * see i18n.h. */
#include "i18n.h"

#include <locale.h>
#include <stdlib.h>

#ifndef HOLA_LOCALEDIR
#define HOLA_LOCALEDIR "/usr/local/share/locale"
#endif

/* A catalog answers the empty msgid with its header entry; no catalog for the current
 * language leaves it untranslated. (In the C locale nothing is translated anyway.) */
static int catalog_found(const char *dir)
{
    bindtextdomain(HOLA_TEXTDOMAIN, dir);
    return gettext("")[0] != '\0';
}

void hola_i18n_init(void)
{
    const char *env = getenv("HOLA_LOCALEDIR");

    /* Only what the messages need: their language and the terminal's character set.
     * The other categories stay "C": JSON counters, the lab's tables and strtod() on
     * option values need '.' decimals whatever the language (es_AR, es_ES write "2,5"),
     * and loading each category is a file opened and mapped at every start (12 of them
     * for LC_ALL, about a tenth of a millisecond on a virtual machine). */
    setlocale(LC_CTYPE, "");
    setlocale(LC_MESSAGES, "");
    textdomain(HOLA_TEXTDOMAIN);
    if (env != NULL && env[0] != '\0') {
        (void)catalog_found(env);
        return;
    }
    if (catalog_found(HOLA_LOCALEDIR))
        return;
#ifdef HOLA_BUILD_LOCALEDIR
    if (!catalog_found(HOLA_BUILD_LOCALEDIR))
        (void)catalog_found(HOLA_LOCALEDIR);
#endif
}
