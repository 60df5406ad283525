/* source.h: who a connection comes from, for per-source limits: an IPv4 address (/32) or
 * an IPv6 /64 (one host or one LAN; an IPv4-mapped address counts as IPv4), and a table
 * counting the connections each source holds. */
#ifndef HOLA_SOURCE_H
#define HOLA_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct hola_source {
    uint8_t family;    /* 4, 6, or 0 for any other family (all such share one source) */
    uint8_t prefix[8]; /* IPv4: the address in the first 4 bytes; IPv6: the /64 */
};

/* The source of a peer address as accept() or recvfrom() reports it. */
struct hola_source hola_source_of(const struct sockaddr *sa);

struct hola_source_slot {
    struct hola_source src;
    uint32_t count; /* 0: the slot is free */
};

/* Open addressing, at most half full: sized for `max` sources with nonzero counts. */
struct hola_source_table {
    struct hola_source_slot *slots;
    size_t mask;
    uint64_t seed;
};

/* Room for max sources at once. 0, or -1 when out of memory. */
int hola_source_table_init(struct hola_source_table *t, size_t max);
void hola_source_table_free(struct hola_source_table *t);

/* How many connections src holds. */
uint32_t hola_source_count(const struct hola_source_table *t, const struct hola_source *src);

/* One more, one fewer connection from src. The caller keeps the number of sources with
 * a nonzero count within init's max; removing one src does not hold is a no-op. */
void hola_source_add(struct hola_source_table *t, const struct hola_source *src);
void hola_source_remove(struct hola_source_table *t, const struct hola_source *src);

#endif
