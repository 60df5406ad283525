/* Peer addresses (peeraddr.h): packing for the impairment link's frames and keys for
 * the connection table and the listener's cookies. */
#include "peeraddr.h"

#include <string.h>

#include "core/bytes.h"

int peer_is_mapped(const peer_addr_t *a)
{
    return a->u.sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->u.in6.sin6_addr);
}

size_t peer_pack(const peer_addr_t *a, uint8_t *p)
{
    if (a->len == 0) {
        p[0] = 0;
        return 1;
    }
    if (a->u.sa.sa_family == AF_INET) {
        p[0] = 4;
        memcpy(p + 1, &a->u.in.sin_port, 2);
        memcpy(p + 3, &a->u.in.sin_addr, 4);
        return 7;
    }
    if (peer_is_mapped(a)) {
        p[0] = 5;
        memcpy(p + 1, &a->u.in6.sin6_port, 2);
        memcpy(p + 3, a->u.in6.sin6_addr.s6_addr + 12, 4);
        return 7;
    }
    p[0] = 6;
    memcpy(p + 1, &a->u.in6.sin6_port, 2);
    memcpy(p + 3, &a->u.in6.sin6_addr, 16);
    rudp_put32(p + 19, a->u.in6.sin6_scope_id);
    return 23;
}

uint8_t peer_key(const peer_addr_t *a, uint8_t k[PEER_KEY_MAX])
{
    uint8_t n = (uint8_t)peer_pack(a, k);
    if (k[0] == 5)
        k[0] = 4; /* an IPv4-mapped peer is the IPv4 peer */
    return n;
}

size_t peer_unpack(peer_addr_t *a, const uint8_t *p)
{
    memset(a, 0, sizeof *a);
    switch (p[0]) {
    case 4:
        a->len = sizeof a->u.in;
        a->u.in.sin_family = AF_INET;
        memcpy(&a->u.in.sin_port, p + 1, 2);
        memcpy(&a->u.in.sin_addr, p + 3, 4);
        return 7;
    case 5:
        a->len = sizeof a->u.in6;
        a->u.in6.sin6_family = AF_INET6;
        memcpy(&a->u.in6.sin6_port, p + 1, 2);
        a->u.in6.sin6_addr.s6_addr[10] = a->u.in6.sin6_addr.s6_addr[11] = 0xff;
        memcpy(a->u.in6.sin6_addr.s6_addr + 12, p + 3, 4);
        return 7;
    case 6:
        a->len = sizeof a->u.in6;
        a->u.in6.sin6_family = AF_INET6;
        memcpy(&a->u.in6.sin6_port, p + 1, 2);
        memcpy(&a->u.in6.sin6_addr, p + 3, 16);
        a->u.in6.sin6_scope_id = rudp_get32(p + 19);
        return 23;
    default:
        return 1;
    }
}

void peer_set(peer_addr_t *a, const struct sockaddr *sa, socklen_t len)
{
    memset(a, 0, sizeof *a);
    if (len > (socklen_t)sizeof a->u)
        len = (socklen_t)sizeof a->u;
    memcpy(&a->u, sa, (size_t)len);
    a->len = len;
}
