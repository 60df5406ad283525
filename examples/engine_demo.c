/* engine_demo.c: librudp's engine with no sockets at all. A client and a server run in
 * this one process, joined by two simulated links (rudp/sim.h) that lose datagrams; the
 * program is the driver: it moves datagrams between the engines and the links, advances
 * a virtual clock straight to the next thing that happens, and prints every engine event.
 * The same seed gives the same run, byte for byte.
 *
 * Usage: engine_demo [LOSS_PCT [SEED [MESSAGES]]]   (defaults: 20, 1, 5)
 * Build:  cc engine_demo.c $(pkg-config --cflags --libs rudp) */
#include <rudp/rudp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_ADDR "198.18.0.2:40000" /* how the server's listener knows the client */

/* The engine's trace hook: one line per event. `user` names the side. */
static void trace(void *user, const rudp_event_t *ev)
{
    static const char *why[] = { "", "timeout", "fast", "time", "duplicate", "window", "stale" };
    printf("%9.3f ms  %-6s %-10s ", (double)ev->now / 1000.0, (const char *)user,
           rudp_event_name(ev->kind));
    if (ev->kind == RUDP_EV_STATE) {
        printf("-> %s\n", rudp_state_name((rudp_state_t)ev->reason));
        return;
    }
    printf("%-7s seq=%-5u ack=%-5u len=%u", rudp_wire_type_name(ev->type), (unsigned)ev->seq,
           (unsigned)ev->ack, (unsigned)ev->len);
    if (ev->reason < 0)
        printf(" (%s)", rudp_strerror(ev->reason));
    else if (ev->reason > 0 && ev->reason <= 6)
        printf(" (%s, rto %.1f ms)", why[ev->reason], (double)ev->rto / 1000.0);
    printf("\n");
}

/* Sends everything an engine has ready into its outgoing link. */
static void flush(rudp_conn_t *c, rudp_sim_link_t *link, uint64_t now)
{
    uint8_t dgram[RUDP_MAX_DATAGRAM];
    int n;
    while (c && (n = rudp_conn_prepare(c, now, dgram, sizeof dgram)) > 0)
        rudp_sim_link_push(link, now, dgram, (size_t)n);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    double loss = argc > 1 ? atof(argv[1]) / 100.0 : 0.20;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    int total = argc > 3 ? atoi(argv[3]) : 5, sent = 0, replies = 0, in_order = 1;
    if (loss < 0 || loss > 1 || total < 0 || total > 100) {
        fprintf(stderr, "usage: engine_demo [LOSS_PCT 0..100 [SEED [MESSAGES 0..100]]]\n");
        return 2;
    }

    /* Two one-way links with the same impairment: 5 ms each way, `loss` lost at random. */
    rudp_impair_t imp = { .loss = loss, .delay_us = 5000 };
    rudp_sim_link_t *c2s, *s2c;
    if (rudp_sim_link_new(&c2s, &imp, seed, 256) != 0 ||
        rudp_sim_link_new(&s2c, &imp, seed + 1, 256) != 0)
        return 1;

    /* Both engines: default settings plus the trace hook. In a real program the cookie
     * key, the connection ID and the initial sequence numbers come from
     * rudp_random_bytes(); fixed values keep this run repeatable. */
    rudp_config_t cfg;
    rudp_config_default(&cfg);
    cfg.trace = trace;
    static char client_name[] = "client", server_name[] = "server";
    rudp_config_t ccfg = cfg, scfg = cfg;
    ccfg.trace_user = client_name;
    scfg.trace_user = server_name;
    const uint8_t key[RUDP_COOKIE_KEY_SIZE] = "demo cookie key";
    rudp_listener_t listener;
    rudp_listener_init(&listener, key, 0);
    rudp_conn_t *client = NULL, *server = NULL;
    if (rudp_conn_new_client(&client, &ccfg, 0x686f6c61ull, 1000, 0) != 0)
        return 1;

    uint8_t buf[RUDP_MAX_DATAGRAM], msg[RUDP_MAX_PAYLOAD];
    size_t len;
    uint64_t now = 0;
    int client_closed = 0, server_closed = 0;
    while (rudp_conn_state(client) != RUDP_STATE_CLOSED || server) {
        /* 1. Datagrams due now: to the server's connection, or (no connection for that
         *    ID yet) to its stateless listener, which answers with a cookie challenge. */
        while (rudp_sim_link_pop(c2s, now, buf, sizeof buf, &len) == 1) {
            uint64_t cid;
            if (server && rudp_wire_peek_cid(buf, len, &cid) == 0 && cid == rudp_conn_cid(server)) {
                rudp_conn_input(server, buf, len, now);
                continue;
            }
            rudp_hdr_t h;
            size_t rlen = 0;
            int v = rudp_listener_input(&listener, buf, len, CLIENT_ADDR, strlen(CLIENT_ADDR), now,
                                        &h, msg, sizeof msg, &rlen);
            if (v == RUDP_LISTEN_REPLY) {
                printf("%9.3f ms  server listener: %s answered\n", now / 1000.0,
                       rudp_wire_type_name(msg[1]));
                rudp_sim_link_push(s2c, now, msg, rlen);
            } else if (v == RUDP_LISTEN_ACCEPT && !server && !server_closed) {
                printf("%9.3f ms  server listener: cookie valid, connection created\n",
                       now / 1000.0);
                if (rudp_conn_new_server(&server, &scfg, &h, 5000, now) != 0)
                    return 1;
            }
        }
        while (rudp_sim_link_pop(s2c, now, buf, sizeof buf, &len) == 1)
            rudp_conn_input(client, buf, len, now);

        /* 2. The applications. Client: send the messages, read the replies, close when
         *    all came. Server: answer every message, end its stream after the client's. */
        int n;
        while ((n = rudp_conn_recv(client, msg, sizeof msg)) >= 0) {
            char want[32];
            snprintf(want, sizeof want, "Hola mensaje %d", replies + 1);
            in_order &= (size_t)n == strlen(want) && memcmp(msg, want, (size_t)n) == 0;
            printf("%9.3f ms  client got \"%.*s\"\n", now / 1000.0, n, (char *)msg);
            replies++;
        }
        while (sent < total && rudp_conn_state(client) == RUDP_STATE_ESTABLISHED) {
            n = snprintf((char *)msg, sizeof msg, "mensaje %d", sent + 1);
            if (rudp_conn_send(client, msg, (size_t)n, now) != 0)
                break; /* RUDP_EAGAIN: window and queue full, retry later */
            sent++;
        }
        if (!client_closed && replies == total && rudp_conn_close(client, now) == 0)
            client_closed = 1;
        while (server && rudp_conn_send_space(server) > 0 &&
               (n = rudp_conn_recv(server, msg + 5, sizeof msg - 5)) != RUDP_EAGAIN) {
            if (n < 0) { /* RUDP_ECLOSED: the client's stream ended (or an error) */
                rudp_conn_close(server, now);
                break;
            }
            memcpy(msg, "Hola ", 5);
            rudp_conn_send(server, msg, (size_t)n + 5, now);
        }

        /* 3. Everything the engines have ready goes out, timers first. */
        flush(client, c2s, now);
        flush(server, s2c, now);
        if (server && rudp_conn_state(server) == RUDP_STATE_CLOSED) {
            rudp_conn_free(server); /* drained: the server forgets the connection */
            server = NULL;
            server_closed = 1;
        }

        /* 4. Jump the clock to the next event: a timer or a datagram's arrival. */
        uint64_t next = min64(rudp_conn_next_timeout(client), rudp_sim_link_next(c2s));
        next = min64(next, rudp_sim_link_next(s2c));
        if (server)
            next = min64(next, rudp_conn_next_timeout(server));
        if (next == UINT64_MAX || next > 600000000u)
            break; /* nothing left to happen, or ten virtual minutes: give up */
        now = next > now ? next : now;
    }

    rudp_stats_t st;
    rudp_conn_stats(client, &st);
    rudp_sim_stats_t ls;
    rudp_sim_link_stats(c2s, &ls);
    printf("\n%d of %d replies, in order: %s; client closed: %s; %.1f ms of virtual time\n",
           replies, total, in_order ? "yes" : "no",
           rudp_conn_error(client) ? rudp_strerror(rudp_conn_error(client)) : "cleanly",
           now / 1000.0);
    printf("client: %llu datagrams sent, %llu retransmitted (timeout), %llu (fast); "
           "link to server lost %llu of %llu\n",
           (unsigned long long)st.packets_sent, (unsigned long long)st.retransmits_timeout,
           (unsigned long long)st.retransmits_fast, (unsigned long long)ls.lost,
           (unsigned long long)ls.in);
    int ok = replies == total && in_order && rudp_conn_error(client) == 0;
    rudp_conn_free(client);
    rudp_conn_free(server);
    rudp_sim_link_free(c2s);
    rudp_sim_link_free(s2c);
    return ok ? 0 : 1;
}
