/* relay.c: a UDP relay on loopback that tampers with DTLS in flight, for the dtls tests.
 * Usage: relay PORT_FILE SERVER_PORT EVERY SECONDS
 * Listens on 127.0.0.1 (kernel-chosen port, written to PORT_FILE), forwards the first
 * client's datagrams to 127.0.0.1:SERVER_PORT and the server's back to that client. Every
 * EVERY-th application-data record (content type 23) from the client has one byte of its
 * ciphertext flipped: DTLS must drop it (a failed authentication tag) and rudp must send
 * the datagram again. Exits after SECONDS, or on SIGTERM, printing "flipped N", then
 * "forwarded M" (the client's datagrams sent on) and "flipped_at I..." (the place of each
 * flipped one among them, from 1): a server that has left before the client's last
 * datagrams never reads those, so the test counts only the flips it read. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: relay PORT_FILE SERVER_PORT EVERY SECONDS\n");
        return 2;
    }
    int every = atoi(argv[3]);
    time_t end = time(NULL) + atoi(argv[4]);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in srv = me, cli = { 0 };
    srv.sin_port = htons((uint16_t)atoi(argv[2]));
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int up = socket(AF_INET, SOCK_DGRAM, 0); /* to the server, from its own port */
    socklen_t sl = sizeof me;
    if (fd < 0 || up < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) != 0 ||
        getsockname(fd, (struct sockaddr *)&me, &sl) != 0 ||
        connect(up, (struct sockaddr *)&srv, sizeof srv) != 0) {
        perror("relay");
        return 1;
    }
    signal(SIGTERM, on_term);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", ntohs(me.sin_port)) < 0 || fclose(f) != 0 ||
        rename(tmp, argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    unsigned long apps = 0, flipped = 0, forwarded = 0;
    static unsigned long flipped_at[4096]; /* bounded: more flips are counted, not placed */
    unsigned char buf[65536];
    while (!stop && time(NULL) < end) {
        struct pollfd p[2] = { { fd, POLLIN, 0 }, { up, POLLIN, 0 } };
        if (poll(p, 2, 200) <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (n > 0) {
                if (cli.sin_port == 0)
                    cli = from;
                if (n > 13 + 16 && buf[0] == 23 && every > 0 && ++apps % (unsigned)every == 0) {
                    buf[n - 1] ^= 0x5a; /* the last byte: the authentication tag */
                    if (flipped < sizeof flipped_at / sizeof flipped_at[0])
                        flipped_at[flipped] = forwarded + 1;
                    flipped++;
                }
                send(up, buf, (size_t)n, 0);
                forwarded++;
            }
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = recv(up, buf, sizeof buf, 0);
            if (n > 0 && cli.sin_port != 0)
                sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&cli, sizeof cli);
        }
    }
    printf("flipped %lu\nforwarded %lu\nflipped_at", flipped, forwarded);
    for (unsigned long i = 0; i < flipped && i < sizeof flipped_at / sizeof flipped_at[0]; i++)
        printf(" %lu", flipped_at[i]);
    printf("\n");
    close(fd);
    close(up);
    return 0;
}
