/* The rudp engine: one reliable, ordered message connection, with no I/O of its own.
 * The caller feeds datagrams and the time in, pulls datagrams and messages out, and
 * sleeps until rudp_conn_next_timeout(); docs/api.md shows the loop:
 *     rudp_conn_input() for each datagram -> rudp_conn_prepare() until it returns 0
 *     -> rudp_conn_next_timeout() -> sleep until then or the next datagram.
 * Times (`now`) are microseconds of a monotonic clock, never decreasing for one connection.
 * Memory: one allocation per connection, at creation (the size is in docs/api.md); every
 * buffer passed in is copied or only read during the call, and never kept.
 * Thread-safety: a connection is used by one thread at a time (calls on different
 * connections may run in parallel); the engine has no global state. Functions taking a
 * rudp_conn_t need a valid one (not NULL) unless they say otherwise. */
#ifndef RUDP_CONN_H
#define RUDP_CONN_H

#include "rudp/export.h"

#include <stddef.h>
#include <stdint.h>

#include "rudp/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Allocation hook, used only by rudp_conn_new_client/server() (one alloc per
 * connection) and rudp_conn_free() (its free). alloc returns memory aligned for any type,
 * or NULL (the creation then fails with RUDP_ENOMEM); ctx is passed back untouched. The
 * struct is copied at creation. In tests it routes through cmocka's test_malloc. */
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

/* What the trace hook reports (rudp_event_t.kind). */
typedef enum rudp_event_kind {
    RUDP_EV_SEND = 1,       /* a datagram left (first transmission); reason RUDP_WHY_COPY
                               for a copy of the first INITIAL or ACCEPT, else 0 */
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
#define RUDP_WHY_TIMEOUT 1 /* probe timeout (RFC 9002 §6.2) */
#define RUDP_WHY_FAST 2    /* SACK evidence: 3 later packets acked (RFC 9002 §6.1.1) */
#define RUDP_WHY_TIME 3    /* SACK evidence: 9/8 RTT passed (RFC 9002 §6.1.2) */
/* Reason for a SEND: */
#define RUDP_WHY_COPY 7 /* a copy of the first INITIAL or ACCEPT (protocol.md §7.3) */
/* Reasons for DROP: a negative RUDP_E* code, or one of: */
#define RUDP_WHY_DUPLICATE 4 /* already received */
#define RUDP_WHY_WINDOW 5    /* beyond the receive window */
#define RUDP_WHY_STALE 6     /* does not fit the connection's state */

typedef struct rudp_event {
    rudp_event_kind_t kind;
    uint64_t cid; /* the connection it happened on */
    uint64_t now; /* µs, the time passed to the call that caused it */
    uint8_t type; /* packet type, when a packet is involved */
    uint32_t seq;
    uint32_t ack; /* RECV: the packet's ack field; else the next sequence this
                     side expects (what it acknowledges when it sends) */
    uint32_t len; /* payload bytes */
    int reason;
    uint64_t rto;       /* the probe timeout in force, µs */
    uint32_t cwnd;      /* congestion window, bytes */
    uint32_t in_flight; /* packets sent and not yet acknowledged or lost */
} rudp_event_t;

/* The trace hook (rudp_config_t.trace): called synchronously from inside the engine call
 * that caused the event, with rudp_config_t.trace_user. *ev is valid only during the call.
 * The hook must not call rudp_conn_* functions on the connection it traces. */
typedef void (*rudp_trace_fn)(void *user, const rudp_event_t *ev);

typedef struct rudp_config {
    uint32_t window;                   /* packets in flight and receive buffer slots,
                                          1..RUDP_MAX_WINDOW; 1 is stop-and-wait. Default 64 */
    uint32_t send_queue;               /* messages accepted beyond the window; default 64 */
    uint32_t max_message;              /* largest message this side sends or accepts, bytes,
                                          1..RUDP_MAX_PAYLOAD (default). Each connection holds
                                          (2·window + send_queue + 1) buffers of this size, so
                                          a server of short messages saves memory by lowering
                                          it. Both ends must agree: a longer message from the
                                          peer is dropped and counted, never cut. */
    rudp_cc_t cc;                      /* default RUDP_CC_NEWRENO */
    uint64_t initial_rto;              /* µs, timeout before any RTT sample; default 250 ms */
    uint64_t max_rto;                  /* µs, cap on the backed-off timeout; default 4 s */
    uint64_t max_ack_delay;            /* µs, longest this side holds an ACK; default 250 µs:
                                          it is part of every probe timeout, and on a LAN a
                                          millisecond is many round trips */
    uint32_t max_retries;              /* consecutive timeouts before RUDP_ETIMEDOUT, once the
                                          peer has also been silent for min(dead_timeout, 3 s)
                                          (a paused peer is not dead); default 8 */
    uint64_t dead_timeout;             /* µs without progress while waiting on the peer before
                                          RUDP_ETIMEDOUT; default 10 s; 0 = only max_retries */
    uint64_t idle_timeout;             /* µs with nothing received before the connection is
                                          closed with RUDP_ETIMEDOUT; default 30 s; 0 = never */
    int coalesce;                      /* pack several queued messages into one datagram
                                          (RUDP_F_COALESCED); 0 (default): one per datagram */
    const rudp_allocator_t *allocator; /* NULL: malloc/free */
    rudp_trace_fn trace;               /* NULL: no trace */
    void *trace_user;
} rudp_config_t;

typedef struct rudp_stats {
    uint64_t packets_sent, bytes_sent;              /* every datagram, all types */
    uint64_t packets_received, bytes_received;      /* valid datagrams */
    uint64_t data_sent;                             /* DATA/FIN transmissions, first or not */
    uint64_t retransmits_timeout, retransmits_fast; /* datagrams sent again, by cause */
    uint64_t spurious;                   /* retransmissions the peer turned out not to need
                                            (RFC 3522: the original had arrived) */
    uint64_t premature;                  /* of those, the ones whose timer fired while the ACK
                                            was already on its way: a timeout set too short */
    uint64_t duplicates;                 /* DATA/FIN received twice, and the copies of the
                                            peer's first INITIAL, ACCEPT or RETRY */
    uint64_t out_of_order;               /* DATA/FIN received ahead of a gap */
    uint64_t corrupt;                    /* dropped for a bad checksum or malformed */
    uint64_t dropped;                    /* dropped for other reasons (window, state) */
    uint64_t delivered;                  /* messages handed to the application */
    uint64_t timeouts;                   /* probe timer expiries */
    uint64_t min_rtt, srtt, rttvar, rto; /* µs */
    uint64_t cwnd;                       /* bytes */
    uint64_t silence;                    /* µs the peer had been silent when the connection
                                            gave it up (RUDP_ETIMEDOUT); else 0 */
    uint64_t handshake_retries;          /* client: INITIALs sent again after a timeout
                                            (a lost INITIAL or ACCEPT); a reply to a RETRY
                                            is not one */
} rudp_stats_t;

typedef struct rudp_conn rudp_conn_t;

/* The engine's settings, copied at creation (the allocator and trace_user pointers are
 * kept: what they point to must outlive the connection). Start from
 * rudp_config_default() and change fields; values out of range make creation fail with
 * RUDP_EINVAL. */
/* Fills *cfg with the defaults above. cfg must not be NULL. Thread-safe. */
RUDP_API void rudp_config_default(rudp_config_t *cfg);

/* Client side: creates a connection in RUDP_STATE_HANDSHAKE and stores it in *out; the
 * caller owns it and frees it with rudp_conn_free(). `cid` (connection ID) and `isn`
 * (initial sequence number) must come from a good random source such as
 * rudp_random_bytes() (the engine has none). The first rudp_conn_prepare() emits the
 * INITIAL.
 * Returns 0, RUDP_EINVAL (config out of range) or RUDP_ENOMEM. */
RUDP_API int rudp_conn_new_client(rudp_conn_t **out, const rudp_config_t *cfg, uint64_t cid,
                                  uint32_t isn, uint64_t now);

/* Server side, for a client whose INITIAL carried a valid cookie (see rudp/listen.h):
 * `initial` is that INITIAL as rudp_listener_input() decoded it (only read during the call),
 * `isn` this side's random initial sequence number. The connection starts established
 * and answers with ACCEPT; *out is the caller's to free with rudp_conn_free().
 * Returns 0, RUDP_EINVAL or RUDP_ENOMEM. */
RUDP_API int rudp_conn_new_server(rudp_conn_t **out, const rudp_config_t *cfg,
                                  const rudp_hdr_t *initial, uint32_t isn, uint64_t now);

/* Frees the connection's one allocation (through its allocator). Sends nothing: call
 * rudp_conn_close() or rudp_conn_abort() and prepare first to tell the peer. NULL is
 * allowed. */
RUDP_API void rudp_conn_free(rudp_conn_t *c);

/* Feeds one received datagram dgram[0..len) (read during the call, not kept). Garbage,
 * duplicates and datagrams for another connection are dropped and counted, never
 * delivered. Call rudp_conn_prepare() afterwards: input may make ACKs or data due.
 * Returns 0 when the datagram was used, or the reason it was dropped (RUDP_ECHECKSUM,
 * RUDP_EMALFORMED, RUDP_EVERSION, RUDP_ESTATE); the connection is unharmed either way. */
RUDP_API int rudp_conn_input(rudp_conn_t *c, const uint8_t *dgram, size_t len, uint64_t now);

/* Runs due timers, then writes the next datagram to send into buf[0..cap) (cap >=
 * RUDP_MAX_DATAGRAM is always enough). Call until it returns 0, after every input, send,
 * close or abort and whenever rudp_conn_next_timeout() has passed; send each datagram
 * to the peer as it comes.
 * Returns the datagram's length, 0 when nothing is to be sent now, or RUDP_EBUFSIZE. */
RUDP_API int rudp_conn_prepare(rudp_conn_t *c, uint64_t now, uint8_t *buf, size_t cap);

/* Absolute time (µs, the clock of `now`) at which rudp_conn_prepare() must next be
 * called even if no datagram arrives; UINT64_MAX when no timer runs (a closed
 * connection). Meaningful after the last rudp_conn_prepare() returned 0. */
RUDP_API uint64_t rudp_conn_next_timeout(const rudp_conn_t *c);

/* Queues one message msg[0..len) (0..max_message bytes, copied; msg may be NULL when len
 * is 0); rudp_conn_prepare() sends it when the windows allow. Returns 0, RUDP_EMSGSIZE
 * (len over the config's max_message), RUDP_EINVAL (NULL msg with len > 0),
 * RUDP_EAGAIN (window and send queue full: retry after the peer acknowledges),
 * RUDP_ECLOSED (rudp_conn_close() was called) or the connection's error once closed. */
RUDP_API int rudp_conn_send(rudp_conn_t *c, const void *msg, size_t len, uint64_t now);

/* How many more messages rudp_conn_send() would accept now (0 when it would say
 * RUDP_EAGAIN or the stream is closed). Space opens when the peer acknowledges. */
RUDP_API uint32_t rudp_conn_send_space(const rudp_conn_t *c);

/* Copies the next in-order message into buf[0..cap) and frees its slot (which may
 * reopen the receive window: prepare afterwards). Returns its length (0 for an empty
 * message), RUDP_EAGAIN (none ready), RUDP_EBUFSIZE (cap too small; the message stays
 * queued; cap >= max_message is always enough), RUDP_ECLOSED (the peer finished its
 * stream and everything was read) or the connection's error. May call the trace hook
 * (DELIVER). */
RUDP_API int rudp_conn_recv(rudp_conn_t *c, void *buf, size_t cap);

/* Length of the next in-order message without taking it, or the negative code
 * rudp_conn_recv() would return. */
RUDP_API int rudp_conn_peek_size(const rudp_conn_t *c);

/* Ends this side's stream after the queued messages (a FIN takes the next sequence
 * number; room for it is always kept). The peer may keep sending until it closes too;
 * rudp_conn_done() then tells when all is over. Calling it again is a no-op returning 0.
 * Returns 0, or RUDP_ESTATE when the connection is draining or closed. */
RUDP_API int rudp_conn_close(rudp_conn_t *c, uint64_t now);

/* Drops the connection at once (state CLOSED, rudp_conn_error() RUDP_ECLOSED); the
 * next prepare emits one RESET to the peer (none if nothing was ever sent). Queued and
 * unread messages are discarded. No-op on a closed connection. */
RUDP_API void rudp_conn_abort(rudp_conn_t *c, uint64_t now);

/* Ends the connection with `error` (a negative RUDP_E* code, e.g. RUDP_EUNREACH when
 * the driver learns that nothing listens at the peer; a value >= 0 counts as
 * RUDP_ECLOSED) and sends nothing: there is nobody to tell. rudp_conn_error() then
 * returns `error`. No-op on a closed connection. */
RUDP_API void rudp_conn_fail(rudp_conn_t *c, int error, uint64_t now);

/* The connection's state (rudp_state_t above). */
RUDP_API rudp_state_t rudp_conn_state(const rudp_conn_t *c);

/* Why the connection closed: 0 (cleanly, or not closed yet), RUDP_ETIMEDOUT (dead peer
 * or idle), RUDP_ERESET, RUDP_EREFUSED (server full), RUDP_ECLOSED (rudp_conn_abort()),
 * or the code given to rudp_conn_fail(). */
RUDP_API int rudp_conn_error(const rudp_conn_t *c);

/* True once both streams ended and every message was acknowledged and read:
 * the application's work is done (the engine may still drain late FINs). */
RUDP_API int rudp_conn_done(const rudp_conn_t *c);

/* Messages queued by rudp_conn_send() and not yet acknowledged. */
RUDP_API uint32_t rudp_conn_unacked(const rudp_conn_t *c);

/* 1 when the peer's address is proven: always for a client, and for a server made from
 * an INITIAL with a valid cookie; a server made from one without (a listener with
 * require_retry 0) proves it when the client echoes its ISN. Until then it sends only
 * ACCEPTs, within 3x the bytes received (docs/protocol.md §7.2). A driver counts its
 * unproven connections to decide when it is under load. */
RUDP_API int rudp_conn_validated(const rudp_conn_t *c);

/* The connection ID (chosen by the client), to demultiplex with rudp_wire_peek_cid(). */
RUDP_API uint64_t rudp_conn_cid(const rudp_conn_t *c);

/* Copies the connection's counters and RTT state into *out (any time, closed too). */
RUDP_API void rudp_conn_stats(const rudp_conn_t *c, rudp_stats_t *out);

/* A short name for a state ("ESTABLISHED") / an event kind ("retransmit"), for traces;
 * "?" when unknown. Never NULL; static strings; thread-safe. */
RUDP_API const char *rudp_state_name(rudp_state_t s);
RUDP_API const char *rudp_event_name(rudp_event_kind_t k);

#ifdef __cplusplus
}
#endif
#endif
