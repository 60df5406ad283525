/* impair.c: plain UDP through a seeded rudp_sim_link; see impair.h.
 *
 * The link carries bytes, not addresses, and the server sends to many peers: each
 * datagram is pushed with its destination in front (a small tag) as the link's frame
 * header (rudp_sim_link_push_framed), so the link's bit flips never land on it (a
 * "corrupt" reply must reach its client, damaged, not go elsewhere). The tag also counts
 * toward --rate, as the IP and UDP headers would on a real link. */
#include "impair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rudp/sock.h"

#include "error.h"
#include "i18n.h"

struct hola_impair {
    rudp_sim_link_t *link;
    uint64_t send_errors;
    bool have_pending; /* a due datagram that met EAGAIN, sent first next time */
    bool pending_icmp; /* ... or an ICMP error, which concerned an earlier datagram */
    size_t pending_len;
    uint8_t pending[RUDP_SIM_MAX_DGRAM];
};

/* The tag: one length byte, then the sockaddr (0 length: a connected socket). */
#define TAG_MAX (1 + sizeof(struct sockaddr_storage))

int hola_impair_new(struct hola_impair **out, const rudp_impair_t *imp, uint64_t seed,
                    struct hola_err *e)
{
    struct hola_impair *im = calloc(1, sizeof *im);

    if (im == NULL)
        return hola_err_set(e, _("out of memory"));
    int rc = rudp_sim_link_new(&im->link, imp, seed, HOLA_IMPAIR_CAPACITY);
    if (rc != 0) {
        free(im);
        return hola_err_set(e, _("impairment: %s"), rudp_strerror(rc));
    }
    *out = im;
    return 0;
}

void hola_impair_free(struct hola_impair *im)
{
    if (im == NULL)
        return;
    rudp_sim_link_free(im->link);
    free(im);
}

/* Sends one tagged datagram now. */
static int send_tagged(int fd, const uint8_t *d, size_t n)
{
    size_t taglen = d[0];
    const struct sockaddr *to = taglen ? (const struct sockaddr *)(const void *)(d + 1) : NULL;
    ssize_t r;

    if (n < 1 + taglen)
        return 0; /* cannot happen: the tag is never corrupted */
    do {
        r = sendto(fd, d + 1 + taglen, n - 1 - taglen, MSG_NOSIGNAL, to, (socklen_t)taglen);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

int hola_impair_flush(struct hola_impair *im, int fd)
{
    int sent = 0;

    if (im == NULL)
        return 0;
    for (;;) {
        if (!im->have_pending) {
            size_t n;
            uint64_t now = hola_stats_now_us();
            if (rudp_sim_link_pop(im->link, now, im->pending, sizeof im->pending, &n) != 1)
                return sent;
            im->pending_len = n;
            im->have_pending = true;
        }
        if (send_tagged(fd, im->pending, im->pending_len) != 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return sent > 0 ? sent : (errno = EAGAIN, -1);
            int err = errno;
            /* An ICMP error reported here was the verdict on an earlier datagram: this
             * one is tried once more at the next flush; a second error drops it. */
            im->have_pending = rudp_sock_icmp_errno(err) && !im->pending_icmp;
            im->pending_icmp = im->have_pending;
            im->send_errors++;
            errno = err;
            return -1;
        }
        im->have_pending = false;
        im->pending_icmp = false;
        sent++;
    }
}

int hola_impair_sendto(struct hola_impair *im, int fd, const void *buf, size_t len,
                       const struct sockaddr *to, socklen_t tolen)
{
    if (im == NULL) {
        ssize_t r;
        do {
            r = sendto(fd, buf, len, MSG_NOSIGNAL, to, to ? tolen : 0);
        } while (r < 0 && errno == EINTR);
        return r < 0 ? -1 : 0;
    }

    uint8_t tag[TAG_MAX];
    size_t taglen = to != NULL ? (size_t)tolen : 0;
    if (taglen > sizeof(struct sockaddr_storage) || 1 + taglen + len > RUDP_SIM_MAX_DGRAM) {
        errno = EMSGSIZE;
        return -1;
    }
    tag[0] = (uint8_t)taglen;
    if (taglen)
        memcpy(tag + 1, to, taglen);
    rudp_sim_link_push_framed(im->link, hola_stats_now_us(), tag, 1 + taglen, buf, len);
    int r = hola_impair_flush(im, fd);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0; /* taken: it waits in the link, like a datagram in a full queue */
    return r < 0 ? -1 : 0;
}

int hola_impair_timeout_ms(const struct hola_impair *im)
{
    if (im == NULL)
        return -1;
    if (im->have_pending)
        return 1;
    uint64_t due = rudp_sim_link_next(im->link);
    if (due == UINT64_MAX)
        return -1;
    uint64_t now = hola_stats_now_us();
    if (due <= now)
        return 0;
    uint64_t ms = (due - now + 999) / 1000;
    return ms > 1000000 ? 1000000 : (int)ms;
}

bool hola_impair_empty(const struct hola_impair *im)
{
    return im == NULL || (!im->have_pending && rudp_sim_link_next(im->link) == UINT64_MAX);
}

size_t hola_impair_room(const struct hola_impair *im)
{
    rudp_sim_stats_t s;

    if (im == NULL)
        return SIZE_MAX;
    rudp_sim_link_stats(im->link, &s);
    /* Leave room for the duplicates a push may make. */
    return s.held + 2 >= HOLA_IMPAIR_CAPACITY ? 0 : HOLA_IMPAIR_CAPACITY - 2 - (size_t)s.held;
}

void hola_impair_add_sim_stats(const rudp_sim_stats_t *s, struct hola_stats *st)
{
    hola_stats_add(st, "impair_in", s->in);
    hola_stats_add(st, "impair_lost", s->lost);
    hola_stats_add(st, "impair_duplicated", s->duplicated);
    hola_stats_add(st, "impair_reordered", s->reordered);
    hola_stats_add(st, "impair_corrupted", s->corrupted);
    hola_stats_add(st, "impair_queue_dropped", s->queue_dropped + s->overflow);
}

void hola_impair_add_stats(const struct hola_impair *im, struct hola_stats *st)
{
    rudp_sim_stats_t s;

    if (im == NULL)
        return;
    rudp_sim_link_stats(im->link, &s);
    hola_impair_add_sim_stats(&s, st);
    hola_stats_add(st, "impair_send_errors", im->send_errors);
}
