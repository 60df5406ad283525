/* tcp_client.c: el primer cliente de la práctica: se conecta, manda un saludo e imprime
 * la respuesta del servidor. IPv4 y llamadas bloqueantes, como en clase; primer peldaño
 * de examples/README.md; hola-client es la versión completa. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void uso(FILE *f)
{
    fprintf(f, "Uso: tcp_client IPV4 PUERTO\n"
               "Se conecta por TCP al servidor en IPV4:PUERTO, manda \"Hola Servidor, soy el\n"
               "cliente\" e imprime la respuesta.\n"
               "Ejemplo: tcp_client 127.0.0.1 7000   (con tcp_server 7000 en otra terminal)\n");
}

/* Un puerto de destino es un número de 1 a 65535; atoi() aceptaría "70x" sin avisar. */
static int leer_puerto(const char *s)
{
    char *fin;
    errno = 0;
    long v = strtol(s, &fin, 10);
    if (errno != 0 || fin == s || *fin != '\0' || v < 1 || v > 65535)
        return -1;
    return (int)v;
}

int main(int argc, char **argv)
{
    const char *saludo = "Hola Servidor, soy el cliente";
    char buf[512];

    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        uso(stdout);
        return 0;
    }
    if (argc != 3) {
        uso(stderr);
        return 2;
    }
    /* 1. La dirección del servidor: inet_pton() convierte "127.0.0.1" en cuatro bytes. */
    struct sockaddr_in dir;
    memset(&dir, 0, sizeof dir);
    dir.sin_family = AF_INET;
    int puerto = leer_puerto(argv[2]);
    if (puerto < 0) {
        fprintf(stderr, "tcp_client: puerto no válido: %s (de 1 a 65535)\n", argv[2]);
        return 2;
    }
    dir.sin_port = htons((unsigned short)puerto);
    if (inet_pton(AF_INET, argv[1], &dir.sin_addr) != 1) {
        fprintf(stderr, "tcp_client: %s no es una dirección IPv4\n", argv[1]);
        return 2;
    }
    /* 2. socket(): del mismo tipo que el del servidor. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("tcp_client: socket");
        return 1;
    }
    /* 3. connect(): el saludo de tres pasos de TCP; falla con "Connection refused" si
     * nadie escucha en ese puerto. El puerto propio del cliente lo elige el núcleo. */
    if (connect(fd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("tcp_client: connect");
        return 1;
    }
    /* 4. send() el saludo, recv() la respuesta. */
    if (send(fd, saludo, strlen(saludo), 0) < 0) {
        perror("tcp_client: send");
        return 1;
    }
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        perror("tcp_client: recv");
        return 1;
    }
    buf[n] = '\0';
    printf("Respuesta del servidor: %s\n", buf);
    close(fd);
    return 0;
}
