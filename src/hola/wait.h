/* wait.h: sleeping on two descriptors with microsecond precision (the rudp loops), any
 * descriptor number. */
#ifndef HOLA_WAIT_H
#define HOLA_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/* Waits until fd_a or fd_b is readable or timeout_us passes (-1: no limit). Sets
 * *a / *b (when not NULL) to whether each is readable. Returns 0, or -1 with errno
 * (EINTR included). */
int hola_wait_two(int fd_a, int fd_b, int64_t timeout_us, bool *a, bool *b);

#endif
