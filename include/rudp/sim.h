/* rudp's deterministic simulated link: one direction of an impaired path (netem's loss,
 * burst loss, delay, jitter, duplication, reordering, corruption, rate; rudp/impair.h),
 * its randomness drawn from a seeded PRNG (rudp/prng.h).
 * For tests, benchmarks and demonstrations without sockets (examples/engine_demo.c), and
 * for the socket driver's built-in impairment. No I/O, no clock: times are passed in.
 * Thread-safety: a rudp_sim_link_t is used by one thread at a time. */
#ifndef RUDP_SIM_H
#define RUDP_SIM_H

#include "rudp/export.h"

#include <stddef.h>
#include <stdint.h>

#include "rudp/error.h"
#include "rudp/impair.h"
#include "rudp/prng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RUDP_SIM_MAX_DGRAM 2048u         /* largest datagram a link accepts, bytes */
#define RUDP_SIM_DEFAULT_QUEUE 1000u     /* queue_limit when 0: netem's default limit */
#define RUDP_SIM_MAX_CAPACITY (1u << 20) /* largest capacity rudp_sim_link_new accepts */

typedef struct rudp_sim_link rudp_sim_link_t; /* opaque */

/* Cumulative counters. Every pushed datagram (in) and every duplicate made (duplicated)
 * ends up exactly once in delivered, lost, queue_dropped, overflow, or is still held:
 *     in + duplicated == delivered + lost + queue_dropped + overflow + held. */
typedef struct rudp_sim_stats {
    uint64_t in;            /* datagrams pushed */
    uint64_t delivered;     /* datagrams popped */
    uint64_t lost;          /* dropped by random or burst loss */
    uint64_t queue_dropped; /* tail-dropped: queue_limit datagrams already waiting */
    uint64_t overflow;      /* dropped because all `capacity` slots were held */
    uint64_t duplicated;    /* extra copies made */
    uint64_t corrupted;     /* copies that had one bit flipped */
    uint64_t reordered;     /* copies sent without the delay (overtaking) */
    uint64_t held;          /* datagrams in the link now (a gauge, not a counter) */
} rudp_sim_stats_t;

/* Creates a link with fixed storage for `capacity` datagrams of up to RUDP_SIM_MAX_DGRAM
 * bytes; nothing is allocated after this call. The link draws all randomness from a PRNG
 * seeded with `seed`, so the same seed, impairment and calls give the same result.
 * Returns 0, RUDP_EINVAL (NULL out or imp, capacity 0 or above RUDP_SIM_MAX_CAPACITY, a
 * probability outside 0..1 or NaN, reorder without delay, a rate above 2^62 bit/s, a
 * delay or a jitter above an hour) or RUDP_ENOMEM. */
RUDP_API int rudp_sim_link_new(rudp_sim_link_t **out, const rudp_impair_t *imp, uint64_t seed,
                               uint32_t capacity);
/* Frees the link and every datagram still in it; NULL is fine. The link's memory (about
 * capacity x RUDP_SIM_MAX_DGRAM bytes, allocated by rudp_sim_link_new()) goes with it. */
RUDP_API void rudp_sim_link_free(rudp_sim_link_t *link);

/* Offers one datagram to the link at time now_us (µs; a time earlier than a previous call
 * is treated as that previous time). The link may lose, duplicate, corrupt, delay or drop
 * it; each of those is counted, and all of them return 0. Returns 0, RUDP_EINVAL (NULL
 * link, or NULL data with len > 0) or RUDP_EMSGSIZE (len > RUDP_SIM_MAX_DGRAM). */
RUDP_API int rudp_sim_link_push(rudp_sim_link_t *link, uint64_t now_us, const void *data,
                                size_t len);

/* As rudp_sim_link_push(), for a datagram behind hdr_len bytes of the caller's own (a
 * destination address, say) that travel with it and come out of rudp_sim_link_pop() in
 * front of it: the rate counts them, as it counts IP and UDP headers; corruption never
 * touches them, only the len bytes of data. Returns as rudp_sim_link_push(), RUDP_EINVAL
 * also for NULL hdr with hdr_len > 0; RUDP_EMSGSIZE when hdr_len + len is too large. */
RUDP_API int rudp_sim_link_push_framed(rudp_sim_link_t *link, uint64_t now_us, const void *hdr,
                                       size_t hdr_len, const void *data, size_t len);

/* Copies out the earliest datagram due at or before now_us (ties in the order they were
 * pushed). Returns 1 and sets *len, 0 if none is due, RUDP_EINVAL (NULL link or len, NULL
 * buf with cap > 0) or RUDP_EBUFSIZE if cap is too small: then *len is the size needed
 * and the datagram stays in the link. */
RUDP_API int rudp_sim_link_pop(rudp_sim_link_t *link, uint64_t now_us, void *buf, size_t cap,
                               size_t *len);

/* The time the earliest held datagram is due, UINT64_MAX if the link is empty (or NULL):
 * the simulator's clock jumps there. */
RUDP_API uint64_t rudp_sim_link_next(const rudp_sim_link_t *link);

/* Copies the counters into *st; does nothing if link or st is NULL. */
RUDP_API void rudp_sim_link_stats(const rudp_sim_link_t *link, rudp_sim_stats_t *st);

#ifdef __cplusplus
}
#endif
#endif
