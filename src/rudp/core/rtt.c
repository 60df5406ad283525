/* Round-trip estimation.
 *
 * Samples come from timestamp echoes, not from matching ACKs to sends, so a
 * retransmitted packet still yields a valid sample: the echo names the exact
 * transmission that reached the peer (the reason TCP timestamps, RFC 7323 §4, and KCP
 * carry one). That sidesteps Karn's ambiguity without discarding samples.
 *
 * Smoothing follows RFC 6298 §2.2-2.3 (alpha 1/8, beta 1/4). As in RFC 9002 §5.3 the
 * peer's reported ACK delay is subtracted only when that leaves the sample at or above
 * min_rtt, so a lying or confused peer cannot push srtt below the path's floor.
 * Unlike QUIC, the delay is not capped at max_ack_delay: rudp repeats its current ACK
 * state on every packet, retransmissions included, so an echo held for long is a
 * genuine delay (the ACK that carried it first was lost), and capping it would turn a
 * single lost ACK into an RTT sample many times too large.
 * The timeout is RFC 9002 §6.2.1's PTO shape: no 200 ms floor as TCP stacks use,
 * just the 1 ms timer granularity on the variance term. */
#include "rtt.h"

void rudp_rtt_init(rudp_rtt_t *r, uint64_t initial_rto_us)
{
    *r = (rudp_rtt_t){ .initial_rto = initial_rto_us };
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

void rudp_rtt_sample(rudp_rtt_t *r, uint64_t rtt, uint64_t ack_delay, uint64_t max_ack_delay)
{
    r->latest = rtt;
    if (!r->has_sample) {
        /* RFC 6298 §2.2 */
        r->has_sample = 1;
        r->min = rtt;
        r->srtt = rtt;
        r->rttvar = rtt / 2;
        return;
    }
    if (rtt < r->min)
        r->min = rtt;
    (void)max_ack_delay;
    uint64_t adjusted = rtt;
    if (rtt >= r->min + ack_delay)
        adjusted = rtt - ack_delay;
    /* RFC 6298 §2.3: RTTVAR first, with the old SRTT. */
    r->rttvar = (3 * r->rttvar + absdiff(r->srtt, adjusted)) / 4;
    r->srtt = (7 * r->srtt + adjusted) / 8;
}

uint64_t rudp_rtt_pto(const rudp_rtt_t *r, uint64_t max_ack_delay)
{
    if (!r->has_sample)
        return r->initial_rto;
    uint64_t var = 4 * r->rttvar;
    if (var < RUDP_GRANULARITY_US)
        var = RUDP_GRANULARITY_US;
    return r->srtt + var + max_ack_delay;
}

uint64_t rudp_rtt_loss_delay(const rudp_rtt_t *r)
{
    uint64_t base = r->srtt > r->latest ? r->srtt : r->latest;
    if (!r->has_sample)
        base = r->initial_rto;
    uint64_t d = base + base / 8;
    return d < RUDP_GRANULARITY_US ? RUDP_GRANULARITY_US : d;
}
