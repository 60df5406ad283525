/* server.c: hola-server's main: options, signals, the listening socket and the greeting
 * shared by every protocol; the loops themselves live in server_<proto>.c. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "i18n.h"
#include "out.h"

#ifndef HOLA_VERSION
#define HOLA_VERSION "unknown"
#endif

static const char usage_text[] =
    N_("Usage: hola-server [OPTION]...\n"
       "Serve the sockets practice: greet every name a client sends with \"Hola <name>\".\n"
       "\n"
       "For TCP, each connection is announced on standard output as\n"
       "\"Conectado a ADDR:PORT\"; the client sends one name per line (\"\\n\" or \"\\r\\n\"), so\n"
       "nc and telnet work as clients. For UDP, each datagram carries one name. For rudp (the\n"
       "reliable layer over UDP, see docs/protocol.md), each connection is announced like a\n"
       "TCP one and each message carries one name; lost, duplicated, reordered or corrupted\n"
       "datagrams are repaired underneath, so every name is greeted exactly once, in order,\n"
       "and the server ends its side of a connection when the client has ended its own.\n"
       "For every name the server prints \"Hola <name>\" on standard output and sends \"Hola\n"
       "<name>\" back (a line for TCP; one datagram for UDP, ending in a newline when the\n"
       "request did; one message for rudp). Names are UTF-8, at most 512 bytes once\n"
       "surrounding whitespace is trimmed; empty lines are skipped. An invalid name is\n"
       "answered with a line starting \"error:\"; a TCP line or name that is too long also\n"
       "closes that connection. Many clients are served at once, from one poll() loop.\n"
       "\n"
       "Standard output carries only the \"Conectado a\" and \"Hola\" lines; the listening\n"
       "address, errors, --trace and --stats go to standard error. Standard output never\n"
       "blocks the server: lines a reader does not take in time are dropped and counted.\n"
       "\n"
       "Options:\n"
       "  -p, --proto PROTO     transport: tcp (default), udp or rudp\n"
       "  -P, --port PORT       port to listen on (default 7000); 0 lets the kernel pick\n"
       "                        a free one: see --port-file\n"
       "  -b, --bind ADDR       local address or host name to listen on (default: every\n"
       "                        address, IPv6 and IPv4 alike); e.g. 127.0.0.1, ::1\n"
       "  -c, --count N         exit after greeting N names (default: run until SIGINT or\n"
       "                        SIGTERM); replies already given are still delivered\n"
       "      --port-file FILE  once listening, write the port number to FILE (written to a\n"
       "                        temporary file, then renamed: readers never see half a file)\n"
       "      --stats           at exit, print one line of JSON with counters to stderr:\n"
       "                        proto, role, sent, received, lost, rejected, clients,\n"
       "                        elapsed_ms, stdout_dropped (lines a reader that does\n"
       "                        not read never got); with udp also unlogged,\n"
       "                        replies_over_rate, replies_over_size (what bad\n"
       "                        datagrams did not draw: docs/limits.md); with rudp\n"
       "                        also the engines' counters summed\n"
       "                        over every connection (retransmits_timeout,\n"
       "                        retransmits_fast, spurious, duplicates, out_of_order,\n"
       "                        corrupt, min_rtt_us; srtt_us, rttvar_us, rto_us, cwnd of\n"
       "                        the last connection to end) and the socket's (accepted,\n"
       "                        refused_full, wrong_address, datagrams_in/out,\n"
       "                        gso_sends, gro_receives (sends and receives of several\n"
       "                        datagrams), the\n"
       "                        handshake's retries_sent, cookies_bad, resets_sent...,\n"
       "                        and what was dropped, by reason: garbage (of which\n"
       "                        checksum, oversized), wrong_address, cookies_bad,\n"
       "                        cookies_expired, rate_limited, refused_full);\n"
       "                        with an impairment, impair_lost, impair_duplicated...\n"
       "  -h, --help            show this help and exit\n"
       "  -V, --version         show the version and exit\n"
       "\n");

static const char usage_max_clients[] =
    N_("      --max-clients N   connections served at once (tcp and rudp): 1..65536\n"
       "                        (default 1024; tcp: at most the descriptor limit, ulimit\n"
       "                        -n, less 16). A client beyond that is refused (it\n"
       "                        reports \"server full\") instead of waiting in silence.\n"
       "                        Each rudp connection buffers at most --window messages\n"
       "                        each way\n"
       "      --handshake-rate N  handshake datagrams (and others for no connection)\n"
       "                        answered per second per source address (IPv4, IPv6 /64):\n"
       "                        0..1000000 (default 1000, bursts of twice that; 0: no\n"
       "                        limit). Beyond it they are dropped unanswered and counted\n"
       "                        (rate_limited); open connections are never limited\n");

static const char usage_tcp[] =
    N_("\n"
       "tcp limits (--proto tcp; see docs/limits.md):\n"
       "      --idle-timeout MS   close a connection that sends no name for MS ms (default\n"
       "                        60000; 0: never), after an \"error: idle\" line\n"
       "      --write-timeout MS  close a connection whose replies wait unread for MS ms\n"
       "                        (default 10000; 0: never)\n");

static const char usage_front[] =
    N_("\n"
       "new clients (see docs/limits.md):\n"
       "      --max-per-source N  connections one source (an IPv4 address, an IPv6 /64)\n"
       "                        may hold, tcp and rudp (default: an eighth of\n"
       "                        --max-clients). One more is refused: tcp answers\n"
       "                        \"error: server full\" and closes, rudp sends a RESET the\n"
       "                        client reports as \"too many connections from this\n"
       "                        address\". With --secure it caps DTLS sessions too (udp\n"
       "                        as well: default 128), refused with an alert the client\n"
       "                        reports as \"no room for another DTLS session\"\n"
       "      --always-retry    rudp: every new client proves its address with a RETRY\n"
       "                        round trip before it gets a connection (default: only\n"
       "                        while the server is under load: many handshakes not yet\n"
       "                        proven, or the --handshake-rate hit; docs/protocol.md\n"
       "                        section 7.2)\n");

static const char usage_tail[] =
    N_("\n"
       "Exit status:\n"
       "  0  stopped by --count, SIGINT or SIGTERM (a second signal stops at once)\n"
       "  1  an error, e.g. the port is in use\n"
       "  2  a bad option or argument\n"
       "\n"
       "Messages follow the locale: LANG=es_MX.UTF-8 (any es locale) gives Spanish. The\n"
       "\"Conectado a\" and \"Hola\" lines are the same in every language.\n"
       "\n"
       "Examples:\n"
       "  hola-server -p tcp -P 7000 --count 3\n"
       "  hola-server -p udp -b ::1 -P 0 --port-file /tmp/hola.port\n"
       "  hola-server -p rudp --trace --loss 20 --delay 5 --stats\n");

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;
    char b = (char)sig;

    /* write() is async-signal-safe; a full pipe already says "stop". */
    if (write(sig_pipe[1], &b, 1) < 0) {
        /* nothing to do */
    }
    errno = saved;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The self-pipe turns a signal into a readable descriptor, so poll() itself wakes up and
 * there is no window between checking a flag and sleeping in poll(). */
static int setup_signals(struct hola_err *e)
{
    struct sigaction sa;

    if (pipe(sig_pipe) != 0)
        return hola_err_set(e, "pipe: %s", strerror(errno));
    if (set_nonblock(sig_pipe[0]) != 0 || set_nonblock(sig_pipe[1]) != 0)
        return hola_err_set(e, "fcntl: %s", strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return hola_err_set(e, "sigaction: %s", strerror(errno));
    /* A client that vanishes must cost an EPIPE on that connection, not the process. */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return hola_err_set(e, "sigaction: %s", strerror(errno));
    return 0;
}

bool hola_server_signalled(struct hola_server *srv)
{
    char buf[16];
    bool got = false;

    while (read(srv->stop_fd, buf, sizeof buf) > 0)
        got = true;
    return got;
}

bool hola_server_done(const struct hola_server *srv)
{
    return (srv->cfg.count > 0 && srv->greeted >= srv->cfg.count) || hola_out_error() != 0;
}

size_t hola_server_greet(struct hola_server *srv, const char *name, size_t len, char *reply,
                         size_t cap)
{
    if (len + 5 > cap)
        return 0;
    /* The reply is length-delimited: no NUL is wanted after it. */
    memcpy(reply, "Hola ", 5); // NOLINT(bugprone-not-null-terminated-result)
    memcpy(reply + 5, name, len);
    hola_out_line(reply, len + 5);
    srv->greeted++;
    srv->stats.received++;
    return len + 5;
}

static int write_port_file(const char *path, uint16_t port, struct hola_err *e)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());

    if (n < 0 || (size_t)n >= sizeof tmp)
        return hola_err_set(e, _("--port-file: path too long"));
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return hola_err_set(e, _("--port-file %s: %s"), tmp, strerror(errno));
    int bad = fprintf(f, "%u\n", (unsigned)port) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return hola_err_set(e, _("--port-file %s: %s"), path, strerror(err));
    }
    return 0;
}

/* Binds one candidate address; the descriptor, or -1 with errno set. */
static int try_bind(const struct addrinfo *ai, int socktype)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int one = 1, zero = 0;

    if (fd < 0)
        return -1;
    /* TCP: a restarted server may rebind while old connections sit in TIME_WAIT. */
    if (socktype == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Dual stack: an IPv6 wildcard socket also takes IPv4 clients (as ::ffff:a.b.c.d),
     * whatever the system default (net.ipv6.bindv6only) says. */
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        (socktype == SOCK_STREAM && listen(fd, SOMAXCONN) != 0) || set_nonblock(fd) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int hola_server_open(struct hola_server *srv, int socktype, struct hola_err *e)
{
    struct addrinfo *list;
    const char *proto = hola_opts_proto_name(srv->cfg.proto);
    char where[HOLA_ADDR_STRLEN] = "";
    int fd = -1, err = 0;

    if (hola_addr_resolve(srv->cfg.bind, srv->cfg.port, socktype, 1, &list, e) != 0)
        return -1;
    /* Without --bind, prefer the IPv6 wildcard (dual stack) and fall back to IPv4 where
     * IPv6 is disabled; with --bind, take the addresses in the resolver's order. */
    for (int pass = 0; pass < 2 && fd < 0; pass++) {
        for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
            if (srv->cfg.bind == NULL && (pass == 0) != (ai->ai_family == AF_INET6))
                continue;
            if (srv->cfg.bind != NULL && pass == 1)
                break;
            fd = try_bind(ai, socktype);
            if (fd < 0 && err == 0) {
                /* Report the first failure: it is the preferred address. */
                err = errno;
                hola_addr_format(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
            }
        }
    }
    freeaddrinfo(list);
    if (fd < 0)
        return hola_err_set(e, _("cannot listen on %s (%s): %s"), where, proto, strerror(err));

    if (hola_server_announce(srv, fd, e) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int hola_server_announce(struct hola_server *srv, int fd, struct hola_err *e)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char where[HOLA_ADDR_STRLEN];

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return hola_err_set(e, "getsockname: %s", strerror(errno));
    hola_addr_format((struct sockaddr *)&ss, sl, where, sizeof where);
    fprintf(stderr, _("hola-server: listening on %s (%s)\n"), where,
            hola_opts_proto_name(srv->cfg.proto));
    if (srv->cfg.port_file != NULL &&
        write_port_file(srv->cfg.port_file, hola_addr_port((struct sockaddr *)&ss), e) != 0)
        return -1;
    return 0;
}

static const struct {
    enum hola_proto proto;
    int (*run)(struct hola_server *srv, struct hola_err *e);
} runners[] = {
    { HOLA_PROTO_TCP, hola_server_tcp_run },
    { HOLA_PROTO_UDP, hola_server_udp_run },
    { HOLA_PROTO_RUDP, hola_server_rudp_run },
};

/* getopt_long codes of the tcp options: above netopts' HOLA_OPT_* range. */
enum {
    OPT_IDLE_TIMEOUT = 0x200,
    OPT_WRITE_TIMEOUT,
    OPT_MAX_PER_SOURCE,
    OPT_ALWAYS_RETRY,
};

/* Parses a tcp option into cfg; its name is kept in *tcp_only for the check after. */
static int parse_tcp(struct hola_server_cfg *cfg, int c, const char *arg, const char **tcp_only,
                     struct hola_err *e)
{
    static const char *const names[] = { "--idle-timeout", "--write-timeout" };
    const char *name = names[c - OPT_IDLE_TIMEOUT];
    unsigned long *to = c == OPT_IDLE_TIMEOUT ? &cfg->idle_timeout_ms : &cfg->write_timeout_ms;

    if (*tcp_only == NULL)
        *tcp_only = name;
    return hola_opts_ulong(arg, name, 0, HOLA_TCP_TIMEOUT_MAX, to, e);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, _("hola-server: %s (see hola-server --help)\n"), msg);
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "proto", required_argument, NULL, 'p' },
        { "port", required_argument, NULL, 'P' },
        { "bind", required_argument, NULL, 'b' },
        { "count", required_argument, NULL, 'c' },
        { "port-file", required_argument, NULL, 'F' },
        { "stats", no_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
        { "write-timeout", required_argument, NULL, OPT_WRITE_TIMEOUT },
        { "max-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE },
        { "always-retry", no_argument, NULL, OPT_ALWAYS_RETRY },
        HOLA_NETOPTS_LONGOPTS,
        HOLA_NETOPTS_SERVER_LONGOPTS,
        HOLA_NETOPTS_SERVER_SECURE_LONGOPTS,
        { NULL, 0, NULL, 0 },
    };
    struct hola_server srv;
    struct hola_err e = { "" };
    bool stats = false;
    const char *tcp_only = NULL;
    bool per_source = false;
    int c;

    memset(&srv, 0, sizeof srv);
    srv.cfg.proto = HOLA_PROTO_TCP;
    srv.cfg.port = HOLA_DEFAULT_PORT;
    srv.cfg.idle_timeout_ms = HOLA_TCP_IDLE_TIMEOUT_MS;
    srv.cfg.write_timeout_ms = HOLA_TCP_WRITE_TIMEOUT_MS;
    hola_netopts_init(&srv.cfg.net);
    hola_i18n_init();
    opterr = 0; /* one message of ours instead of getopt's */
    while ((c = getopt_long(argc, argv, ":p:P:b:c:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (hola_opts_proto(optarg, &srv.cfg.proto, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'P':
            if (hola_opts_port(optarg, true, &srv.cfg.port, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'b':
            srv.cfg.bind = optarg;
            break;
        case 'c':
            if (hola_opts_ulong(optarg, "--count", 1, 1000000000UL, &srv.cfg.count, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'F':
            srv.cfg.port_file = optarg;
            break;
        case 'S':
            stats = true;
            break;
        case OPT_IDLE_TIMEOUT:
        case OPT_WRITE_TIMEOUT:
            if (parse_tcp(&srv.cfg, c, optarg, &tcp_only, &e) != 0)
                return usage_error(e.msg);
            break;
        case OPT_MAX_PER_SOURCE:
            if (hola_opts_ulong(optarg, "--max-per-source", 1, RUDP_SOCK_MAX_CLIENTS,
                                &srv.cfg.max_per_source, &e) != 0)
                return usage_error(e.msg);
            per_source = true;
            break;
        case OPT_ALWAYS_RETRY:
            srv.cfg.always_retry = true;
            break;
        case 'h':
            fputs(_(usage_text), stdout);
            fputs(_(hola_netopts_help_rudp), stdout);
            fputs(_(usage_max_clients), stdout);
            fputs(_(usage_tcp), stdout);
            fputs(_(usage_front), stdout);
            fputc('\n', stdout);
            fputs(_(hola_netopts_help_impair), stdout);
            fputc('\n', stdout);
            fputs(_(hola_netopts_help_secure_server), stdout);
            fputs(_(usage_tail), stdout);
            return 0;
        case 'V':
            printf("hola-server %s\n", HOLA_VERSION);
            return 0;
        default: {
            int r = hola_netopts_parse(&srv.cfg.net, c, optarg, &e);
            if (r == 0)
                break;
            if (r > 0)
                hola_opts_getopt_error(c, optopt, argv, optind, &e);
            return usage_error(e.msg);
        }
        }
    }
    if (hola_netopts_check(&srv.cfg.net, srv.cfg.proto, &e) != 0)
        return usage_error(e.msg);
    if (tcp_only != NULL && srv.cfg.proto != HOLA_PROTO_TCP) {
        snprintf(e.msg, sizeof e.msg, _("%s needs --proto tcp"), tcp_only);
        return usage_error(e.msg);
    }
    if (per_source && srv.cfg.proto == HOLA_PROTO_UDP && !srv.cfg.net.secure)
        return usage_error(_("--max-per-source needs --proto tcp or rudp, or udp with --secure"));
    if (srv.cfg.always_retry && srv.cfg.proto != HOLA_PROTO_RUDP)
        return usage_error(_("--always-retry needs --proto rudp"));
    if (optind < argc) {
        snprintf(e.msg, sizeof e.msg, _("unexpected argument '%s'"), argv[optind]);
        return usage_error(e.msg);
    }

    if (setup_signals(&e) != 0) {
        fprintf(stderr, "hola-server: %s\n", e.msg);
        return 1;
    }
    srv.stop_fd = sig_pipe[0];
    if (hola_out_nonblocking("hola-server", HOLA_OUT_QUEUE) != 0) {
        fprintf(stderr, _("hola-server: standard output: %s\n"), strerror(errno));
        return 1;
    }
    hola_stats_start(&srv.stats, hola_opts_proto_name(srv.cfg.proto), "server");

    int rc = -1;
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++)
        if (runners[i].proto == srv.cfg.proto)
            rc = runners[i].run(&srv, &e);
    unsigned long long dropped = hola_out_finish();
    if (dropped > 0)
        fprintf(stderr,
                _("hola-server: %llu lines not written to standard output (its reader did "
                  "not take them)\n"),
                dropped);
    if (stats) {
        hola_stats_add(&srv.stats, "stdout_dropped", dropped);
        hola_stats_print(&srv.stats, stderr);
    }
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    if (rc == 0 && hola_out_error() != 0)
        rc = hola_err_set(&e, _("standard output: %s"), strerror(hola_out_error()));
    if (rc != 0) {
        fprintf(stderr, "hola-server: %s\n", e.msg);
        return 1;
    }
    return 0;
}
