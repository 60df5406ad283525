/* throttle.h: what the plain UDP server may say about datagrams it refuses (error replies,
 * log lines), per source and in all, and a periodic summary of what it held back. A UDP
 * source address is unproven, so every reply may hit a spoofed victim (docs/limits.md). */
#ifndef HOLA_THROTTLE_H
#define HOLA_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "error.h"
#include "stats.h"

/* A reply may be at most this many times its request's payload (RFC 9000 section 8.1's
 * limit for an unvalidated address) unless the source's reply budget pays for it. */
#define HOLA_THROTTLE_AMPLIFY 3u
/* Per source (IPv4 address, IPv6 /64): replies beyond 3x, error replies, log lines. */
#define HOLA_THROTTLE_REPLY_RATE 10u /* per second, bursts of twice that */
#define HOLA_THROTTLE_LOG_RATE 1u    /* per second, bursts of 3 */
/* Log lines about bad datagrams from all sources together, per second (bursts of 10):
 * spoofed sources are endless, so the per-source limit alone does not bound the log. */
#define HOLA_THROTTLE_LOG_TOTAL 5u
/* How often a summary of what was held back is printed, while something was. */
#define HOLA_THROTTLE_SUMMARY_US 10000000u

struct hola_throttle;

/* Returns 0, or -1 with e set (out of memory). */
int hola_throttle_new(struct hola_throttle **t, struct hola_err *e);
void hola_throttle_free(struct hola_throttle *t);

/* May a reply of reply_len bytes go to from, for a request of req_len bytes? One within
 * 3x the request always may unless it is an error; an error or a larger reply takes one
 * from the source's budget. A refusal is counted for the summary. */
bool hola_throttle_reply(struct hola_throttle *t, const struct sockaddr *from, socklen_t fromlen,
                         size_t req_len, size_t reply_len, bool error, uint64_t now);

/* Counts a reply that could not be made to fit in 3x its request, so was not sent. */
void hola_throttle_too_big(struct hola_throttle *t);

/* May a line about a bad datagram from `from` (NULL: no source known) go to stderr? */
bool hola_throttle_log(struct hola_throttle *t, const struct sockaddr *from, socklen_t fromlen,
                       uint64_t now);

/* Prints to f one line on what was held back since the last one, when something was and
 * HOLA_THROTTLE_SUMMARY_US passed (or `final`, at exit). */
void hola_throttle_summary(struct hola_throttle *t, uint64_t now, bool final, FILE *f);

/* Milliseconds until a summary is due (-1: none pending), for the loop's poll(). */
int hola_throttle_timeout_ms(const struct hola_throttle *t, uint64_t now);

/* Adds the counts of everything held back to st (--stats). */
void hola_throttle_add_stats(const struct hola_throttle *t, struct hola_stats *st);

#endif
