/* settings.c: hola-compare's impairment settings and row list as the user writes them.
 * Values stay as typed (after checking they are numbers in range), so they reach
 * hola-lab and the programs unchanged. */
#include "settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

/* A value as typed: a number from 0 to max, whole when it must be; no more than 15
 * characters, so it fits a setting's field. */
static bool num_ok(const char *val, double max, bool integer)
{
    char *end;
    errno = 0;
    double d = strtod(val, &end);
    return val[0] != '\0' && strlen(val) < 16 && *end == '\0' && errno == 0 && d >= 0 && d <= max &&
           !(integer && d != floor(d));
}

static int parse_setting(const char *spec, struct hola_compare_setting *s, struct hola_err *e)
{
    char buf[128];
    struct {
        const char *key;
        char *dst;
        double max;
        bool integer;
    } keys[] = {
        { "loss", s->loss, 100, false },         { "delay", s->delay, 3600000, false },
        { "jitter", s->jitter, 3600000, false }, { "dup", s->dup, 100, false },
        { "reorder", s->reorder, 100, false },   { "corrupt", s->corrupt, 100, false },
        { "rate", s->rate, 1e9, true },
    };

    memset(s, 0, sizeof *s);
    if (strlen(spec) >= sizeof buf)
        return hola_err_set(e, _("--impair '%s': too long"), spec);
    if (strcmp(spec, "none") == 0 || spec[0] == '\0') {
        snprintf(s->text, sizeof s->text, "none");
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    char *save, *tok;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            return hola_err_set(e,
                                _("--impair '%s': '%s' is not KEY=VALUE (keys: loss, delay, "
                                  "jitter, dup, reorder, corrupt, rate)"),
                                spec, tok);
        *eq = '\0';
        size_t i;
        for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(tok, keys[i].key) == 0)
                break;
        if (i == sizeof keys / sizeof keys[0])
            return hola_err_set(e,
                                _("--impair '%s': unknown key '%s' (keys: loss, delay, "
                                  "jitter, dup, reorder, corrupt, rate)"),
                                spec, tok);
        if (!num_ok(eq + 1, keys[i].max, keys[i].integer))
            return hola_err_set(e,
                                keys[i].integer ? _("--impair '%s': %s=%s: expected a whole "
                                                    "number 0..%g")
                                                : _("--impair '%s': %s=%s: expected a number "
                                                    "0..%g"),
                                spec, tok, eq + 1, keys[i].max);
        snprintf(keys[i].dst, 16, "%s", eq + 1);
    }
    if (s->reorder[0] && !s->delay[0])
        return hola_err_set(e,
                            _("--impair '%s': reorder needs delay (a reordered packet "
                              "overtakes delayed ones)"),
                            spec);
    if (s->jitter[0] && !s->delay[0])
        return hola_err_set(e, _("--impair '%s': jitter needs delay"), spec);
    /* A zero knob is no knob: loss=0 is "none". */
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].dst[0] && strtod(keys[i].dst, NULL) == 0)
            keys[i].dst[0] = '\0';
    s->loss_pct = s->loss[0] ? strtod(s->loss, NULL) : 0;
    size_t l = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].dst[0])
            l += (size_t)snprintf(s->text + l, sizeof s->text - l, "%s%s=%s", l ? "," : "",
                                  keys[i].key, keys[i].dst);
    if (l == 0)
        snprintf(s->text, sizeof s->text, "none");
    return 0;
}

int hola_compare_settings_add(struct hola_compare_opts *o, const char *spec, struct hola_err *e)
{
    if (o->n_settings >= HOLA_COMPARE_MAX_SETTINGS)
        return hola_err_set(e, _("at most %d impairment settings"), HOLA_COMPARE_MAX_SETTINGS);
    if (parse_setting(spec, &o->settings[o->n_settings], e) != 0)
        return -1;
    o->n_settings++;
    return 0;
}

int hola_compare_settings_sweep(struct hola_compare_opts *o, const char *list, struct hola_err *e)
{
    char buf[256], spec[64];
    snprintf(buf, sizeof buf, "%s", list);
    char *save, *tok;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        snprintf(spec, sizeof spec, "loss=%s", tok);
        if (hola_compare_settings_add(o, spec, e) != 0)
            return -1;
    }
    return 0;
}

int hola_compare_settings_protos(struct hola_compare_opts *o, const char *list, struct hola_err *e)
{
    char buf[256];
    memset(o->variants, 0, sizeof o->variants);
    snprintf(buf, sizeof buf, "%s", list);
    char *save, *tok;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        int v;
        for (v = 0; v < HOLA_COMPARE_VARIANTS; v++)
            if (strcmp(tok, hola_compare_variant_names[v]) == 0)
                break;
        if (v == HOLA_COMPARE_VARIANTS)
            return hola_err_set(e,
                                _("--protos: unknown row '%s' (tcp, udp, rudp, rudp-w1, "
                                  "rudp-coalesce)"),
                                tok);
        o->variants[v] = true;
    }
    return 0;
}
