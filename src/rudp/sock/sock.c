/* rudp over a real UDP socket (rudp/sock.h): the driver's API and its step. The other
 * files of this folder hold the parts a step goes through: platform.c every system
 * call, demux.c the connections and their events, txpath.c the way out, impairlink.c
 * the built-in impairment, sockdtls.c DTLS, pcap.c the capture file.
 *
 * One step: one wait (until the earliest engine deadline, the impairment link's next
 * release, or a datagram), then every datagram read and handed to its engine (demux.c),
 * the timers due, the impairment link's releases, and one flush of the send ring.
 * Events are queued meanwhile and pulled afterwards (rudp_sock_service), so the
 * application never runs inside a step; what it sends while handling them waits for
 * the next step, where replies and ACKs share datagrams. */
#include "rudp/sock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demux.h"
#include "front.h"
#include "impairlink.h"
#include "sock_internal.h"
#include "sockdtls.h"
#include "txpath.h"

int rudp_random_bytes(void *buf, size_t n)
{
    return plat_random(buf, n);
}

uint64_t rudp_sock_now(const rudp_sock_t *s)
{
    (void)s;
    return plat_now_us();
}

/* ---- creation and teardown ------------------------------------------------------------ */

void rudp_sock_config_default(rudp_sock_config_t *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    rudp_config_default(&cfg->conn);
    cfg->max_clients = RUDP_SOCK_DEFAULT_MAX_CLIENTS;
    cfg->family = AF_UNSPEC;
    cfg->handshake_rate = RUDP_SOCK_DEFAULT_HANDSHAKE_RATE;
    cfg->gso = 1;
}

void rudp_sock_free(rudp_sock_t *s)
{
    if (!s)
        return;
    demux_free(s);
    front_free(s);
#ifdef RUDP_HAVE_DTLS
    rudp_dtls_free(s->dtls);
#endif
    plat_close(s->fd);
    plat_close(s->timer_fd);
    rudp_pcap_close(s->pcap);
    rudp_sim_link_free(s->link);
    free(s->rate);
    free(s->listener);
    free(s->tx);
    free(s->tx_bytes);
    plat_tx_free(s->ptx);
    plat_rx_free(s->rx);
    free(s);
}

static int config_check(const rudp_sock_config_t *cfg, int server)
{
    if (cfg->family != AF_UNSPEC && cfg->family != AF_INET && cfg->family != AF_INET6)
        return RUDP_EINVAL;
    if (cfg->dtls) {
        int rc = sockdtls_check(cfg);
        if (rc)
            return rc;
    }
    if (server && (cfg->max_clients < 1 || cfg->max_clients > RUDP_SOCK_MAX_CLIENTS))
        return RUDP_EINVAL;
    if (server && cfg->max_per_source > RUDP_SOCK_MAX_CLIENTS)
        return RUDP_EINVAL;
    if (server && (cfg->handshake_rate > RUDP_SOCK_MAX_HANDSHAKE_RATE ||
                   cfg->handshake_burst > RUDP_SOCK_MAX_HANDSHAKE_RATE))
        return RUDP_EINVAL;
    if (server) {
        /* A bad engine setting must fail here, not at the first client's handshake. */
        rudp_conn_t *probe = NULL;
        int rc = rudp_conn_new_client(&probe, &cfg->conn, 1, 1, 1);
        rudp_conn_free(probe);
        return rc;
    }
    return 0;
}

/* The listener's gate: one bucket per source host (rudp_source_of()). addr is
 * peer_key()'s canonical form. */
static int admit_source(void *user, const void *addr, size_t addrlen, uint64_t now)
{
    rudp_sock_t *s = user;
    uint8_t src[RUDP_SOURCE_MAX];
    size_t n = rudp_source_of(addr, addrlen, src);
    if (n == 0)
        return 1; /* not an address this driver made: nothing to limit by */
    return rudp_ratelimit_admit(s->rate, src, n, now);
}

static int front_door_open(rudp_sock_t *s, const rudp_sock_config_t *cfg)
{
    uint8_t key[RUDP_COOKIE_KEY_SIZE];
    int rc = plat_random(key, sizeof key);
    if (rc)
        return rc;
    s->listener = malloc(sizeof *s->listener);
    if (!s->listener)
        return RUDP_ENOMEM;
    rudp_listener_init(s->listener, key, 0);
    if (!cfg->handshake_rate)
        return 0;
    s->rate = malloc(sizeof *s->rate);
    if (!s->rate)
        return RUDP_ENOMEM;
    rc = plat_random(key, sizeof key);
    uint32_t burst = cfg->handshake_burst;
    if (burst == 0)
        burst = cfg->handshake_rate > UINT32_MAX / 2 ? UINT32_MAX : 2 * cfg->handshake_rate;
    if (!rc)
        rc = rudp_ratelimit_init(s->rate, key, cfg->handshake_rate, burst);
    if (!rc) {
        s->listener->admit = admit_source;
        s->listener->admit_user = s;
    }
    return rc;
}

/* Frees a socket half made, keeping errno for the caller of a RUDP_ESYS. */
static int free_keep_errno(rudp_sock_t *s, int rc)
{
    int e = errno;
    rudp_sock_free(s);
    errno = e;
    return rc;
}

static int sock_new(rudp_sock_t **out, int server, const rudp_sock_config_t *cfg)
{
    rudp_sock_t *s = calloc(1, sizeof *s);
    if (!s)
        return RUDP_ENOMEM;
    s->fd = -1;
    s->timer_fd = -1;
    s->server = server;
    s->now = plat_now_us();
    s->cfg = *cfg;
    s->cfg.pcap_path = NULL; /* the caller's string need not outlive this call */
    s->cfg.dtls = NULL;      /* nor the DTLS settings (read once, in sockdtls_open) */
    s->tx_cap = server ? TX_RING_SERVER : TX_RING_CLIENT;
    s->gso = cfg->gso;
    s->tx = malloc((size_t)s->tx_cap * sizeof *s->tx);
    s->tx_bytes = malloc((size_t)s->tx_cap * WIRE_MAX);
    s->ptx = plat_tx_new();
    s->rx = plat_rx_new();
    int rc = (!s->tx || !s->tx_bytes || !s->ptx || !s->rx) ? RUDP_ENOMEM : 0;
    if (!rc)
        rc = demux_open(s, server ? cfg->max_clients : 1);
    if (!rc && server)
        rc = front_door_open(s, cfg);
    if (!rc && server)
        rc = front_open(s);
    if (!rc && cfg->impair_on)
        rc = impair_open(s, &cfg->impair, cfg->seed);
    if (!rc && cfg->pcap_path)
        rc = rudp_pcap_open(&s->pcap, cfg->pcap_path);
    if (!rc && cfg->dtls)
        rc = sockdtls_open(s, cfg);
    if (rc)
        return free_keep_errno(s, rc);
    *out = s;
    return 0;
}

/* What both constructors share: the default config, its check, the socket and its
 * descriptor (a connected one for the client, a bound one for the server). */
static int sock_open(rudp_sock_t **out, int server, const char *host, const char *port,
                     const rudp_sock_config_t *cfg)
{
    rudp_sock_config_t dflt;
    if (!cfg) {
        rudp_sock_config_default(&dflt);
        cfg = &dflt;
    }
    rudp_sock_t *s = NULL;
    int rc = config_check(cfg, server);
    if (!rc)
        rc = sock_new(&s, server, cfg);
    if (!rc)
        rc = server ? plat_open_server(s, host, port, cfg->family)
                    : plat_open_client(s, host, port, cfg->family);
    if (!rc && server)
        plat_warm(s); /* a client would only hold up its INITIAL with it */
    if (rc)
        return free_keep_errno(s, rc);
    *out = s;
    return 0;
}

int rudp_sock_new_client(rudp_sock_t **out, const char *host, const char *port,
                         const rudp_sock_config_t *cfg)
{
    if (!out || !host || !port)
        return RUDP_EINVAL;
    *out = NULL;
    rudp_sock_t *s = NULL;
    int rc = sock_open(&s, 0, host, port, cfg);
    if (rc)
        return rc;
    uint64_t cid = 0;
    uint32_t isn = 0;
    rudp_conn_t *c = NULL;
    rc = plat_random(&cid, sizeof cid);
    if (!rc)
        rc = plat_random(&isn, sizeof isn);
    uint64_t now = s->now = plat_now_us();
    if (!rc)
        rc = rudp_conn_new_client(&c, &s->cfg.conn, cid, isn, now);
    if (!rc && !(s->client = entry_new(c, cid))) {
        rudp_conn_free(c);
        rc = RUDP_ENOMEM;
    }
    if (rc)
        return free_keep_errno(s, rc);
    struct entry *e = s->client;
    e->peer = s->peer;
    e->local = s->local;
    s->st.active = 1;
#ifdef RUDP_HAVE_DTLS
    if (s->dtls) {
        e->held = 1; /* until the DTLS handshake is done: see sockdtls.c */
        rc = rudp_dtls_connect(s->dtls, &s->peer.u.sa, s->peer.len, host, now);
        if (rc) {
            rudp_sock_free(s);
            return rc;
        }
    }
#endif
    /* The INITIAL (or the ClientHello) leaves now. */
    service(s, e, now);
    impair_pop(s, now);
    plat_tx_flush(s);
    pcap_settle(s);
    *out = s;
    return 0;
}

int rudp_sock_new_server(rudp_sock_t **out, const char *host, const char *port,
                         const rudp_sock_config_t *cfg)
{
    if (!out || !port)
        return RUDP_EINVAL;
    *out = NULL;
    return sock_open(out, 1, host, port, cfg);
}

/* ---- the step ------------------------------------------------------------------------ */

int rudp_sock_timeout_ms(const rudp_sock_t *s)
{
    if (!s)
        return -1;
    if (s->tx_blocked)
        return 1; /* callers polling only POLLIN must still come back to flush */
    uint64_t t = next_deadline(s);
    if (t == UINT64_MAX)
        return -1;
    uint64_t now = plat_now_us();
    if (t <= now)
        return 0;
    uint64_t ms = (t - now + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int64_t rudp_sock_timeout_us(const rudp_sock_t *s)
{
    if (!s)
        return -1;
    if (s->tx_blocked)
        return 1000; /* as rudp_sock_timeout_ms(): come back to flush */
    uint64_t t = next_deadline(s);
    if (t == UINT64_MAX)
        return -1;
    uint64_t now = plat_now_us();
    if (t <= now)
        return 0;
    return t - now > INT64_MAX ? INT64_MAX : (int64_t)(t - now);
}

size_t rudp_sock_pending(const rudp_sock_t *s)
{
    if (!s)
        return 0;
    rudp_sim_stats_t st = { 0 };
    rudp_sim_link_stats(s->link, &st);
    return (size_t)s->tx_n + (size_t)st.held;
}

/* The end of every step and every flush: the timers due at now and the link's releases
 * (not while the socket refuses more), then the send ring out and the capture settled. */
static void timers_and_flush(rudp_sock_t *s, uint64_t now)
{
    if (!s->tx_blocked) {
        run_timers(s, now);
        impair_pop(s, now);
    }
    plat_tx_flush(s);
    pcap_settle(s);
}

/* Everything after the wait: input, timers, the link's releases, the flush, all at the
 * one clock reading taken at the wake-up (reading it again for each part costs more
 * than the microseconds it would add). */
static int step_work(rudp_sock_t *s, int readable, int writable)
{
    int rc = 0;
    /* Timers due when the wait ended; a connection given a fresh event during the
     * reads below is due just after that, so it waits for the next step (demux.c). */
    uint64_t now = s->now = plat_now_us();
    if (s->tx_n > 0 && writable)
        plat_tx_flush(s);
    if (readable)
        rc = rx_all(s);
    if (s->refused)
        on_refused(s);
#ifdef RUDP_HAVE_DTLS
    if (s->dtls && !s->tx_blocked)
        rudp_dtls_timers(s->dtls, now);
#endif
    timers_and_flush(s, now);
    return rc;
}

static int step(rudp_sock_t *s, int64_t timeout_us, struct pollfd *fds, unsigned nfds)
{
    event_reap(s);
    s->deferring = 0;
    s->steps++;
    if (s->client) {
        uint64_t t = client_deadline(s);
        if (t != s->client->due.key)
            set_deadline(s, s->client, t);
    }
    uint64_t until = next_deadline(s), wait = UINT64_MAX, now = 0;
    if (until != UINT64_MAX) {
        now = plat_now_us();
        wait = until > now ? until - now : 0;
    }
    if (timeout_us >= 0 && (uint64_t)timeout_us < wait) {
        wait = (uint64_t)timeout_us;
        until = UINT64_MAX; /* the caller's limit ends this wait, not a deadline */
    }
    int in, out;
    int rc = plat_wait(s, wait, until, now, s->tx_n > 0, &in, &out, fds, nfds);
    if (rc)
        return rc < 0 ? rc : 0;
    return step_work(s, in, out);
}

int rudp_sock_step(rudp_sock_t *s, int timeout_ms)
{
    if (!s)
        return RUDP_EINVAL;
    return step(s, timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000, NULL, 0);
}

int rudp_sock_step_poll(rudp_sock_t *s, struct pollfd *fds, unsigned nfds, int64_t timeout_us)
{
    if (!s || (nfds && !fds) || nfds > RUDP_SOCK_MAX_POLLFDS)
        return RUDP_EINVAL;
    return step(s, timeout_us < 0 ? -1 : timeout_us, fds, nfds);
}

int rudp_sock_flush(rudp_sock_t *s)
{
    if (!s)
        return RUDP_EINVAL;
    s->deferring = 0;
    /* A fresh reading: the replies queued since the wake-up are due at it plus 1 µs. */
    s->now = plat_now_us();
    timers_and_flush(s, s->now);
    return 0;
}

int rudp_sock_next_event(rudp_sock_t *s, rudp_sock_event_t *ev)
{
    if (!s || !ev)
        return RUDP_EINVAL;
    return event_next(s, ev);
}

int rudp_sock_service(rudp_sock_t *s, rudp_sock_event_t *ev, int timeout_ms)
{
    if (!s || !ev)
        return RUDP_EINVAL;
    if (event_next(s, ev))
        return 1;
    int rc = rudp_sock_step(s, timeout_ms);
    if (rc < 0)
        return rc;
    return event_next(s, ev);
}

/* ---- the application's calls ---------------------------------------------------------- */

/* After the application queued something: hand it to the socket. Outside event handling
 * the datagrams are prepared and sent at once; while it handles events the next step (or
 * rudp_sock_flush) does both, so messages queued together share datagrams (coalescing)
 * and leave in one sendmmsg(). */
static void push_now(rudp_sock_t *s, struct entry *e)
{
    if (s->deferring) {
        /* Due at this step's clock already (an earlier message of the step): re-keying
         * it to the same time would only cost a heap walk per message. */
        if (e->due.key != s->now || e->due.pos == RUDP_HEAP_NONE)
            set_deadline(s, e, s->now);
        return;
    }
    uint64_t now = plat_now_us();
    service(s, e, now);
    impair_pop(s, now);
    plat_tx_flush(s);
    pcap_settle(s);
}

/* While handling events, whether what the application queued so far should leave before
 * the next message: a handler that queues a whole window (a client's first names, a
 * server's replies to a full batch) would otherwise keep the peer idle until the next
 * step. So the first full datagram's worth goes out at once: with coalescing, when this
 * message would not fit beside the ones waiting; without, after EARLY_MSGS messages.
 * The peer starts on it while the rest is queued, and the rest leaves together at the
 * end of the step: one system call, not one per datagram, on the side that is often
 * the slower (pipelined names: the client; docs/performance.md section 10). */
static int early_send(const rudp_sock_t *s, const struct entry *e, size_t len)
{
    if (!s->deferring || e->queued_msgs == 0 || e->early_step == s->steps)
        return 0;
    if (s->cfg.conn.coalesce)
        return e->queued_bytes + RUDP_RECORD_HEADER + len > RUDP_MAX_PAYLOAD;
    return e->queued_msgs >= EARLY_MSGS;
}

int rudp_sock_send(rudp_sock_t *s, rudp_conn_t *c, const void *msg, size_t len)
{
    if (!s || !c)
        return RUDP_EINVAL;
    struct entry *e = entry_of(s, c);
    if (!e)
        return RUDP_EINVAL;
    if (early_send(s, e, len)) {
        e->early_step = s->steps;
        service(s, e, s->now);
        impair_pop(s, s->now);
        plat_tx_flush(s); /* the next step flushes the pcap */
    }
    /* While the application handles a step's events, that step's clock (see now). */
    int rc = rudp_conn_send(c, msg, len, s->deferring ? s->now : plat_now_us());
    if (rc)
        return rc;
    if (e->queued_msgs < UINT16_MAX)
        e->queued_msgs++;
    e->queued_bytes += RUDP_RECORD_HEADER + (uint32_t)len;
    push_now(s, e);
    return 0;
}

int rudp_sock_close(rudp_sock_t *s, rudp_conn_t *c)
{
    if (!s || !c)
        return RUDP_EINVAL;
    struct entry *e = entry_of(s, c);
    if (!e)
        return RUDP_EINVAL;
    int rc = rudp_conn_close(c, s->deferring ? s->now : plat_now_us());
    if (rc)
        return rc;
    push_now(s, e);
    return 0;
}

int rudp_sock_abort(rudp_sock_t *s, rudp_conn_t *c)
{
    if (!s || !c)
        return RUDP_EINVAL;
    struct entry *e = entry_of(s, c);
    if (!e)
        return RUDP_EINVAL;
    /* The heap does not know of the abort: service it now so the RESET leaves. */
    rudp_conn_abort(c, plat_now_us());
    push_now(s, e);
    return 0;
}

int rudp_sock_set_user(rudp_sock_t *s, rudp_conn_t *c, void *user)
{
    if (!s || !c)
        return RUDP_EINVAL;
    struct entry *e = entry_of(s, c);
    if (!e)
        return RUDP_EINVAL;
    e->user = user;
    return 0;
}

rudp_conn_t *rudp_sock_conn(rudp_sock_t *s)
{
    return s && s->client ? s->client->conn : NULL;
}

int rudp_sock_local_port(const rudp_sock_t *s)
{
    return s ? plat_local_port(s->fd) : RUDP_EINVAL;
}

int rudp_sock_fd(const rudp_sock_t *s)
{
    return s ? s->fd : RUDP_EINVAL;
}

void rudp_sock_stats(const rudp_sock_t *s, rudp_sock_stats_t *out)
{
    if (!s || !out)
        return;
    *out = s->st;
    /* Counters only: the cookie key and the gate stay inside. A client has no
     * listener: only its garbage counts. */
    out->listener =
        (rudp_sock_front_stats_t){ .garbage = s->garbage,
                                   .unproven_validated = s->st.listener.unproven_validated,
                                   .unproven_dropped = s->st.listener.unproven_dropped };
    const rudp_listener_t *l = s->listener;
    if (l) {
        out->listener.retries_sent = l->retries_sent;
        out->listener.cookies_bad = l->cookies_bad;
        out->listener.cookies_expired = l->cookies_expired;
        out->listener.resets_sent = l->resets_sent;
        out->listener.garbage += l->garbage;
        out->listener.ignored = l->ignored;
        out->listener.checksum = l->checksum;
        out->listener.rate_limited = l->rate_limited;
        out->listener.accepted_unproven = l->accepted_unproven;
        out->listener.cookies_replayed = l->cookies_replayed;
    }
    if (s->rate)
        out->rate_sources_evicted = s->rate->evicted;
    if (s->link)
        rudp_sim_link_stats(s->link, &out->impair);
    out->impair_seed = s->seed;
#ifdef RUDP_HAVE_DTLS
    if (s->dtls)
        rudp_dtls_stats(s->dtls, &out->dtls);
#endif
}

int rudp_sock_dtls_available(void)
{
#ifdef RUDP_HAVE_DTLS
    return rudp_dtls_load(NULL, 0) == 0;
#else
    return 0;
#endif
}

const char *rudp_sock_security_error(const rudp_sock_t *s)
{
    if (!s)
        return NULL;
    if (s->sec_err[0])
        return s->sec_err;
#ifdef RUDP_HAVE_DTLS
    return rudp_dtls_error(s->dtls);
#else
    return NULL;
#endif
}
