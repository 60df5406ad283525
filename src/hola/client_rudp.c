/* client_rudp.c: hola-client over rudp: one connection, one message per name. Pipelined
 * by default (as many names in flight as the window and send queue take), or --lockstep
 * (one name, then its reply). After the last name the client ends its stream, as the TCP
 * client half-closes; it succeeds once every reply has arrived and the connection has
 * closed with no error. Every other ending is one line naming the cause. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rudp/sock.h"

#include "addr.h"
#include "client.h"
#include "drain.h"
#include "i18n.h"
#include "out.h"
#include "replies.h"
#include "secure.h"
#include "trace.h"

struct hola_rudp_client {
    const struct hola_client_cfg *cfg;
    const struct hola_names *names;
    struct hola_stats *st;
    rudp_sock_t *sock;
    rudp_conn_t *conn;       /* set on CONNECTED; NULL again after CLOSED */
    rudp_config_t engine;    /* as configured: for the dead-peer message */
    struct hola_replies rep; /* latency per name; replies twice or out of order */
    size_t next;             /* names queued so far */
    size_t replies;
    bool called_close;
    bool closed;      /* CLOSED arrived */
    int close_error;  /* its error */
    uint64_t silence; /* µs the server had been silent when given up (RUDP_ETIMEDOUT) */
    bool failed;      /* a cause is in err already (refused name, early end) */
    struct hola_err err;
    struct hola_trace trace;
    struct hola_secure_cfg sec; /* --secure */
    char where[HOLA_ADDR_STRLEN + 256];
    uint8_t buf[RUDP_MAX_PAYLOAD];
};

static void end_stream(struct hola_rudp_client *rc)
{
    if (!rc->called_close && rc->conn != NULL) {
        rc->called_close = true;
        rudp_sock_close(rc->sock, rc->conn);
    }
}

/* Records the first failure and ends our side, so the connection winds down. */
static void fail_with(struct hola_rudp_client *rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail_with(struct hola_rudp_client *rc, const char *fmt, ...)
{
    va_list ap;

    if (!rc->failed) {
        rc->failed = true;
        va_start(ap, fmt);
        vsnprintf(rc->err.msg, sizeof rc->err.msg, fmt, ap);
        va_end(ap);
    }
    end_stream(rc);
}

/* Queues names while the connection takes them: all the window allows, or with
 * --lockstep only the one whose reply is awaited. Ends our stream after the last. */
static void pump(struct hola_rudp_client *rc)
{
    const struct hola_names *names = rc->names;

    if (rc->conn == NULL || rc->failed)
        return;
    /* Latency runs from just before the send. The names queued here leave together, at
     * the end of the step or with its first full datagram (docs/api-sock.md), so one
     * reading serves them all, as one send() does for the TCP client's names. */
    uint64_t t_send = 0;
    while (rc->next < names->n && (!rc->cfg->lockstep || rc->next == rc->replies) &&
           rudp_conn_send_space(rc->conn) > 0) {
        if (t_send == 0)
            t_send = hola_stats_now_us();
        int r = rudp_sock_send(rc->sock, rc->conn, names->v[rc->next], names->len[rc->next]);
        if (r == RUDP_EAGAIN)
            return;
        if (r != 0) {
            /* The connection failed: its CLOSED event says why. */
            return;
        }
        hola_replies_sent(&rc->rep, rc->next, t_send);
        rc->next++;
        rc->st->sent++;
    }
    if (rc->next == names->n)
        end_stream(rc);
}

static void read_replies(struct hola_rudp_client *rc)
{
    uint64_t t_recv = hola_stats_now_us(); /* these replies came in one wake-up */
    for (;;) {
        int n = rudp_conn_recv(rc->conn, rc->buf, sizeof rc->buf);
        if (n == RUDP_EAGAIN)
            return;
        if (n == RUDP_ECLOSED) {
            if (rc->replies < rc->names->n)
                fail_with(rc, _("the server closed the connection after %zu of %zu replies"),
                          rc->replies, rc->names->n);
            return;
        }
        if (n < 0)
            return; /* the connection's error: CLOSED follows */
        const char *r = (const char *)rc->buf;
        if (n >= 6 && memcmp(r, "error:", 6) == 0) {
            fail_with(rc, _("the server refused name %zu: %.*s"), rc->replies + 1,
                      n > 300 ? 300 : n, r);
            continue;
        }
        if (rc->replies >= rc->names->n || rc->failed) {
            if (!rc->failed)
                fail_with(rc, _("the server sent more replies than names"));
            continue;
        }
        /* rudp delivers each message once, in order: anything else is counted
         * (dup, reply_out_of_order), never hidden. */
        hola_replies_match(&rc->rep, r, (size_t)n, t_recv);
        hola_out_line(r, (size_t)n);
        rc->replies++;
        rc->st->received++;
    }
}

static void on_event(struct hola_rudp_client *rc, const rudp_sock_event_t *ev)
{
    rudp_stats_t es;

    switch (ev->kind) {
    case RUDP_SOCK_EV_CONNECTED:
        rc->conn = ev->conn;
        break;
    case RUDP_SOCK_EV_READABLE:
        rc->conn = ev->conn;
        read_replies(rc);
        break;
    case RUDP_SOCK_EV_CLOSED:
        /* The connection is freed at the driver's next call: take its counters now. */
        rudp_conn_stats(ev->conn, &es);
        hola_stats_add_engine(rc->st, &es);
        rc->closed = true;
        rc->close_error = ev->error;
        rc->silence = es.silence;
        rc->conn = NULL;
        return;
    case RUDP_SOCK_EV_ACCEPTED:
        return;
    }
    pump(rc);
}

/* The one line for a connection that did not end well. */
static int closing_error(struct hola_rudp_client *rc, struct hola_err *e)
{
    char limit[64];
    size_t got = rc->replies, want = rc->names->n;
    const char *why = rudp_sock_security_error(rc->sock);

    /* DTLS refused or never answered, or a plaintext client met a --secure server. */
    if (why != NULL && rc->close_error != 0) {
        if (rc->close_error == RUDP_ETIMEDOUT)
            return hola_err_set(e, _("%s (rudp): %s: is the server running with --secure%s?"),
                                rc->where, why,
                                rc->cfg->net.psk_len ? _(" and the same --psk") : "");
        return hola_err_set(e, "%s (rudp): %s", rc->where, why);
    }
    switch (rc->close_error) {
    case 0:
        break;
    case RUDP_EUNREACH:
        return hola_err_set(e,
                            _("server not reachable at %s (rudp): nothing listens on that "
                              "port (ICMP port unreachable)"),
                            rc->where);
    case RUDP_ETIMEDOUT:
        /* The silence measured, not the limit: with a paused peer the two differ. */
        hola_netopts_dead_limit(&rc->engine, limit, sizeof limit);
        return hola_err_set(e,
                            _("peer not answering for %.1f s (limit: %s): gave %s (rudp) up "
                              "with %zu of %zu replies"),
                            (double)rc->silence / 1e6, limit, rc->where, got, want);
    case RUDP_EREFUSED:
        return hola_err_set(e, _("server full: connection refused by %s (rudp)"), rc->where);
    case RUDP_ELIMIT:
        return hola_err_set(e, _("too many connections from this address: refused by %s (rudp)"),
                            rc->where);
    case RUDP_ERESET:
        return hola_err_set(e,
                            _("connection reset by server %s (rudp) after %zu of %zu "
                              "replies"),
                            rc->where, got, want);
    default:
        return hola_err_set(e, _("connection to %s (rudp) ended: %s (%zu of %zu replies)"),
                            rc->where, rudp_strerror(rc->close_error), got, want);
    }
    if (rc->failed) {
        *e = rc->err;
        return -1;
    }
    if (got < want)
        return hola_err_set(e, _("the server closed the connection after %zu of %zu replies"), got,
                            want);
    return 0;
}

static bool client_stopped(void *ctx)
{
    (void)ctx;
    return hola_client_interrupted(); /* nothing is lost but the server's clean ending */
}

static int open_sock(struct hola_rudp_client *rc, struct hola_err *e)
{
    const struct hola_netopts *net = &rc->cfg->net;
    rudp_sock_config_t cfg;
    char port[8];

    if (hola_netopts_open_pcap(net, e) != 0)
        return -1;
    hola_netopts_sock_config(net, "hola-client", &cfg);
    if (net->trace != HOLA_TRACE_OFF) {
        hola_trace_init(&rc->trace, net->trace, "client", stderr);
        cfg.conn.trace = hola_trace_event;
        cfg.conn.trace_user = &rc->trace;
    }
    if (net->secure) {
        /* The handshake gets the engine's own bound: --dead-timeout (10 s by default). */
        uint32_t ms = (uint32_t)(cfg.conn.dead_timeout / 1000u);
        if (hola_secure_setup(&rc->sec, net, false, "hola-client", ms, e) != 0)
            return -1;
        cfg.dtls = &rc->sec.dtls;
    }
    rc->engine = cfg.conn;
    snprintf(port, sizeof port, "%u", (unsigned)rc->cfg->port);
    int r = rudp_sock_new_client(&rc->sock, rc->cfg->host, port, &cfg);
    if (r == RUDP_EADDR)
        return hola_err_set(e, _("cannot resolve %s (rudp)"), rc->cfg->host);
    if (r == RUDP_ESYS)
        return hola_err_set(e, _("cannot open a UDP socket to %s (rudp): %s"), rc->where,
                            strerror(errno));
    if (r != 0 && net->secure && rc->sec.err[0])
        return hola_err_set(e, "--secure: %s", rc->sec.err);
    if (r != 0)
        return hola_err_set(e, _("cannot start rudp to %s: %s"), rc->where, rudp_strerror(r));
    return 0;
}

int hola_client_rudp_run(const struct hola_client_cfg *cfg, const struct hola_names *names,
                         struct hola_stats *st, struct hola_err *e)
{
    struct hola_rudp_client *rc = calloc(1, sizeof *rc);
    int result = -1;

    if (rc == NULL)
        return hola_err_set(e, _("out of memory"));
    rc->cfg = cfg;
    rc->names = names;
    rc->st = st;
    hola_client_where(cfg, rc->where, sizeof rc->where);
    /* The INITIAL leaves before the reply tracker is built (some 300 µs for 2000
     * names), so that work overlaps the handshake's round trip instead of preceding
     * it; a server just started takes longest to answer (docs/performance.md §13). An
     * ACCEPT that comes first waits in the socket meanwhile, and the first RTT sample
     * includes that wait: the first probe timeouts are that much longer (a few
     * hundred µs on top of the 1 ms floor) until later samples replace it. */
    struct hola_err open_err;
    int opened = open_sock(rc, &open_err);
    if (hola_replies_init(&rc->rep, names, e) != 0) {
        rudp_sock_free(rc->sock);
        free(rc);
        return -1;
    }
    if (opened != 0) {
        *e = open_err;
        goto out;
    }

    while (!rc->closed) {
        hola_out_flush();
        /* One step, its wait watching the signal pipe too (one ppoll), then its
         * events, then the names they queued, in one batch. */
        struct pollfd stop = { .fd = hola_client_stop_fd(), .events = POLLIN };
        int r = rudp_sock_step_poll(rc->sock, &stop, 1, -1);
        if (r != 0) {
            hola_err_set(e, "rudp socket: %s: %s", rudp_strerror(r), strerror(errno));
            goto out;
        }
        if (hola_client_interrupted()) {
            /* Tell the server at once (RESET) rather than leave it retransmitting. */
            if (rc->conn != NULL) {
                rudp_stats_t es;
                rudp_conn_stats(rc->conn, &es);
                hola_stats_add_engine(st, &es);
                rudp_conn_abort(rc->conn, rudp_sock_now(rc->sock));
                rudp_sock_step(rc->sock, 0);
            }
            hola_err_set(e, _("interrupted after %zu of %zu replies"), rc->replies, names->n);
            goto out;
        }
        rudp_sock_event_t ev;
        while (rudp_sock_next_event(rc->sock, &ev) > 0)
            on_event(rc, &ev);
        rudp_sock_flush(rc->sock);
        /* Done (every reply read, both streams ended, ours acknowledged): the work is
         * over, so don't sit out the drain. The drain only re-acknowledges a server
         * FIN whose ACK got lost; that server then gives up on the FIN, and since it
         * has everything, it closes cleanly anyway (docs/protocol.md, section 9).
         * With the built-in impairment the client loses its own ACKs on purpose
         * (--loss), often the last one, which may also be the only one acknowledging
         * the last replies: then the server would retransmit into silence until its
         * dead-peer limit. So an impaired client sits the drain out (3 PTO, longer
         * while the server resends), as RFC 9000 §10.2 has every endpoint do. */
        if (rc->conn != NULL && !rc->cfg->net.impair_on && rudp_conn_done(rc->conn)) {
            rudp_stats_t es;
            rudp_conn_stats(rc->conn, &es);
            hola_stats_add_engine(st, &es);
            rc->closed = true;
            rc->close_error = 0;
            rc->conn = NULL;
        }
    }
    result = closing_error(rc, e);
    /* The connection ended; with --delay or --rate its last datagrams may still wait. */
    int r =
        hola_rudp_drain(rc->sock, &cfg->net.impair, hola_client_stop_fd(), client_stopped, NULL);
    if (r != 0 && result == 0)
        result = hola_err_set(e, "rudp socket: %s: %s", rudp_strerror(r), strerror(errno));

out:
    if (rc->sock != NULL) {
        rudp_sock_stats_t ss;
        rudp_sock_stats(rc->sock, &ss);
        hola_stats_add_sock(st, &ss, false, cfg->net.impair_on);
        if (cfg->net.secure)
            hola_secure_add_stats(st, &ss.dtls);
    }
    /* The engine's out_of_order counts packets that arrived ahead of a gap (repaired
     * below the application); this one counts replies the application saw out of
     * order. */
    hola_replies_add_stats(&rc->rep, st, "reply_out_of_order");
    hola_replies_free(&rc->rep);
    rudp_sock_free(rc->sock);
    free(rc);
    return result;
}
