/* Tests for the stateless front door: cookies (forged, replayed, expired) and its replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "rudp/error.h"
#include "rudp/listen.h"
#include "rudp/wire.h"
#include "siphash.h"

/* The setting of docs/protocol.md's test vectors. */
static const uint8_t KEY[RUDP_COOKIE_KEY_SIZE] = { 0, 1, 2,  3,  4,  5,  6,  7,
                                                   8, 9, 10, 11, 12, 13, 14, 15 };
/* family 2, port 8080, 192.0.2.1 */
static const uint8_t ADDR[8] = { 0x00, 0x02, 0x1f, 0x90, 0xc0, 0x00, 0x02, 0x01 };
/* the same port on 192.0.2.2 */
static const uint8_t OTHER_ADDR[8] = { 0x00, 0x02, 0x1f, 0x90, 0xc0, 0x00, 0x02, 0x02 };
#define CID 0x0123456789abcdefull
#define ISSUED 1000250u
#define LIFETIME 10000000u

static const uint8_t COOKIE[RUDP_COOKIE_SIZE] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x43, 0x3a,
                                                  0x38, 0xdf, 0x9e, 0x55, 0xf6, 0x84, 0xe0, 0x55 };

static const uint8_t V_INITIAL[40] = {
    0x01, 0x01, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x00,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x9d, 0xc0, 0xd9, 0x9b,
};
static const uint8_t V_RETRY[56] = {
    0x01, 0x02, 0x01, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x43, 0x3a, 0x00, 0x0f, 0x42, 0x40,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f,
    0x43, 0x3a, 0x38, 0xdf, 0x9e, 0x55, 0xf6, 0x84, 0xe0, 0x55, 0x4d, 0x21, 0xd2, 0x62,
};
static const uint8_t V_INITIAL_COOKIE[56] = {
    0x01, 0x01, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x00,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x44, 0x34, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f,
    0x43, 0x3a, 0x38, 0xdf, 0x9e, 0x55, 0xf6, 0x84, 0xe0, 0x55, 0x24, 0x75, 0x42, 0x3a,
};
static const uint8_t V_RESET[41] = {
    0x01, 0x07, 0x00, 0x00, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x84, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0xb0, 0xf9, 0xf9,
};

static void flip(uint8_t *p, size_t bit)
{
    p[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
}

/* ---- cookies ------------------------------------------------------------------------ */

/* The cookie is issue time ‖ SipHash-2-4(key, addr ‖ cid ‖ issue time), every integer
 * big-endian, recomputed here from the primitive. */
static void test_cookie_siphash_reference(void **state)
{
    (void)state;
    static const uint64_t cids[] = { CID, 0, UINT64_MAX };
    static const uint64_t times[] = { ISSUED, 0, 0x0102030405060708ull };
    for (size_t i = 0; i < 3; i++) {
        for (size_t k = 0; k < 3; k++) {
            for (size_t alen = 0; alen <= sizeof ADDR; alen += 4) {
                uint8_t msg[sizeof ADDR + 16];
                memcpy(msg, ADDR, alen);
                rudp_put64(msg + alen, cids[i]);
                rudp_put64(msg + alen + 8, times[k]);
                uint8_t want[RUDP_COOKIE_SIZE];
                rudp_put64(want, times[k]);
                rudp_put64(want + 8, rudp_siphash24(KEY, msg, alen + 16));

                uint8_t got[RUDP_COOKIE_SIZE];
                rudp_cookie_make(KEY, ADDR, alen, cids[i], times[k], got);
                assert_memory_equal(got, want, RUDP_COOKIE_SIZE);
            }
        }
    }
    /* And the value docs/protocol.md shows in its RETRY vector. */
    uint8_t got[RUDP_COOKIE_SIZE];
    rudp_cookie_make(KEY, ADDR, sizeof ADDR, CID, ISSUED, got);
    assert_memory_equal(got, COOKIE, RUDP_COOKIE_SIZE);
}

static void test_cookie_valid_within_lifetime(void **state)
{
    (void)state;
    static const uint64_t ages[] = { 0, 1, 1000, LIFETIME - 1, LIFETIME };
    for (size_t i = 0; i < sizeof ages / sizeof ages[0]; i++)
        assert_int_equal(
            rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, ISSUED + ages[i], LIFETIME, COOKIE), 0);
}

static void test_cookie_expired_or_future(void **state)
{
    (void)state;
    /* now - issued > lifetime: expired. */
    assert_int_equal(
        rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, ISSUED + LIFETIME + 1, LIFETIME, COOKIE),
        RUDP_ETIMEDOUT);
    assert_int_equal(rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, UINT64_MAX, LIFETIME, COOKIE),
                     RUDP_ETIMEDOUT);
    /* issued > now: from the future. */
    assert_int_equal(rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, ISSUED - 1, LIFETIME, COOKIE),
                     RUDP_ETIMEDOUT);
    assert_int_equal(rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, 0, LIFETIME, COOKIE),
                     RUDP_ETIMEDOUT);
    /* A lifetime of 0 accepts only the very microsecond of issue. */
    assert_int_equal(rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, ISSUED, 0, COOKIE), 0);
    assert_int_equal(rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, ISSUED + 1, 0, COOKIE),
                     RUDP_ETIMEDOUT);
}

/* Any of the 128 bits flipped is a forgery: the MAC half fails directly, and the time
 * half is covered by the MAC, so a client cannot extend its own cookie. */
static void test_cookie_forged_every_bit(void **state)
{
    (void)state;
    for (size_t bit = 0; bit < RUDP_COOKIE_SIZE * 8; bit++) {
        uint8_t c[RUDP_COOKIE_SIZE];
        memcpy(c, COOKIE, sizeof c);
        flip(c, bit);
        assert_int_equal(rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, ISSUED, LIFETIME, c),
                         RUDP_ECOOKIE);
    }
    /* The MAC is checked before the time: a forged, expired cookie is still a forgery. */
    uint8_t c[RUDP_COOKIE_SIZE];
    memcpy(c, COOKIE, sizeof c);
    flip(c, 127);
    assert_int_equal(
        rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, ISSUED + LIFETIME + 1, LIFETIME, c),
        RUDP_ECOOKIE);
    /* Another server key. */
    uint8_t key2[RUDP_COOKIE_KEY_SIZE];
    memcpy(key2, KEY, sizeof key2);
    key2[15] ^= 1;
    assert_int_equal(rudp_cookie_check(key2, ADDR, sizeof ADDR, CID, ISSUED, LIFETIME, COOKIE),
                     RUDP_ECOOKIE);
}

/* A cookie replayed from any other address (one bit apart, or shorter) is refused. */
static void test_cookie_other_address(void **state)
{
    (void)state;
    for (size_t bit = 0; bit < sizeof ADDR * 8; bit++) {
        uint8_t a[sizeof ADDR];
        memcpy(a, ADDR, sizeof a);
        flip(a, bit);
        assert_int_equal(rudp_cookie_check(KEY, a, sizeof a, CID, ISSUED, LIFETIME, COOKIE),
                         RUDP_ECOOKIE);
    }
    for (size_t len = 0; len < sizeof ADDR; len++)
        assert_int_equal(rudp_cookie_check(KEY, ADDR, len, CID, ISSUED, LIFETIME, COOKIE),
                         RUDP_ECOOKIE);
}

static void test_cookie_other_cid(void **state)
{
    (void)state;
    for (unsigned bit = 0; bit < 64; bit++)
        assert_int_equal(rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID ^ (1ull << bit), ISSUED,
                                           LIFETIME, COOKIE),
                         RUDP_ECOOKIE);
}

/* ---- rudp_listener_input -------------------------------------------------------------- */

static void listener(rudp_listener_t *l)
{
    rudp_listener_init(l, KEY, 0);
    assert_int_equal(l->cookie_lifetime, RUDP_DEFAULT_COOKIE_LIFETIME);
    assert_int_equal(RUDP_DEFAULT_COOKIE_LIFETIME, LIFETIME);
}

/* Feeds one datagram and checks the amplification bound on whatever comes back. */
static int feed(rudp_listener_t *l, const uint8_t *d, size_t len, const uint8_t *addr, uint64_t now,
                rudp_hdr_t *hdr, uint8_t *reply, size_t *reply_len)
{
    *reply_len = 0;
    int v = rudp_listener_input(l, d, len, addr, sizeof ADDR, now, hdr, reply, RUDP_MAX_DATAGRAM,
                                reply_len);
    if (v == RUDP_LISTEN_REPLY) {
        assert_true(*reply_len > 0);
        assert_true(*reply_len <= 3 * len); /* RFC 9000 §8.1 */
    } else {
        assert_int_equal(*reply_len, 0);
    }
    return v;
}

static void assert_counters(const rudp_listener_t *l, uint64_t retries, uint64_t bad,
                            uint64_t expired, uint64_t resets, uint64_t garbage, uint64_t ignored)
{
    assert_int_equal(l->retries_sent, retries);
    assert_int_equal(l->cookies_bad, bad);
    assert_int_equal(l->cookies_expired, expired);
    assert_int_equal(l->resets_sent, resets);
    assert_int_equal(l->garbage, garbage);
    assert_int_equal(l->ignored, ignored);
}

static void test_initial_gets_retry(void **state)
{
    (void)state;
    rudp_listener_t l;
    listener(&l);
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n;
    assert_int_equal(feed(&l, V_INITIAL, sizeof V_INITIAL, ADDR, ISSUED, &hdr, reply, &n),
                     RUDP_LISTEN_REPLY);
    /* Exactly the RETRY vector of docs/protocol.md. */
    assert_int_equal(n, sizeof V_RETRY);
    assert_memory_equal(reply, V_RETRY, sizeof V_RETRY);

    rudp_hdr_t r;
    assert_int_equal(rudp_wire_decode(&r, reply, n), 0);
    assert_int_equal(r.type, RUDP_T_RETRY);
    assert_true(r.cid == CID);
    assert_int_equal(r.flags, RUDP_F_ACK);
    assert_int_equal(r.ts, ISSUED);
    assert_int_equal(r.ts_echo, 1000000); /* the INITIAL's ts */
    assert_int_equal(r.payload_len, RUDP_COOKIE_SIZE);
    assert_memory_equal(r.payload, COOKIE, RUDP_COOKIE_SIZE);
    assert_true(n <= 3 * sizeof V_INITIAL);
    assert_counters(&l, 1, 0, 0, 0, 0, 0);
}

/* Not under load (require_retry 0), a cookieless INITIAL is accepted at once; a cookie,
 * when one comes, is still checked, and a forged one still dropped. */
static void test_initial_accepted_at_once_unless_required(void **state)
{
    (void)state;
    rudp_listener_t l;
    listener(&l);
    assert_int_equal(l.require_retry, 1); /* the safe default */
    l.require_retry = 0;
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n = 0;
    assert_int_equal(feed(&l, V_INITIAL, sizeof V_INITIAL, ADDR, ISSUED, &hdr, reply, &n),
                     RUDP_LISTEN_ACCEPT);
    assert_int_equal(n, 0);
    assert_int_equal(hdr.payload_len, 0);
    assert_int_equal(l.accepted_unproven, 1);
    assert_counters(&l, 0, 0, 0, 0, 0, 0);

    /* A cookie with a wrong MAC under a correct CRC (re-encoded). */
    uint8_t forged[sizeof V_INITIAL_COOKIE];
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE), 0);
    uint8_t bad_cookie[RUDP_COOKIE_SIZE];
    memcpy(bad_cookie, h.payload, sizeof bad_cookie);
    bad_cookie[15] ^= 1;
    h.payload = bad_cookie;
    assert_int_equal(rudp_wire_encode(&h, forged, sizeof forged), (int)sizeof forged);
    assert_int_equal(feed(&l, forged, sizeof forged, ADDR, ISSUED + 100, &hdr, reply, &n),
                     RUDP_LISTEN_DROP);
    assert_int_equal(l.cookies_bad, 1);

    l.require_retry = 1;
    assert_int_equal(feed(&l, V_INITIAL, sizeof V_INITIAL, ADDR, ISSUED, &hdr, reply, &n),
                     RUDP_LISTEN_REPLY);
    assert_int_equal(l.retries_sent, 1);
    assert_int_equal(l.accepted_unproven, 1);
}

static void test_initial_with_cookie_is_accepted(void **state)
{
    (void)state;
    rudp_listener_t l;
    listener(&l);
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n;
    memset(&hdr, 0, sizeof hdr);
    assert_int_equal(
        feed(&l, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE, ADDR, 1000750, &hdr, reply, &n),
        RUDP_LISTEN_ACCEPT);
    assert_int_equal(hdr.type, RUDP_T_INITIAL);
    assert_true(hdr.cid == CID);
    assert_int_equal(hdr.seq, 0x1000);
    assert_int_equal(hdr.ts, 1000500);
    assert_int_equal(hdr.rwnd, 64);
    assert_int_equal(hdr.payload_len, RUDP_COOKIE_SIZE);
    assert_ptr_equal(hdr.payload, V_INITIAL_COOKIE + RUDP_HEADER_SIZE);
    assert_counters(&l, 0, 0, 0, 0, 0, 0);
    /* Still valid at the last microsecond of its lifetime (a fresh listener: to this
     * one, the same cookie again is a replay). */
    listener(&l);
    assert_int_equal(feed(&l, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE, ADDR, ISSUED + LIFETIME,
                          &hdr, reply, &n),
                     RUDP_LISTEN_ACCEPT);
}

/* The whole exchange through the listener, with a cookie it issued itself. */
static void test_retry_cookie_round_trip(void **state)
{
    (void)state;
    rudp_listener_t l;
    uint8_t key[RUDP_COOKIE_KEY_SIZE];
    memset(key, 0x3c, sizeof key);
    rudp_listener_init(&l, key, 5000);
    assert_int_equal(l.cookie_lifetime, 5000);
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n;
    assert_int_equal(feed(&l, V_INITIAL, sizeof V_INITIAL, ADDR, 777, &hdr, reply, &n),
                     RUDP_LISTEN_REPLY);
    rudp_hdr_t r;
    assert_int_equal(rudp_wire_decode(&r, reply, n), 0);
    assert_int_equal(r.type, RUDP_T_RETRY);
    assert_int_equal(rudp_get64(r.payload), 777); /* the issue time, big-endian */

    rudp_hdr_t ini = { .type = RUDP_T_INITIAL,
                       .cid = CID,
                       .seq = 42,
                       .ts = 900,
                       .rwnd = 8,
                       .payload_len = RUDP_COOKIE_SIZE,
                       .payload = r.payload };
    uint8_t dg[64];
    int len = rudp_wire_encode(&ini, dg, sizeof dg);
    assert_int_equal(len, 56);
    assert_int_equal(feed(&l, dg, (size_t)len, ADDR, 777 + 5000, &hdr, reply, &n),
                     RUDP_LISTEN_ACCEPT);
    assert_int_equal(hdr.seq, 42);
    assert_int_equal(hdr.rwnd, 8);
    assert_int_equal(feed(&l, dg, (size_t)len, ADDR, 777 + 5001, &hdr, reply, &n),
                     RUDP_LISTEN_REPLY); /* expired by now: challenged again */
    assert_counters(&l, 2, 0, 1, 0, 0, 0);
}

static void test_cookie_from_other_address_dropped(void **state)
{
    (void)state;
    rudp_listener_t l;
    listener(&l);
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n;
    assert_int_equal(
        feed(&l, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE, OTHER_ADDR, 1000500, &hdr, reply, &n),
        RUDP_LISTEN_DROP);
    assert_counters(&l, 0, 1, 0, 0, 0, 0);
    /* A forged MAC (last bit flipped, CRC made right again) is dropped the same way. */
    uint8_t dg[sizeof V_INITIAL_COOKIE];
    memcpy(dg, V_INITIAL_COOKIE, sizeof dg);
    flip(dg, (36 + 16) * 8 - 1);
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, dg, sizeof dg), RUDP_ECHECKSUM);
    h = (rudp_hdr_t){ .type = RUDP_T_INITIAL,
                      .cid = CID,
                      .seq = 0x1000,
                      .payload_len = RUDP_COOKIE_SIZE,
                      .payload = dg + RUDP_HEADER_SIZE };
    uint8_t forged[64];
    int len = rudp_wire_encode(&h, forged, sizeof forged);
    assert_int_equal(len, 56);
    assert_int_equal(feed(&l, forged, (size_t)len, ADDR, 1000500, &hdr, reply, &n),
                     RUDP_LISTEN_DROP);
    assert_counters(&l, 0, 2, 0, 0, 0, 0);
}

static void test_expired_cookie_gets_new_retry(void **state)
{
    (void)state;
    static const uint64_t nows[] = { ISSUED + LIFETIME + 1, ISSUED - 1 /* from the future */ };
    for (size_t i = 0; i < 2; i++) {
        rudp_listener_t l;
        listener(&l);
        rudp_hdr_t hdr;
        uint8_t reply[RUDP_MAX_DATAGRAM];
        size_t n;
        assert_int_equal(
            feed(&l, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE, ADDR, nows[i], &hdr, reply, &n),
            RUDP_LISTEN_REPLY);
        assert_counters(&l, 1, 0, 1, 0, 0, 0);
        rudp_hdr_t r;
        assert_int_equal(rudp_wire_decode(&r, reply, n), 0);
        assert_int_equal(r.type, RUDP_T_RETRY);
        assert_int_equal(r.ts_echo, 1000500);
        assert_int_equal(rudp_get64(r.payload), nows[i]); /* a fresh cookie, issued now */
        assert_int_equal(
            rudp_cookie_check(KEY, ADDR, sizeof ADDR, CID, nows[i], LIFETIME, r.payload), 0);
    }
}

/* A datagram of the given type for an unknown connection, valid on the wire. */
static size_t make_dgram(uint8_t *buf, uint8_t type, uint64_t cid, uint8_t flags, uint8_t sack_len)
{
    static const uint8_t sack[RUDP_MAX_SACK_BYTES] = { 0x80 };
    static const uint8_t payload[RUDP_MAX_PAYLOAD] = { 0 };
    uint16_t plen = 0;
    if (type == RUDP_T_DATA)
        plen = 5;
    else if (type == RUDP_T_RESET)
        plen = 1;
    else if (type == RUDP_T_RETRY)
        plen = RUDP_COOKIE_SIZE;
    rudp_hdr_t h = { .type = type,
                     .flags = flags,
                     .sack_len = sack_len,
                     .cid = cid,
                     .seq = 7,
                     .ack = 9,
                     .ts = 123,
                     .rwnd = 4,
                     .payload_len = plen,
                     .sack = sack_len ? sack : NULL,
                     .payload = plen ? payload : NULL };
    int n = rudp_wire_encode(&h, buf, RUDP_MAX_DATAGRAM);
    assert_true(n > 0);
    return (size_t)n;
}

static void test_unknown_connection_gets_reset(void **state)
{
    (void)state;
    static const uint8_t types[] = { RUDP_T_DATA, RUDP_T_ACK, RUDP_T_FIN };
    rudp_listener_t l;
    listener(&l);
    uint64_t resets = 0;
    for (size_t t = 0; t < sizeof types; t++) {
        for (int form = 0; form < 3; form++) {
            uint8_t dg[RUDP_MAX_DATAGRAM];
            size_t len = make_dgram(dg, types[t], 0xfedcba9876543210ull, form ? RUDP_F_ACK : 0,
                                    form == 2 ? (uint8_t)RUDP_MAX_SACK_BYTES : 0);
            rudp_hdr_t hdr;
            uint8_t reply[RUDP_MAX_DATAGRAM];
            size_t n;
            assert_int_equal(feed(&l, dg, len, ADDR, 2000000, &hdr, reply, &n), RUDP_LISTEN_REPLY);
            resets++;
            /* Exactly the RESET vector of docs/protocol.md, whatever it answers. */
            assert_int_equal(n, sizeof V_RESET);
            assert_memory_equal(reply, V_RESET, sizeof V_RESET);
            rudp_hdr_t r;
            assert_int_equal(rudp_wire_decode(&r, reply, n), 0);
            assert_int_equal(r.type, RUDP_T_RESET);
            assert_true(r.cid == 0xfedcba9876543210ull);
            assert_int_equal(r.payload_len, 1);
            assert_int_equal(r.payload[0], RUDP_RESET_UNKNOWN);
        }
    }
    assert_counters(&l, 0, 0, 0, resets, 0, 0);
}

/* A RESET never answers a RESET, nor a stray RETRY or ACCEPT: no loops between servers. */
static void test_no_reply_to_reset_retry_accept(void **state)
{
    (void)state;
    static const uint8_t types[] = { RUDP_T_RESET, RUDP_T_RETRY, RUDP_T_ACCEPT };
    rudp_listener_t l;
    listener(&l);
    for (size_t t = 0; t < sizeof types; t++) {
        for (int ackf = 0; ackf <= 1; ackf++) {
            uint8_t dg[RUDP_MAX_DATAGRAM];
            size_t len = make_dgram(dg, types[t], 0x55, ackf ? RUDP_F_ACK : 0, 0);
            rudp_hdr_t hdr;
            uint8_t reply[RUDP_MAX_DATAGRAM];
            size_t n;
            assert_int_equal(feed(&l, dg, len, ADDR, 5, &hdr, reply, &n), RUDP_LISTEN_DROP);
        }
    }
    /* The listener's own RESET fed back to it. */
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n;
    assert_int_equal(feed(&l, V_RESET, sizeof V_RESET, ADDR, 5, &hdr, reply, &n), RUDP_LISTEN_DROP);
    assert_counters(&l, 0, 0, 0, 0, 0, 7);
}

static void test_garbage_counted_not_answered(void **state)
{
    (void)state;
    rudp_listener_t l;
    listener(&l);
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n;
    uint64_t garbage = 0;
    /* Every truncation of the INITIAL. */
    for (size_t len = 0; len < sizeof V_INITIAL; len++) {
        assert_int_equal(feed(&l, V_INITIAL, len, ADDR, 1, &hdr, reply, &n), RUDP_EMALFORMED);
        garbage++;
    }
    /* Every single-bit flip of the INITIAL: never an answer, always counted. */
    for (size_t bit = 0; bit < sizeof V_INITIAL * 8; bit++) {
        uint8_t dg[sizeof V_INITIAL];
        memcpy(dg, V_INITIAL, sizeof dg);
        flip(dg, bit);
        int v = feed(&l, dg, sizeof dg, ADDR, 1, &hdr, reply, &n);
        assert_true(v == RUDP_ECHECKSUM || v == RUDP_EMALFORMED || v == RUDP_EVERSION);
        garbage++;
    }
    /* A version 2 datagram and plain noise. */
    uint8_t dg[64];
    memcpy(dg, V_INITIAL, sizeof V_INITIAL);
    dg[0] = 2;
    assert_int_equal(feed(&l, dg, sizeof V_INITIAL, ADDR, 1, &hdr, reply, &n), RUDP_EVERSION);
    garbage++;
    for (size_t i = 0; i < sizeof dg; i++)
        dg[i] = (uint8_t)(i * 37 + 1);
    dg[0] = RUDP_VERSION;
    assert_int_equal(feed(&l, dg, sizeof dg, ADDR, 1, &hdr, reply, &n), RUDP_EMALFORMED);
    garbage++;
    assert_counters(&l, 0, 0, 0, 0, garbage, 0);
}

/* The smallest datagram of each answered kind (40 bytes, 45 for this DATA) and the
 * largest: no answer exceeds 3x what it answers. */
static void test_amplification_bound(void **state)
{
    (void)state;
    static const uint8_t types[] = { RUDP_T_INITIAL, RUDP_T_DATA, RUDP_T_ACK, RUDP_T_FIN };
    rudp_listener_t l;
    listener(&l);
    for (size_t t = 0; t < sizeof types; t++) {
        for (int big = 0; big <= 1; big++) {
            uint8_t dg[RUDP_MAX_DATAGRAM];
            size_t len = make_dgram(dg, types[t], 99, big ? RUDP_F_ACK : 0,
                                    big ? (uint8_t)RUDP_MAX_SACK_BYTES : 0);
            rudp_hdr_t hdr;
            uint8_t reply[RUDP_MAX_DATAGRAM];
            size_t n;
            /* feed() checks reply_len <= 3 * len on every reply. */
            assert_int_equal(feed(&l, dg, len, ADDR, 10, &hdr, reply, &n), RUDP_LISTEN_REPLY);
            assert_int_equal(len, big ? 36 + 128 + (types[t] == RUDP_T_DATA ? 5 : 0) + 4
                                      : 40 + (types[t] == RUDP_T_DATA ? 5 : 0));
            assert_int_equal(n, types[t] == RUDP_T_INITIAL ? 56 : 41);
        }
    }
}

/* An INITIAL carrying cookie c for connection cid, as a client sends it after a RETRY. */
static size_t initial_with(uint8_t *buf, uint64_t cid, const uint8_t c[RUDP_COOKIE_SIZE])
{
    rudp_hdr_t h = { .type = RUDP_T_INITIAL,
                     .cid = cid,
                     .seq = 7,
                     .rwnd = 64,
                     .payload_len = RUDP_COOKIE_SIZE,
                     .payload = c };
    int n = rudp_wire_encode(&h, buf, RUDP_MAX_DATAGRAM);
    assert_true(n > 0);
    return (size_t)n;
}

/* A copy of an INITIAL whose cookie opened a connection (say, replayed from the client's
 * address after it left) opens no second one, for as long as the cookie is valid. */
static void test_cookie_opens_one_connection(void **state)
{
    (void)state;
    rudp_listener_t l;
    listener(&l);
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n;
    assert_int_equal(
        feed(&l, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE, ADDR, 1000750, &hdr, reply, &n),
        RUDP_LISTEN_ACCEPT);
    for (uint64_t t = 1000751; t <= ISSUED + LIFETIME; t += LIFETIME / 4) {
        assert_int_equal(
            feed(&l, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE, ADDR, t, &hdr, reply, &n),
            RUDP_LISTEN_DROP);
    }
    assert_int_equal(l.cookies_replayed, 4);
    assert_counters(&l, 0, 0, 0, 0, 0, 0);
    /* Once expired, it earns a fresh challenge like any stale cookie, not a connection. */
    assert_int_equal(feed(&l, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE, ADDR,
                          ISSUED + LIFETIME + 1, &hdr, reply, &n),
                     RUDP_LISTEN_REPLY);
    assert_int_equal(l.cookies_expired, 1);
}

/* A set of the replay cache full of live cookies forgets the oldest, and from then on
 * refuses it (and anything as old) with a fresh RETRY: no cookie is ever used twice. */
static void test_replay_cache_full_set_refuses_what_it_forgets(void **state)
{
    (void)state;
    rudp_listener_t l;
    listener(&l);
    uint8_t cookie[RUDP_REPLAY_WAYS + 1][RUDP_COOKIE_SIZE];
    uint64_t cids[RUDP_REPLAY_WAYS + 1];
    uint32_t want_set = 0, found = 0;
    /* Cookies issued at 1000, 1001, ... whose MACs fall in one set. */
    for (uint64_t cid = 1; found <= RUDP_REPLAY_WAYS && cid < 100000; cid++) {
        uint8_t c[RUDP_COOKIE_SIZE];
        rudp_cookie_make(KEY, ADDR, sizeof ADDR, cid, 1000 + found, c);
        uint32_t set = (uint32_t)(rudp_get64(c + 8) % RUDP_REPLAY_SETS);
        if (found == 0)
            want_set = set;
        if (set != want_set)
            continue;
        memcpy(cookie[found], c, sizeof c);
        cids[found++] = cid;
    }
    assert_int_equal(found, RUDP_REPLAY_WAYS + 1);
    uint8_t dg[RUDP_MAX_DATAGRAM], reply[RUDP_MAX_DATAGRAM];
    rudp_hdr_t hdr;
    size_t n;
    for (uint32_t i = 0; i <= RUDP_REPLAY_WAYS; i++) {
        size_t len = initial_with(dg, cids[i], cookie[i]);
        assert_int_equal(feed(&l, dg, len, ADDR, 5000, &hdr, reply, &n), RUDP_LISTEN_ACCEPT);
    }
    assert_int_equal(l.replay_evicted, 1);
    /* The first was forgotten: it gets a RETRY, never a second connection. */
    size_t len = initial_with(dg, cids[0], cookie[0]);
    assert_int_equal(feed(&l, dg, len, ADDR, 6000, &hdr, reply, &n), RUDP_LISTEN_REPLY);
    assert_int_equal(l.retries_sent, 1);
    /* The others are still remembered. */
    for (uint32_t i = 1; i <= RUDP_REPLAY_WAYS; i++) {
        len = initial_with(dg, cids[i], cookie[i]);
        assert_int_equal(feed(&l, dg, len, ADDR, 6000, &hdr, reply, &n), RUDP_LISTEN_DROP);
    }
    assert_int_equal(l.cookies_replayed, RUDP_REPLAY_WAYS);
}

static void test_refuse_gives_reset_full(void **state)
{
    (void)state;
    rudp_hdr_t ini;
    assert_int_equal(rudp_wire_decode(&ini, V_INITIAL_COOKIE, sizeof V_INITIAL_COOKIE), 0);
    uint8_t reply[64];
    assert_int_equal(rudp_listener_refuse(&ini, 3000000, reply, sizeof reply), 41);
    rudp_hdr_t r;
    assert_int_equal(rudp_wire_decode(&r, reply, 41), 0);
    assert_int_equal(r.type, RUDP_T_RESET);
    assert_true(r.cid == CID);
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.ts, 3000000);
    assert_int_equal(r.payload_len, 1);
    assert_int_equal(r.payload[0], RUDP_RESET_FULL);
    assert_int_equal(rudp_listener_refuse(&ini, 3000000, reply, 40), RUDP_EBUFSIZE);
}

static void test_listen_argument_limits(void **state)
{
    (void)state;
    rudp_listener_t l;
    listener(&l);
    rudp_hdr_t hdr;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t n = 0;
    /* Addresses longer than 64 bytes are refused. */
    uint8_t addr[65] = { 0 };
    assert_int_equal(rudp_listener_input(&l, V_INITIAL, sizeof V_INITIAL, addr, 65, 1, &hdr, reply,
                                         sizeof reply, &n),
                     RUDP_EINVAL);
    assert_int_equal(rudp_listener_input(&l, V_INITIAL, sizeof V_INITIAL, addr, 64, 1, &hdr, reply,
                                         sizeof reply, &n),
                     RUDP_LISTEN_REPLY);
    /* A reply buffer too small for the RETRY: nothing sent, nothing counted. */
    assert_int_equal(rudp_listener_input(&l, V_INITIAL, sizeof V_INITIAL, ADDR, sizeof ADDR, 1,
                                         &hdr, reply, 55, &n),
                     RUDP_EBUFSIZE);
    assert_counters(&l, 1, 0, 0, 0, 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_siphash_reference),
        cmocka_unit_test(test_cookie_valid_within_lifetime),
        cmocka_unit_test(test_cookie_expired_or_future),
        cmocka_unit_test(test_cookie_forged_every_bit),
        cmocka_unit_test(test_cookie_other_address),
        cmocka_unit_test(test_cookie_other_cid),
        cmocka_unit_test(test_initial_gets_retry),
        cmocka_unit_test(test_initial_accepted_at_once_unless_required),
        cmocka_unit_test(test_initial_with_cookie_is_accepted),
        cmocka_unit_test(test_retry_cookie_round_trip),
        cmocka_unit_test(test_cookie_from_other_address_dropped),
        cmocka_unit_test(test_expired_cookie_gets_new_retry),
        cmocka_unit_test(test_unknown_connection_gets_reset),
        cmocka_unit_test(test_no_reply_to_reset_retry_accept),
        cmocka_unit_test(test_garbage_counted_not_answered),
        cmocka_unit_test(test_amplification_bound),
        cmocka_unit_test(test_refuse_gives_reset_full),
        cmocka_unit_test(test_cookie_opens_one_connection),
        cmocka_unit_test(test_replay_cache_full_set_refuses_what_it_forgets),
        cmocka_unit_test(test_listen_argument_limits),
    };
    return cmocka_run_group_tests_name("listen", tests, NULL, NULL);
}
