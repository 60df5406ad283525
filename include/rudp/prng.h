/* rudp's seeded PRNG, the simulated link's source of randomness (rudp/sim.h), for tests
 * and demonstrations that must repeat exactly. Not for keys or connection IDs: those
 * come from the system (rudp_random_bytes(), rudp/sock.h). Thread-safety: a rudp_prng_t
 * is used by one thread at a time. */
#ifndef RUDP_PRNG_H
#define RUDP_PRNG_H

#include "rudp/export.h"

#include <stddef.h>
#include <stdint.h>

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

#ifdef __cplusplus
}
#endif
#endif
