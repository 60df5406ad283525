/* The socket driver's platform I/O (platform.h): every system call of the driver.
 * Linux gets sendmmsg/recvmmsg, UDP GSO/GRO, and ppoll with a timerfd for deadlines;
 * other POSIX systems one sendto/recvmsg per datagram and poll, rounded up to the
 * millisecond (never early, so no spinning). */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, ppoll, in_pktinfo */

#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <netinet/udp.h> /* UDP_SEGMENT */
#include <sys/random.h>
#include <sys/timerfd.h>
#endif

#include "rudp/error.h"
#include "sock_internal.h"
#include "txpath.h"

#define TX_BATCH 256u      /* datagrams per sendmmsg(), joined by GSO or not */
#define GSO_SEGS 64u       /* UDP GSO: the kernel's cap on segments per send */
#define GSO_BYTES 65000u   /* and on the bytes, within one IP datagram */
#define GSO_REFUSALS 8u    /* refused GSO sends in a row before the socket stops trying */
#define SOCK_BUF (4 << 20) /* SO_RCVBUF/SO_SNDBUF wish; the kernel may cap it */

_Static_assert((PLAT_BATCH * PLAT_RX_CAP) <= (PLAT_BATCH_GRO * PLAT_RX_CAP_GRO),
               "one area holds either layout");

/* sendmmsg()'s arguments, on the heap rather than a 27 KiB stack frame. */
struct plat_tx {
#ifdef __linux__
    struct mmsghdr mm[TX_BATCH];
    struct iovec iov[TX_BATCH];
    uint16_t segs[TX_BATCH];                                        /* datagrams per message */
    uint64_t ctl[TX_BATCH][(CMSG_SPACE(sizeof(uint16_t)) + 7) / 8]; /* UDP_SEGMENT; aligned */
#else
    int unused;
#endif
};

struct plat_rx_os {
    /* IP(V6)_PKTINFO (40 bytes with its header) and UDP_GRO (24): 64 of 96; uint64_t
     * keeps each aligned for struct cmsghdr. */
    uint64_t ctl[PLAT_BATCH][12];
#ifdef __linux__
    struct mmsghdr mm[PLAT_BATCH];
    struct iovec iov[PLAT_BATCH];
    /* The headers as last set up (batch 0: never), and how many of them the last
     * recvmmsg() wrote into: only those need resetting (see plat_rx_batch). */
    uint32_t set_batch, used;
    size_t set_cap;
    int set_ctl;
#endif
};

/* ---- clock and randomness ------------------------------------------------------ */

uint64_t plat_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int plat_random(void *buf, size_t n)
{
    if (n && !buf)
        return RUDP_EINVAL;
    uint8_t *p = buf;
    size_t got = 0;
#ifdef __linux__
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            break; /* ENOSYS on old kernels, or a seccomp filter: try the device */
        }
    }
    if (got == n)
        return 0;
#endif
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RUDP_ESYS;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r > 0) {
            got += (size_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            close(fd);
            if (r == 0)
                errno = EIO;
            return RUDP_ESYS;
        }
    }
    close(fd);
    return 0;
}

/* ---- buffers ---------------------------------------------------------------------- */

struct plat_tx *plat_tx_new(void)
{
    return malloc(sizeof(struct plat_tx));
}

void plat_tx_free(struct plat_tx *t)
{
    free(t);
}

struct plat_rx *plat_rx_new(void)
{
    struct plat_rx *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->os = malloc(sizeof *r->os);
    if (!r->os) {
        free(r);
        return NULL;
    }
#ifdef __linux__
    r->os->set_batch = r->os->used = 0;
#endif
    return r;
}

void plat_rx_free(struct plat_rx *r)
{
    if (!r)
        return;
    free(r->os);
    free(r);
}

/* ---- opening ---------------------------------------------------------------------- */

static void tune_socket(int fd)
{
    /* Best effort: a burst of a whole window from many clients should wait in the
     * kernel, not be dropped; the kernel caps the value at net.core.[rw]mem_max. */
    int sz = SOCK_BUF;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}

#if defined(__linux__) && defined(UDP_SEGMENT)
/* Whether this socket takes UDP_SEGMENT at all (Linux 4.18+): an older kernel would not
 * refuse the control message but ignore it, and send a run as one datagram. */
static int gso_probe(int fd)
{
    int size = 0; /* 0: no default segment size; each send brings its own */
    return setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof size) == 0;
}
#endif

/* GSO stays on only where the socket takes it. */
static void gso_check(struct rudp_sock *s)
{
#if defined(__linux__) && defined(UDP_SEGMENT)
    if (s->gso && !gso_probe(s->fd))
        s->gso = 0;
#ifdef UDP_GRO
    /* Batches from a GSO sender (loopback, a veth that does not cut them) then arrive
     * whole, one receive instead of one per datagram; cut into datagrams by the caller. */
    int one = 1;
    s->gro = s->gso && setsockopt(s->fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
#endif
#else
    s->gso = 0;
#endif
}

static int open_socket(int family)
{
#ifdef SOCK_NONBLOCK
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
#else
    int fd = socket(family, SOCK_DGRAM, IPPROTO_UDP);
    if (fd >= 0 && (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
                    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
        close(fd);
        return -1;
    }
#endif
    if (fd >= 0)
        tune_socket(fd);
    return fd;
}

/* Records the socket's own address and, for a wildcard server with pcap, asks for each
 * datagram's destination address. */
static void learn_local(struct rudp_sock *s)
{
    s->local.len = sizeof s->local.u;
    if (getsockname(s->fd, &s->local.u.sa, &s->local.len) != 0)
        s->local.len = 0;
    if (!s->server || !s->pcap)
        return;
    int on = 1;
    if (s->local.u.sa.sa_family == AF_INET6) {
#ifdef IPV6_RECVPKTINFO
        s->pktinfo = setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) == 0;
#endif
    } else {
#ifdef IP_PKTINFO
        s->pktinfo = setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) == 0;
#endif
    }
}

int plat_open_client(struct rudp_sock *s, const char *host, const char *port, int family)
{
    struct addrinfo hints = { .ai_family = family,
                              .ai_socktype = SOCK_DGRAM,
                              .ai_protocol = IPPROTO_UDP };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return RUDP_EADDR;
    int err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = open_socket(ai->ai_family);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            s->fd = fd;
            peer_set(&s->peer, ai->ai_addr, ai->ai_addrlen);
            gso_check(s);
            break;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (s->fd < 0) {
        errno = err;
        return RUDP_ESYS;
    }
    learn_local(s);
    return 0;
}

static int bind_one(struct rudp_sock *s, const struct sockaddr *sa, socklen_t len, int v6only)
{
    int fd = open_socket(sa->sa_family);
    if (fd < 0)
        return -1;
    if (sa->sa_family == AF_INET6 && v6only >= 0)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (bind(fd, sa, len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    s->fd = fd;
    gso_check(s);
    return 0;
}

int plat_open_server(struct rudp_sock *s, const char *host, const char *port, int family)
{
    struct addrinfo hints = { .ai_family = family,
                              .ai_socktype = SOCK_DGRAM,
                              .ai_protocol = IPPROTO_UDP,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    if (!host) {
        /* Every address: IPv6 "::" taking IPv4 too where the system allows, else
         * 0.0.0.0. Resolved here only to parse the port (numbers or service names). */
        hints.ai_family = family == AF_INET ? AF_INET : AF_INET6;
        hints.ai_flags |= AI_NUMERICHOST;
        if (getaddrinfo(hints.ai_family == AF_INET ? "0.0.0.0" : "::", port, &hints, &res) != 0 &&
            family == AF_UNSPEC) {
            hints.ai_family = AF_INET;
            res = NULL;
            if (getaddrinfo("0.0.0.0", port, &hints, &res) != 0)
                res = NULL;
        }
    } else if (getaddrinfo(host, port, &hints, &res) != 0) {
        res = NULL;
    }
    if (!res)
        return RUDP_EADDR;
    int err = 0;
    for (struct addrinfo *ai = res; ai && s->fd < 0; ai = ai->ai_next) {
        int v6only = -1;
        if (!host && ai->ai_family == AF_INET6)
            v6only = family == AF_INET6;
        if (bind_one(s, ai->ai_addr, ai->ai_addrlen, v6only) != 0)
            err = errno;
    }
    freeaddrinfo(res);
    if (s->fd < 0 && !host && family == AF_UNSPEC) {
        /* No IPv6 on this system (socket() fails with EAFNOSUPPORT): take IPv4. */
        struct addrinfo *r4 = NULL;
        hints.ai_family = AF_INET;
        if (getaddrinfo("0.0.0.0", port, &hints, &r4) == 0 && r4) {
            if (bind_one(s, r4->ai_addr, r4->ai_addrlen, -1) != 0)
                err = errno;
            freeaddrinfo(r4);
        }
    }
    if (s->fd < 0) {
        errno = err;
        return RUDP_ESYS;
    }
    learn_local(s);
    return 0;
}

void plat_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

int plat_local_port(int fd)
{
    peer_addr_t a;
    a.len = sizeof a.u;
    if (getsockname(fd, &a.u.sa, &a.len) != 0)
        return RUDP_ESYS;
    return ntohs(a.u.sa.sa_family == AF_INET ? a.u.in.sin_port : a.u.in6.sin6_port);
}

/* ---- errors ------------------------------------------------------------------------- */

/* The errors Linux maps ICMP destination unreachable, time exceeded and parameter
 * problem to (icmp_err_convert, icmpv6_err_convert; RFC 1122 4.1.3.3 says UDP passes
 * them up). A connected socket reads them from recv or send once, in place of a
 * datagram; without IP_RECVERR only the "hard" ones come (port, protocol and
 * communication prohibited codes, fragmentation needed), but the set is the same. Any
 * host on the path, or anyone who can guess the 5-tuple, can forge one (RFC 5927), so
 * none of them may end a connection: see on_refused() in demux.c. On a send,
 * EHOSTUNREACH, ENETUNREACH, EACCES and EMSGSIZE may also be local verdicts (routing,
 * a firewall, the route's MTU); they are counted the same way. */
int rudp_sock_icmp_errno(int err)
{
    switch (err) {
    case ECONNREFUSED: /* port unreachable */
    case EHOSTUNREACH: /* host unreachable, prohibited, time exceeded */
    case ENETUNREACH:  /* net unreachable */
    case EHOSTDOWN:    /* host unknown */
    case ENOPROTOOPT:  /* protocol unreachable */
    case EPROTO:       /* parameter problem */
    case EACCES:       /* ICMPv6 administratively prohibited */
    case EMSGSIZE:     /* fragmentation needed / packet too big */
    case EOPNOTSUPP:   /* source route failed */
#ifdef ENONET
    case ENONET: /* host isolated */
#endif
        return 1;
    default:
        return 0;
    }
}

static void icmp_seen(struct rudp_sock *s, int err)
{
    s->st.icmp_errors++;
    if (err == ECONNREFUSED && !s->server)
        s->refused = 1;
}

/* ---- sending ------------------------------------------------------------------------ */

static int would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK;
}

#if defined(__linux__) && defined(UDP_SEGMENT)
/* Whether b can join the run that starts at first and ends at prev in one UDP GSO send:
 * same destination, and every segment but the last exactly the first one's size (the
 * kernel cuts the buffer every gso_size bytes, so an empty first one would cut none).
 * A handshake datagram never does, nor a copy of the datagram before it (a probe's
 * second copy): a run is one packet until the kernel cuts it, and a netem qdisc on the
 * way out would lose the copies together. A DTLS record cannot tell: the driver marks
 * it `alone` from the datagram it seals (txpath.c). */
static int gso_joins(const struct rudp_sock *s, const struct txd *first, const struct txd *prev,
                     const struct txd *b, uint32_t segs, size_t bytes)
{
    if (first->len == 0 || segs >= GSO_SEGS || bytes + b->len > GSO_BYTES ||
        prev->len != first->len || b->len > first->len || b->alone ||
        dgram_alone(b->data, b->len, prev->data, prev->len))
        return 0;
    return !s->server || (b->to.len == first->to.len && !memcmp(&b->to.u, &first->to.u, b->to.len));
}

/* Errors that refuse UDP GSO on the whole socket (no checksum offload, IPsec), rather
 * than one run (EMSGSIZE or EINVAL: a run above a route's MTU). */
static int gso_never(int err)
{
    return err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP;
}
#endif

#ifdef __linux__
/* Fills sendmmsg()'s messages for the n datagrams at t: where the kernel has UDP GSO, a
 * run of equal-size datagrams to one peer is one message the kernel cuts into those
 * datagrams, so the path's per-packet cost is paid once for the run (each datagram on
 * the wire is unchanged). Returns the number of messages. */
static uint32_t tx_messages(struct rudp_sock *s, struct txd *t, uint32_t n)
{
    struct plat_tx *x = s->ptx;
    uint32_t m = 0;
    memset(x->mm, 0, n * sizeof x->mm[0]);
    for (uint32_t i = 0; i < n; m++) {
        struct msghdr *mh = &x->mm[m].msg_hdr;
        uint32_t k = 1;
#ifdef UDP_SEGMENT
        size_t bytes = t[i].len;
        if (s->gso && i >= s->gso_single)
            while (i + k < n && gso_joins(s, &t[i], &t[i + k - 1], &t[i + k], k, bytes))
                bytes += t[i + k++].len;
#endif
        for (uint32_t j = 0; j < k; j++) {
            x->iov[i + j].iov_base = t[i + j].data;
            x->iov[i + j].iov_len = t[i + j].len;
        }
        mh->msg_iov = &x->iov[i];
        mh->msg_iovlen = k;
        if (s->server) {
            mh->msg_name = &t[i].to.u;
            mh->msg_namelen = t[i].to.len;
        }
#ifdef UDP_SEGMENT
        if (k > 1) {
            uint16_t size = t[i].len;
            memset(x->ctl[m], 0, sizeof x->ctl[m]); /* the cmsg's padding */
            mh->msg_control = x->ctl[m];
            mh->msg_controllen = CMSG_SPACE(sizeof size);
            struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
            cm->cmsg_level = SOL_UDP;
            cm->cmsg_type = UDP_SEGMENT;
            cm->cmsg_len = CMSG_LEN(sizeof size);
            memcpy(CMSG_DATA(cm), &size, sizeof size);
        }
#endif
        x->segs[m] = (uint16_t)k;
        i += k;
    }
    return m;
}
#endif

void plat_tx_flush(struct rudp_sock *s)
{
    while (s->tx_n > 0) {
        uint32_t n = s->tx_n;
        if (n > s->tx_cap - s->tx_head)
            n = s->tx_cap - s->tx_head; /* the contiguous part; the rest next round */
        if (n > TX_BATCH)
            n = TX_BATCH;
        struct txd *t = &s->tx[s->tx_head];
        uint32_t done = 0; /* datagrams the kernel took */
        int sent;
#ifdef __linux__
        uint32_t m = tx_messages(s, t, n);
        sent = sendmmsg(s->fd, s->ptx->mm, m, 0);
        for (int i = 0; i < sent; i++) {
            done += s->ptx->segs[i];
            if (s->ptx->segs[i] > 1) {
                s->st.gso_sends++;
                s->gso_refused = 0;
            }
        }
#else
        if (s->server)
            sent = (int)sendto(s->fd, t->data, t->len, 0, &t->to.u.sa, t->to.len);
        else
            sent = (int)send(s->fd, t->data, t->len, 0);
        done = sent < 0 ? 0 : 1;
#endif
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (would_block(errno)) {
                s->tx_blocked = 1;
                return;
            }
#if defined(__linux__) && defined(UDP_SEGMENT)
            if (s->ptx->segs[0] > 1) {
                /* The run was refused as a run: send its datagrams one by one, which
                 * may still work (IP fragments them where the MTU is too small). A
                 * refusal that holds for the socket, or one run after another,
                 * turns GSO off for good. */
                s->gso_single = s->ptx->segs[0];
                if (gso_never(errno) || ++s->gso_refused >= GSO_REFUSALS)
                    s->gso = 0;
                continue;
            }
#endif
            if (rudp_sock_icmp_errno(errno))
                icmp_seen(s, errno);
            tx_failed(s);
            /* Drop the first datagram, which cannot be sent; the engine's
             * retransmission covers it like any loss. */
            s->tx_head = (s->tx_head + 1) % s->tx_cap;
            s->tx_n--;
            if (s->gso_single > 0)
                s->gso_single--;
            continue;
        }
        for (uint32_t i = 0; i < done; i++)
            tx_sent(s, &t[i]);
        s->tx_head = (s->tx_head + done) % s->tx_cap;
        s->tx_n -= done;
        s->gso_single = s->gso_single > done ? s->gso_single - done : 0;
    }
    /* Start over at slot 0 and byte 0 when empty: only as many slots and bytes as are
     * ever held at once get touched, which keeps an idle client's resident memory small. */
    s->tx_head = 0;
    s->tx_used = 0;
    s->tx_blocked = 0;
    s->gso_single = 0;
}

/* ---- receiving ---------------------------------------------------------------------- */

#ifdef __linux__
/* UDP GRO: the size of every datagram of a receive but the last (which may be
 * shorter), or 0 for a receive of one datagram. */
static size_t gro_size(const struct rudp_sock *s, struct msghdr *mh)
{
#ifdef UDP_GRO
    if (!s->gro)
        return 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
            int size = 0;
            memcpy(&size, CMSG_DATA(cm), sizeof size);
            return size > 0 ? (size_t)size : 0;
        }
    }
#else
    (void)s;
    (void)mh;
#endif
    return 0;
}
#endif

/* The destination address of a received datagram, from its IP_PKTINFO. */
static void pktinfo_to(const struct rudp_sock *s, struct msghdr *mh, peer_addr_t *to)
{
    to->len = 0;
    if (!s->pktinfo)
        return;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
#ifdef IP_PKTINFO
        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof pi);
            *to = s->local;
            memcpy(&to->u.in.sin_addr, &pi.ipi_addr, sizeof pi.ipi_addr);
            return;
        }
#endif
#ifdef IPV6_PKTINFO
        if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof pi);
            *to = s->local;
            to->u.in6.sin6_addr = pi.ipi6_addr;
            return;
        }
#endif
    }
}

void plat_rx_geometry(const struct rudp_sock *s, uint32_t *count, size_t *cap)
{
    *count = s->gro ? PLAT_BATCH_GRO : PLAT_BATCH;
    *cap = s->gro ? PLAT_RX_CAP_GRO : PLAT_RX_CAP;
}

void plat_warm(struct rudp_sock *s)
{
    struct plat_rx *r = s->rx;
    uint32_t count;
    size_t cap;
    plat_rx_geometry(s, &count, &cap);
    for (uint32_t i = 0; i < count; i++)
        r->buf[i * cap] = 0;
    memset(r->from, 0, sizeof r->from);
    memset(r->to, 0, sizeof r->to);
    memset(r->len, 0, sizeof r->len);
    memset(r->seg, 0, sizeof r->seg);
    memset(r->trunc, 0, sizeof r->trunc);
    memset(r->os, 0, sizeof *r->os); /* no headers set up yet: the first batch does it */
    memset(s->ptx, 0, sizeof *s->ptx);
    memset(s->tx, 0, 2 * sizeof *s->tx);
    memset(s->tx_bytes, 0, 2 * (size_t)WIRE_MAX);
}

int plat_rx_batch(struct rudp_sock *s)
{
    struct plat_rx *r = s->rx;
    struct plat_rx_os *o = r->os;
    uint32_t batch;
    size_t cap;
    plat_rx_geometry(s, &batch, &cap);
#ifdef __linux__
    /* The headers are set up once per geometry; a receive writes only the name and
     * control lengths and the flags of the entries it fills, so only those are reset:
     * a wake-up that reads one datagram no longer rebuilds sixteen headers. */
    int ctl = s->pktinfo || s->gro;
    uint32_t reset = o->used;
    if (o->set_batch != batch || o->set_cap != cap || o->set_ctl != ctl) {
        for (uint32_t i = 0; i < batch; i++) {
            struct msghdr *mh = &o->mm[i].msg_hdr;
            o->iov[i].iov_base = r->buf + i * cap;
            o->iov[i].iov_len = cap;
            memset(mh, 0, sizeof *mh);
            mh->msg_iov = &o->iov[i];
            mh->msg_iovlen = 1;
            mh->msg_name = &r->from[i].u;
            if (ctl)
                mh->msg_control = o->ctl[i];
        }
        o->set_batch = batch;
        o->set_cap = cap;
        o->set_ctl = ctl;
        reset = batch;
    }
    for (uint32_t i = 0; i < reset; i++) {
        struct msghdr *mh = &o->mm[i].msg_hdr;
        mh->msg_namelen = sizeof r->from[i].u;
        mh->msg_controllen = ctl ? sizeof o->ctl[i] : 0;
        mh->msg_flags = 0;
    }
    int n;
    do
        n = recvmmsg(s->fd, o->mm, batch, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    /* After an error, which entries the kernel wrote is not known: reset them all. */
    o->used = n >= 0 ? (uint32_t)n : batch;
    if (n >= 0) {
        for (int i = 0; i < n; i++) {
            struct msghdr *mh = &o->mm[i].msg_hdr;
            r->from[i].len = mh->msg_namelen;
            r->len[i] = o->mm[i].msg_len;
            r->trunc[i] = (mh->msg_flags & MSG_TRUNC) != 0;
            r->seg[i] = gro_size(s, mh);
            pktinfo_to(s, mh, &r->to[i]);
        }
        return n;
    }
#else
    int n = 0;
    while ((uint32_t)n < batch) {
        struct iovec iov = { r->buf + (size_t)n * cap, cap };
        struct msghdr mh = { .msg_name = &r->from[n].u,
                             .msg_namelen = sizeof r->from[n].u,
                             .msg_iov = &iov,
                             .msg_iovlen = 1 };
        if (s->pktinfo) {
            mh.msg_control = o->ctl[n];
            mh.msg_controllen = sizeof o->ctl[n];
        }
        ssize_t got = recvmsg(s->fd, &mh, MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        r->from[n].len = mh.msg_namelen;
        r->len[n] = (size_t)got;
        r->trunc[n] = (mh.msg_flags & MSG_TRUNC) != 0;
        r->seg[n] = 0;
        pktinfo_to(s, &mh, &r->to[n]);
        n++;
    }
    if (n > 0)
        return n;
#endif
    if (would_block(errno))
        return 0;
    if (rudp_sock_icmp_errno(errno)) {
        icmp_seen(s, errno); /* the error is consumed; the next poll shows what else waits */
        return 0;
    }
    if (errno == ENOMEM || errno == ENOBUFS)
        return 0;
    return RUDP_ESYS;
}

/* ---- waiting ------------------------------------------------------------------------ */

#ifdef __linux__
/* The engines' deadline lives in a timerfd rather than in each ppoll()'s timeout. A
 * timeout arms a kernel timer at every wait and cancels it at every wake-up; on a
 * virtual machine each of those reprograms the hardware timer, an exit to the host, and
 * a lock-step round trip paid some 4 µs for them (docs/performance.md, section 11). The
 * timerfd is armed again only when the deadline moves earlier than it, or once it has
 * expired. A deadline that moves later, as the probe timeout does with every send,
 * leaves it armed: its expiry then costs one step that finds nothing due and arms it for
 * the later deadline. Returns whether the wait can rely on it; without a descriptor
 * (EMFILE, say) the wait keeps ppoll()'s timeout. */
static int timer_armed_for(struct rudp_sock *s, uint64_t until, uint64_t now)
{
    if (s->timer_fd == -1) {
        s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (s->timer_fd < 0)
            s->timer_fd = -2; /* not retried at every wait */
    }
    if (s->timer_fd < 0)
        return 0;
    if (until < s->timer_at || s->timer_at <= now) {
        /* Arming also clears an expiry not read, so the descriptor polls as not ready. */
        struct itimerspec at = { .it_value = { (time_t)(until / 1000000u),
                                               (long)(until % 1000000u) * 1000 } };
        if (timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &at, NULL) != 0) {
            s->timer_at = 0;
            return 0;
        }
        s->timer_at = until;
    }
    return 1;
}
#endif

int plat_wait(struct rudp_sock *s, uint64_t wait, uint64_t until, uint64_t now, int want_out,
              int *in, int *out, struct pollfd *extra, unsigned n_extra)
{
    /* The socket first, then the application's descriptors, then the timer: one ppoll()
     * for all. */
    struct pollfd pfd[2 + RUDP_SOCK_MAX_POLLFDS];
    unsigned n = 1 + n_extra;
    pfd[0] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
    if (want_out)
        pfd[0].events |= POLLOUT;
    for (unsigned i = 0; i < n_extra; i++) {
        pfd[1 + i] = extra[i];
        pfd[1 + i].revents = 0;
    }
    int pr;
#ifdef __linux__
    struct timespec ts = { (time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000 };
    const struct timespec *limit = wait == UINT64_MAX ? NULL : &ts;
    if (wait > 0 && until != UINT64_MAX && timer_armed_for(s, until, now)) {
        pfd[n++] = (struct pollfd){ .fd = s->timer_fd, .events = POLLIN };
        limit = NULL;
    }
    pr = ppoll(pfd, n, limit, NULL);
#else
    (void)until;
    (void)now;
    uint64_t ms = wait == UINT64_MAX ? 0 : (wait + 999) / 1000;
    pr = poll(pfd, n, wait == UINT64_MAX ? -1 : (ms > INT_MAX ? INT_MAX : (int)ms));
#endif
    *in = *out = 0;
    for (unsigned i = 0; i < n_extra; i++)
        extra[i].revents = pr > 0 ? pfd[1 + i].revents : 0;
    if (pr < 0)
        return errno == EINTR ? 1 : RUDP_ESYS;
    *out = (pfd[0].revents & (POLLOUT | POLLERR)) != 0;
    *in = (pfd[0].revents & (POLLIN | POLLERR)) != 0;
    return 0;
}
