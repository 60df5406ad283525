/* Tests for the shared containers: the deadline heap (core/heap.h) and the ID table
 * (core/idtab.h). Table-driven: each case is a script of operations and the order
 * objects must come out in, checked against the heap's and the table's invariants
 * after every step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "heap.h"
#include "idtab.h"

#define N_OBJ 16
#define END UINT32_MAX

typedef struct obj {
    uint32_t id;
    rudp_heap_node_t node;
} obj_t;

/* Every parent's (key, seq) is below its children's, and every node knows its index. */
static void heap_check(const rudp_heap_t *h)
{
    for (uint32_t i = 0; i < h->n; i++) {
        assert_int_equal(h->a[i]->pos, i);
        if (i > 0) {
            const rudp_heap_node_t *p = h->a[(i - 1) / 2], *c = h->a[i];
            assert_true(p->key < c->key || (p->key == c->key && p->seq < c->seq));
        }
    }
}

enum op { SET, DEL, STOP };

typedef struct heap_case {
    const char *name;
    struct {
        enum op op;
        uint32_t id;
        uint64_t key;
    } steps[24];
    uint32_t out[N_OBJ + 1]; /* ids in pop order, END-terminated */
} heap_case_t;

static const heap_case_t heap_cases[] = {
    { "ascending",
      { { SET, 0, 1 }, { SET, 1, 2 }, { SET, 2, 3 }, { STOP, 0, 0 } },
      { 0, 1, 2, END } },
    { "descending",
      { { SET, 0, 3 }, { SET, 1, 2 }, { SET, 2, 1 }, { STOP, 0, 0 } },
      { 2, 1, 0, END } },
    /* Equal deadlines leave in the order they were set, whatever the heap's shape. */
    { "equal keys are FIFO",
      { { SET, 3, 5 }, { SET, 1, 5 }, { SET, 4, 5 }, { SET, 0, 5 }, { SET, 2, 5 }, { STOP, 0, 0 } },
      { 3, 1, 4, 0, 2, END } },
    { "re-keyed equal goes last",
      { { SET, 0, 7 }, { SET, 1, 7 }, { SET, 2, 7 }, { SET, 0, 7 }, { STOP, 0, 0 } },
      { 1, 2, 0, END } },
    /* Removal from the middle: a leaf, an inner node, the root, and the last slot. */
    { "remove middle",
      { { SET, 0, 10 },
        { SET, 1, 20 },
        { SET, 2, 30 },
        { SET, 3, 40 },
        { SET, 4, 50 },
        { SET, 5, 60 },
        { SET, 6, 70 },
        { DEL, 2, 0 },
        { DEL, 1, 0 },
        { STOP, 0, 0 } },
      { 0, 3, 4, 5, 6, END } },
    { "remove root and last",
      { { SET, 0, 10 },
        { SET, 1, 20 },
        { SET, 2, 30 },
        { DEL, 0, 0 },
        { DEL, 2, 0 },
        { STOP, 0, 0 } },
      { 1, END } },
    /* A last node smaller than the removed one's parent must move up, not down. */
    { "remove needs sift up",
      { { SET, 0, 1 },
        { SET, 1, 100 },
        { SET, 2, 2 },
        { SET, 3, 101 },
        { SET, 4, 102 },
        { SET, 5, 3 },
        { SET, 6, 4 },
        { DEL, 3, 0 },
        { STOP, 0, 0 } },
      { 0, 2, 5, 6, 1, 4, END } },
    { "remove twice is harmless",
      { { SET, 0, 1 }, { DEL, 0, 0 }, { DEL, 0, 0 }, { SET, 1, 2 }, { STOP, 0, 0 } },
      { 1, END } },
    { "re-key up and down",
      { { SET, 0, 10 },
        { SET, 1, 20 },
        { SET, 2, 30 },
        { SET, 2, 5 },
        { SET, 0, 40 },
        { STOP, 0, 0 } },
      { 2, 1, 0, END } },
    { "UINT64_MAX is a key like others",
      { { SET, 0, UINT64_MAX }, { SET, 1, 0 }, { STOP, 0, 0 } },
      { 1, 0, END } },
};

static void test_heap_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof heap_cases / sizeof heap_cases[0]; c++) {
        const heap_case_t *hc = &heap_cases[c];
        obj_t objs[N_OBJ];
        rudp_heap_node_t *arr[N_OBJ];
        rudp_heap_t h;
        rudp_heap_init(&h, arr, N_OBJ);
        for (uint32_t i = 0; i < N_OBJ; i++) {
            objs[i].id = i;
            rudp_heap_node_init(&objs[i].node);
        }
        for (size_t s = 0; hc->steps[s].op != STOP; s++) {
            obj_t *o = &objs[hc->steps[s].id];
            if (hc->steps[s].op == SET)
                assert_int_equal(rudp_heap_set(&h, &o->node, hc->steps[s].key), 0);
            else
                rudp_heap_remove(&h, &o->node);
            heap_check(&h);
        }
        for (size_t k = 0; hc->out[k] != END; k++) {
            rudp_heap_node_t *top = rudp_heap_top(&h);
            if (!top) {
                fail_msg("%s: empty before pop %zu", hc->name, k);
                return;
            }
            obj_t *o = RUDP_HEAP_OF(top, obj_t, node);
            if (o->id != hc->out[k])
                fail_msg("%s: pop %zu gave %u, want %u", hc->name, k, o->id, hc->out[k]);
            assert_int_equal(rudp_heap_min(&h), top->key);
            rudp_heap_remove(&h, top);
            assert_int_equal(top->pos, RUDP_HEAP_NONE);
            heap_check(&h);
        }
        assert_null(rudp_heap_top(&h));
        assert_int_equal(rudp_heap_min(&h), UINT64_MAX);
    }
}

static void test_heap_full(void **state)
{
    (void)state;
    obj_t objs[3];
    rudp_heap_node_t *arr[2];
    rudp_heap_t h;
    rudp_heap_init(&h, arr, 2);
    for (uint32_t i = 0; i < 3; i++)
        rudp_heap_node_init(&objs[i].node);
    assert_int_equal(rudp_heap_set(&h, &objs[0].node, 5), 0);
    assert_int_equal(rudp_heap_set(&h, &objs[1].node, 6), 0);
    assert_int_equal(rudp_heap_set(&h, &objs[2].node, 1), -1);
    assert_int_equal(objs[2].node.pos, RUDP_HEAP_NONE);
    assert_int_equal(h.n, 2);
    /* Re-keying a member of a full heap still works. */
    assert_int_equal(rudp_heap_set(&h, &objs[1].node, 1), 0);
    assert_ptr_equal(rudp_heap_top(&h), &objs[1].node);
}

/* Against a sorted reference: a pseudo-random mix of sets and removals over 64 nodes,
 * with many equal keys, must pop in (key, last set) order. */
static void test_heap_mixed(void **state)
{
    (void)state;
    enum { M = 64 };
    obj_t objs[M];
    rudp_heap_node_t *arr[M];
    uint64_t last_set[M], clock = 0, x = 12345;
    int in[M] = { 0 };
    rudp_heap_t h;
    rudp_heap_init(&h, arr, M);
    for (uint32_t i = 0; i < M; i++) {
        objs[i].id = i;
        rudp_heap_node_init(&objs[i].node);
    }
    for (int step = 0; step < 2000; step++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t id = (uint32_t)(x >> 33) % M;
        if ((x >> 20) % 4 == 0) {
            rudp_heap_remove(&h, &objs[id].node);
            in[id] = 0;
        } else {
            assert_int_equal(rudp_heap_set(&h, &objs[id].node, (x >> 40) % 8), 0);
            last_set[id] = clock++;
            in[id] = 1;
        }
        heap_check(&h);
    }
    uint64_t prev_key = 0, prev_set = 0;
    int first = 1;
    uint32_t count = 0;
    for (uint32_t i = 0; i < M; i++)
        count += (uint32_t)in[i];
    assert_int_equal(h.n, count);
    while (rudp_heap_top(&h)) {
        obj_t *o = RUDP_HEAP_OF(rudp_heap_top(&h), obj_t, node);
        assert_true(in[o->id]);
        if (!first)
            assert_true(o->node.key > prev_key ||
                        (o->node.key == prev_key && last_set[o->id] > prev_set));
        first = 0;
        prev_key = o->node.key;
        prev_set = last_set[o->id];
        rudp_heap_remove(&h, &o->node);
        in[o->id] = 0;
        count--;
    }
    assert_int_equal(count, 0);
}

/* ---- ID table ---- */

typedef struct item {
    uint64_t key;
} item_t;

static int item_eq(const void *obj, const void *ctx)
{
    return ((const item_t *)obj)->key == *(const uint64_t *)ctx;
}

/* Each member reachable from its home without crossing an empty slot. */
static void idtab_check(const rudp_idtab_t *t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i <= t->mask; i++) {
        if (!t->slots[i].obj)
            continue;
        n++;
        for (uint32_t j = (uint32_t)t->slots[i].hash & t->mask; j != i; j = (j + 1) & t->mask)
            assert_non_null(t->slots[j].obj);
    }
    assert_int_equal(n, t->count);
}

typedef struct idtab_case {
    const char *name;
    /* hash of items 0..7 (the table has 8 slots, so the low 3 bits are the home). */
    uint64_t hash[8];
    uint32_t insert[8]; /* items inserted in this order, END-terminated */
    uint32_t remove[8]; /* then removed in this order */
} idtab_case_t;

static const idtab_case_t idtab_cases[] = {
    { "distinct homes", { 0, 1, 2, 3, 4, 5, 6, 7 }, { 0, 1, 2, END }, { 1, END } },
    /* One probe run: removing its head or middle must shift the rest back. */
    { "collide, remove head", { 8, 16, 24, 3, 4, 5, 6, 7 }, { 0, 1, 2, END }, { 0, END } },
    { "collide, remove middle", { 8, 16, 24, 3, 4, 5, 6, 7 }, { 0, 1, 2, END }, { 1, END } },
    { "collide, remove tail", { 8, 16, 24, 3, 4, 5, 6, 7 }, { 0, 1, 2, END }, { 2, END } },
    /* A run that wraps from the last slot to the first. */
    { "wrap around", { 7, 15, 23, 0, 4, 5, 6, 1 }, { 0, 1, 2, 3, END }, { 0, 2, END } },
    /* A hole after the wrap: the member behind it, homed before the wrap, moves in. */
    { "hole after wrap", { 6, 14, 22, 30, 4, 5, 3, 1 }, { 0, 1, 2, 3, END }, { 2, END } },
    /* Members of two runs interleaved: an item must not move before its home. */
    { "two runs", { 2, 10, 3, 18, 11, 5, 6, 7 }, { 0, 1, 2, 3, 4, END }, { 0, 2, END } },
    /* Equal hashes, told apart by eq. */
    { "equal hashes", { 42, 42, 42, 1, 2, 3, 4, 5 }, { 0, 1, 2, END }, { 1, 0, END } },
    /* Seven of eight: one slot stays empty. */
    { "full less one",
      { 0, 8, 16, 24, 32, 40, 48, 56 },
      { 0, 1, 2, 3, 4, 5, 6, END },
      { 3, 0, 6, END } },
};

static void test_idtab_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof idtab_cases / sizeof idtab_cases[0]; c++) {
        const idtab_case_t *ic = &idtab_cases[c];
        rudp_idtab_slot_t slots[8];
        rudp_idtab_t t;
        item_t items[8];
        int in[8] = { 0 };
        assert_int_equal(rudp_idtab_init(&t, slots, 8), 0);
        for (uint32_t i = 0; i < 8; i++)
            items[i].key = 1000 + i;
        for (size_t k = 0; ic->insert[k] != END; k++) {
            uint32_t i = ic->insert[k];
            assert_int_equal(rudp_idtab_insert(&t, ic->hash[i], &items[i]), 0);
            in[i] = 1;
            idtab_check(&t);
        }
        for (size_t k = 0; ic->remove[k] != END; k++) {
            uint32_t i = ic->remove[k];
            assert_int_equal(rudp_idtab_remove(&t, ic->hash[i], &items[i]), 0);
            assert_int_equal(rudp_idtab_remove(&t, ic->hash[i], &items[i]), -1);
            in[i] = 0;
            idtab_check(&t);
        }
        for (uint32_t i = 0; i < 8; i++) {
            void *got = rudp_idtab_find(&t, ic->hash[i], item_eq, &items[i].key);
            if (got != (in[i] ? &items[i] : NULL))
                fail_msg("%s: item %u %s", ic->name, i, in[i] ? "lost" : "still found");
        }
    }
}

static void test_idtab_limits(void **state)
{
    (void)state;
    rudp_idtab_slot_t slots[4];
    rudp_idtab_t t;
    item_t items[4] = { { 1 }, { 2 }, { 3 }, { 4 } };
    assert_int_equal(rudp_idtab_init(&t, slots, 6), -1);
    assert_int_equal(rudp_idtab_init(&t, slots, 1), -1);
    assert_int_equal(rudp_idtab_init(&t, slots, 4), 0);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(rudp_idtab_insert(&t, 0, &items[i]), 0);
    assert_int_equal(rudp_idtab_insert(&t, 0, &items[3]), -1); /* one slot stays empty */
    assert_int_equal(rudp_idtab_insert(&t, 1, NULL), -1);
    uint64_t absent = 99;
    assert_null(rudp_idtab_find(&t, 0, item_eq, &absent));
    assert_int_equal(rudp_idtab_size_for(0), 16);
    assert_int_equal(rudp_idtab_size_for(1024), 2048);
    assert_int_equal(rudp_idtab_size_for(1025), 4096);
    assert_int_equal(rudp_idtab_size_for(65536), 131072);
    assert_int_equal(rudp_idtab_size_for((UINT32_C(1) << 30) + 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_cases),   cmocka_unit_test(test_heap_full),
        cmocka_unit_test(test_heap_mixed),   cmocka_unit_test(test_idtab_cases),
        cmocka_unit_test(test_idtab_limits),
    };
    return cmocka_run_group_tests_name("containers", tests, NULL, NULL);
}
