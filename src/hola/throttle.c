/* throttle.c: the budgets behind throttle.h. Each is a GCRA token bucket (RFC 2697's
 * single rate as one theoretical arrival time): per source in librudp's fixed table,
 * whose memory does not grow with the number of sources; one more bounds the log as a
 * whole. */
#include "throttle.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rudp/listen.h>

struct counts {
    unsigned long long unlogged;  /* log lines not written */
    unsigned long long over_rate; /* replies not sent: over the source's budget */
    unsigned long long over_size; /* replies not sent: larger than 3x, no shorter form */
};

struct hola_throttle {
    rudp_ratelimit_t replies, lines;
    uint64_t total_tat;       /* the log's bucket, all sources together */
    struct counts since, all; /* since the last summary; since the start */
    uint64_t pending_since;   /* when `since` became non-zero; 0: nothing pending */
};

_Static_assert(RUDP_COOKIE_KEY_SIZE <= 2 * sizeof(uint64_t), "the fallback key is 16 bytes");

#define TOTAL_INTERVAL_US (1000000u / HOLA_THROTTLE_LOG_TOTAL)
#define TOTAL_BURST 10u

int hola_throttle_new(struct hola_throttle **out, struct hola_err *e)
{
    uint8_t key[RUDP_COOKIE_KEY_SIZE];
    struct hola_throttle *t = calloc(1, sizeof *t);

    if (t == NULL)
        return hola_err_set(e, "out of memory");
    /* The key only scatters sources over the table's sets, so that a sender cannot
     * choose addresses that share one; a weak key would cost fairness, not safety. */
    if (getrandom(key, sizeof key, GRND_NONBLOCK) != (ssize_t)sizeof key) {
        uint64_t parts[2] = { hola_stats_now_us(), (uint64_t)(uintptr_t)t };
        memcpy(key, parts, sizeof key);
    }
    rudp_ratelimit_init(&t->replies, key, HOLA_THROTTLE_REPLY_RATE, 2 * HOLA_THROTTLE_REPLY_RATE);
    rudp_ratelimit_init(&t->lines, key, HOLA_THROTTLE_LOG_RATE, 3);
    *out = t;
    return 0;
}

void hola_throttle_free(struct hola_throttle *t)
{
    free(t);
}

/* The bytes that name a source: an IPv4 address (also when mapped into IPv6), or an
 * IPv6 /64, the block one subscriber usually holds. Returns their length. */
static size_t source_key(const struct sockaddr *sa, socklen_t len, uint8_t key[16])
{
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(key, a->s6_addr + 12, 4);
            return 4;
        }
        memcpy(key, a->s6_addr, 8);
        return 8;
    }
    return 0;
}

static int admit(rudp_ratelimit_t *r, const struct sockaddr *sa, socklen_t len, uint64_t now)
{
    uint8_t key[16];
    size_t n = sa != NULL ? source_key(sa, len, key) : 0;

    return rudp_ratelimit_admit(r, key, n, now);
}

static void held_back(struct hola_throttle *t, unsigned long long *since, uint64_t now)
{
    if (t->pending_since == 0)
        t->pending_since = now ? now : 1;
    (*since)++;
}

bool hola_throttle_reply(struct hola_throttle *t, const struct sockaddr *from, socklen_t fromlen,
                         size_t req_len, size_t reply_len, bool error, uint64_t now)
{
    if (!error && reply_len <= HOLA_THROTTLE_AMPLIFY * req_len)
        return true;
    if (admit(&t->replies, from, fromlen, now))
        return true;
    held_back(t, &t->since.over_rate, now);
    t->all.over_rate++;
    return false;
}

void hola_throttle_too_big(struct hola_throttle *t)
{
    held_back(t, &t->since.over_size, hola_stats_now_us());
    t->all.over_size++;
}

bool hola_throttle_log(struct hola_throttle *t, const struct sockaddr *from, socklen_t fromlen,
                       uint64_t now)
{
    /* The source's bucket first: a flood from one source must not spend the total. */
    if (admit(&t->lines, from, fromlen, now)) {
        uint64_t tat = t->total_tat > now ? t->total_tat : now;
        if (tat - now <= (uint64_t)(TOTAL_BURST - 1) * TOTAL_INTERVAL_US) {
            t->total_tat = tat + TOTAL_INTERVAL_US;
            return true;
        }
    }
    held_back(t, &t->since.unlogged, now);
    t->all.unlogged++;
    return false;
}

void hola_throttle_summary(struct hola_throttle *t, uint64_t now, bool final, FILE *f)
{
    if (t == NULL || t->pending_since == 0)
        return;
    if (!final && now - t->pending_since < HOLA_THROTTLE_SUMMARY_US)
        return;
    fprintf(f,
            "hola-server: bad datagrams held back in the last %.1f s: %llu log lines, "
            "%llu replies over a source's rate, %llu replies larger than %ux their request\n",
            (double)(now - t->pending_since) / 1e6, t->since.unlogged, t->since.over_rate,
            t->since.over_size, HOLA_THROTTLE_AMPLIFY);
    memset(&t->since, 0, sizeof t->since);
    t->pending_since = 0;
}

int hola_throttle_timeout_ms(const struct hola_throttle *t, uint64_t now)
{
    if (t == NULL || t->pending_since == 0)
        return -1;
    uint64_t due = t->pending_since + HOLA_THROTTLE_SUMMARY_US;
    return due <= now ? 0 : (int)((due - now + 999) / 1000);
}

void hola_throttle_add_stats(const struct hola_throttle *t, struct hola_stats *st)
{
    hola_stats_add(st, "unlogged", t->all.unlogged);
    hola_stats_add(st, "replies_over_rate", t->all.over_rate);
    hola_stats_add(st, "replies_over_size", t->all.over_size);
}
