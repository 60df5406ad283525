/* rudp/dtls.h: DTLS 1.2 sessions over datagrams the caller moves, the layer under the
 * socket driver's --secure and under hola's plain-UDP --secure. OpenSSL 3 does the
 * cryptography; this module keeps one session per peer address, each with a custom BIO,
 * so no socket is ever touched here: raw records leave through the `out` hook and come in
 * through rudp_dtls_input(); decrypted datagrams leave through `in`. The caller polls
 * rudp_dtls_next_timeout() and calls rudp_dtls_timers() (DTLS retransmission, handshake
 * and idle timeouts).
 *
 * A server creates no per-peer state before the stateless cookie exchange has proven the
 * address (DTLSv1_listen on one shared listening SSL object, cookies an HMAC-SHA256 over
 * the address and the time under a random secret), none beyond max_sessions, and none
 * beyond max_per_source for one source host, so one host cannot hold them all; the
 * per-source handshake rate limit is asked before the listening object sees the
 * ClientHello.
 *
 * The functions exist only in a librudp built with DTLS (-Ddtls, OpenSSL 3). Their code,
 * and OpenSSL with it, is a module, rudp-dtls.so (in libdir/rudp/), that librudp loads
 * the first time one of them is called (rudp_dtls_load()), so programs that never use
 * DTLS do not load OpenSSL; $RUDP_DTLS_MODULE names another file. Without the module
 * rudp_dtls_new() fails with RUDP_ENOTSUP. rudp_sock_dtls_available() says at run time
 * whether DTLS can be used. The types, constants and the inline helpers at the end are
 * in every build. */
#ifndef RUDP_DTLS_H
#define RUDP_DTLS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "rudp/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DTLS 1.2 under rudp (librudp built with -Ddtls, OpenSSL 3): every datagram the
 * engines exchange travels as the payload of one DTLS record. A server keeps one DTLS
 * session per peer address, made only after the stateless cookie exchange
 * (DTLSv1_listen) and the handshake rate limit; decrypted datagrams then go to the usual
 * connection-ID demultiplexer. Strings and bytes are read during rudp_sock_new_client() /
 * rudp_sock_new_server() only (files loaded, keys copied). */
typedef struct rudp_dtls_config {
    const char *cert_file;         /* server: certificate (PEM); with key_file */
    const char *key_file;          /* server: its private key (PEM) */
    const char *ca_file;           /* client: verify the server's chain against these CAs,
                                      and its name or address against the host given */
    const uint8_t *fingerprint;    /* client: accept exactly the certificate whose DER has
                                      this SHA-256 (32 bytes): pinning, for self-signed
                                      certificates. One of ca_file, fingerprint or psk */
    const uint8_t *psk;            /* pre-shared key instead of certificates, both sides */
    size_t psk_len;                /* RUDP_DTLS_PSK_MIN..RUDP_DTLS_PSK_MAX bytes (16..64);
                                      else RUDP_EINVAL */
    const char *psk_identity;      /* client: sent in the clear ("hola" when NULL); server:
                                      the only identity accepted (NULL: any) */
    uint32_t handshake_timeout_ms; /* client: give the DTLS handshake up after this
                                      (0: 10000); server: free unfinished sessions after it */
    uint32_t max_per_source;       /* server: sessions one source host (IPv4 /32, IPv6 /64)
                                      may hold; 0: max_sessions / 8, at least 1. The
                                      socket driver gives its own max_per_source */
    char *error;                   /* when setting DTLS up fails (a file that cannot be
                                      read, a key that does not match): one line here */
    size_t error_cap;              /* its size; 0: no message */
} rudp_dtls_config_t;

/* DTLS counters (all zero without DTLS). Every record or datagram dropped is counted
 * once, in one of them. */
typedef struct rudp_dtls_stats {
    uint64_t sessions;         /* DTLS sessions held now */
    uint64_t handshakes;       /* handshakes completed */
    uint64_t handshake_failed; /* ended by an alert, a failed verification or a timeout */
    uint64_t cookies_sent;     /* server: HelloVerifyRequests (stateless) */
    uint64_t bad_records;      /* records that failed authentication (tampered, wrong
                                  key): dropped, never delivered */
    uint64_t replayed;         /* authentic records seen before (or too old): dropped */
    uint64_t plaintext;        /* datagrams that are not DTLS at all: dropped */
    uint64_t no_session;       /* DTLS records, not a ClientHello, from a peer without
                                  a session: dropped */
    uint64_t rate_limited;     /* server: ClientHellos over the handshake rate */
    uint64_t refused_full;     /* server: validated ClientHellos at max_clients sessions */
    uint64_t alerts_sent;      /* server: plaintext peers told "this is DTLS" (alert) */
    uint64_t refused_source;   /* server: validated ClientHellos from a source host that
                                  holds max_per_source sessions already */
} rudp_dtls_stats_t;

/* Bytes a DTLS 1.2 record adds to its payload with the AEAD ciphers allowed here (13
 * header + 8 explicit nonce + 16 tag for AES-GCM; ChaCha20-Poly1305 adds 29), rounded up
 * with room to spare. */
#define RUDP_DTLS_OVERHEAD 64u
#define RUDP_DTLS_FINGERPRINT_SIZE 32u
/* A pre-shared key's bounds. With a PSK cipher (no ECDHE) one recorded handshake lets an
 * attacker try keys offline, so a key must be random and of 128 bits at least (RFC 4279
 * section 7, RFC 9257 section 6); OpenSSL takes at most 64 bytes. */
#define RUDP_DTLS_PSK_MIN 16u
#define RUDP_DTLS_PSK_MAX 64u
#define RUDP_DTLS_DEFAULT_HANDSHAKE_MS 10000u
#define RUDP_DTLS_IDLE_US 120000000u /* a session with no authentic record for 2 min */
#define RUDP_DTLS_LINGER_US 5000000u

typedef struct rudp_dtls rudp_dtls_t;

typedef struct rudp_dtls_hooks {
    /* A record (or several, one datagram) to send to `to`, from `from` (as given to
     * rudp_dtls_input(); length 0 when unknown). */
    void (*out)(void *user, const struct sockaddr *to, socklen_t tolen, const struct sockaddr *from,
                socklen_t fromlen, const uint8_t *d, size_t n);
    /* A decrypted datagram from an established session. */
    void (*in)(void *user, const struct sockaddr *peer, socklen_t peerlen,
               const struct sockaddr *local, socklen_t locallen, const uint8_t *d, size_t n);
    /* A session came up (up = 1) or ended (up = 0: alert, failure, timeout, close). For
     * a client, rudp_dtls_error() then says why. May be NULL. */
    void (*state)(void *user, const struct sockaddr *peer, socklen_t peerlen, int up);
    void *user;
} rudp_dtls_hooks_t;

/* Loads the DTLS module now (rudp_dtls_new() and the certificate helpers do it on first
 * use; it happens once per process, and is thread-safe). Returns 0, or RUDP_ENOTSUP with
 * one line in err saying where the module was looked for and why it could not be loaded
 * ("not found at /usr/lib/x86_64-linux-gnu/rudp/rudp-dtls.so", or libssl missing). */
RUDP_API int rudp_dtls_load(char *err, size_t errcap);

/* Creates a client (server = 0; one session, see rudp_dtls_connect) or a server endpoint
 * with the credentials in cfg; max_sessions >= 1; rate/burst: ClientHellos answered per
 * second per source host (IPv4 /32, IPv6 /64), 0 = no limit. On failure err gets one
 * line (a file that cannot be read, a key that does not match its certificate, the
 * module missing). Returns 0, RUDP_EINVAL, RUDP_ENOMEM or RUDP_ENOTSUP (no module). */
RUDP_API int rudp_dtls_new(rudp_dtls_t **out, int server, const rudp_dtls_config_t *cfg,
                           uint32_t max_sessions, uint32_t rate, uint32_t burst,
                           const rudp_dtls_hooks_t *hooks, char *err, size_t errcap);
RUDP_API void rudp_dtls_free(rudp_dtls_t *d);

/* Client: starts the handshake with peer (the ClientHello leaves through `out`).
 * host: the name or address checked against the certificate with ca_file (may be NULL).
 * Returns 0, RUDP_ESTATE (already started) or RUDP_ENOMEM. */
RUDP_API int rudp_dtls_connect(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen,
                               const char *host, uint64_t now);

/* One received datagram. Returns 1 when it was DTLS for a known or new session, 0 when
 * it was dropped (and counted). */
RUDP_API int rudp_dtls_input(rudp_dtls_t *d, const uint8_t *data, size_t len,
                             const struct sockaddr *from, socklen_t fromlen,
                             const struct sockaddr *to, socklen_t tolen, uint64_t now);

/* Encrypts one datagram for the established session with `to` (one record).
 * Returns 0, RUDP_EAGAIN (no established session with to: the datagram is dropped, as
 * a network would), RUDP_EMSGSIZE or RUDP_ESYS (OpenSSL failed; the session ends). */
RUDP_API int rudp_dtls_send(rudp_dtls_t *d, const struct sockaddr *to, socklen_t tolen,
                            const uint8_t *msg, size_t len, uint64_t now);

/* Ends the session with peer (a client: its one session, peer may be NULL): a
 * close_notify alert, then it is freed (no state hook). Nothing when there is none. */
RUDP_API void rudp_dtls_close(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen);

/* Server: the application is done with peer (its connection ended). The session
 * lingers RUDP_DTLS_LINGER_US more, so the peer's last retransmissions still get an
 * authenticated answer, then ends with a close_notify. A lingering session no longer
 * counts against its host's max_per_source, and a full table closes the one nearest
 * its end to make room for a new peer. */
RUDP_API void rudp_dtls_release(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen,
                                uint64_t now);

/* 1 when the session with peer (client: the one session) has completed its handshake. */
RUDP_API int rudp_dtls_established(const rudp_dtls_t *d, const struct sockaddr *peer,
                                   socklen_t peerlen);

/* Earliest time (µs, the caller's clock) rudp_dtls_timers() has work; UINT64_MAX: none. */
RUDP_API uint64_t rudp_dtls_next_timeout(const rudp_dtls_t *d);

/* Retransmits handshake flights whose timer ran out (DTLSv1_handle_timeout), ends
 * handshakes older than the handshake timeout and idle sessions. */
RUDP_API void rudp_dtls_timers(rudp_dtls_t *d, uint64_t now);

RUDP_API void rudp_dtls_stats(const rudp_dtls_t *d, rudp_dtls_stats_t *out);

/* Client: why the session failed or ended (NULL: it did not). */
RUDP_API const char *rudp_dtls_error(const rudp_dtls_t *d);

/* Client: 1 when the session ended by timing out (nothing came back), 0 otherwise. */
RUDP_API int rudp_dtls_timed_out(const rudp_dtls_t *d);

/* Makes a self-signed certificate (EC P-256, SHA-256, CN=cn, 10 years) and writes the
 * key (mode 0600, created exclusively) and certificate as PEM. Returns 0, or -1 with
 * err set (also when the module cannot be loaded). */
RUDP_API int rudp_dtls_make_selfsigned(const char *cert_path, const char *key_path, const char *cn,
                                       char *err, size_t errcap);

/* The SHA-256 of the first certificate's DER in a PEM file. Returns 0 or -1 with err. */
RUDP_API int rudp_dtls_fingerprint_file(const char *cert_path,
                                        uint8_t out[RUDP_DTLS_FINGERPRINT_SIZE], char *err,
                                        size_t errcap);

/* ---- in every build ------------------------------------------------------------ */

/* A DTLS 1.0/1.2 record header: content type 20..25, version 0xfeff or 0xfefd, and a
 * length that fits. What a plaintext side sees when its peer speaks DTLS. */
static inline int rudp_dtls_is_record(const uint8_t *d, size_t n)
{
    if (n < 13 || d[0] < 20 || d[0] > 25 || d[1] != 0xfe || (d[2] != 0xff && d[2] != 0xfd))
        return 0;
    size_t len = (size_t)d[11] << 8 | d[12];
    return 13 + len <= n;
}

#define RUDP_DTLS_ALERT_SIZE 15u

/* A plaintext (epoch 0) fatal alert record, unexpected_message: what a DTLS server
 * answers to a datagram that is not DTLS, so a plaintext client learns at once why it
 * gets no answer. Writes RUDP_DTLS_ALERT_SIZE bytes. */
static inline void rudp_dtls_plain_alert(uint8_t out[RUDP_DTLS_ALERT_SIZE])
{
    static const uint8_t a[RUDP_DTLS_ALERT_SIZE] = { 21, 0xfe, 0xfd, 0, 0, 0, 0, 0,
                                                     0,  0,    0,    0, 2, 2, 10 };
    memcpy(out, a, sizeof a);
}

#ifdef __cplusplus
}
#endif
#endif
