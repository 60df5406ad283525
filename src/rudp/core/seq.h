/* Serial-number arithmetic for 32-bit sequence numbers (RFC 1982 §3.2): a is "before"
 * b when b - a, taken modulo 2^32, lies in (0, 2^31). RFC 1982 leaves a distance of
 * exactly 2^31 undefined; these functions then call each "before" the other. Windows
 * never come near that: RUDP_MAX_WINDOW is 1024. */
#ifndef RUDP_SEQ_H
#define RUDP_SEQ_H

#include <stdint.h>

static inline int rudp_seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}
static inline int rudp_seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}
static inline int rudp_seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}
static inline int rudp_seq_ge(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) >= 0;
}
static inline uint32_t rudp_seq_max(uint32_t a, uint32_t b)
{
    return rudp_seq_gt(a, b) ? a : b;
}

#endif
