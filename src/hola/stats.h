/* stats.h: the counters behind --stats and the monotonic clock they are timed with. */
#ifndef HOLA_STATS_H
#define HOLA_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hola_stats {
    const char *proto;           /* "tcp", "udp", "rudp" */
    const char *role;            /* "server", "client" */
    unsigned long long sent;     /* names (client) or replies (server) sent */
    unsigned long long received; /* replies (client) or names (server) received */
    unsigned long long lost;     /* client: names sent that got no reply */
    unsigned long long rejected; /* server: invalid names answered with an error */
    unsigned long long clients;  /* server, tcp: connections accepted */
    uint64_t start_us;
    bool wanted; /* the line will be printed (--stats); else costly figures are skipped */
    /* More "key":value pairs, each with its leading comma, appended after elapsed_ms:
     * rudp's engine and socket counters, the impairment's (hola_stats_add). */
    char extra[3072];
    size_t extra_len;
};

/* Appends "key":value to the line (dropped when it would not fit; the buffer is sized
 * for every counter the programs add). */
void hola_stats_add(struct hola_stats *st, const char *key, unsigned long long value);

/* Microseconds on CLOCK_MONOTONIC: immune to wall-clock jumps. */
uint64_t hola_stats_now_us(void);

/* Starts the clock of st for the given proto and role, with wanted set. */
void hola_stats_start(struct hola_stats *st, const char *proto, const char *role);

/* Formats the one-line JSON object (no newline); returns what snprintf returns. */
int hola_stats_format(const struct hola_stats *st, uint64_t now_us, char *out, size_t cap);

/* Writes the JSON object and a newline to f (stderr in the programs). */
void hola_stats_print(const struct hola_stats *st, FILE *f);

#endif
