/* A hostile sender for the loopback tests: several UDP sockets bound to other loopback
 * addresses (127.0.0.2, .3, ...: a real source address each, as a spoofer's would be)
 * fire a seeded mix of bad datagrams at a rudp server, and count, per source, the bytes
 * they sent and the bytes that came back. Used in-process by test_hostile.c and as the
 * hostile_flood program by hostile_cli.sh. */
#ifndef HOLA_FLOOD_H
#define HOLA_FLOOD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "rudp/sim.h"
#include "rudp/wire.h"

#define FLOOD_MAX_SRC 16
#define FLOOD_POOL 256

typedef enum flood_kind {
    FLOOD_RANDOM,        /* random bytes, random length 0..1500 */
    FLOOD_TRUNCATED,     /* a valid datagram cut short */
    FLOOD_OVERSIZED,     /* 1369..2048 bytes: over RUDP_MAX_DATAGRAM */
    FLOOD_HUGE,          /* 2049..8000 bytes: over the server's receive buffer too */
    FLOOD_CHECKSUM,      /* a valid datagram with one bit flipped */
    FLOOD_REPLAY,        /* a captured real datagram, sent again from here */
    FLOOD_WRONG_CID,     /* valid DATA/ACK/FIN of a connection that does not exist */
    FLOOD_REAL_CID,      /* valid DATA with a live connection's ID, from the wrong address */
    FLOOD_FORGED_COOKIE, /* INITIAL with a made-up cookie */
    FLOOD_STOLEN_COOKIE, /* INITIAL echoing a cookie the server gave another address */
    FLOOD_INITIAL,       /* a handshake never finished (the spoofed source never answers) */
    FLOOD_RESET,         /* valid RESET for a random ID: must not be answered */
    FLOOD_KINDS
} flood_kind_t;

typedef struct flood_src {
    int fd;
    struct sockaddr_in addr;
    uint64_t sent, sent_bytes; /* datagrams the kernel took */
    uint64_t got, got_bytes;   /* what came back */
} flood_src_t;

typedef struct flood {
    struct sockaddr_in target;
    flood_src_t src[FLOOD_MAX_SRC];
    int n_src;
    rudp_prng_t rng;
    uint64_t by_kind[FLOOD_KINDS];
    uint64_t total;
    uint64_t real_cid;                /* a live connection's ID (0: none known yet) */
    uint8_t cookie[RUDP_COOKIE_SIZE]; /* from a RETRY some source received */
    uint64_t cookie_cid;
    int cookie_src, have_cookie;
    uint8_t pool[FLOOD_POOL][RUDP_MAX_DATAGRAM];
    uint16_t pool_len[FLOOD_POOL];
    uint32_t pool_n, pool_next;
} flood_t;

/* Binds n_src sockets to 127.0.0.(first_host + i), ports chosen by the kernel, aimed at
 * 127.0.0.1:port. Returns 0, or -1 when a loopback address cannot be bound. */
int flood_open(flood_t *f, int port, int n_src, int first_host, uint64_t seed);

/* Adds a real datagram to the replay pool (the oldest goes when full). */
void flood_capture(flood_t *f, const uint8_t *d, size_t len);

/* Sends n datagrams of kinds drawn from the mix, round-robin over the sources. Returns
 * how many the kernel took. */
uint32_t flood_send(flood_t *f, uint32_t n);

/* Reads what came back to every source (counted; RETRY cookies kept for STOLEN_COOKIE). */
void flood_drain(flood_t *f);

void flood_close(flood_t *f);

const char *flood_kind_name(int kind);

/* The worst reply ratio over the sources: got_bytes / sent_bytes (0 when nothing sent). */
double flood_worst_ratio(const flood_t *f, int *which);

#endif
