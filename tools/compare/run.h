/* run.h: one run of hola-compare (one row × pattern × setting), and the fold of a
 * row's repeated runs into one. */
#ifndef HOLA_COMPARE_RUN_H
#define HOLA_COMPARE_RUN_H

#include "compare.h"

/* Runs one variant × pattern under setting s; fills r. Returns 0 when the run ended
 * (r->failed may be set), -1 with e set when hola-compare itself cannot go on (a
 * program cannot be started, interrupted). */
int hola_compare_run(const struct hola_compare_opts *o, const struct hola_compare_env *env,
                     const struct hola_compare_setting *s, int variant, int pattern,
                     struct hola_compare_result *r, struct hola_err *e);

/* Folds runs[0..n) of one row (same variant, pattern, setting) into out: the run of
 * median time, with the fewest delivered and the most lost, dup and ooo of any run
 * and failed when any failed, so one bad run is never hidden by the others. */
void hola_compare_fold(const struct hola_compare_result *runs, size_t n,
                       struct hola_compare_result *out);

#endif
