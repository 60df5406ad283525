/* A DTLS server's sessions per source host (rudp/dtls.h, max_per_source): clients and a
 * server exchange their records in memory, each client from its own address. A host
 * (IPv4 /32, IPv6 /64) gets at most max_per_source sessions; its next validated
 * ClientHello is refused (refused_source; the client hears why from an alert) while
 * other hosts still get theirs. The sessions as a whole stay under max_sessions
 * (refused_full), a session that ends gives its host's place back, and one the
 * application has released (lingering) holds no place and makes room in a full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "rudp/dtls.h"

#define CLIENTS 12
#define QUEUE 256
#define DGRAM_CAP 4096

struct peer {
    struct sockaddr_storage addr;
    socklen_t len;
    rudp_dtls_t *d;
};

struct dgram {
    int to_server; /* else to clients[client] */
    int client;
    size_t n;
    uint8_t b[DGRAM_CAP];
};

static struct peer clients[CLIENTS], server4, server6;
static int nclients;
static rudp_dtls_t *srv;
static struct dgram queue[QUEUE];
static unsigned qhead, qtail;
static uint64_t now = 1000000;

static const uint8_t psk[RUDP_DTLS_PSK_MIN] = "0123456789abcdef";

static void set_addr(struct peer *p, const char *ip, uint16_t port)
{
    memset(&p->addr, 0, sizeof p->addr);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&p->addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
        p->len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&p->addr;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
        p->len = sizeof *a;
    }
}

static void push(int to_server, int client, const uint8_t *d, size_t n)
{
    assert_true(n <= DGRAM_CAP);
    assert_true(qtail - qhead < QUEUE);
    struct dgram *g = &queue[qtail++ % QUEUE];
    g->to_server = to_server;
    g->client = client;
    g->n = n;
    memcpy(g->b, d, n);
}

/* A client's record goes to the server. */
static void client_out(void *user, const struct sockaddr *to, socklen_t tolen,
                       const struct sockaddr *from, socklen_t fromlen, const uint8_t *d, size_t n)
{
    (void)to, (void)tolen, (void)from, (void)fromlen;
    push(1, (int)((struct peer *)user - clients), d, n);
}

/* The server's record goes to the client with that address. */
static void server_out(void *user, const struct sockaddr *to, socklen_t tolen,
                       const struct sockaddr *from, socklen_t fromlen, const uint8_t *d, size_t n)
{
    (void)user, (void)from, (void)fromlen;
    for (int i = 0; i < nclients; i++)
        if (clients[i].len == tolen && memcmp(&clients[i].addr, to, tolen) == 0) {
            push(0, i, d, n);
            return;
        }
    fail_msg("the server wrote to an address no client has");
}

static void in_hook(void *user, const struct sockaddr *peer, socklen_t peerlen,
                    const struct sockaddr *local, socklen_t locallen, const uint8_t *d, size_t n)
{
    (void)user, (void)peer, (void)peerlen, (void)local, (void)locallen, (void)d, (void)n;
}

static const struct peer *server_for(const struct peer *c)
{
    return c->addr.ss_family == AF_INET6 ? &server6 : &server4;
}

/* Moves every record to its destination until none is left (bounded). */
static void pump(void)
{
    for (int steps = 0; qhead != qtail; steps++) {
        assert_true(steps < 10000);
        struct dgram *g = &queue[qhead++ % QUEUE];
        struct peer *c = &clients[g->client];
        const struct peer *s = server_for(c);
        now += 100;
        if (g->to_server)
            rudp_dtls_input(srv, g->b, g->n, (struct sockaddr *)&c->addr, c->len,
                            (const struct sockaddr *)&s->addr, s->len, now);
        else
            rudp_dtls_input(c->d, g->b, g->n, (const struct sockaddr *)&s->addr, s->len, NULL, 0,
                            now);
    }
}

static void server_new(uint32_t max_sessions, uint32_t max_per_source)
{
    rudp_dtls_config_t cfg = { .psk = psk,
                               .psk_len = sizeof psk,
                               .max_per_source = max_per_source };
    rudp_dtls_hooks_t h = { .out = server_out, .in = in_hook };
    char err[256];
    assert_int_equal(rudp_dtls_new(&srv, 1, &cfg, max_sessions, 0, 0, &h, err, sizeof err), 0);
    set_addr(&server4, "198.18.0.100", 4433);
    set_addr(&server6, "2001:db8:ffff::100", 4433);
}

/* A client from ip:port runs its handshake to the end; returns whether it is up. */
static int connect_from(const char *ip, uint16_t port)
{
    assert_true(nclients < CLIENTS);
    struct peer *c = &clients[nclients++];
    set_addr(c, ip, port);
    rudp_dtls_config_t cfg = { .psk = psk, .psk_len = sizeof psk };
    rudp_dtls_hooks_t h = { .out = client_out, .in = in_hook, .user = c };
    char err[256];
    assert_int_equal(rudp_dtls_new(&c->d, 0, &cfg, 1, 0, 0, &h, err, sizeof err), 0);
    const struct peer *s = server_for(c);
    assert_int_equal(rudp_dtls_connect(c->d, (const struct sockaddr *)&s->addr, s->len, NULL, now),
                     0);
    pump();
    int up = rudp_dtls_established(c->d, (const struct sockaddr *)&s->addr, s->len);
    /* The server agrees. */
    assert_int_equal(rudp_dtls_established(srv, (struct sockaddr *)&c->addr, c->len), up);
    /* A refused client has heard why at once (an alert), not silence. */
    if (!up) {
        const char *why = rudp_dtls_error(c->d);
        assert_non_null(why);
        assert_non_null(strstr(why, "no room for another DTLS session"));
    }
    return up;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < nclients; i++)
        rudp_dtls_free(clients[i].d);
    rudp_dtls_free(srv);
    srv = NULL;
    nclients = 0;
    qhead = qtail = 0;
    return 0;
}

static rudp_dtls_stats_t server_stats(void)
{
    rudp_dtls_stats_t st;
    rudp_dtls_stats(srv, &st);
    return st;
}

static void test_a_host_holds_at_most_max_per_source(void **state)
{
    (void)state;
    server_new(16, 2);
    static const struct {
        const char *ip;
        uint16_t port;
        int up;
    } cases[] = {
        { "198.18.0.1", 1001, 1 },        /* a host's first */
        { "198.18.0.1", 1002, 1 },        /* and second */
        { "198.18.0.1", 1003, 0 },        /* its third: refused */
        { "198.18.0.2", 1001, 1 },        /* another host */
        { "2001:db8::1", 1001, 1 },       /* IPv6: the /64 is the host */
        { "2001:db8::2", 1001, 1 },       /* the same /64 */
        { "2001:db8::3", 1001, 0 },       /* the /64's third */
        { "2001:db8:0:1::1", 1001, 1 },   /* another /64 */
        { "::ffff:198.18.0.1", 1004, 0 }, /* IPv4-mapped: the same IPv4 host */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("%s port %u: %s\n", cases[i].ip, cases[i].port,
                      cases[i].up ? "up" : "refused");
        assert_int_equal(connect_from(cases[i].ip, cases[i].port), cases[i].up);
    }
    rudp_dtls_stats_t st = server_stats();
    assert_int_equal(st.sessions, 6);
    assert_int_equal(st.refused_source, 3);
    assert_int_equal(st.refused_full, 0);
}

static void test_full_and_per_source_are_told_apart(void **state)
{
    (void)state;
    server_new(3, 2);
    assert_true(connect_from("198.18.0.1", 1001));
    assert_true(connect_from("198.18.0.1", 1002));
    assert_false(connect_from("198.18.0.1", 1003)); /* its host's cap */
    assert_true(connect_from("198.18.0.2", 1001));
    assert_false(connect_from("198.18.0.3", 1001)); /* the server's cap */
    rudp_dtls_stats_t st = server_stats();
    assert_int_equal(st.sessions, 3);
    assert_int_equal(st.refused_source, 1);
    assert_int_equal(st.refused_full, 1);
}

/* Without max_per_source a host may hold an eighth of max_sessions (at least one). */
static void test_default_is_an_eighth(void **state)
{
    (void)state;
    server_new(16, 0);
    assert_true(connect_from("198.18.0.1", 1001));
    assert_true(connect_from("198.18.0.1", 1002));
    assert_false(connect_from("198.18.0.1", 1003));
    assert_int_equal(server_stats().refused_source, 1);
}

static void test_an_ended_session_gives_its_place_back(void **state)
{
    (void)state;
    server_new(16, 1);
    assert_true(connect_from("198.18.0.1", 1001));
    assert_false(connect_from("198.18.0.1", 1002));
    rudp_dtls_close(srv, (struct sockaddr *)&clients[0].addr, clients[0].len);
    pump();
    assert_int_equal(server_stats().sessions, 0);
    assert_true(connect_from("198.18.0.1", 1003));
    assert_int_equal(server_stats().refused_source, 1);
}

/* A released session lingers (to answer the peer's last retransmissions) but no longer
 * holds its host's place. */
static void test_a_released_session_lingers_outside_the_cap(void **state)
{
    (void)state;
    server_new(16, 1);
    assert_true(connect_from("198.18.0.1", 1001));
    rudp_dtls_release(srv, (struct sockaddr *)&clients[0].addr, clients[0].len, now);
    assert_true(connect_from("198.18.0.1", 1002));
    rudp_dtls_stats_t st = server_stats();
    assert_int_equal(st.sessions, 2); /* the first still lingers */
    assert_int_equal(st.refused_source, 0);
}

/* A full table closes its lingering session to let a new peer in: sessions on their way
 * out cannot keep anyone out. */
static void test_a_full_table_ends_a_lingering_session(void **state)
{
    (void)state;
    server_new(2, 2);
    assert_true(connect_from("198.18.0.1", 1001));
    assert_true(connect_from("198.18.0.2", 1001));
    assert_false(connect_from("198.18.0.3", 1001)); /* full, nothing lingers */
    rudp_dtls_release(srv, (struct sockaddr *)&clients[0].addr, clients[0].len, now);
    assert_true(connect_from("198.18.0.3", 1002));
    rudp_dtls_stats_t st = server_stats();
    assert_int_equal(st.sessions, 2);
    assert_int_equal(st.refused_full, 1);
    /* The first client heard close_notify. */
    const struct peer *s = server_for(&clients[0]);
    assert_false(rudp_dtls_established(clients[0].d, (const struct sockaddr *)&s->addr, s->len));
    assert_true(rudp_dtls_established(clients[1].d, (const struct sockaddr *)&s->addr, s->len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_host_holds_at_most_max_per_source, teardown),
        cmocka_unit_test_teardown(test_full_and_per_source_are_told_apart, teardown),
        cmocka_unit_test_teardown(test_default_is_an_eighth, teardown),
        cmocka_unit_test_teardown(test_an_ended_session_gives_its_place_back, teardown),
        cmocka_unit_test_teardown(test_a_released_session_lingers_outside_the_cap, teardown),
        cmocka_unit_test_teardown(test_a_full_table_ends_a_lingering_session, teardown),
    };
    return cmocka_run_group_tests_name("dtls sessions per source", tests, NULL, NULL);
}
