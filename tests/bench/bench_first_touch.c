/* bench_first_touch.c: what touching a page of memory for the first time costs, against
 * touching it again: the fact behind rudp's lazily used connection buffers and
 * --coalesce's window of 256 (docs/performance.md, section 7). Prints figures only. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGES 256
#define ROUNDS 9

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes one byte per page; returns the ns it took. */
static uint64_t touch(volatile uint8_t *p, size_t page)
{
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < PAGES; i++)
        p[i * page] = (uint8_t)i;
    return now_ns() - t0;
}

int main(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t first[ROUNDS], again[ROUNDS];

    /* Fresh anonymous memory every round, as a new process or connection gets it; the
     * rounds alternate with touching the same pages again. */
    for (int r = 0; r < ROUNDS; r++) {
        uint8_t *p =
            mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        first[r] = touch(p, page);
        again[r] = touch(p, page);
        munmap(p, PAGES * page);
    }
    qsort(first, ROUNDS, sizeof first[0], cmp);
    qsort(again, ROUNDS, sizeof again[0], cmp);
    double f = (double)first[ROUNDS / 2] / PAGES, a = (double)again[ROUNDS / 2] / PAGES;
    printf("bench=first_touch pages=%d rounds=%d first touch %.2f us/page, again %.3f us/page "
           "(%.0fx; medians)\n",
           PAGES, ROUNDS, f / 1000, a / 1000, a > 0 ? f / a : 0);
    return 0;
}
