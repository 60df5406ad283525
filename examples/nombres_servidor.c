/* nombres_servidor.c: el ejercicio de la práctica sobre TCP, lado servidor: atiende a un
 * cliente, anuncia "Conectado a IP:PUERTO" y contesta "Hola <nombre>" a cada nombre.
 * Segundo peldaño de examples/README.md; hola-server es la versión completa. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Como en hola-server: un nombre ocupa a lo sumo 512 bytes. */
#define MAX_NOMBRE 512

static void uso(FILE *f)
{
    fprintf(f, "Uso: nombres_servidor [PUERTO]\n"
               "Espera a un cliente TCP en PUERTO (0, el valor por omisión: uno libre que\n"
               "elige el núcleo; se imprime primero), muestra \"Conectado a IP:PUERTO\" y,\n"
               "por cada línea que recibe (un nombre), imprime y contesta \"Hola <nombre>\".\n"
               "Termina cuando el cliente cierra la conexión.\n"
               "Ejemplo: nombres_servidor 7000   y en otra terminal:\n"
               "         nombres_cliente 127.0.0.1 7000 \"Ana Pérez\" \"Luis Gómez\"\n");
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
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        uso(stdout);
        return 0;
    }
    int puerto = argc > 1 ? leer_puerto(argv[1]) : 0;
    if (argc > 2 || puerto < 0) {
        fprintf(stderr, "nombres_servidor: puerto no válido: %s\n", argv[argc > 2 ? 2 : 1]);
        uso(stderr);
        return 2;
    }

    /* socket(), bind(), listen(): los mismos pasos que tcp_server.c. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        perror("nombres_servidor: socket");
        return 1;
    }
    int uno = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &uno, sizeof uno);
    struct sockaddr_in dir;
    memset(&dir, 0, sizeof dir);
    dir.sin_family = AF_INET;
    dir.sin_addr.s_addr = htonl(INADDR_ANY);
    dir.sin_port = htons((unsigned short)puerto);
    if (bind(lfd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("nombres_servidor: bind");
        return 1;
    }
    if (listen(lfd, 5) < 0) {
        perror("nombres_servidor: listen");
        return 1;
    }
    socklen_t len = sizeof dir;
    getsockname(lfd, (struct sockaddr *)&dir, &len);
    printf("Servidor escuchando en el puerto %d\n", ntohs(dir.sin_port));
    fflush(stdout);

    struct sockaddr_in cli;
    socklen_t clen = sizeof cli;
    int fd = accept(lfd, (struct sockaddr *)&cli, &clen);
    if (fd < 0) {
        perror("nombres_servidor: accept");
        return 1;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &cli.sin_addr, ip, sizeof ip);
    printf("Conectado a %s:%d\n", ip, ntohs(cli.sin_port));
    fflush(stdout);

    /* TCP entrega un flujo de bytes, no mensajes: un recv() puede traer medio nombre o
     * tres. Por eso cada nombre termina en '\n' y se lee línea a línea: fdopen() da un
     * FILE* sobre el socket y fgets() junta los pedazos hasta el '\n' (o hasta llenar
     * la línea: un nombre no puede ocupar más memoria que la que le damos). */
    FILE *entrada = fdopen(fd, "r");
    if (entrada == NULL) {
        perror("nombres_servidor: fdopen");
        return 1;
    }
    char linea[MAX_NOMBRE + 3]; /* el nombre, "\r\n" y el '\0' */
    while (fgets(linea, sizeof linea, entrada) != NULL) {
        size_t n = strlen(linea);
        if (n > 0 && linea[n - 1] != '\n' && !feof(entrada)) {
            fprintf(stderr, "nombres_servidor: un nombre de más de %d bytes; cierro\n", MAX_NOMBRE);
            break;
        }
        /* Sin el fin de línea: '\n', o "\r\n" si el cliente es telnet. */
        while (n > 0 && (linea[n - 1] == '\n' || linea[n - 1] == '\r'))
            linea[--n] = '\0';
        if (n == 0)
            continue;
        char respuesta[sizeof linea + 8];
        int r = snprintf(respuesta, sizeof respuesta, "Hola %s\n", linea);
        fputs(respuesta, stdout);
        fflush(stdout);
        /* send() puede escribir menos de lo pedido: se repite hasta mandarlo todo.
         * MSG_NOSIGNAL: si el cliente ya cerró, un error EPIPE en vez de morir. */
        for (int hecho = 0; hecho < r;) {
            ssize_t m = send(fd, respuesta + hecho, (size_t)(r - hecho), MSG_NOSIGNAL);
            if (m < 0) {
                perror("nombres_servidor: send");
                return 1;
            }
            hecho += (int)m;
        }
    }
    /* fgets() devuelve NULL al final (el cliente cerró) o ante un error de recv(). */
    if (ferror(entrada))
        perror("nombres_servidor: recv");
    fclose(entrada); /* cierra también fd */
    close(lfd);
    return 0;
}
