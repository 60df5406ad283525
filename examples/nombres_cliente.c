/* nombres_cliente.c: el ejercicio de la práctica sobre TCP, lado cliente: envía cada nombre
 * completo en una línea y muestra la respuesta del servidor ("Hola <nombre>").
 * Segundo peldaño de examples/README.md; hola-client es la versión completa. */
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
    fprintf(f, "Uso: nombres_cliente IPV4 PUERTO [NOMBRE]...\n"
               "Se conecta por TCP al servidor en IPV4:PUERTO, le envía cada NOMBRE (uno por\n"
               "línea) e imprime cada respuesta. Sin NOMBRE, los lee de la entrada estándar,\n"
               "uno por línea (en una terminal, Ctrl-D termina).\n"
               "Ejemplo: nombres_cliente 127.0.0.1 7000 \"Ana Pérez\" \"Luis Gómez\"\n");
}

static int leer_puerto(const char *s)
{
    char *fin;
    errno = 0;
    long v = strtol(s, &fin, 10);
    if (errno != 0 || fin == s || *fin != '\0' || v < 1 || v > 65535)
        return -1;
    return (int)v;
}

/* Envía un nombre y espera su respuesta. 0 si llegó, -1 si no (ya explicado en stderr). */
static int saludar(int fd, FILE *desde_servidor, const char *nombre)
{
    char linea[MAX_NOMBRE + 2];
    int n = snprintf(linea, sizeof linea, "%s\n", nombre);
    if (n < 0 || (size_t)n >= sizeof linea) {
        fprintf(stderr, "nombres_cliente: nombre de más de %d bytes: %.40s...\n", MAX_NOMBRE,
                nombre);
        return -1;
    }
    /* Un send() puede escribir sólo una parte: se repite con el resto. */
    for (int hecho = 0; hecho < n;) {
        ssize_t m = send(fd, linea + hecho, (size_t)(n - hecho), MSG_NOSIGNAL);
        if (m < 0) {
            perror("nombres_cliente: send");
            return -1;
        }
        hecho += (int)m;
    }
    char respuesta[MAX_NOMBRE + 16];
    if (fgets(respuesta, sizeof respuesta, desde_servidor) == NULL) {
        fprintf(stderr, "nombres_cliente: el servidor cerró la conexión sin responder a %s\n",
                nombre);
        return -1;
    }
    fputs(respuesta, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        uso(stdout);
        return 0;
    }
    if (argc < 3) {
        uso(stderr);
        return 2;
    }
    struct sockaddr_in dir;
    memset(&dir, 0, sizeof dir);
    dir.sin_family = AF_INET;
    int puerto = leer_puerto(argv[2]);
    if (puerto < 0) {
        fprintf(stderr, "nombres_cliente: puerto no válido: %s (de 1 a 65535)\n", argv[2]);
        return 2;
    }
    dir.sin_port = htons((unsigned short)puerto);
    if (inet_pton(AF_INET, argv[1], &dir.sin_addr) != 1) {
        fprintf(stderr, "nombres_cliente: %s no es una dirección IPv4 (p. ej. 127.0.0.1)\n",
                argv[1]);
        return 2;
    }

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("nombres_cliente: socket");
        return 1;
    }
    /* "Connection refused": nadie escucha en ese puerto. "timed out": un cortafuegos
     * descarta los paquetes (en la nube, falta la regla de entrada para el puerto). */
    if (connect(fd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        fprintf(stderr, "nombres_cliente: no me puedo conectar a %s:%d: %s\n", argv[1], puerto,
                strerror(errno));
        return 1;
    }
    /* Las respuestas también llegan como flujo de bytes: se leen línea a línea. */
    FILE *desde_servidor = fdopen(fd, "r");
    if (desde_servidor == NULL) {
        perror("nombres_cliente: fdopen");
        return 1;
    }

    int fallos = 0;
    if (argc > 3) {
        for (int i = 3; i < argc && fallos == 0; i++)
            fallos += saludar(fd, desde_servidor, argv[i]) != 0;
    } else {
        char nombre[MAX_NOMBRE + 2];
        while (fallos == 0 && fgets(nombre, sizeof nombre, stdin) != NULL) {
            size_t n = strcspn(nombre, "\r\n");
            if (nombre[n] == '\0' && !feof(stdin)) {
                fprintf(stderr, "nombres_cliente: nombre de más de %d bytes\n", MAX_NOMBRE);
                fallos = 1;
                break;
            }
            nombre[n] = '\0';
            if (nombre[0] != '\0')
                fallos += saludar(fd, desde_servidor, nombre) != 0;
        }
    }
    fclose(desde_servidor); /* cierra fd: el servidor ve el final y termina */
    return fallos == 0 ? 0 : 1;
}
