/* Per-source counts (sources.h): the socket driver's connections and the DTLS server's
 * sessions, counted per source host in an ID table. */
#include "sources.h"

#include <stdlib.h>
#include <string.h>

#include "rudp/error.h"

size_t rudp_source_of(const uint8_t *key, size_t key_len, uint8_t src[RUDP_SOURCE_MAX])
{
    if (key_len == 7 && key[0] == 4) {
        src[0] = 4;
        memcpy(src + 1, key + 3, 4);
        return 5;
    }
    if (key_len == 23 && key[0] == 6) {
        src[0] = 6;
        memcpy(src + 1, key + 3, 8);
        memcpy(src + 9, key + 19, 4);
        return 13;
    }
    return 0;
}

int rudp_sources_init(rudp_sources_t *t, uint32_t max, uint32_t cap,
                      const uint8_t key[RUDP_SIPHASH_KEY_LEN])
{
    memset(t, 0, sizeof *t);
    uint32_t size = rudp_idtab_size_for(max);
    t->slots = size ? calloc(size, sizeof *t->slots) : NULL;
    if (!t->slots)
        return RUDP_ENOMEM;
    rudp_idtab_init(&t->tab, t->slots, size);
    memcpy(t->key, key, sizeof t->key);
    t->cap = cap;
    return 0;
}

void rudp_sources_free(rudp_sources_t *t)
{
    for (uint32_t i = 0; t->slots && i <= t->tab.mask; i++)
        free(t->slots[i].obj);
    free(t->slots);
    t->slots = NULL;
}

struct source_ref {
    const uint8_t *src;
    size_t len;
};

static int source_eq(const void *obj, const void *ctx)
{
    const rudp_source_t *f = obj;
    const struct source_ref *r = ctx;
    return f->len == r->len && memcmp(f->src, r->src, r->len) == 0;
}

/* The entry of key's host, NULL when it holds no place; the host in *tmp. */
static rudp_source_t *find(const rudp_sources_t *t, const uint8_t *key, size_t key_len,
                           rudp_source_t *tmp)
{
    size_t n = rudp_source_of(key, key_len, tmp->src);
    if (n == 0) { /* not an IP address: the key itself is the host */
        n = key_len < RUDP_SOURCE_MAX ? key_len : RUDP_SOURCE_MAX;
        memcpy(tmp->src, key, n);
    }
    tmp->len = (uint8_t)n;
    tmp->hash = rudp_siphash24(t->key, tmp->src, n);
    tmp->count = 0;
    struct source_ref r = { tmp->src, n };
    return rudp_idtab_find(&t->tab, tmp->hash, source_eq, &r);
}

int rudp_sources_full(const rudp_sources_t *t, const uint8_t *key, size_t key_len)
{
    rudp_source_t tmp;
    const rudp_source_t *f = find(t, key, key_len, &tmp);
    return f && f->count >= t->cap;
}

int rudp_sources_take(rudp_sources_t *t, const uint8_t *key, size_t key_len, rudp_source_t **out)
{
    rudp_source_t tmp;
    rudp_source_t *f = find(t, key, key_len, &tmp);
    if (f && f->count >= t->cap)
        return RUDP_EREFUSED;
    if (!f) {
        f = malloc(sizeof *f);
        if (!f)
            return RUDP_ENOMEM;
        *f = tmp;
        /* Room for max places' hosts, and there are never more hosts than places. */
        if (rudp_idtab_insert(&t->tab, f->hash, f) != 0) {
            free(f);
            return RUDP_ENOMEM;
        }
    }
    f->count++;
    *out = f;
    return 0;
}

void rudp_sources_put(rudp_sources_t *t, rudp_source_t **f)
{
    rudp_source_t *s = *f;
    *f = NULL;
    if (s && --s->count == 0) {
        (void)rudp_idtab_remove(&t->tab, s->hash, s);
        free(s);
    }
}
