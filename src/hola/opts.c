/* opts.c: parsers for the option values both programs share; see opts.h. */
#include "opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

static const struct {
    const char *name;
    enum hola_proto proto;
} protos[] = {
    { "tcp", HOLA_PROTO_TCP },
    { "udp", HOLA_PROTO_UDP },
    { "rudp", HOLA_PROTO_RUDP },
};

int hola_opts_proto(const char *s, enum hola_proto *out, struct hola_err *e)
{
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        if (strcmp(s, protos[i].name) == 0) {
            *out = protos[i].proto;
            return 0;
        }
    }
    return hola_err_set(e, _("--proto '%s': unknown protocol; use %s"), s, hola_opts_proto_list());
}

const char *hola_opts_proto_name(enum hola_proto p)
{
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++)
        if (protos[i].proto == p)
            return protos[i].name;
    return "?";
}

const char *hola_opts_proto_list(void)
{
    return _("tcp, udp or rudp");
}

int hola_opts_ulong(const char *s, const char *what, unsigned long min, unsigned long max,
                    unsigned long *out, struct hola_err *e)
{
    char *end;

    /* strtoul accepts "-1" (as a huge value) and leading spaces; insist on plain digits. */
    if (s[0] < '0' || s[0] > '9')
        return hola_err_set(e, _("%s '%s': expected a number from %lu to %lu"), what, s, min, max);
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0')
        return hola_err_set(e, _("%s '%s': expected a number from %lu to %lu"), what, s, min, max);
    if (errno == ERANGE || v < min || v > max)
        return hola_err_set(e, _("%s '%s': out of range (%lu to %lu)"), what, s, min, max);
    *out = v;
    return 0;
}

int hola_opts_port(const char *s, bool allow_zero, uint16_t *out, struct hola_err *e)
{
    unsigned long v = 0;

    if (hola_opts_ulong(s, "--port", allow_zero ? 0 : 1, 65535, &v, e) != 0)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

void hola_opts_getopt_error(int c, int opt, char *const argv[], int ind, struct hola_err *e)
{
    /* For a short option optopt names it exactly (even inside "-lx"); for a long one it
     * is 0 and the word just consumed is the option. */
    const char *word = argv[ind - 1];

    if (c == ':') {
        if (opt != 0 && word[1] != '-')
            hola_err_set(e, _("option -%c needs a value"), opt);
        else
            hola_err_set(e, _("option %s needs a value"), word);
    } else if (opt != 0) {
        hola_err_set(e, _("unknown option -%c"), opt);
    } else {
        hola_err_set(e, _("unknown option %s"), word);
    }
}
