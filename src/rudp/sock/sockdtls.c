/* The driver over DTLS (sockdtls.h). With cfg.dtls the socket carries DTLS records only
 * (src/rudp/dtls holds the sessions): what comes in goes to rudp_dtls_input() and the
 * decrypted datagrams to dtls_in(), which feeds them to the demultiplexer or the
 * client's engine exactly as plaintext ones; what the engines prepare goes out through
 * rudp_dtls_send(), one record each, and the records through dtls_out() to the
 * impairment, the send ring and the pcap file. So the impairment loses, duplicates and
 * corrupts records, and a capture shows only DTLS. A client's engine is held until the
 * DTLS handshake is done, then made afresh, so its timers and dead-peer limit start
 * with the session; a failed handshake ends the connection (RUDP_EREFUSED, or
 * RUDP_ETIMEDOUT when nothing came back) and rudp_sock_security_error() says why. A
 * server lets a peer's session linger a moment after its connection ends, then closes
 * it. */
#include "sockdtls.h"

#include <stdio.h>

#include "demux.h"
#include "sock_internal.h"
#include "txpath.h"

#ifdef RUDP_HAVE_DTLS
static void dtls_out(void *user, const struct sockaddr *to, socklen_t tolen,
                     const struct sockaddr *from, socklen_t fromlen, const uint8_t *d, size_t n)
{
    struct rudp_sock *s = user;
    peer_addr_t t, f;
    peer_set(&t, to, tolen);
    peer_set(&f, from, fromlen);
    send_raw(s, d, n, &t, &f, plat_now_us());
}

static void dtls_in(void *user, const struct sockaddr *peer, socklen_t peerlen,
                    const struct sockaddr *local, socklen_t locallen, const uint8_t *d, size_t n)
{
    struct rudp_sock *s = user;
    uint64_t now = plat_now_us();
    if (n > RUDP_MAX_DATAGRAM) {
        s->st.oversized++;
        s->garbage++;
        return;
    }
    if (s->server) {
        peer_addr_t from, to;
        peer_set(&from, peer, peerlen);
        peer_set(&to, local, locallen);
        server_input(s, d, n, &from, &to, now);
    } else if (s->client && !s->client->held) {
        rudp_conn_input(s->client->conn, d, n, now);
        touch(s, s->client);
    }
}

static void dtls_state(void *user, const struct sockaddr *peer, socklen_t peerlen, int up)
{
    struct rudp_sock *s = user;
    struct entry *e = s->client;
    (void)peer;
    (void)peerlen;
    if (s->server || !e || e->unreach)
        return; /* a server's connections run on to their own end */
    uint64_t now = plat_now_us();
    if (up && e->held) {
        uint64_t cid;
        uint32_t isn;
        rudp_conn_t *c = NULL;
        if (plat_random(&cid, sizeof cid) == 0 && plat_random(&isn, sizeof isn) == 0 &&
            rudp_conn_new_client(&c, &s->cfg.conn, cid, isn, now) == 0) {
            rudp_conn_free(e->conn);
            e->conn = c;
            e->cid = cid;
            e->held = 0;
            set_deadline(s, e, now); /* the INITIAL leaves in this step */
            return;
        }
        up = 0;
    }
    if (up || rudp_conn_state(e->conn) == RUDP_STATE_CLOSED)
        return;
    int err = !e->held                       ? RUDP_ERESET
              : rudp_dtls_timed_out(s->dtls) ? RUDP_ETIMEDOUT
                                             : RUDP_EREFUSED;
    e->held = 0;
    e->unreach = 1; /* no session: nothing can be sent any more */
    rudp_conn_fail(e->conn, err, now);
    set_deadline(s, e, now);
}

int sockdtls_check(const rudp_sock_config_t *cfg)
{
    return rudp_dtls_load(cfg->dtls->error, cfg->dtls->error_cap);
}

int sockdtls_open(struct rudp_sock *s, const rudp_sock_config_t *cfg)
{
    rudp_sock_dtls_t dc = *cfg->dtls;
    if (dc.max_per_source == 0)
        dc.max_per_source = cfg->max_per_source; /* the connections' cap holds for sessions */
    rudp_dtls_hooks_t h = { dtls_out, dtls_in, dtls_state, s };
    return rudp_dtls_new(&s->dtls, s->server, &dc, cfg->max_clients,
                         s->server ? cfg->handshake_rate : 0, cfg->handshake_burst, &h, dc.error,
                         dc.error_cap);
}
#else
int sockdtls_check(const rudp_sock_config_t *cfg)
{
    if (cfg->dtls->error && cfg->dtls->error_cap)
        snprintf(cfg->dtls->error, cfg->dtls->error_cap,
                 "this librudp was built without DTLS (OpenSSL 3)");
    return RUDP_ENOTSUP;
}

int sockdtls_open(struct rudp_sock *s, const rudp_sock_config_t *cfg)
{
    (void)s;
    (void)cfg;
    return RUDP_EINVAL;
}
#endif
