/* settings.h: hola-compare's --impair, --sweep and --protos syntax, parsed into opts. */
#ifndef HOLA_COMPARE_SETTINGS_H
#define HOLA_COMPARE_SETTINGS_H

#include "compare.h"

/* Adds one --impair SPEC ("none" or KEY=VALUE,...) to o->settings. 0, or -1 with e set. */
int hola_compare_settings_add(struct hola_compare_opts *o, const char *spec, struct hola_err *e);
/* --sweep LIST: one loss=PCT setting per comma-separated value. 0, or -1 with e set. */
int hola_compare_settings_sweep(struct hola_compare_opts *o, const char *list, struct hola_err *e);
/* --protos LIST: the rows to run, replacing the current choice. 0, or -1 with e set. */
int hola_compare_settings_protos(struct hola_compare_opts *o, const char *list, struct hola_err *e);

#endif
