/* echo_client.c: sends each argument as one rudp message to echo_server and prints what
 * comes back. Lost, duplicated or reordered datagrams are repaired underneath: every echo
 * arrives once, in order. Ends after a clean close on both sides (librudp's socket
 * driver, rudp/sock.h).
 *
 * Usage: echo_client HOST PORT MESSAGE...
 * Build:  cc echo_client.c $(pkg-config --cflags --libs rudp) */
#include <rudp/rudp.h>
#include <stdio.h>
#include <string.h>

struct app {
    char **msgs;
    int count, echoed;
    int done, error; /* set by the CLOSED event */
};

/* One event, pulled from the driver by main()'s loop. */
static void on_event(struct app *app, rudp_sock_t *s, const rudp_sock_event_t *ev)
{
    char buf[RUDP_MAX_PAYLOAD];
    int n;

    switch (ev->kind) {
    case RUDP_SOCK_EV_CONNECTED: /* handshake done: queue every message, then our FIN */
        for (int i = 0; i < app->count; i++) {
            int rc = rudp_sock_send(s, ev->conn, app->msgs[i], strlen(app->msgs[i]));
            if (rc != 0) /* RUDP_EMSGSIZE (over 1200 bytes), RUDP_EAGAIN (queue full) */
                fprintf(stderr, "echo_client: message %d: %s\n", i + 1, rudp_strerror(rc));
        }
        rudp_sock_close(s, ev->conn); /* the FIN follows the messages; echoes still come */
        break;
    case RUDP_SOCK_EV_READABLE: /* read every echo that is ready */
        while ((n = rudp_conn_recv(ev->conn, buf, sizeof buf)) >= 0) {
            printf("echo: %.*s\n", n, buf);
            app->echoed++;
        }
        break;
    case RUDP_SOCK_EV_CLOSED: /* both streams ended (error 0), or why not */
        app->done = 1;
        app->error = ev->error;
        break;
    case RUDP_SOCK_EV_ACCEPTED: /* server sockets only */
        break;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: echo_client HOST PORT MESSAGE...\n");
        return 2;
    }
    struct app app = { .msgs = argv + 3, .count = argc - 3 };
    rudp_sock_config_t cfg;
    rudp_sock_t *s;

    rudp_sock_config_default(&cfg);
    cfg.conn.dead_timeout = 5000000; /* give a silent server up after 5 s (µs) */
    int rc = rudp_sock_new_client(&s, argv[1], argv[2], &cfg);
    if (rc != 0) {
        fprintf(stderr, "echo_client: %s: %s\n", argv[1], rudp_strerror(rc));
        return 1;
    }
    /* Sleeps until a datagram or the next deadline; returns one event at a time. */
    rudp_sock_event_t ev;
    while (!app.done && (rc = rudp_sock_service(s, &ev, -1)) >= 0) {
        if (rc == 1)
            on_event(&app, s, &ev);
    }
    if (rc > 0)
        rc = 0;
    rudp_sock_free(s);
    if (rc != 0 || app.error != 0) {
        fprintf(stderr, "echo_client: %s\n", rudp_strerror(rc != 0 ? rc : app.error));
        return 1;
    }
    printf("%d of %d messages echoed\n", app.echoed, app.count);
    return app.echoed == app.count ? 0 : 1;
}
