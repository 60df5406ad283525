/* secure.h: --secure, DTLS 1.2 for udp and rudp. The credentials from the options (and
 * the self-signed certificate a server makes on first use), the --stats counters, and
 * plain UDP's datagrams through DTLS sessions (src/rudp/dtls/dtls.c, the module rudp's socket
 * driver uses too). Built without DTLS, every entry point fails with a message and
 * hola_netopts_check() has already refused --secure. */
#ifndef HOLA_SECURE_H
#define HOLA_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rudp/sock.h"

#include "error.h"
#include "netopts.h"
#include "stats.h"

struct hola_secure_cfg {
    rudp_sock_dtls_t dtls; /* what rudp_sock_new_client/new_server and hola_dtls_new take */
    char cert[4000], key[4000];
    char err[256];
};

/* Whether --secure can run: hola has DTLS and librudp's DTLS module (rudp-dtls.so, with
 * OpenSSL 3) loads; it is loaded here, once, so only --secure runs load OpenSSL.
 * Returns 0, or -1 with one line in e saying what is missing. */
int hola_secure_check(struct hola_err *e);

/* Fills c from o. A server without --cert or --psk uses the self-signed certificate in
 * $XDG_STATE_HOME/hola (default ~/.local/state/hola), made on first use (EC P-256, key
 * mode 0600); a server with a certificate prints its SHA-256 fingerprint on stderr as
 * "<prog>: DTLS certificate fingerprint SHA256:AB:CD:...". handshake_ms bounds the DTLS
 * handshake (0: 10 s). Returns 0, or -1 with e set. */
int hola_secure_setup(struct hola_secure_cfg *c, const struct hola_netopts *o, bool server,
                      const char *prog, uint32_t handshake_ms, struct hola_err *e);

/* --stats: dtls_handshakes, dtls_handshake_failed, dtls_cookies_sent, dtls_bad_records,
 * dtls_replayed, dtls_plaintext, dtls_no_session, dtls_rate_limited, dtls_refused_full,
 * dtls_alerts_sent, dtls_refused_source. */
void hola_secure_add_stats(struct hola_stats *st, const rudp_sock_dtls_stats_t *d);

/* ---- plain UDP over DTLS ---- */
struct hola_dtls;

/* A record to put on the socket; a decrypted datagram for the program. */
typedef void (*hola_dtls_send_fn)(void *user, const struct sockaddr *to, socklen_t tolen,
                                  const uint8_t *d, size_t n);
typedef void (*hola_dtls_recv_fn)(void *user, const struct sockaddr *from, socklen_t fromlen,
                                  const uint8_t *d, size_t n);

/* A server (max_sessions sessions, ClientHellos rate-limited per source at `rate` per
 * second, 0 = no limit) or a client. Returns 0, or -1 with e set. */
int hola_dtls_new(struct hola_dtls **out, const struct hola_secure_cfg *c, bool server,
                  uint32_t max_sessions, uint32_t rate, hola_dtls_send_fn send,
                  hola_dtls_recv_fn recv, void *user, struct hola_err *e);
void hola_dtls_free(struct hola_dtls *h);

/* Client: starts the handshake with peer (host: for --ca's name check). 0 or -1. */
int hola_dtls_connect(struct hola_dtls *h, const struct sockaddr *peer, socklen_t len,
                      const char *host, struct hola_err *e);

/* A datagram from the socket. */
void hola_dtls_input(struct hola_dtls *h, const uint8_t *d, size_t n, const struct sockaddr *from,
                     socklen_t fromlen);

/* Encrypts and sends one datagram to `to` (client: NULL). 0, or -1 when there is no
 * established session with it (the datagram is dropped). */
int hola_dtls_send(struct hola_dtls *h, const struct sockaddr *to, socklen_t tolen,
                   const uint8_t *d, size_t n);

/* Milliseconds until hola_dtls_timers() has work (0: now; -1: none). */
int hola_dtls_timeout_ms(const struct hola_dtls *h);
void hola_dtls_timers(struct hola_dtls *h);

/* Client: the handshake is done; the session failed (hola_dtls_error says why). */
bool hola_dtls_up(const struct hola_dtls *h);
bool hola_dtls_failed(const struct hola_dtls *h);
const char *hola_dtls_error(const struct hola_dtls *h);

void hola_dtls_stats(const struct hola_dtls *h, rudp_sock_dtls_stats_t *out);

#endif
