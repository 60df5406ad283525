/* nombres_udp_cliente.c: el ejercicio de los nombres sobre UDP, lado cliente: un datagrama
 * por nombre; espera la respuesta un tiempo acotado y, si no llega, dice que se perdió.
 * Tercer peldaño de examples/README.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_NOMBRE 512
#define ESPERA_MS 1000 /* cuánto esperar cada respuesta */

static void uso(FILE *f)
{
    fprintf(f,
            "Uso: nombres_udp_cliente IPV4 PUERTO [NOMBRE]...\n"
            "Envía cada NOMBRE en un datagrama UDP al servidor en IPV4:PUERTO y muestra la\n"
            "respuesta; la espera %d ms y, si no llega, avisa que se perdió. Sin NOMBRE,\n"
            "los lee de la entrada estándar, uno por línea.\n"
            "Sale con 0 si todos tuvieron respuesta, 3 si alguno no.\n",
            ESPERA_MS);
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

/* Envía un nombre y espera su respuesta. 0: llegó; 1: no llegó a tiempo; -1: error. */
static int saludar(int fd, const char *nombre)
{
    size_t n = strlen(nombre);
    if (n > MAX_NOMBRE) {
        fprintf(stderr, "nombres_udp_cliente: nombre de más de %d bytes\n", MAX_NOMBRE);
        return -1;
    }
    /* Un nombre, un datagrama: sin '\n', los límites los pone UDP. */
    if (send(fd, nombre, n, 0) < 0) {
        perror("nombres_udp_cliente: send");
        return -1;
    }
    /* recv() a secas esperaría para siempre una respuesta perdida: poll() espera a que
     * haya algo para leer, o ESPERA_MS, lo que ocurra primero. */
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int listo = poll(&p, 1, ESPERA_MS);
    if (listo < 0) {
        perror("nombres_udp_cliente: poll");
        return -1;
    }
    if (listo == 0) {
        /* Si la respuesta sólo venía tarde, llegará mientras esperamos la del nombre
         * siguiente y se confundirá con ella: nada la distingue. rdt3_cliente.c numera
         * cada mensaje para eso. */
        fprintf(stderr, "nombres_udp_cliente: sin respuesta para \"%s\" en %d ms: se perdió\n",
                nombre, ESPERA_MS);
        return 1;
    }
    char respuesta[MAX_NOMBRE + 16];
    ssize_t r = recv(fd, respuesta, sizeof respuesta - 1, 0);
    if (r < 0 && errno == ECONNREFUSED) {
        /* Sólo porque el socket está "conectado" (ver main) nos llega este aviso. */
        fprintf(stderr, "nombres_udp_cliente: nadie escucha en ese puerto (ICMP puerto "
                        "inalcanzable)\n");
        return -1;
    }
    if (r < 0) {
        perror("nombres_udp_cliente: recv");
        return -1;
    }
    respuesta[r] = '\0';
    printf("%s\n", respuesta);
    fflush(stdout);
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
        fprintf(stderr, "nombres_udp_cliente: puerto no válido: %s (de 1 a 65535)\n", argv[2]);
        return 2;
    }
    dir.sin_port = htons((unsigned short)puerto);
    if (inet_pton(AF_INET, argv[1], &dir.sin_addr) != 1) {
        fprintf(stderr, "nombres_udp_cliente: %s no es una dirección IPv4\n", argv[1]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("nombres_udp_cliente: socket");
        return 1;
    }
    /* connect() en UDP no envía nada: fija el destinatario (send() en vez de sendto()),
     * descarta datagramas de cualquier otro y nos avisa si el puerto está cerrado. */
    if (connect(fd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("nombres_udp_cliente: connect");
        return 1;
    }

    int perdidos = 0, r = 0;
    if (argc > 3) {
        for (int i = 3; i < argc && r >= 0; i++)
            perdidos += (r = saludar(fd, argv[i])) == 1;
    } else {
        char nombre[MAX_NOMBRE + 2];
        while (r >= 0 && fgets(nombre, sizeof nombre, stdin) != NULL) {
            nombre[strcspn(nombre, "\r\n")] = '\0';
            if (nombre[0] != '\0')
                perdidos += (r = saludar(fd, nombre)) == 1;
        }
    }
    close(fd);
    if (r < 0)
        return 1;
    return perdidos == 0 ? 0 : 3;
}
