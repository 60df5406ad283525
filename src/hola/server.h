/* server.h: what hola-server's per-protocol loops (server_tcp.c, server_udp.c) share with
 * its main (server.c): configuration, the stop signal, greeting, counters. */
#ifndef HOLA_SERVER_H
#define HOLA_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "netopts.h"
#include "opts.h"
#include "stats.h"

struct hola_server_cfg {
    enum hola_proto proto;
    const char *bind;        /* NULL: every local address, IPv6 and IPv4 */
    uint16_t port;           /* 0: the kernel picks one (see port_file) */
    unsigned long count;     /* stop after this many names; 0: run until a signal */
    const char *port_file;   /* NULL, or where to write the bound port once listening */
    struct hola_netopts net; /* rudp's engine, trace, pcap; the impairment (udp, rudp) */
    /* tcp (server_tcp.c, docs/limits.md): how long a connection may send no name, and
     * its replies wait unread, in ms (0: no limit); connections one source may hold
     * (0: an eighth of the connection limit). */
    unsigned long idle_timeout_ms;
    unsigned long write_timeout_ms;
    unsigned long max_per_source; /* tcp, rudp, DTLS sessions; 0: an eighth of --max-clients */
    bool always_retry;            /* rudp: the stateless RETRY for every new client */
};

#define HOLA_TCP_IDLE_TIMEOUT_MS 60000UL
#define HOLA_TCP_WRITE_TIMEOUT_MS 10000UL
#define HOLA_TCP_TIMEOUT_MAX 86400000UL /* ms: a day */

struct hola_server {
    struct hola_server_cfg cfg;
    int stop_fd; /* readable once SIGINT or SIGTERM arrived (self-pipe) */
    unsigned long greeted;
    struct hola_stats stats;
};

/* Creates, binds (and for TCP, listens on) the server socket, non-blocking; announces the
 * address on stderr and writes the port file. Returns the descriptor, or -1 with e set. */
int hola_server_open(struct hola_server *srv, int socktype, struct hola_err *e);

/* Announces the bound address of fd on stderr ("listening on ...") and writes the port
 * file. Returns 0, or -1 with e set. */
int hola_server_announce(struct hola_server *srv, int fd, struct hola_err *e);

/* True once the SIGINT/SIGTERM self-pipe is readable; empties it. */
bool hola_server_signalled(struct hola_server *srv);

/* True once --count names have been greeted, or standard output failed (the lines there
 * are the server's record: it stops rather than serve without it). */
bool hola_server_done(const struct hola_server *srv);

/* Prints "Hola <name>" on stdout (written out by hola_out_flush()), counts it,
 * and writes the reply text "Hola <name>" (no newline) to reply. Returns its length, or 0
 * when it does not fit in cap (not possible for a checked name and HOLA_REPLY_MAX). */
size_t hola_server_greet(struct hola_server *srv, const char *name, size_t len, char *reply,
                         size_t cap);

/* "Hola " + the longest name + "\r\n". */
#define HOLA_REPLY_MAX (5 + 512 + 2)

/* One per protocol. Return 0 after a clean stop (signal or --count), -1 with e set. */
int hola_server_tcp_run(struct hola_server *srv, struct hola_err *e);
int hola_server_udp_run(struct hola_server *srv, struct hola_err *e);
int hola_server_rudp_run(struct hola_server *srv, struct hola_err *e);

/* How long a stopping server (--count reached, or a first SIGINT/SIGTERM) keeps going
 * to deliver the replies already given; a second signal stops at once. After --count,
 * rudp goes on past it while a connection has replies unacknowledged, up to
 * HOLA_SERVER_GRACE_US (or --dead-timeout, when shorter) after the count was reached;
 * then it resets what is still open (server_rudp.c, docs/limits.md). */
#define HOLA_SERVER_STOP_US 2000000u
#define HOLA_SERVER_GRACE_US 5000000u

#endif
