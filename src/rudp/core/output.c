/* What a connection puts on the wire: rudp_conn_prepare() and the datagrams it builds.
 * The order of preference is the handshake, a probe the PTO asked for, lost data, new
 * data (as the peer's window and the congestion window allow), and a bare ACK; every
 * datagram that carries data carries the current ACK too (piggybacking). */
#include <string.h>

#include "conn_internal.h"
#include "rudp/error.h"
#include "seq.h"

static uint32_t rwnd_now(const rudp_conn_t *c)
{
    uint32_t used = c->rcv_nxt - c->rcv_read;
    uint32_t free_slots = c->rcv_cap > used ? c->rcv_cap - used : 0;
    return free_slots > 0xFFFF ? 0xFFFF : free_slots;
}

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
            if (conn_held(c, seq))
                sack[i / 8] |= (uint8_t)(0x80u >> (i % 8));
        }
        h->sack_len = (uint8_t)bytes;
        h->sack = sack;
    }
    c->unacked_rx = 0;
    c->ack_now = 0;
    c->ack_deadline = 0;
}

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
    struct rudp_snd_slot *s = conn_snd_slot(c, seq);
    if (s->state == SLOT_LOST)
        c->lost--;
    if (s->state == SLOT_INFLIGHT)
        c->bytes_in_flight -= s->wire_bytes;
    else
        c->in_flight++;
    c->bytes_in_flight += wire_bytes;
    int first = s->state == SLOT_QUEUED && seq == c->snd_new;
    s->beyond = !conn_window_allows(c, seq);
    s->state = SLOT_INFLIGHT;
    s->wire_bytes = wire_bytes;
    s->sent_time = now;
    s->last_ts = ts;
    s->tx_index = c->tx_counter; /* one index per datagram: thresholds count datagrams */
    c->last_eliciting_sent = now;
    if (first) {
        c->snd_new++;
        conn_trace(c, RUDP_EV_SEND, now, s->type, seq, s->len, 0);
        return 0;
    }
    s->retx++;
    conn_trace(c, RUDP_EV_RETRANSMIT, now, s->type, seq, s->len, why);
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
    if (state == SLOT_QUEUED && !conn_window_allows(c, seq))
        return 0;
    return c->cfg.cc == RUDP_CC_NONE ||
           c->bytes_in_flight + wire + RUDP_RECORD_HEADER + s->len <= c->cwnd;
}

/* Sends slot seq, and with coalescing the consecutive slots in the same state after
 * it that fit, as one datagram. */
static int send_slot(rudp_conn_t *c, uint32_t seq, int why, uint8_t *buf, size_t cap, uint64_t now)
{
    struct rudp_snd_slot *s = conn_snd_slot(c, seq);
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
                 conn_wire_len(s->len + RUDP_RECORD_HEADER))) {
        size_t off = 0;
        uint32_t q = seq;
        count = 0;
        do {
            const struct rudp_snd_slot *m = conn_snd_slot(c, q);
            packed[off] = (uint8_t)(m->len >> 8);
            packed[off + 1] = (uint8_t)m->len;
            memcpy(packed + off + RUDP_RECORD_HEADER, m->data, m->len);
            off += RUDP_RECORD_HEADER + m->len;
            count++;
            q++;
        } while (can_join(c, q, state, off, conn_wire_len((uint32_t)off)));
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
        uint32_t len = conn_snd_slot(c, seq + i)->len;
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
    if (c->accept_pending && conn_accept_allowed(c)) {
        rudp_hdr_t h = { .type = RUDP_T_ACCEPT, .seq = c->isn_local };
        uint8_t sack[RUDP_MAX_SACK_BYTES];
        fill_ack(c, &h, sack, now);
        int n = emit(c, &h, buf, cap, now);
        if (n > 0) {
            c->amp_sent += (uint64_t)n;
            c->accept_pending = 0;
            c->accept_next = now + recovery_pto_backed_off(c);
            conn_trace(c, RUDP_EV_SEND, now, RUDP_T_ACCEPT, c->isn_local, 0,
                       conn_hs_copy_due(c) ? RUDP_WHY_COPY : 0);
            /* The first ACCEPT goes out CONN_HS_SENDS times, as the client's first
             * INITIAL does. */
            if (c->hs_copy > 0 && --c->hs_copy > 0)
                c->accept_pending = 1;
        }
        return n;
    }
    if (c->state == RUDP_STATE_ESTABLISHED && !conn_unconfirmed(c)) {
        /* A probe is not held back by the congestion window (RFC 9002 §7.5). It
         * resends the oldest unacknowledged packet, or pushes new data past a zero
         * window so the peer answers with its current one. It goes out twice, back to
         * back (the second finds the first's packet the oldest): at 10% loss a lone
         * probe was lost once in ten, and waited out a doubled timeout. */
        if (c->probe_pending) {
            c->probe_pending--;
            uint32_t seq = conn_oldest(c, SLOT_INFLIGHT);
            if (seq == c->snd_new)
                seq = conn_oldest(c, SLOT_LOST);
            if (seq != c->snd_new || c->snd_new != c->snd_nxt)
                return send_slot(c, seq, RUDP_WHY_TIMEOUT, buf, cap, now);
        }
        if (c->lost) {
            uint32_t seq = conn_oldest(c, SLOT_LOST);
            struct rudp_snd_slot *s = conn_snd_slot(c, seq);
            if (conn_window_allows(c, seq) && conn_cwnd_allows(c, s->len))
                return send_slot(c, seq, s->why, buf, cap, now);
        }
        if (c->snd_new != c->snd_nxt && conn_window_allows(c, c->snd_new) &&
            conn_cwnd_allows(c, conn_snd_slot(c, c->snd_new)->len))
            return send_slot(c, c->snd_new, 0, buf, cap, now);
    }
    if (c->have_echo && c->ack_now) { /* the ACK timer sets ack_now (recovery.c) */
        rudp_hdr_t h = { .type = RUDP_T_ACK, .seq = c->snd_new };
        uint8_t sack[RUDP_MAX_SACK_BYTES];
        fill_ack(c, &h, sack, now);
        int n = emit(c, &h, buf, cap, now);
        if (n > 0)
            conn_trace(c, RUDP_EV_SEND, now, RUDP_T_ACK, h.seq, 0, 0);
        return n;
    }
    return 0;
}

int rudp_conn_prepare(rudp_conn_t *c, uint64_t now, uint8_t *buf, size_t cap)
{
    conn_see_time(c, now);
    recovery_on_timers(c, now);
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
                conn_trace(c, RUDP_EV_SEND, now, RUDP_T_RESET, 0, 1, reason);
            }
            return n;
        }
        return 0;
    case RUDP_STATE_HANDSHAKE: {
        /* The first INITIAL goes out three times, back to back: at 10% loss each way
         * one handshake in five lost a datagram and waited out the first timer (250
         * ms, hundreds of round trips on a LAN); with the INITIAL and the ACCEPT sent
         * twice, about one in fifty did; thrice, about one in five hundred does
         * (docs/protocol.md section 7.3). A copy is neither a retry nor counted as
         * one, and does not move the timer. */
        int copy = conn_hs_copy_due(c);
        if (now < c->hs_next && !copy)
            return 0;
        int retry = c->hs_sent && !c->hs_answer && !copy;
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
        if (copy) {
            c->hs_copy--;
            conn_trace(c, RUDP_EV_SEND, now, RUDP_T_INITIAL, c->isn_local, 0, RUDP_WHY_COPY);
            return n;
        }
        if (c->hs_copy == CONN_HS_SENDS)
            c->hs_copy--;
        if (c->have_cookie)
            c->cookie_sent++;
        conn_trace(c, retry ? RUDP_EV_RETRANSMIT : RUDP_EV_SEND, now, RUDP_T_INITIAL, c->isn_local,
                   h.payload_len, retry ? RUDP_WHY_TIMEOUT : 0);
        if (retry)
            c->st.handshake_retries++;
        c->hs_answer = 0;
        c->hs_sent++;
        /* Only a timeout backs off; the reply to a RETRY is not a retransmission. */
        c->hs_next = now + recovery_handshake_timeout(c);
        c->pto_count++;
        return n;
    }
    case RUDP_STATE_ESTABLISHED:
    case RUDP_STATE_DRAINING:
        return prepare_established(c, now, buf, cap);
    }
    return 0;
}
