/* The socket driver on loopback: names and greetings between a server and clients in
 * one process, over the built-in impairment, refusals, unreachable and dead peers,
 * wrong-address datagrams, and the pcap file read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "rudp/error.h"

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
    }
    h_server_t *srv = calloc(1, sizeof *srv);
    h_client_t cl = { .lockstep = lockstep };
    assert_non_null(srv);
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    assert_int_equal(h_client_open(&cl, 1, names, NULL, rudp_sock_local_port(srv->sock), &ccfg), 0);
    int rc = h_run(srv, &cl, 1, limit_ms, NULL, NULL);
    /* The client is done; let the server see the last ACK of its FIN (bounded). */
    for (int i = 0; i < 2000 && srv->closed < 1; i++)
        rudp_sock_step(srv->sock, 1);
    rudp_sock_stats_t cst, sst;
    rudp_sock_stats(cl.sock, &cst);
    rudp_sock_stats(srv->sock, &sst);
    if (impaired)
        printf("impair client: in=%llu lost=%llu dup=%llu corrupt=%llu reorder=%llu\n",
               (unsigned long long)cst.impair.in, (unsigned long long)cst.impair.lost,
               (unsigned long long)cst.impair.duplicated,
               (unsigned long long)cst.impair.corrupted,
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_clean),
        cmocka_unit_test(test_names_hostile),
        cmocka_unit_test(test_names_hostile_window1),
        cmocka_unit_test(test_names_hostile_lockstep),
    };
    return cmocka_run_group_tests_name("sock", tests, NULL, NULL);
}
