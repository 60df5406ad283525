/* server_tcp.c: hola-server over TCP: one poll() loop serving many connections, each with
 * its own line buffer (linebuf.c) and reply queue, so no client can stall another. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "i18n.h"
#include "linebuf.h"
#include "names.h"
#include "out.h"
#include "server.h"

/* Connections served at once; more wait in the kernel's accept queue. */
#define MAX_CONNS 256
/* A client that sends names without reading replies is not read from while this many
 * reply bytes wait for it: its own TCP window then slows it down, not our memory. */
#define OUT_HIGH_WATER 65536
/* How long a connection closed by the server keeps being drained (see CONN_DRAIN). */
#define DRAIN_US 1000000u
/* How long a stopping server waits for replies to be flushed. */
#define STOP_US 2000000u

enum hola_tcp_conn_state {
    CONN_OPEN,
    /* The peer sent EOF: send the queued replies, then close. */
    CONN_FLUSH_CLOSE,
    /* The server ends the connection (error, or stopping): send the queued replies, then
     * shutdown(SHUT_WR) and drain. */
    CONN_FLUSH_SHUTDOWN,
    /* Read and discard until the peer's EOF or a deadline, then close. Closing a socket
     * with unread input makes the kernel send RST, and an RST can destroy the replies
     * (or error line) the peer has not read yet. */
    CONN_DRAIN,
};

struct hola_tcp_conn {
    int fd;
    enum hola_tcp_conn_state state;
    char peer[HOLA_ADDR_STRLEN];
    struct hola_linebuf in;
    char *out;
    size_t out_off, out_len, out_cap;
    unsigned long lineno;
    uint64_t deadline_us;
};

struct hola_tcp_server {
    struct hola_server *srv;
    int lfd;
    struct hola_tcp_conn *conns[MAX_CONNS];
    size_t nconns;
};

static void conn_close(struct hola_tcp_server *ts, size_t i)
{
    struct hola_tcp_conn *c = ts->conns[i];

    close(c->fd);
    hola_linebuf_free(&c->in);
    free(c->out);
    free(c);
    ts->conns[i] = ts->conns[--ts->nconns];
}

static int queue(struct hola_tcp_conn *c, const char *data, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + n)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (p == NULL)
            return -1;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
    return 0;
}

/* Queues "error: ..." for the peer, logs the same with the peer's address on stderr, and
 * moves the connection to `next` (CONN_OPEN keeps it going). */
static void reject(struct hola_server *srv, struct hola_tcp_conn *c, enum hola_tcp_conn_state next,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reject(struct hola_server *srv, struct hola_tcp_conn *c, enum hola_tcp_conn_state next,
                   const char *fmt, ...)
{
    char msg[HOLA_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hola-server: %s: %s\n", c->peer, msg);
    srv->stats.rejected++;
    if (queue(c, "error: ", 7) != 0 || queue(c, msg, strlen(msg)) != 0 || queue(c, "\n", 1) != 0)
        next = CONN_FLUSH_SHUTDOWN;
    if (next != CONN_OPEN)
        c->state = next;
}

/* Handles one received line: skip, greet, or refuse. */
static void handle_line(struct hola_server *srv, struct hola_tcp_conn *c, const char *line,
                        size_t len)
{
    struct hola_name_check chk = hola_names_check(line, len);
    char reply[HOLA_REPLY_MAX];
    char why[HOLA_ERR_MAX];

    c->lineno++;
    switch (chk.status) {
    case HOLA_NAME_EMPTY:
        return;
    case HOLA_NAME_OK: {
        size_t n = hola_server_greet(srv, line + chk.start, chk.len, reply, sizeof reply);
        reply[n++] = '\n';
        if (queue(c, reply, n) != 0) {
            fprintf(stderr, _("hola-server: %s: out of memory, closing\n"), c->peer);
            c->state = CONN_FLUSH_SHUTDOWN;
            return;
        }
        srv->stats.sent++;
        return;
    }
    case HOLA_NAME_TOO_LONG:
        /* Refused like an over-long line: a client that sends these is not speaking
         * the protocol, and it cannot tell which of its names the error belongs to. */
        reject(srv, c, CONN_FLUSH_SHUTDOWN, _("line %lu: name too long (%zu bytes, at most %d)"),
               c->lineno, chk.len, HOLA_NAME_MAX);
        return;
    case HOLA_NAME_BAD_UTF8:
    case HOLA_NAME_CONTROL:
        hola_names_describe(line, &chk, why, sizeof why);
        reject(srv, c, CONN_OPEN, _("line %lu: %s"), c->lineno, why);
        return;
    }
}

/* Hands every complete line (and at EOF the unterminated last one) to handle_line(). */
static void read_lines(struct hola_server *srv, struct hola_tcp_conn *c, bool eof)
{
    const char *line;
    size_t len;

    while (c->state == CONN_OPEN && !hola_server_done(srv)) {
        int r =
            eof ? hola_linebuf_finish(&c->in, &line, &len) : hola_linebuf_next(&c->in, &line, &len);
        if (r == 0)
            break;
        if (r == HOLA_LINEBUF_TOO_LONG) {
            reject(srv, c, CONN_FLUSH_SHUTDOWN, _("line %lu: too long (more than %d bytes)"),
                   c->lineno + 1, HOLA_LINE_MAX);
            break;
        }
        handle_line(srv, c, line, len);
    }
    if (eof && c->state == CONN_OPEN)
        c->state = CONN_FLUSH_CLOSE;
}

/* Sends what is queued; -1 when the connection is dead. Then advances a closing state. */
static int flush(struct hola_tcp_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            fprintf(stderr, "hola-server: %s: %s\n", c->peer, strerror(errno));
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    if (c->state == CONN_FLUSH_CLOSE)
        return -1;
    if (c->state == CONN_FLUSH_SHUTDOWN) {
        shutdown(c->fd, SHUT_WR);
        c->state = CONN_DRAIN;
        c->deadline_us = hola_stats_now_us() + DRAIN_US;
    }
    return 0;
}

/* Reacts to poll()'s revents for one connection; -1 when it is to be closed. */
static int conn_io(struct hola_server *srv, struct hola_tcp_conn *c, short revents)
{
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && c->state == CONN_DRAIN) {
        char scratch[4096];
        ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return -1;
    } else if ((revents & (POLLIN | POLLHUP | POLLERR)) && c->state == CONN_OPEN) {
        size_t avail;
        char *space = hola_linebuf_space(&c->in, &avail);
        ssize_t n = recv(c->fd, space, avail, 0);
        if (n > 0) {
            hola_linebuf_commit(&c->in, (size_t)n);
            read_lines(srv, c, false);
        } else if (n == 0) {
            read_lines(srv, c, true);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            fprintf(stderr, "hola-server: %s: %s\n", c->peer, strerror(errno));
            return -1;
        }
    }
    /* Write at once rather than waiting for POLLOUT: the socket is nearly always
     * writable, and this saves a trip through poll() per reply. */
    return flush(c);
}

static void accept_all(struct hola_tcp_server *ts)
{
    while (ts->nconns < MAX_CONNS) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept(ts->lfd, (struct sockaddr *)&ss, &sl);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "hola-server: accept: %s\n", strerror(errno));
            return;
        }
        struct hola_tcp_conn *c = calloc(1, sizeof *c);
        int fl = fcntl(fd, F_GETFL);
        if (c == NULL || hola_linebuf_init(&c->in, HOLA_LINE_MAX) != 0 || fl < 0 ||
            fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
            fprintf(stderr, _("hola-server: cannot take a connection: %s\n"),
                    fl < 0 ? strerror(errno) : _("out of memory"));
            if (c != NULL)
                hola_linebuf_free(&c->in);
            free(c);
            close(fd);
            return;
        }
        /* No Nagle: a reply goes out at once, not after the ACK of the previous one. */
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->state = CONN_OPEN;
        hola_addr_format((struct sockaddr *)&ss, sl, c->peer, sizeof c->peer);
        ts->conns[ts->nconns++] = c;
        ts->srv->stats.clients++;
        hola_out_line2("Conectado a ", c->peer);
    }
}

/* Milliseconds until the earliest deadline (-1: none), rounded up so poll() does not wake
 * just before it. */
static int next_timeout(const struct hola_tcp_server *ts, uint64_t stop_us, uint64_t now)
{
    uint64_t first = stop_us;

    for (size_t i = 0; i < ts->nconns; i++)
        if (ts->conns[i]->state == CONN_DRAIN && (first == 0 || ts->conns[i]->deadline_us < first))
            first = ts->conns[i]->deadline_us;
    if (first == 0)
        return -1;
    if (first <= now)
        return 0;
    return (int)((first - now + 999) / 1000);
}

int hola_server_tcp_run(struct hola_server *srv, struct hola_err *e)
{
    struct hola_tcp_server ts;
    struct pollfd pfd[MAX_CONNS + 2];
    uint64_t stop_us = 0; /* nonzero once stopping: when to give up flushing */
    int rc = 0;

    memset(&ts, 0, sizeof ts);
    ts.srv = srv;
    ts.lfd = hola_server_open(srv, SOCK_STREAM, e);
    if (ts.lfd < 0)
        return -1;

    for (;;) {
        /* Lines out before anything else: a failed stdout is seen (done) before the
         * loop sleeps again. */
        hola_out_flush();
        uint64_t now = hola_stats_now_us();
        if (stop_us == 0 && hola_server_done(srv)) {
            stop_us = now + STOP_US;
        }
        if (stop_us != 0) {
            /* Stop reading; what was answered still gets delivered. */
            for (size_t i = ts.nconns; i-- > 0;) {
                if (ts.conns[i]->state != CONN_OPEN)
                    continue;
                ts.conns[i]->state = CONN_FLUSH_SHUTDOWN;
                /* Now, not after poll(): with nothing queued it waits for no event. */
                if (flush(ts.conns[i]) != 0)
                    conn_close(&ts, i);
            }
            if (ts.nconns == 0 || now >= stop_us)
                break;
        }

        pfd[0] = (struct pollfd){ .fd = srv->stop_fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = ts.lfd, .events = 0 };
        if (stop_us == 0 && ts.nconns < MAX_CONNS)
            pfd[1].events = POLLIN;
        for (size_t i = 0; i < ts.nconns; i++) {
            struct hola_tcp_conn *c = ts.conns[i];
            short ev = 0;
            if ((c->state == CONN_OPEN && c->out_len - c->out_off < OUT_HIGH_WATER) ||
                c->state == CONN_DRAIN)
                ev |= POLLIN;
            if (c->out_len > c->out_off)
                ev |= POLLOUT;
            pfd[i + 2] = (struct pollfd){ .fd = c->fd, .events = ev };
        }
        size_t npfd = ts.nconns + 2;

        if (poll(pfd, (nfds_t)npfd, next_timeout(&ts, stop_us, now)) < 0) {
            if (errno == EINTR)
                continue;
            rc = hola_err_set(e, "poll: %s", strerror(errno));
            break;
        }
        if ((pfd[0].revents & POLLIN) && hola_server_signalled(srv)) {
            if (stop_us != 0)
                break; /* a second signal: stop now */
            stop_us = now + STOP_US;
            continue;
        }
        /* Backwards, because closing moves the last connection into slot i. Connections
         * accepted below are not in pfd yet, so this runs first. */
        for (size_t i = ts.nconns; i-- > 0;) {
            struct hola_tcp_conn *c = ts.conns[i];
            now = hola_stats_now_us();
            if (conn_io(srv, c, pfd[i + 2].revents) != 0 ||
                (c->state == CONN_DRAIN && now >= c->deadline_us))
                conn_close(&ts, i);
        }
        if (pfd[1].revents & POLLIN)
            accept_all(&ts);
    }

    while (ts.nconns > 0)
        conn_close(&ts, ts.nconns - 1);
    close(ts.lfd);
    return rc;
}
