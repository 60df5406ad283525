/* The simulator's PRNG: xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators", 2018) seeded through splitmix64, as its authors recommend.
 *
 * Why this one: the simulated link must give the same datagram fate for the same seed on
 * every machine (rand() does not), and a test run draws millions of numbers, so it must be
 * fast and statistically sound; xoshiro256** is both and is 20 lines. splitmix64 spreads a
 * small seed (0, 1, 2...) over the 256-bit state and can never produce the all-zero state
 * (its output function is a bijection, so at most one of four outputs is 0).
 * Known answers (seed 0 gives 0x99ec5f36cb75f2b4 first) are checked in test_sim. */
#include "rudp/prng.h"

static uint64_t rotl64(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64 (Steele, Lea & Flood 2014): advance by the golden gamma, then mix. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void rudp_prng_seed(rudp_prng_t *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        rng->s[i] = splitmix64(&seed);
    }
}

uint64_t rudp_prng_next(rudp_prng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

double rudp_prng_unit(rudp_prng_t *rng)
{
    /* The top 53 bits fill a double's mantissa exactly: every value is k * 2^-53, uniform,
     * and strictly below 1. The high bits are used because they are the best ones. */
    return (double)(rudp_prng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t rudp_prng_below(rudp_prng_t *rng, uint64_t n)
{
    if (n <= 1) {
        return 0;
    }
    /* x % n is biased towards small results unless x is drawn from a multiple of n values.
     * 2^64 mod n draws, the ones below `threshold`, are the excess; redraw them. The
     * rejection chance is below 1/2 even in the worst case and tiny for small n. */
    uint64_t threshold = (0 - n) % n; /* == 2^64 mod n, in 64-bit arithmetic */
    for (;;) {
        uint64_t x = rudp_prng_next(rng);
        if (x >= threshold) {
            return x % n;
        }
    }
}
