/* names.h: what counts as a name. The client checks every name before it sends anything,
 * and the server checks every line or datagram it receives, with the same rules. */
#ifndef HOLA_NAMES_H
#define HOLA_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Longest name in bytes, after trimming. The practice's buffers were this size. */
#define HOLA_NAME_MAX 512

enum hola_name_status {
    HOLA_NAME_OK = 0,
    HOLA_NAME_EMPTY,    /* only whitespace: skipped, never an error */
    HOLA_NAME_TOO_LONG, /* more than HOLA_NAME_MAX bytes after trimming */
    HOLA_NAME_BAD_UTF8, /* not well-formed UTF-8 (RFC 3629) */
    HOLA_NAME_CONTROL,  /* a control character inside the name: C0 (tab, NUL, ESC...), DEL,
                         * C1 (U+0080..U+009F), bidi U+202A..U+202E, U+2066..U+2069 */
};

/* The outcome of a check: where the trimmed name sits inside the input, and for an
 * invalid one, the offset (in the trimmed name) of the first offending byte. */
struct hola_name_check {
    enum hola_name_status status;
    size_t start;
    size_t len;
    size_t bad_at;
};

/* Trims ASCII whitespace around s[0..len) and validates what is left. Never fails. */
struct hola_name_check hola_names_check(const char *s, size_t len);

/* Short English description of a status, e.g. "not valid UTF-8". */
const char *hola_names_strerror(enum hola_name_status st);

/* Offset of the first byte of s[0..len) that is not part of well-formed UTF-8, or len
 * when all of it is well-formed. Overlong forms, surrogates (U+D800..U+DFFF), code points
 * above U+10FFFF and truncated sequences are all ill-formed. */
size_t hola_names_utf8_prefix(const char *s, size_t len);

/* Writes a printable, quoted preview of s into out: C0, DEL and non-UTF-8 bytes become
 * \xHH, C1 and bidi controls \uHHHH, and a long input is shortened with "..." (the caller reports the real length, so
 * nothing is cut silently). out always ends with a NUL when cap > 0. */
void hola_names_preview(const char *s, size_t len, char *out, size_t cap);

/* Describes a check of s in one line, e.g. `"Ana\xff": not valid UTF-8 (byte 4)`. */
void hola_names_describe(const char *s, const struct hola_name_check *c, char *out, size_t cap);

struct hola_names_block;

/* A growable list of checked names (each NUL-terminated, trimmed). The texts live in
 * blocks that never move, so v[i] stays valid until hola_names_free(). */
struct hola_names {
    char **v;
    size_t *len;
    size_t n;
    size_t cap;
    struct hola_names_block *blocks; /* the newest first */
};

/* Copies name[0..len) (already checked) to the list; -1 with e set when out of memory. */
int hola_names_add(struct hola_names *list, const char *name, size_t len, struct hola_err *e);
void hola_names_free(struct hola_names *list);

#endif
