/* The library's bounds on a pre-shared key (rudp/dtls.h): under RUDP_DTLS_PSK_MIN bytes
 * (a key an attacker who saw one handshake could search offline) or over
 * RUDP_DTLS_PSK_MAX, rudp_dtls_new() and rudp_sock_new_client() refuse it with
 * RUDP_EINVAL and say the bounds; the bounds themselves are accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rudp/dtls.h"
#include "rudp/error.h"
#include "rudp/sock.h"

static void out_hook(void *user, const struct sockaddr *to, socklen_t tolen,
                     const struct sockaddr *from, socklen_t fromlen, const uint8_t *d, size_t n)
{
    (void)user, (void)to, (void)tolen, (void)from, (void)fromlen, (void)d, (void)n;
}

static void in_hook(void *user, const struct sockaddr *peer, socklen_t peerlen,
                    const struct sockaddr *local, socklen_t locallen, const uint8_t *d, size_t n)
{
    (void)user, (void)peer, (void)peerlen, (void)local, (void)locallen, (void)d, (void)n;
}

/* rudp_dtls_new() with a key of len bytes, as server and as client; returns the
 * client's result (both must agree) and leaves the message in err. */
static int dtls_with_key(size_t len, char *err, size_t cap)
{
    uint8_t key[RUDP_DTLS_PSK_MAX + 1];
    memset(key, 0x5a, sizeof key);
    rudp_dtls_config_t cfg = { .psk = key, .psk_len = len };
    rudp_dtls_hooks_t hooks = { .out = out_hook, .in = in_hook };
    int rc[2];
    for (int server = 0; server < 2; server++) {
        rudp_dtls_t *d = NULL;
        rc[server] = rudp_dtls_new(&d, server, &cfg, 4, 0, 0, &hooks, err, cap);
        assert_true(rc[server] == 0 ? d != NULL : d == NULL);
        rudp_dtls_free(d);
    }
    assert_int_equal(rc[0], rc[1]);
    return rc[0];
}

static void test_short_and_long_keys_refused(void **state)
{
    (void)state;
    char err[256];
    size_t bad[] = { 1, 8, RUDP_DTLS_PSK_MIN - 1, RUDP_DTLS_PSK_MAX + 1 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(dtls_with_key(bad[i], err, sizeof err), RUDP_EINVAL);
        assert_non_null(strstr(err, "16 to 64 bytes"));
    }
}

static void test_bounds_accepted(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(dtls_with_key(RUDP_DTLS_PSK_MIN, err, sizeof err), 0);
    assert_int_equal(dtls_with_key(RUDP_DTLS_PSK_MAX, err, sizeof err), 0);
}

/* The socket driver passes the configuration through: a short key fails the client
 * before anything is sent. */
static void test_sock_client_short_key(void **state)
{
    (void)state;
    uint8_t key[RUDP_DTLS_PSK_MIN - 1];
    memset(key, 0x5a, sizeof key);
    char err[256] = "";
    rudp_sock_dtls_t dtls = {
        .psk = key, .psk_len = sizeof key, .error = err, .error_cap = sizeof err
    };
    rudp_sock_config_t cfg;
    rudp_sock_config_default(&cfg);
    cfg.dtls = &dtls;
    rudp_sock_t *s = NULL;
    assert_int_equal(rudp_sock_new_client(&s, "127.0.0.1", "9", &cfg), RUDP_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "16 to 64 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_and_long_keys_refused),
        cmocka_unit_test(test_bounds_accepted),
        cmocka_unit_test(test_sock_client_short_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
