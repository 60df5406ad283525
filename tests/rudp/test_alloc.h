/* Routes the engine's allocations through cmocka's test allocator, so a connection
 * that is not freed fails the test that leaked it. Include after <cmocka.h>. */
#ifndef HOLA_TEST_ALLOC_H
#define HOLA_TEST_ALLOC_H

#include "rudp/conn.h"

static void *test_alloc_fn(void *ctx, size_t n)
{
    (void)ctx;
    return test_malloc(n);
}

static void test_free_fn(void *ctx, void *p)
{
    (void)ctx;
    test_free(p);
}

static const rudp_allocator_t test_allocator = { test_alloc_fn, test_free_fn, NULL };

#endif
