/* Connections of one socket (demux.h).
 *  - Server: connections live in the shared ID table (core/idtab.h) keyed by connection
 *    ID mixed with a per-socket random key (clients choose their IDs, so they must not
 *    be able to choose colliding ones), each with the peer address it was accepted
 *    from. A datagram whose ID matches but whose address does not is dropped and
 *    counted (wrong_address): there is no connection migration. Unknown IDs go to the
 *    stateless listener; nothing is allocated before a cookie checks out. At
 *    max_clients a validated client gets RESET(FULL).
 *  - Deadlines: the shared deadline heap (core/heap.h) holds each connection at
 *    rudp_conn_next_timeout(), re-keyed after each input or prepare on it, so a wake-up
 *    touches only the connections that are due, never a scan of all of them.
 *  - Events: queued here, one entry at most once in the queue with a bit per kind, and
 *    pulled by the application after the step (rudp_sock_service), so application code
 *    never runs inside the driver or an engine. A connection with a fresh event is
 *    serviced at the next step rather than at once: what the application answers and
 *    the engine's ACK then leave in one datagram. A closed connection leaves the table
 *    when its CLOSED event is queued and is freed at the call after its delivery.
 *  - Client: a connected UDP socket, so the kernel filters other senders and reports
 *    ICMP errors quoting our datagrams (ECONNREFUSED, EHOSTUNREACH, ...; platform.c).
 *    Every one is counted (icmp_errors) and none is fatal by itself: an ICMP error can
 *    be forged by anyone who guesses the 5-tuple (RFC 5927), and a server that
 *    restarts or dies is judged by the engine's dead-peer limit (RUDP_ETIMEDOUT). One
 *    exception: port unreachable during the handshake, before any datagram came from
 *    the server, ends it with RUDP_EUNREACH ("server not reachable") at once, as
 *    TCP's RST would, rather than after the handshake's retries. A forger can only
 *    abort a handshake in that window, which it could as well by dropping packets;
 *    once the server has answered (a RETRY, say), it is alive and the error is
 *    ignored. */
#include "demux.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"
#include "sock_internal.h"
#include "txpath.h"

/* ---- the table and the deadlines ---------------------------------------------------- */

static uint64_t cid_hash(const struct rudp_sock *s, uint64_t cid)
{
    /* splitmix64's finalizer over the keyed ID. */
    uint64_t x = cid ^ s->hash_key;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int cid_eq(const void *obj, const void *ctx)
{
    return ((const struct entry *)obj)->cid == *(const uint64_t *)ctx;
}

static struct entry *table_find(const struct rudp_sock *s, uint64_t cid)
{
    return rudp_idtab_find(&s->table, cid_hash(s, cid), cid_eq, &cid);
}

int demux_open(struct rudp_sock *s, uint32_t max)
{
    s->due_arr = calloc(max, sizeof(rudp_heap_node_t *));
    s->touched_cap = s->server ? PLAT_BATCH : 1;
    s->touched = calloc(s->touched_cap, sizeof(struct entry *));
    if (!s->due_arr || !s->touched)
        return RUDP_ENOMEM;
    rudp_heap_init(&s->due, s->due_arr, max);
    if (!s->server)
        return 0;
    uint32_t size = rudp_idtab_size_for(max);
    s->slots = calloc(size, sizeof *s->slots);
    if (!s->slots)
        return RUDP_ENOMEM;
    rudp_idtab_init(&s->table, s->slots, size);
    return plat_random(&s->hash_key, sizeof s->hash_key);
}

static void entry_free(struct entry *e)
{
    rudp_conn_free(e->conn);
    free(e);
}

void demux_free(struct rudp_sock *s)
{
    for (uint32_t i = 0; s->slots && i <= s->table.mask; i++)
        if (s->slots[i].obj)
            entry_free(s->slots[i].obj);
    if (s->client)
        entry_free(s->client);
    for (struct entry *e = s->evq_head, *next; e; e = next) {
        next = e->ev_next;
        if (e->dead)
            entry_free(e); /* live ones went with the table */
    }
    event_reap(s); /* the last CLOSED delivered, and the graveyard */
    free(s->slots);
    free(s->due_arr);
    free(s->touched);
}

struct entry *entry_new(rudp_conn_t *conn, uint64_t cid)
{
    struct entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->conn = conn;
    e->cid = cid;
    rudp_heap_node_init(&e->due);
    return e;
}

void set_deadline(struct rudp_sock *s, struct entry *e, uint64_t t)
{
    /* An unproven connection is looked at when its time to prove itself is up. */
    if (e->unproven && t > e->born + RUDP_SOCK_UNPROVEN_TIMEOUT)
        t = e->born + RUDP_SOCK_UNPROVEN_TIMEOUT;
    if (t == UINT64_MAX) {
        rudp_heap_remove(&s->due, &e->due);
        e->due.key = UINT64_MAX;
        return;
    }
    (void)rudp_heap_set(&s->due, &e->due, t); /* its size is the connections held */
}

struct entry *entry_of(struct rudp_sock *s, const rudp_conn_t *c)
{
    /* A server's replies come in runs to one connection: the last one found is
     * checked before the table (it is forgotten when its entry is retired). */
    if (s->last_found && s->last_found->conn == c)
        return s->last_found;
    struct entry *e = s->server ? table_find(s, rudp_conn_cid(c)) : s->client;
    if (!e || e->conn != c)
        return NULL;
    s->last_found = e;
    return e;
}

/* ---- events ---------------------------------------------------------------------- */

static void emit(struct rudp_sock *s, struct entry *e, uint8_t kind, int err)
{
    e->ev_pending |= kind;
    if (kind == EV_CLOSED)
        e->ev_error = err;
    if (e->ev_queued)
        return;
    e->ev_queued = 1;
    e->ev_next = NULL;
    if (s->evq_tail)
        s->evq_tail->ev_next = e;
    else
        s->evq_head = e;
    s->evq_tail = e;
}

void event_reap(struct rudp_sock *s)
{
    if (s->reap) {
        entry_free(s->reap);
        s->reap = NULL;
    }
    while (s->graveyard) {
        struct entry *e = s->graveyard;
        s->graveyard = e->ev_next;
        entry_free(e);
    }
}

int event_next(struct rudp_sock *s, rudp_sock_event_t *ev)
{
    event_reap(s);
    struct entry *e = s->evq_head;
    if (!e) {
        s->deferring = 0;
        return 0;
    }
    uint8_t bit = e->ev_pending & (uint8_t)-e->ev_pending; /* the lowest: ACCEPTED first */
    e->ev_pending &= (uint8_t)~bit;
    *ev = (rudp_sock_event_t){ .kind = bit == EV_ACCEPTED    ? RUDP_SOCK_EV_ACCEPTED
                                       : bit == EV_CONNECTED ? RUDP_SOCK_EV_CONNECTED
                                       : bit == EV_READABLE  ? RUDP_SOCK_EV_READABLE
                                                             : RUDP_SOCK_EV_CLOSED,
                               .conn = e->conn,
                               .user = e->user,
                               .peer = &e->peer.u.sa,
                               .peer_len = e->peer.len,
                               .error = bit == EV_CLOSED ? e->ev_error : 0 };
    if (!e->ev_pending) {
        s->evq_head = e->ev_next;
        if (!s->evq_head)
            s->evq_tail = NULL;
        e->ev_queued = 0;
        if (bit == EV_CLOSED)
            s->reap = e;
    }
    s->deferring = 1;
    return 1;
}

/* A server's connection is done (draining, closed or retired): its source host's places,
 * the connection's and its DTLS session's, are free for the host's next one, though it
 * stays a moment to answer its peer's last retransmissions (RFC 9000 §10.2). Once. */
static void entry_leave(struct rudp_sock *s, struct entry *e)
{
    if (!e->source)
        return;
#ifdef RUDP_HAVE_DTLS
    if (s->dtls)
        rudp_dtls_release(s->dtls, &e->peer.u.sa, e->peer.len, plat_now_us());
#endif
    front_leave(s, e);
}

/* The connection leaves the table and the heap; its memory stays until its CLOSED
 * event has been delivered. */
static void entry_retire(struct rudp_sock *s, struct entry *e)
{
    rudp_heap_remove(&s->due, &e->due);
    if (s->last_found == e)
        s->last_found = NULL;
    if (s->server) {
        entry_leave(s, e);
        rudp_idtab_remove(&s->table, cid_hash(s, e->cid), e);
        front_put(s, e);
    } else {
        s->client = NULL;
    }
    e->dead = 1;
    s->st.active--;
}

void settle(struct rudp_sock *s, struct entry *e, int got_input)
{
    rudp_conn_t *c = e->conn;
    rudp_state_t st = rudp_conn_state(c);
    int told = 0;
    if (e->unproven) {
        int v = front_settle(s, e, plat_now_us());
        if (v == FRONT_DROP) {
            /* Never announced, so no event: it leaves now, and its memory at the next
             * call (it may still be in this batch's list). */
            entry_retire(s, e);
            e->ev_next = s->graveyard;
            s->graveyard = e;
            return;
        }
        if (v == FRONT_PROVEN) {
            emit(s, e, EV_ACCEPTED, 0);
            told = 1;
        }
    }
    if (s->server && (st == RUDP_STATE_DRAINING || st == RUDP_STATE_CLOSED))
        entry_leave(s, e);
    if (!s->server && !e->connected_sent &&
        (st == RUDP_STATE_ESTABLISHED || st == RUDP_STATE_DRAINING)) {
        e->connected_sent = 1;
        emit(s, e, EV_CONNECTED, 0);
        told = 1;
    }
    if (got_input || st == RUDP_STATE_CLOSED) {
        int n = rudp_conn_peek_size(c);
        if (n >= 0 || (n == RUDP_ECLOSED && !e->eof_sent)) {
            if (n == RUDP_ECLOSED)
                e->eof_sent = 1;
            emit(s, e, EV_READABLE, 0);
            told = 1;
        }
    }
    uint64_t now = s->now;
    if (told && st != RUDP_STATE_CLOSED && !e->unreach) {
        /* The application answers after this step: its reply and the engine's ACK
         * leave together at the next one. */
        set_deadline(s, e, now + 1);
        return;
    }
    if (!e->unreach)
        service(s, e, now);
    /* An unreachable peer gets no RESET: nothing listens there. */
    if (rudp_conn_state(c) == RUDP_STATE_CLOSED &&
        (e->unreach || rudp_conn_next_timeout(c) == UINT64_MAX)) {
        emit(s, e, EV_CLOSED, rudp_conn_error(c));
        entry_retire(s, e);
    }
}

/* ---- receiving ------------------------------------------------------------------- */

static void settle_touched(struct rudp_sock *s)
{
    /* Entries are retired, not freed, in settle(), so the list stays valid. */
    for (uint32_t i = 0; i < s->n_touched; i++) {
        struct entry *e = s->touched[i];
        e->touched = 0;
        settle(s, e, 1);
    }
    s->n_touched = 0;
}

void touch(struct rudp_sock *s, struct entry *e)
{
    /* Full: one receive batch reached more connections than it has receives, which a
     * receive carrying several connection IDs can do: a UDP GRO run from one sender, or
     * a DTLS record batch from one session. Settling the list now keeps it bounded. */
    if (!e->touched && s->n_touched == s->touched_cap)
        settle_touched(s);
    if (!e->touched) {
        e->touched = 1;
        s->touched[s->n_touched++] = e;
    }
}

static int accept_conn(struct rudp_sock *s, const rudp_hdr_t *h, const peer_addr_t *from,
                       const peer_addr_t *to, const uint8_t *key, uint8_t key_len, uint64_t now)
{
    uint32_t isn;
    if (plat_random(&isn, sizeof isn) != 0)
        return RUDP_ESYS;
    rudp_conn_t *c = NULL;
    int rc = rudp_conn_new_server(&c, &s->cfg.conn, h, isn, now);
    if (rc)
        return rc;
    struct entry *e = entry_new(c, h->cid);
    if (!e) {
        rudp_conn_free(c);
        return RUDP_ENOMEM;
    }
    e->peer = *from;
    e->local = *to;
    e->key_len = key_len;
    memcpy(e->key, key, key_len);
    rc = front_take(s, e, now);
    if (rc != 0) {
        entry_free(e);
        return rc;
    }
    if (rudp_idtab_insert(&s->table, cid_hash(s, e->cid), e) != 0) {
        front_put(s, e);
        entry_free(e); /* cannot happen: the table has room for max_clients */
        return RUDP_ENOMEM;
    }
    s->st.active++;
    s->st.accepted++;
    /* One accepted at once is announced only once its client proves its address
     * (front.c): a forged INITIAL never reaches the application. */
    if (!e->unproven)
        emit(s, e, EV_ACCEPTED, 0);
    touch(s, e);
    return 0;
}

void server_input(struct rudp_sock *s, const uint8_t *d, size_t len, const peer_addr_t *from,
                  const peer_addr_t *to, uint64_t now)
{
    uint8_t key[PEER_KEY_MAX];
    uint8_t key_len = peer_key(from, key);
    uint64_t cid;
    struct entry *e = NULL;
    if (rudp_wire_peek_cid(d, len, &cid) == 0)
        e = table_find(s, cid);
    if (e) {
        if (e->key_len != key_len || memcmp(e->key, key, key_len) != 0) {
            s->st.wrong_address++;
            return;
        }
        if (s->pcap)
            e->local = *to;
        rudp_conn_input(e->conn, d, len, now);
        touch(s, e);
        return;
    }
    rudp_hdr_t h;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t rlen = 0;
    front_gate(s, now);
    int v =
        rudp_listener_input(s->listener, d, len, key, key_len, now, &h, reply, sizeof reply, &rlen);
    if (v == RUDP_LISTEN_REPLY) {
        send_one(s, reply, rlen, from, to, now);
    } else if (v == RUDP_LISTEN_ACCEPT) {
        int rc = s->st.active >= s->cfg.max_clients
                     ? RUDP_ENOMEM
                     : accept_conn(s, &h, from, to, key, key_len, now);
        if (rc != 0) {
            /* Full, out of memory, or its source at its cap: either way a clear refusal,
             * not silence. 41 bytes against at least 40: within 3x, proven or not. */
            uint8_t why = rc == RUDP_EREFUSED ? RUDP_RESET_SOURCE : RUDP_RESET_FULL;
            int n = rudp_listener_refuse_reason(&h, why, now, reply, sizeof reply);
            if (n > 0)
                send_one(s, reply, (size_t)n, from, to, now);
            if (why == RUDP_RESET_SOURCE)
                s->st.refused_source++;
            else
                s->st.refused_full++;
        }
    }
}

static void dispatch(struct rudp_sock *s, const uint8_t *d, size_t len, const peer_addr_t *from,
                     const peer_addr_t *to, uint64_t now)
{
    s->st.datagrams_in++;
    s->st.bytes_in += len;
    if (s->pcap) {
        const peer_addr_t *src = s->server ? from : &s->peer;
        const peer_addr_t *dst = to->len ? to : &s->local;
        rudp_pcap_write(s->pcap, &src->u.sa, &dst->u.sa, d, len);
        s->pcap_dirty = 1;
    }
#ifdef RUDP_HAVE_DTLS
    if (s->dtls) {
        /* Decrypted datagrams come back through sockdtls.c. */
        rudp_dtls_input(s->dtls, d, len, &from->u.sa, from->len, to->len ? &to->u.sa : NULL,
                        to->len, now);
        return;
    }
#endif
    if (s->server) {
        server_input(s, d, len, from, to, now);
    } else if (s->client) {
        struct entry *e = s->client;
        int rc = rudp_conn_input(e->conn, d, len, now);
        if (rc != 0 && rudp_dtls_is_record(d, len) && !e->unreach &&
            rudp_conn_state(e->conn) == RUDP_STATE_HANDSHAKE) {
            /* The server answers in DTLS: it runs with --secure. Say so now rather
             * than retransmit into a wall until the dead-peer limit. */
            snprintf(s->sec_err, sizeof s->sec_err, "the server speaks DTLS: it requires --secure");
            e->unreach = 1; /* nothing more to send to it */
            rudp_conn_fail(e->conn, RUDP_EREFUSED, now);
        }
        touch(s, e);
    }
}

int rx_all(struct rudp_sock *s)
{
    uint32_t dgrams = 0, batch;
    size_t cap;
    plat_rx_geometry(s, &batch, &cap);
    /* Bounded: a batch that does not end the loop was full, at least 16 datagrams. */
    while (dgrams < RX_DGRAMS) {
        int n = plat_rx_batch(s);
        if (n <= 0)
            return n;
        uint64_t now = s->now; /* the wake-up's reading (sock.c) */
        const size_t max = s->dtls ? WIRE_MAX : RUDP_MAX_DATAGRAM;
        for (int i = 0; i < n; i++) {
            const struct plat_rx *r = s->rx;
            size_t len = r->len[i], seg = r->seg[i] && r->seg[i] < len ? r->seg[i] : len;
            /* Datagrams in this receive: a GRO run holds them back to back, each seg
             * bytes but the last; an empty datagram is one too. Every one counts against
             * the step's bound, dropped or not, so a flood of junk cannot stretch it. */
            size_t count = len ? (len + seg - 1) / seg : 1;
            dgrams += (uint32_t)count;
            if (r->trunc[i] || seg > max) {
                s->st.oversized += count; /* not in datagrams_in: never in the pcap either */
                s->garbage += count;      /* too large to be ours */
                continue;
            }
            if (count > 1)
                s->st.gro_receives++;
            for (size_t k = 0, off = 0; k < count; k++, off += seg) {
                size_t one = len - off < seg ? len - off : seg;
                dispatch(s, r->buf + (size_t)i * cap + off, one, &r->from[i], &r->to[i], now);
            }
        }
        /* Answer this batch before reading the next: ACKs go out sooner. When it gave
         * the application events, the step ends here, so its answers and the ACKs
         * leave (rudp_sock_flush, or the next step) before the next batch is read. */
        settle_touched(s);
        if ((uint32_t)n < batch || s->evq_head)
            return 0;
    }
    return 0;
}

void on_refused(struct rudp_sock *s)
{
    s->refused = 0;
    struct entry *e = s->client;
    if (!e)
        return;
    if (rudp_conn_state(e->conn) != RUDP_STATE_HANDSHAKE || s->st.datagrams_in > 0)
        return; /* counted in icmp_errors; the dead-peer limit decides (see the top) */
    e->unreach = 1;
    rudp_conn_fail(e->conn, RUDP_EUNREACH, plat_now_us());
    settle(s, e, 0);
}

/* ---- deadlines ------------------------------------------------------------------------ */

/* The application may have called rudp_conn_abort() or rudp_conn_recv() (reopening a
 * closed window) on its own, which the heap cannot know of; for one connection asking
 * again costs nothing. (A server's connections are serviced after every event, so
 * calls made while handling one are seen.) */
uint64_t client_deadline(const struct rudp_sock *s)
{
    const struct entry *e = s->client;
    if (!e || e->held)
        return UINT64_MAX;
    if (e->spun)
        return e->due.key;
    if (rudp_conn_state(e->conn) == RUDP_STATE_CLOSED)
        return 0; /* its CLOSED event is due */
    uint64_t t = rudp_conn_next_timeout(e->conn);
    return t < e->due.key ? t : e->due.key;
}

uint64_t next_deadline(const struct rudp_sock *s)
{
    if (s->tx_blocked)
        return UINT64_MAX; /* nothing can go out before POLLOUT */
    if (s->tx_n > 0 || s->evq_head)
        return 0;
    uint64_t t = rudp_heap_min(&s->due);
    uint64_t c = client_deadline(s);
    if (c < t)
        t = c;
    if (s->link) {
        uint64_t l = rudp_sim_link_next(s->link);
        if (l < t)
            t = l;
    }
#ifdef RUDP_HAVE_DTLS
    if (s->dtls) {
        uint64_t d = rudp_dtls_next_timeout(s->dtls);
        if (d < t)
            t = d;
    }
#endif
    return t;
}

void run_timers(struct rudp_sock *s, uint64_t now)
{
    /* Each connection once: a deadline re-keyed to "now" waits for the next step
     * rather than looping here. */
    for (uint32_t k = 0, limit = s->due.n; k < limit && !s->tx_blocked; k++) {
        rudp_heap_node_t *top = rudp_heap_top(&s->due);
        if (!top || top->key > now)
            break;
        settle(s, RUDP_HEAP_OF(top, struct entry, due), 0);
    }
}
