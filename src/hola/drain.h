/* drain.h: the last thing an impaired rudp program does before it frees its socket. */
#ifndef HOLA_DRAIN_H
#define HOLA_DRAIN_H

#include <stdbool.h>

#include "rudp/sock.h"

/* The built-in impairment (--delay, --rate) may still hold a program's last datagrams,
 * its last ACK or FIN among them, and rudp_sock_free() would drop them. Steps s until
 * they have left (rudp_sock_pending() is 0), at most the longest delay imp gives a
 * datagram plus 1 s (the rate's queue), or until stopped(ctx) says so; stop_fd (the
 * program's signal pipe) wakes the wait. Events that come meanwhile are discarded: the
 * connections are being let go. Returns 0, or the step's RUDP_E* code. */
int hola_rudp_drain(rudp_sock_t *s, const rudp_impair_t *imp, int stop_fd,
                    bool (*stopped)(void *ctx), void *ctx);

#endif
