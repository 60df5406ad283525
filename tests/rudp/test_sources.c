/* core/sources.h: the source host of an address key, and the per-source counts the
 * socket driver's front door and the DTLS server share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rudp/error.h"
#include "sources.h"

/* Keys as peer_key() makes them: tag, port, address (IPv6: and the scope). */
static const uint8_t V4[7] = { 4, 0x1f, 0x40, 198, 18, 0, 1 };
static const uint8_t V4_PORT[7] = { 4, 0x1f, 0x41, 198, 18, 0, 1 };
static const uint8_t V4_OTHER[7] = { 4, 0x1f, 0x40, 198, 18, 0, 2 };
static const uint8_t V6[23] = { 6, 0, 80, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0,
                                0, 0, 0,  0,    0, 0,   5,    0, 0, 0, 2 };
static const uint8_t V6_HOST[23] = { 6, 0, 81, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 9,
                                     9, 9, 9,  9,    9, 9,   9,    0, 0, 0, 2 };
static const uint8_t V6_SCOPE[23] = { 6, 0, 80, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0,
                                      0, 0, 0,  0,    0, 0,   5,    0, 0, 0, 3 };

static void test_source_of_cases(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const uint8_t *key;
        size_t len;
        size_t want_len;
        uint8_t want[RUDP_SOURCE_MAX];
    } cases[] = {
        { "IPv4: tag and address, no port", V4, sizeof V4, 5, { 4, 198, 18, 0, 1 } },
        { "IPv6: tag, /64 prefix, scope",
          V6,
          sizeof V6,
          13,
          { 6, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0, 0, 0, 2 } },
        { "not IP", (const uint8_t *)"\0", 1, 0, { 0 } },
        { "IPv4 tag, wrong length", V4, 6, 0, { 0 } },
        { "empty", V4, 0, 0, { 0 } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t src[RUDP_SOURCE_MAX];
        size_t n = rudp_source_of(cases[i].key, cases[i].len, src);
        if (n != cases[i].want_len || memcmp(src, cases[i].want, n) != 0)
            fail_msg("%s: length %zu", cases[i].what, n);
    }
    /* The port and the host half of an IPv6 address do not count; the scope does. */
    uint8_t a[RUDP_SOURCE_MAX], b[RUDP_SOURCE_MAX];
    assert_int_equal(rudp_source_of(V4_PORT, 7, b), 5);
    rudp_source_of(V4, 7, a);
    assert_memory_equal(a, b, 5);
    rudp_source_of(V6, 23, a);
    rudp_source_of(V6_HOST, 23, b);
    assert_memory_equal(a, b, 13);
    rudp_source_of(V6_SCOPE, 23, b);
    assert_memory_not_equal(a, b, 13);
}

/* A host holds up to cap places, whatever its ports; another host has its own count;
 * an entry goes when its last place is given back, and is made again on demand. */
static void test_take_full_put(void **state)
{
    (void)state;
    uint8_t key[RUDP_SIPHASH_KEY_LEN] = { 7 };
    rudp_sources_t t;
    assert_int_equal(rudp_sources_init(&t, 8, 2, key), 0);
    rudp_source_t *p1 = NULL, *p2 = NULL, *p3 = NULL, *q = NULL;
    assert_false(rudp_sources_full(&t, V4, 7));
    assert_int_equal(rudp_sources_take(&t, V4, 7, &p1), 0);
    assert_int_equal(rudp_sources_take(&t, V4_PORT, 7, &p2), 0);
    assert_ptr_equal(p1, p2);
    assert_int_equal(p1->count, 2);
    assert_true(rudp_sources_full(&t, V4, 7));
    assert_int_equal(rudp_sources_take(&t, V4, 7, &p3), RUDP_EREFUSED);
    assert_null(p3);
    assert_int_equal(rudp_sources_take(&t, V4_OTHER, 7, &q), 0);
    assert_ptr_not_equal(q, p1);
    assert_int_equal(t.tab.count, 2);
    rudp_sources_put(&t, &p2);
    assert_null(p2);
    assert_false(rudp_sources_full(&t, V4, 7));
    rudp_sources_put(&t, &p1);
    rudp_sources_put(&t, &p1); /* nothing held: nothing to give back */
    assert_int_equal(t.tab.count, 1);
    assert_int_equal(rudp_sources_take(&t, V4, 7, &p1), 0);
    assert_int_equal(p1->count, 1);
    rudp_sources_free(&t); /* frees the entries still held */
}

/* A key that is not an IP address counts as a host of its own: its bytes. */
static void test_other_keys_are_their_own_host(void **state)
{
    (void)state;
    uint8_t key[RUDP_SIPHASH_KEY_LEN] = { 9 };
    rudp_sources_t t;
    assert_int_equal(rudp_sources_init(&t, 4, 1, key), 0);
    rudp_source_t *a = NULL, *b = NULL;
    assert_int_equal(rudp_sources_take(&t, (const uint8_t *)"\0", 1, &a), 0);
    assert_int_equal(rudp_sources_take(&t, (const uint8_t *)"\0", 1, &b), RUDP_EREFUSED);
    assert_int_equal(rudp_sources_take(&t, (const uint8_t *)"x", 1, &b), 0);
    rudp_sources_put(&t, &a);
    rudp_sources_put(&t, &b);
    assert_int_equal(t.tab.count, 0);
    rudp_sources_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_of_cases),
        cmocka_unit_test(test_take_full_put),
        cmocka_unit_test(test_other_keys_are_their_own_host),
    };
    return cmocka_run_group_tests_name("sources", tests, NULL, NULL);
}
