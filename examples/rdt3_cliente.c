/* rdt3_cliente.c: parada y espera (stop-and-wait, rdt 3.0 de Kurose y Ross) sobre UDP,
 * lado cliente: envía un nombre numerado, espera su ACK y, si no llega a tiempo, lo
 * reenvía; sólo entonces pasa al siguiente. Cuarto peldaño de examples/README.md;
 * rdt3.h tiene el formato de los mensajes. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rdt3.h"

#define INTENTOS 10 /* envíos de un mismo nombre antes de rendirse */

static struct perdida perdida = { 0, 1 }; /* --perdida, --semilla */
static long espera_ms = 200;              /* --espera: cuánto esperar un ACK antes de reenviar */

static void uso(FILE *f)
{
    fprintf(f,
            "Uso: rdt3_cliente [OPCIÓN]... IPV4 PUERTO NOMBRE...\n"
            "Parada y espera sobre UDP: envía cada NOMBRE numerado a rdt3_servidor en\n"
            "IPV4:PUERTO, espera su ACK, que trae la respuesta, y la imprime; si no llega a\n"
            "tiempo, reenvía. Sale con 1 si tras %d envíos de un nombre no hay ACK.\n"
            "  -v, --ver         cuenta en stderr cada envío, reenvío, pérdida y ACK\n"
            "  --espera MS       espera de un ACK antes de reenviar (por omisión 200)\n"
            "  --perdida PCT     no envía, a propósito, el PCT %% de sus datagramas\n"
            "  --semilla N       semilla de esas pérdidas (por omisión 1)\n",
            INTENTOS);
}

static int64_t ahora_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* no salta si alguien cambia la hora */
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Espera, hasta que venza el temporizador, el ACK de seq e imprime su respuesta.
 * 1: llegó; 0: venció el temporizador; -1: error. */
static int esperar_ack(int fd, uint32_t seq)
{
    int64_t limite = ahora_ms() + espera_ms;
    for (int64_t falta; (falta = limite - ahora_ms()) > 0;) {
        /* poll() vuelve cuando llega algo o cuando pasan `falta` ms, lo que ocurra antes. */
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int listo = poll(&p, 1, (int)falta);
        if (listo < 0 && errno != EINTR) {
            perror("rdt3_cliente: poll");
            return -1;
        }
        if (listo <= 0)
            continue;
        char r[MAX_DGRAMA + 1];
        ssize_t m = recv(fd, r, sizeof r - 1, 0);
        if (m < 0) {
            fprintf(stderr, "rdt3_cliente: %s\n",
                    errno == ECONNREFUSED ? "nadie escucha en ese puerto (ICMP puerto inalcanzable)"
                                          : strerror(errno));
            return -1;
        }
        r[m] = '\0';
        /* Sólo el ACK de este seq cuenta. Uno de un seq anterior es un duplicado (el
         * servidor repitió un ACK que ya teníamos): se ignora y se sigue esperando. */
        char tipo, *respuesta;
        uint32_t ack;
        if (!leer_mensaje(r, &tipo, &ack, &respuesta) || tipo != 'A' || ack != seq) {
            contar("<- %s   (no es el ACK %u: ignorado)\n", r, (unsigned)seq);
            continue;
        }
        contar("<- %s\n", r);
        printf("%s\n", respuesta);
        fflush(stdout);
        return 1;
    }
    return 0;
}

/* El remitente de rdt 3.0: envía "D seq nombre", arranca el temporizador y espera el
 * ACK; si vence, reenvía lo mismo. 0 cuando llegó el ACK, -1 si no llegó nunca. */
static int saludar(int fd, uint32_t seq, const char *nombre)
{
    char d[MAX_DGRAMA];
    if (strlen(nombre) > MAX_NOMBRE) {
        fprintf(stderr, "rdt3_cliente: nombre de más de %d bytes\n", MAX_NOMBRE);
        return -1;
    }
    int n = snprintf(d, sizeof d, "D %u %s", (unsigned)seq, nombre);
    for (int intento = 1; intento <= INTENTOS; intento++) {
        contar(intento == 1 ? "-> %s\n" : "-> %s   (reenvío %d)\n", d, intento - 1);
        if (se_pierde(&perdida)) {
            contar("   x perdido a propósito\n");
        } else if (send(fd, d, (size_t)n, 0) < 0) {
            perror("rdt3_cliente: send");
            return -1;
        }
        int r = esperar_ack(fd, seq);
        if (r != 0)
            return r > 0 ? 0 : -1;
        /* Venció el temporizador: se perdió el nombre o su ACK (o tarda). */
        contar("   . sin ACK %u en %ld ms\n", (unsigned)seq, espera_ms);
    }
    fprintf(stderr, "rdt3_cliente: sin ACK para \"%s\" tras %d envíos: el servidor no contesta\n",
            nombre, INTENTOS);
    return -1;
}

static int opciones(int argc, char **argv)
{
    static const struct option largas[] = {
        { "perdida", required_argument, NULL, 'p' }, { "semilla", required_argument, NULL, 's' },
        { "espera", required_argument, NULL, 'e' },  { "ver", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 }
    };
    for (int c; (c = getopt_long(argc, argv, "vh", largas, NULL)) != -1;) {
        long v = 0;
        if (c == 'h') {
            uso(stdout);
            exit(0);
        } else if (c == 'v') {
            ver = true;
        } else if (c == '?') {
            return -1; /* getopt ya dijo qué opción no conoce o qué valor falta */
        } else if ((v = numero(optarg, c == 'p' ? 0 : 1, c == 'p' ? 100 : INT32_MAX)) < 0) {
            fprintf(stderr, "rdt3_cliente: %s: valor no válido%s\n", optarg,
                    c == 'p' ? " (de 0 a 100)" : "");
            return -1;
        }
        if (c == 'p')
            perdida.pct = v;
        else if (c == 's')
            perdida.azar = (uint32_t)v;
        else if (c == 'e')
            espera_ms = v;
    }
    if (argc - optind < 3) {
        fprintf(stderr, "rdt3_cliente: faltan IPV4, PUERTO o algún NOMBRE\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (opciones(argc, argv) != 0) {
        uso(stderr);
        return 2;
    }
    struct sockaddr_in dir = { .sin_family = AF_INET };
    long puerto = numero(argv[optind + 1], 1, 65535);
    if (puerto < 0 || inet_pton(AF_INET, argv[optind], &dir.sin_addr) != 1) {
        fprintf(stderr, "rdt3_cliente: %s %s no es una dirección IPv4 y un puerto (1 a 65535)\n",
                argv[optind], argv[optind + 1]);
        return 2;
    }
    dir.sin_port = htons((uint16_t)puerto);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    /* connect(): sólo se aceptan datagramas del servidor; ver nombres_udp_cliente.c. */
    if (fd < 0 || connect(fd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("rdt3_cliente: socket");
        return 1;
    }

    uint32_t seq = 0;
    int r = 0;
    for (int i = optind + 2; i < argc && r == 0; i++)
        r = saludar(fd, seq++, argv[i]);
    close(fd);
    return r == 0 ? 0 : 1;
}
