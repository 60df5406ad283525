/* test_common.c: the small shared modules: option values (protocol, port, numbers),
 * address formatting, the --stats JSON line and the client's reply book (latency,
 * duplicates, completion time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "names.h"
#include "netopts.h"
#include "opts.h"
#include "replies.h"
#include "stats.h"
#include "trace.h"

static void test_proto(void **state)
{
    enum hola_proto p;
    struct hola_err e;
    (void)state;

    assert_int_equal(hola_opts_proto("tcp", &p, &e), 0);
    assert_int_equal(p, HOLA_PROTO_TCP);
    assert_int_equal(hola_opts_proto("udp", &p, &e), 0);
    assert_int_equal(p, HOLA_PROTO_UDP);
    assert_string_equal(hola_opts_proto_name(HOLA_PROTO_UDP), "udp");

    assert_int_equal(hola_opts_proto("rudp", &p, &e), 0);
    assert_int_equal(p, HOLA_PROTO_RUDP);
    assert_string_equal(hola_opts_proto_name(HOLA_PROTO_RUDP), "rudp");
    assert_int_equal(hola_opts_proto("TCP", &p, &e), -1);
    assert_non_null(strstr(e.msg, "unknown protocol"));
    assert_int_equal(hola_opts_proto("", &p, &e), -1);
}

static void test_port(void **state)
{
    uint16_t port;
    struct hola_err e;
    (void)state;

    assert_int_equal(hola_opts_port("7000", false, &port, &e), 0);
    assert_int_equal(port, 7000);
    assert_int_equal(hola_opts_port("65535", false, &port, &e), 0);
    assert_int_equal(hola_opts_port("0", true, &port, &e), 0);
    assert_int_equal(port, 0);
    assert_int_equal(hola_opts_port("0", false, &port, &e), -1);
    assert_int_equal(hola_opts_port("65536", true, &port, &e), -1);
    assert_int_equal(hola_opts_port("-1", true, &port, &e), -1);
    assert_int_equal(hola_opts_port(" 80", true, &port, &e), -1);
    assert_int_equal(hola_opts_port("80x", true, &port, &e), -1);
    assert_int_equal(hola_opts_port("", true, &port, &e), -1);
    assert_int_equal(hola_opts_port("99999999999999999999999", true, &port, &e), -1);
    assert_non_null(strstr(e.msg, "out of range"));
}

static void test_addr_format(void **state)
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    char out[HOLA_ADDR_STRLEN];
    (void)state;

    memset(&in4, 0, sizeof in4);
    in4.sin_family = AF_INET;
    in4.sin_port = htons(7000);
    inet_pton(AF_INET, "127.0.0.1", &in4.sin_addr);
    hola_addr_format((struct sockaddr *)&in4, sizeof in4, out, sizeof out);
    assert_string_equal(out, "127.0.0.1:7000");
    assert_int_equal(hola_addr_port((struct sockaddr *)&in4), 7000);

    memset(&in6, 0, sizeof in6);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(65535);
    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    hola_addr_format((struct sockaddr *)&in6, sizeof in6, out, sizeof out);
    assert_string_equal(out, "[::1]:65535");

    /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; show them as IPv4. */
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6.sin6_addr);
    hola_addr_format((struct sockaddr *)&in6, sizeof in6, out, sizeof out);
    assert_string_equal(out, "192.0.2.7:65535");
}

static void test_addr_resolve(void **state)
{
    struct addrinfo *ai;
    struct hola_err e;
    char out[HOLA_ADDR_STRLEN];
    (void)state;

    assert_int_equal(hola_addr_resolve("127.0.0.1", 9, SOCK_DGRAM, 0, &ai, &e), 0);
    hola_addr_format(ai->ai_addr, ai->ai_addrlen, out, sizeof out);
    assert_string_equal(out, "127.0.0.1:9");
    freeaddrinfo(ai);
    assert_int_equal(hola_addr_resolve("::1", 9, SOCK_STREAM, 0, &ai, &e), 0);
    hola_addr_format(ai->ai_addr, ai->ai_addrlen, out, sizeof out);
    assert_string_equal(out, "[::1]:9");
    freeaddrinfo(ai);
    assert_int_equal(hola_addr_resolve("not an address", 9, SOCK_STREAM, 0, &ai, &e), -1);
    assert_non_null(strstr(e.msg, "cannot resolve not an address"));
}

static void test_stats(void **state)
{
    struct hola_stats st;
    char out[256];
    (void)state;

    hola_stats_start(&st, "udp", "client");
    st.start_us = 1000;
    st.sent = 4;
    st.received = 3;
    st.lost = 1;
    hola_stats_format(&st, 1000 + 12345, out, sizeof out);
    assert_string_equal(out, "{\"proto\":\"udp\",\"role\":\"client\",\"sent\":4,"
                             "\"received\":3,\"lost\":1,\"elapsed_ms\":12.345}");
    hola_stats_start(&st, "tcp", "server");
    st.start_us = 0;
    st.clients = 2;
    hola_stats_format(&st, 5000000, out, sizeof out);
    assert_string_equal(out, "{\"proto\":\"tcp\",\"role\":\"server\",\"sent\":0,"
                             "\"received\":0,\"lost\":0,\"rejected\":0,\"clients\":2,"
                             "\"elapsed_ms\":5000.000}");
}

static void test_stats_extra(void **state)
{
    struct hola_stats st;
    char out[512];
    (void)state;

    hola_stats_start(&st, "rudp", "client");
    st.start_us = 0;
    hola_stats_add(&st, "retransmits_timeout", 3);
    hola_stats_add(&st, "srtt_us", 1234);
    hola_stats_format(&st, 1500, out, sizeof out);
    assert_string_equal(out, "{\"proto\":\"rudp\",\"role\":\"client\",\"sent\":0,"
                             "\"received\":0,\"lost\":0,\"elapsed_ms\":1.500,"
                             "\"retransmits_timeout\":3,\"srtt_us\":1234}");
}

/* The completion time is the last answer's, once every name is answered, and only
 * then: a run that lost names is timed by its whole run instead. */
static void test_replies_completion(void **state)
{
    struct hola_names names = { 0 };
    struct hola_replies r;
    struct hola_stats st;
    struct hola_err e;
    char out[512];
    (void)state;

    assert_int_equal(hola_names_add(&names, "Ana", 3, &e), 0);
    assert_int_equal(hola_names_add(&names, "Luis", 4, &e), 0);
    assert_int_equal(hola_replies_init(&r, &names, &e), 0);
    hola_stats_start(&st, "tcp", "client");
    st.start_us = 1000;
    hola_replies_sent(&r, 0, 1100);
    hola_replies_sent(&r, 1, 1200);
    assert_int_equal(hola_replies_match(&r, "Hola Luis", 9, 1900), 1);
    hola_replies_add_stats(&r, &st, "out_of_order");
    assert_null(strstr(st.extra, "last_reply_us"));

    st.extra_len = 0;
    st.extra[0] = '\0';
    assert_int_equal(hola_replies_match(&r, "Hola Ana", 8, 2500), 0);
    assert_int_equal(hola_replies_match(&r, "Hola Ana", 8, 2600), -1); /* a duplicate */
    hola_replies_add_stats(&r, &st, "out_of_order");
    hola_stats_format(&st, 9000, out, sizeof out);
    assert_string_equal(out, "{\"proto\":\"tcp\",\"role\":\"client\",\"sent\":0,"
                             "\"received\":0,\"lost\":0,\"elapsed_ms\":8.000,"
                             "\"lat_p50_us\":700,\"lat_p99_us\":1400,\"dup\":1,"
                             "\"out_of_order\":1,\"last_reply_us\":1500}");
    hola_replies_free(&r);
    hola_names_free(&names);
}

/* lat_p50_us and lat_p99_us are nearest ranks over the latencies however the replies
 * came; without --stats (st.wanted false) they are not computed and read 0, while the
 * cheap counters are still filled in. */
static void test_replies_percentiles(void **state)
{
    static const unsigned lat[] = { 900, 100, 500, 300, 700, 200, 1000, 400, 800, 600 };
    struct hola_names names = { 0 };
    struct hola_replies r;
    struct hola_stats st;
    struct hola_err e;
    char text[16], reply[24];
    (void)state;

    for (size_t i = 0; i < sizeof lat / sizeof lat[0]; i++) {
        int n = snprintf(text, sizeof text, "N%zu", i);
        assert_int_equal(hola_names_add(&names, text, (size_t)n, &e), 0);
    }
    assert_int_equal(hola_replies_init(&r, &names, &e), 0);
    for (size_t i = 0; i < names.n; i++) {
        hola_replies_sent(&r, i, 1000);
        int n = snprintf(reply, sizeof reply, "Hola N%zu", i);
        assert_int_equal(hola_replies_match(&r, reply, (size_t)n, 1000 + lat[i]), (long)i);
    }
    hola_stats_start(&st, "tcp", "client");
    hola_replies_add_stats(&r, &st, "out_of_order");
    assert_non_null(strstr(st.extra, "\"lat_p50_us\":500,\"lat_p99_us\":1000,\"dup\":0"));

    hola_stats_start(&st, "tcp", "client");
    st.wanted = false;
    hola_replies_add_stats(&r, &st, "out_of_order");
    assert_non_null(strstr(st.extra, "\"lat_p50_us\":0,\"lat_p99_us\":0,\"dup\":0,"));
    assert_non_null(strstr(st.extra, "\"last_reply_us\":"));
    hola_replies_free(&r);
    hola_names_free(&names);
}

/* --coalesce opens the window to HOLA_COALESCE_WINDOW (not 1024: docs/performance.md
 * section 7) and leaves the send queue alone; --window wins, before or after it. */
static void test_coalesce_window(void **state)
{
    (void)state;
    struct hola_netopts o, plain;
    struct hola_err e;
    char w32[] = "32"; /* an argv string: the parser may overwrite a secret one */

    hola_netopts_init(&plain);
    hola_netopts_init(&o);
    assert_int_equal(hola_netopts_parse(&o, HOLA_OPT_COALESCE, NULL, &e), 0);
    assert_int_equal(o.engine.coalesce, 1);
    assert_int_equal(o.engine.window, 256);
    assert_int_equal(o.engine.send_queue, plain.engine.send_queue);

    hola_netopts_init(&o);
    assert_int_equal(hola_netopts_parse(&o, HOLA_OPT_WINDOW, w32, &e), 0);
    assert_int_equal(hola_netopts_parse(&o, HOLA_OPT_COALESCE, NULL, &e), 0);
    assert_int_equal(o.engine.window, 32);

    hola_netopts_init(&o);
    assert_int_equal(hola_netopts_parse(&o, HOLA_OPT_COALESCE, NULL, &e), 0);
    assert_int_equal(hola_netopts_parse(&o, HOLA_OPT_WINDOW, w32, &e), 0);
    assert_int_equal(o.engine.window, 32);
}

static void test_trace(void **state)
{
    struct hola_trace t;
    char out[512];
    rudp_event_t ev = { .kind = RUDP_EV_RETRANSMIT,
                        .cid = 0x1234,
                        .now = 5000 + 12345,
                        .type = RUDP_T_DATA,
                        .seq = 1003,
                        .ack = 5002,
                        .len = 11,
                        .reason = RUDP_WHY_TIMEOUT,
                        .rto = 1200 };
    (void)state;

    hola_trace_init(&t, HOLA_TRACE_TEXT, "client", stderr);
    t.started = true;
    t.t0 = 5000;
    hola_trace_format(&t, &ev, out, sizeof out);
    assert_string_equal(out, "    12.345 ms  client   → DATA     seq=1003 ack=5002 len=11  "
                             "RETRANSMIT (timeout, rto=1.200 ms)");
    ev.reason = RUDP_WHY_FAST;
    hola_trace_format(&t, &ev, out, sizeof out);
    assert_non_null(strstr(out, "RETRANSMIT (fast: 3 later packets acked)"));
    ev.kind = RUDP_EV_RECV;
    hola_trace_format(&t, &ev, out, sizeof out);
    assert_string_equal(out, "    12.345 ms  client   ← DATA     seq=1003 ack=5002 len=11");

    t.mode = HOLA_TRACE_JSON;
    ev.kind = RUDP_EV_RETRANSMIT;
    ev.reason = RUDP_WHY_TIME;
    hola_trace_format(&t, &ev, out, sizeof out);
    assert_string_equal(out, "{\"t_ms\":12.345,\"side\":\"client\",\"peer\":\"\","
                             "\"cid\":\"0000000000001234\",\"event\":\"retransmit\","
                             "\"dir\":\"sent\",\"type\":\"DATA\",\"seq\":1003,\"ack\":5002,"
                             "\"len\":11,\"reason\":\"fast_9_8_rtt\",\"rto_ms\":1.200,"
                             "\"cwnd\":0,\"in_flight\":0}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_addr_format),
        cmocka_unit_test(test_addr_resolve),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_stats_extra),
        cmocka_unit_test(test_replies_completion),
        cmocka_unit_test(test_replies_percentiles),
        cmocka_unit_test(test_coalesce_window),
        cmocka_unit_test(test_trace),
    };
    return cmocka_run_group_tests_name("hola common", tests, NULL, NULL);
}
