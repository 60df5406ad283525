/* CRC32C (Castagnoli), the checksum every rudp datagram carries: private to librudp,
 * reachable by tests. */
#ifndef RUDP_CRC32C_H
#define RUDP_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC32C of len bytes at data, continuing from crc (0 to start), like zlib's crc32():
 * the initial and final inversion happen inside, so
 * rudp_crc32c(rudp_crc32c(0, a, n), b, m) == rudp_crc32c(0, ab, n + m).
 * data may be NULL only when len is 0. Check values (RFC 3720 §B.4): 32 zero bytes give
 * 0x8A9136AA, "123456789" gives 0xE3069283. */
uint32_t rudp_crc32c(uint32_t crc, const void *data, size_t len);

/* The two implementations rudp_crc32c chooses between, same contract, exported so tests
 * and the benchmark can run each: the slicing-by-8 table (any CPU), and the SSE4.2 crc32
 * instruction, which may be called only when rudp_crc32c_hw_available() (elsewhere it
 * is the table again). */
uint32_t rudp_crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t rudp_crc32c_hw(uint32_t crc, const void *data, size_t len);
bool rudp_crc32c_hw_available(void);

/* The slicing-by-8 tables, exported only so a test can check every entry against the
 * bit-by-bit definition. Table 0 is the classic byte table. */
extern const uint32_t rudp_crc32c_table[8][256];

#endif
