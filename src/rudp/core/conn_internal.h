/* Layout of a connection, private to the engine (conn.c, output.c, recovery.c) and its
 * tests, with the small helpers and the calls those three files make of each other. */
#ifndef RUDP_CONN_INTERNAL_H
#define RUDP_CONN_INTERNAL_H

#include "rudp/conn.h"
#include "rudp/wire.h"
#include "rtt.h"

/* Send-slot states. A slot holds one DATA or FIN from rudp_conn_send() until the
 * peer's cumulative ACK passes it. */
enum {
    SLOT_QUEUED = 0,   /* never sent */
    SLOT_INFLIGHT = 1, /* sent, no verdict yet */
    SLOT_LOST = 2,     /* declared lost, waiting to be sent again */
    SLOT_ACKED = 3,    /* selectively acknowledged, kept until the cumulative ACK */
};

struct rudp_snd_slot {
    uint8_t *data;
    uint32_t len;
    uint8_t type; /* RUDP_T_DATA or RUDP_T_FIN */
    uint8_t state;
    uint8_t why;         /* for LOST: the RUDP_WHY_* that declared it */
    uint8_t beyond;      /* last sent past the peer's window: a window probe */
    uint32_t retx;       /* transmissions after the first */
    uint32_t wire_bytes; /* its share of the datagram it last went out in */
    uint32_t last_ts;    /* wire timestamp of the latest transmission */
    uint64_t sent_time;
    uint64_t tx_index; /* order of the latest transmission across the connection */
};

struct rudp_rcv_slot {
    uint8_t *data;
    uint32_t len;
    uint8_t present;
};

struct rudp_conn {
    rudp_config_t cfg;
    rudp_allocator_t alloc;
    rudp_state_t state;
    int error;
    int is_server;
    uint64_t cid;

    /* handshake */
    uint32_t isn_local;
    uint8_t cookie[RUDP_COOKIE_SIZE];
    int have_cookie;
    uint32_t cookie_sent; /* INITIALs that carried the current cookie */
    int accept_pending;   /* server: (re)send ACCEPT */
    int confirmed;        /* server: the client sent something besides INITIAL, so it
                             has our ACCEPT; until then we send no data, only ACCEPTs */
    int validated;        /* server: the client's address is proven (a cookie, or an
                             answer echoing our ISN); until then the 3x limit holds */
    uint64_t amp_recv;    /* server, not validated: bytes received from the address */
    uint64_t amp_sent;    /* and bytes sent to it (RFC 9000 §8.1: at most 3x) */
    uint64_t accept_next; /* server, unconfirmed: when to send ACCEPT again */
    uint64_t hs_next;     /* client: when to (re)send INITIAL */
    uint32_t hs_sent;     /* client: INITIALs sent */
    int hs_answer;        /* client: the next INITIAL answers a RETRY (not a retry) */
    int hs_copy;          /* sends of the first INITIAL (client) or ACCEPT (server) still
                             due, itself and its copies: CONN_HS_SENDS until it leaves,
                             then counts down to 0 */
    uint32_t hs_ts;       /* what tells a copy of a handshake datagram (it carries the same
                             ts): server, the client's first INITIAL's ts; client, the ts
                             its RETRY echoed, then the ACCEPT's ts */
    int reset_pending;
    uint8_t reset_reason;

    /* sender */
    uint8_t *small; /* SMALL_MSG bytes per slot: the send slots', then the receive ones */
    uint8_t *big;   /* max_message bytes per slot, same order */
    struct rudp_snd_slot *snd;
    uint32_t snd_cap;
    uint32_t snd_head;  /* slot of snd_una */
    uint32_t snd_una;   /* oldest sequence not cumulatively acknowledged */
    uint32_t snd_new;   /* next sequence never sent */
    uint32_t snd_nxt;   /* next sequence to assign */
    uint32_t in_flight; /* slots INFLIGHT */
    uint64_t bytes_in_flight;
    uint32_t lost; /* slots LOST */
    uint32_t peer_rwnd;
    uint32_t rwnd_ts; /* the peer's timestamp on the packet peer_rwnd came from */
    uint64_t rwnd_at; /* and when we took it */
    uint64_t tx_counter;
    uint64_t largest_acked_tx;
    int fin_queued;
    uint32_t fin_seq;

    /* timers (µs, 0 = not armed) */
    uint64_t last_eliciting_sent;
    uint32_t pto_count;     /* expiries since the last new ACK: the backoff */
    uint32_t silent_probes; /* expiries since the peer's last packet: the dead-peer
                               count (a zero-window answer is an answer) */
    uint64_t wait_start;    /* when this side last began waiting on the peer */
    uint64_t loss_time;
    int probe_pending; /* probes still to send for the last PTO (CONN_PROBES, then down) */
    uint64_t last_recv;
    uint64_t latest_now; /* the latest time any call passed in: recv() has none */
    uint64_t drain_until;
    uint32_t drain_fins;  /* rounds of peer resends answered while draining */
    uint64_t drain_round; /* when the latest round began */

    /* congestion control, bytes (RFC 9002 §7) */
    uint64_t cwnd;
    uint64_t ssthresh;
    uint64_t recovery_start;
    int recovered_once;

    /* receiver */
    struct rudp_rcv_slot *rcv;
    uint32_t rcv_cap;
    uint32_t rcv_head; /* slot of rcv_read */
    uint32_t rcv_read; /* next sequence for the application */
    uint32_t rcv_nxt;  /* first sequence not yet received */
    uint32_t rcv_high; /* one past the highest sequence received */
    int peer_fin;      /* the peer's FIN is in order (rcv_nxt passed it) */
    int fin_known;     /* a FIN has arrived, in order or not, at peer_fin_seq */
    uint32_t peer_fin_seq;
    int eof_read;       /* the application saw the end of the peer's stream */
    uint32_t last_rwnd; /* receive window last advertised */

    /* acknowledgement state */
    int have_echo;
    uint32_t echo_ts;
    uint64_t echo_arrival;
    uint32_t unacked_rx; /* ack-eliciting packets received since our last ACK */
    int ack_now;
    uint64_t ack_deadline;

    rudp_rtt_t rtt;
    rudp_stats_t st;
};

/* ---- small helpers the engine's files share ------------------------------------ */

static inline struct rudp_snd_slot *conn_snd_slot(rudp_conn_t *c, uint32_t seq)
{
    return &c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap];
}

static inline struct rudp_rcv_slot *conn_rcv_slot(rudp_conn_t *c, uint32_t seq)
{
    return &c->rcv[(c->rcv_head + (seq - c->rcv_read)) % c->rcv_cap];
}

static inline uint32_t conn_wire_len(uint32_t payload)
{
    return RUDP_HEADER_SIZE + payload + RUDP_TRAILER_SIZE;
}

/* Sequence numbers the peer's window lets us put on the wire: [snd_una, limit). */
static inline int conn_window_allows(const rudp_conn_t *c, uint32_t seq)
{
    uint32_t ours = c->cfg.window;
    uint32_t limit = c->peer_rwnd < ours ? c->peer_rwnd : ours;
    return seq - c->snd_una < limit;
}

static inline int conn_cwnd_allows(const rudp_conn_t *c, uint32_t len)
{
    if (c->cfg.cc == RUDP_CC_NONE || c->bytes_in_flight == 0)
        return 1;
    return c->bytes_in_flight + conn_wire_len(len) <= c->cwnd;
}

static inline int conn_outstanding(const rudp_conn_t *c)
{
    return c->in_flight > 0 || c->lost > 0 || c->snd_new != c->snd_nxt;
}

/* A server whose client may not have its ACCEPT yet: data waits until it shows it does
 * (anything but an INITIAL from it), so a lost ACCEPT costs no probes into the void. */
static inline int conn_unconfirmed(const rudp_conn_t *c)
{
    return c->is_server && !c->confirmed && c->state == RUDP_STATE_ESTABLISHED;
}

/* The first INITIAL and the first ACCEPT each go out this many times, back to back
 * (docs/protocol.md section 7.3). */
#define CONN_HS_SENDS 3

/* Datagrams a PTO sends (RFC 9002 §6.2.4 allows two): one lost probe then costs no
 * second, doubled timeout. */
#define CONN_PROBES 2

/* A copy of the first INITIAL or ACCEPT is due (it has left once, not yet thrice). */
static inline int conn_hs_copy_due(const rudp_conn_t *c)
{
    return c->hs_copy > 0 && c->hs_copy < CONN_HS_SENDS;
}

/* Whether an ACCEPT may go out: to a proven address always, to an unproven one while
 * the bytes sent stay within three times those received (RFC 9000 §8.1), so a forged
 * INITIAL cannot make us flood its claimed source. An ACCEPT is a bare header. */
static inline int conn_accept_allowed(const rudp_conn_t *c)
{
    return !c->is_server || c->validated ||
           c->amp_sent + RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE <= 3 * c->amp_recv;
}

/* The peer's receive window, from packet h, and what take_window() compares later
 * packets with: its timestamp and our time. */
static inline void conn_set_window(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    c->peer_rwnd = h->rwnd;
    c->rwnd_ts = h->ts;
    c->rwnd_at = now;
}

static inline void conn_see_time(rudp_conn_t *c, uint64_t now)
{
    if (now > c->latest_now)
        c->latest_now = now;
}

/* ---- conn.c: lifetime, input, the receiver, the application side -------------- */

/* Reports one event to the trace hook (no-op without one). */
void conn_trace(rudp_conn_t *c, rudp_event_kind_t kind, uint64_t now, uint8_t type, uint32_t seq,
                uint32_t len, int reason);
void conn_set_state(rudp_conn_t *c, rudp_state_t s, int error, uint64_t now);
/* Whether sequence seq (at or after rcv_nxt) has arrived: a stored message, or the FIN. */
int conn_held(rudp_conn_t *c, uint32_t seq);
/* Oldest send slot in the given SLOT_* state, or snd_new when there is none. */
uint32_t conn_oldest(const rudp_conn_t *c, int state);

/* ---- recovery.c: ACKs, RTT, loss detection, the timers, congestion control ------ */

void recovery_init(rudp_conn_t *c);
/* Takes the ACK part of packet h: SACK, RTT sample, losses, the send window. */
void recovery_on_ack(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now);
/* One RTT sample from a timestamp echo, ignored when the echo is from the future. */
void recovery_rtt_sample(rudp_conn_t *c, uint32_t ts_echo, uint32_t ack_delay, uint64_t now);
/* Frees the send slots the cumulative ACK `ack` passed. */
void recovery_advance_una(rudp_conn_t *c, uint32_t ack);
/* Runs every timer that expired at `now` (the table in recovery.c). */
void recovery_on_timers(rudp_conn_t *c, uint64_t now);
/* The probe timeout before backoff, and with it (RFC 9002 §6.2, RFC 6298 §5.5). */
uint64_t recovery_pto(const rudp_conn_t *c);
uint64_t recovery_pto_backed_off(const rudp_conn_t *c);
/* The client's wait before its next INITIAL: the same backoff, capped at max_rto. */
uint64_t recovery_handshake_timeout(const rudp_conn_t *c);

#endif
