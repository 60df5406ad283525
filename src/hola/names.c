/* names.c: name validation (trim, empty, length, UTF-8, control characters), previews for
 * error messages, and the list the client collects names into. */
#include "names.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

static bool is_space(unsigned char c)
{
    /* ASCII only: locale-dependent isspace() would make the rule differ between machines. */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Length of the well-formed UTF-8 character at p[0..avail), or 0 when there is none. */
static size_t utf8_char(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    /* The table of RFC 3629 section 4: the second byte's range is what rules out
     * overlong forms (E0, F0), surrogates (ED) and code points past U+10FFFF (F4). */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c == 0xE0) {
        need = 2;
        lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        need = 2;
    } else if (c == 0xED) {
        need = 2;
        hi = 0x9F;
    } else if (c == 0xF0) {
        need = 3;
        lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
        need = 3;
    } else if (c == 0xF4) {
        need = 3;
        hi = 0x8F;
    } else {
        return 0; /* 80..C1 (continuation or overlong lead) and F5..FF never start one */
    }
    if (avail <= need)
        return 0; /* truncated sequence */
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (p[k] < 0x80 || p[k] > 0xBF)
            return 0;
    return need + 1;
}

/* The code point of the well-formed character p[0..n) (n from utf8_char()). */
static uint32_t code_point(const unsigned char *p, size_t n)
{
    static const unsigned char lead_bits[] = { 0x7F, 0x1F, 0x0F, 0x07 };
    uint32_t cp = p[0] & lead_bits[n - 1];

    for (size_t k = 1; k < n; k++)
        cp = (cp << 6) | (p[k] & 0x3Fu);
    return cp;
}

/* Characters a name may not hold, because a terminal acts on them instead of showing
 * them. C0 and DEL (a tab or newline would also break the one-name-per-line framing);
 * C1, where U+009B is CSI, an escape sequence's start as ESC [ is; and the bidirectional
 * embeddings, overrides and isolates (Unicode UAX #9 section 2.1-2.4), which reorder
 * what is shown after them, so a log line could read other than it is. */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

size_t hola_names_utf8_prefix(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t n = utf8_char(p + i, len - i);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

/* Printable ASCII (U+0020..U+007E), what most names are, is well-formed UTF-8 without
 * a control character: one comparison per byte instead of decoding each character. */
static bool printable_ascii(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7E)
            return false;
    return true;
}

struct hola_name_check hola_names_check(const char *s, size_t len)
{
    struct hola_name_check c = { HOLA_NAME_OK, 0, len, 0 };

    while (c.start < len && is_space((unsigned char)s[c.start]))
        c.start++;
    while (c.len > c.start && is_space((unsigned char)s[c.len - 1]))
        c.len--;
    c.len -= c.start;

    if (c.len == 0) {
        c.status = HOLA_NAME_EMPTY;
        return c;
    }
    if (c.len > HOLA_NAME_MAX) {
        c.status = HOLA_NAME_TOO_LONG;
        c.bad_at = HOLA_NAME_MAX;
        return c;
    }
    if (printable_ascii((const unsigned char *)s + c.start, c.len))
        return c;
    size_t ok = hola_names_utf8_prefix(s + c.start, c.len);
    if (ok != c.len) {
        c.status = HOLA_NAME_BAD_UTF8;
        c.bad_at = ok;
        return c;
    }
    const unsigned char *p = (const unsigned char *)s + c.start;
    for (size_t i = 0, n; i < c.len; i += n) {
        n = utf8_char(p + i, c.len - i); /* never 0: the whole name is well-formed */
        if (is_control(code_point(p + i, n))) {
            c.status = HOLA_NAME_CONTROL;
            c.bad_at = i;
            return c;
        }
    }
    return c;
}

const char *hola_names_strerror(enum hola_name_status st)
{
    switch (st) {
    case HOLA_NAME_OK:
        return _("valid");
    case HOLA_NAME_EMPTY:
        return _("empty");
    case HOLA_NAME_TOO_LONG:
        return _("too long");
    case HOLA_NAME_BAD_UTF8:
        return _("not valid UTF-8");
    case HOLA_NAME_CONTROL:
        return _("contains a control character");
    }
    return _("invalid");
}

/* Shown characters of a preview; longer names end in "..." (their length is reported). */
#define PREVIEW_MAX 40
/* Room kept free for the closing `..."` and the NUL. */
#define PREVIEW_TAIL 5

/* Appends n bytes to out when they fit with the tail still free; false otherwise. */
static bool put(char *out, size_t cap, size_t *pos, const char *str, size_t n)
{
    if (*pos + n + PREVIEW_TAIL > cap)
        return false;
    memcpy(out + *pos, str, n);
    *pos += n;
    return true;
}

void hola_names_preview(const char *s, size_t len, char *out, size_t cap)
{
    size_t pos = 0, shown = 0, i = 0;

    if (cap < PREVIEW_TAIL + 1) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    out[pos++] = '"';
    while (i < len && shown < PREVIEW_MAX) {
        char esc[12];
        const char *piece = s + i;
        const unsigned char *u = (const unsigned char *)piece;
        size_t n = 1;
        unsigned char b = u[0];

        if (b == '"' || b == '\\') {
            esc[0] = '\\';
            esc[1] = (char)b;
            piece = esc;
            if (!put(out, cap, &pos, piece, 2))
                break;
        } else if ((n = utf8_char(u, len - i)) > 1 && is_control(code_point(u, n))) {
            /* C1 or a bidi control: by code point, as a reader would look it up */
            snprintf(esc, sizeof esc, "\\u%04X", (unsigned)code_point(u, n));
            if (!put(out, cap, &pos, esc, 6))
                break;
        } else if (n > 0 && !(n == 1 && is_control(b))) {
            /* one whole character: ASCII, or a well-formed multi-byte sequence */
            if (!put(out, cap, &pos, piece, n))
                break;
        } else {
            n = 1;
            snprintf(esc, sizeof esc, "\\x%02X", b);
            if (!put(out, cap, &pos, esc, 4))
                break;
        }
        i += n;
        shown++;
    }
    if (i < len) {
        memcpy(out + pos, "...", 3);
        pos += 3;
    }
    out[pos++] = '"';
    out[pos] = '\0';
}

void hola_names_describe(const char *s, const struct hola_name_check *c, char *out, size_t cap)
{
    char preview[6 * PREVIEW_MAX + 8]; /* each shown character at most "\u202E" */
    const char *name = s + c->start;

    hola_names_preview(name, c->len, preview, sizeof preview);
    switch (c->status) {
    case HOLA_NAME_TOO_LONG:
        snprintf(out, cap, _("%s: too long (%zu bytes, at most %d)"), preview, c->len,
                 HOLA_NAME_MAX);
        break;
    case HOLA_NAME_BAD_UTF8:
    case HOLA_NAME_CONTROL:
        snprintf(out, cap, _("%s: %s (byte %zu)"), preview, hola_names_strerror(c->status),
                 c->bad_at + 1);
        break;
    case HOLA_NAME_OK:
    case HOLA_NAME_EMPTY:
        snprintf(out, cap, "%s: %s", preview, hola_names_strerror(c->status));
        break;
    }
}

/* Names are copied into blocks of NAMES_BLOCK bytes, a longer one into a block of its
 * own: one allocation per block rather than per name, and no allocator overhead
 * between names (2000 names once took 2000 mallocs, 2000 frees and twice the pages). */
#define NAMES_BLOCK 16384u

struct hola_names_block {
    struct hola_names_block *next;
    size_t used, cap;
    char data[];
};

int hola_names_add(struct hola_names *list, const char *name, size_t len, struct hola_err *e)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        char **v = realloc(list->v, cap * sizeof *v);
        if (v == NULL)
            return hola_err_set(e, _("out of memory"));
        list->v = v;
        size_t *l = realloc(list->len, cap * sizeof *l);
        if (l == NULL)
            return hola_err_set(e, _("out of memory"));
        list->len = l;
        list->cap = cap;
    }
    struct hola_names_block *b = list->blocks;
    if (b == NULL || b->cap - b->used <= len) {
        size_t cap = len < NAMES_BLOCK ? NAMES_BLOCK : len + 1;
        b = malloc(sizeof *b + cap);
        if (b == NULL)
            return hola_err_set(e, _("out of memory"));
        b->next = list->blocks;
        b->used = 0;
        b->cap = cap;
        list->blocks = b;
    }
    char *copy = b->data + b->used;
    b->used += len + 1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    list->v[list->n] = copy;
    list->len[list->n] = len;
    list->n++;
    return 0;
}

void hola_names_free(struct hola_names *list)
{
    while (list->blocks != NULL) {
        struct hola_names_block *next = list->blocks->next;
        free(list->blocks);
        list->blocks = next;
    }
    free(list->v);
    free(list->len);
    list->v = NULL;
    list->len = NULL;
    list->n = list->cap = 0;
}
