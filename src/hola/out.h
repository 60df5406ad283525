/* out.h: the programs' standard output (replies, greetings, "Conectado a"): written in
 * bursts, and its first failure kept with its cause. */
#ifndef HOLA_OUT_H
#define HOLA_OUT_H

#include <stdbool.h>
#include <stddef.h>

/* Room for lines a slow reader has not taken yet, beyond what the pipe itself holds. */
#define HOLA_OUT_QUEUE ((size_t)256 * 1024)
/* How long hola_out_finish() waits at most for a reader to take what is queued. */
#define HOLA_OUT_FINISH_MS 1000

/* Switches stdout to never blocking (hola-server: one poll() loop serves everyone, and
 * a reader that stops reading must not stop it). Lines go to a queue of cap bytes that
 * hola_out_flush() writes out as far as the reader takes them; a line that does not
 * fit is dropped and counted, and the first drop is said once on stderr, prefixed by
 * prog. Without this call (hola-client) stdout blocks as usual: a client has no one
 * else to serve, and its replies are its output. Returns 0, or -1 with errno. */
int hola_out_nonblocking(const char *prog, size_t cap);

/* Appends s (n bytes) and a newline to stdout's buffer. */
void hola_out_line(const char *s, size_t n);

/* Appends two pieces and a newline ("Conectado a " ADDR). */
void hola_out_line2(const char *a, const char *b);

/* Writes out what is buffered. The loops call it before every wait: a reader sees each
 * line before the program sleeps, and a burst of lines costs one write() rather than
 * one per line, which on a fast path is most of a program's time. Never blocks after
 * hola_out_nonblocking(). */
void hola_out_flush(void);

/* True when lines wait in the queue for the reader (a loop may poll stdout for POLLOUT
 * to write them as soon as it reads again). */
bool hola_out_pending(void);

/* At exit: waits at most HOLA_OUT_FINISH_MS for the reader to take what is queued, then
 * counts the rest as dropped and frees the queue. Returns the lines dropped in all. */
unsigned long long hola_out_finish(void);

/* 0, or the errno of the first write to stdout that failed (EIO when none was set). A
 * reader that is slow or stalled is not a failure: its lines are dropped and counted. */
int hola_out_error(void);

#endif
