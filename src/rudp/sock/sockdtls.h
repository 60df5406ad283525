/* The driver over DTLS (cfg.dtls): how the socket's datagrams become DTLS records and
 * back, through the DTLS layer's hooks (rudp/dtls.h). Only with RUDP_HAVE_DTLS. */
#ifndef RUDP_SOCK_SOCKDTLS_H
#define RUDP_SOCK_SOCKDTLS_H

#include "rudp/sock.h"

struct rudp_sock;

/* Makes s->dtls from cfg->dtls. Returns 0, RUDP_EINVAL or RUDP_ENOMEM. */
int sockdtls_open(struct rudp_sock *s, const rudp_sock_config_t *cfg);

#endif
