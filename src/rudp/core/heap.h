/* A deadline heap: a binary min-heap of nodes the caller embeds in its own objects, so a
 * driver, the DTLS sessions and the simulated link share one implementation. No
 * allocation (the caller gives the array), no I/O; private to librudp, reachable by tests. */
#ifndef RUDP_HEAP_H
#define RUDP_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define RUDP_HEAP_NONE UINT32_MAX /* a node's pos while it is not in a heap */

/* Embedded in the caller's object; the object is found back with RUDP_HEAP_OF(). */
typedef struct rudp_heap_node {
    uint64_t key; /* the deadline (or any time the caller orders by) */
    uint64_t seq; /* insertion number: equal keys leave in the order they were set */
    uint32_t pos; /* index in the heap's array, RUDP_HEAP_NONE when not in it */
} rudp_heap_node_t;

typedef struct rudp_heap {
    rudp_heap_node_t **a; /* the caller's array of cap pointers */
    uint32_t n, cap;
    uint64_t seq;
} rudp_heap_t;

/* The object of type `type` whose member `member` is the node `node`. */
#define RUDP_HEAP_OF(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

/* An empty heap over the caller's array of cap node pointers. */
void rudp_heap_init(rudp_heap_t *h, rudp_heap_node_t **array, uint32_t cap);

/* A node not in any heap (before its first rudp_heap_set). */
void rudp_heap_node_init(rudp_heap_node_t *node);

/* Inserts node with this key, or moves it there if it is already in h; a re-keyed node
 * goes behind the nodes already holding an equal key. Returns 0, or -1 when the node is
 * new and the heap holds cap nodes (nothing changes then). */
int rudp_heap_set(rudp_heap_t *h, rudp_heap_node_t *node, uint64_t key);

/* Takes node out of h, from anywhere in it; nothing when it is not in a heap. */
void rudp_heap_remove(rudp_heap_t *h, rudp_heap_node_t *node);

/* The node with the smallest key (the oldest among equals), NULL when h is empty. */
static inline rudp_heap_node_t *rudp_heap_top(const rudp_heap_t *h)
{
    return h->n ? h->a[0] : NULL;
}

/* The smallest key, UINT64_MAX when h is empty. */
static inline uint64_t rudp_heap_min(const rudp_heap_t *h)
{
    return h->n ? h->a[0]->key : UINT64_MAX;
}

#endif
