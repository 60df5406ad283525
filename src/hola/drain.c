/* drain.c: see drain.h. */
#include "drain.h"

#include <poll.h>

#include "stats.h"

#define DRAIN_MARGIN_US 1000000u

int hola_rudp_drain(rudp_sock_t *s, const rudp_impair_t *imp, int stop_fd,
                    bool (*stopped)(void *ctx), void *ctx)
{
    uint64_t until = hola_stats_now_us() + imp->delay_us + imp->jitter_us + DRAIN_MARGIN_US;

    while (rudp_sock_pending(s) > 0 && !stopped(ctx)) {
        uint64_t now = hola_stats_now_us();
        if (now >= until)
            return 0;
        int64_t timeout = (int64_t)(until - now); /* engine and link deadlines shorten it */
        struct pollfd stop = { .fd = stop_fd, .events = POLLIN };
        int r = rudp_sock_step_poll(s, &stop, 1, timeout);
        if (r != 0)
            return r;
        rudp_sock_event_t ev;
        while (rudp_sock_next_event(s, &ev) > 0)
            ;
    }
    return 0;
}
