/* The server's stateless front door: answers INITIALs with cookie challenges and tells
 * the caller when a client has proven its address, before any state is kept for it. */
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

typedef struct rudp_listener {
    uint8_t key[RUDP_COOKIE_KEY_SIZE]; /* secret; from the caller's random source */
    uint64_t cookie_lifetime;          /* µs a RETRY's cookie stays valid */
    /* What the front door did, for --stats: */
    uint64_t retries_sent;     /* RETRY answers to INITIALs without a cookie */
    uint64_t cookies_bad;      /* forged, or from another address / connection ID */
    uint64_t cookies_expired;  /* valid but too old (or from the future) */
    uint64_t resets_sent;      /* RESETs for unknown connections */
    uint64_t garbage;          /* datagrams that failed the wire checks */
    uint64_t ignored;          /* valid datagrams needing no answer (RESET, ACK, ...) */
} rudp_listener_t;

typedef enum rudp_listen_verdict {
    RUDP_LISTEN_DROP = 0,   /* nothing to send, nothing to create */
    RUDP_LISTEN_REPLY = 1,  /* send the reply written to the caller's buffer */
    RUDP_LISTEN_ACCEPT = 2, /* a validated INITIAL: create the connection from *hdr */
} rudp_listen_verdict_t;

/* Sets the key and the cookie lifetime (0: RUDP_DEFAULT_COOKIE_LIFETIME); clears counters. */
RUDP_API void rudp_listen_init(rudp_listener_t *l, const uint8_t key[RUDP_COOKIE_KEY_SIZE],
                      uint64_t cookie_lifetime);

/* Handles a datagram whose connection ID matches no connection. `addr` is any byte
 * string that identifies the sender (for sockets: family, port and address), up to 64
 * bytes. Every reply is at most 3x the datagram it answers (RFC 9000 §8.1), so the
 * server cannot be used to amplify a spoofed flood.
 * Returns a rudp_listen_verdict_t (with *reply_len set for REPLY and *hdr decoded for
 * ACCEPT), or a negative RUDP_E* code for a datagram that failed the wire checks
 * (nothing is sent for those). */
RUDP_API int rudp_listen_input(rudp_listener_t *l, const uint8_t *dgram, size_t len, const void *addr,
                      size_t addrlen, uint64_t now, rudp_hdr_t *hdr, uint8_t *reply,
                      size_t cap, size_t *reply_len);

/* Writes a RESET with reason RUDP_RESET_FULL for a validated client that cannot be
 * taken (the server is at its limit). Returns the length or RUDP_EBUFSIZE. */
RUDP_API int rudp_listen_refuse(const rudp_hdr_t *initial, uint64_t now, uint8_t *reply, size_t cap);

/* Cookie primitives, exposed for tests: the cookie is the issue time (8 bytes) and a
 * SipHash-2-4 MAC over (address, connection ID, issue time). */
RUDP_API void rudp_cookie_make(const uint8_t key[RUDP_COOKIE_KEY_SIZE], const void *addr, size_t addrlen,
                      uint64_t cid, uint64_t issued, uint8_t out[RUDP_COOKIE_SIZE]);
/* Returns 0, or RUDP_ECOOKIE (bad MAC) / RUDP_ETIMEDOUT (expired or from the future). */
RUDP_API int rudp_cookie_check(const uint8_t key[RUDP_COOKIE_KEY_SIZE], const void *addr, size_t addrlen,
                      uint64_t cid, uint64_t now, uint64_t lifetime,
                      const uint8_t cookie[RUDP_COOKIE_SIZE]);

#ifdef __cplusplus
}
#endif
#endif
