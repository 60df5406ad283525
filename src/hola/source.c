/* source.c: per-source keys and their connection counts; see source.h. Linear probing
 * with backward-shift deletion (no tombstones), so a long-running server's table never
 * degrades. The hash is FNV-1a over a per-process seed: not a keyed PRF, so a peer who
 * controls many source addresses could make them collide, but a lookup then costs at
 * most a scan of the table (at most twice the connection limit), which the server's
 * poll() loop already pays every round. */
#include "source.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct hola_source hola_source_of(const struct sockaddr *sa)
{
    struct hola_source s;

    memset(&s, 0, sizeof s);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        s.family = 4;
        memcpy(s.prefix, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: one host each, not
         * one /64 for the whole IPv4 Internet. */
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            s.family = 4;
            memcpy(s.prefix, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            s.family = 6;
            memcpy(s.prefix, in6->sin6_addr.s6_addr, 8);
        }
    }
    return s;
}

static int same(const struct hola_source *a, const struct hola_source *b)
{
    return a->family == b->family && memcmp(a->prefix, b->prefix, sizeof a->prefix) == 0;
}

static size_t home(const struct hola_source_table *t, const struct hola_source *s)
{
    uint64_t h = 14695981039346656037ull ^ t->seed;

    h = (h ^ s->family) * 1099511628211ull;
    for (size_t i = 0; i < sizeof s->prefix; i++)
        h = (h ^ s->prefix[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29)) & t->mask;
}

int hola_source_table_init(struct hola_source_table *t, size_t max)
{
    size_t n = 2;
    struct timespec ts;

    while (n < 2 * max)
        n *= 2;
    t->slots = calloc(n, sizeof *t->slots);
    if (t->slots == NULL)
        return -1;
    t->mask = n - 1;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t->seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid();
    return 0;
}

void hola_source_table_free(struct hola_source_table *t)
{
    free(t->slots);
    t->slots = NULL;
}

/* The slot holding src, or the free slot where it would go. */
static size_t find(const struct hola_source_table *t, const struct hola_source *src)
{
    size_t i = home(t, src);

    while (t->slots[i].count != 0 && !same(&t->slots[i].src, src))
        i = (i + 1) & t->mask;
    return i;
}

uint32_t hola_source_count(const struct hola_source_table *t, const struct hola_source *src)
{
    return t->slots[find(t, src)].count;
}

void hola_source_add(struct hola_source_table *t, const struct hola_source *src)
{
    struct hola_source_slot *s = &t->slots[find(t, src)];

    s->src = *src;
    s->count++;
}

void hola_source_remove(struct hola_source_table *t, const struct hola_source *src)
{
    size_t i = find(t, src);

    if (t->slots[i].count == 0 || --t->slots[i].count != 0)
        return;
    /* Backward shift: move later members of the probe run into the hole, so every
     * remaining source is still found from its home slot without crossing a free one. */
    for (size_t j = (i + 1) & t->mask; t->slots[j].count != 0; j = (j + 1) & t->mask) {
        size_t h = home(t, &t->slots[j].src);
        /* Slot j may move to i only if i lies cyclically in [h, j). */
        if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = t->slots[j];
            t->slots[j].count = 0;
            i = j;
        }
    }
}
