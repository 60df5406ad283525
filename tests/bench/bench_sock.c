/* The socket driver benchmark, on loopback, server and client in two processes:
 *   1. 100 000 names pipelined over rudp, and over raw UDP with the same batching
 *      (recvmmsg/sendmmsg) and the same window of outstanding names but no reliability;
 *      names per second for both and their ratio (medians of --runs runs);
 *   2. the same names over rudp with coalescing (window 1024) against TCP with
 *      TCP_NODELAY, one send() per name as the application hands them over;
 *   3. 1000 concurrent clients x 100 names at 5% built-in loss against one server:
 *      how many complete, and the server's peak resident memory.
 *   bench_sock [--quick] [--runs N] [--names N] [--clients N] [--server-window N]
 * Prints `bench=sock ...` lines (see docs/api-sock.md "Benchmarks"). */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, wait4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rudp/error.h"
#include "rudp/sock.h"

#define BATCH 64
#define MAX_RUNS 15

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int make_name(uint32_t i, char *buf)
{
    return snprintf(buf, 32, "name-%06u", (unsigned)(i % 1000000u));
}

/* ---- the rudp names server (child process) -------------------------------------- */

typedef struct srv_state {
    uint32_t expect_clients, closed, completed;
    int done;
} srv_state_t;

static void srv_cb(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev)
{
    srv_state_t *st = user;
    char msg[RUDP_MAX_PAYLOAD], reply[RUDP_MAX_PAYLOAD + 8];
    if (ev->kind == RUDP_SOCK_EV_READABLE) {
        while (rudp_conn_send_space(ev->conn) > 0) {
            int r = rudp_conn_recv(ev->conn, msg, sizeof msg);
            if (r == RUDP_ECLOSED) {
                rudp_sock_close(s, ev->conn);
                break;
            }
            if (r < 0)
                break;
            memcpy(reply, "Hola ", 5);
            memcpy(reply + 5, msg, (size_t)r);
            rudp_sock_send(s, ev->conn, reply, (size_t)r + 5);
        }
    } else if (ev->kind == RUDP_SOCK_EV_CLOSED) {
        st->closed++;
        st->completed += ev->error == 0;
        if (st->closed >= st->expect_clients)
            st->done = 1;
    }
}

/* One step of the driver, its events to cb (outside the driver), and what cb sent. */
static void pump(rudp_sock_t *s, int timeout_ms,
                 void (*cb)(void *, rudp_sock_t *, const rudp_sock_event_t *), void *user)
{
    rudp_sock_event_t ev;
    rudp_sock_step(s, timeout_ms);
    while (rudp_sock_next_event(s, &ev) > 0)
        cb(user, s, &ev);
    rudp_sock_flush(s);
}

static void rudp_server_child(int port_fd, const rudp_sock_config_t *cfg, uint32_t clients,
                              uint32_t limit_s)
{
    srv_state_t st = { .expect_clients = clients };
    rudp_sock_t *s;
    if (rudp_sock_new_server(&s, "127.0.0.1", "0", cfg) != 0)
        _exit(2);
    int port = rudp_sock_local_port(s);
    if (write(port_fd, &port, sizeof port) != (ssize_t)sizeof port)
        _exit(2);
    uint64_t end = now_us() + (uint64_t)limit_s * 1000000u;
    while (!st.done && now_us() < end)
        pump(s, 100, srv_cb, &st);
    rudp_sock_free(s);
    _exit(st.completed == clients ? 0 : 1);
}

static pid_t spawn(void (*fn)(int, const rudp_sock_config_t *, uint32_t, uint32_t),
                   const rudp_sock_config_t *cfg, uint32_t clients, uint32_t limit_s, int *port)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        fn(p[1], cfg, clients, limit_s);
        _exit(0);
    }
    close(p[1]);
    if (pid < 0 || read(p[0], port, sizeof *port) != (ssize_t)sizeof *port) {
        close(p[0]);
        return -1;
    }
    close(p[0]);
    return pid;
}

/* ---- rudp throughput: one client, N names pipelined ----------------------------------- */

typedef struct cli_state {
    rudp_sock_t *sock;
    uint32_t names, sent, got;
    int connected, closing, closed, error, bad;
    uint64_t t_last;
} cli_state_t;

static void cli_top_up(cli_state_t *c)
{
    rudp_conn_t *conn = rudp_sock_conn(c->sock);
    if (!conn || !c->connected || c->closing)
        return;
    char name[32];
    while (c->sent < c->names) {
        int n = make_name(c->sent, name);
        if (rudp_sock_send(c->sock, conn, name, (size_t)n) != 0)
            break;
        c->sent++;
    }
    if (c->got == c->names) {
        c->closing = 1;
        rudp_sock_close(c->sock, conn);
    }
}

static void cli_cb(void *user, rudp_sock_t *s, const rudp_sock_event_t *ev)
{
    cli_state_t *c = user;
    (void)s;
    char msg[RUDP_MAX_PAYLOAD], want[40];
    switch (ev->kind) {
    case RUDP_SOCK_EV_CONNECTED:
        c->connected = 1;
        cli_top_up(c);
        break;
    case RUDP_SOCK_EV_READABLE:
        for (;;) {
            int r = rudp_conn_recv(ev->conn, msg, sizeof msg);
            if (r < 0)
                break;
            memcpy(want, "Hola ", 5);
            int n = make_name(c->got, want + 5);
            if (r != n + 5 || memcmp(msg, want, (size_t)r) != 0)
                c->bad = 1;
            if (++c->got == c->names)
                c->t_last = now_us();
        }
        cli_top_up(c);
        break;
    case RUDP_SOCK_EV_CLOSED:
        c->closed = 1;
        c->error = ev->error;
        break;
    case RUDP_SOCK_EV_ACCEPTED:
        break;
    }
}

/* Datagrams the rudp client sent and received per name, last run: what reliability
 * costs on the wire (raw UDP: exactly 1 and 1). */
static double rudp_out_per_name, rudp_in_per_name;

static double run_rudp(uint32_t names, const rudp_sock_config_t *cfg)
{
    int port;
    pid_t pid = spawn(rudp_server_child, cfg, 1, 120, &port);
    if (pid < 0)
        return -1;
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    cli_state_t c = { .names = names };
    uint64_t t0 = now_us();
    if (rudp_sock_new_client(&c.sock, "127.0.0.1", p, cfg) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    uint64_t end = t0 + 120000000u;
    while (!c.closed && now_us() < end) {
        pump(c.sock, 100, cli_cb, &c);
        cli_top_up(&c);
    }
    rudp_sock_stats_t st;
    rudp_sock_stats(c.sock, &st);
    rudp_out_per_name = (double)st.datagrams_out / names;
    rudp_in_per_name = (double)st.datagrams_in / names;
    rudp_sock_free(c.sock);
    int status = 0;
    if (!c.closed)
        kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    if (c.got != names || c.bad || c.error) {
        fprintf(stderr, "bench_sock: rudp run incomplete: got %u of %u, error %s\n", c.got, names,
                rudp_strerror(c.error));
        return -1;
    }
    return names / ((double)(c.t_last - t0) / 1e6);
}

/* ---- TCP with TCP_NODELAY: one name per send(), replies read in large batches ------ */

static int tcp_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Answers every line with "Hola <line>", one write per name, as hola-server does. */
static void tcp_server_child(int port_fd, const rudp_sock_config_t *cfg, uint32_t clients,
                             uint32_t limit_s)
{
    (void)cfg;
    (void)clients;
    alarm(limit_s);
    int port, lfd = tcp_listener(&port);
    if (lfd < 0 || write(port_fd, &port, sizeof port) != (ssize_t)sizeof port)
        _exit(2);
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        _exit(2);
    nodelay(fd);
    static char in[1 << 16], out[(1 << 16) * 2];
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, in + have, sizeof in - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        size_t start = 0, o = 0;
        for (size_t i = 0; i < have; i++) {
            if (in[i] != '\n')
                continue;
            memcpy(out, "Hola ", 5);
            memcpy(out + 5, in + start, i - start + 1);
            o = 5 + i - start + 1;
            start = i + 1;
            if (write_all(fd, out, o) != 0)
                _exit(1);
        }
        memmove(in, in + start, have - start);
        have -= start;
    }
    _exit(0);
}

static double run_tcp(uint32_t names)
{
    int port;
    pid_t pid = spawn(tcp_server_child, NULL, 1, 120, &port);
    if (pid < 0)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    uint64_t t0 = now_us();
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    nodelay(fd);
    static char out[1 << 16], in[1 << 16];
    uint32_t sent = 0, got = 0;
    size_t pending = 0, off = 0;
    int bad = 0;
    uint64_t end = t0 + 120000000u;
    while (got < names && now_us() < end) {
        /* One name per send(), as the application hands them over one by one (the
         * rudp client calls rudp_sock_send once per name too), as many as the socket
         * takes before it would block; the kernel may still merge them. */
        while (sent < names || pending) {
            if (!pending) {
                int n = make_name(sent++, out);
                out[n] = '\n';
                pending = (size_t)n + 1;
                off = 0;
            }
            ssize_t w = send(fd, out + off, pending - off, MSG_DONTWAIT);
            if (w <= 0)
                break;
            off += (size_t)w;
            if (off == pending)
                pending = 0;
        }
        struct pollfd pf = { .fd = fd, .events = POLLIN | (pending ? POLLOUT : 0) };
        if (poll(&pf, 1, 100) < 0 && errno != EINTR)
            break;
        if (pf.revents & (POLLIN | POLLHUP)) {
            ssize_t r;
            while ((r = recv(fd, in, sizeof in, MSG_DONTWAIT)) > 0)
                for (ssize_t i = 0; i < r; i++)
                    got += in[i] == '\n';
            if (r == 0)
                break;
        }
    }
    uint64_t t1 = now_us();
    close(fd);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != names || bad) {
        fprintf(stderr, "bench_sock: tcp run incomplete: got %u of %u\n", got, names);
        return -1;
    }
    return names / ((double)(t1 - t0) / 1e6);
}

/* ---- raw UDP: the same names, batching and window, no reliability ------------------ */

static int udp_bound(int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void raw_server_child(int port_fd, const rudp_sock_config_t *cfg, uint32_t clients,
                             uint32_t limit_s)
{
    (void)cfg;
    (void)clients;
    int port;
    int fd = udp_bound(&port);
    if (fd < 0 || write(port_fd, &port, sizeof port) != (ssize_t)sizeof port)
        _exit(2);
    static uint8_t in[BATCH][64], out[BATCH][80];
    struct mmsghdr rm[BATCH], sm[BATCH];
    struct iovec riov[BATCH], siov[BATCH];
    struct sockaddr_in from[BATCH];
    uint64_t end = now_us() + (uint64_t)limit_s * 1000000u;
    while (now_us() < end) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        for (int i = 0; i < BATCH; i++) {
            riov[i] = (struct iovec){ in[i], sizeof in[i] };
            memset(&rm[i], 0, sizeof rm[i]);
            rm[i].msg_hdr.msg_iov = &riov[i];
            rm[i].msg_hdr.msg_iovlen = 1;
            rm[i].msg_hdr.msg_name = &from[i];
            rm[i].msg_hdr.msg_namelen = sizeof from[i];
        }
        int n = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < n; i++) {
            memcpy(out[i], "Hola ", 5);
            memcpy(out[i] + 5, in[i], rm[i].msg_len);
            siov[i] = (struct iovec){ out[i], rm[i].msg_len + 5 };
            memset(&sm[i], 0, sizeof sm[i]);
            sm[i].msg_hdr.msg_iov = &siov[i];
            sm[i].msg_hdr.msg_iovlen = 1;
            sm[i].msg_hdr.msg_name = &from[i];
            sm[i].msg_hdr.msg_namelen = rm[i].msg_hdr.msg_namelen;
        }
        for (int done = 0; n > 0 && done < n;) {
            int r = sendmmsg(fd, sm + done, (unsigned)(n - done), 0);
            if (r <= 0)
                break;
            done += r;
        }
    }
    _exit(0);
}

/* Sends names keeping at most `window` outstanding; a window that makes no progress
 * for 200 ms counts its names as lost and moves on. Returns names/s; *lost is set. */
static double run_raw(uint32_t names, uint32_t window, uint32_t *lost)
{
    int port;
    pid_t pid = spawn(raw_server_child, NULL, 1, 120, &port);
    if (pid < 0)
        return -1;
    int sp, fd = udp_bound(&sp);
    struct sockaddr_in to = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                              .sin_port = htons((uint16_t)port) };
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    static uint8_t nb[BATCH][32], rb[BATCH][80];
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    uint32_t sent = 0, got = 0, written_off = 0;
    uint64_t t0 = now_us(), t_last = t0, last_progress = t0;
    while (got + written_off < names) {
        uint32_t outstanding = sent - got - written_off;
        uint32_t k = 0;
        while (sent + k < names && outstanding + k < window && k < BATCH) {
            iov[k] = (struct iovec){ nb[k], (size_t)make_name(sent + k, (char *)nb[k]) };
            memset(&mm[k], 0, sizeof mm[k]);
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
            k++;
        }
        if (k) {
            int r = sendmmsg(fd, mm, k, 0);
            if (r > 0)
                sent += (uint32_t)r;
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, sent - got - written_off < window && sent < names ? 0 : 50) > 0) {
            for (int i = 0; i < BATCH; i++) {
                iov[i] = (struct iovec){ rb[i], sizeof rb[i] };
                memset(&mm[i], 0, sizeof mm[i]);
                mm[i].msg_hdr.msg_iov = &iov[i];
                mm[i].msg_hdr.msg_iovlen = 1;
            }
            int n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
            if (n > 0) {
                got += (uint32_t)n;
                t_last = last_progress = now_us();
            }
        }
        if (now_us() - last_progress > 200000) {
            written_off += sent - got - written_off; /* no retransmission: gone */
            last_progress = now_us();
        }
    }
    close(fd);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    *lost = names - got;
    return got / ((double)(t_last - t0) / 1e6);
}

/* ---- 1000 clients against one server ---------------------------------------------- */

typedef struct many {
    cli_state_t *c;
    uint32_t n;
} many_t;

static int run_many(uint32_t clients, uint32_t names_each, double loss, uint32_t server_window,
                    uint32_t *completed, double *maxrss_mib, double *seconds)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max; /* one socket per client */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    rudp_sock_config_t scfg, ccfg;
    rudp_sock_config_default(&scfg);
    rudp_sock_config_default(&ccfg);
    /* Server memory per connection is fixed by its window (docs/api-sock.md). */
    scfg.conn.window = server_window;
    scfg.conn.send_queue = server_window;
    scfg.max_clients = clients;
    scfg.impair_on = ccfg.impair_on = 1;
    scfg.impair.loss = ccfg.impair.loss = loss;
    scfg.seed = 7;
    ccfg.conn.window = 16;
    ccfg.conn.send_queue = 16;
    scfg.conn.max_retries = ccfg.conn.max_retries = 20;
    scfg.conn.dead_timeout = ccfg.conn.dead_timeout = 0;
    int port;
    pid_t pid = spawn(rudp_server_child, &scfg, clients, 300, &port);
    if (pid < 0)
        return -1;
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    cli_state_t *c = calloc(clients, sizeof *c);
    struct pollfd *pfd = calloc(clients, sizeof *pfd);
    if (!c || !pfd)
        return -1;
    uint64_t t0 = now_us();
    for (uint32_t i = 0; i < clients; i++) {
        c[i].names = names_each;
        ccfg.seed = 1000 + i;
        if (rudp_sock_new_client(&c[i].sock, "127.0.0.1", p, &ccfg) != 0) {
            fprintf(stderr, "bench_sock: client %u: %s\n", i, strerror(errno));
            c[i].closed = 1;
        }
    }
    uint64_t end = t0 + 300000000u;
    for (;;) {
        uint32_t open = 0;
        int timeout = 100;
        for (uint32_t i = 0; i < clients; i++) {
            pfd[i] = (struct pollfd){ .fd = -1 };
            if (c[i].closed || !c[i].sock)
                continue;
            open++;
            pfd[i].fd = rudp_sock_fd(c[i].sock);
            pfd[i].events = POLLIN;
            int t = rudp_sock_timeout_ms(c[i].sock);
            if (t >= 0 && t < timeout)
                timeout = t;
        }
        if (!open || now_us() > end)
            break;
        poll(pfd, clients, timeout);
        for (uint32_t i = 0; i < clients; i++) {
            if (c[i].closed || !c[i].sock)
                continue;
            if (pfd[i].revents || rudp_sock_timeout_ms(c[i].sock) == 0) {
                pump(c[i].sock, 0, cli_cb, &c[i]);
                cli_top_up(&c[i]);
            }
        }
    }
    *seconds = (double)(now_us() - t0) / 1e6;
    *completed = 0;
    for (uint32_t i = 0; i < clients; i++) {
        *completed += c[i].closed && c[i].error == 0 && c[i].got == names_each && !c[i].bad;
        rudp_sock_free(c[i].sock);
    }
    free(c);
    free(pfd);
    int status;
    struct rusage ru;
    /* The server exits once every client's connection closed (or after its limit). */
    if (wait4(pid, &status, 0, &ru) != pid)
        return -1;
    *maxrss_mib = (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    uint32_t names = 100000, clients = 1000, names_each = 100, server_window = 8;
    int runs = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            names = 10000;
            clients = 100;
            runs = 1;
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--names") && i + 1 < argc) {
            names = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--clients") && i + 1 < argc) {
            clients = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--server-window") && i + 1 < argc) {
            server_window = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: bench_sock [--quick] [--runs N] [--names N] "
                            "[--clients N] [--server-window N]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || names == 0 || clients == 0 || server_window == 0)
        return 2;
    rudp_sock_config_t cfg;
    rudp_sock_config_default(&cfg);
    double rv[MAX_RUNS], uv[MAX_RUNS];
    uint32_t lost_max = 0;
    for (int r = 0; r < runs; r++) {
        uint32_t lost = 0;
        rv[r] = run_rudp(names, &cfg);
        uv[r] = run_raw(names, cfg.conn.window, &lost);
        if (rv[r] <= 0 || uv[r] <= 0)
            return 1;
        if (lost > lost_max)
            lost_max = lost;
        printf("bench=sock run=%d names=%u rudp_names_per_s=%.0f raw_udp_names_per_s=%.0f "
               "raw_udp_lost=%u rudp_client_dgrams_out_per_name=%.2f "
               "rudp_client_dgrams_in_per_name=%.2f\n",
               r + 1, names, rv[r], uv[r], lost, rudp_out_per_name, rudp_in_per_name);
        fflush(stdout);
    }
    double rm = median(rv, runs), um = median(uv, runs);
    printf("bench=sock names=%u rudp_names_per_s=%.0f raw_udp_names_per_s=%.0f ratio=%.2f "
           "window=%u runs=%d raw_udp_lost_max=%u\n",
           names, rm, um, rm / um, cfg.conn.window, runs, lost_max);
    fflush(stdout);

    /* --coalesce against TCP with TCP_NODELAY, interleaved in the same run. */
    /* Coalescing packs many short names per datagram, so the window, which counts
     * messages, is opened to its maximum to keep datagrams full. */
    rudp_sock_config_t ccfg = cfg;
    ccfg.conn.coalesce = 1;
    ccfg.conn.window = RUDP_MAX_WINDOW;
    ccfg.conn.send_queue = RUDP_MAX_WINDOW;
    double cv[MAX_RUNS], tv[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        cv[r] = run_rudp(names, &ccfg);
        tv[r] = run_tcp(names);
        if (cv[r] <= 0 || tv[r] <= 0)
            return 1;
        printf("bench=sock run=%d names=%u rudp_coalesce_names_per_s=%.0f "
               "tcp_nodelay_names_per_s=%.0f rudp_client_dgrams_out_per_name=%.3f\n",
               r + 1, names, cv[r], tv[r], rudp_out_per_name);
        fflush(stdout);
    }
    double cm = median(cv, runs), tm = median(tv, runs);
    printf("bench=sock names=%u rudp_coalesce_names_per_s=%.0f tcp_nodelay_names_per_s=%.0f "
           "ratio=%.2f runs=%d\n",
           names, cm, tm, cm / tm, runs);
    fflush(stdout);

    uint32_t completed = 0;
    double rss = 0, secs = 0;
    if (run_many(clients, names_each, 0.05, server_window, &completed, &rss, &secs) != 0) {
        fprintf(stderr, "bench_sock: the many-clients run could not start\n");
        return 1;
    }
    printf("bench=sock clients=%u names_each=%u loss=0.05 completed=%u server_maxrss_mib=%.1f "
           "server_window=%u seconds=%.1f\n",
           clients, names_each, completed, rss, server_window, secs);
    return completed == clients ? 0 : 1;
}
