/* stats.c: --stats, one JSON object on one line, so a script can parse it with jq or
 * python without caring about the rest of stderr. */
#include "stats.h"

#include <string.h>
#include <time.h>

uint64_t hola_stats_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void hola_stats_start(struct hola_stats *st, const char *proto, const char *role)
{
    memset(st, 0, sizeof *st);
    st->proto = proto;
    st->role = role;
    st->wanted = true;
    st->start_us = hola_stats_now_us();
}

int hola_stats_format(const struct hola_stats *st, uint64_t now_us, char *out, size_t cap)
{
    uint64_t us = now_us > st->start_us ? now_us - st->start_us : 0;

    /* The names are fixed identifiers ("tcp", "client"): nothing to escape. Integer
     * arithmetic prints milliseconds with three decimals without floating point. */
    if (strcmp(st->role, "server") == 0)
        return snprintf(out, cap,
                        "{\"proto\":\"%s\",\"role\":\"server\",\"sent\":%llu,"
                        "\"received\":%llu,\"lost\":%llu,\"rejected\":%llu,"
                        "\"clients\":%llu,\"elapsed_ms\":%llu.%03llu%s}",
                        st->proto, st->sent, st->received, st->lost, st->rejected, st->clients,
                        (unsigned long long)(us / 1000), (unsigned long long)(us % 1000),
                        st->extra);
    return snprintf(out, cap,
                    "{\"proto\":\"%s\",\"role\":\"%s\",\"sent\":%llu,\"received\":%llu,"
                    "\"lost\":%llu,\"elapsed_ms\":%llu.%03llu%s}",
                    st->proto, st->role, st->sent, st->received, st->lost,
                    (unsigned long long)(us / 1000), (unsigned long long)(us % 1000), st->extra);
}

void hola_stats_add(struct hola_stats *st, const char *key, unsigned long long value)
{
    size_t room = sizeof st->extra - st->extra_len;
    int n = snprintf(st->extra + st->extra_len, room, ",\"%s\":%llu", key, value);

    if (n > 0 && (size_t)n < room)
        st->extra_len += (size_t)n;
    else
        st->extra[st->extra_len] = '\0';
}

void hola_stats_print(const struct hola_stats *st, FILE *f)
{
    char line[4096];

    hola_stats_format(st, hola_stats_now_us(), line, sizeof line);
    fprintf(f, "%s\n", line);
    fflush(f);
}
