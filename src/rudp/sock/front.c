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
 * Sources: the connections each source host holds (core/sources.h: IPv4 /32, IPv6 /64),
 * at most max_per_source. */
#include "front.h"

#include "rudp/error.h"
#include "sock_internal.h"

int front_open(struct rudp_sock *s)
{
    uint32_t max = s->cfg.max_clients;
    uint32_t limit = max / 4;
    s->unproven_limit = limit < RUDP_SOCK_UNPROVEN_MAX ? limit : RUDP_SOCK_UNPROVEN_MAX;
    uint32_t per_source = s->cfg.max_per_source ? s->cfg.max_per_source : max / 8;
    uint8_t key[RUDP_SIPHASH_KEY_LEN];
    int rc = plat_random(key, sizeof key);
    return rc ? rc : rudp_sources_init(&s->sources, max, per_source ? per_source : 1, key);
}

void front_free(struct rudp_sock *s)
{
    rudp_sources_free(&s->sources);
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

int front_take(struct rudp_sock *s, struct entry *e, uint64_t now)
{
    int rc = rudp_sources_take(&s->sources, e->key, e->key_len, &e->source);
    if (rc)
        return rc;
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
    rudp_sources_put(&s->sources, &e->source);
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
