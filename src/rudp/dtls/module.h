/* The DTLS module's entry: what rudp-dtls.so (context.c, dtls.c, module.c, linked against
 * OpenSSL) hands librudp's loader (load.c) so that only a process using DTLS maps OpenSSL.
 * No OpenSSL type appears here. */
#ifndef RUDP_DTLS_MODULE_H
#define RUDP_DTLS_MODULE_H

#include "rudp/dtls.h"

/* Raised whenever this table or the meaning of an entry changes; the loader also
 * requires the module's librudp version to equal its own, so a module from another
 * build is refused with a clear message instead of being called. */
#define RUDP_DTLS_MODULE_ABI 1
/* The one symbol the module exports (its version script hides every other). */
#define RUDP_DTLS_MODULE_SYMBOL "rudp_dtls_module_v1"
#define RUDP_DTLS_MODULE_FILE "rudp-dtls.so"

typedef struct rudp_dtls_module {
    int abi;             /* RUDP_DTLS_MODULE_ABI */
    const char *version; /* the librudp version it was built with (RUDP_LIB_VERSION) */
    int (*new_)(rudp_dtls_t **out, int server, const rudp_dtls_config_t *cfg, uint32_t max_sessions,
                uint32_t rate, uint32_t burst, const rudp_dtls_hooks_t *hooks, char *err,
                size_t errcap);
    void (*free_)(rudp_dtls_t *d);
    int (*connect)(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen, const char *host,
                   uint64_t now);
    int (*input)(rudp_dtls_t *d, const uint8_t *data, size_t len, const struct sockaddr *from,
                 socklen_t fromlen, const struct sockaddr *to, socklen_t tolen, uint64_t now);
    int (*send)(rudp_dtls_t *d, const struct sockaddr *to, socklen_t tolen, const uint8_t *msg,
                size_t len, uint64_t now);
    void (*close)(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen);
    void (*release)(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen, uint64_t now);
    int (*established)(const rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen);
    uint64_t (*next_timeout)(const rudp_dtls_t *d);
    void (*timers)(rudp_dtls_t *d, uint64_t now);
    void (*stats)(const rudp_dtls_t *d, rudp_dtls_stats_t *out);
    const char *(*error)(const rudp_dtls_t *d);
    int (*timed_out)(const rudp_dtls_t *d);
    int (*make_selfsigned)(const char *cert_path, const char *key_path, const char *cn, char *err,
                           size_t errcap);
    int (*fingerprint_file)(const char *cert_path, uint8_t out[RUDP_DTLS_FINGERPRINT_SIZE],
                            char *err, size_t errcap);
} rudp_dtls_module_t;

/* module.c. The module defines the rudp_dtls_* functions this table points to under the
 * public names (dtls.c, context.c); its version script (rudp-dtls.map) keeps them local,
 * so they never meet load.c's functions of the same names in librudp. */
RUDP_API extern const rudp_dtls_module_t rudp_dtls_module_v1;

#endif
