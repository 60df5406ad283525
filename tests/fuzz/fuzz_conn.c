/* Fuzz target: the engine's input path, a client and a server connection joined by a
 * network the input controls. The server side is driven as a real one is (simpair.c):
 * a datagram whose connection ID matches no connection goes to the listener, whose
 * ACCEPT creates the server connection.
 *
 * Input: three setup bytes, then operations until the input ends.
 *   byte 0: 0x01 fuzz the handshake too (else it is done first, on a clean link);
 *           0x02/0x04 coalescing on client/server; 0x08 no congestion control;
 *           0x70 window 1, 2, 3, 4, 8, 16, 32 or 64; 0x80 ISNs next to a wrap.
 *   byte 1: start time (0, 1 s, 2^32 µs - 256, 2^40 µs) and send queue (0, 1, 4, 16).
 *   byte 2: timers: bit 0 no idle timeout, bit 1 no dead timeout, bit 2 short RTOs,
 *           bit 3 max_retries 2.
 *   operations, low nibble the opcode, high nibble its argument (see run_op).
 * Each side's messages are numbered: the harness knows what it sent.
 *
 * Checked after every operation:
 *   - delivery: every message (and the FIN) rudp_conn_recv() hands out is one that
 *     arrived with that sequence number, exactly once, in sequence order; while no
 *     forged or altered datagram has been accepted, it is exactly the peer's message of
 *     that number;
 *   - liveness at one instant: prepare() stops emitting after a bounded number of
 *     calls, and then next_timeout() lies in the future (a driver would otherwise spin);
 *   - the sender's bookkeeping (in-flight and lost counts and bytes, sequence ranges)
 *     matches its slots;
 *   - at the end, if nothing forged was accepted and no side failed: on a clean link,
 *     with both sides closing, everything sent is delivered and both sides finish.
 * ASan and UBSan (and LeakSanitizer) watch everything else. */
#include <string.h>

#include "conn_internal.h"
#include "crc32c.h"
#include "fuzz.h"
#include "rudp/error.h"
#include "rudp/listen.h"
#include "seq.h"

#define CID 0x1122334455667788ull
#define ADDR "198.18.0.2:40000"
#define QCAP 32     /* datagrams in flight per direction; more are lost */
#define MAXREL 2048 /* sequence numbers tracked per direction */
#define MAXARR 4    /* distinct payloads remembered per sequence number */
#define MAX_TIME (1ull << 50)

struct dgram {
    uint8_t b[RUDP_MAX_DATAGRAM];
    size_t len;
    int genuine; /* exactly as an engine or the listener wrote it */
};

struct queue {
    struct dgram d[QCAP];
    unsigned n;
};

struct side {
    const char *name;
    rudp_conn_t *c;
    uint32_t peer_isn;     /* the genuine ISN of the messages this side receives */
    uint32_t sent;         /* messages this side's send() accepted */
    uint16_t lens[MAXREL]; /* their lengths */
    int closed;            /* close() accepted */
    uint64_t wait_since;   /* when it last began to wait on the peer (queued data) */
    int established;       /* it has been ESTABLISHED (else it waited all along) */
    int was_closed;        /* its CLOSED state has been checked */
    uint32_t delivered;    /* messages and FIN this side's recv() handed out */
    int eof;
    /* What arrived for each of the peer's sequence numbers (rel. to peer_isn). */
    uint64_t arr[MAXREL][MAXARR];
    uint8_t narr[MAXREL];
    uint8_t many[MAXREL];
};

static struct world {
    struct side cl, sv;
    struct queue c2s, s2c;
    rudp_listener_t listener;
    rudp_config_t ccfg, scfg;
    uint32_t server_isn;
    uint64_t now;
    int tainted; /* a forged or altered datagram was accepted somewhere */
} w;

static uint8_t scratch[RUDP_MAX_DATAGRAM];

/* ---- messages and what arrived ---------------------------------------------------- */

static void make_msg(char who, uint32_t k, size_t len, uint8_t *out)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(who * 77u + k * 31u + i * 7u);
    if (len >= 5) {
        out[0] = (uint8_t)who;
        out[1] = (uint8_t)(k >> 24);
        out[2] = (uint8_t)(k >> 16);
        out[3] = (uint8_t)(k >> 8);
        out[4] = (uint8_t)k;
    }
}

static uint64_t digest(uint8_t type, const uint8_t *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull ^ type;
    h *= 0x100000001b3ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h ^ len;
}

static void note_arrival(struct side *s, uint32_t seq, uint8_t type, const uint8_t *p, size_t len)
{
    uint32_t rel = seq - s->peer_isn;
    if (rel >= MAXREL)
        return;
    uint64_t d = digest(type, p, len);
    for (unsigned i = 0; i < s->narr[rel]; i++)
        if (s->arr[rel][i] == d)
            return;
    if (s->narr[rel] < MAXARR)
        s->arr[rel][s->narr[rel]++] = d;
    else
        s->many[rel] = 1;
}

/* Records the DATA/FIN a datagram carries for side s before s's engine sees it. */
static void record(struct side *s, const uint8_t *b, size_t len)
{
    rudp_hdr_t h;
    if (!s->c || rudp_wire_decode(&h, b, len) != 0 || h.cid != rudp_conn_cid(s->c))
        return;
    if (h.type == RUDP_T_FIN || (h.type == RUDP_T_RESET && h.payload[0] == RUDP_RESET_CLOSED)) {
        /* A RESET(CLOSED) carries the FIN its sender could not deliver. */
        note_arrival(s, h.seq, RUDP_T_FIN, NULL, 0);
    } else if (h.type == RUDP_T_DATA && !(h.flags & RUDP_F_COALESCED)) {
        note_arrival(s, h.seq, RUDP_T_DATA, h.payload, h.payload_len);
    } else if (h.type == RUDP_T_DATA) {
        size_t off = 0, mlen;
        const uint8_t *msg;
        for (uint32_t seq = h.seq; rudp_wire_record(&h, &off, &msg, &mlen); seq++)
            note_arrival(s, seq, RUDP_T_DATA, msg, mlen);
    }
}

static int arrived(const struct side *s, uint32_t seq, uint8_t type, const uint8_t *p, size_t len)
{
    uint32_t rel = seq - s->peer_isn;
    if (rel >= MAXREL || s->many[rel])
        return 1; /* not tracked: cannot tell */
    uint64_t d = digest(type, p, len);
    for (unsigned i = 0; i < s->narr[rel]; i++)
        if (s->arr[rel][i] == d)
            return 1;
    return 0;
}

static struct side *peer_of(struct side *s)
{
    return s == &w.cl ? &w.sv : &w.cl;
}

static int waiting(const rudp_conn_t *c)
{
    return c->in_flight > 0 || c->lost > 0 || c->snd_new != c->snd_nxt;
}

/* ---- the application's side -------------------------------------------------------- */

/* One recv() and its checks; returns 1 when something was consumed. */
static int recv_one(struct side *s)
{
    static uint8_t buf[RUDP_MAX_PAYLOAD], expect[RUDP_MAX_PAYLOAD];
    if (!s->c)
        return 0;
    uint32_t seq = s->c->rcv_read;
    int n = rudp_conn_recv(s->c, buf, sizeof buf);
    struct side *p = peer_of(s);
    if (n >= 0) {
        FUZZ_CHECK(!s->eof, "%s: a message after the end of the stream", s->name);
        FUZZ_CHECK(s->c->rcv_read == seq + 1, "%s: recv did not advance by one", s->name);
        FUZZ_CHECK(arrived(s, seq, RUDP_T_DATA, buf, (size_t)n),
                   "%s: delivered %d bytes at seq %u that never arrived there", s->name, n,
                   (unsigned)seq);
        if (!w.tainted) {
            uint32_t k = s->delivered;
            FUZZ_CHECK(seq - s->peer_isn == k, "%s: message %u delivered at seq offset %u", s->name,
                       (unsigned)k, (unsigned)(seq - s->peer_isn));
            FUZZ_CHECK(k < p->sent, "%s: message %u delivered, only %u sent", s->name, (unsigned)k,
                       (unsigned)p->sent);
            size_t len = k < MAXREL ? p->lens[k] : 0;
            make_msg(p->name[0], k, len, expect);
            FUZZ_CHECK((size_t)n == len && memcmp(buf, expect, len) == 0,
                       "%s: message %u altered (%d bytes, sent %zu)", s->name, (unsigned)k, n, len);
        }
        s->delivered++;
        return 1;
    }
    if (n == RUDP_ECLOSED && s->c->rcv_read != seq) {
        /* The peer's FIN (an ECLOSED that moves nothing is abort()'s error). */
        FUZZ_CHECK(!s->eof && s->c->rcv_read == seq + 1, "%s: end of stream twice or at two seqs",
                   s->name);
        FUZZ_CHECK(arrived(s, seq, RUDP_T_FIN, NULL, 0), "%s: FIN at seq %u never arrived", s->name,
                   (unsigned)seq);
        if (!w.tainted)
            FUZZ_CHECK(p->closed && s->delivered == p->sent,
                       "%s: end of stream after %u of %u messages", s->name, (unsigned)s->delivered,
                       (unsigned)p->sent);
        s->eof = 1;
        s->delivered++;
        return 1;
    }
    FUZZ_CHECK(s->c->rcv_read == seq, "%s: recv returned %d and moved", s->name, n);
    FUZZ_CHECK(n == RUDP_EAGAIN || n == RUDP_ECLOSED || n == RUDP_ETIMEDOUT || n == RUDP_ERESET ||
                   n == RUDP_EREFUSED || n == RUDP_ELIMIT,
               "%s: recv returned %d", s->name, n);
    return 0;
}

static void recv_some(struct side *s, unsigned max)
{
    for (unsigned i = 0; i < max && recv_one(s); i++)
        ;
}

static void send_msg(struct side *s, size_t len)
{
    static uint8_t msg[RUDP_MAX_PAYLOAD];
    if (!s->c || s->sent >= MAXREL)
        return;
    make_msg(s->name[0], s->sent, len, msg);
    if (!waiting(s->c))
        s->wait_since = w.now;
    uint32_t space = rudp_conn_send_space(s->c);
    int rc = rudp_conn_send(s->c, msg, len, w.now);
    if (rc == 0) {
        FUZZ_CHECK(space > 0, "%s: send accepted with no space", s->name);
        FUZZ_CHECK(!s->closed, "%s: send accepted after close", s->name);
        s->lens[s->sent++] = (uint16_t)len;
    } else {
        FUZZ_CHECK(rc == RUDP_EAGAIN || rc == RUDP_ECLOSED || rc < 0, "%s: send gave %d", s->name,
                   rc);
        FUZZ_CHECK(rc != RUDP_EAGAIN || space == 0, "%s: EAGAIN with %u free", s->name,
                   (unsigned)space);
    }
}

static void close_side(struct side *s, int abort_it)
{
    if (!s->c)
        return;
    if (abort_it) {
        rudp_conn_abort(s->c, w.now);
        FUZZ_CHECK(rudp_conn_state(s->c) == RUDP_STATE_CLOSED, "%s: abort left it open", s->name);
        return;
    }
    if (!waiting(s->c))
        s->wait_since = w.now;
    if (rudp_conn_close(s->c, w.now) == 0)
        s->closed = 1;
}

/* ---- the engine's bookkeeping --------------------------------------------------------- */

/* An ETIMEDOUT must have a cause: the idle limit, the probe retries spent, or the peer
 * silent for dead_timeout while we waited on it (not merely since its last packet). */
static void check_timeout_cause(struct side *s, const rudp_config_t *cfg)
{
    const rudp_conn_t *c = s->c;
    if (!c || s->was_closed || c->state != RUDP_STATE_CLOSED)
        return;
    s->was_closed = 1;
    const struct side *p = peer_of(s);
    if (c->error == 0 && c->fin_queued && p->c && !p->c->peer_fin &&
        p->c->state != RUDP_STATE_CLOSED) {
        /* Given up on our FIN as if only its ACK were missing, but the peer never took
         * it, and it answered our last try: it was alive, not lost. (Unless it then
         * fell silent for the idle or dead-peer limit: a long sleep of ours looks
         * the same, and giving up is then what those limits are for.) */
        const struct rudp_snd_slot *fin = &c->snd[c->snd_head];
        int quiet = (cfg->idle_timeout && w.now >= c->last_recv + cfg->idle_timeout) ||
                    (cfg->dead_timeout && w.now >= c->last_recv + cfg->dead_timeout);
        if (c->snd_una == c->fin_seq && c->last_recv >= fin->sent_time && !quiet) {
            FUZZ_CHECK(
                0,
                "%s: closed cleanly at %llu, but the peer never took its FIN (sent "
                "%u times, last at %llu, answered at %llu; peer %s with %u of %u slots unread)",
                s->name, (unsigned long long)w.now, (unsigned)fin->retx + 1,
                (unsigned long long)fin->sent_time, (unsigned long long)c->last_recv,
                rudp_state_name(p->c->state), (unsigned)(p->c->rcv_nxt - p->c->rcv_read),
                (unsigned)p->c->rcv_cap);
        }
    }
    if (c->error != RUDP_ETIMEDOUT || (s == &w.cl && !w.sv.c))
        return;
    /* A client still in its handshake has been waiting on the server all along. */
    uint64_t since = c->last_recv;
    if (s->established && s->wait_since > since)
        since = s->wait_since;
    int idle = cfg->idle_timeout && w.now >= c->last_recv + cfg->idle_timeout;
    int retries = c->silent_probes > cfg->max_retries || c->hs_sent > cfg->max_retries;
    int dead = cfg->dead_timeout && w.now >= since + cfg->dead_timeout;
    if (idle || retries || dead)
        return;
    FUZZ_CHECK(0,
               "%s: ETIMEDOUT at %llu: waiting since %llu, last packet %llu, %u probes; "
               "dead_timeout %llu counted from the last packet, not from the wait",
               s->name, (unsigned long long)w.now, (unsigned long long)s->wait_since,
               (unsigned long long)c->last_recv, (unsigned)c->silent_probes,
               (unsigned long long)cfg->dead_timeout);
}

static void check_books(const struct side *s)
{
    const rudp_conn_t *c = s->c;
    if (!c)
        return;
    uint32_t inflight = 0, lost = 0;
    uint64_t bytes = 0;
    FUZZ_CHECK(c->snd_new - c->snd_una <= c->snd_nxt - c->snd_una, "%s: snd_new outside", s->name);
    FUZZ_CHECK(c->snd_nxt - c->snd_una <= c->snd_cap, "%s: %u queued in %u slots", s->name,
               (unsigned)(c->snd_nxt - c->snd_una), (unsigned)c->snd_cap);
    for (uint32_t seq = c->snd_una; seq != c->snd_new; seq++) {
        const struct rudp_snd_slot *sl = &c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap];
        if (sl->state == SLOT_INFLIGHT) {
            inflight++;
            bytes += sl->wire_bytes;
        } else if (sl->state == SLOT_LOST) {
            lost++;
        }
    }
    for (uint32_t seq = c->snd_new; seq != c->snd_nxt; seq++) {
        const struct rudp_snd_slot *sl = &c->snd[(c->snd_head + (seq - c->snd_una)) % c->snd_cap];
        FUZZ_CHECK(sl->state == SLOT_QUEUED, "%s: unsent seq %u in state %u", s->name,
                   (unsigned)seq, sl->state);
    }
    FUZZ_CHECK(inflight == c->in_flight, "%s: in_flight %u, slots say %u", s->name,
               (unsigned)c->in_flight, (unsigned)inflight);
    FUZZ_CHECK(lost == c->lost, "%s: lost %u, slots say %u", s->name, (unsigned)c->lost,
               (unsigned)lost);
    FUZZ_CHECK(bytes == c->bytes_in_flight, "%s: bytes_in_flight %llu, slots say %llu", s->name,
               (unsigned long long)c->bytes_in_flight, (unsigned long long)bytes);
    /* The FIN takes a number but no slot: it may sit right past a full buffer. */
    FUZZ_CHECK(c->rcv_nxt - c->rcv_read <= c->rcv_high - c->rcv_read &&
                   c->rcv_high - c->rcv_read <= c->rcv_cap + (uint32_t)c->fin_known,
               "%s: receive range read %u nxt %u high %u cap %u", s->name, (unsigned)c->rcv_read,
               (unsigned)c->rcv_nxt, (unsigned)c->rcv_high, (unsigned)c->rcv_cap);
}

/* ---- the network ------------------------------------------------------------------------ */

static void enqueue(struct queue *q, const uint8_t *b, size_t len, int genuine)
{
    if (q->n == QCAP)
        return; /* the link is full: lost */
    memcpy(q->d[q->n].b, b, len);
    q->d[q->n].len = len;
    q->d[q->n].genuine = genuine;
    q->n++;
}

static void dequeue(struct queue *q, unsigned i, struct dgram *out)
{
    *out = q->d[i];
    memmove(&q->d[i], &q->d[i + 1], (q->n - i - 1) * sizeof q->d[0]);
    q->n--;
}

static void feed(struct side *s, const uint8_t *b, size_t len, int genuine)
{
    record(s, b, len);
    int rc = rudp_conn_input(s->c, b, len, w.now);
    FUZZ_CHECK(rc == 0 || rc == RUDP_ECHECKSUM || rc == RUDP_EMALFORMED || rc == RUDP_EVERSION ||
                   rc == RUDP_ESTATE,
               "%s: input returned %d", s->name, rc);
    if (rc == 0 && !genuine)
        w.tainted = 1;
}

/* A datagram reaches the server's host: its connection, or the listener. */
static void to_server(const uint8_t *b, size_t len, int genuine)
{
    uint64_t cid;
    if (w.sv.c && rudp_wire_peek_cid(b, len, &cid) == 0 && cid == rudp_conn_cid(w.sv.c)) {
        feed(&w.sv, b, len, genuine);
        return;
    }
    rudp_hdr_t h;
    size_t rlen = 0;
    int v = rudp_listener_input(&w.listener, b, len, ADDR, strlen(ADDR), w.now, &h, scratch,
                                sizeof scratch, &rlen);
    if (v == RUDP_LISTEN_REPLY) {
        FUZZ_CHECK(rlen <= 3 * len, "listener replied %zu bytes to %zu", rlen, len);
        /* Provoked by a forgery (a spoofed source, in real life): counts as one. */
        enqueue(&w.s2c, scratch, rlen, genuine);
    } else if (v == RUDP_LISTEN_ACCEPT && !w.sv.c) {
        int rc = rudp_conn_new_server(&w.sv.c, &w.scfg, &h, w.server_isn, w.now);
        FUZZ_CHECK(rc == 0, "server connection: %d", rc);
        w.sv.peer_isn = h.seq;
        if (!genuine || h.seq != w.cl.c->isn_local)
            w.tainted = 1;
    }
}

static void to_client(const uint8_t *b, size_t len, int genuine)
{
    feed(&w.cl, b, len, genuine);
}

static int verbose = -1;

static void route(int c2s, const uint8_t *b, size_t len, int genuine)
{
    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (verbose) {
        rudp_hdr_t h;
        int rc = rudp_wire_decode(&h, b, len);
        fprintf(stderr, "  t=%llu %s %s %zu bytes: %s seq %u ack %u%s\n", (unsigned long long)w.now,
                c2s ? "c->s" : "s->c", genuine ? "genuine" : "forged", len,
                rc ? "undecodable" : rudp_wire_type_name(h.type), rc ? 0 : (unsigned)h.seq,
                rc ? 0 : (unsigned)h.ack, rc == 0 && h.cid != CID ? " (other cid)" : "");
    }
    if (c2s)
        to_server(b, len, genuine);
    else
        to_client(b, len, genuine);
}

/* What a driver does at one instant: prepare() until it returns 0. That must end, and
 * afterwards next_timeout() must lie in the future, or the driver would spin. */
static void pump(struct side *s)
{
    static uint8_t buf[RUDP_MAX_DATAGRAM];
    if (!s->c)
        return;
    struct queue *q = s == &w.cl ? &w.c2s : &w.s2c;
    const rudp_config_t *cfg = s == &w.cl ? &w.ccfg : &w.scfg;
    unsigned limit = 4 * (cfg->window + cfg->send_queue) + 64, idle = 0;
    if (rudp_conn_state(s->c) == RUDP_STATE_ESTABLISHED)
        s->established = 1;
    for (unsigned i = 0;; i++) {
        FUZZ_CHECK(i < limit, "%s: prepare emitted %u datagrams at one instant", s->name, i);
        int n = rudp_conn_prepare(s->c, w.now, buf, sizeof buf);
        FUZZ_CHECK(n >= 0 && (size_t)n <= RUDP_MAX_DATAGRAM, "%s: prepare returned %d", s->name, n);
        if (n > 0) {
            rudp_hdr_t h;
            int rc = rudp_wire_decode(&h, buf, (size_t)n);
            FUZZ_CHECK(rc == 0, "%s: emitted a datagram that does not decode (%d)", s->name, rc);
            FUZZ_CHECK(h.cid == rudp_conn_cid(s->c), "%s: emitted another cid", s->name);
            enqueue(q, buf, (size_t)n, 1);
            idle = 0;
            continue;
        }
        uint64_t t = rudp_conn_next_timeout(s->c);
        if (t > w.now)
            break;
        FUZZ_CHECK(++idle < 3, "%s: next_timeout %llu <= now %llu and prepare has nothing (%s)",
                   s->name, (unsigned long long)t, (unsigned long long)w.now,
                   rudp_state_name(rudp_conn_state(s->c)));
    }
    check_books(s);
    check_timeout_cause(s, cfg);
}

static void pump_all(void)
{
    pump(&w.cl);
    pump(&w.sv);
}

static void deliver_all(void)
{
    struct dgram d;
    while (w.c2s.n || w.s2c.n) {
        if (w.c2s.n) {
            dequeue(&w.c2s, 0, &d);
            to_server(d.b, d.len, d.genuine);
        }
        if (w.s2c.n) {
            dequeue(&w.s2c, 0, &d);
            to_client(d.b, d.len, d.genuine);
        }
    }
}

static uint64_t next_wake(void)
{
    uint64_t t = rudp_conn_next_timeout(w.cl.c);
    if (w.sv.c) {
        uint64_t u = rudp_conn_next_timeout(w.sv.c);
        if (u < t)
            t = u;
    }
    return t;
}

static void advance(uint64_t dt)
{
    w.now = w.now + dt < MAX_TIME ? w.now + dt : MAX_TIME;
}

/* ---- forged datagrams ----------------------------------------------------------------- */

static void fix_crc(uint8_t *b, size_t len)
{
    if (len < RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE)
        return;
    uint32_t crc = rudp_crc32c(0, b, len - 4);
    b[len - 4] = (uint8_t)(crc >> 24);
    b[len - 3] = (uint8_t)(crc >> 16);
    b[len - 2] = (uint8_t)(crc >> 8);
    b[len - 1] = (uint8_t)crc;
}

/* Makes the fixed fields agree with each other and the length (which may shrink), so
 * a forgery gets past decode and only the CRC is left to fix. */
static void shape(uint8_t *b, size_t *len)
{
    if (*len < RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE)
        return;
    b[0] = RUDP_VERSION;
    if (b[1] < RUDP_T_INITIAL || b[1] > RUDP_T_RESET)
        b[1] = (uint8_t)(1 + b[1] % 7);
    b[2] &= b[1] == RUDP_T_DATA ? RUDP_F_KNOWN : RUDP_F_ACK;
    size_t room = *len - RUDP_HEADER_SIZE - RUDP_TRAILER_SIZE;
    size_t sack = (b[2] & RUDP_F_ACK) ? b[3] % (RUDP_MAX_SACK_BYTES + 1) : 0;
    if (sack > room)
        sack = room;
    size_t pl = room - sack;
    switch (b[1]) {
    case RUDP_T_DATA:
        pl = pl > RUDP_MAX_PAYLOAD ? RUDP_MAX_PAYLOAD : pl;
        break;
    case RUDP_T_INITIAL:
    case RUDP_T_RETRY:
        pl = pl >= RUDP_COOKIE_SIZE ? RUDP_COOKIE_SIZE : 0;
        break;
    case RUDP_T_RESET:
        pl = pl >= 1 ? 1 : 0;
        break;
    default:
        pl = 0;
        break;
    }
    b[3] = (uint8_t)sack;
    b[34] = (uint8_t)(pl >> 8);
    b[35] = (uint8_t)pl;
    memcpy(b + 4, (const uint8_t[]){ 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 }, 8);
    *len = RUDP_HEADER_SIZE + sack + pl + RUDP_TRAILER_SIZE;
}

/* ---- the operations -------------------------------------------------------------------- */

static size_t msg_len(fuzz_in_t *in, unsigned arg)
{
    unsigned b = fuzz_u8(in);
    if (arg & 8) {
        size_t n = (size_t)b * 5;
        return n > RUDP_MAX_PAYLOAD ? RUDP_MAX_PAYLOAD : n;
    }
    return b % 24;
}

static void run_op(fuzz_in_t *in)
{
    uint8_t op = fuzz_u8(in);
    unsigned arg = op >> 4;
    struct dgram d;
    static const uint64_t scale[4] = { 1, 100, 10000, 1000000 };
    switch (op & 0x0F) {
    case 0: /* time passes: u8 times 1 µs, 100 µs, 10 ms or 1 s */
        advance((uint64_t)fuzz_u8(in) * scale[arg & 3]);
        break;
    case 1: { /* the driver sleeps until the next deadline */
        uint64_t t = next_wake();
        if (t != UINT64_MAX && t > w.now)
            advance(t - w.now);
        break;
    }
    case 2:
        send_msg(&w.cl, msg_len(in, arg));
        break;
    case 3:
        send_msg(&w.sv, msg_len(in, arg));
        break;
    case 4: /* deliver datagram arg of a direction */
    case 5: {
        struct queue *q = (op & 0x0F) == 4 ? &w.c2s : &w.s2c;
        if (q->n) {
            dequeue(q, arg % q->n, &d);
            route(q == &w.c2s, d.b, d.len, d.genuine);
        }
        break;
    }
    case 6: /* lose one */
    case 7: {
        struct queue *q = (op & 0x0F) == 6 ? &w.c2s : &w.s2c;
        if (q->n)
            dequeue(q, arg % q->n, &d);
        break;
    }
    case 8: /* duplicate one: deliver a copy, keep the original */
    case 9: {
        struct queue *q = (op & 0x0F) == 8 ? &w.c2s : &w.s2c;
        if (q->n) {
            d = q->d[arg % q->n];
            route(q == &w.c2s, d.b, d.len, d.genuine);
        }
        break;
    }
    case 10: { /* alter one on the way: a few byte changes, maybe a fixed CRC */
        int c2s = arg & 1;
        struct queue *q = c2s ? &w.c2s : &w.s2c;
        if (!q->n)
            break;
        dequeue(q, (arg >> 1) % q->n, &d);
        unsigned edits = 1 + fuzz_u8(in) % 4;
        for (unsigned i = 0; i < edits; i++) {
            size_t pos = fuzz_u16(in) % d.len;
            d.b[pos] ^= fuzz_u8(in);
        }
        uint8_t how = fuzz_u8(in);
        if (how & 1) { /* cut or extend */
            size_t nl = (size_t)fuzz_u16(in) % sizeof d.b;
            if (nl > d.len)
                memset(d.b + d.len, 0, nl - d.len);
            d.len = nl;
        }
        if (how & 2)
            shape(d.b, &d.len);
        if (how & 4)
            fix_crc(d.b, d.len);
        route(c2s, d.b, d.len, 0);
        break;
    }
    case 11: { /* a datagram made up from the input, maybe longer than any valid one */
        int c2s = arg & 1;
        size_t want = fuzz_u16(in) % (RUDP_MAX_DATAGRAM + 8);
        const uint8_t *p;
        size_t len = fuzz_bytes(in, &p, want);
        /* Exactly len bytes, so ASan sees any overread; never d.b, which holds at
         * most RUDP_MAX_DATAGRAM. */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact)
            break;
        memcpy(exact, p, len);
        if (arg & 2)
            shape(exact, &len);
        if (arg & 4)
            fix_crc(exact, len);
        route(c2s, exact, len, 0);
        free(exact);
        break;
    }
    case 12: /* the application reads */
        recv_some(arg & 1 ? &w.sv : &w.cl, arg & 8 ? ~0u : (arg >> 1) + 1);
        break;
    case 13: /* the application closes, or (rarely) aborts */
        close_side(arg & 1 ? &w.sv : &w.cl, (arg >> 1) == 7);
        break;
    case 14:
        deliver_all();
        break;
    case 15:
        recv_some(&w.cl, ~0u);
        recv_some(&w.sv, ~0u);
        break;
    }
    pump_all();
}

/* ---- the clean finish ------------------------------------------------------------------- */

static int healthy(const struct side *s)
{
    return s->c && rudp_conn_error(s->c) == 0;
}

static int finished(const struct side *s)
{
    return rudp_conn_done(s->c) ||
           (rudp_conn_state(s->c) == RUDP_STATE_CLOSED && rudp_conn_error(s->c) == 0);
}

/* A side that times out during the clean finish may do so only for losses before it:
 * its probe or handshake tries were all but spent, or its peer had been silent so
 * long that the limit passes before the finish could change anything. */
static int excusable(const struct side *s, const rudp_config_t *cfg, uint64_t start, uint32_t pto0,
                     uint32_t hs0)
{
    if (!s->c || rudp_conn_error(s->c) != RUDP_ETIMEDOUT)
        return 0;
    const struct side *p = peer_of((struct side *)s);
    /* The two generals: the peer took everything up to our FIN, drained and left, and
     * our last ACKs and retransmissions were lost meanwhile. No finite drain rules
     * this out (TCP's LAST-ACK times out the same way); our side cannot know. */
    if (p->c && rudp_conn_state(p->c) == RUDP_STATE_CLOSED && rudp_conn_error(p->c) == 0 &&
        p->c->peer_fin)
        return 1;
    uint64_t limit = cfg->idle_timeout > cfg->dead_timeout ? cfg->idle_timeout : cfg->dead_timeout;
    return pto0 + 1 > cfg->max_retries || hs0 + 1 > cfg->max_retries || w.now - start <= limit;
}

/* With nothing forged and both sides sound, a clean link must finish the job. */
static void clean_finish(void)
{
    if (w.tainted || !healthy(&w.cl) || (w.sv.c && !healthy(&w.sv)))
        return;
    if (rudp_conn_state(w.cl.c) == RUDP_STATE_HANDSHAKE && w.cl.c->hs_sent > w.ccfg.max_retries)
        return; /* its tries are spent: giving up is right */
    uint64_t start = w.now;
    uint32_t cpto = w.cl.c->silent_probes, chs = w.cl.c->hs_sent;
    uint32_t spto = w.sv.c ? w.sv.c->silent_probes : 0;
    for (unsigned step = 0; step < 20000; step++) {
        deliver_all();
        if (w.sv.c && w.cl.c->state != RUDP_STATE_HANDSHAKE) {
            if (!w.cl.closed)
                close_side(&w.cl, 0);
            if (!w.sv.closed)
                close_side(&w.sv, 0);
        }
        pump_all();
        recv_some(&w.cl, ~0u);
        recv_some(&w.sv, ~0u);
        pump_all();
        if (w.tainted) /* a forgery still in flight arrived */
            return;
        if (excusable(&w.cl, &w.ccfg, start, cpto, chs) ||
            excusable(&w.sv, &w.scfg, start, spto, 0))
            return;
        if (!healthy(&w.cl) || !w.sv.c || !healthy(&w.sv)) {
            FUZZ_CHECK(healthy(&w.cl) && (!w.sv.c || healthy(&w.sv)),
                       "clean link: client %s (%d), server %s (%d) at +%llu us",
                       rudp_state_name(rudp_conn_state(w.cl.c)), rudp_conn_error(w.cl.c),
                       w.sv.c ? rudp_state_name(rudp_conn_state(w.sv.c)) : "-",
                       w.sv.c ? rudp_conn_error(w.sv.c) : 0, (unsigned long long)(w.now - start));
        }
        if (w.sv.c && finished(&w.cl) && finished(&w.sv) && !w.c2s.n && !w.s2c.n)
            break;
        if (w.c2s.n || w.s2c.n)
            continue;
        uint64_t t = next_wake();
        /* One side is gone (it gave up, and the RESET it sent was lost) while the other
         * has nothing to send: only an idle timeout can tell it, and with none it
         * waits, as configured ("0 = never"). */
        if (t == UINT64_MAX && w.sv.c &&
            ((rudp_conn_state(w.cl.c) == RUDP_STATE_CLOSED && !w.scfg.idle_timeout) ||
             (rudp_conn_state(w.sv.c) == RUDP_STATE_CLOSED && !w.ccfg.idle_timeout)))
            return;
        FUZZ_CHECK(t != UINT64_MAX,
                   "clean link: both sides wait for nothing (client %s, server %s)",
                   rudp_state_name(rudp_conn_state(w.cl.c)),
                   w.sv.c ? rudp_state_name(rudp_conn_state(w.sv.c)) : "-");
        if (t > w.now)
            advance(t - w.now);
        if (w.now - start > 600000000ull)
            break;
    }
    FUZZ_CHECK(w.sv.c, "clean link: no connection after %llu us",
               (unsigned long long)(w.now - start));
    FUZZ_CHECK(finished(&w.cl) && finished(&w.sv),
               "clean link: not finished after %llu us (client %s %u/%u, server %s %u/%u)",
               (unsigned long long)(w.now - start), rudp_state_name(rudp_conn_state(w.cl.c)),
               (unsigned)w.cl.delivered, (unsigned)w.sv.sent + 1,
               rudp_state_name(rudp_conn_state(w.sv.c)), (unsigned)w.sv.delivered,
               (unsigned)w.cl.sent + 1);
    FUZZ_CHECK(w.cl.delivered == w.sv.sent + 1 && w.sv.delivered == w.cl.sent + 1,
               "clean link: client got %u of %u, server %u of %u", (unsigned)w.cl.delivered,
               (unsigned)w.sv.sent + 1, (unsigned)w.sv.delivered, (unsigned)w.cl.sent + 1);
}

/* ---- setup ------------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in_t in = { data, size, 0 };
    uint8_t b0 = fuzz_u8(&in), b1 = fuzz_u8(&in), b2 = fuzz_u8(&in);
    static const uint32_t windows[8] = { 1, 2, 3, 4, 8, 16, 32, 64 };
    static const uint64_t starts[4] = { 0, 1000000, (1ull << 32) - 256, 1ull << 40 };
    static const uint32_t queues[4] = { 0, 1, 4, 16 };

    memset(&w, 0, sizeof w);
    w.cl.name = "client";
    w.sv.name = "server";
    rudp_config_default(&w.ccfg);
    w.ccfg.window = windows[(b0 >> 4) & 7];
    w.ccfg.send_queue = queues[(b1 >> 2) & 3];
    w.ccfg.cc = (b0 & 8) ? RUDP_CC_NONE : RUDP_CC_NEWRENO;
    if (b2 & 1)
        w.ccfg.idle_timeout = 0;
    if (b2 & 2)
        w.ccfg.dead_timeout = 0;
    if (b2 & 4) {
        w.ccfg.initial_rto = 2000;
        w.ccfg.max_rto = 20000;
    }
    if (b2 & 8)
        w.ccfg.max_retries = 2;
    w.scfg = w.ccfg;
    w.ccfg.coalesce = (b0 & 2) != 0;
    w.scfg.coalesce = (b0 & 4) != 0;
    uint32_t client_isn = (b0 & 0x80) ? 0xFFFFFFF0u : 1000u;
    w.server_isn = (b0 & 0x80) ? 0x7FFFFFF8u : 5000u;
    w.now = starts[b1 & 3];
    w.cl.peer_isn = w.server_isn;
    w.sv.peer_isn = client_isn;

    static const uint8_t key[RUDP_COOKIE_KEY_SIZE] = { 7, 1, 7, 1, 7, 1, 7, 1 };
    rudp_listener_init(&w.listener, key, 0);
    FUZZ_CHECK(rudp_conn_new_client(&w.cl.c, &w.ccfg, CID, client_isn, w.now) == 0, "client");

    pump_all();
    if (!(b0 & 1)) {
        for (int i = 0; i < 4 && rudp_conn_state(w.cl.c) != RUDP_STATE_ESTABLISHED; i++) {
            advance(100);
            deliver_all();
            pump_all();
        }
        FUZZ_CHECK(rudp_conn_state(w.cl.c) == RUDP_STATE_ESTABLISHED && w.sv.c,
                   "the clean handshake did not finish");
    }
    for (unsigned ops = 0; fuzz_more(&in) && ops < 4096; ops++)
        run_op(&in);
    clean_finish();

    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "  client %s sent %u got %u, server %s sent %u got %u, %s, t=%llu\n",
                rudp_state_name(rudp_conn_state(w.cl.c)), (unsigned)w.cl.sent,
                (unsigned)w.cl.delivered, w.sv.c ? rudp_state_name(rudp_conn_state(w.sv.c)) : "-",
                (unsigned)w.sv.sent, (unsigned)w.sv.delivered, w.tainted ? "tainted" : "clean",
                (unsigned long long)w.now);
    rudp_conn_free(w.cl.c);
    rudp_conn_free(w.sv.c);
    return 0;
}
