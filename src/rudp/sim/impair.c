/* rudp_impair_parse() (rudp/impair.h): tc-netem's option vocabulary into a
 * rudp_impair_t, strictly (no sign, exponent or trailing text), for hola's --loss,
 * --delay, ... and hola-lab's settings. */
#include <stdlib.h>
#include <string.h>

#include "rudp/error.h"
#include "rudp/impair.h"

/* An hour: the longest delay the link takes (sim.c). */
#define MAX_DELAY_US UINT64_C(3600000000)

/* Parses the decimal number in [s, end): digits, optionally '.' and 1..frac digits, into
 * an integer scaled by 10^frac (so "1.5" with frac 3 is 1500). Fixed point keeps the result
 * exact and the parser free of strtod's locale, exponents, "inf" and leading spaces.
 * Returns 0 and sets *out if the text is well formed and the value at most max. */
static int parse_fixed(const char *s, const char *end, unsigned frac, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    unsigned int_digits = 0;
    unsigned frac_digits = 0;
    int seen_dot = 0;

    if (s == end) {
        return -1;
    }
    for (; s < end; s++) {
        if (*s == '.') {
            if (seen_dot || int_digits == 0 || frac == 0) {
                return -1;
            }
            seen_dot = 1;
            continue;
        }
        if (*s < '0' || *s > '9') {
            return -1;
        }
        if (seen_dot) {
            if (++frac_digits > frac) {
                return -1;
            }
        } else {
            int_digits++;
        }
        /* max is far below UINT64_MAX / 10 for every caller, so this cannot wrap. */
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max) {
            return -1;
        }
    }
    if (seen_dot && frac_digits == 0) {
        return -1; /* "5." */
    }
    for (; frac_digits < frac; frac_digits++) {
        v *= 10;
        if (v > max) {
            return -1;
        }
    }
    *out = v;
    return 0;
}

enum { MAX_FIELDS = 4, PCT_FRAC = 6 };
#define PCT_SCALE 1e8 /* 100 % times 10^PCT_FRAC */

/* Splits value at commas into between min and max non-empty fields. */
static int split_fields(const char *value, int min, int max, const char *start[MAX_FIELDS],
                        const char *stop[MAX_FIELDS])
{
    int n = 0;
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        if (n == max || e == p) {
            return -1;
        }
        start[n] = p;
        stop[n] = e;
        n++;
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    return n >= min ? n : -1;
}

/* A percentage 0..100 with up to 6 decimals and an optional '%', as a probability. */
static int parse_pct(const char *s, const char *e, double *out)
{
    uint64_t v;
    if (e > s && e[-1] == '%') {
        e--;
    }
    if (parse_fixed(s, e, PCT_FRAC, 100000000u, &v) != 0) {
        return -1;
    }
    *out = (double)v / PCT_SCALE;
    return 0;
}

/* Milliseconds with up to 3 decimals, at most an hour, as microseconds. */
static int parse_ms(const char *s, const char *e, uint64_t *out)
{
    return parse_fixed(s, e, 3, MAX_DELAY_US, out);
}

int rudp_impair_parse(rudp_impair_t *imp, const char *key, const char *value)
{
    if (imp == NULL || key == NULL || value == NULL) {
        return RUDP_EINVAL;
    }
    rudp_impair_t t = *imp; /* commit only on success */
    const char *s[MAX_FIELDS];
    const char *e[MAX_FIELDS];
    int n;
    uint64_t u;

    if (strcmp(key, "loss") == 0) {
        if ((n = split_fields(value, 1, 2, s, e)) < 0 || parse_pct(s[0], e[0], &t.loss) != 0) {
            return RUDP_EINVAL;
        }
        t.loss_corr = 0.0;
        if (n == 2 && parse_pct(s[1], e[1], &t.loss_corr) != 0) {
            return RUDP_EINVAL;
        }
        /* netem keeps one loss model: the last one given wins. */
        t.ge_p = t.ge_r = t.ge_h = t.ge_good_loss = 0.0;
    } else if (strcmp(key, "loss-burst") == 0) {
        double bad_loss = 1.0, good_loss = 0.0;
        if ((n = split_fields(value, 2, 4, s, e)) < 0 || parse_pct(s[0], e[0], &t.ge_p) != 0 ||
            parse_pct(s[1], e[1], &t.ge_r) != 0 ||
            (n >= 3 && parse_pct(s[2], e[2], &bad_loss) != 0) ||
            (n >= 4 && parse_pct(s[3], e[3], &good_loss) != 0)) {
            return RUDP_EINVAL;
        }
        t.ge_h = 1.0 - bad_loss;
        t.ge_good_loss = good_loss;
        t.loss = t.loss_corr = 0.0;
    } else if (strcmp(key, "delay") == 0) {
        if ((n = split_fields(value, 1, 2, s, e)) < 0 || parse_ms(s[0], e[0], &t.delay_us) != 0) {
            return RUDP_EINVAL;
        }
        t.jitter_us = 0;
        if (n == 2 && parse_ms(s[1], e[1], &t.jitter_us) != 0) {
            return RUDP_EINVAL;
        }
    } else if (strcmp(key, "dup") == 0 || strcmp(key, "reorder") == 0 ||
               strcmp(key, "corrupt") == 0) {
        double p;
        if (split_fields(value, 1, 1, s, e) < 0 || parse_pct(s[0], e[0], &p) != 0) {
            return RUDP_EINVAL;
        }
        if (key[0] == 'd') {
            t.dup = p;
        } else if (key[0] == 'r') {
            t.reorder = p;
        } else {
            t.corrupt = p;
        }
    } else if (strcmp(key, "rate") == 0) {
        /* kbit/s, at most 10^9 (a Tbit/s) */
        if (split_fields(value, 1, 1, s, e) < 0 ||
            parse_fixed(s[0], e[0], 0, UINT64_C(1000000000), &u) != 0) {
            return RUDP_EINVAL;
        }
        t.rate_bps = u * 1000u;
    } else if (strcmp(key, "limit") == 0) {
        if (split_fields(value, 1, 1, s, e) < 0 ||
            parse_fixed(s[0], e[0], 0, UINT32_MAX, &u) != 0) {
            return RUDP_EINVAL;
        }
        t.queue_limit = (uint32_t)u;
    } else {
        return RUDP_EINVAL;
    }
    *imp = t;
    return 0;
}
