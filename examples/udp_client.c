/* udp_client.c: sends the greeting as one datagram and waits, at most two seconds, for
 * the answer: over UDP either may be lost, and then waiting forever would hang.
 *
 * Usage: udp_client IPV4-ADDRESS PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *greeting = "Hola Servidor, soy el cliente";
    char buf[512];

    if (argc != 3) {
        fprintf(stderr, "usage: udp_client IPV4-ADDRESS PORT\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "udp_client: %s is not an IPv4 address\n", argv[1]);
        return 2;
    }
    /* A receive timeout, so a lost datagram ends in an error instead of a hang. */
    struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    /* No connect() and no handshake: sendto() names the destination every time. */
    if (sendto(fd, greeting, strlen(greeting), 0, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("sendto");
        return 1;
    }
    ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0, NULL, NULL);
    if (n < 0) {
        perror("recvfrom (no answer within 2 s)");
        return 1;
    }
    buf[n] = '\0';
    printf("Respuesta del servidor: %s\n", buf);
    close(fd);
    return 0;
}
