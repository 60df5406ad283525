/* i18n.h: the interactive prompt's few messages in English and Spanish. Only the prompt is
 * translated: the server's "Conectado a"/"Hola" lines are the practice's literal output. */
#ifndef HOLA_I18N_H
#define HOLA_I18N_H

enum hola_lang {
    HOLA_LANG_EN,
    HOLA_LANG_ES,
};

enum hola_msg {
    HOLA_MSG_HOW_MANY,   /* "How many names? " */
    HOLA_MSG_NAME,       /* "Name" (followed by " N: ") */
    HOLA_MSG_BAD_COUNT,  /* asked again after a bad count */
    HOLA_MSG_BAD_NAME,   /* prefix of the reason a name was refused */
    HOLA_MSG_EMPTY_NAME, /* asked again after an empty name */
};

/* Language from the environment, POSIX precedence: the first non-empty of LC_ALL,
 * LC_MESSAGES, LANG; Spanish when it starts with "es". */
enum hola_lang hola_i18n_lang(void);
/* The same decision from explicit values (any may be NULL), for tests. */
enum hola_lang hola_i18n_lang_from(const char *lc_all, const char *lc_messages, const char *lang);

const char *hola_i18n_msg(enum hola_lang lang, enum hola_msg msg);

#endif
