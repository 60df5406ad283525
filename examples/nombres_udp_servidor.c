/* nombres_udp_servidor.c: el ejercicio de los nombres sobre UDP, lado servidor: cada
 * datagrama trae un nombre y se contesta con otro, "Hola <nombre>". Tercer peldaño de
 * examples/README.md: lo que cambia respecto de TCP está en los comentarios. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_NOMBRE 512

static void uso(FILE *f)
{
    fprintf(f, "Uso: nombres_udp_servidor [PUERTO]\n"
               "Recibe nombres por UDP en PUERTO (0, el valor por omisión: uno libre que elige\n"
               "el núcleo; se imprime primero), un nombre por datagrama; por cada uno imprime\n"
               "\"Hola <nombre>\" y lo devuelve en un datagrama. Sin conexiones, no sabe cuándo\n"
               "termina un cliente: sigue hasta Ctrl-C.\n");
}

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
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        uso(stdout);
        return 0;
    }
    int puerto = argc > 1 ? leer_puerto(argv[1]) : 0;
    if (argc > 2 || puerto < 0) {
        fprintf(stderr, "nombres_udp_servidor: puerto no válido: %s\n", argv[argc > 2 ? 2 : 1]);
        uso(stderr);
        return 2;
    }

    /* Cambio 1: SOCK_DGRAM. Sin listen() ni accept(): un solo socket sirve a todos. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("nombres_udp_servidor: socket");
        return 1;
    }
    struct sockaddr_in dir;
    memset(&dir, 0, sizeof dir);
    dir.sin_family = AF_INET;
    dir.sin_addr.s_addr = htonl(INADDR_ANY);
    dir.sin_port = htons((unsigned short)puerto);
    if (bind(fd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("nombres_udp_servidor: bind");
        return 1;
    }
    socklen_t len = sizeof dir;
    getsockname(fd, (struct sockaddr *)&dir, &len);
    printf("Servidor UDP escuchando en el puerto %d\n", ntohs(dir.sin_port));
    fflush(stdout);

    for (;;) {
        /* Cambio 2: no hace falta buscar '\n': UDP conserva los límites, un recvfrom()
         * devuelve un datagrama entero. Uno más largo que el búfer llegaría cortado; el
         * búfer tiene un byte de más para notarlo. */
        char nombre[MAX_NOMBRE + 2];
        struct sockaddr_in cli;
        socklen_t clen = sizeof cli;
        ssize_t n = recvfrom(fd, nombre, sizeof nombre - 1, 0, (struct sockaddr *)&cli, &clen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("nombres_udp_servidor: recvfrom");
            return 1;
        }
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &cli.sin_addr, ip, sizeof ip);
        if (n > MAX_NOMBRE) {
            fprintf(stderr, "nombres_udp_servidor: %s:%d: nombre de más de %d bytes, ignorado\n",
                    ip, ntohs(cli.sin_port), MAX_NOMBRE);
            continue;
        }
        nombre[n] = '\0';
        nombre[strcspn(nombre, "\r\n")] = '\0';

        /* Cambio 3: no hay "Conectado a": cada datagrama dice quién lo mandó (cli) y la
         * respuesta va a esa dirección con sendto(). */
        char respuesta[MAX_NOMBRE + 8];
        int r = snprintf(respuesta, sizeof respuesta, "Hola %s", nombre);
        printf("%s\n", respuesta);
        fflush(stdout);
        /* Cambio 4: si este datagrama se pierde, nadie lo reenvía. */
        if (sendto(fd, respuesta, (size_t)r, 0, (struct sockaddr *)&cli, clen) < 0)
            fprintf(stderr, "nombres_udp_servidor: sendto a %s:%d: %s\n", ip, ntohs(cli.sin_port),
                    strerror(errno));
    }
}
