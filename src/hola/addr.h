/* addr.h: name resolution (getaddrinfo, so IPv4, IPv6 and host names all work) and the
 * one way hola prints an address: 127.0.0.1:7000, [::1]:7000. */
#ifndef HOLA_ADDR_H
#define HOLA_ADDR_H

#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"

/* "[" + IPv6 text + "]:" + port + NUL, with room to spare. */
#define HOLA_ADDR_STRLEN 64

/* Resolves host (NULL: the wildcard address when passive) and a numeric port for socktype
 * (SOCK_STREAM or SOCK_DGRAM). 0 with *out to free with freeaddrinfo(), or -1 with e set. */
int hola_addr_resolve(const char *host, uint16_t port, int socktype, int passive,
                      struct addrinfo **out, struct hola_err *e);

/* Writes "a.b.c.d:port" or "[v6]:port" into out. An IPv4-mapped IPv6 address (what a
 * dual-stack socket reports for an IPv4 peer) is shown as plain IPv4. */
void hola_addr_format(const struct sockaddr *sa, socklen_t salen, char *out, size_t cap);

/* The port of an AF_INET or AF_INET6 address, host byte order; 0 for other families. */
uint16_t hola_addr_port(const struct sockaddr *sa);

#endif
