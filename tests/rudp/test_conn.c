/* The connection engine, case by case: handshake, ordering, duplicates, windows, timers,
 * resets and limits. Datagrams are carried by hand so each case controls every one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_alloc.h"

#include "bytes.h"
#include "conn_internal.h"
#include "crc32c.h"
#include "rudp/error.h"
#include "rudp/listen.h"
#include "rudp/wire.h"
#include "seq.h"

#define ADDR "127.0.0.1:5555"
#define CISN 100u
#define SISN 9000u

typedef struct pair {
    rudp_conn_t *c, *s;
    rudp_listener_t l;
    uint64_t now;
} pair_t;

static void cfg_init(rudp_config_t *cfg)
{
    rudp_config_default(cfg);
    cfg->allocator = &test_allocator;
}

/* Runs INITIAL -> RETRY -> INITIAL(cookie) -> ACCEPT by hand. */
static void handshake(pair_t *p, const rudp_config_t *ccfg, const rudp_config_t *scfg)
{
    uint8_t key[RUDP_COOKIE_KEY_SIZE] = { 1, 2, 3 };
    uint8_t buf[RUDP_MAX_DATAGRAM], reply[RUDP_MAX_DATAGRAM];
    rudp_listener_init(&p->l, key, 0);
    p->now = 1000;
    assert_int_equal(rudp_conn_new_client(&p->c, ccfg, 0xC1D, CISN, p->now), 0);
    assert_int_equal(rudp_conn_state(p->c), RUDP_STATE_HANDSHAKE);

    int n = rudp_conn_prepare(p->c, p->now, buf, sizeof buf);
    assert_true(n > 0);
    rudp_hdr_t h;
    size_t rl = 0;
    p->now += 50;
    assert_int_equal(rudp_listener_input(&p->l, buf, (size_t)n, ADDR, strlen(ADDR), p->now, &h,
                                         reply, sizeof reply, &rl),
                     RUDP_LISTEN_REPLY);
    p->now += 50;
    assert_int_equal(rudp_conn_input(p->c, reply, rl, p->now), 0);
    n = rudp_conn_prepare(p->c, p->now, buf, sizeof buf);
    assert_true(n > 0);
    p->now += 50;
    assert_int_equal(rudp_listener_input(&p->l, buf, (size_t)n, ADDR, strlen(ADDR), p->now, &h,
                                         reply, sizeof reply, &rl),
                     RUDP_LISTEN_ACCEPT);
    /* The RETRY answered the first INITIAL before its copy left: no copy follows, and
     * the INITIAL with the cookie has none (a copy would be a replayed cookie). */
    assert_int_equal(rudp_conn_prepare(p->c, p->now, buf, sizeof buf), 0);
    assert_int_equal(rudp_conn_new_server(&p->s, scfg, &h, SISN, p->now), 0);
    n = rudp_conn_prepare(p->s, p->now, buf, sizeof buf);
    assert_true(n > 0);
    uint8_t copy[2][RUDP_MAX_DATAGRAM]; /* the ACCEPT's two copies */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rudp_conn_prepare(p->s, p->now, copy[i], sizeof copy[i]), n);
        assert_int_equal(memcmp(buf, copy[i], (size_t)n), 0);
    }
    assert_int_equal(rudp_conn_prepare(p->s, p->now, copy[0], sizeof copy[0]), 0);
    p->now += 50;
    assert_int_equal(rudp_conn_input(p->c, buf, (size_t)n, p->now), 0);
    assert_int_equal(rudp_conn_state(p->c), RUDP_STATE_ESTABLISHED);
    assert_int_equal(rudp_conn_state(p->s), RUDP_STATE_ESTABLISHED);
    /* The copies are duplicates: nothing to answer, and no ACK forced out. */
    for (int i = 0; i < 2; i++)
        assert_int_equal(rudp_conn_input(p->c, copy[i], (size_t)n, p->now), 0);
    assert_int_equal(rudp_conn_prepare(p->c, p->now, buf, sizeof buf), 0);
    /* The INITIAL that answers the RETRY is not a retry. */
    rudp_stats_t st;
    rudp_conn_stats(p->c, &st);
    assert_int_equal(st.handshake_retries, 0);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.dropped, 0);
}

static void pair_free(pair_t *p)
{
    rudp_conn_free(p->c);
    rudp_conn_free(p->s);
}

/* Moves every datagram each side has ready to the other, `rounds` times. */
static void exchange(pair_t *p, int rounds)
{
    uint8_t buf[RUDP_MAX_DATAGRAM];
    for (int r = 0; r < rounds; r++) {
        int n;
        while ((n = rudp_conn_prepare(p->c, p->now, buf, sizeof buf)) > 0)
            rudp_conn_input(p->s, buf, (size_t)n, p->now + 50);
        while ((n = rudp_conn_prepare(p->s, p->now, buf, sizeof buf)) > 0)
            rudp_conn_input(p->c, buf, (size_t)n, p->now + 50);
        p->now += 100;
    }
}

/* Prepares datagrams from c until one of the given type, decoded into *h. */
static void next_of_type(rudp_conn_t *c, uint64_t now, uint8_t type, uint8_t *buf, rudp_hdr_t *h)
{
    for (int i = 0; i < 8; i++) {
        int n = rudp_conn_prepare(c, now, buf, RUDP_MAX_DATAGRAM);
        assert_true(n > 0);
        assert_int_equal(rudp_wire_decode(h, buf, (size_t)n), 0);
        if (h->type == type)
            return;
    }
    fail_msg("no datagram of type %s", rudp_wire_type_name(type));
}

/* Encodes a packet of the pair's connection (no ACK flag, no SACK). */
static size_t make_packet(uint8_t *buf, uint8_t type, uint8_t flags, uint32_t seq, uint32_t ack,
                          uint32_t ts, const void *payload, uint16_t len)
{
    rudp_hdr_t h = { .type = type,
                     .flags = flags,
                     .cid = 0xC1D,
                     .seq = seq,
                     .ack = ack,
                     .ts = ts,
                     .payload_len = len,
                     .payload = len ? payload : NULL };
    int n = rudp_wire_encode(&h, buf, RUDP_MAX_DATAGRAM);
    assert_true(n > 0);
    return (size_t)n;
}

/* Encodes a DATA packet as the client would send it. */
static size_t make_data(uint8_t *buf, uint32_t seq, const char *text, uint32_t ts)
{
    return make_packet(buf, RUDP_T_DATA, 0, seq, SISN, ts, text, (uint16_t)strlen(text));
}

static void test_handshake_and_first_rtt_sample(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    /* The RETRY's echo replaced the 1 s guess: the client's RTO is now RTT-based. */
    rudp_stats_t st;
    rudp_conn_stats(p.c, &st);
    assert_true(st.srtt > 0 && st.srtt <= 100);
    assert_true(st.rto < 10000);
    pair_free(&p);
}

static void test_messages_delivered_in_order(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    const char *names[] = { "Julián Alcibar Zubillaga", "Yanina De Luna Ocampo",
                            "Jacob Salinas Velázquez", "Ñandú" };
    for (int i = 0; i < 4; i++)
        assert_int_equal(rudp_conn_send(p.c, names[i], strlen(names[i]), p.now), 0);
    assert_int_equal(rudp_conn_unacked(p.c), 4);
    exchange(&p, 3);
    char out[RUDP_MAX_PAYLOAD];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rudp_conn_peek_size(p.s), (int)strlen(names[i]));
        int n = rudp_conn_recv(p.s, out, sizeof out);
        assert_int_equal(n, (int)strlen(names[i]));
        assert_memory_equal(out, names[i], (size_t)n);
    }
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), RUDP_EAGAIN);
    exchange(&p, 20); /* delayed ACK timer */
    assert_int_equal(rudp_conn_unacked(p.c), 0);
    pair_free(&p);
}

static void test_message_size_limits(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    static uint8_t big[RUDP_MAX_PAYLOAD + 1];
    assert_int_equal(rudp_conn_send(p.c, big, RUDP_MAX_PAYLOAD + 1, p.now), RUDP_EMSGSIZE);
    assert_int_equal(rudp_conn_send(p.c, big, RUDP_MAX_PAYLOAD, p.now), 0);
    assert_int_equal(rudp_conn_send(p.c, "", 0, p.now), 0); /* empty messages are messages */
    exchange(&p, 3);
    uint8_t out[RUDP_MAX_PAYLOAD];
    assert_int_equal(rudp_conn_recv(p.s, out, 10), RUDP_EBUFSIZE); /* stays queued */
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), RUDP_MAX_PAYLOAD);
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), 0);
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), RUDP_EAGAIN);
    pair_free(&p);
}

static void test_send_queue_full_is_eagain(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.window = 4;
    cfg.send_queue = 2;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    assert_int_equal(rudp_conn_send_space(p.c), 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(rudp_conn_send(p.c, "x", 1, p.now), 0);
    assert_int_equal(rudp_conn_send_space(p.c), 0);
    assert_int_equal(rudp_conn_send(p.c, "x", 1, p.now), RUDP_EAGAIN);
    /* The FIN still fits: close never fails for lack of room. */
    assert_int_equal(rudp_conn_close(p.c, p.now), 0);
    assert_int_equal(rudp_conn_send(p.c, "x", 1, p.now), RUDP_ECLOSED);
    pair_free(&p);
}

/* The receiver takes packets in any order, keeps each once, and delivers in order. */
static void test_reorder_and_duplicates(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    static const struct {
        uint32_t off;
        const char *text;
    } arrivals[] = {
        { 2, "c" }, { 0, "a" }, { 2, "c" }, { 3, "d" }, { 1, "b" }, { 0, "a" }, { 3, "d" },
    };
    for (size_t i = 0; i < sizeof arrivals / sizeof arrivals[0]; i++) {
        size_t n = make_data(buf, CISN + arrivals[i].off, arrivals[i].text, (uint32_t)(p.now + i));
        assert_int_equal(rudp_conn_input(p.s, buf, n, p.now + i), 0);
    }
    char out[8];
    const char *want = "abcd";
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), 1);
        assert_int_equal(out[0], want[i]);
    }
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), RUDP_EAGAIN);
    rudp_stats_t st;
    rudp_conn_stats(p.s, &st);
    assert_int_equal(st.duplicates, 3);
    assert_int_equal(st.out_of_order, 2); /* "c" and "d" arrived ahead of the gap */
    assert_int_equal(st.delivered, 4);
    pair_free(&p);
}

/* An ACK after gaps carries the cumulative point and a bitmap of what is beyond it. */
static void test_sack_bitmap(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    /* Received: +0, +2, +3, +9. Missing: +1, +4..+8. */
    const uint32_t offs[] = { 0, 2, 3, 9 };
    for (int i = 0; i < 4; i++) {
        size_t n = make_data(buf, CISN + offs[i], "n", (uint32_t)p.now);
        assert_int_equal(rudp_conn_input(p.s, buf, n, p.now), 0);
    }
    rudp_hdr_t h;
    next_of_type(p.s, p.now, RUDP_T_ACK, buf, &h);
    assert_int_equal(h.ack, CISN + 1);
    assert_true(h.flags & RUDP_F_ACK);
    /* Bits for +2..+9: i = seq - (ack + 1) -> +2 is bit 0, +3 bit 1, +9 bit 7. */
    assert_int_equal(h.sack_len, 1);
    assert_int_equal(h.sack[0], 0xC1);
    assert_int_equal(h.rwnd, cfg.window - 1); /* "n" at +0 is held until read */
    pair_free(&p);
}

/* Window 1 is stop-and-wait: one packet in flight, the next only after its ACK. */
static void test_window_one_is_stop_and_wait(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.window = 1;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    for (int i = 0; i < 3; i++)
        assert_int_equal(rudp_conn_send(p.c, "z", 1, p.now), 0);
    assert_true(rudp_conn_prepare(p.c, p.now, buf, sizeof buf) > 0);
    assert_int_equal(rudp_conn_prepare(p.c, p.now, buf, sizeof buf), 0);
    assert_int_equal(p.c->in_flight, 1);
    pair_free(&p);
}

/* With nobody answering, the first probe comes one PTO after the second (a tail loss
 * probe), then each timeout doubles (RFC 6298 §5.5), and the connection ends with
 * RUDP_ETIMEDOUT after max_retries. Each probe goes out twice, identical, and the
 * second does not move the timer. */
static void test_backoff_and_dead_peer(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.max_retries = 5;
    cfg.dead_timeout = 0;
    cfg.idle_timeout = 0;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    assert_int_equal(rudp_conn_send(p.c, "lost", 4, p.now), 0);
    assert_true(rudp_conn_prepare(p.c, p.now, buf, sizeof buf) > 0);
    uint64_t last = p.now, prev_gap = 0;
    int retransmissions = 0, n = 0;
    for (int i = 0; i < 50 && rudp_conn_state(p.c) != RUDP_STATE_CLOSED; i++) {
        uint64_t t = rudp_conn_next_timeout(p.c);
        assert_true(t != UINT64_MAX && t > last);
        n = rudp_conn_prepare(p.c, t, buf, sizeof buf);
        assert_true(n > 0);
        if (rudp_conn_state(p.c) == RUDP_STATE_CLOSED)
            break;
        uint8_t copy[RUDP_MAX_DATAGRAM];
        assert_int_equal(rudp_conn_next_timeout(p.c), 0);
        assert_int_equal(rudp_conn_prepare(p.c, t, copy, sizeof copy), n);
        assert_memory_equal(buf, copy, (size_t)n);
        assert_int_equal(rudp_conn_prepare(p.c, t, copy, sizeof copy), 0);
        uint64_t gap = t - last;
        if (retransmissions == 1)
            assert_int_equal(gap, prev_gap);
        else if (prev_gap)
            assert_int_equal(gap, 2 * prev_gap);
        prev_gap = gap;
        last = t;
        retransmissions++;
    }
    assert_int_equal(retransmissions, 5);
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_CLOSED);
    assert_int_equal(rudp_conn_error(p.c), RUDP_ETIMEDOUT);
    assert_int_equal(rudp_conn_send(p.c, "x", 1, last), RUDP_ETIMEDOUT);
    /* The timeout that ended it also told the peer, once. */
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, buf, (size_t)n), 0);
    assert_int_equal(h.type, RUDP_T_RESET);
    assert_int_equal(rudp_conn_prepare(p.c, last, buf, sizeof buf), 0);
    pair_free(&p);
}

/* What a connection left alone sent: the first 16 datagrams (what a stopped process's
 * socket holds when it resumes, up to a bound: the kernel's receive buffer), the last
 * one, and how many and how many bytes in all. */
typedef struct sent_dgrams {
    uint8_t buf[16][RUDP_MAX_DATAGRAM];
    size_t len[16];
    int n;
    uint8_t last[RUDP_MAX_DATAGRAM];
    size_t last_len;
    int count;
    uint64_t bytes;
} sent_dgrams_t;

/* Drives c through its own timers, with nothing arriving, until `until` or until it
 * closes, adding what it sends to *out. */
static void run_alone(rudp_conn_t *c, uint64_t *now, uint64_t until, sent_dgrams_t *out)
{
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int k;
    for (int i = 0; i < 200 && rudp_conn_state(c) != RUDP_STATE_CLOSED; i++) {
        while ((k = rudp_conn_prepare(c, *now, buf, sizeof buf)) > 0) {
            if (out->n < 16) {
                memcpy(out->buf[out->n], buf, (size_t)k);
                out->len[out->n++] = (size_t)k;
            }
            memcpy(out->last, buf, (size_t)k);
            out->last_len = (size_t)k;
            out->count++;
            out->bytes += (uint64_t)k;
        }
        uint64_t t = rudp_conn_next_timeout(c);
        if (t == UINT64_MAX || t > until)
            break;
        *now = t > *now ? t : *now;
    }
}

/* Regression: on a LAN (PTO about 1 ms) nine unanswered probes took 0.35 s, and a
 * server paused for 3 s (SIGSTOP, swap, a VM migration) lost every client. The peer
 * must also have been silent for min(dead_timeout, 3 s). */
static void test_regression_paused_peer_is_not_dead(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    exchange(&p, 4);
    assert_int_equal(rudp_conn_send(p.c, "Ana", 3, p.now), 0);
    uint64_t paused_at = p.now;
    static sent_dgrams_t held;
    memset(&held, 0, sizeof held);
    run_alone(p.c, &p.now, paused_at + 2900000, &held);
    assert_true(held.count > (int)cfg.max_retries); /* the count alone would have ended it */
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_ESTABLISHED);
    /* The server resumes at 2.9 s and reads what its socket held; its answer arrives. */
    p.now = paused_at + 2900000;
    for (int i = 0; i < held.n; i++)
        rudp_conn_input(p.s, held.buf[i], held.len[i], p.now);
    exchange(&p, 4);
    uint8_t msg[8];
    assert_int_equal(rudp_conn_recv(p.s, msg, sizeof msg), 3);
    assert_int_equal(rudp_conn_unacked(p.c), 0);
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_ESTABLISHED);
    pair_free(&p);
}

/* Regression: with the minimum silence, a server whose client left without
 * acknowledging the server's FIN (its last ACK lost) held the connection for 3 s, past
 * a --count server's 2 s of grace. With only our FIN left nothing is at stake: the
 * count alone ends it, cleanly, with the RESET(CLOSED) that stands in for the FIN. */
static void test_regression_only_fin_left_needs_no_silence(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    exchange(&p, 4);
    assert_int_equal(rudp_conn_close(p.c, p.now), 0);
    exchange(&p, 4); /* the server has the client's FIN and acknowledged it */
    assert_int_equal(rudp_conn_close(p.s, p.now), 0);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n = rudp_conn_prepare(p.s, p.now, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rudp_conn_input(p.c, buf, (size_t)n, p.now + 50), 0);
    /* The client's ACK of that FIN is lost, and the client is gone. */
    uint64_t left_at = p.now;
    static sent_dgrams_t out;
    memset(&out, 0, sizeof out);
    run_alone(p.s, &p.now, left_at + 10000000, &out);
    assert_int_equal(rudp_conn_state(p.s), RUDP_STATE_CLOSED);
    assert_int_equal(rudp_conn_error(p.s), 0);
    assert_true(p.now - left_at < 1000000);
    pair_free(&p);
}

/* A peer that never answers again is given up once both the count and 3 s of silence
 * are spent, well before the 10 s dead timeout, and the statistics say how long. */
static void test_dead_peer_needs_count_and_silence(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    exchange(&p, 4);
    assert_int_equal(rudp_conn_send(p.c, "Ana", 3, p.now), 0);
    uint64_t paused_at = p.now;
    static sent_dgrams_t out;
    memset(&out, 0, sizeof out);
    run_alone(p.c, &p.now, paused_at + 20000000, &out);
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_CLOSED);
    assert_int_equal(rudp_conn_error(p.c), RUDP_ETIMEDOUT);
    rudp_stats_t st;
    rudp_conn_stats(p.c, &st);
    assert_true(st.silence >= 3000000);
    assert_true(st.silence < cfg.dead_timeout);
    assert_true(p.now - paused_at >= 3000000);
    pair_free(&p);
}

/* A listener not under load accepts a cookieless INITIAL at once. Until the client
 * proves its address by echoing the server's ISN, the connection sends at most 3x the
 * bytes it received (RFC 9000 §8.1), and a packet without that echo is dropped unread. */
static void test_unproven_server_sends_at_most_3x(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    uint8_t key[RUDP_COOKIE_KEY_SIZE] = { 7 };
    rudp_listener_t l;
    rudp_listener_init(&l, key, 0);
    l.require_retry = 0;
    rudp_conn_t *c, *s;
    uint64_t now = 1000;
    assert_int_equal(rudp_conn_new_client(&c, &cfg, 0xC1D, CISN, now), 0);
    uint8_t initial[RUDP_MAX_DATAGRAM], reply[RUDP_MAX_DATAGRAM];
    int in_len = rudp_conn_prepare(c, now, initial, sizeof initial);
    assert_true(in_len > 0);
    rudp_hdr_t h;
    size_t rl = 0;
    assert_int_equal(rudp_listener_input(&l, initial, (size_t)in_len, ADDR, strlen(ADDR), now, &h,
                                         reply, sizeof reply, &rl),
                     RUDP_LISTEN_ACCEPT);
    assert_int_equal(rudp_conn_new_server(&s, &cfg, &h, SISN, now), 0);
    assert_int_equal(rudp_conn_validated(s), 0);
    assert_int_equal(rudp_conn_validated(c), 1);

    /* The client never answers (a forged source): 2 s of the server's own timers. */
    static sent_dgrams_t out;
    memset(&out, 0, sizeof out);
    run_alone(s, &now, 3000000, &out);
    assert_true(out.bytes >= (uint64_t)(RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE)); /* one ACCEPT */
    assert_true(out.bytes <= 3 * (uint64_t)in_len);

    /* A packet that does not echo our ISN proves nothing and is not read; its bytes
     * count as received from the address all the same (RFC 9000 §8.1). */
    uint8_t forged[RUDP_MAX_DATAGRAM];
    size_t fl = make_data(forged, CISN, "Mallory", 5);
    rudp_hdr_t fh;
    assert_int_equal(rudp_wire_decode(&fh, forged, fl), 0);
    fh.ack = SISN + 7;
    assert_true(rudp_wire_encode(&fh, forged, sizeof forged) > 0);
    assert_int_equal(rudp_conn_input(s, forged, fl, now), RUDP_ESTATE);
    uint8_t msg[16];
    assert_int_equal(rudp_conn_recv(s, msg, sizeof msg), RUDP_EAGAIN);
    uint64_t received = (uint64_t)in_len + fl;
    run_alone(s, &now, 3000000, &out);
    assert_true(out.bytes <= 3 * received);

    /* The client's next INITIAL widens the budget by its own size. */
    assert_int_equal(rudp_conn_input(s, initial, (size_t)in_len, now), 0);
    received += (uint64_t)in_len;
    run_alone(s, &now, now, &out);
    assert_true(out.bytes <= 3 * received);

    /* The real client takes the ACCEPT; its first packet echoes our ISN. */
    assert_int_equal(rudp_conn_input(c, out.last, out.last_len, now), 0);
    assert_int_equal(rudp_conn_state(c), RUDP_STATE_ESTABLISHED);
    assert_int_equal(rudp_conn_send(c, "Ana", 3, now), 0);
    uint8_t data[RUDP_MAX_DATAGRAM];
    int dl = rudp_conn_prepare(c, now, data, sizeof data);
    assert_true(dl > 0);
    assert_int_equal(rudp_conn_input(s, data, (size_t)dl, now), 0);
    assert_int_equal(rudp_conn_recv(s, msg, sizeof msg), 3);
    assert_memory_equal(msg, "Ana", 3);
    assert_int_equal(rudp_conn_validated(s), 1);
    rudp_conn_free(c);
    rudp_conn_free(s);
}

/* The default config, a listener keyed by `seed` (answering every INITIAL without a
 * cookie with a RETRY, or accepting it at once) and a new client, at time `now`. */
static rudp_conn_t *fresh_client(rudp_config_t *cfg, rudp_listener_t *l, uint8_t seed,
                                 int require_retry, uint64_t now)
{
    cfg_init(cfg);
    uint8_t key[RUDP_COOKIE_KEY_SIZE] = { seed };
    rudp_listener_init(l, key, 0);
    l->require_retry = require_retry;
    rudp_conn_t *c;
    assert_int_equal(rudp_conn_new_client(&c, cfg, 0xC1D, CISN, now), 0);
    return c;
}

/* fresh_client() (a listener not under load), and its first INITIAL, *n bytes, in ini:
 * its copies are still due. */
static rudp_conn_t *first_initial(rudp_config_t *cfg, rudp_listener_t *l, uint8_t seed,
                                  uint64_t now, uint8_t *ini, int *n)
{
    rudp_conn_t *c = fresh_client(cfg, l, seed, 0, now);
    *n = rudp_conn_prepare(c, now, ini, RUDP_MAX_DATAGRAM);
    assert_true(*n > 0);
    return c;
}

/* The server's connection for the client's INITIAL (n bytes at ini), which listener l,
 * not under load, accepts at once at time `now`. */
static rudp_conn_t *accept_at_once(const rudp_config_t *cfg, rudp_listener_t *l, const uint8_t *ini,
                                   int n, uint64_t now)
{
    rudp_hdr_t h;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t rl = 0;
    assert_int_equal(rudp_listener_input(l, ini, (size_t)n, ADDR, strlen(ADDR), now, &h, reply,
                                         sizeof reply, &rl),
                     RUDP_LISTEN_ACCEPT);
    rudp_conn_t *s;
    assert_int_equal(rudp_conn_new_server(&s, cfg, &h, SISN, now), 0);
    return s;
}

/* A client and a server 25 µs apart each way, accepted at once (no RETRY): the client's
 * first INITIAL and its first copy arrive, its second copy is lost, and so are the
 * server's first ACCEPT and its copies; *now is when they left. (With one INITIAL the
 * server could send no fourth ACCEPT: three are its 3x limit, RFC 9000 §8.1.) */
static void accept_lost(rudp_conn_t **c, rudp_conn_t **s, uint64_t *now)
{
    rudp_config_t cfg;
    rudp_listener_t l;
    *now = 1000;
    *c = fresh_client(&cfg, &l, 9, 0, *now);
    uint8_t buf[RUDP_MAX_DATAGRAM], reply[RUDP_MAX_DATAGRAM];
    int n = rudp_conn_prepare(*c, *now, buf, sizeof buf);
    assert_true(n > 0);
    uint8_t copy[RUDP_MAX_DATAGRAM];
    assert_int_equal(rudp_conn_prepare(*c, *now, copy, sizeof copy), n);
    assert_int_equal(rudp_conn_prepare(*c, *now, reply, sizeof reply), n); /* lost */
    *now += 25;
    *s = accept_at_once(&cfg, &l, buf, n, *now);
    assert_int_equal(rudp_conn_input(*s, copy, (size_t)n, *now), 0);
    assert_true(rudp_conn_prepare(*s, *now, buf, sizeof buf) > 0); /* the ACCEPT, lost */
    for (int i = 0; i < 2; i++)
        assert_true(rudp_conn_prepare(*s, *now, buf, sizeof buf) > 0); /* and its copies */
    assert_int_equal(rudp_conn_prepare(*s, *now, buf, sizeof buf), 0);
}

/* Regression: when the server's ACCEPT was lost, its second ACCEPT echoed the first
 * INITIAL's timestamp. The client's sample then spanned its whole 250 ms handshake
 * timer (the ACCEPT's ack_delay counts only up to max_ack_delay, RFC 9002 §5.3), and
 * on a 50 µs path it began with an RTO of about half a second. The echo must be of the
 * newest INITIAL (RFC 7323 §4.3: the timestamp of the segment that arrived last). */
static void test_regression_second_accept_echoes_newest_initial(void **state)
{
    (void)state;
    rudp_conn_t *c, *s;
    uint64_t now;
    accept_lost(&c, &s, &now);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n;

    /* The client's handshake timer: its INITIAL again, which reaches the server. */
    now = rudp_conn_next_timeout(c);
    n = rudp_conn_prepare(c, now, buf, sizeof buf);
    assert_true(n > 0);
    now += 25;
    assert_int_equal(rudp_conn_input(s, buf, (size_t)n, now), 0);
    n = rudp_conn_prepare(s, now, buf, sizeof buf);
    assert_true(n > 0);
    now += 25;
    assert_int_equal(rudp_conn_input(c, buf, (size_t)n, now), 0);
    assert_int_equal(rudp_conn_state(c), RUDP_STATE_ESTABLISHED);
    rudp_stats_t st;
    rudp_conn_stats(c, &st);
    assert_true(st.srtt >= 50);
    assert_true(st.srtt < 1000); /* 50 µs of path, not the 250 ms timer */
    rudp_conn_free(c);
    rudp_conn_free(s);
}

/* Regression: an ACCEPT the server resent on its own timer (the first lost, and no
 * INITIAL since) echoes an INITIAL it has held for its whole timer. That echo measures
 * the server's timer, not the path (Karn: a retransmission gives no sample), and it
 * made the client's first RTT sample about 250 ms on a 50 µs path. */
static void test_regression_resent_accept_gives_no_rtt_sample(void **state)
{
    (void)state;
    rudp_conn_t *c, *s;
    uint64_t now;
    accept_lost(&c, &s, &now);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n;

    /* The server's timer resends it; the client's INITIAL meanwhile was lost. */
    now = rudp_conn_next_timeout(s);
    n = rudp_conn_prepare(s, now, buf, sizeof buf);
    assert_true(n > 0);
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, buf, (size_t)n), 0);
    assert_int_equal(h.type, RUDP_T_ACCEPT);
    assert_true(h.ack_delay > 100000); /* it held the echo for its timer */
    now += 25;
    assert_int_equal(rudp_conn_input(c, buf, (size_t)n, now), 0);
    assert_int_equal(rudp_conn_state(c), RUDP_STATE_ESTABLISHED);
    rudp_stats_t st;
    rudp_conn_stats(c, &st);
    assert_true(st.srtt < 1000);
    rudp_conn_free(c);
    rudp_conn_free(s);
}

/* The first INITIAL and the first ACCEPT each go out three times, back to back and
 * identical (docs/protocol.md §7.3). No copy is a retry, and each end drops the other's
 * copies as duplicates without answering them: no fourth ACCEPT, no forced ACK. */
static void test_first_initial_and_accept_go_out_three_times(void **state)
{
    (void)state;
    rudp_config_t cfg;
    rudp_listener_t l;
    uint64_t now = 1000;
    uint8_t ini[3][RUDP_MAX_DATAGRAM], buf[RUDP_MAX_DATAGRAM];
    int n;
    rudp_conn_t *s, *c = first_initial(&cfg, &l, 7, now, ini[0], &n);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(rudp_conn_next_timeout(c), 0); /* the copy is due at once */
        assert_int_equal(rudp_conn_prepare(c, now, ini[i], sizeof ini[i]), n);
        assert_memory_equal(ini[0], ini[i], (size_t)n);
    }
    assert_int_equal(rudp_conn_prepare(c, now, buf, sizeof buf), 0);
    assert_int_equal(rudp_conn_next_timeout(c), now + cfg.initial_rto); /* not moved */

    now += 25;
    s = accept_at_once(&cfg, &l, ini[0], n, now);
    for (int i = 1; i < 3; i++)
        assert_int_equal(rudp_conn_input(s, ini[i], (size_t)n, now), 0); /* routed by its ID */
    uint8_t acc[3][RUDP_MAX_DATAGRAM];
    int m = rudp_conn_prepare(s, now, acc[0], sizeof acc[0]);
    assert_true(m > 0);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(rudp_conn_prepare(s, now, acc[i], sizeof acc[i]), m);
        assert_memory_equal(acc[0], acc[i], (size_t)m);
    }
    assert_int_equal(rudp_conn_prepare(s, now, buf, sizeof buf), 0);

    now += 25;
    assert_int_equal(rudp_conn_input(c, acc[0], (size_t)m, now), 0);
    assert_int_equal(rudp_conn_state(c), RUDP_STATE_ESTABLISHED);
    for (int i = 1; i < 3; i++)
        assert_int_equal(rudp_conn_input(c, acc[i], (size_t)m, now), 0);
    assert_int_equal(rudp_conn_prepare(c, now, buf, sizeof buf), 0);
    rudp_stats_t cs, ss;
    rudp_conn_stats(c, &cs);
    rudp_conn_stats(s, &ss);
    assert_int_equal(cs.handshake_retries, 0);
    assert_int_equal(cs.packets_sent, 3);
    assert_int_equal(cs.duplicates, 2);
    assert_int_equal(cs.dropped, 0);
    assert_int_equal(ss.packets_sent, 3);
    assert_int_equal(ss.duplicates, 2);
    assert_int_equal(ss.dropped, 0);
    rudp_conn_free(c);
    rudp_conn_free(s);
}

/* The ACCEPT's copies count against the 3x limit (RFC 9000 §8.1) like any datagram to
 * an unproven address: when only the first INITIAL arrives, its three ACCEPTs are the
 * whole allowance, and the server's timer sends no fourth until the client's next
 * INITIAL brings more. */
static void test_accept_copies_stay_within_the_3x_limit(void **state)
{
    (void)state;
    rudp_config_t cfg;
    rudp_listener_t l;
    uint64_t now = 1000;
    uint8_t ini[RUDP_MAX_DATAGRAM], buf[RUDP_MAX_DATAGRAM];
    int n;
    rudp_conn_t *c = first_initial(&cfg, &l, 6, now, ini, &n);
    now += 25;
    rudp_conn_t *s = accept_at_once(&cfg, &l, ini, n, now);
    size_t sent = 0;
    for (int i = 0; i < 3; i++) {
        int m = rudp_conn_prepare(s, now, buf, sizeof buf);
        assert_true(m > 0);
        sent += (size_t)m;
    }
    assert_true(sent <= 3 * (size_t)n);
    /* The ACCEPTs are lost; the server's timer finds its allowance spent, many times. */
    for (int i = 0; i < 5; i++) {
        uint64_t t = rudp_conn_next_timeout(s);
        if (t != UINT64_MAX && t > now)
            now = t;
        assert_int_equal(rudp_conn_prepare(s, now, buf, sizeof buf), 0);
    }
    /* The client's INITIAL again: one more ACCEPT, the allowance it brings. */
    assert_int_equal(rudp_conn_input(s, ini, (size_t)n, now), 0);
    int m = rudp_conn_prepare(s, now, buf, sizeof buf);
    assert_true(m > 0);
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, buf, (size_t)m), 0);
    assert_int_equal(h.type, RUDP_T_ACCEPT);
    rudp_stats_t ss;
    rudp_conn_stats(s, &ss);
    assert_int_equal(ss.packets_sent, 4);
    rudp_conn_free(c);
    rudp_conn_free(s);
}

/* A listener under load answers both copies of the first INITIAL with a RETRY. The
 * client answers the first with its cookie and drops the second, which echoes the same
 * INITIAL: one INITIAL with the cookie, not two (the second would be a replay). */
static void test_second_retry_is_a_duplicate(void **state)
{
    (void)state;
    rudp_config_t cfg;
    rudp_listener_t l;
    uint64_t now = 1000;
    rudp_conn_t *c = fresh_client(&cfg, &l, 8, 1, now);
    uint8_t ini[RUDP_MAX_DATAGRAM], buf[RUDP_MAX_DATAGRAM];
    uint8_t retry[2][RUDP_MAX_DATAGRAM];
    size_t rl[2] = { 0, 0 };
    rudp_hdr_t h;
    for (int i = 0; i < 2; i++) {
        int n = rudp_conn_prepare(c, now, ini, sizeof ini);
        assert_true(n > 0);
        assert_int_equal(rudp_listener_input(&l, ini, (size_t)n, ADDR, strlen(ADDR), now + 25, &h,
                                             retry[i], sizeof retry[i], &rl[i]),
                         RUDP_LISTEN_REPLY);
    }
    now += 50;
    assert_int_equal(rudp_conn_input(c, retry[0], rl[0], now), 0);
    int n = rudp_conn_prepare(c, now, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rudp_wire_decode(&h, buf, (size_t)n), 0);
    assert_int_equal(h.type, RUDP_T_INITIAL);
    assert_int_equal(h.payload_len, RUDP_COOKIE_SIZE);
    assert_int_equal(rudp_conn_prepare(c, now, buf, sizeof buf), 0); /* no copy of it */
    assert_int_equal(rudp_conn_input(c, retry[1], rl[1], now), 0);
    assert_int_equal(rudp_conn_prepare(c, now, buf, sizeof buf), 0);
    rudp_stats_t st;
    rudp_conn_stats(c, &st);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.handshake_retries, 0);
    assert_int_equal(rudp_conn_state(c), RUDP_STATE_HANDSHAKE);
    rudp_conn_free(c);
}

/* No server at all: the client's INITIALs back off and it gives up cleanly. */
static void test_handshake_gives_up(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.max_retries = 4;
    cfg.dead_timeout = 0;
    rudp_conn_t *c;
    assert_int_equal(rudp_conn_new_client(&c, &cfg, 1, 1, 0), 0);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int sent = 0;
    uint64_t now = 0;
    for (int i = 0; i < 20 && rudp_conn_state(c) != RUDP_STATE_CLOSED; i++) {
        if (rudp_conn_prepare(c, now, buf, sizeof buf) > 0)
            sent++;
        now = rudp_conn_next_timeout(c);
        if (now == UINT64_MAX)
            break;
    }
    assert_int_equal(rudp_conn_state(c), RUDP_STATE_CLOSED);
    assert_int_equal(rudp_conn_error(c), RUDP_ETIMEDOUT);
    assert_int_equal(sent, 7); /* the first INITIAL, its two copies and 4 retries */
    assert_true(now == UINT64_MAX);
    rudp_stats_t st;
    rudp_conn_stats(c, &st);
    assert_int_equal(st.handshake_retries, 4);
    rudp_conn_free(c);
}

static void test_reset_from_peer(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    rudp_conn_abort(p.s, p.now);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n = rudp_conn_prepare(p.s, p.now, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rudp_conn_input(p.c, buf, (size_t)n, p.now), 0);
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_CLOSED);
    assert_int_equal(rudp_conn_error(p.c), RUDP_ERESET);
    char out[4];
    assert_int_equal(rudp_conn_recv(p.c, out, sizeof out), RUDP_ERESET);
    pair_free(&p);
}

/* A full server answers a validated client with RESET(FULL): the client reports a
 * refusal, not a timeout. */
static void test_refused_when_full(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    rudp_conn_t *c;
    assert_int_equal(rudp_conn_new_client(&c, &cfg, 77, 1, 0), 0);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n = rudp_conn_prepare(c, 0, buf, sizeof buf);
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, buf, (size_t)n), 0);
    n = rudp_listener_refuse(&h, 10, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rudp_conn_input(c, buf, (size_t)n, 10), 0);
    assert_int_equal(rudp_conn_error(c), RUDP_EREFUSED);
    rudp_conn_free(c);
}

/* Garbage and other connections' packets are counted and dropped, never delivered. */
static void test_garbage_dropped(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    size_t n = make_data(buf, CISN, "ok", 1);
    buf[n - 1] ^= 1;
    assert_int_equal(rudp_conn_input(p.s, buf, n, p.now), RUDP_ECHECKSUM);
    assert_int_equal(rudp_conn_input(p.s, buf, 3, p.now), RUDP_EMALFORMED);
    rudp_hdr_t h = { .type = RUDP_T_DATA,
                     .cid = 0xBAD,
                     .seq = CISN,
                     .payload_len = 1,
                     .payload = (const uint8_t *)"x" };
    n = (size_t)rudp_wire_encode(&h, buf, sizeof buf);
    assert_int_equal(rudp_conn_input(p.s, buf, n, p.now), RUDP_ESTATE);
    rudp_stats_t st;
    rudp_conn_stats(p.s, &st);
    assert_int_equal(st.corrupt, 2);
    assert_int_equal(st.dropped, 1);
    char out[4];
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), RUDP_EAGAIN);
    pair_free(&p);
}

/* Packets beyond the receive window are dropped but answered with the window, and
 * reading reopens it. */
static void test_receive_window(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.window = 4;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    for (uint32_t i = 0; i < 5; i++) {
        size_t n = make_data(buf, CISN + i, "w", (uint32_t)p.now);
        rudp_conn_input(p.s, buf, n, p.now);
    }
    rudp_stats_t st;
    rudp_conn_stats(p.s, &st);
    assert_int_equal(st.dropped, 1);
    /* The answer advertises a closed window. */
    rudp_hdr_t h;
    next_of_type(p.s, p.now, RUDP_T_ACK, buf, &h);
    assert_int_equal(h.ack, CISN + 4);
    assert_int_equal(h.rwnd, 0);
    assert_int_equal(rudp_conn_prepare(p.s, p.now, buf, sizeof buf), 0);
    /* Reading one message reopens the window, and the engine says so unasked. */
    char out[4];
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), 1);
    int n = rudp_conn_prepare(p.s, p.now, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rudp_wire_decode(&h, buf, (size_t)n), 0);
    assert_int_equal(h.type, RUDP_T_ACK);
    assert_int_equal(h.rwnd, 1);
    size_t m = make_data(buf, CISN + 4, "w", (uint32_t)p.now);
    assert_int_equal(rudp_conn_input(p.s, buf, m, p.now), 0);
    rudp_conn_stats(p.s, &st);
    assert_int_equal(st.dropped, 1);
    pair_free(&p);
}

/* Idle connections are reclaimed. */
static void test_idle_timeout(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.idle_timeout = 5000000;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint64_t t = rudp_conn_next_timeout(p.s);
    assert_true(t <= p.now + 5000000);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    rudp_conn_prepare(p.s, p.now + 5000000, buf, sizeof buf);
    assert_int_equal(rudp_conn_state(p.s), RUDP_STATE_CLOSED);
    assert_int_equal(rudp_conn_error(p.s), RUDP_ETIMEDOUT);
    pair_free(&p);
}

/* With coalescing, queued names share datagrams; boundaries and order survive. */
static void test_coalesced_messages(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.coalesce = 1;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    char name[32];
    for (int i = 0; i < 100; i++) {
        int len = snprintf(name, sizeof name, "nombre-%d", i);
        assert_int_equal(rudp_conn_send(p.c, name, (size_t)len, p.now), 0);
    }
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n = rudp_conn_prepare(p.c, p.now, buf, sizeof buf);
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, buf, (size_t)n), 0);
    assert_true(h.flags & RUDP_F_COALESCED);
    assert_int_equal(h.seq, CISN);
    size_t off = 0, len, records = 0;
    const uint8_t *msg;
    while (rudp_wire_record(&h, &off, &msg, &len))
        records++;
    assert_true(records > 50); /* ~10-byte names, 1200-byte payload */
    assert_int_equal(p.c->in_flight, records);
    /* That first datagram is lost; the probe timeout repairs it, and the receiver
     * reads as messages come so its window keeps opening. */
    char out[32];
    int got = 0;
    for (int round = 0; round < 400 && got < 100; round++) {
        exchange(&p, 1);
        int r;
        while ((r = rudp_conn_recv(p.s, out, sizeof out)) >= 0) {
            int len2 = snprintf(name, sizeof name, "nombre-%d", got);
            assert_int_equal(r, len2);
            assert_memory_equal(out, name, (size_t)len2);
            got++;
        }
    }
    assert_int_equal(got, 100);
    exchange(&p, 50);
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), RUDP_EAGAIN);
    assert_int_equal(rudp_conn_unacked(p.c), 0);
    rudp_stats_t st;
    rudp_conn_stats(p.c, &st);
    assert_true(st.data_sent < 10);
    assert_true(st.retransmits_timeout + st.retransmits_fast >= 1);
    pair_free(&p);
}

/* A coalesced payload must be whole records filling it: anything else is malformed. */
static void test_coalesced_records_checked(void **state)
{
    (void)state;
    static const struct {
        uint8_t payload[8];
        uint16_t len;
        int ok;
    } cases[] = {
        { { 0, 1, 'a' }, 3, 1 },       /* one record */
        { { 0, 1, 'a', 0, 0 }, 5, 1 }, /* and an empty message */
        { { 0, 2, 'a' }, 3, 0 },       /* record past the end */
        { { 0, 1, 'a', 0 }, 4, 0 },    /* a dangling half length */
        { { 0 }, 0, 0 },               /* no record at all */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[RUDP_MAX_DATAGRAM];
        rudp_hdr_t h = { .type = RUDP_T_DATA,
                         .flags = RUDP_F_COALESCED,
                         .cid = 1,
                         .payload_len = cases[i].len,
                         .payload = cases[i].len ? cases[i].payload : NULL };
        int n = rudp_wire_encode(&h, buf, sizeof buf);
        if (cases[i].ok) {
            assert_true(n > 0);
            rudp_hdr_t d;
            assert_int_equal(rudp_wire_decode(&d, buf, (size_t)n), 0);
        } else {
            assert_int_equal(n, RUDP_EINVAL);
            /* The same bytes forged past the encoder are refused by the decoder. */
            h.flags = 0;
            n = rudp_wire_encode(&h, buf, sizeof buf);
            assert_true(n > 0);
            buf[2] = RUDP_F_COALESCED;
            /* A valid CRC, so only the records are wrong. */
            rudp_put32(buf + n - 4, rudp_crc32c(0, buf, (size_t)n - 4));
            rudp_hdr_t d;
            assert_int_equal(rudp_wire_decode(&d, buf, (size_t)n), RUDP_EMALFORMED);
        }
    }
    /* Only DATA may be coalesced. */
    uint8_t buf[RUDP_MAX_DATAGRAM];
    rudp_hdr_t h = { .type = RUDP_T_ACK, .flags = RUDP_F_COALESCED, .cid = 1 };
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EINVAL);
}

/* ACK policy (RFC 9002 §6.2.1 / RFC 5681 §4.2): one packet waits up to
 * max_ack_delay, a second one is acknowledged at once, and so are gaps. */
static void test_ack_policy(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.max_ack_delay = 2000;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    /* Flush the ACCEPT-time state first. */
    while (rudp_conn_prepare(p.s, p.now, buf, sizeof buf) > 0) {
    }
    size_t n = make_data(buf, CISN, "a", (uint32_t)p.now);
    assert_int_equal(rudp_conn_input(p.s, buf, n, p.now), 0);
    assert_int_equal(rudp_conn_prepare(p.s, p.now, buf, sizeof buf), 0);
    assert_int_equal(rudp_conn_next_timeout(p.s), p.now + 2000);
    assert_true(rudp_conn_prepare(p.s, p.now + 2000, buf, sizeof buf) > 0);

    /* Two in order: at once. */
    n = make_data(buf, CISN + 1, "b", (uint32_t)p.now);
    rudp_conn_input(p.s, buf, n, p.now);
    n = make_data(buf, CISN + 2, "c", (uint32_t)p.now);
    rudp_conn_input(p.s, buf, n, p.now);
    assert_true(rudp_conn_prepare(p.s, p.now, buf, sizeof buf) > 0);
    assert_int_equal(rudp_conn_prepare(p.s, p.now, buf, sizeof buf), 0);

    /* A gap: at once, even for a single packet. */
    n = make_data(buf, CISN + 5, "f", (uint32_t)p.now);
    rudp_conn_input(p.s, buf, n, p.now);
    assert_true(rudp_conn_prepare(p.s, p.now, buf, sizeof buf) > 0);
    /* A duplicate: at once. */
    n = make_data(buf, CISN, "a", (uint32_t)p.now);
    rudp_conn_input(p.s, buf, n, p.now);
    assert_true(rudp_conn_prepare(p.s, p.now, buf, sizeof buf) > 0);
    pair_free(&p);
}

/* Trace collector for the loss-detection cases. */
struct seen {
    int fast, time, timeout_retx;
    uint32_t lost_seq;
};

static void collect(void *user, const rudp_event_t *ev)
{
    struct seen *s = user;
    if (ev->kind == RUDP_EV_LOSS) {
        s->lost_seq = ev->seq;
        if (ev->reason == RUDP_WHY_FAST)
            s->fast++;
        if (ev->reason == RUDP_WHY_TIME)
            s->time++;
    }
    if (ev->kind == RUDP_EV_RETRANSMIT && ev->reason == RUDP_WHY_TIMEOUT)
        s->timeout_retx++;
}

/* Moves the client's datagrams to the server except those whose index is in drop. */
static void deliver_except(pair_t *p, uint32_t count, uint32_t drop)
{
    uint8_t buf[RUDP_MAX_DATAGRAM];
    for (uint32_t i = 0; i < count; i++) {
        int n = rudp_conn_prepare(p->c, p->now, buf, sizeof buf);
        assert_true(n > 0);
        if (i != drop)
            rudp_conn_input(p->s, buf, (size_t)n, p->now + 50);
    }
}

/* Packet threshold (RFC 9002 §6.1.1): three later packets acknowledged make a
 * missing one lost, with no timer involved. */
static void test_fast_loss_by_packet_threshold(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.trace = collect;
    cfg.trace_user = &seen;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    for (int i = 0; i < 6; i++)
        rudp_conn_send(p.c, "x", 1, p.now);
    deliver_except(&p, 6, 1);
    p.now += 100;
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n;
    while ((n = rudp_conn_prepare(p.s, p.now, buf, sizeof buf)) > 0)
        rudp_conn_input(p.c, buf, (size_t)n, p.now);
    assert_int_equal(seen.fast, 1);
    assert_int_equal(seen.lost_seq, CISN + 1);
    /* The retransmission goes out now, not after a timeout. */
    n = rudp_conn_prepare(p.c, p.now, buf, sizeof buf);
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, buf, (size_t)n), 0);
    assert_int_equal(h.seq, CISN + 1);
    rudp_stats_t st;
    rudp_conn_stats(p.c, &st);
    assert_int_equal(st.retransmits_fast, 1);
    assert_int_equal(st.retransmits_timeout, 0);
    pair_free(&p);
}

/* Time threshold (RFC 9002 §6.1.2): with fewer than three later packets acked, the
 * missing one is lost once 9/8 RTT have passed since it was sent. */
static void test_loss_by_time_threshold(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.trace = collect;
    cfg.trace_user = &seen;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    rudp_conn_send(p.c, "x", 1, p.now);
    rudp_conn_send(p.c, "y", 1, p.now);
    deliver_except(&p, 2, 0);
    p.now += 100;
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n;
    while ((n = rudp_conn_prepare(p.s, p.now, buf, sizeof buf)) > 0)
        rudp_conn_input(p.c, buf, (size_t)n, p.now);
    assert_int_equal(seen.fast + seen.time, 0);
    /* The loss timer, not the probe timer, is armed next. */
    uint64_t t = rudp_conn_next_timeout(p.c);
    assert_true(t > p.now && t < p.now + RUDP_GRANULARITY_US + 1);
    rudp_conn_prepare(p.c, t, buf, sizeof buf);
    assert_int_equal(seen.time, 1);
    assert_int_equal(seen.lost_seq, CISN);
    assert_int_equal(seen.timeout_retx, 0);
    pair_free(&p);
}

/* A retransmission the peer did not need is found through the timestamp echo
 * (RFC 3522's Eifel detection) and counted as spurious. */
static void test_spurious_retransmission_detected(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM], ack[RUDP_MAX_DATAGRAM];
    rudp_conn_send(p.c, "late", 4, p.now);
    int n = rudp_conn_prepare(p.c, p.now, buf, sizeof buf);
    rudp_conn_input(p.s, buf, (size_t)n, p.now + 50);
    /* The server's ACK is held back (a slow path), the client times out... */
    int an = 0;
    for (int i = 0; i < 4 && an <= 0; i++)
        an = rudp_conn_prepare(p.s, p.now + 50 + 1000u * (unsigned)(i + 1), ack, sizeof ack);
    assert_true(an > 0);
    uint64_t t = rudp_conn_next_timeout(p.c);
    n = rudp_conn_prepare(p.c, t, buf, sizeof buf);
    assert_true(n > 0);
    /* ...and then the ACK of the original arrives. */
    assert_int_equal(rudp_conn_input(p.c, ack, (size_t)an, t + 10), 0);
    rudp_stats_t st;
    rudp_conn_stats(p.c, &st);
    assert_int_equal(st.retransmits_timeout, 1);
    assert_int_equal(st.spurious, 1);
    /* It came 10 µs after the retransmission, far less than half the RTT: it had left
     * the peer before the timer fired, so the timer was premature. */
    assert_int_equal(st.premature, 1);
    pair_free(&p);
}

/* A request whose reply was lost: resending it is right, though the peer's own
 * retransmission of the reply crosses it. Spurious by RFC 3522, but not premature. */
static void test_crossing_retransmission_not_premature(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM], reply[RUDP_MAX_DATAGRAM];
    rudp_conn_send(p.c, "req", 3, p.now);
    int n = rudp_conn_prepare(p.c, p.now, buf, sizeof buf);
    rudp_conn_input(p.s, buf, (size_t)n, p.now + 50);
    char out[8];
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), 3);
    rudp_conn_send(p.s, "rep", 3, p.now + 50);
    assert_true(rudp_conn_prepare(p.s, p.now + 50, reply, sizeof reply) > 0); /* lost */
    /* The client times out and resends; that copy is lost too. */
    uint64_t t = rudp_conn_next_timeout(p.c);
    assert_true(rudp_conn_prepare(p.c, t, buf, sizeof buf) > 0);
    /* The server times out and resends the reply, acknowledging the first request. */
    uint64_t ts = rudp_conn_next_timeout(p.s);
    int rn = rudp_conn_prepare(p.s, ts, reply, sizeof reply);
    assert_true(rn > 0);
    assert_true(ts + 50 - t > p.c->rtt.min / 2);
    assert_int_equal(rudp_conn_input(p.c, reply, (size_t)rn, ts + 50), 0);
    rudp_stats_t st;
    rudp_conn_stats(p.c, &st);
    assert_int_equal(st.spurious, 1);
    assert_int_equal(st.premature, 0);
    pair_free(&p);
}

/* Regression: a duplicate RETRY arriving after the handshake (its window field is
 * always 0) closed the send window until the next probe timeout. */
static void test_regression_late_retry_keeps_window(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    uint8_t cookie[RUDP_COOKIE_SIZE] = { 0 };
    rudp_hdr_t r = { .type = RUDP_T_RETRY,
                     .flags = RUDP_F_ACK,
                     .cid = 0xC1D,
                     .payload_len = RUDP_COOKIE_SIZE,
                     .payload = cookie };
    int n = rudp_wire_encode(&r, buf, sizeof buf);
    assert_int_equal(rudp_conn_input(p.c, buf, (size_t)n, p.now), 0);
    assert_int_equal(p.c->peer_rwnd, cfg.window);
    assert_int_equal(rudp_conn_send(p.c, "x", 1, p.now), 0);
    assert_true(rudp_conn_prepare(p.c, p.now, buf, sizeof buf) > 0);
    pair_free(&p);
}

/* Regression: the window came from every packet, so an older one overtaken on the way
 * (reordering) put back a window the peer had since changed. The newest packet's, by
 * the peer's timestamp, counts, for a minute of our time after the last window taken
 * (then the peer's 32-bit clock may have wrapped, and any window is taken); the ACK
 * part of an older packet still counts, and an ACK for something never sent gives no
 * window at all. */
static void send_ack(pair_t *p, uint32_t ts, uint16_t rwnd, uint32_t ack)
{
    uint8_t buf[RUDP_MAX_DATAGRAM];
    rudp_hdr_t a = { .type = RUDP_T_ACK,
                     .flags = RUDP_F_ACK,
                     .cid = 0xC1D,
                     .seq = CISN,
                     .ack = ack,
                     .ts = ts,
                     .rwnd = rwnd };
    int n = rudp_wire_encode(&a, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rudp_conn_input(p->s, buf, (size_t)n, p->now), 0);
}

static void test_regression_reordered_window_is_stale(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint32_t t = 5000000;
    send_ack(&p, t + 100, 7, SISN); /* the newer packet arrives first */
    assert_int_equal(p.s->peer_rwnd, 7);
    send_ack(&p, t, 0, SISN); /* the older one, overtaken: its closed window is stale */
    assert_int_equal(p.s->peer_rwnd, 7);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    assert_int_equal(rudp_conn_send(p.s, "x", 1, p.now), 0);
    rudp_hdr_t h;
    next_of_type(p.s, p.now, RUDP_T_DATA, buf, &h); /* the window stayed open */
    send_ack(&p, t + 50, 0, SISN + 1);              /* older, but its ACK counts */
    assert_int_equal(rudp_conn_send_space(p.s), (int)(cfg.window + cfg.send_queue));
    assert_int_equal(p.s->peer_rwnd, 7);
    send_ack(&p, t + 100, 3, SISN + 1); /* the same moment: taken */
    assert_int_equal(p.s->peer_rwnd, 3);
    send_ack(&p, t + 200, 0, SISN + 1); /* newer: taken, even when it closes the window */
    assert_int_equal(p.s->peer_rwnd, 0);
    send_ack(&p, t + 300, 9, SISN + 5); /* acknowledges what was never sent: ignored */
    assert_int_equal(p.s->peer_rwnd, 0);
    send_ack(&p, t + 200 - 70000000u, 9, SISN + 1); /* older, within the minute: stale */
    assert_int_equal(p.s->peer_rwnd, 0);
    p.now += 60000001u; /* a minute later the peer's clock may have wrapped: taken */
    send_ack(&p, t + 200 - 70000000u, 9, SISN + 1);
    assert_int_equal(p.s->peer_rwnd, 9);
    pair_free(&p);
}

/* Regression: a client whose cookie went stale (the server restarted with a new key)
 * resent it forever and could only time out. It now drops a cookie sent twice in vain
 * and asks for a fresh one. */
static void test_regression_stale_cookie_recovers(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    uint8_t key_a[RUDP_COOKIE_KEY_SIZE] = { 0xA }, key_b[RUDP_COOKIE_KEY_SIZE] = { 0xB };
    rudp_listener_t before, after;
    rudp_listener_init(&before, key_a, 0);
    rudp_listener_init(&after, key_b, 0);
    rudp_conn_t *c;
    assert_int_equal(rudp_conn_new_client(&c, &cfg, 42, 7, 0), 0);
    uint8_t buf[RUDP_MAX_DATAGRAM], reply[RUDP_MAX_DATAGRAM];
    rudp_hdr_t h;
    size_t rl;
    uint64_t now = 0;
    int n = rudp_conn_prepare(c, now, buf, sizeof buf);
    assert_int_equal(rudp_listener_input(&before, buf, (size_t)n, ADDR, strlen(ADDR), now, &h,
                                         reply, sizeof reply, &rl),
                     RUDP_LISTEN_REPLY);
    rudp_conn_input(c, reply, rl, now + 10);
    /* The server restarts: every INITIAL now meets the listener with key B. */
    int verdict = RUDP_LISTEN_DROP;
    for (int i = 0; i < 6 && verdict != RUDP_LISTEN_ACCEPT; i++) {
        now = rudp_conn_next_timeout(c);
        n = rudp_conn_prepare(c, now, buf, sizeof buf);
        assert_true(n > 0);
        verdict = rudp_listener_input(&after, buf, (size_t)n, ADDR, strlen(ADDR), now, &h, reply,
                                      sizeof reply, &rl);
        if (verdict == RUDP_LISTEN_REPLY)
            rudp_conn_input(c, reply, rl, now + 10);
    }
    assert_int_equal(verdict, RUDP_LISTEN_ACCEPT);
    assert_int_equal(after.cookies_bad, 2);
    rudp_conn_free(c);
}

/* A smaller max_message shrinks the connection and is enforced both ways. */
static void test_max_message(void **state)
{
    (void)state;
    rudp_config_t small, big;
    cfg_init(&small);
    cfg_init(&big);
    small.max_message = 16;
    pair_t p = { 0 };
    handshake(&p, &big, &small); /* the server takes at most 16 bytes */
    assert_int_equal(rudp_conn_send(p.s, "seventeen bytes!!", 17, p.now), RUDP_EMSGSIZE);
    assert_int_equal(rudp_conn_send(p.s, "sixteen bytes!!!", 16, p.now), 0);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    size_t n = make_data(buf, CISN, "seventeen bytes!!", (uint32_t)p.now);
    assert_int_equal(rudp_conn_input(p.s, buf, n, p.now), 0);
    char out[32];
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), RUDP_EAGAIN);
    rudp_stats_t st;
    rudp_conn_stats(p.s, &st);
    assert_int_equal(st.dropped, 1);
    n = make_data(buf, CISN, "sixteen bytes!!!", (uint32_t)p.now);
    assert_int_equal(rudp_conn_input(p.s, buf, n, p.now), 0);
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), 16);
    pair_free(&p);
    small.max_message = 0;
    rudp_conn_t *c = NULL;
    assert_int_equal(rudp_conn_new_client(&c, &small, 1, 1, 0), RUDP_EINVAL);
    small.max_message = RUDP_MAX_PAYLOAD + 1;
    assert_int_equal(rudp_conn_new_client(&c, &small, 1, 1, 0), RUDP_EINVAL);
}

/* Every slot has a dense 64-byte buffer for short messages and a max_message one for
 * the rest (the allocation is the documented formula): each message is kept in the
 * right one, and arrives whole and in order. */
struct sized_alloc {
    size_t last;
};

static void *sized_alloc_fn(void *ctx, size_t n)
{
    ((struct sized_alloc *)ctx)->last = n;
    return test_malloc(n);
}

static void sized_free_fn(void *ctx, void *p)
{
    (void)ctx;
    test_free(p);
}

static void fill_msg(uint8_t *m, size_t len, uint32_t i)
{
    for (size_t k = 0; k < len; k++)
        m[k] = (uint8_t)(i * 31u + k * 7u);
}

/* Where slot `index` (send slots first, then receive slots) must keep a len-byte
 * message: the dense area up to 64 bytes, else the slot's max_message buffer. */
static void check_buf(const rudp_conn_t *c, const uint8_t *data, size_t index, size_t len)
{
    const uint8_t *want = len <= 64 ? c->small + index * 64 : c->big + index * c->cfg.max_message;
    assert_ptr_equal(data, want);
}

/* Reads every waiting message of `to`, checks it against message *next of the pattern
 * (and where its receive slot kept it), and with `echo` sends it back. */
static void drain_check(rudp_conn_t *to, uint32_t *next, int echo, uint64_t now)
{
    static const size_t sizes[] = { 0, 1, 63, 64, 65, 200, RUDP_MAX_PAYLOAD };
    static uint8_t out[RUDP_MAX_PAYLOAD], want[RUDP_MAX_PAYLOAD];
    for (int k = 0; k < 1000 && rudp_conn_peek_size(to) >= 0; k++) {
        const struct rudp_rcv_slot *r = &to->rcv[to->rcv_head];
        size_t len = sizes[*next % (sizeof sizes / sizeof sizes[0])];
        check_buf(to, r->data, to->snd_cap + to->rcv_head, len);
        int n = rudp_conn_recv(to, out, sizeof out);
        assert_int_equal(n, (int)len);
        fill_msg(want, len, *next);
        if (len > 0)
            assert_memory_equal(out, want, len);
        if (echo)
            assert_int_equal(rudp_conn_send(to, out, len, now), 0);
        (*next)++;
    }
}

/* Client -> server -> echo -> client, sizes across the 64-byte boundary, rings that wrap
 * several times, every fifth datagram each way lost (so retransmissions, and with
 * coalesce repacking, read messages back from their slots). */
static void buffers_run(int coalesce)
{
    static const size_t sizes[] = { 0, 1, 63, 64, 65, 200, RUDP_MAX_PAYLOAD };
    enum { N = 60, W = 8 };
    struct sized_alloc sa = { 0 };
    const rudp_allocator_t alloc = { sized_alloc_fn, sized_free_fn, &sa };
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.allocator = &alloc;
    cfg.window = W;
    cfg.send_queue = W;
    cfg.coalesce = coalesce;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    const size_t snd_cap = 2 * W + 1, rcv_cap = W;
    assert_int_equal(sa.last, sizeof(rudp_conn_t) + snd_cap * sizeof(struct rudp_snd_slot) +
                                  rcv_cap * sizeof(struct rudp_rcv_slot) +
                                  (snd_cap + rcv_cap) * (64 + RUDP_MAX_PAYLOAD));
    static uint8_t msg[RUDP_MAX_PAYLOAD];
    uint32_t sent = 0, at_server = 0, echoed = 0, dgrams = 0;
    for (int round = 0; round < 600 && echoed < N; round++) {
        /* The server's echoes need send space too: the client waits for it. */
        while (sent < N && sent - echoed < W && rudp_conn_send_space(p.c) > 0) {
            size_t len = sizes[sent % (sizeof sizes / sizeof sizes[0])];
            fill_msg(msg, len, sent);
            assert_int_equal(rudp_conn_send(p.c, msg, len, p.now), 0);
            const struct rudp_snd_slot *sl =
                &p.c->snd[(p.c->snd_head + (p.c->snd_nxt - 1 - p.c->snd_una)) % p.c->snd_cap];
            check_buf(p.c, sl->data, (size_t)(sl - p.c->snd), len);
            sent++;
        }
        uint8_t buf[RUDP_MAX_DATAGRAM];
        int n;
        while ((n = rudp_conn_prepare(p.c, p.now, buf, sizeof buf)) > 0)
            if (++dgrams % 5 != 0) /* every fifth datagram is lost, both ways */
                rudp_conn_input(p.s, buf, (size_t)n, p.now + 50);
        drain_check(p.s, &at_server, 1, p.now);
        while ((n = rudp_conn_prepare(p.s, p.now, buf, sizeof buf)) > 0)
            if (++dgrams % 5 != 0)
                rudp_conn_input(p.c, buf, (size_t)n, p.now + 50);
        drain_check(p.c, &echoed, 0, p.now);
        p.now += 5000;
    }
    assert_int_equal(at_server, N);
    assert_int_equal(echoed, N);
    rudp_stats_t st;
    rudp_conn_stats(p.c, &st);
    assert_true(st.retransmits_fast + st.retransmits_timeout > 0);
    rudp_conn_stats(p.s, &st);
    assert_true(st.retransmits_fast + st.retransmits_timeout > 0);
    pair_free(&p);
}

static void test_short_and_long_buffers(void **state)
{
    (void)state;
    buffers_run(0);
}

static void test_short_and_long_buffers_coalesced(void **state)
{
    (void)state;
    buffers_run(1);
}

/* A side that gives up on its FIN (all else acknowledged, the peer silent) closes
 * cleanly and sends RESET(CLOSED) with the FIN's number: a peer holding everything
 * before it takes that as the end of stream and closes cleanly too. */
/* Regression: while DRAINING, each duplicate record doubled the stay, so the peer's
 * resend of one coalesced datagram of ten messages (its ACK for them lost) kept a
 * finished endpoint for 2^10 times 3 PTO (tens of seconds on a path with loss). One
 * round of resends doubles it once, whatever it carries and however many datagrams
 * arrive within a PTO; the next round, a PTO or more later, doubles it again. */
static void test_regression_drain_doubles_per_round(void **state)
{
    (void)state;
    pair_t p;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.coalesce = 1;
    handshake(&p, &cfg, &cfg);
    assert_int_equal(rudp_conn_send(p.c, "hi", 2, p.now), 0);
    exchange(&p, 2);

    uint8_t dgram[RUDP_MAX_DATAGRAM];
    for (int i = 0; i < 10; i++)
        assert_int_equal(rudp_conn_send(p.s, "Hola Ana", 8, p.now), 0);
    int n = rudp_conn_prepare(p.s, p.now, dgram, sizeof dgram);
    assert_true(n > 0);
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, dgram, (size_t)n), 0);
    assert_true(h.flags & RUDP_F_COALESCED);
    assert_int_equal(rudp_conn_input(p.c, dgram, (size_t)n, p.now + 50), 0);

    assert_int_equal(rudp_conn_close(p.c, p.now), 0);
    assert_int_equal(rudp_conn_close(p.s, p.now), 0);
    for (int i = 0; i < 10 && rudp_conn_state(p.c) != RUDP_STATE_DRAINING; i++)
        exchange(&p, 1);
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_DRAINING);

    /* The old datagram again: ten duplicate records, one resend. */
    assert_int_equal(rudp_conn_input(p.c, dgram, (size_t)n, p.now), 0);
    assert_int_equal(p.c->drain_fins, 1);
    assert_true(p.c->drain_until <= p.now + 3 * recovery_pto(p.c));
    /* The same round: four more datagrams within the PTO. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(rudp_conn_input(p.c, dgram, (size_t)n, p.now + (uint64_t)i), 0);
    assert_int_equal(p.c->drain_fins, 1);
    assert_true(p.c->drain_until <= p.now + 3 + 3 * recovery_pto(p.c));
    /* The peer's next probe, a backed-off timeout later: a new round. */
    uint64_t later = p.now + 2 * recovery_pto(p.c);
    assert_int_equal(rudp_conn_input(p.c, dgram, (size_t)n, later), 0);
    assert_int_equal(p.c->drain_fins, 2);
    assert_true(p.c->drain_until == later + 6 * recovery_pto(p.c));
    pair_free(&p);
}

/* Regression (fuzz_conn: fin-in-order-through-a-middle-record): the client's FIN was
 * acknowledged, the server's "b" and FIN had arrived past a gap, and a coalesced
 * resend of "a" and "b" filled it. The FIN came in order through "a", a record that was
 * not the datagram's last, and only the last record checked whether both ends were
 * done: the client stayed ESTABLISHED with no timer, for ever. */
static void test_regression_fin_in_order_through_a_middle_record(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    assert_int_equal(rudp_conn_close(p.c, p.now), 0);
    exchange(&p, 3);
    assert_true(rudp_seq_gt(p.c->snd_una, p.c->fin_seq)); /* our FIN is acknowledged */

    uint32_t x = p.c->rcv_nxt;
    uint8_t buf[RUDP_MAX_DATAGRAM];
    size_t n = make_packet(buf, RUDP_T_DATA, 0, x + 1, 0, 0, "b", 1);
    assert_int_equal(rudp_conn_input(p.c, buf, n, p.now), 0);
    n = make_packet(buf, RUDP_T_FIN, 0, x + 2, 0, 0, NULL, 0);
    assert_int_equal(rudp_conn_input(p.c, buf, n, p.now), 0);
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_ESTABLISHED); /* a gap at x */

    static const uint8_t records[] = { 0, 1, 'a', 0, 1, 'b' };
    n = make_packet(buf, RUDP_T_DATA, RUDP_F_COALESCED, x, 0, 0, records, sizeof records);
    assert_int_equal(rudp_conn_input(p.c, buf, n, p.now), 0);
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_DRAINING);
    assert_true(rudp_conn_next_timeout(p.c) < UINT64_MAX);
    char out[4];
    assert_int_equal(rudp_conn_recv(p.c, out, sizeof out), 1);
    assert_int_equal(rudp_conn_recv(p.c, out, sizeof out), 1);
    assert_int_equal(rudp_conn_recv(p.c, out, sizeof out), RUDP_ECLOSED);
    pair_free(&p);
}

static void test_reset_closed_stands_in_for_fin(void **state)
{
    (void)state;
    rudp_config_t cfg;
    cfg_init(&cfg);
    cfg.max_retries = 2;
    cfg.dead_timeout = 0;
    pair_t p = { 0 };
    handshake(&p, &cfg, &cfg);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    char out[8];
    /* The client says one name and closes; the server gets both and answers. */
    rudp_conn_send(p.c, "x", 1, p.now);
    rudp_conn_close(p.c, p.now);
    exchange(&p, 2);
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), 1);
    assert_int_equal(rudp_conn_recv(p.s, out, sizeof out), RUDP_ECLOSED);
    rudp_conn_send(p.s, "y", 1, p.now);
    exchange(&p, 30); /* "y" is delivered and acknowledged */
    assert_int_equal(rudp_conn_recv(p.c, out, sizeof out), 1);
    /* The server closes; every copy of its FIN is lost until it gives up. */
    rudp_conn_close(p.s, p.now);
    int resets = 0, n = 0;
    for (int i = 0; i < 20 && rudp_conn_state(p.s) != RUDP_STATE_CLOSED; i++) {
        uint64_t t = rudp_conn_next_timeout(p.s);
        if (t > p.now)
            p.now = t;
        while ((n = rudp_conn_prepare(p.s, p.now, buf, sizeof buf)) > 0) {
            rudp_hdr_t h;
            assert_int_equal(rudp_wire_decode(&h, buf, (size_t)n), 0);
            if (h.type == RUDP_T_RESET) {
                assert_int_equal(h.payload[0], RUDP_RESET_CLOSED);
                resets++;
                assert_int_equal(rudp_conn_input(p.c, buf, (size_t)n, p.now), 0);
            }
        }
    }
    assert_int_equal(rudp_conn_state(p.s), RUDP_STATE_CLOSED);
    assert_int_equal(rudp_conn_error(p.s), 0);
    assert_int_equal(resets, 1);
    /* The client got the end of stream and a clean close from the RESET. */
    assert_int_equal(rudp_conn_recv(p.c, out, sizeof out), RUDP_ECLOSED);
    assert_int_equal(rudp_conn_state(p.c), RUDP_STATE_CLOSED);
    assert_int_equal(rudp_conn_error(p.c), 0);
    pair_free(&p);
}

static void test_config_validation(void **state)
{
    (void)state;
    rudp_config_t cfg;
    rudp_conn_t *c = NULL;
    cfg_init(&cfg);
    cfg.window = 0;
    assert_int_equal(rudp_conn_new_client(&c, &cfg, 1, 1, 0), RUDP_EINVAL);
    cfg_init(&cfg);
    cfg.window = RUDP_MAX_WINDOW + 1;
    assert_int_equal(rudp_conn_new_client(&c, &cfg, 1, 1, 0), RUDP_EINVAL);
    cfg_init(&cfg);
    cfg.max_rto = cfg.initial_rto - 1;
    assert_int_equal(rudp_conn_new_client(&c, &cfg, 1, 1, 0), RUDP_EINVAL);
    cfg_init(&cfg);
    cfg.window = RUDP_MAX_WINDOW;
    assert_int_equal(rudp_conn_new_client(&c, &cfg, 1, 1, 0), 0);
    assert_non_null(c);
    rudp_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_first_rtt_sample),
        cmocka_unit_test(test_messages_delivered_in_order),
        cmocka_unit_test(test_message_size_limits),
        cmocka_unit_test(test_send_queue_full_is_eagain),
        cmocka_unit_test(test_reorder_and_duplicates),
        cmocka_unit_test(test_sack_bitmap),
        cmocka_unit_test(test_window_one_is_stop_and_wait),
        cmocka_unit_test(test_backoff_and_dead_peer),
        cmocka_unit_test(test_regression_paused_peer_is_not_dead),
        cmocka_unit_test(test_dead_peer_needs_count_and_silence),
        cmocka_unit_test(test_regression_only_fin_left_needs_no_silence),
        cmocka_unit_test(test_regression_second_accept_echoes_newest_initial),
        cmocka_unit_test(test_regression_resent_accept_gives_no_rtt_sample),
        cmocka_unit_test(test_first_initial_and_accept_go_out_three_times),
        cmocka_unit_test(test_accept_copies_stay_within_the_3x_limit),
        cmocka_unit_test(test_second_retry_is_a_duplicate),
        cmocka_unit_test(test_handshake_gives_up),
        cmocka_unit_test(test_unproven_server_sends_at_most_3x),
        cmocka_unit_test(test_reset_from_peer),
        cmocka_unit_test(test_refused_when_full),
        cmocka_unit_test(test_garbage_dropped),
        cmocka_unit_test(test_receive_window),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_ack_policy),
        cmocka_unit_test(test_fast_loss_by_packet_threshold),
        cmocka_unit_test(test_loss_by_time_threshold),
        cmocka_unit_test(test_spurious_retransmission_detected),
        cmocka_unit_test(test_crossing_retransmission_not_premature),
        cmocka_unit_test(test_regression_late_retry_keeps_window),
        cmocka_unit_test(test_regression_reordered_window_is_stale),
        cmocka_unit_test(test_regression_stale_cookie_recovers),
        cmocka_unit_test(test_coalesced_messages),
        cmocka_unit_test(test_coalesced_records_checked),
        cmocka_unit_test(test_max_message),
        cmocka_unit_test(test_short_and_long_buffers),
        cmocka_unit_test(test_short_and_long_buffers_coalesced),
        cmocka_unit_test(test_reset_closed_stands_in_for_fin),
        cmocka_unit_test(test_regression_fin_in_order_through_a_middle_record),
        cmocka_unit_test(test_regression_drain_doubles_per_round),
        cmocka_unit_test(test_config_validation),
    };
    return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
