/* proc.h: hola-compare's child processes: spawning with redirected standard streams,
 * bounded waits that always reap, and the SIGINT/SIGTERM flag every wait watches. */
#ifndef HOLA_COMPARE_PROC_H
#define HOLA_COMPARE_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Catches SIGINT, SIGTERM and SIGHUP into the flag below; ignores SIGPIPE. */
void hola_compare_signals_init(void);

/* SIGINT/SIGTERM arrived: stop starting runs, end the running ones. */
bool hola_compare_interrupted(void);

/* Spawns argv with stdin/stdout/stderr from/to the given files (NULL: /dev/null).
 * Returns the pid or -1 with e set. */
pid_t hola_compare_spawn(char *const argv[], const char *in, const char *out, const char *err,
                         struct hola_err *e);

/* Waits for pid at most timeout_ms (then SIGTERM, 2 s later SIGKILL, always reaped).
 * Returns the exit status (128+N for a signal), or -2 when the time ran out. */
int hola_compare_wait(pid_t pid, unsigned long timeout_ms);

void hola_compare_sleep_ms(unsigned ms);

#endif
