/* psk.c: reads and checks the pre-shared key of --secure; see psk.h. The bounds are
 * the library's (RUDP_DTLS_PSK_MIN/MAX): the CLI refuses first, with a message that
 * says how to make a good key. */
#include "psk.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rudp/dtls.h"

#include "i18n.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int hola_hex_parse(const char *s, size_t n, uint8_t *out, size_t cap)
{
    size_t got = 0;
    int hi = -1;

    for (size_t i = 0; i < n; i++) {
        if ((s[i] == ':' || is_space(s[i])) && hi < 0)
            continue;
        int v = hex_digit(s[i]);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (got == cap)
            return -1;
        out[got++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    return hi < 0 ? (int)got : -1;
}

int hola_psk_from_hex(const char *hex, size_t n, const char *origin, uint8_t *out, size_t *len,
                      struct hola_err *e)
{
    size_t digits = 0;
    for (size_t i = 0; i < n; i++)
        digits += hex_digit(hex[i]) >= 0;
    if (digits > (size_t)2 * RUDP_DTLS_PSK_MAX)
        return hola_err_set(e, _("%s: the key has %zu hex digits; at most %u (%u bytes)"), origin,
                            digits, 2 * RUDP_DTLS_PSK_MAX, RUDP_DTLS_PSK_MAX);
    int got = hola_hex_parse(hex, n, out, RUDP_DTLS_PSK_MAX);
    if (got < 0)
        return hola_err_set(e,
                            _("%s: not a key in hex (an even number of digits 0-9 and a-f, "
                              "%u to %u of them)"),
                            origin, 2 * RUDP_DTLS_PSK_MIN, 2 * RUDP_DTLS_PSK_MAX);
    if ((size_t)got < RUDP_DTLS_PSK_MIN)
        return hola_err_set(e,
                            _("%s: the key is too short to be safe: at least %u random bytes "
                              "(%u hex digits) are needed, %d given. Make one with: head -c 32 "
                              "/dev/urandom | od -An -tx1 | tr -d ' \\n'"),
                            origin, RUDP_DTLS_PSK_MIN, 2 * RUDP_DTLS_PSK_MIN, got);
    *len = (size_t)got;
    return 0;
}

int hola_psk_from_file(const char *path, uint8_t *out, size_t *len, struct hola_err *e)
{
    char origin[64 + 16];
    char buf[HOLA_PSK_FILE_MAX + 1];
    struct stat st;
    int rc = -1;

    snprintf(origin, sizeof origin, "--psk-file %.64s", path);
    /* O_NONBLOCK: a FIFO given by mistake must not hang the program in open(). */
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return hola_err_set(e, "%s: %s", origin, strerror(errno));
    if (fstat(fd, &st) != 0) {
        hola_err_set(e, "%s: %s", origin, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        hola_err_set(e, _("%s: not a regular file"), origin);
    } else if (st.st_mode & (S_IRGRP | S_IROTH)) {
        hola_err_set(e,
                     _("%s: other users can read it (mode %04o); make it private with: "
                       "chmod 600 %s"),
                     origin, (unsigned)(st.st_mode & 07777), path);
    } else if (st.st_size > HOLA_PSK_FILE_MAX) {
        hola_err_set(e, _("%s: %lld bytes: too large for a key file (at most %d)"), origin,
                     (long long)st.st_size, HOLA_PSK_FILE_MAX);
    } else {
        size_t n = 0;
        ssize_t r;
        /* Bounded by the buffer even if the file grows after fstat(). */
        while (n < sizeof buf && (r = read(fd, buf + n, sizeof buf - n)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                hola_err_set(e, "%s: %s", origin, strerror(errno));
                n = SIZE_MAX;
                break;
            }
            n += (size_t)r;
        }
        if (n == sizeof buf)
            hola_err_set(e, _("%s: too large for a key file (at most %d bytes)"), origin,
                         HOLA_PSK_FILE_MAX);
        else if (n != SIZE_MAX)
            rc = hola_psk_from_hex(buf, n, origin, out, len, e);
    }
    memset(buf, 0, sizeof buf);
    close(fd);
    return rc;
}
