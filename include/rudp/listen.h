/* The server's stateless front door: answers INITIALs with cookie challenges and tells
 * the caller when a client has proven its address, before any state is kept for it.
 * No I/O and no allocation: the caller owns every struct and buffer, and passes `now`
 * (µs). Thread-safety: a rudp_listener_t or rudp_ratelimit_t is used by one thread at a
 * time; the cookie functions are thread-safe. rudp/sock.h does all this for sockets. */
#ifndef RUDP_LISTEN_H
#define RUDP_LISTEN_H

#include "rudp/export.h"

#include <stddef.h>
#include <stdint.h>

#include "rudp/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RUDP_COOKIE_KEY_SIZE 16u
#define RUDP_DEFAULT_COOKIE_LIFETIME 10000000u /* µs */

/* The replay cache: cookies already used, so one cookie opens at most one connection. A
 * fixed table of RUDP_REPLAY_SETS x RUDP_REPLAY_WAYS entries (16 bytes each: 16 KiB, plus
 * 8 bytes a set), sets chosen by the cookie's MAC. An entry lives as long as its cookie
 * is valid. A set full of live entries evicts the one issued first and raises the set's
 * floor past its issue time: a cookie of that set issued below the floor is then
 * treated as expired (a fresh RETRY), so an evicted cookie can never be used again. */
#define RUDP_REPLAY_WAYS 4u
#define RUDP_REPLAY_SETS 256u

typedef struct rudp_replay_slot {
    uint64_t mac;    /* the cookie's MAC; 0 with issued 0: free */
    uint64_t issued; /* the cookie's issue time, µs */
} rudp_replay_slot_t;

typedef struct rudp_listener {
    uint8_t key[RUDP_COOKIE_KEY_SIZE]; /* secret; from the caller's random source */
    uint64_t cookie_lifetime;          /* µs a RETRY's cookie stays valid */
    /* What the front door did, for --stats: */
    uint64_t retries_sent;    /* RETRY answers to INITIALs without a cookie */
    uint64_t cookies_bad;     /* forged, or from another address / connection ID */
    uint64_t cookies_expired; /* valid but too old (or from the future) */
    uint64_t resets_sent;     /* RESETs for unknown connections */
    uint64_t garbage;         /* datagrams that failed the wire checks */
    uint64_t ignored;         /* valid datagrams needing no answer (RESET, ACK, ...) */
    /* Added with the per-source rate limit (after the fields above, which keep their
     * places): */
    uint64_t checksum;     /* of garbage: a datagram whose only fault is its CRC */
    uint64_t rate_limited; /* valid datagrams left unanswered: `admit` said no */
    /* Optional gate, asked after the wire checks and before any cookie is made or
     * checked, so before any answer and any acceptance: nonzero admits the datagram,
     * 0 drops it silently (counted in rate_limited). addr/addrlen are the caller's
     * sender bytes given to rudp_listener_input(). NULL admits everything. Set it after
     * rudp_listener_init(), which clears it. */
    int (*admit)(void *user, const void *addr, size_t addrlen, uint64_t now);
    void *admit_user;
    /* 1 (rudp_listener_init's default): every INITIAL without a cookie gets a RETRY, so
     * no state is spent before the client proves its address. 0: such an INITIAL is
     * accepted at once (RUDP_LISTEN_ACCEPT), one round trip sooner; the connection then
     * sends at most 3x the bytes it received until the client proves its address by
     * echoing the server's ISN (docs/protocol.md §7). A driver sets 0 while it is not
     * under load and 1 when it is, as QUIC servers do with Retry. */
    int require_retry;
    uint64_t accepted_unproven; /* INITIALs without a cookie accepted at once */
    /* Added with the replay cache (docs/protocol.md §7.1): */
    uint64_t cookies_replayed; /* valid cookies already used once: dropped */
    uint64_t replay_evicted;   /* live entries pushed out of a full set (see above) */
    uint64_t replay_floor[RUDP_REPLAY_SETS];
    rudp_replay_slot_t replay[RUDP_REPLAY_SETS * RUDP_REPLAY_WAYS];
} rudp_listener_t;

typedef enum rudp_listen_verdict {
    RUDP_LISTEN_DROP = 0,   /* nothing to send, nothing to create */
    RUDP_LISTEN_REPLY = 1,  /* send the reply written to the caller's buffer */
    RUDP_LISTEN_ACCEPT = 2, /* a validated INITIAL: create the connection from *hdr */
} rudp_listen_verdict_t;

/* Sets the key (copied; from a random source such as rudp_random_bytes()) and the
 * cookie lifetime (0: RUDP_DEFAULT_COOKIE_LIFETIME); clears counters. Nothing to free. */
RUDP_API void rudp_listener_init(rudp_listener_t *l, const uint8_t key[RUDP_COOKIE_KEY_SIZE],
                                 uint64_t cookie_lifetime);

/* Handles a datagram whose connection ID matches no connection. `addr` is any byte
 * string that identifies the sender (for sockets: family, port and address), up to 64
 * bytes. Every reply is at most 3x the datagram it answers (RFC 9000 §8.1), so the
 * server cannot be used to amplify a spoofed flood.
 * Returns a rudp_listen_verdict_t (with *reply_len set for REPLY and *hdr decoded for
 * ACCEPT), or a negative RUDP_E* code for a datagram that failed the wire checks
 * (nothing is sent for those). dgram and addr are only read during the call; the reply
 * is written to reply[0..cap) (RUDP_MAX_DATAGRAM is enough); *hdr's sack and payload
 * point into dgram, so create the connection before reusing that buffer. */
RUDP_API int rudp_listener_input(rudp_listener_t *l, const uint8_t *dgram, size_t len,
                                 const void *addr, size_t addrlen, uint64_t now, rudp_hdr_t *hdr,
                                 uint8_t *reply, size_t cap, size_t *reply_len);

/* Writes a RESET with reason RUDP_RESET_FULL for a validated client that cannot be
 * taken (the server is at its limit). Returns the length or RUDP_EBUFSIZE. */
RUDP_API int rudp_listener_refuse(const rudp_hdr_t *initial, uint64_t now, uint8_t *reply,
                                  size_t cap);

/* The same with another reason (a rudp_reset_reason_t, e.g. RUDP_RESET_SOURCE for a
 * client whose source address holds the server's per-source limit). Returns the length
 * or RUDP_EBUFSIZE. */
RUDP_API int rudp_listener_refuse_reason(const rudp_hdr_t *initial, uint8_t reason, uint64_t now,
                                         uint8_t *reply, size_t cap);

/* Per-source rate limit for the front door: a fixed table of RUDP_RATE_SLOTS sources
 * (4-way set-associative, sets chosen by a keyed SipHash of the source bytes, so a sender
 * cannot aim at one set), each a GCRA token bucket (RFC 2697's single rate in its
 * virtual-scheduling form: one time per source). A source with no entry gets a full
 * bucket; a full set evicts its entry with the earliest theoretical arrival time, which
 * is the one holding the least information (a bucket refilled by now is no different
 * from a new one). Memory is fixed at init: no growth whatever the number of sources. */
#define RUDP_RATE_WAYS 4u
#define RUDP_RATE_SLOTS 4096u

typedef struct rudp_rate_slot {
    uint64_t id;  /* keyed hash of the source; 0: free */
    uint64_t tat; /* theoretical arrival time of the next datagram, µs */
} rudp_rate_slot_t;

typedef struct rudp_ratelimit {
    uint8_t key[RUDP_COOKIE_KEY_SIZE];
    uint64_t interval;  /* µs per datagram at the sustained rate */
    uint64_t tolerance; /* (burst - 1) x interval: how far ahead tat may run */
    uint64_t admitted, limited, evicted;
    rudp_rate_slot_t slot[RUDP_RATE_SLOTS];
} rudp_ratelimit_t;

/* rate: datagrams per second per source (>= 1); burst: how many may come at once from a
 * source that was quiet (>= 1). Returns 0 or RUDP_EINVAL. */
RUDP_API int rudp_ratelimit_init(rudp_ratelimit_t *r, const uint8_t key[RUDP_COOKIE_KEY_SIZE],
                                 uint32_t rate, uint32_t burst);

/* Takes one token from the bucket of the source named by src (any bytes, e.g. an IPv4
 * address or an IPv6 /64 prefix; at most 64). Returns 1 (admitted) or 0 (over the rate). */
RUDP_API int rudp_ratelimit_admit(rudp_ratelimit_t *r, const void *src, size_t srclen,
                                  uint64_t now);

/* Cookie primitives, exposed for tests: the cookie is the issue time (8 bytes) and a
 * SipHash-2-4 MAC over (address, connection ID, issue time). Writes RUDP_COOKIE_SIZE bytes
 * to out. */
RUDP_API void rudp_cookie_make(const uint8_t key[RUDP_COOKIE_KEY_SIZE], const void *addr,
                               size_t addrlen, uint64_t cid, uint64_t issued,
                               uint8_t out[RUDP_COOKIE_SIZE]);
/* Checks a cookie made by rudp_cookie_make() with the same key, address and connection
 * ID, no older than `lifetime` µs at `now`. Returns 0, or RUDP_ECOOKIE (bad MAC) /
 * RUDP_ETIMEDOUT (expired or from the future). */
RUDP_API int rudp_cookie_check(const uint8_t key[RUDP_COOKIE_KEY_SIZE], const void *addr,
                               size_t addrlen, uint64_t cid, uint64_t now, uint64_t lifetime,
                               const uint8_t cookie[RUDP_COOKIE_SIZE]);

#ifdef __cplusplus
}
#endif
#endif
