/* client.h: what hola-client's per-protocol runs (client_tcp.c, client_udp.c) share with
 * its main (client.c). */
#ifndef HOLA_CLIENT_H
#define HOLA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "names.h"
#include "netopts.h"
#include "opts.h"
#include "stats.h"

struct hola_client_cfg {
    enum hola_proto proto;
    const char *host;
    uint16_t port;
    unsigned long timeout_ms;
    bool lockstep;           /* one name at a time, each waiting for its reply */
    struct hola_netopts net; /* rudp's engine, trace, pcap; the impairment (udp, rudp) */
};

/* Exit status when some UDP replies never came (the report says which). */
#define HOLA_CLIENT_LOST 3

/* One per protocol: send every name, print every reply on stdout in order. Return 0 when
 * all were answered, HOLA_CLIENT_LOST, or -1 with e set. */
int hola_client_tcp_run(const struct hola_client_cfg *cfg, const struct hola_names *names,
                        struct hola_stats *st, struct hola_err *e);
int hola_client_udp_run(const struct hola_client_cfg *cfg, const struct hola_names *names,
                        struct hola_stats *st, struct hola_err *e);
int hola_client_rudp_run(const struct hola_client_cfg *cfg, const struct hola_names *names,
                         struct hola_stats *st, struct hola_err *e);

/* SIGINT and SIGTERM: a descriptor that becomes readable when one arrives (for poll()),
 * and whether one has arrived. The runs stop with an "interrupted" error, so main still
 * prints --stats. */
int hola_client_stop_fd(void);
bool hola_client_interrupted(void);

/* "host:port", or "[host]:port" for an IPv6 literal, for messages. */
void hola_client_where(const struct hola_client_cfg *cfg, char *out, size_t cap);

/* Milliseconds left until deadline_us, rounded up; 0 once it has passed. */
int hola_client_ms_left(uint64_t deadline_us);

#endif
