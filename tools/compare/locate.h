/* locate.h: where hola-compare finds hola-server, hola-client and hola-lab. */
#ifndef HOLA_COMPARE_LOCATE_H
#define HOLA_COMPARE_LOCATE_H

#include "compare.h"

/* Fills o->self, o->server, o->client and, with o->lab, o->lab_path (absolute paths).
 * 0, or -1 with e set when a program is not found. */
int hola_compare_locate(struct hola_compare_opts *o, struct hola_err *e);

#endif
