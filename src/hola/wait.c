/* wait.c: ppoll() for the rudp loops: its timespec keeps rudp's ~1 ms probe timeouts
 * exact on a LAN, where poll()'s milliseconds would round them up to 2 ms. Not select():
 * FD_SET on a descriptor >= FD_SETSIZE (a server started with 1100 inherited ones)
 * writes past the fd_set, and poll() has no such limit. */
#define _GNU_SOURCE /* ppoll */
#include "wait.h"

#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <time.h>

int hola_wait_two(int fd_a, int fd_b, int64_t timeout_us, bool *a, bool *b)
{
    struct pollfd p[2] = {
        { .fd = fd_a, .events = POLLIN },
        { .fd = fd_b, .events = POLLIN },
    };
#ifdef __linux__
    struct timespec ts, *tp = NULL;
    if (timeout_us >= 0) {
        ts.tv_sec = (time_t)(timeout_us / 1000000);
        ts.tv_nsec = (long)(timeout_us % 1000000) * 1000;
        tp = &ts;
    }
    int n = ppoll(p, 2, tp, NULL);
#else
    /* Rounded up: waking early would only spin until the deadline. */
    int64_t ms = timeout_us < 0 ? -1 : (timeout_us + 999) / 1000;
    int n = poll(p, 2, ms > INT_MAX ? INT_MAX : (int)ms);
#endif
    /* An error or hang-up counts as readable, as select() had it: the read that follows
     * collects it, where ignoring it would wake the loop again at once, forever. */
    const short ready = POLLIN | POLLERR | POLLHUP;
    if (a)
        *a = n > 0 && (p[0].revents & ready);
    if (b)
        *b = n > 0 && (p[1].revents & ready);
    return n < 0 ? -1 : 0;
}
