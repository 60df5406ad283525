/* client.c: hola-client's main: options, collecting and checking the names (arguments,
 * interactive prompt or standard input), then the protocol's run in client_<proto>.c. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "out.h"

#ifndef HOLA_VERSION
#define HOLA_VERSION "unknown"
#endif

/* A bound on what standard input may make us hold in memory. */
#define MAX_NAMES 100000
/* The interactive prompt asks for at most this many names. */
#define MAX_ASKED 100

#define DEFAULT_TIMEOUT_TCP 5000
#define DEFAULT_TIMEOUT_UDP 1000

static const char usage_text[] =
    N_("Usage: hola-client [OPTION]... [NAME]...\n"
       "Send names to hola-server and print its replies (\"Hola <name>\"), one per line:\n"
       "over TCP and rudp in the order the names were sent, over UDP as they arrive.\n"
       "\n"
       "The names come from the arguments; without any, from the keyboard when standard\n"
       "input is a terminal (the program asks how many, then each one), else one per line\n"
       "from standard input. Names are UTF-8, at most 512 bytes once surrounding whitespace\n"
       "is trimmed; empty ones are skipped. Every name is checked before anything is sent:\n"
       "one that is too long or not valid UTF-8 is reported by its position, and nothing is\n"
       "sent.\n"
       "\n"
       "TCP sends one name per line on one connection. UDP sends one datagram per name on a\n"
       "connected socket (so an ICMP \"port unreachable\" is reported, not waited out), waits\n"
       "for the replies, never retransmits, and then reports on standard error how many\n"
       "names were sent, answered and lost, and which were lost (the first 50 by name, the\n"
       "rest as a count). rudp (the reliable layer over UDP) sends one message per name,\n"
       "as many at once as --window allows, retransmits what is lost, and ends once every\n"
       "reply has arrived and both sides have closed the connection; if the server cannot\n"
       "be reached, is full, resets the connection or stops answering, one line says which.\n"
       "\n"
       "Options:\n"
       "  -p, --proto PROTO   transport: tcp (default), udp or rudp\n"
       "  -H, --host HOST     server host name or address (default localhost); e.g.\n"
       "                      127.0.0.1, ::1\n"
       "  -P, --port PORT     server port (default 7000)\n"
       "  -t, --timeout MS    how long to wait for the server, in milliseconds. UDP: for\n"
       "                      replies after the last datagram is sent (per name with\n"
       "                      --lockstep); default 1000. TCP: to connect, and for each\n"
       "                      reply; default 5000. rudp has its own limit instead: see\n"
       "                      --max-retries and --dead-timeout\n"
       "  -l, --lockstep      send one name, wait for its reply, then the next (default:\n"
       "                      send them all (rudp: as many as the window holds), then\n"
       "                      collect the replies)\n"
       "      --stats         at exit, print one line of JSON with counters to stderr:\n"
       "                      {\"proto\":\"udp\",\"role\":\"client\",\"sent\":N,\"received\":N,\n"
       "                      \"lost\":N,\"elapsed_ms\":X}; with rudp also the engine's\n"
       "                      retransmits_timeout, retransmits_fast, spurious, duplicates,\n"
       "                      out_of_order, corrupt, srtt_us, rttvar_us, min_rtt_us, rto_us,\n"
       "                      cwnd, packet and datagram counts; with an impairment,\n"
       "                      impair_lost, impair_duplicated, impair_corrupted...; at\n"
       "                      the end, for every protocol, lat_p50_us and lat_p99_us\n"
       "                      (from handing a name to the transport to reading its\n"
       "                      reply, median and 99th percentile), dup (replies that\n"
       "                      came twice), out_of_order (replies after a later\n"
       "                      name's; rudp: reply_out_of_order) and, once every name\n"
       "                      is answered, last_reply_us (from the start to reading\n"
       "                      the last reply: the exchange without its teardown)\n"
       "  -h, --help          show this help and exit\n"
       "  -V, --version       show the version and exit\n"
       "\n");

static const char usage_tail[] =
    N_("\n"
       "Exit status:\n"
       "  0  every name was answered (rudp: and the connection closed cleanly)\n"
       "  1  an error: server not reachable, server full, connection reset, peer not\n"
       "     answering (rudp), a refused name, a timeout (TCP), SIGINT or SIGTERM...\n"
       "  2  a bad option or argument, or a name that is too long or not UTF-8\n"
       "  3  UDP: some names got no reply before the timeout\n"
       "\n"
       "Messages follow the locale: LANG=es_MX.UTF-8 (any es locale) gives Spanish. The\n"
       "replies, \"Hola <name>\", are the same in every language.\n"
       "\n"
       "Examples:\n"
       "  hola-client -p tcp -P 7000 \"Julián Alcibar Zubillaga\" \"Yanina De Luna Ocampo\"\n"
       "  printf 'Ana\\nÑandú\\n' | hola-client -p udp -H ::1 --stats\n"
       "  seq -f 'Nombre %g' 500 | hola-client -p rudp --loss 20 --trace --stats\n"
       "  hola-client -p rudp --window 1 --lockstep --max-retries 3 --dead-timeout 2000 Ana\n");

/* SIGINT/SIGTERM: a flag for the loops with finite poll() timeouts, and a self-pipe so
 * rudp's loop, which may sleep until the next engine deadline, wakes up at once. */
static volatile sig_atomic_t interrupted;
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;
    char b = (char)sig;

    interrupted = 1;
    if (write(sig_pipe[1], &b, 1) < 0) {
        /* a full pipe already says "stop" */
    }
    errno = saved;
}

int hola_client_stop_fd(void)
{
    return sig_pipe[0];
}

bool hola_client_interrupted(void)
{
    return interrupted != 0;
}

static void setup_signals(void)
{
    struct sigaction sa;

    /* A server that closes early must cost an EPIPE error, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    if (pipe(sig_pipe) != 0)
        return; /* then the default action: the program ends at once, without --stats */
    for (int i = 0; i < 2; i++)
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: poll() returns EINTR, and the loops look at the flag. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, _("hola-client: %s (see hola-client --help)\n"), msg);
    return 2;
}

void hola_client_where(const struct hola_client_cfg *cfg, char *out, size_t cap)
{
    if (strchr(cfg->host, ':') != NULL)
        snprintf(out, cap, "[%s]:%u", cfg->host, (unsigned)cfg->port);
    else
        snprintf(out, cap, "%s:%u", cfg->host, (unsigned)cfg->port);
}

int hola_client_ms_left(uint64_t deadline_us)
{
    uint64_t now = hola_stats_now_us();
    return now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
}

/* Checks one name and adds it. Returns 0 (added or skipped as empty), 1 when the name
 * is refused (why says so; the caller says where it came from: formatting that for
 * every line would cost more than checking it), or -1 with e set. */
static int add_checked(struct hola_names *list, const char *s, size_t len, char *why,
                       size_t why_cap, struct hola_err *e)
{
    struct hola_name_check chk = hola_names_check(s, len);

    if (chk.status == HOLA_NAME_EMPTY)
        return 0;
    if (chk.status != HOLA_NAME_OK) {
        hola_names_describe(s, &chk, why, why_cap);
        return 1;
    }
    if (list->n >= MAX_NAMES)
        return hola_err_set(e, _("too many names (at most %d)"), MAX_NAMES);
    return hola_names_add(list, s + chk.start, chk.len, e);
}

static int names_from_args(char **args, int n, struct hola_names *list, struct hola_err *e)
{
    char where[32], why[HOLA_ERR_MAX];

    for (int i = 0; i < n; i++) {
        int r = add_checked(list, args[i], strlen(args[i]), why, sizeof why, e);
        if (r == 1) {
            snprintf(where, sizeof where, _("name %d"), i + 1);
            return hola_err_set(e, "%s %s", where, why);
        }
        if (r != 0)
            return -1;
    }
    return 0;
}

static int names_from_stream(FILE *in, struct hola_names *list, struct hola_err *e)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    char where[48], why[HOLA_ERR_MAX];
    int rc = 0;

    errno = 0;
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        int r = add_checked(list, line, (size_t)n, why, sizeof why, e);
        if (r == 1) {
            snprintf(where, sizeof where, _("line %lu of standard input:"), lineno);
            rc = hola_err_set(e, "%s %s", where, why);
        }
        if (r != 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(in))
        rc = hola_err_set(e, _("reading standard input: %s"), strerror(errno));
    free(line);
    return rc;
}

/* The practice's dialogue: how many names, then each one; a bad answer is asked again. */
static int names_interactive(struct hola_names *list, struct hola_err *e)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long count = 0;
    struct hola_err why;
    char refused[HOLA_ERR_MAX] = " "; /* " " and then why a name was refused */
    int rc = 0;

    while (count == 0) {
        fputs(_("How many names? "), stderr);
        if ((n = getline(&line, &cap, stdin)) < 0) {
            rc = hola_err_set(e, _("standard input closed before any name was given"));
            goto out;
        }
        struct hola_name_check chk = hola_names_check(line, (size_t)n);
        line[chk.start + chk.len] = '\0';
        if (chk.status != HOLA_NAME_OK ||
            hola_opts_ulong(line + chk.start, "count", 1, MAX_ASKED, &count, &why) != 0) {
            count = 0;
            fprintf(stderr, "%s\n", _("Please type a number from 1 to 100."));
        }
    }
    while (list->n < count) {
        fprintf(stderr, _("Name %zu: "), list->n + 1);
        if ((n = getline(&line, &cap, stdin)) < 0) {
            rc = hola_err_set(e, _("standard input closed after %zu of %lu names"), list->n, count);
            goto out;
        }
        size_t before = list->n;
        int r = add_checked(list, line, (size_t)n, refused + 1, sizeof refused - 1, &why);
        if (r != 0) {
            /* The message keeps its msgid: "Name refused:" and then " why". */
            fprintf(stderr, _("Name refused:%s\n"), r == 1 ? refused : why.msg);
        } else if (list->n == before) {
            fprintf(stderr, "%s\n", _("The name is empty; type it again."));
        }
    }
out:
    free(line);
    return rc;
}

static const struct {
    enum hola_proto proto;
    int (*run)(const struct hola_client_cfg *cfg, const struct hola_names *names,
               struct hola_stats *st, struct hola_err *e);
} runners[] = {
    { HOLA_PROTO_TCP, hola_client_tcp_run },
    { HOLA_PROTO_UDP, hola_client_udp_run },
    { HOLA_PROTO_RUDP, hola_client_rudp_run },
};

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "proto", required_argument, NULL, 'p' },
        { "host", required_argument, NULL, 'H' },
        { "port", required_argument, NULL, 'P' },
        { "timeout", required_argument, NULL, 't' },
        { "lockstep", no_argument, NULL, 'l' },
        { "stats", no_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        HOLA_NETOPTS_LONGOPTS,
        HOLA_NETOPTS_CLIENT_SECURE_LONGOPTS,
        { NULL, 0, NULL, 0 },
    };
    struct hola_client_cfg cfg = { .proto = HOLA_PROTO_TCP,
                                   .host = "localhost",
                                   .port = HOLA_DEFAULT_PORT };
    struct hola_names names = { 0 };
    struct hola_stats st;
    struct hola_err e = { "" };
    bool stats = false;
    int c;

    hola_netopts_init(&cfg.net);
    hola_i18n_init();
    opterr = 0; /* one message of ours instead of getopt's */
    while ((c = getopt_long(argc, argv, ":p:H:P:t:lhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (hola_opts_proto(optarg, &cfg.proto, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'H':
            cfg.host = optarg;
            break;
        case 'P':
            if (hola_opts_port(optarg, false, &cfg.port, &e) != 0)
                return usage_error(e.msg);
            break;
        case 't':
            if (hola_opts_ulong(optarg, "--timeout", 1, 3600000, &cfg.timeout_ms, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'l':
            cfg.lockstep = true;
            break;
        case 'S':
            stats = true;
            break;
        case 'h':
            fputs(_(usage_text), stdout);
            fputs(_(hola_netopts_help_rudp), stdout);
            fputc('\n', stdout);
            fputs(_(hola_netopts_help_impair), stdout);
            fputc('\n', stdout);
            fputs(_(hola_netopts_help_secure_client), stdout);
            fputs(_(usage_tail), stdout);
            return 0;
        case 'V':
            printf("hola-client %s\n", HOLA_VERSION);
            return 0;
        default: {
            int r = hola_netopts_parse(&cfg.net, c, optarg, &e);
            if (r == 0)
                break;
            if (r > 0)
                hola_opts_getopt_error(c, optopt, argv, optind, &e);
            return usage_error(e.msg);
        }
        }
    }
    if (hola_netopts_check(&cfg.net, cfg.proto, &e) != 0)
        return usage_error(e.msg);
    if (cfg.proto == HOLA_PROTO_RUDP && cfg.timeout_ms != 0)
        return usage_error(_("--timeout does not apply to rudp: it retransmits until "
                             "--max-retries or --dead-timeout gives the server up"));
    if (cfg.timeout_ms == 0)
        cfg.timeout_ms = cfg.proto == HOLA_PROTO_UDP ? DEFAULT_TIMEOUT_UDP : DEFAULT_TIMEOUT_TCP;

    int rc;
    if (optind < argc)
        rc = names_from_args(argv + optind, argc - optind, &names, &e);
    else if (isatty(STDIN_FILENO))
        rc = names_interactive(&names, &e);
    else
        rc = names_from_stream(stdin, &names, &e);
    if (rc == 0 && names.n == 0)
        rc = hola_err_set(&e, _("no names to send"));
    if (rc != 0) {
        hola_names_free(&names);
        fprintf(stderr, "hola-client: %s\n", e.msg);
        return 2;
    }

    setup_signals();
    hola_stats_start(&st, hola_opts_proto_name(cfg.proto), "client");
    st.wanted = stats;
    rc = -1;
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++)
        if (runners[i].proto == cfg.proto)
            rc = runners[i].run(&cfg, &names, &st, &e);
    st.lost = st.sent - st.received;
    /* Replies are the client's output: failing to write them is an error, not a detail
     * (SIGPIPE is ignored, so a closed pipe shows up here). */
    hola_out_flush();
    if (rc >= 0 && hola_out_error() != 0)
        rc = hola_err_set(&e, _("standard output: %s"), strerror(hola_out_error()));
    if (stats)
        hola_stats_print(&st, stderr);
    hola_names_free(&names);
    if (rc < 0) {
        fprintf(stderr, "hola-client: %s\n", e.msg);
        return 1;
    }
    return rc;
}
