/* test_linebuf.c: TCP line framing: lines split across reads, several per read, CRLF, the
 * unterminated last line, and the over-long line at and around the limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "linebuf.h"

static int setup(void **state)
{
    struct hola_linebuf *lb = malloc(sizeof *lb);
    if (lb == NULL || hola_linebuf_init(lb, 16) != 0)
        return -1;
    *state = lb;
    return 0;
}

static int teardown(void **state)
{
    hola_linebuf_free(*state);
    free(*state);
    return 0;
}

static void push_all(struct hola_linebuf *lb, const char *s)
{
    size_t n = strlen(s);
    assert_int_equal(hola_linebuf_push(lb, s, n), n);
}

static void expect_line(struct hola_linebuf *lb, const char *want)
{
    const char *line;
    size_t len;
    assert_int_equal(hola_linebuf_next(lb, &line, &len), 1);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(line, want, len);
}

static void expect_none(struct hola_linebuf *lb)
{
    const char *line;
    size_t len;
    assert_int_equal(hola_linebuf_next(lb, &line, &len), 0);
}

static void test_several_per_read(void **state)
{
    struct hola_linebuf *lb = *state;

    push_all(lb, "Ana\nBeto\nCarla\n");
    expect_line(lb, "Ana");
    expect_line(lb, "Beto");
    expect_line(lb, "Carla");
    expect_none(lb);
}

static void test_split_across_reads(void **state)
{
    struct hola_linebuf *lb = *state;

    push_all(lb, "An");
    expect_none(lb);
    push_all(lb, "a\nBe");
    expect_line(lb, "Ana");
    expect_none(lb);
    push_all(lb, "to");
    expect_none(lb);
    push_all(lb, "\n");
    expect_line(lb, "Beto");
    expect_none(lb);
}

/* One byte per read, the worst case for a reader, with a two-byte UTF-8 character split. */
static void test_byte_by_byte(void **state)
{
    struct hola_linebuf *lb = *state;
    const char *s = "\xc3\x91"
                    "and\xc3\xba\r\nX\n";

    for (size_t i = 0; s[i] != '\0'; i++) {
        assert_int_equal(hola_linebuf_push(lb, s + i, 1), 1);
        if (s[i] == '\n' && i < 10)
            expect_line(lb, "Ñandú");
        else if (s[i] == '\n')
            expect_line(lb, "X");
        else
            expect_none(lb);
    }
}

static void test_crlf(void **state)
{
    struct hola_linebuf *lb = *state;

    push_all(lb, "Ana\r\nBeto\r");
    expect_line(lb, "Ana");
    expect_none(lb);
    push_all(lb, "\n\r\n");
    expect_line(lb, "Beto");
    expect_line(lb, "");
    /* A lone '\r' inside a line is content, not a terminator. */
    push_all(lb, "a\rb\n");
    expect_line(lb, "a\rb");
}

static void test_empty_lines(void **state)
{
    struct hola_linebuf *lb = *state;

    push_all(lb, "\n\nA\n");
    expect_line(lb, "");
    expect_line(lb, "");
    expect_line(lb, "A");
}

static void test_finish(void **state)
{
    struct hola_linebuf *lb = *state;
    const char *line;
    size_t len;

    push_all(lb, "Ana\nBeto");
    assert_int_equal(hola_linebuf_finish(lb, &line, &len), 1);
    assert_int_equal(len, 3);
    assert_int_equal(hola_linebuf_finish(lb, &line, &len), 1);
    assert_int_equal(len, 4);
    assert_memory_equal(line, "Beto", 4);
    assert_int_equal(hola_linebuf_finish(lb, &line, &len), 0);
}

/* max_line is 16: 16 bytes pass (with "\n" or "\r\n"), 17 do not, whether the newline has
 * arrived or not; the state then sticks. */
static void test_limit(void **state)
{
    struct hola_linebuf *lb = *state;
    const char *line;
    size_t len;

    push_all(lb, "0123456789abcdef\n");
    expect_line(lb, "0123456789abcdef");
    push_all(lb, "0123456789abcdef\r");
    expect_none(lb); /* 16 + '\r': still waiting for '\n' */
    push_all(lb, "\n");
    expect_line(lb, "0123456789abcdef");

    push_all(lb, "0123456789abcdefg");
    assert_int_equal(hola_linebuf_next(lb, &line, &len), HOLA_LINEBUF_TOO_LONG);
    assert_int_equal(hola_linebuf_next(lb, &line, &len), HOLA_LINEBUF_TOO_LONG);
    assert_int_equal(hola_linebuf_push(lb, "x\n", 2), 0);
    assert_int_equal(hola_linebuf_finish(lb, &line, &len), HOLA_LINEBUF_TOO_LONG);
}

static void test_too_long_with_newline(void **state)
{
    struct hola_linebuf *lb = *state;
    const char *line;
    size_t len;

    /* 17 bytes, then "\r\n": all fit in the buffer (18), the line still is too long. */
    assert_int_equal(hola_linebuf_push(lb, "0123456789abcdefg\n", 18), 18);
    assert_int_equal(hola_linebuf_next(lb, &line, &len), HOLA_LINEBUF_TOO_LONG);
}

/* A full buffer with no newline: reading more is pointless, so space says 0 bytes. */
static void test_full_buffer(void **state)
{
    struct hola_linebuf *lb = *state;
    const char *line;
    size_t len, avail;
    char big[64];

    memset(big, 'z', sizeof big);
    assert_int_equal(hola_linebuf_push(lb, big, sizeof big), 18);
    assert_int_equal(hola_linebuf_next(lb, &line, &len), HOLA_LINEBUF_TOO_LONG);
    hola_linebuf_space(lb, &avail);
    assert_int_equal(avail, 0);
}

/* Reading through space/commit after lines were taken compacts the buffer. */
static void test_space_commit(void **state)
{
    struct hola_linebuf *lb = *state;
    size_t avail;

    push_all(lb, "0123456789\nabc");
    expect_line(lb, "0123456789");
    char *p = hola_linebuf_space(lb, &avail);
    assert_int_equal(avail, 18 - 3);
    memcpy(p, "defghijklmnop\n", 14);
    hola_linebuf_commit(lb, 14);
    expect_line(lb, "abcdefghijklmnop");
}

static void test_real_limit(void **state)
{
    struct hola_linebuf lb;
    char line[HOLA_LINE_MAX + 2];
    (void)state;

    assert_int_equal(hola_linebuf_init(&lb, HOLA_LINE_MAX), 0);
    memset(line, 'n', sizeof line);
    line[HOLA_LINE_MAX] = '\n';
    assert_int_equal(hola_linebuf_push(&lb, line, HOLA_LINE_MAX + 1), HOLA_LINE_MAX + 1);
    const char *l;
    size_t len;
    assert_int_equal(hola_linebuf_next(&lb, &l, &len), 1);
    assert_int_equal(len, HOLA_LINE_MAX);
    hola_linebuf_free(&lb);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_several_per_read),
        T(test_split_across_reads),
        T(test_byte_by_byte),
        T(test_crlf),
        T(test_empty_lines),
        T(test_finish),
        T(test_limit),
        T(test_too_long_with_newline),
        T(test_full_buffer),
        T(test_space_commit),
        cmocka_unit_test(test_real_limit),
    };
    return cmocka_run_group_tests_name("hola linebuf", tests, NULL, NULL);
}
