/* load.c: librudp's rudp_dtls_* functions (rudp/dtls.h), which load the DTLS module,
 * rudp-dtls.so, the first time DTLS is asked for and then call through its table
 * (module.h). Only the module links OpenSSL, so a process that never uses DTLS never
 * maps libssl or libcrypto (docs/security.md has what that saves at every start).
 *
 * Where the module is looked for: $RUDP_DTLS_MODULE when set (that file only; ignored in
 * set-user-ID programs); else the installed one (RUDP_DTLS_MODULE_PATH, libdir/rudp/);
 * else, when that does not exist, this build tree's (RUDP_DTLS_BUILD_MODULE_PATH), so
 * the programs work uninstalled as their messages do (HOLA_BUILD_LOCALEDIR). The module
 * must come from the same librudp version and table ABI, or it is refused. It is never
 * unloaded: OpenSSL keeps exit handlers in it. The first load runs once per process
 * (pthread_once); after it the table is only read. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module.h"
#include "rudp/error.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const rudp_dtls_module_t *mod;
static char load_error[512]; /* after a failed load: where, and why */

static void try_path(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load %s: %s", path, why ? why : "?");
        return;
    }
    const rudp_dtls_module_t *m = dlsym(h, RUDP_DTLS_MODULE_SYMBOL);
    if (!m) {
        snprintf(load_error, sizeof load_error, "%s is not a DTLS module for librudp", path);
    } else if (m->abi != RUDP_DTLS_MODULE_ABI || !m->version ||
               strcmp(m->version, RUDP_LIB_VERSION) != 0) {
        snprintf(load_error, sizeof load_error,
                 "%s was built for librudp %s (module ABI %d), this is %s (ABI %d)", path,
                 m->version ? m->version : "?", m->abi, RUDP_LIB_VERSION, RUDP_DTLS_MODULE_ABI);
    } else {
        mod = m;
        return;
    }
    dlclose(h);
}

static void load(void)
{
    /* Not in a set-user-ID or set-group-ID program: whoever runs it would choose the
     * code it runs (the dynamic loader ignores LD_LIBRARY_PATH there for the same
     * reason). */
    const char *env =
        getuid() == geteuid() && getgid() == getegid() ? getenv("RUDP_DTLS_MODULE") : NULL;
    if (env && env[0]) {
        if (access(env, F_OK) == 0)
            try_path(env);
        else
            snprintf(load_error, sizeof load_error, "not found at %s (RUDP_DTLS_MODULE)", env);
        return;
    }
    if (access(RUDP_DTLS_MODULE_PATH, F_OK) == 0)
        try_path(RUDP_DTLS_MODULE_PATH);
    else if (access(RUDP_DTLS_BUILD_MODULE_PATH, F_OK) == 0)
        try_path(RUDP_DTLS_BUILD_MODULE_PATH);
    else
        snprintf(load_error, sizeof load_error, "not found at %s", RUDP_DTLS_MODULE_PATH);
}

int rudp_dtls_load(char *err, size_t errcap)
{
    if (pthread_once(&load_once, load) != 0 && !mod)
        snprintf(load_error, sizeof load_error, "cannot run the module loader");
    if (mod)
        return 0;
    if (err && errcap)
        snprintf(err, errcap, "%s", load_error);
    return RUDP_ENOTSUP;
}

/* ---- the API through the table. A session exists only once the module is loaded, so
 * the functions that take one need no load of their own; given NULL they answer as the
 * module does. */

int rudp_dtls_new(rudp_dtls_t **out, int server, const rudp_dtls_config_t *cfg,
                  uint32_t max_sessions, uint32_t rate, uint32_t burst,
                  const rudp_dtls_hooks_t *hooks, char *err, size_t errcap)
{
    int rc = rudp_dtls_load(err, errcap);
    if (rc) {
        if (out)
            *out = NULL;
        return rc;
    }
    return mod->new_(out, server, cfg, max_sessions, rate, burst, hooks, err, errcap);
}

void rudp_dtls_free(rudp_dtls_t *d)
{
    if (d && mod)
        mod->free_(d);
}

int rudp_dtls_connect(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen,
                      const char *host, uint64_t now)
{
    return d && mod ? mod->connect(d, peer, peerlen, host, now) : RUDP_EINVAL;
}

int rudp_dtls_input(rudp_dtls_t *d, const uint8_t *data, size_t len, const struct sockaddr *from,
                    socklen_t fromlen, const struct sockaddr *to, socklen_t tolen, uint64_t now)
{
    return d && mod ? mod->input(d, data, len, from, fromlen, to, tolen, now) : 0;
}

int rudp_dtls_send(rudp_dtls_t *d, const struct sockaddr *to, socklen_t tolen, const uint8_t *msg,
                   size_t len, uint64_t now)
{
    return d && mod ? mod->send(d, to, tolen, msg, len, now) : RUDP_EINVAL;
}

void rudp_dtls_close(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen)
{
    if (d && mod)
        mod->close(d, peer, peerlen);
}

void rudp_dtls_release(rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen, uint64_t now)
{
    if (d && mod)
        mod->release(d, peer, peerlen, now);
}

int rudp_dtls_established(const rudp_dtls_t *d, const struct sockaddr *peer, socklen_t peerlen)
{
    return d && mod ? mod->established(d, peer, peerlen) : 0;
}

uint64_t rudp_dtls_next_timeout(const rudp_dtls_t *d)
{
    return d && mod ? mod->next_timeout(d) : UINT64_MAX;
}

void rudp_dtls_timers(rudp_dtls_t *d, uint64_t now)
{
    if (d && mod)
        mod->timers(d, now);
}

void rudp_dtls_stats(const rudp_dtls_t *d, rudp_dtls_stats_t *out)
{
    if (d && mod)
        mod->stats(d, out);
}

const char *rudp_dtls_error(const rudp_dtls_t *d)
{
    return d && mod ? mod->error(d) : NULL;
}

int rudp_dtls_timed_out(const rudp_dtls_t *d)
{
    return d && mod ? mod->timed_out(d) : 0;
}

int rudp_dtls_make_selfsigned(const char *cert_path, const char *key_path, const char *cn,
                              char *err, size_t errcap)
{
    if (rudp_dtls_load(err, errcap) != 0)
        return -1;
    return mod->make_selfsigned(cert_path, key_path, cn, err, errcap);
}

int rudp_dtls_fingerprint_file(const char *cert_path, uint8_t out[RUDP_DTLS_FINGERPRINT_SIZE],
                               char *err, size_t errcap)
{
    if (rudp_dtls_load(err, errcap) != 0)
        return -1;
    return mod->fingerprint_file(cert_path, out, err, errcap);
}
