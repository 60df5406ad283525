/* lab.h: hola-compare --lab: one hola-lab per setting, hola-compare itself inside as
 * the worker. */
#ifndef HOLA_COMPARE_LAB_H
#define HOLA_COMPARE_LAB_H

#include "compare.h"

/* The worker (--lab-worker si --lab-out out_path), inside hola-lab: runs setting si and
 * writes one line per row to out_path. Returns the exit status. */
int hola_compare_lab_worker(struct hola_compare_opts *o, size_t si, const char *out_path);

/* What hola_compare_lab_setting() returns when hola-lab exits with 77: this machine
 * cannot run the lab (the message, translated, cannot tell it). */
#define HOLA_COMPARE_LAB_CANNOT (-77)

/* The outer side of one lab: hola-lab KNOBS -- hola-compare ARGS --lab-worker si; the
 * rows read back are appended to res. 0, or -1 with e set, or HOLA_COMPARE_LAB_CANNOT
 * with e set (the reason hola-lab gave). */
int hola_compare_lab_setting(const struct hola_compare_opts *o, int argc, char **argv, size_t si,
                             const char *tmp, struct hola_compare_result *res, size_t *nres,
                             struct hola_err *e);

#endif
