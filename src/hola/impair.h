/* impair.h: the built-in impairment for plain UDP. Every datagram the program sends goes
 * through a rudp_sim_link (the same seeded module rudp's simulator and socket driver use,
 * so a seeded run is reproducible) and leaves the socket when the link says it is due;
 * the programs add hola_impair_timeout_ms() to their poll() timeout. With no impairment
 * (a NULL handle) hola_impair_sendto() is plain sendto(). */
#ifndef HOLA_IMPAIR_H
#define HOLA_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "rudp/sim.h"

#include "error.h"
#include "stats.h"

struct hola_impair;

/* Datagrams the link holds at once (delayed, rate-queued); a sender waits for room with
 * hola_impair_room() instead of overflowing it. */
#define HOLA_IMPAIR_CAPACITY 1024u

/* Creates the link for imp and seed. Returns 0, or -1 with e set. */
int hola_impair_new(struct hola_impair **out, const rudp_impair_t *imp, uint64_t seed,
                    struct hola_err *e);
void hola_impair_free(struct hola_impair *im);

/* Sends buf on fd (to NULL: a connected socket) through the link: it may be lost,
 * duplicated, corrupted, delayed or reordered; what is due now leaves at once. Returns
 * 0, or -1 with errno set by send()/sendto() for a datagram that left now (EAGAIN
 * included: then nothing was taken, try again later). */
int hola_impair_sendto(struct hola_impair *im, int fd, const void *buf, size_t len,
                       const struct sockaddr *to, socklen_t tolen);

/* Sends every datagram that is due. Returns how many left, or -1 with errno from the
 * failed send (the datagram is then dropped and counted, except for EAGAIN, when it is
 * kept for the next call). */
int hola_impair_flush(struct hola_impair *im, int fd);

/* Milliseconds until the next datagram is due (rounded up; 0: now), -1 when the link is
 * empty or im is NULL. */
int hola_impair_timeout_ms(const struct hola_impair *im);

/* True when nothing is held (also for NULL). */
bool hola_impair_empty(const struct hola_impair *im);

/* Datagrams the link can take now without dropping one for lack of room. */
size_t hola_impair_room(const struct hola_impair *im);

/* Appends the link's counters to the --stats line (impair_lost, impair_duplicated...). */
void hola_impair_add_stats(const struct hola_impair *im, struct hola_stats *st);

/* Appends rudp_sim_stats_t counters under the same keys (the rudp driver's link). */
void hola_impair_add_sim_stats(const rudp_sim_stats_t *s, struct hola_stats *st);

#endif
