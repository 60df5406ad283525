/* Tests for the rudp wire format: protocol.md's vectors, round trips, malformed input, serials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bytes.h"
#include "crc32c.h"
#include "rudp/error.h"
#include "rudp/wire.h"
#include "seq.h"

/* ---- the test vectors of docs/protocol.md ------------------------------------------- */

enum { VEC_MAX = 64 };

struct vector {
    const char *name;
    rudp_hdr_t h; /* sack and payload pointers filled from the two arrays below */
    uint8_t sack[8];
    uint8_t payload[RUDP_COOKIE_SIZE]; /* the longest vector payload */
    size_t len;
    uint8_t bytes[VEC_MAX];
};

#define CID 0x0123456789abcdefull
#define COOKIE_BYTES                                                                              \
    {                                                                                             \
        0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x43, 0x3a, 0x38, 0xdf, 0x9e, 0x55, 0xf6, 0x84, 0xe0, \
            0x55                                                                                  \
    }

static const struct vector vectors[] = {
    {
        .name = "INITIAL without cookie",
        .h = { .version = 1,
               .type = RUDP_T_INITIAL,
               .cid = CID,
               .seq = 0x1000,
               .ts = 1000000,
               .rwnd = 64 },
        .len = 40,
        .bytes = { 0x01, 0x01, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                   0xcd, 0xef, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
                   0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                   0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x9d, 0xc0, 0xd9, 0x9b },
    },
    {
        .name = "RETRY",
        .h = { .version = 1,
               .type = RUDP_T_RETRY,
               .flags = RUDP_F_ACK,
               .cid = CID,
               .ts = 1000250,
               .ts_echo = 1000000,
               .payload_len = 16 },
        .payload = COOKIE_BYTES,
        .len = 56,
        .bytes = { 0x01, 0x02, 0x01, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x43, 0x3a,
                   0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
                   0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x43, 0x3a, 0x38, 0xdf, 0x9e, 0x55,
                   0xf6, 0x84, 0xe0, 0x55, 0x4d, 0x21, 0xd2, 0x62 },
    },
    {
        .name = "INITIAL with cookie",
        .h = { .version = 1,
               .type = RUDP_T_INITIAL,
               .cid = CID,
               .seq = 0x1000,
               .ts = 1000500,
               .rwnd = 64,
               .payload_len = 16 },
        .payload = COOKIE_BYTES,
        .len = 56,
        .bytes = { 0x01, 0x01, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                   0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x44, 0x34,
                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x10,
                   0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x43, 0x3a, 0x38, 0xdf, 0x9e, 0x55,
                   0xf6, 0x84, 0xe0, 0x55, 0x24, 0x75, 0x42, 0x3a },
    },
    {
        .name = "ACCEPT",
        .h = { .version = 1,
               .type = RUDP_T_ACCEPT,
               .flags = RUDP_F_ACK,
               .cid = CID,
               .seq = 0x2000,
               .ack = 0x1000,
               .ts = 1000750,
               .ts_echo = 1000500,
               .rwnd = 64 },
        .len = 40,
        .bytes = { 0x01, 0x03, 0x01, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                   0xcd, 0xef, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x10, 0x00,
                   0x00, 0x0f, 0x45, 0x2e, 0x00, 0x0f, 0x44, 0x34, 0x00, 0x00,
                   0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0xbd, 0x35, 0xd8, 0x23 },
    },
    {
        .name = "DATA \"Julián\" with SACK",
        .h = { .version = 1,
               .type = RUDP_T_DATA,
               .flags = RUDP_F_ACK,
               .sack_len = 1,
               .cid = CID,
               .seq = 0x1005,
               .ack = 0x2003,
               .ts = 1002000,
               .ts_echo = 1001500,
               .ack_delay = 250,
               .rwnd = 61,
               .payload_len = 7 },
        .sack = { 0xb0 },
        .payload = { 'J', 'u', 'l', 'i', 0xc3, 0xa1, 'n' },
        .len = 48,
        .bytes = { 0x01, 0x04, 0x01, 0x01, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                   0x00, 0x00, 0x10, 0x05, 0x00, 0x00, 0x20, 0x03, 0x00, 0x0f, 0x4a, 0x10,
                   0x00, 0x0f, 0x48, 0x1c, 0x00, 0x00, 0x00, 0xfa, 0x00, 0x3d, 0x00, 0x07,
                   0xb0, 0x4a, 0x75, 0x6c, 0x69, 0xc3, 0xa1, 0x6e, 0x76, 0xef, 0x25, 0x80 },
    },
    {
        .name = "ACK",
        .h = { .version = 1,
               .type = RUDP_T_ACK,
               .flags = RUDP_F_ACK,
               .cid = CID,
               .seq = 0x2008,
               .ack = 0x1006,
               .ts = 1003000,
               .ts_echo = 1002000,
               .ack_delay = 750,
               .rwnd = 64 },
        .len = 40,
        .bytes = { 0x01, 0x05, 0x01, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                   0xcd, 0xef, 0x00, 0x00, 0x20, 0x08, 0x00, 0x00, 0x10, 0x06,
                   0x00, 0x0f, 0x4d, 0xf8, 0x00, 0x0f, 0x4a, 0x10, 0x00, 0x00,
                   0x02, 0xee, 0x00, 0x40, 0x00, 0x00, 0xc4, 0x42, 0x92, 0xc9 },
    },
    {
        .name = "FIN",
        .h = { .version = 1,
               .type = RUDP_T_FIN,
               .flags = RUDP_F_ACK,
               .cid = CID,
               .seq = 0x1006,
               .ack = 0x2008,
               .ts = 1004000,
               .ts_echo = 1002500,
               .ack_delay = 1250,
               .rwnd = 64 },
        .len = 40,
        .bytes = { 0x01, 0x06, 0x01, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                   0xcd, 0xef, 0x00, 0x00, 0x10, 0x06, 0x00, 0x00, 0x20, 0x08,
                   0x00, 0x0f, 0x51, 0xe0, 0x00, 0x0f, 0x4c, 0x04, 0x00, 0x00,
                   0x04, 0xe2, 0x00, 0x40, 0x00, 0x00, 0xc4, 0x79, 0x64, 0x7d },
    },
    {
        .name = "RESET (UNKNOWN)",
        .h = { .version = 1,
               .type = RUDP_T_RESET,
               .cid = 0xfedcba9876543210ull,
               .ts = 2000000,
               .payload_len = 1 },
        .payload = { RUDP_RESET_UNKNOWN },
        .len = 41,
        .bytes = { 0x01, 0x07, 0x00, 0x00, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32,
                   0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e,
                   0x84, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                   0x00, 0x00, 0x01, 0x00, 0x07, 0xb0, 0xf9, 0xf9 },
    },
    {
        .name = "DATA coalesced: \"Ana\", \"Luis\"",
        .h = { .version = 1,
               .type = RUDP_T_DATA,
               .flags = RUDP_F_ACK | RUDP_F_COALESCED,
               .cid = CID,
               .seq = 0x1000,
               .ack = 0x2000,
               .ts = 1001000,
               .ts_echo = 1000750,
               .rwnd = 64,
               .payload_len = 11 },
        .payload = { 0x00, 0x03, 'A', 'n', 'a', 0x00, 0x04, 'L', 'u', 'i', 's' },
        .len = 51,
        .bytes = { 0x01, 0x04, 0x03, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00,
                   0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x0f, 0x46, 0x28, 0x00, 0x0f,
                   0x45, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x0b, 0x00, 0x03, 0x41,
                   0x6e, 0x61, 0x00, 0x04, 0x4c, 0x75, 0x69, 0x73, 0xf8, 0xf3, 0x0c, 0x62 },
    },
};

enum { N_VECTORS = sizeof vectors / sizeof vectors[0] };

/* The vector's header with its pointers set, ready for rudp_wire_encode(). */
static rudp_hdr_t vector_hdr(const struct vector *v)
{
    rudp_hdr_t h = v->h;
    h.sack = h.sack_len ? v->sack : NULL;
    h.payload = h.payload_len ? v->payload : NULL;
    return h;
}

/* Every field equal, and the pointers at the right places inside buf (decode) or with
 * the same contents (anything else). */
static void assert_hdr_equal(const rudp_hdr_t *got, const rudp_hdr_t *want)
{
    assert_int_equal(got->version, RUDP_VERSION);
    assert_int_equal(got->type, want->type);
    assert_int_equal(got->flags, want->flags);
    assert_int_equal(got->sack_len, want->sack_len);
    assert_true(got->cid == want->cid);
    assert_int_equal(got->seq, want->seq);
    assert_int_equal(got->ack, want->ack);
    assert_int_equal(got->ts, want->ts);
    assert_int_equal(got->ts_echo, want->ts_echo);
    assert_int_equal(got->ack_delay, want->ack_delay);
    assert_int_equal(got->rwnd, want->rwnd);
    assert_int_equal(got->payload_len, want->payload_len);
    if (want->sack_len) {
        assert_non_null(got->sack);
        assert_memory_equal(got->sack, want->sack, want->sack_len);
    } else {
        assert_null(got->sack);
    }
    if (want->payload_len) {
        assert_non_null(got->payload);
        assert_memory_equal(got->payload, want->payload, want->payload_len);
    } else {
        assert_null(got->payload);
    }
}

/* Recomputes the trailer after a test edits a datagram, so the CRC is not what fails. */
static void reseal(uint8_t *buf, size_t len)
{
    rudp_put32(buf + len - 4, rudp_crc32c(0, buf, len - 4));
}

static void test_vectors_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const struct vector *v = &vectors[i];
        rudp_hdr_t h = vector_hdr(v);
        uint8_t buf[RUDP_MAX_DATAGRAM];
        memset(buf, 0xaa, sizeof buf);
        assert_int_equal(rudp_wire_size(&h), v->len);
        assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), (int)v->len);
        if (memcmp(buf, v->bytes, v->len) != 0)
            print_error("vector %s: encoded bytes differ\n", v->name);
        assert_memory_equal(buf, v->bytes, v->len);
        assert_int_equal(buf[v->len], 0xaa); /* nothing written past the datagram */
        /* The trailer is the CRC32C of everything before it, most significant byte first. */
        assert_int_equal(rudp_get32(v->bytes + v->len - 4), rudp_crc32c(0, v->bytes, v->len - 4));
    }
}

static void test_vectors_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const struct vector *v = &vectors[i];
        rudp_hdr_t want = vector_hdr(v);
        rudp_hdr_t got;
        memset(&got, 0x5a, sizeof got);
        int rc = rudp_wire_decode(&got, v->bytes, v->len);
        if (rc != 0)
            print_error("vector %s: decode gave %d\n", v->name, rc);
        assert_int_equal(rc, 0);
        assert_hdr_equal(&got, &want);
        /* SACK and payload are pointed at in place, not copied. */
        if (want.sack_len)
            assert_ptr_equal(got.sack, v->bytes + RUDP_HEADER_SIZE);
        if (want.payload_len)
            assert_ptr_equal(got.payload, v->bytes + RUDP_HEADER_SIZE + want.sack_len);
    }
}

/* The DATA vector carries the UTF-8 bytes of "Julián", 7 bytes for 6 characters. */
static void test_vector_data_payload_is_utf8(void **state)
{
    (void)state;
    static const char julian[] = "Juli\xc3\xa1n";
    const struct vector *v = &vectors[4];
    assert_int_equal(v->h.type, RUDP_T_DATA);
    assert_int_equal(v->h.payload_len, strlen(julian));
    assert_memory_equal(v->bytes + RUDP_HEADER_SIZE + 1, julian, strlen(julian));
}

/* ---- round trips -------------------------------------------------------------------- */

static void round_trip(const rudp_hdr_t *h)
{
    uint8_t buf[RUDP_MAX_DATAGRAM];
    int n = rudp_wire_encode(h, buf, sizeof buf);
    assert_int_equal(n, (int)rudp_wire_size(h));
    assert_int_equal(n, (int)(RUDP_HEADER_SIZE + h->sack_len + h->payload_len + RUDP_TRAILER_SIZE));
    rudp_hdr_t got;
    assert_int_equal(rudp_wire_decode(&got, buf, (size_t)n), 0);
    assert_hdr_equal(&got, h);
    /* And back again: the decoded header encodes to the same bytes. */
    uint8_t again[RUDP_MAX_DATAGRAM];
    assert_int_equal(rudp_wire_encode(&got, again, sizeof again), n);
    assert_memory_equal(again, buf, (size_t)n);
}

static void test_round_trip_every_type(void **state)
{
    (void)state;
    static uint8_t sack[RUDP_MAX_SACK_BYTES];
    static uint8_t payload[RUDP_MAX_PAYLOAD];
    for (size_t i = 0; i < sizeof sack; i++)
        sack[i] = (uint8_t)(0x80u >> (i % 8) | i);
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 13 + 7);

    /* Payload lengths each type accepts. */
    static const struct {
        uint8_t type;
        uint16_t lens[4];
        int n;
    } legal[] = {
        { RUDP_T_INITIAL, { 0, RUDP_COOKIE_SIZE }, 2 },
        { RUDP_T_RETRY, { RUDP_COOKIE_SIZE }, 1 },
        { RUDP_T_ACCEPT, { 0 }, 1 },
        { RUDP_T_DATA, { 0, 1, 600, RUDP_MAX_PAYLOAD }, 4 },
        { RUDP_T_ACK, { 0 }, 1 },
        { RUDP_T_FIN, { 0 }, 1 },
        { RUDP_T_RESET, { 1 }, 1 },
    };
    static const uint8_t sack_lens[] = { 0, 1, 2, 17, RUDP_MAX_SACK_BYTES };
    /* Field values at both ends of their ranges, so no field may be cut or shifted. */
    static const struct {
        uint64_t cid;
        uint32_t a, b;
        uint16_t rwnd;
    } values[] = {
        { 0, 0, 0, 0 },
        { UINT64_MAX, UINT32_MAX, UINT32_MAX, UINT16_MAX },
        { 0x8000000000000001ull, 0x80000000u, 0x7fffffffu, 0x8001 },
        { 0x0102030405060708ull, 0x11223344u, 0x55667788u, 0x99aa },
    };
    int count = 0;
    for (size_t t = 0; t < sizeof legal / sizeof legal[0]; t++) {
        for (int l = 0; l < legal[t].n; l++) {
            for (size_t s = 0; s < sizeof sack_lens; s++) {
                for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
                    for (int ackf = 0; ackf <= 1; ackf++) {
                        if (sack_lens[s] && !ackf)
                            continue; /* a SACK needs the ACK flag */
                        rudp_hdr_t h = {
                            .version = RUDP_VERSION,
                            .type = legal[t].type,
                            .flags = ackf ? RUDP_F_ACK : 0,
                            .sack_len = sack_lens[s],
                            .cid = values[v].cid,
                            .seq = values[v].a,
                            .ack = values[v].b,
                            .ts = values[v].b ^ 0x0f0f0f0fu,
                            .ts_echo = values[v].a ^ 0xf0f0f0f0u,
                            .ack_delay = values[v].a,
                            .rwnd = values[v].rwnd,
                            .payload_len = legal[t].lens[l],
                            .sack = sack_lens[s] ? sack : NULL,
                            .payload = legal[t].lens[l] ? payload : NULL,
                        };
                        round_trip(&h);
                        count++;
                    }
                }
            }
        }
    }
    assert_int_equal(count, 11 * 6 * 4); /* 11 (type, length) pairs, 6 flag/SACK forms */
}

/* The largest datagram there is: a full SACK and a full payload. */
static void test_largest_datagram(void **state)
{
    (void)state;
    static uint8_t sack[RUDP_MAX_SACK_BYTES], payload[RUDP_MAX_PAYLOAD];
    memset(sack, 0xff, sizeof sack);
    memset(payload, 'x', sizeof payload);
    rudp_hdr_t h = { .type = RUDP_T_DATA,
                     .flags = RUDP_F_ACK,
                     .sack_len = RUDP_MAX_SACK_BYTES,
                     .payload_len = RUDP_MAX_PAYLOAD,
                     .sack = sack,
                     .payload = payload };
    assert_int_equal(RUDP_MAX_DATAGRAM, 36 + 128 + 1200 + 4);
    assert_int_equal(rudp_wire_size(&h), RUDP_MAX_DATAGRAM);
    uint8_t buf[RUDP_MAX_DATAGRAM];
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), (int)RUDP_MAX_DATAGRAM);
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf - 1), RUDP_EBUFSIZE);
    rudp_hdr_t got;
    assert_int_equal(rudp_wire_decode(&got, buf, sizeof buf), 0);
    assert_hdr_equal(&got, &h);
}

/* The version field is always written as RUDP_VERSION, whatever the caller left in it. */
static void test_encode_forces_version(void **state)
{
    (void)state;
    rudp_hdr_t h = vector_hdr(&vectors[5]);
    h.version = 7;
    uint8_t buf[64];
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), 40);
    assert_memory_equal(buf, vectors[5].bytes, 40);
}

/* ---- encode errors ------------------------------------------------------------------ */

static void test_encode_data_payload_limit(void **state)
{
    (void)state;
    static uint8_t payload[RUDP_MAX_PAYLOAD + 2];
    static uint8_t buf[RUDP_MAX_DATAGRAM + 8];
    rudp_hdr_t h = { .type = RUDP_T_DATA, .payload_len = RUDP_MAX_PAYLOAD, .payload = payload };
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), 36 + 1200 + 4);
    h.payload_len = RUDP_MAX_PAYLOAD + 1;
    memset(buf, 0xaa, sizeof buf);
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EMSGSIZE);
    assert_int_equal(buf[0], 0xaa); /* refused, never cut: nothing written */
    h.payload_len = UINT16_MAX;
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EMSGSIZE);
}

static void test_encode_buffer_too_small(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        rudp_hdr_t h = vector_hdr(&vectors[i]);
        uint8_t buf[VEC_MAX];
        for (size_t cap = 0; cap < vectors[i].len; cap++) {
            memset(buf, 0xaa, sizeof buf);
            assert_int_equal(rudp_wire_encode(&h, buf, cap), RUDP_EBUFSIZE);
            assert_int_equal(buf[0], 0xaa);
        }
        assert_int_equal(rudp_wire_encode(&h, buf, vectors[i].len), (int)vectors[i].len);
    }
}

static void test_encode_rejects_invalid_headers(void **state)
{
    (void)state;
    static const uint8_t sack[RUDP_MAX_SACK_BYTES + 1];
    static const uint8_t payload[32];
    uint8_t buf[RUDP_MAX_DATAGRAM + 64];
    const rudp_hdr_t ack = { .type = RUDP_T_ACK, .flags = RUDP_F_ACK };
    rudp_hdr_t h;

    assert_int_equal(rudp_wire_encode(&ack, buf, sizeof buf), 40);
    static const uint8_t bad_types[] = { 0, 8, 9, 255 };
    for (size_t i = 0; i < sizeof bad_types; i++) {
        h = ack;
        h.type = bad_types[i];
        assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EINVAL);
    }
    for (unsigned bit = 2; bit < 8; bit++) { /* reserved: 0xFC */
        h = ack;
        h.flags = (uint8_t)(RUDP_F_ACK | 1u << bit);
        assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EINVAL);
    }
    h = ack;
    h.sack = sack;
    h.sack_len = RUDP_MAX_SACK_BYTES + 1;
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EINVAL);
    h.sack_len = RUDP_MAX_SACK_BYTES;
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), 36 + 128 + 4);
    h.flags = 0; /* a SACK without the ACK flag */
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EINVAL);
    h = ack;
    h.sack_len = 1; /* no bitmap given */
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EINVAL);
    h = (rudp_hdr_t){ .type = RUDP_T_DATA, .payload_len = 1 }; /* no payload given */
    assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EINVAL);

    /* Per-type payload rules. */
    static const struct {
        uint8_t type;
        uint16_t len;
    } bad[] = {
        { RUDP_T_INITIAL, 1 }, { RUDP_T_INITIAL, 15 }, { RUDP_T_INITIAL, 17 }, { RUDP_T_RETRY, 0 },
        { RUDP_T_RETRY, 15 },  { RUDP_T_RETRY, 17 },   { RUDP_T_ACCEPT, 1 },   { RUDP_T_ACK, 1 },
        { RUDP_T_FIN, 1 },     { RUDP_T_ACK, 16 },     { RUDP_T_RESET, 0 },    { RUDP_T_RESET, 2 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h = (rudp_hdr_t){ .type = bad[i].type, .payload_len = bad[i].len, .payload = payload };
        assert_int_equal(rudp_wire_encode(&h, buf, sizeof buf), RUDP_EINVAL);
    }
}

/* ---- decode errors ------------------------------------------------------------------ */

static void test_decode_too_short(void **state)
{
    (void)state;
    rudp_hdr_t h;
    uint8_t zeros[40] = { 0 };
    for (size_t len = 0; len < 40; len++) {
        /* Too short wins over every other check, the version included. */
        assert_int_equal(rudp_wire_decode(&h, zeros, len), RUDP_EMALFORMED);
        for (size_t i = 0; i < N_VECTORS; i++)
            assert_int_equal(rudp_wire_decode(&h, vectors[i].bytes, len), RUDP_EMALFORMED);
    }
    /* Every proper prefix of a vector is refused, at 40 bytes and above too. */
    for (size_t i = 0; i < N_VECTORS; i++)
        for (size_t len = 40; len < vectors[i].len; len++)
            assert_int_equal(rudp_wire_decode(&h, vectors[i].bytes, len), RUDP_EMALFORMED);
}

static void test_decode_bad_version(void **state)
{
    (void)state;
    static const uint8_t versions[] = { 0, 2, 0x81, 255 };
    rudp_hdr_t h;
    for (size_t i = 0; i < N_VECTORS; i++) {
        for (size_t k = 0; k < sizeof versions; k++) {
            uint8_t buf[VEC_MAX];
            memcpy(buf, vectors[i].bytes, vectors[i].len);
            buf[0] = versions[k];
            reseal(buf, vectors[i].len);
            assert_int_equal(rudp_wire_decode(&h, buf, vectors[i].len), RUDP_EVERSION);
            /* Checked before the length and the CRC: a future version's layout is its own. */
            buf[35] ^= 0x40;
            assert_int_equal(rudp_wire_decode(&h, buf, vectors[i].len), RUDP_EVERSION);
        }
    }
}

static void test_decode_unknown_type(void **state)
{
    (void)state;
    static const uint8_t types[] = { 0, 8, 9, 0x80, 255 };
    rudp_hdr_t h;
    for (size_t i = 0; i < N_VECTORS; i++) {
        for (size_t k = 0; k < sizeof types; k++) {
            uint8_t buf[VEC_MAX];
            memcpy(buf, vectors[i].bytes, vectors[i].len);
            buf[1] = types[k];
            reseal(buf, vectors[i].len);
            assert_int_equal(rudp_wire_decode(&h, buf, vectors[i].len), RUDP_EMALFORMED);
        }
    }
}

static void test_decode_unknown_flags(void **state)
{
    (void)state;
    rudp_hdr_t h;
    for (size_t i = 0; i < N_VECTORS; i++) {
        for (unsigned bit = 2; bit < 8; bit++) { /* reserved: 0xFC */
            uint8_t buf[VEC_MAX];
            memcpy(buf, vectors[i].bytes, vectors[i].len);
            buf[2] |= (uint8_t)(1u << bit);
            reseal(buf, vectors[i].len);
            assert_int_equal(rudp_wire_decode(&h, buf, vectors[i].len), RUDP_EMALFORMED);
        }
    }
}

/* An ACK datagram with sack_len bytes of bitmap, consistent in length and CRC. */
static size_t make_ack_with_sack(uint8_t *buf, unsigned sack_len, uint8_t flags)
{
    memset(buf, 0, RUDP_HEADER_SIZE + sack_len + RUDP_TRAILER_SIZE);
    buf[0] = RUDP_VERSION;
    buf[1] = RUDP_T_ACK;
    buf[2] = flags;
    buf[3] = (uint8_t)sack_len;
    memset(buf + RUDP_HEADER_SIZE, 0x55, sack_len);
    size_t len = RUDP_HEADER_SIZE + sack_len + RUDP_TRAILER_SIZE;
    reseal(buf, len);
    return len;
}

static void test_decode_sack_rules(void **state)
{
    (void)state;
    uint8_t buf[RUDP_HEADER_SIZE + 255 + RUDP_TRAILER_SIZE];
    rudp_hdr_t h;
    for (unsigned n = 0; n <= RUDP_MAX_SACK_BYTES; n++) {
        size_t len = make_ack_with_sack(buf, n, RUDP_F_ACK);
        assert_int_equal(rudp_wire_decode(&h, buf, len), 0);
        assert_int_equal(h.sack_len, n);
        len = make_ack_with_sack(buf, n, 0);
        /* Without the ACK flag a SACK means nothing, so it must not be there. */
        assert_int_equal(rudp_wire_decode(&h, buf, len), n ? RUDP_EMALFORMED : 0);
    }
    for (unsigned n = RUDP_MAX_SACK_BYTES + 1; n <= 255; n++) {
        size_t len = make_ack_with_sack(buf, n, RUDP_F_ACK);
        assert_int_equal(rudp_wire_decode(&h, buf, len), RUDP_EMALFORMED);
    }
}

/* The length fields must add up to the datagram's real length, in both directions. */
static void test_decode_length_mismatch(void **state)
{
    (void)state;
    rudp_hdr_t h;
    const struct vector *data = &vectors[4];
    uint8_t buf[VEC_MAX + 8];

    /* payload_len past the end, and short of it. */
    for (int delta = -7; delta <= 8; delta++) {
        if (delta == 0)
            continue;
        memcpy(buf, data->bytes, data->len);
        rudp_put16(buf + 34, (uint16_t)(7 + delta));
        reseal(buf, data->len);
        assert_int_equal(rudp_wire_decode(&h, buf, data->len), RUDP_EMALFORMED);
    }
    /* sack_len past the end, and short of it. */
    for (unsigned sl = 0; sl <= 8; sl++) {
        if (sl == 1)
            continue;
        memcpy(buf, data->bytes, data->len);
        buf[3] = (uint8_t)sl;
        reseal(buf, data->len);
        assert_int_equal(rudp_wire_decode(&h, buf, data->len), RUDP_EMALFORMED);
    }
    /* Bytes after the trailer, CRC kept valid over the longer body. */
    for (size_t extra = 1; extra <= 8; extra++) {
        memcpy(buf, data->bytes, data->len);
        memset(buf + data->len, 0, extra);
        reseal(buf, data->len + extra);
        assert_int_equal(rudp_wire_decode(&h, buf, data->len + extra), RUDP_EMALFORMED);
    }
    /* The largest payload_len value cannot reach past a real buffer. */
    memcpy(buf, data->bytes, data->len);
    rudp_put16(buf + 34, UINT16_MAX);
    reseal(buf, data->len);
    assert_int_equal(rudp_wire_decode(&h, buf, data->len), RUDP_EMALFORMED);
}

/* A datagram of the given type and payload length, consistent in length and CRC. */
static size_t make_typed(uint8_t *buf, uint8_t type, size_t payload_len)
{
    memset(buf, 0, RUDP_HEADER_SIZE + payload_len + RUDP_TRAILER_SIZE);
    buf[0] = RUDP_VERSION;
    buf[1] = type;
    rudp_put16(buf + 34, (uint16_t)payload_len);
    memset(buf + RUDP_HEADER_SIZE, 'p', payload_len);
    size_t len = RUDP_HEADER_SIZE + payload_len + RUDP_TRAILER_SIZE;
    reseal(buf, len);
    return len;
}

/* The payload rule of docs/protocol.md, restated here independently of wire.c. */
static int payload_allowed(unsigned type, size_t len)
{
    switch (type) {
    case RUDP_T_INITIAL:
        return len == 0 || len == 16;
    case RUDP_T_RETRY:
        return len == 16;
    case RUDP_T_ACCEPT:
    case RUDP_T_ACK:
    case RUDP_T_FIN:
        return len == 0;
    case RUDP_T_RESET:
        return len == 1;
    case RUDP_T_DATA:
        return len <= 1200;
    default:
        return 0;
    }
}

static void test_decode_payload_rules(void **state)
{
    (void)state;
    static uint8_t buf[RUDP_HEADER_SIZE + 1300 + RUDP_TRAILER_SIZE];
    static const size_t lens[] = { 0, 1, 2, 15, 16, 17, 1199, 1200, 1201, 1300 };
    rudp_hdr_t h;
    int accepted = 0;
    for (unsigned type = RUDP_T_INITIAL; type <= RUDP_T_RESET; type++) {
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            size_t len = make_typed(buf, (uint8_t)type, lens[k]);
            int want = payload_allowed(type, lens[k]) ? 0 : RUDP_EMALFORMED;
            int got = rudp_wire_decode(&h, buf, len);
            if (got != want)
                print_error("type %u payload %zu: got %d want %d\n", type, lens[k], got, want);
            assert_int_equal(got, want);
            accepted += got == 0;
        }
    }
    /* INITIAL 0/16, RETRY 16, ACCEPT 0, DATA 0,1,2,15,16,17,1199,1200, ACK 0, FIN 0, RESET 1. */
    assert_int_equal(accepted, 2 + 1 + 1 + 8 + 1 + 1 + 1);
}

/* The records rule of docs/protocol.md, restated: at least one (u16 length, bytes)
 * record, and the records fill the payload exactly. */
static int records_fill(const uint8_t *p, size_t len)
{
    size_t off = 0, count = 0;
    while (off < len) {
        if (len - off < 2)
            return 0;
        size_t n = (size_t)p[off] << 8 | p[off + 1];
        if (n > len - off - 2)
            return 0;
        off += 2 + n;
        count++;
    }
    return count > 0;
}

/* The decoding checks of docs/protocol.md section 4 but the CRC, restated independently
 * of wire.c: what a datagram whose CRC is wrong must give. */
static int reference_verdict(const uint8_t *b, size_t len)
{
    if (len < 40)
        return RUDP_EMALFORMED;
    if (b[0] != 1)
        return RUDP_EVERSION;
    unsigned type = b[1], flags = b[2], sack_len = b[3];
    size_t payload_len = (size_t)b[34] << 8 | b[35];
    if (sack_len > 128 || (flags & 0xFCu) || (sack_len && !(flags & 0x01u)) ||
        !payload_allowed(type, payload_len))
        return RUDP_EMALFORMED;
    if (36 + sack_len + payload_len + 4 != len)
        return RUDP_EMALFORMED;
    if ((flags & 0x02u) && (type != RUDP_T_DATA || !records_fill(b + 36 + sack_len, payload_len)))
        return RUDP_EMALFORMED;
    return RUDP_ECHECKSUM;
}

static void test_decode_every_bit_flip(void **state)
{
    (void)state;
    int checksum_catches = 0;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const struct vector *v = &vectors[i];
        for (size_t bitpos = 0; bitpos < v->len * 8; bitpos++) {
            uint8_t buf[VEC_MAX];
            memcpy(buf, v->bytes, v->len);
            buf[bitpos / 8] ^= (uint8_t)(1u << (bitpos % 8));
            rudp_hdr_t h;
            int want = reference_verdict(buf, v->len);
            int got = rudp_wire_decode(&h, buf, v->len);
            if (got != want)
                print_error("%s: bit %zu: got %d want %d\n", v->name, bitpos, got, want);
            assert_int_equal(got, want);
            checksum_catches += got == RUDP_ECHECKSUM;
        }
    }
    /* Most flips pass the structural checks and only the CRC stands between them and
     * the engine: at least all bits of bytes 4..33 (cid to rwnd) in every vector. */
    assert_true(checksum_catches >= (int)(N_VECTORS * 30 * 8));
}

/* ---- coalesced DATA ----------------------------------------------------------------- */

/* Builds a payload of records with the given message lengths; returns its length. */
static size_t pack_records(uint8_t *out, const size_t *lens, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        rudp_put16(out + off, (uint16_t)lens[i]);
        for (size_t k = 0; k < lens[i]; k++)
            out[off + 2 + k] = (uint8_t)(i * 31 + k);
        off += 2 + lens[i];
    }
    return off;
}

static void test_coalesced_vector_records(void **state)
{
    (void)state;
    const struct vector *v = &vectors[8];
    rudp_hdr_t h;
    assert_int_equal(rudp_wire_decode(&h, v->bytes, v->len), 0);
    assert_int_equal(h.flags, RUDP_F_ACK | RUDP_F_COALESCED);
    size_t off = 0, len = 0;
    const uint8_t *msg = NULL;
    assert_int_equal(rudp_wire_record(&h, &off, &msg, &len), 1);
    assert_int_equal(len, 3);
    assert_memory_equal(msg, "Ana", 3);
    assert_ptr_equal(msg, v->bytes + 36 + 2);
    assert_int_equal(off, 5);
    assert_int_equal(rudp_wire_record(&h, &off, &msg, &len), 1);
    assert_int_equal(len, 4);
    assert_memory_equal(msg, "Luis", 4);
    assert_int_equal(off, 11);
    assert_int_equal(rudp_wire_record(&h, &off, &msg, &len), 0);
    assert_int_equal(rudp_wire_record(&h, &off, &msg, &len), 0); /* and stays done */
}

static void test_coalesced_round_trips(void **state)
{
    (void)state;
    static const struct {
        size_t n;
        size_t lens[8];
    } forms[] = {
        { 1, { 0 } },    { 1, { 5 } },        { 2, { 0, 0 } },    { 3, { 1, 0, 2 } },
        { 1, { 1198 } }, { 2, { 597, 597 } }, { 2, { 1, 1195 } }, { 8, { 9, 9, 9, 9, 9, 9, 9, 9 } },
    };
    static uint8_t payload[RUDP_MAX_PAYLOAD];
    static const uint8_t sack[2] = { 0x40, 0x01 };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        size_t plen = pack_records(payload, forms[f].lens, forms[f].n);
        assert_true(plen <= RUDP_MAX_PAYLOAD);
        rudp_hdr_t h = { .version = 1,
                         .type = RUDP_T_DATA,
                         .flags = RUDP_F_ACK | RUDP_F_COALESCED,
                         .sack_len = 2,
                         .cid = 5,
                         .seq = 0xfffffffeu,
                         .ack = 3,
                         .ts = 4,
                         .ts_echo = 5,
                         .ack_delay = 6,
                         .rwnd = 7,
                         .payload_len = (uint16_t)plen,
                         .sack = sack,
                         .payload = payload };
        round_trip(&h);
        /* The records come back as they went in. */
        uint8_t buf[RUDP_MAX_DATAGRAM];
        int n = rudp_wire_encode(&h, buf, sizeof buf);
        rudp_hdr_t got;
        assert_int_equal(rudp_wire_decode(&got, buf, (size_t)n), 0);
        size_t off = 0, len, count = 0;
        const uint8_t *msg;
        while (rudp_wire_record(&got, &off, &msg, &len)) {
            assert_true(count < forms[f].n);
            assert_int_equal(len, forms[f].lens[count]);
            for (size_t k = 0; k < len; k++)
                assert_int_equal(msg[k], (uint8_t)(count * 31 + k));
            count++;
        }
        assert_int_equal(count, forms[f].n);
        assert_int_equal(off, plen);
    }
    /* 600 empty messages fill the largest payload with record headers alone. */
    size_t zeros[1] = { 0 };
    size_t off = 0;
    for (int i = 0; i < 600; i++)
        off += pack_records(payload + off, zeros, 1);
    rudp_hdr_t h = { .type = RUDP_T_DATA,
                     .flags = RUDP_F_COALESCED,
                     .payload_len = RUDP_MAX_PAYLOAD,
                     .payload = payload };
    round_trip(&h);
}

/* Payloads that are not whole records, and the flag on types other than DATA. */
static void test_coalesced_malformed(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        uint8_t p[8];
        int ok;
    } payloads[] = {
        { 0, { 0 }, 0 },                           /* no record at all */
        { 1, { 0x00 }, 0 },                        /* half a length */
        { 2, { 0x00, 0x00 }, 1 },                  /* one empty message */
        { 3, { 0x00, 0x00, 0x00 }, 0 },            /* a stray byte after it */
        { 4, { 0x00, 0x03, 'a', 'b' }, 0 },        /* record past the end */
        { 5, { 0x00, 0x01, 'a', 'b', 'c' }, 0 },   /* records short of the end */
        { 5, { 0x00, 0x01, 'a', 0x00, 0x00 }, 1 }, /* two records */
        { 6, { 0x00, 0x01, 'a', 0x00, 0x02, 'b' }, 0 },
        { 4, { 0xff, 0xff, 'a', 'b' }, 0 }, /* the largest length */
    };
    uint8_t buf[64];
    rudp_hdr_t h;
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        rudp_hdr_t e = { .type = RUDP_T_DATA,
                         .flags = RUDP_F_COALESCED,
                         .payload_len = (uint16_t)payloads[i].len,
                         .payload = payloads[i].len ? payloads[i].p : NULL };
        int n = rudp_wire_encode(&e, buf, sizeof buf);
        assert_int_equal(n, payloads[i].ok ? (int)(40 + payloads[i].len) : RUDP_EINVAL);
        /* The same bytes built by hand, so decode sees them whatever encode says. */
        size_t len = make_typed(buf, RUDP_T_DATA, payloads[i].len);
        buf[2] = RUDP_F_COALESCED;
        memcpy(buf + RUDP_HEADER_SIZE, payloads[i].p, payloads[i].len);
        reseal(buf, len);
        int got = rudp_wire_decode(&h, buf, len);
        if (got != (payloads[i].ok ? 0 : RUDP_EMALFORMED))
            print_error("payload %zu: got %d\n", i, got);
        assert_int_equal(got, payloads[i].ok ? 0 : RUDP_EMALFORMED);
        /* Without the flag, each is a plain message and fine. */
        buf[2] = 0;
        reseal(buf, len);
        assert_int_equal(rudp_wire_decode(&h, buf, len), 0);
    }
    /* The flag on every other type, with a payload that would be a valid record list
     * where the type allows one (RETRY's 16 bytes: 00 0e + 14 bytes). */
    for (unsigned type = RUDP_T_INITIAL; type <= RUDP_T_RESET; type++) {
        if (type == RUDP_T_DATA)
            continue;
        size_t plen = type == RUDP_T_RETRY ? 16 : type == RUDP_T_RESET ? 1 : 0;
        size_t len = make_typed(buf, (uint8_t)type, plen);
        if (plen == 16) {
            buf[36] = 0x00;
            buf[37] = 0x0e;
        }
        buf[2] = RUDP_F_COALESCED;
        reseal(buf, len);
        assert_int_equal(rudp_wire_decode(&h, buf, len), RUDP_EMALFORMED);
        buf[2] = 0;
        reseal(buf, len);
        assert_int_equal(rudp_wire_decode(&h, buf, len), 0);
        uint8_t pl[16];
        memcpy(pl, buf + RUDP_HEADER_SIZE, plen);
        rudp_hdr_t e = { .type = (uint8_t)type,
                         .flags = RUDP_F_COALESCED,
                         .payload_len = (uint16_t)plen,
                         .payload = plen ? pl : NULL };
        assert_int_equal(rudp_wire_encode(&e, buf, sizeof buf), RUDP_EINVAL);
    }
}

/* ---- small helpers ------------------------------------------------------------------ */

static void test_peek_cid(void **state)
{
    (void)state;
    uint64_t cid = 0;
    assert_int_equal(rudp_wire_peek_cid(vectors[0].bytes, vectors[0].len, &cid), 0);
    assert_true(cid == 0x0123456789abcdefull);
    assert_int_equal(rudp_wire_peek_cid(vectors[7].bytes, vectors[7].len, &cid), 0);
    assert_true(cid == 0xfedcba9876543210ull);
    /* No other check: a bad CRC or version still yields the ID, for demultiplexing. */
    uint8_t buf[40];
    memcpy(buf, vectors[5].bytes, 40);
    buf[0] = 9;
    buf[39] ^= 1;
    cid = 0;
    assert_int_equal(rudp_wire_peek_cid(buf, 40, &cid), 0);
    assert_true(cid == 0x0123456789abcdefull);
    for (size_t len = 0; len < 40; len++) {
        cid = 42;
        assert_int_equal(rudp_wire_peek_cid(vectors[0].bytes, len, &cid), RUDP_EMALFORMED);
        assert_true(cid == 42);
    }
}

static void test_type_names(void **state)
{
    (void)state;
    static const char *const names[] = { "?",    "INITIAL", "RETRY", "ACCEPT",
                                         "DATA", "ACK",     "FIN",   "RESET" };
    for (unsigned t = 0; t < 8; t++)
        assert_string_equal(rudp_wire_type_name(t), names[t]);
    assert_string_equal(rudp_wire_type_name(RUDP_T_DATA), "DATA");
    assert_string_equal(rudp_wire_type_name(8), "?");
    assert_string_equal(rudp_wire_type_name(255), "?");
    assert_string_equal(rudp_wire_type_name(0xffffffffu), "?");
}

/* ---- serial-number arithmetic (RFC 1982 §3.2, SERIAL_BITS = 32) --------------------- */

static void test_serial_arithmetic(void **state)
{
    (void)state;
    /* a, b, and whether a < b and a > b in RFC 1982's sense; pairs exactly 2^31 apart
     * are left out, as RFC 1982 leaves their order undefined. */
    static const struct {
        uint32_t a, b;
        int lt, gt;
    } cases[] = {
        { 0, 0, 0, 0 },
        { 5, 5, 0, 0 },
        { 0xffffffffu, 0xffffffffu, 0, 0 },
        { 1, 2, 1, 0 },
        { 2, 1, 0, 1 },
        { 0xffffffffu, 0, 1, 0 }, /* the wrap: 2^32 - 1 comes just before 0 */
        { 0, 0xffffffffu, 0, 1 },
        { 0xfffffff0u, 0x10u, 1, 0 },
        { 0x10u, 0xfffffff0u, 0, 1 },
        { 0x7fffffffu, 0x80000000u, 1, 0 }, /* the signed boundary is nothing special */
        { 0x80000000u, 0x7fffffffu, 0, 1 },
        { 0, 0x7fffffffu, 1, 0 }, /* 2^31 - 1 apart: the farthest defined */
        { 0x7fffffffu, 0, 0, 1 },
        { 1, 0x80000000u, 1, 0 },
        { 0x80000000u, 1, 0, 1 },
        { 0x80000000u, 0xffffffffu, 1, 0 },
        { 0xffffffffu, 0x7ffffffeu, 1, 0 }, /* across the wrap, 2^31 - 1 apart */
        { 0x7ffffffeu, 0xffffffffu, 0, 1 },
        { 0, 0x80000001u, 0, 1 }, /* 2^31 + 1 ahead is really 2^31 - 1 behind */
        { 0x80000001u, 0, 1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t a = cases[i].a, b = cases[i].b;
        int eq = a == b;
        if (rudp_seq_lt(a, b) != cases[i].lt || rudp_seq_gt(a, b) != cases[i].gt)
            print_error("case %zu: 0x%08x vs 0x%08x\n", i, (unsigned)a, (unsigned)b);
        assert_int_equal(rudp_seq_lt(a, b), cases[i].lt);
        assert_int_equal(rudp_seq_gt(a, b), cases[i].gt);
        assert_int_equal(rudp_seq_le(a, b), cases[i].lt || eq);
        assert_int_equal(rudp_seq_ge(a, b), cases[i].gt || eq);
        assert_int_equal(rudp_seq_max(a, b), cases[i].gt ? a : b);
    }
}

/* Around the wrap, a window's worth of numbers keeps its order: s < s+k for every
 * k in 1..RUDP_MAX_WINDOW and every start s near 2^32 and near 2^31. */
static void test_serial_window_across_wrap(void **state)
{
    (void)state;
    static const uint32_t starts[] = {
        0xffffffffu - RUDP_MAX_WINDOW, 0xfffffc00u, 0xffffffffu, 0x7ffffe00u, 0x7fffffffu, 0
    };
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        uint32_t s = starts[i];
        for (uint32_t k = 1; k <= RUDP_MAX_WINDOW; k++) {
            uint32_t t = s + k;
            assert_true(rudp_seq_lt(s, t) && rudp_seq_le(s, t));
            assert_true(rudp_seq_gt(t, s) && rudp_seq_ge(t, s));
            assert_false(rudp_seq_lt(t, s) || rudp_seq_gt(s, t));
            assert_int_equal(rudp_seq_max(s, t), t);
            assert_int_equal(rudp_seq_max(t, s), t);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_encode),
        cmocka_unit_test(test_vectors_decode),
        cmocka_unit_test(test_vector_data_payload_is_utf8),
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_largest_datagram),
        cmocka_unit_test(test_encode_forces_version),
        cmocka_unit_test(test_encode_data_payload_limit),
        cmocka_unit_test(test_encode_buffer_too_small),
        cmocka_unit_test(test_encode_rejects_invalid_headers),
        cmocka_unit_test(test_decode_too_short),
        cmocka_unit_test(test_decode_bad_version),
        cmocka_unit_test(test_decode_unknown_type),
        cmocka_unit_test(test_decode_unknown_flags),
        cmocka_unit_test(test_decode_sack_rules),
        cmocka_unit_test(test_decode_length_mismatch),
        cmocka_unit_test(test_decode_payload_rules),
        cmocka_unit_test(test_decode_every_bit_flip),
        cmocka_unit_test(test_coalesced_vector_records),
        cmocka_unit_test(test_coalesced_round_trips),
        cmocka_unit_test(test_coalesced_malformed),
        cmocka_unit_test(test_peek_cid),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_serial_arithmetic),
        cmocka_unit_test(test_serial_window_across_wrap),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
