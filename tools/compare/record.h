/* record.h: one result as a line, for the lab worker to hand to the outer process. */
#ifndef HOLA_COMPARE_RECORD_H
#define HOLA_COMPARE_RECORD_H

#include <stdio.h>

#include "compare.h"

/* Writes r as one "R\t..." line and flushes f. */
void hola_compare_result_write(const struct hola_compare_result *r, FILE *f);
/* Reads a line written by hola_compare_result_write. 0, or -1 for any other line or
 * a value out of range. */
int hola_compare_result_read(const char *line, struct hola_compare_result *r);

#endif
