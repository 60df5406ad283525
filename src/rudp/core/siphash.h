/* SipHash-2-4, the keyed PRF behind rudp's stateless handshake cookies: private to librudp,
 * reachable by tests. */
#ifndef RUDP_SIPHASH_H
#define RUDP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define RUDP_SIPHASH_KEY_LEN 16

/* SipHash-2-4 of len bytes at data under a 128-bit key (Aumasson & Bernstein, "SipHash: a
 * fast short-input PRF", 2012). The key is read as two little-endian 64-bit words and the
 * 64-bit result is returned as a number; to put it on the wire byte for byte like the
 * paper's reference code, store it little-endian. data may be NULL only when len is 0. */
uint64_t rudp_siphash24(const uint8_t key[RUDP_SIPHASH_KEY_LEN], const void *data, size_t len);

#endif
