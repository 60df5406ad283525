/* tcp_server.c: the practice's first program, a TCP server that greets one client.
 * Kept as close to the classroom version as possible: IPv4, blocking calls, one client,
 * then exit. hola-server (src/hola) is the complete version.
 *
 * Usage: tcp_server [PORT]   (PORT 0, the default, lets the kernel pick a free port; the
 *                             port in use is printed first) */
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

    /* 1. socket(): an endpoint for a byte stream (TCP) over IPv4. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        perror("socket");
        return 1;
    }
    /* Lets the server be restarted at once on the same port (old connections may still
     * be in TIME_WAIT). */
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

    /* 2. bind(): every local address (INADDR_ANY), the chosen port. Ports and addresses
     * travel in network byte order, hence htons/htonl. */
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons((unsigned short)port);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        return 1;
    }
    /* 3. listen(): from now on the kernel accepts connections and queues them. */
    if (listen(lfd, 5) < 0) {
        perror("listen");
        return 1;
    }
    /* With port 0 the kernel chose one: ask which, so the client can be told. */
    socklen_t len = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &len);
    printf("Servidor escuchando en el puerto %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    /* 4. accept(): waits for a client and returns a new socket just for it. */
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = accept(lfd, (struct sockaddr *)&peer, &plen);
    if (fd < 0) {
        perror("accept");
        return 1;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    printf("Conectado a %s:%d\n", ip, ntohs(peer.sin_port));

    /* 5. recv(): TCP is a byte stream, so one recv() may return only part of what was
     * sent; for one short greeting on loopback it is the whole, which is what the
     * practice relies on (hola-server frames by lines instead). */
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        perror("recv");
        return 1;
    }
    buf[n] = '\0';
    printf("Recibido: %s\n", buf);

    /* 6. send() the answer, then close both sockets. */
    if (send(fd, answer, strlen(answer), 0) < 0) {
        perror("send");
        return 1;
    }
    close(fd);
    close(lfd);
    return 0;
}
