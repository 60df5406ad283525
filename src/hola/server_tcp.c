/* server_tcp.c: hola-server over TCP: one poll() loop serving many connections, each with
 * its own line buffer (linebuf.c) and reply queue, so no client can stall another.
 *
 * Nor hold the server: the policies are docs/limits.md's. A connection that sends no
 * name for --idle-timeout, or leaves its replies unread for --write-timeout, is closed.
 * Beyond --max-clients (itself kept below the descriptor limit), or beyond
 * --max-per-source for its source, a client is accepted only to be answered "error:
 * server full" and closed: refused at once rather than left waiting in the kernel's
 * queue, and never by evicting a connection already served. When accept() finds no
 * descriptor (EMFILE, ENFILE) the listener is not polled for ACCEPT_PAUSE_US or until a
 * connection closes, instead of spinning on a listener that stays readable. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "i18n.h"
#include "linebuf.h"
#include "names.h"
#include "out.h"
#include "server.h"
#include "source.h"

/* Descriptors kept free beside the connections: stdio, the listener, the signal pipe, a
 * refused client's, and some inherited. The connection limit is at most RLIMIT_NOFILE
 * less this. */
#define FD_RESERVE 16
/* Connections taken per round of poll(): a flood of connects cannot starve the
 * connections already open. */
#define ACCEPT_BATCH 64
/* Out of descriptors, how long the listener is left alone (unless a connection closes
 * first): the failed connection waits in the kernel's queue meanwhile. */
#define ACCEPT_PAUSE_US 100000u
/* "server full" is logged at most this often; the others are counted in the next line. */
#define REFUSE_LOG_US 1000000u
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
    uint64_t deadline_us; /* CONN_DRAIN: when to give up */
    uint64_t active_us;   /* the last name received, or the last reply queue emptied */
    uint64_t sent_us;     /* with replies queued: the last time send() took some */
    struct hola_source src;
};

struct hola_tcp_server {
    struct hola_server *srv;
    int lfd;
    struct hola_tcp_conn **conns;
    struct pollfd *pfd;
    size_t nconns, max_conns, per_source;
    struct hola_source_table sources;
    uint64_t idle_us, write_us; /* 0: no deadline */
    /* Out of descriptors: the listener rests until paused_until (0: not paused). The
     * failures are counted and logged as one episode: a line when it starts, a summary
     * when accept() works again. */
    uint64_t paused_until, pause_since;
    unsigned long pause_fails;
    int pause_errno;
    /* Refusals not yet logged, and when the last one was. */
    unsigned long refused_quiet;
    uint64_t refused_logged_us;
    unsigned long long refused, idle_closed, unread_closed, pauses;
};

static void conn_close(struct hola_tcp_server *ts, size_t i)
{
    struct hola_tcp_conn *c = ts->conns[i];

    /* A descriptor is free again: out of them, this is the moment to retry. */
    ts->paused_until = 0;
    hola_source_remove(&ts->sources, &c->src);
    close(c->fd);
    hola_linebuf_free(&c->in);
    free(c->out);
    free(c);
    ts->conns[i] = ts->conns[--ts->nconns];
}

static int queue(struct hola_tcp_conn *c, const char *data, size_t n)
{
    /* The write deadline runs from when a reply starts to wait. */
    if (c->out_len == c->out_off)
        c->sent_us = hola_stats_now_us();
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
    if (chk.status == HOLA_NAME_EMPTY)
        return;
    /* Empty lines do not count: a client keeping its slot must send names. */
    c->active_us = hola_stats_now_us();
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
        c->sent_us = hola_stats_now_us();
    }
    if (c->out_len > 0)
        c->active_us = hola_stats_now_us(); /* it read every reply: not idle */
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

/* When c is due: the end of its drain; while replies wait, the write deadline; while
 * open with nothing to send, the idle deadline. UINT64_MAX: never. */
static uint64_t conn_deadline(const struct hola_tcp_server *ts, const struct hola_tcp_conn *c)
{
    if (c->state == CONN_DRAIN)
        return c->deadline_us;
    if (c->out_len > c->out_off)
        return ts->write_us != 0 ? c->sent_us + ts->write_us : UINT64_MAX;
    if (c->state == CONN_OPEN && ts->idle_us != 0)
        return c->active_us + ts->idle_us;
    return UINT64_MAX;
}

/* "60 s", or "1500 ms" when not whole seconds: the figure the option was given as. */
static void format_span(uint64_t us, char *out, size_t cap)
{
    unsigned long long ms = (unsigned long long)(us / 1000u);

    if (ms % 1000u == 0)
        snprintf(out, cap, "%llu s", ms / 1000u);
    else
        snprintf(out, cap, "%llu ms", ms);
}

/* c's deadline passed: -1 when it is to be closed now. An idle client is told why and
 * its connection ends like any other (flush, shutdown, drain); one that does not read
 * would not read the reason either, so it is closed at once. */
static int conn_expire(struct hola_tcp_server *ts, struct hola_tcp_conn *c)
{
    char span[32];

    if (c->state == CONN_DRAIN)
        return -1;
    if (c->out_len > c->out_off) {
        format_span(ts->write_us, span, sizeof span);
        fprintf(stderr, _("hola-server: %s: not reading its replies for %s, closing\n"), c->peer,
                span);
        ts->unread_closed++;
        return -1;
    }
    format_span(ts->idle_us, span, sizeof span);
    fprintf(stderr, _("hola-server: %s: idle for %s, closing\n"), c->peer, span);
    ts->idle_closed++;
    char line[64];
    int n = snprintf(line, sizeof line, "error: idle for %s, closing\n", span);
    (void)queue(c, line, (size_t)n);
    c->state = CONN_FLUSH_SHUTDOWN;
    return flush(c);
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

/* Answers a client there is no room for and closes it. Logged at most once per
 * REFUSE_LOG_US: a client retrying in a loop must not fill the log. */
static void refuse(struct hola_tcp_server *ts, int fd, const char *peer, uint64_t now,
                   const char *why)
{
    char line[128], scratch[512];
    int n = snprintf(line, sizeof line, "error: server full (%s), try again later\n", why);

    /* Read what it already sent: closing a socket with unread input sends RST, which can
     * destroy the line before the client reads it. Bounded: refusing stays cheap. */
    for (int k = 0; k < 8 && recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0; k++)
        continue;
    (void)send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    close(fd);
    ts->refused++;
    if (ts->refused_logged_us != 0 && now - ts->refused_logged_us < REFUSE_LOG_US) {
        ts->refused_quiet++;
        return;
    }
    if (ts->refused_quiet > 0)
        fprintf(stderr, _("hola-server: %s: refused: server full (%s); %lu more refused before\n"),
                peer, why, ts->refused_quiet);
    else
        fprintf(stderr, _("hola-server: %s: refused: server full (%s)\n"), peer, why);
    ts->refused_quiet = 0;
    ts->refused_logged_us = now;
}

/* accept() found no descriptor: rest the listener, and say so once per episode. */
static void accept_pause(struct hola_tcp_server *ts, int err, uint64_t now)
{
    if (ts->pause_fails++ == 0) {
        ts->pause_since = now;
        ts->pause_errno = err;
        ts->pauses++;
        fprintf(stderr,
                "hola-server: accept: %s: new connections wait in the queue; retrying "
                "every %u ms or when a connection closes\n",
                strerror(err), ACCEPT_PAUSE_US / 1000u);
    }
    ts->paused_until = now + ACCEPT_PAUSE_US;
}

/* The episode's summary, once the queue is empty (or at exit): not at the first accept()
 * that works, as while descriptors are scarce each close lets one more in and the next
 * accept() fails again. */
static void accept_resume(struct hola_tcp_server *ts, uint64_t now, const char *how)
{
    if (ts->pause_fails == 0)
        return;
    fprintf(stderr, _("hola-server: accept: %s after %llu ms; %lu attempts failed (%s)\n"), how,
            (unsigned long long)((now - ts->pause_since) / 1000u), ts->pause_fails,
            strerror(ts->pause_errno));
    ts->pause_fails = 0;
}

/* Takes fd as a connection; false when there is no memory for it. */
static bool take(struct hola_tcp_server *ts, int fd, const struct sockaddr_storage *ss,
                 socklen_t sl, const struct hola_source *src, uint64_t now)
{
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
        return false;
    }
    /* No Nagle: a reply goes out at once, not after the ACK of the previous one. */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->state = CONN_OPEN;
    c->active_us = now;
    c->src = *src;
    hola_addr_format((const struct sockaddr *)ss, sl, c->peer, sizeof c->peer);
    hola_source_add(&ts->sources, src);
    ts->conns[ts->nconns++] = c;
    ts->srv->stats.clients++;
    hola_out_line2("Conectado a ", c->peer);
    return true;
}

static void accept_all(struct hola_tcp_server *ts, uint64_t now)
{
    for (int k = 0; k < ACCEPT_BATCH; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept(ts->lfd, (struct sockaddr *)&ss, &sl);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* The connection stays queued and the listener readable: retrying at once
             * would spin. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                accept_pause(ts, errno, now);
            else if (errno == EAGAIN || errno == EWOULDBLOCK)
                accept_resume(ts, now, "every waiting connection taken");
            else
                fprintf(stderr, "hola-server: accept: %s\n", strerror(errno));
            return;
        }
        struct hola_source src = hola_source_of((struct sockaddr *)&ss);
        char peer[HOLA_ADDR_STRLEN], why[64];
        if (ts->nconns >= ts->max_conns) {
            hola_addr_format((struct sockaddr *)&ss, sl, peer, sizeof peer);
            snprintf(why, sizeof why, "%zu connections", ts->nconns);
            refuse(ts, fd, peer, now, why);
        } else if (hola_source_count(&ts->sources, &src) >= ts->per_source) {
            hola_addr_format((struct sockaddr *)&ss, sl, peer, sizeof peer);
            snprintf(why, sizeof why, "%zu connections from this address", ts->per_source);
            refuse(ts, fd, peer, now, why);
        } else if (!take(ts, fd, &ss, sl, &src, now)) {
            return;
        }
    }
}

/* The connection limit: --max-clients, within the descriptor limit. The soft limit is
 * raised toward the hard one when that makes room; what remains short is said once. */
static size_t conn_limit(size_t want)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + FD_RESERVE;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return want;
    if (rl.rlim_cur < need && rl.rlim_max > rl.rlim_cur) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    if (rl.rlim_cur >= need)
        return want;
    size_t room = rl.rlim_cur > FD_RESERVE + 1 ? (size_t)rl.rlim_cur - FD_RESERVE : 1;
    fprintf(stderr,
            "hola-server: serving at most %zu connections at once, not %zu: the descriptor "
            "limit (ulimit -n) is %llu\n",
            room, want, (unsigned long long)rl.rlim_cur);
    return room;
}

/* Milliseconds until the earliest deadline (-1: none), rounded up so poll() does not wake
 * just before it. */
static int next_timeout(const struct hola_tcp_server *ts, uint64_t stop_us, uint64_t now)
{
    uint64_t first = stop_us != 0 ? stop_us : UINT64_MAX;

    if (ts->paused_until != 0 && ts->paused_until < first)
        first = ts->paused_until;
    for (size_t i = 0; i < ts->nconns; i++) {
        uint64_t d = conn_deadline(ts, ts->conns[i]);
        if (d < first)
            first = d;
    }
    if (first == UINT64_MAX)
        return -1;
    if (first <= now)
        return 0;
    uint64_t ms = (first - now + 999) / 1000;
    return ms > 86400000u ? 86400000 : (int)ms;
}

/* Sets up ts for srv: the limits, the tables; -1 with e set. */
static int tcp_setup(struct hola_tcp_server *ts, struct hola_server *srv, struct hola_err *e)
{
    memset(ts, 0, sizeof *ts);
    ts->srv = srv;
    ts->lfd = -1;
    ts->max_conns = conn_limit(srv->cfg.net.max_clients);
    if (ts->max_conns < 1)
        ts->max_conns = 1;
    ts->per_source = srv->cfg.max_per_source != 0 ? srv->cfg.max_per_source : ts->max_conns / 8;
    if (ts->per_source < 1)
        ts->per_source = 1;
    if (ts->per_source > ts->max_conns)
        ts->per_source = ts->max_conns;
    ts->idle_us = (uint64_t)srv->cfg.idle_timeout_ms * 1000u;
    ts->write_us = (uint64_t)srv->cfg.write_timeout_ms * 1000u;
    ts->conns = calloc(ts->max_conns, sizeof(struct hola_tcp_conn *));
    ts->pfd = calloc(ts->max_conns + 2, sizeof *ts->pfd);
    if (ts->conns == NULL || ts->pfd == NULL ||
        hola_source_table_init(&ts->sources, ts->max_conns) != 0)
        return hola_err_set(e, "out of memory for %zu connections", ts->max_conns);
    ts->lfd = hola_server_open(srv, SOCK_STREAM, e);
    return ts->lfd < 0 ? -1 : 0;
}

/* Closes everything, says what is still unsaid, and adds the counters to --stats. */
static void tcp_teardown(struct hola_tcp_server *ts)
{
    uint64_t now = hola_stats_now_us();

    accept_resume(ts, now, "still failing at exit");
    if (ts->refused_quiet > 0)
        fprintf(stderr, _("hola-server: %lu more refused: server full\n"), ts->refused_quiet);
    while (ts->nconns > 0)
        conn_close(ts, ts->nconns - 1);
    if (ts->lfd >= 0)
        close(ts->lfd);
    hola_source_table_free(&ts->sources);
    free(ts->conns);
    free(ts->pfd);
    hola_stats_add(&ts->srv->stats, "refused_full", ts->refused);
    hola_stats_add(&ts->srv->stats, "idle_closed", ts->idle_closed);
    hola_stats_add(&ts->srv->stats, "unread_closed", ts->unread_closed);
    hola_stats_add(&ts->srv->stats, "accept_paused", ts->pauses);
}

int hola_server_tcp_run(struct hola_server *srv, struct hola_err *e)
{
    struct hola_tcp_server ts;
    uint64_t stop_us = 0; /* nonzero once stopping: when to give up flushing */
    int rc = 0;

    if (tcp_setup(&ts, srv, e) != 0) {
        tcp_teardown(&ts);
        return -1;
    }
    struct pollfd *pfd = ts.pfd;

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
        if (ts.paused_until != 0 && now >= ts.paused_until)
            ts.paused_until = 0;
        /* Polled even when full: a client beyond the limits is told so at once. */
        pfd[1] = (struct pollfd){ .fd = ts.lfd, .events = 0 };
        if (stop_us == 0 && ts.paused_until == 0)
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
                (now >= conn_deadline(&ts, c) && conn_expire(&ts, c) != 0))
                conn_close(&ts, i);
        }
        if (pfd[1].revents & POLLIN)
            accept_all(&ts, hola_stats_now_us());
    }

    tcp_teardown(&ts);
    return rc;
}
