/* rudp over a real UDP socket: the one part of librudp that touches sockets, the clock
 * and the system's random source. A rudp_sock_t is one UDP socket: a client holding
 * one connection, or a server demultiplexing many by connection ID. It feeds datagrams
 * and the monotonic time into the engines and sleeps until the earliest engine deadline
 * or datagram. Events are pulled, one at a time (rudp_sock_service), as enet_host_service
 * returns them: application code never runs inside the driver. Single-threaded: all
 * calls on one rudp_sock_t from one thread. */
#ifndef RUDP_SOCK_H
#define RUDP_SOCK_H

#include "rudp/export.h"

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rudp/conn.h"
#include "rudp/dtls.h"
#include "rudp/impair.h"
#include "rudp/listen.h"
#include "rudp/random.h"
#include "rudp/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RUDP_SOCK_DEFAULT_MAX_CLIENTS 1024u
#define RUDP_SOCK_MAX_CLIENTS 65536u
#define RUDP_SOCK_DEFAULT_HANDSHAKE_RATE 1000u /* per second per source /32 or /64 */
#define RUDP_SOCK_MAX_HANDSHAKE_RATE 1000000u
#define RUDP_SOCK_MAX_POLLFDS 8u /* the application's descriptors in rudp_sock_step_poll */
/* The front door (docs/protocol.md §7.2): an INITIAL without a cookie is accepted at once
 * while fewer than RUDP_SOCK_UNPROVEN_MAX connections (and at most a quarter of
 * max_clients) wait for their client to prove its address and the handshake rate was
 * not hit in the last second; otherwise it gets the stateless RETRY. An unproven
 * connection is dropped silently after RUDP_SOCK_UNPROVEN_TIMEOUT µs. */
#define RUDP_SOCK_UNPROVEN_MAX 16u
#define RUDP_SOCK_UNPROVEN_TIMEOUT 5000000u

typedef struct rudp_sock rudp_sock_t;

/* The driver's DTLS settings and counters are the DTLS module's own (rudp/dtls.h). */
typedef rudp_dtls_config_t rudp_sock_dtls_t;
typedef rudp_dtls_stats_t rudp_sock_dtls_stats_t;

typedef struct rudp_sock_config {
    rudp_config_t conn;           /* settings for every connection (trace hook included) */
    uint32_t max_clients;         /* server: connections held at once, 1..RUDP_SOCK_MAX_CLIENTS;
                                     a validated client beyond it gets RESET(FULL) */
    int family;                   /* AF_UNSPEC (default), AF_INET or AF_INET6 */
    int impair_on;                /* apply `impair` to every outgoing datagram */
    rudp_impair_t impair;         /* built-in impairment, netem semantics (rudp/sim.h) */
    uint64_t seed;                /* impairment seed; 0 = from the system's random source */
    const char *pcap_path;        /* write every datagram sent and received, with IP/UDP
                                     headers, as pcap (LINKTYPE_RAW); NULL = none */
    uint32_t handshake_rate;      /* server: datagrams the front door answers (RETRY, RESET)
                                     or accepts, per second per source address (IPv4 /32,
                                     IPv6 /64); beyond it they are dropped unanswered and
                                     counted. 0 = no limit; at most
                                     RUDP_SOCK_MAX_HANDSHAKE_RATE. Datagrams of existing
                                     connections never count */
    uint32_t handshake_burst;     /* how many of those a quiet source may send at once;
                                     0 = 2 x handshake_rate */
    const rudp_sock_dtls_t *dtls; /* non-NULL: DTLS under rudp (see rudp_sock_dtls_t);
                                     RUDP_ENOTSUP from a library built without it or
                                     without its module (rudp_sock_dtls_available()) */
    int gso;                      /* 1 (default): where the kernel has UDP GSO (Linux 4.18+),
                                     a run of equal-size datagrams to one peer leaves in one
                                     send the kernel cuts into those datagrams (the wire is
                                     unchanged; a path that drops packets before they are
                                     cut, such as a netem qdisc, drops the run whole), and
                                     with UDP GRO (Linux 5.0+) such a run that reaches the
                                     socket whole is read in one receive and cut here. A
                                     refused run goes again one datagram per send; a socket
                                     that cannot do it at all turns it off by itself
                                     (docs/api-sock.md). 0: one datagram per send */
    int always_retry;             /* server: 1 = every INITIAL without a cookie gets the
                                     stateless RETRY, as before 0.2.0 (one more round trip
                                     per connection); 0 (default) = only under load (see
                                     RUDP_SOCK_UNPROVEN_MAX) */
    uint32_t max_per_source;      /* server: connections one source (IPv4 /32, IPv6 /64)
                                     may hold at once; one more gets RESET(SOURCE), which its
                                     client reports as RUDP_ELIMIT. 0 (default) = an eighth
                                     of max_clients, at least 1 */
} rudp_sock_config_t;

typedef enum rudp_sock_event_kind {
    RUDP_SOCK_EV_CONNECTED = 1, /* client: the handshake completed */
    RUDP_SOCK_EV_ACCEPTED = 2,  /* server: a client that proved its address (a cookie, or
                                   an answer echoing the server's ISN) has a connection */
    RUDP_SOCK_EV_READABLE = 3,  /* messages wait: call rudp_conn_recv() until RUDP_EAGAIN */
    RUDP_SOCK_EV_CLOSED = 4,    /* the connection ended; error 0 = cleanly. The rudp_conn_t
                                   (and peer) stay valid until the next call of
                                   rudp_sock_service/next_event/step/free, then are freed */
} rudp_sock_event_kind_t;

/* One event of one connection. A connection's events come in the order ACCEPTED or
 * CONNECTED, READABLE, CLOSED; each kind waits at most once (a READABLE not yet pulled
 * is not repeated). */
typedef struct rudp_sock_event {
    rudp_sock_event_kind_t kind;
    rudp_conn_t *conn;
    void *user;                  /* the connection's pointer (rudp_sock_set_user); NULL
                                    until set, so always NULL with ACCEPTED */
    const struct sockaddr *peer; /* the connection's peer address */
    socklen_t peer_len;
    int error; /* CLOSED: rudp_conn_error() of the connection */
} rudp_sock_event_t;

/* What the server's stateless front door did (rudp_listener_t's counters, without its
 * key and gate). */
typedef struct rudp_sock_front_stats {
    uint64_t retries_sent;       /* RETRY answers to INITIALs without a cookie */
    uint64_t cookies_bad;        /* forged, or from another address / connection ID */
    uint64_t cookies_expired;    /* valid but too old (or from the future) */
    uint64_t resets_sent;        /* RESETs for unknown connections */
    uint64_t garbage;            /* datagrams that failed the wire checks */
    uint64_t ignored;            /* valid datagrams needing no answer (RESET, ACK, ...) */
    uint64_t checksum;           /* of garbage: a datagram whose only fault is its CRC */
    uint64_t rate_limited;       /* left unanswered: over the handshake rate */
    uint64_t accepted_unproven;  /* INITIALs without a cookie accepted at once */
    uint64_t unproven_validated; /* of those, clients that then proved their address */
    uint64_t unproven_dropped;   /* of those, dropped unproven (closed or timed out);
                                    never announced to the application */
    uint64_t cookies_replayed;   /* valid cookies that had opened a connection already */
} rudp_sock_front_stats_t;

/* Counters of the socket as a whole (the engines keep their own, see rudp_conn_stats). */
typedef struct rudp_sock_stats {
    uint64_t datagrams_in, datagrams_out;
    uint64_t bytes_in, bytes_out;
    uint64_t accepted;                /* server: connections created */
    uint64_t refused_full;            /* server: validated clients refused at max_clients */
    uint64_t wrong_address;           /* datagrams whose connection ID belongs to another peer */
    uint64_t send_errors;             /* sendto/sendmmsg failures other than EAGAIN */
    uint64_t active;                  /* connections held now */
    rudp_sock_front_stats_t listener; /* server: the front door's counters */
    rudp_sim_stats_t impair;          /* built-in impairment's counters */
    uint64_t send_dropped;            /* listener replies dropped: the send queue was full */
    uint64_t impair_seed;             /* the seed in use (drawn at random when config said 0),
                                 to reproduce a run with --seed */
    /* Drops not already counted above or in `listener` (garbage, checksum, cookies_bad,
     * cookies_expired, rate_limited, ignored; resets_sent for unknown connections): */
    uint64_t oversized;            /* datagrams over RUDP_MAX_DATAGRAM (also in garbage) */
    uint64_t rate_sources_evicted; /* rate-limit entries of still-limited sources pushed
                                      out of the fixed table by other sources */
    rudp_sock_dtls_stats_t dtls;   /* with cfg.dtls */
    uint64_t gso_sends;            /* sends that carried several datagrams (cfg.gso) */
    uint64_t gro_receives;         /* receives that carried several datagrams (cfg.gso) */
    uint64_t icmp_errors;          /* ICMP errors the kernel reported on the socket
                                      (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH,
                                      ENOPROTOOPT, EMSGSIZE...), on a receive or a send:
                                      never fatal; see docs/security.md */
    uint64_t refused_source;       /* server: clients refused at max_per_source */
} rudp_sock_stats_t;

/* Defaults: engine defaults, 1024 clients, AF_UNSPEC, no impairment, no pcap,
 * handshake_rate RUDP_SOCK_DEFAULT_HANDSHAKE_RATE with a burst of twice that, gso on. */
RUDP_API void rudp_sock_config_default(rudp_sock_config_t *cfg);

/* Resolves host:port (getaddrinfo; names, IPv4 and IPv6 literals), opens a connected
 * UDP socket and starts the handshake. *out is the caller's, freed with rudp_sock_free().
 * Returns 0, RUDP_EADDR (cannot resolve), RUDP_ESYS (socket/connect failed; errno
 * tells), RUDP_EINVAL, RUDP_ENOMEM or RUDP_ENOTSUP (cfg.dtls, but DTLS cannot be had). */
RUDP_API int rudp_sock_new_client(rudp_sock_t **out, const char *host, const char *port,
                                  const rudp_sock_config_t *cfg);

/* Binds host:port (host NULL: every address, IPv6 dual-stack where available; port "0":
 * the kernel picks one). Returns as rudp_sock_new_client(). */
RUDP_API int rudp_sock_new_server(rudp_sock_t **out, const char *host, const char *port,
                                  const rudp_sock_config_t *cfg);

/* Closes the socket and frees every connection and buffer it owns (without telling
 * peers; call rudp_sock_close() and service until CLOSED events for a graceful end).
 * Events not pulled are dropped. NULL is fine. */
RUDP_API void rudp_sock_free(rudp_sock_t *s);

/* The next event: one already waiting, or else one step (rudp_sock_step) with this
 * timeout and the first event it produced. Returns 1 with *ev filled, 0 when the step
 * ended without an event (the timeout passed, an interrupting signal, or only work the
 * application need not see, such as an ACK), or RUDP_ESYS for a socket error that ends
 * the socket's use, RUDP_EINVAL for NULL arguments. Messages the application queues
 * while handling events (rudp_sock_send, rudp_sock_close) leave at the next call of
 * rudp_sock_service(), rudp_sock_step() or rudp_sock_flush(), together with the
 * engines' ACKs. */
RUDP_API int rudp_sock_service(rudp_sock_t *s, rudp_sock_event_t *ev, int timeout_ms);

/* The next event already waiting, without I/O (as enet_host_check_events). Returns 1
 * with *ev filled, 0 when none waits, RUDP_EINVAL for NULL arguments. */
RUDP_API int rudp_sock_next_event(rudp_sock_t *s, rudp_sock_event_t *ev);

/* Waits up to timeout_ms (-1: until the next engine deadline or datagram, however
 * long) for datagrams, feeds them in, runs due timers, queues events for
 * rudp_sock_next_event() and sends everything the engines have ready. Returns
 * immediately while events wait. An interrupting signal ends the wait early and
 * returns 0, so callers can check their flags. On Linux the wait may also end at a
 * deadline that has since moved later (docs/api-sock.md): a step with nothing to do.
 * Returns 0, or RUDP_ESYS for a socket error that ends the socket's use. */
RUDP_API int rudp_sock_step(rudp_sock_t *s, int timeout_ms);

/* rudp_sock_step() whose one wait also watches the application's own descriptors (a
 * signal pipe, stdin, stdout): fds[0..nfds-1] as for poll(), fd and events set by the
 * caller, revents filled in (all 0 when the wait ended for another reason or was
 * interrupted). A program with descriptors of its own thus sleeps in one ppoll() per
 * step, where polling them and the socket (rudp_sock_fd) and then stepping with
 * timeout 0 takes two. timeout_us: -1 waits until the next engine deadline, a
 * datagram or one of fds, however long; the engines' deadlines shorten it anyway. The
 * socket's part of the step is rudp_sock_step()'s. Returns 0, RUDP_EINVAL (NULL s,
 * NULL fds with nfds > 0, nfds over RUDP_SOCK_MAX_POLLFDS), or RUDP_ESYS for a socket
 * error that ends the socket's use. */
RUDP_API int rudp_sock_step_poll(rudp_sock_t *s, struct pollfd *fds, unsigned nfds,
                                 int64_t timeout_us);

/* Sends now what the application queued while handling events (see
 * rudp_sock_service), without waiting or reading. Returns 0 or RUDP_EINVAL. */
RUDP_API int rudp_sock_flush(rudp_sock_t *s);

/* Attaches the application's pointer to a connection; every later event of it carries
 * it in ev->user, so the application never searches for "which client is this?".
 * Returns 0, or RUDP_EINVAL (NULL s or c, or c not a live connection of s). */
RUDP_API int rudp_sock_set_user(rudp_sock_t *s, rudp_conn_t *c, void *user);

/* Queues a message on a connection (see rudp_conn_send) and sends at once what the
 * window allows. Returns as rudp_conn_send(). */
RUDP_API int rudp_sock_send(rudp_sock_t *s, rudp_conn_t *c, const void *msg, size_t len);

/* Closes this side's stream (see rudp_conn_close) and sends the FIN when it can. */
RUDP_API int rudp_sock_close(rudp_sock_t *s, rudp_conn_t *c);

/* Aborts a connection (see rudp_conn_abort) and sends its RESET now, so the peer learns
 * at once rather than by its dead-peer limit. Its CLOSED event follows at the next step.
 * Returns 0 or RUDP_EINVAL. */
RUDP_API int rudp_sock_abort(rudp_sock_t *s, rudp_conn_t *c);

/* Client: its one connection (NULL once freed after CLOSED). */
RUDP_API rudp_conn_t *rudp_sock_conn(rudp_sock_t *s);

/* The bound local port, for servers started on port "0". */
RUDP_API int rudp_sock_local_port(const rudp_sock_t *s);

/* The socket's file descriptor, for callers that poll other descriptors too. */
RUDP_API int rudp_sock_fd(const rudp_sock_t *s);

/* Milliseconds until the earliest engine deadline (0: work is due now; -1: none). */
RUDP_API int rudp_sock_timeout_ms(const rudp_sock_t *s);

/* Microseconds until the earliest engine deadline, for callers that sleep with finer
 * than millisecond precision (pselect, ppoll): 0 when work is due now, -1 when no
 * timer runs. On a LAN the probe timeout is about a millisecond, so rounding it up to
 * whole milliseconds can nearly double it. */
RUDP_API int64_t rudp_sock_timeout_us(const rudp_sock_t *s);

/* Datagrams the socket still holds: in the built-in impairment's queue (delay, rate)
 * or in the send ring. rudp_sock_free() drops them, so a program whose last ACK or FIN
 * may still wait there keeps stepping (rudp_sock_timeout_us() says until when) while
 * this is nonzero, bounded by its own limit. Returns the count; 0 for NULL. */
RUDP_API size_t rudp_sock_pending(const rudp_sock_t *s);

/* The driver's monotonic clock, µs: the `now` the engines see. */
RUDP_API uint64_t rudp_sock_now(const rudp_sock_t *s);

/* Copies the socket's counters into *out (the listener's and impairment's included). */
RUDP_API void rudp_sock_stats(const rudp_sock_t *s, rudp_sock_stats_t *out);

/* Whether errno value err is one the kernel derives from an ICMP error quoting one of
 * our datagrams (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ENOPROTOOPT, EMSGSIZE...). On a
 * connected UDP socket it comes once, from a recv or a send, in place of a datagram,
 * and anyone who guesses the addresses and ports can forge one: the driver counts them
 * (icmp_errors) and never ends a connection for one. For programs with sockets of
 * their own, such as hola's plain UDP client. */
RUDP_API int rudp_sock_icmp_errno(int err);

/* 1 when DTLS can be used: this librudp was built with it (OpenSSL 3) and its module,
 * rudp-dtls.so, loads (the first call loads it; see rudp_dtls_load() for why not), else
 * 0. */
RUDP_API int rudp_sock_dtls_available(void);

/* With DTLS: why the session ended or could not start ("server certificate does not
 * match the pinned fingerprint", "the server sent alert: handshake failure", "no DTLS
 * answer within 10 s"); without DTLS, a client whose server answered with DTLS records
 * gets "the server speaks DTLS: it requires --secure". NULL when nothing went wrong.
 * The string belongs to s. A failed DTLS handshake ends the client's connection with
 * RUDP_EREFUSED (a refusal or verification failure) or RUDP_ETIMEDOUT (no answer). */
RUDP_API const char *rudp_sock_security_error(const rudp_sock_t *s);

#ifdef __cplusplus
}
#endif
#endif
