/* An ID table: an open-addressing hash index from a caller-computed 64-bit hash (a
 * connection ID under a secret key, a peer address under SipHash) to the caller's
 * objects, shared by the socket driver and the DTLS sessions. Linear probing with
 * backward-shift deletion, so lookups never slow down with tombstones. No allocation
 * (the caller gives the slots), no I/O; private to librudp, reachable by tests. */
#ifndef RUDP_IDTAB_H
#define RUDP_IDTAB_H

#include <stdint.h>

typedef struct rudp_idtab_slot {
    uint64_t hash;
    void *obj; /* NULL: empty */
} rudp_idtab_slot_t;

typedef struct rudp_idtab {
    rudp_idtab_slot_t *slots; /* the caller's, a power of two of them */
    uint32_t mask;
    uint32_t count;
} rudp_idtab_t;

/* Whether obj is the one sought (ctx: the caller's key). */
typedef int (*rudp_idtab_eq)(const void *obj, const void *ctx);

/* The slots a table holding up to max objects should have: a power of two at least
 * twice max (load factor at most 1/2: short probe sequences), and at least 16.
 * 0 when max is above 2^30. */
uint32_t rudp_idtab_size_for(uint32_t max);

/* An empty table over the caller's n slots (n a power of two, at least 2).
 * Returns 0, or -1 for an n that is not. */
int rudp_idtab_init(rudp_idtab_t *t, rudp_idtab_slot_t *slots, uint32_t n);

/* The object stored under hash for which eq(obj, ctx) holds, or NULL. */
void *rudp_idtab_find(const rudp_idtab_t *t, uint64_t hash, rudp_idtab_eq eq, const void *ctx);

/* Stores obj (not NULL) under hash. One slot always stays empty, so every probe ends.
 * Returns 0, or -1 when the table is full (or obj is NULL). */
int rudp_idtab_insert(rudp_idtab_t *t, uint64_t hash, void *obj);

/* Removes obj, stored under hash. Returns 0, or -1 when it is not there. */
int rudp_idtab_remove(rudp_idtab_t *t, uint64_t hash, const void *obj);

#endif
