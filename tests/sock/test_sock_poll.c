/* rudp_sock_step_poll(): the step's one wait also watches the application's descriptors
 * (a pipe here), and a client and a server driven by it alone exchange a message; a
 * deadline that comes nearer than the one a wait was armed for still ends the wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "rudp/error.h"
#include "rudp/sock.h"

static rudp_sock_t *server(void)
{
    rudp_sock_t *s = NULL;
    assert_int_equal(rudp_sock_new_server(&s, "127.0.0.1", "0", NULL), 0);
    return s;
}

static void test_bad_arguments(void **state)
{
    (void)state;
    rudp_sock_t *s = server();
    struct pollfd p[RUDP_SOCK_MAX_POLLFDS + 1];
    memset(p, 0, sizeof p);
    assert_int_equal(rudp_sock_step_poll(NULL, p, 1, 0), RUDP_EINVAL);
    assert_int_equal(rudp_sock_step_poll(s, NULL, 1, 0), RUDP_EINVAL);
    assert_int_equal(rudp_sock_step_poll(s, p, RUDP_SOCK_MAX_POLLFDS + 1, 0), RUDP_EINVAL);
    assert_int_equal(rudp_sock_step_poll(s, NULL, 0, 0), 0); /* no descriptors: a step */
    rudp_sock_free(s);
}

/* A readable pipe ends the wait and is reported; an idle one is not. The server has
 * no connection, so nothing else could end a 10 s wait. */
static void test_pipe_wakes_the_step(void **state)
{
    (void)state;
    rudp_sock_t *s = server();
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct pollfd p = { .fd = fds[0], .events = POLLIN, .revents = POLLOUT };

    assert_int_equal(rudp_sock_step_poll(s, &p, 1, 0), 0);
    assert_int_equal(p.revents, 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(rudp_sock_step_poll(s, &p, 1, 10 * 1000 * 1000), 0);
    assert_true(p.revents & POLLIN);

    close(fds[0]);
    close(fds[1]);
    rudp_sock_free(s);
}

/* Both ends stepped only through rudp_sock_step_poll (each watching an idle pipe):
 * the handshake, one message, its delivery. Bounded in steps. */
static void test_exchange(void **state)
{
    (void)state;
    rudp_sock_t *srv = server(), *cli = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", rudp_sock_local_port(srv));
    assert_int_equal(rudp_sock_new_client(&cli, "127.0.0.1", port, NULL), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);

    int sent = 0, got = 0;
    char buf[64];
    for (int i = 0; i < 2000 && !got; i++) {
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        rudp_sock_event_t ev;
        assert_int_equal(rudp_sock_step_poll(cli, &p, 1, 1000), 0);
        assert_int_equal(p.revents, 0);
        while (rudp_sock_next_event(cli, &ev) == 1)
            if (ev.kind == RUDP_SOCK_EV_CONNECTED && !sent)
                sent = rudp_sock_send(cli, ev.conn, "hola", 4) == 0;
        rudp_sock_flush(cli);
        assert_int_equal(rudp_sock_step_poll(srv, &p, 1, 1000), 0);
        while (rudp_sock_next_event(srv, &ev) == 1)
            if (ev.kind == RUDP_SOCK_EV_READABLE && rudp_conn_recv(ev.conn, buf, sizeof buf) == 4)
                got = memcmp(buf, "hola", 4) == 0;
        rudp_sock_flush(srv);
    }
    assert_true(sent);
    assert_true(got);

    close(fds[0]);
    close(fds[1]);
    rudp_sock_free(cli);
    rudp_sock_free(srv);
}

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
    (void)sig;
    alarmed = 1;
}

/* The process's timerfds (Linux: the wait's timer is one), from /proc/self/fd. */
static int count_timerfds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strcmp(target, "anon_inode:[timerfd]") == 0;
        }
    }
    closedir(d);
    return n;
}

/* One message from cli to srv, the client stepped with short waits, the server without
 * waiting (so only the client's waits need a timer); returns the client's connection. */
static rudp_conn_t *connect_and_send(rudp_sock_t *srv, rudp_sock_t *cli)
{
    rudp_conn_t *conn = NULL;
    int got = 0;
    char buf[64];
    for (int i = 0; i < 2000 && !got; i++) {
        rudp_sock_event_t ev;
        assert_int_equal(rudp_sock_step(cli, 10), 0);
        while (rudp_sock_next_event(cli, &ev) == 1)
            if (ev.kind == RUDP_SOCK_EV_CONNECTED && conn == NULL) {
                conn = ev.conn;
                assert_int_equal(rudp_sock_send(cli, conn, "hola", 4), 0);
            }
        rudp_sock_flush(cli);
        assert_int_equal(rudp_sock_step(srv, 0), 0);
        while (rudp_sock_next_event(srv, &ev) == 1)
            if (ev.kind == RUDP_SOCK_EV_READABLE && rudp_conn_recv(ev.conn, buf, sizeof buf) == 4)
                got = 1;
        rudp_sock_flush(srv);
    }
    assert_true(got);
    return conn;
}

/* The wait's timer is armed for an idle connection's far deadline (a wait that a
 * readable pipe ends at once). Then the server stops answering and the client sends:
 * the probe timeout is now its nearest deadline, and a step with no limit must end at
 * it, not at the old one; after it expired, the next, later probe must be waited for,
 * not spun towards with steps that find the expired timer ready. A SIGALRM after 3 s
 * ends a wait that overslept. */
static void test_nearer_deadline_ends_the_wait(void **state)
{
    (void)state;
    rudp_sock_config_t cfg;
    rudp_sock_config_default(&cfg);
    cfg.conn.idle_timeout = 60000000u;
    cfg.conn.dead_timeout = 60000000u;
    rudp_sock_t *srv = server(), *cli = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", rudp_sock_local_port(srv));
    assert_int_equal(rudp_sock_new_client(&cli, "127.0.0.1", port, &cfg), 0);
    rudp_conn_t *conn = connect_and_send(srv, cli);

    /* Settle: the server's ACK arrives and the short timers (delayed ACK) pass, until
     * the client's nearest deadline is its idle timeout, far away. Bounded. */
    for (int i = 0; i < 100 && rudp_conn_next_timeout(conn) < h_now_us() + 10000000u; i++) {
        assert_int_equal(rudp_sock_step(srv, 0), 0);
        rudp_sock_flush(srv);
        assert_int_equal(rudp_sock_step(cli, 5), 0);
        rudp_sock_flush(cli);
    }
    assert_true(rudp_conn_next_timeout(conn) >= h_now_us() + 10000000u);
    assert_true(rudp_sock_timeout_us(cli) >= 10000000);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    struct pollfd p = { .fd = fds[0], .events = POLLIN };
    assert_int_equal(rudp_sock_step_poll(cli, &p, 1, -1), 0);
    assert_true(p.revents & POLLIN);
#ifdef __linux__
    /* That wait was the far deadline's, so it used the timer: the process's one
     * timerfd is the client's (the server never waited), armed for that deadline. */
    assert_int_equal(count_timerfds(), 1);
#endif

    /* srv is no longer stepped: "otra" stays unacknowledged. */
    assert_int_equal(rudp_sock_send(cli, conn, "otra", 4), 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm ends ppoll() */
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    alarmed = 0;
    alarm(3);
    rudp_stats_t st;
    int steps = 0;
    do {
        assert_int_equal(rudp_sock_step(cli, -1), 0);
        rudp_sock_event_t ev;
        while (rudp_sock_next_event(cli, &ev) == 1)
            ;
        steps++;
        rudp_conn_stats(conn, &st);
    } while (st.retransmits_timeout < 2 && !alarmed && steps < 1000);
    alarm(0);
    assert_false(alarmed);
    assert_true(st.retransmits_timeout >= 2);
    assert_true(steps <= 10);

    close(fds[0]);
    close(fds[1]);
    rudp_sock_free(cli);
    rudp_sock_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_pipe_wakes_the_step),
        cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_nearer_deadline_ends_the_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
