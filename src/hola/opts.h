/* opts.h: option values shared by hola-server and hola-client: the protocol, the port,
 * bounded numbers. Each parser returns 0, or -1 with a message naming the bad value. */
#ifndef HOLA_OPTS_H
#define HOLA_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* One entry per transport with its own server_<proto>.c and client_<proto>.c. A new one
 * is added here, in opts.c's table, and in the two programs' dispatch tables. */
enum hola_proto {
    HOLA_PROTO_TCP,
    HOLA_PROTO_UDP,
    HOLA_PROTO_RUDP, /* rudp (src/rudp) over UDP: reliable, ordered, one name a message */
};

#define HOLA_DEFAULT_PORT 7000

int hola_opts_proto(const char *s, enum hola_proto *out, struct hola_err *e);
const char *hola_opts_proto_name(enum hola_proto p);
/* "tcp, udp or rudp": the accepted spellings, for --help and messages. */
const char *hola_opts_proto_list(void);

/* A decimal port 1..65535, or 0 too when allow_zero (a server asking the kernel to pick). */
int hola_opts_port(const char *s, bool allow_zero, uint16_t *out, struct hola_err *e);

/* A decimal integer in [min, max]; `what` names the option in the message. */
int hola_opts_ulong(const char *s, const char *what, unsigned long min, unsigned long max,
                    unsigned long *out, struct hola_err *e);

/* The message for what getopt_long() returned as '?' (unknown option) or ':' (missing
 * value); call right after, with getopt's optopt and optind. */
void hola_opts_getopt_error(int c, int opt, char *const argv[], int ind, struct hola_err *e);

#endif
