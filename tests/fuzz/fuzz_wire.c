/* Fuzz target: the wire decoder (docs/protocol.md sections 1-4).
 * 1. Decode the input as a datagram. On success it must re-encode byte for byte, its
 *    fields must obey every rule decode promises, the coalesced records must fill the
 *    payload exactly, and an encode into a short buffer must write nothing.
 * 2. Read the input as header fields plus payload, encode that, and decode it back:
 *    whatever encode accepts, decode must accept and return unchanged.
 * rudp_wire_peek_cid is checked against the raw bytes in both. */
#include <string.h>

#include "fuzz.h"
#include "rudp/error.h"
#include "rudp/wire.h"

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int payload_rule(unsigned type, size_t len)
{
    switch (type) {
    case RUDP_T_INITIAL:
        return len == 0 || len == RUDP_COOKIE_SIZE;
    case RUDP_T_RETRY:
        return len == RUDP_COOKIE_SIZE;
    case RUDP_T_DATA:
        return len <= RUDP_MAX_PAYLOAD;
    case RUDP_T_ACCEPT:
    case RUDP_T_ACK:
    case RUDP_T_FIN:
        return len == 0;
    case RUDP_T_RESET:
        return len == 1;
    default:
        return 0;
    }
}

static void check_peek(const uint8_t *buf, size_t len)
{
    uint64_t cid = 0x5a5a5a5a5a5a5a5aull;
    int rc = rudp_wire_peek_cid(buf, len, &cid);
    if (len < RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE) {
        FUZZ_CHECK(rc == RUDP_EMALFORMED, "peek_cid on %zu bytes gave %d", len, rc);
        FUZZ_CHECK(cid == 0x5a5a5a5a5a5a5a5aull, "peek_cid wrote on failure");
    } else {
        FUZZ_CHECK(rc == 0, "peek_cid on %zu bytes gave %d", len, rc);
        FUZZ_CHECK(cid == get64(buf + 4), "peek_cid read the wrong bytes");
    }
}

/* Everything a successful decode promises about h and buf. */
static void check_decoded(const rudp_hdr_t *h, const uint8_t *buf, size_t len)
{
    FUZZ_CHECK(h->version == RUDP_VERSION && buf[0] == RUDP_VERSION, "version %u", h->version);
    FUZZ_CHECK(h->type >= RUDP_T_INITIAL && h->type <= RUDP_T_RESET, "type %u", h->type);
    FUZZ_CHECK(!(h->flags & ~RUDP_F_KNOWN), "flags 0x%x", h->flags);
    FUZZ_CHECK(h->sack_len <= RUDP_MAX_SACK_BYTES, "sack_len %u", h->sack_len);
    FUZZ_CHECK(!h->sack_len || (h->flags & RUDP_F_ACK), "SACK without the ACK flag");
    FUZZ_CHECK(payload_rule(h->type, h->payload_len), "type %u with payload %u", h->type,
               h->payload_len);
    FUZZ_CHECK(!(h->flags & RUDP_F_COALESCED) || h->type == RUDP_T_DATA, "C flag on type %u",
               h->type);
    FUZZ_CHECK(rudp_wire_size(h) == len, "size %zu for %zu bytes", rudp_wire_size(h), len);
    FUZZ_CHECK(len <= RUDP_MAX_DATAGRAM, "%zu bytes accepted", len);
    FUZZ_CHECK((h->sack == NULL) == (h->sack_len == 0), "sack pointer");
    FUZZ_CHECK((h->payload == NULL) == (h->payload_len == 0), "payload pointer");
    if (h->sack)
        FUZZ_CHECK(h->sack == buf + RUDP_HEADER_SIZE, "sack points elsewhere");
    if (h->payload)
        FUZZ_CHECK(h->payload == buf + RUDP_HEADER_SIZE + h->sack_len, "payload points elsewhere");
    FUZZ_CHECK(h->cid == get64(buf + 4), "cid");

    if (h->flags & RUDP_F_COALESCED) {
        size_t off = 0, total = 0, count = 0, mlen = 0;
        const uint8_t *msg = NULL;
        while (rudp_wire_record(h, &off, &msg, &mlen)) {
            FUZZ_CHECK(msg == h->payload + total + RUDP_RECORD_HEADER, "record %zu misplaced",
                       count);
            FUZZ_CHECK(mlen == (size_t)(msg[-2] << 8 | msg[-1]), "record %zu length", count);
            total += RUDP_RECORD_HEADER + mlen;
            FUZZ_CHECK(off == total && total <= h->payload_len, "record %zu overruns", count);
            count++;
        }
        FUZZ_CHECK(count > 0, "a coalesced DATA without records was accepted");
        FUZZ_CHECK(total == h->payload_len, "records cover %zu of %u bytes", total, h->payload_len);
    }
}

static void roundtrip_decoded(const rudp_hdr_t *h, const uint8_t *buf, size_t len)
{
    static uint8_t out[RUDP_MAX_DATAGRAM + 16];
    int n = rudp_wire_encode(h, out, sizeof out);
    FUZZ_CHECK(n >= 0 && (size_t)n == len, "re-encode gave %d for %zu bytes", n, len);
    FUZZ_CHECK(memcmp(out, buf, len) == 0, "re-encode differs from the input");

    /* Too small by one: RUDP_EBUFSIZE and not a byte written. */
    memset(out, 0xA5, sizeof out);
    n = rudp_wire_encode(h, out, len - 1);
    FUZZ_CHECK(n == RUDP_EBUFSIZE, "encode into %zu bytes gave %d", len - 1, n);
    for (size_t i = 0; i < sizeof out; i++)
        FUZZ_CHECK(out[i] == 0xA5, "encode wrote byte %zu on failure", i);
}

/* Part 2: the input as fields. Encode may refuse; what it accepts must come back. */
static void encode_then_decode(const uint8_t *data, size_t size)
{
    fuzz_in_t in = { data, size, 0 };
    rudp_hdr_t h;
    memset(&h, 0, sizeof h);
    h.version = fuzz_u8(&in);
    h.type = fuzz_u8(&in) & 0x0F;
    h.flags = fuzz_u8(&in);
    h.sack_len = fuzz_u8(&in);
    h.cid = fuzz_u64(&in);
    h.seq = fuzz_u32(&in);
    h.ack = fuzz_u32(&in);
    h.ts = fuzz_u32(&in);
    h.ts_echo = fuzz_u32(&in);
    h.ack_delay = fuzz_u32(&in);
    h.rwnd = fuzz_u16(&in);
    h.payload_len = fuzz_u16(&in);
    /* Small lengths are the interesting ones; keep most in reach of the input. */
    if (!(h.version & 0x80))
        h.payload_len &= 0x7FF;
    const uint8_t *sack = NULL, *payload = NULL;
    size_t got = fuzz_bytes(&in, &sack, h.sack_len);
    if (got < h.sack_len)
        sack = NULL;
    got = fuzz_bytes(&in, &payload, h.payload_len);
    if (got < h.payload_len)
        payload = NULL;
    h.sack = h.sack_len ? sack : NULL;
    h.payload = h.payload_len ? payload : NULL;

    static uint8_t buf[RUDP_MAX_DATAGRAM];
    int n = rudp_wire_encode(&h, buf, sizeof buf);
    if (n < 0) {
        FUZZ_CHECK(n == RUDP_EINVAL || n == RUDP_EMSGSIZE || n == RUDP_EBUFSIZE,
                   "encode returned %d", n);
        return;
    }
    FUZZ_CHECK((size_t)n == rudp_wire_size(&h), "encode wrote %d, size says %zu", n,
               rudp_wire_size(&h));
    rudp_hdr_t d;
    int rc = rudp_wire_decode(&d, buf, (size_t)n);
    FUZZ_CHECK(rc == 0, "decode of an encoded datagram gave %d", rc);
    check_decoded(&d, buf, (size_t)n);
    FUZZ_CHECK(d.type == h.type && d.flags == h.flags && d.sack_len == h.sack_len &&
                   d.cid == h.cid && d.seq == h.seq && d.ack == h.ack && d.ts == h.ts &&
                   d.ts_echo == h.ts_echo && d.ack_delay == h.ack_delay && d.rwnd == h.rwnd &&
                   d.payload_len == h.payload_len,
               "fields changed in the round trip");
    FUZZ_CHECK(!h.sack_len || memcmp(d.sack, h.sack, h.sack_len) == 0, "SACK changed");
    FUZZ_CHECK(!h.payload_len || memcmp(d.payload, h.payload, h.payload_len) == 0,
               "payload changed");
    check_peek(buf, (size_t)n);

    /* One flipped bit anywhere must be caught (CRC32C finds every 1-bit error). */
    size_t bit = (size_t)(h.ts ^ h.seq) % ((size_t)n * 8);
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    rc = rudp_wire_decode(&d, buf, (size_t)n);
    FUZZ_CHECK(rc != 0, "a datagram with bit %zu flipped was accepted", bit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rudp_hdr_t h;
    memset(&h, 0xEE, sizeof h);
    check_peek(data, size);
    int rc = rudp_wire_decode(&h, data, size);
    if (rc == 0) {
        check_decoded(&h, data, size);
        roundtrip_decoded(&h, data, size);
    } else {
        FUZZ_CHECK(rc == RUDP_EMALFORMED || rc == RUDP_EVERSION || rc == RUDP_ECHECKSUM,
                   "decode returned %d", rc);
    }
    encode_then_decode(data, size);
    return 0;
}
