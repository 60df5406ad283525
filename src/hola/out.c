/* out.c: standard output for hola-server and hola-client. Each write is checked as it
 * happens: glibc does not try a failed buffer again, so a later fflush() could not
 * tell why, and a cause read from errno later would be whatever failed since. */
#include "out.h"

#include <errno.h>
#include <stdio.h>

static int first_error;

static void check(void)
{
    if (ferror(stdout) && first_error == 0)
        first_error = errno ? errno : EIO;
}

void hola_out_line(const char *s, size_t n)
{
    errno = 0;
    fwrite(s, 1, n, stdout);
    fputc('\n', stdout);
    check();
}

void hola_out_line2(const char *a, const char *b)
{
    errno = 0;
    fputs(a, stdout);
    fputs(b, stdout);
    fputc('\n', stdout);
    check();
}

void hola_out_flush(void)
{
    errno = 0;
    (void)fflush(stdout);
    check();
}

int hola_out_error(void)
{
    return first_error;
}
