/* The impairment of one direction of a path in tc-netem's vocabulary, what the simulated
 * link (rudp/sim.h) and the socket driver's built-in impairment (rudp/sock.h) apply, and
 * its parser for command lines. rudp_impair_parse() is thread-safe. */
#ifndef RUDP_IMPAIR_H
#define RUDP_IMPAIR_H

#include "rudp/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Impairment: one direction of a path, in tc-netem's vocabulary ----
 * Probabilities are 0..1; times are microseconds, as everywhere in rudp. An all-zero
 * struct is a perfect link with no delay. */
typedef struct rudp_impair {
    double loss;          /* Bernoulli loss probability (netem "loss random PCT") */
    double loss_corr;     /* correlation 0..1 of successive loss draws; the average stays
                             `loss` (see sim.c for how this differs from netem) */
    double ge_p, ge_r;    /* Gilbert-Elliott burst loss (netem "loss gemodel p r 1-h 1-k"):
                             P(good->bad), P(bad->good) per datagram; replaces `loss` when
                             ge_p > 0. Mean burst length 1/ge_r datagrams. */
    double ge_h;          /* h: P(a datagram survives the bad state); netem's 3rd number is
                             1-h. 0 (the default) = every datagram in the bad state is lost */
    double ge_good_loss;  /* 1-k: P(a datagram is lost in the good state); netem's 4th
                             number. 0 (the default) = the good state loses nothing */
    uint64_t delay_us;    /* one-way delay after serialization (netem "delay") */
    uint64_t jitter_us;   /* uniform +-jitter_us around delay_us, clamped at 0; like
                             netem, jitter reorders datagrams */
    double dup;           /* P(a datagram is delivered twice) (netem "duplicate") */
    double reorder;       /* P(a datagram skips the delay and overtakes earlier ones)
                             (netem "reorder"); needs delay_us > 0, as netem does */
    double corrupt;       /* P(one random bit of the datagram is flipped) (netem "corrupt") */
    uint64_t rate_bps;    /* serialization rate in bit/s, 0 = unlimited (netem "rate") */
    uint32_t queue_limit; /* datagrams waiting for the rate limiter before tail drop;
                             0 = RUDP_SIM_DEFAULT_QUEUE (netem "limit"); only with rate */
} rudp_impair_t;

/* Sets one impairment from tc-netem's vocabulary, for command-line use. Keys and values:
 *   "loss"       "PCT" or "PCT,CORR"      random loss, correlation (percent); clears ge_*
 *   "loss-burst" "P,R[,1-H[,1-K]]"        Gilbert-Elliott, percent; 1-H defaults to 100,
 *                                         1-K to 0; clears loss and loss_corr
 *   "delay"      "MS" or "MS,JITTER_MS"   milliseconds, up to 3 decimals
 *   "dup" "PCT"   "reorder" "PCT"   "corrupt" "PCT"
 *   "rate"       "KBIT"                   kbit/s (1000 bit/s), integer, 0 = unlimited
 *   "limit"      "PACKETS"                queue_limit, integer
 * Numbers are plain decimals: no sign, exponent, spaces or trailing text; percentages are
 * 0..100 with up to 6 decimals and an optional '%' (as tc writes them), delays at most
 * 3600000 ms. Returns 0, or RUDP_EINVAL for an unknown key or any
 * bad value, in which case *imp is unchanged. */
RUDP_API int rudp_impair_parse(rudp_impair_t *imp, const char *key, const char *value);

#ifdef __cplusplus
}
#endif
#endif
