/* tcp_client.c: the practice's first client: connects, sends a greeting, prints the
 * server's answer. IPv4 and blocking calls, as in class; hola-client is the full version.
 *
 * Usage: tcp_client IPV4-ADDRESS PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *greeting = "Hola Servidor, soy el cliente";
    char buf[512];

    if (argc != 3) {
        fprintf(stderr, "usage: tcp_client IPV4-ADDRESS PORT\n");
        return 2;
    }
    /* 1. socket(): same kind as the server's. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    /* 2. The server's address: inet_pton() turns "127.0.0.1" into four bytes. */
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "tcp_client: %s is not an IPv4 address\n", argv[1]);
        return 2;
    }
    /* 3. connect(): the three-way handshake; fails with "Connection refused" when nobody
     * listens on that port. The client's own port is picked by the kernel. */
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }
    /* 4. send() the greeting, recv() the answer. */
    if (send(fd, greeting, strlen(greeting), 0) < 0) {
        perror("send");
        return 1;
    }
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        perror("recv");
        return 1;
    }
    buf[n] = '\0';
    printf("Respuesta del servidor: %s\n", buf);
    close(fd);
    return 0;
}
