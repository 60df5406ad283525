/* report.c: hola-compare's outputs: the table for a projector, CSV and JSON for scripts,
 * and a hand-written SVG (delivered % and completion time against loss). The table and
 * the chart speak the user's language; the rows' names (tcp, lockstep, loss=10) stay as
 * the options write them. CSV and JSON never change with the language: scripts read
 * those. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

static const char *const counters_names[] = { "program", "netns", "host" };

/* ---------------------------------------------------------------- table */

/* A time in µs, readable: "850 µs", "12.3 ms", "26.51 s". */
static void fmt_us(unsigned long long us, char *out, size_t cap)
{
    if (us < 1000u)
        snprintf(out, cap, "%llu µs", us);
    else if (us < 1000000u)
        snprintf(out, cap, "%.1f ms", (double)us / 1000.0);
    else
        snprintf(out, cap, "%.2f s", (double)us / 1000000.0);
}

/* Display width of UTF-8 text: bytes that do not continue a character. */
static int width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void cell(FILE *f, const char *s, int w, bool left)
{
    int pad = w - width(s);
    if (!left)
        for (int i = 0; i < pad; i++)
            fputc(' ', f);
    fputs(s, f);
    if (left)
        for (int i = 0; i < pad; i++)
            fputc(' ', f);
}

enum { COLS = 13 };
static const char *const heads[COLS] = {
    N_("protocol"), N_("pattern"),  N_("impairment"), N_("delivered"), N_("lost"),
    N_("dup"),      N_("ooo"),      N_("sent"),       N_("retx"),      N_("time"),
    N_("p50/name"), N_("p99/name"), N_("note"),
};
static const bool left_col[COLS] = { true,  true,  true,  false, false, false, false,
                                     false, false, false, false, false, true };

static void row_cells(const struct hola_compare_opts *o, const struct hola_compare_result *r,
                      char c[COLS][64])
{
    snprintf(c[0], 64, "%s", hola_compare_variant_names[r->variant]);
    snprintf(c[1], 64, "%s", hola_compare_pattern_names[r->pattern]);
    snprintf(c[2], 64, "%s", o->settings[r->setting].text);
    for (int i = 3; i < COLS; i++)
        c[i][0] = '\0';
    if (!r->done) {
        snprintf(c[3], 64, "%s", _("not run"));
        return;
    }
    snprintf(c[3], 64, "%llu/%lu", r->delivered, o->names);
    snprintf(c[4], 64, "%llu", r->lost);
    snprintf(c[5], 64, "%llu", r->dup);
    snprintf(c[6], 64, "%llu", r->ooo);
    if (r->variant == HOLA_COMPARE_TCP && r->sent == 0 && r->retx == 0) {
        snprintf(c[7], 64, "?");
        snprintf(c[8], 64, "?");
    } else {
        snprintf(c[7], 64, "%llu", r->sent);
        snprintf(c[8], 64, r->variant == HOLA_COMPARE_UDP ? "-" : "%llu", r->retx);
    }
    fmt_us(r->time_us, c[9], 64);
    if (r->runs > 1) {
        /* The median run, and the spread of all of them. */
        char lo[24], hi[24];
        size_t l = strlen(c[9]);
        fmt_us(r->time_min_us, lo, sizeof lo);
        fmt_us(r->time_max_us, hi, sizeof hi);
        snprintf(c[9] + l, 64 - l, " (%s–%s)", lo, hi);
    }
    fmt_us(r->p50_us, c[10], 64);
    fmt_us(r->p99_us, c[11], 64);
    size_t l = 0;
    if (r->failed)
        l += (size_t)snprintf(c[12] + l, 64 - l, "%s ", _("FAILED"));
    if (r->unimpaired[0])
        l += (size_t)snprintf(c[12] + l, 64 - l, "a ");
    if (r->counters == HOLA_COMPARE_CNT_HOST)
        l += (size_t)snprintf(c[12] + l, 64 - l, "b ");
    if (r->builtin[0] && o->lab)
        l += (size_t)snprintf(c[12] + l, 64 - l, "c ");
    /* The time shown is the median run's: marked when that run sat out a handshake
     * retry; with --repeat, how many runs did, in brackets when the median did not. */
    if (r->hs_retry && r->runs > 1)
        snprintf(c[12] + l, 64 - l, "hs-retry %u/%u", r->hs_retry_runs, r->runs);
    else if (r->hs_retry)
        snprintf(c[12] + l, 64 - l, "hs-retry");
    else if (r->hs_retry_runs > 0)
        snprintf(c[12] + l, 64 - l, "(hs-retry %u/%u)", r->hs_retry_runs, r->runs);
}

/* The table's first line after the count: where the runs happened, what impaired them
 * (the lab's backend: netem, nftables; the programs' built-in impairment) and the
 * kernel, so a table read later says what made it. */
static void print_origin(const struct hola_compare_opts *o, const struct hola_compare_result *r,
                         size_t n, FILE *f)
{
    char backends[160] = "", kernel[72] = "";
    bool builtin = false;

    for (size_t k = 0; k < n; k++) {
        if (!r[k].done)
            continue;
        if (kernel[0] == '\0')
            hola_compare_copy(kernel, sizeof kernel, r[k].kernel);
        builtin |= o->lab && r[k].builtin[0] != '\0';
        const char *b = r[k].backend;
        if (b[0] == '\0' || strcmp(b, "none") == 0)
            continue;
        /* Each backend once, in the order met. */
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = r[j].done && strcmp(r[j].backend, b) == 0;
        size_t l = strlen(backends);
        if (!seen && l + strlen(b) + 3 < sizeof backends)
            snprintf(backends + l, sizeof backends - l, "%s%s", l ? ", " : "", b);
    }
    if (kernel[0] == '\0')
        hola_compare_kernel(kernel, sizeof kernel);
    /* The backends are named as CSV and JSON name them. */
    fprintf(f, _("hola-compare: %lu names per run, %s; loss backend: %s%s; kernel %s\n"), o->names,
            o->lab ? _("inside hola-lab (server 198.18.0.1, client 198.18.0.2)")
                   : _("on loopback (127.0.0.1)"),
            backends[0] ? backends
            : builtin   ? "built-in"
                        : _("none (no impairment)"),
            builtin && backends[0] ? _(" + built-in (note c)") : "", kernel);
}

void hola_compare_print_table(const struct hola_compare_opts *o,
                              const struct hola_compare_result *r, size_t n, FILE *f)
{
    static char cells[HOLA_COMPARE_VARIANTS * HOLA_COMPARE_PATTERNS * HOLA_COMPARE_MAX_SETTINGS]
                     [COLS][64];
    int w[COLS];
    bool note_a = false, note_b = false, note_c = false, note_hs = false;

    for (int i = 0; i < COLS; i++)
        w[i] = width(_(heads[i]));
    for (size_t k = 0; k < n; k++) {
        row_cells(o, &r[k], cells[k]);
        for (int i = 0; i < COLS; i++)
            if (width(cells[k][i]) > w[i])
                w[i] = width(cells[k][i]);
        note_a |= r[k].done && r[k].unimpaired[0] != '\0';
        note_b |= r[k].done && r[k].counters == HOLA_COMPARE_CNT_HOST;
        note_c |= r[k].done && r[k].builtin[0] != '\0' && o->lab;
        note_hs |= r[k].done && r[k].hs_retry_runs > 0;
    }
    print_origin(o, r, n, f);
    for (int i = 0; i + 1 < COLS; i++) {
        cell(f, _(heads[i]), w[i], left_col[i]);
        fputs("  ", f);
    }
    fprintf(f, "%s\n", _(heads[COLS - 1]));
    for (size_t k = 0; k < n; k++) {
        /* A blank line between impairment settings and patterns: groups to compare. */
        if (k > 0 && (r[k].setting != r[k - 1].setting || r[k].pattern != r[k - 1].pattern))
            fputc('\n', f);
        char line[COLS * 80];
        size_t l = 0;
        for (int i = 0; i < COLS; i++) {
            int pad = w[i] - width(cells[k][i]);
            if (!left_col[i])
                for (; pad > 0; pad--)
                    line[l++] = ' ';
            size_t cl = strlen(cells[k][i]);
            memcpy(line + l, cells[k][i], cl);
            l += cl;
            for (; pad > 0; pad--)
                line[l++] = ' ';
            if (i + 1 < COLS) {
                line[l++] = ' ';
                line[l++] = ' ';
            }
        }
        /* No trailing blanks. */
        while (l > 0 && line[l - 1] == ' ')
            l--;
        line[l] = '\0';
        fprintf(f, "%s\n", line);
    }
    fputc('\n', f);
    fputs(_("delivered: names answered; dup, ooo: replies the client got twice or out of "
            "order;\nsent: datagrams (udp, rudp: both programs, before any built-in loss) or "
            "TCP segments\n(both directions, kernel counters); retx: retransmissions; time: "
            "from the client's start\n(resolving, connecting) to its last reply, or its whole "
            "run when names got no reply;\np50/p99: per name, from just before the send call "
            "that hands it to the transport\n(send, sendto, rudp_sock_send) to reading its "
            "reply.\n"),
          f);
    if (o->repeat > 1)
        fprintf(f,
                _("Each row: the median of %lu runs by time (range in brackets), taken in turns "
                  "with the\nother rows; delivered is the fewest, lost, dup and ooo the most of "
                  "any run.\n"),
                o->repeat);
    if (note_a) {
        fputs(_("a: TCP did not get these knobs: "), f);
        const char *sep = "";
        for (size_t k = 0; k < n; k++) {
            if (!r[k].done || !r[k].unimpaired[0])
                continue;
            bool seen = false;
            for (size_t j = 0; j < k; j++)
                seen |= r[j].done && r[j].setting == r[k].setting && r[j].unimpaired[0];
            if (!seen) {
                fprintf(f, "%s%s", sep, r[k].unimpaired);
                sep = "; ";
            }
        }
        fputs(o->lab ? _(" (this kernel cannot apply them; udp and rudp applied them "
                         "themselves)\n")
                     : _(" (on loopback only udp and rudp impair their own datagrams; use "
                         "--lab for kernel-level loss)\n"),
              f);
    }
    if (note_b)
        fputs(_("b: TCP's counts are the whole host's (/proc/net/snmp on loopback): other "
                "traffic is included\n"),
              f);
    if (note_c)
        fputs(_("c: udp and rudp applied the knobs of note a themselves (built-in "
                "impairment, both programs)\n"),
              f);
    if (note_hs)
        fputs(_("hs-retry: the time includes a handshake retry: tcp sent a SYN or SYN-ACK "
                "again (TCPSynRetrans\nof the lab's namespaces; 1 s the first wait), rudp's "
                "client an INITIAL (handshake_retries:\nall three copies of its first INITIAL or "
                "of the "
                "ACCEPT lost, or a RETRY, 250 ms the first wait,\nor a server slower than the "
                "timer);\nk/n: k of the n runs had "
                "one, in brackets when the median run shown did not\n"),
              f);
    for (size_t k = 0; k < n; k++)
        if (r[k].done && r[k].failed)
            fprintf(f, _("FAILED %s %s %s: %s\n"), hola_compare_variant_names[r[k].variant],
                    hola_compare_pattern_names[r[k].pattern], o->settings[r[k].setting].text,
                    r[k].error);
}

/* ---------------------------------------------------------------- CSV and JSON */

static void csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void hola_compare_print_csv(const struct hola_compare_opts *o, const struct hola_compare_result *r,
                            size_t n, FILE *f)
{
    fputs("protocol,pattern,impairment,names,delivered,lost,duplicated,out_of_order,sent,"
          "retransmissions,time_ms,lat_p50_us,lat_p99_us,counters,tcp_unimpaired,builtin,"
          "status,error,repeats,time_min_ms,time_max_ms,handshake_retry,handshake_retry_runs,"
          "backend,kernel\n",
          f);
    for (size_t k = 0; k < n; k++) {
        const struct hola_compare_result *x = &r[k];
        fprintf(f, "%s,%s,", hola_compare_variant_names[x->variant],
                hola_compare_pattern_names[x->pattern]);
        csv_str(f, o->settings[x->setting].text);
        fprintf(f, ",%lu,%llu,%llu,%llu,%llu,%llu,%llu,%llu.%03llu,%llu,%llu,%s,", o->names,
                x->delivered, x->lost, x->dup, x->ooo, x->sent, x->retx, x->time_us / 1000u,
                x->time_us % 1000u, x->p50_us, x->p99_us, counters_names[x->counters]);
        csv_str(f, x->unimpaired);
        fputc(',', f);
        csv_str(f, x->builtin);
        fprintf(f, ",%s,", !x->done ? "not_run" : x->failed ? "failed" : "ok");
        csv_str(f, x->error);
        fprintf(f, ",%u,%llu.%03llu,%llu.%03llu,%d,%u,", x->runs, x->time_min_us / 1000u,
                x->time_min_us % 1000u, x->time_max_us / 1000u, x->time_max_us % 1000u, x->hs_retry,
                x->hs_retry_runs);
        csv_str(f, x->backend);
        fputc(',', f);
        csv_str(f, x->kernel);
        fputc('\n', f);
    }
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void hola_compare_print_json(const struct hola_compare_opts *o, const struct hola_compare_result *r,
                             size_t n, FILE *f)
{
    fprintf(f, "{\"names\":%lu,\"mode\":\"%s\",\"seed\":%llu,\"runs\":[", o->names,
            o->lab ? "lab" : "loopback", (unsigned long long)o->seed);
    for (size_t k = 0; k < n; k++) {
        const struct hola_compare_result *x = &r[k];
        fprintf(f, "%s\n{\"protocol\":\"%s\",\"pattern\":\"%s\",\"impairment\":", k ? "," : "",
                hola_compare_variant_names[x->variant], hola_compare_pattern_names[x->pattern]);
        json_str(f, o->settings[x->setting].text);
        fprintf(f,
                ",\"loss_pct\":%g,\"delivered\":%llu,\"lost\":%llu,\"duplicated\":%llu,"
                "\"out_of_order\":%llu,\"sent\":%llu,\"retransmissions\":%llu,"
                "\"time_ms\":%llu.%03llu,\"repeats\":%u,\"time_min_ms\":%llu.%03llu,"
                "\"time_max_ms\":%llu.%03llu,\"lat_p50_us\":%llu,\"lat_p99_us\":%llu,"
                "\"counters\":\"%s\",\"tcp_unimpaired\":",
                o->settings[x->setting].loss_pct, x->delivered, x->lost, x->dup, x->ooo, x->sent,
                x->retx, x->time_us / 1000u, x->time_us % 1000u, x->runs, x->time_min_us / 1000u,
                x->time_min_us % 1000u, x->time_max_us / 1000u, x->time_max_us % 1000u, x->p50_us,
                x->p99_us, counters_names[x->counters]);
        json_str(f, x->unimpaired);
        fputs(",\"builtin\":", f);
        json_str(f, x->builtin);
        fprintf(f, ",\"handshake_retry\":%s,\"handshake_retry_runs\":%u,\"backend\":",
                x->hs_retry ? "true" : "false", x->hs_retry_runs);
        json_str(f, x->backend);
        fputs(",\"kernel\":", f);
        json_str(f, x->kernel);
        fprintf(f, ",\"status\":\"%s\",\"error\":",
                !x->done    ? "not_run"
                : x->failed ? "failed"
                            : "ok");
        json_str(f, x->error);
        fputc('}', f);
    }
    fputs("\n]}\n", f);
}

/* ---------------------------------------------------------------- SVG */

static const char *const colours[HOLA_COMPARE_VARIANTS] = {
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
};

#define PW 400.0 /* plot width and height, px */
#define PH 260.0
#define ML 70.0 /* left margin of each panel */
#define MT 50.0

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int hola_compare_write_svg(const struct hola_compare_opts *o, const struct hola_compare_result *r,
                           size_t n, const char *path, struct hola_err *e)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return hola_err_set(e, _("--svg %s: %s"), path, strerror(errno));

    double xmax = 0, tmin = 1e18, tmax = 0;
    for (size_t k = 0; k < n; k++) {
        if (!r[k].done)
            continue;
        double x = o->settings[r[k].setting].loss_pct;
        xmax = x > xmax ? x : xmax;
        double t = r[k].time_us > 0 ? (double)r[k].time_us / 1000.0 : 0.001;
        tmin = t < tmin ? t : tmin;
        tmax = t > tmax ? t : tmax;
    }
    if (xmax <= 0)
        xmax = 1;
    if (tmax <= 0) {
        tmin = 0.1;
        tmax = 1;
    }
    /* Completion time spans orders of magnitude (TCP's 200 ms RTO against rudp's
     * microseconds): a log scale, from the decade below the least to the one above the
     * most. */
    double lo = floor(log10(tmin)), hi = ceil(log10(tmax));
    if (hi <= lo)
        hi = lo + 1;

    double width = 2 * (ML + PW) + 40, height = MT + PH + 60 + 22.0 * 6;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<title>hola-compare: %lu names, %s</title>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height, o->names, o->lab ? "lab" : "loopback");
    for (int panel = 0; panel < 2; panel++) {
        double x0 = ML + panel * (ML + PW + 20), y0 = MT;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\">%s</text>\n",
                x0, y0 - 20,
                panel == 0 ? /* xgettext:no-c-format */ _("Delivered (% of names)")
                           : _("Completion time (ms, log scale)"));
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                "stroke=\"#444\"/>\n",
                x0, y0, PW, PH);
        /* Y grid and labels. */
        if (panel == 0) {
            for (int v = 0; v <= 100; v += 20) {
                double y = y0 + PH - PH * v / 100.0;
                fprintf(f,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%d</text>\n",
                        x0, y, x0 + PW, y, x0 - 6, y + 4, v);
            }
        } else {
            int decades = (int)(hi - lo + 0.5);
            for (int k = 0; k <= decades; k++) {
                double d = lo + k;
                double y = y0 + PH - PH * (d - lo) / (hi - lo);
                fprintf(f,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                        x0, y, x0 + PW, y, x0 - 6, y + 4, pow(10, d));
            }
        }
        /* X ticks: the settings' loss values. */
        for (size_t s = 0; s < o->n_settings; s++) {
            double x = x0 + PW * o->settings[s].loss_pct / xmax;
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x,
                    y0 + PH + 16, o->settings[s].loss_pct);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x0 + PW / 2,
                y0 + PH + 34, _("loss each way (%)"));
        /* One line per protocol and pattern, points sorted by loss. */
        for (int v = 0; v < HOLA_COMPARE_VARIANTS; v++) {
            for (int p = 0; p < HOLA_COMPARE_PATTERNS; p++) {
                double pts[HOLA_COMPARE_MAX_SETTINGS][2];
                size_t np = 0;
                for (size_t k = 0; k < n; k++) {
                    if (!r[k].done || r[k].variant != v || r[k].pattern != p)
                        continue;
                    double x = o->settings[r[k].setting].loss_pct, y;
                    if (panel == 0) {
                        y = 100.0 * (double)r[k].delivered / (double)o->names;
                        y = y0 + PH - PH * y / 100.0;
                    } else {
                        double t = r[k].time_us > 0 ? (double)r[k].time_us / 1000.0 : 0.001;
                        y = y0 + PH - PH * (log10(t) - lo) / (hi - lo);
                    }
                    pts[np][0] = x;
                    pts[np][1] = y;
                    np++;
                }
                if (np == 0)
                    continue;
                qsort(pts, np, sizeof pts[0], cmp_double);
                fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                        colours[v], p == HOLA_COMPARE_PIPELINED ? " stroke-dasharray=\"6,4\"" : "");
                for (size_t i = 0; i < np; i++)
                    fprintf(f, "%s%.1f,%.1f", i ? " " : "", x0 + PW * pts[i][0] / xmax, pts[i][1]);
                fputs("\"/>\n", f);
                for (size_t i = 0; i < np; i++)
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                            x0 + PW * pts[i][0] / xmax, pts[i][1], colours[v]);
            }
        }
    }
    /* Legend. */
    double ly = MT + PH + 60;
    int row = 0;
    for (int v = 0; v < HOLA_COMPARE_VARIANTS; v++) {
        if (!o->variants[v])
            continue;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"3\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                ML, ly + 22.0 * row, ML + 30, ly + 22.0 * row, colours[v], ML + 38,
                ly + 22.0 * row + 4, hola_compare_variant_names[v]);
        row++;
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", ML + 220, ly + 4,
            _("solid: lockstep; dashed: pipelined"));
    fputs("</svg>\n", f);
    if (fclose(f) != 0)
        return hola_err_set(e, _("--svg %s: %s"), path, strerror(errno));
    return 0;
}
