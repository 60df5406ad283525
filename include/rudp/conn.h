/* The rudp engine: one reliable, ordered message connection, with no I/O of its own.
 * The caller feeds datagrams and the time in, pulls datagrams and messages out, and
 * sleeps until rudp_conn_next_timeout(). Not thread-safe: one thread per connection. */
#ifndef RUDP_CONN_H
#define RUDP_CONN_H

#include "rudp/export.h"

#include <stddef.h>
#include <stdint.h>

#include "rudp/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Allocation hook, used only by rudp_conn_new() and rudp_conn_free(). */
typedef struct rudp_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} rudp_allocator_t;

typedef enum rudp_cc {
    RUDP_CC_NEWRENO = 0, /* slow start + AIMD, RFC 9002 §7 */
    RUDP_CC_NONE = 1,    /* only the window limits sending: for class demos */
} rudp_cc_t;

typedef enum rudp_state {
    RUDP_STATE_HANDSHAKE = 1,   /* client: INITIAL sent, waiting for RETRY/ACCEPT */
    RUDP_STATE_ESTABLISHED = 2, /* data flows both ways */
    RUDP_STATE_DRAINING = 3,    /* both FINs done; answering late FINs for 3 PTO */
    RUDP_STATE_CLOSED = 4,      /* over; rudp_conn_error() tells how */
} rudp_state_t;

/* What the trace hook reports. */
typedef enum rudp_event_kind {
    RUDP_EV_SEND = 1,       /* a datagram left (first transmission) */
    RUDP_EV_RETRANSMIT = 2, /* a DATA/FIN/INITIAL sent again; reason says why */
    RUDP_EV_RECV = 3,       /* a valid datagram arrived */
    RUDP_EV_ACK = 4,        /* sequence numbers newly acknowledged (seq..ack-1 range) */
    RUDP_EV_LOSS = 5,       /* a packet declared lost; reason says how */
    RUDP_EV_TIMEOUT = 6,    /* the probe timer fired */
    RUDP_EV_DELIVER = 7,    /* a message handed to the application, in order */
    RUDP_EV_STATE = 8,      /* state change; reason is the new rudp_state_t */
    RUDP_EV_DROP = 9,       /* an arriving datagram discarded; reason is why */
} rudp_event_kind_t;

/* Reasons for RETRANSMIT and LOSS. */
#define RUDP_WHY_TIMEOUT 1   /* probe timeout (RFC 9002 §6.2) */
#define RUDP_WHY_FAST 2      /* SACK evidence: 3 later packets acked (RFC 9002 §6.1.1) */
#define RUDP_WHY_TIME 3      /* SACK evidence: 9/8 RTT passed (RFC 9002 §6.1.2) */
/* Reasons for DROP: a negative RUDP_E* code, or one of: */
#define RUDP_WHY_DUPLICATE 4 /* already received */
#define RUDP_WHY_WINDOW 5    /* beyond the receive window */
#define RUDP_WHY_STALE 6     /* does not fit the connection's state */

typedef struct rudp_event {
    rudp_event_kind_t kind;
    uint64_t cid;      /* the connection it happened on */
    uint64_t now;      /* µs, the time passed to the call that caused it */
    uint8_t type;      /* packet type, when a packet is involved */
    uint32_t seq;
    uint32_t ack;      /* RECV: the packet's ack field; else the next sequence this
                          side expects (what it acknowledges when it sends) */
    uint32_t len;      /* payload bytes */
    int reason;
    uint64_t rto;      /* the probe timeout in force, µs */
    uint32_t cwnd;     /* congestion window, bytes */
    uint32_t in_flight;/* packets sent and not yet acknowledged or lost */
} rudp_event_t;

typedef void (*rudp_trace_fn)(void *user, const rudp_event_t *ev);

typedef struct rudp_config {
    uint32_t window;            /* packets in flight and receive buffer slots,
                                   1..RUDP_MAX_WINDOW; 1 is stop-and-wait. Default 64 */
    uint32_t send_queue;        /* messages accepted beyond the window; default 64 */
    uint32_t max_message;       /* largest message this side sends or accepts, bytes,
                                   1..RUDP_MAX_PAYLOAD (default). Each connection holds
                                   (2·window + send_queue + 1) buffers of this size, so
                                   a server of short messages saves memory by lowering
                                   it. Both ends must agree: a longer message from the
                                   peer is dropped and counted, never cut. */
    rudp_cc_t cc;               /* default RUDP_CC_NEWRENO */
    uint64_t initial_rto;       /* µs, timeout before any RTT sample; default 1 s */
    uint64_t max_rto;           /* µs, cap on the backed-off timeout; default 4 s */
    uint64_t max_ack_delay;     /* µs, longest this side holds an ACK; default 1 ms */
    uint32_t max_retries;       /* consecutive timeouts before RUDP_ETIMEDOUT; default 8 */
    uint64_t dead_timeout;      /* µs without progress while waiting on the peer before
                                   RUDP_ETIMEDOUT; default 10 s; 0 = only max_retries */
    uint64_t idle_timeout;      /* µs with nothing received before the connection is
                                   closed with RUDP_ETIMEDOUT; default 30 s; 0 = never */
    int coalesce;               /* pack several queued messages into one datagram
                                   (RUDP_F_COALESCED); 0 (default): one per datagram */
    const rudp_allocator_t *allocator; /* NULL: malloc/free */
    rudp_trace_fn trace;        /* NULL: no trace */
    void *trace_user;
} rudp_config_t;

typedef struct rudp_stats {
    uint64_t packets_sent, bytes_sent;         /* every datagram, all types */
    uint64_t packets_received, bytes_received; /* valid datagrams */
    uint64_t data_sent;                        /* DATA/FIN transmissions, first or not */
    uint64_t retransmits_timeout, retransmits_fast;
    uint64_t spurious;           /* retransmissions the peer turned out not to need
                                    (RFC 3522: the original had arrived) */
    uint64_t premature;          /* of those, the ones whose timer fired while the ACK
                                    was already on its way: a timeout set too short */
    uint64_t duplicates;         /* DATA/FIN received twice */
    uint64_t out_of_order;       /* DATA/FIN received ahead of a gap */
    uint64_t corrupt;            /* dropped for a bad checksum or malformed */
    uint64_t dropped;            /* dropped for other reasons (window, state) */
    uint64_t delivered;          /* messages handed to the application */
    uint64_t timeouts;           /* probe timer expiries */
    uint64_t min_rtt, srtt, rttvar, rto; /* µs */
    uint64_t cwnd;               /* bytes */
} rudp_stats_t;

typedef struct rudp_conn rudp_conn_t;

/* Fills *cfg with the defaults above. */
RUDP_API void rudp_config_default(rudp_config_t *cfg);

/* Client side. `cid` and `isn` must come from a good random source (the engine has
 * none). The first rudp_conn_prepare() emits the INITIAL.
 * Returns 0, RUDP_EINVAL (config out of range) or RUDP_ENOMEM. */
RUDP_API int rudp_conn_new_client(rudp_conn_t **out, const rudp_config_t *cfg, uint64_t cid,
                         uint32_t isn, uint64_t now);

/* Server side, for a client whose INITIAL carried a valid cookie (see rudp/listen.h):
 * `hdr` is that INITIAL. The connection starts established and answers with ACCEPT.
 * Returns 0, RUDP_EINVAL or RUDP_ENOMEM. */
RUDP_API int rudp_conn_new_server(rudp_conn_t **out, const rudp_config_t *cfg, const rudp_hdr_t *initial,
                         uint32_t isn, uint64_t now);

/* Frees everything the connection owns. NULL is allowed. */
RUDP_API void rudp_conn_free(rudp_conn_t *c);

/* Feeds one received datagram. Garbage, duplicates and datagrams for another
 * connection are dropped and counted, never delivered.
 * Returns 0 when the datagram was used, or the reason it was dropped (RUDP_ECHECKSUM,
 * RUDP_EMALFORMED, RUDP_EVERSION, RUDP_ESTATE); the connection is unharmed either way. */
RUDP_API int rudp_conn_input(rudp_conn_t *c, const uint8_t *dgram, size_t len, uint64_t now);

/* Runs due timers, then writes the next datagram to send into buf (cap >=
 * RUDP_MAX_DATAGRAM is always enough). Call until it returns 0.
 * Returns the datagram's length, 0 when nothing is to be sent now, or RUDP_EBUFSIZE. */
RUDP_API int rudp_conn_prepare(rudp_conn_t *c, uint64_t now, uint8_t *buf, size_t cap);

/* Absolute time (µs) at which rudp_conn_prepare() must next be called even if no
 * datagram arrives; UINT64_MAX when no timer runs. */
RUDP_API uint64_t rudp_conn_next_timeout(const rudp_conn_t *c);

/* Queues one message (0..RUDP_MAX_PAYLOAD bytes, copied). Returns 0, RUDP_EMSGSIZE,
 * RUDP_EAGAIN (window and send queue full: retry after the peer acknowledges),
 * RUDP_ECLOSED (rudp_conn_close() was called) or the connection's error once closed. */
RUDP_API int rudp_conn_send(rudp_conn_t *c, const void *msg, size_t len, uint64_t now);

/* How many more messages rudp_conn_send() would accept now (0 when it would say
 * RUDP_EAGAIN or the stream is closed). */
RUDP_API uint32_t rudp_conn_send_space(const rudp_conn_t *c);

/* Takes the next in-order message into buf. Returns its length, RUDP_EAGAIN (none
 * ready), RUDP_EBUFSIZE (cap too small; the message stays queued), RUDP_ECLOSED (the
 * peer finished its stream and everything was read) or the connection's error. */
RUDP_API int rudp_conn_recv(rudp_conn_t *c, void *buf, size_t cap);

/* Length of the next in-order message, or the code rudp_conn_recv() would return. */
RUDP_API int rudp_conn_peek_size(const rudp_conn_t *c);

/* Ends this side's stream after the queued messages (a FIN takes the next sequence
 * number). The peer may keep sending until it closes too. Returns 0 or RUDP_ESTATE. */
RUDP_API int rudp_conn_close(rudp_conn_t *c, uint64_t now);

/* Drops the connection at once; the next prepare emits one RESET to the peer. */
RUDP_API void rudp_conn_abort(rudp_conn_t *c, uint64_t now);

/* Ends the connection with `error` (a negative RUDP_E* code, e.g. RUDP_EUNREACH when
 * the driver learns that nothing listens at the peer) and sends nothing: there is
 * nobody to tell. rudp_conn_error() then returns `error`. */
RUDP_API void rudp_conn_fail(rudp_conn_t *c, int error, uint64_t now);

RUDP_API rudp_state_t rudp_conn_state(const rudp_conn_t *c);

/* Why the connection closed: 0 (cleanly), RUDP_ETIMEDOUT, RUDP_ERESET, RUDP_EREFUSED. */
RUDP_API int rudp_conn_error(const rudp_conn_t *c);

/* True once both streams ended and every message was acknowledged and read:
 * the application's work is done (the engine may still drain late FINs). */
RUDP_API int rudp_conn_done(const rudp_conn_t *c);

/* Messages queued by rudp_conn_send() and not yet acknowledged. */
RUDP_API uint32_t rudp_conn_unacked(const rudp_conn_t *c);

RUDP_API uint64_t rudp_conn_cid(const rudp_conn_t *c);

RUDP_API void rudp_conn_stats(const rudp_conn_t *c, rudp_stats_t *out);

/* A short name for a state / an event kind, for traces. */
RUDP_API const char *rudp_state_name(rudp_state_t s);
RUDP_API const char *rudp_event_name(rudp_event_kind_t k);

#ifdef __cplusplus
}
#endif
#endif
