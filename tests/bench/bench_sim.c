/* The simulator benchmark: rudp's efficiency against the theoretical bounds, on a
 * seeded simulated path, one line per case (see README "Benchmarks").
 *   bench_sim [--quick]   --quick: fewer messages, for a smoke run */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simpair.h"

#define ONE_WAY_US 5000u /* path RTT 10 ms */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, uint32_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_u64);
    uint32_t i = (uint32_t)(q * (n - 1) + 0.5);
    return (double)v[i];
}

static void patient(rudp_config_t *cfg)
{
    /* The bench measures efficiency, not give-up policy. */
    cfg->max_retries = 60;
    cfg->dead_timeout = 0;
    cfg->idle_timeout = 0;
}

static int run_names(simpair_pattern_t pattern, double p, uint32_t msgs)
{
    simpair_opts_t o;
    simpair_defaults(&o);
    o.msgs = msgs;
    o.pattern = pattern;
    o.seed = 42;
    o.c2s.delay_us = o.s2c.delay_us = ONE_WAY_US;
    o.c2s.loss = o.s2c.loss = p;
    o.time_limit = 3600ull * 1000000u;
    patient(&o.client_cfg);
    patient(&o.server_cfg);
    simpair_result_t r;
    if (simpair_run(&o, &r) != 0) {
        fprintf(stderr, "bench_sim: setup failed\n");
        return 1;
    }
    double rtt = 2.0 * ONE_WAY_US;
    double bound = pattern == SIMPAIR_LOCKSTEP ? 1.0 / ((1 - p) * (1 - p)) : 1.0 / (1 - p);
    double p50 = pct(r.latency, msgs, 0.50) / rtt, p99 = pct(r.latency, msgs, 0.99) / rtt;
    printf("pattern=%s loss=%.2f msgs=%u delivered=%u in_order=%s tx_per_msg=%.3f bound=%.3f "
           "spurious=%.4f premature=%.4f p50_rtt=%.2f p99_rtt=%.2f\n",
           pattern == SIMPAIR_LOCKSTEP ? "lockstep" : "pipelined", p, msgs, r.server_got,
           r.ok ? "yes" : "no", (double)r.client_data_tx / msgs, bound,
           r.cst.data_sent ? (double)r.cst.spurious / (double)r.cst.data_sent : 0.0,
           r.cst.data_sent ? (double)r.cst.premature / (double)r.cst.data_sent : 0.0, p50, p99);
    if (!r.ok)
        fprintf(stderr, "bench_sim: run failed: %s\n", r.why);
    free(r.latency);
    return !r.ok;
}

/* Bulk transfer through a 10 Mbit/s bottleneck with a queue: does congestion control
 * fill the pipe? ideal = serialization of every datagram + one RTT. */
static int run_bulk(double p, uint32_t msgs)
{
    const uint64_t rate = 10000000;
    simpair_opts_t o;
    simpair_defaults(&o);
    o.msgs = msgs;
    o.msg_size = 1200;
    o.pattern = SIMPAIR_ONEWAY;
    o.seed = 7;
    o.c2s.delay_us = o.s2c.delay_us = ONE_WAY_US;
    o.c2s.rate_bps = rate;
    o.c2s.queue_limit = 32;
    o.c2s.loss = o.s2c.loss = p;
    o.time_limit = 3600ull * 1000000u;
    o.client_cfg.window = o.server_cfg.window = 256;
    o.client_cfg.send_queue = 256;
    patient(&o.client_cfg);
    patient(&o.server_cfg);
    simpair_result_t r;
    if (simpair_run(&o, &r) != 0) {
        fprintf(stderr, "bench_sim: setup failed\n");
        return 1;
    }
    double dgram_bits = 8.0 * (RUDP_HEADER_SIZE + 1200 + RUDP_TRAILER_SIZE);
    double ideal_ms = (dgram_bits * msgs / (double)rate) * 1000.0 + 2.0 * ONE_WAY_US / 1000.0;
    double time_ms = (double)(r.last_reply_time - r.first_data_time) / 1000.0;
    printf("pattern=bulk link_mbit=%.0f rtt_ms=%.0f loss=%.2f msgs=%u delivered=%u time_ms=%.1f "
           "ideal_ms=%.1f ratio=%.3f queue_drops=%llu\n",
           (double)rate / 1e6, 2.0 * ONE_WAY_US / 1000.0, p, msgs, r.server_got, time_ms, ideal_ms,
           time_ms / ideal_ms, (unsigned long long)r.c2s_stats.queue_dropped);
    if (!r.ok)
        fprintf(stderr, "bench_sim: bulk run failed: %s\n", r.why);
    free(r.latency);
    return !r.ok;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    uint32_t n = quick ? 1000 : 10000;
    static const double losses[] = { 0.0, 0.01, 0.05, 0.10, 0.20, 0.30 };
    int failed = 0;
    for (int pat = 0; pat < 2; pat++)
        for (size_t i = 0; i < sizeof losses / sizeof losses[0]; i++)
            failed |= run_names(pat ? SIMPAIR_LOCKSTEP : SIMPAIR_PIPELINED, losses[i], n);
    failed |= run_bulk(0.0, n);
    failed |= run_bulk(0.01, n);
    return failed;
}
