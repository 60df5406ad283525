/* test_replies.c: the client's reply book matches each reply to the first sent,
 * unanswered name with its text: with repeated names, replies out of order, replies
 * twice, replies to names not sent, and against a plain scan of the list on random runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "names.h"
#include "replies.h"

static void add(struct hola_names *names, const char *s)
{
    struct hola_err e;
    assert_int_equal(hola_names_add(names, s, strlen(s), &e), 0);
}

static long match(struct hola_replies *r, const char *reply)
{
    return hola_replies_match(r, reply, strlen(reply), 1000);
}

/* Equal names are answered in the order they were sent; a reply to a name nobody is
 * waiting for counts as a duplicate only when that name was answered before. */
static void test_repeated_names(void **state)
{
    struct hola_names names = { 0 };
    struct hola_replies r;
    struct hola_err e;
    (void)state;

    add(&names, "Ana");  /* 0 */
    add(&names, "Luis"); /* 1 */
    add(&names, "Ana");  /* 2 */
    add(&names, "Ana");  /* 3 */
    add(&names, "Eva");  /* 4 */
    assert_int_equal(hola_replies_init(&r, &names, &e), 0);
    for (size_t i = 0; i < 4; i++)
        hola_replies_sent(&r, i, 100 + i);

    assert_int_equal(match(&r, "Hola Ana"), 0);
    assert_int_equal(match(&r, "Hola Eva"), -1); /* not sent yet: no match, no dup */
    assert_int_equal(match(&r, "Hola Ana"), 2);
    assert_int_equal(match(&r, "Hola Luis"), 1); /* after name 2's reply: out of order */
    assert_int_equal(match(&r, "Hola Ana"), 3);
    assert_int_equal(match(&r, "Hola Ana"), -1); /* a fourth "Ana": a duplicate */
    assert_int_equal(match(&r, "Hola Luis"), -1);
    assert_int_equal(match(&r, "Hola Nadie"), -1); /* no such name: not a duplicate */
    assert_int_equal(match(&r, "Hola "), -1);
    assert_int_equal(match(&r, "Adios Eva"), -1);
    assert_int_equal(match(&r, "Hola Ana "), -1);
    assert_int_equal(r.dup, 2);
    assert_int_equal(r.out_of_order, 1);

    hola_replies_sent(&r, 4, 200);
    assert_int_equal(match(&r, "Hola Eva"), 4);
    for (size_t i = 0; i < names.n; i++)
        assert_true(hola_replies_is_answered(&r, i));
    assert_int_equal(r.n_lat, 5);
    hola_replies_free(&r);
    hola_names_free(&names);
}

/* The book as it was first written: scan the whole list for the first sent, unanswered
 * name the reply greets, else for an answered one (a duplicate). Obviously right, and
 * quadratic: the reference the hashed book must agree with. */
struct scan_book {
    const struct hola_names *names;
    bool sent[64], answered[64];
    size_t highest;
    unsigned long long dup, out_of_order;
};

static bool greets(const struct hola_names *names, size_t i, const char *reply, size_t len)
{
    return len == names->len[i] + 5 && memcmp(reply, "Hola ", 5) == 0 &&
           memcmp(reply + 5, names->v[i], names->len[i]) == 0;
}

static long scan_match(struct scan_book *b, const char *reply, size_t len)
{
    for (size_t i = 0; i < b->names->n; i++) {
        if (b->sent[i] && !b->answered[i] && greets(b->names, i, reply, len)) {
            b->answered[i] = true;
            if (i + 1 < b->highest)
                b->out_of_order++;
            else
                b->highest = i + 1;
            return (long)i;
        }
    }
    for (size_t i = 0; i < b->names->n; i++) {
        if (b->answered[i] && greets(b->names, i, reply, len)) {
            b->dup++;
            break;
        }
    }
    return -1;
}

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u; /* a fixed LCG: the same runs every time */
    return *x >> 8;
}

/* 500 random runs: up to 64 names drawn from 6 texts (so many repeat), sent in order
 * or, in a third of the runs, in a shuffled order, and 200 replies each that are lost,
 * duplicated, reordered or greet a name never sent. Every match, dup and out_of_order
 * count agrees with the scan. */
static void test_random_against_scan(void **state)
{
    static const char *const pool[] = { "Ana", "Luis", "Eva", "Ñandú", "Ana María", "Zoe" };
    uint32_t x = 20240601u;
    (void)state;

    for (int run = 0; run < 500; run++) {
        struct hola_names names = { 0 };
        struct hola_replies r;
        struct hola_err e;
        struct scan_book b = { 0 };
        size_t n = 1 + lcg(&x) % 64, order[64];
        for (size_t i = 0; i < n; i++) {
            add(&names, pool[lcg(&x) % 6]);
            order[i] = i;
        }
        if (run % 3 == 0) {
            for (size_t i = n - 1; i > 0; i--) {
                size_t j = lcg(&x) % (i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        assert_int_equal(hola_replies_init(&r, &names, &e), 0);
        b.names = &names;
        size_t sent = 0;
        for (int step = 0; step < 200; step++) {
            if (sent < n && lcg(&x) % 3 == 0) {
                hola_replies_sent(&r, order[sent], 1 + (uint64_t)step);
                b.sent[order[sent++]] = true;
                continue;
            }
            char reply[64];
            if (lcg(&x) % 10 == 0)
                snprintf(reply, sizeof reply, "Hola Nadie");
            else
                snprintf(reply, sizeof reply, "Hola %s", pool[lcg(&x) % 6]);
            long want = scan_match(&b, reply, strlen(reply));
            long got = hola_replies_match(&r, reply, strlen(reply), 1000 + (uint64_t)step);
            if (got != want)
                print_error("run %d step %d %s: got %ld want %ld\n", run, step, reply, got, want);
            assert_int_equal(got, want);
        }
        assert_int_equal(r.dup, b.dup);
        assert_int_equal(r.out_of_order, b.out_of_order);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(hola_replies_is_answered(&r, i), b.answered[i]);
        hola_replies_free(&r);
        hola_names_free(&names);
    }
}

/* An ordered transport's replies each greet the first unanswered name: they are matched
 * by comparing texts, and the names are never grouped (the hash table's pages stay
 * untouched). The first reply that is not the expected one groups them, with the
 * counts of what came before: here a duplicate, then more replies in order. */
static void test_in_order_replies_need_no_groups(void **state)
{
    (void)state;
    struct hola_names names = { 0 };
    struct hola_replies r;
    struct hola_err e;
    char text[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(text, sizeof text, "Nombre %d", i % 300); /* repeats too */
        add(&names, text);
    }
    assert_int_equal(hola_replies_init(&r, &names, &e), 0);
    for (size_t i = 0; i < 1000; i++)
        hola_replies_sent(&r, i, 1 + i);
    for (long i = 0; i < 600; i++) {
        snprintf(text, sizeof text, "Hola Nombre %ld", i % 300);
        assert_int_equal(match(&r, text), i);
    }
    assert_false(r.grouped);
    /* Name 599 is "Nombre 299" and answered; names 899 and 999 share its text and are
     * not: the group's first unanswered one takes it, out of order. */
    assert_int_equal(match(&r, "Hola Nombre 299"), 899);
    assert_true(r.grouped);
    assert_int_equal(r.out_of_order, 0);
    assert_int_equal(match(&r, "Hola Nombre 0"), 600);
    assert_int_equal(r.out_of_order, 1); /* after 899's */
    assert_int_equal(match(&r, "Nadie"), -1);
    assert_int_equal(r.dup, 0);
    assert_int_equal(r.n_lat, 602);
    hola_replies_free(&r);
    hola_names_free(&names);
}

/* No names at all: every reply is unmatched, nothing is counted. */
static void test_no_names(void **state)
{
    struct hola_names names = { 0 };
    struct hola_replies r;
    struct hola_err e;
    (void)state;

    assert_int_equal(hola_replies_init(&r, &names, &e), 0);
    assert_int_equal(match(&r, "Hola Ana"), -1);
    assert_int_equal(r.dup, 0);
    hola_replies_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeated_names),
        cmocka_unit_test(test_random_against_scan),
        cmocka_unit_test(test_in_order_replies_need_no_groups),
        cmocka_unit_test(test_no_names),
    };
    return cmocka_run_group_tests_name("hola replies", tests, NULL, NULL);
}
