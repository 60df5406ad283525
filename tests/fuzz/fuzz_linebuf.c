/* Fuzz target: the TCP line framing (src/hola/linebuf.c). Input: the line limit (1
 * byte), a chunking seed (1 byte), then the byte stream. The stream is fed four ways:
 * as much as fits at once, one byte at a time, in seeded random pieces through
 * hola_linebuf_push(), and the same through hola_linebuf_space()/commit() as a read()
 * would. Each must hand back exactly the lines of a one-pass reference framing: split
 * at '\n', one trailing '\r' removed, the unterminated tail last; the first line over
 * the limit is reported as HOLA_LINEBUF_TOO_LONG (and stays reported), never cut. */
#include <string.h>

#include "fuzz.h"
#include "linebuf.h"

#define MAX_LINES 65536 /* inputs are capped below this */

struct lines {
    size_t count;
    size_t off[MAX_LINES], len[MAX_LINES]; /* into the framer's own copy below */
    uint8_t *text;
    size_t used;
    int too_long; /* ended with TOO_LONG after `count` lines */
};

static void add_line(struct lines *l, const char *p, size_t n)
{
    FUZZ_CHECK(l->count < MAX_LINES, "more lines than the stream could hold");
    memcpy(l->text + l->used, p, n);
    l->off[l->count] = l->used;
    l->len[l->count] = n;
    l->used += n;
    l->count++;
}

/* The specification, in one pass over the whole stream. */
static void reference(const uint8_t *s, size_t n, size_t max_line, struct lines *out)
{
    size_t start = 0;
    while (start < n) {
        const uint8_t *nl = memchr(s + start, '\n', n - start);
        size_t raw = nl ? (size_t)(nl - (s + start)) : n - start;
        size_t len = raw > 0 && s[start + raw - 1] == '\r' ? raw - 1 : raw;
        if (len > max_line) {
            out->too_long = 1;
            return;
        }
        add_line(out, (const char *)s + start, len);
        start += raw + (nl ? 1 : 0);
    }
}

static uint32_t next_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Drains every whole line; returns 1 once TOO_LONG was reported. */
static int drain(struct hola_linebuf *lb, struct lines *got, int at_end)
{
    for (;;) {
        const char *line = NULL;
        size_t len = 0;
        int r = at_end ? hola_linebuf_finish(lb, &line, &len) : hola_linebuf_next(lb, &line, &len);
        if (r == 0)
            return 0;
        if (r == HOLA_LINEBUF_TOO_LONG) {
            got->too_long = 1;
            /* Sticky: asking again changes nothing. */
            FUZZ_CHECK(hola_linebuf_next(lb, &line, &len) == HOLA_LINEBUF_TOO_LONG,
                       "TOO_LONG was not sticky");
            size_t avail = 1;
            hola_linebuf_space(lb, &avail);
            FUZZ_CHECK(avail == 0, "a buffer past TOO_LONG still offers %zu bytes", avail);
            return 1;
        }
        FUZZ_CHECK(r == 1, "next/finish returned %d", r);
        FUZZ_CHECK(len <= lb->max_line, "a line of %zu bytes over the limit %zu", len,
                   lb->max_line);
        FUZZ_CHECK(memchr(line, '\n', len) == NULL, "a line contains a newline");
        add_line(got, line, len);
    }
}

enum { WHOLE, BYTES, PIECES, READS };

static void frame(const uint8_t *s, size_t n, size_t max_line, int how, uint32_t seed,
                  struct lines *got)
{
    struct hola_linebuf lb;
    FUZZ_CHECK(hola_linebuf_init(&lb, max_line) == 0, "out of memory");
    size_t off = 0;
    uint32_t x = seed * 2654435761u + 1;
    int stuck = 0;
    while (off < n && !got->too_long) {
        size_t want = n - off;
        if (how == BYTES)
            want = 1;
        else if (how == PIECES || how == READS)
            want = 1 + next_rand(&x) % (max_line * 2 + 3);
        if (want > n - off)
            want = n - off;
        size_t took;
        if (how == READS) {
            size_t avail = 0;
            char *dst = hola_linebuf_space(&lb, &avail);
            took = want < avail ? want : avail;
            memcpy(dst, s + off, took);
            hola_linebuf_commit(&lb, took);
        } else {
            took = hola_linebuf_push(&lb, (const char *)s + off, want);
        }
        FUZZ_CHECK(took <= want, "took %zu of %zu", took, want);
        off += took;
        size_t before = got->count;
        if (drain(&lb, got, 0))
            break;
        /* A full buffer must yield a line or TOO_LONG: never take nothing forever. */
        if (took == 0 && got->count == before)
            FUZZ_CHECK(++stuck < 2, "the buffer takes no bytes and yields no line");
        else
            stuck = 0;
    }
    if (!got->too_long)
        drain(&lb, got, 1);
    /* After finish, nothing is left. */
    const char *line;
    size_t len;
    if (!got->too_long)
        FUZZ_CHECK(hola_linebuf_finish(&lb, &line, &len) == 0, "finish yields more after 0");
    hola_linebuf_free(&lb);
}

static void same(const struct lines *a, const struct lines *b, const char *how)
{
    FUZZ_CHECK(a->count == b->count, "%s: %zu lines, reference %zu", how, a->count, b->count);
    FUZZ_CHECK(a->too_long == b->too_long, "%s: too_long %d, reference %d", how, a->too_long,
               b->too_long);
    for (size_t i = 0; i < a->count; i++) {
        FUZZ_CHECK(a->len[i] == b->len[i] &&
                       memcmp(a->text + a->off[i], b->text + b->off[i], a->len[i]) == 0,
                   "%s: line %zu differs", how, i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in_t in = { data, size, 0 };
    uint8_t lim = fuzz_u8(&in);
    /* Small limits reach the edges quickly; 0xFF is the server's real one. */
    size_t max_line = lim == 0xFF ? HOLA_LINE_MAX : (size_t)(lim % 40);
    uint8_t seed = fuzz_u8(&in);
    const uint8_t *s;
    size_t n = fuzz_bytes(&in, &s, size);

    static struct lines ref, got;
    static uint8_t ref_text[MAX_LINES], got_text[MAX_LINES];
    if (n >= MAX_LINES)
        return 0;
    ref.count = ref.used = 0; /* only the counters: the arrays are large */
    ref.too_long = 0;
    ref.text = ref_text;
    reference(s, n, max_line, &ref);

    static const char *const names[] = { "whole", "bytes", "pieces", "reads" };
    for (int how = WHOLE; how <= READS; how++) {
        got.count = got.used = 0;
        got.too_long = 0;
        got.text = got_text;
        frame(s, n, max_line, how, seed, &got);
        same(&got, &ref, names[how]);
    }
    return 0;
}
