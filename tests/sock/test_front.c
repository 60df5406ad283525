/* The server's front door on loopback (docs/protocol.md §7.2): an INITIAL without a
 * cookie accepted at once while the server is not under load, the stateless RETRY when
 * forced or under a flood, the 3x limit and the bounded life of a connection whose
 * client never proves its address, and the per-source cap on connections (which a
 * draining connection no longer holds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "rudp/conn.h"
#include "rudp/error.h"
#include "rudp/wire.h"

/* A plain UDP socket on 127.0.0.<host>, standing for a sender with a forged address:
 * it sends INITIALs and never answers what comes back. */
static int raw_socket(uint8_t host)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(0x7f000000u | host);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Sends one INITIAL without a cookie for connection cid; returns its size. */
static size_t send_initial(int fd, int port, uint64_t cid)
{
    rudp_hdr_t h = { .type = RUDP_T_INITIAL, .cid = cid, .seq = 1000, .rwnd = 64 };
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n = rudp_wire_encode(&h, buf, sizeof buf);
    assert_true(n > 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&to, sizeof to), n);
    return (size_t)n;
}

/* Bytes waiting on fd, read and counted (no wait). */
static size_t drain(int fd)
{
    size_t total = 0;
    uint8_t buf[2048];
    for (int i = 0; i < 1000; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
            break;
        total += (size_t)n;
    }
    return total;
}

static void front_stats(rudp_sock_t *s, rudp_sock_stats_t *st)
{
    memset(st, 0, sizeof *st);
    rudp_sock_stats(s, st);
}

/* One client to a server; returns the server's datagrams sent and received when the
 * client reached CONNECTED, and the server's counters after the whole exchange. */
static void one_client(int always_retry, uint64_t *c_out, uint64_t *c_in, rudp_sock_stats_t *st)
{
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    scfg.always_retry = always_retry;
    h_server_t *srv = calloc(1, sizeof *srv);
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    assert_int_equal(h_client_open(&cl, 0, 3, NULL, rudp_sock_local_port(srv->sock), &ccfg), 0);
    for (int i = 0; i < 2000 && !cl.connected; i++) {
        h_step(srv->sock, 0);
        h_step(cl.sock, 1);
    }
    assert_true(cl.connected);
    /* The server's side of the handshake: the client sent its names in the step that
     * connected it, after the server's step, so the server has not read them yet. */
    rudp_sock_stats_t sst;
    front_stats(srv->sock, &sst);
    *c_out = sst.datagrams_out;
    *c_in = sst.datagrams_in;
    assert_int_equal(h_run(srv, &cl, 1, 10000, NULL, NULL), 0);
    assert_int_equal(cl.error, 0);
    assert_int_equal(cl.got, 3);
    assert_int_equal(srv->accepted, 1);
    front_stats(srv->sock, st);
    rudp_sock_free(cl.sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* always_retry: the client pays the RETRY round trip, as before 0.2.0. */
static void test_always_retry_sends_retry(void **state)
{
    (void)state;
    uint64_t out, in;
    rudp_sock_stats_t st;
    one_client(1, &out, &in, &st);
    assert_int_equal(st.listener.retries_sent, 3); /* one per copy of the first INITIAL */
    assert_int_equal(st.listener.accepted_unproven, 0);
    assert_int_equal(in, 4);  /* INITIAL and its copies, INITIAL with the cookie (no copy) */
    assert_int_equal(out, 6); /* RETRY thrice, ACCEPT and its copies */
}

/* Not under load: the first INITIAL gets the ACCEPT, one round trip, and the server
 * announces the client once its first packet proves its address. */
static void test_not_loaded_accepts_at_once(void **state)
{
    (void)state;
    uint64_t out, in;
    rudp_sock_stats_t st;
    one_client(0, &out, &in, &st);
    assert_int_equal(st.listener.retries_sent, 0);
    assert_int_equal(st.listener.accepted_unproven, 1);
    assert_int_equal(st.listener.unproven_validated, 1);
    assert_int_equal(st.listener.unproven_dropped, 0);
    assert_int_equal(in, 3);  /* INITIAL and its copies */
    assert_int_equal(out, 3); /* ACCEPT and its copies: one round trip */
}

/* A forged INITIAL to a server that is not under load: the claimed source gets at most
 * 3x the bytes "it" sent, however long it waits and even when the INITIAL is replayed
 * every half second; the connection is never announced and is dropped once
 * RUDP_SOCK_UNPROVEN_TIMEOUT has passed, replays or not. */
static void test_forged_initial_bounded(void **state)
{
    (void)state;
    rudp_sock_config_t scfg;
    rudp_sock_config_default(&scfg);
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    int port = rudp_sock_local_port(srv->sock);
    int fd = raw_socket(1);
    size_t sent = send_initial(fd, port, 0x5ca1ab1e), got = 0;
    uint64_t start = h_now_us(), last = start, gone = 0;
    int replays = 0;
    rudp_sock_stats_t st;
    /* Replays for most of the timeout, then silence until a second past it. */
    uint64_t until = start + (uint64_t)RUDP_SOCK_UNPROVEN_TIMEOUT + 1000000;
    while (h_now_us() < until) {
        h_step(srv->sock, 20);
        got += drain(fd);
        if (h_now_us() - last >= 500000 &&
            h_now_us() - start < (uint64_t)RUDP_SOCK_UNPROVEN_TIMEOUT - 500000) {
            sent += send_initial(fd, port, 0x5ca1ab1e);
            last = h_now_us();
            replays++;
        }
        front_stats(srv->sock, &st);
        assert_true(st.active <= 1);
        if (st.active == 0 && !gone)
            gone = h_now_us();
    }
    got += drain(fd);
    front_stats(srv->sock, &st);
    assert_true(replays >= 6);
    assert_true(got > 0); /* the ACCEPTs did go out */
    assert_true(got <= 3 * sent);
    assert_int_equal(srv->accepted, 0); /* never announced */
    assert_int_equal(st.listener.accepted_unproven, 1);
    assert_int_equal(st.listener.unproven_dropped, 1);
    assert_int_equal(st.listener.unproven_validated, 0);
    assert_int_equal(st.active, 0);
    /* Dropped at its timeout (replays kept it from ending sooner), not later. */
    assert_true(gone >= start + RUDP_SOCK_UNPROVEN_TIMEOUT - 1000000);
    assert_true(gone <= start + RUDP_SOCK_UNPROVEN_TIMEOUT + 600000);
    close(fd);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* A flood of INITIALs without cookies, from several addresses, ports and connection IDs
 * (as forged ones would come): at most RUDP_SOCK_UNPROVEN_MAX connections are made,
 * every INITIAL after that gets a RETRY, and an honest client still connects through
 * the RETRY during the flood. */
static void test_flood_turns_on_retry(void **state)
{
    (void)state;
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_int_equal(h_server_open(srv, "0.0.0.0", &scfg), 0);
    int port = rudp_sock_local_port(srv->sock);
    enum { SENDERS = 8, EACH = 40 };
    int fd[SENDERS];
    for (int i = 0; i < SENDERS; i++)
        fd[i] = raw_socket((uint8_t)(10 + i));
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    for (int k = 0; k < EACH; k++) {
        for (int i = 0; i < SENDERS; i++)
            (void)send_initial(fd[i], port, 0xf100d000u + (uint64_t)(k * SENDERS + i));
        h_step(srv->sock, 0);
        if (k == EACH / 2) /* in the middle of the flood */
            assert_int_equal(h_client_open(&cl, 0, 3, "127.0.0.1", port, &ccfg), 0);
        if (k >= EACH / 2)
            h_step(cl.sock, 0);
    }
    for (int i = 0; i < 200; i++)
        h_step(srv->sock, 0);
    rudp_sock_stats_t st;
    front_stats(srv->sock, &st);
    assert_int_equal(st.listener.accepted_unproven, RUDP_SOCK_UNPROVEN_MAX);
    assert_true(st.listener.retries_sent >= SENDERS * EACH - RUDP_SOCK_UNPROVEN_MAX);
    assert_true(st.active <= RUDP_SOCK_UNPROVEN_MAX + 1);
    assert_int_equal(st.listener.rate_limited, 0);
    /* The honest client, through the RETRY. */
    assert_int_equal(h_run(srv, &cl, 1, 10000, NULL, NULL), 0);
    assert_int_equal(cl.error, 0);
    assert_int_equal(cl.got, 3);
    assert_int_equal(srv->accepted, 1); /* the forged ones were never announced */
    rudp_sock_stats_t cst;
    front_stats(cl.sock, &cst);
    front_stats(srv->sock, &st);
    assert_true(st.listener.retries_sent >= SENDERS * EACH - RUDP_SOCK_UNPROVEN_MAX + 1);
    for (int i = 0; i < SENDERS; i++)
        close(fd[i]);
    rudp_sock_free(cl.sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* One source address cannot take every connection: beyond max_per_source its clients
 * get RESET(SOURCE) (RUDP_ELIMIT), while a client from another address still gets in. */
static void test_per_source_cap(void **state)
{
    (void)state;
    enum { HELD = 6 };
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    scfg.max_clients = 32; /* default cap: 32 / 8 = 4 per source */
    h_server_t *srv = calloc(1, sizeof *srv);
    h_client_t cl[HELD + 1];
    memset(cl, 0, sizeof cl);
    assert_int_equal(h_server_open(srv, "0.0.0.0", &scfg), 0);
    int port = rudp_sock_local_port(srv->sock);
    for (uint32_t i = 0; i < HELD; i++) {
        assert_int_equal(h_client_open(&cl[i], i, 0, "127.0.0.1", port, &ccfg), 0);
        cl[i].closing = 1; /* hold the connection */
    }
    uint32_t settled = 0;
    for (int r = 0; r < 3000 && settled < HELD; r++) {
        h_step(srv->sock, 0);
        settled = 0;
        for (uint32_t i = 0; i < HELD; i++) {
            h_step(cl[i].sock, 0);
            settled += cl[i].connected || cl[i].closed;
        }
        usleep(500);
    }
    assert_int_equal(settled, HELD);
    uint32_t in = 0, limited = 0;
    for (uint32_t i = 0; i < HELD; i++) {
        in += cl[i].connected && !cl[i].closed;
        limited += cl[i].closed && cl[i].error == RUDP_ELIMIT;
    }
    assert_int_equal(in, 4);
    assert_int_equal(limited, HELD - 4);
    rudp_sock_stats_t st;
    front_stats(srv->sock, &st);
    assert_int_equal(st.refused_source, 3 * (HELD - 4)); /* each INITIAL and its copies */
    assert_int_equal(st.refused_full, 0);
    /* Another source address (127.0.0.2; a connected socket on loopback would take
     * 127.0.0.1 as its source, so this one is by hand): its own count. */
    int fd = raw_socket(2);
    (void)send_initial(fd, port, 0xfeed);
    uint8_t buf[2048];
    ssize_t n = -1;
    for (int r = 0; r < 1000 && n < 0; r++) {
        h_step(srv->sock, 1);
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    }
    rudp_hdr_t acc;
    assert_true(n > 0);
    assert_int_equal(rudp_wire_decode(&acc, buf, (size_t)n), 0);
    assert_int_equal(acc.type, RUDP_T_ACCEPT);
    /* The proof: an ACK of the server's ISN. */
    rudp_hdr_t ack = { .type = RUDP_T_ACK,
                       .flags = RUDP_F_ACK,
                       .cid = 0xfeed,
                       .seq = 1000,
                       .ack = acc.seq,
                       .ts_echo = acc.ts,
                       .rwnd = 64 };
    int len = rudp_wire_encode(&ack, buf, sizeof buf);
    assert_true(len > 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof to), len);
    /* The held clients send nothing, so the server hears their proof when it repeats
     * its ACCEPT (one PTO) and they acknowledge it; only then are they announced. */
    for (int r = 0; r < 3000 && srv->accepted < 5; r++) {
        h_step(srv->sock, 1);
        for (uint32_t i = 0; i < HELD; i++)
            h_step(cl[i].sock, 0);
    }
    assert_int_equal(srv->accepted, 5);
    front_stats(srv->sock, &st);
    assert_int_equal(st.active, 5);
    front_stats(srv->sock, &st);
    assert_int_equal(st.refused_source, 3 * (HELD - 4));
    close(fd);
    for (uint32_t i = 0; i <= HELD; i++)
        rudp_sock_free(cl[i].sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* A connection that is done (both FINs acknowledged) stays a moment to answer its
 * peer's last retransmissions (RFC 9000 §10.2), but no longer holds its source's place:
 * with max_per_source 1 the host's next client gets in during that moment. */
static void test_a_draining_connection_frees_its_place(void **state)
{
    (void)state;
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    scfg.max_per_source = 1;
    scfg.conn.max_ack_delay = 100000; /* part of each probe timeout: a drain of 300 ms+ */
    h_server_t *srv = calloc(1, sizeof *srv);
    h_client_t a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    int port = rudp_sock_local_port(srv->sock);
    assert_int_equal(h_client_open(&a, 0, 3, "127.0.0.1", port, &ccfg), 0);
    assert_int_equal(h_run(srv, &a, 1, 10000, NULL, NULL), 0);
    assert_int_equal(a.error, 0);
    assert_int_equal(a.got, 3);
    rudp_sock_stats_t st;
    front_stats(srv->sock, &st);
    assert_int_equal(st.active, 1); /* a's connection drains */
    assert_int_equal(h_client_open(&b, 1, 3, "127.0.0.1", port, &ccfg), 0);
    assert_int_equal(h_run(srv, &b, 1, 10000, NULL, NULL), 0);
    assert_int_equal(b.error, 0);
    assert_int_equal(b.got, 3);
    front_stats(srv->sock, &st);
    assert_int_equal(st.refused_source, 0);
    assert_int_equal(st.accepted, 2);
    rudp_sock_free(a.sock);
    rudp_sock_free(b.sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_always_retry_sends_retry),
        cmocka_unit_test(test_not_loaded_accepts_at_once),
        cmocka_unit_test(test_forged_initial_bounded),
        cmocka_unit_test(test_flood_turns_on_retry),
        cmocka_unit_test(test_per_source_cap),
        cmocka_unit_test(test_a_draining_connection_frees_its_place),
    };
    return cmocka_run_group_tests_name("sock front", tests, NULL, NULL);
}
