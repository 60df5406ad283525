/* server_udp.c: hola-server over UDP: one socket, one name per datagram, one reply
 * datagram per name. No connections, so nothing to accept, buffer or close. With
 * --secure every datagram is a DTLS record: secure.c keeps a session per client address
 * (made only after the stateless cookie exchange) and hands the decrypted names here;
 * each reply goes back inside the same session. In plaintext every source address is
 * unproven, so what a bad datagram draws (an error reply, a log line) is limited per
 * source and no reply exceeds 3x its request unless the source's budget pays for it
 * (throttle.c, docs/limits.md). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <inttypes.h>

#include "addr.h"
#include "i18n.h"
#include "impair.h"
#include "names.h"
#include "out.h"
#include "secure.h"
#include "server.h"
#include "throttle.h"

/* Larger than any UDP payload (65,507 bytes over IPv4), so no datagram is ever cut. */
#define DGRAM_MAX 65536

/* With --loss, --delay...: the replies go through this (NULL: straight out). */
static struct hola_impair *impair;
/* With --secure: the DTLS sessions (NULL: plaintext). */
static struct hola_dtls *sec;
/* The budgets for replies and log lines about bad datagrams. */
static struct hola_throttle *guard;

struct hola_udp_sec {
    struct hola_server *srv;
    int fd;
};

static void reply_to(int fd, const char *data, size_t n, const struct sockaddr *to, socklen_t tolen,
                     const char *peer)
{
    /* Fire and forget: UDP promises nothing, and a reply lost in our own send buffer is
     * the same lesson as one lost on the wire. The error is still reported. */
    if (sec != NULL) {
        if (hola_dtls_send(sec, to, tolen, (const uint8_t *)data, n) != 0 &&
            hola_throttle_log(guard, to, tolen, hola_stats_now_us()))
            fprintf(stderr, _("hola-server: %s: reply not sent: no DTLS session\n"), peer);
        return;
    }
    if (hola_impair_sendto(impair, fd, data, n, to, tolen) < 0) {
        int err = errno;
        if (hola_throttle_log(guard, to, tolen, hola_stats_now_us()))
            fprintf(stderr, _("hola-server: %s: reply not sent: %s\n"), peer, strerror(err));
    }
}

/* Sends the delayed replies that are due; errors concern one peer, not the server. */
static void flush_impair(int fd)
{
    while (hola_impair_flush(impair, fd) < 0 && errno != EAGAIN) {
        int err = errno;
        if (hola_throttle_log(guard, NULL, 0, hola_stats_now_us()))
            fprintf(stderr, _("hola-server: delayed reply not sent: %s\n"), strerror(err));
    }
}

/* The error reply for a refused datagram of req bytes, in msg: the full description if
 * it fits in 3x the request, else the shorter forms (DTLS peers always get the full
 * one). Returns its length, or 0 when not even "error" fits. */
static size_t error_reply(char *msg, size_t cap, const struct hola_name_check *chk, const char *why,
                          size_t req)
{
    size_t limit = sec != NULL ? cap - 1 : HOLA_THROTTLE_AMPLIFY * req;
    /* The preview in `why` is ASCII-safe and short, so each form fits in msg. */
    int len =
        snprintf(msg, cap, "error: %s%s", chk->status == HOLA_NAME_TOO_LONG ? _("name ") : "", why);
    if (len > 0 && (size_t)len <= limit)
        return (size_t)len;
    len = snprintf(msg, cap, "error: %s", hola_names_strerror(chk->status));
    if (len > 0 && (size_t)len <= limit)
        return (size_t)len;
    len = snprintf(msg, cap, "error");
    return (size_t)len <= limit ? (size_t)len : 0;
}

static void handle_datagram(struct hola_server *srv, int fd, const char *buf, size_t n,
                            const struct sockaddr *from, socklen_t fromlen)
{
    char peer[HOLA_ADDR_STRLEN];
    char reply[HOLA_REPLY_MAX];
    char why[HOLA_ERR_MAX];
    char msg[HOLA_ERR_MAX + 16];
    struct hola_name_check chk = hola_names_check(buf, n);
    /* A datagram typed into `nc -u` ends in a newline; answering in kind keeps nc's
     * output one reply per line, and hola-client sends none, so gets none. */
    bool newline = n > 0 && buf[n - 1] == '\n';

    hola_addr_format(from, fromlen, peer, sizeof peer);
    if (chk.status == HOLA_NAME_EMPTY)
        return;
    uint64_t now = hola_stats_now_us();
    if (chk.status != HOLA_NAME_OK) {
        hola_names_describe(buf, &chk, why, sizeof why);
        if (hola_throttle_log(guard, from, fromlen, now))
            fprintf(stderr, "hola-server: %s: %s\n", peer, why);
        srv->stats.rejected++;
        size_t len = error_reply(msg, sizeof msg, &chk, why, n);
        if (len == 0)
            hola_throttle_too_big(guard);
        else if (sec != NULL || hola_throttle_reply(guard, from, fromlen, n, len, true, now))
            reply_to(fd, msg, len, from, fromlen, peer);
        return;
    }
    size_t len = hola_server_greet(srv, buf + chk.start, chk.len, reply, sizeof reply);
    if (newline)
        reply[len++] = '\n';
    /* "Hola " makes a 1- or 2-byte name's reply more than 3x: still answered, from the
     * source's budget. Inside DTLS the peer has proven its address. */
    if (sec != NULL || hola_throttle_reply(guard, from, fromlen, n, len, false, now)) {
        reply_to(fd, reply, len, from, fromlen, peer);
        srv->stats.sent++;
    }
}

/* DTLS records out (through the impairment, as plaintext datagrams go). */
static void sec_send(void *user, const struct sockaddr *to, socklen_t tolen, const uint8_t *d,
                     size_t n)
{
    struct hola_udp_sec *c = user;
    if (hola_impair_sendto(impair, c->fd, d, n, to, tolen) < 0 && errno != EAGAIN) {
        int err = errno;
        if (hola_throttle_log(guard, to, tolen, hola_stats_now_us()))
            fprintf(stderr, _("hola-server: DTLS record not sent: %s\n"), strerror(err));
    }
}

/* A decrypted datagram: a name, as in plaintext. */
static void sec_recv(void *user, const struct sockaddr *from, socklen_t fromlen, const uint8_t *d,
                     size_t n)
{
    struct hola_udp_sec *c = user;
    handle_datagram(c->srv, c->fd, (const char *)d, n, from, fromlen);
}

int hola_server_udp_run(struct hola_server *srv, struct hola_err *e)
{
    static char buf[DGRAM_MAX];
    struct hola_secure_cfg *scfg = NULL;
    struct hola_udp_sec sctx = { srv, -1 };
    int fd = -1;
    int rc = 0;

    if (hola_throttle_new(&guard, e) != 0)
        return -1;
    if (srv->cfg.net.secure) {
        /* The certificate (and its fingerprint line) before "listening on". */
        scfg = malloc(sizeof *scfg);
        if (scfg == NULL) {
            hola_throttle_free(guard);
            guard = NULL;
            return hola_err_set(e, _("out of memory"));
        }
        int r = hola_secure_setup(scfg, &srv->cfg.net, true, "hola-server", 0, e);
        if (r == 0) {
            scfg->dtls.max_per_source = (uint32_t)srv->cfg.max_per_source; /* 0: an eighth */
            r = hola_dtls_new(&sec, scfg, true, srv->cfg.net.max_clients,
                              srv->cfg.net.handshake_rate, sec_send, sec_recv, &sctx, e);
        }
        if (r != 0) {
            free(scfg);
            hola_throttle_free(guard);
            guard = NULL;
            return -1;
        }
    }
    fd = hola_server_open(srv, SOCK_DGRAM, e);
    sctx.fd = fd;
    if (fd < 0) {
        hola_dtls_free(sec);
        sec = NULL;
        free(scfg);
        hola_throttle_free(guard);
        guard = NULL;
        return -1;
    }
    if (srv->cfg.net.impair_on) {
        uint64_t seed = hola_netopts_seed(&srv->cfg.net);
        if (hola_impair_new(&impair, &srv->cfg.net.impair, seed, e) != 0) {
            close(fd);
            hola_throttle_free(guard);
            guard = NULL;
            return -1;
        }
        fprintf(stderr, _("hola-server: impairing outgoing datagrams, seed %" PRIu64 "\n"), seed);
    }
    for (;;) {
        /* Lines out before anything else: a failed stdout is seen (done) before the
         * loop sleeps again. */
        hola_out_flush();
        if (hola_server_done(srv))
            break;
        /* stdout too while its reader has lines to take: they go as soon as it reads. */
        struct pollfd pfd[3] = {
            { .fd = srv->stop_fd, .events = POLLIN },
            { .fd = fd, .events = POLLIN },
            { .fd = hola_out_pending() ? STDOUT_FILENO : -1, .events = POLLOUT },
        };
        int timeout = hola_impair_timeout_ms(impair);
        int due = sec != NULL ? hola_dtls_timeout_ms(sec) : -1;
        if (due >= 0 && (timeout < 0 || due < timeout))
            timeout = due;
        due = hola_throttle_timeout_ms(guard, hola_stats_now_us());
        if (due >= 0 && (timeout < 0 || due < timeout))
            timeout = due;
        int ready = poll(pfd, 3, timeout);
        int err = errno;
        hola_throttle_summary(guard, hola_stats_now_us(), false, stderr);
        if (sec != NULL)
            hola_dtls_timers(sec);
        flush_impair(fd);
        if (ready < 0) {
            if (err == EINTR)
                continue;
            rc = hola_err_set(e, "poll: %s", strerror(err));
            break;
        }
        if ((pfd[0].revents & POLLIN) && hola_server_signalled(srv))
            break;
        if (!(pfd[1].revents & (POLLIN | POLLERR)))
            continue;
        /* Read everything queued before polling again; stop at --count. */
        while (!hola_server_done(srv)) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                if (errno == EINTR)
                    continue;
                /* e.g. ECONNREFUSED left by an ICMP error for an earlier reply: it
                 * concerns one peer, not the server (and comes once per such reply). */
                int rerr = errno;
                if (hola_throttle_log(guard, NULL, 0, hola_stats_now_us()))
                    fprintf(stderr, "hola-server: recvfrom: %s\n", strerror(rerr));
                break;
            }
            if (sec != NULL)
                hola_dtls_input(sec, (const uint8_t *)buf, (size_t)n, (struct sockaddr *)&ss, sl);
            else
                handle_datagram(srv, fd, buf, (size_t)n, (struct sockaddr *)&ss, sl);
        }
    }
    /* Replies still held by --delay or --rate leave before the server does (bounded, and
     * a second signal stops at once). */
    uint64_t stop_us = hola_stats_now_us() + HOLA_SERVER_STOP_US;
    while (!hola_impair_empty(impair) && hola_stats_now_us() < stop_us) {
        struct pollfd p = { .fd = srv->stop_fd, .events = POLLIN };
        int t = hola_impair_timeout_ms(impair);
        hola_out_flush();
        if (poll(&p, 1, t < 0 || t > 100 ? 100 : t) > 0 && hola_server_signalled(srv))
            break;
        flush_impair(fd);
    }
    hola_impair_add_stats(impair, &srv->stats);
    hola_throttle_summary(guard, hola_stats_now_us(), true, stderr);
    hola_throttle_add_stats(guard, &srv->stats);
    hola_throttle_free(guard);
    guard = NULL;
    if (sec != NULL) {
        rudp_sock_dtls_stats_t ds;
        hola_dtls_stats(sec, &ds);
        hola_secure_add_stats(&srv->stats, &ds);
        hola_dtls_free(sec);
        sec = NULL;
    }
    free(scfg);
    hola_impair_free(impair);
    impair = NULL;
    close(fd);
    return rc;
}
