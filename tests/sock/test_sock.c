/* The socket driver on loopback: names and greetings between a server and clients in
 * one process, over the built-in impairment, refusals, unreachable and dead peers,
 * wrong-address datagrams, the pcap file read back, when the messages a callback
 * queues leave (early send), UDP GSO sends (on, off, refused by the kernel), GRO
 * receives carrying many connections, and sends to a connection already closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "rudp/conn.h"
#include "rudp/error.h"
#include "rudp/wire.h"

/* Patient engine settings for lossy runs: the tests check delivery, not give-up. */
static void patient(rudp_sock_config_t *cfg)
{
    cfg->conn.initial_rto = 200000;
    cfg->conn.max_retries = 30;
    cfg->conn.dead_timeout = 0;
}

static void hostile(rudp_sock_config_t *cfg, uint64_t seed)
{
    cfg->impair_on = 1;
    cfg->seed = seed;
    cfg->impair.loss = 0.20;
    cfg->impair.dup = 0.05;
    cfg->impair.delay_us = 2000;
    cfg->impair.jitter_us = 500;
    cfg->impair.reorder = 0.10;
    cfg->impair.corrupt = 0.05;
}

static void names_run(uint32_t names, uint32_t window, int lockstep, int impaired,
                      uint32_t limit_ms)
{
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    scfg.conn.window = ccfg.conn.window = window;
    if (impaired) {
        patient(&scfg);
        patient(&ccfg);
        hostile(&scfg, 11);
        hostile(&ccfg, 12);
        /* If every ACK of the server's FIN is lost after the client has drained, only
         * the server's retry limit ends it (cleanly: the peer had everything, see
         * only_our_fin_left in conn.c); keep that wait short. */
        scfg.conn.max_retries = 12;
        scfg.conn.max_rto = 500000;
    }
    h_server_t *srv = calloc(1, sizeof *srv);
    h_client_t cl = { .lockstep = lockstep };
    assert_non_null(srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    assert_int_equal(h_client_open(&cl, 1, names, NULL, rudp_sock_local_port(srv->sock), &ccfg), 0);
    int rc = h_run(srv, &cl, 1, limit_ms, NULL, NULL);
    /* The client is done; let the server see the last ACK of its FIN (bounded). */
    uint64_t end = h_now_us() + 12000000u;
    for (int i = 0; i < 100000 && srv->closed < 1 && h_now_us() < end; i++)
        h_step(srv->sock, 5);
    rudp_sock_stats_t cst, sst;
    rudp_sock_stats(cl.sock, &cst);
    rudp_sock_stats(srv->sock, &sst);
    if (impaired)
        printf("impair client: in=%llu lost=%llu dup=%llu corrupt=%llu reorder=%llu\n",
               (unsigned long long)cst.impair.in, (unsigned long long)cst.impair.lost,
               (unsigned long long)cst.impair.duplicated, (unsigned long long)cst.impair.corrupted,
               (unsigned long long)cst.impair.reordered);
    assert_int_equal(rc, 0);
    assert_int_equal(cl.error, 0);
    assert_false(cl.bad);
    assert_int_equal(cl.got, names);
    assert_false(srv->bad);
    assert_int_equal(srv->names, names);
    assert_int_equal(srv->accepted, 1);
    assert_int_equal(srv->closed_clean, 1);
    assert_int_equal(sst.active, 0);
    if (impaired) {
        assert_true(cst.impair.lost > 0 && sst.impair.lost > 0);
        assert_true(cst.impair.duplicated > 0 && cst.impair.corrupted > 0);
        assert_true(cst.impair.reordered > 0);
        assert_int_equal(cst.impair_seed, 12);
    }
    rudp_sock_free(cl.sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

static void test_names_clean(void **state)
{
    (void)state;
    names_run(300, 64, 0, 0, 10000);
}

static void test_names_hostile(void **state)
{
    (void)state;
    names_run(500, 64, 0, 1, 60000);
}

static void test_names_hostile_window1(void **state)
{
    (void)state;
    names_run(500, 1, 0, 1, 90000);
}

static void test_names_hostile_lockstep(void **state)
{
    (void)state;
    names_run(200, 64, 1, 1, 60000);
}

static void test_fifty_clients(void **state)
{
    (void)state;
    enum { N = 50, NAMES = 40 };
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    patient(&scfg);
    patient(&ccfg);
    /* A client drains for 3 PTO of its own RTT estimate and is then gone; if its last
     * ACK of the server's FIN and the re-ACK are lost, or a slow server's RTO outlasts
     * that drain, no one is left to answer the server's FIN. Its dead-peer limit then
     * closes it (cleanly when only its FIN is unacknowledged, docs/protocol.md
     * section 9); without one it retransmitted 30 times, and the test saw 49 closed
     * of 50. */
    scfg.conn.dead_timeout = 3000000;
    scfg.impair_on = ccfg.impair_on = 1;
    scfg.impair.loss = ccfg.impair.loss = 0.05;
    scfg.seed = 21;
    h_server_t *srv = calloc(1, sizeof *srv);
    h_client_t *cl = calloc(N, sizeof *cl);
    assert_non_null(srv);
    assert_non_null(cl);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    int port = rudp_sock_local_port(srv->sock);
    for (uint32_t i = 0; i < N; i++) {
        ccfg.seed = 100 + i;
        assert_int_equal(h_client_open(&cl[i], i, NAMES, NULL, port, &ccfg), 0);
    }
    int rc = h_run(srv, cl, N, 60000, NULL, NULL);
    uint64_t end = h_now_us() + 10000000u;
    for (int i = 0; i < 20000 && srv->closed < N && h_now_us() < end; i++)
        h_step(srv->sock, 1);
    assert_int_equal(rc, 0);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(cl[i].error, 0);
        assert_false(cl[i].bad);
        assert_int_equal(cl[i].got, NAMES);
        rudp_sock_free(cl[i].sock);
    }
    assert_false(srv->bad);
    assert_int_equal(srv->names, N * NAMES);
    assert_int_equal(srv->accepted, N);
    assert_int_equal(srv->closed, N);
    rudp_sock_stats_t st;
    rudp_sock_stats(srv->sock, &st);
    assert_int_equal(st.active, 0);
    assert_true(st.impair.lost > 0);
    rudp_sock_free(srv->sock);
    free(cl);
    free(srv);
}

static void test_max_clients_refused(void **state)
{
    (void)state;
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    scfg.max_clients = 2;
    scfg.max_per_source = 2; /* all three come from 127.0.0.1: the total is what counts */
    h_server_t *srv = calloc(1, sizeof *srv);
    h_client_t cl[3];
    memset(cl, 0, sizeof cl);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    int port = rudp_sock_local_port(srv->sock);
    /* Two clients connect and hold their connections (they have names left to send
     * only once the third has been refused). */
    for (uint32_t i = 0; i < 2; i++)
        assert_int_equal(h_client_open(&cl[i], i, 0, NULL, port, &ccfg), 0);
    cl[0].closing = cl[1].closing = 1; /* hold: the harness must not close them yet */
    for (int i = 0; i < 2000 && !(cl[0].connected && cl[1].connected && srv->accepted == 2); i++) {
        h_step(srv->sock, 0);
        h_step(cl[0].sock, 0);
        h_step(cl[1].sock, 1);
    }
    assert_int_equal(srv->accepted, 2);
    assert_int_equal(h_client_open(&cl[2], 2, 5, NULL, port, &ccfg), 0);
    for (int i = 0; i < 3000 && !cl[2].closed; i++) {
        h_step(srv->sock, 0);
        h_step(cl[2].sock, 1);
    }
    assert_true(cl[2].closed);
    assert_int_equal(cl[2].error, RUDP_EREFUSED);
    assert_null(rudp_sock_conn(cl[2].sock));
    rudp_sock_stats_t st;
    rudp_sock_stats(srv->sock, &st);
    assert_true(st.refused_full >= 1);
    assert_int_equal(st.active, 2);
    /* The two held clients still finish cleanly. */
    cl[0].closing = cl[1].closing = 0;
    assert_int_equal(h_run(srv, cl, 2, 10000, NULL, NULL), 0);
    assert_int_equal(cl[0].error, 0);
    assert_int_equal(cl[1].error, 0);
    for (int i = 0; i < 3; i++)
        rudp_sock_free(cl[i].sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* A UDP port on loopback with nothing bound to it (bound, read, closed). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_unreachable(void **state)
{
    (void)state;
    rudp_sock_config_t ccfg;
    rudp_sock_config_default(&ccfg);
    ccfg.conn.initial_rto = 50000;
    ccfg.conn.max_rto = 100000;
    ccfg.conn.max_retries = 3;
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(h_client_open(&cl, 0, 3, NULL, dead_port(), &ccfg), 0);
    uint64_t t0 = h_now_us();
    assert_int_equal(h_run(NULL, &cl, 1, 5000, NULL, NULL), 0);
    /* Loopback answers with ICMP port unreachable; without it, the handshake's own
     * limit (4 tries, at most 100 ms apart) ends it as a timeout. */
    assert_true(cl.error == RUDP_EUNREACH || cl.error == RUDP_ETIMEDOUT);
    if (cl.error == RUDP_EUNREACH)
        assert_true(cl.closed_at - t0 < 1000000);
    printf("unreachable: %s after %llu us\n", rudp_strerror(cl.error),
           (unsigned long long)(cl.closed_at - t0));
    assert_null(rudp_sock_conn(cl.sock));
    rudp_sock_free(cl.sock);
}

/* A relay between one client and the server, which also sends a copy of one
 * client datagram to the server from a second socket: another address. */
typedef struct relay {
    int front, back, other; /* client side; towards the server; the impostor */
    struct sockaddr_in client, server;
    int have_client, copies;
} relay_t;

static int udp_socket(struct sockaddr_in *bound)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    if (bound)
        *bound = a;
    return fd;
}

static void relay_pump(void *user)
{
    relay_t *r = user;
    uint8_t buf[2048];
    for (int i = 0; i < 64; i++) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(r->front, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n < 0)
            break;
        r->client = from;
        r->have_client = 1;
        sendto(r->back, buf, (size_t)n, 0, (struct sockaddr *)&r->server, sizeof r->server);
        /* A DATA datagram (type byte 4) goes out a second time from the impostor. */
        if (r->copies < 3 && n > 1 && buf[1] == 4) {
            sendto(r->other, buf, (size_t)n, 0, (struct sockaddr *)&r->server, sizeof r->server);
            r->copies++;
        }
    }
    for (int i = 0; i < 64 && r->have_client; i++) {
        ssize_t n = recv(r->back, buf, sizeof buf, 0);
        if (n < 0)
            break;
        sendto(r->front, buf, (size_t)n, 0, (struct sockaddr *)&r->client, sizeof r->client);
    }
}

static void test_wrong_address(void **state)
{
    (void)state;
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", NULL), 0);
    relay_t r = { 0 };
    struct sockaddr_in front;
    r.front = udp_socket(&front);
    r.back = udp_socket(NULL);
    r.other = udp_socket(NULL);
    r.server.sin_family = AF_INET;
    r.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r.server.sin_port = htons((uint16_t)rudp_sock_local_port(srv->sock));
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(h_client_open(&cl, 0, 50, NULL, ntohs(front.sin_port), NULL), 0);
    assert_int_equal(h_run(srv, &cl, 1, 10000, relay_pump, &r), 0);
    assert_int_equal(cl.error, 0);
    assert_int_equal(cl.got, 50);
    assert_false(srv->bad);
    assert_int_equal(srv->names, 50); /* the copies were not taken as names */
    rudp_sock_stats_t st;
    rudp_sock_stats(srv->sock, &st);
    assert_int_equal(r.copies, 3);
    assert_int_equal(st.wrong_address, 3);
    assert_int_equal(st.accepted, 1);
    close(r.front);
    close(r.back);
    close(r.other);
    rudp_sock_free(cl.sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* Regression: an empty datagram vanished from the counters and the capture once
 * receives could hold GRO runs (its run had no datagram to cut). Every datagram that
 * arrives counts once, empty, short or oversized, with GRO (default) and without. */
static void junk_counted(int gso)
{
    rudp_sock_config_t cfg;
    rudp_sock_config_default(&cfg);
    cfg.gso = gso;
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_non_null(srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &cfg), 0);
    struct sockaddr_in to = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                              .sin_port = htons((uint16_t)rudp_sock_local_port(srv->sock)) };
    int fd = udp_socket(NULL);
    static uint8_t big[RUDP_MAX_DATAGRAM + 100];
    const size_t lens[] = { 0, 9, 0, sizeof big };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        assert_int_equal(sendto(fd, big, lens[i], 0, (struct sockaddr *)&to, sizeof to),
                         (ssize_t)lens[i]);
    rudp_sock_stats_t st;
    for (int i = 0; i < 200; i++) {
        h_step(srv->sock, 5);
        rudp_sock_stats(srv->sock, &st);
        if (st.datagrams_in + st.oversized == 4)
            break;
    }
    assert_int_equal(st.datagrams_in, 3); /* the two empty ones and the short one */
    assert_int_equal(st.oversized, 1);
    assert_int_equal(st.listener.garbage, 4); /* none of them is ours */
    assert_int_equal(st.gro_receives, 0);
    assert_int_equal(st.accepted, 0);
    close(fd);
    rudp_sock_free(srv->sock);
    free(srv);
}

static void test_regression_empty_datagrams_counted(void **state)
{
    (void)state;
    junk_counted(1);
    junk_counted(0);
}

/* A client has no listener (only servers allocate one): a datagram too large to be
 * ours, from its server's address (the only one its connected socket takes), still
 * counts as garbage. */
static void test_client_counts_garbage_without_listener(void **state)
{
    (void)state;
    struct sockaddr_in peer;
    int fd = udp_socket(&peer); /* stands for the server: silent but for the junk */
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)ntohs(peer.sin_port));
    rudp_sock_t *cl = NULL;
    assert_int_equal(rudp_sock_new_client(&cl, "127.0.0.1", port, NULL), 0);
    struct sockaddr_in to = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                              .sin_port = htons((uint16_t)rudp_sock_local_port(cl)) };
    static uint8_t big[RUDP_MAX_DATAGRAM + 100];
    assert_int_equal(sendto(fd, big, sizeof big, 0, (struct sockaddr *)&to, sizeof to),
                     (ssize_t)sizeof big);
    rudp_sock_stats_t st;
    for (int i = 0; i < 200; i++) {
        h_step(cl, 5);
        rudp_sock_stats(cl, &st);
        if (st.oversized == 1)
            break;
    }
    assert_int_equal(st.oversized, 1);
    assert_int_equal(st.listener.garbage, 1);
    assert_int_equal(st.listener.retries_sent, 0);
    close(fd);
    rudp_sock_free(cl);
}

static void test_server_dies_then_restarts(void **state)
{
    (void)state;
    rudp_sock_config_t ccfg;
    rudp_sock_config_default(&ccfg);
    ccfg.conn.max_retries = 3;
    ccfg.conn.initial_rto = 100000;
    ccfg.conn.max_rto = 200000;
    ccfg.conn.dead_timeout = 1000000;
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", NULL), 0);
    int port = rudp_sock_local_port(srv->sock);
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    cl.lockstep = 1; /* slow enough that the server dies mid-run */
    assert_int_equal(h_client_open(&cl, 0, 1000000, NULL, port, &ccfg), 0);
    for (int i = 0; i < 100000 && cl.got < 20; i++) {
        h_step(srv->sock, 0);
        h_step(cl.sock, 1);
    }
    assert_int_equal(cl.got, 20);
    rudp_sock_free(srv->sock); /* no RESET, no FIN: the server is just gone */
    srv->sock = NULL;
    uint64_t t0 = h_now_us();
    assert_int_equal(h_run(NULL, &cl, 1, 10000, NULL, NULL), 0);
    uint64_t took = cl.closed_at - t0;
    printf("dead server detected after %llu us: %s\n", (unsigned long long)took,
           rudp_strerror(cl.error));
    assert_int_equal(cl.error, RUDP_ETIMEDOUT);
    /* dead_timeout is 1 s; max_retries 3 at most 200 ms apart ends it sooner. */
    assert_true(took <= 1100000);
    rudp_sock_free(cl.sock);

    /* A new server on the same port serves a new client. */
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    memset(srv, 0, sizeof *srv);
    assert_int_equal(h_sock_server(&srv->sock, "127.0.0.1", p, NULL, h_server_cb, srv), 0);
    memset(&cl, 0, sizeof cl);
    assert_int_equal(h_client_open(&cl, 1, 30, NULL, port, NULL), 0);
    assert_int_equal(h_run(srv, &cl, 1, 10000, NULL, NULL), 0);
    assert_int_equal(cl.error, 0);
    assert_int_equal(cl.got, 30);
    rudp_sock_free(cl.sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* Reads a pcap file back: global header, then every record's IP and UDP headers. */
static void check_pcap(const char *path, int ip_version, int port_a, int port_b, uint32_t *records)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t gh[24];
    assert_int_equal(fread(gh, 1, sizeof gh, f), sizeof gh);
    uint32_t magic, linktype;
    uint16_t major, minor;
    memcpy(&magic, gh, 4);
    memcpy(&major, gh + 4, 2);
    memcpy(&minor, gh + 6, 2);
    memcpy(&linktype, gh + 20, 4);
    assert_int_equal(magic, 0xa1b2c3d4u);
    assert_int_equal(major, 2);
    assert_int_equal(minor, 4);
    assert_int_equal(linktype, 101);
    *records = 0;
    uint32_t rec[4];
    uint8_t pkt[2048];
    while (fread(rec, 1, sizeof rec, f) == sizeof rec) {
        assert_true(rec[2] == rec[3] && rec[2] <= sizeof pkt && rec[2] >= 28);
        assert_int_equal(fread(pkt, 1, rec[2], f), rec[2]);
        assert_int_equal(pkt[0] >> 4, ip_version);
        size_t ip_len = ip_version == 4 ? 20 : 40;
        assert_int_equal(pkt[ip_version == 4 ? 9 : 6], 17); /* UDP */
        if (ip_version == 4) {
            uint32_t sum = 0; /* the header checksums to 0xffff */
            for (int i = 0; i < 20; i += 2)
                sum += (uint32_t)pkt[i] << 8 | pkt[i + 1];
            while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
            assert_int_equal(sum, 0xffff);
            assert_int_equal((pkt[2] << 8 | pkt[3]), rec[2]);
        }
        int sp = pkt[ip_len] << 8 | pkt[ip_len + 1], dp = pkt[ip_len + 2] << 8 | pkt[ip_len + 3];
        assert_true((sp == port_a && dp == port_b) || (sp == port_b && dp == port_a));
        assert_int_equal((pkt[ip_len + 4] << 8 | pkt[ip_len + 5]), rec[2] - ip_len);
        assert_int_equal(pkt[ip_len + 8], 1); /* rudp version */
        (*records)++;
    }
    fclose(f);
}

/* Where tshark is installed, it must read every record as UDP with a good checksum.
 * Returns 0 (also when tshark is missing) or -1. */
static int tshark_check(const char *path, uint32_t records)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0)
        return 0;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "tshark -r '%s' -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE "
             "-T fields -e udp.srcport -e udp.checksum.status -e ip.checksum.status 2>/dev/null",
             path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[128];
    uint32_t good = 0, lines = 0;
    while (fgets(line, sizeof line, p)) {
        unsigned port, udp_ok, ip_ok;
        lines++;
        if (sscanf(line, "%u %u %u", &port, &udp_ok, &ip_ok) == 3 && port > 0 && udp_ok == 1 &&
            ip_ok == 1)
            good++;
    }
    int rc = pclose(p);
    printf("tshark: %u of %u records are UDP with good checksums (%u written)\n", good, lines,
           records);
    return rc == 0 && good == records && lines == records ? 0 : -1;
}

static void test_pcap(void **state)
{
    (void)state;
    char spath[] = "/tmp/hola-sock-srv-XXXXXX", cpath[] = "/tmp/hola-sock-cli-XXXXXX";
    int fd = mkstemp(spath);
    assert_true(fd >= 0);
    close(fd);
    fd = mkstemp(cpath);
    assert_true(fd >= 0);
    close(fd);
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    scfg.pcap_path = spath;
    ccfg.pcap_path = cpath;
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_int_equal(h_server_open(srv, NULL, &scfg), 0); /* wildcard: pktinfo path */
    int port = rudp_sock_local_port(srv->sock);
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(h_client_open(&cl, 0, 20, NULL, port, &ccfg), 0);
    assert_int_equal(h_run(srv, &cl, 1, 10000, NULL, NULL), 0);
    for (int i = 0; i < 2000 && srv->closed < 1; i++)
        h_step(srv->sock, 1);
    rudp_sock_stats_t cst, sst;
    rudp_sock_stats(cl.sock, &cst);
    rudp_sock_stats(srv->sock, &sst);
    struct sockaddr_in6 local;
    socklen_t len = sizeof local;
    assert_int_equal(getsockname(rudp_sock_fd(cl.sock), (struct sockaddr *)&local, &len), 0);
    int cport = ntohs(local.sin6_family == AF_INET6 ? local.sin6_port
                                                    : ((struct sockaddr_in *)&local)->sin_port);
    rudp_sock_free(cl.sock);
    rudp_sock_free(srv->sock);
    uint32_t nc, ns;
    check_pcap(cpath, 4, port, cport, &nc);
    check_pcap(spath, 4, port, cport, &ns);
    assert_int_equal(nc, cst.datagrams_in + cst.datagrams_out);
    assert_int_equal(ns, sst.datagrams_in + sst.datagrams_out);
    assert_true(nc > 40);
    assert_int_equal(tshark_check(cpath, nc), 0);
    assert_int_equal(tshark_check(spath, ns), 0);
    const char *keep = getenv("HOLA_KEEP_PCAP");
    if (keep && *keep) {
        printf("pcap kept: %s %s\n", cpath, spath);
    } else {
        unlink(cpath);
        unlink(spath);
    }
    free(srv);
}

static void test_vanished_client_reclaimed(void **state)
{
    (void)state;
    rudp_sock_config_t scfg;
    rudp_sock_config_default(&scfg);
    scfg.conn.idle_timeout = 300000;
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(h_client_open(&cl, 0, 1, NULL, rudp_sock_local_port(srv->sock), NULL), 0);
    cl.closing = 1; /* connect, then say nothing */
    for (int i = 0; i < 2000 && !(cl.connected && srv->accepted == 1); i++) {
        h_step(srv->sock, 0);
        h_step(cl.sock, 1);
    }
    assert_true(cl.connected);
    rudp_sock_free(cl.sock); /* gone without a word */
    rudp_sock_stats_t st;
    rudp_sock_stats(srv->sock, &st);
    assert_int_equal(st.active, 1);
    uint64_t t0 = h_now_us();
    for (int i = 0; i < 300 && srv->closed == 0; i++)
        h_step(srv->sock, 10);
    uint64_t took = h_now_us() - t0;
    assert_int_equal(srv->closed, 1);
    assert_int_equal(srv->closed_clean, 0);
    assert_true(took >= 250000 && took < 1000000);
    rudp_sock_stats(srv->sock, &st);
    assert_int_equal(st.active, 0);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* The CLI aborts on SIGINT with rudp_conn_abort() outside any callback, then steps
 * once: the RESET must leave and CLOSED come in that one step. */
static void test_abort_outside_callback(void **state)
{
    (void)state;
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", NULL), 0);
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(h_client_open(&cl, 0, 1, NULL, rudp_sock_local_port(srv->sock), NULL), 0);
    cl.closing = 1; /* connect, then say nothing */
    for (int i = 0; i < 2000 && !(cl.connected && srv->accepted == 1); i++) {
        h_step(srv->sock, 0);
        h_step(cl.sock, 1);
    }
    assert_true(cl.connected);
    rudp_conn_abort(rudp_sock_conn(cl.sock), rudp_sock_now(cl.sock));
    assert_int_equal(rudp_sock_timeout_ms(cl.sock), 0);
    assert_int_equal(h_step(cl.sock, 0), 0);
    assert_true(cl.closed);
    assert_int_equal(cl.error, RUDP_ECLOSED);
    assert_null(rudp_sock_conn(cl.sock));
    for (int i = 0; i < 200 && srv->closed == 0; i++)
        h_step(srv->sock, 5);
    assert_int_equal(srv->closed, 1); /* the RESET arrived */
    rudp_sock_free(cl.sock);
    rudp_sock_free(srv->sock);
    free(srv);
}

/* ---- early send: what a callback queues leaves before it returns ---------------------- */

/* One end of the early-send tests. The client queues `count` messages of `len` bytes
 * inside its CONNECTED callback, then closes; the server checks they come once and in
 * order and, with `reply`, answers each with a copy from inside its READABLE callback.
 * Both note the socket's datagrams_out on entering the callback, after queueing, and at
 * the end of the step that ran it: the three moments the early-send rule is about. */
typedef struct early_peer {
    rudp_sock_t *sock;
    rudp_conn_t *conn;
    uint32_t count, len;  /* client: the burst; both: every message's size */
    int vary;             /* both: sizes vary around len instead (early_len) */
    int no_check;         /* client: SO_NO_CHECK on its socket, which refuses UDP GSO */
    rudp_sock_stats_t st; /* the socket's counters just before it is freed */
    int reply;            /* server: echo each message */
    uint32_t next;        /* messages (or echoes) received in order */
    int bad;              /* one out of order, repeated or of the wrong size; a refused send */
    int queued, checked;  /* a callback queued the burst (or echoes); its step was looked at */
    uint64_t out_before, out_inside, out_after_step;
    uint64_t data_after_step; /* the connection's DATA/FIN transmissions then */
    int closed, error;
    uint32_t data_dgrams; /* server's trace: DATA datagrams received (early_count_data) */
    uint32_t top_seq;     /* the highest sequence number starting one of them */
} early_peer_t;

#define EARLY_BATCH 16u /* sock.c's EARLY_MSGS: messages per early flush without coalescing */

static uint64_t dgrams_out(rudp_sock_t *s)
{
    rudp_sock_stats_t st;
    rudp_sock_stats(s, &st);
    return st.datagrams_out;
}

/* "m00042" padded to len bytes: the index tells order, the size tells truncation. */
static void early_msg(char *buf, uint32_t i, uint32_t len)
{
    char head[16];
    int n = snprintf(head, sizeof head, "m%05u", (unsigned)i);
    memset(buf, '.', len);
    memcpy(buf, head, (size_t)n < len ? (size_t)n : len);
}

/* Message i's size: len, or with `vary` mostly len with some shorter and some longer,
 * so runs of equal sizes are cut in every way a UDP GSO send can be. */
static uint32_t early_len(const early_peer_t *p, uint32_t i)
{
    if (!p->vary)
        return p->len;
    if (i % 11u == 10u)
        return p->len + 5u;
    return i % 5u == 4u ? p->len - 1u - i % 7u : p->len;
}

/* Reads every waiting message, checking index and size; echoes each when p->reply.
 * Returns 1 once the peer's stream has ended, else 0. */
static int early_read(early_peer_t *p, rudp_sock_t *s, rudp_conn_t *c)
{
    char msg[RUDP_MAX_PAYLOAD + 1];
    for (int i = 0; i < 100000; i++) {
        int r = rudp_conn_recv(c, msg, sizeof msg - 1);
        if (r < 0)
            return r == RUDP_ECLOSED;
        msg[r] = '\0';
        unsigned idx = 0;
        if (sscanf(msg, "m%5u", &idx) != 1 || idx != p->next || (uint32_t)r != early_len(p, idx))
            p->bad = 1;
        p->next++;
        if (p->reply && rudp_sock_send(s, c, msg, (size_t)r) != 0)
            p->bad = 1;
    }
    return 0;
}

/* Either end: the connection is gone, with its error (0 when clean). */
static void early_closed(early_peer_t *p, const rudp_sock_event_t *ev)
{
    p->closed = 1;
    p->error = ev->error;
    p->conn = NULL;
}

static void early_client_cb(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev)
{
    early_peer_t *p = user;
    char msg[RUDP_MAX_PAYLOAD];
    switch (ev->kind) {
    case RUDP_SOCK_EV_CONNECTED:
        p->conn = ev->conn;
        p->out_before = dgrams_out(s);
        for (uint32_t i = 0; i < p->count; i++) {
            early_msg(msg, i, early_len(p, i));
            if (rudp_sock_send(s, ev->conn, msg, early_len(p, i)) != 0)
                p->bad = 1;
        }
        p->out_inside = dgrams_out(s);
        p->queued = 1;
        rudp_sock_close(s, ev->conn);
        break;
    case RUDP_SOCK_EV_READABLE:
        (void)early_read(p, s, ev->conn); /* the echoes; our side is closed already */
        break;
    case RUDP_SOCK_EV_CLOSED:
        early_closed(p, ev);
        break;
    case RUDP_SOCK_EV_ACCEPTED:
        break;
    }
}

static void early_server_cb(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev)
{
    early_peer_t *p = user;
    switch (ev->kind) {
    case RUDP_SOCK_EV_ACCEPTED:
        p->conn = ev->conn;
        break;
    case RUDP_SOCK_EV_READABLE: {
        uint64_t before = dgrams_out(s);
        uint32_t had = p->next;
        int eof = early_read(p, s, ev->conn);
        if (p->reply && !p->queued && p->next > had) {
            p->out_before = before;
            p->out_inside = dgrams_out(s);
            p->queued = 1;
        }
        if (eof)
            rudp_sock_close(s, ev->conn); /* the client is done: end our side too */
        break;
    }
    case RUDP_SOCK_EV_CLOSED:
        early_closed(p, ev);
        break;
    case RUDP_SOCK_EV_CONNECTED:
        break;
    }
}

/* Counts DATA datagrams as they first arrive: one starting beyond every earlier one. A
 * probe the client resends after a stall (its timeout on loopback is about a
 * millisecond) starts at a number already seen and is not a datagram of the burst. */
static void early_count_data(void *user, const rudp_event_t *ev)
{
    early_peer_t *p = user;
    if (ev->kind != RUDP_EV_RECV || ev->type != RUDP_T_DATA)
        return;
    if (p->data_dgrams > 0 && (int32_t)(ev->seq - p->top_seq) <= 0)
        return;
    p->top_seq = ev->seq;
    p->data_dgrams++;
}

/* After a step: the first one whose callback queued something is recorded. */
static void early_step_end(early_peer_t *p)
{
    if (!p->queued || p->checked)
        return;
    p->checked = 1;
    p->out_after_step = dgrams_out(p->sock);
    if (p->conn) {
        rudp_stats_t st;
        rudp_conn_stats(p->conn, &st);
        p->data_after_step = st.data_sent;
    }
}

/* Steps server and client until both connections are closed or limit_ms passes.
 * Returns 0 when both closed, -1 on the limit. */
static int early_run(early_peer_t *srv, early_peer_t *cl, uint32_t limit_ms)
{
    uint64_t end = h_now_us() + (uint64_t)limit_ms * 1000u;
    for (uint32_t round = 0; round < 1000000u && h_now_us() < end; round++) {
        h_step(srv->sock, 0);
        early_step_end(srv);
        h_step(cl->sock, 0);
        early_step_end(cl);
        if (srv->closed && cl->closed)
            return 0;
        struct pollfd pfd[2] = { { .fd = rudp_sock_fd(srv->sock), .events = POLLIN },
                                 { .fd = rudp_sock_fd(cl->sock), .events = POLLIN } };
        int timeout = 2, t = rudp_sock_timeout_ms(srv->sock);
        if (t >= 0 && t < timeout)
            timeout = t;
        t = rudp_sock_timeout_ms(cl->sock);
        if (t >= 0 && t < timeout)
            timeout = t;
        (void)poll(pfd, 2, timeout);
    }
    return -1;
}

/* Opens the server on 127.0.0.1 (kernel-chosen port) and a client to it, runs them to
 * a clean close of both connections, and frees both sockets. */
static void early_exchange(early_peer_t *srv, early_peer_t *cl, rudp_sock_config_t *scfg,
                           const rudp_sock_config_t *ccfg)
{
    scfg->conn.trace = early_count_data;
    scfg->conn.trace_user = srv;
    assert_int_equal(h_sock_server(&srv->sock, "127.0.0.1", "0", scfg, early_server_cb, srv), 0);
    char port[16];
    snprintf(port, sizeof port, "%d", rudp_sock_local_port(srv->sock));
    assert_int_equal(h_sock_client(&cl->sock, "127.0.0.1", port, ccfg, early_client_cb, cl), 0);
#ifdef SO_NO_CHECK
    if (cl->no_check) {
        int one = 1;
        assert_int_equal(
            setsockopt(rudp_sock_fd(cl->sock), SOL_SOCKET, SO_NO_CHECK, &one, sizeof one), 0);
    }
#endif
    int rc = early_run(srv, cl, 10000);
    rudp_sock_stats(cl->sock, &cl->st);
    rudp_sock_stats(srv->sock, &srv->st);
    rudp_sock_free(cl->sock);
    rudp_sock_free(srv->sock);
    printf("early: client out %llu -> %llu in the callback, %llu after its step; "
           "server got %u in %u DATA datagrams\n",
           (unsigned long long)cl->out_before, (unsigned long long)cl->out_inside,
           (unsigned long long)cl->out_after_step, (unsigned)srv->next, (unsigned)srv->data_dgrams);
    assert_int_equal(rc, 0);
    assert_int_equal(cl->error, 0);
    assert_int_equal(srv->error, 0);
    assert_false(cl->bad);
    assert_false(srv->bad);
    assert_true(cl->queued && cl->checked);
    assert_int_equal(srv->next, cl->count); /* each once, in order (early_read) */
}

/* Only the window may hold messages back: cc none, and a window (ours and the peer's
 * receive window) larger than the burst. */
static void early_config(rudp_sock_config_t *cfg, uint32_t window, int coalesce)
{
    rudp_sock_config_default(cfg);
    cfg->conn.window = window;
    cfg->conn.cc = RUDP_CC_NONE;
    cfg->conn.coalesce = coalesce;
}

/* A callback that queues three batches and one more without coalescing: the first
 * batch leaves while it is still queueing (the peer starts on it; a driver that sent
 * nothing before the callback returned kept it idle), the rest together at the end of
 * the step (one system call, not one per batch). */
static void test_callback_sends_early(void **state)
{
    (void)state;
    enum { N = 3 * EARLY_BATCH + 1 };
    rudp_sock_config_t scfg, ccfg;
    early_config(&scfg, 64, 0);
    early_config(&ccfg, 64, 0);
    early_peer_t srv = { .len = 16 }, cl = { .count = N, .len = 16 };
    early_exchange(&srv, &cl, &scfg, &ccfg);
    assert_int_equal(cl.out_inside - cl.out_before, EARLY_BATCH);
    /* Every message was out by the end of that step, the last partial batch included. */
    assert_true(cl.data_after_step >= N);
    assert_true(cl.out_after_step > cl.out_inside);
    assert_int_equal(srv.data_dgrams, N); /* one message per datagram */
}

/* With coalescing, a callback queueing more than a datagram holds sends the first one
 * as soon as the next message would not fit in it, and the others at the end of the
 * step: each full, so the peer sees about the fewest datagrams possible. */
static void test_callback_coalesced_full_datagrams(void **state)
{
    (void)state;
    enum { N = 200, LEN = 20 };
    const uint32_t cost = RUDP_RECORD_HEADER + LEN; /* one message in a datagram */
    const uint32_t per = RUDP_MAX_PAYLOAD / cost;   /* messages per full datagram */
    const uint32_t full = (N + per - 1) / per - 1;  /* datagrams before the last */
    const uint32_t least = (N * cost + RUDP_MAX_PAYLOAD - 1) / RUDP_MAX_PAYLOAD;
    rudp_sock_config_t scfg, ccfg;
    early_config(&scfg, 256, 1);
    early_config(&ccfg, 256, 1);
    early_peer_t srv = { .len = LEN }, cl = { .count = N, .len = LEN };
    early_exchange(&srv, &cl, &scfg, &ccfg);
    assert_true(full >= 2);
    assert_int_equal(cl.out_inside - cl.out_before, 1);
    assert_true(cl.data_after_step >= full + 1); /* the others by the step's end */
    assert_true(srv.data_dgrams >= least && srv.data_dgrams <= least + 1);
}

/* One message queued in a callback (a lock-step reply) still waits for the end of the
 * step, on both ends, and leaves then. */
static void test_single_reply_waits_for_step(void **state)
{
    (void)state;
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    early_peer_t srv = { .len = 16, .reply = 1 }, cl = { .count = 1, .len = 16 };
    early_exchange(&srv, &cl, &scfg, &ccfg);
    assert_true(cl.out_inside == cl.out_before);
    assert_true(cl.out_after_step > cl.out_inside && cl.data_after_step >= 1);
    assert_true(srv.queued && srv.checked);
    assert_true(srv.out_inside == srv.out_before);
    assert_true(srv.out_after_step > srv.out_inside && srv.data_after_step >= 1);
    assert_int_equal(cl.next, 1); /* the echo came back */
}

/* ---- UDP GSO: equal-size datagrams to one peer in one send -------------------------- */

/* Client and server each queue a burst from a callback (the names; the echoes), window
 * and cc out of the way, and report on both ends. */
static void gso_exchange(early_peer_t *srv, early_peer_t *cl, int gso)
{
    rudp_sock_config_t scfg, ccfg;
    early_config(&scfg, 256, 0);
    early_config(&ccfg, 256, 0);
    scfg.gso = ccfg.gso = gso;
    early_exchange(srv, cl, &scfg, &ccfg);
    assert_int_equal(cl->next, cl->count); /* every echo, once, in order, its size right */
    printf("gso: client %llu datagrams in %llu GSO sends, server %llu in %llu; GRO receives: "
           "client %llu, server %llu\n",
           (unsigned long long)cl->st.datagrams_out, (unsigned long long)cl->st.gso_sends,
           (unsigned long long)srv->st.datagrams_out, (unsigned long long)srv->st.gso_sends,
           (unsigned long long)cl->st.gro_receives, (unsigned long long)srv->st.gro_receives);
    assert_int_equal(cl->st.send_errors, 0);
    assert_int_equal(srv->st.send_errors, 0);
}

/* A burst of equal-size messages leaves in GSO sends, yet arrives as one datagram per
 * message, each counted as a datagram sent. */
static void test_gso_equal_sizes(void **state)
{
    (void)state;
    if (!h_kernel_has_gso())
        skip();
    enum { N = 200 };
    early_peer_t srv = { .len = 16, .reply = 1 }, cl = { .count = N, .len = 16 };
    gso_exchange(&srv, &cl, 1);
    assert_true(cl.st.gso_sends >= 1);
    assert_true(srv.st.gso_sends >= 1);
    assert_int_equal(srv.data_dgrams, N); /* cut back into datagrams (kernel or GRO) */
    assert_true(cl.st.datagrams_out >= N && srv.st.datagrams_out >= N);
    assert_true(cl.st.gso_sends < cl.st.datagrams_out / 4); /* runs, not pairs */
    if (h_kernel_has_gro()) {
        /* Loopback keeps a run whole: it arrives in one receive, cut by the driver,
         * each datagram counted as one. */
        assert_true(srv.st.gro_receives >= 1 && cl.st.gro_receives >= 1);
        assert_true(srv.st.datagrams_in >= N && cl.st.datagrams_in >= N);
    }
}

#ifdef UDP_SEGMENT
/* One sendmsg() of `len` bytes that the kernel cuts into datagrams of `seg` bytes. */
static ssize_t send_run(int fd, const struct sockaddr_in *to, const uint8_t *data, size_t len,
                        uint16_t seg)
{
    struct iovec iov = { (void *)(uintptr_t)data, len };
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr mh = { .msg_name = (void *)(uintptr_t)to,
                         .msg_namelen = sizeof *to,
                         .msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(cm), &seg, sizeof seg);
    return sendmsg(fd, &mh, 0);
}
#endif

/* Engines on one plain socket, driven by hand: what they have to send goes to `to`, and
 * what arrives goes to the engine its connection ID names. */
enum { MANY = 100, MANY_CID = 0x5000 };

static void many_pump(rudp_conn_t **c, int fd, const struct sockaddr_in *to)
{
    uint8_t buf[RUDP_MAX_DATAGRAM];
    for (int i = 0; i < MANY; i++) {
        int n;
        while ((n = rudp_conn_prepare(c[i], h_now_us(), buf, sizeof buf)) > 0)
            sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)to, sizeof *to);
    }
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
        rudp_hdr_t h;
        if (rudp_wire_decode(&h, buf, (size_t)n) == 0 && h.cid - MANY_CID < MANY)
            rudp_conn_input(c[h.cid - MANY_CID], buf, (size_t)n, h_now_us());
    }
}

/* A GRO run from one address may carry many connections (behind a NAT, say): one receive
 * batch then touches more connections than the list of touched ones holds (64). 100
 * engines on one socket connect, then send one name each in two GSO runs of 50, both
 * queued before the server reads: every name is served. */
static void test_gro_run_of_many_connections(void **state)
{
    (void)state;
#ifndef UDP_SEGMENT
    skip();
#else
    if (!h_kernel_has_gso() || !h_kernel_has_gro())
        skip();
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_non_null(srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", NULL), 0);
    struct sockaddr_in to = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                              .sin_port = htons((uint16_t)rudp_sock_local_port(srv->sock)) };
    int fd = udp_socket(NULL);
    rudp_config_t cfg;
    rudp_config_default(&cfg);
    rudp_conn_t *c[MANY];
    for (int i = 0; i < MANY; i++)
        assert_int_equal(rudp_conn_new_client(&c[i], &cfg, MANY_CID + (uint64_t)i,
                                              1000u * (uint32_t)i, h_now_us()),
                         0);
    int up = 0;
    uint64_t end = h_now_us() + 10000000u;
    while (up < MANY && h_now_us() < end) {
        many_pump(c, fd, &to);
        h_step(srv->sock, 1);
        many_pump(c, fd, &to);
        up = 0;
        for (int i = 0; i < MANY; i++)
            up += rudp_conn_state(c[i]) == RUDP_STATE_ESTABLISHED;
    }
    assert_int_equal(up, MANY);
    for (int i = 0; i < 20; i++) { /* let the last ACCEPTs' ACKs settle */
        h_step(srv->sock, 1);
        many_pump(c, fd, &to);
    }

    /* One name each, in the harness's format, each in a datagram of the same size. */
    static uint8_t run[MANY][RUDP_MAX_DATAGRAM];
    int len = 0;
    for (int i = 0; i < MANY; i++) {
        char name[32];
        int n = snprintf(name, sizeof name, "c%03d-name-%06d", i, 0);
        assert_int_equal(rudp_conn_send(c[i], name, (size_t)n, h_now_us()), 0);
        int got = rudp_conn_prepare(c[i], h_now_us(), run[i], sizeof run[i]);
        assert_true(got > 0);
        if (i == 0)
            len = got;
        assert_int_equal(got, len);
        assert_int_equal(rudp_conn_prepare(c[i], h_now_us(), run[i] + got, 0), 0);
    }
    static uint8_t flat[MANY * RUDP_MAX_DATAGRAM];
    for (int i = 0; i < MANY; i++)
        memcpy(flat + (size_t)i * (size_t)len, run[i], (size_t)len);
    for (int k = 0; k < 2; k++)
        assert_int_equal(
            send_run(fd, &to, flat + (size_t)k * 50 * (size_t)len, 50 * (size_t)len, (uint16_t)len),
            (ssize_t)(50 * len));
    end = h_now_us() + 10000000u;
    while (srv->names < MANY && h_now_us() < end) {
        h_step(srv->sock, 1);
        many_pump(c, fd, &to);
    }
    rudp_sock_stats_t st;
    rudp_sock_stats(srv->sock, &st);
    assert_int_equal(srv->names, MANY);
    assert_false(srv->bad);
    assert_int_equal(st.accepted, MANY);
    assert_true(st.gro_receives >= 1); /* loopback kept a run whole */
    for (int i = 0; i < MANY; i++)
        rudp_conn_free(c[i]);
    close(fd);
    rudp_sock_free(srv->sock);
    free(srv);
#endif
}

/* Sizes that change every few messages (shorter, longer): every message still arrives
 * whole and in order, in its own datagram. */
static void test_gso_mixed_sizes(void **state)
{
    (void)state;
    if (!h_kernel_has_gso())
        skip();
    enum { N = 300 };
    early_peer_t srv = { .len = 40, .reply = 1, .vary = 1 },
                 cl = { .count = N, .len = 40, .vary = 1 };
    gso_exchange(&srv, &cl, 1);
    assert_true(cl.st.gso_sends >= 1);
    assert_int_equal(srv.data_dgrams, N);
}

/* gso = 0: one datagram per send, and per receive. */
static void test_gso_off(void **state)
{
    (void)state;
    enum { N = 200 };
    early_peer_t srv = { .len = 16, .reply = 1 }, cl = { .count = N, .len = 16 };
    gso_exchange(&srv, &cl, 0);
    assert_int_equal(cl.st.gso_sends, 0);
    assert_int_equal(srv.st.gso_sends, 0);
    assert_int_equal(cl.st.gro_receives, 0);
    assert_int_equal(srv.st.gro_receives, 0);
    assert_int_equal(srv.data_dgrams, N);
}

/* The first INITIAL and its copies are equal in size and go to one peer, but never in
 * one GSO run: until the kernel cuts it a run is one packet, and a netem qdisc on the
 * way out would lose the copies together (docs/protocol.md §7.3). */
static void test_handshake_copies_leave_as_three_sends(void **state)
{
    (void)state;
    if (!h_kernel_has_gso())
        skip();
    struct sockaddr_in peer;
    int fd = udp_socket(&peer);
    char port[16];
    snprintf(port, sizeof port, "%u", (unsigned)ntohs(peer.sin_port));
    rudp_sock_t *s = NULL;
    assert_int_equal(rudp_sock_new_client(&s, "127.0.0.1", port, NULL), 0);
    rudp_sock_stats_t st;
    rudp_sock_stats(s, &st);
    assert_int_equal(st.datagrams_out, 3);
    assert_int_equal(st.gso_sends, 0);
    uint8_t a[2048], b[2048];
    ssize_t na = recv(fd, a, sizeof a, 0);
    assert_true(na > 1);
    assert_int_equal(a[1], RUDP_T_INITIAL);
    for (int i = 0; i < 2; i++) {
        ssize_t nb = recv(fd, b, sizeof b, 0);
        assert_int_equal(nb, na);
        assert_memory_equal(a, b, (size_t)na);
    }
    rudp_sock_free(s);
    close(fd);
}

/* A probe's two copies (docs/protocol.md §10.2) are equal in size and go to one peer,
 * but never in one GSO run either. The server here is an engine on a plain socket that
 * accepts the client, then answers nothing: the client's one name is probed for, and
 * each copy of the probe leaves in a send of its own. */
static void test_probe_copies_leave_as_two_sends(void **state)
{
    (void)state;
    if (!h_kernel_has_gso())
        skip();
    struct sockaddr_in peer, from;
    int fd = udp_socket(&peer);
    h_client_t cl = { 0 };
    assert_int_equal(h_client_open(&cl, 1, 1, "127.0.0.1", ntohs(peer.sin_port), NULL), 0);
    rudp_config_t cfg;
    rudp_config_default(&cfg);
    rudp_conn_t *srv = NULL;
    uint8_t buf[2048], data[3][2048];
    ssize_t data_len[3] = { 0, 0, 0 };
    int datas = 0;
    for (uint64_t end = h_now_us() + 5000000u; datas < 3 && h_now_us() < end;) {
        h_step(cl.sock, 1);
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        rudp_hdr_t h;
        if (n <= 0 || rudp_wire_decode(&h, buf, (size_t)n) != 0)
            continue;
        if (h.type == RUDP_T_INITIAL && !srv) {
            assert_int_equal(rudp_conn_new_server(&srv, &cfg, &h, 77, h_now_us()), 0);
            int m;
            while ((m = rudp_conn_prepare(srv, h_now_us(), buf, sizeof buf)) > 0)
                sendto(fd, buf, (size_t)m, 0, (struct sockaddr *)&from, fl);
        } else if (h.type == RUDP_T_DATA) {
            memcpy(data[datas], buf, (size_t)n);
            data_len[datas++] = n;
        }
    }
    assert_int_equal(datas, 3); /* the name, then the probe's two copies */
    assert_int_equal(data_len[2], data_len[1]);
    assert_memory_equal(data[1], data[2], (size_t)data_len[1]);
    rudp_sock_stats_t st;
    rudp_sock_stats(cl.sock, &st);
    assert_int_equal(st.gso_sends, 0);
    rudp_conn_free(srv);
    rudp_sock_free(cl.sock);
    close(fd);
}

/* A socket whose kernel refuses every GSO send (SO_NO_CHECK: EINVAL) sends each refused
 * run one datagram at a time, and after a few refusals stops trying: nothing is lost and
 * no send error is counted. */
static void test_gso_refused_falls_back(void **state)
{
    (void)state;
#ifndef SO_NO_CHECK
    skip(); /* no way to make the kernel refuse GSO here */
#endif
    if (!h_kernel_has_gso())
        skip();
    enum { N = 200 };
    early_peer_t srv = { .len = 16, .reply = 1 }, cl = { .count = N, .len = 16, .no_check = 1 };
    gso_exchange(&srv, &cl, 1);
    assert_int_equal(cl.st.gso_sends, 0);
    assert_true(srv.st.gso_sends >= 1); /* the other end was not affected */
    assert_int_equal(srv.data_dgrams, N);
}

/* A server's rudp_sock_send() looks at the connection it found last before its table.
 * Once a connection's CLOSED event is out, that shortcut must not find it either: a
 * send to it is RUDP_EINVAL, as for any connection that is not live (not the engine's
 * RUDP_ECLOSED, which would mean the driver still held it). The server replied to it
 * and closed it just before, so it was the last one found. */
static void test_send_after_closed_is_refused(void **state)
{
    (void)state;
    rudp_sock_t *srv = NULL, *cli = NULL;
    assert_int_equal(rudp_sock_new_server(&srv, "127.0.0.1", "0", NULL), 0);
    char port[16];
    snprintf(port, sizeof port, "%d", rudp_sock_local_port(srv));
    assert_int_equal(rudp_sock_new_client(&cli, "127.0.0.1", port, NULL), 0);

    int srv_closed = 0, cli_closed = 0, replied = 0, send_rc = 1;
    char buf[64];
    for (int i = 0; i < 2000 && !(srv_closed && cli_closed); i++) {
        rudp_sock_event_t ev;
        assert_int_equal(rudp_sock_step(cli, 5), 0);
        while (rudp_sock_next_event(cli, &ev) == 1) {
            if (ev.kind == RUDP_SOCK_EV_CONNECTED) {
                assert_int_equal(rudp_sock_send(cli, ev.conn, "hola", 4), 0);
                assert_int_equal(rudp_sock_close(cli, ev.conn), 0);
            } else if (ev.kind == RUDP_SOCK_EV_READABLE) {
                while (rudp_conn_recv(ev.conn, buf, sizeof buf) >= 0)
                    ;
            } else if (ev.kind == RUDP_SOCK_EV_CLOSED) {
                cli_closed = 1;
            }
        }
        rudp_sock_flush(cli);
        assert_int_equal(rudp_sock_step(srv, 5), 0);
        while (rudp_sock_next_event(srv, &ev) == 1) {
            if (ev.kind == RUDP_SOCK_EV_READABLE) {
                int n;
                while ((n = rudp_conn_recv(ev.conn, buf, sizeof buf)) >= 0)
                    if (rudp_sock_send(srv, ev.conn, "Hola", 4) == 0)
                        replied++;
                if (n == RUDP_ECLOSED)
                    (void)rudp_sock_close(srv, ev.conn);
            } else if (ev.kind == RUDP_SOCK_EV_CLOSED) {
                srv_closed = 1;
                send_rc = rudp_sock_send(srv, ev.conn, "x", 1);
            }
        }
        rudp_sock_flush(srv);
    }
    assert_int_equal(replied, 1);
    assert_true(srv_closed);
    assert_int_equal(send_rc, RUDP_EINVAL);
    rudp_sock_free(cli);
    rudp_sock_free(srv);
}

static void test_bad_config(void **state)
{
    (void)state;
    rudp_sock_config_t cfg;
    rudp_sock_t *s = NULL;
    rudp_sock_config_default(&cfg);
    cfg.max_clients = 0;
    assert_int_equal(h_sock_server(&s, "127.0.0.1", "0", &cfg, NULL, NULL), RUDP_EINVAL);
    cfg.max_clients = RUDP_SOCK_MAX_CLIENTS + 1;
    assert_int_equal(h_sock_server(&s, "127.0.0.1", "0", &cfg, NULL, NULL), RUDP_EINVAL);
    rudp_sock_config_default(&cfg);
    cfg.conn.window = 0;
    assert_int_equal(h_sock_server(&s, "127.0.0.1", "0", &cfg, NULL, NULL), RUDP_EINVAL);
    assert_int_equal(h_sock_client(&s, "127.0.0.1", "9", &cfg, NULL, NULL), RUDP_EINVAL);
    rudp_sock_config_default(&cfg);
    cfg.impair_on = 1;
    cfg.impair.loss = 1.5;
    assert_int_equal(h_sock_server(&s, "127.0.0.1", "0", &cfg, NULL, NULL), RUDP_EINVAL);
    rudp_sock_config_default(&cfg);
    cfg.family = 12345;
    assert_int_equal(h_sock_client(&s, "127.0.0.1", "9", &cfg, NULL, NULL), RUDP_EINVAL);
    assert_int_equal(h_sock_client(&s, "no-such-host.invalid", "9", NULL, NULL, NULL), RUDP_EADDR);
    assert_null(s);
    rudp_sock_free(NULL);
    uint8_t r1[16], r2[16];
    assert_int_equal(rudp_random_bytes(r1, sizeof r1), 0);
    assert_int_equal(rudp_random_bytes(r2, sizeof r2), 0);
    assert_memory_not_equal(r1, r2, sizeof r1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_clean),
        cmocka_unit_test(test_names_hostile),
        cmocka_unit_test(test_names_hostile_window1),
        cmocka_unit_test(test_names_hostile_lockstep),
        cmocka_unit_test(test_fifty_clients),
        cmocka_unit_test(test_max_clients_refused),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_wrong_address),
        cmocka_unit_test(test_regression_empty_datagrams_counted),
        cmocka_unit_test(test_client_counts_garbage_without_listener),
        cmocka_unit_test(test_server_dies_then_restarts),
        cmocka_unit_test(test_pcap),
        cmocka_unit_test(test_vanished_client_reclaimed),
        cmocka_unit_test(test_abort_outside_callback),
        cmocka_unit_test(test_callback_sends_early),
        cmocka_unit_test(test_callback_coalesced_full_datagrams),
        cmocka_unit_test(test_single_reply_waits_for_step),
        cmocka_unit_test(test_gso_equal_sizes),
        cmocka_unit_test(test_gso_mixed_sizes),
        cmocka_unit_test(test_gso_off),
        cmocka_unit_test(test_gso_refused_falls_back),
        cmocka_unit_test(test_handshake_copies_leave_as_three_sends),
        cmocka_unit_test(test_probe_copies_leave_as_two_sends),
        cmocka_unit_test(test_gro_run_of_many_connections),
        cmocka_unit_test(test_send_after_closed_is_refused),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests_name("sock", tests, NULL, NULL);
}
