/* The system's random source, for what must not be guessed: connection IDs, initial
 * sequence numbers, cookie keys (the engine has none of its own; see rudp/conn.h). */
#ifndef RUDP_RANDOM_H
#define RUDP_RANDOM_H

#include "rudp/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills buf with n bytes from the system's random source (getrandom, /dev/urandom).
 * Returns 0, RUDP_EINVAL (NULL buf with n > 0) or RUDP_ESYS. Thread-safe. */
RUDP_API int rudp_random_bytes(void *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
