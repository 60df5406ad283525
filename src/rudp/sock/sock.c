/* rudp over a real UDP socket (rudp/sock.h): the only part of librudp with sockets, the
 * clock and the system's random source. It feeds datagrams and time into the engines.
 *
 * Design
 *  - One non-blocking UDP socket, one poll() per step. The step sleeps until the earliest
 *    engine deadline (a binary min-heap of connections keyed by rudp_conn_next_timeout(),
 *    re-keyed after each input or prepare on that connection, so a wake-up touches only
 *    the connections that are due, never a scan of all of them), the impairment link's
 *    next release, or a datagram. On Linux ppoll() gives microsecond sleeps; elsewhere
 *    poll() rounds up to the millisecond (never early, so no spinning).
 *  - Server: connections live in an open-addressing hash table keyed by connection ID
 *    (mixed with a per-socket random key, since clients choose their IDs), each with the
 *    peer address it was accepted from. A datagram whose ID matches but whose address
 *    does not is dropped and counted (wrong_address): there is no connection migration.
 *    Unknown IDs go to the stateless listener; nothing is allocated before a cookie
 *    checks out. At max_clients a validated client gets RESET(FULL).
 *  - Client: a connected UDP socket, so the kernel filters other senders and reports
 *    ICMP port unreachable as ECONNREFUSED. During the handshake that ends the
 *    connection with RUDP_EUNREACH ("server not reachable"). Once established it is
 *    ignored (counted in send_errors): a server that restarts or dies must be judged by
 *    the engine's dead-peer limit (RUDP_ETIMEDOUT), and an ICMP error can be forged.
 *  - Sending: prepared datagrams go to a bounded send ring, flushed with sendmmsg() at
 *    the end of each step (and at once for rudp_sock_send/close outside a step). When
 *    the kernel says EAGAIN the ring keeps what it holds and the step waits for POLLOUT;
 *    while the ring is full the engines are simply not asked for more (their data stays
 *    queued in the engine, nothing is lost and nothing is retransmitted needlessly).
 *    Only a listener reply finding the ring full is dropped (send_dropped); the client
 *    repeats its INITIAL anyway. With UDP GSO (Linux 4.18+, cfg.gso) a run of
 *    equal-size datagrams to one peer is one message of the sendmmsg(), which the
 *    kernel cuts back into those datagrams: most of a small datagram's cost is per
 *    send, not per byte. A route that refuses it turns it off for the socket.
 *  - Built-in impairment: every outgoing datagram is pushed into a rudp_sim_link (the
 *    simulator's module, seeded, so a run is reproducible) with a small prefix holding
 *    its destination and source address, and goes to the send ring when the link
 *    releases it. The prefix is padded to the IP + UDP header size (28 or 48 bytes), so
 *    a rate limit counts what netem counts: the IP packet. Corruption is drawn by the
 *    driver when a copy leaves the link (same probability, one uniformly chosen bit of
 *    the datagram, per copy as netem does) from its own PRNG seeded from the same seed,
 *    because the link's own corruption could hit the address prefix.
 *  - pcap: every datagram sent (when it really leaves: after the impairment, so lost
 *    ones are not in the capture, as they never reached the wire) and every datagram
 *    received, with synthesized IP/UDP headers. A server bound to a wildcard address
 *    learns each datagram's destination address (IP_PKTINFO) for the capture.
 *  - Events are reported from rudp_sock_step() only; rudp_sock_send/close never call
 *    back. A connection is freed right after its CLOSED callback returns.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, ppoll, in_pktinfo */

#include "rudp/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <netinet/udp.h> /* UDP_SEGMENT */
#include <sys/random.h>
#endif

#include "core/bytes.h"
#include "dtls/dtls.h"
#include "pcap.h"
#include "rudp/error.h"

/* Receives per recvmmsg(), and the size of each buffer: with UDP GRO a receive may be
 * a whole run, an IP datagram's worth; without, one datagram, which 2 KiB holds. The
 * buffers are one area sized for either; only the pages written become resident. Each
 * receive costs valgrind a check of every byte offered, so a socket without GRO keeps
 * the small ones (1 MiB per receive is 1.4 ms there, 128 KiB 0.25 ms). MSG_TRUNC
 * catches anything longer. */
#define BATCH 64u
#define BATCH_GRO 16u
#define RX_CAP 2048u
#define RX_CAP_GRO 65536u
#define TX_BATCH 256u       /* datagrams per sendmmsg(), joined by GSO or not */
#define GSO_SEGS 64u        /* UDP GSO: the kernel's cap on segments per send */
#define GSO_BYTES 65000u    /* and on the bytes, within one IP datagram */
#define GSO_REFUSALS 8u     /* refused GSO sends in a row before the socket stops trying */
#define RX_DGRAMS 1024u     /* datagrams read per step (dropped ones too) before timers run */
#define TX_RING_CLIENT 256u /* send ring, datagrams */
#define TX_RING_SERVER 2048u
#define LINK_CAP_CLIENT 2048u /* impairment link slots (RUDP_SIM_MAX_DGRAM bytes each) */
#define LINK_CAP_SERVER 16384u
#define SOCK_BUF (4 << 20)            /* SO_RCVBUF/SO_SNDBUF wish; the kernel may cap it */
#define KEY_MAX 23u                   /* canonical address: tag, port, IPv6 address, scope */
#define PACK_MAX 23u                  /* packed address in the impairment prefix */
#define PREFIX_MAX (2 * PACK_MAX + 2) /* 48: fits in the IPv6 + UDP header size */
#define NO_HEAP UINT32_MAX
#define EARLY_MSGS 16u /* single-message datagrams a callback queues before they leave */
/* The largest datagram on the wire: an engine datagram, or one inside a DTLS record. */
#define WIRE_MAX (RUDP_MAX_DATAGRAM + RUDP_DTLS_OVERHEAD)

typedef struct addr {
    socklen_t len; /* 0: unknown */
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } u;
} addr_t;

struct entry {
    rudp_conn_t *conn;
    uint64_t cid;
    uint64_t deadline; /* when the engine must run next; UINT64_MAX: only on input */
    uint32_t heap_i;   /* index in the deadline heap, NO_HEAP when not in it */
    uint8_t key_len;
    uint8_t touched; /* in the list of connections that got input this batch */
    uint8_t connected_sent, eof_sent, unreach;
    uint8_t spun;          /* the engine said "due now" yet had nothing: see service() */
    uint8_t held;          /* client with DTLS: the engine waits for the DTLS handshake */
    uint16_t queued_msgs;  /* sent by a callback since the last service(): see */
    uint32_t queued_bytes; /* rudp_sock_send() */
    uint8_t key[KEY_MAX];
    addr_t peer;
    addr_t local; /* where the peer's datagrams arrive: the source we send from */
};

struct txd {
    uint16_t len;
    addr_t to, from;
    uint8_t data[WIRE_MAX];
};

#ifdef __linux__
/* sendmmsg()'s arguments, on the heap rather than a 27 KiB stack frame. */
struct txm {
    struct mmsghdr mm[TX_BATCH];
    struct iovec iov[TX_BATCH];
    uint16_t segs[TX_BATCH];                                        /* datagrams per message */
    uint64_t ctl[TX_BATCH][(CMSG_SPACE(sizeof(uint16_t)) + 7) / 8]; /* UDP_SEGMENT; aligned */
};
#endif

struct rx {
    uint8_t buf[BATCH_GRO * RX_CAP_GRO]; /* BATCH x RX_CAP, or BATCH_GRO x RX_CAP_GRO */
    addr_t from[BATCH];
    /* IP(V6)_PKTINFO (40 bytes with its header) and UDP_GRO (24): 64 of 96; uint64_t
     * keeps each aligned for struct cmsghdr. */
    uint64_t ctl[BATCH][12];
#ifdef __linux__
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
#endif
    size_t len[BATCH];
    size_t seg[BATCH]; /* UDP GRO: the size of each datagram in the receive; 0: one */
    int trunc[BATCH];
    addr_t to[BATCH];
};
_Static_assert((BATCH * RX_CAP) <= (BATCH_GRO * RX_CAP_GRO), "one area holds either layout");

struct rudp_sock {
    int fd;
    int server;
    rudp_sock_config_t cfg;
    rudp_sock_cb cb;
    void *user;
    addr_t local; /* getsockname() */
    addr_t peer;  /* client: the server */

    /* connections */
    struct entry *client;
    struct entry **slots; /* hash table, linear probing, power-of-two size */
    uint32_t mask;
    uint64_t hash_key;
    struct entry **heap;
    uint32_t heap_n, heap_cap;
    struct entry **touched;
    uint32_t n_touched, touched_cap;
    rudp_listener_t listener;
    rudp_ratelimit_t *rate; /* server with handshake_rate: the front door's gate */
    int refused;            /* ECONNREFUSED seen on the connected socket */

    /* sending */
    struct txd *tx;
#ifdef __linux__
    struct txm *txm;
#endif
    uint32_t tx_cap, tx_head, tx_n;
    int tx_blocked;       /* the kernel said EAGAIN: wait for POLLOUT */
    int gso;              /* UDP GSO: join equal-size datagrams to one peer in one send */
    int gro;              /* UDP GRO: a receive may hold several datagrams of one sender */
    uint32_t gso_single;  /* datagrams at the ring's head to send one by one: their run was
                            refused (a route whose MTU they exceed, say) */
    uint32_t gso_refused; /* refused GSO sends in a row */
    int in_step;

    /* impairment */
    rudp_sim_link_t *link;
    rudp_prng_t corrupt_rng;
    double corrupt;
    uint64_t corrupted;
    uint64_t seed;

    rudp_pcap_t *pcap;
    int pcap_dirty;
    int pktinfo;

    struct rx *rx;
    rudp_sock_stats_t st;
    uint8_t scratch[PREFIX_MAX + RUDP_SIM_MAX_DGRAM];

    /* DTLS (cfg.dtls): every datagram above is a record; see "DTLS" below */
    rudp_dtls_t *dtls;
    char sec_err[160]; /* rudp_sock_security_error() of a plaintext client */
    uint8_t plain[RUDP_MAX_DATAGRAM];
};

/* ---- clock and randomness ------------------------------------------------------ */

static uint64_t clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rudp_sock_now(const rudp_sock_t *s)
{
    (void)s;
    return clock_us();
}

int rudp_random_bytes(void *buf, size_t n)
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

/* ---- addresses ------------------------------------------------------------------- */

static int is_mapped(const addr_t *a)
{
    return a->u.sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->u.in6.sin6_addr);
}

/* Packs an address for the impairment prefix: 0 = unknown, 4 = IPv4, 5 = IPv4-mapped
 * IPv6, 6 = IPv6 (with scope). Returns the bytes written. */
static size_t addr_pack(const addr_t *a, uint8_t *p)
{
    if (a->len == 0) {
        p[0] = 0;
        return 1;
    }
    if (a->u.sa.sa_family == AF_INET) {
        p[0] = 4;
        memcpy(p + 1, &a->u.in.sin_port, 2);
        memcpy(p + 3, &a->u.in.sin_addr, 4);
        return 7;
    }
    if (is_mapped(a)) {
        p[0] = 5;
        memcpy(p + 1, &a->u.in6.sin6_port, 2);
        memcpy(p + 3, a->u.in6.sin6_addr.s6_addr + 12, 4);
        return 7;
    }
    p[0] = 6;
    memcpy(p + 1, &a->u.in6.sin6_port, 2);
    memcpy(p + 3, &a->u.in6.sin6_addr, 16);
    rudp_put32(p + 19, a->u.in6.sin6_scope_id);
    return 23;
}

/* The bytes that identify a peer, for the cookie and the wrong-address check: the
 * packed form, except that an IPv4-mapped IPv6 address counts as IPv4, so a peer has one
 * identity whatever socket family sees it. */
static uint8_t addr_key(const addr_t *a, uint8_t k[KEY_MAX])
{
    uint8_t n = (uint8_t)addr_pack(a, k);
    if (k[0] == 5)
        k[0] = 4; /* an IPv4-mapped peer is the IPv4 peer */
    return n;
}

static size_t addr_unpack(addr_t *a, const uint8_t *p)
{
    memset(a, 0, sizeof *a);
    switch (p[0]) {
    case 4:
        a->len = sizeof a->u.in;
        a->u.in.sin_family = AF_INET;
        memcpy(&a->u.in.sin_port, p + 1, 2);
        memcpy(&a->u.in.sin_addr, p + 3, 4);
        return 7;
    case 5:
        a->len = sizeof a->u.in6;
        a->u.in6.sin6_family = AF_INET6;
        memcpy(&a->u.in6.sin6_port, p + 1, 2);
        a->u.in6.sin6_addr.s6_addr[10] = a->u.in6.sin6_addr.s6_addr[11] = 0xff;
        memcpy(a->u.in6.sin6_addr.s6_addr + 12, p + 3, 4);
        return 7;
    case 6:
        a->len = sizeof a->u.in6;
        a->u.in6.sin6_family = AF_INET6;
        memcpy(&a->u.in6.sin6_port, p + 1, 2);
        memcpy(&a->u.in6.sin6_addr, p + 3, 16);
        a->u.in6.sin6_scope_id = rudp_get32(p + 19);
        return 23;
    default:
        return 1;
    }
}

static void addr_set(addr_t *a, const struct sockaddr *sa, socklen_t len)
{
    memset(a, 0, sizeof *a);
    if (len > (socklen_t)sizeof a->u)
        len = (socklen_t)sizeof a->u;
    memcpy(&a->u, sa, (size_t)len);
    a->len = len;
}

/* ---- the connection table ----------------------------------------------------------- */

static uint32_t slot_of(const rudp_sock_t *s, uint64_t cid)
{
    /* splitmix64's finalizer over the keyed ID: clients pick IDs, so the key keeps them
     * from choosing colliding ones on purpose. */
    uint64_t x = cid ^ s->hash_key;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (uint32_t)x & s->mask;
}

static struct entry *table_find(const rudp_sock_t *s, uint64_t cid)
{
    for (uint32_t i = slot_of(s, cid);; i = (i + 1) & s->mask) {
        struct entry *e = s->slots[i];
        if (!e || e->cid == cid)
            return e;
    }
}

static void table_insert(rudp_sock_t *s, struct entry *e)
{
    uint32_t i = slot_of(s, e->cid);
    while (s->slots[i])
        i = (i + 1) & s->mask;
    s->slots[i] = e;
}

/* Backward-shift deletion: no tombstones, so lookups never slow down over time. */
static void table_remove(rudp_sock_t *s, const struct entry *e)
{
    uint32_t i = slot_of(s, e->cid);
    while (s->slots[i] != e)
        i = (i + 1) & s->mask;
    uint32_t j = i;
    for (;;) {
        s->slots[i] = NULL;
        for (;;) {
            j = (j + 1) & s->mask;
            if (!s->slots[j])
                return;
            uint32_t home = slot_of(s, s->slots[j]->cid);
            /* Move slots[j] into the hole unless its home lies cyclically in (i, j]. */
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            break;
        }
        s->slots[i] = s->slots[j];
        i = j;
    }
}

/* ---- the deadline heap ------------------------------------------------------------- */

static void heap_place(rudp_sock_t *s, uint32_t i, struct entry *e)
{
    s->heap[i] = e;
    e->heap_i = i;
}

static void heap_up(rudp_sock_t *s, uint32_t i)
{
    struct entry *e = s->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (s->heap[p]->deadline <= e->deadline)
            break;
        heap_place(s, i, s->heap[p]);
        i = p;
    }
    heap_place(s, i, e);
}

static void heap_down(rudp_sock_t *s, uint32_t i)
{
    struct entry *e = s->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= s->heap_n)
            break;
        if (c + 1 < s->heap_n && s->heap[c + 1]->deadline < s->heap[c]->deadline)
            c++;
        if (e->deadline <= s->heap[c]->deadline)
            break;
        heap_place(s, i, s->heap[c]);
        i = c;
    }
    heap_place(s, i, e);
}

static void heap_remove(rudp_sock_t *s, struct entry *e)
{
    uint32_t i = e->heap_i;
    if (i == NO_HEAP)
        return;
    e->heap_i = NO_HEAP;
    struct entry *last = s->heap[--s->heap_n];
    if (last == e)
        return;
    heap_place(s, i, last);
    heap_up(s, i);
    heap_down(s, last->heap_i);
}

static void set_deadline(rudp_sock_t *s, struct entry *e, uint64_t t)
{
    e->deadline = t;
    if (t == UINT64_MAX) {
        heap_remove(s, e);
        return;
    }
    if (e->heap_i == NO_HEAP) {
        heap_place(s, s->heap_n++, e); /* heap_cap >= connections held, so it fits */
        heap_up(s, e->heap_i);
        return;
    }
    heap_up(s, e->heap_i);
    heap_down(s, e->heap_i);
}

/* ---- sending -------------------------------------------------------------------------- */

static void pcap_out(rudp_sock_t *s, const struct txd *t)
{
    const addr_t *from = t->from.len ? &t->from : &s->local;
    const addr_t *to = s->server ? &t->to : &s->peer;
    rudp_pcap_write(s->pcap, &from->u.sa, &to->u.sa, t->data, t->len);
    s->pcap_dirty = 1;
}

static void sent_ok(rudp_sock_t *s, const struct txd *t)
{
    s->st.datagrams_out++;
    s->st.bytes_out += t->len;
    if (s->pcap)
        pcap_out(s, t);
}

/* A send failure that is not EAGAIN. On the client's connected socket ECONNREFUSED is
 * the ICMP verdict on an earlier datagram; the current one was not sent either. */
static void send_failed(rudp_sock_t *s, int err)
{
    if (err == ECONNREFUSED && !s->server)
        s->refused = 1;
    s->st.send_errors++;
}

static int would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK;
}

#if defined(__linux__) && defined(UDP_SEGMENT)
/* Whether b can join the run that starts at first and ends at prev in one UDP GSO send:
 * same destination, and every segment but the last exactly the first one's size (the
 * kernel cuts the buffer every gso_size bytes, so an empty first one would cut none). */
static int gso_joins(const rudp_sock_t *s, const struct txd *first, const struct txd *prev,
                     const struct txd *b, uint32_t segs, size_t bytes)
{
    if (first->len == 0 || segs >= GSO_SEGS || bytes + b->len > GSO_BYTES ||
        prev->len != first->len || b->len > first->len)
        return 0;
    return !s->server || (b->to.len == first->to.len && !memcmp(&b->to.u, &first->to.u, b->to.len));
}

/* Errors that refuse UDP GSO on the whole socket (no checksum offload, IPsec), rather
 * than one run (EMSGSIZE or EINVAL: a run above a route's MTU). */
static int gso_never(int err)
{
    return err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP;
}

/* Whether this socket takes UDP_SEGMENT at all (Linux 4.18+): an older kernel would not
 * refuse the control message but ignore it, and send a run as one datagram. */
static int gso_probe(int fd)
{
    int size = 0; /* 0: no default segment size; each send brings its own */
    return setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof size) == 0;
}
#endif

/* Sends what the ring holds, in batches; stops at EAGAIN (the ring keeps the rest).
 * Where the kernel has UDP GSO, a run of equal-size datagrams to one peer leaves as one
 * buffer the kernel cuts into datagrams, so the path's per-packet cost is paid once for
 * the run (each datagram on the wire is unchanged). */
static void tx_flush(rudp_sock_t *s)
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
        struct mmsghdr *mm = s->txm->mm;
        struct iovec *iov = s->txm->iov;
        uint16_t *segs = s->txm->segs;
        uint32_t m = 0;
        memset(mm, 0, n * sizeof mm[0]);
        for (uint32_t i = 0; i < n; m++) {
            struct msghdr *mh = &mm[m].msg_hdr;
            uint32_t k = 1;
#ifdef UDP_SEGMENT
            size_t bytes = t[i].len;
            if (s->gso && i >= s->gso_single)
                while (i + k < n && gso_joins(s, &t[i], &t[i + k - 1], &t[i + k], k, bytes))
                    bytes += t[i + k++].len;
#endif
            for (uint32_t j = 0; j < k; j++) {
                iov[i + j].iov_base = t[i + j].data;
                iov[i + j].iov_len = t[i + j].len;
            }
            mh->msg_iov = &iov[i];
            mh->msg_iovlen = k;
            if (s->server) {
                mh->msg_name = &t[i].to.u;
                mh->msg_namelen = t[i].to.len;
            }
#ifdef UDP_SEGMENT
            if (k > 1) {
                uint16_t size = t[i].len;
                memset(s->txm->ctl[m], 0, sizeof s->txm->ctl[m]); /* the cmsg's padding */
                mh->msg_control = s->txm->ctl[m];
                mh->msg_controllen = CMSG_SPACE(sizeof size);
                struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
                cm->cmsg_level = SOL_UDP;
                cm->cmsg_type = UDP_SEGMENT;
                cm->cmsg_len = CMSG_LEN(sizeof size);
                memcpy(CMSG_DATA(cm), &size, sizeof size);
            }
#endif
            segs[m] = (uint16_t)k;
            i += k;
        }
        sent = sendmmsg(s->fd, mm, m, 0);
        for (int i = 0; i < sent; i++) {
            done += segs[i];
            if (segs[i] > 1) {
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
            if (segs[0] > 1) {
                /* The run was refused as a run: send its datagrams one by one, which
                 * may still work (IP fragments them where the MTU is too small). A
                 * refusal that holds for the socket, or one run after another,
                 * turns GSO off for good. */
                s->gso_single = segs[0];
                if (gso_never(errno) || ++s->gso_refused >= GSO_REFUSALS)
                    s->gso = 0;
                continue;
            }
#endif
            send_failed(s, errno);
            /* Drop the first datagram, which cannot be sent; the engine's
             * retransmission covers it like any loss. */
            s->tx_head = (s->tx_head + 1) % s->tx_cap;
            s->tx_n--;
            if (s->gso_single > 0)
                s->gso_single--;
            continue;
        }
        for (uint32_t i = 0; i < done; i++)
            sent_ok(s, &t[i]);
        s->tx_head = (s->tx_head + done) % s->tx_cap;
        s->tx_n -= done;
        s->gso_single = s->gso_single > done ? s->gso_single - done : 0;
    }
    /* Start over at slot 0 when empty: only as many slots as are ever held at once get
     * touched, which keeps an idle client's resident memory small. */
    s->tx_head = 0;
    s->tx_blocked = 0;
    s->gso_single = 0;
}

/* The next free ring slot, flushing first when the ring is full; NULL while the kernel
 * cannot take more. */
static struct txd *tx_reserve(rudp_sock_t *s)
{
    if (s->tx_n == s->tx_cap) {
        if (s->tx_blocked)
            return NULL;
        tx_flush(s);
        if (s->tx_n == s->tx_cap)
            return NULL;
    }
    return &s->tx[(s->tx_head + s->tx_n) % s->tx_cap];
}

static void tx_commit(rudp_sock_t *s)
{
    s->tx_n++;
}

static size_t overhead(const addr_t *to)
{
    return (to->u.sa.sa_family == AF_INET || is_mapped(to)) ? RUDP_PCAP_IP4_OVERHEAD
                                                            : RUDP_PCAP_IP6_OVERHEAD;
}

/* Offers one datagram to the impairment link, with its addresses in front. */
static void impair_push(rudp_sock_t *s, const addr_t *to, const addr_t *from, const uint8_t *data,
                        size_t len, uint64_t now)
{
    uint8_t *p = s->scratch;
    size_t pre = addr_pack(to, p);
    pre += addr_pack(from, p + pre);
    size_t padded = overhead(to);
    memset(p + pre, 0, padded - pre);
    if (data != p + padded)
        memmove(p + padded, data, len);
    rudp_sim_link_push(s->link, now, p, padded + len);
}

/* Moves the datagrams the link releases by `now` to the send ring. */
static void impair_pop(rudp_sock_t *s, uint64_t now)
{
    if (!s->link)
        return;
    while (rudp_sim_link_next(s->link) <= now) {
        struct txd *t = tx_reserve(s);
        if (!t)
            return; /* the link keeps them until the socket is writable */
        size_t n = 0;
        if (rudp_sim_link_pop(s->link, now, s->scratch, sizeof s->scratch, &n) != 1)
            return;
        size_t pre = addr_unpack(&t->to, s->scratch);
        if (pre >= n)
            continue;
        addr_unpack(&t->from, s->scratch + pre);
        size_t padded = overhead(&t->to);
        if (padded > n || n - padded > sizeof t->data)
            continue;
        t->len = (uint16_t)(n - padded);
        memcpy(t->data, s->scratch + padded, t->len);
        if (s->corrupt > 0.0 && t->len > 0 && rudp_prng_unit(&s->corrupt_rng) < s->corrupt) {
            uint64_t bit = rudp_prng_below(&s->corrupt_rng, (uint64_t)t->len * 8u);
            t->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            s->corrupted++;
        }
        tx_commit(s);
    }
}

/* A datagram as it goes on the wire (a DTLS record, or a plaintext one). */
static void send_raw(rudp_sock_t *s, const uint8_t *data, size_t len, const addr_t *to,
                     const addr_t *from, uint64_t now)
{
    if (len > WIRE_MAX)
        return;
    if (s->link) {
        impair_push(s, to, from, data, len, now);
        return;
    }
    struct txd *t = tx_reserve(s);
    if (!t) {
        s->st.send_dropped++;
        return;
    }
    memcpy(t->data, data, len);
    t->len = (uint16_t)len;
    t->to = *to;
    t->from = *from;
    tx_commit(s);
}

/* A datagram not prepared by a connection (listener replies): inside the peer's DTLS
 * session when there is one. */
static void send_one(rudp_sock_t *s, const uint8_t *data, size_t len, const addr_t *to,
                     const addr_t *from, uint64_t now)
{
    if (len > RUDP_MAX_DATAGRAM)
        return;
#ifdef RUDP_HAVE_DTLS
    if (s->dtls) {
        (void)from;
        if (rudp_dtls_send(s->dtls, &to->u.sa, to->len, data, len, now) == RUDP_EAGAIN)
            s->st.send_dropped++;
        return;
    }
#endif
    send_raw(s, data, len, to, from, now);
}

/* Asks the engine for everything it has to send now and re-keys its deadline. */
static void service(rudp_sock_t *s, struct entry *e, uint64_t now)
{
    rudp_conn_t *c = e->conn;
    if (e->held)
        return; /* the engine starts once the DTLS handshake is done */
    e->queued_msgs = 0;
    e->queued_bytes = 0;
    for (;;) {
#ifdef RUDP_HAVE_DTLS
        if (s->dtls) {
            /* One engine datagram, one DTLS record: room for it first, so the engine
             * keeps what cannot leave (as without DTLS). */
            if (!s->link && !tx_reserve(s)) {
                set_deadline(s, e, now);
                return;
            }
            int n = rudp_conn_prepare(c, now, s->plain, sizeof s->plain);
            if (n <= 0)
                break;
            rudp_dtls_send(s->dtls, &e->peer.u.sa, e->peer.len, s->plain, (size_t)n, now);
            continue;
        }
#endif
        if (s->link) {
            uint8_t *buf = s->scratch + PREFIX_MAX;
            int n = rudp_conn_prepare(c, now, buf, RUDP_MAX_DATAGRAM);
            if (n <= 0)
                break;
            impair_push(s, &e->peer, &e->local, buf, (size_t)n, now);
            continue;
        }
        struct txd *t = tx_reserve(s);
        if (!t) {
            set_deadline(s, e, now); /* more to send once the socket is writable */
            return;
        }
        int n = rudp_conn_prepare(c, now, t->data, sizeof t->data);
        if (n <= 0)
            break;
        t->len = (uint16_t)n;
        t->to = e->peer;
        t->from = e->local;
        tx_commit(s);
    }
    uint64_t next = rudp_conn_next_timeout(c);
    /* "Due now" right after prepare() said "nothing": the engine would make us spin,
     * so look again a microsecond later at the earliest. */
    e->spun = next <= now && rudp_conn_state(c) != RUDP_STATE_CLOSED;
    if (e->spun)
        next = now + 1;
    set_deadline(s, e, next);
}

/* ---- events ------------------------------------------------------------------------ */

static void emit(rudp_sock_t *s, struct entry *e, rudp_sock_event_kind_t kind, int err)
{
    if (!s->cb)
        return;
    rudp_sock_event_t ev = {
        .kind = kind, .conn = e->conn, .peer = &e->peer.u.sa, .peer_len = e->peer.len, .error = err
    };
    s->cb(s->user, s, &ev);
}

static void entry_free(rudp_sock_t *s, struct entry *e)
{
#ifdef RUDP_HAVE_DTLS
    if (s->dtls && s->server)
        rudp_dtls_release(s->dtls, &e->peer.u.sa, e->peer.len, clock_us());
#endif
    heap_remove(s, e);
    if (s->server)
        table_remove(s, e);
    else
        s->client = NULL;
    rudp_conn_free(e->conn);
    free(e);
    s->st.active--;
}

/* After input or a timer: report what changed, send what is ready, and free the
 * connection once it is closed and its last RESET (if any) is out. */
static void settle(rudp_sock_t *s, struct entry *e, int got_input)
{
    rudp_conn_t *c = e->conn;
    rudp_state_t st = rudp_conn_state(c);
    if (!s->server && !e->connected_sent &&
        (st == RUDP_STATE_ESTABLISHED || st == RUDP_STATE_DRAINING)) {
        e->connected_sent = 1;
        emit(s, e, RUDP_SOCK_EV_CONNECTED, 0);
    }
    if (got_input || st == RUDP_STATE_CLOSED) {
        int n = rudp_conn_peek_size(c);
        if (n >= 0 || (n == RUDP_ECLOSED && !e->eof_sent)) {
            if (n == RUDP_ECLOSED)
                e->eof_sent = 1;
            emit(s, e, RUDP_SOCK_EV_READABLE, 0);
        }
    }
    uint64_t now = clock_us(); /* the callbacks may have taken a while */
    if (!e->unreach)
        service(s, e, now);
    /* An unreachable peer gets no RESET: nothing listens there. */
    if (rudp_conn_state(c) == RUDP_STATE_CLOSED &&
        (e->unreach || rudp_conn_next_timeout(c) == UINT64_MAX)) {
        emit(s, e, RUDP_SOCK_EV_CLOSED, rudp_conn_error(c));
        entry_free(s, e);
    }
}

/* ---- receiving ------------------------------------------------------------------- */

static void settle_touched(rudp_sock_t *s);

static void touch(rudp_sock_t *s, struct entry *e)
{
    /* Full: one receive batch reached more connections than it has receives, which a
     * receive carrying several connection IDs can do: a UDP GRO run from one sender, or
     * a DTLS record batch from one session. Settling the list now keeps it bounded. */
    if (!e->touched && s->n_touched == s->touched_cap)
        settle_touched(s);
    if (!e->touched) {
        e->touched = 1;
        s->touched[s->n_touched++] = e;
    }
}

static void settle_touched(rudp_sock_t *s)
{
    /* Entries stay allocated until their own settle(), so the list stays valid. */
    for (uint32_t i = 0; i < s->n_touched; i++) {
        struct entry *e = s->touched[i];
        e->touched = 0;
        settle(s, e, 1);
    }
    s->n_touched = 0;
}

static int accept_conn(rudp_sock_t *s, const rudp_hdr_t *h, const addr_t *from, const addr_t *to,
                       const uint8_t *key, uint8_t key_len, uint64_t now)
{
    uint32_t isn;
    if (rudp_random_bytes(&isn, sizeof isn) != 0)
        return RUDP_ESYS;
    struct entry *e = calloc(1, sizeof *e);
    if (!e)
        return RUDP_ENOMEM;
    int rc = rudp_conn_new_server(&e->conn, &s->cfg.conn, h, isn, now);
    if (rc) {
        free(e);
        return rc;
    }
    e->cid = h->cid;
    e->heap_i = NO_HEAP;
    e->deadline = UINT64_MAX;
    e->peer = *from;
    e->local = *to;
    e->key_len = key_len;
    memcpy(e->key, key, key_len);
    table_insert(s, e);
    s->st.active++;
    s->st.accepted++;
    emit(s, e, RUDP_SOCK_EV_ACCEPTED, 0);
    touch(s, e);
    return 0;
}

static void server_input(rudp_sock_t *s, const uint8_t *d, size_t len, const addr_t *from,
                         const addr_t *to, uint64_t now)
{
    uint8_t key[KEY_MAX];
    uint8_t key_len = addr_key(from, key);
    uint64_t cid;
    struct entry *e = NULL;
    if (rudp_wire_peek_cid(d, len, &cid) == 0)
        e = table_find(s, cid);
    if (e) {
        if (e->key_len != key_len || memcmp(e->key, key, key_len) != 0) {
            s->st.wrong_address++;
            return;
        }
        if (s->pcap)
            e->local = *to;
        rudp_conn_input(e->conn, d, len, now);
        touch(s, e);
        return;
    }
    rudp_hdr_t h;
    uint8_t reply[RUDP_MAX_DATAGRAM];
    size_t rlen = 0;
    int v = rudp_listener_input(&s->listener, d, len, key, key_len, now, &h, reply, sizeof reply,
                                &rlen);
    if (v == RUDP_LISTEN_REPLY) {
        send_one(s, reply, rlen, from, to, now);
    } else if (v == RUDP_LISTEN_ACCEPT) {
        if (s->st.active >= s->cfg.max_clients ||
            accept_conn(s, &h, from, to, key, key_len, now) != 0) {
            /* Full, or out of memory: either way a clear refusal, not silence. */
            int n = rudp_listener_refuse(&h, now, reply, sizeof reply);
            if (n > 0)
                send_one(s, reply, (size_t)n, from, to, now);
            s->st.refused_full++;
        }
    }
}

static void dispatch(rudp_sock_t *s, const uint8_t *d, size_t len, const addr_t *from,
                     const addr_t *to, uint64_t now)
{
    s->st.datagrams_in++;
    s->st.bytes_in += len;
    if (s->pcap) {
        const addr_t *src = s->server ? from : &s->peer;
        const addr_t *dst = to->len ? to : &s->local;
        rudp_pcap_write(s->pcap, &src->u.sa, &dst->u.sa, d, len);
        s->pcap_dirty = 1;
    }
#ifdef RUDP_HAVE_DTLS
    if (s->dtls) {
        /* Decrypted datagrams come back through dtls_in(). */
        rudp_dtls_input(s->dtls, d, len, &from->u.sa, from->len, to->len ? &to->u.sa : NULL,
                        to->len, now);
        return;
    }
#endif
    if (s->server) {
        server_input(s, d, len, from, to, now);
    } else if (s->client) {
        struct entry *e = s->client;
        int rc = rudp_conn_input(e->conn, d, len, now);
        if (rc != 0 && rudp_dtls_is_record(d, len) && !e->unreach &&
            rudp_conn_state(e->conn) == RUDP_STATE_HANDSHAKE) {
            /* The server answers in DTLS: it runs with --secure. Say so now rather
             * than retransmit into a wall until the dead-peer limit. */
            snprintf(s->sec_err, sizeof s->sec_err, "the server speaks DTLS: it requires --secure");
            e->unreach = 1; /* nothing more to send to it */
            rudp_conn_fail(e->conn, RUDP_EREFUSED, now);
        }
        touch(s, e);
    }
}

#ifdef __linux__
/* UDP GRO: the size of every datagram of a receive but the last (which may be
 * shorter), or 0 for a receive of one datagram. */
static size_t gro_size(const rudp_sock_t *s, struct msghdr *mh)
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
static void pktinfo_to(const rudp_sock_t *s, struct msghdr *mh, addr_t *to)
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

/* Receives per batch and bytes per receive buffer (see BATCH). */
static uint32_t rx_count(const rudp_sock_t *s)
{
    return s->gro ? BATCH_GRO : BATCH;
}

static size_t rx_cap(const rudp_sock_t *s)
{
    return s->gro ? RX_CAP_GRO : RX_CAP;
}

/* One batch from the socket. Returns the count, 0 when nothing waits, or RUDP_ESYS. */
static int rx_batch(rudp_sock_t *s)
{
    struct rx *r = s->rx;
    const uint32_t batch = rx_count(s);
    const size_t cap = rx_cap(s);
#ifdef __linux__
    for (uint32_t i = 0; i < batch; i++) {
        struct msghdr *mh = &r->mm[i].msg_hdr;
        r->iov[i].iov_base = r->buf + i * cap;
        r->iov[i].iov_len = cap;
        memset(mh, 0, sizeof *mh);
        mh->msg_iov = &r->iov[i];
        mh->msg_iovlen = 1;
        mh->msg_name = &r->from[i].u;
        mh->msg_namelen = sizeof r->from[i].u;
        if (s->pktinfo || s->gro) {
            mh->msg_control = r->ctl[i];
            mh->msg_controllen = sizeof r->ctl[i];
        }
    }
    int n;
    do
        n = recvmmsg(s->fd, r->mm, batch, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    if (n >= 0) {
        for (int i = 0; i < n; i++) {
            struct msghdr *mh = &r->mm[i].msg_hdr;
            r->from[i].len = mh->msg_namelen;
            r->len[i] = r->mm[i].msg_len;
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
            mh.msg_control = r->ctl[n];
            mh.msg_controllen = sizeof r->ctl[n];
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
    if (errno == ECONNREFUSED) {
        s->refused = 1; /* the error is consumed; the next poll shows what else waits */
        return 0;
    }
    if (errno == ENOMEM || errno == ENOBUFS)
        return 0;
    return RUDP_ESYS;
}

static int rx_all(rudp_sock_t *s)
{
    uint32_t dgrams = 0;
    /* Bounded: a batch that does not end the loop was full, at least 16 datagrams. */
    while (dgrams < RX_DGRAMS) {
        int n = rx_batch(s);
        if (n < 0)
            return n;
        if (n == 0)
            return 0;
        uint64_t now = clock_us();
        const size_t max = s->dtls ? WIRE_MAX : RUDP_MAX_DATAGRAM, cap = rx_cap(s);
        for (int i = 0; i < n; i++) {
            const struct rx *r = s->rx;
            size_t len = r->len[i], seg = r->seg[i] && r->seg[i] < len ? r->seg[i] : len;
            /* Datagrams in this receive: a GRO run holds them back to back, each seg
             * bytes but the last; an empty datagram is one too. Every one counts against
             * the step's bound, dropped or not, so a flood of junk cannot stretch it. */
            size_t count = len ? (len + seg - 1) / seg : 1;
            dgrams += (uint32_t)count;
            if (r->trunc[i] || seg > max) {
                s->st.oversized += count;     /* not in datagrams_in: never in the pcap either */
                s->listener.garbage += count; /* too large to be ours */
                continue;
            }
            if (count > 1)
                s->st.gro_receives++;
            for (size_t k = 0, off = 0; k < count; k++, off += seg) {
                size_t one = len - off < seg ? len - off : seg;
                dispatch(s, r->buf + (size_t)i * cap + off, one, &r->from[i], &r->to[i], now);
            }
        }
        /* Answer this batch before reading the next: ACKs go out sooner. */
        settle_touched(s);
        if ((uint32_t)n < rx_count(s))
            return 0;
    }
    return 0;
}

/* The client's connected socket reported ICMP port unreachable. */
static void on_refused(rudp_sock_t *s)
{
    s->refused = 0;
    struct entry *e = s->client;
    if (!e)
        return;
    if (rudp_conn_state(e->conn) != RUDP_STATE_HANDSHAKE)
        return; /* counted in send_errors; the dead-peer limit decides (see the top) */
    e->unreach = 1;
    rudp_conn_fail(e->conn, RUDP_EUNREACH, clock_us());
    settle(s, e, 0);
}

/* ---- DTLS ------------------------------------------------------------------------------ */

/* With cfg.dtls the socket carries DTLS records only (dtls.c holds the sessions): what
 * comes in goes to rudp_dtls_input() and the decrypted datagrams to dtls_in(), which
 * feeds them to the demultiplexer or the client's engine exactly as plaintext ones;
 * what the engines prepare goes out through rudp_dtls_send(), one record each, and the
 * records through dtls_out() to the impairment, the send ring and the pcap file. So the
 * impairment loses, duplicates and corrupts records, and a capture shows only DTLS.
 * A client's engine is held until the DTLS handshake is done, then made afresh, so its
 * timers and dead-peer limit start with the session; a failed handshake ends the
 * connection (RUDP_EREFUSED, or RUDP_ETIMEDOUT when nothing came back) and
 * rudp_sock_security_error() says why. A server lets a peer's session linger a moment
 * after its connection ends, then closes it. */
#ifdef RUDP_HAVE_DTLS
static void dtls_out(void *user, const struct sockaddr *to, socklen_t tolen,
                     const struct sockaddr *from, socklen_t fromlen, const uint8_t *d, size_t n)
{
    rudp_sock_t *s = user;
    addr_t t, f;
    addr_set(&t, to, tolen);
    addr_set(&f, from, fromlen);
    send_raw(s, d, n, &t, &f, clock_us());
}

static void dtls_in(void *user, const struct sockaddr *peer, socklen_t peerlen,
                    const struct sockaddr *local, socklen_t locallen, const uint8_t *d, size_t n)
{
    rudp_sock_t *s = user;
    uint64_t now = clock_us();
    if (n > RUDP_MAX_DATAGRAM) {
        s->st.oversized++;
        s->listener.garbage++;
        return;
    }
    if (s->server) {
        addr_t from, to;
        addr_set(&from, peer, peerlen);
        addr_set(&to, local, locallen);
        server_input(s, d, n, &from, &to, now);
    } else if (s->client && !s->client->held) {
        rudp_conn_input(s->client->conn, d, n, now);
        touch(s, s->client);
    }
}

static void dtls_state(void *user, const struct sockaddr *peer, socklen_t peerlen, int up)
{
    rudp_sock_t *s = user;
    struct entry *e = s->client;
    (void)peer;
    (void)peerlen;
    if (s->server || !e || e->unreach)
        return; /* a server's connections run on to their own end */
    uint64_t now = clock_us();
    if (up && e->held) {
        uint64_t cid;
        uint32_t isn;
        rudp_conn_t *c = NULL;
        if (rudp_random_bytes(&cid, sizeof cid) == 0 && rudp_random_bytes(&isn, sizeof isn) == 0 &&
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

static int dtls_open(rudp_sock_t *s, const rudp_sock_config_t *cfg)
{
    const rudp_sock_dtls_t *dc = cfg->dtls;
    rudp_dtls_hooks_t h = { dtls_out, dtls_in, dtls_state, s };
    return rudp_dtls_new(&s->dtls, s->server, dc, cfg->max_clients,
                         s->server ? cfg->handshake_rate : 0, cfg->handshake_burst, &h, dc->error,
                         dc->error_cap);
}
#endif

/* ---- the step ------------------------------------------------------------------------ */

/* The client's deadline as the engine sees it now. The application may have called
 * rudp_conn_abort() or rudp_conn_recv() (reopening a closed window) on its own, which
 * the heap cannot know of; for one connection asking again costs nothing. (A server's
 * connections are re-keyed after every callback, so calls made there are seen.) */
static uint64_t client_deadline(const rudp_sock_t *s)
{
    const struct entry *e = s->client;
    if (!e || e->held)
        return UINT64_MAX;
    if (e->spun)
        return e->deadline;
    if (rudp_conn_state(e->conn) == RUDP_STATE_CLOSED)
        return 0; /* its CLOSED event is due */
    uint64_t t = rudp_conn_next_timeout(e->conn);
    return t < e->deadline ? t : e->deadline;
}

static uint64_t next_deadline(const rudp_sock_t *s)
{
    if (s->tx_blocked)
        return UINT64_MAX; /* nothing can go out before POLLOUT */
    if (s->tx_n > 0)
        return 0;
    uint64_t t = s->heap_n ? s->heap[0]->deadline : UINT64_MAX;
    uint64_t c = client_deadline(s);
    if (c < t)
        t = c;
    if (s->link) {
        uint64_t l = rudp_sim_link_next(s->link);
        if (l < t)
            t = l;
    }
#ifdef RUDP_HAVE_DTLS
    if (s->dtls) {
        uint64_t d = rudp_dtls_next_timeout(s->dtls);
        if (d < t)
            t = d;
    }
#endif
    return t;
}

int rudp_sock_timeout_ms(const rudp_sock_t *s)
{
    if (!s)
        return -1;
    if (s->tx_blocked)
        return 1; /* callers polling only POLLIN must still come back to flush */
    uint64_t t = next_deadline(s);
    if (t == UINT64_MAX)
        return -1;
    uint64_t now = clock_us();
    if (t <= now)
        return 0;
    uint64_t ms = (t - now + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int64_t rudp_sock_timeout_us(const rudp_sock_t *s)
{
    if (!s)
        return -1;
    if (s->tx_blocked)
        return 1000; /* as rudp_sock_timeout_ms(): come back to flush */
    uint64_t t = next_deadline(s);
    if (t == UINT64_MAX)
        return -1;
    uint64_t now = clock_us();
    if (t <= now)
        return 0;
    return t - now > INT64_MAX ? INT64_MAX : (int64_t)(t - now);
}

int rudp_sock_step(rudp_sock_t *s, int timeout_ms)
{
    if (!s || s->in_step)
        return RUDP_EINVAL;
    if (s->client) {
        uint64_t t = client_deadline(s);
        if (t != s->client->deadline)
            set_deadline(s, s->client, t);
    }
    uint64_t now = clock_us();
    uint64_t until = next_deadline(s);
    uint64_t wait = until == UINT64_MAX ? UINT64_MAX : (until > now ? until - now : 0);
    if (timeout_ms >= 0 && (uint64_t)timeout_ms * 1000u < wait)
        wait = (uint64_t)timeout_ms * 1000u;

    struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
    if (s->tx_n > 0)
        pfd.events |= POLLOUT;
    int pr;
#ifdef __linux__
    struct timespec ts = { (time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000 };
    pr = ppoll(&pfd, 1, wait == UINT64_MAX ? NULL : &ts, NULL);
#else
    uint64_t ms = wait == UINT64_MAX ? 0 : (wait + 999) / 1000;
    pr = poll(&pfd, 1, wait == UINT64_MAX ? -1 : (ms > INT_MAX ? INT_MAX : (int)ms));
#endif
    if (pr < 0)
        return errno == EINTR ? 0 : RUDP_ESYS;

    int rc = 0;
    s->in_step = 1;
    if (s->tx_n > 0 && (pfd.revents & (POLLOUT | POLLERR)))
        tx_flush(s);
    if (pfd.revents & (POLLIN | POLLERR))
        rc = rx_all(s);
    if (s->refused)
        on_refused(s);
#ifdef RUDP_HAVE_DTLS
    if (s->dtls && !s->tx_blocked)
        rudp_dtls_timers(s->dtls, clock_us());
#endif
    if (!s->tx_blocked) {
        /* Due timers, each connection once: a deadline re-keyed to "now" waits for
         * the next step rather than looping here. */
        now = clock_us();
        for (uint32_t k = 0, limit = s->heap_n; k < limit && s->heap_n && !s->tx_blocked; k++) {
            struct entry *e = s->heap[0];
            if (e->deadline > now)
                break;
            settle(s, e, 0);
        }
        impair_pop(s, clock_us());
    }
    tx_flush(s);
    if (s->pcap && s->pcap_dirty) {
        rudp_pcap_flush(s->pcap);
        s->pcap_dirty = 0;
    }
    s->in_step = 0;
    return rc;
}

/* ---- the application's calls ---------------------------------------------------------- */

static struct entry *entry_of(const rudp_sock_t *s, const rudp_conn_t *c)
{
    struct entry *e = s->server ? table_find(s, rudp_conn_cid(c)) : s->client;
    return e && e->conn == c ? e : NULL;
}

/* Prepares what the connection has ready and hands it to the kernel now. */
static void send_ready(rudp_sock_t *s, struct entry *e, uint64_t now)
{
    service(s, e, now);
    impair_pop(s, now);
    tx_flush(s);
}

/* After the application queued something: hand it to the socket. Outside a step the
 * datagrams are prepared and sent at once; inside one (a callback) the step does both
 * after the callbacks, so messages queued together share datagrams (coalescing) and
 * leave in one sendmmsg(). */
static void push_now(rudp_sock_t *s, struct entry *e)
{
    uint64_t now = clock_us();
    if (s->in_step) {
        set_deadline(s, e, now);
        return;
    }
    send_ready(s, e, now);
    if (s->pcap && s->pcap_dirty) {
        rudp_pcap_flush(s->pcap);
        s->pcap_dirty = 0;
    }
}

/* Inside a callback, whether what it queued so far should leave before the next
 * message: a callback that queues a whole window (a client's first names, a server's
 * replies to a full batch) would otherwise keep the peer idle until it returns. So a
 * full datagram's worth goes out at once: with coalescing, when this message would not
 * fit beside the ones waiting; without, every EARLY_MSGS messages. Both ends then
 * work at the same time, and datagrams still leave full. */
static int early_send(const rudp_sock_t *s, const struct entry *e, size_t len)
{
    if (!s->in_step || e->queued_msgs == 0)
        return 0;
    if (s->cfg.conn.coalesce)
        return e->queued_bytes + RUDP_RECORD_HEADER + len > RUDP_MAX_PAYLOAD;
    return e->queued_msgs >= EARLY_MSGS;
}

int rudp_sock_send(rudp_sock_t *s, rudp_conn_t *c, const void *msg, size_t len)
{
    if (!s || !c)
        return RUDP_EINVAL;
    struct entry *e = entry_of(s, c);
    if (!e)
        return RUDP_EINVAL;
    if (early_send(s, e, len))
        send_ready(s, e, clock_us()); /* the step flushes the pcap */
    int rc = rudp_conn_send(c, msg, len, clock_us());
    if (rc)
        return rc;
    if (e->queued_msgs < UINT16_MAX)
        e->queued_msgs++;
    e->queued_bytes += RUDP_RECORD_HEADER + (uint32_t)len;
    push_now(s, e);
    return 0;
}

int rudp_sock_close(rudp_sock_t *s, rudp_conn_t *c)
{
    if (!s || !c)
        return RUDP_EINVAL;
    struct entry *e = entry_of(s, c);
    if (!e)
        return RUDP_EINVAL;
    int rc = rudp_conn_close(c, clock_us());
    if (rc)
        return rc;
    push_now(s, e);
    return 0;
}

rudp_conn_t *rudp_sock_conn(rudp_sock_t *s)
{
    return s && s->client ? s->client->conn : NULL;
}

int rudp_sock_local_port(const rudp_sock_t *s)
{
    if (!s)
        return RUDP_EINVAL;
    addr_t a;
    a.len = sizeof a.u;
    if (getsockname(s->fd, &a.u.sa, &a.len) != 0)
        return RUDP_ESYS;
    return ntohs(a.u.sa.sa_family == AF_INET ? a.u.in.sin_port : a.u.in6.sin6_port);
}

int rudp_sock_fd(const rudp_sock_t *s)
{
    return s ? s->fd : RUDP_EINVAL;
}

void rudp_sock_stats(const rudp_sock_t *s, rudp_sock_stats_t *out)
{
    if (!s || !out)
        return;
    *out = s->st;
    out->listener = s->listener;
    /* Counters only: the cookie key and the gate stay inside. */
    memset(out->listener.key, 0, sizeof out->listener.key);
    out->listener.admit = NULL;
    out->listener.admit_user = NULL;
    if (s->rate)
        out->rate_sources_evicted = s->rate->evicted;
    if (s->link) {
        rudp_sim_link_stats(s->link, &out->impair);
        out->impair.corrupted = s->corrupted;
    }
    out->impair_seed = s->seed;
#ifdef RUDP_HAVE_DTLS
    if (s->dtls)
        rudp_dtls_stats(s->dtls, &out->dtls);
#endif
}

int rudp_sock_dtls_available(void)
{
#ifdef RUDP_HAVE_DTLS
    return 1;
#else
    return 0;
#endif
}

const char *rudp_sock_security_error(const rudp_sock_t *s)
{
    if (!s)
        return NULL;
    if (s->sec_err[0])
        return s->sec_err;
#ifdef RUDP_HAVE_DTLS
    return rudp_dtls_error(s->dtls);
#else
    return NULL;
#endif
}

void rudp_sock_config_default(rudp_sock_config_t *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    rudp_config_default(&cfg->conn);
    cfg->max_clients = RUDP_SOCK_DEFAULT_MAX_CLIENTS;
    cfg->family = AF_UNSPEC;
    cfg->handshake_rate = RUDP_SOCK_DEFAULT_HANDSHAKE_RATE;
    cfg->gso = 1;
}

/* ---- creation and teardown ------------------------------------------------------------ */

void rudp_sock_free(rudp_sock_t *s)
{
    if (!s)
        return;
    if (s->server) {
        for (uint32_t i = 0; s->slots && i <= s->mask; i++) {
            if (s->slots[i]) {
                rudp_conn_free(s->slots[i]->conn);
                free(s->slots[i]);
            }
        }
    } else if (s->client) {
        rudp_conn_free(s->client->conn);
        free(s->client);
    }
#ifdef RUDP_HAVE_DTLS
    rudp_dtls_free(s->dtls);
#endif
    if (s->fd >= 0)
        close(s->fd);
    rudp_pcap_close(s->pcap);
    rudp_sim_link_free(s->link);
    free(s->rate);
    free(s->slots);
    free(s->heap);
    free(s->touched);
    free(s->tx);
#ifdef __linux__
    free(s->txm);
#endif
    free(s->rx);
    free(s);
}

static int config_check(const rudp_sock_config_t *cfg, int server)
{
    if (cfg->family != AF_UNSPEC && cfg->family != AF_INET && cfg->family != AF_INET6)
        return RUDP_EINVAL;
    if (cfg->dtls && !rudp_sock_dtls_available()) {
        if (cfg->dtls->error && cfg->dtls->error_cap)
            snprintf(cfg->dtls->error, cfg->dtls->error_cap,
                     "this librudp was built without DTLS (OpenSSL 3)");
        return RUDP_EINVAL;
    }
    if (server && (cfg->max_clients < 1 || cfg->max_clients > RUDP_SOCK_MAX_CLIENTS))
        return RUDP_EINVAL;
    if (server && (cfg->handshake_rate > RUDP_SOCK_MAX_HANDSHAKE_RATE ||
                   cfg->handshake_burst > RUDP_SOCK_MAX_HANDSHAKE_RATE))
        return RUDP_EINVAL;
    if (server) {
        /* A bad engine setting must fail here, not at the first client's handshake. */
        rudp_conn_t *probe = NULL;
        int rc = rudp_conn_new_client(&probe, &cfg->conn, 1, 1, 1);
        rudp_conn_free(probe);
        return rc;
    }
    return 0;
}

static void tune_socket(int fd)
{
    /* Best effort: a burst of a whole window from many clients should wait in the
     * kernel, not be dropped; the kernel caps the value at net.core.[rw]mem_max. */
    int sz = SOCK_BUF;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}

/* GSO stays on only where the socket takes it. */
static void gso_check(rudp_sock_t *s)
{
#if defined(__linux__) && defined(UDP_SEGMENT)
    if (s->gso && !gso_probe(s->fd))
        s->gso = 0;
#ifdef UDP_GRO
    /* Batches from a GSO sender (loopback, a veth that does not cut them) then arrive
     * whole, one receive instead of one per datagram; cut into datagrams here. */
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

/* The listener's gate: one bucket per source host, IPv4 /32 or IPv6 /64 (with the scope,
 * so link-local prefixes on two interfaces stay apart); the port does not count, or a
 * flood would simply change ports. addr is addr_key()'s canonical form. */
static int admit_source(void *user, const void *addr, size_t addrlen, uint64_t now)
{
    rudp_sock_t *s = user;
    const uint8_t *k = addr;
    uint8_t src[13];
    size_t n;
    if (addrlen == 7 && k[0] == 4) {
        src[0] = 4;
        memcpy(src + 1, k + 3, 4);
        n = 5;
    } else if (addrlen == 23 && k[0] == 6) {
        src[0] = 6;
        memcpy(src + 1, k + 3, 8);
        memcpy(src + 9, k + 19, 4);
        n = 13;
    } else {
        return 1; /* not an address this driver made: nothing to limit by */
    }
    return rudp_ratelimit_admit(s->rate, src, n, now);
}

static int rate_open(rudp_sock_t *s, const rudp_sock_config_t *cfg)
{
    uint8_t key[RUDP_COOKIE_KEY_SIZE];
    s->rate = malloc(sizeof *s->rate);
    if (!s->rate)
        return RUDP_ENOMEM;
    int rc = rudp_random_bytes(key, sizeof key);
    uint32_t burst = cfg->handshake_burst;
    if (burst == 0)
        burst = cfg->handshake_rate > UINT32_MAX / 2 ? UINT32_MAX : 2 * cfg->handshake_rate;
    if (!rc)
        rc = rudp_ratelimit_init(s->rate, key, cfg->handshake_rate, burst);
    if (!rc) {
        s->listener.admit = admit_source;
        s->listener.admit_user = s;
    }
    return rc;
}

static int sock_new(rudp_sock_t **out, int server, const rudp_sock_config_t *cfg, rudp_sock_cb cb,
                    void *user)
{
    rudp_sock_t *s = calloc(1, sizeof *s);
    if (!s)
        return RUDP_ENOMEM;
    s->fd = -1;
    s->server = server;
    s->cfg = *cfg;
    s->cfg.pcap_path = NULL; /* the caller's string need not outlive this call */
    s->cfg.dtls = NULL;      /* nor the DTLS settings (read once, in dtls_open) */
    s->cb = cb;
    s->user = user;
    s->tx_cap = server ? TX_RING_SERVER : TX_RING_CLIENT;
    s->gso = cfg->gso;
    s->heap_cap = server ? cfg->max_clients : 1;
    s->tx = malloc((size_t)s->tx_cap * sizeof *s->tx);
    s->rx = malloc(sizeof *s->rx);
    s->heap = calloc(s->heap_cap, sizeof(struct entry *));
    s->touched_cap = server ? BATCH : 1;
    s->touched = calloc(s->touched_cap, sizeof(struct entry *));
    int rc = (!s->tx || !s->rx || !s->heap || !s->touched) ? RUDP_ENOMEM : 0;
#ifdef __linux__
    s->txm = malloc(sizeof *s->txm);
    if (!s->txm)
        rc = RUDP_ENOMEM;
#endif
    if (!rc && server) {
        uint32_t size = 16;
        while (size < 2 * cfg->max_clients)
            size *= 2; /* load factor <= 1/2: short probe sequences */
        s->mask = size - 1;
        s->slots = calloc(size, sizeof(struct entry *));
        if (!s->slots)
            rc = RUDP_ENOMEM;
        uint8_t key[RUDP_COOKIE_KEY_SIZE];
        if (!rc)
            rc = rudp_random_bytes(key, sizeof key);
        if (!rc)
            rc = rudp_random_bytes(&s->hash_key, sizeof s->hash_key);
        if (!rc)
            rudp_listener_init(&s->listener, key, 0);
        if (!rc && cfg->handshake_rate)
            rc = rate_open(s, cfg);
    }
    if (!rc && cfg->impair_on) {
        s->seed = cfg->seed;
        while (!rc && s->seed == 0)
            rc = rudp_random_bytes(&s->seed, sizeof s->seed);
        rudp_impair_t imp = cfg->impair;
        s->corrupt = imp.corrupt;
        imp.corrupt = 0.0; /* drawn here instead: see the top of this file */
        if (!rc && !(s->corrupt >= 0.0 && s->corrupt <= 1.0))
            rc = RUDP_EINVAL;
        if (!rc)
            rc = rudp_sim_link_new(&s->link, &imp, s->seed,
                                   server ? LINK_CAP_SERVER : LINK_CAP_CLIENT);
        rudp_prng_seed(&s->corrupt_rng, s->seed ^ 0x9e3779b97f4a7c15ull);
    }
    if (!rc && cfg->pcap_path)
        rc = rudp_pcap_open(&s->pcap, cfg->pcap_path);
#ifdef RUDP_HAVE_DTLS
    if (!rc && cfg->dtls)
        rc = dtls_open(s, cfg);
#endif
    if (rc) {
        int e = errno;
        rudp_sock_free(s);
        errno = e;
        return rc;
    }
    *out = s;
    return 0;
}

/* Records the socket's own address and, for a wildcard server with pcap, asks for each
 * datagram's destination address. */
static void learn_local(rudp_sock_t *s)
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

int rudp_sock_client(rudp_sock_t **out, const char *host, const char *port,
                     const rudp_sock_config_t *cfg, rudp_sock_cb cb, void *user)
{
    if (!out || !host || !port)
        return RUDP_EINVAL;
    *out = NULL;
    rudp_sock_config_t dflt;
    if (!cfg) {
        rudp_sock_config_default(&dflt);
        cfg = &dflt;
    }
    int rc = config_check(cfg, 0);
    if (rc)
        return rc;
    struct addrinfo hints = { .ai_family = cfg->family,
                              .ai_socktype = SOCK_DGRAM,
                              .ai_protocol = IPPROTO_UDP };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return RUDP_EADDR;
    rudp_sock_t *s;
    rc = sock_new(&s, 0, cfg, cb, user);
    if (rc) {
        freeaddrinfo(res);
        return rc;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = open_socket(ai->ai_family);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            s->fd = fd;
            addr_set(&s->peer, ai->ai_addr, ai->ai_addrlen);
            gso_check(s);
            break;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (s->fd < 0) {
        rudp_sock_free(s);
        errno = err;
        return RUDP_ESYS;
    }
    learn_local(s);

    uint64_t cid;
    uint32_t isn;
    struct entry *e = calloc(1, sizeof *e);
    rc = e ? 0 : RUDP_ENOMEM;
    if (!rc)
        rc = rudp_random_bytes(&cid, sizeof cid);
    if (!rc)
        rc = rudp_random_bytes(&isn, sizeof isn);
    uint64_t now = clock_us();
    if (!rc)
        rc = rudp_conn_new_client(&e->conn, &s->cfg.conn, cid, isn, now);
    if (rc) {
        free(e);
        rudp_sock_free(s);
        return rc;
    }
    e->cid = cid;
    e->heap_i = NO_HEAP;
    e->deadline = UINT64_MAX;
    e->peer = s->peer;
    e->local = s->local;
    s->client = e;
    s->st.active = 1;
#ifdef RUDP_HAVE_DTLS
    if (s->dtls) {
        e->held = 1; /* until the DTLS handshake is done: see "DTLS" */
        rc = rudp_dtls_connect(s->dtls, &s->peer.u.sa, s->peer.len, host, now);
        if (rc) {
            rudp_sock_free(s);
            return rc;
        }
    }
#endif
    push_now(s, e); /* the INITIAL (or the ClientHello) leaves now */
    *out = s;
    return 0;
}

static int bind_one(rudp_sock_t *s, const struct sockaddr *sa, socklen_t len, int v6only)
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

int rudp_sock_server(rudp_sock_t **out, const char *host, const char *port,
                     const rudp_sock_config_t *cfg, rudp_sock_cb cb, void *user)
{
    if (!out || !port)
        return RUDP_EINVAL;
    *out = NULL;
    rudp_sock_config_t dflt;
    if (!cfg) {
        rudp_sock_config_default(&dflt);
        cfg = &dflt;
    }
    int rc = config_check(cfg, 1);
    if (rc)
        return rc;
    struct addrinfo hints = { .ai_family = cfg->family,
                              .ai_socktype = SOCK_DGRAM,
                              .ai_protocol = IPPROTO_UDP,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    if (!host) {
        /* Every address: IPv6 "::" taking IPv4 too where the system allows, else
         * 0.0.0.0. Resolved here only to parse the port (numbers or service names). */
        hints.ai_family = cfg->family == AF_INET ? AF_INET : AF_INET6;
        hints.ai_flags |= AI_NUMERICHOST;
        if (getaddrinfo(hints.ai_family == AF_INET ? "0.0.0.0" : "::", port, &hints, &res) != 0 &&
            cfg->family == AF_UNSPEC) {
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
    rudp_sock_t *s;
    rc = sock_new(&s, 1, cfg, cb, user);
    if (rc) {
        freeaddrinfo(res);
        return rc;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai && s->fd < 0; ai = ai->ai_next) {
        int v6only = -1;
        if (!host && ai->ai_family == AF_INET6)
            v6only = cfg->family == AF_INET6;
        if (bind_one(s, ai->ai_addr, ai->ai_addrlen, v6only) != 0)
            err = errno;
    }
    freeaddrinfo(res);
    if (s->fd < 0 && !host && cfg->family == AF_UNSPEC) {
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
        rudp_sock_free(s);
        errno = err;
        return RUDP_ESYS;
    }
    learn_local(s);
    *out = s;
    return 0;
}
