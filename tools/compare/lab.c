/* lab.c: hola-compare --lab. The outer process starts scripts/hola-lab once per
 * setting (the lab applies the kernel-level impairment to both directions) and runs
 * itself inside as a worker (the hidden --lab-worker option): the worker starts each
 * hola-server through lab-srv and each hola-client through lab-cli, and writes one line
 * per row to a file the outer process reads once the lab is gone. Everything the worker
 * starts lives in the lab's PID namespace, so it dies with the lab whatever happens; the
 * worker still reaps every child itself, within bounds. */
#include "lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "plan.h"
#include "proc.h"
#include "record.h"

/* The worker: inside hola-lab, one setting, results as lines in out_path. */
int hola_compare_lab_worker(struct hola_compare_opts *o, size_t si, const char *out_path)
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
    /* What impairs the cable, and the kernel it runs on, for the table's first line. */
    const char *backend = getenv("HOLA_LAB_BACKEND");
    hola_compare_copy_text(env.backend, sizeof env.backend,
                           backend != NULL && backend[0] ? backend : "?");
    hola_compare_kernel(env.kernel, sizeof env.kernel);
    int rc = 1;
    if (env.server_addr == NULL || env.srv_prefix == NULL || env.cli_prefix == NULL) {
        hola_err_set(&e, _("--lab-worker runs only inside hola-lab (no HOLA_LAB_* variables)"));
        goto out;
    }
    if (hola_compare_tmpdir_make(tmp, sizeof tmp, &e) != 0)
        goto out;
    snprintf(names, sizeof names, "%s/names", tmp);
    env.tmpdir = tmp;
    env.names_file = names;
    size_t per = hola_compare_runs_per_setting(o);
    if (hola_compare_names_write(names, o->names, &e) == 0 &&
        hola_compare_run_setting(o, &env, si, si * per, per * o->n_settings, NULL, NULL, out, &e) ==
            0)
        rc = 0;
    hola_compare_tmpdir_remove(tmp);
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
int hola_compare_lab_setting(const struct hola_compare_opts *o, int argc, char **argv, size_t si,
                             const char *tmp, struct hola_compare_result *res, size_t *nres,
                             struct hola_err *e)
{
    char *av[2 * HOLA_COMPARE_MAX_SETTINGS + 512];
    char store[16][40], out_path[HOLA_COMPARE_PATH_MAX], err_path[HOLA_COMPARE_PATH_MAX];
    char idx[24], pfd[24], bindir[HOLA_COMPARE_PATH_MAX];
    int n = 0;

    if (argc > 400)
        return hola_err_set(e, _("too many arguments for --lab"));
    if (hola_compare_join(out_path, sizeof out_path, tmp, "/lab.out") != 0 ||
        hola_compare_join(err_path, sizeof err_path, tmp, "/lab.err") != 0)
        return hola_err_set(e, _("the temporary directory's path is too long"));
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
        (unsigned long)hola_compare_runs_per_setting(o) * (o->run_timeout_s * 1000u + 20000u) +
        60000u;
    int rc = hola_compare_wait(pid, bound_ms);

    FILE *f = fopen(out_path, "r");
    char line[2048], worker_err[512] = "";
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
        return hola_err_set(e, _("interrupted"));
    if (rc == 0)
        return 0;
    char why[512];
    last_line(err_path, why, sizeof why);
    if (rc == 77) {
        hola_err_set(e, _("the lab cannot run on this machine: %s"), why);
        return HOLA_COMPARE_LAB_CANNOT;
    }
    if (rc == -2)
        return hola_err_set(e, _("the lab for '%s' did not end within %lu s"), o->settings[si].text,
                            bound_ms / 1000u);
    return hola_err_set(e, _("the lab for '%s' failed (status %d): %s"), o->settings[si].text, rc,
                        worker_err[0] ? worker_err
                        : why[0]      ? why
                                      : _("no message"));
}
