/* Tests for CRC32C: the RFC 3720 §B.4 check values, chaining and random inputs for each
 * implementation (table, SSE4.2 instruction, and the dispatching rudp_crc32c), the two
 * against each other, and every slicing table entry against the bit-by-bit definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"

/* The definition, one bit at a time: the independent reference the fast code must match. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) {
            crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
        }
    }
    return ~crc;
}

typedef uint32_t (*crc_fn)(uint32_t crc, const void *data, size_t len);

/* Every implementation the library may run; the hardware one only where the CPU has it. */
struct impl {
    const char *name;
    crc_fn fn;
};

static size_t impls(struct impl out[3])
{
    size_t n = 0;
    out[n++] = (struct impl){ "rudp_crc32c", rudp_crc32c };
    out[n++] = (struct impl){ "table", rudp_crc32c_sw };
    if (rudp_crc32c_hw_available())
        out[n++] = (struct impl){ "sse4.2", rudp_crc32c_hw };
    else
        fprintf(stderr, "crc32c: no SSE4.2 on this CPU: the instruction is not tested\n");
    return n;
}

enum { VEC_MAX = 48 };

struct vector {
    const char *name;
    size_t len;
    uint8_t data[VEC_MAX];
    uint32_t crc;
};

/* RFC 3720 §B.4 lists the CRC as the bytes sent on the wire (least significant first), so
 * "aa 36 91 8a" there is the value 0x8A9136AA here. Patterned inputs are filled in below. */
enum { V_ZERO, V_ONES, V_UP, V_DOWN, V_PDU, V_CHECK, V_COUNT };

static void fill_vectors(struct vector v[V_COUNT])
{
    static const uint8_t pdu[48] = {
        /* RFC 3720 §B.4: an iSCSI SCSI Read (10) command PDU. */
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    memset(v, 0, sizeof(struct vector) * V_COUNT);
    v[V_ZERO] = (struct vector){ .name = "32 bytes of zeros", .len = 32, .crc = 0x8A9136AAu };
    v[V_ONES] = (struct vector){ .name = "32 bytes of 0xff", .len = 32, .crc = 0x62A8AB43u };
    memset(v[V_ONES].data, 0xff, 32);
    v[V_UP] = (struct vector){ .name = "32 ascending", .len = 32, .crc = 0x46DD794Eu };
    v[V_DOWN] = (struct vector){ .name = "32 descending", .len = 32, .crc = 0x113FDB5Cu };
    for (int i = 0; i < 32; i++) {
        v[V_UP].data[i] = (uint8_t)i;
        v[V_DOWN].data[i] = (uint8_t)(31 - i);
    }
    v[V_PDU] = (struct vector){ .name = "iSCSI read PDU", .len = 48, .crc = 0xD9963A56u };
    memcpy(v[V_PDU].data, pdu, sizeof pdu);
    /* The catalogue check value of CRC-32C (CRC-32/ISCSI). */
    v[V_CHECK] = (struct vector){ .name = "\"123456789\"", .len = 9, .crc = 0xE3069283u };
    memcpy(v[V_CHECK].data, "123456789", 9);
}

static void test_rfc3720_vectors(void **state)
{
    (void)state;
    struct vector v[V_COUNT];
    struct impl im[3];
    size_t n_im = impls(im);
    fill_vectors(v);
    for (int i = 0; i < V_COUNT; i++) {
        assert_int_equal(crc32c_bitwise(0, v[i].data, v[i].len), v[i].crc);
        for (size_t k = 0; k < n_im; k++) {
            uint32_t got = im[k].fn(0, v[i].data, v[i].len);
            if (got != v[i].crc) {
                print_error("%s, %s: got 0x%08x want 0x%08x\n", im[k].name, v[i].name,
                            (unsigned)got, (unsigned)v[i].crc);
            }
            assert_int_equal(got, v[i].crc);
        }
    }
}

static void test_empty_input(void **state)
{
    (void)state;
    struct impl im[3];
    size_t n_im = impls(im);
    for (size_t k = 0; k < n_im; k++) {
        assert_int_equal(im[k].fn(0, NULL, 0), 0);
        /* An empty chunk leaves a running value unchanged. */
        assert_int_equal(im[k].fn(0xE3069283u, NULL, 0), 0xE3069283u);
    }
}

/* Splitting the input at every point and chaining must give the one-shot value, whichever
 * of the word loop and the byte loop each piece falls into. */
static void test_chaining_every_split(void **state)
{
    (void)state;
    struct vector v[V_COUNT];
    struct impl im[3];
    size_t n_im = impls(im);
    fill_vectors(v);
    const struct vector *pdu = &v[V_PDU];
    for (size_t k = 0; k < n_im; k++) {
        for (size_t cut = 0; cut <= pdu->len; cut++) {
            uint32_t c = im[k].fn(0, pdu->data, cut);
            c = im[k].fn(c, pdu->data + cut, pdu->len - cut);
            assert_int_equal(c, pdu->crc);
        }
        uint32_t c = 0;
        for (size_t i = 0; i < 9; i++) {
            c = im[k].fn(c, v[V_CHECK].data + i, 1);
        }
        assert_int_equal(c, 0xE3069283u);
    }
}

/* All 2048 slicing-table entries against their definition, so a typo in any one entry
 * (which most inputs would never touch) fails here. */
static void test_tables_match_definition(void **state)
{
    (void)state;
    uint32_t t0[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++) {
            c = (c >> 1) ^ ((c & 1u) ? 0x82F63B78u : 0u);
        }
        t0[i] = c;
        assert_int_equal(rudp_crc32c_table[0][i], c);
    }
    for (int k = 1; k < 8; k++) {
        for (int i = 0; i < 256; i++) {
            uint32_t prev = rudp_crc32c_table[k - 1][i];
            assert_int_equal(rudp_crc32c_table[k][i], (prev >> 8) ^ t0[prev & 0xff]);
        }
    }
}

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u; /* a fixed LCG: reproducible inputs */
    return *x;
}

/* Pseudo-random buffers at every length 0..200 and every start offset 0..7 against the
 * bitwise reference: covers the word loops, the tail loops and unaligned starts. */
static void test_random_lengths_and_alignments(void **state)
{
    (void)state;
    uint8_t buf[216];
    uint32_t x = 0x12345678u;
    struct impl im[3];
    size_t n_im = impls(im);
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)(lcg(&x) >> 24);
    }
    for (size_t k = 0; k < n_im; k++) {
        for (size_t off = 0; off < 8; off++) {
            for (size_t len = 0; len + off <= 208; len++) {
                assert_int_equal(im[k].fn(0, buf + off, len), crc32c_bitwise(0, buf + off, len));
                assert_int_equal(im[k].fn(0xdeadbeefu, buf + off, len),
                                 crc32c_bitwise(0xdeadbeefu, buf + off, len));
            }
        }
    }
}

/* The instruction against the table on 5000 random buffers up to 9000 bytes (jumbo
 * datagrams), at random offsets and starting values, cut at a random point and chained.
 * Without SSE4.2 there is nothing to compare, and the test says it is skipped. */
static void test_hw_matches_table(void **state)
{
    (void)state;
    static uint8_t buf[9000 + 16];
    uint32_t x = 0x9e3779b9u;
    if (!rudp_crc32c_hw_available()) {
        skip();
    }
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)(lcg(&x) >> 24);
    }
    for (int run = 0; run < 5000; run++) {
        size_t off = lcg(&x) % 16, len = lcg(&x) % 9001, cut = len ? lcg(&x) % len : 0;
        uint32_t start = lcg(&x);
        uint32_t want = rudp_crc32c_sw(start, buf + off, len);
        uint32_t got = rudp_crc32c_hw(start, buf + off, cut);
        got = rudp_crc32c_hw(got, buf + off + cut, len - cut);
        if (got != want) {
            print_error("off %zu len %zu cut %zu: sse4.2 0x%08x table 0x%08x\n", off, len, cut,
                        (unsigned)got, (unsigned)want);
        }
        assert_int_equal(got, want);
    }
}

/* Any single flipped bit in a datagram-sized buffer changes the CRC (a CRC detects every
 * single-bit error). */
static void test_detects_every_single_bit_flip(void **state)
{
    (void)state;
    uint8_t buf[64];
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)(i * 7 + 3);
    }
    uint32_t good = rudp_crc32c(0, buf, sizeof buf);
    for (size_t bit = 0; bit < sizeof buf * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(rudp_crc32c(0, buf, sizeof buf), good);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(rudp_crc32c(0, buf, sizeof buf), good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3720_vectors),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_chaining_every_split),
        cmocka_unit_test(test_tables_match_definition),
        cmocka_unit_test(test_random_lengths_and_alignments),
        cmocka_unit_test(test_hw_matches_table),
        cmocka_unit_test(test_detects_every_single_bit_flip),
    };
    return cmocka_run_group_tests_name("crc32c", tests, NULL, NULL);
}
