/* client_udp.c: hola-client over UDP: one datagram per name on a connected socket, no
 * retransmission. Whatever does not come back before the timeout is reported as lost:
 * that is the behaviour the practice's UDP question is about. With --secure the client
 * first completes a DTLS handshake (bounded), then each name and reply is one DTLS
 * record: still lost when the network loses it, but private and authenticated. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <inttypes.h>

#include "addr.h"
#include "client.h"
#include "i18n.h"
#include "impair.h"
#include "out.h"
#include "replies.h"
#include "rudp/sock.h"
#include "secure.h"

/* A DTLS record header (rudp/dtls.h has the same test for the library): what a
 * plaintext client receives from a --secure server. */
static bool is_dtls_record(const char *b, size_t n)
{
    const unsigned char *d = (const unsigned char *)b;
    return n >= 13 && d[0] >= 20 && d[0] <= 25 && d[1] == 0xfe && (d[2] == 0xff || d[2] == 0xfd) &&
           13u + ((size_t)d[11] << 8 | d[12]) <= n;
}

/* Larger than any UDP payload. */
#define DGRAM_MAX 65536
/* Lost names listed by name in the report; beyond that, counted ("and N more") so one
 * line stays readable when thousands are lost. */
#define REPORT_MAX_NAMES 50

struct hola_udp_client {
    const struct hola_client_cfg *cfg;
    const struct hola_names *names;
    struct hola_stats *st;
    int fd;
    struct hola_replies rep; /* which names are answered, latency, dup, out of order */
    size_t sent;             /* names sent so far: 0..sent-1 */
    size_t answered_n;
    bool refused;               /* an ICMP port unreachable came back */
    size_t icmp_errors;         /* other ICMP errors: counted, not fatal (icmp_ignored) */
    struct hola_impair *impair; /* --loss, --delay...: NULL when none */
    struct hola_dtls *sec;      /* --secure: NULL when plaintext */
    struct hola_secure_cfg scfg;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    int send_errno; /* of the last DTLS record put on the socket */
    bool fatal;     /* DTLS met plaintext (or failed): one line, no report */
    char where[HOLA_ADDR_STRLEN + 256];
    char buf[DGRAM_MAX];
};

/* connect() on a UDP socket sends nothing; it fixes the peer, so the kernel drops
 * datagrams from anyone else and reports ICMP errors to us as ECONNREFUSED. */
static int open_socket(struct hola_udp_client *u, struct hola_err *e)
{
    struct addrinfo *list;
    int err = 0, fl;

    if (hola_addr_resolve(u->cfg->host, u->cfg->port, SOCK_DGRAM, 0, &list, e) != 0)
        return -1;
    u->fd = -1;
    for (const struct addrinfo *ai = list; ai != NULL && u->fd < 0; ai = ai->ai_next) {
        u->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (u->fd >= 0 && connect(u->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            close(u->fd);
            u->fd = -1;
        } else if (u->fd < 0) {
            err = errno;
        }
    }
    freeaddrinfo(list);
    if (u->fd < 0)
        return hola_err_set(e, _("cannot open a UDP socket to %s: %s"), u->where, strerror(err));
    if ((fl = fcntl(u->fd, F_GETFL)) < 0 || fcntl(u->fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return hola_err_set(e, "fcntl: %s", strerror(errno));
    return 0;
}

/* ICMP errors other than port unreachable (host, net or protocol unreachable,
 * communication prohibited...) end nothing: a router's verdict on one datagram says
 * little about the next, and anyone who guesses our port can forge one. They are
 * counted and reported. Port unreachable keeps its meaning, the lesson of a connected
 * UDP socket: nothing listens there (or no longer). */
static bool icmp_ignored(struct hola_udp_client *u, int err)
{
    if (err == ECONNREFUSED || !rudp_sock_icmp_errno(err))
        return false;
    u->icmp_errors++;
    return true;
}

/* Matches a reply to the first sent, unanswered name it greets, and prints it. */
static void take_reply(struct hola_udp_client *u, const char *r, size_t n)
{
    if (n > 0 && r[n - 1] == '\n')
        n--;
    if (n >= 5 && memcmp(r, "Hola ", 5) == 0) {
        if (hola_replies_match(&u->rep, r, n, hola_stats_now_us()) >= 0) {
            u->answered_n++;
            u->st->received++;
            hola_out_line(r, n);
            return;
        }
        /* A datagram can arrive twice; the second copy answers nothing new. */
        hola_out_flush();
        fprintf(stderr, _("hola-client: ignoring a reply that matches no waiting name\n"));
        return;
    }
    char preview[200];
    hola_names_preview(r, n, preview, sizeof preview);
    hola_out_flush();
    fprintf(stderr, _("hola-client: the server answered %s\n"), preview);
}

/* Reads every reply already queued, without waiting. -1 once the port is unreachable. */
static int drain(struct hola_udp_client *u, struct hola_err *e)
{
    for (;;) {
        ssize_t n = recv(u->fd, u->buf, sizeof u->buf, 0);
        if (n >= 0 && u->sec != NULL) {
            if (!is_dtls_record(u->buf, (size_t)n) && !hola_dtls_up(u->sec) && (u->fatal = true))
                return hola_err_set(e,
                                    _("%s (udp): the server answered in plaintext: it does "
                                      "not run with --secure"),
                                    u->where);
            hola_dtls_input(u->sec, (const uint8_t *)u->buf, (size_t)n, (struct sockaddr *)&u->peer,
                            u->peer_len);
            if (hola_dtls_failed(u->sec) && (u->fatal = true))
                return hola_err_set(e, "%s (udp): %s", u->where, hola_dtls_error(u->sec));
            continue;
        }
        if (n >= 0 && is_dtls_record(u->buf, (size_t)n) && (u->fatal = true))
            return hola_err_set(e, _("%s (udp): the server speaks DTLS: it requires --secure"),
                                u->where);
        if (n >= 0) {
            take_reply(u, u->buf, (size_t)n);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno == ECONNREFUSED) {
            u->refused = true;
            return -1;
        }
        if (icmp_ignored(u, errno))
            continue;
        return hola_err_set(e, _("receiving from %s: %s"), u->where, strerror(errno));
    }
}

/* Sends the datagrams the impairment has made due. -1 once the port is unreachable. */
static int flush_impair(struct hola_udp_client *u, bool *sent, struct hola_err *e)
{
    int n = hola_impair_flush(u->impair, u->fd);

    if (n > 0 && sent != NULL)
        *sent = true;
    if (n >= 0 || errno == EAGAIN)
        return 0;
    if (errno == ECONNREFUSED) {
        u->refused = true;
        return -1;
    }
    if (icmp_ignored(u, errno))
        return 0; /* the impairment tries that datagram once more */
    return hola_err_set(e, _("sending to %s: %s"), u->where, strerror(errno));
}

static int interrupted(const struct hola_udp_client *u, struct hola_err *e)
{
    return hola_err_set(e, _("interrupted after %zu of %zu replies"), u->answered_n, u->names->n);
}

/* Waits for replies until every one came, or name `until` is answered, or wait_us pass
 * after the last datagram left (a datagram held back by --delay leaves later). */
static int wait_replies(struct hola_udp_client *u, uint64_t wait_us, size_t until,
                        struct hola_err *e)
{
    uint64_t deadline_us = hola_stats_now_us() + wait_us;

    while (u->answered_n < u->names->n &&
           !(until < u->sent && hola_replies_is_answered(&u->rep, until))) {
        struct pollfd p = { .fd = u->fd, .events = POLLIN };
        int timeout = hola_client_ms_left(deadline_us);
        int due = hola_impair_timeout_ms(u->impair);
        if (due >= 0 && due < timeout)
            timeout = due;
        if (timeout == 0 && hola_impair_empty(u->impair))
            return 0;
        int sdue = u->sec != NULL ? hola_dtls_timeout_ms(u->sec) : -1;
        if (sdue >= 0 && sdue < timeout)
            timeout = sdue;
        hola_out_flush();
        int n = poll(&p, 1, timeout);
        if (u->sec != NULL)
            hola_dtls_timers(u->sec);
        if (n < 0 && errno == EINTR) {
            if (hola_client_interrupted())
                return interrupted(u, e);
            continue;
        }
        if (n < 0)
            return hola_err_set(e, "poll: %s", strerror(errno));
        bool sent = false;
        if (flush_impair(u, &sent, e) != 0)
            return -1;
        if (sent)
            deadline_us = hola_stats_now_us() + wait_us;
        if (n > 0 && drain(u, e) != 0)
            return -1;
    }
    return 0;
}

static int send_name(struct hola_udp_client *u, size_t i, struct hola_err *e)
{
    /* The impairment's queue is full (a long --delay or a slow --rate): let it drain
     * rather than overflow it, reading replies meanwhile. */
    while (hola_impair_room(u->impair) == 0) {
        struct pollfd p = { .fd = u->fd, .events = POLLIN };
        int t = hola_impair_timeout_ms(u->impair);
        hola_out_flush();
        if (poll(&p, 1, t < 0 ? 10 : t) < 0 && errno == EINTR && hola_client_interrupted())
            return interrupted(u, e);
        if (flush_impair(u, NULL, e) != 0 || ((p.revents & POLLIN) && drain(u, e) != 0))
            return -1;
    }
    uint64_t t_send;
    bool retried = false;
    for (;;) {
        t_send = hola_stats_now_us(); /* latency: from just before the send that takes it */
        if (u->sec != NULL) {
            /* One record per name; a record the socket would not take is made again. */
            u->send_errno = 0;
            if (hola_dtls_send(u->sec, NULL, 0, (const uint8_t *)u->names->v[i],
                               u->names->len[i]) != 0)
                return hola_err_set(e, "%s (udp): %s", u->where, hola_dtls_error(u->sec));
            if (u->send_errno == 0)
                break;
            errno = u->send_errno;
        } else if (hola_impair_sendto(u->impair, u->fd, u->names->v[i], u->names->len[i], NULL,
                                      0) == 0) {
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECONNREFUSED) {
            u->refused = true;
            return -1;
        }
        if (icmp_ignored(u, errno)) {
            /* The error was about an earlier datagram, but this one did not leave
             * either: sent once more. Through the impairment it is queued already; a
             * second error in a row loses it, as UDP may. */
            if (u->impair != NULL || retried)
                break;
            retried = true;
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            /* Our own send buffer is full: wait for room. Not a retransmission, the
             * datagram has not left yet. Reading meanwhile keeps replies flowing. */
            struct pollfd p = { .fd = u->fd, .events = POLLOUT | POLLIN };
            hola_out_flush();
            if (poll(&p, 1, 1000) < 0 && errno != EINTR)
                return hola_err_set(e, "poll: %s", strerror(errno));
            if (hola_client_interrupted())
                return interrupted(u, e);
            if ((p.revents & POLLIN) && drain(u, e) != 0)
                return -1;
            continue;
        }
        return hola_err_set(e, _("sending to %s: %s"), u->where, strerror(errno));
    }
    hola_replies_sent(&u->rep, i, t_send);
    u->sent++;
    u->st->sent++;
    return 0;
}

/* The closing report on stderr: counts, then every lost name. */
static void report(const struct hola_udp_client *u)
{
    char preview[4 * 40 + 8];
    size_t lost = u->sent - u->answered_n;

    /* Every reply printed goes out before the report: a terminal or a pipe that shows
     * both streams shows the report last, where it belongs. */
    hola_out_flush();
    fprintf(stderr, _("hola-client: udp: sent %zu, answered %zu, lost %zu"), u->sent, u->answered_n,
            lost);
    const char *sep = ": ";
    size_t listed = 0;
    for (size_t i = 0; i < u->sent && listed < REPORT_MAX_NAMES; i++) {
        if (!hola_replies_is_answered(&u->rep, i)) {
            hola_names_preview(u->names->v[i], u->names->len[i], preview, sizeof preview);
            fprintf(stderr, "%s%s", sep, preview);
            sep = ", ";
            listed++;
        }
    }
    if (listed < lost)
        fprintf(stderr, _(" and %zu more"), lost - listed);
    if (u->sent < u->names->n)
        fprintf(stderr, _("; %zu not sent"), u->names->n - u->sent);
    if (u->icmp_errors > 0)
        fprintf(stderr, _("; %zu ICMP errors ignored"), u->icmp_errors);
    fputc('\n', stderr);
}

static void sec_send(void *user, const struct sockaddr *to, socklen_t tolen, const uint8_t *d,
                     size_t n)
{
    struct hola_udp_client *u = user;
    (void)to;
    (void)tolen;
    if (hola_impair_sendto(u->impair, u->fd, d, n, NULL, 0) < 0)
        u->send_errno = errno;
}

static void sec_recv(void *user, const struct sockaddr *from, socklen_t fromlen, const uint8_t *d,
                     size_t n)
{
    (void)from;
    (void)fromlen;
    take_reply(user, (const char *)d, n);
}

/* --secure: the DTLS handshake, before any name leaves; bounded by the larger of
 * --timeout and 10 s (a lost flight is sent again after 200 ms, 400 ms...). */
static int handshake(struct hola_udp_client *u, struct hola_err *e)
{
    uint32_t ms = u->cfg->timeout_ms > 10000 ? (uint32_t)u->cfg->timeout_ms : 10000u;

    if (hola_secure_setup(&u->scfg, &u->cfg->net, false, "hola-client", ms, e) != 0 ||
        hola_dtls_new(&u->sec, &u->scfg, false, 1, 0, sec_send, sec_recv, u, e) != 0)
        return -1;
    u->peer_len = sizeof u->peer;
    if (getpeername(u->fd, (struct sockaddr *)&u->peer, &u->peer_len) != 0)
        return hola_err_set(e, "getpeername: %s", strerror(errno));
    if (hola_dtls_connect(u->sec, (struct sockaddr *)&u->peer, u->peer_len, u->cfg->host, e) != 0)
        return -1;
    while (!hola_dtls_up(u->sec)) {
        if (hola_dtls_failed(u->sec)) {
            const char *why = hola_dtls_error(u->sec);
            return hola_err_set(
                e, "%s (udp): %s%s", u->where, why,
                strncmp(why, "no DTLS", 7) == 0 ? _(": is the server running with --secure?") : "");
        }
        int timeout = hola_dtls_timeout_ms(u->sec);
        int due = hola_impair_timeout_ms(u->impair);
        if (due >= 0 && (timeout < 0 || due < timeout))
            timeout = due;
        struct pollfd p = { .fd = u->fd, .events = POLLIN };
        int n = poll(&p, 1, timeout);
        if (n < 0 && errno == EINTR) {
            if (hola_client_interrupted())
                return interrupted(u, e);
            continue;
        }
        if (n < 0)
            return hola_err_set(e, "poll: %s", strerror(errno));
        if (flush_impair(u, NULL, e) != 0)
            return -1;
        if (n > 0 && drain(u, e) != 0)
            return -1;
        hola_dtls_timers(u->sec);
    }
    return 0;
}

int hola_client_udp_run(const struct hola_client_cfg *cfg, const struct hola_names *names,
                        struct hola_stats *st, struct hola_err *e)
{
    struct hola_udp_client *u = calloc(1, sizeof *u);
    int rc = -1;
    uint64_t wait_us = (uint64_t)cfg->timeout_ms * 1000u;

    if (u == NULL)
        return hola_err_set(e, _("out of memory"));
    u->cfg = cfg;
    u->names = names;
    u->st = st;
    u->fd = -1;
    hola_client_where(cfg, u->where, sizeof u->where);
    if (hola_replies_init(&u->rep, names, e) != 0)
        goto out;
    if (open_socket(u, e) != 0)
        goto out;
    if (cfg->net.impair_on) {
        uint64_t seed = hola_netopts_seed(&cfg->net);
        if (hola_impair_new(&u->impair, &cfg->net.impair, seed, e) != 0)
            goto out;
        fprintf(stderr, _("hola-client: impairing outgoing datagrams, seed %" PRIu64 "\n"), seed);
    }

    int r = 0;
    if (cfg->net.secure && handshake(u, e) != 0) {
        if (!u->refused)
            goto out;
        r = -1; /* ICMP port unreachable: the usual message below */
    }
    for (size_t i = 0; i < names->n && r == 0; i++) {
        r = send_name(u, i, e);
        /* Pipelined: pick up replies between sends so our receive buffer never fills.
         * Lockstep: wait for this name's reply (or the timeout) before the next. */
        if (r == 0)
            r = cfg->lockstep ? wait_replies(u, wait_us, i, e) : drain(u, e);
    }
    if (r == 0 && !cfg->lockstep)
        r = wait_replies(u, wait_us, names->n, e);

    if (u->refused && u->answered_n == 0) {
        hola_err_set(e,
                     _("server not reachable at %s (udp): nothing listens on that port "
                       "(ICMP port unreachable)"),
                     u->where);
        goto out;
    }
    if (u->fatal)
        goto out; /* the one line says it all: no names were answered over it */
    report(u);
    if (u->refused)
        hola_err_set(e,
                     _("the server stopped answering (ICMP port unreachable) after %zu "
                       "replies"),
                     u->answered_n);
    else if (r != 0)
        goto out;
    else
        rc = u->answered_n == names->n ? 0 : HOLA_CLIENT_LOST;
out:
    if (u->icmp_errors > 0) /* rare: the usual line keeps its keys */
        hola_stats_add(st, "icmp_errors", u->icmp_errors);
    hola_impair_add_stats(u->impair, st);
    if (u->sec != NULL) {
        rudp_sock_dtls_stats_t ds;
        hola_dtls_stats(u->sec, &ds);
        hola_secure_add_stats(st, &ds);
        hola_dtls_free(u->sec);
    }
    if (u->rep.sent_us != NULL)
        hola_replies_add_stats(&u->rep, st, "out_of_order");
    hola_replies_free(&u->rep);
    hola_impair_free(u->impair);
    if (u->fd >= 0)
        close(u->fd);
    free(u);
    return rc;
}
