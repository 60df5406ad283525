/* Encoding and checking of rudp datagrams. Every length read from the wire is checked
 * against the bytes actually received before it is used. */
#include "rudp/wire.h"

#include <string.h>

#include "bytes.h"
#include "crc32c.h"
#include "rudp/error.h"

/* Payload length a type must (or may) carry; DATA is the only variable one. */
static int payload_ok(unsigned type, size_t len)
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

/* Coalesced payloads must be whole records, at least one, filling it exactly. */
static int records_ok(const uint8_t *p, size_t len)
{
    size_t off = 0, count = 0;
    while (off < len) {
        if (len - off < RUDP_RECORD_HEADER)
            return 0;
        size_t n = rudp_get16(p + off);
        off += RUDP_RECORD_HEADER;
        if (n > len - off)
            return 0;
        off += n;
        count++;
    }
    return count > 0;
}

int rudp_wire_record(const rudp_hdr_t *h, size_t *off, const uint8_t **msg, size_t *len)
{
    if (*off + RUDP_RECORD_HEADER > h->payload_len)
        return 0;
    size_t n = rudp_get16(h->payload + *off);
    if (n > h->payload_len - *off - RUDP_RECORD_HEADER)
        return 0;
    *msg = h->payload + *off + RUDP_RECORD_HEADER;
    *len = n;
    *off += RUDP_RECORD_HEADER + n;
    return 1;
}

size_t rudp_wire_size(const rudp_hdr_t *h)
{
    return RUDP_HEADER_SIZE + (size_t)h->sack_len + h->payload_len + RUDP_TRAILER_SIZE;
}

int rudp_wire_encode(const rudp_hdr_t *h, uint8_t *buf, size_t cap)
{
    if (h->type == RUDP_T_DATA && h->payload_len > RUDP_MAX_PAYLOAD)
        return RUDP_EMSGSIZE;
    if (!payload_ok(h->type, h->payload_len) || (h->flags & ~RUDP_F_KNOWN) ||
        h->sack_len > RUDP_MAX_SACK_BYTES || (h->sack_len && !(h->flags & RUDP_F_ACK)) ||
        (h->sack_len && !h->sack) || (h->payload_len && !h->payload))
        return RUDP_EINVAL;
    if ((h->flags & RUDP_F_COALESCED) &&
        (h->type != RUDP_T_DATA || !records_ok(h->payload, h->payload_len)))
        return RUDP_EINVAL;
    size_t n = rudp_wire_size(h);
    if (cap < n)
        return RUDP_EBUFSIZE;

    buf[0] = RUDP_VERSION;
    buf[1] = h->type;
    buf[2] = h->flags;
    buf[3] = h->sack_len;
    rudp_put64(buf + 4, h->cid);
    rudp_put32(buf + 12, h->seq);
    rudp_put32(buf + 16, h->ack);
    rudp_put32(buf + 20, h->ts);
    rudp_put32(buf + 24, h->ts_echo);
    rudp_put32(buf + 28, h->ack_delay);
    rudp_put16(buf + 32, h->rwnd);
    rudp_put16(buf + 34, h->payload_len);
    uint8_t *p = buf + RUDP_HEADER_SIZE;
    if (h->sack_len)
        memcpy(p, h->sack, h->sack_len);
    p += h->sack_len;
    if (h->payload_len)
        memcpy(p, h->payload, h->payload_len);
    p += h->payload_len;
    rudp_put32(p, rudp_crc32c(0, buf, (size_t)(p - buf)));
    return (int)n;
}

int rudp_wire_decode(rudp_hdr_t *h, const uint8_t *buf, size_t len)
{
    if (len < RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE)
        return RUDP_EMALFORMED;
    /* The version is checked first so a future version is told apart from garbage. */
    if (buf[0] != RUDP_VERSION)
        return RUDP_EVERSION;
    memset(h, 0, sizeof *h);
    h->version = buf[0];
    h->type = buf[1];
    h->flags = buf[2];
    h->sack_len = buf[3];
    h->cid = rudp_get64(buf + 4);
    h->seq = rudp_get32(buf + 12);
    h->ack = rudp_get32(buf + 16);
    h->ts = rudp_get32(buf + 20);
    h->ts_echo = rudp_get32(buf + 24);
    h->ack_delay = rudp_get32(buf + 28);
    h->rwnd = rudp_get16(buf + 32);
    h->payload_len = rudp_get16(buf + 34);

    if (h->sack_len > RUDP_MAX_SACK_BYTES || (h->flags & ~RUDP_F_KNOWN) ||
        (h->sack_len && !(h->flags & RUDP_F_ACK)) || !payload_ok(h->type, h->payload_len))
        return RUDP_EMALFORMED;
    /* Exact length: a datagram longer or shorter than its fields say is not ours. */
    if (rudp_wire_size(h) != len)
        return RUDP_EMALFORMED;
    if ((h->flags & RUDP_F_COALESCED) &&
        (h->type != RUDP_T_DATA ||
         !records_ok(buf + RUDP_HEADER_SIZE + h->sack_len, h->payload_len)))
        return RUDP_EMALFORMED;
    size_t body = len - RUDP_TRAILER_SIZE;
    if (rudp_crc32c(0, buf, body) != rudp_get32(buf + body))
        return RUDP_ECHECKSUM;
    h->sack = h->sack_len ? buf + RUDP_HEADER_SIZE : NULL;
    h->payload = h->payload_len ? buf + RUDP_HEADER_SIZE + h->sack_len : NULL;
    return 0;
}

int rudp_wire_peek_cid(const uint8_t *buf, size_t len, uint64_t *cid)
{
    if (len < RUDP_HEADER_SIZE + RUDP_TRAILER_SIZE)
        return RUDP_EMALFORMED;
    *cid = rudp_get64(buf + 4);
    return 0;
}

const char *rudp_wire_type_name(unsigned type)
{
    static const char *const names[] = {
        "?", "INITIAL", "RETRY", "ACCEPT", "DATA", "ACK", "FIN", "RESET",
    };
    return type < sizeof names / sizeof names[0] ? names[type] : "?";
}
