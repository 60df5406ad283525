/* psk.h: the pre-shared key of --secure and where it comes from: --psk HEX (visible to
 * every local user in ps and /proc/PID/cmdline), --psk-file FILE (private to its
 * owner), or the environment variable HOLA_PSK. */
#ifndef HOLA_PSK_H
#define HOLA_PSK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HOLA_PSK_ENV "HOLA_PSK"
/* A key file holds at most 128 hex digits and some whitespace; anything much larger is
 * the wrong file, refused before it is read. */
#define HOLA_PSK_FILE_MAX 4096

/* Decodes n bytes of hex at s into out (cap bytes), skipping whitespace and ':'
 * between bytes. Returns the byte count, or -1: not hex, an odd digit count, or more
 * than cap bytes. */
int hola_hex_parse(const char *s, size_t n, uint8_t *out, size_t cap);

/* A key in hex from `origin` (named in messages: "--psk", "HOLA_PSK"...) into out,
 * which holds RUDP_DTLS_PSK_MAX bytes. Refuses (with a message saying the minimum and
 * how to make a key) anything but 16 to 64 bytes. Returns 0 or -1. */
int hola_psk_from_hex(const char *hex, size_t n, const char *origin, uint8_t *out, size_t *len,
                      struct hola_err *e);

/* The same from a file: a regular file, at most HOLA_PSK_FILE_MAX bytes, that neither
 * its group nor others may read (as ssh treats a private key). Returns 0 or -1. */
int hola_psk_from_file(const char *path, uint8_t *out, size_t *len, struct hola_err *e);

#endif
