/* record.c: the line format the lab worker writes its results in and the outer process
 * reads back once the lab is gone: tab-separated numbers, then the texts. */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hola_compare_result_write(const struct hola_compare_result *r, FILE *f)
{
    /* Tab-separated; the texts are last and hold no tabs or newlines. */
    fprintf(f,
            "R\t%d\t%d\t%d\t%d\t%d\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%d\t"
            "%u\t%llu\t%llu\t%d\t%u\t%s\t%s\t%s\t%s\t%s\n",
            r->variant, r->pattern, r->setting, r->done, r->failed, r->delivered, r->lost, r->dup,
            r->ooo, r->sent, r->retx, r->time_us, r->p50_us, r->p99_us, (int)r->counters, r->runs,
            r->time_min_us, r->time_max_us, r->hs_retry, r->hs_retry_runs,
            r->unimpaired[0] ? r->unimpaired : "-", r->builtin[0] ? r->builtin : "-",
            r->backend[0] ? r->backend : "-", r->kernel[0] ? r->kernel : "-",
            r->error[0] ? r->error : "-");
    fflush(f);
}

static void field(char **p, char *out, size_t cap)
{
    char *t = strsep(p, "\t\n");
    snprintf(out, cap, "%s", t == NULL || strcmp(t, "-") == 0 ? "" : t);
}

int hola_compare_result_read(const char *line, struct hola_compare_result *r)
{
    char buf[2048];
    int done, failed, counters;

    memset(r, 0, sizeof *r);
    if (strncmp(line, "R\t", 2) != 0)
        return -1;
    snprintf(buf, sizeof buf, "%s", line + 2);
    char *p = buf;
    long long v[20];
    for (int i = 0; i < 20; i++) {
        char *t = strsep(&p, "\t");
        if (t == NULL)
            return -1;
        v[i] = strtoll(t, NULL, 10);
    }
    r->variant = (int)v[0];
    r->pattern = (int)v[1];
    r->setting = (int)v[2];
    done = (int)v[3];
    failed = (int)v[4];
    r->delivered = (unsigned long long)v[5];
    r->lost = (unsigned long long)v[6];
    r->dup = (unsigned long long)v[7];
    r->ooo = (unsigned long long)v[8];
    r->sent = (unsigned long long)v[9];
    r->retx = (unsigned long long)v[10];
    r->time_us = (unsigned long long)v[11];
    r->p50_us = (unsigned long long)v[12];
    r->p99_us = (unsigned long long)v[13];
    counters = (int)v[14];
    r->runs = (unsigned)v[15];
    r->time_min_us = (unsigned long long)v[16];
    r->time_max_us = (unsigned long long)v[17];
    r->hs_retry = v[18] != 0;
    r->hs_retry_runs = (unsigned)v[19];
    if (r->variant < 0 || r->variant >= HOLA_COMPARE_VARIANTS || r->pattern < 0 ||
        r->pattern >= HOLA_COMPARE_PATTERNS || r->setting < 0 ||
        r->setting >= HOLA_COMPARE_MAX_SETTINGS || counters < 0 || counters > 2)
        return -1;
    r->done = done != 0;
    r->failed = failed != 0;
    r->counters = (enum hola_compare_counters)counters;
    field(&p, r->unimpaired, sizeof r->unimpaired);
    field(&p, r->builtin, sizeof r->builtin);
    field(&p, r->backend, sizeof r->backend);
    field(&p, r->kernel, sizeof r->kernel);
    field(&p, r->error, sizeof r->error);
    return 0;
}
