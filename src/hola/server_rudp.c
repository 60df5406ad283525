/* server_rudp.c: hola-server over rudp: one UDP socket, many connections (the driver in
 * src/rudp demultiplexes them by connection ID), one name per message, one reply message
 * per name. --count, SIGINT and SIGTERM end every stream after the replies already
 * queued (later names are read and dropped unanswered) and wait, bounded, for the
 * connections to close. The engine already hides loss, duplication and reordering, so every name
 * arrives here once and in order: a duplicate shows only in --trace and --stats.
 *
 * Backpressure: a name is read only when its reply can be queued at once
 * (rudp_conn_send_space() > 0); otherwise it stays in the engine, whose receive window
 * then slows the client down, and READABLE comes again once replies are acknowledged. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rudp/sock.h"

#include "addr.h"
#include "drain.h"
#include "i18n.h"
#include "names.h"
#include "out.h"
#include "secure.h"
#include "server.h"
#include "trace.h"

/* One connection's state, its address the connection's user pointer
 * (rudp_sock_set_user), so an event leads straight to it. */
struct rconn {
    rudp_conn_t *conn;
    uint64_t cid;
    size_t i;     /* index in hola_rudp_server.v */
    bool closing; /* rudp_sock_close() called */
    char peer[HOLA_ADDR_STRLEN];
};

struct hola_rudp_server {
    struct hola_server *srv;
    rudp_sock_t *sock;
    struct rconn **v; /* live connections, unordered */
    size_t n, cap;
    bool stopping;
    uint64_t dead_timeout; /* the engines' dead-peer limit, µs (0: off) */
    struct hola_trace trace;
    rudp_stats_t engine; /* connections that ended, summed */
    bool any_engine;
    struct hola_secure_cfg sec; /* --secure */
    uint8_t buf[RUDP_MAX_PAYLOAD];
};

static const char *peer_of(void *ctx, uint64_t cid)
{
    struct hola_rudp_server *rs = ctx;

    /* Only with --trace, per traced event. */
    for (size_t i = 0; i < rs->n; i++)
        if (rs->v[i]->cid == cid)
            return rs->v[i]->peer;
    return NULL;
}

static void on_accepted(struct hola_rudp_server *rs, const rudp_sock_event_t *ev)
{
    struct hola_server *srv = rs->srv;

    struct rconn *c = NULL;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        struct rconn **v = realloc(rs->v, cap * sizeof(struct rconn *));
        if (v != NULL) {
            rs->v = v;
            rs->cap = cap;
        }
    }
    if (rs->n < rs->cap)
        c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, _("hola-server: out of memory: refusing a connection\n"));
        rudp_conn_abort(ev->conn, rudp_sock_now(rs->sock));
        return;
    }
    c->i = rs->n;
    rs->v[rs->n++] = c;
    rudp_sock_set_user(rs->sock, ev->conn, c);
    c->conn = ev->conn;
    c->cid = rudp_conn_cid(ev->conn);
    hola_addr_format(ev->peer, ev->peer_len, c->peer, sizeof c->peer);
    srv->stats.clients++;
    hola_out_line2("Conectado a ", c->peer);
    if (rs->stopping) {
        c->closing = true;
        rudp_sock_close(rs->sock, c->conn);
    }
}

static void end_stream(struct hola_rudp_server *rs, struct rconn *c)
{
    if (!c->closing) {
        c->closing = true;
        rudp_sock_close(rs->sock, c->conn);
    }
}

/* Greets (or refuses) one received name and queues the reply. */
static void handle_name(struct hola_rudp_server *rs, struct rconn *c, size_t n)
{
    struct hola_server *srv = rs->srv;
    const char *name = (const char *)rs->buf;
    struct hola_name_check chk = hola_names_check(name, n);
    char reply[HOLA_REPLY_MAX + HOLA_ERR_MAX];
    size_t len;

    if (chk.status == HOLA_NAME_EMPTY)
        return;
    if (chk.status == HOLA_NAME_OK) {
        len = hola_server_greet(srv, name + chk.start, chk.len, reply, sizeof reply);
    } else {
        char why[HOLA_ERR_MAX];
        hola_names_describe(name, &chk, why, sizeof why);
        fprintf(stderr, "hola-server: %s: %s\n", c->peer, why);
        srv->stats.rejected++;
        int r = snprintf(reply, sizeof reply, "error: %s%s",
                         chk.status == HOLA_NAME_TOO_LONG ? _("name ") : "", why);
        len = r < 0 ? 0 : (size_t)r >= sizeof reply ? sizeof reply - 1 : (size_t)r;
        /* The engine takes at most max_message bytes: a long error is cut (its end is
         * the least useful part), so the client still learns why. */
        if (len > HOLA_RUDP_MAX_MESSAGE)
            len = HOLA_RUDP_MAX_MESSAGE;
    }
    int rc = rudp_sock_send(rs->sock, c->conn, reply, len);
    if (rc == 0)
        srv->stats.sent++;
    else
        fprintf(stderr, _("hola-server: %s: reply not queued: %s\n"), c->peer, rudp_strerror(rc));
}

/* READABLE: reads names while their replies fit; at the end of the client's stream,
 * ends ours. Once --count is reached (stopping), names are read and dropped unanswered,
 * so the connections can still close cleanly. */
static void serve(struct hola_rudp_server *rs, struct rconn *c)
{
    for (;;) {
        bool done = hola_server_done(rs->srv) || rs->stopping;
        if (!done && rudp_conn_send_space(c->conn) == 0)
            return;
        int n = rudp_conn_recv(c->conn, rs->buf, sizeof rs->buf);
        if (n == RUDP_EAGAIN)
            return;
        if (n == RUDP_ECLOSED) {
            end_stream(rs, c);
            return;
        }
        if (n < 0)
            return; /* the connection's error: CLOSED follows */
        if (!done)
            handle_name(rs, c, (size_t)n);
    }
}

static void on_closed(struct hola_rudp_server *rs, const rudp_sock_event_t *ev)
{
    struct rconn *c = ev->user;
    rudp_stats_t one;

    rudp_conn_stats(ev->conn, &one);
    hola_engine_stats_accumulate(&rs->engine, &one);
    rs->any_engine = true;
    if (ev->error != 0)
        fprintf(stderr, _("hola-server: %s: connection ended: %s\n"), c != NULL ? c->peer : "?",
                rudp_strerror(ev->error));
    if (c != NULL) {
        rs->v[c->i] = rs->v[--rs->n];
        rs->v[c->i]->i = c->i;
        free(c);
    }
}

static void on_event(struct hola_rudp_server *rs, const rudp_sock_event_t *ev)
{
    switch (ev->kind) {
    case RUDP_SOCK_EV_ACCEPTED:
        on_accepted(rs, ev);
        break;
    case RUDP_SOCK_EV_READABLE:
        if (ev->user != NULL)
            serve(rs, ev->user);
        break;
    case RUDP_SOCK_EV_CLOSED:
        on_closed(rs, ev);
        break;
    case RUDP_SOCK_EV_CONNECTED:
        break;
    }
}

/* Stopping: end every connection's stream after the replies already queued. */
static void stop_all(struct hola_rudp_server *rs)
{
    rs->stopping = true;
    for (size_t i = 0; i < rs->n; i++)
        end_stream(rs, rs->v[i]);
}

static int open_sock(struct hola_rudp_server *rs, struct hola_err *e)
{
    struct hola_server *srv = rs->srv;
    const struct hola_netopts *net = &srv->cfg.net;
    rudp_sock_config_t cfg;
    char port[8];

    if (hola_netopts_open_pcap(net, e) != 0)
        return -1;
    hola_netopts_sock_config(net, "hola-server", &cfg);
    cfg.max_clients = net->max_clients;
    cfg.handshake_rate = net->handshake_rate;
    cfg.always_retry = srv->cfg.always_retry;
    /* 0 leaves the driver's default, an eighth of max_clients, as tcp has. */
    cfg.max_per_source = (uint32_t)srv->cfg.max_per_source;
    if (net->trace != HOLA_TRACE_OFF) {
        hola_trace_init(&rs->trace, net->trace, "server", stderr);
        rs->trace.peer_of = peer_of;
        rs->trace.peer_ctx = rs;
        cfg.conn.trace = hola_trace_event;
        cfg.conn.trace_user = &rs->trace;
    }
    if (net->secure) {
        if (hola_secure_setup(&rs->sec, net, true, "hola-server", 0, e) != 0)
            return -1;
        cfg.dtls = &rs->sec.dtls;
    }
    rs->dead_timeout = cfg.conn.dead_timeout;
    snprintf(port, sizeof port, "%u", (unsigned)srv->cfg.port);
    int rc = rudp_sock_new_server(&rs->sock, srv->cfg.bind, port, &cfg);
    if (rc != 0) {
        int err = errno;
        const char *where = srv->cfg.bind ? srv->cfg.bind : _("every address");
        if (net->secure && rs->sec.err[0])
            return hola_err_set(e, "--secure: %s", rs->sec.err);
        if (rc == RUDP_ESYS)
            return hola_err_set(e, _("cannot listen on %s port %s (rudp): %s"), where, port,
                                strerror(err));
        return hola_err_set(e, _("cannot listen on %s port %s (rudp): %s"), where, port,
                            rudp_strerror(rc));
    }
    return hola_server_announce(srv, rudp_sock_fd(rs->sock), e);
}

static void add_stats(struct hola_rudp_server *rs)
{
    struct hola_server *srv = rs->srv;
    rudp_sock_stats_t ss;

    /* Connections still open at exit count too. */
    for (size_t i = 0; i < rs->n; i++) {
        rudp_stats_t one;
        rudp_conn_stats(rs->v[i]->conn, &one);
        hola_engine_stats_accumulate(&rs->engine, &one);
    }
    hola_stats_add_engine(&srv->stats, &rs->engine);
    rudp_sock_stats(rs->sock, &ss);
    hola_stats_add_sock(&srv->stats, &ss, true, srv->cfg.net.impair_on);
    if (srv->cfg.net.secure)
        hola_secure_add_stats(&srv->stats, &ss.dtls);
}

/* Whether every connection has had all it was sent acknowledged, its FIN included. */
static bool all_acked(const struct hola_rudp_server *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rudp_conn_unacked(rs->v[i]->conn) != 0)
            return false;
    return true;
}

/* Whether every connection left has said goodbye: both streams ended, ours acknowledged,
 * everything read (DRAINING). The drain would only acknowledge again a FIN whose ACK
 * was lost, and a peer in that case gives up on its FIN and closes cleanly anyway
 * (docs/protocol.md, section 9), so a stopping server need not sit it out. */
static bool all_done(const struct hola_rudp_server *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!rudp_conn_done(rs->v[i]->conn))
            return false;
    return true;
}

/* How long after --count the connections still open may hold the server: the grace,
 * or the dead-peer limit when that is shorter (server.h). */
static uint64_t grace_us(const struct hola_rudp_server *rs)
{
    uint64_t g = HOLA_SERVER_GRACE_US;
    return rs->dead_timeout != 0 && rs->dead_timeout < g ? rs->dead_timeout : g;
}

/* The grace is over: every connection still open is reset, and one line says how many
 * still had replies unacknowledged (a peer that answers probes but never acknowledges
 * would otherwise hold the server forever: its engine sees it alive). */
static void abandon(struct hola_rudp_server *rs, uint64_t waited)
{
    size_t unacked = 0;

    for (size_t i = 0; i < rs->n; i++) {
        if (rudp_conn_unacked(rs->v[i]->conn) != 0)
            unacked++;
        rudp_sock_abort(rs->sock, rs->v[i]->conn);
    }
    if (unacked > 0)
        fprintf(stderr,
                _("hola-server: %zu connection(s) still had replies unacknowledged %.1f s "
                  "after --count: reset\n"),
                unacked, (double)waited / 1e6);
}

static bool server_stopped(void *ctx)
{
    return hola_server_signalled(ctx); /* a second signal ends the wait */
}

int hola_server_rudp_run(struct hola_server *srv, struct hola_err *e)
{
    struct hola_rudp_server *rs = calloc(1, sizeof *rs);
    uint64_t stop_us = 0;                  /* nonzero once stopping: see below */
    uint64_t count_us = 0, give_up_us = 0; /* when --count was reached, and that + grace */
    bool signalled = false;
    int rc = 0;

    if (rs == NULL)
        return hola_err_set(e, _("out of memory"));
    rs->srv = srv;
    if (open_sock(rs, e) != 0) {
        rudp_sock_free(rs->sock);
        free(rs);
        return -1;
    }

    for (;;) {
        /* Lines out before anything else: a failed stdout is seen (done) before the
         * loop sleeps again. */
        hola_out_flush();
        /* The clock only while stopping: the engines' deadlines are the library's. */
        bool done = stop_us == 0 && hola_server_done(srv);
        uint64_t now = stop_us != 0 || done ? hola_stats_now_us() : 0;
        if (done) {
            stop_us = now + HOLA_SERVER_STOP_US;
            count_us = now;
            give_up_us = now + grace_us(rs);
            stop_all(rs);
        }
        /* Stopping ends once every connection has closed or said goodbye, or
         * HOLA_SERVER_STOP_US on, once all we sent has been acknowledged (the peers' own
         * FINs are not waited for longer). After --count the replies given are
         * delivered within the grace; what is still open then is reset. After a
         * signal, STOP_US is all there is. */
        if (stop_us != 0 &&
            (rs->n == 0 || all_done(rs) || (now >= stop_us && (signalled || all_acked(rs)))))
            break;
        if (give_up_us != 0 && !signalled && now >= give_up_us) {
            abandon(rs, now - count_us);
            break;
        }

        /* One step, its wait (bounded by the stop deadline) watching the signal pipe
         * too: one ppoll. Then its events, then what they queued, in one batch. */
        uint64_t wake = stop_us > now ? stop_us : give_up_us;
        int64_t timeout = wake > now ? (int64_t)(wake - now) : -1;
        struct pollfd stop = { .fd = srv->stop_fd, .events = POLLIN };
        int r = rudp_sock_step_poll(rs->sock, &stop, 1, timeout);
        if (r != 0) {
            rc = hola_err_set(e, "rudp socket: %s: %s", rudp_strerror(r), strerror(errno));
            break;
        }
        if (stop.revents != 0 && hola_server_signalled(srv)) {
            if (signalled)
                break; /* a second signal: stop now */
            signalled = true;
            if (stop_us == 0) {
                stop_us = hola_stats_now_us() + HOLA_SERVER_STOP_US;
                stop_all(rs);
            }
        }
        rudp_sock_event_t ev;
        while (rudp_sock_next_event(rs->sock, &ev) > 0)
            on_event(rs, &ev);
        rudp_sock_flush(rs->sock);
    }

    add_stats(rs);
    /* At exit the built-in impairment may still hold the last datagrams, the ACK of a
     * client's FIN among them. */
    if (rc == 0)
        (void)hola_rudp_drain(rs->sock, &srv->cfg.net.impair, srv->stop_fd, server_stopped, srv);
    rudp_sock_free(rs->sock);
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i]);
    free(rs->v);
    free(rs);
    return rc;
}
