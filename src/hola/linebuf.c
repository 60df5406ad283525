/* linebuf.c: fixed-size line buffer with compaction; see linebuf.h. The buffer never grows,
 * so a peer that never sends '\n' costs max_line + 2 bytes, not unbounded memory. */
#include "linebuf.h"

#include <stdlib.h>
#include <string.h>

int hola_linebuf_init(struct hola_linebuf *lb, size_t max_line)
{
    memset(lb, 0, sizeof *lb);
    lb->buf = malloc(max_line + 2);
    if (lb->buf == NULL)
        return -1;
    lb->cap = max_line + 2;
    lb->max_line = max_line;
    return 0;
}

void hola_linebuf_free(struct hola_linebuf *lb)
{
    free(lb->buf);
    memset(lb, 0, sizeof *lb);
}

char *hola_linebuf_space(struct hola_linebuf *lb, size_t *avail)
{
    /* Slide the pending partial line to the front so the free space is contiguous. */
    if (lb->start > 0) {
        memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
        lb->len -= lb->start;
        lb->start = 0;
    }
    *avail = lb->too_long ? 0 : lb->cap - lb->len;
    return lb->buf + lb->len;
}

void hola_linebuf_commit(struct hola_linebuf *lb, size_t n)
{
    lb->len += n;
}

size_t hola_linebuf_push(struct hola_linebuf *lb, const char *data, size_t n)
{
    size_t avail;
    char *dst = hola_linebuf_space(lb, &avail);

    if (n > avail)
        n = avail;
    memcpy(dst, data, n);
    hola_linebuf_commit(lb, n);
    return n;
}

/* Content length of a line of raw bytes ending before '\n': a trailing '\r' is dropped. */
static size_t strip_cr(const char *line, size_t raw)
{
    return (raw > 0 && line[raw - 1] == '\r') ? raw - 1 : raw;
}

int hola_linebuf_next(struct hola_linebuf *lb, const char **line, size_t *len)
{
    if (lb->too_long)
        return HOLA_LINEBUF_TOO_LONG;

    char *p = lb->buf + lb->start;
    size_t pending = lb->len - lb->start;
    char *nl = memchr(p + lb->scanned, '\n', pending - lb->scanned);

    if (nl == NULL) {
        lb->scanned = pending;
        /* max_line bytes, then at most a '\r' can still precede the '\n'. */
        if (pending > lb->max_line + 1 ||
            (pending == lb->max_line + 1 && p[lb->max_line] != '\r')) {
            lb->too_long = 1;
            return HOLA_LINEBUF_TOO_LONG;
        }
        return 0;
    }
    size_t raw = (size_t)(nl - p);
    size_t n = strip_cr(p, raw);
    if (n > lb->max_line) {
        lb->too_long = 1;
        return HOLA_LINEBUF_TOO_LONG;
    }
    *line = p;
    *len = n;
    lb->start += raw + 1;
    lb->scanned = 0;
    return 1;
}

int hola_linebuf_finish(struct hola_linebuf *lb, const char **line, size_t *len)
{
    int r = hola_linebuf_next(lb, line, len);

    if (r != 0)
        return r;
    size_t pending = lb->len - lb->start;
    if (pending == 0)
        return 0;
    *line = lb->buf + lb->start;
    *len = strip_cr(*line, pending);
    lb->start = lb->len;
    lb->scanned = 0;
    return 1;
}
