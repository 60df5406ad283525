/* udp_client.c: manda el saludo en un datagrama y espera la respuesta dos segundos como
 * mucho: sobre UDP cualquiera de los dos se puede perder, y esperar para siempre colgaría
 * el programa. Peldaño 1b de examples/README.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void uso(FILE *f)
{
    fprintf(f, "Uso: udp_client IPV4 PUERTO\n"
               "Manda \"Hola Servidor, soy el cliente\" en un datagrama UDP al servidor en\n"
               "IPV4:PUERTO e imprime la respuesta; si no llega en 2 s, sale con 1.\n"
               "Ejemplo: udp_client 127.0.0.1 7000   (con udp_server 7000 en otra terminal)\n");
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
    struct sockaddr_in dir;
    memset(&dir, 0, sizeof dir);
    dir.sin_family = AF_INET;
    int puerto = leer_puerto(argv[2]);
    if (puerto < 0) {
        fprintf(stderr, "udp_client: puerto no válido: %s (de 1 a 65535)\n", argv[2]);
        return 2;
    }
    dir.sin_port = htons((unsigned short)puerto);
    if (inet_pton(AF_INET, argv[1], &dir.sin_addr) != 1) {
        fprintf(stderr, "udp_client: %s no es una dirección IPv4\n", argv[1]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("udp_client: socket");
        return 1;
    }
    /* Un tiempo de espera para recibir: un datagrama perdido termina en error, no en un
     * programa colgado. */
    struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    /* Sin connect() y sin saludo inicial: sendto() nombra el destino cada vez. */
    if (sendto(fd, saludo, strlen(saludo), 0, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("udp_client: sendto");
        return 1;
    }
    ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0, NULL, NULL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        fprintf(stderr, "udp_client: sin respuesta en 2 s: se perdió el saludo o la respuesta,"
                        " o nadie escucha\n");
        return 1;
    }
    if (n < 0) {
        perror("udp_client: recvfrom");
        return 1;
    }
    buf[n] = '\0';
    printf("Respuesta del servidor: %s\n", buf);
    close(fd);
    return 0;
}
