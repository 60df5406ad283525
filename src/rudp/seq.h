/* Serial-number arithmetic for 32-bit sequence numbers (RFC 1982 §3.2): a is "before"
 * b when b - a, taken modulo 2^32, lies in (0, 2^31). Valid while windows stay far
 * below 2^31, which RUDP_MAX_WINDOW guarantees. */
#ifndef RUDP_SEQ_H
#define RUDP_SEQ_H

#include <stdint.h>

static inline int rudp_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int rudp_seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int rudp_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int rudp_seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t rudp_seq_max(uint32_t a, uint32_t b) { return rudp_seq_gt(a, b) ? a : b; }

#endif
