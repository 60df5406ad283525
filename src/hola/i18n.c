/* i18n.c: a message table instead of gettext: five strings do not justify a runtime
 * dependency or .mo files. */
#include "i18n.h"

#include <stdlib.h>
#include <string.h>

enum hola_lang hola_i18n_lang_from(const char *lc_all, const char *lc_messages, const char *lang)
{
    const char *v[] = { lc_all, lc_messages, lang };

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (v[i] != NULL && v[i][0] != '\0')
            return strncmp(v[i], "es", 2) == 0 ? HOLA_LANG_ES : HOLA_LANG_EN;
    }
    return HOLA_LANG_EN;
}

enum hola_lang hola_i18n_lang(void)
{
    return hola_i18n_lang_from(getenv("LC_ALL"), getenv("LC_MESSAGES"), getenv("LANG"));
}

static const char *const table[][2] = {
    [HOLA_MSG_HOW_MANY] = { "How many names? ", "¿Cuántos nombres? " },
    [HOLA_MSG_NAME] = { "Name", "Nombre" },
    [HOLA_MSG_BAD_COUNT] = { "Please type a number from 1 to 100.",
                             "Escribe un número del 1 al 100." },
    [HOLA_MSG_BAD_NAME] = { "Name refused", "Nombre rechazado" },
    [HOLA_MSG_EMPTY_NAME] = { "The name is empty; type it again.",
                              "El nombre está vacío; escríbelo otra vez." },
};

const char *hola_i18n_msg(enum hola_lang lang, enum hola_msg msg)
{
    return table[msg][lang == HOLA_LANG_ES ? 1 : 0];
}
