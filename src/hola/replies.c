/* replies.c: see replies.h. */
#include "replies.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"

int hola_replies_init(struct hola_replies *r, const struct hola_names *names, struct hola_err *e)
{
    size_t n = names->n ? names->n : 1;

    memset(r, 0, sizeof *r);
    r->names = names;
    r->sent_us = calloc(n, sizeof *r->sent_us);
    r->lat_us = calloc(n, sizeof *r->lat_us);
    r->answered = calloc(n, sizeof *r->answered);
    if (r->sent_us == NULL || r->lat_us == NULL || r->answered == NULL) {
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
    r->sent_us = r->lat_us = NULL;
    r->answered = NULL;
}

void hola_replies_sent(struct hola_replies *r, size_t i, uint64_t now_us)
{
    if (i < r->names->n && r->sent_us[i] == 0)
        r->sent_us[i] = now_us ? now_us : 1;
}

bool hola_replies_is_answered(const struct hola_replies *r, size_t i)
{
    return i < r->names->n && r->answered[i];
}

static bool greets(const struct hola_names *names, size_t i, const char *reply, size_t len)
{
    return len == names->len[i] + 5 && memcmp(reply, "Hola ", 5) == 0 &&
           memcmp(reply + 5, names->v[i], names->len[i]) == 0;
}

long hola_replies_match(struct hola_replies *r, const char *reply, size_t len, uint64_t now_us)
{
    const struct hola_names *names = r->names;

    /* Replies mostly come in order: starting at the first unanswered name keeps a long
     * list linear instead of quadratic. */
    for (size_t i = r->first_open; i < names->n; i++) {
        if (r->answered[i] || r->sent_us[i] == 0 || !greets(names, i, reply, len))
            continue;
        r->answered[i] = true;
        r->last_us = now_us;
        r->lat_us[r->n_lat++] = now_us > r->sent_us[i] ? now_us - r->sent_us[i] : 0;
        if (i + 1 < r->highest)
            r->out_of_order++;
        else
            r->highest = i + 1;
        while (r->first_open < names->n && r->answered[r->first_open])
            r->first_open++;
        return (long)i;
    }
    for (size_t i = 0; i < names->n; i++) {
        if (r->answered[i] && greets(names, i, reply, len)) {
            r->dup++;
            return -1;
        }
    }
    return -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t hola_replies_percentile(const struct hola_replies *r, unsigned p)
{
    if (r->n_lat == 0)
        return 0;
    uint64_t *v = malloc(r->n_lat * sizeof *v);
    if (v == NULL)
        return 0;
    memcpy(v, r->lat_us, r->n_lat * sizeof *v);
    qsort(v, r->n_lat, sizeof *v, cmp_u64);
    /* Nearest rank: the smallest value with at least p% of the samples at or below it. */
    size_t rank = ((size_t)p * r->n_lat + 99) / 100;
    uint64_t x = v[rank > 0 ? rank - 1 : 0];
    free(v);
    return x;
}

void hola_replies_add_stats(const struct hola_replies *r, struct hola_stats *st,
                            const char *ooo_key)
{
    hola_stats_add(st, "lat_p50_us", hola_replies_percentile(r, 50));
    hola_stats_add(st, "lat_p99_us", hola_replies_percentile(r, 99));
    hola_stats_add(st, "dup", r->dup);
    hola_stats_add(st, ooo_key, r->out_of_order);
    if (r->n_lat == r->names->n && r->n_lat > 0)
        hola_stats_add(st, "last_reply_us",
                       r->last_us > st->start_us ? r->last_us - st->start_us : 0);
}
