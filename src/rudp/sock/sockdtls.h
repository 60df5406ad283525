/* The driver over DTLS (cfg.dtls): how the socket's datagrams become DTLS records and
 * back, through the DTLS layer's hooks (rudp/dtls.h). Only with RUDP_HAVE_DTLS; without,
 * sockdtls_check() says so. */
#ifndef RUDP_SOCK_SOCKDTLS_H
#define RUDP_SOCK_SOCKDTLS_H

#include "rudp/sock.h"

struct rudp_sock;

/* Whether cfg->dtls can be had: this librudp has DTLS and its module loads. Returns 0,
 * or RUDP_ENOTSUP with one line in cfg->dtls->error. */
int sockdtls_check(const rudp_sock_config_t *cfg);

/* Makes s->dtls from cfg->dtls. Returns 0, RUDP_EINVAL or RUDP_ENOMEM. */
int sockdtls_open(struct rudp_sock *s, const rudp_sock_config_t *cfg);

#endif
