/* The driver's way out: engines prepare datagrams into the send ring (or, with DTLS,
 * through a record; with impairment, through the link), and the ring drains to the
 * socket (platform.c). */
#ifndef RUDP_SOCK_TXPATH_H
#define RUDP_SOCK_TXPATH_H

#include <stddef.h>
#include <stdint.h>

#include "peeraddr.h"

struct rudp_sock;
struct entry;
struct txd;

/* The next free ring slot, with WIRE_MAX bytes at its `data`, flushing first when the
 * ring is full (no slot, or no such room in its byte area); NULL while the kernel cannot
 * take more. tx_commit() adds it, with its `len` bytes. */
struct txd *tx_reserve(struct rudp_sock *s);
void tx_commit(struct rudp_sock *s);

/* Called by platform.c for every datagram the kernel took (counters, pcap), and for a
 * send failure that is not EAGAIN. */
void tx_sent(struct rudp_sock *s, const struct txd *t);
void tx_failed(struct rudp_sock *s);

/* A datagram as it goes on the wire (a DTLS record, or a plaintext one): through the
 * impairment link when there is one, else into the ring. */
void send_raw(struct rudp_sock *s, const uint8_t *data, size_t len, const peer_addr_t *to,
              const peer_addr_t *from, uint64_t now);

/* A datagram not prepared by a connection (listener replies): inside the peer's DTLS
 * session when there is one. */
void send_one(struct rudp_sock *s, const uint8_t *data, size_t len, const peer_addr_t *to,
              const peer_addr_t *from, uint64_t now);

/* Whether datagram d (plaintext) must leave in a send of its own rather than in a GSO
 * run: an INITIAL or an ACCEPT, whose first leaves with its copies right behind it, or a
 * copy of prev, the datagram before it (a probe's second copy; docs/protocol.md §7.3,
 * §10.2). */
int dgram_alone(const uint8_t *d, size_t n, const uint8_t *prev, size_t prev_n);

/* Asks the engine for everything it has to send now and re-keys its deadline. */
void service(struct rudp_sock *s, struct entry *e, uint64_t now);

/* Flushes the pcap file if something was written since the last flush. */
void pcap_settle(struct rudp_sock *s);

#endif
