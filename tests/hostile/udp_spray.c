/* udp_spray: tiny datagrams at hola-server's plain UDP port, for reflection.sh.
 *
 *   udp_spray -p PORT [-n COUNT] [-t SECONDS] HEX...
 *
 * Sends COUNT (default 10000) datagrams to 127.0.0.1:PORT, taking the HEX payloads in
 * turn, each kind from its own socket so that every reply is matched to its request
 * (all from 127.0.0.1: one source to the server). Paced in bursts of 32 with a read of
 * the replies between them, so the server's socket buffer takes them. Afterwards waits
 * until no reply came for 300 ms, or SECONDS (default 30) passed in all. One line per
 * kind: its payload length, how many were sent, how many replies came back, their bytes
 * and the largest:
 *   kind 01 len 1 sent 2500 got 0 bytes 0 max 0
 * Exit status 0, or 2 for bad arguments or a socket that cannot be made. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KINDS_MAX 16
#define PAYLOAD_MAX 64

struct kind {
    uint8_t payload[PAYLOAD_MAX];
    size_t len;
    int fd;
    unsigned long sent, got;
    unsigned long long bytes;
    size_t max;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_hex(const char *s, struct kind *k)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 != 0 || n / 2 > PAYLOAD_MAX)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        k->payload[i] = (uint8_t)v;
    }
    k->len = n / 2;
    return 0;
}

/* Reads every reply waiting, for up to timeout_ms; returns how many came. */
static unsigned long drain(struct kind *k, size_t nk, int timeout_ms)
{
    struct pollfd p[KINDS_MAX];
    unsigned long got = 0;
    for (size_t i = 0; i < nk; i++)
        p[i] = (struct pollfd){ .fd = k[i].fd, .events = POLLIN };
    if (poll(p, (nfds_t)nk, timeout_ms) <= 0)
        return 0;
    for (size_t i = 0; i < nk; i++) {
        uint8_t buf[2048];
        ssize_t r;
        while ((r = recv(k[i].fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
            k[i].got++;
            k[i].bytes += (unsigned long long)r;
            if ((size_t)r > k[i].max)
                k[i].max = (size_t)r;
            got++;
        }
    }
    return got;
}

int main(int argc, char **argv)
{
    struct kind k[KINDS_MAX];
    unsigned long count = 10000, secs = 30;
    int port = 0, c;

    while ((c = getopt(argc, argv, "p:n:t:")) != -1) {
        if (c == 'p')
            port = atoi(optarg);
        else if (c == 'n')
            count = strtoul(optarg, NULL, 10);
        else if (c == 't')
            secs = strtoul(optarg, NULL, 10);
        else
            return 2;
    }
    size_t nk = (size_t)(argc - optind);
    if (port <= 0 || port > 65535 || nk == 0 || nk > KINDS_MAX) {
        fprintf(stderr, "usage: udp_spray -p PORT [-n COUNT] [-t SECONDS] HEX...\n");
        return 2;
    }
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (size_t i = 0; i < nk; i++) {
        memset(&k[i], 0, sizeof k[i]);
        if (parse_hex(argv[optind + (int)i], &k[i]) != 0) {
            fprintf(stderr, "udp_spray: bad payload %s\n", argv[optind + (int)i]);
            return 2;
        }
        k[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (k[i].fd < 0 || connect(k[i].fd, (struct sockaddr *)&to, sizeof to) != 0) {
            perror("udp_spray: socket");
            return 2;
        }
    }
    uint64_t end = now_ms() + secs * 1000u;
    for (unsigned long s = 0; s < count && now_ms() < end; s++) {
        struct kind *x = &k[s % nk];
        /* ECONNREFUSED (an earlier datagram found no server) or a full buffer: not sent. */
        if (send(x->fd, x->payload, x->len, 0) == (ssize_t)x->len)
            x->sent++;
        if (s % 32 == 31)
            drain(k, nk, 1);
    }
    while (now_ms() < end && drain(k, nk, 300) > 0) {
    }
    for (size_t i = 0; i < nk; i++) {
        printf("kind ");
        for (size_t j = 0; j < k[i].len; j++)
            printf("%02x", k[i].payload[j]);
        printf(" len %zu sent %lu got %lu bytes %llu max %zu\n", k[i].len, k[i].sent, k[i].got,
               k[i].bytes, k[i].max);
        close(k[i].fd);
    }
    return 0;
}
