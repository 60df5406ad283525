/* udp_server.c: el mismo saludo sobre UDP: sin listen(), sin accept(), sin conexión. Cada
 * recvfrom() devuelve un datagrama entero y dice quién lo mandó; sendto() contesta ahí.
 * Peldaño 1b de examples/README.md. */
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
    fprintf(f, "Uso: udp_server [PUERTO]\n"
               "Espera un datagrama UDP en PUERTO (0, el valor por omisión: uno libre que\n"
               "elige el núcleo; se imprime primero), muestra quién lo mandó y qué decía,\n"
               "contesta \"Hola Cliente, soy el servidor\" y termina.\n"
               "Ejemplo: udp_server 7000   y en otra terminal:   udp_client 127.0.0.1 7000\n");
}

/* Un puerto es un número de 0 a 65535; atoi() aceptaría "70x" o "-1" sin avisar. */
static int leer_puerto(const char *s)
{
    char *fin;
    errno = 0;
    long v = strtol(s, &fin, 10);
    if (errno != 0 || fin == s || *fin != '\0' || v < 0 || v > 65535)
        return -1;
    return (int)v;
}

int main(int argc, char **argv)
{
    const char *respuesta = "Hola Cliente, soy el servidor";
    char buf[512];

    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        uso(stdout);
        return 0;
    }
    int puerto = argc > 1 ? leer_puerto(argv[1]) : 0;
    if (argc > 2 || puerto < 0) {
        fprintf(stderr, "udp_server: puerto no válido: %s (de 0 a 65535)\n",
                argv[argc > 2 ? 2 : 1]);
        uso(stderr);
        return 2;
    }

    /* SOCK_DGRAM: datagramas (UDP) en vez de un flujo de bytes (TCP). */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("udp_server: socket");
        return 1;
    }
    struct sockaddr_in dir;
    memset(&dir, 0, sizeof dir);
    dir.sin_family = AF_INET;
    dir.sin_addr.s_addr = htonl(INADDR_ANY);
    dir.sin_port = htons((unsigned short)puerto);
    if (bind(fd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("udp_server: bind");
        return 1;
    }
    socklen_t len = sizeof dir;
    getsockname(fd, (struct sockaddr *)&dir, &len);
    printf("Servidor UDP escuchando en el puerto %d\n", ntohs(dir.sin_port));
    fflush(stdout);

    /* Un datagrama llega entero o no llega: uno más grande que buf se cortaría, así que
     * el búfer tiene que ser tan grande como el mensaje más largo que se espera. */
    struct sockaddr_in cli;
    socklen_t clen = sizeof cli;
    ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&cli, &clen);
    if (n < 0) {
        perror("udp_server: recvfrom");
        return 1;
    }
    buf[n] = '\0';
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &cli.sin_addr, ip, sizeof ip);
    printf("Recibido de %s:%d: %s\n", ip, ntohs(cli.sin_port), buf);

    /* La respuesta va a la dirección que dio recvfrom(). Si se pierde en el camino,
     * nadie la reenvía: UDP no garantiza la entrega. */
    if (sendto(fd, respuesta, strlen(respuesta), 0, (struct sockaddr *)&cli, clen) < 0) {
        perror("udp_server: sendto");
        return 1;
    }
    close(fd);
    return 0;
}
