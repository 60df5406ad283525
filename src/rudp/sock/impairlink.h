/* Built-in impairment in front of the socket (cfg.impair): the simulator's own link
 * (rudp/sim.h), so the socket gets exactly the simulated link's rules. */
#ifndef RUDP_SOCK_IMPAIRLINK_H
#define RUDP_SOCK_IMPAIRLINK_H

#include <stddef.h>
#include <stdint.h>

#include "peeraddr.h"
#include "rudp/impair.h"

struct rudp_sock;

/* Makes the link (seed 0: one drawn from the system's random source, kept in s->seed).
 * Returns 0, RUDP_EINVAL, RUDP_ENOMEM or RUDP_ESYS. */
int impair_open(struct rudp_sock *s, const rudp_impair_t *imp, uint64_t seed);

/* Offers one datagram to the link, its addresses as the frame's header. */
void impair_push(struct rudp_sock *s, const peer_addr_t *to, const peer_addr_t *from,
                 const uint8_t *data, size_t len, uint64_t now);

/* Moves the datagrams the link releases by `now` to the send ring. */
void impair_pop(struct rudp_sock *s, uint64_t now);

#endif
