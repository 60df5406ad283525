/* hostile_flood: the hostile sender as a program, for the CLI tests (hostile_cli.sh).
 *
 *   hostile_flood -p PORT [-n COUNT] [-s SOURCES] [-f FIRST_HOST] [-S SEED]
 *                 [-r CLIENT_PCAP] [-d SPREAD_MS] [-t SECONDS]
 *
 * Sends COUNT (default 100000) datagrams of the flood.h mix to 127.0.0.1:PORT from
 * SOURCES (default 8) sockets bound to 127.0.0.FIRST_HOST (default 2) and on; with -r,
 * the datagrams a real client wrote to its --pcap file are replayed too (and its
 * connection ID used for wrong-address datagrams). With -d the COUNT datagrams are spread
 * evenly over SPREAD_MS milliseconds (default: as fast as the server's socket takes them,
 * about a million a second). Stops after COUNT or SECONDS (default
 * 60), or at SIGTERM; then prints, one line each, what every source sent and got back,
 * how many of each kind were sent, and the worst reply ratio:
 *   source 127.0.0.2 sent 12500 1234567 got 40 2240
 *   kind random 8333
 *   worst 0.002
 * Exit status 0, or 1 when a source cannot be bound. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flood.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Reads the client's pcap from `*off` on (the file grows while it runs): every complete
 * IPv4 record's UDP payload goes to the replay pool. */
static void read_pcap(flood_t *f, const char *path, long *off)
{
    FILE *p = fopen(path, "rb");
    if (!p)
        return;
    if (*off == 0)
        *off = 24; /* the global header */
    if (fseek(p, *off, SEEK_SET) != 0) {
        fclose(p);
        return;
    }
    uint8_t rec[16], pkt[2048];
    while (fread(rec, 1, sizeof rec, p) == sizeof rec) {
        uint32_t incl;
        memcpy(&incl, rec + 8, 4);
        if (incl > sizeof pkt || fread(pkt, 1, incl, p) != incl)
            break;
        *off += (long)(sizeof rec + incl);
        if (incl > 28 && pkt[0] >> 4 == 4) {
            flood_capture(f, pkt + 28, incl - 28);
            uint64_t cid;
            if (!f->real_cid && rudp_wire_peek_cid(pkt + 28, incl - 28, &cid) == 0)
                f->real_cid = cid;
        }
    }
    fclose(p);
}

int main(int argc, char **argv)
{
    int port = 0, sources = 8, first = 2, opt;
    unsigned long count = 100000, seconds = 60;
    uint64_t seed = 1;
    const char *pcap = NULL;
    unsigned long spread_ms = 0;
    while ((opt = getopt(argc, argv, "p:n:s:f:S:r:d:t:")) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'n':
            count = strtoul(optarg, NULL, 10);
            break;
        case 's':
            sources = atoi(optarg);
            break;
        case 'f':
            first = atoi(optarg);
            break;
        case 'S':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            pcap = optarg;
            break;
        case 't':
            seconds = strtoul(optarg, NULL, 10);
            break;
        case 'd':
            spread_ms = strtoul(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr,
                    "usage: %s -p PORT [-n COUNT] [-s SOURCES] [-f FIRST_HOST] "
                    "[-S SEED] [-r CLIENT_PCAP] [-d SPREAD_MS] [-t SECONDS]\n",
                    argv[0]);
            return 2;
        }
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "hostile_flood: -p PORT is needed\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static flood_t f;
    if (flood_open(&f, port, sources, first, seed) != 0) {
        perror("hostile_flood: cannot bind the loopback sources");
        return 1;
    }
    long off = 0;
    uint64_t start = now_us(), end = start + (uint64_t)seconds * 1000000u, next_read = 0;
    while (!stop && f.total < count && now_us() < end) {
        uint64_t t = now_us();
        if (pcap && t >= next_read) {
            read_pcap(&f, pcap, &off);
            next_read = t + 50000;
        }
        uint64_t left = count - f.total, burst = left < 256 ? left : 256;
        if (spread_ms) {
            /* Where the schedule says we should be by now. */
            uint64_t due = (uint64_t)((double)count * (double)(t - start) / (spread_ms * 1000.0));
            burst = due > f.total ? due - f.total : 0;
            if (burst > 256)
                burst = 256;
            if (burst > left)
                burst = left;
        }
        if (burst && flood_send(&f, (uint32_t)burst) == 0)
            usleep(200); /* every source's send buffer is full */
        flood_drain(&f);
        usleep(spread_ms ? 1000 : 100); /* a million datagrams a second at most */
    }
    for (int i = 0; i < 20; i++) { /* the last answers */
        usleep(5000);
        flood_drain(&f);
    }
    for (int i = 0; i < f.n_src; i++) {
        const flood_src_t *s = &f.src[i];
        printf("source %s sent %llu %llu got %llu %llu\n", inet_ntoa(s->addr.sin_addr),
               (unsigned long long)s->sent, (unsigned long long)s->sent_bytes,
               (unsigned long long)s->got, (unsigned long long)s->got_bytes);
    }
    for (int k = 0; k < FLOOD_KINDS; k++)
        printf("kind %s %llu\n", flood_kind_name(k), (unsigned long long)f.by_kind[k]);
    printf("total %llu\nworst %.3f\n", (unsigned long long)f.total, flood_worst_ratio(&f, NULL));
    flood_close(&f);
    return 0;
}
