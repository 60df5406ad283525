/* A names server and names clients on real loopback sockets, all in one thread: the
 * driver tests step every rudp_sock_t in a bounded loop. */
#ifndef SOCK_HARNESS_H
#define SOCK_HARNESS_H

#include <stdint.h>

#include "rudp/sock.h"

#define H_MAX_CONNS 128

/* Server: answers every name with "Hola <name>", checks each connection's names come
 * once and in order (names carry their client number and index). */
typedef struct h_server {
    rudp_sock_t *sock;
    uint32_t accepted, closed, closed_clean;
    uint32_t names; /* names answered, all connections */
    int bad;        /* a name out of order or repeated */
    struct {
        rudp_conn_t *conn;
        uint32_t next;
        int eof;
    } conns[H_MAX_CONNS];
} h_server_t;

typedef struct h_client {
    rudp_sock_t *sock;
    uint32_t id;
    uint32_t names;     /* to send */
    uint32_t sent, got; /* names queued, replies received in order */
    int lockstep;
    int connected, closing, closed;
    int error;          /* from the CLOSED event */
    int bad;            /* a reply out of order, repeated or wrong */
    uint64_t closed_at; /* monotonic µs of the CLOSED event */
} h_client_t;

/* A test's event handler. The driver's events are pulled (rudp_sock_next_event);
 * h_step() pulls them after each step and hands each to the handler the socket was
 * opened with, outside the driver. */
typedef void (*h_cb)(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev);

void h_server_cb(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev);
void h_client_cb(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev);

/* rudp_sock_new_client() / rudp_sock_new_server(), remembering the handler for h_step(). */
int h_sock_client(rudp_sock_t **out, const char *host, const char *port,
                  const rudp_sock_config_t *cfg, h_cb cb, void *user);
int h_sock_server(rudp_sock_t **out, const char *host, const char *port,
                  const rudp_sock_config_t *cfg, h_cb cb, void *user);

/* rudp_sock_step(), then every event it queued to the socket's handler, then
 * rudp_sock_flush() for what the handlers sent. Returns rudp_sock_step()'s result. */
int h_step(rudp_sock_t *s, int timeout_ms);

/* Queues as many names as the connection takes now. */
void h_client_top_up(h_client_t *c);

/* Steps the server (may be NULL) and the clients until every client is closed or
 * limit_ms passes. Extra sockets (relays, ...) get `extra(extra_user)` each round.
 * Returns 0 when every client closed, -1 on the time limit. */
int h_run(h_server_t *srv, h_client_t *cl, uint32_t n, uint32_t limit_ms, void (*extra)(void *),
          void *extra_user);

/* Opens a client to 127.0.0.1 (or host) at port. Returns rudp_sock_new_client()'s result. */
int h_client_open(h_client_t *c, uint32_t id, uint32_t names, const char *host, int port,
                  const rudp_sock_config_t *cfg);

/* Opens the server on host (NULL: every address) and port "0". */
int h_server_open(h_server_t *srv, const char *host, const rudp_sock_config_t *cfg);

uint64_t h_now_us(void);

/* Whether this kernel takes UDP_SEGMENT (Linux 4.18+): where it does not, the driver
 * sends one datagram at a time and the GSO tests have nothing to check. */
int h_kernel_has_gso(void);

/* Whether this kernel takes UDP_GRO (Linux 5.0+): then a GSO run over loopback, which
 * stays whole, arrives in one receive. */
int h_kernel_has_gro(void);

#endif
