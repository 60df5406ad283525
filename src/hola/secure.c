/* secure.c: --secure's credentials and plain UDP over DTLS; see secure.h. */
#include "secure.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"

#ifdef HOLA_HAVE_DTLS
#include "rudp/dtls.h"
#endif

void hola_secure_add_stats(struct hola_stats *st, const rudp_sock_dtls_stats_t *d)
{
    hola_stats_add(st, "dtls_handshakes", d->handshakes);
    hola_stats_add(st, "dtls_handshake_failed", d->handshake_failed);
    hola_stats_add(st, "dtls_cookies_sent", d->cookies_sent);
    hola_stats_add(st, "dtls_bad_records", d->bad_records);
    hola_stats_add(st, "dtls_replayed", d->replayed);
    hola_stats_add(st, "dtls_plaintext", d->plaintext);
    hola_stats_add(st, "dtls_no_session", d->no_session);
    hola_stats_add(st, "dtls_rate_limited", d->rate_limited);
    hola_stats_add(st, "dtls_refused_full", d->refused_full);
    hola_stats_add(st, "dtls_alerts_sent", d->alerts_sent);
    hola_stats_add(st, "dtls_refused_source", d->refused_source);
}

int hola_secure_check(struct hola_err *e)
{
#ifdef HOLA_HAVE_DTLS
    char why[512];
    if (rudp_dtls_load(why, sizeof why) == 0)
        return 0;
    return hola_err_set(e, _("--secure needs the DTLS module (%s, with OpenSSL 3): %s"),
                        "rudp-dtls.so", why);
#else
    return hola_err_set(e, _("--secure: this hola was built without DTLS; install "
                             "libssl-dev (OpenSSL 3) and reconfigure with "
                             "meson setup --reconfigure -Ddtls=enabled"));
#endif
}

#ifdef HOLA_HAVE_DTLS

/* mkdir -p, each new directory 0700 (the key lives there). */
static int make_dirs(char *path)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        int r = mkdir(path, 0700);
        *p = c;
        if (r != 0 && errno != EEXIST)
            return -1;
        if (c == '\0')
            return 0;
    }
}

static int state_dir(char *out, size_t cap, struct hola_err *e)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;

    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s/hola", xdg);
    else if (home != NULL && home[0] == '/')
        n = snprintf(out, cap, "%s/.local/state/hola", home);
    else
        return hola_err_set(e, _("--secure: neither XDG_STATE_HOME nor HOME is set: give "
                                 "--cert and --key, or --psk"));
    if (n < 0 || (size_t)n >= cap - 32)
        return hola_err_set(e, _("--secure: the state directory's path is too long"));
    if (make_dirs(out) != 0)
        return hola_err_set(e, _("--secure: cannot create %s: %s"), out, strerror(errno));
    return 0;
}

/* The self-signed certificate: loaded when it exists, else made under a lock (two
 * servers started at once make one certificate, not two). */
static int self_signed(struct hola_secure_cfg *c, const char *prog, struct hola_err *e)
{
    char dir[3900], lock[4096], tcert[4200], tkey[4200];
    struct stat sb;

    if (state_dir(dir, sizeof dir, e) != 0)
        return -1;
    snprintf(c->cert, sizeof c->cert, "%s/dtls-cert.pem", dir);
    snprintf(c->key, sizeof c->key, "%s/dtls-key.pem", dir);
    snprintf(lock, sizeof lock, "%s/dtls.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return hola_err_set(e, "--secure: %s: %s", lock, strerror(errno));
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
        continue;
    int rc = 0;
    if (stat(c->cert, &sb) != 0 || stat(c->key, &sb) != 0) {
        snprintf(tcert, sizeof tcert, "%s.tmp.%ld", c->cert, (long)getpid());
        snprintf(tkey, sizeof tkey, "%s.tmp.%ld", c->key, (long)getpid());
        unlink(tcert);
        unlink(tkey);
        if (rudp_dtls_make_selfsigned(tcert, tkey, "hola-server", c->err, sizeof c->err) != 0)
            rc = hola_err_set(e, _("--secure: cannot make a certificate: %s"), c->err);
        else if (rename(tkey, c->key) != 0 || rename(tcert, c->cert) != 0)
            rc = hola_err_set(e, "--secure: %s: %s", dir, strerror(errno));
        else
            fprintf(stderr,
                    _("%s: DTLS: made a self-signed certificate, kept in %s for next "
                      "time\n"),
                    prog, dir);
        if (rc != 0) {
            unlink(tcert);
            unlink(tkey);
        }
    }
    close(fd); /* and the lock with it */
    return rc;
}

static int print_fingerprint(const char *cert, const char *prog, struct hola_err *e)
{
    uint8_t fp[RUDP_DTLS_FINGERPRINT_SIZE];
    char err[256];

    if (rudp_dtls_fingerprint_file(cert, fp, err, sizeof err) != 0)
        return hola_err_set(e, "--secure: %s", err);
    fprintf(stderr, _("%s: DTLS certificate fingerprint SHA256"), prog);
    for (size_t i = 0; i < sizeof fp; i++)
        fprintf(stderr, ":%02X", fp[i]);
    fputc('\n', stderr);
    return 0;
}

int hola_secure_setup(struct hola_secure_cfg *c, const struct hola_netopts *o, bool server,
                      const char *prog, uint32_t handshake_ms, struct hola_err *e)
{
    memset(c, 0, sizeof *c);
    c->dtls.handshake_timeout_ms = handshake_ms;
    c->dtls.error = c->err;
    c->dtls.error_cap = sizeof c->err;
    if (o->psk_len > 0) {
        /* Any local user can read another's command line (ps, /proc/PID/cmdline). */
        if (o->psk_from != NULL && strcmp(o->psk_from, "--psk") == 0)
            fprintf(stderr,
                    _("%s: warning: --psk on the command line can be read by every local "
                      "user (ps); keep the key in a file for --psk-file, or in HOLA_PSK\n"),
                    prog);
        c->dtls.psk = o->psk;
        c->dtls.psk_len = o->psk_len;
        c->dtls.psk_identity = o->psk_identity;
        if (server)
            fprintf(stderr, _("%s: DTLS with a pre-shared key\n"), prog);
        return 0;
    }
    if (!server) {
        if (o->fingerprint_set)
            c->dtls.fingerprint = o->fingerprint;
        c->dtls.ca_file = o->ca;
        if (!o->fingerprint_set && o->ca == NULL)
            return hola_err_set(e, _("--secure needs --fingerprint, --ca or --psk: the client "
                                     "must know whom it talks to (the server prints its "
                                     "fingerprint when it starts)"));
        return 0;
    }
    if (o->cert != NULL) {
        snprintf(c->cert, sizeof c->cert, "%s", o->cert);
        snprintf(c->key, sizeof c->key, "%s", o->key);
    } else if (self_signed(c, prog, e) != 0) {
        return -1;
    }
    c->dtls.cert_file = c->cert;
    c->dtls.key_file = c->key;
    return print_fingerprint(c->cert, prog, e);
}

struct hola_dtls {
    rudp_dtls_t *d;
    bool server;
    hola_dtls_send_fn send;
    hola_dtls_recv_fn recv;
    void *user;
    bool up, failed;
};

static uint64_t now_us(void)
{
    return hola_stats_now_us();
}

static void on_out(void *user, const struct sockaddr *to, socklen_t tolen,
                   const struct sockaddr *from, socklen_t fromlen, const uint8_t *d, size_t n)
{
    struct hola_dtls *h = user;
    (void)from;
    (void)fromlen;
    h->send(h->user, h->server ? to : NULL, h->server ? tolen : 0, d, n);
}

static void on_in(void *user, const struct sockaddr *peer, socklen_t peerlen,
                  const struct sockaddr *local, socklen_t locallen, const uint8_t *d, size_t n)
{
    struct hola_dtls *h = user;
    (void)local;
    (void)locallen;
    h->recv(h->user, peer, peerlen, d, n);
}

static void on_state(void *user, const struct sockaddr *peer, socklen_t peerlen, int up)
{
    struct hola_dtls *h = user;
    (void)peer;
    (void)peerlen;
    if (h->server)
        return;
    if (up)
        h->up = true;
    else
        h->failed = true;
}

int hola_dtls_new(struct hola_dtls **out, const struct hola_secure_cfg *c, bool server,
                  uint32_t max_sessions, uint32_t rate, hola_dtls_send_fn send,
                  hola_dtls_recv_fn recv, void *user, struct hola_err *e)
{
    struct hola_dtls *h = calloc(1, sizeof *h);
    char err[256] = "";

    if (h == NULL)
        return hola_err_set(e, _("out of memory"));
    h->server = server;
    h->send = send;
    h->recv = recv;
    h->user = user;
    rudp_dtls_hooks_t hooks = { on_out, on_in, on_state, h };
    if (rudp_dtls_new(&h->d, server, &c->dtls, max_sessions, rate, 0, &hooks, err, sizeof err) !=
        0) {
        free(h);
        return hola_err_set(e, "--secure: %s", err);
    }
    *out = h;
    return 0;
}

void hola_dtls_free(struct hola_dtls *h)
{
    if (h == NULL)
        return;
    /* A client says close_notify, so the server frees the session and its host's place
     * now instead of after two idle minutes. */
    if (!h->server && h->up && !h->failed)
        rudp_dtls_close(h->d, NULL, 0); /* a client's one session */
    rudp_dtls_free(h->d);
    free(h);
}

int hola_dtls_connect(struct hola_dtls *h, const struct sockaddr *peer, socklen_t len,
                      const char *host, struct hola_err *e)
{
    int r = rudp_dtls_connect(h->d, peer, len, host, now_us());
    return r == 0 ? 0 : hola_err_set(e, _("--secure: cannot start DTLS: %s"), rudp_strerror(r));
}

void hola_dtls_input(struct hola_dtls *h, const uint8_t *d, size_t n, const struct sockaddr *from,
                     socklen_t fromlen)
{
    rudp_dtls_input(h->d, d, n, from, fromlen, NULL, 0, now_us());
}

int hola_dtls_send(struct hola_dtls *h, const struct sockaddr *to, socklen_t tolen,
                   const uint8_t *d, size_t n)
{
    return rudp_dtls_send(h->d, to, tolen, d, n, now_us()) == 0 ? 0 : -1;
}

int hola_dtls_timeout_ms(const struct hola_dtls *h)
{
    uint64_t t = rudp_dtls_next_timeout(h->d), now = now_us();

    if (t == UINT64_MAX)
        return -1;
    if (t <= now)
        return 0;
    uint64_t ms = (t - now + 999) / 1000;
    return ms > 3600000u ? 3600000 : (int)ms;
}

void hola_dtls_timers(struct hola_dtls *h)
{
    rudp_dtls_timers(h->d, now_us());
}

bool hola_dtls_up(const struct hola_dtls *h)
{
    return h->up && !h->failed;
}

bool hola_dtls_failed(const struct hola_dtls *h)
{
    return h->failed;
}

const char *hola_dtls_error(const struct hola_dtls *h)
{
    const char *m = rudp_dtls_error(h->d);
    return m != NULL ? m : _("the DTLS session ended");
}

void hola_dtls_stats(const struct hola_dtls *h, rudp_sock_dtls_stats_t *out)
{
    rudp_dtls_stats(h->d, out);
}

#else /* built without DTLS: hola_netopts_check() refused --secure already */

int hola_secure_setup(struct hola_secure_cfg *c, const struct hola_netopts *o, bool server,
                      const char *prog, uint32_t handshake_ms, struct hola_err *e)
{
    (void)c, (void)o, (void)server, (void)prog, (void)handshake_ms;
    return hola_err_set(e, _("--secure: built without DTLS"));
}

int hola_dtls_new(struct hola_dtls **out, const struct hola_secure_cfg *c, bool server,
                  uint32_t max_sessions, uint32_t rate, hola_dtls_send_fn send,
                  hola_dtls_recv_fn recv, void *user, struct hola_err *e)
{
    (void)out, (void)c, (void)server, (void)max_sessions, (void)rate, (void)send;
    (void)recv, (void)user;
    return hola_err_set(e, _("--secure: built without DTLS"));
}

void hola_dtls_free(struct hola_dtls *h)
{
    (void)h;
}

int hola_dtls_connect(struct hola_dtls *h, const struct sockaddr *peer, socklen_t len,
                      const char *host, struct hola_err *e)
{
    (void)h, (void)peer, (void)len, (void)host;
    return hola_err_set(e, _("--secure: built without DTLS"));
}

void hola_dtls_input(struct hola_dtls *h, const uint8_t *d, size_t n, const struct sockaddr *from,
                     socklen_t fromlen)
{
    (void)h, (void)d, (void)n, (void)from, (void)fromlen;
}

int hola_dtls_send(struct hola_dtls *h, const struct sockaddr *to, socklen_t tolen,
                   const uint8_t *d, size_t n)
{
    (void)h, (void)to, (void)tolen, (void)d, (void)n;
    return -1;
}

int hola_dtls_timeout_ms(const struct hola_dtls *h)
{
    (void)h;
    return -1;
}

void hola_dtls_timers(struct hola_dtls *h)
{
    (void)h;
}

bool hola_dtls_up(const struct hola_dtls *h)
{
    (void)h;
    return false;
}

bool hola_dtls_failed(const struct hola_dtls *h)
{
    (void)h;
    return true;
}

const char *hola_dtls_error(const struct hola_dtls *h)
{
    (void)h;
    return _("built without DTLS");
}

void hola_dtls_stats(const struct hola_dtls *h, rudp_sock_dtls_stats_t *out)
{
    (void)h;
    memset(out, 0, sizeof *out);
}

#endif
