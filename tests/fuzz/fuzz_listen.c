/* Fuzz target: the server's stateless front door (rudp_listener_input, docs/protocol.md
 * section 7). Input: mode (1 byte), now (8), address length (1) and bytes, then the
 * datagram. Mode bits let the fuzzer past the CRC and the MAC it cannot guess:
 *   0x01 recompute the CRC trailer;
 *   0x02 plant a cookie (in an INITIAL of the right size) made for this address and
 *        connection ID, aged by the header's ack field; with 0x04 for a neighbouring
 *        address instead, with 0x08 for the neighbouring cid.
 * Checked, for every input:
 *   - every reply is one valid datagram of at most 3x the input, to the same cid: a
 *     RETRY for an INITIAL, a RESET for DATA/ACK/FIN, nothing for RESET/RETRY/ACCEPT
 *     or garbage;
 *   - ACCEPT only for an INITIAL whose cookie equals the one this test computes itself
 *     for that address, cid and issue time, within its lifetime;
 *   - no state but the replay cache: a listener that has seen every earlier input
 *     answers like a fresh one, and the same input twice gets the same answer, except
 *     that an accepted cookie is never accepted again by the same listener. */
#include <string.h>

#include "crc32c.h"
#include "fuzz.h"
#include "rudp/error.h"
#include "rudp/listen.h"
#include "rudp/wire.h"

static const uint8_t key[RUDP_COOKIE_KEY_SIZE] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, /* docs/protocol.md §14 */
};
#define LIFETIME 10000000u

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void fix_crc(uint8_t *d, size_t len)
{
    if (len >= RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE)
        put32(d + len - 4, rudp_crc32c(0, d, len - 4));
}

struct answer {
    int verdict;
    size_t reply_len;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    rudp_hdr_t hdr;
};

static void ask(rudp_listener_t *l, const uint8_t *d, size_t len, const uint8_t *addr,
                size_t addrlen, uint64_t now, struct answer *a)
{
    memset(a, 0, sizeof *a);
    a->reply_len = (size_t)-1;
    a->verdict = rudp_listener_input(l, d, len, addr, addrlen, now, &a->hdr, a->reply,
                                     sizeof a->reply, &a->reply_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rudp_listener_t seasoned; /* sees every input of the run: must not matter */
    static int seasoned_ready;
    if (!seasoned_ready) {
        rudp_listener_init(&seasoned, key, LIFETIME);
        seasoned_ready = 1;
    }

    fuzz_in_t in = { data, size, 0 };
    uint8_t mode = fuzz_u8(&in);
    uint64_t now = fuzz_u64(&in);
    uint8_t addrlen_raw = fuzz_u8(&in);
    size_t addrlen = addrlen_raw & 0x7F; /* 0..127: over 64 must be refused */
    uint8_t addr[128] = { 0 };
    const uint8_t *p;
    size_t got = fuzz_bytes(&in, &p, addrlen);
    memcpy(addr, p, got);
    size_t len = fuzz_bytes(&in, &p, RUDP_MAX_DATAGRAM + 64);
    uint8_t *d = malloc(len ? len : 1); /* exact size: ASan sees any overread */
    if (!d)
        return 0;
    memcpy(d, p, len);

    int planted_elsewhere = 0;
    if ((mode & 0x02) && len == RUDP_HEADER_SIZE + RUDP_COOKIE_SIZE + RUDP_TRAILER_SIZE &&
        d[1] == RUDP_T_INITIAL) {
        uint64_t cid = get64(d + 4);
        uint8_t other[128];
        memcpy(other, addr, sizeof other);
        if (mode & 0x04)
            other[addrlen ? addrlen - 1 : 0] ^= 0x01;
        /* The cookie's age: read from the SACK-free header's ack field, so both fresh
         * and stale (and future) cookies are in reach. */
        uint32_t age = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
        rudp_cookie_make(key, (mode & 0x04) ? other : addr, (mode & 0x04) && !addrlen ? 1 : addrlen,
                         (mode & 0x08) ? cid ^ 1 : cid, now - age, d + RUDP_HEADER_SIZE);
        planted_elsewhere = (mode & 0x0C) != 0;
    }
    if (mode & 0x01)
        fix_crc(d, len);

    rudp_listener_t fresh;
    rudp_listener_init(&fresh, key, LIFETIME);
    static struct answer a, b, c;
    ask(&fresh, d, len, addr, addrlen, now, &a);
    ask(&fresh, d, len, addr, addrlen, now, &b);
    ask(&seasoned, d, len, addr, addrlen, now, &c);

    /* No state but the replay cache: the same answer from a listener that saw it
     * before and from one that saw everything else, except that a cookie that opened a
     * connection opens no second one (dropped as a replay, or, by a seasoned listener
     * whose cache set forgot it, challenged with a fresh RETRY). */
    if (a.verdict == RUDP_LISTEN_ACCEPT) {
        FUZZ_CHECK(b.verdict == RUDP_LISTEN_DROP && fresh.cookies_replayed == 1,
                   "a cookie accepted twice (%d)", b.verdict);
        FUZZ_CHECK(c.verdict == RUDP_LISTEN_ACCEPT || c.verdict == RUDP_LISTEN_DROP ||
                       c.verdict == RUDP_LISTEN_REPLY,
                   "seasoned verdict %d", c.verdict);
    } else {
        FUZZ_CHECK(a.verdict == b.verdict && a.verdict == c.verdict, "verdicts %d, %d, %d",
                   a.verdict, b.verdict, c.verdict);
        FUZZ_CHECK(a.reply_len == b.reply_len && a.reply_len == c.reply_len, "reply lengths");
    }
    if (a.verdict == RUDP_LISTEN_REPLY) {
        FUZZ_CHECK(memcmp(a.reply, b.reply, a.reply_len) == 0 &&
                       memcmp(a.reply, c.reply, a.reply_len) == 0,
                   "replies differ");
    }
    FUZZ_CHECK(memcmp(fresh.key, key, sizeof key) == 0 && fresh.cookie_lifetime == LIFETIME,
               "the listener's key or lifetime changed");

    rudp_hdr_t in_h;
    int in_rc = rudp_wire_decode(&in_h, d, len);

    if (a.verdict < 0) {
        FUZZ_CHECK(a.reply_len == (size_t)-1, "reply length set on an error");
        FUZZ_CHECK(in_rc != 0 || addrlen > 64, "a valid datagram refused with %d", a.verdict);
        FUZZ_CHECK(in_rc == 0 || a.verdict == in_rc, "error %d, decode says %d", a.verdict, in_rc);
        free(d);
        return 0;
    }
    FUZZ_CHECK(in_rc == 0, "garbage (decode %d) got verdict %d", in_rc, a.verdict);
    FUZZ_CHECK(addrlen <= 64, "address of %zu bytes accepted", addrlen);

    switch (a.verdict) {
    case RUDP_LISTEN_DROP:
        FUZZ_CHECK(a.reply_len == (size_t)-1, "reply length set on DROP");
        /* An INITIAL is dropped only for a forged cookie. */
        if (in_h.type == RUDP_T_INITIAL) {
            FUZZ_CHECK(in_h.payload_len == RUDP_COOKIE_SIZE, "cookie-less INITIAL dropped");
            FUZZ_CHECK(rudp_cookie_check(key, addr, addrlen, in_h.cid, now, LIFETIME,
                                         in_h.payload) == RUDP_ECOOKIE,
                       "INITIAL with a genuine cookie dropped");
        } else {
            FUZZ_CHECK(in_h.type == RUDP_T_RESET || in_h.type == RUDP_T_RETRY ||
                           in_h.type == RUDP_T_ACCEPT,
                       "type %u dropped", in_h.type);
        }
        break;
    case RUDP_LISTEN_REPLY: {
        FUZZ_CHECK(a.reply_len <= 3 * len, "reply of %zu bytes to %zu", a.reply_len, len);
        rudp_hdr_t r;
        int rc = rudp_wire_decode(&r, a.reply, a.reply_len);
        FUZZ_CHECK(rc == 0, "the reply does not decode (%d)", rc);
        FUZZ_CHECK(r.cid == in_h.cid, "the reply names another connection");
        if (in_h.type == RUDP_T_INITIAL) {
            FUZZ_CHECK(r.type == RUDP_T_RETRY, "INITIAL answered with type %u", r.type);
            FUZZ_CHECK(r.ts_echo == in_h.ts, "RETRY does not echo the INITIAL's ts");
            /* The cookie it hands out is valid for exactly this address and cid. */
            FUZZ_CHECK(rudp_cookie_check(key, addr, addrlen, in_h.cid, now, LIFETIME, r.payload) ==
                           0,
                       "RETRY carries a cookie that would not validate");
            uint8_t expect[RUDP_COOKIE_SIZE];
            rudp_cookie_make(key, addr, addrlen, in_h.cid, now, expect);
            FUZZ_CHECK(memcmp(expect, r.payload, sizeof expect) == 0, "unexpected cookie");
        } else {
            FUZZ_CHECK(in_h.type == RUDP_T_DATA || in_h.type == RUDP_T_ACK ||
                           in_h.type == RUDP_T_FIN,
                       "type %u answered", in_h.type);
            FUZZ_CHECK(r.type == RUDP_T_RESET && r.payload[0] == RUDP_RESET_UNKNOWN,
                       "type %u answered with type %u", in_h.type, r.type);
        }
        break;
    }
    case RUDP_LISTEN_ACCEPT: {
        FUZZ_CHECK(a.reply_len == (size_t)-1, "reply length set on ACCEPT");
        FUZZ_CHECK(in_h.type == RUDP_T_INITIAL && in_h.payload_len == RUDP_COOKIE_SIZE,
                   "ACCEPT for type %u, payload %u", in_h.type, in_h.payload_len);
        FUZZ_CHECK(a.hdr.type == in_h.type && a.hdr.cid == in_h.cid && a.hdr.seq == in_h.seq &&
                       a.hdr.ts == in_h.ts && a.hdr.rwnd == in_h.rwnd,
                   "ACCEPT hands back another header");
        /* Recompute the cookie independently: issued from its first 8 bytes. */
        uint64_t t = get64(in_h.payload);
        uint8_t expect[RUDP_COOKIE_SIZE];
        rudp_cookie_make(key, addr, addrlen, in_h.cid, t, expect);
        FUZZ_CHECK(memcmp(expect, in_h.payload, sizeof expect) == 0,
                   "ACCEPT with a cookie not made for this address and cid");
        FUZZ_CHECK(t <= now && now - t <= LIFETIME, "ACCEPT with a cookie issued %llu, now %llu",
                   (unsigned long long)t, (unsigned long long)now);
        FUZZ_CHECK(!planted_elsewhere, "a cookie for another address or cid was accepted");
        /* A refusal to a validated client is within the bound too. */
        uint8_t refuse[RUDP_MAX_DATAGRAM];
        int n = rudp_listener_refuse(&a.hdr, now, refuse, sizeof refuse);
        FUZZ_CHECK(n > 0 && (size_t)n <= 3 * len, "refusal of %d bytes", n);
        break;
    }
    default:
        FUZZ_CHECK(0, "verdict %d", a.verdict);
    }
    free(d);
    return 0;
}
