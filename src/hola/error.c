/* error.c: fills struct hola_err; see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int hola_err_set(struct hola_err *e, const char *fmt, ...)
{
    if (e != NULL) {
        va_list ap;
        va_start(ap, fmt);
        /* An over-long message is cut here on purpose: it is diagnostics, not data. */
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
