/* test_source.c: per-source keys (IPv4 /32, IPv6 /64, IPv4-mapped as IPv4) and the
 * count table: counts follow adds and removes, and removals in any order leave every
 * other source findable (the backward-shift deletion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "source.h"

static struct hola_source v4(const char *a)
{
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(7000) };
    assert_int_equal(inet_pton(AF_INET, a, &in.sin_addr), 1);
    return hola_source_of((struct sockaddr *)&in);
}

static struct hola_source v6(const char *a, uint16_t port)
{
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
    assert_int_equal(inet_pton(AF_INET6, a, &in6.sin6_addr), 1);
    return hola_source_of((struct sockaddr *)&in6);
}

static int same(struct hola_source a, struct hola_source b)
{
    return a.family == b.family && memcmp(a.prefix, b.prefix, sizeof a.prefix) == 0;
}

static void test_keys(void **state)
{
    (void)state;
    assert_true(same(v4("192.0.2.1"), v4("192.0.2.1")));
    assert_false(same(v4("192.0.2.1"), v4("192.0.2.2")));
    /* One /64: the interface identifier and the port do not matter. */
    assert_true(same(v6("2001:db8:1:2::1", 1), v6("2001:db8:1:2:ffff::9", 2)));
    assert_false(same(v6("2001:db8:1:2::1", 1), v6("2001:db8:1:3::1", 1)));
    /* A dual-stack socket's IPv4 peer is that IPv4 host, not ::ffff:0:0/64. */
    assert_true(same(v6("::ffff:192.0.2.1", 5), v4("192.0.2.1")));
    assert_false(same(v6("::ffff:192.0.2.1", 5), v6("::ffff:192.0.2.2", 5)));
}

static void test_counts(void **state)
{
    struct hola_source_table t;
    struct hola_source a = v4("10.0.0.1"), b = v6("2001:db8::1", 1);

    (void)state;
    assert_int_equal(hola_source_table_init(&t, 4), 0);
    assert_int_equal(hola_source_count(&t, &a), 0);
    hola_source_add(&t, &a);
    hola_source_add(&t, &a);
    hola_source_add(&t, &b);
    assert_int_equal(hola_source_count(&t, &a), 2);
    assert_int_equal(hola_source_count(&t, &b), 1);
    hola_source_remove(&t, &a);
    assert_int_equal(hola_source_count(&t, &a), 1);
    hola_source_remove(&t, &b);
    hola_source_remove(&t, &b); /* not held: no-op */
    assert_int_equal(hola_source_count(&t, &b), 0);
    assert_int_equal(hola_source_count(&t, &a), 1);
    hola_source_table_free(&t);
}

/* A full table (max sources, half the slots) emptied in a scrambled order: after each
 * removal every source still held is found with its count. */
static void test_remove_any_order(void **state)
{
    enum { N = 200 };
    struct hola_source s[N];
    struct hola_source_table t;

    (void)state;
    assert_int_equal(hola_source_table_init(&t, N), 0);
    for (int i = 0; i < N; i++) {
        char a[32];
        snprintf(a, sizeof a, "10.0.%d.%d", i / 7, i % 7);
        s[i] = v4(a);
        for (int k = 0; k <= i % 3; k++)
            hola_source_add(&t, &s[i]);
    }
    for (int step = 0; step < N; step++) {
        int gone = (step * 37) % N; /* 37 is prime to 200: each index once */
        for (int k = 0; k <= gone % 3; k++)
            hola_source_remove(&t, &s[gone]);
        assert_int_equal(hola_source_count(&t, &s[gone]), 0);
        for (int later = step + 1; later < N; later++) {
            int i = (later * 37) % N;
            assert_int_equal(hola_source_count(&t, &s[i]), (uint32_t)(i % 3 + 1));
        }
    }
    for (size_t i = 0; i <= t.mask; i++)
        assert_int_equal(t.slots[i].count, 0);
    hola_source_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_remove_any_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
