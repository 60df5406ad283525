/* The socket driver's shared layouts: struct rudp_sock and one connection's entry, read
 * by every file of src/rudp/sock (platform.c, demux.c, txpath.c, impairlink.c,
 * sockdtls.c, sock.c). Private to librudp; tests may include it. */
#ifndef RUDP_SOCK_INTERNAL_H
#define RUDP_SOCK_INTERNAL_H

#include <stdint.h>

#include "core/heap.h"
#include "core/idtab.h"
#include "core/sources.h"
#include "pcap.h"
#include "peeraddr.h"
#include "platform.h"
#include "rudp/sim.h"
#include "rudp/sock.h"

#include "rudp/dtls.h"

/* The largest datagram on the wire: an engine datagram, or one inside a DTLS record. */
#define WIRE_MAX (RUDP_MAX_DATAGRAM + RUDP_DTLS_OVERHEAD)

#define TX_RING_CLIENT 256u /* send ring, datagrams */
#define TX_RING_SERVER 2048u
#define RX_DGRAMS 1024u /* datagrams read per step (dropped ones too) before timers run */
/* Single-message datagrams queued while handling events before the first of them leave
 * (once a step): see early_send() in sock.c. */
#define EARLY_MSGS 16u

/* Events waiting for the application, one bit each, delivered in this order. */
#define EV_ACCEPTED 1u
#define EV_CONNECTED 2u
#define EV_READABLE 4u
#define EV_CLOSED 8u

struct entry {
    rudp_conn_t *conn;
    uint64_t cid;
    rudp_heap_node_t due; /* in s->due, keyed by when the engine must run next */
    void *user;           /* rudp_sock_set_user() */
    uint8_t key_len;
    uint8_t touched; /* in the list of connections that got input this batch */
    uint8_t connected_sent, eof_sent, unreach;
    uint8_t spun;          /* the engine said "due now" yet had nothing: see service() */
    uint8_t held;          /* client with DTLS: the engine waits for the DTLS handshake */
    uint8_t dead;          /* CLOSED queued: out of the table, freed after its delivery */
    uint8_t ev_pending;    /* EV_* bits not yet delivered */
    uint8_t ev_queued;     /* in the event queue */
    int ev_error;          /* CLOSED: rudp_conn_error() then */
    struct entry *ev_next; /* the event queue */
    uint16_t queued_msgs;  /* sent while the application handled events since the last */
    uint32_t queued_bytes; /* service(): see early_send() */
    uint32_t early_step;   /* the step whose events last sent it early (early_send()) */
    uint8_t key[PEER_KEY_MAX];
    peer_addr_t peer;
    peer_addr_t local;     /* where the peer's datagrams arrive: the source we send from */
    rudp_source_t *source; /* server: its source host's count (front.c) */
    uint8_t unproven;      /* server: accepted without a cookie, not yet proven */
    uint64_t born;         /* server: when accepted, µs */
};

/* One datagram in the send ring. Its bytes lie in the ring's byte area, one datagram
 * after another (tx_reserve). */
struct txd {
    uint16_t len;
    uint8_t alone; /* a DTLS record that leaves in a send of its own (gso_joins) */
    peer_addr_t to, from;
    uint8_t *data; /* WIRE_MAX bytes free when reserved */
};

struct rudp_sock {
    int fd;
    int timer_fd;      /* Linux: the engines' next deadline (plat_wait); -1 not yet
                          opened, -2 none to be had (ppoll's timeout then) */
    uint64_t timer_at; /* when timer_fd was last armed to expire; 0: arm it at the
                          next wait that uses it (as also once timer_at has passed) */
    int server;
    rudp_sock_config_t cfg;
    peer_addr_t local; /* getsockname() */
    peer_addr_t peer;  /* client: the server */

    /* connections (demux.c) */
    struct entry *client;
    struct entry *last_found; /* entry_of()'s last answer; NULL once it is retired */
    rudp_idtab_t table;       /* server: entries by connection ID */
    rudp_idtab_slot_t *slots;
    uint64_t hash_key;
    rudp_heap_t due; /* every entry with a deadline */
    rudp_heap_node_t **due_arr;
    struct entry **touched;
    uint32_t n_touched, touched_cap;
    /* The stateless front door (18 KiB with its replay table); NULL on a client, whose
     * socket is then a few pages smaller to zero. */
    rudp_listener_t *listener;
    uint64_t garbage;       /* datagrams too large to be ours, counted on a client too */
    rudp_ratelimit_t *rate; /* server with handshake_rate: the front door's gate */
    int refused;            /* client: ICMP port unreachable seen (on_refused) */
    /* the front door's policy (front.c) */
    uint32_t unproven, unproven_limit;
    uint64_t load_until, rate_limited_seen;
    rudp_sources_t sources;  /* source hosts and their connection counts */
    struct entry *graveyard; /* dropped unproven, never announced: freed at the next call */

    /* events for the application (demux.c) */
    struct entry *evq_head, *evq_tail;
    struct entry *reap; /* its CLOSED was delivered: freed at the next call */
    int deferring;      /* the application is handling events: its sends wait for the
                           next step, so replies and ACKs share datagrams */
    uint32_t steps;     /* steps begun, to tell one step's events from the next */
    uint64_t now;       /* the clock at the last wake-up or flush: what the engines see
                           while the application handles that step's events (a µs
                           there does not matter; a clock read in a VM can cost more) */

    /* sending (txpath.c, platform.c) */
    struct txd *tx;
    uint8_t *tx_bytes; /* tx_cap x WIRE_MAX: the queued datagrams' bytes, packed from the
                          start; tx_used of them, back to 0 whenever the ring is empty */
    size_t tx_used;
    struct plat_tx *ptx;
    uint32_t tx_cap, tx_head, tx_n;
    int tx_blocked;       /* the kernel said EAGAIN: wait for POLLOUT */
    int gso;              /* UDP GSO: join equal-size datagrams to one peer in one send */
    int gro;              /* UDP GRO: a receive may hold several datagrams of one sender */
    uint32_t gso_single;  /* datagrams at the ring's head to send one by one: their run was
                            refused (a route whose MTU they exceed, say) */
    uint32_t gso_refused; /* refused GSO sends in a row */

    /* impairment (impairlink.c) */
    rudp_sim_link_t *link;
    uint64_t seed;

    rudp_pcap_t *pcap;
    int pcap_dirty;
    int pktinfo;

    struct plat_rx *rx;
    rudp_sock_stats_t st;
    uint8_t scratch[RUDP_SIM_MAX_DGRAM];

    /* DTLS (cfg.dtls, sockdtls.c): every datagram above is a record */
    rudp_dtls_t *dtls;
    char sec_err[160];                   /* rudp_sock_security_error() of a plaintext client */
    uint8_t plain[2][RUDP_MAX_DATAGRAM]; /* an engine's datagrams before sealing: this one
                                            and the one before, to tell a copy (txpath.c) */
    int plain_cur;                       /* which of the two the next one goes in */
    size_t plain_prev_len;               /* the one before's length; 0: none yet */
    int tx_alone; /* the record being sealed goes alone: send_raw() marks its txd */
};

#endif
