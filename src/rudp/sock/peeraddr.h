/* Peer addresses in the socket driver: a sockaddr with its length, and the byte forms
 * the driver keys connections, cookies and the impairment link's frames by. */
#ifndef RUDP_SOCK_PEERADDR_H
#define RUDP_SOCK_PEERADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PEER_KEY_MAX 23u                       /* tag, port, IPv6 address, scope */
#define PEER_PACK_MAX 23u                      /* one packed address */
#define PEER_FRAME_MAX (2 * PEER_PACK_MAX + 2) /* 48: fits the IPv6 + UDP header size */

typedef struct peer_addr {
    socklen_t len; /* 0: unknown */
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } u;
} peer_addr_t;

/* An IPv4-mapped IPv6 address. */
int peer_is_mapped(const peer_addr_t *a);

/* Packs an address: 0 = unknown, 4 = IPv4, 5 = IPv4-mapped IPv6, 6 = IPv6 (with scope).
 * Returns the bytes written, at most PEER_PACK_MAX. */
size_t peer_pack(const peer_addr_t *a, uint8_t *p);

/* The inverse of peer_pack(); returns the bytes read. */
size_t peer_unpack(peer_addr_t *a, const uint8_t *p);

/* The bytes that identify a peer, for the cookie and the wrong-address check: the
 * packed form, except that an IPv4-mapped IPv6 address counts as IPv4, so a peer has one
 * identity whatever socket family sees it. Returns the length. */
uint8_t peer_key(const peer_addr_t *a, uint8_t k[PEER_KEY_MAX]);

/* Copies a sockaddr in (truncated to the union's size). */
void peer_set(peer_addr_t *a, const struct sockaddr *sa, socklen_t len);

#endif
