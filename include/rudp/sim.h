/* rudp's deterministic simulated link: a seeded PRNG and one direction of an impaired path
 * (netem's loss, burst loss, delay, jitter, duplication, reordering, corruption, rate).
 * For tests, benchmarks and demonstrations without sockets (examples/engine_demo.c), and
 * for the socket driver's built-in impairment. No I/O, no clock: times are passed in.
 * Thread-safety: a rudp_prng_t or a rudp_sim_link_t is used by one thread at a time;
 * rudp_impair_parse() is thread-safe. */
#ifndef RUDP_SIM_H
#define RUDP_SIM_H

#include "rudp/export.h"

#include <stddef.h>
#include <stdint.h>

#include "rudp/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PRNG: xoshiro256** (Blackman & Vigna), seeded through splitmix64 ----
 * Fast, 256-bit state, passes BigCrush; not cryptographic (use a real random source for
 * keys and connection IDs). The same seed gives the same sequence on every platform. */
typedef struct rudp_prng {
    uint64_t s[4];
} rudp_prng_t;

/* Fills the caller's state from four splitmix64 outputs of seed (any seed, 0 included).
 * The state is a plain struct: copy it to fork a sequence; nothing to free. */
RUDP_API void rudp_prng_seed(rudp_prng_t *rng, uint64_t seed);
/* The next 64 random bits. */
RUDP_API uint64_t rudp_prng_next(rudp_prng_t *rng);
/* A uniform double in [0, 1) from the top 53 bits of one draw (never 1.0). */
RUDP_API double rudp_prng_unit(rudp_prng_t *rng);
/* A uniform integer in [0, n), without modulo bias (rejection); 0 when n is 0 or 1. */
RUDP_API uint64_t rudp_prng_below(rudp_prng_t *rng, uint64_t n);

/* ---- Impairment: one direction of a path, in tc-netem's vocabulary ----
 * Probabilities are 0..1; times are microseconds, as everywhere in rudp. An all-zero
 * struct is a perfect link with no delay. */
typedef struct rudp_impair {
    double loss;          /* Bernoulli loss probability (netem "loss random PCT") */
    double loss_corr;     /* correlation 0..1 of successive loss draws; the average stays
                             `loss` (see sim.c for how this differs from netem) */
    double ge_p, ge_r;    /* Gilbert-Elliott burst loss (netem "loss gemodel p r 1-h 1-k"):
                             P(good->bad), P(bad->good) per datagram; replaces `loss` when
                             ge_p > 0. Mean burst length 1/ge_r datagrams. */
    double ge_h;          /* h: P(a datagram survives the bad state); netem's 3rd number is
                             1-h. 0 (the default) = every datagram in the bad state is lost */
    double ge_good_loss;  /* 1-k: P(a datagram is lost in the good state); netem's 4th
                             number. 0 (the default) = the good state loses nothing */
    uint64_t delay_us;    /* one-way delay after serialization (netem "delay") */
    uint64_t jitter_us;   /* uniform +-jitter_us around delay_us, clamped at 0; like
                             netem, jitter reorders datagrams */
    double dup;           /* P(a datagram is delivered twice) (netem "duplicate") */
    double reorder;       /* P(a datagram skips the delay and overtakes earlier ones)
                             (netem "reorder"); needs delay_us > 0, as netem does */
    double corrupt;       /* P(one random bit of the datagram is flipped) (netem "corrupt") */
    uint64_t rate_bps;    /* serialization rate in bit/s, 0 = unlimited (netem "rate") */
    uint32_t queue_limit; /* datagrams waiting for the rate limiter before tail drop;
                             0 = RUDP_SIM_DEFAULT_QUEUE (netem "limit"); only with rate */
} rudp_impair_t;

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

/* Sets one impairment from tc-netem's vocabulary, for command-line use. Keys and values:
 *   "loss"       "PCT" or "PCT,CORR"      random loss, correlation (percent); clears ge_*
 *   "loss-burst" "P,R[,1-H[,1-K]]"        Gilbert-Elliott, percent; 1-H defaults to 100,
 *                                         1-K to 0; clears loss and loss_corr
 *   "delay"      "MS" or "MS,JITTER_MS"   milliseconds, up to 3 decimals
 *   "dup" "PCT"   "reorder" "PCT"   "corrupt" "PCT"
 *   "rate"       "KBIT"                   kbit/s (1000 bit/s), integer, 0 = unlimited
 *   "limit"      "PACKETS"                queue_limit, integer
 * Numbers are plain decimals: no sign, exponent, spaces or trailing text; percentages are
 * 0..100 with up to 6 decimals and an optional '%' (as tc writes them), delays at most
 * 3600000 ms. Returns 0, or RUDP_EINVAL for an unknown key or any
 * bad value, in which case *imp is unchanged. */
RUDP_API int rudp_impair_parse(rudp_impair_t *imp, const char *key, const char *value);

#ifdef __cplusplus
}
#endif
#endif
