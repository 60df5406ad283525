/* replies.h: what hola-client learns about each name's reply, the same way for every
 * protocol: which name a reply greets, when the name was handed to the transport and
 * when its reply was read (per-name latency), and replies that came twice or out of
 * the order the names were sent in. Behind --stats' lat_p50_us, lat_p99_us, dup and
 * out_of_order. */
#ifndef HOLA_REPLIES_H
#define HOLA_REPLIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "names.h"
#include "stats.h"

/* A reply is matched in constant time, however many names are lost. The reply that
 * greets the first unanswered name, as every reply of an ordered transport (TCP, rudp)
 * does, is recognised by comparing the two texts. Any other reply (udp: a lost or
 * reordered one, or a duplicate) first groups the names with the same text, found
 * through a hash of the text, and from then on every reply goes through the groups;
 * a group's first name (its head h) keeps the group's counters. */
struct hola_replies {
    const struct hola_names *names;
    uint64_t *sent_us; /* just before name i was first handed to the transport; 0: not yet */
    uint64_t *lat_us;  /* reply time minus sent_us[i] of answered names, in order */
    bool *answered;
    /* Indexes are 32 bits (a list holds far fewer names; init checks): half the memory
     * a run touches before its first name goes out. */
    uint32_t *slot;         /* open addressing, a power of two long: 1 + a head; 0: empty */
    size_t slot_mask;       /* slot's length minus one */
    uint32_t *head;         /* head[i]: the first name with name i's text */
    uint32_t *next;         /* next[i]: the next name with the same text; names->n: none */
    uint32_t *open;         /* open[h]: the group's first unanswered name; names->n: none */
    uint32_t *waiting;      /* waiting[h]: the group's names sent and not answered */
    uint32_t *done;         /* done[h]: the group's names answered */
    bool grouped;           /* the groups below are built (group_names() in replies.c) */
    size_t first_open;      /* the first unanswered name (names->n: none) */
    size_t n_lat;           /* answered names (entries of lat_us) */
    size_t highest;         /* 1 + the highest index answered so far */
    uint64_t last_us;       /* when the latest answer was read; 0: none yet */
    unsigned long long dup; /* replies to a name already answered */
    unsigned long long out_of_order; /* replies that came after a later name's reply */
};

/* Sizes the tracker for names. Returns 0 or -1 with e set (out of memory, or more
 * than UINT32_MAX - 1 names). */
int hola_replies_init(struct hola_replies *r, const struct hola_names *names, struct hola_err *e);
void hola_replies_free(struct hola_replies *r);

/* Name i was handed to the transport by a send call (send(), sendto(),
 * rudp_sock_send()) that began at now_us: every client reads the clock just before
 * that call, so the per-name latency of each protocol includes its own send path.
 * Only the first call per name counts: latency is from the first attempt. */
void hola_replies_sent(struct hola_replies *r, size_t i, uint64_t now_us);

/* A reply text (without its newline) read at now_us. Finds the name it greets: the
 * first sent, unanswered name with that text. Returns its index; -1 when it greets a
 * name already answered (counted in dup) or no name sent (the caller reports it). */
long hola_replies_match(struct hola_replies *r, const char *reply, size_t len, uint64_t now_us);

bool hola_replies_is_answered(const struct hola_replies *r, size_t i);

/* Appends lat_p50_us and lat_p99_us (latency percentiles over the answered names, µs,
 * nearest rank; 0 when none, or when st->wanted is false), dup, OOO_KEY (out_of_order;
 * rudp, whose engine already reports a packet-level out_of_order, passes
 * reply_out_of_order) and, once every name is answered, last_reply_us: from st's start
 * to reading the last answer, the exchange's completion time without the teardown that
 * follows. */
void hola_replies_add_stats(const struct hola_replies *r, struct hola_stats *st,
                            const char *ooo_key);

#endif
