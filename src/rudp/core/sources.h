/* Per-source counts, shared by the socket driver's front door (connections per host)
 * and the DTLS server (sessions per host): the source host of an address key, and a
 * table of hosts with the places each holds. Private to librudp. */
#ifndef RUDP_SOURCES_H
#define RUDP_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "idtab.h"
#include "siphash.h"

#define RUDP_SOURCE_MAX 13u /* tag, IPv6 /64 prefix, scope */

/* The source host of an address key as the socket driver (peer_key()) and the DTLS
 * server make them, tag 4, port, IPv4 address (7 bytes) or tag 6, port, IPv6 address,
 * scope (23): the tag and the IPv4 address (/32), or the tag, the IPv6 /64 prefix and
 * the scope (so link-local prefixes on two interfaces stay apart). The port does not
 * count, or a flood would simply change ports. Returns the length, 0 for any other key. */
size_t rudp_source_of(const uint8_t *key, size_t key_len, uint8_t src[RUDP_SOURCE_MAX]);

/* One source host and the places it holds. */
typedef struct rudp_source {
    uint64_t hash;
    uint32_t count;
    uint8_t len;
    uint8_t src[RUDP_SOURCE_MAX];
} rudp_source_t;

/* The hosts holding places, at most `cap` each, keyed by SipHash under the owner's
 * random key so a sender cannot choose colliding sources. An entry lives while its host
 * holds a place. */
typedef struct rudp_sources {
    rudp_idtab_t tab;
    rudp_idtab_slot_t *slots;
    uint8_t key[RUDP_SIPHASH_KEY_LEN];
    uint32_t cap;
} rudp_sources_t;

/* A table for up to `max` places in all, `cap` per host. Returns 0 or RUDP_ENOMEM. */
int rudp_sources_init(rudp_sources_t *t, uint32_t max, uint32_t cap,
                      const uint8_t key[RUDP_SIPHASH_KEY_LEN]);
void rudp_sources_free(rudp_sources_t *t);

/* Whether the host of address key `key` holds `cap` places already. A key that is not
 * an IP address counts as a host of its own (its first RUDP_SOURCE_MAX bytes). */
int rudp_sources_full(const rudp_sources_t *t, const uint8_t *key, size_t key_len);

/* Takes a place for the host of `key`: its entry in *out. Returns 0, RUDP_EREFUSED when
 * the host is full, or RUDP_ENOMEM. */
int rudp_sources_take(rudp_sources_t *t, const uint8_t *key, size_t key_len, rudp_source_t **out);

/* Gives back the place *f holds (if any), and clears *f. */
void rudp_sources_put(rudp_sources_t *t, rudp_source_t **f);

#endif
