/* Loss recovery: the sequence-number / ACK / retransmission heart of rudp.
 *
 * A student's map of this file, in the order things happen to a message:
 *
 *  1. Sending. Every message gets a sequence number (conn.c) and sits in a send slot
 *     until the peer's cumulative ACK passes it. Each transmission, first or not, gets
 *     a fresh timestamp and a transmission index (output.c): they play the role of
 *     QUIC's packet numbers, so an ACK always says which transmission it answers.
 *
 *  2. An ACK arrives: recovery_on_ack(). It carries a cumulative ack (everything
 *     below it arrived) and a SACK bitmap of what arrived after the first gap. Each
 *     slot newly covered is acknowledged (on_packet_acked). The ACK also echoes the
 *     timestamp of the newest packet the peer had: now minus that echo is one RTT
 *     sample (recovery_rtt_sample, smoothed as RFC 6298 §2 says, in rtt.c). Only an
 *     ACK that acknowledges something new gives a sample (RFC 9002 §5.1).
 *
 *  3. Loss detection, RFC 9002 §6.1 (detect_losses). A packet is lost when one sent
 *     3 transmissions after it is acknowledged (packet threshold), or when 9/8 of an
 *     RTT passed since it was sent and something sent later was acknowledged (time
 *     threshold; the loss timer waits for the rest). A lost slot is sent again by
 *     output.c as soon as the windows allow.
 *
 *  4. Silence: the probe timeout, RFC 9002 §6.2. When nothing comes back at all (the
 *     last packets or their ACKs were lost), the PTO fires and the oldest packet is
 *     sent again. The first probe waits one PTO (a tail loss probe, RFC 8985 §7);
 *     each later one doubles, up to max_rto (RFC 6298 §5.5). max_retries expiries in
 *     a row with the peer silent end the connection.
 *
 *  5. Congestion control, NewReno in bytes (RFC 9002 §7): the window grows by each
 *     byte acknowledged in slow start, by one datagram per window after, and halves
 *     once per round trip that loses something.
 *
 * Every deadline the connection has is in one table, timer_table(): the ACK delay,
 * the loss timer, the PTO, the handshake's retry, the server's ACCEPT retry, draining,
 * idle and dead-peer timeouts. rudp_conn_next_timeout() returns the earliest, and
 * recovery_on_timers() runs each one that expired, so the two cannot disagree.
 */
#include "conn_internal.h"
#include "rudp/error.h"
#include "seq.h"

#define FULL_DGRAM (RUDP_HEADER_SIZE + RUDP_MAX_PAYLOAD + RUDP_TRAILER_SIZE)
#define PACKET_THRESHOLD 3 /* RFC 9002 §6.1.1 kPacketThreshold */
#define MIN_CWND (2 * (uint64_t)FULL_DGRAM)
#define INITIAL_CWND (10 * (uint64_t)FULL_DGRAM)

void recovery_init(rudp_conn_t *c)
{
    rudp_rtt_init(&c->rtt, c->cfg.initial_rto);
    c->cwnd = INITIAL_CWND;
    c->ssthresh = UINT64_MAX;
}

/* ---- round-trip time and the probe timeout ------------------------------------- */

void recovery_rtt_sample(rudp_conn_t *c, uint32_t ts_echo, uint32_t ack_delay, uint64_t now)
{
    /* The echo is the peer's copy of our 32-bit µs clock: a "sample" from the future
     * is a forged or reordered echo, not a round trip. */
    uint32_t sample = (uint32_t)now - ts_echo;
    if (sample < 0x80000000u)
        rudp_rtt_sample(&c->rtt, sample, ack_delay, c->cfg.max_ack_delay);
}

uint64_t recovery_pto(const rudp_conn_t *c)
{
    return rudp_rtt_pto(&c->rtt, c->cfg.max_ack_delay);
}

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

/* The probe timeout with backoff, capped at max_rto. The first probe goes out one
 * PTO after the previous one without doubling, as a tail loss probe does (RFC 8985
 * §7): a single lost packet or ACK is by far the likeliest reason for silence, and
 * this is what lets a lock-step exchange recover from two losses in about 3.4 RTTs
 * instead of 4.6. From the second consecutive expiry on, each doubles (RFC 6298
 * §5.5), so a dead or congested path still sees exponential backoff. */
static uint64_t backed_off(const rudp_conn_t *c, uint64_t cap)
{
    uint64_t t = recovery_pto(c);
    for (uint32_t i = 1; i < c->pto_count && t < cap; i++)
        t *= 2;
    return t < cap ? t : cap;
}

uint64_t recovery_pto_backed_off(const rudp_conn_t *c)
{
    return backed_off(c, timer_cap(c));
}

/* The client's wait before its next INITIAL backs off the same way but up to max_rto
 * alone: the dead-peer limit ends a handshake on its own clock (T_DEAD), and a cap
 * below max_rto would only bunch the later INITIALs of a slow path together. */
uint64_t recovery_handshake_timeout(const rudp_conn_t *c)
{
    return backed_off(c, c->cfg.max_rto);
}

/* The dead-peer clock runs from the peer's last packet or from when we began waiting
 * on it, whichever is later: a connection quiet for a while is not dead. */
static uint64_t silent_since(const rudp_conn_t *c)
{
    return c->last_recv > c->wait_start ? c->last_recv : c->wait_start;
}

static uint64_t dead_deadline(const rudp_conn_t *c)
{
    return silent_since(c) + c->cfg.dead_timeout;
}

/* The silence that max_retries unanswered timeouts must also have lasted before the
 * peer is declared dead. On a LAN a PTO is about a millisecond, and nine of them in a
 * row take 0.35 s: less than a process stopped by SIGSTOP, a garbage collector, swap or
 * a VM migration stays away. So the count alone never decides: the peer must also have
 * been silent for min(dead_timeout, MIN_SILENCE_US). With dead_timeout 0 the count
 * alone decides, as configured. */
#define MIN_SILENCE_US 3000000u

static uint64_t min_silence(const rudp_conn_t *c)
{
    return c->cfg.dead_timeout < MIN_SILENCE_US ? c->cfg.dead_timeout : MIN_SILENCE_US;
}

/* ---- acknowledgements: what the peer has ---------------------------------------- */

static void on_packet_lost(rudp_conn_t *c, struct rudp_snd_slot *s, uint32_t seq, int why,
                           uint64_t now)
{
    s->state = SLOT_LOST;
    s->why = (uint8_t)why;
    c->in_flight--;
    c->bytes_in_flight -= s->wire_bytes;
    c->lost++;
    conn_trace(c, RUDP_EV_LOSS, now, s->type, seq, s->len, why);
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
    conn_trace(c, RUDP_EV_ACK, now, s->type, seq, s->len, 0);

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
        struct rudp_snd_slot *s = conn_snd_slot(c, seq);
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
        struct rudp_snd_slot *s = conn_snd_slot(c, seq);
        if (s->state == SLOT_INFLIGHT && s->beyond && (int32_t)(h->ts_echo - s->last_ts) >= 0) {
            s->state = SLOT_LOST;
            s->why = RUDP_WHY_WINDOW;
            c->in_flight--;
            c->bytes_in_flight -= s->wire_bytes;
            c->lost++;
            conn_trace(c, RUDP_EV_LOSS, now, s->type, seq, s->len, RUDP_WHY_WINDOW);
        }
    }
}

/* Frees slots the cumulative ACK passed. */
void recovery_advance_una(rudp_conn_t *c, uint32_t ack)
{
    while (rudp_seq_lt(c->snd_una, ack)) {
        c->snd[c->snd_head].state = SLOT_QUEUED;
        c->snd[c->snd_head].retx = 0;
        c->snd_head = (c->snd_head + 1) % c->snd_cap;
        c->snd_una++;
    }
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
    conn_set_window(c, h, now);
}

void recovery_on_ack(rudp_conn_t *c, const rudp_hdr_t *h, uint64_t now)
{
    /* An ACK for something never sent is forged or broken: ignore its ACK part, the
     * window included. */
    if (rudp_seq_gt(h->ack, c->snd_new) || rudp_seq_lt(h->ack, c->snd_una - RUDP_MAX_WINDOW))
        return;
    take_window(c, h, now);
    int newly = 0;
    for (uint32_t seq = c->snd_una; rudp_seq_lt(seq, h->ack); seq++) {
        struct rudp_snd_slot *s = conn_snd_slot(c, seq);
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
        struct rudp_snd_slot *s = conn_snd_slot(c, seq);
        if (s->state != SLOT_ACKED && s->state != SLOT_QUEUED) {
            on_packet_acked(c, s, seq, h, now);
            newly = 1;
        }
    }
    if (rudp_seq_gt(h->ack, c->snd_una))
        recovery_advance_una(c, h->ack);
    requeue_refused(c, h, now);
    if (!newly) {
        /* The server's first sample: the client's first packets echo our ACCEPT. */
        if (!c->rtt.has_sample && (h->flags & RUDP_F_ACK))
            recovery_rtt_sample(c, h->ts_echo, h->ack_delay, now);
        return;
    }
    /* Only ACKs that acknowledge something new give RTT samples (RFC 9002 §5.1);
     * the echo names the transmission measured, retransmission or not. */
    recovery_rtt_sample(c, h->ts_echo, h->ack_delay, now);
    c->pto_count = 0;
    detect_losses(c, now);
}

/* ---- the timers ------------------------------------------------------------------ */

/* True when prepare() would emit DATA/FIN right now, so drivers do not sleep. */
static int can_send_now(const rudp_conn_t *c)
{
    if (conn_unconfirmed(c))
        return 0;
    uint32_t seq = c->snd_new;
    if (c->lost)
        seq = conn_oldest(c, SLOT_LOST);
    else if (c->snd_new == c->snd_nxt)
        return 0;
    if (!conn_window_allows(c, seq))
        return 0;
    return conn_cwnd_allows(c, c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap].len);
}

static uint64_t pto_deadline(const rudp_conn_t *c)
{
    if (conn_unconfirmed(c))
        return 0; /* the ACCEPT timer runs instead */
    /* Armed while packets are in flight, and while something waits for a window
     * the peer keeps closed (the persist probe: the update reopening it may be lost). */
    int blocked = (c->lost || c->snd_new != c->snd_nxt) && !can_send_now(c);
    if (c->in_flight == 0 && !blocked)
        return 0;
    uint64_t from = c->last_eliciting_sent ? c->last_eliciting_sent : c->last_recv;
    return from + recovery_pto_backed_off(c);
}

/* Every timer a connection has, in the order recovery_on_timers() runs them. */
enum timer {
    T_IDLE,      /* nothing heard for idle_timeout */
    T_ACCEPT,    /* server: resend the ACCEPT the client may not have */
    T_DEAD,      /* data outstanding and the peer silent for dead_timeout */
    T_LOSS,      /* the time threshold of a packet not yet old enough (§6.1.2) */
    T_PTO,       /* the probe timeout (§6.2) */
    T_HANDSHAKE, /* client: send INITIAL again, or give up */
    T_DRAIN,     /* the end of DRAINING */
    T_ACK,       /* the delayed ACK is due (max_ack_delay) */
    T_COUNT
};

/* The deadline of every timer in the connection's current state, 0 when not armed. */
static void timer_table(const rudp_conn_t *c, uint64_t t[T_COUNT])
{
    for (int i = 0; i < T_COUNT; i++)
        t[i] = 0;
    switch (c->state) {
    case RUDP_STATE_CLOSED:
        return;
    case RUDP_STATE_HANDSHAKE:
        t[T_HANDSHAKE] = c->hs_next;
        if (c->cfg.dead_timeout)
            t[T_DEAD] = c->last_recv + c->cfg.dead_timeout;
        return;
    case RUDP_STATE_DRAINING:
        t[T_DRAIN] = c->drain_until;
        t[T_ACK] = c->ack_deadline;
        return;
    case RUDP_STATE_ESTABLISHED:
        break;
    }
    t[T_ACK] = c->ack_deadline;
    if (c->cfg.idle_timeout)
        t[T_IDLE] = c->last_recv + c->cfg.idle_timeout;
    if (conn_unconfirmed(c)) {
        t[T_ACCEPT] = c->accept_next;
        return;
    }
    if (c->loss_time)
        t[T_LOSS] = c->loss_time;
    else
        t[T_PTO] = pto_deadline(c);
    if (c->cfg.dead_timeout && conn_outstanding(c))
        t[T_DEAD] = dead_deadline(c);
}

/* Something to send right now: the driver must not sleep. */
static int send_due(const rudp_conn_t *c)
{
    switch (c->state) {
    case RUDP_STATE_CLOSED:
        return c->reset_pending;
    case RUDP_STATE_DRAINING:
        return c->ack_now;
    case RUDP_STATE_ESTABLISHED:
        return (c->accept_pending && conn_accept_allowed(c)) || c->ack_now || c->probe_pending ||
               can_send_now(c);
    case RUDP_STATE_HANDSHAKE:
        return conn_hs_copy_due(c);
    }
    return 0;
}

uint64_t rudp_conn_next_timeout(const rudp_conn_t *c)
{
    if (send_due(c))
        return 0;
    uint64_t t[T_COUNT];
    timer_table(c, t);
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < T_COUNT; i++)
        if (t[i] && t[i] < next)
            next = t[i];
    return next;
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
        conn_set_state(c, RUDP_STATE_CLOSED, 0, now);
        return;
    }
    c->reset_pending = 1;
    c->reset_reason = RUDP_RESET_ABORT;
    conn_set_state(c, RUDP_STATE_CLOSED, err, now);
}

/* The peer is taken for dead: the connection ends with RUDP_ETIMEDOUT, and the
 * statistics say how long it had been silent (what a user must be told). */
static void give_up(rudp_conn_t *c, uint64_t now)
{
    c->st.silence = now - silent_since(c);
    if (c->state == RUDP_STATE_HANDSHAKE)
        conn_set_state(c, RUDP_STATE_CLOSED, RUDP_ETIMEDOUT, now);
    else
        fail(c, RUDP_ETIMEDOUT, now);
}

/* Whether the timeouts spent so far, and the silence, make the peer dead. When only
 * our FIN is left nothing is at stake: the peer has all our data and we have all of
 * its, and the RESET(CLOSED) that ends us stands in for the FIN (fail()), so a peer
 * that left without acknowledging it does not hold us for the minimum silence. */
static int spent(const rudp_conn_t *c, uint32_t timeouts, uint64_t now)
{
    if (timeouts <= c->cfg.max_retries)
        return 0;
    return only_our_fin_left(c) || now - silent_since(c) >= min_silence(c);
}

/* The peer stayed silent through another timeout. */
static void silent(rudp_conn_t *c, uint64_t now)
{
    if (spent(c, ++c->silent_probes, now))
        give_up(c, now);
}

static void on_timer(rudp_conn_t *c, enum timer which, uint64_t now)
{
    switch (which) {
    case T_IDLE:
    case T_DEAD:
        give_up(c, now);
        return;
    case T_ACCEPT:
        /* Our ACCEPT may be lost, and the client's retries come on its own, slower
         * clock: resend the ACCEPT on ours (backed off; silence counts as for probes). */
        c->st.timeouts++;
        silent(c, now);
        if (c->state == RUDP_STATE_CLOSED)
            return;
        c->pto_count++;
        c->accept_pending = 1;
        /* Re-armed here too: with the 3x budget spent no ACCEPT goes out (output.c)
         * until the client's next INITIAL, and the timer must still count silence. */
        c->accept_next = now + recovery_pto_backed_off(c);
        return;
    case T_LOSS:
        detect_losses(c, now);
        return;
    case T_PTO:
        if (c->probe_pending)
            return; /* the last probe has not left yet */
        c->st.timeouts++;
        conn_trace(c, RUDP_EV_TIMEOUT, now, 0, c->snd_una, 0, RUDP_WHY_TIMEOUT);
        c->pto_count++;
        silent(c, now);
        if (c->state != RUDP_STATE_CLOSED)
            c->probe_pending = CONN_PROBES; /* output.c sends the oldest packet again */
        return;
    case T_HANDSHAKE:
        /* output.c sends the next INITIAL; here only the giving up. */
        if (spent(c, c->hs_sent, now))
            give_up(c, now);
        return;
    case T_DRAIN:
        conn_set_state(c, RUDP_STATE_CLOSED, 0, now);
        return;
    case T_ACK:
        c->ack_now = 1;
        return;
    case T_COUNT:
        break;
    }
}

void recovery_on_timers(rudp_conn_t *c, uint64_t now)
{
    uint64_t t[T_COUNT];
    timer_table(c, t);
    for (int i = 0; i < T_COUNT && c->state != RUDP_STATE_CLOSED; i++)
        if (t[i] && now >= t[i])
            on_timer(c, (enum timer)i, now);
}
