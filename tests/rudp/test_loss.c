/* Loss in two stages (as picoquic's many-losses tests): hand-listed drop patterns, then
 * hundreds of seeded random runs on a hostile simulated link. In every run each name
 * must reach the server exactly once and in order, each greeting the client likewise,
 * and both sides must close cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_alloc.h"

#include "rudp/error.h"
#include "rudp/wire.h"
#include "simpair.h"

/* Patient settings for hostile links: losses that long would end a real connection
 * are part of the test here, so only the message checks can fail a run. */
static void base_opts(simpair_opts_t *o, uint32_t msgs)
{
    simpair_defaults(o);
    o->msgs = msgs;
    o->allocator = &test_allocator;
    o->c2s.delay_us = o->s2c.delay_us = 5000;
    rudp_config_t *cfgs[] = { &o->client_cfg, &o->server_cfg };
    for (int i = 0; i < 2; i++) {
        cfgs[i]->max_retries = 40;
        cfgs[i]->dead_timeout = 0;
        cfgs[i]->idle_timeout = 0;
    }
}

/* What the random runs' links did, summed, to prove they were hostile. */
static rudp_sim_stats_t hostile_total;
static uint64_t retransmits_total;

static void check_run(const simpair_opts_t *o, const char *label)
{
    simpair_result_t r;
    assert_int_equal(simpair_run(o, &r), 0);
    const rudp_sim_stats_t *ls[] = { &r.c2s_stats, &r.s2c_stats };
    for (int i = 0; i < 2; i++) {
        hostile_total.lost += ls[i]->lost;
        hostile_total.duplicated += ls[i]->duplicated;
        hostile_total.corrupted += ls[i]->corrupted;
        hostile_total.reordered += ls[i]->reordered;
    }
    retransmits_total += r.cst.retransmits_timeout + r.cst.retransmits_fast +
                         r.sst.retransmits_timeout + r.sst.retransmits_fast;
    if (!r.ok)
        print_error("%s: %s (server got %u, client got %u, errors %d/%d)\n", label, r.why,
                    r.server_got, r.client_got, r.client_error, r.server_error);
    free(r.latency);
    assert_true(r.ok);
}

/* ---- stage 1: listed drop patterns ---------------------------------------------------- */

typedef struct drop_plan {
    int dir;               /* 0: client->server, 1: server->client */
    uint64_t first, count; /* drop datagrams first..first+count-1 of that direction */
    int type;              /* 0: any type; else only datagrams of this type count */
    uint64_t seen;
} drop_plan_t;

static int type_of(const uint8_t *d, size_t n)
{
    rudp_hdr_t h;
    return rudp_wire_decode(&h, d, n) == 0 ? h.type : -1;
}

static int plan_drop(drop_plan_t *p, int dir, const uint8_t *d, size_t n)
{
    if (p->dir != dir || (p->type && type_of(d, n) != p->type))
        return 0;
    uint64_t k = p->seen++;
    return k >= p->first && k < p->first + p->count;
}

static int drop_c2s(void *u, uint64_t k, const uint8_t *d, size_t n)
{
    (void)k;
    return plan_drop(u, 0, d, n);
}

static int drop_s2c(void *u, uint64_t k, const uint8_t *d, size_t n)
{
    (void)k;
    return plan_drop(u, 1, d, n);
}

/* Runs o with plan dropping datagrams; the caller checks *r. */
static void run_dropping(simpair_opts_t *o, drop_plan_t *plan, simpair_result_t *r)
{
    o->drop_c2s = drop_c2s;
    o->drop_s2c = drop_s2c;
    o->drop_user = plan;
    assert_int_equal(simpair_run(o, r), 0);
    free(r->latency);
}

static void run_plan_with(drop_plan_t plan, simpair_pattern_t pattern, int accept_at_once,
                          const char *what)
{
    simpair_opts_t o;
    base_opts(&o, 12);
    o.accept_at_once = accept_at_once;
    o.pattern = pattern;
    o.drop_c2s = drop_c2s;
    o.drop_s2c = drop_s2c;
    o.drop_user = &plan;
    char label[128];
    snprintf(label, sizeof label, "%s dir=%d first=%llu count=%llu", what, plan.dir,
             (unsigned long long)plan.first, (unsigned long long)plan.count);
    check_run(&o, label);
}

static void run_plan(drop_plan_t plan, simpair_pattern_t pattern, const char *what)
{
    run_plan_with(plan, pattern, 0, what);
}

/* Every single datagram, in each direction, lost once. */
static void test_each_single_datagram_lost(void **state)
{
    (void)state;
    for (int dir = 0; dir < 2; dir++)
        for (uint64_t k = 0; k < 40; k++) {
            run_plan((drop_plan_t){ .dir = dir, .first = k, .count = 1 }, SIMPAIR_PIPELINED,
                     "single");
            run_plan((drop_plan_t){ .dir = dir, .first = k, .count = 1 }, SIMPAIR_LOCKSTEP,
                     "single lockstep");
        }
}

/* k datagrams in a row, at every position. */
static void test_k_in_a_row_everywhere(void **state)
{
    (void)state;
    for (int dir = 0; dir < 2; dir++)
        for (uint64_t count = 2; count <= 6; count++)
            for (uint64_t first = 0; first < 30; first++)
                run_plan((drop_plan_t){ .dir = dir, .first = first, .count = count },
                         SIMPAIR_PIPELINED, "burst");
}

/* The FINs, in both directions, lost once and several times. */
static void test_fin_lost(void **state)
{
    (void)state;
    for (int dir = 0; dir < 2; dir++)
        for (uint64_t count = 1; count <= 3; count++)
            run_plan((drop_plan_t){ .dir = dir, .first = 0, .count = count, .type = RUDP_T_FIN },
                     SIMPAIR_PIPELINED, "fin");
}

/* The last ACKs: the pure ACKs at the end of the exchange, in either direction. */
static void test_last_acks_lost(void **state)
{
    (void)state;
    for (int dir = 0; dir < 2; dir++)
        for (uint64_t first = 0; first < 12; first++)
            run_plan((drop_plan_t){ .dir = dir, .first = first, .count = 100, .type = RUDP_T_ACK },
                     SIMPAIR_LOCKSTEP, "acks from here on");
}

/* Every ACK-carrying datagram for a while: the sender learns nothing and must probe. */
static void test_all_acks_lost_for_a_while(void **state)
{
    (void)state;
    for (uint64_t count = 1; count <= 8; count++)
        run_plan((drop_plan_t){ .dir = 1, .first = 2, .count = count }, SIMPAIR_PIPELINED,
                 "server silent");
}

/* The handshake's own packets: INITIAL, RETRY, the echoed INITIAL, ACCEPT. */
static void test_handshake_losses(void **state)
{
    (void)state;
    for (uint64_t count = 1; count <= 3; count++) {
        run_plan((drop_plan_t){ .dir = 0, .first = 0, .count = count, .type = RUDP_T_INITIAL },
                 SIMPAIR_PIPELINED, "initial");
        run_plan((drop_plan_t){ .dir = 1, .first = 0, .count = count, .type = RUDP_T_RETRY },
                 SIMPAIR_PIPELINED, "retry");
        run_plan((drop_plan_t){ .dir = 1, .first = 0, .count = count, .type = RUDP_T_ACCEPT },
                 SIMPAIR_PIPELINED, "accept");
    }
}

/* The handshake without a RETRY (a listener not under load): INITIAL, ACCEPT and the
 * first packets after them lost once and several times in a row, in each direction. */
static void test_accept_at_once_losses(void **state)
{
    (void)state;
    for (int dir = 0; dir < 2; dir++)
        for (uint64_t count = 1; count <= 4; count++)
            for (uint64_t first = 0; first < 12; first++) {
                drop_plan_t plan = { .dir = dir, .first = first, .count = count };
                run_plan_with(plan, SIMPAIR_PIPELINED, 1, "at once");
                run_plan_with(plan, SIMPAIR_LOCKSTEP, 1, "at once lockstep");
            }
    for (uint64_t count = 1; count <= 4; count++) {
        run_plan_with((drop_plan_t){ .dir = 0, .count = count, .type = RUDP_T_INITIAL },
                      SIMPAIR_PIPELINED, 1, "at once: initial");
        run_plan_with((drop_plan_t){ .dir = 1, .count = count, .type = RUDP_T_ACCEPT },
                      SIMPAIR_PIPELINED, 1, "at once: accept");
    }
}

/* A probe goes out twice (docs/protocol.md §10.2): when the first copy is lost as well
 * as the packet it probes for, the second recovers it on the same expiry, with no
 * second, doubled timeout. One name; its DATA and the first probe copy are dropped. */
static void test_one_lost_probe_costs_no_second_timeout(void **state)
{
    (void)state;
    drop_plan_t plan = { .dir = 0, .first = 0, .count = 2, .type = RUDP_T_DATA };
    simpair_opts_t o;
    base_opts(&o, 1);
    o.accept_at_once = 1;
    simpair_result_t r;
    run_dropping(&o, &plan, &r);
    assert_true(r.ok);
    assert_int_equal(plan.seen, 3); /* the DATA, then both copies of one probe */
    assert_int_equal(r.cst.timeouts, 1);
    assert_int_equal(r.cst.retransmits_timeout, 2);
}

/* With the first INITIAL and ACCEPT each sent three times, a handshake at 10% loss each
 * way waits for its 250 ms timer only when all three of one of them are lost: about one
 * connection in five hundred (0.1% + 99.9% x 0.1%), against one in fifty with two sends
 * and one in five (10% + 90% x 10%) with one (docs/protocol.md §7.3). 1000 seeded
 * one-name connections, 1 ms each way. */
static void test_handshake_copies_at_10_percent(void **state)
{
    (void)state;
    const int runs = 1000;
    int waited = 0, lost_some = 0;
    for (int i = 0; i < runs; i++) {
        simpair_opts_t o;
        simpair_defaults(&o);
        o.allocator = &test_allocator;
        o.msgs = 1;
        o.seed = (uint64_t)i + 1;
        o.accept_at_once = 1;
        o.c2s.delay_us = o.s2c.delay_us = 1000;
        o.c2s.loss = o.s2c.loss = 0.10;
        simpair_result_t r;
        assert_int_equal(simpair_run(&o, &r), 0);
        free(r.latency);
        assert_true(r.ok);
        if (r.first_data_time >= o.client_cfg.initial_rto)
            waited++;
        if (r.cst.duplicates + r.sst.duplicates < 4) /* a copy did not arrive */
            lost_some++;
    }
    print_message("handshakes that waited for the timer at 10%% loss each way: %d of %d "
                  "(%d lost a copy)\n",
                  waited, runs, lost_some);
    assert_true(lost_some >= runs / 4); /* the loss did reach the handshakes (about 47%) */
    assert_true(waited <= 10);          /* about 2 expected; two sends give some 20, one some 190 */
}

/* Sequence numbers wrap through 2^32 on both sides. */
static void test_sequence_wraparound(void **state)
{
    (void)state;
    simpair_opts_t o;
    base_opts(&o, 300);
    o.client_isn = 0xFFFFFF00u;
    o.server_isn = 0xFFFFFFF0u;
    o.c2s.loss = o.s2c.loss = 0.1;
    check_run(&o, "wrap");
    o.pattern = SIMPAIR_LOCKSTEP;
    check_run(&o, "wrap lockstep");
}

/* Stop-and-wait (window 1) is the textbook rdt 3.0 and must survive loss too. */
static void test_stop_and_wait_under_loss(void **state)
{
    (void)state;
    simpair_opts_t o;
    base_opts(&o, 100);
    o.client_cfg.window = o.server_cfg.window = 1;
    o.c2s.loss = o.s2c.loss = 0.2;
    check_run(&o, "window 1");
}

/* ---- stage 2: seeded random runs ---------------------------------------------------- */

static void random_impair(rudp_prng_t *g, rudp_impair_t *im)
{
    memset(im, 0, sizeof *im);
    im->delay_us = 1000 + rudp_prng_below(g, 20000);
    im->jitter_us = rudp_prng_below(g, im->delay_us / 2 + 1);
    if (rudp_prng_below(g, 4) == 0) {
        /* Gilbert-Elliott bursts averaging about 10% loss. */
        im->ge_p = 0.02 + 0.03 * rudp_prng_unit(g);
        im->ge_r = 0.3 + 0.3 * rudp_prng_unit(g);
    } else {
        im->loss = 0.30 * rudp_prng_unit(g);
    }
    im->dup = 0.05;
    im->reorder = 0.20;
    im->corrupt = 0.01;
}

static void test_random_hostile_links(void **state)
{
    (void)state;
    const int runs = 500;
    memset(&hostile_total, 0, sizeof hostile_total);
    retransmits_total = 0;
    rudp_prng_t g;
    rudp_prng_seed(&g, 20261127);
    for (int i = 0; i < runs; i++) {
        simpair_opts_t o;
        base_opts(&o, 20 + (uint32_t)rudp_prng_below(&g, 120));
        o.seed = (uint64_t)i + 1;
        o.accept_at_once = i % 2; /* both handshakes, without changing the draws */
        o.pattern = (simpair_pattern_t)rudp_prng_below(&g, 2);
        o.client_cfg.window = o.server_cfg.window = 1 + (uint32_t)rudp_prng_below(&g, 64);
        if (rudp_prng_below(&g, 2))
            o.client_cfg.cc = o.server_cfg.cc = RUDP_CC_NONE;
        o.client_cfg.coalesce = o.server_cfg.coalesce = (int)rudp_prng_below(&g, 2);
        random_impair(&g, &o.c2s);
        random_impair(&g, &o.s2c);
        char label[64];
        snprintf(label, sizeof label, "random run %d", i);
        check_run(&o, label);
    }
    /* The runs must have met every impairment, many times over. */
    assert_true(hostile_total.lost > 10000);
    assert_true(hostile_total.duplicated > 1000);
    assert_true(hostile_total.corrupted > 100);
    assert_true(hostile_total.reordered > 1000);
    assert_true(retransmits_total > 10000);
    print_message(
        "random runs: %d, lost %llu, duplicated %llu, corrupted %llu, reordered %llu, "
        "retransmitted %llu\n",
        runs, (unsigned long long)hostile_total.lost, (unsigned long long)hostile_total.duplicated,
        (unsigned long long)hostile_total.corrupted, (unsigned long long)hostile_total.reordered,
        (unsigned long long)retransmits_total);
}

/* A link that loses everything: the client ends with RUDP_ETIMEDOUT, no sooner than
 * its retries allow and no later than its bound. */
static void test_total_loss_times_out(void **state)
{
    (void)state;
    simpair_opts_t o;
    simpair_defaults(&o);
    o.allocator = &test_allocator;
    o.msgs = 5;
    o.c2s.loss = 1.0;
    o.client_cfg.max_retries = 6;
    o.client_cfg.dead_timeout = 0;
    o.server_absent = 1;
    simpair_result_t r;
    assert_int_equal(simpair_run(&o, &r), 0);
    free(r.latency);
    assert_int_equal(r.client_error, RUDP_ETIMEDOUT);
    /* INITIALs at 0 (three times), 0.25, 0.5, 1, 2, 4, 8 s (250 ms initial timeout, the first
     * retry not backed off, then doubling capped at max_rto 4 s); the verdict when the
     * next retry would be due. */
    assert_int_equal(r.end_time, 12000000);
    assert_int_equal(r.cst.packets_sent, 9);
    assert_int_equal(r.cst.handshake_retries, 6);

    /* The dead-peer time bound ends it earlier when set. */
    o.client_cfg.dead_timeout = 5000000;
    assert_int_equal(simpair_run(&o, &r), 0);
    free(r.latency);
    assert_int_equal(r.client_error, RUDP_ETIMEDOUT);
    assert_int_equal(r.end_time, 5000000);
}

/* Loss after the handshake: the server goes silent mid-run. */
static void test_peer_dies_mid_run(void **state)
{
    (void)state;
    drop_plan_t plan = { .dir = 1, .first = 5, .count = UINT32_MAX };
    simpair_opts_t o;
    simpair_defaults(&o);
    o.allocator = &test_allocator;
    o.msgs = 50;
    o.c2s.delay_us = o.s2c.delay_us = 5000;
    o.client_cfg.max_retries = 5;
    o.client_cfg.dead_timeout = 0;
    simpair_result_t r;
    run_dropping(&o, &plan, &r);
    assert_false(r.ok);
    assert_int_equal(r.client_error, RUDP_ETIMEDOUT);
    assert_true(r.client_got < 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_single_datagram_lost),
        cmocka_unit_test(test_k_in_a_row_everywhere),
        cmocka_unit_test(test_fin_lost),
        cmocka_unit_test(test_last_acks_lost),
        cmocka_unit_test(test_all_acks_lost_for_a_while),
        cmocka_unit_test(test_handshake_losses),
        cmocka_unit_test(test_one_lost_probe_costs_no_second_timeout),
        cmocka_unit_test(test_handshake_copies_at_10_percent),
        cmocka_unit_test(test_accept_at_once_losses),
        cmocka_unit_test(test_sequence_wraparound),
        cmocka_unit_test(test_stop_and_wait_under_loss),
        cmocka_unit_test(test_random_hostile_links),
        cmocka_unit_test(test_total_loss_times_out),
        cmocka_unit_test(test_peer_dies_mid_run),
    };
    return cmocka_run_group_tests_name("loss", tests, NULL, NULL);
}
