/* The deadline heap (heap.h): a binary min-heap on (key, insertion number), each node
 * knowing its index so it can be re-keyed or removed from the middle in O(log n). */
#include "heap.h"

static int before(const rudp_heap_node_t *x, const rudp_heap_node_t *y)
{
    return x->key < y->key || (x->key == y->key && x->seq < y->seq);
}

static void place(rudp_heap_t *h, uint32_t i, rudp_heap_node_t *x)
{
    h->a[i] = x;
    x->pos = i;
}

static void up(rudp_heap_t *h, uint32_t i)
{
    rudp_heap_node_t *x = h->a[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!before(x, h->a[p]))
            break;
        place(h, i, h->a[p]);
        i = p;
    }
    place(h, i, x);
}

static void down(rudp_heap_t *h, uint32_t i)
{
    rudp_heap_node_t *x = h->a[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h->a[c + 1], h->a[c]))
            c++;
        if (!before(h->a[c], x))
            break;
        place(h, i, h->a[c]);
        i = c;
    }
    place(h, i, x);
}

void rudp_heap_init(rudp_heap_t *h, rudp_heap_node_t **array, uint32_t cap)
{
    h->a = array;
    h->n = 0;
    h->cap = cap;
    h->seq = 0;
}

void rudp_heap_node_init(rudp_heap_node_t *node)
{
    node->key = UINT64_MAX;
    node->seq = 0;
    node->pos = RUDP_HEAP_NONE;
}

int rudp_heap_set(rudp_heap_t *h, rudp_heap_node_t *node, uint64_t key)
{
    if (node->pos == RUDP_HEAP_NONE) {
        if (h->n == h->cap)
            return -1;
        node->key = key;
        node->seq = h->seq++;
        place(h, h->n++, node);
        up(h, node->pos);
        return 0;
    }
    node->key = key;
    node->seq = h->seq++;
    up(h, node->pos);
    down(h, node->pos);
    return 0;
}

void rudp_heap_remove(rudp_heap_t *h, rudp_heap_node_t *node)
{
    uint32_t i = node->pos;
    if (i == RUDP_HEAP_NONE)
        return;
    node->pos = RUDP_HEAP_NONE;
    rudp_heap_node_t *last = h->a[--h->n];
    if (last == node)
        return;
    place(h, i, last);
    up(h, i);
    down(h, last->pos);
}
