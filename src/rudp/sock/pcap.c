/* Classic pcap writer (libpcap file format 2.4, LINKTYPE_RAW): what --pcap produces.
 * The headers are written in host byte order, as libpcap does; readers recognise the
 * order from the magic number. The IP and UDP headers are synthesized from the socket
 * addresses, since a UDP socket never sees them. */
#include "pcap.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bytes.h"
#include "rudp/error.h"

#define SNAPLEN 65535u
#define MAX_PACKET (RUDP_PCAP_IP6_OVERHEAD + 65507u)

struct rudp_pcap {
    FILE *f;
    int failed;
    uint16_t ip_id; /* IPv4 identification, counting up like a simple stack */
    uint8_t pkt[MAX_PACKET];
};

/* The IPv4 (or mapped) address of sa, or -1 for a real IPv6 address. */
static int as_v4(const struct sockaddr *sa, uint8_t v4[4], uint16_t *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        memcpy(v4, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
        return 0;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    *port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
        memcpy(v4, in6->sin6_addr.s6_addr + 12, 4);
        return 0;
    }
    return -1;
}

/* The IPv6 form of sa: itself, or ::ffff:a.b.c.d for an IPv4 address. */
static void as_v6(const struct sockaddr *sa, uint8_t v6[16], uint16_t *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        memset(v6, 0, 10);
        v6[10] = v6[11] = 0xff;
        memcpy(v6 + 12, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
        return;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    memcpy(v6, in6->sin6_addr.s6_addr, 16);
    *port = ntohs(in6->sin6_port);
}

/* RFC 1071 one's-complement sum, continued from `sum`. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (; n > 1; p += 2, n -= 2)
        sum += (uint32_t)p[0] << 8 | p[1];
    if (n)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

int rudp_pcap_frame(const struct sockaddr *src, const struct sockaddr *dst, const uint8_t *data,
                    size_t len, uint16_t ip_id, uint8_t *out, size_t cap)
{
    if (!src || !dst || (len && !data) || !out)
        return RUDP_EINVAL;
    if ((src->sa_family != AF_INET && src->sa_family != AF_INET6) ||
        (dst->sa_family != AF_INET && dst->sa_family != AF_INET6))
        return RUDP_EINVAL;
    if (len > 65507u)
        return RUDP_EMSGSIZE;
    uint8_t s4[4], d4[4], s6[16], d6[16];
    uint16_t sport, dport;
    int v4 = as_v4(src, s4, &sport) == 0 && as_v4(dst, d4, &dport) == 0;
    size_t ip_len = v4 ? 20u : 40u, udp_len = 8u + len, total = ip_len + udp_len;
    if (cap < total)
        return RUDP_EMSGSIZE;

    uint8_t *udp = out + ip_len;
    uint32_t sum; /* pseudo-header first (RFC 768, RFC 8200 §8.1) */
    if (v4) {
        memset(out, 0, 20);
        out[0] = 0x45; /* version 4, 5 words */
        rudp_put16(out + 2, (uint16_t)total);
        rudp_put16(out + 4, ip_id);
        rudp_put16(out + 6, 0x4000); /* DF: a UDP socket on Linux sets it too */
        out[8] = 64;
        out[9] = 17;
        memcpy(out + 12, s4, 4);
        memcpy(out + 16, d4, 4);
        rudp_put16(out + 10, csum_fold(csum_add(0, out, 20)));
        sum = csum_add(0, s4, 4);
        sum = csum_add(sum, d4, 4);
    } else {
        as_v6(src, s6, &sport);
        as_v6(dst, d6, &dport);
        memset(out, 0, 40);
        out[0] = 0x60;
        rudp_put16(out + 4, (uint16_t)udp_len);
        out[6] = 17;
        out[7] = 64;
        memcpy(out + 8, s6, 16);
        memcpy(out + 24, d6, 16);
        sum = csum_add(0, s6, 16);
        sum = csum_add(sum, d6, 16);
    }
    sum += 17u + (uint32_t)udp_len;
    rudp_put16(udp, sport);
    rudp_put16(udp + 2, dport);
    rudp_put16(udp + 4, (uint16_t)udp_len);
    rudp_put16(udp + 6, 0);
    if (len)
        memcpy(udp + 8, data, len);
    uint16_t c = csum_fold(csum_add(sum, udp, udp_len));
    rudp_put16(udp + 6, c ? c : 0xffff); /* 0 means "no checksum": send all ones */
    return (int)total;
}

static int put(rudp_pcap_t *p, const void *buf, size_t n)
{
    if (fwrite(buf, 1, n, p->f) != n) {
        p->failed = 1;
        return RUDP_ESYS;
    }
    return 0;
}

int rudp_pcap_open(rudp_pcap_t **out, const char *path)
{
    if (!out || !path || !*path)
        return RUDP_EINVAL;
    *out = NULL;
    rudp_pcap_t *p = malloc(sizeof *p);
    if (!p)
        return RUDP_ENOMEM;
    memset(p, 0, offsetof(rudp_pcap_t, pkt));
    p->f = fopen(path, "wb");
    if (!p->f) {
        int e = errno;
        free(p);
        errno = e;
        return RUDP_ESYS;
    }
    struct {
        uint32_t magic;
        uint16_t major, minor;
        int32_t thiszone;
        uint32_t sigfigs, snaplen, linktype;
    } gh = { RUDP_PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN, RUDP_PCAP_LINKTYPE_RAW };
    if (put(p, &gh, sizeof gh) != 0 || fflush(p->f) != 0) {
        int e = errno;
        fclose(p->f);
        free(p);
        errno = e;
        return RUDP_ESYS;
    }
    *out = p;
    return 0;
}

int rudp_pcap_write(rudp_pcap_t *p, const struct sockaddr *src, const struct sockaddr *dst,
                    const uint8_t *data, size_t len)
{
    if (!p)
        return RUDP_EINVAL;
    if (p->failed)
        return RUDP_ESYS;
    int n = rudp_pcap_frame(src, dst, data, len, p->ip_id++, p->pkt, sizeof p->pkt);
    if (n < 0)
        return n;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t rec[4] = { (uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), (uint32_t)n,
                        (uint32_t)n };
    int rc = put(p, rec, sizeof rec);
    return rc ? rc : put(p, p->pkt, (size_t)n);
}

int rudp_pcap_flush(rudp_pcap_t *p)
{
    if (!p || p->failed)
        return p ? RUDP_ESYS : RUDP_EINVAL;
    if (fflush(p->f) != 0) {
        p->failed = 1;
        return RUDP_ESYS;
    }
    return 0;
}

int rudp_pcap_close(rudp_pcap_t *p)
{
    if (!p)
        return 0;
    int rc = p->failed ? RUDP_ESYS : 0;
    if (fclose(p->f) != 0)
        rc = RUDP_ESYS;
    free(p);
    return rc;
}
