/* rdt3_servidor.c: parada y espera (stop-and-wait, rdt 3.0 de Kurose y Ross) sobre UDP,
 * lado servidor: acepta cada nombre una sola vez, en orden, y confirma cada datagrama
 * (también los repetidos) con un ACK que lleva la respuesta. Cuarto peldaño de
 * examples/README.md; rdt3.h tiene el formato de los mensajes. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rdt3.h"

static struct perdida perdida = { 0, 1 }; /* --perdida, --semilla */

static void uso(FILE *f)
{
    fprintf(f, "Uso: rdt3_servidor [-v] [--perdida PCT] [--semilla N] [PUERTO]\n"
               "Parada y espera sobre UDP: imprime \"Hola <nombre>\" una sola vez por nombre\n"
               "recibido, en orden, y confirma cada datagrama con un ACK que lleva la respuesta\n"
               "(también los repetidos). Un cliente a la vez; sigue hasta Ctrl-C. PUERTO 0 (por\n"
               "omisión): uno libre, que se imprime.\n"
               "  -v, --ver         cuenta en stderr cada datagrama recibido, enviado o perdido\n"
               "  --perdida PCT     no envía, a propósito, el PCT %% de sus ACK\n"
               "  --semilla N       semilla de esas pérdidas (por omisión 1)\n");
}

/* Las opciones; devuelve el puerto, o -1 si algo no vale. */
static long opciones(int argc, char **argv)
{
    static const struct option largas[] = { { "perdida", required_argument, NULL, 'p' },
                                            { "semilla", required_argument, NULL, 's' },
                                            { "ver", no_argument, NULL, 'v' },
                                            { "help", no_argument, NULL, 'h' },
                                            { NULL, 0, NULL, 0 } };
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
            fprintf(stderr, "rdt3_servidor: %s: valor no válido%s\n", optarg,
                    c == 'p' ? " (de 0 a 100)" : "");
            return -1;
        }
        if (c == 'p')
            perdida.pct = v;
        else if (c == 's')
            perdida.azar = (uint32_t)v;
    }
    long puerto = optind == argc ? 0 : numero(argv[optind], 0, 65535);
    if (argc - optind > 1 || puerto < 0)
        fprintf(stderr, "rdt3_servidor: se espera a lo sumo un PUERTO, de 0 a 65535\n");
    return argc - optind > 1 ? -1 : puerto;
}

int main(int argc, char **argv)
{
    long puerto = opciones(argc, argv);
    if (puerto < 0) {
        uso(stderr);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in dir = { .sin_family = AF_INET, .sin_port = htons((uint16_t)puerto) };
    dir.sin_addr.s_addr = htonl(INADDR_ANY);
    if (fd < 0 || bind(fd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("rdt3_servidor: bind");
        return 1;
    }
    socklen_t len = sizeof dir;
    getsockname(fd, (struct sockaddr *)&dir, &len);
    printf("Servidor rdt3 escuchando en el puerto %d\n", ntohs(dir.sin_port));
    fflush(stdout);

    /* El estado del receptor: de quién, qué número espera y el último ACK enviado, para
     * repetirlo tal cual si el cliente reenvía (porque ese ACK se perdió). */
    struct sockaddr_in cliente = { 0 };
    uint32_t esperado = 0;
    char ack[MAX_DGRAMA + 8] = "";

    for (;;) {
        char d[MAX_DGRAMA + 1], tipo, *nombre;
        uint32_t seq;
        struct sockaddr_in de;
        socklen_t dlen = sizeof de;
        ssize_t n = recvfrom(fd, d, sizeof d - 1, 0, (struct sockaddr *)&de, &dlen);
        if (n < 0 && errno != EINTR) {
            perror("rdt3_servidor: recvfrom");
            return 1;
        }
        if (n < 0)
            continue;
        d[n] = '\0';
        if (n == (ssize_t)sizeof d - 1 || strlen(d) != (size_t)n ||
            !leer_mensaje(d, &tipo, &seq, &nombre) || tipo != 'D') {
            fprintf(stderr, "rdt3_servidor: datagrama que no es \"D <seq> <nombre>\", ignorado\n");
            continue;
        }
        contar("<- %s\n", d);
        /* Otro remitente: un cliente nuevo, que empieza por 0. Un datagrama tardío de un
         * cliente anterior no trae 0 y se ignora: sin esto, se podría entregar dos veces.
         * (rudp distingue conexiones con un identificador y un saludo inicial.) */
        bool nuevo =
            de.sin_addr.s_addr != cliente.sin_addr.s_addr || de.sin_port != cliente.sin_port;
        if (nuevo && seq != 0)
            continue;
        if (nuevo) {
            cliente = de;
            esperado = 0;
        }
        if (seq == esperado) {
            /* Lo nuevo se entrega una vez: se imprime y se prepara su ACK. */
            printf("Hola %s\n", nombre);
            fflush(stdout);
            snprintf(ack, sizeof ack, "A %u Hola %s", (unsigned)seq, nombre);
            esperado++;
        } else if (seq + 1 == esperado) {
            /* Un duplicado: nuestro ACK se perdió, o tardó más que la espera del cliente.
             * No se entrega otra vez; se repite el mismo ACK. */
            contar("   duplicado de seq %u: no se entrega; se repite el ACK\n", (unsigned)seq);
        } else {
            continue; /* ni el esperado ni el anterior: imposible en parada y espera */
        }
        if (se_pierde(&perdida)) {
            contar("   x perdido a propósito: %s\n", ack);
            continue;
        }
        contar("-> %s\n", ack);
        if (sendto(fd, ack, strlen(ack), 0, (struct sockaddr *)&cliente, sizeof cliente) < 0)
            perror("rdt3_servidor: sendto");
    }
}
