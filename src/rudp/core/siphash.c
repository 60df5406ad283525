/* SipHash-2-4 (Aumasson & Bernstein 2012): the server's cookie MAC, so it can verify a
 * client's echoed cookie without keeping per-client state.
 *
 * Why SipHash: the cookie must be unforgeable by anyone without the server's key, and it is
 * computed over a few dozen bytes (address, port, time); SipHash is a PRF designed exactly
 * for short inputs, needs no library, and has published test vectors (the paper, App. A,
 * and vectors_sip64 in the reference code), all 64 of which test_siphash checks.
 *
 * Every load is assembled byte by byte in little-endian order as the paper specifies, so
 * the result is the same on any host and the input need not be aligned. */
#include "siphash.h"

static uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

/* One SipRound (paper §2, Fig. 2.1): the ARX network on the four state words. */
static void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl64(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rotl64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl64(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

/* c = 2 compression rounds per message word, d = 4 finalisation rounds. */
static void compress(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sipround(v);
    sipround(v);
    v[0] ^= m;
}

uint64_t rudp_siphash24(const uint8_t key[RUDP_SIPHASH_KEY_LEN], const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t k0 = load_le64(key);
    uint64_t k1 = load_le64(key + 8);
    /* Initialisation (paper §2): the constants spell "somepseudorandomlygeneratedbytes". */
    uint64_t v[4] = {
        k0 ^ UINT64_C(0x736f6d6570736575),
        k1 ^ UINT64_C(0x646f72616e646f6d),
        k0 ^ UINT64_C(0x6c7967656e657261),
        k1 ^ UINT64_C(0x7465646279746573),
    };
    size_t left = len;

    while (left >= 8) {
        compress(v, load_le64(p));
        p += 8;
        left -= 8;
    }

    /* The last word carries the 0..7 trailing bytes and, in its top byte, len mod 256:
     * that length byte is what makes messages that differ only in trailing zero bytes
     * hash differently. */
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < left; i++) {
        last |= (uint64_t)p[i] << (8 * i);
    }
    compress(v, last);

    /* Finalisation: d = 4 rounds after marking the state. */
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++) {
        sipround(v);
    }
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}
