/* trace.h: --trace, rudp's engine events as a student reads them at a projector: one line
 * per event on standard error, with the time since the first event, the side (and for the
 * server the client's address), the direction, packet type, numbers, and why a packet was
 * sent again. --trace=json writes the same fields as JSON lines. */
#ifndef HOLA_TRACE_H
#define HOLA_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rudp/conn.h"
#include "rudp/sock.h"

#include "netopts.h"
#include "stats.h"

struct hola_trace {
    enum hola_trace_mode mode;
    const char *side; /* "client" or "server" */
    FILE *out;        /* stderr in the programs */
    bool started;
    uint64_t t0; /* `now` of the first event: time 0.000 */
    /* Server: the client's address for a connection ID, NULL when unknown yet. */
    const char *(*peer_of)(void *ctx, uint64_t cid);
    void *peer_ctx;
};

void hola_trace_init(struct hola_trace *t, enum hola_trace_mode mode, const char *side, FILE *out);

/* The rudp_config_t.trace hook; user is a struct hola_trace. */
void hola_trace_event(void *user, const rudp_event_t *ev);

/* Formats one event (no newline) into out; returns what snprintf returns. Exposed for
 * the unit tests. */
int hola_trace_format(const struct hola_trace *t, const rudp_event_t *ev, char *out, size_t cap);

/* --stats: appends the engine's counters (retransmits_timeout, retransmits_fast,
 * spurious, duplicates, out_of_order, corrupt, srtt_us, rttvar_us, min_rtt_us, rto_us,
 * cwnd, and packet counts) to the line. */
void hola_stats_add_engine(struct hola_stats *st, const rudp_stats_t *s);

/* --stats: appends the socket's counters (datagrams, accepted, refused_full,
 * wrong_address, the listener's, the impairment's when on). */
void hola_stats_add_sock(struct hola_stats *st, const rudp_sock_stats_t *s, bool server,
                         bool impair);

/* Adds a connection's counters into a server's running total: counters are summed,
 * min_rtt is the least seen, srtt/rttvar/rto/cwnd are the latest connection's. */
void hola_engine_stats_accumulate(rudp_stats_t *sum, const rudp_stats_t *one);

#endif
