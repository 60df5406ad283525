/* The names exchange on real sockets for the driver tests (see harness.h). */
#include "harness.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rudp/error.h"

#define MAX_ROUNDS 5000000u

uint64_t h_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int name_of(uint32_t client, uint32_t i, char *buf, size_t cap)
{
    return snprintf(buf, cap, "c%03u-name-%06u", (unsigned)client, (unsigned)i);
}

static int find_conn(h_server_t *srv, rudp_conn_t *c)
{
    for (int i = 0; i < H_MAX_CONNS; i++)
        if (srv->conns[i].conn == c)
            return i;
    return -1;
}

static void server_read(h_server_t *srv, rudp_sock_t *s, rudp_conn_t *c, int k)
{
    char msg[RUDP_MAX_PAYLOAD + 1], reply[RUDP_MAX_PAYLOAD];
    /* Read a name only when its reply can be queued: unread names shrink our window
     * and so slow the client down, as a real server would. */
    while (rudp_conn_send_space(c) > 0) {
        int r = rudp_conn_recv(c, msg, sizeof msg - 1);
        if (r == RUDP_ECLOSED) {
            if (k >= 0 && !srv->conns[k].eof) {
                srv->conns[k].eof = 1;
                rudp_sock_close(s, c);
            }
            return;
        }
        if (r < 0)
            return;
        msg[r] = '\0';
        unsigned cid = 0, idx = 0;
        if (sscanf(msg, "c%3u-name-%6u", &cid, &idx) != 2 || k < 0 || idx != srv->conns[k].next) {
            srv->bad = 1;
        } else {
            srv->conns[k].next++;
        }
        int n = snprintf(reply, sizeof reply, "Hola %s", msg);
        if (rudp_sock_send(s, c, reply, (size_t)n) != 0)
            srv->bad = 1;
        srv->names++;
    }
}

void h_server_cb(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev)
{
    h_server_t *srv = user;
    int k = find_conn(srv, ev->conn);
    switch (ev->kind) {
    case RUDP_SOCK_EV_ACCEPTED:
        srv->accepted++;
        k = find_conn(srv, NULL);
        if (k >= 0) {
            srv->conns[k].conn = ev->conn;
            srv->conns[k].next = 0;
            srv->conns[k].eof = 0;
        }
        break;
    case RUDP_SOCK_EV_READABLE:
        server_read(srv, s, ev->conn, k);
        break;
    case RUDP_SOCK_EV_CLOSED:
        srv->closed++;
        if (ev->error == 0)
            srv->closed_clean++;
        if (k >= 0)
            srv->conns[k].conn = NULL;
        break;
    case RUDP_SOCK_EV_CONNECTED:
        break;
    }
}

void h_client_top_up(h_client_t *c)
{
    rudp_conn_t *conn = rudp_sock_conn(c->sock);
    if (!conn || !c->connected || c->closing)
        return;
    char name[64];
    while (c->sent < c->names && (!c->lockstep || c->got == c->sent)) {
        int n = name_of(c->id, c->sent, name, sizeof name);
        if (rudp_sock_send(c->sock, conn, name, (size_t)n) != 0)
            break;
        c->sent++;
    }
    if (c->got == c->names && c->sent == c->names) {
        c->closing = 1;
        rudp_sock_close(c->sock, conn);
    }
}

void h_client_cb(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev)
{
    h_client_t *c = user;
    (void)s;
    switch (ev->kind) {
    case RUDP_SOCK_EV_CONNECTED:
        c->connected = 1;
        h_client_top_up(c);
        break;
    case RUDP_SOCK_EV_READABLE: {
        char msg[RUDP_MAX_PAYLOAD + 1], want[80], name[64];
        for (;;) {
            int r = rudp_conn_recv(ev->conn, msg, sizeof msg - 1);
            if (r < 0)
                break;
            msg[r] = '\0';
            name_of(c->id, c->got, name, sizeof name);
            snprintf(want, sizeof want, "Hola %s", name);
            if (c->got >= c->names || strcmp(msg, want) != 0)
                c->bad = 1;
            c->got++;
        }
        h_client_top_up(c);
        break;
    }
    case RUDP_SOCK_EV_CLOSED:
        c->closed = 1;
        c->error = ev->error;
        c->closed_at = h_now_us();
        break;
    case RUDP_SOCK_EV_ACCEPTED:
        break;
    }
}

int h_client_open(h_client_t *c, uint32_t id, uint32_t names, const char *host, int port,
                  const rudp_sock_config_t *cfg)
{
    int lockstep = c->lockstep;
    memset(c, 0, sizeof *c);
    c->lockstep = lockstep;
    c->id = id;
    c->names = names;
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    return h_sock_client(&c->sock, host ? host : "127.0.0.1", p, cfg, h_client_cb, c);
}

int h_server_open(h_server_t *srv, const char *host, const rudp_sock_config_t *cfg)
{
    memset(srv, 0, sizeof *srv);
    return h_sock_server(&srv->sock, host, "0", cfg, h_server_cb, srv);
}

/* Which handler each socket's events go to: the newest registration of an address wins,
 * so a socket freed and another allocated at its address is handled as the new one. */
#define H_REG 1024
static struct {
    rudp_sock_t *s;
    h_cb cb;
    void *user;
} reg[H_REG];
static uint32_t reg_next;

static void h_register(rudp_sock_t *s, h_cb cb, void *user)
{
    uint32_t i;
    for (i = 0; i < H_REG && reg[i].s != s; i++) {
    }
    if (i == H_REG)
        i = reg_next++ % H_REG;
    reg[i].s = s;
    reg[i].cb = cb;
    reg[i].user = user;
}

int h_sock_client(rudp_sock_t **out, const char *host, const char *port,
                  const rudp_sock_config_t *cfg, h_cb cb, void *user)
{
    int rc = rudp_sock_new_client(out, host, port, cfg);
    if (rc == 0)
        h_register(*out, cb, user);
    return rc;
}

int h_sock_server(rudp_sock_t **out, const char *host, const char *port,
                  const rudp_sock_config_t *cfg, h_cb cb, void *user)
{
    int rc = rudp_sock_new_server(out, host, port, cfg);
    if (rc == 0)
        h_register(*out, cb, user);
    return rc;
}

int h_step(rudp_sock_t *s, int timeout_ms)
{
    int rc = rudp_sock_step(s, timeout_ms);
    h_cb cb = NULL;
    void *user = NULL;
    for (uint32_t i = 0; i < H_REG; i++) {
        if (reg[i].s == s) {
            cb = reg[i].cb;
            user = reg[i].user;
            break;
        }
    }
    rudp_sock_event_t ev;
    while (rudp_sock_next_event(s, &ev) > 0)
        if (cb)
            cb(user, s, &ev);
    rudp_sock_flush(s); /* what the handlers queued leaves now, as one batch */
    return rc;
}

int h_run(h_server_t *srv, h_client_t *cl, uint32_t n, uint32_t limit_ms, void (*extra)(void *),
          void *extra_user)
{
    uint64_t end = h_now_us() + (uint64_t)limit_ms * 1000u;
    struct pollfd pfd[H_MAX_CONNS + 1];
    for (uint32_t round = 0; round < MAX_ROUNDS && h_now_us() < end; round++) {
        if (srv && srv->sock)
            h_step(srv->sock, 0);
        uint32_t open = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (!cl[i].sock)
                continue;
            h_step(cl[i].sock, 0);
            h_client_top_up(&cl[i]); /* ACK-only input opens send space silently */
            open += !cl[i].closed;
        }
        if (extra)
            extra(extra_user);
        if (open == 0)
            return 0;
        /* Sleep until a datagram or the earliest deadline, 2 ms at most (the relay in
         * some tests has no deadline of its own). */
        int timeout = extra ? 1 : 2, np = 0;
        if (srv && srv->sock) {
            int t = rudp_sock_timeout_ms(srv->sock);
            if (t >= 0 && t < timeout)
                timeout = t;
            pfd[np++] = (struct pollfd){ .fd = rudp_sock_fd(srv->sock), .events = POLLIN };
        }
        for (uint32_t i = 0; i < n && np < H_MAX_CONNS + 1; i++) {
            if (!cl[i].sock)
                continue;
            int t = rudp_sock_timeout_ms(cl[i].sock);
            if (t >= 0 && t < timeout)
                timeout = t;
            pfd[np++] = (struct pollfd){ .fd = rudp_sock_fd(cl[i].sock), .events = POLLIN };
        }
        (void)poll(pfd, (nfds_t)np, timeout);
    }
    return -1;
}

#if defined(UDP_SEGMENT) || defined(UDP_GRO)
/* Whether this kernel takes the UDP socket option `opt` set to `value`. */
static int kernel_takes(int opt, int value)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int ok = fd >= 0 && setsockopt(fd, SOL_UDP, opt, &value, sizeof value) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}
#endif

int h_kernel_has_gso(void)
{
#ifdef UDP_SEGMENT
    return kernel_takes(UDP_SEGMENT, 1000); /* an int here; a uint16_t in the cmsg */
#else
    return 0;
#endif
}

int h_kernel_has_gro(void)
{
#ifdef UDP_GRO
    return kernel_takes(UDP_GRO, 1);
#else
    return 0;
#endif
}
