/* The ID table (idtab.h): linear probing; deletion shifts later members of the probe
 * run back into the hole (Knuth's Algorithm R), so no tombstones accumulate. */
#include "idtab.h"

#include <stddef.h>

uint32_t rudp_idtab_size_for(uint32_t max)
{
    if (max > (UINT32_C(1) << 30))
        return 0;
    uint32_t size = 16;
    while (size < 2 * max)
        size *= 2;
    return size;
}

int rudp_idtab_init(rudp_idtab_t *t, rudp_idtab_slot_t *slots, uint32_t n)
{
    if (n < 2 || (n & (n - 1)) != 0)
        return -1;
    t->slots = slots;
    t->mask = n - 1;
    t->count = 0;
    for (uint32_t i = 0; i < n; i++) {
        slots[i].hash = 0;
        slots[i].obj = NULL;
    }
    return 0;
}

void *rudp_idtab_find(const rudp_idtab_t *t, uint64_t hash, rudp_idtab_eq eq, const void *ctx)
{
    for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
        const rudp_idtab_slot_t *s = &t->slots[i];
        if (!s->obj)
            return NULL;
        if (s->hash == hash && eq(s->obj, ctx))
            return s->obj;
    }
}

int rudp_idtab_insert(rudp_idtab_t *t, uint64_t hash, void *obj)
{
    if (!obj || t->count >= t->mask)
        return -1;
    uint32_t i = (uint32_t)hash & t->mask;
    while (t->slots[i].obj)
        i = (i + 1) & t->mask;
    t->slots[i].hash = hash;
    t->slots[i].obj = obj;
    t->count++;
    return 0;
}

int rudp_idtab_remove(rudp_idtab_t *t, uint64_t hash, const void *obj)
{
    uint32_t i = (uint32_t)hash & t->mask;
    while (t->slots[i].obj != obj) {
        if (!t->slots[i].obj)
            return -1;
        i = (i + 1) & t->mask;
    }
    t->count--;
    uint32_t j = i;
    for (;;) {
        t->slots[i].obj = NULL;
        for (;;) {
            j = (j + 1) & t->mask;
            if (!t->slots[j].obj)
                return 0;
            uint32_t home = (uint32_t)t->slots[j].hash & t->mask;
            /* Move slots[j] into the hole unless its home lies cyclically in (i, j]. */
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}
