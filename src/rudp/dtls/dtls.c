/* DTLS 1.2 sessions over datagrams the caller moves (dtls.h); OpenSSL 3 underneath.
 *
 * Design
 *  - One SSL object per peer, each with one custom BIO for both directions: a read hands
 *    OpenSSL exactly the one datagram being input (then "retry"), a write is exactly one
 *    datagram for the `out` hook. OpenSSL 3.0 has no datagram-pair BIO, and a memory BIO
 *    would merge datagrams: the record layer must see their boundaries.
 *  - Server front door (RFC 6347 §4.2.1): a datagram from an address without a session
 *    must look like a ClientHello (record type 22, epoch 0); it then passes the
 *    per-source rate limit and goes to the one shared listening SSL object through
 *    DTLSv1_listen(), which answers a missing or stale cookie with a HelloVerifyRequest
 *    and keeps nothing. Cookies are HMAC-SHA256 (EVP) under a random secret over the
 *    peer's address and a 30 s time slot, 16 bytes, the current or the previous slot
 *    accepted. Only when a cookie checks out does the listening object become that
 *    peer's session (a fresh one takes its place), and only while fewer than
 *    max_sessions exist and its source host (IPv4 /32, IPv6 /64) holds fewer than
 *    max_per_source; otherwise nothing is kept and the peer gets a fatal access_denied
 *    alert, made here (the listening object has no session to send it through).
 *    A datagram that is not DTLS at all gets one plaintext alert record (15 bytes, at
 *    most 3x what it received as RFC 9000 §8.1 allows, rate-limited like a ClientHello),
 *    so a plaintext client can tell "this server requires --secure" from silence.
 *  - Ciphers: AEAD suites only (ECDHE with AES-GCM or ChaCha20-Poly1305; PSK with the
 *    same), DTLS 1.2 exactly, no renegotiation, no session tickets.
 *  - Timers: each session's deadline is the earliest of OpenSSL's retransmission timer
 *    (DTLSv1_get_timeout, converted to the caller's clock), the handshake timeout and the
 *    idle timeout; sessions sit in a min-heap on it. The retransmission timer starts at
 *    200 ms and doubles up to 3 s (DTLS_set_timer_cb): loopback and class networks answer
 *    in milliseconds, and the handshake timeout bounds the total anyway.
 *  - Counting: OpenSSL discards a record that fails authentication, or a replay, in
 *    silence (RFC 6347 §4.1.2.7). For an established session the module reads each
 *    application-data record's epoch and sequence number before decryption; one that
 *    yields nothing is a replay when its sequence number was delivered before (a 64-entry
 *    window like DTLS's own, record.c), else a bad record (tampered or under another key).
 */
#include "rudp/dtls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/bytes.h"
#include "dtls_internal.h"
#include "rudp/error.h"

/* ---- addresses, table, heap ------------------------------------------------------ */

static void sa_set(sa_t *a, const struct sockaddr *s, socklen_t len)
{
    memset(a, 0, sizeof *a);
    if (!s || len == 0)
        return;
    if (len > (socklen_t)sizeof a->u)
        len = (socklen_t)sizeof a->u;
    memcpy(&a->u, s, (size_t)len);
    a->len = len;
}

/* Family, port and address; an IPv4-mapped IPv6 address counts as IPv4 (as sock.c). */
static uint8_t addr_key(const struct sockaddr *sa, socklen_t len, uint8_t k[KEY_MAX])
{
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        k[0] = 4;
        memcpy(k + 1, &in->sin_port, 2);
        memcpy(k + 3, &in->sin_addr, 4);
        return 7;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            k[0] = 4;
            memcpy(k + 1, &in6->sin6_port, 2);
            memcpy(k + 3, in6->sin6_addr.s6_addr + 12, 4);
            return 7;
        }
        k[0] = 6;
        memcpy(k + 1, &in6->sin6_port, 2);
        memcpy(k + 3, &in6->sin6_addr, 16);
        rudp_put32(k + 19, in6->sin6_scope_id);
        return 23;
    }
    k[0] = 0;
    return 1;
}

static uint64_t key_hash(const rudp_dtls_t *d, const uint8_t *k, uint8_t n)
{
    return rudp_siphash24(d->hkey, k, n);
}

struct key_ref {
    const uint8_t *k;
    uint8_t n;
};

static int key_eq(const void *obj, const void *ctx)
{
    const struct sess *s = obj;
    const struct key_ref *r = ctx;
    return s->key_len == r->n && memcmp(s->key, r->k, r->n) == 0;
}

static struct sess *table_find(const rudp_dtls_t *d, const uint8_t *k, uint8_t n)
{
    if (!d->slots)
        return d->client;
    struct key_ref r = { k, n };
    return rudp_idtab_find(&d->table, key_hash(d, k, n), key_eq, &r);
}

static void table_insert(rudp_dtls_t *d, struct sess *s)
{
    /* The table has room for max sessions, and no more are ever made. */
    (void)rudp_idtab_insert(&d->table, key_hash(d, s->key, s->key_len), s);
}

static void table_remove(rudp_dtls_t *d, const struct sess *s)
{
    (void)rudp_idtab_remove(&d->table, key_hash(d, s->key, s->key_len), s);
}

static void set_deadline(rudp_dtls_t *d, struct sess *s, uint64_t t)
{
    if (t == UINT64_MAX)
        rudp_heap_remove(&d->due, &s->due);
    else
        (void)rudp_heap_set(&d->due, &s->due, t); /* its size is max sessions */
}

static unsigned int timer_cb(SSL *ssl, unsigned int previous_us)
{
    (void)ssl;
    if (previous_us == 0)
        return TIMER_FIRST_US;
    return previous_us >= TIMER_MAX_US / 2 ? TIMER_MAX_US : previous_us * 2;
}

/* ---- sessions -------------------------------------------------------------------- */

static SSL *ssl_new(rudp_dtls_t *d, struct sess *s, struct bio_ctx **bio_out)
{
    SSL *ssl = SSL_new(d->ctx);
    BIO *b = ssl ? BIO_new(d->meth) : NULL;
    struct bio_ctx *c = b ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        BIO_free(b);
        SSL_free(ssl);
        return NULL;
    }
    c->d = d;
    c->s = s;
    BIO_set_data(b, c);
    SSL_set_bio(ssl, b, b);
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, RUDP_MAX_DATAGRAM);
    DTLS_set_timer_cb(ssl, timer_cb);
    *bio_out = c;
    return ssl;
}

static void sess_free(rudp_dtls_t *d, struct sess *s)
{
    rudp_heap_remove(&d->due, &s->due);
    if (d->slots) {
        table_remove(d, s);
        rudp_sources_put(&d->sources, &s->source);
    } else
        d->client = NULL;
    SSL_free(s->ssl);
    free(s);
    d->n--;
}

/* Ends a session: the state hook, then free. For a client, `why` is kept. */
static void sess_end(rudp_dtls_t *d, struct sess *s, const char *why, int failed)
{
    (void)failed;
    if (!s->up)
        d->st.handshake_failed++;
    if (d->server) {
        /* The reasons are kept for a client's one line; a server starts afresh. */
        d->alert_in[0] = d->alert_out[0] = d->verify_msg[0] = '\0';
    }
    if (!d->server && why && !d->err[0])
        snprintf(d->err, sizeof d->err, "%s", why);
    if (!d->server)
        d->failed = 1;
    sa_t peer = s->peer;
    sess_free(d, s);
    if (d->hooks.state)
        d->hooks.state(d->hooks.user, &peer.u.sa, peer.len, 0);
}

/* The one line for a handshake that failed, from what OpenSSL and the callbacks saw. */
static void failure_reason(rudp_dtls_t *d, const struct sess *s, char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (d->verify_msg[0]) {
        snprintf(out, cap, "%s", d->verify_msg);
    } else if (!d->server && strcmp(d->alert_in, SSL_alert_desc_string_long(
                                                     2 << 8 | DTLS_ALERT_ACCESS_DENIED)) == 0) {
        snprintf(out, cap,
                 "the server has no room for another DTLS session (it holds as many as "
                 "it allows, or as many as it allows from this address): try again "
                 "later");
    } else if (d->alert_in[0]) {
        snprintf(out, cap, "the peer ended the DTLS handshake with alert \"%s\"%s", d->alert_in,
                 d->psk_len ? " (do both sides use the same --psk and "
                              "--psk-identity?)"
                            : "");
    } else if (!d->server && s && SSL_get_verify_result(s->ssl) != X509_V_OK) {
        snprintf(out, cap, "the server's certificate did not verify: %s",
                 X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
    } else if (d->alert_out[0]) {
        snprintf(out, cap, "DTLS handshake refused here with alert \"%s\"", d->alert_out);
    } else if (e) {
        snprintf(out, cap, "DTLS handshake failed: %s", ERR_reason_error_string(e));
    } else {
        snprintf(out, cap, "DTLS handshake failed");
    }
}

static void rekey(rudp_dtls_t *d, struct sess *s, uint64_t now)
{
    uint64_t t = UINT64_MAX;
    struct timeval tv;
    if (DTLSv1_get_timeout(s->ssl, &tv) == 1)
        t = now + (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
    uint64_t limit = s->up ? s->last_rx + RUDP_DTLS_IDLE_US : s->started + d->hs_timeout_us;
    if (s->linger_until && s->linger_until < limit)
        limit = s->linger_until;
    if (limit < t)
        t = limit;
    if (t <= now)
        t = now + 1000; /* a timer OpenSSL did not act on yet: look again in 1 ms */
    set_deadline(d, s, t);
}

/* Runs the handshake or reads what the input made available. Returns 0, or -1 once the
 * session is gone. */
static int drive(rudp_dtls_t *d, struct sess *s, uint64_t now)
{
    if (!s->up) {
        ERR_clear_error();
        int r = SSL_do_handshake(s->ssl);
        if (r != 1) {
            int e = SSL_get_error(s->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                rekey(d, s, now);
                return 0;
            }
            char why[256];
            failure_reason(d, s, why, sizeof why);
            ERR_clear_error();
            sess_end(d, s, why, 1);
            return -1;
        }
        s->up = 1;
        s->last_rx = now;
        d->st.handshakes++;
        if (d->hooks.state)
            d->hooks.state(d->hooks.user, &s->peer.u.sa, s->peer.len, 1);
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(s->ssl, d->buf, sizeof d->buf);
        if (r > 0) {
            d->delivered++;
            s->last_rx = now;
            d->hooks.in(d->hooks.user, &s->peer.u.sa, s->peer.len, &s->local.u.sa, s->local.len,
                        d->buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(s->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        char why[256];
        if (e == SSL_ERROR_ZERO_RETURN)
            snprintf(why, sizeof why, "the peer closed the DTLS session");
        else
            failure_reason(d, s, why, sizeof why);
        ERR_clear_error();
        sess_end(d, s, why, 0);
        return -1;
    }
    rekey(d, s, now);
    return 0;
}

static struct sess *sess_new(rudp_dtls_t *d, const uint8_t *key, uint8_t key_len, uint64_t now)
{
    struct sess *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->peer = d->cur_peer;
    s->local = d->cur_local;
    memcpy(s->key, key, key_len);
    s->key_len = key_len;
    s->started = now;
    rudp_heap_node_init(&s->due);
    /* A server's is counted for its host (accept() checked it had room). */
    if (d->slots && rudp_sources_take(&d->sources, key, key_len, &s->source) != 0) {
        free(s);
        return NULL;
    }
    d->n++;
    return s;
}

static int listener_open(rudp_dtls_t *d)
{
    d->listener = ssl_new(d, NULL, &d->listener_bio);
    return d->listener ? 0 : RUDP_ENOMEM;
}

/* A datagram for an existing session. */
static void sess_input(rudp_dtls_t *d, struct sess *s, const uint8_t *data, size_t len,
                       uint64_t now)
{
    uint64_t seq = 0;
    unsigned napp = s->up ? dtls_app_records(data, len, &seq) : 0;
    uint64_t before = d->delivered, wrote = d->wrote;
    int was_up = s->up;
    /* An encrypted handshake record (epoch 1: the peer's Finished) that neither completes
     * the handshake nor draws an answer failed authentication: a wrong key or PSK. */
    int encrypted_hs = !s->up && len >= 13 && data[0] == 22 && (data[3] | data[4]) != 0;
    s->bio->in = data;
    s->bio->in_len = len;
    if (drive(d, s, now) != 0)
        return;
    s->bio->in = NULL;
    if (!was_up && encrypted_hs && !s->up && d->wrote == wrote)
        d->st.bad_records++;
    uint64_t got = d->delivered - before;
    if (napp == 1) {
        if (got >= 1)
            dtls_mark_seen(s, seq);
        else if (dtls_seen(s, seq))
            d->st.replayed++;
        else
            d->st.bad_records++;
    } else if (got < napp) {
        d->st.bad_records += napp - got;
    }
}

static int admit(rudp_dtls_t *d, const uint8_t *key, uint8_t key_len, uint64_t now)
{
    uint8_t src[RUDP_SOURCE_MAX];
    size_t n = d->rate ? rudp_source_of(key, key_len, src) : 0;
    return n == 0 || rudp_ratelimit_admit(d->rate, src, n, now);
}

/* The table is full: the lingering session (its application done with it) nearest its
 * end closes now to make room, so sessions on their way out cannot keep a new peer out.
 * A scan of the table, paid only while it is full and only for a ClientHello whose
 * cookie has proven its address. */
static void end_lingering(rudp_dtls_t *d)
{
    struct sess *oldest = NULL;
    for (uint32_t i = 0; i <= d->table.mask; i++) {
        struct sess *s = d->slots[i].obj;
        if (s && s->linger_until && (!oldest || s->linger_until < oldest->linger_until))
            oldest = s;
    }
    if (oldest)
        rudp_dtls_close(d, &oldest->peer.u.sa, oldest->peer.len);
}

/* A validated ClientHello the server has no room for: a fatal access_denied alert, so
 * the client ends at once with a reason instead of retrying until its timeout. The
 * listening object has no session to send it through: the record is made here, in
 * epoch 0 with the ClientHello's sequence number as a HelloVerifyRequest is (RFC 6347
 * §4.2.1), so the client's replay window takes it. */
static void refuse(rudp_dtls_t *d, const uint8_t *hello)
{
    uint8_t a[RUDP_DTLS_ALERT_SIZE];
    rudp_dtls_plain_alert(a);
    memcpy(a + 5, hello + 5, 6);
    a[14] = DTLS_ALERT_ACCESS_DENIED;
    d->hooks.out(d->hooks.user, &d->cur_peer.u.sa, d->cur_peer.len, &d->cur_local.u.sa,
                 d->cur_local.len, a, sizeof a);
}

/* The server's front door for an address without a session (see the top). */
static void front_door(rudp_dtls_t *d, const uint8_t *data, size_t len, uint64_t now)
{
    if (!rudp_dtls_is_record(data, len)) {
        d->st.plaintext++;
        if (3 * len >= RUDP_DTLS_ALERT_SIZE && admit(d, d->cur_key, d->cur_key_len, now)) {
            uint8_t a[RUDP_DTLS_ALERT_SIZE];
            rudp_dtls_plain_alert(a);
            d->hooks.out(d->hooks.user, &d->cur_peer.u.sa, d->cur_peer.len, &d->cur_local.u.sa,
                         d->cur_local.len, a, sizeof a);
            d->st.alerts_sent++;
        }
        return;
    }
    if (!dtls_is_client_hello(data, len)) {
        d->st.no_session++;
        return;
    }
    if (!admit(d, d->cur_key, d->cur_key_len, now)) {
        d->st.rate_limited++;
        return;
    }
    if (!d->listener && listener_open(d) != 0)
        return;
    uint64_t wrote = d->wrote;
    d->listener_bio->in = data;
    d->listener_bio->in_len = len;
    ERR_clear_error();
    int r = DTLSv1_listen(d->listener, d->listen_addr);
    d->listener_bio->in = NULL;
    ERR_clear_error();
    if (r <= 0) {
        if (d->wrote > wrote)
            d->st.cookies_sent++;
        else
            d->st.no_session++; /* a ClientHello that did not parse */
        if (r < 0) {
            SSL_free(d->listener); /* start the next one clean */
            d->listener = NULL;
        }
        return;
    }
    /* The cookie checked out: the listening object becomes this peer's session. */
    SSL *ssl = d->listener;
    struct bio_ctx *bio = d->listener_bio;
    d->listener = NULL;
    d->listener_bio = NULL;
    /* One host may not hold every session (as the rudp front door's per-source cap). */
    int host_full = rudp_sources_full(&d->sources, d->cur_key, d->cur_key_len);
    if (d->n >= d->max && !host_full)
        end_lingering(d);
    struct sess *s =
        d->n < d->max && !host_full ? sess_new(d, d->cur_key, d->cur_key_len, now) : NULL;
    if (!s) {
        if (host_full)
            d->st.refused_source++;
        else
            d->st.refused_full++;
        SSL_free(ssl);
        refuse(d, data);
        return;
    }
    s->ssl = ssl;
    s->bio = bio;
    bio->s = s;
    table_insert(d, s);
    drive(d, s, now);
}

/* ---- the API --------------------------------------------------------------------- */

int rudp_dtls_input(rudp_dtls_t *d, const uint8_t *data, size_t len, const struct sockaddr *from,
                    socklen_t fromlen, const struct sockaddr *to, socklen_t tolen, uint64_t now)
{
    if (!d || !data || !from)
        return 0;
    d->now = now;
    uint8_t key[KEY_MAX];
    uint8_t key_len = addr_key(from, fromlen, key);
    struct sess *s = table_find(d, key, key_len);
    if (s) {
        if (!rudp_dtls_is_record(data, len)) {
            d->st.plaintext++;
            return 0;
        }
        if (to && tolen)
            sa_set(&s->local, to, tolen);
        sess_input(d, s, data, len, now);
        return 1;
    }
    if (!d->server) {
        d->st.plaintext += !rudp_dtls_is_record(data, len);
        d->st.no_session += rudp_dtls_is_record(data, len);
        return 0;
    }
    sa_set(&d->cur_peer, from, fromlen);
    sa_set(&d->cur_local, to, tolen);
    memcpy(d->cur_key, key, key_len);
    d->cur_key_len = key_len;
    uint64_t n = d->n;
    front_door(d, data, len, now);
    return d->n > n;
}

static struct sess *find_sa(const rudp_dtls_t *d, const struct sockaddr *sa, socklen_t len)
{
    if (!d->server)
        return d->client;
    if (!sa)
        return NULL;
    uint8_t key[KEY_MAX];
    uint8_t n = addr_key(sa, len, key);
    return table_find(d, key, n);
}

int rudp_dtls_send(rudp_dtls_t *d, const struct sockaddr *to, socklen_t tolen, const uint8_t *msg,
                   size_t len, uint64_t now)
{
    if (!d || !msg)
        return RUDP_EINVAL;
    if (len > RUDP_MAX_DATAGRAM)
        return RUDP_EMSGSIZE;
    struct sess *s = find_sa(d, to, tolen);
    if (!s || !s->up)
        return RUDP_EAGAIN;
    ERR_clear_error();
    int r = SSL_write(s->ssl, msg, (int)len);
    if (r == (int)len)
        return 0;
    int e = SSL_get_error(s->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return RUDP_EAGAIN;
    char why[256];
    failure_reason(d, s, why, sizeof why);
    ERR_clear_error();
    sess_end(d, s, why, 0);
    (void)now;
    return RUDP_ESYS;
}

void rudp_dtls_close(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen)
{
    if (!d)
        return;
    struct sess *s = find_sa(d, peer, peerlen);
    if (!s)
        return;
    if (s->up) {
        ERR_clear_error();
        SSL_shutdown(s->ssl);
        ERR_clear_error();
    }
    sess_free(d, s);
}

void rudp_dtls_release(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen, uint64_t now)
{
    struct sess *s = d ? find_sa(d, peer, peerlen) : NULL;
    if (!s)
        return;
    s->linger_until = now + RUDP_DTLS_LINGER_US;
    rudp_sources_put(&d->sources, &s->source); /* its host may open the next one at once */
    rekey(d, s, now);
}

int rudp_dtls_established(const rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen)
{
    if (!d)
        return 0;
    const struct sess *s = d->server ? find_sa(d, peer, peerlen) : d->client;
    return s && s->up;
}

uint64_t rudp_dtls_next_timeout(const rudp_dtls_t *d)
{
    return d ? rudp_heap_min(&d->due) : UINT64_MAX;
}

void rudp_dtls_timers(rudp_dtls_t *d, uint64_t now)
{
    if (!d)
        return;
    d->now = now;
    for (uint32_t k = 0, limit = d->due.n; k < limit; k++) {
        rudp_heap_node_t *top = rudp_heap_top(&d->due);
        if (!top || top->key > now)
            break;
        struct sess *s = RUDP_HEAP_OF(top, struct sess, due);
        if (!s->up && now >= s->started + d->hs_timeout_us) {
            if (!d->server)
                d->timed_out = 1;
            char why[160];
            snprintf(why, sizeof why, "no DTLS handshake within %llu ms",
                     (unsigned long long)(d->hs_timeout_us / 1000u));
            sess_end(d, s, why, 1);
            continue;
        }
        if (s->linger_until && now >= s->linger_until) {
            sa_t peer = s->peer;
            rudp_dtls_close(d, &peer.u.sa, peer.len);
            continue;
        }
        if (s->up && now >= s->last_rx + RUDP_DTLS_IDLE_US) {
            sess_end(d, s, "the DTLS session was idle too long", 0);
            continue;
        }
        ERR_clear_error();
        if (DTLSv1_handle_timeout(s->ssl) < 0) {
            char why[256];
            failure_reason(d, s, why, sizeof why);
            ERR_clear_error();
            sess_end(d, s, why, 1);
            continue;
        }
        rekey(d, s, now);
    }
}

void rudp_dtls_stats(const rudp_dtls_t *d, rudp_dtls_stats_t *out)
{
    if (!d || !out)
        return;
    *out = d->st;
    out->sessions = d->n;
    if (d->rate)
        out->rate_limited = d->st.rate_limited;
}

const char *rudp_dtls_error(const rudp_dtls_t *d)
{
    return d && d->err[0] ? d->err : NULL;
}

int rudp_dtls_timed_out(const rudp_dtls_t *d)
{
    return d ? d->timed_out : 0;
}

int rudp_dtls_connect(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen,
                      const char *host, uint64_t now)
{
    if (!d || d->server || !peer)
        return RUDP_EINVAL;
    if (d->client || d->failed)
        return RUDP_ESTATE;
    uint8_t key[KEY_MAX];
    uint8_t n = addr_key(peer, peerlen, key);
    sa_set(&d->cur_peer, peer, peerlen);
    memset(&d->cur_local, 0, sizeof d->cur_local);
    struct sess *s = sess_new(d, key, n, now);
    if (!s)
        return RUDP_ENOMEM;
    s->ssl = ssl_new(d, s, &s->bio);
    if (!s->ssl) {
        free(s);
        d->n--;
        return RUDP_ENOMEM;
    }
    d->client = s;
    if (host && !d->psk_len && !d->pin) {
        struct in6_addr a6;
        struct in_addr a4;
        if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), host);
        else
            SSL_set1_host(s->ssl, host);
    }
    SSL_set_connect_state(s->ssl);
    d->now = now;
    drive(d, s, now); /* the ClientHello leaves */
    return 0;
}

int rudp_dtls_new(rudp_dtls_t **out, int server, const rudp_dtls_config_t *cfg,
                  uint32_t max_sessions, uint32_t rate, uint32_t burst,
                  const rudp_dtls_hooks_t *hooks, char *err, size_t errcap)
{
    char dummy[8];
    if (!err || errcap == 0) {
        err = dummy;
        errcap = sizeof dummy;
    }
    err[0] = '\0';
    if (!out || !cfg || !hooks || !hooks->out || !hooks->in || max_sessions < 1)
        return RUDP_EINVAL;
    *out = NULL;
    rudp_dtls_t *d = calloc(1, sizeof *d);
    if (!d)
        return RUDP_ENOMEM;
    d->server = server;
    d->hooks = *hooks;
    d->max = server ? max_sessions : 1;
    uint32_t ms =
        cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : RUDP_DTLS_DEFAULT_HANDSHAKE_MS;
    d->hs_timeout_us = (uint64_t)ms * 1000u;
    int rc = 0;
    d->meth = dtls_bio_method();
    if (!d->meth)
        rc = RUDP_ENOMEM;
    d->due_arr = calloc(d->max, sizeof(rudp_heap_node_t *));
    if (!rc && !d->due_arr)
        rc = RUDP_ENOMEM;
    if (!rc)
        rudp_heap_init(&d->due, d->due_arr, d->max);
    if (!rc && server) {
        uint32_t size = rudp_idtab_size_for(d->max);
        d->slots = calloc(size, sizeof *d->slots);
        d->listen_addr = BIO_ADDR_new();
        if (!d->slots || !d->listen_addr)
            rc = RUDP_ENOMEM;
        else
            rudp_idtab_init(&d->table, d->slots, size);
        uint32_t per_source = cfg->max_per_source ? cfg->max_per_source : d->max / 8;
        if (!rc)
            rc = dtls_random(d->secret, sizeof d->secret);
        if (!rc)
            rc = dtls_random(d->hkey, sizeof d->hkey);
        if (!rc) /* keyed like the table */
            rc = rudp_sources_init(&d->sources, d->max, per_source ? per_source : 1, d->hkey);
        if (!rc && rate) {
            uint8_t k[RUDP_COOKIE_KEY_SIZE];
            d->rate = malloc(sizeof *d->rate);
            rc = d->rate ? dtls_random(k, sizeof k) : RUDP_ENOMEM;
            if (!rc)
                rc = rudp_ratelimit_init(d->rate, k, rate, burst ? burst : 2 * rate);
        }
    }
    if (!rc)
        rc = dtls_ctx_setup(d, cfg, err, errcap);
    if (!rc && server)
        rc = listener_open(d);
    if (rc) {
        if (!err[0])
            snprintf(err, errcap, "%s", rudp_strerror(rc));
        rudp_dtls_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void rudp_dtls_free(rudp_dtls_t *d)
{
    if (!d)
        return;
    if (d->slots) {
        for (uint32_t i = 0; i <= d->table.mask; i++) {
            struct sess *s = d->slots[i].obj;
            if (s) {
                SSL_free(s->ssl);
                free(s);
            }
        }
    } else if (d->client) {
        SSL_free(d->client->ssl);
        free(d->client);
    }
    rudp_sources_free(&d->sources);
    SSL_free(d->listener);
    BIO_ADDR_free(d->listen_addr);
    SSL_CTX_free(d->ctx);
    BIO_meth_free(d->meth);
    free(d->slots);
    free(d->due_arr);
    free(d->rate);
    OPENSSL_cleanse(d->secret, sizeof d->secret);
    OPENSSL_cleanse(d->psk, sizeof d->psk);
    free(d);
}
