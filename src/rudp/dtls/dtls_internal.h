/* The structures DTLS's files share (dtls.c: sessions and the API; context.c: the
 * SSL_CTX, its callbacks, the datagram BIO method, certificates; record.c: what a
 * record's header says). Private to src/rudp/dtls. */
#ifndef RUDP_DTLS_INTERNAL_H
#define RUDP_DTLS_INTERNAL_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "core/heap.h"
#include "core/idtab.h"
#include "core/siphash.h"
#include "core/sources.h"
#include "rudp/dtls.h"
#include "rudp/listen.h"

#define KEY_MAX 23u
#define COOKIE_SLOT_US 30000000u
#define COOKIE_LEN 16u
#define BUF_CAP 16640u /* a whole DTLS record's plaintext, with room */
#define TIMER_FIRST_US 200000u
#define TIMER_MAX_US 3000000u
#define DTLS_ALERT_ACCESS_DENIED 49u /* a server with no room for the session */

typedef struct sa {
    socklen_t len;
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage ss;
    } u;
} sa_t;

struct bio_ctx {
    rudp_dtls_t *d;
    struct sess *s; /* NULL: the listening object, whose peer is d->cur */
    const uint8_t *in;
    size_t in_len;
};

/* A source host (IPv4 /32, IPv6 /64 and scope) and the sessions it holds (server). */
struct sess {
    SSL *ssl;
    rudp_source_t *source; /* server: its source's entry in d->sources */
    struct bio_ctx *bio;
    sa_t peer, local;
    uint8_t key[KEY_MAX];
    uint8_t key_len;
    uint8_t up;
    uint8_t any_seen;
    uint64_t started, last_rx;
    uint64_t linger_until; /* 0: the application still uses the session */
    rudp_heap_node_t due;  /* in d->due, keyed by the session's next timer */
    uint64_t seen_top, seen_mask;
};

struct rudp_dtls {
    int server;
    SSL_CTX *ctx;
    BIO_METHOD *meth;
    rudp_dtls_hooks_t hooks;
    uint32_t max;
    uint64_t hs_timeout_us;

    /* sessions: the shared ID table on the address key (server) and deadline heap */
    rudp_idtab_t table;
    rudp_idtab_slot_t *slots;
    uint8_t hkey[RUDP_SIPHASH_KEY_LEN];
    rudp_heap_t due;
    rudp_heap_node_t **due_arr;
    uint32_t n;
    /* server: source hosts with sessions, at most max_per_source each */
    rudp_sources_t sources;

    /* server front door */
    SSL *listener;
    struct bio_ctx *listener_bio;
    BIO_ADDR *listen_addr;
    rudp_ratelimit_t *rate;
    uint8_t secret[32];
    sa_t cur_peer, cur_local; /* the datagram being input */
    uint8_t cur_key[KEY_MAX];
    uint8_t cur_key_len;
    uint64_t now;
    uint64_t wrote;     /* datagrams out through the BIOs, to tell what listen did */
    uint64_t delivered; /* plaintext datagrams handed to `in` */

    /* credentials */
    uint8_t psk[64];
    size_t psk_len;
    char psk_identity[128];
    int have_identity;
    uint8_t fingerprint[RUDP_DTLS_FINGERPRINT_SIZE];
    int pin;

    /* client */
    struct sess *client;
    int failed, timed_out;
    char err[256];
    char alert_in[96], alert_out[96];
    char verify_msg[256];

    rudp_dtls_stats_t st;
    uint8_t buf[BUF_CAP];
};

/* record.c: whether a datagram is a ClientHello (epoch 0), the first record's. */
int dtls_is_client_hello(const uint8_t *p, size_t n);
/* record.c: the application-data records in one datagram; the epoch and sequence number
 * of the first (together, 2 and 6 bytes) in *seq. */
unsigned dtls_app_records(const uint8_t *p, size_t n, uint64_t *seq);
/* record.c: whether s delivered the record seq already (or it is older than the 64 the
 * window remembers), and marking it delivered. */
int dtls_seen(const struct sess *s, uint64_t seq);
void dtls_mark_seen(struct sess *s, uint64_t seq);

/* context.c: sets up d->ctx for cfg (ciphers, credentials, cookie and verify
 * callbacks). Returns 0 or -1 with err set. */
int dtls_ctx_setup(rudp_dtls_t *d, const rudp_dtls_config_t *cfg, char *err, size_t cap);
/* context.c: n random bytes from OpenSSL's generator (seeded by the kernel's). Not
 * rudp_random_bytes(): this module is loaded into programs linked statically against
 * librudp too, whose symbols it cannot see. Returns 0 or RUDP_ESYS. */
int dtls_random(void *buf, size_t n);
/* context.c: the BIO method of the sessions' datagram BIOs, or NULL. */
BIO_METHOD *dtls_bio_method(void);

#endif
