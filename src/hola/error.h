/* error.h: errors as values. A function that can fail fills a struct hola_err with one
 * human-readable line and returns -1; only main() decides to print it and exit. */
#ifndef HOLA_ERROR_H
#define HOLA_ERROR_H

#include <stddef.h>

/* Long enough for an address, a quoted name preview and strerror() text. */
#define HOLA_ERR_MAX 512

struct hola_err {
    char msg[HOLA_ERR_MAX];
};

/* Formats the message into e (when e is not NULL) and returns -1, so callers can write
 * `return hola_err_set(e, ...)`. */
int hola_err_set(struct hola_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
