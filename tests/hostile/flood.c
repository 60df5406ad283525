/* The hostile sender (see flood.h). Every datagram it builds is made with the library's
 * own encoder, so "valid format" means valid to the decoder; the mix is seeded, so a run
 * can be repeated. */
#include "flood.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const kind_names[FLOOD_KINDS] = {
    "random",    "truncated", "oversized",     "huge",          "checksum", "replay",
    "wrong_cid", "real_cid",  "forged_cookie", "stolen_cookie", "initial",  "reset",
};

const char *flood_kind_name(int kind)
{
    return kind >= 0 && kind < FLOOD_KINDS ? kind_names[kind] : "?";
}

int flood_open(flood_t *f, int port, int n_src, int first_host, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    if (n_src < 1 || n_src > FLOOD_MAX_SRC)
        return -1;
    f->target.sin_family = AF_INET;
    f->target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->target.sin_port = htons((uint16_t)port);
    rudp_prng_seed(&f->rng, seed);
    for (int i = 0; i < n_src; i++) {
        flood_src_t *s = &f->src[i];
        s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0)
            goto fail;
        f->n_src = i + 1;
        int sz = 1 << 20;
        (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        s->addr.sin_family = AF_INET;
        s->addr.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)(first_host + i));
        socklen_t len = sizeof s->addr;
        if (bind(s->fd, (struct sockaddr *)&s->addr, sizeof s->addr) != 0 ||
            getsockname(s->fd, (struct sockaddr *)&s->addr, &len) != 0)
            goto fail;
    }
    return 0;
fail:
    flood_close(f);
    return -1;
}

void flood_close(flood_t *f)
{
    for (int i = 0; i < f->n_src; i++)
        if (f->src[i].fd >= 0)
            close(f->src[i].fd);
    f->n_src = 0;
}

void flood_capture(flood_t *f, const uint8_t *d, size_t len)
{
    if (len == 0 || len > RUDP_MAX_DATAGRAM)
        return;
    uint32_t i = f->pool_next;
    memcpy(f->pool[i], d, len);
    f->pool_len[i] = (uint16_t)len;
    f->pool_next = (i + 1) % FLOOD_POOL;
    if (f->pool_n < FLOOD_POOL)
        f->pool_n++;
}

static uint64_t rnd(flood_t *f, uint64_t n)
{
    return rudp_prng_below(&f->rng, n);
}

static void fill(flood_t *f, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rudp_prng_next(&f->rng);
}

static uint64_t random_cid(flood_t *f)
{
    uint64_t c = rudp_prng_next(&f->rng);
    return c ? c : 1;
}

/* A valid datagram of the given type (DATA, ACK or FIN when type is 0). */
static int valid(flood_t *f, uint8_t *buf, size_t cap, uint64_t cid, unsigned type)
{
    static const unsigned types[] = { RUDP_T_DATA, RUDP_T_ACK, RUDP_T_FIN };
    uint8_t payload[64], sack[8];
    fill(f, payload, sizeof payload);
    fill(f, sack, sizeof sack);
    rudp_hdr_t h = {
        .type = (uint8_t)(type ? type : types[rnd(f, 3)]),
        .flags = RUDP_F_ACK,
        .cid = cid,
        .seq = (uint32_t)rudp_prng_next(&f->rng),
        .ack = (uint32_t)rudp_prng_next(&f->rng),
        .ts = (uint32_t)rudp_prng_next(&f->rng),
        .rwnd = 64,
    };
    if (h.type == RUDP_T_DATA) {
        h.payload = payload;
        h.payload_len = (uint16_t)(1 + rnd(f, sizeof payload));
        if (rnd(f, 2)) {
            h.sack = sack;
            h.sack_len = (uint8_t)(1 + rnd(f, sizeof sack));
        }
    } else if (h.type == RUDP_T_RESET) {
        h.flags = 0;
        h.payload = payload;
        h.payload_len = 1;
        payload[0] = RUDP_RESET_UNKNOWN;
    }
    return rudp_wire_encode(&h, buf, cap);
}

static int initial(flood_t *f, uint8_t *buf, size_t cap, uint64_t cid, const uint8_t *cookie)
{
    rudp_hdr_t h = {
        .type = RUDP_T_INITIAL,
        .cid = cid,
        .seq = (uint32_t)rudp_prng_next(&f->rng),
        .ts = (uint32_t)rudp_prng_next(&f->rng),
        .rwnd = 64,
        .payload = cookie,
        .payload_len = cookie ? RUDP_COOKIE_SIZE : 0,
    };
    return rudp_wire_encode(&h, buf, cap);
}

/* Builds one datagram of kind k into buf (8000 bytes); returns its length. */
static size_t build(flood_t *f, flood_kind_t k, uint8_t *buf)
{
    int n;
    uint8_t cookie[RUDP_COOKIE_SIZE];
    switch (k) {
    case FLOOD_RANDOM:
        n = (int)rnd(f, 1501);
        fill(f, buf, (size_t)n);
        if (n > 1 && rnd(f, 2))
            buf[0] = RUDP_VERSION; /* past the version check, to the deeper ones */
        return (size_t)n;
    case FLOOD_TRUNCATED:
        n = valid(f, buf, RUDP_MAX_DATAGRAM, random_cid(f), 0);
        return n > 1 ? (size_t)rnd(f, (uint64_t)n) : 0;
    case FLOOD_OVERSIZED:
        n = (int)(RUDP_MAX_DATAGRAM + 1 + rnd(f, 2048 - RUDP_MAX_DATAGRAM));
        fill(f, buf, (size_t)n);
        return (size_t)n;
    case FLOOD_HUGE:
        n = (int)(2049 + rnd(f, 8000 - 2049));
        fill(f, buf, (size_t)n);
        return (size_t)n;
    case FLOOD_CHECKSUM:
        n = valid(f, buf, RUDP_MAX_DATAGRAM, random_cid(f), 0);
        if (n <= 0)
            return 0;
        /* Past the length fields (bytes 3 and 34..35), so only the CRC catches it. */
        buf[4 + rnd(f, 8)] ^= (uint8_t)(1u << rnd(f, 8));
        return (size_t)n;
    case FLOOD_REPLAY:
        if (f->pool_n == 0)
            return build(f, FLOOD_WRONG_CID, buf);
        {
            uint32_t slot =
                (f->pool_next + FLOOD_POOL - f->pool_n + (uint32_t)rnd(f, f->pool_n)) % FLOOD_POOL;
            n = f->pool_len[slot];
            memcpy(buf, f->pool[slot], (size_t)n);
        }
        return (size_t)n;
    case FLOOD_WRONG_CID:
        n = valid(f, buf, RUDP_MAX_DATAGRAM, random_cid(f), 0);
        return n > 0 ? (size_t)n : 0;
    case FLOOD_REAL_CID:
        n = valid(f, buf, RUDP_MAX_DATAGRAM, f->real_cid ? f->real_cid : random_cid(f),
                  RUDP_T_DATA);
        return n > 0 ? (size_t)n : 0;
    case FLOOD_FORGED_COOKIE:
        fill(f, cookie, sizeof cookie);
        n = initial(f, buf, RUDP_MAX_DATAGRAM, random_cid(f), cookie);
        return n > 0 ? (size_t)n : 0;
    case FLOOD_STOLEN_COOKIE:
        if (!f->have_cookie)
            return build(f, FLOOD_INITIAL, buf);
        n = initial(f, buf, RUDP_MAX_DATAGRAM, f->cookie_cid, f->cookie);
        return n > 0 ? (size_t)n : 0;
    case FLOOD_INITIAL:
        n = initial(f, buf, RUDP_MAX_DATAGRAM, random_cid(f), NULL);
        return n > 0 ? (size_t)n : 0;
    case FLOOD_RESET:
        n = valid(f, buf, RUDP_MAX_DATAGRAM, random_cid(f), RUDP_T_RESET);
        return n > 0 ? (size_t)n : 0;
    case FLOOD_KINDS:
        break;
    }
    return 0;
}

uint32_t flood_send(flood_t *f, uint32_t n)
{
    static uint8_t buf[8000];
    uint32_t ok = 0;
    for (uint32_t i = 0; i < n; i++) {
        flood_kind_t k = (flood_kind_t)rnd(f, FLOOD_KINDS);
        size_t len = build(f, k, buf);
        int which = (int)(f->total % (uint64_t)f->n_src);
        /* A stolen cookie goes out from a source other than the one it was made for
         * (from its own, it would be a real handshake). */
        if (k == FLOOD_STOLEN_COOKIE && f->have_cookie && which == f->cookie_src) {
            if (f->n_src < 2)
                continue;
            which = (which + 1) % f->n_src;
        }
        flood_src_t *s = &f->src[which];
        ssize_t r = sendto(s->fd, buf, len, 0, (struct sockaddr *)&f->target, sizeof f->target);
        if (r < 0)
            continue; /* EAGAIN: the kernel is full; not counted as sent */
        s->sent++;
        s->sent_bytes += len;
        f->by_kind[k]++;
        f->total++;
        ok++;
    }
    return ok;
}

void flood_drain(flood_t *f)
{
    uint8_t buf[2048];
    for (int i = 0; i < f->n_src; i++) {
        flood_src_t *s = &f->src[i];
        for (;;) {
            ssize_t r = recv(s->fd, buf, sizeof buf, 0);
            if (r < 0)
                break;
            s->got++;
            s->got_bytes += (uint64_t)r;
            rudp_hdr_t h;
            if (rudp_wire_decode(&h, buf, (size_t)r) == 0 && h.type == RUDP_T_RETRY &&
                h.payload_len == RUDP_COOKIE_SIZE) {
                memcpy(f->cookie, h.payload, RUDP_COOKIE_SIZE);
                f->cookie_cid = h.cid;
                f->cookie_src = i;
                f->have_cookie = 1;
            }
        }
    }
}

double flood_worst_ratio(const flood_t *f, int *which)
{
    double worst = 0;
    int w = 0;
    for (int i = 0; i < f->n_src; i++) {
        const flood_src_t *s = &f->src[i];
        double r = s->sent_bytes ? (double)s->got_bytes / (double)s->sent_bytes : 0;
        if (r > worst) {
            worst = r;
            w = i;
        }
    }
    if (which)
        *which = w;
    return worst;
}
