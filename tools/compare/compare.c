/* compare.c: hola-compare's main. It runs the same N names over tcp, udp, rudp and rudp
 * stop-and-wait, lock-step and pipelined, for each impairment setting, and prints one
 * table.
 *
 * On loopback it runs everything itself. With --lab it starts scripts/hola-lab once per
 * setting (the lab applies the kernel-level impairment to both directions) and runs
 * itself inside as a worker (the hidden --lab-worker option): the worker starts each
 * hola-server through lab-srv and each hola-client through lab-cli, and writes one
 * line per run to a file the outer process reads once the lab is gone. Everything the
 * worker starts lives in the lab's PID namespace, so it dies with the lab whatever
 * happens; the worker still reaps every child itself, within bounds. */
#include "compare.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opts.h"
#include "stats.h"

#ifndef HOLA_VERSION
#define HOLA_VERSION "unknown"
#endif
#ifndef HOLA_SOURCE_DIR
#define HOLA_SOURCE_DIR ""
#endif
#ifndef HOLA_PROGRAMS_BUILD_DIR
#define HOLA_PROGRAMS_BUILD_DIR ""
#endif

#define DEFAULT_NAMES 200
#define MAX_NAMES 100000
#define DEFAULT_RUN_TIMEOUT_S 120

static const char usage_text[] =
    "Usage: hola-compare [OPTION]...\n"
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
    "\n";

static const char usage_options[] =
    "Options:\n"
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
    "                        hola's, 64)\n"
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
    "\n";

static const char usage_tail[] =
    "The columns: delivered (names answered, of N), lost, dup and ooo (replies the client\n"
    "got twice or out of the order the names were sent: udp's; tcp and rudp must show\n"
    "0), sent (datagrams both programs sent, for udp and rudp from their --stats, before\n"
    "any built-in loss; TCP segments both ways from /proc/net/snmp: inside the lab each\n"
    "namespace has its own counters, on loopback they are the host's and may include\n"
    "other traffic, note b), retx (retransmissions both ways: rudp's from --stats, TCP's\n"
    "RetransSegs; udp never retransmits), time (completion: from the client's start,\n"
    "resolving and connecting or the handshake included, to its last reply, the\n"
    "client's last_reply_us; the teardown after it is not counted. A run that lost\n"
    "names is timed whole: udp's includes the --udp-wait), p50/p99 (per name: from\n"
    "handing it to the transport the first time to reading its reply; the client's\n"
    "lat_p50_us and lat_p99_us).\n"
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
    "  hola-compare --impair loss=10,delay=5,jitter=1 --csv > runs.csv\n";

/* ---------------------------------------------------------------- signals */

static volatile sig_atomic_t interrupted_flag;

static void on_signal(int sig)
{
    (void)sig;
    interrupted_flag = 1;
}

bool hola_compare_interrupted(void)
{
    return interrupted_flag != 0;
}

static void setup_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "hola-compare: %s (see hola-compare --help)\n", msg);
    return 2;
}

/* ---------------------------------------------------------------- settings */

static int check_num(const char *key, const char *val, double max, bool integer, struct hola_err *e)
{
    char *end;
    errno = 0;
    double d = strtod(val, &end);
    if (val[0] == '\0' || *end != '\0' || errno != 0 || !(d >= 0) || d > max ||
        (integer && d != floor(d)))
        return hola_err_set(e, "--impair: %s=%s: expected %s 0..%g", key, val,
                            integer ? "a whole number" : "a number", max);
    return 0;
}

static int parse_setting(const char *spec, struct hola_compare_setting *s, struct hola_err *e)
{
    char buf[128];
    struct {
        const char *key;
        char *dst;
        double max;
        bool integer;
    } keys[] = {
        { "loss", s->loss, 100, false },         { "delay", s->delay, 3600000, false },
        { "jitter", s->jitter, 3600000, false }, { "dup", s->dup, 100, false },
        { "reorder", s->reorder, 100, false },   { "corrupt", s->corrupt, 100, false },
        { "rate", s->rate, 1e9, true },
    };

    memset(s, 0, sizeof *s);
    if (strlen(spec) >= sizeof buf)
        return hola_err_set(e, "--impair '%s': too long", spec);
    if (strcmp(spec, "none") == 0 || spec[0] == '\0') {
        snprintf(s->text, sizeof s->text, "none");
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    char *save, *tok;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            return hola_err_set(e,
                                "--impair '%s': '%s' is not KEY=VALUE (keys: loss, delay, "
                                "jitter, dup, reorder, corrupt, rate)",
                                spec, tok);
        *eq = '\0';
        size_t i;
        for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(tok, keys[i].key) == 0)
                break;
        if (i == sizeof keys / sizeof keys[0])
            return hola_err_set(e,
                                "--impair '%s': unknown key '%s' (keys: loss, delay, "
                                "jitter, dup, reorder, corrupt, rate)",
                                spec, tok);
        if (strlen(eq + 1) >= 16 || check_num(tok, eq + 1, keys[i].max, keys[i].integer, e) != 0)
            return hola_err_set(e, "--impair '%s': %s=%s: expected %s 0..%g", spec, tok, eq + 1,
                                keys[i].integer ? "a whole number" : "a number", keys[i].max);
        snprintf(keys[i].dst, 16, "%s", eq + 1);
    }
    if (s->reorder[0] && !s->delay[0])
        return hola_err_set(e,
                            "--impair '%s': reorder needs delay (a reordered packet "
                            "overtakes delayed ones)",
                            spec);
    if (s->jitter[0] && !s->delay[0])
        return hola_err_set(e, "--impair '%s': jitter needs delay", spec);
    /* A zero knob is no knob: loss=0 is "none". */
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].dst[0] && strtod(keys[i].dst, NULL) == 0)
            keys[i].dst[0] = '\0';
    s->loss_pct = s->loss[0] ? strtod(s->loss, NULL) : 0;
    size_t l = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].dst[0])
            l += (size_t)snprintf(s->text + l, sizeof s->text - l, "%s%s=%s", l ? "," : "",
                                  keys[i].key, keys[i].dst);
    if (l == 0)
        snprintf(s->text, sizeof s->text, "none");
    return 0;
}

static int add_setting(struct hola_compare_opts *o, const char *spec, struct hola_err *e)
{
    if (o->n_settings >= HOLA_COMPARE_MAX_SETTINGS)
        return hola_err_set(e, "at most %d impairment settings", HOLA_COMPARE_MAX_SETTINGS);
    if (parse_setting(spec, &o->settings[o->n_settings], e) != 0)
        return -1;
    o->n_settings++;
    return 0;
}

static int parse_sweep(struct hola_compare_opts *o, const char *list, struct hola_err *e)
{
    char buf[256], spec[64];
    snprintf(buf, sizeof buf, "%s", list);
    char *save, *tok;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        snprintf(spec, sizeof spec, "loss=%s", tok);
        if (add_setting(o, spec, e) != 0)
            return -1;
    }
    return 0;
}

static int parse_protos(struct hola_compare_opts *o, const char *list, struct hola_err *e)
{
    char buf[256];
    memset(o->variants, 0, sizeof o->variants);
    snprintf(buf, sizeof buf, "%s", list);
    char *save, *tok;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        int v;
        for (v = 0; v < HOLA_COMPARE_VARIANTS; v++)
            if (strcmp(tok, hola_compare_variant_names[v]) == 0)
                break;
        if (v == HOLA_COMPARE_VARIANTS)
            return hola_err_set(e,
                                "--protos: unknown row '%s' (tcp, udp, rudp, rudp-w1, "
                                "rudp-coalesce)",
                                tok);
        o->variants[v] = true;
    }
    return 0;
}

/* ---------------------------------------------------------------- finding programs */

static bool executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static int resolve_paths(struct hola_compare_opts *o, struct hola_err *e)
{
    char dir[HOLA_COMPARE_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", o->self, sizeof o->self - 1);

    if (n <= 0)
        return hola_err_set(e, "cannot find my own executable (/proc/self/exe): %s",
                            strerror(errno));
    o->self[n] = '\0';
    hola_compare_copy(dir, sizeof dir, o->self);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    /* Installed, the three programs share bindir; in the build tree hola-compare sits in
     * tools/compare and the practice's programs in src/hola. */
    const char *bins[2] = { o->bin_dir != NULL ? o->bin_dir : dir,
                            o->bin_dir != NULL ? "" : HOLA_PROGRAMS_BUILD_DIR };
    bool found = false;
    for (int i = 0; i < 2 && !found; i++)
        found = bins[i][0] != '\0' &&
                hola_compare_join(o->server, sizeof o->server, bins[i], "/hola-server") == 0 &&
                hola_compare_join(o->client, sizeof o->client, bins[i], "/hola-client") == 0 &&
                executable(o->server) && executable(o->client);
    if (!found)
        return hola_err_set(e, "hola-server and hola-client not found in %s (use --bin-dir)",
                            bins[0]);
    /* Absolute paths: the lab's wrappers and the worker run from elsewhere. */
    char abs[PATH_MAX];
    if (realpath(o->server, abs) != NULL)
        hola_compare_copy(o->server, sizeof o->server, abs);
    if (realpath(o->client, abs) != NULL)
        hola_compare_copy(o->client, sizeof o->client, abs);
    if (!o->lab)
        return 0;

    const char *env = getenv("HOLA_LAB");
    char cand[6][HOLA_COMPARE_PATH_MAX];
    int nc = 0;
    if (o->lab_script != NULL) {
        if (!executable(o->lab_script))
            return hola_err_set(e, "--lab-script %s: not an executable file", o->lab_script);
        hola_compare_copy(o->lab_path, sizeof o->lab_path, o->lab_script);
        return 0;
    }
    if (env != NULL && env[0] != '\0')
        hola_compare_copy(cand[nc++], sizeof cand[0], env);
    hola_compare_join(cand[nc++], sizeof cand[0], dir, "/hola-lab");
    hola_compare_join(cand[nc++], sizeof cand[0], dir, "/../share/hola/hola-lab");
    hola_compare_join(cand[nc++], sizeof cand[0], dir, "/../libexec/hola/hola-lab");
    if (HOLA_SOURCE_DIR[0] != '\0')
        hola_compare_join(cand[nc++], sizeof cand[0], HOLA_SOURCE_DIR, "/scripts/hola-lab");
    for (int i = 0; i < nc; i++) {
        if (cand[i][0] != '\0' && executable(cand[i])) {
            hola_compare_copy(o->lab_path, sizeof o->lab_path, cand[i]);
            return 0;
        }
    }
    const char *path = getenv("PATH");
    if (path != NULL) {
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", path);
        char *save, *d;
        for (d = strtok_r(buf, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            if (hola_compare_join(o->lab_path, sizeof o->lab_path, d, "/hola-lab") == 0 &&
                executable(o->lab_path))
                return 0;
        }
    }
    o->lab_path[0] = '\0';
    return hola_err_set(e,
                        "--lab: hola-lab not found (next to %s, in ../share/hola, on "
                        "PATH...); use --lab-script PATH or HOLA_LAB=PATH",
                        o->self);
}

/* ---------------------------------------------------------------- the plan */

/* Rows of one setting (pattern × protocol), and the runs behind them. */
static size_t rows_per_setting(const struct hola_compare_opts *o)
{
    size_t n = 0;
    for (int p = 0; p < HOLA_COMPARE_PATTERNS; p++)
        for (int v = 0; v < HOLA_COMPARE_VARIANTS; v++)
            n += o->patterns[p] && o->variants[v];
    return n;
}

static size_t runs_per_setting(const struct hola_compare_opts *o)
{
    return rows_per_setting(o) * o->repeat;
}

static int progress_fd = 2;

static void progress(const struct hola_compare_opts *o, size_t done, size_t total,
                     const struct hola_compare_setting *s, int v, int p)
{
    char line[256];
    if (o->quiet || progress_fd < 0)
        return;
    int tty = isatty(progress_fd);
    int n = snprintf(line, sizeof line, "%s[%zu/%zu] %s, %s, %s%s", tty ? "\r\033[K" : "", done + 1,
                     total, s->text, hola_compare_pattern_names[p], hola_compare_variant_names[v],
                     tty ? " " : "\n");
    if (n > 0 && write(progress_fd, line, (size_t)n) < 0) {
        /* progress is best effort */
    }
}

static void progress_end(const struct hola_compare_opts *o)
{
    if (!o->quiet && progress_fd >= 0 && isatty(progress_fd)) {
        if (write(progress_fd, "\r\033[K", 4) < 0) {
            /* best effort */
        }
    }
}

static int make_tmpdir(char *out, size_t cap, struct hola_err *e)
{
    const char *t = getenv("TMPDIR");
    snprintf(out, cap, "%s/hola-compare.XXXXXX", t != NULL && t[0] ? t : "/tmp");
    if (mkdtemp(out) == NULL)
        return hola_err_set(e, "mkdtemp %s: %s", out, strerror(errno));
    return 0;
}

static void remove_tmpdir(const char *dir)
{
    static const char *const files[] = { "port",      "port.tmp",  "server.err", "client.err",
                                         "names",     "snmp.srv0", "snmp.srv1",  "snmp.cli0",
                                         "snmp.cli1", "lab.out",   "lab.err" };
    char p[HOLA_COMPARE_PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    if (rmdir(dir) != 0 && errno != ENOENT)
        fprintf(stderr, "hola-compare: could not remove %s: %s\n", dir, strerror(errno));
}

static int write_names(const char *path, unsigned long n, struct hola_err *e)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return hola_err_set(e, "%s: %s", path, strerror(errno));
    for (unsigned long i = 1; i <= n; i++)
        fprintf(f, "Nombre %lu\n", i);
    if (fclose(f) != 0)
        return hola_err_set(e, "%s: %s", path, strerror(errno));
    return 0;
}

/* Runs every pattern × row of one setting in env; results appended to res. With
 * --repeat the rows take turns (tcp, udp, rudp..., then tcp again), so a slow spell of
 * the machine falls on every protocol alike, and each row is folded into its median. */
static int run_setting(const struct hola_compare_opts *o, const struct hola_compare_env *env,
                       size_t si, size_t first, size_t total, struct hola_compare_result *res,
                       size_t *nres, FILE *out, struct hola_err *e)
{
    static struct hola_compare_result runs[HOLA_COMPARE_VARIANTS][HOLA_COMPARE_REPEAT_MAX];
    size_t k = 0;
    for (int p = 0; p < HOLA_COMPARE_PATTERNS; p++) {
        if (!o->patterns[p])
            continue;
        for (unsigned long rep = 0; rep < o->repeat; rep++) {
            for (int v = 0; v < HOLA_COMPARE_VARIANTS; v++) {
                if (!o->variants[v])
                    continue;
                struct hola_compare_result *r = &runs[v][rep];
                memset(r, 0, sizeof *r);
                r->variant = v;
                r->pattern = p;
                r->setting = (int)si;
                if (hola_compare_interrupted())
                    return hola_err_set(e, "interrupted");
                progress(o, first + k, total, &o->settings[si], v, p);
                if (hola_compare_run(o, env, &o->settings[si], v, p, r, e) != 0)
                    return -1;
                k++;
            }
        }
        for (int v = 0; v < HOLA_COMPARE_VARIANTS; v++) {
            if (!o->variants[v])
                continue;
            struct hola_compare_result r;
            hola_compare_fold(runs[v], o->repeat, &r);
            if (out != NULL)
                hola_compare_result_write(&r, out);
            if (res != NULL)
                res[(*nres)++] = r;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the lab */

/* The worker: inside hola-lab, one setting, results as lines in out_path. */
static int lab_worker(struct hola_compare_opts *o, size_t si, const char *out_path)
{
    struct hola_err e = { "" };
    struct hola_compare_env env;
    char tmp[HOLA_COMPARE_PATH_MAX], names[HOLA_COMPARE_PATH_MAX + 8];
    FILE *out = fopen(out_path, "a");

    if (out == NULL) {
        fprintf(stderr, "hola-compare: %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    memset(&env, 0, sizeof env);
    env.server_addr = getenv("HOLA_LAB_SERVER_ADDR");
    env.srv_prefix = getenv("HOLA_LAB_SRV");
    env.cli_prefix = getenv("HOLA_LAB_CLI");
    const char *un = getenv("HOLA_LAB_UNAPPLIED"), *ap = getenv("HOLA_LAB_APPLIED");
    snprintf(env.unapplied, sizeof env.unapplied, "%s", un != NULL ? un : "");
    snprintf(env.applied, sizeof env.applied, "%s", ap != NULL ? ap : "");
    const char *gso = getenv("HOLA_LAB_GSO");
    env.gso_whole = gso != NULL && strcmp(gso, "whole") == 0;
    int rc = 1;
    if (env.server_addr == NULL || env.srv_prefix == NULL || env.cli_prefix == NULL) {
        hola_err_set(&e, "--lab-worker runs only inside hola-lab (no HOLA_LAB_* variables)");
        goto out;
    }
    if (make_tmpdir(tmp, sizeof tmp, &e) != 0)
        goto out;
    snprintf(names, sizeof names, "%s/names", tmp);
    env.tmpdir = tmp;
    env.names_file = names;
    size_t per = runs_per_setting(o);
    if (write_names(names, o->names, &e) == 0 &&
        run_setting(o, &env, si, si * per, per * o->n_settings, NULL, NULL, out, &e) == 0)
        rc = 0;
    remove_tmpdir(tmp);
out:
    if (rc != 0) {
        fprintf(out, "E\t%s\n", e.msg);
        fprintf(stderr, "hola-compare: %s\n", e.msg);
    }
    fclose(out);
    return hola_compare_interrupted() ? 130 : rc;
}

/* The knobs of a setting as hola-lab options. */
static void lab_knobs(const struct hola_compare_setting *s, char *argv[], int *argc,
                      char store[][40])
{
    int ns = 0;
#define KNOB(opt, val)                        \
    do {                                      \
        argv[(*argc)++] = (char *)(opt);      \
        snprintf(store[ns], 40, "%s", (val)); \
        argv[(*argc)++] = store[ns++];        \
    } while (0)
    if (s->loss[0])
        KNOB("--loss", s->loss);
    if (s->delay[0]) {
        char d[40];
        snprintf(d, sizeof d, "%s%s%s", s->delay, s->jitter[0] ? "," : "", s->jitter);
        KNOB("--delay", d);
    }
    if (s->dup[0])
        KNOB("--dup", s->dup);
    if (s->reorder[0])
        KNOB("--reorder", s->reorder);
    if (s->corrupt[0])
        KNOB("--corrupt", s->corrupt);
    if (s->rate[0])
        KNOB("--rate", s->rate);
#undef KNOB
}

/* The last non-empty line of a file, for an error message. */
static void last_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    out[0] = '\0';
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] != '\0')
            hola_compare_copy(out, cap, line);
    }
    fclose(f);
}

/* The outer side of one lab: hola-lab KNOBS -- hola-compare ARGS --lab-worker I. */
static int lab_setting(const struct hola_compare_opts *o, int argc, char **argv, size_t si,
                       const char *tmp, struct hola_compare_result *res, size_t *nres,
                       struct hola_err *e)
{
    char *av[2 * HOLA_COMPARE_MAX_SETTINGS + 512];
    char store[16][40], out_path[HOLA_COMPARE_PATH_MAX], err_path[HOLA_COMPARE_PATH_MAX];
    char idx[24], pfd[24], bindir[HOLA_COMPARE_PATH_MAX];
    int n = 0;

    if (argc > 400)
        return hola_err_set(e, "too many arguments for --lab");
    if (hola_compare_join(out_path, sizeof out_path, tmp, "/lab.out") != 0 ||
        hola_compare_join(err_path, sizeof err_path, tmp, "/lab.err") != 0)
        return hola_err_set(e, "the temporary directory's path is too long");
    unlink(out_path);
    av[n++] = (char *)o->lab_path;
    av[n++] = (char *)"-q";
    lab_knobs(&o->settings[si], av, &n, store);
    av[n++] = (char *)"--";
    av[n++] = (char *)o->self;
    for (int i = 1; i < argc; i++)
        av[n++] = argv[i];
    hola_compare_copy(bindir, sizeof bindir, o->server);
    *strrchr(bindir, '/') = '\0';
    snprintf(idx, sizeof idx, "%zu", si);
    /* Our standard error, for the worker's progress line: hola-lab's own goes to a file
     * (shown only when the lab fails). */
    int pfd_n = o->quiet ? -1 : dup(2);
    snprintf(pfd, sizeof pfd, "%d", pfd_n);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    av[n++] = (char *)"--seed";
    av[n++] = seed;
    av[n++] = (char *)"--bin-dir";
    av[n++] = bindir;
    av[n++] = (char *)"--lab-worker";
    av[n++] = idx;
    av[n++] = (char *)"--lab-out";
    av[n++] = out_path;
    if (pfd_n >= 0) {
        av[n++] = (char *)"--lab-progress-fd";
        av[n++] = pfd;
    }
    av[n] = NULL;

    pid_t pid = hola_compare_spawn(av, NULL, NULL, err_path, e);
    if (pfd_n >= 0)
        close(pfd_n);
    if (pid < 0)
        return -1;
    /* The whole lab: every run's bound, plus building and removing the lab. */
    unsigned long bound_ms =
        (unsigned long)runs_per_setting(o) * (o->run_timeout_s * 1000u + 20000u) + 60000u;
    int rc = hola_compare_wait(pid, bound_ms);

    FILE *f = fopen(out_path, "r");
    char line[1024], worker_err[512] = "";
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            struct hola_compare_result r;
            if (hola_compare_result_read(line, &r) == 0)
                res[(*nres)++] = r;
            else if (strncmp(line, "E\t", 2) == 0) {
                line[strcspn(line, "\n")] = '\0';
                hola_compare_copy(worker_err, sizeof worker_err, line + 2);
            }
        }
        fclose(f);
    }
    if (hola_compare_interrupted())
        return hola_err_set(e, "interrupted");
    if (rc == 0)
        return 0;
    char why[512];
    last_line(err_path, why, sizeof why);
    if (rc == 77)
        return hola_err_set(e, "the lab cannot run on this machine: %s", why);
    if (rc == -2)
        return hola_err_set(e, "the lab for '%s' did not end within %lu s", o->settings[si].text,
                            bound_ms / 1000u);
    return hola_err_set(e, "the lab for '%s' failed (status %d): %s", o->settings[si].text, rc,
                        worker_err[0] ? worker_err
                        : why[0]      ? why
                                      : "no message");
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

    o.names = DEFAULT_NAMES;
    o.run_timeout_s = DEFAULT_RUN_TIMEOUT_S;
    o.repeat = 1;
    parse_protos(&o, "tcp,udp,rudp,rudp-w1", &e);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:i:lt:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (hola_opts_ulong(optarg, "--names", 1, MAX_NAMES, &o.names, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'i':
            if (add_setting(&o, optarg, &e) != 0)
                return usage_error(e.msg);
            break;
        case OPT_SWEEP:
            if (parse_sweep(&o, optarg, &e) != 0)
                return usage_error(e.msg);
            break;
        case 'l':
            only_lock = true;
            break;
        case OPT_PIPELINED:
            only_pipe = true;
            break;
        case OPT_PROTOS:
            if (parse_protos(&o, optarg, &e) != 0)
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
                return usage_error("--svg: the file name is empty");
            o.svg = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            fputs(usage_options, stdout);
            fputs(usage_tail, stdout);
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
            progress_fd = fcntl((int)v, F_GETFD) >= 0 ? (int)v : -1;
            break;
        default:
            hola_opts_getopt_error(c, optopt, argv, optind, &e);
            return usage_error(e.msg);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument (settings go in --impair)");
    if (o.csv && o.json)
        return usage_error("--csv and --json: choose one");
    if (only_lock && only_pipe)
        return usage_error("--lockstep and --pipelined: leave both out to run both");
    o.patterns[HOLA_COMPARE_LOCKSTEP] = !only_pipe;
    o.patterns[HOLA_COMPARE_PIPELINED] = !only_lock;
    if (coalesce)
        o.variants[HOLA_COMPARE_RUDP_COALESCE] = true;
    if (o.n_settings == 0) {
        add_setting(&o, "none", &e);
        add_setting(&o, "loss=10", &e);
    }
    if (!o.seed_given) {
        o.seed = (hola_stats_now_us() ^ ((uint64_t)getpid() << 20)) % 1000000000u + 1u;
    }
    setup_signals();

    if (worker >= 0) {
        if (lab_out == NULL || (size_t)worker >= o.n_settings)
            return usage_error("--lab-worker is internal to --lab");
        /* The worker finds the programs through --bin-dir, given by the outer side. */
        o.lab = false;
        if (resolve_paths(&o, &e) != 0) {
            fprintf(stderr, "hola-compare: %s\n", e.msg);
            return 1;
        }
        o.lab = true;
        return lab_worker(&o, (size_t)worker, lab_out);
    }
    if (resolve_paths(&o, &e) != 0) {
        fprintf(stderr, "hola-compare: %s\n", e.msg);
        return 1;
    }
    if (o.svg != NULL) {
        /* A bad path is reported now, not after minutes of runs. */
        FILE *f = fopen(o.svg, "w");
        if (f == NULL) {
            fprintf(stderr, "hola-compare: --svg %s: %s\n", o.svg, strerror(errno));
            return 1;
        }
        fclose(f);
    }

    char tmp[HOLA_COMPARE_PATH_MAX], names[HOLA_COMPARE_PATH_MAX + 8];
    size_t nres = 0;
    int rc = 0;
    if (make_tmpdir(tmp, sizeof tmp, &e) != 0) {
        fprintf(stderr, "hola-compare: %s\n", e.msg);
        return 1;
    }
    size_t per = runs_per_setting(&o);
    if (o.lab) {
        /* The worker writes progress on our standard error, through the lab. */
        for (size_t si = 0; si < o.n_settings && rc == 0; si++)
            if (lab_setting(&o, argc, argv, si, tmp, res, &nres, &e) != 0)
                rc = -1;
    } else {
        struct hola_compare_env env;
        memset(&env, 0, sizeof env);
        env.server_addr = "127.0.0.1";
        env.tmpdir = tmp;
        snprintf(names, sizeof names, "%s/names", tmp);
        env.names_file = names;
        if (write_names(names, o.names, &e) != 0)
            rc = -1;
        for (size_t si = 0; si < o.n_settings && rc == 0; si++)
            if (run_setting(&o, &env, si, si * per, per * o.n_settings, res, &nres, NULL, &e) != 0)
                rc = -1;
    }
    progress_end(&o);
    remove_tmpdir(tmp);
    if (rc != 0) {
        fprintf(stderr, "hola-compare: %s\n", e.msg);
        if (hola_compare_interrupted())
            return 130;
        return strncmp(e.msg, "the lab cannot run", 18) == 0 ? 77 : 1;
    }

    if (o.csv)
        hola_compare_print_csv(&o, res, nres, stdout);
    else if (o.json)
        hola_compare_print_json(&o, res, nres, stdout);
    else
        hola_compare_print_table(&o, res, nres, stdout);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "hola-compare: standard output: %s\n", strerror(errno));
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
