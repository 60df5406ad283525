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

/* Whether errno value err is one the kernel derives from an ICMP error quoting our
 * datagram (ECONNREFUSED, EHOSTUNREACH, ENOPROTOOPT...; the library's driver uses the
 * same list). On a connected UDP socket it comes once, from a recv or a send, in place
 * of a datagram; anyone who guesses the addresses and ports can forge one. */
int hola_err_is_icmp(int err);

#endif
