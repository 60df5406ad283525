/* The socket driver over IPv6 loopback (::1), and an IPv4 client reaching a dual-stack
 * server. Exits 77 (skip) when the system has no IPv6 loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "rudp/error.h"

static int have_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void exchange(const char *server_host, const char *client_host, uint32_t names)
{
    char path[] = "/tmp/hola-sock6-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    rudp_sock_config_t ccfg;
    rudp_sock_config_default(&ccfg);
    ccfg.pcap_path = path;
    h_server_t *srv = calloc(1, sizeof *srv);
    assert_non_null(srv);
    assert_int_equal(h_server_open(srv, server_host, NULL), 0);
    h_client_t cl;
    memset(&cl, 0, sizeof cl);
    assert_int_equal(
        h_client_open(&cl, 0, names, client_host, rudp_sock_local_port(srv->sock), &ccfg), 0);
    assert_int_equal(h_run(srv, &cl, 1, 10000, NULL, NULL), 0);
    assert_int_equal(cl.error, 0);
    assert_false(cl.bad);
    assert_int_equal(cl.got, names);
    assert_int_equal(srv->names, names);
    rudp_sock_free(cl.sock);
    rudp_sock_free(srv->sock);
    free(srv);

    /* The capture holds IPv6 packets (version nibble 6) for an IPv6 client. */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t gh[24], pkt[2048];
    uint32_t rec[4], n = 0;
    assert_int_equal(fread(gh, 1, sizeof gh, f), sizeof gh);
    int want = strchr(client_host, ':') ? 6 : 4;
    while (fread(rec, 1, sizeof rec, f) == sizeof rec && rec[2] <= sizeof pkt) {
        assert_int_equal(fread(pkt, 1, rec[2], f), rec[2]);
        assert_int_equal(pkt[0] >> 4, want);
        n++;
    }
    fclose(f);
    unlink(path);
    assert_true(n > 2 * names);
}

static void test_ipv6_loopback(void **state)
{
    (void)state;
    exchange("::1", "::1", 50);
}

static void test_dual_stack_ipv4_client(void **state)
{
    (void)state;
    exchange(NULL, "127.0.0.1", 50); /* "::" with IPV6_V6ONLY=0 takes IPv4 too */
}

static void test_dual_stack_ipv6_client(void **state)
{
    (void)state;
    exchange(NULL, "::1", 50);
}

int main(void)
{
    if (!have_ipv6_loopback()) {
        printf("no IPv6 loopback here: skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv6_loopback),
        cmocka_unit_test(test_dual_stack_ipv4_client),
        cmocka_unit_test(test_dual_stack_ipv6_client),
    };
    return cmocka_run_group_tests_name("sock ipv6", tests, NULL, NULL);
}
