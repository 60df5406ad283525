/* The rudp connection engine: one connection's state, the datagrams it takes in, and
 * the application's side (send, close, recv). What it sends is built in output.c, and
 * the sequence-number / ACK / retransmission heart, with every timer, is recovery.c.
 *
 * Design, in the order a datagram meets it:
 *  - Sequence numbers count messages (one DATA = one number; FIN takes one too), as
 *    in TCP but per message. A retransmission reuses the sequence number.
 *  - The receiver keeps every packet inside its window and acknowledges cumulatively
 *    plus a SACK bitmap that covers the whole window, so any single ACK that arrives
 *    tells the sender everything; ACK loss costs little. ACK policy (RFC 9002 §6.2.1,
 *    RFC 5681 §4.2): every second packet, after max_ack_delay, at once on a gap, a
 *    duplicate or a FIN.
 *  - The engine reads no clock and owns no socket: `now` comes with every call, and
 *    all memory is taken in rudp_conn_new_*().
 */
#include <stdlib.h>
#include <string.h>

#include "conn_internal.h"
#include "rudp/error.h"
#include "seq.h"

/* ---- configuration and lifetime ------------------------------------------ */

void rudp_config_default(rudp_config_t *cfg)
{
    *cfg = (rudp_config_t){
        .window = 64,
        .send_queue = 64,
        .max_message = RUDP_MAX_PAYLOAD,
        .cc = RUDP_CC_NEWRENO,
        .initial_rto = 250000,
        .max_rto = 4000000,
        .max_ack_delay = 250,
        .max_retries = 8,
        .dead_timeout = 10000000,
        .idle_timeout = 30000000,
    };
}

static void *default_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void default_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static int config_ok(const rudp_config_t *cfg)
{
    return cfg->window >= 1 && cfg->window <= RUDP_MAX_WINDOW && cfg->send_queue <= 65536 &&
           cfg->initial_rto >= RUDP_GRANULARITY_US && cfg->max_message >= 1 &&
           cfg->max_message <= RUDP_MAX_PAYLOAD && cfg->max_rto >= cfg->initial_rto &&
           cfg->max_retries >= 1 && (cfg->cc == RUDP_CC_NEWRENO || cfg->cc == RUDP_CC_NONE) &&
           cfg->max_ack_delay <= 1000000 &&
           (!cfg->allocator || (cfg->allocator->alloc && cfg->allocator->free));
}

/* Every slot has two buffers: SMALL_MSG bytes in a dense area, used for a message that
 * fits (a name, a greeting), and max_message bytes for one that does not. Both areas
 * stay untouched until used, and a short message then touches SMALL_MSG bytes rather
 * than its own stretch of a max_message stride: 2000 names through fixed 520-byte
 * buffers make some 250 fresh pages, whose first-touch faults (several microseconds
 * each on a virtual machine) used to dominate a coalesced run. */
#define SMALL_MSG 64u

/* The buffer for a message of len bytes in slot `index` (send slots first, then the
 * receive slots). */
static uint8_t *slot_buf(const rudp_conn_t *c, size_t index, size_t len)
{
    if (len <= SMALL_MSG)
        return c->small + index * SMALL_MSG;
    return c->big + index * c->cfg.max_message;
}

/* One allocation holds the struct, both slot arrays and every payload buffer, so a
 * connection's memory is fixed and visible at creation (documented in docs/api.md). */
static int conn_alloc(rudp_conn_t **out, const rudp_config_t *cfg, uint64_t now)
{
    if (!out || !cfg || !config_ok(cfg))
        return RUDP_EINVAL;
    rudp_allocator_t a = { default_alloc, default_free, NULL };
    if (cfg->allocator)
        a = *cfg->allocator;

    uint32_t snd_cap = cfg->window + cfg->send_queue + 1; /* +1: room for the FIN */
    uint32_t rcv_cap = cfg->window;
    size_t size = sizeof(rudp_conn_t) + snd_cap * sizeof(struct rudp_snd_slot) +
                  rcv_cap * sizeof(struct rudp_rcv_slot) +
                  ((size_t)snd_cap + rcv_cap) * (SMALL_MSG + cfg->max_message);
    uint8_t *mem = a.alloc(a.ctx, size);
    if (!mem)
        return RUDP_ENOMEM;
    /* Only the struct and the receive slots (whose `present` flags the window reads)
     * need zeroes. A send slot is written whole when a message is queued into it
     * (queue_slot) and read only between snd_una and snd_nxt; payload buffers are
     * written before they are read. Left untouched, a page is first touched when the
     * connection uses it: a first touch costs several microseconds on a virtual machine,
     * and zeroing a 1024-message window's send slots (some 25 pages) at creation used to
     * hold up every ACCEPT by as much. */
    rudp_conn_t *c = (rudp_conn_t *)(void *)mem;
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->alloc = a;
    c->snd = (struct rudp_snd_slot *)(void *)(mem + sizeof *c);
    c->rcv = (struct rudp_rcv_slot *)(void *)(c->snd + snd_cap);
    memset(c->rcv, 0, rcv_cap * sizeof *c->rcv);
    c->small = (uint8_t *)(c->rcv + rcv_cap);
    c->big = c->small + ((size_t)snd_cap + rcv_cap) * SMALL_MSG;
    c->snd_cap = snd_cap;
    c->rcv_cap = rcv_cap;

    recovery_init(c);
    c->peer_rwnd = 1;
    c->last_recv = now;
    c->latest_now = now;
    c->last_rwnd = rcv_cap;
    *out = c;
    return 0;
}

/* Reports one event; `ack` is the packet's own ack field for packets (sent or
 * received), else the next sequence number we expect. */
static void trace_ack(rudp_conn_t *c, rudp_event_kind_t kind, uint64_t now, uint8_t type,
                      uint32_t seq, uint32_t ack, uint32_t len, int reason)
{
    if (!c->cfg.trace)
        return;
    rudp_event_t ev = {
        .kind = kind,
        .cid = c->cid,
        .now = now,
        .type = type,
        .seq = seq,
        .ack = ack,
        .len = len,
        .reason = reason,
        .rto = rudp_rtt_pto(&c->rtt, c->cfg.max_ack_delay),
        .cwnd = c->cfg.cc == RUDP_CC_NONE ? 0 : (uint32_t)c->cwnd,
        .in_flight = c->in_flight,
    };
    c->cfg.trace(c->cfg.trace_user, &ev);
}

void conn_trace(rudp_conn_t *c, rudp_event_kind_t kind, uint64_t now, uint8_t type, uint32_t seq,
                uint32_t len, int reason)
{
    trace_ack(c, kind, now, type, seq, c->rcv_nxt, len, reason);
}

void conn_set_state(rudp_conn_t *c, rudp_state_t s, int error, uint64_t now)
{
    if (c->state == s)
        return;
    c->state = s;
    if (s == RUDP_STATE_CLOSED && !c->error)
        c->error = error;
    conn_trace(c, RUDP_EV_STATE, now, 0, 0, 0, (int)s);
}

int rudp_conn_new_client(rudp_conn_t **out, const rudp_config_t *cfg, uint64_t cid, uint32_t isn,
                         uint64_t now)
{
    int rc = conn_alloc(out, cfg, now);
    if (rc)
        return rc;
    rudp_conn_t *c = *out;
    c->cid = cid;
    c->isn_local = isn;
    c->snd_una = c->snd_new = c->snd_nxt = isn;
    c->hs_next = now;
    c->state = RUDP_STATE_HANDSHAKE;
    c->hs_copy = CONN_HS_SENDS;
    return 0;
}

int rudp_conn_new_server(rudp_conn_t **out, const rudp_config_t *cfg, const rudp_hdr_t *initial,
                         uint32_t isn, uint64_t now)
{
    if (!initial || initial->type != RUDP_T_INITIAL)
        return RUDP_EINVAL;
    int rc = conn_alloc(out, cfg, now);
    if (rc)
        return rc;
    rudp_conn_t *c = *out;
    c->is_server = 1;
    c->cid = initial->cid;
    c->isn_local = isn;
    c->snd_una = c->snd_new = c->snd_nxt = isn;
    c->rcv_read = c->rcv_nxt = c->rcv_high = initial->seq;
    conn_set_window(c, initial, now);
    c->have_echo = 1;
    c->echo_ts = initial->ts;
    c->echo_arrival = now;
    c->accept_pending = 1;
    c->hs_copy = CONN_HS_SENDS;
    c->hs_ts = initial->ts;
    /* The listener accepts an INITIAL with a cookie only when the cookie checks out,
     * so its presence is the proof; one without was accepted at once, unproven. */
    c->validated = initial->payload_len == RUDP_COOKIE_SIZE;
    c->amp_recv = rudp_wire_size(initial);
    c->state = RUDP_STATE_ESTABLISHED;
    return 0;
}

void rudp_conn_free(rudp_conn_t *c)
{
    if (c)
        c->alloc.free(c->alloc.ctx, c);
}

/* ---- the receiver -------------------------------------------------------- */

/* Whether sequence seq (at or after rcv_nxt) has arrived: a stored message, or the FIN. */
int conn_held(rudp_conn_t *c, uint32_t seq)
{
    if (c->fin_known && seq == c->peer_fin_seq)
        return 1;
    return (uint32_t)(seq - c->rcv_read) < c->rcv_cap && conn_rcv_slot(c, seq)->present;
}

/* Both FINs in and ours acknowledged: enter DRAINING (RFC 9000 §10.2). */
static void conn_drain_if_done(rudp_conn_t *c, uint64_t now)
{
    if (c->state != RUDP_STATE_ESTABLISHED || !c->fin_queued || !c->peer_fin ||
        rudp_seq_le(c->snd_una, c->fin_seq))
        return;
    /* RFC 9000 §10.2 keeps a closed endpoint for three PTOs so a peer whose last ACK
     * was lost gets its FIN acknowledged again instead of a RESET. */
    c->drain_until = now + 3 * recovery_pto(c);
    conn_set_state(c, RUDP_STATE_DRAINING, 0, now);
}

static void note_echo(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    /* Echo the newest timestamp: the RTT sample then measures the latest round trip,
     * and an ACK echoing something older than a retransmission proves it spurious. */
    if (!c->have_echo || (int32_t)(h->ts - c->echo_ts) >= 0) {
        c->echo_ts = h->ts;
        c->echo_arrival = now;
        c->have_echo = 1;
    }
}

/* A copy of the peer's first INITIAL or ACCEPT (output.c sends each CONN_HS_SENDS
 * times): a duplicate, answered by what its first copy brought. */
static void handshake_copy(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    c->st.duplicates++;
    conn_trace(c, RUDP_EV_DROP, now, h->type, h->seq, h->payload_len, RUDP_WHY_DUPLICATE);
}

/* DRAINING, and a duplicate arrived: our last ACK was lost and the peer is resending
 * (its probe resends its oldest unacknowledged packet, DATA or FIN); its next try comes
 * after its backed-off timeout, so stay long enough to answer that one too. The stay
 * doubles per round of resends, not per datagram: the records of a coalesced datagram,
 * or the several packets of one loss recovery, arrive within a PTO of each other, and
 * counting each would double the stay 30 times for a resend of 30 replies. */
static void drain_longer(rudp_conn_t *c, uint64_t now)
{
    uint64_t pto = recovery_pto(c);
    if (c->drain_fins == 0 || now >= c->drain_round + pto) {
        c->drain_fins++;
        c->drain_round = now;
    }
    uint64_t stay = 3 * pto;
    for (uint32_t i = 1; i < c->drain_fins && stay < 8 * c->cfg.max_rto; i++)
        stay *= 2;
    if (now + stay > c->drain_until)
        c->drain_until = now + stay;
}

/* Takes one message (or FIN) at h->seq. `counts` is 0 for all but the last record of a
 * coalesced datagram, so the ACK policy counts datagrams, not messages. */
static void receive_data(rudp_conn_t *c, const rudp_hdr_t *h, int counts, uint64_t now)
{
    uint32_t seq = h->seq;
    if (rudp_seq_lt(seq, c->rcv_nxt) || conn_held(c, seq)) {
        if (c->state == RUDP_STATE_DRAINING && counts)
            drain_longer(c, now);
        c->st.duplicates++;
        c->ack_now = 1; /* the sender may have lost our ACK: tell it again now */
        conn_trace(c, RUDP_EV_DROP, now, h->type, seq, h->payload_len, RUDP_WHY_DUPLICATE);
        return;
    }
    /* The FIN is the stream's last number: nothing may follow it, and a FIN below
     * data already received, or a second FIN elsewhere, is forged or broken. Without
     * these checks a FIN filling a gap would let later data out after end of stream. */
    int is_fin = h->type == RUDP_T_FIN;
    if ((c->fin_known &&
         (rudp_seq_gt(seq, c->peer_fin_seq) || (seq == c->peer_fin_seq && !is_fin) ||
          (is_fin && seq != c->peer_fin_seq))) ||
        (is_fin && rudp_seq_lt(seq + 1, c->rcv_high))) {
        c->st.dropped++;
        conn_trace(c, RUDP_EV_DROP, now, h->type, seq, h->payload_len, RUDP_WHY_STALE);
        return;
    }
    /* The FIN takes a sequence number but no buffer (as in TCP), so it is taken even
     * right past a full buffer: a full window must not hold back the end of stream. */
    if ((uint32_t)(seq - c->rcv_read) >= c->rcv_cap + (uint32_t)is_fin ||
        rudp_seq_lt(seq, c->rcv_read)) {
        c->st.dropped++;
        c->ack_now = 1; /* a window probe: answer with the current window */
        conn_trace(c, RUDP_EV_DROP, now, h->type, seq, h->payload_len, RUDP_WHY_WINDOW);
        return;
    }
    if (h->payload_len > c->cfg.max_message) {
        c->st.dropped++;
        conn_trace(c, RUDP_EV_DROP, now, h->type, seq, h->payload_len, RUDP_EMSGSIZE);
        return;
    }
    if (is_fin) {
        c->fin_known = 1;
        c->peer_fin_seq = seq;
    } else {
        struct rudp_rcv_slot *r = conn_rcv_slot(c, seq);
        r->present = 1;
        r->len = h->payload_len;
        r->data = slot_buf(c, c->snd_cap + (size_t)(r - c->rcv), h->payload_len);
        if (h->payload_len)
            memcpy(r->data, h->payload, h->payload_len);
    }

    int had_gap = c->rcv_high != c->rcv_nxt;
    if (rudp_seq_gt(seq + 1, c->rcv_high))
        c->rcv_high = seq + 1;
    if (seq != c->rcv_nxt) {
        c->st.out_of_order++;
        c->ack_now = 1; /* a gap: the sender should learn of it at once */
        return;
    }
    while (rudp_seq_lt(c->rcv_nxt, c->rcv_high) && conn_held(c, c->rcv_nxt)) {
        if (c->fin_known && c->rcv_nxt == c->peer_fin_seq) {
            c->peer_fin = 1;
            c->ack_now = 1;
            c->rcv_nxt++;
            break; /* nothing is stored past a FIN (see above) */
        }
        c->rcv_nxt++;
    }
    if (had_gap)
        c->ack_now = 1; /* a gap filled: release the sender's recovery at once */
    if (!counts)
        return;
    if (++c->unacked_rx >= 2)
        c->ack_now = 1;
    else if (!c->ack_deadline)
        c->ack_deadline = now + c->cfg.max_ack_delay;
}

/* Takes each record of a coalesced datagram as one message at its own number. */
static void receive_records(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    rudp_hdr_t one = *h;
    size_t off = 0, mlen;
    const uint8_t *msg;
    for (uint32_t seq = h->seq; rudp_wire_record(h, &off, &msg, &mlen); seq++) {
        one.seq = seq;
        one.payload = mlen ? msg : NULL;
        one.payload_len = (uint16_t)mlen;
        receive_data(c, &one, off == h->payload_len, now);
    }
}

/* The peer gave up delivering its FIN at h->seq after receiving all of ours (h->ack
 * says how far): if we hold everything before that FIN, the RESET stands in for it. */
static int reset_as_fin(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    if (c->state != RUDP_STATE_ESTABLISHED || h->payload[0] != RUDP_RESET_CLOSED ||
        (!c->peer_fin && h->seq != c->rcv_nxt) || (c->peer_fin && h->seq != c->peer_fin_seq) ||
        h->ack != c->snd_nxt || !c->fin_queued)
        return 0;
    if (!c->peer_fin) {
        rudp_hdr_t fin = { .type = RUDP_T_FIN, .cid = c->cid, .seq = h->seq };
        receive_data(c, &fin, 0, now);
    }
    /* Everything we sent arrived, our FIN included. */
    for (uint32_t seq = c->snd_una; seq != c->snd_new; seq++) {
        struct rudp_snd_slot *s = conn_snd_slot(c, seq);
        if (s->state == SLOT_INFLIGHT) {
            c->in_flight--;
            c->bytes_in_flight -= s->wire_bytes;
        } else if (s->state == SLOT_LOST) {
            c->lost--;
        }
        s->state = SLOT_ACKED;
    }
    if (c->snd_new == c->snd_nxt)
        recovery_advance_una(c, h->ack);
    if (!c->peer_fin || c->snd_una != c->snd_nxt)
        return 0;
    conn_set_state(c, RUDP_STATE_CLOSED, 0, now);
    return 1;
}

static void on_reset(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    if (c->state == RUDP_STATE_DRAINING) {
        conn_set_state(c, RUDP_STATE_CLOSED, 0, now);
        return;
    }
    if (reset_as_fin(c, h, now))
        return;
    int err = RUDP_ERESET;
    if (c->state == RUDP_STATE_HANDSHAKE && h->payload[0] == RUDP_RESET_FULL)
        err = RUDP_EREFUSED;
    if (c->state == RUDP_STATE_HANDSHAKE && h->payload[0] == RUDP_RESET_SOURCE)
        err = RUDP_ELIMIT;
    conn_set_state(c, RUDP_STATE_CLOSED, err, now);
}

/* ---- input --------------------------------------------------------------- */

/* A server connection made from an INITIAL without a cookie has not seen its client
 * prove its address: anyone can send an INITIAL with a forged source. It takes the
 * client's INITIALs (each one widens the 3x budget for ACCEPTs) and, as the proof, a
 * packet whose ack is our ISN, which only a client that received our ACCEPT knows
 * (QUIC validates an address the same way, RFC 9000 §8.1). Anything else from the
 * address is dropped unread. Returns 1 when h may be processed. */
static int validate(rudp_conn_t *c, const rudp_hdr_t *h, size_t len, uint64_t now)
{
    c->amp_recv += len;
    if (h->type == RUDP_T_INITIAL)
        return 1;
    if (h->ack == c->isn_local) {
        c->validated = 1;
        return 1;
    }
    c->st.dropped++;
    conn_trace(c, RUDP_EV_DROP, now, h->type, h->seq, h->payload_len, RUDP_WHY_STALE);
    return 0;
}

int rudp_conn_input(rudp_conn_t *c, const uint8_t *dgram, size_t len, uint64_t now)
{
    conn_see_time(c, now);
    rudp_hdr_t h;
    int rc = rudp_wire_decode(&h, dgram, len);
    if (rc) {
        c->st.corrupt++;
        conn_trace(c, RUDP_EV_DROP, now, 0, 0, (uint32_t)len, rc);
        return rc;
    }
    if (h.cid != c->cid || c->state == RUDP_STATE_CLOSED) {
        c->st.dropped++;
        conn_trace(c, RUDP_EV_DROP, now, h.type, h.seq, h.payload_len, RUDP_WHY_STALE);
        return RUDP_ESTATE;
    }
    c->st.packets_received++;
    c->st.bytes_received += len;
    trace_ack(c, RUDP_EV_RECV, now, h.type, h.seq, h.ack, h.payload_len, 0);

    if (c->state == RUDP_STATE_HANDSHAKE) {
        /* The listener answers each copy of our first INITIAL: a later RETRY echoes
         * the INITIAL the first one did, and is answered already. */
        if (h.type == RUDP_T_RETRY && c->have_cookie && (h.flags & RUDP_F_ACK) &&
            h.ts_echo == c->hs_ts) {
            handshake_copy(c, &h, now);
            return 0;
        }
        if (h.type == RUDP_T_RETRY) {
            c->hs_ts = h.ts_echo;
            memcpy(c->cookie, h.payload, RUDP_COOKIE_SIZE);
            c->have_cookie = 1;
            c->cookie_sent = 0;
            c->last_recv = now;
            /* The RETRY echoes our INITIAL's timestamp: the first RTT sample, which
             * replaces the initial timeout before any data is at stake. */
            if (h.flags & RUDP_F_ACK)
                recovery_rtt_sample(c, h.ts_echo, 0, now);
            c->hs_next = now; /* answer with the cookie at once */
            c->hs_answer = 1;
            c->hs_copy = 0; /* the server answered: no copy needed, and a cookie's
                               copy would be dropped as a replay */
            /* The server answers: the dead-peer count is of INITIALs met by silence,
             * as it is of probes once established. */
            c->hs_sent = 0;
            c->pto_count = 0;
            return 0;
        }
        if (h.type == RUDP_T_ACCEPT) {
            c->last_recv = now;
            c->rcv_read = c->rcv_nxt = c->rcv_high = h.seq;
            conn_set_window(c, &h, now);
            note_echo(c, &h, now); /* our first packets echo it: the server's RTT sample */
            c->hs_ts = h.ts;
            /* An ACCEPT held longer than an ACK may be was resent on the server's own
             * timer: its echo measures that timer, not the path (Karn), and as the
             * first sample it would set the RTO. The first ACK of our data gives one. */
            if ((h.flags & RUDP_F_ACK) && h.ack_delay <= c->cfg.max_ack_delay)
                recovery_rtt_sample(c, h.ts_echo, h.ack_delay, now);
            c->pto_count = 0;
            conn_set_state(c, RUDP_STATE_ESTABLISHED, 0, now);
            return 0;
        }
        if (h.type == RUDP_T_RESET) {
            on_reset(c, &h, now);
            return 0;
        }
        c->st.dropped++;
        conn_trace(c, RUDP_EV_DROP, now, h.type, h.seq, h.payload_len, RUDP_WHY_STALE);
        return RUDP_ESTATE;
    }

    if (c->is_server && !c->validated && !validate(c, &h, len, now))
        return RUDP_ESTATE;
    c->last_recv = now;
    /* The dead-peer count is of probes met by silence: any packet from the peer, even
     * one that acknowledges nothing (a full receive window answering a probe), proves
     * it alive. As with TCP's persist timer, a peer that keeps its window closed is
     * probed for as long as it answers. */
    c->silent_probes = 0;
    if (h.type != RUDP_T_INITIAL)
        c->confirmed = 1;
    switch (h.type) {
    case RUDP_T_INITIAL:
        /* A copy of the client's first INITIAL (same timestamp: output.c sends them
         * at once) asks nothing our ACCEPT and its copies do not answer. */
        if (c->is_server && h.ts == c->hs_ts) {
            handshake_copy(c, &h, now);
            return 0;
        }
        /* Our ACCEPT was lost and the client asks again. The new ACCEPT echoes this
         * INITIAL's timestamp, not the first one's: the client's first RTT sample must
         * not span its handshake timer. */
        if (c->is_server) {
            note_echo(c, &h, now);
            c->accept_pending = 1;
        }
        return 0;
    case RUDP_T_RESET:
        on_reset(c, &h, now);
        return 0;
    case RUDP_T_RETRY:
    case RUDP_T_ACCEPT:
        if (h.type == RUDP_T_ACCEPT && !c->is_server && h.ts == c->hs_ts) {
            handshake_copy(c, &h, now); /* the copy of the ACCEPT we took */
            return 0;
        }
        /* Late handshake duplicates carry nothing current: a RETRY's window is always
         * 0 (the listener keeps no state), an ACCEPT's is stale. Using either would
         * close the send window until the next probe. */
        c->st.dropped++;
        conn_trace(c, RUDP_EV_DROP, now, h.type, h.seq, h.payload_len, RUDP_WHY_STALE);
        /* A repeated ACCEPT means the server has not heard from us since: an ACK tells
         * it we have the ACCEPT (it sends no data until then). */
        if (h.type == RUDP_T_ACCEPT && !c->is_server)
            c->ack_now = 1;
        return 0;
    default:
        break;
    }
    if (h.flags & RUDP_F_ACK)
        recovery_on_ack(c, &h, now);
    if (h.type == RUDP_T_DATA || h.type == RUDP_T_FIN) {
        note_echo(c, &h, now);
        if (h.flags & RUDP_F_COALESCED)
            receive_records(c, &h, now);
        else
            receive_data(c, &h, 1, now);
    }
    /* Once per datagram, after its ACK and all its records: the peer's FIN can come in
     * order through any record (one filling the gap before it need not be the last),
     * and the ACK of our own FIN through any packet. */
    conn_drain_if_done(c, now);
    return 0;
}

/* ---- the application side ------------------------------------------------ */

/* Oldest sequence in the given state, or snd_new when there is none. */
uint32_t conn_oldest(const rudp_conn_t *c, int state)
{
    for (uint32_t seq = c->snd_una; seq != c->snd_new; seq++)
        if (c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap].state == state)
            return seq;
    return c->snd_new;
}

static int queue_slot(rudp_conn_t *c, uint8_t type, const void *msg, size_t len, uint64_t now)
{
    if (!conn_outstanding(c))
        c->wait_start = now;
    struct rudp_snd_slot *s = conn_snd_slot(c, c->snd_nxt);
    uint8_t *data = slot_buf(c, (size_t)(s - c->snd), len);
    *s = (struct rudp_snd_slot){ .data = data, .type = type, .len = (uint32_t)len };
    if (len)
        memcpy(s->data, msg, len);
    c->snd_nxt++;
    return 0;
}

int rudp_conn_send(rudp_conn_t *c, const void *msg, size_t len, uint64_t now)
{
    conn_see_time(c, now);
    if (len > c->cfg.max_message)
        return RUDP_EMSGSIZE;
    if (len && !msg)
        return RUDP_EINVAL;
    if (c->state == RUDP_STATE_CLOSED)
        return c->error ? c->error : RUDP_ECLOSED;
    if (c->fin_queued || c->state == RUDP_STATE_DRAINING)
        return RUDP_ECLOSED;
    /* The last slot is kept for the FIN so close() can never fail for lack of room. */
    if (c->snd_nxt - c->snd_una >= c->snd_cap - 1)
        return RUDP_EAGAIN;
    return queue_slot(c, RUDP_T_DATA, msg, len, now);
}

uint32_t rudp_conn_send_space(const rudp_conn_t *c)
{
    if (c->state == RUDP_STATE_CLOSED || c->state == RUDP_STATE_DRAINING || c->fin_queued)
        return 0;
    uint32_t used = c->snd_nxt - c->snd_una;
    return used < c->snd_cap - 1 ? c->snd_cap - 1 - used : 0;
}

int rudp_conn_close(rudp_conn_t *c, uint64_t now)
{
    conn_see_time(c, now);
    if (c->state == RUDP_STATE_CLOSED || c->state == RUDP_STATE_DRAINING)
        return RUDP_ESTATE;
    if (c->fin_queued)
        return 0;
    c->fin_queued = 1;
    c->fin_seq = c->snd_nxt;
    return queue_slot(c, RUDP_T_FIN, NULL, 0, now);
}

void rudp_conn_abort(rudp_conn_t *c, uint64_t now)
{
    if (c->state == RUDP_STATE_CLOSED)
        return;
    c->reset_pending = c->state != RUDP_STATE_HANDSHAKE || c->hs_sent > 0;
    c->reset_reason = RUDP_RESET_ABORT;
    conn_set_state(c, RUDP_STATE_CLOSED, RUDP_ECLOSED, now);
}

void rudp_conn_fail(rudp_conn_t *c, int error, uint64_t now)
{
    if (c->state == RUDP_STATE_CLOSED)
        return;
    c->reset_pending = 0;
    conn_set_state(c, RUDP_STATE_CLOSED, error < 0 ? error : RUDP_ECLOSED, now);
}

int rudp_conn_peek_size(const rudp_conn_t *c)
{
    if (c->rcv_read != c->rcv_nxt) {
        if (c->peer_fin && c->rcv_read == c->peer_fin_seq)
            return RUDP_ECLOSED;
        return (int)c->rcv[c->rcv_head].len;
    }
    if (c->state == RUDP_STATE_CLOSED && c->error)
        return c->error;
    if (c->eof_read)
        return RUDP_ECLOSED;
    return RUDP_EAGAIN;
}

int rudp_conn_recv(rudp_conn_t *c, void *buf, size_t cap)
{
    int n = rudp_conn_peek_size(c);
    if (c->rcv_read == c->rcv_nxt)
        return n;
    if (c->peer_fin && c->rcv_read == c->peer_fin_seq) {
        /* The end of the peer's stream: consumed once, then reported forever. The
         * FIN has no slot; moving the head keeps slot positions relative to rcv_read. */
        c->eof_read = 1;
        c->rcv_head = (c->rcv_head + 1) % c->rcv_cap;
        c->rcv_read++;
        return RUDP_ECLOSED;
    }
    struct rudp_rcv_slot *r = &c->rcv[c->rcv_head];
    if ((size_t)n > cap)
        return RUDP_EBUFSIZE;
    if (n)
        memcpy(buf, r->data, (size_t)n);
    r->present = 0;
    c->rcv_head = (c->rcv_head + 1) % c->rcv_cap;
    c->rcv_read++;
    c->st.delivered++;
    conn_trace(c, RUDP_EV_DELIVER, c->latest_now, RUDP_T_DATA, c->rcv_read - 1, (uint32_t)n, 0);
    /* A window we advertised as closed must be reopened by an ACK; the sender's
     * persist probe only covers this ACK getting lost. */
    if (c->last_rwnd == 0)
        c->ack_now = 1;
    return n;
}

/* ---- observers ----------------------------------------------------------- */

rudp_state_t rudp_conn_state(const rudp_conn_t *c)
{
    return c->state;
}

int rudp_conn_error(const rudp_conn_t *c)
{
    return c->error;
}

uint64_t rudp_conn_cid(const rudp_conn_t *c)
{
    return c->cid;
}

uint32_t rudp_conn_unacked(const rudp_conn_t *c)
{
    return c->snd_nxt - c->snd_una;
}

int rudp_conn_validated(const rudp_conn_t *c)
{
    return !c->is_server || c->validated;
}

int rudp_conn_done(const rudp_conn_t *c)
{
    if (c->error)
        return 0;
    if (c->state == RUDP_STATE_DRAINING || c->state == RUDP_STATE_CLOSED)
        return c->eof_read || c->rcv_read == c->rcv_nxt;
    return 0;
}

void rudp_conn_stats(const rudp_conn_t *c, rudp_stats_t *out)
{
    *out = c->st;
    out->min_rtt = c->rtt.min;
    out->srtt = c->rtt.srtt;
    out->rttvar = c->rtt.rttvar;
    out->rto = recovery_pto_backed_off(c);
    out->cwnd = c->cfg.cc == RUDP_CC_NONE ? 0 : c->cwnd;
}

const char *rudp_state_name(rudp_state_t s)
{
    switch (s) {
    case RUDP_STATE_HANDSHAKE:
        return "HANDSHAKE";
    case RUDP_STATE_ESTABLISHED:
        return "ESTABLISHED";
    case RUDP_STATE_DRAINING:
        return "DRAINING";
    case RUDP_STATE_CLOSED:
        return "CLOSED";
    }
    return "?";
}

const char *rudp_event_name(rudp_event_kind_t k)
{
    static const char *const names[] = {
        "?", "send", "retransmit", "recv", "ack", "loss", "timeout", "deliver", "state", "drop",
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}
