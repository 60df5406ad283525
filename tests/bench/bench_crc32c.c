/* The CRC32C benchmark: the slicing-by-8 table against the SSE4.2 instruction (and
 * rudp_crc32c, which picks one per call) on a small datagram (40 bytes, an ACK or a short
 * name) and a full one (1400 bytes). Each figure is the median of 15 rounds in which the
 * implementations run alternately, so a slow moment of the machine hits them alike.
 *   bench_crc32c [--quick]   --quick: 3 rounds, for a smoke run */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crc32c.h"

#define ROUNDS 15
#define BYTES_PER_ROUND (32u << 20) /* ~30 ms of the table: long enough to time */

typedef uint32_t (*crc_fn)(uint32_t crc, const void *data, size_t len);

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Folding every result into the sink keeps the calls from being dropped. */
static volatile uint32_t sink;

/* ns per byte of `calls` checksums of len bytes, each from 0 like a datagram's. */
static double run(crc_fn fn, const uint8_t *buf, size_t len, uint32_t calls)
{
    uint32_t acc = 0;
    uint64_t t0 = now_ns();
    for (uint32_t i = 0; i < calls; i++) {
        acc ^= fn(0, buf, len);
    }
    uint64_t t1 = now_ns();
    sink ^= acc;
    return (double)(t1 - t0) / ((double)calls * (double)len);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 3 : ROUNDS;
    static const size_t sizes[] = { 40, 1400 };
    static uint8_t buf[1400];
    const struct {
        const char *name;
        crc_fn fn;
    } impls[] = {
        { "table", rudp_crc32c_sw },
        { "sse4.2", rudp_crc32c_hw },
        { "rudp_crc32c", rudp_crc32c },
    };
    int n_impls = rudp_crc32c_hw_available() ? 3 : 1;

    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)(i * 131u + 7u);
    }
    if (n_impls == 1) {
        printf("crc32c: this CPU has no SSE4.2: only the table runs (rudp_crc32c uses it)\n");
    }
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        uint32_t calls = (uint32_t)(BYTES_PER_ROUND / len);
        double ns[3][ROUNDS];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < n_impls; k++) {
                ns[k][r] = run(impls[k].fn, buf, len, calls);
            }
        }
        double table = median(ns[0], rounds);
        for (int k = 0; k < n_impls; k++) {
            double m = median(ns[k], rounds);
            printf("crc32c len=%zu impl=%s ns_per_byte=%.4f GB_per_s=%.2f ns_per_call=%.1f "
                   "speedup_vs_table=%.2f\n",
                   len, impls[k].name, m, 1.0 / m, m * (double)len, table / m);
        }
    }
    return 0;
}
