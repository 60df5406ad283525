/* The socket driver's platform I/O, every system call of the driver in one place (as
 * ENet keeps unix.c apart): opening and binding UDP sockets, socket options, batched
 * sends (sendmmsg, UDP GSO) and receives (recvmmsg, UDP GRO, IP_PKTINFO), the wait, the
 * monotonic clock and the system's random source. The rest of the driver sees these
 * functions and struct plat_rx's results, never a socket option. */
#ifndef RUDP_SOCK_PLATFORM_H
#define RUDP_SOCK_PLATFORM_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "peeraddr.h"

struct rudp_sock;

/* Receives per batch, and the size of each buffer: with UDP GRO a receive may be a whole
 * run, an IP datagram's worth; without, one datagram, which 2 KiB holds. The buffers are
 * one area sized for either; only the pages written become resident. Each receive costs
 * valgrind a check of every byte offered, so a socket without GRO keeps the small ones
 * (1 MiB per receive is 1.4 ms there, 128 KiB 0.25 ms). MSG_TRUNC catches anything
 * longer. */
#define PLAT_BATCH 64u
#define PLAT_BATCH_GRO 16u
#define PLAT_RX_CAP 2048u
#define PLAT_RX_CAP_GRO 65536u

/* One batch of receives, as plat_rx_batch() left it. */
struct plat_rx {
    uint8_t buf[PLAT_BATCH_GRO * PLAT_RX_CAP_GRO]; /* count x cap bytes (plat_rx_geometry) */
    peer_addr_t from[PLAT_BATCH];
    peer_addr_t to[PLAT_BATCH]; /* len 0: unknown (no IP_PKTINFO) */
    size_t len[PLAT_BATCH];
    size_t seg[PLAT_BATCH]; /* UDP GRO: the size of each datagram in the receive; 0: one */
    int trunc[PLAT_BATCH];
    struct plat_rx_os *os; /* the system's headers for the calls */
};

/* The monotonic clock, µs. */
uint64_t plat_now_us(void);

/* n bytes from the system's random source (getrandom, /dev/urandom). 0 or RUDP_ESYS. */
int plat_random(void *buf, size_t n);

/* The send ring's and receive area's system-side buffers; NULL when out of memory. */
struct plat_tx *plat_tx_new(void);
void plat_tx_free(struct plat_tx *t);
struct plat_rx *plat_rx_new(void);
void plat_rx_free(struct plat_rx *r);

/* Resolves host:port and connects a non-blocking UDP socket to the first address that
 * takes it: s->fd, s->peer, s->local, GSO/GRO. Returns 0, RUDP_EADDR or RUDP_ESYS
 * (errno tells). */
int plat_open_client(struct rudp_sock *s, const char *host, const char *port, int family);

/* Binds host:port (NULL host: every address, IPv6 dual-stack where available): s->fd,
 * s->local, GSO/GRO, IP_PKTINFO for a wildcard server with pcap. Returns as above. */
int plat_open_server(struct rudp_sock *s, const char *host, const char *port, int family);

void plat_close(int fd);

/* The port the socket is bound to, or RUDP_ESYS. */
int plat_local_port(int fd);

/* Sends what the ring holds, in batches; stops at EAGAIN (the ring keeps the rest). */
void plat_tx_flush(struct rudp_sock *s);

/* Writes once what a server's first client would otherwise wait on while each page is
 * touched for the first time (some 13 µs a page on a virtual machine with shadow
 * paging, docs/performance.md §13): the first page of every receive buffer, both
 * batches' headers, the first send slots. Only before anything is queued or received. */
void plat_warm(struct rudp_sock *s);

/* The receive layout in use: how many receives per batch and bytes per receive. */
void plat_rx_geometry(const struct rudp_sock *s, uint32_t *count, size_t *cap);

/* One batch from the socket into s->rx. Returns the count, 0 when nothing waits, or
 * RUDP_ESYS. An ICMP error in the batch's place is counted (icmp_errors) and reads as
 * 0; port unreachable on a client's connected socket also sets s->refused. */
int plat_rx_batch(struct rudp_sock *s);

/* Waits up to wait_us (UINT64_MAX: no limit) for a datagram, or for room to send when
 * want_out, or for one of the application's n_extra (at most RUDP_SOCK_MAX_POLLFDS)
 * descriptors, whose revents it sets (0 after an interrupted wait). `until` is the
 * engines' deadline (monotonic µs) when it is what ends the wait, read at `now`; else
 * UINT64_MAX. On Linux such a wait may end early, at a deadline armed before that has
 * since moved later: the step then finds nothing due. Sets *in / *out to what is ready
 * on the socket. Returns 0, 1 when a signal interrupted the wait, or RUDP_ESYS. */
int plat_wait(struct rudp_sock *s, uint64_t wait_us, uint64_t until, uint64_t now, int want_out,
              int *in, int *out, struct pollfd *extra, unsigned n_extra);
#endif
