/* The rudp connection engine: reliability, ordering, flow and congestion control.
 *
 * Design, in the order a datagram meets it:
 *  - Sequence numbers count messages (one DATA = one number; FIN takes one too), as
 *    in TCP but per message. A retransmission reuses the sequence number; each
 *    transmission gets a fresh timestamp and a fresh transmission index, which play
 *    the role of QUIC's packet numbers for RTT samples and loss detection.
 *  - The receiver keeps every packet inside its window, acknowledges cumulatively plus
 *    a SACK bitmap that covers the whole window, so any single ACK that arrives tells
 *    the sender everything; ACK loss costs little. ACK policy (RFC 9002 §6.2.1,
 *    RFC 5681 §4.2): every second packet, after max_ack_delay, at once on a gap, a
 *    duplicate or a FIN.
 *  - Loss detection is RFC 9002 §6.1: a packet is lost when one sent 3 transmissions
 *    later is acknowledged, or when 9/8 RTT passed since it was sent and something
 *    sent later was acknowledged. The probe timeout (§6.2) covers tail losses; the
 *    first probe is not backed off (a tail loss probe, RFC 8985 §7), later ones double
 *    (RFC 6298 §5.5) up to max_rto, and max_retries consecutive expiries end the
 *    connection.
 *  - Congestion control is NewReno in bytes (RFC 9002 §7), or none.
 *  - The engine reads no clock and owns no socket: `now` comes with every call, and
 *    all memory is taken in rudp_conn_new_*().
 */
#include <stdlib.h>
#include <string.h>

#include "conn_internal.h"
#include "rudp/error.h"
#include "seq.h"

#define FULL_DGRAM (RUDP_HEADER_SIZE + RUDP_MAX_PAYLOAD + RUDP_TRAILER_SIZE)
#define PACKET_THRESHOLD 3 /* RFC 9002 §6.1.1 kPacketThreshold */
#define MIN_CWND (2 * (uint64_t)FULL_DGRAM)
#define INITIAL_CWND (10 * (uint64_t)FULL_DGRAM)

/* ---- configuration and lifetime ---------------------------------------------- */

void rudp_config_default(rudp_config_t *cfg)
{
    *cfg = (rudp_config_t){
        .window = 64,
        .send_queue = 64,
        .max_message = RUDP_MAX_PAYLOAD,
        .cc = RUDP_CC_NEWRENO,
        .initial_rto = 1000000,
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
    /* Only the struct and the slot arrays need zeroes. The payload buffers are written
     * before they are read, and leaving them untouched keeps the pages of an idle or
     * lightly used connection out of resident memory. */
    size_t meta = sizeof(rudp_conn_t) + snd_cap * sizeof(struct rudp_snd_slot) +
                  rcv_cap * sizeof(struct rudp_rcv_slot);
    memset(mem, 0, meta);

    rudp_conn_t *c = (rudp_conn_t *)(void *)mem;
    c->cfg = *cfg;
    c->alloc = a;
    c->snd = (struct rudp_snd_slot *)(void *)(mem + sizeof *c);
    c->rcv = (struct rudp_rcv_slot *)(void *)(c->snd + snd_cap);
    c->small = (uint8_t *)(c->rcv + rcv_cap);
    c->big = c->small + ((size_t)snd_cap + rcv_cap) * SMALL_MSG;
    c->snd_cap = snd_cap;
    c->rcv_cap = rcv_cap;

    rudp_rtt_init(&c->rtt, cfg->initial_rto);
    c->cwnd = INITIAL_CWND;
    c->ssthresh = UINT64_MAX;
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

static void trace(rudp_conn_t *c, rudp_event_kind_t kind, uint64_t now, uint8_t type, uint32_t seq,
                  uint32_t len, int reason)
{
    trace_ack(c, kind, now, type, seq, c->rcv_nxt, len, reason);
}

static void set_state(rudp_conn_t *c, rudp_state_t s, int error, uint64_t now)
{
    if (c->state == s)
        return;
    c->state = s;
    if (s == RUDP_STATE_CLOSED && !c->error)
        c->error = error;
    trace(c, RUDP_EV_STATE, now, 0, 0, 0, (int)s);
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
    return 0;
}

/* The peer's receive window, from packet h, and what take_window() compares later
 * packets with: its timestamp and our time. */
static void set_window(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    c->peer_rwnd = h->rwnd;
    c->rwnd_ts = h->ts;
    c->rwnd_at = now;
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
    set_window(c, initial, now);
    c->have_echo = 1;
    c->echo_ts = initial->ts;
    c->echo_arrival = now;
    c->accept_pending = 1;
    c->state = RUDP_STATE_ESTABLISHED;
    return 0;
}

void rudp_conn_free(rudp_conn_t *c)
{
    if (c)
        c->alloc.free(c->alloc.ctx, c);
}

/* ---- small helpers ------------------------------------------------------------- */

static struct rudp_snd_slot *snd_slot(rudp_conn_t *c, uint32_t seq)
{
    return &c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap];
}

static struct rudp_rcv_slot *rcv_slot(rudp_conn_t *c, uint32_t seq)
{
    return &c->rcv[(c->rcv_head + (seq - c->rcv_read)) % c->rcv_cap];
}

/* Whether sequence seq (at or after rcv_nxt) has arrived: a stored message, or the FIN. */
static int held(rudp_conn_t *c, uint32_t seq)
{
    if (c->fin_known && seq == c->peer_fin_seq)
        return 1;
    return (uint32_t)(seq - c->rcv_read) < c->rcv_cap && rcv_slot(c, seq)->present;
}

static uint64_t pto_base(const rudp_conn_t *c)
{
    return rudp_rtt_pto(&c->rtt, c->cfg.max_ack_delay);
}

/* The probe timeout with backoff, capped at max_rto. The first probe goes out one
 * PTO after the previous one without doubling, as a tail loss probe does (RFC 8985
 * §7): a single lost packet or ACK is by far the likeliest reason for silence, and
 * this is what lets a lock-step exchange recover from two losses in about 3.4 RTTs
 * instead of 4.6. From the second consecutive expiry on, each doubles (RFC 6298
 * §5.5), so a dead or congested path still sees exponential backoff. */
/* The longest any loss or probe timer may wait: max_rto, and at most a third of the
 * dead-peer limit, which must see probes go unanswered before it gives up rather than
 * fire on our own silence (after a huge RTT sample, say, when our process slept). */
static uint64_t timer_cap(const rudp_conn_t *c)
{
    uint64_t cap = c->cfg.max_rto;
    if (c->cfg.dead_timeout && c->cfg.dead_timeout / 3 < cap)
        cap = c->cfg.dead_timeout / 3 > RUDP_GRANULARITY_US ? c->cfg.dead_timeout / 3
                                                            : RUDP_GRANULARITY_US;
    return cap;
}

static uint64_t pto_backed_off(const rudp_conn_t *c)
{
    uint64_t cap = timer_cap(c);
    uint64_t t = pto_base(c);
    for (uint32_t i = 1; i < c->pto_count && t < cap; i++)
        t *= 2;
    return t < cap ? t : cap;
}

static uint32_t wire_len(uint32_t payload)
{
    return RUDP_HEADER_SIZE + payload + RUDP_TRAILER_SIZE;
}

static uint32_t rwnd_now(const rudp_conn_t *c)
{
    uint32_t used = c->rcv_nxt - c->rcv_read;
    uint32_t free_slots = c->rcv_cap > used ? c->rcv_cap - used : 0;
    return free_slots > 0xFFFF ? 0xFFFF : free_slots;
}

/* Sequence numbers the peer's window lets us put on the wire: [snd_una, limit). */
static int peer_window_allows(const rudp_conn_t *c, uint32_t seq)
{
    uint32_t ours = c->cfg.window;
    uint32_t limit = c->peer_rwnd < ours ? c->peer_rwnd : ours;
    return seq - c->snd_una < limit;
}

static int cwnd_allows(const rudp_conn_t *c, uint32_t len)
{
    if (c->cfg.cc == RUDP_CC_NONE || c->bytes_in_flight == 0)
        return 1;
    return c->bytes_in_flight + wire_len(len) <= c->cwnd;
}

static int outstanding(const rudp_conn_t *c)
{
    return c->in_flight > 0 || c->lost > 0 || c->snd_new != c->snd_nxt;
}

/* The dead-peer clock runs from the peer's last packet or from when we began waiting
 * on it, whichever is later: a connection quiet for a while is not dead. */
static uint64_t dead_deadline(const rudp_conn_t *c)
{
    uint64_t from = c->last_recv > c->wait_start ? c->last_recv : c->wait_start;
    return from + c->cfg.dead_timeout;
}

/* ---- acknowledgements we send ---------------------------------------------------- */

/* Fills the ACK fields of h: cumulative ack, a SACK bitmap reaching the highest packet
 * received, the echo of the newest timestamp seen and how long we held it. */
static void fill_ack(rudp_conn_t *c, rudp_hdr_t *h, uint8_t *sack, uint64_t now)
{
    h->ack = c->rcv_nxt;
    h->rwnd = (uint16_t)rwnd_now(c);
    c->last_rwnd = h->rwnd;
    if (!c->have_echo)
        return;
    h->flags |= RUDP_F_ACK;
    h->ts_echo = c->echo_ts;
    uint64_t d = now - c->echo_arrival;
    h->ack_delay = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    uint32_t span = c->rcv_high - c->rcv_nxt; /* sequences at and after the gap */
    if (span > 1) {
        uint32_t bits = span - 1; /* rcv_nxt itself is missing by definition */
        uint32_t bytes = (bits + 7) / 8;
        if (bytes > RUDP_MAX_SACK_BYTES)
            bytes = RUDP_MAX_SACK_BYTES;
        memset(sack, 0, bytes);
        for (uint32_t i = 0; i < bytes * 8 && i < bits; i++) {
            uint32_t seq = c->rcv_nxt + 1 + i;
            if (held(c, seq))
                sack[i / 8] |= (uint8_t)(0x80u >> (i % 8));
        }
        h->sack_len = (uint8_t)bytes;
        h->sack = sack;
    }
    c->unacked_rx = 0;
    c->ack_now = 0;
    c->ack_deadline = 0;
}

static int ack_due(const rudp_conn_t *c, uint64_t now)
{
    return c->have_echo && (c->ack_now || (c->ack_deadline && now >= c->ack_deadline));
}

/* ---- the sender ------------------------------------------------------------------ */

static void on_packet_lost(rudp_conn_t *c, struct rudp_snd_slot *s, uint32_t seq, int why,
                           uint64_t now)
{
    s->state = SLOT_LOST;
    s->why = (uint8_t)why;
    c->in_flight--;
    c->bytes_in_flight -= s->wire_bytes;
    c->lost++;
    trace(c, RUDP_EV_LOSS, now, s->type, seq, s->len, why);
    /* RFC 9002 §7.3.2: one reduction per round trip; losses of packets sent before
     * the current recovery period began are part of the same congestion event. */
    if (c->cfg.cc == RUDP_CC_NEWRENO && (!c->recovered_once || s->sent_time > c->recovery_start)) {
        c->recovered_once = 1;
        c->recovery_start = now;
        c->ssthresh = c->cwnd / 2;
        if (c->ssthresh < MIN_CWND)
            c->ssthresh = MIN_CWND;
        c->cwnd = c->ssthresh;
    }
}

static void on_packet_acked(rudp_conn_t *c, struct rudp_snd_slot *s, uint32_t seq,
                            const rudp_hdr_t *h, uint64_t now)
{
    if (s->state == SLOT_INFLIGHT) {
        c->in_flight--;
        c->bytes_in_flight -= s->wire_bytes;
    } else if (s->state == SLOT_LOST) {
        c->lost--; /* the "lost" copy arrived after all */
    }
    /* Eifel (RFC 3522) by timestamp echo: if the ACK was triggered by a packet sent
     * before our latest retransmission of seq, the peer already had seq: that
     * retransmission was not needed. Not all of those are the timer's fault: when a
     * request's reply is lost, resending the request is the only move, and the
     * peer's own retransmission of the reply may cross it. The timer was premature
     * only if this ACK had left the peer before we retransmitted, which, with the
     * one-way delay taken as half the minimum RTT, means it arrived sooner than
     * that after the retransmission. */
    if (s->retx && (int32_t)(h->ts_echo - s->last_ts) < 0) {
        c->st.spurious++;
        if (now - s->sent_time < c->rtt.min / 2)
            c->st.premature++;
    }
    s->state = SLOT_ACKED;
    if (s->tx_index > c->largest_acked_tx)
        c->largest_acked_tx = s->tx_index;
    trace(c, RUDP_EV_ACK, now, s->type, seq, s->len, 0);

    if (c->cfg.cc == RUDP_CC_NEWRENO && !(c->recovered_once && s->sent_time <= c->recovery_start)) {
        uint64_t bytes = s->wire_bytes;
        if (c->cwnd < c->ssthresh)
            c->cwnd += bytes; /* slow start */
        else
            c->cwnd += (uint64_t)FULL_DGRAM * bytes / c->cwnd; /* AIMD */
        /* Growth past what the window can use would only hide a later loss burst. */
        uint64_t cap = (uint64_t)c->cfg.window * FULL_DGRAM;
        if (c->cwnd > cap)
            c->cwnd = cap > MIN_CWND ? cap : MIN_CWND;
    }
}

/* RFC 9002 §6.1: declares lost what later acknowledgements prove missing, and arms
 * the loss timer for packets not yet old enough. */
static void detect_losses(rudp_conn_t *c, uint64_t now)
{
    c->loss_time = 0;
    if (!c->largest_acked_tx)
        return;
    uint64_t delay = rudp_rtt_loss_delay(&c->rtt);
    if (delay > timer_cap(c))
        delay = timer_cap(c);
    for (uint32_t seq = c->snd_una; seq != c->snd_new; seq++) {
        struct rudp_snd_slot *s = snd_slot(c, seq);
        if (s->state != SLOT_INFLIGHT || s->tx_index >= c->largest_acked_tx)
            continue;
        if (c->largest_acked_tx - s->tx_index >= PACKET_THRESHOLD) {
            on_packet_lost(c, s, seq, RUDP_WHY_FAST, now);
        } else if (now >= s->sent_time + delay) {
            on_packet_lost(c, s, seq, RUDP_WHY_TIME, now);
        } else if (!c->loss_time || s->sent_time + delay < c->loss_time) {
            c->loss_time = s->sent_time + delay;
        }
    }
}

/* A window probe (a packet sent past the peer's receive window) that an ACK at least
 * as new does not cover was refused by the peer, or lost. Waiting for a timeout would
 * add nothing: it goes back in line, to be sent as soon as the window admits it. */
static void requeue_refused(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    for (uint32_t seq = c->snd_una; seq != c->snd_new; seq++) {
        struct rudp_snd_slot *s = snd_slot(c, seq);
        if (s->state == SLOT_INFLIGHT && s->beyond && (int32_t)(h->ts_echo - s->last_ts) >= 0) {
            s->state = SLOT_LOST;
            s->why = RUDP_WHY_WINDOW;
            c->in_flight--;
            c->bytes_in_flight -= s->wire_bytes;
            c->lost++;
            trace(c, RUDP_EV_LOSS, now, s->type, seq, s->len, RUDP_WHY_WINDOW);
        }
    }
}

/* Frees slots the cumulative ACK passed. */
static void advance_una(rudp_conn_t *c, uint32_t ack)
{
    while (rudp_seq_lt(c->snd_una, ack)) {
        c->snd[c->snd_head].state = SLOT_QUEUED;
        c->snd[c->snd_head].retx = 0;
        c->snd_head = (c->snd_head + 1) % c->snd_cap;
        c->snd_una++;
    }
}

static void enter_draining_if_done(rudp_conn_t *c, uint64_t now)
{
    if (c->state != RUDP_STATE_ESTABLISHED || !c->fin_queued || !c->peer_fin ||
        rudp_seq_le(c->snd_una, c->fin_seq))
        return;
    /* RFC 9000 §10.2 keeps a closed endpoint for three PTOs so a peer whose last ACK
     * was lost gets its FIN acknowledged again instead of a RESET. */
    c->drain_until = now + 3 * pto_base(c);
    set_state(c, RUDP_STATE_DRAINING, 0, now);
}

/* A packet sent before the one the window was last taken from (by the peer's clock),
 * and overtaken by it on the way, carries a window the peer has since changed: taking
 * it would close the send window (or open it past the peer's buffer) until the next
 * packet. TCP keeps its window from going back the same way (RFC 9293 §3.10.7.4,
 * SND.WL1/WL2). The comparison holds for RWND_REORDER_US of our time after the last
 * window taken: no reordering lasts that long, the peer's 32-bit µs clock cannot wrap
 * halfway in it, and a packet with a forged future timestamp freezes the window no
 * longer than that. After it, any packet's window is taken. */
#define RWND_REORDER_US 60000000u

static void take_window(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    if ((int32_t)(h->ts - c->rwnd_ts) < 0 && now - c->rwnd_at <= RWND_REORDER_US)
        return;
    set_window(c, h, now);
}

static void process_ack(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    /* An ACK for something never sent is forged or broken: ignore its ACK part, the
     * window included. */
    if (rudp_seq_gt(h->ack, c->snd_new) || rudp_seq_lt(h->ack, c->snd_una - RUDP_MAX_WINDOW))
        return;
    take_window(c, h, now);
    int newly = 0;
    for (uint32_t seq = c->snd_una; rudp_seq_lt(seq, h->ack); seq++) {
        struct rudp_snd_slot *s = snd_slot(c, seq);
        if (s->state != SLOT_ACKED) {
            on_packet_acked(c, s, seq, h, now);
            newly = 1;
        }
    }
    for (uint32_t i = 0; i < (uint32_t)h->sack_len * 8; i++) {
        if (!(h->sack[i / 8] & (0x80u >> (i % 8))))
            continue;
        uint32_t seq = h->ack + 1 + i;
        if (rudp_seq_lt(seq, c->snd_una) || rudp_seq_ge(seq, c->snd_new))
            continue;
        struct rudp_snd_slot *s = snd_slot(c, seq);
        if (s->state != SLOT_ACKED && s->state != SLOT_QUEUED) {
            on_packet_acked(c, s, seq, h, now);
            newly = 1;
        }
    }
    if (rudp_seq_gt(h->ack, c->snd_una))
        advance_una(c, h->ack);
    requeue_refused(c, h, now);
    if (!newly) {
        /* The server's first sample: the client's first packets echo our ACCEPT. */
        if (!c->rtt.has_sample && (h->flags & RUDP_F_ACK)) {
            uint32_t sample = (uint32_t)now - h->ts_echo;
            if (sample < 0x80000000u)
                rudp_rtt_sample(&c->rtt, sample, h->ack_delay, c->cfg.max_ack_delay);
        }
        return;
    }
    /* Only ACKs that acknowledge something new give RTT samples (RFC 9002 §5.1);
     * the echo names the transmission measured, retransmission or not. */
    uint32_t sample = (uint32_t)now - h->ts_echo;
    if (sample < 0x80000000u)
        rudp_rtt_sample(&c->rtt, sample, h->ack_delay, c->cfg.max_ack_delay);
    c->pto_count = 0;
    detect_losses(c, now);
    enter_draining_if_done(c, now);
}

/* ---- the receiver ------------------------------------------------------------------ */

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

/* Takes one message (or FIN) at h->seq. `counts` is 0 for all but the last record of a
 * coalesced datagram, so the ACK policy counts datagrams, not messages. */
static void receive_data(rudp_conn_t *c, const rudp_hdr_t *h, int counts, uint64_t now)
{
    uint32_t seq = h->seq;
    if (rudp_seq_lt(seq, c->rcv_nxt) || held(c, seq)) {
        if (c->state == RUDP_STATE_DRAINING) {
            /* Our last ACK was lost and the peer is resending (its probe resends its
             * oldest unacknowledged packet, DATA or FIN); its next try comes after
             * its backed-off timeout: stay long enough to answer that one too. */
            uint64_t stay = 3 * pto_base(c);
            for (uint32_t i = 0; i < c->drain_fins && stay < 8 * c->cfg.max_rto; i++)
                stay *= 2;
            c->drain_fins++;
            if (now + stay > c->drain_until)
                c->drain_until = now + stay;
        }
        c->st.duplicates++;
        c->ack_now = 1; /* the sender may have lost our ACK: tell it again now */
        trace(c, RUDP_EV_DROP, now, h->type, seq, h->payload_len, RUDP_WHY_DUPLICATE);
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
        trace(c, RUDP_EV_DROP, now, h->type, seq, h->payload_len, RUDP_WHY_STALE);
        return;
    }
    /* The FIN takes a sequence number but no buffer (as in TCP), so it is taken even
     * right past a full buffer: a full window must not hold back the end of stream. */
    if ((uint32_t)(seq - c->rcv_read) >= c->rcv_cap + (uint32_t)is_fin ||
        rudp_seq_lt(seq, c->rcv_read)) {
        c->st.dropped++;
        c->ack_now = 1; /* a window probe: answer with the current window */
        trace(c, RUDP_EV_DROP, now, h->type, seq, h->payload_len, RUDP_WHY_WINDOW);
        return;
    }
    if (h->payload_len > c->cfg.max_message) {
        c->st.dropped++;
        trace(c, RUDP_EV_DROP, now, h->type, seq, h->payload_len, RUDP_EMSGSIZE);
        return;
    }
    if (is_fin) {
        c->fin_known = 1;
        c->peer_fin_seq = seq;
    } else {
        struct rudp_rcv_slot *r = rcv_slot(c, seq);
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
    while (rudp_seq_lt(c->rcv_nxt, c->rcv_high) && held(c, c->rcv_nxt)) {
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
    enter_draining_if_done(c, now);
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
        struct rudp_snd_slot *s = snd_slot(c, seq);
        if (s->state == SLOT_INFLIGHT) {
            c->in_flight--;
            c->bytes_in_flight -= s->wire_bytes;
        } else if (s->state == SLOT_LOST) {
            c->lost--;
        }
        s->state = SLOT_ACKED;
    }
    if (c->snd_new == c->snd_nxt)
        advance_una(c, h->ack);
    if (!c->peer_fin || c->snd_una != c->snd_nxt)
        return 0;
    set_state(c, RUDP_STATE_CLOSED, 0, now);
    return 1;
}

static void on_reset(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    if (c->state == RUDP_STATE_DRAINING) {
        set_state(c, RUDP_STATE_CLOSED, 0, now);
        return;
    }
    if (reset_as_fin(c, h, now))
        return;
    int err = RUDP_ERESET;
    if (c->state == RUDP_STATE_HANDSHAKE && h->payload[0] == RUDP_RESET_FULL)
        err = RUDP_EREFUSED;
    set_state(c, RUDP_STATE_CLOSED, err, now);
}

static void see_time(rudp_conn_t *c, uint64_t now)
{
    if (now > c->latest_now)
        c->latest_now = now;
}

int rudp_conn_input(rudp_conn_t *c, const uint8_t *dgram, size_t len, uint64_t now)
{
    see_time(c, now);
    rudp_hdr_t h;
    int rc = rudp_wire_decode(&h, dgram, len);
    if (rc) {
        c->st.corrupt++;
        trace(c, RUDP_EV_DROP, now, 0, 0, (uint32_t)len, rc);
        return rc;
    }
    if (h.cid != c->cid || c->state == RUDP_STATE_CLOSED) {
        c->st.dropped++;
        trace(c, RUDP_EV_DROP, now, h.type, h.seq, h.payload_len, RUDP_WHY_STALE);
        return RUDP_ESTATE;
    }
    c->st.packets_received++;
    c->st.bytes_received += len;
    trace_ack(c, RUDP_EV_RECV, now, h.type, h.seq, h.ack, h.payload_len, 0);

    if (c->state == RUDP_STATE_HANDSHAKE) {
        if (h.type == RUDP_T_RETRY) {
            memcpy(c->cookie, h.payload, RUDP_COOKIE_SIZE);
            c->have_cookie = 1;
            c->cookie_sent = 0;
            c->last_recv = now;
            /* The RETRY echoes our INITIAL's timestamp: the first RTT sample, which
             * lowers the 1 s initial timeout before any data is at stake. */
            if (h.flags & RUDP_F_ACK) {
                uint32_t sample = (uint32_t)now - h.ts_echo;
                if (sample < 0x80000000u)
                    rudp_rtt_sample(&c->rtt, sample, 0, c->cfg.max_ack_delay);
            }
            c->hs_next = now; /* answer with the cookie at once */
            c->hs_answer = 1;
            /* The server answers: the dead-peer count is of INITIALs met by silence,
             * as it is of probes once established. */
            c->hs_sent = 0;
            c->pto_count = 0;
            return 0;
        }
        if (h.type == RUDP_T_ACCEPT) {
            c->last_recv = now;
            c->rcv_read = c->rcv_nxt = c->rcv_high = h.seq;
            set_window(c, &h, now);
            note_echo(c, &h, now); /* our first packets echo it: the server's RTT sample */
            if (h.flags & RUDP_F_ACK) {
                uint32_t sample = (uint32_t)now - h.ts_echo;
                if (sample < 0x80000000u)
                    rudp_rtt_sample(&c->rtt, sample, h.ack_delay, c->cfg.max_ack_delay);
            }
            c->pto_count = 0;
            set_state(c, RUDP_STATE_ESTABLISHED, 0, now);
            return 0;
        }
        if (h.type == RUDP_T_RESET) {
            on_reset(c, &h, now);
            return 0;
        }
        c->st.dropped++;
        trace(c, RUDP_EV_DROP, now, h.type, h.seq, h.payload_len, RUDP_WHY_STALE);
        return RUDP_ESTATE;
    }

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
        /* Our ACCEPT was lost and the client asks again. */
        if (c->is_server)
            c->accept_pending = 1;
        return 0;
    case RUDP_T_RESET:
        on_reset(c, &h, now);
        return 0;
    case RUDP_T_RETRY:
    case RUDP_T_ACCEPT:
        /* Late handshake duplicates carry nothing current: a RETRY's window is always
         * 0 (the listener keeps no state), an ACCEPT's is stale. Using either would
         * close the send window until the next probe. */
        c->st.dropped++;
        trace(c, RUDP_EV_DROP, now, h.type, h.seq, h.payload_len, RUDP_WHY_STALE);
        /* A repeated ACCEPT means the server has not heard from us since: an ACK tells
         * it we have the ACCEPT (it sends no data until then). */
        if (h.type == RUDP_T_ACCEPT && !c->is_server)
            c->ack_now = 1;
        return 0;
    default:
        break;
    }
    if (h.flags & RUDP_F_ACK)
        process_ack(c, &h, now);
    if (h.type == RUDP_T_DATA || h.type == RUDP_T_FIN) {
        note_echo(c, &h, now);
        if (!(h.flags & RUDP_F_COALESCED)) {
            receive_data(c, &h, 1, now);
            return 0;
        }
        rudp_hdr_t one = h;
        size_t off = 0, mlen;
        const uint8_t *msg;
        for (uint32_t seq = h.seq; rudp_wire_record(&h, &off, &msg, &mlen); seq++) {
            one.seq = seq;
            one.payload = mlen ? msg : NULL;
            one.payload_len = (uint16_t)mlen;
            receive_data(c, &one, off == h.payload_len, now);
        }
    }
    return 0;
}

/* ---- timers ------------------------------------------------------------------------ */

/* Oldest sequence in the given state, or snd_new when there is none. */
static uint32_t oldest_in_state(const rudp_conn_t *c, int state)
{
    for (uint32_t seq = c->snd_una; seq != c->snd_new; seq++)
        if (c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap].state == state)
            return seq;
    return c->snd_new;
}

/* A server whose client may not have its ACCEPT yet: data waits until it shows it does
 * (anything but an INITIAL from it), so a lost ACCEPT costs no probes into the void. */
static int unconfirmed(const rudp_conn_t *c)
{
    return c->is_server && !c->confirmed && c->state == RUDP_STATE_ESTABLISHED;
}

/* True when prepare() would emit DATA/FIN right now, so drivers do not sleep. */
static int can_send_now(const rudp_conn_t *c)
{
    if (unconfirmed(c))
        return 0;
    uint32_t seq = c->snd_new;
    if (c->lost)
        seq = oldest_in_state(c, SLOT_LOST);
    else if (c->snd_new == c->snd_nxt)
        return 0;
    if (!peer_window_allows(c, seq))
        return 0;
    return cwnd_allows(c, c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap].len);
}

static uint64_t pto_deadline(const rudp_conn_t *c)
{
    if (unconfirmed(c))
        return 0; /* the ACCEPT timer runs instead */
    /* Armed while packets are in flight, and while something waits for a window
     * the peer keeps closed (the persist probe: the update reopening it may be lost). */
    int blocked = (c->lost || c->snd_new != c->snd_nxt) && !can_send_now(c);
    if (c->in_flight == 0 && !blocked)
        return 0;
    uint64_t from = c->last_eliciting_sent ? c->last_eliciting_sent : c->last_recv;
    return from + pto_backed_off(c);
}

uint64_t rudp_conn_next_timeout(const rudp_conn_t *c)
{
    uint64_t t = UINT64_MAX;
#define CONSIDER(x)        \
    do {                   \
        uint64_t v_ = (x); \
        if (v_ && v_ < t)  \
            t = v_;        \
    } while (0)
    switch (c->state) {
    case RUDP_STATE_CLOSED:
        return c->reset_pending ? 0 : UINT64_MAX;
    case RUDP_STATE_HANDSHAKE:
        CONSIDER(c->hs_next);
        if (c->cfg.dead_timeout)
            CONSIDER(c->last_recv + c->cfg.dead_timeout);
        break;
    case RUDP_STATE_DRAINING:
        CONSIDER(c->drain_until);
        if (c->ack_now)
            return 0;
        CONSIDER(c->ack_deadline);
        break;
    case RUDP_STATE_ESTABLISHED:
        if (c->accept_pending || c->ack_now || c->probe_pending || can_send_now(c))
            return 0;
        if (unconfirmed(c)) {
            CONSIDER(c->accept_next);
            if (c->cfg.idle_timeout)
                CONSIDER(c->last_recv + c->cfg.idle_timeout);
            break;
        }
        CONSIDER(c->ack_deadline);
        CONSIDER(c->loss_time ? c->loss_time : pto_deadline(c));
        if (c->cfg.idle_timeout)
            CONSIDER(c->last_recv + c->cfg.idle_timeout);
        if (c->cfg.dead_timeout && outstanding(c))
            CONSIDER(dead_deadline(c));
        break;
    }
#undef CONSIDER
    return t;
}

/* Everything but our FIN is acknowledged and the peer's FIN is in: the peer has all
 * our data and we have all of its. Only the peer's knowledge that we are done is
 * missing, which no number of messages can guarantee (the two generals); TCP's
 * LAST-ACK state gives up the same way. */
static int only_our_fin_left(const rudp_conn_t *c)
{
    return c->fin_queued && c->peer_fin && c->snd_una == c->fin_seq;
}

static void fail(rudp_conn_t *c, int err, uint64_t now)
{
    if (only_our_fin_left(c)) {
        /* Our side is complete. A RESET(CLOSED) carrying our FIN's number still
         * gives a peer that never got the FIN its end of stream, cleanly (a peer
         * that did get it is draining and takes any RESET as the end). */
        c->reset_pending = 1;
        c->reset_reason = RUDP_RESET_CLOSED;
        set_state(c, RUDP_STATE_CLOSED, 0, now);
        return;
    }
    c->reset_pending = 1;
    c->reset_reason = RUDP_RESET_ABORT;
    set_state(c, RUDP_STATE_CLOSED, err, now);
}

static void on_timers(rudp_conn_t *c, uint64_t now)
{
    if (c->state == RUDP_STATE_DRAINING) {
        if (now >= c->drain_until)
            set_state(c, RUDP_STATE_CLOSED, 0, now);
        return;
    }
    if (c->state == RUDP_STATE_HANDSHAKE) {
        /* Give up when the timer for another try fires and the tries are spent. */
        if ((now >= c->hs_next && c->hs_sent > c->cfg.max_retries) ||
            (c->cfg.dead_timeout && now >= c->last_recv + c->cfg.dead_timeout))
            set_state(c, RUDP_STATE_CLOSED, RUDP_ETIMEDOUT, now);
        return;
    }
    if (c->state != RUDP_STATE_ESTABLISHED)
        return;
    if (c->cfg.idle_timeout && now >= c->last_recv + c->cfg.idle_timeout) {
        fail(c, RUDP_ETIMEDOUT, now);
        return;
    }
    if (unconfirmed(c)) {
        /* Our ACCEPT may be lost, and the client's retries come on its own, slower
         * clock: resend the ACCEPT on ours (backed off; silence counts as for probes). */
        if (now >= c->accept_next) {
            c->st.timeouts++;
            if (++c->silent_probes > c->cfg.max_retries) {
                fail(c, RUDP_ETIMEDOUT, now);
                return;
            }
            c->pto_count++;
            c->accept_pending = 1;
        }
        return;
    }
    if (c->cfg.dead_timeout && outstanding(c) && now >= dead_deadline(c)) {
        fail(c, RUDP_ETIMEDOUT, now);
        return;
    }
    if (c->loss_time && now >= c->loss_time) {
        detect_losses(c, now);
        return;
    }
    uint64_t pto = pto_deadline(c);
    if (!c->loss_time && pto && now >= pto && !c->probe_pending) {
        c->st.timeouts++;
        trace(c, RUDP_EV_TIMEOUT, now, 0, c->snd_una, 0, RUDP_WHY_TIMEOUT);
        c->pto_count++;
        if (++c->silent_probes > c->cfg.max_retries) {
            fail(c, RUDP_ETIMEDOUT, now);
            return;
        }
        c->probe_pending = 1;
    }
}

/* ---- emitting datagrams ------------------------------------------------------------ */

static int emit(rudp_conn_t *c, rudp_hdr_t *h, uint8_t *buf, size_t cap, uint64_t now)
{
    h->cid = c->cid;
    h->ts = (uint32_t)now;
    int n = rudp_wire_encode(h, buf, cap);
    if (n < 0)
        return n;
    c->st.packets_sent++;
    c->st.bytes_sent += (uint64_t)n;
    return n;
}

/* Records one transmission of a slot that went out in the datagram stamped ts.
 * Returns 1 when it was a retransmission. */
static int mark_sent(rudp_conn_t *c, uint32_t seq, uint32_t wire_bytes, int why, uint32_t ts,
                     uint64_t now)
{
    struct rudp_snd_slot *s = snd_slot(c, seq);
    if (s->state == SLOT_LOST)
        c->lost--;
    if (s->state == SLOT_INFLIGHT)
        c->bytes_in_flight -= s->wire_bytes;
    else
        c->in_flight++;
    c->bytes_in_flight += wire_bytes;
    int first = s->state == SLOT_QUEUED && seq == c->snd_new;
    s->beyond = !peer_window_allows(c, seq);
    s->state = SLOT_INFLIGHT;
    s->wire_bytes = wire_bytes;
    s->sent_time = now;
    s->last_ts = ts;
    s->tx_index = c->tx_counter; /* one index per datagram: thresholds count datagrams */
    c->last_eliciting_sent = now;
    if (first) {
        c->snd_new++;
        trace(c, RUDP_EV_SEND, now, s->type, seq, s->len, 0);
        return 0;
    }
    s->retx++;
    trace(c, RUDP_EV_RETRANSMIT, now, s->type, seq, s->len, why);
    return 1;
}

/* Whether slot seq may join a coalesced datagram that already holds `bytes` of
 * payload: same kind of send (new or lost), a plain message, and room for it. */
static int can_join(const rudp_conn_t *c, uint32_t seq, int state, size_t bytes, uint64_t wire)
{
    if (rudp_seq_ge(seq, state == SLOT_QUEUED ? c->snd_nxt : c->snd_new))
        return 0;
    const struct rudp_snd_slot *s = &c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap];
    if (s->state != state || s->type != RUDP_T_DATA ||
        bytes + RUDP_RECORD_HEADER + s->len > RUDP_MAX_PAYLOAD)
        return 0;
    if (state == SLOT_QUEUED && !peer_window_allows(c, seq))
        return 0;
    return c->cfg.cc == RUDP_CC_NONE ||
           c->bytes_in_flight + wire + RUDP_RECORD_HEADER + s->len <= c->cwnd;
}

/* Sends slot seq, and with coalescing the consecutive slots in the same state after
 * it that fit, as one datagram. */
static int send_slot(rudp_conn_t *c, uint32_t seq, int why, uint8_t *buf, size_t cap, uint64_t now)
{
    struct rudp_snd_slot *s = snd_slot(c, seq);
    uint8_t sack[RUDP_MAX_SACK_BYTES];
    uint8_t packed[RUDP_MAX_PAYLOAD];
    rudp_hdr_t h = { .type = s->type,
                     .seq = seq,
                     .payload_len = (uint16_t)s->len,
                     .payload = s->len ? s->data : NULL };
    uint32_t count = 1;
    int state = s->state;
    if (c->cfg.coalesce && s->type == RUDP_T_DATA && state != SLOT_INFLIGHT &&
        s->len + RUDP_RECORD_HEADER <= RUDP_MAX_PAYLOAD &&
        can_join(c, seq + 1, state, s->len + RUDP_RECORD_HEADER,
                 wire_len(s->len + RUDP_RECORD_HEADER))) {
        size_t off = 0;
        uint32_t q = seq;
        count = 0;
        do {
            const struct rudp_snd_slot *m = snd_slot(c, q);
            packed[off] = (uint8_t)(m->len >> 8);
            packed[off + 1] = (uint8_t)m->len;
            memcpy(packed + off + RUDP_RECORD_HEADER, m->data, m->len);
            off += RUDP_RECORD_HEADER + m->len;
            count++;
            q++;
        } while (can_join(c, q, state, off, wire_len((uint32_t)off)));
        h.flags = RUDP_F_COALESCED;
        h.payload = packed;
        h.payload_len = (uint16_t)off;
    }
    fill_ack(c, &h, sack, now);
    int n = emit(c, &h, buf, cap, now);
    if (n < 0)
        return n;
    c->tx_counter++;
    c->st.data_sent++;
    int resent = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len = snd_slot(c, seq + i)->len;
        uint32_t share = h.flags & RUDP_F_COALESCED ? RUDP_RECORD_HEADER + len : len;
        if (i == 0)
            share += RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE;
        resent |= mark_sent(c, seq + i, share, why, h.ts, now);
    }
    /* Counted per datagram, like data_sent, however many messages it carried. */
    if (resent) {
        if (why == RUDP_WHY_TIMEOUT)
            c->st.retransmits_timeout++;
        else
            c->st.retransmits_fast++;
    }
    return n;
}

static int prepare_established(rudp_conn_t *c, uint64_t now, uint8_t *buf, size_t cap)
{
    if (c->accept_pending) {
        rudp_hdr_t h = { .type = RUDP_T_ACCEPT, .seq = c->isn_local };
        uint8_t sack[RUDP_MAX_SACK_BYTES];
        fill_ack(c, &h, sack, now);
        int n = emit(c, &h, buf, cap, now);
        if (n > 0) {
            c->accept_pending = 0;
            c->accept_next = now + pto_backed_off(c);
            trace(c, RUDP_EV_SEND, now, RUDP_T_ACCEPT, c->isn_local, 0, 0);
        }
        return n;
    }
    if (c->state == RUDP_STATE_ESTABLISHED && !unconfirmed(c)) {
        /* A probe is not held back by the congestion window (RFC 9002 §7.5). It
         * resends the oldest unacknowledged packet, or pushes new data past a zero
         * window so the peer answers with its current one. */
        if (c->probe_pending) {
            c->probe_pending = 0;
            uint32_t seq = oldest_in_state(c, SLOT_INFLIGHT);
            if (seq == c->snd_new)
                seq = oldest_in_state(c, SLOT_LOST);
            if (seq != c->snd_new || c->snd_new != c->snd_nxt)
                return send_slot(c, seq, RUDP_WHY_TIMEOUT, buf, cap, now);
        }
        if (c->lost) {
            uint32_t seq = oldest_in_state(c, SLOT_LOST);
            struct rudp_snd_slot *s = snd_slot(c, seq);
            if (peer_window_allows(c, seq) && cwnd_allows(c, s->len))
                return send_slot(c, seq, s->why, buf, cap, now);
        }
        if (c->snd_new != c->snd_nxt && peer_window_allows(c, c->snd_new) &&
            cwnd_allows(c, snd_slot(c, c->snd_new)->len))
            return send_slot(c, c->snd_new, 0, buf, cap, now);
    }
    if (ack_due(c, now)) {
        rudp_hdr_t h = { .type = RUDP_T_ACK, .seq = c->snd_new };
        uint8_t sack[RUDP_MAX_SACK_BYTES];
        fill_ack(c, &h, sack, now);
        int n = emit(c, &h, buf, cap, now);
        if (n > 0)
            trace(c, RUDP_EV_SEND, now, RUDP_T_ACK, h.seq, 0, 0);
        return n;
    }
    return 0;
}

int rudp_conn_prepare(rudp_conn_t *c, uint64_t now, uint8_t *buf, size_t cap)
{
    see_time(c, now);
    on_timers(c, now);
    switch (c->state) {
    case RUDP_STATE_CLOSED:
        if (c->reset_pending) {
            uint8_t reason = c->reset_reason;
            rudp_hdr_t h = { .type = RUDP_T_RESET, .payload_len = 1, .payload = &reason };
            if (reason == RUDP_RESET_CLOSED) {
                h.seq = c->fin_seq;
                h.ack = c->rcv_nxt;
            }
            int n = emit(c, &h, buf, cap, now);
            if (n > 0) {
                c->reset_pending = 0;
                trace(c, RUDP_EV_SEND, now, RUDP_T_RESET, 0, 1, reason);
            }
            return n;
        }
        return 0;
    case RUDP_STATE_HANDSHAKE: {
        if (now < c->hs_next)
            return 0;
        int retry = c->hs_sent && !c->hs_answer;
        /* A cookie sent twice without an answer is dropped and the exchange starts
         * over: the server may have restarted with a new key, or our address changed,
         * and it would drop that cookie forever. Once is kept: plain loss is likelier. */
        if (retry && c->have_cookie && c->cookie_sent >= 2)
            c->have_cookie = 0;
        rudp_hdr_t h = { .type = RUDP_T_INITIAL,
                         .seq = c->isn_local,
                         .rwnd = (uint16_t)rwnd_now(c) };
        if (c->have_cookie) {
            h.payload_len = RUDP_COOKIE_SIZE;
            h.payload = c->cookie;
        }
        int n = emit(c, &h, buf, cap, now);
        if (n < 0)
            return n;
        if (c->have_cookie)
            c->cookie_sent++;
        trace(c, retry ? RUDP_EV_RETRANSMIT : RUDP_EV_SEND, now, RUDP_T_INITIAL, c->isn_local,
              h.payload_len, retry ? RUDP_WHY_TIMEOUT : 0);
        c->hs_answer = 0;
        c->hs_sent++;
        /* Only a timeout backs off; the reply to a RETRY is not a retransmission. */
        c->hs_next = now + pto_backed_off(c);
        c->pto_count++;
        return n;
    }
    case RUDP_STATE_ESTABLISHED:
    case RUDP_STATE_DRAINING:
        return prepare_established(c, now, buf, cap);
    }
    return 0;
}

/* ---- the application side ---------------------------------------------------------- */

static int queue_slot(rudp_conn_t *c, uint8_t type, const void *msg, size_t len, uint64_t now)
{
    if (!outstanding(c))
        c->wait_start = now;
    struct rudp_snd_slot *s = snd_slot(c, c->snd_nxt);
    uint8_t *data = slot_buf(c, (size_t)(s - c->snd), len);
    *s = (struct rudp_snd_slot){ .data = data, .type = type, .len = (uint32_t)len };
    if (len)
        memcpy(s->data, msg, len);
    c->snd_nxt++;
    return 0;
}

int rudp_conn_send(rudp_conn_t *c, const void *msg, size_t len, uint64_t now)
{
    see_time(c, now);
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
    see_time(c, now);
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
    set_state(c, RUDP_STATE_CLOSED, RUDP_ECLOSED, now);
}

void rudp_conn_fail(rudp_conn_t *c, int error, uint64_t now)
{
    if (c->state == RUDP_STATE_CLOSED)
        return;
    c->reset_pending = 0;
    set_state(c, RUDP_STATE_CLOSED, error < 0 ? error : RUDP_ECLOSED, now);
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
    trace(c, RUDP_EV_DELIVER, c->latest_now, RUDP_T_DATA, c->rcv_read - 1, (uint32_t)n, 0);
    /* A window we advertised as closed must be reopened by an ACK; the sender's
     * persist probe only covers this ACK getting lost. */
    if (c->last_rwnd == 0)
        c->ack_now = 1;
    return n;
}

/* ---- observers ---------------------------------------------------------------------- */

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
    out->rto = pto_backed_off(c);
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
