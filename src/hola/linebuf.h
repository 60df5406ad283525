/* linebuf.h: TCP line framing. Bytes arrive in arbitrary pieces (a line split across reads,
 * several lines in one read); this buffer hands them back one whole line at a time. */
#ifndef HOLA_LINEBUF_H
#define HOLA_LINEBUF_H

#include <stddef.h>

/* Longest line the server accepts, terminator excluded. A name is at most 512 bytes after
 * trimming (names.h); the slack leaves room for whitespace around it, and anything longer
 * is not a name at all. */
#define HOLA_LINE_MAX 1024

/* Returned by hola_linebuf_next() once a line is longer than max_line. Sticky: the rest of
 * the stream cannot be framed reliably, so the connection is meant to be closed. */
#define HOLA_LINEBUF_TOO_LONG (-1)

struct hola_linebuf {
    char *buf;
    size_t cap; /* max_line + 2: the line plus "\r\n" */
    size_t max_line;
    size_t start;   /* first byte not yet handed out */
    size_t len;     /* end of buffered bytes */
    size_t scanned; /* bytes after start already searched for '\n' */
    int too_long;
};

/* 0, or -1 when out of memory. */
int hola_linebuf_init(struct hola_linebuf *lb, size_t max_line);
void hola_linebuf_free(struct hola_linebuf *lb);

/* Where the next read may write, and how much (*avail); 0 bytes only once the buffer holds
 * an over-long line, which hola_linebuf_next() then reports. */
char *hola_linebuf_space(struct hola_linebuf *lb, size_t *avail);
/* Records that n bytes were written at hola_linebuf_space(). */
void hola_linebuf_commit(struct hola_linebuf *lb, size_t n);
/* Copies up to n bytes of data in; returns how many were taken (fewer when full). */
size_t hola_linebuf_push(struct hola_linebuf *lb, const char *data, size_t n);

/* 1 with the next line in *line and *len (no "\n" nor "\r\n"; valid until the next call that
 * changes lb), 0 when no whole line is buffered yet, HOLA_LINEBUF_TOO_LONG. */
int hola_linebuf_next(struct hola_linebuf *lb, const char **line, size_t *len);

/* At end of stream: like hola_linebuf_next(), but once no whole line is left it also hands
 * out the unterminated last one (nc without a final newline). Call until it returns 0. */
int hola_linebuf_finish(struct hola_linebuf *lb, const char **line, size_t *len);

#endif
