/* The DTLS server's count of sessions per source host (dtls.h, max_per_source): a
 * table of hosts (IPv4 /32, IPv6 /64 with the scope), keyed by SipHash under the
 * endpoint's random key as the sessions are, each with the sessions it holds. */
#include <stdlib.h>
#include <string.h>

#include "dtls_internal.h"
#include "rudp/error.h"

/* The source host of an address key: IPv4 /32, or IPv6 /64 with the scope. 0: none. */
size_t dtls_source_of(const uint8_t *key, uint8_t key_len, uint8_t src[13])
{
    if (key_len == 7) {
        src[0] = 4;
        memcpy(src + 1, key + 3, 4);
        return 5;
    }
    if (key_len == 23) {
        src[0] = 6;
        memcpy(src + 1, key + 3, 8);
        memcpy(src + 9, key + 19, 4);
        return 13;
    }
    return 0;
}

struct source_ref {
    const uint8_t *src;
    size_t n;
};

static int source_eq(const void *obj, const void *ctx)
{
    const struct source *f = obj;
    const struct source_ref *r = ctx;
    return f->len == r->n && memcmp(f->src, r->src, r->n) == 0;
}

/* The entry of key's source host, NULL when it holds no session; its hash in *h. */
static struct source *source_find(const rudp_dtls_t *d, const uint8_t *key, uint8_t key_len,
                                  struct source *tmp, uint64_t *h)
{
    tmp->len = (uint8_t)dtls_source_of(key, key_len, tmp->src);
    if (tmp->len == 0) { /* not IP: every such peer is one source */
        tmp->src[0] = 0;
        tmp->len = 1;
    }
    *h = rudp_siphash24(d->hkey, tmp->src, tmp->len);
    struct source_ref r = { tmp->src, tmp->len };
    return rudp_idtab_find(&d->sources, *h, source_eq, &r);
}

/* Whether key's source host holds per_source sessions already. */
int dtls_source_full(const rudp_dtls_t *d, const uint8_t *key, uint8_t key_len)
{
    struct source tmp;
    uint64_t h;
    const struct source *f = source_find(d, key, key_len, &tmp, &h);
    return f && f->count >= d->per_source;
}

/* Counts a new server session against its source host. Returns 0 or RUDP_ENOMEM. */
int dtls_source_take(rudp_dtls_t *d, struct sess *s)
{
    struct source tmp;
    uint64_t h;
    struct source *f = source_find(d, s->key, s->key_len, &tmp, &h);
    if (!f) {
        f = malloc(sizeof *f);
        if (!f)
            return RUDP_ENOMEM;
        *f = tmp;
        f->count = 0;
        (void)rudp_idtab_insert(&d->sources, h, f); /* room for max: never more sources */
    }
    f->count++;
    s->source = f;
    return 0;
}

void dtls_source_put(rudp_dtls_t *d, struct sess *s)
{
    struct source *f = s->source;
    s->source = NULL;
    if (f && --f->count == 0) {
        (void)rudp_idtab_remove(&d->sources, rudp_siphash24(d->hkey, f->src, f->len), f);
        free(f);
    }
}
