/* client_tcp.c: hola-client over TCP: one connection, one name per line. Sending and
 * receiving share one poll() loop, so a long list cannot deadlock with a server that
 * stops reading until we read its replies. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "client.h"
#include "i18n.h"
#include "linebuf.h"
#include "out.h"
#include "replies.h"

/* Connects to one resolved address within timeout_ms; the descriptor (non-blocking), or
 * -1 with errno set (ETIMEDOUT when the time ran out). */
static int connect_one(const struct addrinfo *ai, unsigned long timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int fl, err = 0;
    socklen_t el = sizeof err;

    if (fd < 0)
        return -1;
    /* No Nagle: a name (lock-step) goes out at once rather than waiting for the ACK of
     * the last one; the comparisons with udp and rudp assume it. Best effort. */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Non-blocking connect, so --timeout bounds it instead of the kernel's minutes. */
    if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        goto fail;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS)
        goto fail;
    uint64_t deadline = hola_stats_now_us() + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int n = poll(&p, 1, hola_client_ms_left(deadline));
        if (n < 0 && errno == EINTR && !hola_client_interrupted())
            continue;
        if (n < 0)
            goto fail;
        if (n == 0) {
            errno = ETIMEDOUT;
            goto fail;
        }
        break;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        goto fail;
    if (err != 0) {
        errno = err;
        goto fail;
    }
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

/* Tries every address of the host in turn (localhost: ::1, then 127.0.0.1). */
static int connect_server(const struct hola_client_cfg *cfg, struct hola_err *e)
{
    struct addrinfo *list;
    char where[HOLA_ADDR_STRLEN + 256];
    int fd = -1, err = 0;

    hola_client_where(cfg, where, sizeof where);
    if (hola_addr_resolve(cfg->host, cfg->port, SOCK_STREAM, 0, &list, e) != 0)
        return -1;
    for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, cfg->timeout_ms);
        if (fd < 0)
            err = errno;
    }
    freeaddrinfo(list);
    if (fd < 0 && hola_client_interrupted())
        return hola_err_set(e, _("interrupted while connecting to %s (tcp)"), where);
    if (fd < 0)
        return hola_err_set(e, _("server not reachable at %s (tcp): %s"), where,
                            err == ETIMEDOUT ? _("no answer within the timeout") : strerror(err));
    return fd;
}

/* The bytes still to send, and which name ends where, so `sent` counts whole names. */
struct hola_outq {
    char *buf;
    size_t off, len;
    size_t *ends; /* ends[i]: offset just past name i's newline */
    size_t next;  /* first name not completely sent */
};

static int build_queue(struct hola_outq *q, const struct hola_names *names, struct hola_err *e)
{
    size_t total = 0;

    if (names->n == 0)
        return hola_err_set(e, _("no names to send"));
    for (size_t i = 0; i < names->n; i++)
        total += names->len[i] + 1;
    q->buf = malloc(total);
    q->ends = calloc(names->n, sizeof *q->ends);
    if (q->buf == NULL || q->ends == NULL)
        return hola_err_set(e, _("out of memory"));
    for (size_t i = 0; i < names->n; i++) {
        memcpy(q->buf + q->len, names->v[i], names->len[i]);
        q->len += names->len[i];
        q->buf[q->len++] = '\n';
        q->ends[i] = q->len;
    }
    return 0;
}

int hola_client_tcp_run(const struct hola_client_cfg *cfg, const struct hola_names *names,
                        struct hola_stats *st, struct hola_err *e)
{
    struct hola_outq q = { NULL, 0, 0, NULL, 0 };
    struct hola_linebuf in;
    struct hola_replies rep;
    size_t replies = 0;
    size_t allowed; /* bytes of q that may be sent now: all, or up to one name ahead */
    int rc = -1;
    bool shut = false;

    if (hola_replies_init(&rep, names, e) != 0)
        return -1;
    if (hola_linebuf_init(&in, HOLA_LINE_MAX) != 0) {
        hola_replies_free(&rep);
        return hola_err_set(e, _("out of memory"));
    }
    int fd = connect_server(cfg, e);
    if (fd < 0 || build_queue(&q, names, e) != 0)
        goto out;

    uint64_t deadline = hola_stats_now_us() + (uint64_t)cfg->timeout_ms * 1000u;
    while (replies < names->n) {
        allowed = cfg->lockstep ? q.ends[replies] : q.len;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (q.off < allowed)
            p.events |= POLLOUT;
        hola_out_flush();
        int n = poll(&p, 1, hola_client_ms_left(deadline));
        if (n < 0 && errno == EINTR && hola_client_interrupted()) {
            hola_err_set(e, _("interrupted after %zu of %zu replies"), replies, names->n);
            goto out;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            hola_err_set(e, "poll: %s", strerror(errno));
            goto out;
        }
        if (n == 0) {
            hola_err_set(e, _("no reply from the server within %lu ms (%zu of %zu answered)"),
                         cfg->timeout_ms, replies, names->n);
            goto out;
        }
        if (p.revents & POLLOUT) {
            /* Latency runs from just before the send() that takes a name's first byte,
             * as for udp's sendto() and rudp_sock_send(): the kernel's work is in it. */
            uint64_t t_send = hola_stats_now_us();
            ssize_t w = send(fd, q.buf + q.off, allowed - q.off, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                hola_err_set(e, _("sending to the server: %s (%zu of %zu answered)"),
                             strerror(errno), replies, names->n);
                goto out;
            }
            for (size_t i = q.next;
                 w > 0 && i < names->n && (i ? q.ends[i - 1] : 0) < q.off + (size_t)w; i++)
                hola_replies_sent(&rep, i, t_send); /* the first call per name counts */
            if (w > 0)
                q.off += (size_t)w;
            while (q.next < names->n && q.ends[q.next] <= q.off) {
                q.next++;
                st->sent++;
            }
            /* Half-close after the last name: the server sees EOF and knows we are done. */
            if (q.off == q.len && !shut) {
                shutdown(fd, SHUT_WR);
                shut = true;
            }
        }
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;

        size_t avail;
        char *space = hola_linebuf_space(&in, &avail);
        ssize_t r = recv(fd, space, avail, 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (r < 0) {
            hola_err_set(e, _("receiving from the server: %s (%zu of %zu answered)"),
                         strerror(errno), replies, names->n);
            goto out;
        }
        if (r == 0) {
            hola_err_set(e, _("the server closed the connection after %zu of %zu replies"), replies,
                         names->n);
            goto out;
        }
        hola_linebuf_commit(&in, (size_t)r);
        uint64_t t_recv = hola_stats_now_us(); /* the replies in this read came together */
        deadline = t_recv + (uint64_t)cfg->timeout_ms * 1000u;

        const char *line;
        size_t len;
        int got;
        while (replies < names->n && (got = hola_linebuf_next(&in, &line, &len)) != 0) {
            if (got == HOLA_LINEBUF_TOO_LONG) {
                hola_err_set(e, _("the server sent a line longer than %d bytes"), HOLA_LINE_MAX);
                goto out;
            }
            if (len >= 6 && memcmp(line, "error:", 6) == 0) {
                hola_err_set(e, _("the server refused name %zu: %.*s"), replies + 1,
                             (int)(len > 300 ? 300 : len), line);
                goto out;
            }
            /* TCP delivers in order: a reply that greets no waiting name, or not the
             * next one, would be a bug somewhere; --stats counts it (dup,
             * out_of_order) rather than hide it. */
            hola_replies_match(&rep, line, len, t_recv);
            hola_out_line(line, len);
            replies++;
            st->received++;
        }
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    hola_replies_add_stats(&rep, st, "out_of_order");
    hola_replies_free(&rep);
    hola_linebuf_free(&in);
    free(q.buf);
    free(q.ends);
    return rc;
}
