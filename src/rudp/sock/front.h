/* The server's front door policy (docs/protocol.md §7.2, docs/limits.md): when an
 * INITIAL without a cookie is accepted at once and when it must earn the stateless
 * RETRY, the per-source cap on connections, and the life of a connection whose client
 * has not yet proven its address. */
#ifndef RUDP_SOCK_FRONT_H
#define RUDP_SOCK_FRONT_H

#include <stdint.h>

struct rudp_sock;
struct entry;

#define FRONT_LOAD_HOLD 1000000u /* µs under load after the handshake rate was last hit */

/* Sets up the source table and the load rule from s->cfg. Returns 0 or RUDP_ENOMEM. */
int front_open(struct rudp_sock *s);

void front_free(struct rudp_sock *s);

/* Before the listener sees a datagram for no connection: sets its require_retry by the
 * load rule. */
void front_gate(struct rudp_sock *s, uint64_t now);

/* A new connection from e's peer (e->key): counts it against its source's cap.
 * Returns 0, RUDP_EREFUSED (its source holds the cap already) or RUDP_ENOMEM. */
int front_take(struct rudp_sock *s, struct entry *e, uint64_t now);

/* The connection leaves: gives back its source's count (and its unproven place). */
void front_put(struct rudp_sock *s, struct entry *e);

/* The connection is done (draining or closed) but stays a moment to answer its peer's
 * last retransmissions: gives back its source's count now. Once only; front_put() then
 * gives back the rest. */
void front_leave(struct rudp_sock *s, struct entry *e);

enum front_verdict {
    FRONT_DROP = 0,   /* unproven and closed, or past RUDP_SOCK_UNPROVEN_TIMEOUT: drop it
                         silently */
    FRONT_KEEP = 1,   /* nothing new */
    FRONT_PROVEN = 2, /* its client just proved its address: announce it (ACCEPTED) */
};

/* After input or a timer on a server connection. Returns an enum front_verdict. */
int front_settle(struct rudp_sock *s, struct entry *e, uint64_t now);

#endif
