/* DTLS's setup, done once per endpoint (dtls.h): the SSL_CTX with its ciphers,
 * credentials (certificates, pinning, PSK) and the cookie and verify callbacks; the
 * datagram BIO method that gives OpenSSL one datagram at a time; and the certificate
 * helpers (a self-signed pair, a fingerprint). Sessions and their traffic are dtls.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/bytes.h"
#include "dtls_internal.h"
#include "rudp/error.h"

static const char ciphers_cert[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                                   "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
                                   "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384";
static const char ciphers_psk[] =
    "ECDHE-PSK-CHACHA20-POLY1305:PSK-AES128-GCM-SHA256:PSK-AES256-GCM-SHA384:"
    "PSK-CHACHA20-POLY1305";

/* ---- the datagram BIO ------------------------------------------------------------ */

static int bio_write(BIO *b, const char *data, int len)
{
    struct bio_ctx *c = BIO_get_data(b);
    rudp_dtls_t *d = c->d;
    const sa_t *to = c->s ? &c->s->peer : &d->cur_peer;
    const sa_t *from = c->s ? &c->s->local : &d->cur_local;
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    d->wrote++;
    d->hooks.out(d->hooks.user, &to->u.sa, to->len, &from->u.sa, from->len, (const uint8_t *)data,
                 (size_t)len);
    return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct bio_ctx *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!c->in || len <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = c->in_len < (size_t)len ? c->in_len : (size_t)len;
    memcpy(buf, c->in, n);
    c->in = NULL;
    c->in_len = 0;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    default:
        return 0; /* no MTU query, no peer address, nothing pending */
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

BIO_METHOD *dtls_bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rudp datagram");
    if (m && (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
              !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create) ||
              !BIO_meth_set_destroy(m, bio_destroy))) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

/* ---- callbacks ------------------------------------------------------------------- */

static rudp_dtls_t *of_ssl(SSL *ssl)
{
    return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

static int cookie_mac(const rudp_dtls_t *d, uint64_t slot, uint8_t out[COOKIE_LEN])
{
    uint8_t data[8 + KEY_MAX];
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    rudp_put32(data, (uint32_t)(slot >> 32));
    rudp_put32(data + 4, (uint32_t)slot);
    memcpy(data + 8, d->cur_key, d->cur_key_len);
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, d->secret, sizeof d->secret, data,
                   8u + d->cur_key_len, mac, sizeof mac, &maclen) ||
        maclen < COOKIE_LEN)
        return 0;
    memcpy(out, mac, COOKIE_LEN);
    return 1;
}

static int cookie_gen(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    rudp_dtls_t *d = of_ssl(ssl);
    if (!cookie_mac(d, d->now / COOKIE_SLOT_US, cookie))
        return 0;
    *len = COOKIE_LEN;
    return 1;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    rudp_dtls_t *d = of_ssl(ssl);
    uint8_t want[COOKIE_LEN];
    uint64_t slot = d->now / COOKIE_SLOT_US;
    if (len != COOKIE_LEN)
        return 0;
    for (int k = 0; k < 2 && slot >= (uint64_t)k; k++)
        if (cookie_mac(d, slot - (uint64_t)k, want) && CRYPTO_memcmp(want, cookie, len) == 0)
            return 1;
    return 0;
}

static void hex_fp(const uint8_t *fp, char *out, size_t cap)
{
    size_t o = 0;
    o += (size_t)snprintf(out, cap, "SHA256");
    for (unsigned i = 0; i < RUDP_DTLS_FINGERPRINT_SIZE && o + 4 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, ":%02X", fp[i]);
}

/* Pinning replaces chain verification: the one certificate with this SHA-256. */
static int pin_verify(X509_STORE_CTX *xs, void *arg)
{
    rudp_dtls_t *d = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    uint8_t fp[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!leaf || !X509_digest(leaf, EVP_sha256(), fp, &n) || n != RUDP_DTLS_FINGERPRINT_SIZE) {
        snprintf(d->verify_msg, sizeof d->verify_msg, "the server sent no usable certificate");
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    if (CRYPTO_memcmp(fp, d->fingerprint, n) != 0) {
        char got[128];
        hex_fp(fp, got, sizeof got);
        snprintf(d->verify_msg, sizeof d->verify_msg,
                 "the server's certificate fingerprint is %s, not the one given with "
                 "--fingerprint",
                 got);
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    return 1;
}

static unsigned int psk_client(SSL *ssl, const char *hint, char *identity,
                               unsigned int max_identity, unsigned char *psk, unsigned int max_psk)
{
    rudp_dtls_t *d = of_ssl(ssl);
    (void)hint;
    const char *id = d->have_identity ? d->psk_identity : "hola";
    if (strlen(id) + 1 > max_identity || d->psk_len > max_psk)
        return 0;
    memcpy(identity, id, strlen(id) + 1);
    memcpy(psk, d->psk, d->psk_len);
    return (unsigned int)d->psk_len;
}

static unsigned int psk_server(SSL *ssl, const char *identity, unsigned char *psk,
                               unsigned int max_psk)
{
    rudp_dtls_t *d = of_ssl(ssl);
    if (d->have_identity && (!identity || strcmp(identity, d->psk_identity) != 0))
        return 0; /* unknown identity: the handshake fails */
    if (d->psk_len > max_psk)
        return 0;
    memcpy(psk, d->psk, d->psk_len);
    return (unsigned int)d->psk_len;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    rudp_dtls_t *d = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!(where & SSL_CB_ALERT) || (ret >> 8) != 2 /* fatal */)
        return;
    char *dst = (where & SSL_CB_READ) ? d->alert_in : d->alert_out;
    if (!dst[0])
        snprintf(dst, sizeof d->alert_in, "%s", SSL_alert_desc_string_long(ret));
}

static int ctx_error(char *err, size_t cap, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    snprintf(err, cap, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
             e ? ERR_reason_error_string(e) : "failed");
    ERR_clear_error();
    return RUDP_EINVAL;
}

int dtls_ctx_setup(rudp_dtls_t *d, const rudp_dtls_config_t *cfg, char *err, size_t cap)
{
    d->ctx = SSL_CTX_new(d->server ? DTLS_server_method() : DTLS_client_method());
    if (!d->ctx)
        return RUDP_ENOMEM;
    SSL_CTX_set_app_data(d->ctx, d);
    SSL_CTX_set_min_proto_version(d->ctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(d->ctx, DTLS1_2_VERSION);
    SSL_CTX_set_options(d->ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(d->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_read_ahead(d->ctx, 1);
    SSL_CTX_set_info_callback(d->ctx, info_cb);
    int psk = cfg->psk != NULL;
    if (SSL_CTX_set_cipher_list(d->ctx, psk ? ciphers_psk : ciphers_cert) != 1)
        return ctx_error(err, cap, "DTLS cipher list", NULL);
    if (psk) {
        /* A short key falls to an offline search from one recorded handshake (see
         * RUDP_DTLS_PSK_MIN). */
        _Static_assert(sizeof d->psk == RUDP_DTLS_PSK_MAX, "the key fits");
        if (cfg->psk_len < RUDP_DTLS_PSK_MIN || cfg->psk_len > RUDP_DTLS_PSK_MAX) {
            snprintf(err, cap, "the pre-shared key must be %u to %u bytes (%u to %u hex digits)",
                     RUDP_DTLS_PSK_MIN, RUDP_DTLS_PSK_MAX, 2 * RUDP_DTLS_PSK_MIN,
                     2 * RUDP_DTLS_PSK_MAX);
            return RUDP_EINVAL;
        }
        memcpy(d->psk, cfg->psk, cfg->psk_len);
        d->psk_len = cfg->psk_len;
        if (cfg->psk_identity) {
            if (strlen(cfg->psk_identity) >= sizeof d->psk_identity) {
                snprintf(err, cap, "the PSK identity is longer than 127 bytes");
                return RUDP_EINVAL;
            }
            snprintf(d->psk_identity, sizeof d->psk_identity, "%s", cfg->psk_identity);
            d->have_identity = 1;
        }
        if (d->server)
            SSL_CTX_set_psk_server_callback(d->ctx, psk_server);
        else
            SSL_CTX_set_psk_client_callback(d->ctx, psk_client);
    }
    if (d->server) {
        SSL_CTX_set_options(d->ctx, SSL_OP_COOKIE_EXCHANGE);
        SSL_CTX_set_cookie_generate_cb(d->ctx, cookie_gen);
        SSL_CTX_set_cookie_verify_cb(d->ctx, cookie_verify);
        if (!psk) {
            if (!cfg->cert_file || !cfg->key_file) {
                snprintf(err, cap,
                         "a DTLS server needs a certificate and its key, or a "
                         "pre-shared key");
                return RUDP_EINVAL;
            }
            if (SSL_CTX_use_certificate_chain_file(d->ctx, cfg->cert_file) != 1)
                return ctx_error(err, cap, "certificate", cfg->cert_file);
            if (SSL_CTX_use_PrivateKey_file(d->ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1)
                return ctx_error(err, cap, "private key", cfg->key_file);
            if (SSL_CTX_check_private_key(d->ctx) != 1)
                return ctx_error(err, cap, "private key", cfg->key_file);
        }
        return 0;
    }
    if (psk)
        return 0;
    if (cfg->fingerprint) {
        memcpy(d->fingerprint, cfg->fingerprint, sizeof d->fingerprint);
        d->pin = 1;
        SSL_CTX_set_verify(d->ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_cert_verify_callback(d->ctx, pin_verify, d);
        return 0;
    }
    if (!cfg->ca_file) {
        snprintf(err, cap,
                 "a DTLS client needs a CA file, a certificate fingerprint or a "
                 "pre-shared key to know whom it talks to");
        return RUDP_EINVAL;
    }
    if (SSL_CTX_load_verify_locations(d->ctx, cfg->ca_file, NULL) != 1)
        return ctx_error(err, cap, "CA file", cfg->ca_file);
    SSL_CTX_set_verify(d->ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

/* ---- certificates ---------------------------------------------------------------- */

static int write_pem(const char *path, int mode, int (*w)(FILE *, void *), void *obj, char *err,
                     size_t cap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    int ok = w(f, obj);
    if (fclose(f) != 0 || !ok) {
        snprintf(err, cap, "%s: cannot write", path);
        unlink(path);
        return -1;
    }
    return 0;
}

static int w_key(FILE *f, void *k)
{
    return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
}

static int w_cert(FILE *f, void *x)
{
    return PEM_write_X509(f, x);
}

int dtls_random(void *buf, size_t n)
{
    return n <= INT32_MAX && RAND_bytes(buf, (int)n) == 1 ? 0 : RUDP_ESYS;
}

int rudp_dtls_make_selfsigned(const char *cert_path, const char *key_path, const char *cn,
                              char *err, size_t cap)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = pk ? X509_new() : NULL;
    int rc = -1;
    uint64_t serial = 0;
    if (!x) {
        snprintf(err, cap, "cannot make a key pair");
        goto out;
    }
    if (dtls_random(&serial, sizeof serial) != 0)
        serial = (uint64_t)getpid();
    serial = (serial >> 1) | 1u; /* positive, nonzero */
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_set_version(x, 2) ||
        !ASN1_INTEGER_set_int64(X509_get_serialNumber(x), (int64_t)serial) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400) || !X509_set_pubkey(x, pk) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0) ||
        !X509_set_issuer_name(x, name) || !X509_sign(x, pk, EVP_sha256())) {
        snprintf(err, cap, "cannot make a certificate");
        goto out;
    }
    if (write_pem(key_path, 0600, w_key, pk, err, cap) != 0)
        goto out;
    if (write_pem(cert_path, 0644, w_cert, x, err, cap) != 0) {
        unlink(key_path);
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(pk);
    return rc;
}

int rudp_dtls_fingerprint_file(const char *cert_path, uint8_t out[RUDP_DTLS_FINGERPRINT_SIZE],
                               char *err, size_t cap)
{
    FILE *f = fopen(cert_path, "r");
    if (!f) {
        snprintf(err, cap, "%s: %s", cert_path, strerror(errno));
        return -1;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    unsigned n = 0;
    uint8_t md[EVP_MAX_MD_SIZE];
    int ok = x && X509_digest(x, EVP_sha256(), md, &n) && n == RUDP_DTLS_FINGERPRINT_SIZE;
    X509_free(x);
    ERR_clear_error();
    if (!ok) {
        snprintf(err, cap, "%s: not a PEM certificate", cert_path);
        return -1;
    }
    memcpy(out, md, n);
    return 0;
}
