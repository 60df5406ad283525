/* wait.c: pselect() rather than poll(), whose millisecond timeout would round rudp's
 * ~1 ms probe timeouts up to 2 ms on a LAN. The descriptors are a signal pipe and one
 * socket, far below FD_SETSIZE. */
#include "wait.h"

#include <errno.h>
#include <stddef.h>
#include <sys/select.h>
#include <time.h>

int hola_wait_two(int fd_a, int fd_b, int64_t timeout_us, bool *a, bool *b)
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd_a, &rd);
    FD_SET(fd_b, &rd);
    struct timespec ts, *tp = NULL;
    if (timeout_us >= 0) {
        ts.tv_sec = (time_t)(timeout_us / 1000000);
        ts.tv_nsec = (long)(timeout_us % 1000000) * 1000;
        tp = &ts;
    }
    int nfds = (fd_a > fd_b ? fd_a : fd_b) + 1;
    int n = pselect(nfds, &rd, NULL, NULL, tp, NULL);
    if (a)
        *a = n > 0 && FD_ISSET(fd_a, &rd);
    if (b)
        *b = n > 0 && FD_ISSET(fd_b, &rd);
    return n < 0 ? -1 : 0;
}
