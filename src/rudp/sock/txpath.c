/* The driver's way out (txpath.h). Prepared datagrams go to a bounded send ring,
 * flushed with sendmmsg() at the end of each step (and at once for rudp_sock_send/close
 * outside event handling). When the kernel says EAGAIN the ring keeps what it holds and
 * the step waits for POLLOUT; while the ring is full the engines are simply not asked
 * for more (their data stays queued in the engine: nothing is lost and nothing is
 * retransmitted needlessly). Full means no slot, or no room for one more datagram in
 * the byte area, whose bytes come back only when the ring empties: a ring the kernel
 * drains only in part while blocked takes fewer new datagrams than it has free slots.
 * Only a listener reply finding the ring full is dropped (send_dropped); the client
 * repeats its INITIAL anyway. */
#include "txpath.h"

#include <errno.h>
#include <string.h>

#include "demux.h"
#include "impairlink.h"
#include "sock_internal.h"

static void pcap_out(struct rudp_sock *s, const struct txd *t)
{
    const peer_addr_t *from = t->from.len ? &t->from : &s->local;
    const peer_addr_t *to = s->server ? &t->to : &s->peer;
    rudp_pcap_write(s->pcap, &from->u.sa, &to->u.sa, t->data, t->len);
    s->pcap_dirty = 1;
}

void pcap_settle(struct rudp_sock *s)
{
    if (s->pcap && s->pcap_dirty) {
        rudp_pcap_flush(s->pcap);
        s->pcap_dirty = 0;
    }
}

void tx_sent(struct rudp_sock *s, const struct txd *t)
{
    s->st.datagrams_out++;
    s->st.bytes_out += t->len;
    if (s->pcap)
        pcap_out(s, t);
}

/* The datagram was not sent. (An ICMP error reported here, by platform.c, is the
 * verdict on an earlier datagram, but took the current one's turn all the same.) */
void tx_failed(struct rudp_sock *s)
{
    s->st.send_errors++;
}

/* Whether the ring has a slot, and WIRE_MAX bytes, for one more datagram. */
static int tx_room(const struct rudp_sock *s)
{
    return s->tx_n < s->tx_cap && s->tx_used + WIRE_MAX <= (size_t)s->tx_cap * WIRE_MAX;
}

/* The bytes go one after another, not WIRE_MAX apart: 64 DATAs of 40 bytes then touch two
 * pages (their slots, then their bytes), not 24, and on a virtual machine a page touched
 * for the first time costs some 10 µs (docs/performance.md §7). The byte area starts
 * over when the ring empties. */
struct txd *tx_reserve(struct rudp_sock *s)
{
    if (!tx_room(s)) {
        if (s->tx_blocked)
            return NULL;
        plat_tx_flush(s);
        if (!tx_room(s))
            return NULL;
    }
    struct txd *t = &s->tx[(s->tx_head + s->tx_n) % s->tx_cap];
    t->data = s->tx_bytes + s->tx_used;
    t->alone = 0; /* only send_raw() marks a record */
    return t;
}

void tx_commit(struct rudp_sock *s)
{
    s->tx_used += s->tx[(s->tx_head + s->tx_n) % s->tx_cap].len;
    s->tx_n++;
}

void send_raw(struct rudp_sock *s, const uint8_t *data, size_t len, const peer_addr_t *to,
              const peer_addr_t *from, uint64_t now)
{
    if (len > WIRE_MAX)
        return;
    if (s->link) {
        /* A DTLS record's `alone` mark does not cross the link, which has already lost
         * or kept each record on its own. */
        impair_push(s, to, from, data, len, now);
        return;
    }
    struct txd *t = tx_reserve(s);
    if (!t) {
        s->st.send_dropped++;
        return;
    }
    memcpy(t->data, data, len);
    t->len = (uint16_t)len;
    t->alone = (uint8_t)s->tx_alone;
    t->to = *to;
    t->from = *from;
    tx_commit(s);
}

void send_one(struct rudp_sock *s, const uint8_t *data, size_t len, const peer_addr_t *to,
              const peer_addr_t *from, uint64_t now)
{
    if (len > RUDP_MAX_DATAGRAM)
        return;
#ifdef RUDP_HAVE_DTLS
    if (s->dtls) {
        (void)from;
        /* A listener's answers go one per send: three INITIAL copies draw three equal
         * RETRYs, which gso_joins() tells apart by their bytes only as plaintext. */
        s->tx_alone = 1;
        if (rudp_dtls_send(s->dtls, &to->u.sa, to->len, data, len, now) == RUDP_EAGAIN)
            s->st.send_dropped++;
        s->tx_alone = 0;
        return;
    }
#endif
    send_raw(s, data, len, to, from, now);
}

int dgram_alone(const uint8_t *d, size_t n, const uint8_t *prev, size_t prev_n)
{
    if (n > 1 && (d[1] == RUDP_T_INITIAL || d[1] == RUDP_T_ACCEPT))
        return 1;
    return n == prev_n && memcmp(d, prev, n) == 0;
}

void service(struct rudp_sock *s, struct entry *e, uint64_t now)
{
    rudp_conn_t *c = e->conn;
    if (e->held)
        return; /* the engine starts once the DTLS handshake is done */
    e->queued_msgs = 0;
    e->queued_bytes = 0;
    for (;;) {
#ifdef RUDP_HAVE_DTLS
        if (s->dtls) {
            /* One engine datagram, one DTLS record: room for it first, so the engine
             * keeps what cannot leave (as without DTLS). */
            if (!s->link && !tx_reserve(s)) {
                set_deadline(s, e, now);
                return;
            }
            /* The datagram sealed before this one, of whichever connection, is in the
             * other buffer: a copy of it is sealed alone (a probe's second copy). */
            uint8_t *plain = s->plain[s->plain_cur];
            const uint8_t *prev = s->plain[s->plain_cur ^ 1];
            int n = rudp_conn_prepare(c, now, plain, RUDP_MAX_DATAGRAM);
            if (n <= 0)
                break;
            s->tx_alone = dgram_alone(plain, (size_t)n, prev, s->plain_prev_len);
            rudp_dtls_send(s->dtls, &e->peer.u.sa, e->peer.len, plain, (size_t)n, now);
            s->tx_alone = 0;
            s->plain_prev_len = (size_t)n;
            s->plain_cur ^= 1;
            continue;
        }
#endif
        if (s->link) {
            int n = rudp_conn_prepare(c, now, s->plain[0], RUDP_MAX_DATAGRAM);
            if (n <= 0)
                break;
            impair_push(s, &e->peer, &e->local, s->plain[0], (size_t)n, now);
            continue;
        }
        struct txd *t = tx_reserve(s);
        if (!t) {
            set_deadline(s, e, now); /* more to send once the socket is writable */
            return;
        }
        int n = rudp_conn_prepare(c, now, t->data, WIRE_MAX);
        if (n <= 0)
            break;
        t->len = (uint16_t)n;
        t->to = e->peer;
        t->from = e->local;
        tx_commit(s);
    }
    uint64_t next = rudp_conn_next_timeout(c);
    /* "Due now" right after prepare() said "nothing": the engine would make us spin,
     * so look again a microsecond later at the earliest. */
    e->spun = next <= now && rudp_conn_state(c) != RUDP_STATE_CLOSED;
    if (e->spun)
        next = now + 1;
    set_deadline(s, e, next);
}
