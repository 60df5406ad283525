/* udp_server.c: the same greeting over UDP: no listen(), no accept(), no connection. Each
 * recvfrom() returns one whole datagram and says who sent it; sendto() answers there.
 *
 * Usage: udp_server [PORT]   (0, the default, lets the kernel pick; printed first) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    const char *answer = "Hola Cliente, soy el servidor";
    char buf[512];

    /* SOCK_DGRAM: datagrams (UDP) instead of a byte stream (TCP). */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons((unsigned short)port);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        return 1;
    }
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    printf("Servidor UDP escuchando en el puerto %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    /* One datagram, whole or not at all: a datagram larger than buf would be cut, so
     * the buffer must be as large as the largest message expected. */
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&peer, &plen);
    if (n < 0) {
        perror("recvfrom");
        return 1;
    }
    buf[n] = '\0';
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    printf("Recibido de %s:%d: %s\n", ip, ntohs(peer.sin_port), buf);

    /* The answer goes to the address recvfrom() reported. If it is lost on the way,
     * nobody resends it: UDP gives no delivery guarantee. */
    if (sendto(fd, answer, strlen(answer), 0, (struct sockaddr *)&peer, plen) < 0) {
        perror("sendto");
        return 1;
    }
    close(fd);
    return 0;
}
