/* tcp_server.c: el primer programa de la práctica, un servidor TCP que saluda a un
 * cliente. Lo más parecido posible a la versión de clase: IPv4, llamadas bloqueantes, un
 * cliente y termina. Primer peldaño de examples/README.md; hola-server es la versión
 * completa. */
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
    fprintf(f, "Uso: tcp_server [PUERTO]\n"
               "Espera a un cliente TCP en PUERTO (0, el valor por omisión: uno libre que\n"
               "elige el núcleo; se imprime primero), muestra \"Conectado a IP:PUERTO\" y lo\n"
               "que recibe, contesta \"Hola Cliente, soy el servidor\" y termina.\n"
               "Ejemplo: tcp_server 7000   y en otra terminal:   tcp_client 127.0.0.1 7000\n");
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
        fprintf(stderr, "tcp_server: puerto no válido: %s (de 0 a 65535)\n",
                argv[argc > 2 ? 2 : 1]);
        uso(stderr);
        return 2;
    }

    /* 1. socket(): un extremo para un flujo de bytes (TCP) sobre IPv4. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        perror("tcp_server: socket");
        return 1;
    }
    /* Para poder reiniciar el servidor enseguida en el mismo puerto (las conexiones
     * viejas pueden seguir en TIME_WAIT). */
    int uno = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &uno, sizeof uno);

    /* 2. bind(): todas las direcciones locales (INADDR_ANY) y el puerto elegido. Puertos
     * y direcciones viajan en orden de red, de ahí htons() y htonl(). */
    struct sockaddr_in dir;
    memset(&dir, 0, sizeof dir);
    dir.sin_family = AF_INET;
    dir.sin_addr.s_addr = htonl(INADDR_ANY);
    dir.sin_port = htons((unsigned short)puerto);
    if (bind(lfd, (struct sockaddr *)&dir, sizeof dir) < 0) {
        perror("tcp_server: bind");
        return 1;
    }
    /* 3. listen(): desde ahora el núcleo acepta conexiones y las pone en cola. */
    if (listen(lfd, 5) < 0) {
        perror("tcp_server: listen");
        return 1;
    }
    /* Con el puerto 0 lo eligió el núcleo: se le pregunta cuál, para decírselo al
     * cliente. */
    socklen_t len = sizeof dir;
    getsockname(lfd, (struct sockaddr *)&dir, &len);
    printf("Servidor escuchando en el puerto %d\n", ntohs(dir.sin_port));
    fflush(stdout);

    /* 4. accept(): espera a un cliente y devuelve un socket nuevo, solo para él. */
    struct sockaddr_in cli;
    socklen_t clen = sizeof cli;
    int fd = accept(lfd, (struct sockaddr *)&cli, &clen);
    if (fd < 0) {
        perror("tcp_server: accept");
        return 1;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &cli.sin_addr, ip, sizeof ip);
    printf("Conectado a %s:%d\n", ip, ntohs(cli.sin_port));

    /* 5. recv(): TCP es un flujo de bytes, así que un recv() puede traer solo una parte
     * de lo enviado; un saludo corto por loopback llega entero, y la práctica cuenta
     * con eso (nombres_servidor.c y hola-server, en cambio, leen por líneas). */
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        perror("tcp_server: recv");
        return 1;
    }
    buf[n] = '\0';
    printf("Recibido: %s\n", buf);

    /* 6. send() la respuesta y cerrar los dos sockets. */
    if (send(fd, respuesta, strlen(respuesta), 0) < 0) {
        perror("tcp_server: send");
        return 1;
    }
    close(fd);
    close(lfd);
    return 0;
}
