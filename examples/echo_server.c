/* echo_server.c: the smallest rudp server: every message a client sends comes back to it,
 * reliably and in order, over one UDP socket shared by all clients (librudp's socket
 * driver, rudp/sock.h). The whole program is one loop pulling events and one function
 * handling them.
 *
 * Usage: echo_server [PORT [CLIENTS]]
 *   PORT     0 (the default) lets the kernel pick one; it is printed first
 *   CLIENTS  exit after this many connections have ended (default: run forever)
 * Build:  cc echo_server.c $(pkg-config --cflags --libs rudp) */
#include <rudp/rudp.h>
#include <stdio.h>
#include <stdlib.h>

struct app {
    long served, limit; /* connections ended so far, and when to stop (0: never) */
};

/* Everything the driver tells us comes here, one event at a time, from main()'s loop. */
static void on_event(struct app *app, rudp_sock_t *s, const rudp_sock_event_t *ev)
{
    char msg[RUDP_MAX_PAYLOAD];

    switch (ev->kind) {
    case RUDP_SOCK_EV_ACCEPTED: /* a client proved its address: it has a connection */
        printf("client connected\n");
        break;
    case RUDP_SOCK_EV_READABLE: /* messages wait: read until RUDP_EAGAIN */
        /* Read only while the echo can be queued: what stays unread fills the client's
         * receive window, which slows the client down (flow control, no lost echo). */
        while (rudp_conn_send_space(ev->conn) > 0) {
            int n = rudp_conn_recv(ev->conn, msg, sizeof msg);
            if (n == RUDP_ECLOSED) { /* the client ended its stream: end ours */
                rudp_sock_close(s, ev->conn);
                break;
            }
            if (n < 0) /* RUDP_EAGAIN, or an error: CLOSED follows */
                break;
            printf("echo %d bytes: %.*s\n", n, n, msg);
            rudp_sock_send(s, ev->conn, msg, (size_t)n); /* copied; leaves at the next call */
        }
        break;
    case RUDP_SOCK_EV_CLOSED: /* over (error 0: cleanly); ev->conn is freed at the next call */
        printf("client gone: %s\n", ev->error ? rudp_strerror(ev->error) : "clean close");
        app->served++;
        break;
    case RUDP_SOCK_EV_CONNECTED: /* client sockets only */
        break;
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct app app = { 0, argc > 2 ? atol(argv[2]) : 0 };
    rudp_sock_config_t cfg;
    rudp_sock_t *s;

    rudp_sock_config_default(&cfg); /* window 64, 1024 clients, IPv6 and IPv4 */
    int rc = rudp_sock_new_server(&s, NULL, argc > 1 ? argv[1] : "0", &cfg);
    if (rc != 0) {
        fprintf(stderr, "echo_server: %s\n", rudp_strerror(rc));
        return 1;
    }
    printf("echo_server listening on port %d\n", rudp_sock_local_port(s));
    fflush(stdout);

    /* Sleeps until a datagram or the next retransmission deadline, does the work, and
     * returns one event at a time (1), or none (0). */
    rudp_sock_event_t ev;
    while (app.limit == 0 || app.served < app.limit) {
        if ((rc = rudp_sock_service(s, &ev, -1)) < 0) {
            fprintf(stderr, "echo_server: %s\n", rudp_strerror(rc));
            break;
        }
        if (rc == 1)
            on_event(&app, s, &ev);
    }
    rudp_sock_free(s);
    return rc < 0;
}
