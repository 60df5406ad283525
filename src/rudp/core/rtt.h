/* Round-trip estimator and probe timeout: RFC 6298 §2 smoothing, RFC 9002 §5 ack-delay
 * adjustment and §6.2.1 PTO. Times in microseconds. */
#ifndef RUDP_RTT_H
#define RUDP_RTT_H

#include <stdint.h>

#define RUDP_GRANULARITY_US 1000u /* RFC 9002 kGranularity: timers are not finer */

typedef struct rudp_rtt {
    uint64_t latest;      /* last raw sample */
    uint64_t min;         /* smallest raw sample: the path without queueing */
    uint64_t srtt;        /* smoothed RTT */
    uint64_t rttvar;      /* its mean deviation */
    uint64_t initial_rto; /* PTO until the first sample (250 ms: docs/protocol.md §10.2) */
    int has_sample;
} rudp_rtt_t;

void rudp_rtt_init(rudp_rtt_t *r, uint64_t initial_rto_us);

/* Feeds one sample: `rtt` measured from a timestamp echo, `ack_delay` as reported by
 * the peer (see rtt.c for why max_ack_delay does not cap it; kept for the interface). */
void rudp_rtt_sample(rudp_rtt_t *r, uint64_t rtt, uint64_t ack_delay, uint64_t max_ack_delay);

/* The probe timeout before backoff: srtt + max(4·rttvar, 1 ms) + max_ack_delay, or the
 * initial RTO while there is no sample. */
uint64_t rudp_rtt_pto(const rudp_rtt_t *r, uint64_t max_ack_delay);

/* RFC 9002 §6.1.2 loss delay: 9/8 · max(srtt, latest), at least the granularity. */
uint64_t rudp_rtt_loss_delay(const rudp_rtt_t *r);

#endif
