/* One direction of a simulated, impaired path: what tests and benchmarks put between two
 * rudp endpoints, and what the CLI's built-in impairment puts in front of a real socket.
 *
 * Design
 * - Time-driven, not loop-driven: the caller passes now_us to every call and the link only
 *   answers "what is due by now" (pop) and "when is the next one due" (next), so the same
 *   code runs under a virtual clock that jumps from event to event and under a real
 *   monotonic clock. The link never reads a clock.
 * - Reproducible: every random decision comes from one xoshiro256** stream seeded at
 *   creation, drawn in a fixed order, and only when the impairment it decides is enabled.
 * - Fixed memory: `capacity` datagram slots, the due-time heap and the rate limiter's
 *   queue are allocated in rudp_sim_link_new; push and pop never allocate. When all slots
 *   are held, a new datagram is dropped and counted as `overflow`.
 * - Release order: the shared deadline heap (core/heap.h) keyed (due time, arrival), so
 *   datagrams leave in due order and datagrams due at the same microsecond leave in the
 *   order they came.
 *
 * What happens to one pushed datagram, in the order of tc-netem's netem_enqueue():
 *   1. duplicate? (`dup`) -> two copies, each going through the steps below on its own;
 *      in netem the clone is re-enqueued through the whole qdisc, so it gets its own loss,
 *      corruption and delay draws too;
 *   2. lost? Bernoulli (`loss`, optionally correlated) or Gilbert-Elliott (`ge_*`);
 *   3. tail drop? with a rate set, if `queue_limit` datagrams are already waiting for the
 *      serializer (netem "limit"); then the store itself: overflow if all slots are held;
 *   4. serialization: starts at max(now, the time the link becomes free) and lasts
 *      len * 8 / rate_bps seconds, in exact rational time (no rounding drift between
 *      back-to-back datagrams; a due time is the end rounded up to the microsecond);
 *   5. reorder? (`reorder`) -> due as soon as it is serialized, skipping the delay, so it
 *      overtakes datagrams still in flight (netem puts such packets at the head of its
 *      queue with time_to_send = now; like netem, we refuse reorder without a delay);
 *      otherwise due at the end of serialization + delay + uniform jitter in
 *      [-jitter, +jitter], clamped at 0 (netem's default uniform "tabledist"); with jitter
 *      datagrams reorder among themselves, as netem's do;
 *   6. corrupt? (`corrupt`) -> one uniformly chosen bit of the stored copy is flipped
 *      (netem flips one bit of a random byte).
 *
 * Where we differ from netem, and why
 * - Loss correlation: netem blends each uniform draw with the previous one
 *   (next = (1-rho) * U + rho * last, get_crandom()) and compares that with the loss
 *   probability; the blend is no longer uniform (it clusters around 1/2), so with rho > 0
 *   the real loss rate falls below the configured one whenever that is under 50%. We use
 *   a two-state Markov chain instead: P(loss | previous lost) = p + rho (1 - p),
 *   P(loss | previous delivered) = p (1 - rho). Its average loss stays exactly p and the
 *   lag-1 correlation of the loss indicator is exactly rho.
 * - Rate: netem overlaps the delay with the queueing time of the previous packet; we model
 *   a bottleneck link followed by propagation: serialize first (FIFO, one at a time), then
 *   add the delay. Reordered datagrams still pay their serialization, so the rate limit
 *   holds for every byte that reaches the other side.
 * - Gilbert-Elliott: as netem's loss_gilb_ell(), the loss decision uses the state the link
 *   was in, then the state moves; the chain starts in the good state. */
#include <stdlib.h>
#include <string.h>

#include "rudp/sim.h"

#include "core/heap.h"

/* Upper bounds that keep every sum below in 64 bits: an hour of delay or jitter, and a
 * rate whose remainder arithmetic (rem + r < 2 * rate) cannot overflow. */
#define MAX_DELAY_US UINT64_C(3600000000)
#define MAX_RATE_BPS (UINT64_C(1) << 62)

struct rudp_sim_link {
    rudp_impair_t imp;
    rudp_prng_t rng;
    uint64_t last_now; /* latest time seen; an earlier now is clamped to it */

    uint32_t capacity;
    rudp_heap_t due;            /* held datagrams on (due time, arrival): core/heap.h */
    rudp_heap_node_t **due_arr; /* its array */
    rudp_heap_node_t *nodes;    /* slot i's place in it; key = due time */
    uint32_t *len;              /* slot i's datagram length */
    uint32_t *free_slots;       /* stack of unused slot numbers */
    uint32_t nfree;
    uint8_t *slab; /* capacity * RUDP_SIM_MAX_DGRAM bytes */

    /* Rate limiter. The link is busy until busy_us + busy_rem / rate_bps microseconds:
     * keeping the fraction as a remainder makes back-to-back serialization exact. */
    uint64_t busy_us;
    uint64_t busy_rem;
    /* Start times (rounded up) of accepted datagrams whose serialization has not begun,
     * oldest first; a FIFO because starts are increasing. At most min(queue_limit,
     * capacity) entries, since each is also held in the store. */
    uint64_t *waiting;
    uint32_t wait_cap, wait_head, wait_count;
    uint32_t queue_limit;

    int last_lost; /* correlated Bernoulli loss: was the previous draw a loss */
    int ge_bad;    /* Gilbert-Elliott: in the bad state */

    rudp_sim_stats_t st;
};

static int prob_ok(double p)
{
    return p >= 0.0 && p <= 1.0; /* false for NaN as well */
}

static int impair_ok(const rudp_impair_t *imp)
{
    if (!prob_ok(imp->loss) || !prob_ok(imp->loss_corr) || !prob_ok(imp->ge_p) ||
        !prob_ok(imp->ge_r) || !prob_ok(imp->ge_h) || !prob_ok(imp->ge_good_loss) ||
        !prob_ok(imp->dup) || !prob_ok(imp->reorder) || !prob_ok(imp->corrupt)) {
        return 0;
    }
    if (imp->delay_us > MAX_DELAY_US || imp->jitter_us > MAX_DELAY_US) {
        return 0;
    }
    if (imp->rate_bps > MAX_RATE_BPS) {
        return 0;
    }
    /* tc refuses this too: without a delay there is nothing to overtake. */
    if (imp->reorder > 0.0 && imp->delay_us == 0) {
        return 0;
    }
    return 1;
}

int rudp_sim_link_new(rudp_sim_link_t **out, const rudp_impair_t *imp, uint64_t seed,
                      uint32_t capacity)
{
    if (out == NULL) {
        return RUDP_EINVAL;
    }
    *out = NULL;
    if (imp == NULL || capacity == 0 || capacity > RUDP_SIM_MAX_CAPACITY || !impair_ok(imp)) {
        return RUDP_EINVAL;
    }

    rudp_sim_link_t *l = calloc(1, sizeof *l);
    if (l == NULL) {
        return RUDP_ENOMEM;
    }
    l->imp = *imp;
    rudp_prng_seed(&l->rng, seed);
    l->capacity = capacity;
    l->queue_limit = imp->queue_limit ? imp->queue_limit : RUDP_SIM_DEFAULT_QUEUE;
    l->wait_cap = l->queue_limit < capacity ? l->queue_limit : capacity;

    /* capacity <= 2^20, so none of these products overflows even a 32-bit size_t. */
    l->due_arr = malloc((size_t)capacity * sizeof(rudp_heap_node_t *));
    l->nodes = malloc((size_t)capacity * sizeof *l->nodes);
    l->len = malloc((size_t)capacity * sizeof *l->len);
    l->free_slots = malloc((size_t)capacity * sizeof *l->free_slots);
    l->slab = malloc((size_t)capacity * RUDP_SIM_MAX_DGRAM);
    l->waiting = malloc((size_t)l->wait_cap * sizeof *l->waiting);
    if (l->due_arr == NULL || l->nodes == NULL || l->len == NULL || l->free_slots == NULL ||
        l->slab == NULL || l->waiting == NULL) {
        rudp_sim_link_free(l);
        return RUDP_ENOMEM;
    }
    rudp_heap_init(&l->due, l->due_arr, capacity);
    /* Hand out low slots first (only for tidiness when debugging). */
    for (uint32_t i = 0; i < capacity; i++) {
        l->free_slots[i] = capacity - 1 - i;
        rudp_heap_node_init(&l->nodes[i]);
    }
    l->nfree = capacity;
    *out = l;
    return 0;
}

void rudp_sim_link_free(rudp_sim_link_t *link)
{
    if (link == NULL) {
        return;
    }
    free(link->due_arr);
    free(link->nodes);
    free(link->len);
    free(link->free_slots);
    free(link->slab);
    free(link->waiting);
    free(link);
}

/* ---- impairment decisions ---- */

static int bernoulli(rudp_sim_link_t *l, double p)
{
    /* Draw only when the impairment is on, so enabling one does not shift the others'
     * random streams for a run that does not use it. unit() < 1.0 always, so p = 1 is
     * certain and p = 0 never happens. */
    return p > 0.0 && rudp_prng_unit(&l->rng) < p;
}

static int loss_event(rudp_sim_link_t *l)
{
    const rudp_impair_t *imp = &l->imp;
    if (imp->ge_p > 0.0) {
        /* Gilbert-Elliott as netem's loss_gilb_ell(): move, but judge by the state the
         * datagram met. Bad: lost unless the h draw saves it. Good: lost with 1-k. */
        if (l->ge_bad) {
            if (bernoulli(l, imp->ge_r)) {
                l->ge_bad = 0;
            }
            return !bernoulli(l, imp->ge_h);
        }
        if (bernoulli(l, imp->ge_p)) {
            l->ge_bad = 1;
        }
        return bernoulli(l, imp->ge_good_loss);
    }
    if (imp->loss <= 0.0) {
        return 0;
    }
    double p = imp->loss;
    if (imp->loss_corr > 0.0) {
        /* Markov chain with stationary loss p and lag-1 correlation rho (see top). */
        p = l->last_lost ? p + imp->loss_corr * (1.0 - p) : p * (1.0 - imp->loss_corr);
    }
    l->last_lost = bernoulli(l, p);
    return l->last_lost;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    /* UINT64_MAX means "empty" to rudp_sim_link_next, so stop one short of it. */
    return a < UINT64_MAX - 1 - b ? a + b : UINT64_MAX - 1;
}

/* Is the serializer still busy at `now`? (exact time busy_us + busy_rem / rate > now) */
static int link_busy(const rudp_sim_link_t *l, uint64_t now)
{
    return l->busy_us > now || (l->busy_us == now && l->busy_rem > 0);
}

/* Takes the copy through steps 3 to 6 of the top comment. */
static void enqueue_copy(rudp_sim_link_t *l, uint64_t now, const void *hdr, size_t hdr_len,
                         const void *data, size_t dlen)
{
    const rudp_impair_t *imp = &l->imp;
    uint64_t rate = imp->rate_bps;
    size_t len = hdr_len + dlen; /* the rate counts the caller's header too */

    if (rate > 0) {
        /* Forget datagrams whose serialization has begun: they no longer wait. */
        while (l->wait_count > 0 && l->waiting[l->wait_head] <= now) {
            l->wait_head = (l->wait_head + 1) % l->wait_cap;
            l->wait_count--;
        }
        /* Tail drop: this one would wait, and the queue is full. */
        if (link_busy(l, now) && l->wait_count >= l->queue_limit) {
            l->st.queue_dropped++;
            return;
        }
    }
    if (l->due.n == l->capacity) {
        l->st.overflow++;
        return;
    }

    uint64_t sent = now; /* when the last bit is on the wire */
    if (rate > 0) {
        if (!link_busy(l, now)) {
            l->busy_us = now;
            l->busy_rem = 0;
        } else {
            /* It waits; it is held from here on, so wait_count < capacity and, by the
             * check above, < queue_limit: the ring has room. */
            uint64_t start = l->busy_us + (l->busy_rem > 0);
            l->waiting[(l->wait_head + l->wait_count) % l->wait_cap] = start;
            l->wait_count++;
        }
        /* len * 8 * 10^6 <= 2048 * 8 * 10^6 < 2^35: no overflow. */
        uint64_t bit_us = (uint64_t)len * 8u * 1000000u;
        l->busy_us += bit_us / rate;
        l->busy_rem += bit_us % rate;
        if (l->busy_rem >= rate) {
            l->busy_rem -= rate;
            l->busy_us++;
        }
        sent = l->busy_us + (l->busy_rem > 0);
    }

    uint64_t due = sent;
    if (imp->reorder > 0.0 && bernoulli(l, imp->reorder)) {
        l->st.reordered++;
    } else {
        uint64_t d = imp->delay_us;
        if (imp->jitter_us > 0) {
            /* Uniform integer offset in [-jitter, +jitter]; both bounded by an hour. */
            uint64_t span = 2 * imp->jitter_us + 1;
            int64_t off = (int64_t)rudp_prng_below(&l->rng, span) - (int64_t)imp->jitter_us;
            int64_t sum = (int64_t)d + off;
            d = sum > 0 ? (uint64_t)sum : 0;
        }
        due = add_sat(sent, d);
    }

    uint32_t slot = l->free_slots[--l->nfree];
    uint8_t *dst = l->slab + (size_t)slot * RUDP_SIM_MAX_DGRAM;
    if (hdr_len > 0) {
        memcpy(dst, hdr, hdr_len);
    }
    if (dlen > 0) {
        memcpy(dst + hdr_len, data, dlen);
    }
    /* Corruption stays inside the data: a header the caller uses to route the datagram
     * (an address) must deliver it, damaged, where it was going. */
    if (dlen > 0 && bernoulli(l, imp->corrupt)) {
        uint64_t bit = rudp_prng_below(&l->rng, (uint64_t)dlen * 8);
        dst[hdr_len + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        l->st.corrupted++;
    }
    l->len[slot] = (uint32_t)len;
    (void)rudp_heap_set(&l->due, &l->nodes[slot], due); /* a free slot, so room in the heap */
}

int rudp_sim_link_push(rudp_sim_link_t *link, uint64_t now_us, const void *data, size_t len)
{
    return rudp_sim_link_push_framed(link, now_us, NULL, 0, data, len);
}

int rudp_sim_link_push_framed(rudp_sim_link_t *link, uint64_t now_us, const void *hdr,
                              size_t hdr_len, const void *data, size_t len)
{
    if (link == NULL || (data == NULL && len > 0) || (hdr == NULL && hdr_len > 0)) {
        return RUDP_EINVAL;
    }
    if (hdr_len > RUDP_SIM_MAX_DGRAM || len > RUDP_SIM_MAX_DGRAM - hdr_len) {
        return RUDP_EMSGSIZE;
    }
    if (now_us < link->last_now) {
        now_us = link->last_now;
    }
    link->last_now = now_us;
    link->st.in++;

    int copies = 1;
    if (bernoulli(link, link->imp.dup)) {
        copies = 2;
        link->st.duplicated++;
    }
    for (int i = 0; i < copies; i++) {
        if (loss_event(link)) {
            link->st.lost++;
            continue;
        }
        enqueue_copy(link, now_us, hdr, hdr_len, data, len);
    }
    return 0;
}

int rudp_sim_link_pop(rudp_sim_link_t *link, uint64_t now_us, void *buf, size_t cap, size_t *len)
{
    if (link == NULL || len == NULL || (buf == NULL && cap > 0)) {
        return RUDP_EINVAL;
    }
    if (now_us < link->last_now) {
        now_us = link->last_now;
    }
    link->last_now = now_us;
    *len = 0;
    rudp_heap_node_t *top = rudp_heap_top(&link->due);
    if (top == NULL || top->key > now_us) {
        return 0;
    }
    uint32_t slot = (uint32_t)(top - link->nodes);
    size_t n = link->len[slot];
    if (n > cap) {
        *len = n;
        return RUDP_EBUFSIZE;
    }
    if (n > 0) {
        memcpy(buf, link->slab + (size_t)slot * RUDP_SIM_MAX_DGRAM, n);
    }
    *len = n;
    link->free_slots[link->nfree++] = slot;
    rudp_heap_remove(&link->due, top);
    link->st.delivered++;
    return 1;
}

uint64_t rudp_sim_link_next(const rudp_sim_link_t *link)
{
    if (link == NULL) {
        return UINT64_MAX;
    }
    return rudp_heap_min(&link->due);
}

void rudp_sim_link_stats(const rudp_sim_link_t *link, rudp_sim_stats_t *st)
{
    if (link == NULL || st == NULL) {
        return;
    }
    *st = link->st;
    st->held = link->due.n;
}
