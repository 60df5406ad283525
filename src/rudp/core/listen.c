/* Stateless handshake (the shape of RFC 9000 §8.1's Retry and of DTLS's
 * HelloVerifyRequest, RFC 6347 §4.2.1): the server proves a client can receive at its
 * claimed address before it spends any memory on it. The cookie is a keyed MAC, so
 * the server stores nothing between RETRY and the echoed INITIAL. */
#include "rudp/listen.h"

#include <string.h>

#include "bytes.h"
#include "rudp/error.h"
#include "siphash.h"

#define MAX_ADDR 64u

void rudp_listener_init(rudp_listener_t *l, const uint8_t key[RUDP_COOKIE_KEY_SIZE],
                        uint64_t cookie_lifetime)
{
    memset(l, 0, sizeof *l);
    memcpy(l->key, key, RUDP_COOKIE_KEY_SIZE);
    l->cookie_lifetime = cookie_lifetime ? cookie_lifetime : RUDP_DEFAULT_COOKIE_LIFETIME;
    l->require_retry = 1;
}

static uint64_t cookie_mac(const uint8_t key[RUDP_COOKIE_KEY_SIZE], const void *addr,
                           size_t addrlen, uint64_t cid, uint64_t issued)
{
    uint8_t msg[MAX_ADDR + 16];
    if (addrlen > MAX_ADDR)
        addrlen = MAX_ADDR; /* callers pass at most 64; documented in listen.h */
    memcpy(msg, addr, addrlen);
    rudp_put64(msg + addrlen, cid);
    rudp_put64(msg + addrlen + 8, issued);
    return rudp_siphash24(key, msg, addrlen + 16);
}

void rudp_cookie_make(const uint8_t key[RUDP_COOKIE_KEY_SIZE], const void *addr, size_t addrlen,
                      uint64_t cid, uint64_t issued, uint8_t out[RUDP_COOKIE_SIZE])
{
    rudp_put64(out, issued);
    rudp_put64(out + 8, cookie_mac(key, addr, addrlen, cid, issued));
}

int rudp_cookie_check(const uint8_t key[RUDP_COOKIE_KEY_SIZE], const void *addr, size_t addrlen,
                      uint64_t cid, uint64_t now, uint64_t lifetime,
                      const uint8_t cookie[RUDP_COOKIE_SIZE])
{
    uint64_t issued = rudp_get64(cookie);
    uint64_t mac = cookie_mac(key, addr, addrlen, cid, issued);
    /* Compare without an early exit so timing does not reveal a partial match. */
    uint64_t diff = mac ^ rudp_get64(cookie + 8);
    if (diff)
        return RUDP_ECOOKIE;
    if (issued > now || now - issued > lifetime)
        return RUDP_ETIMEDOUT;
    return 0;
}

static int write_reset(const rudp_hdr_t *in, uint8_t reason, uint64_t now, uint8_t *reply,
                       size_t cap)
{
    rudp_hdr_t h = {
        .type = RUDP_T_RESET,
        .cid = in->cid,
        .ts = (uint32_t)now,
        .payload_len = 1,
        .payload = &reason,
    };
    return rudp_wire_encode(&h, reply, cap);
}

/* The replay cache (listen.h): 1 when the cookie was used already, 2 when its set
 * cannot vouch for it (issued before the set's floor, or older than every live
 * entry of a full set), 0 when it is new and now recorded. */
static int replay_use(rudp_listener_t *l, const uint8_t cookie[RUDP_COOKIE_SIZE], uint64_t now)
{
    uint64_t issued = rudp_get64(cookie), mac = rudp_get64(cookie + 8);
    uint32_t set_no = (uint32_t)(mac % RUDP_REPLAY_SETS);
    rudp_replay_slot_t *set = &l->replay[(size_t)set_no * RUDP_REPLAY_WAYS];
    if (issued < l->replay_floor[set_no])
        return 2;
    rudp_replay_slot_t *free_slot = NULL, *oldest = &set[0];
    for (uint32_t w = 0; w < RUDP_REPLAY_WAYS; w++) {
        rudp_replay_slot_t *e = &set[w];
        int live = (e->mac || e->issued) && now - e->issued <= l->cookie_lifetime;
        if (live && e->mac == mac && e->issued == issued)
            return 1;
        if (!live)
            free_slot = e;
        else if (e->issued < oldest->issued)
            oldest = e;
    }
    if (!free_slot) {
        if (issued <= oldest->issued)
            return 2;
        /* Whatever this set forgets, it refuses from now on. */
        l->replay_floor[set_no] = oldest->issued + 1;
        l->replay_evicted++;
        free_slot = oldest;
    }
    free_slot->mac = mac;
    free_slot->issued = issued;
    return 0;
}

int rudp_listener_refuse(const rudp_hdr_t *initial, uint64_t now, uint8_t *reply, size_t cap)
{
    return write_reset(initial, RUDP_RESET_FULL, now, reply, cap);
}

int rudp_listener_refuse_reason(const rudp_hdr_t *initial, uint8_t reason, uint64_t now,
                                uint8_t *reply, size_t cap)
{
    return write_reset(initial, reason, now, reply, cap);
}

int rudp_listener_input(rudp_listener_t *l, const uint8_t *dgram, size_t len, const void *addr,
                        size_t addrlen, uint64_t now, rudp_hdr_t *hdr, uint8_t *reply, size_t cap,
                        size_t *reply_len)
{
    int rc = rudp_wire_decode(hdr, dgram, len);
    if (rc) {
        l->garbage++;
        if (rc == RUDP_ECHECKSUM)
            l->checksum++;
        return rc;
    }
    if (addrlen > MAX_ADDR)
        return RUDP_EINVAL;
    /* A RESET never answers a RESET, or two confused ends would ping-pong forever. */
    if (hdr->type == RUDP_T_RESET || hdr->type == RUDP_T_RETRY || hdr->type == RUDP_T_ACCEPT) {
        l->ignored++;
        return RUDP_LISTEN_DROP;
    }
    /* Everything below answers or accepts: the gate goes first, before any MAC. */
    if (l->admit && !l->admit(l->admit_user, addr, addrlen, now)) {
        l->rate_limited++;
        return RUDP_LISTEN_DROP;
    }

    if (hdr->type == RUDP_T_INITIAL) {
        if (hdr->payload_len == RUDP_COOKIE_SIZE) {
            rc = rudp_cookie_check(l->key, addr, addrlen, hdr->cid, now, l->cookie_lifetime,
                                   hdr->payload);
            if (rc == 0) {
                int used = replay_use(l, hdr->payload, now);
                if (used == 0)
                    return RUDP_LISTEN_ACCEPT;
                if (used == 1) {
                    /* A copy of a cookie that opened a connection already: whoever
                     * sends it, it opens no second one. */
                    l->cookies_replayed++;
                    return RUDP_LISTEN_DROP;
                }
                rc = RUDP_ETIMEDOUT; /* the cache cannot vouch for it: a fresh RETRY */
            }
            if (rc == RUDP_ECOOKIE) {
                /* Forged or replayed from elsewhere: a fresh challenge would only help
                 * a guesser. An honest client whose cookie went stale (server restart,
                 * new address) times out and retries without it (see conn.c). */
                l->cookies_bad++;
                return RUDP_LISTEN_DROP;
            }
            l->cookies_expired++; /* an honest but slow client: challenge it again */
        } else if (hdr->payload_len == 0 && !l->require_retry) {
            l->accepted_unproven++;
            return RUDP_LISTEN_ACCEPT;
        }
        uint8_t cookie[RUDP_COOKIE_SIZE];
        rudp_cookie_make(l->key, addr, addrlen, hdr->cid, now, cookie);
        rudp_hdr_t r = {
            .type = RUDP_T_RETRY,
            .flags = RUDP_F_ACK,
            .cid = hdr->cid,
            .ts = (uint32_t)now,
            .ts_echo = hdr->ts,
            .payload_len = RUDP_COOKIE_SIZE,
            .payload = cookie,
        };
        rc = rudp_wire_encode(&r, reply, cap);
        if (rc < 0)
            return rc;
        /* 56 bytes against at least 40 received: within RFC 9000 §8.1's factor 3. */
        *reply_len = (size_t)rc;
        l->retries_sent++;
        return RUDP_LISTEN_REPLY;
    }
    rc = write_reset(hdr, RUDP_RESET_UNKNOWN, now, reply, cap);
    if (rc < 0)
        return rc;
    *reply_len = (size_t)rc;
    l->resets_sent++;
    return RUDP_LISTEN_REPLY;
}

/* ---- per-source rate limit ------------------------------------------------------------- */

int rudp_ratelimit_init(rudp_ratelimit_t *r, const uint8_t key[RUDP_COOKIE_KEY_SIZE], uint32_t rate,
                        uint32_t burst)
{
    if (!r || !key || rate == 0 || burst == 0)
        return RUDP_EINVAL;
    memset(r, 0, sizeof *r);
    memcpy(r->key, key, RUDP_COOKIE_KEY_SIZE);
    r->interval = 1000000u / rate;
    if (r->interval == 0)
        r->interval = 1;
    r->tolerance = (uint64_t)(burst - 1) * r->interval;
    return 0;
}

/* GCRA, virtual scheduling: a datagram at `now` conforms when the source's theoretical
 * arrival time is at most `tolerance` ahead of now; it then pushes that time one interval
 * further. A quiet source's tat falls behind now, which is a full bucket. */
int rudp_ratelimit_admit(rudp_ratelimit_t *r, const void *src, size_t srclen, uint64_t now)
{
    if (srclen > MAX_ADDR)
        srclen = MAX_ADDR;
    uint64_t id = rudp_siphash24(r->key, src, srclen) | 1u; /* 0 marks a free slot */
    const uint32_t sets = RUDP_RATE_SLOTS / RUDP_RATE_WAYS;
    rudp_rate_slot_t *set = &r->slot[(size_t)((uint32_t)(id >> 32) % sets) * RUDP_RATE_WAYS];
    rudp_rate_slot_t *e = NULL, *victim = &set[0];
    for (uint32_t w = 0; w < RUDP_RATE_WAYS; w++) {
        if (set[w].id == id) {
            e = &set[w];
            break;
        }
        if (set[w].id == 0 || (victim->id != 0 && set[w].tat < victim->tat))
            victim = &set[w];
    }
    if (!e) {
        /* The evicted source lost only the part of its bucket still spent: the victim is
         * the set's least-spent entry, and one already refilled loses nothing. */
        if (victim->id != 0 && victim->tat > now)
            r->evicted++;
        e = victim;
        e->id = id;
        e->tat = now;
    }
    uint64_t tat = e->tat > now ? e->tat : now;
    if (tat - now > r->tolerance) {
        r->limited++;
        return 0;
    }
    e->tat = tat + r->interval;
    r->admitted++;
    return 1;
}
