/* compare.c: the vocabulary every part of hola-compare shares: the names of the rows and
 * patterns as the outputs print them, bounded string helpers, the kernel's release. */
#include "compare.h"

#include <string.h>
#include <sys/utsname.h>

const char *const hola_compare_variant_names[HOLA_COMPARE_VARIANTS] = {
    "tcp", "udp", "rudp", "rudp-w1", "rudp-coalesce",
};
const char *const hola_compare_pattern_names[HOLA_COMPARE_PATTERNS] = {
    "lockstep",
    "pipelined",
};

void hola_compare_copy(char *dst, size_t cap, const char *src)
{
    size_t l = strlen(src);
    if (cap == 0)
        return;
    if (l >= cap)
        l = cap - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

int hola_compare_join(char *out, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return -1;
    }
    memmove(out, a, la);
    memcpy(out + la, b, lb + 1);
    return 0;
}

void hola_compare_kernel(char *out, size_t cap)
{
    struct utsname u;
    hola_compare_copy_text(out, cap, uname(&u) == 0 ? u.release : "?");
}

void hola_compare_copy_text(char *dst, size_t cap, const char *src)
{
    hola_compare_copy(dst, cap, src);
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}
