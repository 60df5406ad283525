/* run.c: one run of hola-compare. A fresh hola-server (kernel-chosen port,
 * --port-file, --stats) and one hola-client reading the names from a file, both with
 * every wait bounded: the server must listen within 10 s, the client must end within
 * --timeout, the server must stop within 5 s of SIGTERM; whatever overstays is killed
 * and always reaped. The numbers come from the programs' --stats lines, and TCP's
 * segment and retransmission counts from /proc/net/snmp before and after (inside each
 * lab namespace, or the host's on loopback). */
#include "run.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "i18n.h"
#include "proc.h"
#include "stats.h"

#define START_TIMEOUT_MS 10000u
#define STOP_TIMEOUT_MS 5000u
#define TCP_REPLY_TIMEOUT_MS "30000"
#define MAX_ARGS 64

/* ---------------------------------------------------------------- parsing */

/* hola-client's notice that it impairs its own datagrams ("hola-client: impairing
 * outgoing datagrams, seed N"), in English or in the language it speaks, which is ours
 * (the same catalog): not an error, so never the line that explains a failure. */
static bool impair_notice(const char *line)
{
    static const char prog[] = "hola-client";
    const char *fmt[2] = { "%s: impairing outgoing datagrams, seed %" PRIu64 "\n",
                           _("%s: impairing outgoing datagrams, seed %" PRIu64 "\n") };

    if (strncmp(line, prog, sizeof prog - 1) != 0)
        return false;
    for (int i = 0; i < 2; i++) {
        /* The text between the program's name and the seed. */
        const char *mid = fmt[i] + 2;
        size_t n = strcspn(mid, "%");
        if (strncmp(fmt[i], "%s", 2) == 0 && n > 0 && strncmp(line + sizeof prog - 1, mid, n) == 0)
            return true;
    }
    return false;
}

/* The last line of path starting with {"proto": the program's --stats. */
static int read_stats_line(const char *path, char *out, size_t cap, char *last, size_t lcap)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    int found = 0;

    out[0] = '\0';
    if (last != NULL)
        last[0] = '\0';
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "{\"proto\":", 9) == 0) {
            hola_compare_copy(out, cap, line);
            found = 1;
        } else if (last != NULL && line[0] != '\0' && !impair_notice(line)) {
            hola_compare_copy(last, lcap, line);
        }
    }
    fclose(f);
    return found;
}

/* The number after "key": in a --stats line; 0 when absent. */
static unsigned long long json_num(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    return p != NULL ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static unsigned long long json_ms_as_us(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (p == NULL)
        return 0;
    char *end;
    unsigned long long ms = strtoull(p + strlen(pat), &end, 10), frac = 0;
    if (*end == '.') {
        int digits = 0;
        for (end++; *end >= '0' && *end <= '9' && digits < 3; end++, digits++)
            frac = frac * 10 + (unsigned long long)(*end - '0');
        for (; digits < 3; digits++)
            frac *= 10;
    }
    return ms * 1000u + frac;
}

/* /proc/net/snmp and /proc/net/netstat: "Tcp: name name..." then "Tcp: value
 * value...", and the same for "TcpExt:". */
struct hola_compare_snmp {
    unsigned long long out_segs, retrans_segs;
    unsigned long long syn_retrans; /* TCPSynRetrans: SYNs and SYN-ACKs sent again */
    bool ok;
};

static void parse_snmp(const char *path, struct hola_compare_snmp *s)
{
    FILE *f = fopen(path, "r");
    char head[4096], vals[4096];

    if (f == NULL)
        return;
    while (fgets(head, sizeof head, f) != NULL) {
        size_t skip = strncmp(head, "Tcp:", 4) == 0 ? 4 : strncmp(head, "TcpExt:", 7) == 0 ? 7 : 0;
        if (skip == 0)
            continue;
        if (fgets(vals, sizeof vals, f) == NULL)
            break;
        char *hs, *vs;
        char *h = strtok_r(head + skip, " \n", &hs), *v = strtok_r(vals + skip, " \n", &vs);
        for (; h != NULL && v != NULL;
             h = strtok_r(NULL, " \n", &hs), v = strtok_r(NULL, " \n", &vs)) {
            if (strcmp(h, "OutSegs") == 0)
                s->out_segs = strtoull(v, NULL, 10);
            else if (strcmp(h, "RetransSegs") == 0)
                s->retrans_segs = strtoull(v, NULL, 10);
            else if (strcmp(h, "TCPSynRetrans") == 0)
                s->syn_retrans = strtoull(v, NULL, 10);
        }
        if (skip == 4)
            s->ok = true;
    }
    fclose(f);
}

/* Reads TCP's counters of one side: the lab's namespace through its prefix, or the
 * host's own files. */
static void read_snmp(const char *prefix, const char *tmp, const char *tag,
                      struct hola_compare_snmp *s)
{
    char path[HOLA_COMPARE_PATH_MAX];
    struct hola_err e;

    memset(s, 0, sizeof *s);
    if (prefix == NULL) {
        parse_snmp("/proc/net/snmp", s);
        parse_snmp("/proc/net/netstat", s);
        return;
    }
    char suffix[16];
    snprintf(suffix, sizeof suffix, "/snmp.%s", tag);
    hola_compare_join(path, sizeof path, tmp, suffix);
    char *argv[] = { (char *)prefix, (char *)"/bin/cat", (char *)"/proc/net/snmp",
                     (char *)"/proc/net/netstat", NULL };
    pid_t pid = hola_compare_spawn(argv, NULL, path, NULL, &e);
    if (pid > 0 && hola_compare_wait(pid, 5000) == 0)
        parse_snmp(path, s);
}

/* ---------------------------------------------------------------- arguments */

struct hola_compare_args {
    char *v[MAX_ARGS];
    int n;
    char store[MAX_ARGS][160];
    int ns;
};

static void arg(struct hola_compare_args *a, const char *s)
{
    if (a->n < MAX_ARGS - 1) {
        a->v[a->n++] = (char *)s;
        a->v[a->n] = NULL;
    }
}

static void argf(struct hola_compare_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void argf(struct hola_compare_args *a, const char *fmt, ...)
{
    va_list ap;

    if (a->ns >= MAX_ARGS)
        return;
    va_start(ap, fmt);
    vsnprintf(a->store[a->ns], sizeof a->store[0], fmt, ap);
    va_end(ap);
    arg(a, a->store[a->ns++]);
}

/* Adds the programs' impairment options for knob=value and notes it in `list`. */
static void impair_knob(struct hola_compare_args *a, const char *key, const char *val, char *list,
                        size_t cap)
{
    if (val == NULL || val[0] == '\0')
        return;
    argf(a, "--%s", key);
    argf(a, "%s", val);
    size_t l = strlen(list);
    snprintf(list + l, cap - l, "%s%s=%s", l ? "," : "", key, val);
}

/* The knobs of setting s that the programs must apply themselves: every one on
 * loopback; in the lab, those hola-lab reported in HOLA_LAB_UNAPPLIED. */
static void builtin_knobs(const struct hola_compare_env *env, const struct hola_compare_setting *s,
                          struct hola_compare_args *a, char *list, size_t cap)
{
    char delay[40];

    list[0] = '\0';
    if (s->jitter[0] != '\0')
        snprintf(delay, sizeof delay, "%s,%s", s->delay[0] ? s->delay : "0", s->jitter);
    else
        snprintf(delay, sizeof delay, "%s", s->delay);
    const struct {
        const char *key, *val;
    } knobs[] = {
        { "loss", s->loss },       { "delay", delay },        { "dup", s->dup },
        { "reorder", s->reorder }, { "corrupt", s->corrupt }, { "rate", s->rate },
    };
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
        if (env->srv_prefix != NULL) {
            /* HOLA_LAB_UNAPPLIED: "delay=5,1 dup=1", the values as hola-lab got them. */
            char pat[32];
            snprintf(pat, sizeof pat, "%s=", knobs[i].key);
            const char *p = env->unapplied;
            bool found = false;
            while ((p = strstr(p, pat)) != NULL) {
                if (p == env->unapplied || p[-1] == ' ') {
                    found = true;
                    break;
                }
                p++;
            }
            if (!found)
                continue;
        }
        impair_knob(a, knobs[i].key, knobs[i].val, list, cap);
    }
}

static bool is_rudp(int variant)
{
    return variant >= HOLA_COMPARE_RUDP;
}

static void rudp_opts(const struct hola_compare_opts *o, const struct hola_compare_env *env,
                      int variant, struct hola_compare_args *a)
{
    /* Where the lab's impairment meets a GSO send before the kernel cuts it into
     * datagrams (netem), it would lose the whole run as one packet: one datagram per
     * send keeps the loss a per-datagram one, as it is for TCP's segments. */
    if (env->gso_whole)
        arg(a, "--no-gso");
    if (variant == HOLA_COMPARE_RUDP_W1) {
        arg(a, "--window");
        arg(a, "1");
    } else if (o->window != 0) {
        arg(a, "--window");
        argf(a, "%lu", o->window);
    }
    if (variant == HOLA_COMPARE_RUDP_COALESCE)
        arg(a, "--coalesce");
}

static const char *proto_of(int variant)
{
    return variant == HOLA_COMPARE_TCP ? "tcp" : variant == HOLA_COMPARE_UDP ? "udp" : "rudp";
}

/* How long the udp client waits for replies: --udp-wait, else 100 ms or 50 ms plus
 * four times the setting's delay and jitter, whichever is longer. */
static unsigned long udp_wait_ms(const struct hola_compare_opts *o,
                                 const struct hola_compare_setting *s)
{
    if (o->udp_wait_ms != 0)
        return o->udp_wait_ms;
    double d =
        (s->delay[0] ? strtod(s->delay, NULL) : 0) + (s->jitter[0] ? strtod(s->jitter, NULL) : 0);
    unsigned long w = 50u + (unsigned long)(4.0 * d);
    return w < 100u ? 100u : w;
}

/* ---------------------------------------------------------------- one run */

static void stop_server(pid_t pid)
{
    kill(pid, SIGTERM);
    hola_compare_wait(pid, STOP_TIMEOUT_MS);
}

int hola_compare_run(const struct hola_compare_opts *o, const struct hola_compare_env *env,
                     const struct hola_compare_setting *s, int variant, int pattern,
                     struct hola_compare_result *r, struct hola_err *e)
{
    char port_file[HOLA_COMPARE_PATH_MAX], srv_err[HOLA_COMPARE_PATH_MAX],
        cli_err[HOLA_COMPARE_PATH_MAX];
    struct hola_compare_args sa = { .n = 0 }, ca = { .n = 0 };
    char builtin[128];
    const char *proto = proto_of(variant);
    bool tcp = variant == HOLA_COMPARE_TCP;
    uint64_t seed =
        o->seed + (uint64_t)r->setting * 1000u + (uint64_t)variant * 10u + (uint64_t)pattern * 2u;

    if (hola_compare_join(port_file, sizeof port_file, env->tmpdir, "/port") != 0 ||
        hola_compare_join(srv_err, sizeof srv_err, env->tmpdir, "/server.err") != 0 ||
        hola_compare_join(cli_err, sizeof cli_err, env->tmpdir, "/client.err") != 0)
        return hola_err_set(e, _("the temporary directory's path is too long"));
    unlink(port_file);

    /* The server. */
    if (env->srv_prefix != NULL)
        arg(&sa, env->srv_prefix);
    arg(&sa, o->server);
    const char *common[] = { "-p", proto, "-b", env->server_addr, "-P", "0", "--stats" };
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        arg(&sa, common[i]);
    arg(&sa, "--port-file");
    arg(&sa, port_file);
    if (is_rudp(variant))
        rudp_opts(o, env, variant, &sa);

    /* The client (its port is added once the server has one). */
    if (env->cli_prefix != NULL)
        arg(&ca, env->cli_prefix);
    arg(&ca, o->client);
    arg(&ca, "-p");
    arg(&ca, proto);
    arg(&ca, "-H");
    arg(&ca, env->server_addr);
    arg(&ca, "--stats");
    if (pattern == HOLA_COMPARE_LOCKSTEP)
        arg(&ca, "--lockstep");
    if (tcp) {
        arg(&ca, "-t");
        arg(&ca, TCP_REPLY_TIMEOUT_MS);
    } else if (variant == HOLA_COMPARE_UDP) {
        arg(&ca, "-t");
        argf(&ca, "%lu", udp_wait_ms(o, s));
    } else {
        rudp_opts(o, env, variant, &ca);
    }

    /* Impairment: the kernel's (lab) needs nothing here; the programs' own for udp and
     * rudp; TCP gets none of the built-in knobs, and the result says which. */
    builtin[0] = '\0';
    r->unimpaired[0] = r->builtin[0] = '\0';
    hola_compare_copy(r->kernel, sizeof r->kernel, env->kernel);
    if (!tcp) {
        builtin_knobs(env, s, &sa, builtin, sizeof builtin);
        builtin_knobs(env, s, &ca, builtin, sizeof builtin);
        if (builtin[0] != '\0') {
            argf(&sa, "--seed");
            argf(&sa, "%llu", (unsigned long long)seed);
            argf(&ca, "--seed");
            argf(&ca, "%llu", (unsigned long long)seed + 1u);
            /* Both programs got the same list: keep it once. */
            struct hola_compare_args dummy = { .n = 0 };
            builtin_knobs(env, s, &dummy, r->builtin, sizeof r->builtin);
        }
    } else {
        struct hola_compare_args dummy = { .n = 0 };
        builtin_knobs(env, s, &dummy, r->unimpaired, sizeof r->unimpaired);
    }
    /* The lab names its backend; on loopback every knob is the programs' own. */
    if (env->srv_prefix != NULL)
        hola_compare_copy(r->backend, sizeof r->backend, env->backend);
    else
        hola_compare_copy(r->backend, sizeof r->backend,
                          strcmp(s->text, "none") == 0 ? "none" : "built-in");

    struct hola_compare_snmp before[2], after[2];
    if (tcp) {
        read_snmp(env->srv_prefix, env->tmpdir, "srv0", &before[0]);
        if (env->cli_prefix != NULL)
            read_snmp(env->cli_prefix, env->tmpdir, "cli0", &before[1]);
        else
            memset(&before[1], 0, sizeof before[1]);
    }

    pid_t spid = hola_compare_spawn(sa.v, NULL, NULL, srv_err, e);
    if (spid < 0)
        return -1;
    /* Wait for the port file: the server is listening. */
    char port[16] = "";
    uint64_t deadline = hola_stats_now_us() + (uint64_t)START_TIMEOUT_MS * 1000u;
    for (;;) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            if (fgets(port, sizeof port, f) == NULL)
                port[0] = '\0';
            fclose(f);
            port[strcspn(port, "\n")] = '\0';
            if (port[0] != '\0')
                break;
        }
        int st;
        if (waitpid(spid, &st, WNOHANG) == spid) {
            char last[256];
            char dummy[8];
            read_stats_line(srv_err, dummy, sizeof dummy, last, sizeof last);
            return hola_err_set(e, _("hola-server (%s) exited before listening: %s"), proto,
                                last[0] ? last : _("no message"));
        }
        if (hola_compare_interrupted() || hola_stats_now_us() >= deadline) {
            bool intr = hola_compare_interrupted();
            stop_server(spid);
            if (intr)
                return hola_err_set(e, _("interrupted"));
            return hola_err_set(e, _("hola-server (%s) did not listen within %u s"), proto,
                                START_TIMEOUT_MS / 1000u);
        }
        hola_compare_sleep_ms(2);
    }
    arg(&ca, "-P");
    arg(&ca, port);

    pid_t cpid = hola_compare_spawn(ca.v, env->names_file, NULL, cli_err, e);
    if (cpid < 0) {
        stop_server(spid);
        return -1;
    }
    int crc = hola_compare_wait(cpid, o->run_timeout_s * 1000u);
    stop_server(spid);
    if (tcp) {
        read_snmp(env->srv_prefix, env->tmpdir, "srv1", &after[0]);
        if (env->cli_prefix != NULL)
            read_snmp(env->cli_prefix, env->tmpdir, "cli1", &after[1]);
        else
            memset(&after[1], 0, sizeof after[1]);
    }
    if (hola_compare_interrupted())
        return hola_err_set(e, _("interrupted"));

    char cst[8192], sst[8192], last[512];
    bool have_c = read_stats_line(cli_err, cst, sizeof cst, last, sizeof last);
    read_stats_line(srv_err, sst, sizeof sst, NULL, 0);
    r->done = true;
    if (crc == -2) {
        r->failed = true;
        snprintf(r->error, sizeof r->error, _("no end within --timeout %lu s"), o->run_timeout_s);
    } else if (crc != 0 && !(variant == HOLA_COMPARE_UDP && crc == 3)) {
        r->failed = true;
        if (last[0] != '\0')
            hola_compare_copy(r->error, sizeof r->error, last);
        else
            snprintf(r->error, sizeof r->error, _("hola-client exited with status %d"), crc);
    }
    if (!have_c) {
        r->failed = true;
        if (r->error[0] == '\0')
            snprintf(r->error, sizeof r->error, "%s", _("hola-client printed no --stats"));
        r->lost = o->names;
        return 0;
    }
    r->delivered = json_num(cst, "received");
    r->lost = o->names > r->delivered ? o->names - r->delivered : 0;
    r->dup = json_num(cst, "dup");
    r->ooo = json_num(cst, is_rudp(variant) ? "reply_out_of_order" : "out_of_order");
    /* Completion time: to the last reply when every name got one. The teardown after
     * it (TCP's FIN, rudp's closing handshake) is not part of the exchange; a run that
     * lost names is timed whole, udp's wait for the missing replies included. */
    unsigned long long last_reply = json_num(cst, "last_reply_us");
    r->time_us =
        r->delivered == o->names && last_reply > 0 ? last_reply : json_ms_as_us(cst, "elapsed_ms");
    r->runs = 1;
    r->time_min_us = r->time_max_us = r->time_us;
    r->p50_us = json_num(cst, "lat_p50_us");
    r->p99_us = json_num(cst, "lat_p99_us");
    if (tcp) {
        bool ok = before[0].ok && after[0].ok &&
                  (env->cli_prefix == NULL || (before[1].ok && after[1].ok));
        r->counters = env->cli_prefix != NULL ? HOLA_COMPARE_CNT_NETNS : HOLA_COMPARE_CNT_HOST;
        if (ok) {
            r->sent =
                (after[0].out_segs - before[0].out_segs) + (after[1].out_segs - before[1].out_segs);
            r->retx = (after[0].retrans_segs - before[0].retrans_segs) +
                      (after[1].retrans_segs - before[1].retrans_segs);
            /* Only the lab's namespaces: the host's counter is everybody's. */
            r->hs_retry =
                env->cli_prefix != NULL && (after[0].syn_retrans - before[0].syn_retrans) +
                                                   (after[1].syn_retrans - before[1].syn_retrans) >
                                               0;
        }
    } else if (variant == HOLA_COMPARE_UDP) {
        r->counters = HOLA_COMPARE_CNT_PROGRAM;
        r->sent = json_num(cst, "sent") + json_num(sst, "sent");
        r->retx = 0;
    } else {
        r->counters = HOLA_COMPARE_CNT_PROGRAM;
        r->sent = json_num(cst, "packets_sent") + json_num(sst, "packets_sent");
        r->retx = json_num(cst, "retransmits_timeout") + json_num(cst, "retransmits_fast") +
                  json_num(sst, "retransmits_timeout") + json_num(sst, "retransmits_fast");
        r->hs_retry = json_num(cst, "handshake_retries") > 0;
    }
    r->hs_retry_runs = r->hs_retry;
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const struct hola_compare_result *x = *(const struct hola_compare_result *const *)a;
    const struct hola_compare_result *y = *(const struct hola_compare_result *const *)b;
    return x->time_us < y->time_us ? -1 : x->time_us > y->time_us;
}

void hola_compare_fold(const struct hola_compare_result *runs, size_t n,
                       struct hola_compare_result *out)
{
    const struct hola_compare_result *order[HOLA_COMPARE_REPEAT_MAX];
    size_t m = 0;

    for (size_t i = 0; i < n && m < HOLA_COMPARE_REPEAT_MAX; i++)
        if (runs[i].done)
            order[m++] = &runs[i];
    if (m == 0) {
        *out = runs[0];
        return;
    }
    qsort(order, m, sizeof(const struct hola_compare_result *), by_time);
    /* The lower median for an even count: a time that was measured, not an average. */
    *out = *order[(m - 1) / 2];
    out->runs = (unsigned)m;
    out->hs_retry_runs = 0;
    out->time_min_us = order[0]->time_us;
    out->time_max_us = order[m - 1]->time_us;
    for (size_t i = 0; i < m; i++) {
        const struct hola_compare_result *r = order[i];
        if (r->delivered < out->delivered)
            out->delivered = r->delivered;
        if (r->lost > out->lost)
            out->lost = r->lost;
        if (r->dup > out->dup)
            out->dup = r->dup;
        if (r->ooo > out->ooo)
            out->ooo = r->ooo;
        out->hs_retry_runs += r->hs_retry;
        if (r->failed && !out->failed) {
            out->failed = true;
            memcpy(out->error, r->error, sizeof out->error);
        }
    }
}
