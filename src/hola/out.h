/* out.h: the programs' standard output (replies, greetings, "Conectado a"): written in
 * bursts, and its first failure kept with its cause. */
#ifndef HOLA_OUT_H
#define HOLA_OUT_H

#include <stddef.h>

/* Appends s (n bytes) and a newline to stdout's buffer. */
void hola_out_line(const char *s, size_t n);

/* Appends two pieces and a newline ("Conectado a " ADDR). */
void hola_out_line2(const char *a, const char *b);

/* Writes out what is buffered. The loops call it before every wait: a reader sees each
 * line before the program sleeps, and a burst of lines costs one write() rather than
 * one per line, which on a fast path is most of a program's time. */
void hola_out_flush(void);

/* 0, or the errno of the first write to stdout that failed (EIO when none was set). */
int hola_out_error(void);

#endif
