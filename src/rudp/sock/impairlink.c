/* Built-in impairment (impairlink.h): every outgoing datagram is pushed into a
 * rudp_sim_link (seeded, so a run is reproducible) behind a frame header holding its
 * destination and source address, and goes to the send ring when the link releases it.
 * The header is padded to the IP + UDP header size (28 or 48 bytes), so a rate limit
 * counts what netem counts: the IP packet; the link never corrupts it
 * (rudp_sim_link_push_framed), so a damaged datagram still reaches its peer. */
#include "impairlink.h"

#include <string.h>

#include "sock_internal.h"
#include "txpath.h"

#define LINK_CAP_CLIENT 2048u /* link slots (RUDP_SIM_MAX_DGRAM bytes each) */
#define LINK_CAP_SERVER 16384u

int impair_open(struct rudp_sock *s, const rudp_impair_t *imp, uint64_t seed)
{
    int rc = 0;
    s->seed = seed;
    while (!rc && s->seed == 0)
        rc = plat_random(&s->seed, sizeof s->seed);
    if (!rc)
        rc = rudp_sim_link_new(&s->link, imp, s->seed,
                               s->server ? LINK_CAP_SERVER : LINK_CAP_CLIENT);
    return rc;
}

static size_t overhead(const peer_addr_t *to)
{
    return (to->u.sa.sa_family == AF_INET || peer_is_mapped(to)) ? RUDP_PCAP_IP4_OVERHEAD
                                                                 : RUDP_PCAP_IP6_OVERHEAD;
}

void impair_push(struct rudp_sock *s, const peer_addr_t *to, const peer_addr_t *from,
                 const uint8_t *data, size_t len, uint64_t now)
{
    uint8_t hdr[PEER_FRAME_MAX];
    size_t pre = peer_pack(to, hdr);
    pre += peer_pack(from, hdr + pre);
    size_t padded = overhead(to);
    memset(hdr + pre, 0, padded - pre);
    rudp_sim_link_push_framed(s->link, now, hdr, padded, data, len);
}

void impair_pop(struct rudp_sock *s, uint64_t now)
{
    if (!s->link)
        return;
    while (rudp_sim_link_next(s->link) <= now) {
        struct txd *t = tx_reserve(s);
        if (!t)
            return; /* the link keeps them until the socket is writable */
        size_t n = 0;
        if (rudp_sim_link_pop(s->link, now, s->scratch, sizeof s->scratch, &n) != 1)
            return;
        size_t pre = peer_unpack(&t->to, s->scratch);
        if (pre >= n)
            continue;
        peer_unpack(&t->from, s->scratch + pre);
        size_t padded = overhead(&t->to);
        if (padded > n || n - padded > WIRE_MAX)
            continue;
        t->len = (uint16_t)(n - padded);
        memcpy(t->data, s->scratch + padded, t->len);
        tx_commit(s);
    }
}
