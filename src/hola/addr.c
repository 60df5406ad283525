/* addr.c: getaddrinfo wrapper and address formatting; see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"

int hola_addr_resolve(const char *host, uint16_t port, int socktype, int passive,
                      struct addrinfo **out, struct hola_err *e)
{
    struct addrinfo hints;
    char service[8];

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    /* NUMERICSERV: the port is always a number here, so no /etc/services lookup. */
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(service, sizeof service, "%u", (unsigned)port);

    int rc = getaddrinfo(host, service, &hints, out);
    if (rc != 0) {
        return hola_err_set(e, _("cannot resolve %s: %s"), host ? host : _("(any)"),
                            rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    }
    return 0;
}

void hola_addr_format(const struct sockaddr *sa, socklen_t salen, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            /* The last four bytes are the IPv4 address. */
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof ip);
            snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(in6->sin6_port));
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
            snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
        }
    } else {
        snprintf(out, cap, _("(address family %d)"), (int)sa->sa_family);
    }
}

uint16_t hola_addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
    return 0;
}
