/* The server's front door policy (front.h). An INITIAL without a cookie is accepted at
 * once while the server is not under load, and the connection is "unproven" until its
 * client echoes our ISN (rudp_conn_validated(); until then the engine keeps to 3x the
 * bytes it received, RFC 9000 §8.1). Under load, every such INITIAL earns the stateless
 * RETRY again, as QUIC servers do (RFC 9000 §8.1.2). Under load means: unproven
 * connections at their limit (a flood of forged INITIALs is exactly that), or the
 * handshake rate limit hit within the last FRONT_LOAD_HOLD. The application hears of a
 * connection (ACCEPTED) only once it is proven; an unproven one that closes or outlives
 * RUDP_SOCK_UNPROVEN_TIMEOUT is dropped without a word to anyone: its address may be
 * forged, so a RESET could be aimed at a victim.
 * Sources: a table of source hosts (peer_source(): IPv4 /32, IPv6 /64) with the number
 * of connections each holds, keyed by SipHash under a per-socket random key so a
 * sender cannot choose colliding sources. */
#include "front.h"

#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "rudp/error.h"
#include "sock_internal.h"

struct front_source {
    uint64_t hash;
    uint32_t count;
    uint8_t len;
    uint8_t src[PEER_SOURCE_MAX];
};

int front_open(struct rudp_sock *s)
{
    uint32_t max = s->cfg.max_clients;
    uint32_t limit = max / 4;
    s->unproven_limit = limit < RUDP_SOCK_UNPROVEN_MAX ? limit : RUDP_SOCK_UNPROVEN_MAX;
    s->per_source = s->cfg.max_per_source ? s->cfg.max_per_source : max / 8;
    if (s->per_source < 1)
        s->per_source = 1;
    uint32_t size = rudp_idtab_size_for(max);
    s->source_slots = calloc(size, sizeof *s->source_slots);
    if (!s->source_slots)
        return RUDP_ENOMEM;
    rudp_idtab_init(&s->sources, s->source_slots, size);
    return plat_random(s->source_key, sizeof s->source_key);
}

void front_free(struct rudp_sock *s)
{
    for (uint32_t i = 0; s->source_slots && i <= s->sources.mask; i++)
        free(s->source_slots[i].obj);
    free(s->source_slots);
    s->source_slots = NULL;
}

void front_gate(struct rudp_sock *s, uint64_t now)
{
    if (s->listener->rate_limited != s->rate_limited_seen) {
        s->rate_limited_seen = s->listener->rate_limited;
        s->load_until = now + FRONT_LOAD_HOLD;
    }
    s->listener->require_retry =
        s->cfg.always_retry || s->unproven >= s->unproven_limit || now < s->load_until;
}

struct source_key {
    const uint8_t *src;
    size_t len;
};

static int source_eq(const void *obj, const void *ctx)
{
    const struct front_source *f = obj;
    const struct source_key *k = ctx;
    return f->len == k->len && memcmp(f->src, k->src, k->len) == 0;
}

int front_take(struct rudp_sock *s, struct entry *e, uint64_t now)
{
    uint8_t src[PEER_SOURCE_MAX];
    size_t n = peer_source(e->key, e->key_len, src);
    if (n == 0) {
        /* Not an address we made (cannot happen with sockets): key by the whole peer. */
        n = e->key_len < PEER_SOURCE_MAX ? e->key_len : PEER_SOURCE_MAX;
        memcpy(src, e->key, n);
    }
    uint64_t h = rudp_siphash24(s->source_key, src, n);
    struct source_key k = { src, n };
    struct front_source *f = rudp_idtab_find(&s->sources, h, source_eq, &k);
    if (f && f->count >= s->per_source)
        return RUDP_EREFUSED;
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f)
            return RUDP_ENOMEM;
        f->hash = h;
        f->len = (uint8_t)n;
        memcpy(f->src, src, n);
        /* Room for max_clients sources, and there are never more than connections. */
        if (rudp_idtab_insert(&s->sources, h, f) != 0) {
            free(f);
            return RUDP_ENOMEM;
        }
    }
    f->count++;
    e->source = f;
    if (!rudp_conn_validated(e->conn)) {
        e->unproven = 1;
        e->born = now;
        s->unproven++;
    }
    return 0;
}

void front_put(struct rudp_sock *s, struct entry *e)
{
    if (e->unproven) {
        e->unproven = 0;
        s->unproven--;
    }
    front_leave(s, e);
}

void front_leave(struct rudp_sock *s, struct entry *e)
{
    struct front_source *f = e->source;
    e->source = NULL;
    if (f && --f->count == 0) {
        (void)rudp_idtab_remove(&s->sources, f->hash, f);
        free(f);
    }
}

int front_settle(struct rudp_sock *s, struct entry *e, uint64_t now)
{
    if (!e->unproven)
        return FRONT_KEEP;
    if (rudp_conn_validated(e->conn)) {
        e->unproven = 0;
        s->unproven--;
        s->st.listener.unproven_validated++;
        return FRONT_PROVEN;
    }
    if (rudp_conn_state(e->conn) == RUDP_STATE_CLOSED ||
        now - e->born >= RUDP_SOCK_UNPROVEN_TIMEOUT) {
        s->st.listener.unproven_dropped++;
        return FRONT_DROP;
    }
    return FRONT_KEEP;
}
