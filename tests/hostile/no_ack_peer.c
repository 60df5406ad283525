/* no_ack_peer: a rudp client that never lets a server finish, for no_ack_peer.sh.
 *
 *   no_ack_peer -p PORT [-t SECONDS] [NAME]
 *
 * Completes the handshake with the rudp server at 127.0.0.1:PORT (RETRY or not), sends
 * NAME (default "Ana") and its FIN, then answers every datagram the server sends (its
 * replies, its FIN, its probes) with an ACK that acknowledges none of them (ack = the
 * server's ISN). The server's engine sees a live peer (any packet resets its dead-peer
 * count, docs/protocol.md section 10.4) whose window stays open, so without a bound of
 * its own a stopping server waits for it forever. Prints one line when the server let
 * go (a RESET, or ICMP port unreachable) or SECONDS (default 30) passed:
 *   handshake 1 answered 7 reset 1 gone 0 seconds 5.2
 * Exit status 0 when the server let go, 1 when it was still there after SECONDS, 2 for
 * bad arguments or a handshake that did not complete. */
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

#include "rudp/wire.h"

#define ISN 0x1000u
#define WINDOW 64u
#define RESEND_MS 200u /* our INITIAL, DATA and FIN again while not acknowledged */

struct peer {
    int fd;
    uint64_t cid;
    uint32_t isn_s; /* the server's ISN: our ack, forever */
    uint32_t echo;  /* ts of the newest server datagram, echoed */
    uint8_t cookie[RUDP_COOKIE_SIZE];
    int have_cookie, accepted, ours_acked;
    unsigned long answered;
    uint64_t t0;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void send_one(struct peer *p, uint8_t type, uint32_t seq, const void *payload, size_t len)
{
    uint8_t buf[RUDP_MAX_DATAGRAM];
    rudp_hdr_t h = { 0 };
    h.type = type;
    h.cid = p->cid;
    h.seq = seq;
    h.ts = (uint32_t)(now_us() - p->t0);
    h.rwnd = WINDOW;
    h.payload = payload;
    h.payload_len = (uint16_t)len;
    if (type != RUDP_T_INITIAL) {
        h.flags = RUDP_F_ACK;
        h.ack = p->isn_s; /* nothing of the server's acknowledged, ever */
        h.ts_echo = p->echo;
    }
    int n = rudp_wire_encode(&h, buf, sizeof buf);
    if (n > 0)
        (void)send(p->fd, buf, (size_t)n, 0);
}

static void send_ours(struct peer *p, const char *name)
{
    if (!p->accepted) {
        send_one(p, RUDP_T_INITIAL, ISN, p->have_cookie ? p->cookie : NULL,
                 p->have_cookie ? RUDP_COOKIE_SIZE : 0);
        return;
    }
    if (!p->ours_acked) {
        send_one(p, RUDP_T_DATA, ISN, name, strlen(name));
        send_one(p, RUDP_T_FIN, ISN + 1, NULL, 0);
    }
}

int main(int argc, char **argv)
{
    struct peer p = { .fd = -1 };
    struct sockaddr_in to = { .sin_family = AF_INET };
    double seconds = 30;
    const char *name = "Ana";
    int opt, port = 0, reset = 0, gone = 0;

    while ((opt = getopt(argc, argv, "p:t:")) != -1) {
        if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 't')
            seconds = atof(optarg);
        else
            return 2;
    }
    if (optind < argc)
        name = argv[optind];
    if (port <= 0 || port > 65535 || seconds <= 0 || seconds > 600 || strlen(name) > 100) {
        fprintf(stderr, "usage: no_ack_peer -p PORT [-t SECONDS] [NAME]\n");
        return 2;
    }
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p.fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (p.fd < 0 || connect(p.fd, (struct sockaddr *)&to, sizeof to) != 0) {
        perror("no_ack_peer: socket");
        return 2;
    }
    p.t0 = now_us();
    p.cid = ((uint64_t)getpid() << 32) ^ p.t0 ^ 0x9e3779b97f4a7c15ull;

    uint64_t end = p.t0 + (uint64_t)(seconds * 1e6), next_resend = 0;
    while (!reset && !gone) {
        uint64_t now = now_us();
        if (now >= end)
            break;
        if (now >= next_resend) {
            send_ours(&p, name);
            next_resend = now + RESEND_MS * 1000u;
        }
        struct pollfd pfd = { .fd = p.fd, .events = POLLIN };
        uint64_t wake = next_resend < end ? next_resend : end;
        int ms = (int)((wake - now + 999) / 1000);
        if (poll(&pfd, 1, ms) <= 0)
            continue;
        uint8_t buf[RUDP_MAX_DATAGRAM + 64];
        ssize_t n = recv(p.fd, buf, sizeof buf, 0);
        if (n < 0) {
            gone = errno == ECONNREFUSED; /* the server's port closed: it exited */
            continue;
        }
        rudp_hdr_t h;
        if (rudp_wire_decode(&h, buf, (size_t)n) != 0 || h.cid != p.cid)
            continue;
        p.echo = h.ts;
        switch (h.type) {
        case RUDP_T_RETRY:
            memcpy(p.cookie, h.payload, RUDP_COOKIE_SIZE);
            p.have_cookie = 1;
            send_ours(&p, name);
            break;
        case RUDP_T_ACCEPT:
            if (!p.accepted) {
                p.accepted = 1;
                p.isn_s = h.seq;
                send_ours(&p, name);
                next_resend = now_us() + RESEND_MS * 1000u;
            }
            break;
        case RUDP_T_RESET:
            reset = 1;
            break;
        case RUDP_T_DATA:
        case RUDP_T_FIN:
        case RUDP_T_ACK:
            if ((h.flags & RUDP_F_ACK) && h.ack == ISN + 2)
                p.ours_acked = 1;
            if (h.type != RUDP_T_ACK) {
                /* A reply, the FIN or a probe resending one: answered, acknowledging
                 * nothing. */
                send_one(&p, RUDP_T_ACK, ISN + 2, NULL, 0);
                p.answered++;
            }
            break;
        default:
            break;
        }
    }
    printf("handshake %d answered %lu reset %d gone %d seconds %.1f\n", p.accepted, p.answered,
           reset, gone, (double)(now_us() - p.t0) / 1e6);
    close(p.fd);
    if (!p.accepted)
        return 2;
    return reset || gone ? 0 : 1;
}
