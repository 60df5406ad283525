/* plan.c: the runs of one impairment setting. With --repeat the rows take turns (tcp,
 * udp, rudp..., then tcp again), so a slow spell of the machine falls on every protocol
 * alike, and each row is folded into its median run. */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "proc.h"
#include "record.h"
#include "run.h"

/* Rows of one setting (pattern × protocol), and the runs behind them. */
static size_t rows_per_setting(const struct hola_compare_opts *o)
{
    size_t n = 0;
    for (int p = 0; p < HOLA_COMPARE_PATTERNS; p++)
        for (int v = 0; v < HOLA_COMPARE_VARIANTS; v++)
            n += o->patterns[p] && o->variants[v];
    return n;
}

size_t hola_compare_runs_per_setting(const struct hola_compare_opts *o)
{
    return rows_per_setting(o) * o->repeat;
}

static int progress_fd = 2;

void hola_compare_progress_fd_set(int fd)
{
    progress_fd = fd;
}

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

void hola_compare_progress_end(const struct hola_compare_opts *o)
{
    if (!o->quiet && progress_fd >= 0 && isatty(progress_fd)) {
        if (write(progress_fd, "\r\033[K", 4) < 0) {
            /* best effort */
        }
    }
}

int hola_compare_tmpdir_make(char *out, size_t cap, struct hola_err *e)
{
    const char *t = getenv("TMPDIR");
    snprintf(out, cap, "%s/hola-compare.XXXXXX", t != NULL && t[0] ? t : "/tmp");
    if (mkdtemp(out) == NULL)
        return hola_err_set(e, "mkdtemp %s: %s", out, strerror(errno));
    return 0;
}

void hola_compare_tmpdir_remove(const char *dir)
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
        fprintf(stderr, _("hola-compare: could not remove %s: %s\n"), dir, strerror(errno));
}

int hola_compare_names_write(const char *path, unsigned long n, struct hola_err *e)
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
int hola_compare_run_setting(const struct hola_compare_opts *o, const struct hola_compare_env *env,
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
                    return hola_err_set(e, _("interrupted"));
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
