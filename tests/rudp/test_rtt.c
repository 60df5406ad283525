/* The RTT estimator against values worked out by hand from RFC 6298 §2 and RFC 9002
 * §5.3/§6.2.1 (all times in µs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rtt.h"

#define MAD 25000u /* max_ack_delay for these cases */

static void test_initial_pto_is_initial_rto(void **state)
{
    (void)state;
    rudp_rtt_t r;
    rudp_rtt_init(&r, 1000000);
    assert_false(r.has_sample);
    assert_int_equal(rudp_rtt_pto(&r, MAD), 1000000);
    /* Before any sample the loss delay follows the same guess, plus 1/8. */
    assert_int_equal(rudp_rtt_loss_delay(&r), 1125000);
}

/* A table of samples and the state each must leave, computed by hand:
 *   1st: srtt = R, rttvar = R/2                           (RFC 6298 §2.2)
 *   next: rttvar = 3/4 rttvar + 1/4 |srtt - R'|, srtt = 7/8 srtt + 1/8 R'  (§2.3)
 *   R' = R - ack_delay when R >= min_rtt + ack_delay       (RFC 9002 §5.3) */
static void test_rfc6298_sequence(void **state)
{
    (void)state;
    static const struct {
        uint64_t sample, ack_delay;
        uint64_t srtt, rttvar, min, pto;
    } steps[] = {
        /* 100 ms: srtt 100000, rttvar 50000, pto = 100000 + 200000 + 25000 */
        { 100000, 0, 100000, 50000, 100000, 325000 },
        /* 120 ms with 10 ms delay: R' = 110000; rttvar = (150000 + 10000) / 4,
         * srtt = (700000 + 110000) / 8 */
        { 120000, 10000, 101250, 40000, 100000, 101250 + 160000 + MAD },
        /* 80 ms with 5 ms delay: 80000 < 80000 + 5000, so no adjustment; min drops;
         * rttvar = (120000 + 21250) / 4 = 35312, srtt = (708750 + 80000) / 8 = 98593 */
        { 80000, 5000, 98593, 35312, 80000, 98593 + 4 * 35312 + MAD },
    };
    rudp_rtt_t r;
    rudp_rtt_init(&r, 1000000);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        rudp_rtt_sample(&r, steps[i].sample, steps[i].ack_delay, MAD);
        assert_true(r.has_sample);
        assert_int_equal(r.srtt, steps[i].srtt);
        assert_int_equal(r.rttvar, steps[i].rttvar);
        assert_int_equal(r.min, steps[i].min);
        assert_int_equal(r.latest, steps[i].sample);
        assert_int_equal(rudp_rtt_pto(&r, MAD), steps[i].pto);
    }
}

/* A steady path drives rttvar to zero; the 1 ms granularity keeps the PTO above
 * srtt (RFC 9002 §6.2.1), and there is no 200 ms floor as in TCP stacks. */
static void test_granularity_floor(void **state)
{
    (void)state;
    rudp_rtt_t r;
    rudp_rtt_init(&r, 1000000);
    for (int i = 0; i < 100; i++)
        rudp_rtt_sample(&r, 50, 0, 0);
    assert_int_equal(r.srtt, 50);
    assert_int_equal(r.rttvar, 0);
    assert_int_equal(rudp_rtt_pto(&r, 0), 50 + 1000);
    assert_int_equal(rudp_rtt_pto(&r, 300), 50 + 1000 + 300);
    /* The loss delay has the same floor. */
    assert_int_equal(rudp_rtt_loss_delay(&r), 1000);
}

/* A peer claiming a huge ACK delay cannot push srtt below min_rtt: the adjustment is
 * skipped when it would cross the floor. */
static void test_ack_delay_cannot_undercut_min_rtt(void **state)
{
    (void)state;
    rudp_rtt_t r;
    rudp_rtt_init(&r, 1000000);
    rudp_rtt_sample(&r, 10000, 0, MAD);
    rudp_rtt_sample(&r, 12000, 1000000, MAD); /* 12000 < 10000 + 1000000: raw used */
    assert_int_equal(r.srtt, (7 * 10000 + 12000) / 8);
}

/* A long but genuine ACK delay (the first ACK was lost and the state was repeated
 * later) is subtracted in full, not capped at max_ack_delay (see rtt.c). */
static void test_long_ack_delay_subtracted(void **state)
{
    (void)state;
    rudp_rtt_t r;
    rudp_rtt_init(&r, 1000000);
    rudp_rtt_sample(&r, 10000, 0, 1000);
    rudp_rtt_sample(&r, 45000, 35000, 1000);
    assert_int_equal(r.srtt, 10000);
    assert_int_equal(r.rttvar, 3750); /* (3 * 5000 + 0) / 4 */
}

static void test_loss_delay_uses_latest_when_larger(void **state)
{
    (void)state;
    rudp_rtt_t r;
    rudp_rtt_init(&r, 1000000);
    rudp_rtt_sample(&r, 80000, 0, 0);
    rudp_rtt_sample(&r, 160000, 0, 0); /* srtt 90000, latest 160000 */
    assert_int_equal(r.srtt, 90000);
    assert_int_equal(rudp_rtt_loss_delay(&r), 180000); /* 9/8 · 160000 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_pto_is_initial_rto),
        cmocka_unit_test(test_rfc6298_sequence),
        cmocka_unit_test(test_granularity_floor),
        cmocka_unit_test(test_ack_delay_cannot_undercut_min_rtt),
        cmocka_unit_test(test_long_ack_delay_subtracted),
        cmocka_unit_test(test_loss_delay_uses_latest_when_larger),
    };
    return cmocka_run_group_tests_name("rtt", tests, NULL, NULL);
}
