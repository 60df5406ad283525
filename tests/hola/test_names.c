/* test_names.c: name validation, table-driven: trimming, empty names, the 512-byte limit,
 * and every kind of ill-formed UTF-8 (RFC 3629 section 4 and Unicode table 3-7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

struct row {
    const char *what;
    const char *in;
    size_t len; /* 0: strlen(in) */
    enum hola_name_status status;
    const char *name; /* expected trimmed name when OK */
    size_t bad_at;    /* expected offending byte for BAD_UTF8 / CONTROL */
};

static const struct row rows[] = {
    { "plain", "Ana", 0, HOLA_NAME_OK, "Ana", 0 },
    { "spaces trimmed", "  Ana  ", 0, HOLA_NAME_OK, "Ana", 0 },
    { "tabs and CRLF trimmed", "\t Ana\r\n", 0, HOLA_NAME_OK, "Ana", 0 },
    { "inner spaces kept", " Julián Alcibar Zubillaga ", 0, HOLA_NAME_OK,
      "Julián Alcibar Zubillaga", 0 },
    { "two-byte chars", "Ñandú", 0, HOLA_NAME_OK, "Ñandú", 0 },
    { "three-byte char", "\xe2\x82\xac", 0, HOLA_NAME_OK, "\xe2\x82\xac", 0 },
    { "four-byte char", "\xf0\x9f\x98\x80", 0, HOLA_NAME_OK, "\xf0\x9f\x98\x80", 0 },
    { "U+10FFFF is the last", "\xf4\x8f\xbf\xbf", 0, HOLA_NAME_OK, "\xf4\x8f\xbf\xbf", 0 },
    { "U+D7FF just below surrogates", "\xed\x9f\xbf", 0, HOLA_NAME_OK, "\xed\x9f\xbf", 0 },
    { "U+E000 just above surrogates", "\xee\x80\x80", 0, HOLA_NAME_OK, "\xee\x80\x80", 0 },
    { "empty", "", 0, HOLA_NAME_EMPTY, NULL, 0 },
    { "only whitespace", " \t\r\n ", 0, HOLA_NAME_EMPTY, NULL, 0 },
    { "overlong '/' (C0 AF)", "a\xc0\xaf", 0, HOLA_NAME_BAD_UTF8, NULL, 1 },
    { "overlong C1", "\xc1\xbf", 0, HOLA_NAME_BAD_UTF8, NULL, 0 },
    { "overlong 3-byte (E0 80 AF)", "ab\xe0\x80\xaf", 0, HOLA_NAME_BAD_UTF8, NULL, 2 },
    { "overlong 4-byte (F0 80 80 AF)", "\xf0\x80\x80\xaf", 0, HOLA_NAME_BAD_UTF8, NULL, 0 },
    { "surrogate U+D800", "x\xed\xa0\x80", 0, HOLA_NAME_BAD_UTF8, NULL, 1 },
    { "surrogate U+DFFF", "\xed\xbf\xbf", 0, HOLA_NAME_BAD_UTF8, NULL, 0 },
    { "above U+10FFFF (F4 90)", "\xf4\x90\x80\x80", 0, HOLA_NAME_BAD_UTF8, NULL, 0 },
    { "F5 lead byte", "\xf5\x80\x80\x80", 0, HOLA_NAME_BAD_UTF8, NULL, 0 },
    { "FF byte", "Ana\xff", 0, HOLA_NAME_BAD_UTF8, NULL, 3 },
    { "lone continuation", "\x80x", 0, HOLA_NAME_BAD_UTF8, NULL, 0 },
    { "truncated 2-byte at end", "Ana\xc3", 0, HOLA_NAME_BAD_UTF8, NULL, 3 },
    { "truncated 3-byte at end", "Ana\xe2\x82", 0, HOLA_NAME_BAD_UTF8, NULL, 3 },
    { "truncated 4-byte at end", "\xf0\x9f\x98", 0, HOLA_NAME_BAD_UTF8, NULL, 0 },
    { "truncated then ASCII",
      "\xc3"
      "A",
      0, HOLA_NAME_BAD_UTF8, NULL, 0 },
    { "Latin-1, not UTF-8", "Ju\xe1n", 0, HOLA_NAME_BAD_UTF8, NULL, 2 },
    { "tab inside", "Ana\tMaria", 0, HOLA_NAME_CONTROL, NULL, 3 },
    { "newline inside", "Ana\nMaria", 0, HOLA_NAME_CONTROL, NULL, 3 },
    { "ESC inside", "A\x1b[31m", 0, HOLA_NAME_CONTROL, NULL, 1 },
    { "DEL inside",
      "A\x7f"
      "B",
      0, HOLA_NAME_CONTROL, NULL, 1 },
    { "NUL inside", "A\0B", 3, HOLA_NAME_CONTROL, NULL, 1 },
    /* The edges of printable ASCII, which is taken without decoding. */
    { "U+0020 and U+007E inside", "A ~B", 0, HOLA_NAME_OK, "A ~B", 0 },
    { "U+001F inside", "AB\x1f", 0, HOLA_NAME_CONTROL, NULL, 2 },
    /* C1 controls (U+0080..U+009F, C2 80..C2 9F): a terminal takes U+009B as CSI, the
     * start of an escape sequence, as it takes ESC [. */
    { "U+0080 first C1", "Ana\xc2\x80", 0, HOLA_NAME_CONTROL, NULL, 3 },
    { "U+009B CSI",
      "A\xc2\x9b"
      "31mB",
      0, HOLA_NAME_CONTROL, NULL, 1 },
    { "U+009F last C1", "\xc2\x9f", 0, HOLA_NAME_CONTROL, NULL, 0 },
    { "U+00A0 just after C1",
      "A\xc2\xa0"
      "B",
      0, HOLA_NAME_OK,
      "A\xc2\xa0"
      "B",
      0 },
    { "U+00BF inverted question mark", "\xc2\xbf", 0, HOLA_NAME_OK, "\xc2\xbf", 0 },
    /* Bidirectional embeddings, overrides and isolates (Unicode UAX #9 section 2): they
     * reorder what a terminal shows after them ("Trojan Source", CVE-2021-42574). */
    { "U+202A LRE",
      "\xe2\x80\xaa"
      "A",
      0, HOLA_NAME_CONTROL, NULL, 0 },
    { "U+202E RLO",
      "Ana\xe2\x80\xae"
      "gpj.exe",
      0, HOLA_NAME_CONTROL, NULL, 3 },
    { "U+2066 LRI", "A\xe2\x81\xa6", 0, HOLA_NAME_CONTROL, NULL, 1 },
    { "U+2069 PDI",
      "AB\xe2\x81\xa9"
      "C",
      0, HOLA_NAME_CONTROL, NULL, 2 },
    { "U+2029 just before LRE", "\xe2\x80\xa9", 0, HOLA_NAME_OK, "\xe2\x80\xa9", 0 },
    { "U+202F just after RLO", "A\xe2\x80\xaf", 0, HOLA_NAME_OK, "A\xe2\x80\xaf", 0 },
    { "U+2065 just before LRI", "\xe2\x81\xa5", 0, HOLA_NAME_OK, "\xe2\x81\xa5", 0 },
    { "U+206A just after PDI", "\xe2\x81\xaa", 0, HOLA_NAME_OK, "\xe2\x81\xaa", 0 },
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        size_t len = r->len ? r->len : strlen(r->in);
        struct hola_name_check c = hola_names_check(r->in, len);

        print_message("  %s\n", r->what);
        assert_int_equal(c.status, r->status);
        if (r->status == HOLA_NAME_OK) {
            assert_int_equal(c.len, strlen(r->name));
            assert_memory_equal(r->in + c.start, r->name, c.len);
        } else if (r->status != HOLA_NAME_EMPTY) {
            assert_int_equal(c.bad_at, r->bad_at);
        }
    }
}

/* 512 bytes pass, 513 do not; whitespace around does not count; multi-byte characters are
 * counted in bytes, not characters. */
static void test_length_limit(void **state)
{
    char buf[HOLA_NAME_MAX + 16];
    (void)state;

    memset(buf, 'a', sizeof buf);
    assert_int_equal(hola_names_check(buf, 512).status, HOLA_NAME_OK);
    assert_int_equal(hola_names_check(buf, 513).status, HOLA_NAME_TOO_LONG);

    buf[0] = ' ';
    buf[513] = '\n';
    struct hola_name_check c = hola_names_check(buf, 514);
    assert_int_equal(c.status, HOLA_NAME_OK);
    assert_int_equal(c.start, 1);
    assert_int_equal(c.len, 512);

    /* 256 x "ñ" is 512 bytes; one more character is 514. */
    for (size_t i = 0; i < 257; i++)
        memcpy(buf + 2 * i, "\xc3\xb1", 2);
    assert_int_equal(hola_names_check(buf, 512).status, HOLA_NAME_OK);
    c = hola_names_check(buf, 514);
    assert_int_equal(c.status, HOLA_NAME_TOO_LONG);
    assert_int_equal(c.len, 514);
}

static void test_utf8_prefix(void **state)
{
    (void)state;
    assert_int_equal(hola_names_utf8_prefix("", 0), 0);
    assert_int_equal(hola_names_utf8_prefix("abc", 3), 3);
    assert_int_equal(hola_names_utf8_prefix("\xc3\xb1"
                                            "a\xff",
                                            4),
                     3);
}

/* Previews are printable, quoted, escaped, and mark shortening with "...". */
static void test_preview(void **state)
{
    char out[200];
    char long_name[600];
    (void)state;

    hola_names_preview("Ñandú", strlen("Ñandú"), out, sizeof out);
    assert_string_equal(out, "\"Ñandú\"");
    hola_names_preview("a\"b\\c\xff\t", 7, out, sizeof out);
    assert_string_equal(out, "\"a\\\"b\\\\c\\xFF\\x09\"");
    memset(long_name, 'x', sizeof long_name);
    hola_names_preview(long_name, sizeof long_name, out, sizeof out);
    assert_int_equal(strlen(out), 1 + 40 + 3 + 1);
    assert_string_equal(out + 41, "...\"");
    /* C1 controls and bidi overrides are escaped by code point, never shown raw. */
    hola_names_preview("A\xc2\x9b"
                       "B\xe2\x80\xae"
                       "C\xe2\x81\xa6",
                       11, out, sizeof out);
    assert_string_equal(out, "\"A\\u009BB\\u202EC\\u2066\"");
    /* A tiny buffer still ends in NUL and never overflows. */
    hola_names_preview(long_name, sizeof long_name, out, 8);
    assert_true(strlen(out) < 8);
}

static void test_describe(void **state)
{
    char out[300];
    char big[700];
    (void)state;

    struct hola_name_check c = hola_names_check(" Ana\xff ", 6);
    hola_names_describe(" Ana\xff ", &c, out, sizeof out);
    assert_string_equal(out, "\"Ana\\xFF\": not valid UTF-8 (byte 4)");

    /* Forty right-to-left overrides: each is shown as \u202E, nothing cut mid-escape. */
    for (size_t i = 0; i < 40; i++)
        memcpy(big + 3 * i, "\xe2\x80\xae", 3);
    c = hola_names_check(big, 120);
    hola_names_describe(big, &c, out, sizeof out);
    assert_int_equal(c.status, HOLA_NAME_CONTROL);
    assert_int_equal(strncmp(out, "\"\\u202E\\u202E", 13), 0);
    assert_non_null(strstr(out, "\\u202E\": contains a control character (byte 1)"));
    assert_null(strstr(out, "\xe2"));

    memset(big, 'b', sizeof big);
    c = hola_names_check(big, 600);
    hola_names_describe(big, &c, out, sizeof out);
    assert_non_null(strstr(out, "too long (600 bytes, at most 512)"));
}

static void test_list(void **state)
{
    struct hola_names list = { 0 };
    struct hola_err e;
    char name[8];
    (void)state;

    for (int i = 0; i < 20; i++) {
        int n = snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(hola_names_add(&list, name, (size_t)n, &e), 0);
    }
    assert_int_equal(list.n, 20);
    assert_string_equal(list.v[19], "n19");
    assert_int_equal(list.len[10], 3);
    hola_names_free(&list);
    assert_int_equal(list.n, 0);
}

/* The texts are packed into blocks that never move: names filling several blocks, and
 * one longer than a block, all read back whole, the first ones too. */
static void test_list_blocks(void **state)
{
    struct hola_names list = { 0 };
    struct hola_err e;
    static char huge[20000];
    char name[32];
    (void)state;

    memset(huge, 'h', sizeof huge);
    for (int i = 0; i < 3000; i++) {
        if (i == 1500)
            assert_int_equal(hola_names_add(&list, huge, sizeof huge, &e), 0);
        int n = snprintf(name, sizeof name, "Nombre Apellido %d", i);
        assert_int_equal(hola_names_add(&list, name, (size_t)n, &e), 0);
    }
    assert_int_equal(list.n, 3001);
    assert_string_equal(list.v[0], "Nombre Apellido 0");
    assert_string_equal(list.v[1499], "Nombre Apellido 1499");
    assert_int_equal(list.len[1500], sizeof huge);
    assert_int_equal(strspn(list.v[1500], "h"), sizeof huge);
    assert_int_equal(list.v[1500][sizeof huge], '\0');
    assert_string_equal(list.v[1501], "Nombre Apellido 1500");
    assert_string_equal(list.v[3000], "Nombre Apellido 2999");
    hola_names_free(&list);
    assert_null(list.blocks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),       cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_utf8_prefix), cmocka_unit_test(test_preview),
        cmocka_unit_test(test_describe),    cmocka_unit_test(test_list),
        cmocka_unit_test(test_list_blocks),
    };
    return cmocka_run_group_tests_name("hola names", tests, NULL, NULL);
}
