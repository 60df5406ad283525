/* server_udp.c: hola-server over UDP: one socket, one name per datagram, one reply
 * datagram per name. No connections, so nothing to accept, buffer or close. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "names.h"
#include "server.h"

/* Larger than any UDP payload (65,507 bytes over IPv4), so no datagram is ever cut. */
#define DGRAM_MAX 65536

static void reply_to(int fd, const char *data, size_t n, const struct sockaddr *to,
                     socklen_t tolen, const char *peer)
{
    /* Fire and forget: UDP promises nothing, and a reply lost in our own send buffer is
     * the same lesson as one lost on the wire. The error is still reported. */
    if (sendto(fd, data, n, 0, to, tolen) < 0)
        fprintf(stderr, "hola-server: %s: reply not sent: %s\n", peer, strerror(errno));
}

static void handle_datagram(struct hola_server *srv, int fd, const char *buf, size_t n,
                            const struct sockaddr *from, socklen_t fromlen)
{
    char peer[HOLA_ADDR_STRLEN];
    char reply[HOLA_REPLY_MAX];
    char why[HOLA_ERR_MAX];
    char msg[HOLA_ERR_MAX + 16];
    struct hola_name_check chk = hola_names_check(buf, n);
    /* A datagram typed into `nc -u` ends in a newline; answering in kind keeps nc's
     * output one reply per line, and hola-client sends none, so gets none. */
    bool newline = n > 0 && buf[n - 1] == '\n';

    hola_addr_format(from, fromlen, peer, sizeof peer);
    if (chk.status == HOLA_NAME_EMPTY)
        return;
    if (chk.status != HOLA_NAME_OK) {
        hola_names_describe(buf, &chk, why, sizeof why);
        fprintf(stderr, "hola-server: %s: %s\n", peer, why);
        srv->stats.rejected++;
        int len = snprintf(msg, sizeof msg, "error: %s%s",
                           chk.status == HOLA_NAME_TOO_LONG ? "name " : "", why);
        /* The preview in `why` is ASCII-safe and short, so len fits in msg. */
        reply_to(fd, msg, (size_t)len, from, fromlen, peer);
        return;
    }
    size_t len = hola_server_greet(srv, buf + chk.start, chk.len, reply, sizeof reply);
    if (newline)
        reply[len++] = '\n';
    reply_to(fd, reply, len, from, fromlen, peer);
    srv->stats.sent++;
}

int hola_server_udp_run(struct hola_server *srv, struct hola_err *e)
{
    static char buf[DGRAM_MAX];
    int fd = hola_server_open(srv, SOCK_DGRAM, e);
    int rc = 0;

    if (fd < 0)
        return -1;
    while (!hola_server_done(srv)) {
        struct pollfd pfd[2] = {
            { .fd = srv->stop_fd, .events = POLLIN },
            { .fd = fd, .events = POLLIN },
        };
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = hola_err_set(e, "poll: %s", strerror(errno));
            break;
        }
        if ((pfd[0].revents & POLLIN) && hola_server_signalled(srv))
            break;
        if (!(pfd[1].revents & (POLLIN | POLLERR)))
            continue;
        /* Read everything queued before polling again; stop at --count. */
        while (!hola_server_done(srv)) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                if (errno == EINTR)
                    continue;
                /* e.g. ECONNREFUSED left by an ICMP error for an earlier reply: it
                 * concerns one peer, not the server. */
                fprintf(stderr, "hola-server: recvfrom: %s\n", strerror(errno));
                break;
            }
            handle_datagram(srv, fd, buf, (size_t)n, (struct sockaddr *)&ss, sl);
        }
    }
    close(fd);
    return rc;
}
