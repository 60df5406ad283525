/* rdt3.h: lo que comparten rdt3_servidor.c y rdt3_cliente.c, parada y espera (rdt 3.0)
 * sobre UDP: el formato de los mensajes, su lectura comprobada y la pérdida a propósito.
 *
 * Mensajes (texto, legibles en una captura):
 *   cliente -> servidor   "D <seq> <nombre>"       datos: el nombre número seq (0, 1, 2...)
 *   servidor -> cliente   "A <seq> Hola <nombre>"  confirmación (ACK) de seq, con la respuesta
 */
#ifndef RDT3_H
#define RDT3_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_NOMBRE 512               /* como en hola-server */
#define MAX_DGRAMA (MAX_NOMBRE + 32) /* el nombre, el tipo y el número */

/* -v: una línea en stderr por cada cosa que hace el protocolo. (Cada programa incluye
 * este archivo una vez: la variable es suya.) */
static bool ver;

static inline void contar(const char *formato, ...)
{
    va_list ap;
    va_start(ap, formato);
    if (ver)
        vfprintf(stderr, formato, ap);
    va_end(ap);
}

/* --perdida y --semilla: qué porcentaje de los datagramas propios NO se envía, y el
 * estado del generador (nunca 0): la misma semilla pierde los mismos datagramas. */
struct perdida {
    long pct;
    uint32_t azar;
};

/* xorshift32 (Marsaglia): pocos bits de estado, y la misma semilla repite la secuencia. */
static inline bool se_pierde(struct perdida *p)
{
    p->azar ^= p->azar << 13;
    p->azar ^= p->azar >> 17;
    p->azar ^= p->azar << 5;
    return p->azar % 100 < (uint32_t)p->pct;
}

/* Lee "X <seq> <resto>". Todo lo que viene de la red se comprueba: un datagrama mal
 * formado se ignora, no rompe el programa. */
static inline bool leer_mensaje(char *d, char *tipo, uint32_t *seq, char **resto)
{
    char *fin;
    if (d[0] == '\0' || d[1] != ' ' || d[2] < '0' || d[2] > '9')
        return false;
    errno = 0;
    unsigned long v = strtoul(d + 2, &fin, 10);
    if (errno != 0 || v > UINT32_MAX || *fin != ' ')
        return false;
    *tipo = d[0];
    *seq = (uint32_t)v;
    *resto = fin + 1;
    return true;
}

/* Un número entero entre min y max (una opción, un puerto); -1 si no lo es. */
static inline long numero(const char *s, long min, long max)
{
    char *fin;
    errno = 0;
    long v = strtol(s, &fin, 10);
    return errno != 0 || fin == s || *fin != '\0' || v < min || v > max ? -1 : v;
}

#endif
