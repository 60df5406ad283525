/* A client and a server engine joined by two simulated links, on a virtual clock that
 * jumps to the next event: the practice's names exercise, run deterministically.
 * Shared by the protocol tests and the simulator benchmark. */
#ifndef HOLA_SIMPAIR_H
#define HOLA_SIMPAIR_H

#include <stdint.h>

#include "rudp/conn.h"
#include "rudp/listen.h"
#include "rudp/sim.h"

typedef enum simpair_pattern {
    SIMPAIR_PIPELINED = 0, /* queue every name as the window allows */
    SIMPAIR_LOCKSTEP = 1,  /* one name, wait for its reply, then the next */
    SIMPAIR_ONEWAY = 2,    /* names only, the server does not answer (bulk) */
} simpair_pattern_t;

typedef struct simpair_opts {
    rudp_config_t client_cfg, server_cfg;
    rudp_impair_t c2s, s2c;
    uint64_t seed;
    uint32_t msgs;
    uint32_t msg_size; /* 0: "name-NNNNNN" strings; else exactly this many bytes */
    simpair_pattern_t pattern;
    uint64_t time_limit; /* µs of virtual time before giving up */
    uint32_t client_isn, server_isn;
    /* Drop patterns, applied before the links' own impairment: datagram k (0-based,
     * counted per direction) is dropped when its bit is set in these predicates. */
    int (*drop_c2s)(void *user, uint64_t k, const uint8_t *dgram, size_t len);
    int (*drop_s2c)(void *user, uint64_t k, const uint8_t *dgram, size_t len);
    void *drop_user;
    const rudp_allocator_t *allocator;
    int server_absent;  /* nobody answers: the client must give up */
    int accept_at_once; /* the listener accepts an INITIAL without a cookie (no RETRY) */
} simpair_opts_t;

typedef struct simpair_result {
    int ok;              /* everything below checked out */
    const char *why;     /* first failed check, for the test message */
    uint32_t server_got; /* names the server received, in order, verified */
    uint32_t client_got; /* replies the client received, in order, verified */
    int client_error, server_error;
    int client_done, server_done;
    uint64_t end_time;        /* µs of virtual time when both sides were done */
    uint64_t last_reply_time; /* µs when the last reply (or last name, oneway) arrived */
    rudp_stats_t cst, sst;
    rudp_listener_t listener;
    rudp_sim_stats_t c2s_stats, s2c_stats;
    uint64_t *latency;        /* per name, µs from its first transmission to its reply
                                 (one-way runs: to its arrival); the caller frees it */
    uint64_t client_data_tx;  /* DATA datagrams the client put on the link */
    uint64_t first_data_time; /* µs when the client's first DATA left */
    uint64_t steps;
} simpair_result_t;

void simpair_defaults(simpair_opts_t *o);

/* Runs the exchange to completion or to the time limit. Returns 0 when it ran (check
 * res->ok) or a negative RUDP_E* code for a setup failure. */
int simpair_run(const simpair_opts_t *o, simpair_result_t *res);

#endif
