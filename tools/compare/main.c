/* main.c: hola-compare's command line: the help, the options, and the order of work
 * (find the programs, run every setting on loopback or in the lab, print). It runs the
 * same N names over tcp, udp, rudp and rudp stop-and-wait, lock-step and pipelined, for
 * each impairment setting, and prints one table. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "i18n.h"
#include "lab.h"
#include "locate.h"
#include "opts.h"
#include "plan.h"
#include "proc.h"
#include "report.h"
#include "settings.h"
#include "stats.h"

#ifndef HOLA_VERSION
#define HOLA_VERSION "unknown"
#endif

#define DEFAULT_NAMES 200
#define MAX_NAMES 100000
#define DEFAULT_RUN_TIMEOUT_S 120

static const char usage_text[] =
    N_("Usage: hola-compare [OPTION]...\n"
       "Run the same names over TCP, UDP and rudp under the same impairment and print one\n"
       "table to compare them: what arrived, what was lost, duplicated or reordered, how\n"
       "many packets it took, how long, and the latency of each name.\n"
       "\n"
       "For every impairment setting (--impair), every pattern (lock-step: one name, then\n"
       "its reply; pipelined: all names at once) and every protocol row (tcp, udp, rudp,\n"
       "rudp-w1 = rudp --window 1, stop-and-wait; rudp-coalesce with --coalesce),\n"
       "hola-compare starts a fresh hola-server on a kernel-chosen port and one hola-client\n"
       "that sends names \"Nombre 1\"..\"Nombre N\", both with --stats, and reads their\n"
       "counters. A progress line on standard error says which run is going on.\n"
       "\n"
       "Where the impairment comes from:\n"
       "  --lab       inside scripts/hola-lab, one lab per setting: server 198.18.0.1 in the\n"
       "              server namespace, client 198.18.0.2 in the client namespace. The\n"
       "              kernel impairs both directions for every protocol (netem; without\n"
       "              sch_netem, loss through nftables). A knob the kernel cannot apply\n"
       "              (HOLA_LAB_UNAPPLIED: delay, dup, reorder, corrupt without netem) is\n"
       "              given to udp and rudp as the programs' built-in impairment, on both\n"
       "              programs, and the table marks that TCP did not get it (note a).\n"
       "  (default)   loopback, 127.0.0.1: only the built-in impairment, for udp and rudp;\n"
       "              TCP runs unimpaired and the table says so (note a).\n"
       "\n");

/* Printed with fputs: "19% of" is no printf directive. */
static const char usage_options[] =
    /* xgettext:no-c-format */
    N_("Options:\n"
       "  -n, --names N         names per run, 1..100000 (default 200)\n"
       "  -i, --impair SPEC     an impairment setting; repeat for several (default: none,\n"
       "                        then loss=10). SPEC is \"none\" or KEY=VALUE pairs joined by\n"
       "                        commas: loss=PCT, delay=MS, jitter=MS, dup=PCT,\n"
       "                        reorder=PCT (needs delay), corrupt=PCT, rate=KBIT. Each\n"
       "                        applies to each direction, as in hola-lab and tc-netem:\n"
       "                        loss=10 loses about 19% of round trips\n"
       "      --sweep LIST      shorthand for one --impair loss=PCT per value of the\n"
       "                        comma-separated LIST (0 is \"none\"): --sweep 0,5,10,20\n"
       "  -l, --lockstep        only the lock-step pattern (default: both)\n"
       "      --pipelined       only the pipelined pattern\n"
       "      --protos LIST     rows to run, comma-separated, from tcp, udp, rudp, rudp-w1,\n"
       "                        rudp-coalesce (default: tcp,udp,rudp,rudp-w1)\n"
       "      --coalesce        add the rudp-coalesce row: rudp --coalesce, several names\n"
       "                        (replies) per datagram\n"
       "      --repeat K        run every row K times, 1..99 (default 1), the rows taking\n"
       "                        turns, and report each row's median run by time with the\n"
       "                        range of times; delivered is the fewest and lost, dup and\n"
       "                        ooo the most of any run. The machine's noise then falls on\n"
       "                        every protocol alike: quote medians and their ratios\n"
       "      --window N        rudp's window for the rudp and rudp-coalesce rows (default:\n"
       "                        hola's, 64, and 256 with --coalesce)\n"
       "      --lab             run inside scripts/hola-lab (see above); needs root or\n"
       "                        unprivileged user namespaces, else exit status 77\n"
       "      --lab-script PATH the hola-lab script (default: $HOLA_LAB, then hola-lab next\n"
       "                        to this program, in ../share/hola/ or ../libexec/hola/ from\n"
       "                        it, in the source tree it was built from, then on PATH)\n"
       "      --bin-dir DIR     where hola-server and hola-client are (default: the\n"
       "                        directory of this program, then the build's src/hola)\n"
       "  -t, --timeout S       each run must end within S seconds, else it is stopped\n"
       "                        (SIGTERM, then SIGKILL) and marked failed (default 120)\n"
       "      --udp-wait MS     how long the udp client waits for replies after its last\n"
       "                        send (per name in lock-step); default 100, or 50 + 4 x\n"
       "                        (delay + jitter) when that is longer. Part of udp's time\n"
       "      --seed N          seed of the built-in impairment (each run derives its own\n"
       "                        from it; default: random, printed in --json)\n"
       "      --csv             print CSV instead of the table (one header line)\n"
       "      --json            print JSON instead of the table\n"
       "      --svg FILE        also write an SVG chart: delivered % and completion time\n"
       "                        (log scale) against each setting's loss, one line per\n"
       "                        protocol (solid: lock-step, dashed: pipelined)\n"
       "  -q, --quiet           no progress line\n"
       "  -h, --help            show this help and exit\n"
       "  -V, --version         show the version and exit\n"
       "\n");

static const char usage_tail[] =
    N_("The columns: delivered (names answered, of N), lost, dup and ooo (replies the client\n"
       "got twice or out of the order the names were sent: udp's; tcp and rudp must show\n"
       "0), sent (datagrams both programs sent, for udp and rudp from their --stats, before\n"
       "any built-in loss; TCP segments both ways from /proc/net/snmp: inside the lab each\n"
       "namespace has its own counters, on loopback they are the host's and may include\n"
       "other traffic, note b), retx (retransmissions both ways: rudp's from --stats, TCP's\n"
       "RetransSegs; udp never retransmits), time (completion: from the client's start,\n"
       "resolving and connecting or the handshake included, to its last reply, the\n"
       "client's last_reply_us; the teardown after it is not counted. A run that lost\n"
       "names is timed whole: udp's includes the --udp-wait), p50/p99 (per name: from\n"
       "just before the send call that first hands it to the transport, send(), sendto()\n"
       "or rudp_sock_send(), to reading its reply; the client's lat_p50_us and\n"
       "lat_p99_us), note (a, b, c: see under the table; hs-retry: the time includes a\n"
       "handshake retry, a SYN or SYN-ACK sent again for tcp, counted in the lab's\n"
       "namespaces only, an INITIAL for rudp).\n"
       "The table's first line says where it ran, the loss backend (netem or nftables in\n"
       "the lab, built-in: the programs' own impairment, or none) and the kernel (uname -r);\n"
       "CSV and JSON give them per row (backend, kernel, handshake_retry).\n"
       "\n"
       "Exit status:\n"
       "  0    every run ended (udp may lose names: that is its result, not a failure)\n"
       "  1    a run failed (listed under the table), or hola-compare could not go on\n"
       "  2    a bad option\n"
       "  77   --lab, and this machine cannot run the lab (the reason is printed)\n"
       "  130  interrupted (SIGINT, SIGTERM): the programs and the lab are cleaned up\n"
       "\n"
       "Examples:\n"
       "  hola-compare --names 100 --impair none --impair loss=30\n"
       "  sudo hola-compare --lab --names 500 --lockstep --impair loss=10\n"
       "  sudo hola-compare --lab --sweep 0,5,10,20 --svg loss.svg\n"
       "  hola-compare --impair loss=10,delay=5,jitter=1 --csv > runs.csv\n");

static int usage_error(const char *msg)
{
    fprintf(stderr, _("hola-compare: %s (see hola-compare --help)\n"), msg);
    return 2;
}

/* ---------------------------------------------------------------- main */

enum {
    OPT_SWEEP = 0x100,
    OPT_PIPELINED,
    OPT_PROTOS,
    OPT_COALESCE,
    OPT_WINDOW,
    OPT_REPEAT,
    OPT_LAB,
    OPT_LAB_SCRIPT,
    OPT_BIN_DIR,
    OPT_UDP_WAIT,
    OPT_SEED,
    OPT_CSV,
    OPT_JSON,
    OPT_SVG,
    OPT_LAB_WORKER,
    OPT_LAB_OUT,
    OPT_LAB_PROGRESS_FD,
};

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "names", required_argument, NULL, 'n' },
        { "impair", required_argument, NULL, 'i' },
        { "sweep", required_argument, NULL, OPT_SWEEP },
        { "lockstep", no_argument, NULL, 'l' },
        { "pipelined", no_argument, NULL, OPT_PIPELINED },
        { "protos", required_argument, NULL, OPT_PROTOS },
        { "coalesce", no_argument, NULL, OPT_COALESCE },
        { "window", required_argument, NULL, OPT_WINDOW },
        { "repeat", required_argument, NULL, OPT_REPEAT },
        { "lab", no_argument, NULL, OPT_LAB },
        { "lab-script", required_argument, NULL, OPT_LAB_SCRIPT },
        { "bin-dir", required_argument, NULL, OPT_BIN_DIR },
        { "timeout", required_argument, NULL, 't' },
        { "udp-wait", required_argument, NULL, OPT_UDP_WAIT },
        { "seed", required_argument, NULL, OPT_SEED },
        { "csv", no_argument, NULL, OPT_CSV },
        { "json", no_argument, NULL, OPT_JSON },
        { "svg", required_argument, NULL, OPT_SVG },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        /* Internal: the worker side of --lab. */
        { "lab-worker", required_argument, NULL, OPT_LAB_WORKER },
        { "lab-out", required_argument, NULL, OPT_LAB_OUT },
        { "lab-progress-fd", required_argument, NULL, OPT_LAB_PROGRESS_FD },
        { NULL, 0, NULL, 0 },
    };
    static struct hola_compare_opts o;
    static struct hola_compare_result
        res[HOLA_COMPARE_VARIANTS * HOLA_COMPARE_PATTERNS * HOLA_COMPARE_MAX_SETTINGS];
    struct hola_err e = { "" };
    bool only_lock = false, only_pipe = false, coalesce = false;
    long worker = -1;
    const char *lab_out = NULL;
    unsigned long v;
    int c;

    hola_i18n_init();
    o.names = DEFAULT_NAMES;
    o.run_timeout_s = DEFAULT_RUN_TIMEOUT_S;
    o.repeat = 1;
    hola_compare_settings_protos(&o, "tcp,udp,rudp,rudp-w1", &e);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:i:lt:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (hola_opts_ulong(optarg, "--names", 1, MAX_NAMES, &o.names, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'i':
            if (hola_compare_settings_add(&o, optarg, &e) != 0)
                return usage_error(e.msg);
            break;
        case OPT_SWEEP:
            if (hola_compare_settings_sweep(&o, optarg, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'l':
            only_lock = true;
            break;
        case OPT_PIPELINED:
            only_pipe = true;
            break;
        case OPT_PROTOS:
            if (hola_compare_settings_protos(&o, optarg, &e) != 0)
                return usage_error(e.msg);
            break;
        case OPT_COALESCE:
            coalesce = true;
            break;
        case OPT_REPEAT:
            if (hola_opts_ulong(optarg, "--repeat", 1, HOLA_COMPARE_REPEAT_MAX, &o.repeat, &e) != 0)
                return usage_error(e.msg);
            break;
        case OPT_WINDOW:
            if (hola_opts_ulong(optarg, "--window", 1, 1024, &o.window, &e) != 0)
                return usage_error(e.msg);
            break;
        case OPT_LAB:
            o.lab = true;
            break;
        case OPT_LAB_SCRIPT:
            o.lab_script = optarg;
            break;
        case OPT_BIN_DIR:
            o.bin_dir = optarg;
            break;
        case 't':
            if (hola_opts_ulong(optarg, "--timeout", 1, 86400, &o.run_timeout_s, &e) != 0)
                return usage_error(e.msg);
            break;
        case OPT_UDP_WAIT:
            if (hola_opts_ulong(optarg, "--udp-wait", 1, 3600000, &o.udp_wait_ms, &e) != 0)
                return usage_error(e.msg);
            break;
        case OPT_SEED:
            if (hola_opts_ulong(optarg, "--seed", 1, 1000000000000UL, &v, &e) != 0)
                return usage_error(e.msg);
            o.seed = v;
            o.seed_given = true;
            break;
        case OPT_CSV:
            o.csv = true;
            break;
        case OPT_JSON:
            o.json = true;
            break;
        case OPT_SVG:
            if (optarg[0] == '\0')
                return usage_error(_("--svg: the file name is empty"));
            o.svg = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'h':
            fputs(_(usage_text), stdout);
            fputs(_(usage_options), stdout);
            fputs(_(usage_tail), stdout);
            return 0;
        case 'V':
            printf("hola-compare %s\n", HOLA_VERSION);
            return 0;
        case OPT_LAB_WORKER:
            if (hola_opts_ulong(optarg, "--lab-worker", 0, HOLA_COMPARE_MAX_SETTINGS - 1, &v, &e) !=
                0)
                return usage_error(e.msg);
            worker = (long)v;
            break;
        case OPT_LAB_OUT:
            lab_out = optarg;
            break;
        case OPT_LAB_PROGRESS_FD:
            if (hola_opts_ulong(optarg, "--lab-progress-fd", 0, 1023, &v, &e) != 0)
                return usage_error(e.msg);
            hola_compare_progress_fd_set(fcntl((int)v, F_GETFD) >= 0 ? (int)v : -1);
            break;
        default:
            hola_opts_getopt_error(c, optopt, argv, optind, &e);
            return usage_error(e.msg);
        }
    }
    if (optind < argc)
        return usage_error(_("unexpected argument (settings go in --impair)"));
    if (o.csv && o.json)
        return usage_error(_("--csv and --json: choose one"));
    if (only_lock && only_pipe)
        return usage_error(_("--lockstep and --pipelined: leave both out to run both"));
    o.patterns[HOLA_COMPARE_LOCKSTEP] = !only_pipe;
    o.patterns[HOLA_COMPARE_PIPELINED] = !only_lock;
    if (coalesce)
        o.variants[HOLA_COMPARE_RUDP_COALESCE] = true;
    if (o.n_settings == 0) {
        hola_compare_settings_add(&o, "none", &e);
        hola_compare_settings_add(&o, "loss=10", &e);
    }
    if (!o.seed_given) {
        o.seed = (hola_stats_now_us() ^ ((uint64_t)getpid() << 20)) % 1000000000u + 1u;
    }
    hola_compare_signals_init();

    if (worker >= 0) {
        if (lab_out == NULL || (size_t)worker >= o.n_settings)
            return usage_error(_("--lab-worker is internal to --lab"));
        /* The worker finds the programs through --bin-dir, given by the outer side. */
        o.lab = false;
        if (hola_compare_locate(&o, &e) != 0) {
            fprintf(stderr, "hola-compare: %s\n", e.msg);
            return 1;
        }
        o.lab = true;
        return hola_compare_lab_worker(&o, (size_t)worker, lab_out);
    }
    if (hola_compare_locate(&o, &e) != 0) {
        fprintf(stderr, "hola-compare: %s\n", e.msg);
        return 1;
    }
    if (o.svg != NULL) {
        /* A bad path is reported now, not after minutes of runs. */
        FILE *f = fopen(o.svg, "w");
        if (f == NULL) {
            fprintf(stderr, _("hola-compare: --svg %s: %s\n"), o.svg, strerror(errno));
            return 1;
        }
        fclose(f);
    }

    char tmp[HOLA_COMPARE_PATH_MAX], names[HOLA_COMPARE_PATH_MAX + 8];
    size_t nres = 0;
    int rc = 0;
    if (hola_compare_tmpdir_make(tmp, sizeof tmp, &e) != 0) {
        fprintf(stderr, "hola-compare: %s\n", e.msg);
        return 1;
    }
    size_t per = hola_compare_runs_per_setting(&o);
    if (o.lab) {
        /* The worker writes progress on our standard error, through the lab. */
        for (size_t si = 0; si < o.n_settings && rc == 0; si++)
            rc = hola_compare_lab_setting(&o, argc, argv, si, tmp, res, &nres, &e);
    } else {
        struct hola_compare_env env;
        memset(&env, 0, sizeof env);
        env.server_addr = "127.0.0.1";
        hola_compare_kernel(env.kernel, sizeof env.kernel);
        env.tmpdir = tmp;
        snprintf(names, sizeof names, "%s/names", tmp);
        env.names_file = names;
        if (hola_compare_names_write(names, o.names, &e) != 0)
            rc = -1;
        for (size_t si = 0; si < o.n_settings && rc == 0; si++)
            if (hola_compare_run_setting(&o, &env, si, si * per, per * o.n_settings, res, &nres,
                                         NULL, &e) != 0)
                rc = -1;
    }
    hola_compare_progress_end(&o);
    hola_compare_tmpdir_remove(tmp);
    if (rc != 0) {
        fprintf(stderr, "hola-compare: %s\n", e.msg);
        if (hola_compare_interrupted())
            return 130;
        return rc == HOLA_COMPARE_LAB_CANNOT ? 77 : 1;
    }

    if (o.csv)
        hola_compare_print_csv(&o, res, nres, stdout);
    else if (o.json)
        hola_compare_print_json(&o, res, nres, stdout);
    else
        hola_compare_print_table(&o, res, nres, stdout);
    if (fflush(stdout) != 0) {
        fprintf(stderr, _("hola-compare: standard output: %s\n"), strerror(errno));
        return 1;
    }
    if (o.svg != NULL && hola_compare_write_svg(&o, res, nres, o.svg, &e) != 0) {
        fprintf(stderr, "hola-compare: %s\n", e.msg);
        return 1;
    }
    for (size_t k = 0; k < nres; k++)
        if (res[k].failed)
            return 1;
    return 0;
}
