/* The simulated exchange behind the protocol tests and the simulator benchmark. */
#include "simpair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rudp/error.h"

#define CLIENT_ADDR "198.18.0.2:40000"
#define MAX_STEPS 50000000u

void simpair_defaults(simpair_opts_t *o)
{
    memset(o, 0, sizeof *o);
    rudp_config_default(&o->client_cfg);
    rudp_config_default(&o->server_cfg);
    o->seed = 1;
    o->msgs = 10;
    o->time_limit = 600u * 1000000u;
    o->client_isn = 1000;
    o->server_isn = 5000;
}

static size_t make_msg(const simpair_opts_t *o, uint32_t i, uint8_t *buf)
{
    if (o->msg_size) {
        for (uint32_t k = 0; k < o->msg_size; k++)
            buf[k] = (uint8_t)(i * 31u + k);
        return o->msg_size;
    }
    return (size_t)snprintf((char *)buf, 64, "name-%06u", (unsigned)i);
}

static size_t make_reply(const uint8_t *msg, size_t len, uint8_t *out)
{
    memcpy(out, "Hola ", 5);
    if (len > RUDP_MAX_PAYLOAD - 5)
        len = RUDP_MAX_PAYLOAD - 5;
    memcpy(out + 5, msg, len);
    return len + 5;
}

struct side_links {
    rudp_sim_link_t *c2s, *s2c;
    uint64_t n_c2s, n_s2c;
    simpair_result_t *res;
};

/* Wraps the caller's trace hook to note when each name first left the client. */
struct tx_watch {
    rudp_trace_fn user_fn;
    void *user;
    uint32_t isn, msgs;
    uint64_t *first_tx;
    simpair_result_t *res;
};

static void watch_trace(void *u, const rudp_event_t *ev)
{
    struct tx_watch *w = u;
    if (ev->kind == RUDP_EV_SEND && ev->type == RUDP_T_DATA) {
        uint32_t i = ev->seq - w->isn;
        if (i < w->msgs)
            w->first_tx[i] = ev->now;
        if (i == 0)
            w->res->first_data_time = ev->now;
    }
    if (w->user_fn)
        w->user_fn(w->user, ev);
}

static void push(const simpair_opts_t *o, struct side_links *l, int to_server, uint64_t now,
                 const uint8_t *d, size_t n)
{
    uint64_t k = to_server ? l->n_c2s++ : l->n_s2c++;
    if (to_server && n > 1 && d[1] == RUDP_T_DATA)
        l->res->client_data_tx++;
    int (*drop)(void *, uint64_t, const uint8_t *, size_t) = to_server ? o->drop_c2s : o->drop_s2c;
    if (drop && drop(o->drop_user, k, d, n))
        return;
    rudp_sim_link_push(to_server ? l->c2s : l->s2c, now, d, n);
}

#define FAIL(msg)             \
    do {                      \
        res->ok = 0;          \
        if (!res->why)        \
            res->why = (msg); \
    } while (0)

/* The engine's deadline and its timer handler agree (recovery.c keeps one table for
 * both): driven just before the deadline, the engine sends nothing, stays in its state
 * and keeps the same deadline. Called only when that deadline is the next event of the
 * whole simulation, so the clock the engine sees still only moves forward. */
static int quiet_before(rudp_conn_t *c, uint64_t deadline, uint64_t now)
{
    if (deadline == UINT64_MAX || deadline <= now + 1)
        return 1;
    uint8_t buf[RUDP_MAX_DATAGRAM];
    rudp_state_t state = rudp_conn_state(c);
    int r = rudp_conn_prepare(c, deadline - 1, buf, sizeof buf);
    return r == 0 && rudp_conn_state(c) == state && rudp_conn_next_timeout(c) == deadline;
}

int simpair_run(const simpair_opts_t *o, simpair_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->ok = 1;
    struct side_links l = { .res = res };
    rudp_conn_t *client = NULL, *server = NULL;
    uint8_t key[RUDP_COOKIE_KEY_SIZE];
    for (unsigned i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(o->seed * 7 + i);
    rudp_listener_t listener;
    rudp_listener_init(&listener, key, 0);
    listener.require_retry = !o->accept_at_once;

    int rc = rudp_sim_link_new(&l.c2s, &o->c2s, o->seed * 2 + 1, 1024);
    if (!rc)
        rc = rudp_sim_link_new(&l.s2c, &o->s2c, o->seed * 2 + 2, 1024);
    rudp_config_t ccfg = o->client_cfg, scfg = o->server_cfg;
    if (o->allocator)
        ccfg.allocator = scfg.allocator = o->allocator;
    uint64_t *sent_at = calloc(o->msgs ? o->msgs : 1, sizeof *sent_at);
    struct tx_watch watch = { ccfg.trace, ccfg.trace_user, o->client_isn, o->msgs, sent_at, res };
    ccfg.trace = watch_trace;
    ccfg.trace_user = &watch;
    if (!rc)
        rc =
            rudp_conn_new_client(&client, &ccfg, 0x1122334455667788ull ^ o->seed, o->client_isn, 0);
    res->latency = calloc(o->msgs ? o->msgs : 1, sizeof *res->latency);
    if (!rc && (!res->latency || !sent_at))
        rc = RUDP_ENOMEM;
    if (rc) {
        free(sent_at);
        free(res->latency);
        res->latency = NULL;
        rudp_conn_free(client);
        rudp_sim_link_free(l.c2s);
        rudp_sim_link_free(l.s2c);
        return rc;
    }

    static uint8_t buf[RUDP_MAX_DATAGRAM], msg[RUDP_MAX_PAYLOAD], expect[RUDP_MAX_PAYLOAD];
    uint64_t now = 0;
    uint32_t next_send = 0;
    int client_closed = 0, server_closed = 0, server_eof = 0;
    int server_was_done = 0;
    uint32_t stalled = 0; /* steps in a row at the same time: a busy-loop guard */

    for (uint64_t step = 0; step < MAX_STEPS; step++) {
        res->steps = step;
        /* 1. arrivals */
        size_t n;
        while (rudp_sim_link_pop(l.c2s, now, buf, sizeof buf, &n) == 1) {
            if (o->server_absent)
                continue;
            uint64_t cid;
            if (rudp_wire_peek_cid(buf, n, &cid) == 0 && server && cid == rudp_conn_cid(server)) {
                rudp_conn_input(server, buf, n, now);
                continue;
            }
            rudp_hdr_t h;
            size_t rlen = 0;
            int v = rudp_listener_input(&listener, buf, n, CLIENT_ADDR, strlen(CLIENT_ADDR), now,
                                        &h, msg, sizeof msg, &rlen);
            if (v == RUDP_LISTEN_REPLY) {
                push(o, &l, 0, now, msg, rlen);
            } else if (v == RUDP_LISTEN_ACCEPT && !server && !server_was_done) {
                rc = rudp_conn_new_server(&server, &scfg, &h, o->server_isn, now);
                if (rc)
                    FAIL("server connection could not be created");
            }
        }
        while (rudp_sim_link_pop(l.s2c, now, buf, sizeof buf, &n) == 1)
            rudp_conn_input(client, buf, n, now);

        /* 2. the applications */
        for (;;) {
            int r = rudp_conn_recv(client, msg, sizeof msg);
            if (r < 0)
                break;
            if (o->pattern == SIMPAIR_ONEWAY) {
                FAIL("client received data in a one-way run");
                continue;
            }
            uint32_t i = res->client_got;
            size_t elen = make_reply(expect, make_msg(o, i, expect), buf);
            if (i >= o->msgs || (size_t)r != elen || memcmp(msg, buf, elen) != 0)
                FAIL("client: reply missing, duplicated or out of order");
            else
                res->latency[i] = now - sent_at[i];
            res->client_got++;
            res->last_reply_time = now;
        }
        while (!client_closed && next_send < o->msgs &&
               (o->pattern != SIMPAIR_LOCKSTEP || res->client_got == next_send)) {
            size_t len = make_msg(o, next_send, msg);
            if (rudp_conn_send(client, msg, len, now) != 0)
                break;
            next_send++;
        }
        uint32_t want = o->pattern == SIMPAIR_ONEWAY ? 0 : o->msgs;
        if (!client_closed && next_send == o->msgs && res->client_got >= want) {
            rudp_conn_close(client, now);
            client_closed = 1;
        }
        if (server) {
            /* Read a name only when its reply can be queued: a server that cannot
             * answer leaves names unread, and its shrinking window slows the client. */
            while (o->pattern == SIMPAIR_ONEWAY || rudp_conn_send_space(server) > 0) {
                int r = rudp_conn_recv(server, msg, sizeof msg);
                if (r == RUDP_ECLOSED && !server_eof) {
                    server_eof = 1;
                    break;
                }
                if (r < 0)
                    break;
                uint32_t i = res->server_got;
                size_t elen = make_msg(o, i, expect);
                if (i >= o->msgs || (size_t)r != elen || memcmp(msg, expect, elen) != 0)
                    FAIL("server: name missing, duplicated or out of order");
                res->server_got++;
                if (o->pattern == SIMPAIR_ONEWAY) {
                    res->last_reply_time = now;
                    if (i < o->msgs)
                        res->latency[i] = now - sent_at[i];
                } else {
                    size_t rl = make_reply(msg, (size_t)r, buf);
                    /* The reply queue is as large as the window, so this fits. */
                    if (rudp_conn_send(server, buf, rl, now) != 0)
                        FAIL("server: reply did not fit its send queue");
                }
            }
            if (server_eof && !server_closed) {
                rudp_conn_close(server, now);
                server_closed = 1;
            }
        }

        /* 3. departures */
        int r;
        while ((r = rudp_conn_prepare(client, now, buf, sizeof buf)) > 0)
            push(o, &l, 1, now, buf, (size_t)r);
        if (server) {
            while ((r = rudp_conn_prepare(server, now, buf, sizeof buf)) > 0)
                push(o, &l, 0, now, buf, (size_t)r);
            if (rudp_conn_state(server) == RUDP_STATE_CLOSED) {
                res->server_done = rudp_conn_done(server);
                res->server_error = rudp_conn_error(server);
                rudp_conn_stats(server, &res->sst);
                rudp_conn_free(server);
                server = NULL;
                server_was_done = 1;
            }
        }
        if (rudp_conn_state(client) == RUDP_STATE_CLOSED &&
            (!server || rudp_conn_state(server) == RUDP_STATE_CLOSED))
            break;

        /* 4. the clock jumps to the next event */
        uint64_t next = rudp_conn_next_timeout(client);
        if (server && rudp_conn_next_timeout(server) < next)
            next = rudp_conn_next_timeout(server);
        if (rudp_sim_link_next(l.c2s) < next)
            next = rudp_sim_link_next(l.c2s);
        if (rudp_sim_link_next(l.s2c) < next)
            next = rudp_sim_link_next(l.s2c);
        if (next == UINT64_MAX) {
            FAIL("deadlock: no timer and nothing in flight");
            break;
        }
        if (next == rudp_conn_next_timeout(client) && !quiet_before(client, next, now)) {
            FAIL("client acted before its next_timeout");
            break;
        }
        if (server && next == rudp_conn_next_timeout(server) && !quiet_before(server, next, now)) {
            FAIL("server acted before its next_timeout");
            break;
        }
        if (next > now) {
            now = next;
            stalled = 0;
        } else if (++stalled > 10000) {
            FAIL("busy loop: a timer keeps firing without progress");
            break;
        }
        if (now > o->time_limit) {
            FAIL("time limit reached");
            break;
        }
    }

    res->end_time = now;
    res->client_error = rudp_conn_error(client);
    res->client_done = rudp_conn_done(client);
    rudp_conn_stats(client, &res->cst);
    if (server) {
        res->server_done = rudp_conn_done(server);
        res->server_error = rudp_conn_error(server);
        rudp_conn_stats(server, &res->sst);
        rudp_conn_free(server);
    }
    res->listener = listener;
    rudp_sim_link_stats(l.c2s, &res->c2s_stats);
    rudp_sim_link_stats(l.s2c, &res->s2c_stats);
    rudp_conn_free(client);
    rudp_sim_link_free(l.c2s);
    rudp_sim_link_free(l.s2c);
    free(sent_at);
    if (!o->server_absent) {
        if (res->server_got != o->msgs)
            FAIL("server did not get every name");
        if (o->pattern != SIMPAIR_ONEWAY && res->client_got != o->msgs)
            FAIL("client did not get every reply");
        if (!res->client_done)
            FAIL("client did not close cleanly");
        if (!res->server_done)
            FAIL("server did not close cleanly");
    }
    return 0;
}
