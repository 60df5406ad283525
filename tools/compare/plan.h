/* plan.h: the runs of one impairment setting (pattern × row × --repeat) in one
 * environment, loopback or inside the lab, with the progress line and scratch files. */
#ifndef HOLA_COMPARE_PLAN_H
#define HOLA_COMPARE_PLAN_H

#include <stdio.h>

#include "compare.h"

/* Runs of one setting: rows × --repeat. */
size_t hola_compare_runs_per_setting(const struct hola_compare_opts *o);

/* Where the progress line goes (default 2; -1: nowhere), and clearing it at the end. */
void hola_compare_progress_fd_set(int fd);
void hola_compare_progress_end(const struct hola_compare_opts *o);

/* A scratch directory under $TMPDIR, its removal (with the files the runs leave), and
 * the names file "Nombre 1".."Nombre n". 0, or -1 with e set. */
int hola_compare_tmpdir_make(char *out, size_t cap, struct hola_err *e);
void hola_compare_tmpdir_remove(const char *dir);
int hola_compare_names_write(const char *path, unsigned long n, struct hola_err *e);

/* Runs every pattern × row of setting si in env; each row's folded result is appended
 * to res (when not NULL) and written to out (when not NULL). first and total number the
 * progress line. 0, or -1 with e set. */
int hola_compare_run_setting(const struct hola_compare_opts *o, const struct hola_compare_env *env,
                             size_t si, size_t first, size_t total, struct hola_compare_result *res,
                             size_t *nres, FILE *out, struct hola_err *e);

#endif
