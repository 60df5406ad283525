/* tcp_peers.c: hostile and honest TCP clients for hostile_tcp.sh, each from a chosen
 * loopback source address, each bounded in time; what happened is printed as key=value.
 *
 *   tcp_peers hold PORT SRC N MS    N connections that never send, kept MS ms; prints
 *                                   connected=, full= (got a "server full" line),
 *                                   closed= (ended by the server), open= (still open)
 *   tcp_peers ask PORT SRC NAME MS  sends NAME, waits at most MS ms for one line; prints
 *                                   ms= and reply=; exit 0 when a line came back
 *   tcp_peers noread PORT SRC MS    sends names and never reads; prints closed_ms= when
 *                                   the server ended the connection; exit 1 if not in MS
 *
 * Exit status: 0 as above, 1 when the expected thing did not happen, 2 on bad usage. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PEERS 4096

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A non-blocking socket bound to src, its connect to 127.0.0.1:port under way. */
static int open_from(const char *src, uint16_t port, int rcvbuf)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (inet_pton(AF_INET, src, &a.sin_addr) != 1 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto fail;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

static int hold(uint16_t port, const char *src, int n, int ms)
{
    static int fds[MAX_PEERS];
    static char seen[MAX_PEERS]; /* 0 open, 1 closed, 2 closed after "server full" */
    int connected = 0;

    if (n > MAX_PEERS)
        n = MAX_PEERS;
    for (int i = 0; i < n; i++) {
        fds[i] = open_from(src, port, 0);
        if (fds[i] >= 0)
            connected++;
    }
    printf("connected=%d\n", connected);
    fflush(stdout);
    uint64_t end = now_ms() + (uint64_t)ms;
    for (uint64_t t = now_ms(); t < end; t = now_ms()) {
        struct pollfd p[MAX_PEERS];
        for (int i = 0; i < n; i++)
            p[i] = (struct pollfd){ .fd = fds[i] >= 0 && !seen[i] ? fds[i] : -1, .events = POLLIN };
        if (poll(p, (nfds_t)n, (int)(end - t)) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            char buf[512];
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = recv(fds[i], buf, sizeof buf - 1, 0);
            if (r > 0) {
                buf[r] = '\0';
                if (strstr(buf, "server full") != NULL)
                    seen[i] = 2;
            } else if (r == 0 || errno != EAGAIN) {
                seen[i] = seen[i] ? seen[i] : 1;
            }
        }
    }
    int full = 0, closed = 0, open = 0;
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        full += seen[i] == 2;
        closed += seen[i] != 0;
        open += seen[i] == 0;
        close(fds[i]);
    }
    printf("full=%d closed=%d open=%d\n", full, closed, open);
    return 0;
}

static int ask(uint16_t port, const char *src, const char *name, int ms)
{
    uint64_t t0 = now_ms(), end = t0 + (uint64_t)ms;
    int fd = open_from(src, port, 0);
    char line[1024];
    size_t len = 0;
    int sent = 0;

    if (fd < 0) {
        perror("tcp_peers: connect");
        return 1;
    }
    for (uint64_t t = t0; t < end; t = now_ms()) {
        struct pollfd p = { .fd = fd, .events = (short)(sent ? POLLIN : POLLOUT) };
        if (poll(&p, 1, (int)(end - t)) <= 0)
            continue;
        if (!sent) {
            char msg[600];
            int k = snprintf(msg, sizeof msg, "%s\n", name);
            if (send(fd, msg, (size_t)k, MSG_NOSIGNAL) != k)
                break;
            sent = 1;
            continue;
        }
        ssize_t r = recv(fd, line + len, sizeof line - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        char *nl = memchr(line, '\n', len);
        if (nl != NULL || len == sizeof line - 1) {
            if (nl != NULL)
                *nl = '\0';
            line[sizeof line - 1] = '\0';
            printf("ms=%llu reply=%s\n", (unsigned long long)(now_ms() - t0), line);
            close(fd);
            return 0;
        }
    }
    printf("ms=%llu reply=\n", (unsigned long long)(now_ms() - t0));
    close(fd);
    return 1;
}

static int noread(uint16_t port, const char *src, int ms)
{
    uint64_t t0 = now_ms(), end = t0 + (uint64_t)ms;
    /* A small receive window: the replies back up into the server after a few KiB. */
    int fd = open_from(src, port, 4096);
    char names[64 * 1024];
    unsigned long long sent = 0;

    if (fd < 0) {
        perror("tcp_peers: connect");
        return 1;
    }
    for (size_t i = 0; i + 100 <= sizeof names; i += 100) {
        memset(names + i, 'a' + (int)(i / 100 % 26), 99);
        names[i + 99] = '\n';
    }
    for (uint64_t t = t0; t < end; t = now_ms()) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        if (poll(&p, 1, (int)(end - t)) <= 0)
            continue;
        if (p.revents & (POLLERR | POLLHUP))
            goto closed;
        ssize_t r = send(fd, names, sizeof names, MSG_NOSIGNAL);
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            goto closed;
        if (r > 0)
            sent += (unsigned long long)r;
    }
    printf("closed_ms= sent=%llu\n", sent);
    close(fd);
    return 1;
closed:
    printf("closed_ms=%llu sent=%llu\n", (unsigned long long)(now_ms() - t0), sent);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        goto usage;
    uint16_t port = (uint16_t)atoi(argv[2]);
    if (strcmp(argv[1], "hold") == 0 && argc == 6)
        return hold(port, argv[3], atoi(argv[4]), atoi(argv[5]));
    if (strcmp(argv[1], "ask") == 0 && argc == 6)
        return ask(port, argv[3], argv[4], atoi(argv[5]));
    if (strcmp(argv[1], "noread") == 0 && argc == 5)
        return noread(port, argv[3], atoi(argv[4]));
usage:
    fprintf(stderr, "usage: tcp_peers hold|ask|noread PORT SRC ...\n");
    return 2;
}
