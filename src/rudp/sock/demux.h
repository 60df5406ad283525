/* Connections of one socket: the table by connection ID (server), the deadline heap, the
 * datagrams read from the socket handed to their engine or to the listener, and the
 * events those produce, queued for the application. */
#ifndef RUDP_SOCK_DEMUX_H
#define RUDP_SOCK_DEMUX_H

#include <stddef.h>
#include <stdint.h>

#include "peeraddr.h"
#include "rudp/sock.h"

struct rudp_sock;
struct entry;

/* Sets up the server's table and heap for max connections (client: 1).
 * Returns 0 or RUDP_ENOMEM. */
int demux_open(struct rudp_sock *s, uint32_t max);

/* Frees every entry still held (connections, queued and delivered events). */
void demux_free(struct rudp_sock *s);

/* A new entry for conn, with no deadline yet. NULL when out of memory. */
struct entry *entry_new(rudp_conn_t *conn, uint64_t cid);

/* When the engine must run next (UINT64_MAX: only on input). */
void set_deadline(struct rudp_sock *s, struct entry *e, uint64_t t);

/* The entry of an application's connection (NULL: not one of ours, or already closed). */
struct entry *entry_of(struct rudp_sock *s, const rudp_conn_t *c);

/* After input or a timer: queue what changed for the application, send what is ready,
 * and retire the connection once it is closed and its last RESET (if any) is out. */
void settle(struct rudp_sock *s, struct entry *e, int got_input);

/* The connection got input in this batch: settled once the batch is read. */
void touch(struct rudp_sock *s, struct entry *e);

/* A datagram for the server's connections or its listener, from -> to. */
void server_input(struct rudp_sock *s, const uint8_t *d, size_t len, const peer_addr_t *from,
                  const peer_addr_t *to, uint64_t now);

/* Reads the socket until it is empty or RX_DGRAMS datagrams were read.
 * Returns 0 or RUDP_ESYS. */
int rx_all(struct rudp_sock *s);

/* The client's connected socket reported ICMP port unreachable. */
void on_refused(struct rudp_sock *s);

/* The earliest time anything of s is due (UINT64_MAX: none; 0: now). */
uint64_t next_deadline(const struct rudp_sock *s);

/* The client's deadline as the engine sees it now (see demux.c). */
uint64_t client_deadline(const struct rudp_sock *s);

/* Runs the timers due by now, each connection at most once. */
void run_timers(struct rudp_sock *s, uint64_t now);

/* The next queued event: 1 and *ev, or 0 when none waits. Frees the connection whose
 * CLOSED event was delivered by the previous call. */
int event_next(struct rudp_sock *s, rudp_sock_event_t *ev);

/* Frees the connection whose CLOSED event was delivered last, if any. */
void event_reap(struct rudp_sock *s);

#endif
