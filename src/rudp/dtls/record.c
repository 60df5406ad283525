/* What the DTLS module reads of a datagram's records before OpenSSL does (RFC 6347
 * §4.1: a 13-byte header of type, version, epoch, sequence number and length): a
 * ClientHello at the server's front door, the application records of an established
 * session, and the window of sequence numbers delivered, which tells a replay from a
 * record that failed authentication when counting what OpenSSL dropped in silence. */
#include "dtls_internal.h"

int dtls_is_client_hello(const uint8_t *p, size_t n)
{
    return rudp_dtls_is_record(p, n) && p[0] == 22 && p[3] == 0 && p[4] == 0 && n >= 26 &&
           p[13] == 1;
}

/* Records in one datagram: how many carry application data, and the epoch and sequence
 * number of the first of them. */
unsigned dtls_app_records(const uint8_t *p, size_t n, uint64_t *seq)
{
    unsigned k = 0;
    while (n >= 13) {
        size_t len = (size_t)p[11] << 8 | p[12];
        if (13 + len > n)
            break;
        if (p[0] == 23) {
            if (k == 0) {
                uint64_t v = 0;
                for (int i = 3; i < 11; i++)
                    v = v << 8 | p[i]; /* epoch (2 bytes) and sequence (6) together */
                *seq = v;
            }
            k++;
        }
        p += 13 + len;
        n -= 13 + len;
    }
    return k;
}

int dtls_seen(const struct sess *s, uint64_t seq)
{
    if (!s->any_seen || seq > s->seen_top)
        return 0;
    uint64_t diff = s->seen_top - seq;
    return diff >= 64 || ((s->seen_mask >> diff) & 1u);
}

void dtls_mark_seen(struct sess *s, uint64_t seq)
{
    if (!s->any_seen) {
        s->any_seen = 1;
        s->seen_top = seq;
        s->seen_mask = 1;
    } else if (seq > s->seen_top) {
        uint64_t sh = seq - s->seen_top;
        s->seen_mask = sh >= 64 ? 1 : (s->seen_mask << sh) | 1u;
        s->seen_top = seq;
    } else if (s->seen_top - seq < 64) {
        s->seen_mask |= 1ull << (s->seen_top - seq);
    }
}
