/* Shared by the fuzz targets: the libFuzzer entry point, a check that aborts with a
 * message (so libFuzzer, the sanitizers and the replay tests all see it as a crash,
 * whatever NDEBUG says), and a reader that turns the input into choices. */
#ifndef HOLA_FUZZ_H
#define HOLA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                            \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* The input read front to back; past the end every read gives 0, so any input is a
 * complete program for the target. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t n, off;
} fuzz_in_t;

static inline int fuzz_more(const fuzz_in_t *in)
{
    return in->off < in->n;
}

static inline uint8_t fuzz_u8(fuzz_in_t *in)
{
    return in->off < in->n ? in->p[in->off++] : 0;
}

static inline uint16_t fuzz_u16(fuzz_in_t *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(fuzz_in_t *in)
{
    uint32_t hi = fuzz_u16(in);
    return hi << 16 | fuzz_u16(in);
}

static inline uint64_t fuzz_u64(fuzz_in_t *in)
{
    uint64_t hi = fuzz_u32(in);
    return hi << 32 | fuzz_u32(in);
}

/* Up to want bytes (fewer at the end of the input); returns how many. */
static inline size_t fuzz_bytes(fuzz_in_t *in, const uint8_t **out, size_t want)
{
    size_t left = in->n - in->off;
    if (want > left)
        want = left;
    *out = in->p + in->off;
    in->off += want;
    return want;
}

#endif
