/* report.h: hola-compare's outputs: the table, CSV, JSON and the SVG chart. */
#ifndef HOLA_COMPARE_REPORT_H
#define HOLA_COMPARE_REPORT_H

#include <stdio.h>

#include "compare.h"

void hola_compare_print_table(const struct hola_compare_opts *o,
                              const struct hola_compare_result *r, size_t n, FILE *f);
void hola_compare_print_csv(const struct hola_compare_opts *o, const struct hola_compare_result *r,
                            size_t n, FILE *f);
void hola_compare_print_json(const struct hola_compare_opts *o, const struct hola_compare_result *r,
                             size_t n, FILE *f);
/* 0, or -1 with e set when path cannot be written. */
int hola_compare_write_svg(const struct hola_compare_opts *o, const struct hola_compare_result *r,
                           size_t n, const char *path, struct hola_err *e);

#endif
