/* replies.c: see replies.h. */
#include "replies.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"

/* Eight bytes a step, each mixed by a multiply and a shift (the finaliser of
 * SplitMix64): names are some twenty bytes, and byte-at-a-time FNV-1a made this a
 * seventh of a pipelined client's instructions. The keys are the user's own names, not
 * chosen by the network (a reply is only looked up), so a fast unkeyed hash is enough;
 * the table is half empty at most, so probes stay short. */
static size_t hash_name(const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ len;
    uint64_t w;
    size_t i = 0;

    for (; len - i >= 8; i += 8) {
        memcpy(&w, s + i, sizeof w);
        h = (h ^ w) * 0xbf58476d1ce4e5b9u;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, s + i, len - i);
    h = (h ^ w) * 0x94d049bb133111ebu;
    return (size_t)(h ^ (h >> 32));
}

/* The slot holding the group of text s[0..len), or the empty slot where it would go. */
static uint32_t *find_slot(const struct hola_replies *r, const char *s, size_t len)
{
    const struct hola_names *names = r->names;
    size_t k = hash_name(s, len) & r->slot_mask;
    while (r->slot[k] != 0) {
        size_t h = r->slot[k] - 1;
        if (names->len[h] == len && memcmp(names->v[h], s, len) == 0)
            break;
        k = (k + 1) & r->slot_mask;
    }
    return &r->slot[k];
}

/* Groups equal names: each name's head, and the chain of the group in index order
 * (open[] holds each group's last name while the chains are built); then the group
 * counters of the names sent and answered so far. */
static void group_names(struct hola_replies *r)
{
    const struct hola_names *names = r->names;
    for (size_t i = 0; i < names->n; i++) {
        uint32_t *sl = find_slot(r, names->v[i], names->len[i]);
        r->next[i] = (uint32_t)names->n;
        if (*sl == 0) {
            *sl = (uint32_t)i + 1;
            r->head[i] = (uint32_t)i;
        } else {
            uint32_t h = *sl - 1;
            r->head[i] = h;
            r->next[r->open[h]] = (uint32_t)i;
        }
        r->open[r->head[i]] = (uint32_t)i;
    }
    for (size_t i = 0; i < names->n; i++) {
        if (r->head[i] == i)
            r->open[i] = (uint32_t)i;
    }
    for (size_t i = 0; i < names->n; i++) {
        uint32_t h = r->head[i];
        if (r->answered[i])
            r->done[h]++;
        else if (r->sent_us[i] != 0)
            r->waiting[h]++;
        while (r->open[h] < names->n && r->answered[r->open[h]])
            r->open[h] = r->next[r->open[h]];
    }
    r->grouped = true;
}

int hola_replies_init(struct hola_replies *r, const struct hola_names *names, struct hola_err *e)
{
    size_t n = names->n ? names->n : 1;
    size_t slots = 16;

    memset(r, 0, sizeof *r);
    r->names = names;
    if (n >= UINT32_MAX)
        return hola_err_set(e, _("too many names"));
    while (slots < 2 * n && slots < SIZE_MAX / 4)
        slots *= 2;
    r->slot_mask = slots - 1;
    /* All allocated now (a failure is reported here, not in the middle of a run), but
     * only the first three are written before a reply needs the groups: calloc() of
     * fresh memory writes nothing, so an ordered run never touches the table's pages
     * (100k names: 1 MiB of slots, 2 MiB of group arrays). */
    r->sent_us = calloc(n, sizeof *r->sent_us);
    r->lat_us = calloc(n, sizeof *r->lat_us);
    r->answered = calloc(n, sizeof *r->answered);
    r->slot = calloc(slots, sizeof *r->slot);
    r->head = calloc(n, sizeof *r->head);
    r->next = calloc(n, sizeof *r->next);
    r->open = calloc(n, sizeof *r->open);
    r->waiting = calloc(n, sizeof *r->waiting);
    r->done = calloc(n, sizeof *r->done);
    if (r->sent_us == NULL || r->lat_us == NULL || r->answered == NULL || r->slot == NULL ||
        r->head == NULL || r->next == NULL || r->open == NULL || r->waiting == NULL ||
        r->done == NULL) {
        hola_replies_free(r);
        return hola_err_set(e, _("out of memory"));
    }
    return 0;
}

void hola_replies_free(struct hola_replies *r)
{
    free(r->sent_us);
    free(r->lat_us);
    free(r->answered);
    free(r->slot);
    free(r->head);
    free(r->next);
    free(r->open);
    free(r->waiting);
    free(r->done);
    r->sent_us = r->lat_us = NULL;
    r->answered = NULL;
    r->slot = r->head = r->next = r->open = r->waiting = r->done = NULL;
}

void hola_replies_sent(struct hola_replies *r, size_t i, uint64_t now_us)
{
    if (i < r->names->n && r->sent_us[i] == 0) {
        r->sent_us[i] = now_us ? now_us : 1;
        if (r->grouped)
            r->waiting[r->head[i]]++;
    }
}

bool hola_replies_is_answered(const struct hola_replies *r, size_t i)
{
    return i < r->names->n && r->answered[i];
}

/* Name i is answered by a reply read at now_us. */
static void answer(struct hola_replies *r, size_t i, uint64_t now_us)
{
    r->answered[i] = true;
    while (r->first_open < r->names->n && r->answered[r->first_open])
        r->first_open++;
    r->last_us = now_us;
    r->lat_us[r->n_lat++] = now_us > r->sent_us[i] ? now_us - r->sent_us[i] : 0;
    if (i + 1 < r->highest)
        r->out_of_order++;
    else
        r->highest = i + 1;
}

long hola_replies_match(struct hola_replies *r, const char *reply, size_t len, uint64_t now_us)
{
    const struct hola_names *names = r->names;

    if (len < 5 || memcmp(reply, "Hola ", 5) != 0)
        return -1;
    size_t f = r->first_open;
    if (!r->grouped && f < names->n && r->sent_us[f] != 0 && names->len[f] == len - 5 &&
        memcmp(names->v[f], reply + 5, len - 5) == 0) {
        /* The reply the order expects: the first sent, unanswered name with this text,
         * as a group would have found, and no name after it is answered yet. */
        answer(r, f, now_us);
        return (long)f;
    }
    if (!r->grouped)
        group_names(r);
    size_t sl = *find_slot(r, reply + 5, len - 5);
    if (sl == 0)
        return -1;
    size_t h = sl - 1;
    if (r->waiting[h] == 0) {
        if (r->done[h] > 0)
            r->dup++;
        return -1;
    }
    /* The group's first sent, unanswered name. Names are sent in index order, so
     * that is open[h] itself; the walk only matters if they were not. */
    size_t i = r->open[h];
    while (r->answered[i] || r->sent_us[i] == 0)
        i = r->next[i];
    r->waiting[h]--;
    r->done[h]++;
    answer(r, i, now_us);
    while (r->open[h] < names->n && r->answered[r->open[h]])
        r->open[h] = r->next[r->open[h]];
    return (long)i;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest of the n sorted values with at least p% at or below it. */
static uint64_t percentile(const uint64_t *sorted, size_t n, unsigned p)
{
    size_t rank = ((size_t)p * n + 99) / 100;
    return sorted[rank > 0 ? rank - 1 : 0];
}

void hola_replies_add_stats(const struct hola_replies *r, struct hola_stats *st,
                            const char *ooo_key)
{
    /* One sorted copy for both percentiles, and none when --stats was not given: two
     * sorts of 2000 latencies were a sixth of a 2000-name TCP client's instructions. */
    uint64_t p50 = 0, p99 = 0;
    uint64_t *v = st->wanted && r->n_lat ? malloc(r->n_lat * sizeof *v) : NULL;
    if (v != NULL) {
        memcpy(v, r->lat_us, r->n_lat * sizeof *v);
        qsort(v, r->n_lat, sizeof *v, cmp_u64);
        p50 = percentile(v, r->n_lat, 50);
        p99 = percentile(v, r->n_lat, 99);
        free(v);
    }
    hola_stats_add(st, "lat_p50_us", p50);
    hola_stats_add(st, "lat_p99_us", p99);
    hola_stats_add(st, "dup", r->dup);
    hola_stats_add(st, ooo_key, r->out_of_order);
    if (r->n_lat == r->names->n && r->n_lat > 0)
        hola_stats_add(st, "last_reply_us",
                       r->last_us > st->start_us ? r->last_us - st->start_us : 0);
}
