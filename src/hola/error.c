/* error.c: fills struct hola_err; see error.h. */
#include "error.h"

#include <errno.h>
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

int hola_err_is_icmp(int err)
{
    switch (err) {
    case ECONNREFUSED: /* port unreachable */
    case EHOSTUNREACH: /* host unreachable, prohibited, time exceeded */
    case ENETUNREACH:  /* net unreachable */
    case EHOSTDOWN:    /* host unknown */
    case ENOPROTOOPT:  /* protocol unreachable */
    case EPROTO:       /* parameter problem */
    case EACCES:       /* ICMPv6 administratively prohibited */
    case EMSGSIZE:     /* fragmentation needed / packet too big */
    case EOPNOTSUPP:   /* source route failed */
#ifdef ENONET
    case ENONET: /* host isolated */
#endif
        return 1;
    default:
        return 0;
    }
}
