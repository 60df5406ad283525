/* The socket driver over DTLS: what it decides from an engine's datagrams holds for the
 * records that carry them. A record's bytes cannot tell a copy (each has its own record
 * number and is encrypted), so the driver marks the record from the datagram it seals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "harness.h"
#include "rudp/error.h"
#include "rudp/sock.h"

static uint8_t key[32];
static rudp_sock_dtls_t dtls = { .psk = key, .psk_len = sizeof key };

/* A DTLS server and a client of `names` names, lock-step, stepped until connected
 * (and, with names, until the first has left). Skips the test without UDP GSO. */
static void connect_pair(h_server_t *srv, h_client_t *cl, uint32_t names, int always_retry)
{
    if (!h_kernel_has_gso())
        skip();
    memset(key, 0x5a, sizeof key);
    rudp_sock_config_t cfg;
    rudp_sock_config_default(&cfg);
    cfg.dtls = &dtls;
    rudp_sock_config_t scfg = cfg;
    scfg.always_retry = always_retry;
    assert_int_equal(h_server_open(srv, "127.0.0.1", &scfg), 0);
    memset(cl, 0, sizeof *cl);
    assert_int_equal(h_client_open(cl, 1, names, NULL, rudp_sock_local_port(srv->sock), &cfg), 0);
    cl->lockstep = 1;
    uint64_t end = h_now_us() + 10000000u;
    for (int i = 0; i < 100000 && !(cl->connected && srv->accepted) && h_now_us() < end; i++) {
        h_step(srv->sock, 1);
        h_step(cl->sock, 1);
    }
    assert_true(cl->connected);
    assert_int_equal(srv->accepted, 1);
}

static void free_pair(h_server_t *srv, h_client_t *cl)
{
    rudp_sock_free(cl->sock);
    rudp_sock_free(srv->sock);
}

/* The first INITIAL and the first ACCEPT go out three times (docs/protocol.md §7.3),
 * equal in size and to one peer, as three records. Were they one GSO run, the path
 * would see one packet, and a netem qdisc would lose the three together: each must
 * leave in a send of its own, as without DTLS. Equal records that are not copies still
 * share runs: the names sent pipelined afterwards (all of one size) show that GSO works
 * on these sockets, so the first check cannot pass for want of it. */
static void test_handshake_copies_are_not_one_gso_run(void **state)
{
    (void)state;
    h_server_t srv;
    h_client_t cl;
    connect_pair(&srv, &cl, 200, 0); /* lock-step until connected: one name has left */
    rudp_sock_stats_t cs, ss;
    rudp_sock_stats(cl.sock, &cs);
    rudp_sock_stats(srv.sock, &ss);
    /* The DTLS handshake's flights, the three INITIALs (ACCEPTs), the first name (its
     * reply): each a send of its own. */
    assert_true(cs.datagrams_out >= 6);
    assert_true(ss.datagrams_out >= 5);
    assert_int_equal(cs.gso_sends, 0);
    assert_int_equal(ss.gso_sends, 0);
    cl.lockstep = 0; /* the other names all at once */
    assert_int_equal(h_run(&srv, &cl, 1, 20000, NULL, NULL), 0);
    assert_int_equal(cl.got, 200);
    assert_false(cl.bad);
    rudp_sock_stats(cl.sock, &cs);
    assert_true(cs.gso_sends > 0);
    free_pair(&srv, &cl);
}

/* A probe goes out twice (docs/protocol.md §10.2): the same, as two records. The server
 * here stops reading once connected, so the client's one name is probed for. */
static void test_probe_copies_are_not_one_gso_run(void **state)
{
    (void)state;
    h_server_t srv;
    h_client_t cl;
    connect_pair(&srv, &cl, 2, 0); /* lock-step: the first name leaves alone */
    rudp_sock_stats_t cs;
    rudp_sock_stats(cl.sock, &cs);
    uint64_t base = cs.datagrams_out;
    uint64_t end = h_now_us() + 5000000u;
    for (int i = 0; i < 100000 && cs.datagrams_out < base + 3 && h_now_us() < end; i++) {
        h_step(cl.sock, 1);
        rudp_sock_stats(cl.sock, &cs);
    }
    assert_true(cs.datagrams_out >= base + 3); /* the name, then the probe's two copies */
    assert_int_equal(cs.gso_sends, 0);
    free_pair(&srv, &cl);
}

/* A server that answers every INITIAL with a RETRY answers the three copies with three
 * equal RETRYs, each a record: they too leave one per send. */
static void test_retry_answers_are_not_one_gso_run(void **state)
{
    (void)state;
    h_server_t srv;
    h_client_t cl;
    connect_pair(&srv, &cl, 0, 1);
    rudp_sock_stats_t ss;
    rudp_sock_stats(srv.sock, &ss);
    assert_true(ss.datagrams_out >= 6); /* DTLS flights, three RETRYs, an ACCEPT */
    assert_int_equal(ss.gso_sends, 0);
    free_pair(&srv, &cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_copies_are_not_one_gso_run),
        cmocka_unit_test(test_probe_copies_are_not_one_gso_run),
        cmocka_unit_test(test_retry_answers_are_not_one_gso_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
