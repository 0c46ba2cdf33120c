/*
 * report_html.c — the HTML report: one self-contained page (inline CSS and
 * SVG charts drawn here, no script, no font or CDN to fetch), so it can be
 * mailed, archived or opened offline. Charts: mark rate per tenant against
 * the 3% line, trust score per scenario, label coverage, appeal outcomes and
 * time to decision, certification status, operations per month, cost per
 * month against the budget. Each chart
 * is followed by its numbers as a table. Every chart is an <svg> with
 * id="chart-<section>" and a data-points attribute (what the browser test
 * checks).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "report.h"

#define MAXX 400
#define MAXS 24
#define W    760
#define H    260
#define L    56  /* left margin */
#define B    40  /* bottom margin */
#define T    16  /* top margin */
#define R    150 /* right margin (legend) */

static const char *const palette[] = {"#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2",
                                      "#db2777", "#65a30d", "#475569", "#dc2626", "#0d9488"};

typedef struct chart_s {
    char *x[MAXX];
    int nx;
    char *s[MAXS];
    int ns;
    double v[MAXS][MAXX];
} chart_t;

static void chart_free(chart_t *c)
{
    for (int i = 0; i < c->nx; i++)
        free(c->x[i]);
    for (int i = 0; i < c->ns; i++)
        free(c->s[i]);
}

static int index_of(char **arr, int *n, int max, const char *key)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(arr[i], key) == 0)
            return i;
    if (*n == max)
        return -1;
    arr[*n] = strdup(key);
    return arr[*n] == NULL ? -1 : (*n)++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Pivots a result: series from column sc (-1: one series named by the value
 * column), x from column xc, values from column vc (rows of the same series
 * and x add up). x sorted. */
static void pivot(PGresult *res, int sc, int xc, int vc, chart_t *c)
{
    memset(c, 0, sizeof(*c));
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++)
        index_of(c->x, &c->nx, MAXX, PQgetvalue(res, r, xc));
    qsort(c->x, (size_t)c->nx, sizeof(char *), cmp_str);
    for (int s = 0; s < MAXS; s++)
        for (int x = 0; x < MAXX; x++)
            c->v[s][x] = NAN;
    for (int r = 0; r < rows; r++) {
        int s = index_of(c->s, &c->ns, MAXS, sc >= 0 ? PQgetvalue(res, r, sc) : PQfname(res, vc));
        int x = index_of(c->x, &c->nx, MAXX, PQgetvalue(res, r, xc));
        if (s >= 0 && x >= 0 && !PQgetisnull(res, r, vc))
            c->v[s][x] = (isnan(c->v[s][x]) ? 0 : c->v[s][x]) + atof(PQgetvalue(res, r, vc));
    }
}

/* Adds one more series from another value column of the same rows (x from xc). */
static void pivot_add(PGresult *res, int xc, int vc, chart_t *c)
{
    if (c->ns == MAXS)
        return;
    int s = c->ns++;
    c->s[s] = strdup(PQfname(res, vc));
    for (int r = 0; r < PQntuples(res); r++) {
        int x = index_of(c->x, &c->nx, MAXX, PQgetvalue(res, r, xc));
        if (x >= 0 && !PQgetisnull(res, r, vc))
            c->v[s][x] = (isnan(c->v[s][x]) ? 0 : c->v[s][x]) + atof(PQgetvalue(res, r, vc));
    }
}

static int esc(nt_buf_t *b, const char *s)
{
    int rc = NT_OK;
    for (; rc == NT_OK && *s; s++) {
        switch (*s) {
        case '<':
            rc = nt_buf_puts(b, "&lt;");
            break;
        case '>':
            rc = nt_buf_puts(b, "&gt;");
            break;
        case '&':
            rc = nt_buf_puts(b, "&amp;");
            break;
        case '"':
            rc = nt_buf_puts(b, "&quot;");
            break;
        default:
            rc = nt_buf_putc(b, *s);
        }
    }
    return rc;
}

static double nice_max(double m)
{
    if (!(m > 0))
        return 1;
    double p = pow(10, floor(log10(m)));
    double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < NT_ARRAY_LEN(steps); i++)
        if (steps[i] * p >= m)
            return steps[i] * p;
    return 10 * p;
}

/* Axes, grid and legend; returns the y scale's maximum. */
static int axes(nt_buf_t *b, const chart_t *c, double ymax, const char *unit)
{
    int rc = NT_OK;
    for (int g = 0; rc == NT_OK && g <= 4; g++) {
        double y = T + (H - T - B) * (1.0 - g / 4.0);
        rc = nt_buf_printf(b,
                           "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
                           "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%g%s</text>",
                           L, y, W - R, y, L - 6, y + 4, ymax * g / 4.0, unit);
    }
    int every = c->nx > 12 ? (c->nx + 11) / 12 : 1;
    for (int x = 0; rc == NT_OK && x < c->nx; x += every) {
        double px = L + (W - L - R) * (x + 0.5) / c->nx;
        rc = nt_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">", px, H - B + 16);
        if (rc == NT_OK)
            rc = esc(b, c->x[x]);
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "</text>");
    }
    for (int s = 0; rc == NT_OK && s < c->ns; s++) {
        rc = nt_buf_printf(b,
                           "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                           "<text x=\"%d\" y=\"%d\" class=\"lg\">",
                           W - R + 12, T + s * 16, palette[s % NT_ARRAY_LEN(palette)], W - R + 26,
                           T + s * 16 + 9);
        if (rc == NT_OK)
            rc = esc(b, c->s[s]);
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "</text>");
    }
    return rc;
}

/* A line chart (bars when there is a single x); ref >= 0 draws a dashed
 * reference line labelled ref_label. */
static int chart_svg(nt_buf_t *b, const char *id, const chart_t *c, bool stacked, bool lines,
                     double ref, const char *ref_label, const char *unit, double fixed_max)
{
    double m = ref > 0 ? ref : 0;
    int points = 0;
    for (int x = 0; x < c->nx; x++) {
        double sum = 0;
        for (int s = 0; s < c->ns; s++) {
            if (isnan(c->v[s][x]))
                continue;
            points++;
            sum = stacked ? sum + c->v[s][x] : c->v[s][x];
            if (sum > m)
                m = sum;
        }
    }
    double ymax = fixed_max > 0 ? fixed_max : nice_max(m * 1.05);
    int rc = nt_buf_printf(b,
                           "<svg id=\"chart-%s\" class=\"chart\" data-points=\"%d\" "
                           "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
                           "xmlns=\"http://www.w3.org/2000/svg\">",
                           id, points, W, H, W, H);
    if (rc == NT_OK)
        rc = axes(b, c, ymax, unit);
    if (rc == NT_OK && points == 0)
        rc = nt_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"empty\">no data yet</text>",
                           (W - R) / 2, H / 2);
    double plot_w = W - L - R, plot_h = H - T - B;
    bool as_lines = lines && c->nx > 1;
    for (int s = 0; rc == NT_OK && s < c->ns; s++) {
        const char *col = palette[s % NT_ARRAY_LEN(palette)];
        if (as_lines) {
            rc = nt_buf_printf(b,
                               "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                               "points=\"",
                               col);
            for (int x = 0; rc == NT_OK && x < c->nx; x++)
                if (!isnan(c->v[s][x]))
                    rc = nt_buf_printf(b, "%.1f,%.1f ", L + plot_w * (x + 0.5) / c->nx,
                                       T + plot_h * (1 - c->v[s][x] / ymax));
            if (rc == NT_OK)
                rc = nt_buf_puts(b, "\"/>");
            continue;
        }
        /* bars: grouped side by side, or stacked */
        double slot = plot_w / c->nx;
        double group = stacked ? fmin(slot * 0.6, 72) : fmin(slot * 0.8, 56.0 * c->ns);
        double bw = stacked ? group : group / c->ns;
        for (int x = 0; rc == NT_OK && x < c->nx; x++) {
            if (isnan(c->v[s][x]))
                continue;
            double base = 0;
            if (stacked)
                for (int p = 0; p < s; p++)
                    base += isnan(c->v[p][x]) ? 0 : c->v[p][x];
            double px = L + slot * x + (slot - group) / 2 + (stacked ? 0 : bw * s);
            double h = plot_h * c->v[s][x] / ymax;
            double py = T + plot_h * (1 - base / ymax) - h;
            rc = nt_buf_printf(b,
                               "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                               "fill=\"%s\"><title>",
                               px, py, bw, h, col);
            if (rc == NT_OK)
                rc = esc(b, c->s[s]);
            if (rc == NT_OK)
                rc = nt_buf_printf(b, " %s: %g</title></rect>", c->x[x], c->v[s][x]);
        }
    }
    if (rc == NT_OK && ref > 0) {
        double y = T + plot_h * (1 - ref / ymax);
        rc = nt_buf_printf(b,
                           "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"ref\"/>"
                           "<text x=\"%d\" y=\"%.1f\" class=\"refl\">%s</text>",
                           L, y, W - R, y, W - R - 4, y - 4, ref_label);
    }
    return rc == NT_OK ? nt_buf_puts(b, "</svg>") : rc;
}

static int table(nt_buf_t *b, PGresult *res)
{
    int rows = PQntuples(res), cols = PQnfields(res);
    int rc = nt_buf_puts(b, "<table><thead><tr>");
    for (int c = 0; rc == NT_OK && c < cols; c++) {
        rc = nt_buf_puts(b, "<th>");
        if (rc == NT_OK)
            rc = esc(b, PQfname(res, c));
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "</th>");
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "</tr></thead><tbody>");
    for (int r = 0; rc == NT_OK && r < rows && r < 200; r++) {
        rc = nt_buf_puts(b, "<tr>");
        for (int c = 0; rc == NT_OK && c < cols; c++) {
            rc = nt_buf_puts(b, "<td>");
            if (rc == NT_OK)
                rc = esc(b, PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c));
            if (rc == NT_OK)
                rc = nt_buf_puts(b, "</td>");
        }
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "</tr>");
    }
    if (rc == NT_OK && rows > 200)
        rc = nt_buf_printf(b,
                           "<tr><td colspan=\"%d\">… %d more rows (report --format csv)</td>"
                           "</tr>",
                           cols, rows - 200);
    return rc == NT_OK ? nt_buf_puts(b, "</tbody></table>") : rc;
}

typedef struct chart_spec_s {
    const char *section;
    const char *note;
    int series_col; /* -1: value columns are the series */
    int x_col;
    int value_cols[4]; /* -1 ends */
    bool stacked, lines;
    double ref;
    const char *ref_label, *unit;
    double fixed_max;
    int ref_col; /* > 0: the reference line's value from this column (first row not null),
                  * labelled ref_label and the value; none when every row is null */
} chart_spec_t;

static const chart_spec_t specs[] = {
    {"mark_rate",
     "Share of checks that found a harassment, fraud or agency mark, per tenant and day. The "
     "article's enterprise keeps its harassment-mark rate under 3% by weekly cleaning.",
     0,
     1,
     {4, -1},
     false,
     true,
     3.0,
     "3% target",
     "%",
     0,
     0},
    {"trust",
     "Average trust score (0-100) per scenario and day: its decay shows as a falling "
     "line.",
     0,
     1,
     {3, -1},
     false,
     true,
     -1,
     NULL,
     "",
     100,
     0},
    {"labels",
     "Registrations whose wanted label is showing, against those that want one.",
     -1,
     0,
     {3, 2, -1},
     false,
     false,
     -1,
     NULL,
     "",
     0,
     0},
    {"appeals",
     "Appeals by outcome; average hours from filing to decision in the table.",
     -1,
     0,
     {1, -1},
     false,
     false,
     -1,
     NULL,
     "",
     0,
     0},
    {"certification",
     "Registrations by certification status, per platform.",
     1,
     0,
     {2, -1},
     true,
     false,
     -1,
     NULL,
     "",
     0,
     0},
    {"operations",
     "Paid platform operations per month (the article prices a tag update at 200-500 CNY; what "
     "they cost is the next chart).",
     -1,
     0,
     {2, 3, -1},
     true,
     false,
     -1,
     NULL,
     "",
     0,
     0},
    {"costs",
     "Cost per month in the budget's currency: platform operations from the cost ledger and the "
     "scenario plans of the article (200 CNY a month for high-frequency callers, 300 per "
     "seasonal switch, 800 a year for qualifications), against today's monthly budget (the "
     "policy's monthly_budget; it caps routine checks, never service-level work).",
     -1,
     0,
     {1, 2, -1},
     true,
     false,
     -1,
     "budget",
     "",
     0,
     4},
};

int report_html(nt_pg_t *pg, const char *tenant, const char *platform, const char *scenario,
                const char *since, nt_buf_t *b, nt_err_t *err)
{
    report_filter_t f = {
        .tenant = tenant, .platform = platform, .scenario = scenario, .since = since};
    char now[NT_RFC3339_LEN];
    nt_clock_format(nt_clock_wall_ms(), now);
    int rc = nt_buf_puts(
        b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>numtrust report</title><style>"
           "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC',sans-serif;"
           "margin:24px auto;max-width:980px;color:#0f172a;background:#f8fafc}"
           "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 6px}"
           ".meta{color:#475569;margin-bottom:18px}"
           "section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:14px 16px;"
           "margin:0 0 16px}p.note{color:#475569;margin:0 0 8px}"
           "svg.chart{max-width:100%;height:auto}svg text{font-size:11px;fill:#334155}"
           ".grid{stroke:#e2e8f0}.yl{text-anchor:end}.xl{text-anchor:middle}"
           ".ref{stroke:#dc2626;stroke-dasharray:6 4;stroke-width:1.5}"
           ".refl{text-anchor:end;fill:#dc2626!important;font-weight:600}"
           ".empty{fill:#94a3b8!important;text-anchor:middle}"
           "table{border-collapse:collapse;margin-top:8px;font-size:12px}"
           "th,td{padding:2px 10px;border-bottom:1px solid #e2e8f0;text-align:left}"
           "th{color:#475569;font-weight:600}.kpi{display:flex;gap:12px;flex-wrap:wrap}"
           ".kpi div{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:8px 14px}"
           ".kpi b{display:block;font-size:20px}</style></head><body>"
           "<h1>numtrust — fleet report</h1><div class=\"meta\">generated ");
    if (rc == NT_OK)
        rc = nt_buf_printf(b, "%s · tenant <b>", now);
    if (rc == NT_OK)
        rc = esc(b, tenant ? tenant : "all");
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "</b> · platform <b>");
    if (rc == NT_OK)
        rc = esc(b, platform ? platform : "all");
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "</b> · scenario <b>");
    if (rc == NT_OK)
        rc = esc(b, scenario ? scenario : "all");
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "</b> · since <b>");
    if (rc == NT_OK)
        rc = esc(b, since ? since : "the beginning");
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "</b></div>");

    /* headline numbers */
    PGresult *res = report_section_query(pg, report_section_find("fleet"), &f, err);
    if (res == NULL)
        return -1;
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "<div class=\"kpi\" id=\"kpi\">");
    for (int c = 0; rc == NT_OK && c < PQnfields(res) && PQntuples(res) == 1; c++) {
        rc = nt_buf_printf(b, "<div><b>%s</b>", PQgetvalue(res, 0, c));
        if (rc == NT_OK)
            rc = esc(b, PQfname(res, c));
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "</div>");
    }
    PQclear(res);
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "</div><br>");

    for (size_t i = 0; rc == NT_OK && i < NT_ARRAY_LEN(specs); i++) {
        const chart_spec_t *sp = &specs[i];
        const report_section_t *sec = report_section_find(sp->section);
        res = report_section_query(pg, sec, &f, err);
        if (res == NULL)
            return -1;
        chart_t *c = calloc(1, sizeof(*c));
        if (c == NULL) {
            PQclear(res);
            return nt_err_set(err, NT_ENOMEM, false, "out of memory");
        }
        pivot(res, sp->series_col, sp->x_col, sp->value_cols[0], c);
        for (int k = 1; k < 4 && sp->value_cols[k] >= 0; k++)
            pivot_add(res, sp->x_col, sp->value_cols[k], c);
        rc = nt_buf_printf(b, "<section id=\"section-%s\"><h2>", sec->name);
        if (rc == NT_OK)
            rc = esc(b, sec->title);
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "</h2><p class=\"note\">");
        if (rc == NT_OK)
            rc = esc(b, sp->note);
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "</p>");
        double ref = sp->ref;
        char ref_label[96];
        snprintf(ref_label, sizeof(ref_label), "%s", sp->ref_label ? sp->ref_label : "");
        for (int r = 0; sp->ref_col > 0 && r < PQntuples(res); r++)
            if (!PQgetisnull(res, r, sp->ref_col)) {
                ref = atof(PQgetvalue(res, r, sp->ref_col));
                snprintf(ref_label, sizeof(ref_label), "%s %s", sp->ref_label,
                         PQgetvalue(res, r, sp->ref_col));
                break;
            }
        if (rc == NT_OK)
            rc = chart_svg(b, sec->name, c, sp->stacked, sp->lines, ref, ref_label, sp->unit,
                           sp->fixed_max);
        if (rc == NT_OK)
            rc = table(b, res);
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "</section>");
        chart_free(c);
        free(c);
        PQclear(res);
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "<p class=\"meta\">numtrust · the same numbers are in the report_* "
                            "views of PostgreSQL and in <code>numtrust-producer report --format "
                            "json</code>.</p></body></html>\n");
    if (rc != NT_OK)
        return nt_err_set(err, rc, false, "report too large");
    return 0;
}
