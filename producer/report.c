/*
 * report.c — `numtrust-producer report`: the fleet's state, from the report
 * views of migration 007 (report_*), filtered by tenant, platform, scenario
 * and time, as text tables, JSON, CSV or a self-contained HTML page
 * (report_html.c). The API's /v1/reports/{name} answers the same sections.
 */
/* wcswidth(3) is X/Open */
#define _XOPEN_SOURCE 700
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "api.h"
#include "clock.h"
#include "cli.h"
#include "job.h"
#include "report.h"

/* Every section's SQL takes $1 tenant, $2 platform, $3 scenario, $4 since
 * (each NULL: any), and ignores those that do not apply to it. */
#define F_TPS(tenant, platform, scenario)                                                          \
    " ($1::text IS NULL OR " tenant " = $1) AND ($2::text IS NULL OR " platform " = $2)"           \
    " AND ($3::text IS NULL OR " scenario " = $3)"

/* The costs section over nt_plan_fees (live) or nt_plan_fees_snapshot (the
 * fleet-state snapshot's numbers, migration 011). */
#define COSTS_SQL(FEES)                                                                            \
    "WITH b AS (SELECT CASE WHEN $1::text IS NOT NULL THEN (SELECT monthly_budget"                 \
    "   FROM tenant_policies WHERE tenant_id = $1) WHEN bool_or(monthly_budget = 'Infinity')"      \
    "   THEN 'Infinity' ELSE sum(monthly_budget) END AS budget,"                                   \
    "  COALESCE(max(budget_currency) FILTER (WHERE tenant_id = $1), (SELECT budget_currency"       \
    "   FROM policies WHERE tenant_id = '*' AND scenario_id = '*')) AS currency"                   \
    "  FROM tenant_policies),"                                                                     \
    " months AS (SELECT DISTINCT month FROM cost_ledger WHERE ($1::text IS NULL OR tenant_id = "   \
    "$1)"                                                                                          \
    "  AND ($4::timestamptz IS NULL OR month >= date_trunc('month', $4::timestamptz))"             \
    "  UNION SELECT nt_month(nt_now()))"                                                           \
    " SELECT to_char(m.month, 'YYYY-MM') AS month, x.operations, x.plans,"                         \
    "  x.operations + x.plans AS total,"                                                           \
    "  CASE WHEN b.budget = 'Infinity' THEN NULL ELSE round(b.budget, 2) END AS budget,"           \
    "  b.currency"                                                                                 \
    " FROM months m CROSS JOIN b CROSS JOIN LATERAL (SELECT"                                       \
    "  round(COALESCE((SELECT sum(c.amount) FROM cost_monthly c WHERE c.month = m.month"           \
    "   AND c.currency = b.currency AND" F_TPS(                                                    \
        "c.tenant_id", "c.platform",                                                               \
        "c.scenario_id") "),"                                                                      \
                         "   0), 2) AS operations,"                                                \
                         "  round(COALESCE((SELECT sum(f.amount) FROM " FEES "(m.month) f"         \
                         "   WHERE f.currency = b.currency AND $2::text IS NULL AND ($1::text IS " \
                         "NULL OR"                                                                 \
                         "   f.tenant_id = $1) AND ($3::text IS NULL OR f.scenario_id = $3)), "    \
                         "0), "                                                                    \
                         "2) AS plans) x"                                                          \
                         " ORDER BY m.month"

const report_section_t report_sections[] = {
    {"fleet", "fleet",
     "SELECT count(DISTINCT n.tenant_id) AS tenants, count(DISTINCT n.number) AS numbers,"
     " count(DISTINCT n.number) FILTER (WHERE n.status = 'disabled') AS disabled,"
     " count(np.number) AS registrations, count(np.last_checked_at) AS checked"
     " FROM numbers n LEFT JOIN number_platforms np ON np.number = n.number"
     "   AND ($2::text IS NULL OR np.platform = $2)"
     " WHERE n.status <> 'offboarded' AND ($1::text IS NULL OR n.tenant_id = $1)"
     "   AND ($3::text IS NULL OR n.scenario_id = $3) AND ($4::timestamptz IS NULL OR true)",
     "WITH k AS (SELECT * FROM fleet_state_numbers WHERE status <> 'offboarded'"
     "   AND ($1::text IS NULL OR tenant_id = $1) AND ($3::text IS NULL OR scenario_id = $3)),"
     " r AS (SELECT * FROM fleet_state WHERE number_status <> 'offboarded' AND" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR true))"
                        " SELECT (SELECT count(DISTINCT tenant_id) FROM k) AS tenants,"
                        " (SELECT COALESCE(sum(numbers), 0)::bigint FROM k) AS numbers,"
                        " (SELECT COALESCE(sum(numbers) FILTER (WHERE status = 'disabled'), "
                        "0)::bigint FROM k)"
                        "   AS disabled,"
                        " (SELECT COALESCE(sum(registrations), 0)::bigint FROM r) AS registrations,"
                        " (SELECT COALESCE(sum(checked), 0)::bigint FROM r) AS checked"},
    {"scenarios", "numbers by scenario",
     "SELECT s.id AS scenario, s.name_zh, s.check_interval::text AS cycle, count(n.number) AS"
     " numbers FROM scenarios s LEFT JOIN numbers n ON n.scenario_id = s.id"
     "   AND n.status <> 'offboarded' AND ($1::text IS NULL OR n.tenant_id = $1)"
     "   AND ($3::text IS NULL OR n.scenario_id = $3)"
     " WHERE ($2::text IS NULL OR true) AND ($4::timestamptz IS NULL OR true)"
     " GROUP BY s.id, s.name_zh, s.check_interval ORDER BY s.check_interval",
     "SELECT s.id AS scenario, s.name_zh, s.check_interval::text AS cycle,"
     " COALESCE(sum(k.numbers), 0)::bigint AS numbers"
     " FROM scenarios s LEFT JOIN fleet_state_numbers k ON k.scenario_id = s.id"
     "   AND k.status <> 'offboarded' AND ($1::text IS NULL OR k.tenant_id = $1)"
     "   AND ($3::text IS NULL OR k.scenario_id = $3)"
     " WHERE ($2::text IS NULL OR true) AND ($4::timestamptz IS NULL OR true)"
     " GROUP BY s.id, s.name_zh, s.check_interval ORDER BY s.check_interval"},
    {"platforms", "observed state by platform",
     "SELECT np.platform, count(*) AS registered, count(np.last_checked_at) AS checked,"
     " count(*) FILTER (WHERE np.cert_status = 'certified') AS certified,"
     " round(avg(np.trust_score), 1) AS avg_trust,"
     " count(*) FILTER (WHERE np.open_marks > 0) AS with_marks"
     " FROM number_platforms np JOIN numbers n ON n.number = np.number"
     " WHERE n.status <> 'offboarded' AND" F_TPS(
         "n.tenant_id", "np.platform",
         "n.scenario_id") " AND ($4::timestamptz IS NULL OR true) GROUP BY np.platform ORDER BY "
                          "np.platform",
     "SELECT platform, sum(registrations)::bigint AS registered, sum(checked)::bigint AS checked,"
     " COALESCE(sum(registrations) FILTER (WHERE cert_status = 'certified'), 0)::bigint"
     "   AS certified,"
     " round(sum(score_sum)::numeric / NULLIF(sum(scored), 0), 1) AS avg_trust,"
     " sum(with_marks)::bigint AS with_marks"
     " FROM fleet_state WHERE number_status <> 'offboarded' AND" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR true) GROUP BY platform ORDER BY "
                        "platform"},
    {"mark_rate", "mark rate per tenant and day (harassment, fraud, agency; target < 3%)",
     "SELECT tenant_id AS tenant, to_char(day, 'YYYY-MM-DD') AS day, sum(checks) AS checks,"
     " sum(marked) AS marked, round(100.0 * sum(marked) / sum(checks), 2) AS mark_rate_pct"
     " FROM report_mark_rate_daily WHERE" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR day >= date_trunc('day', "
                        "$4::timestamptz))"
                        " GROUP BY tenant_id, day ORDER BY tenant_id, day",
     NULL},
    {"trust", "trust score per scenario and day",
     "SELECT scenario_id AS scenario, to_char(day, 'YYYY-MM-DD') AS day, sum(scored) AS scored,"
     " round(sum(avg_trust * scored) / NULLIF(sum(scored), 0), 1) AS avg_trust"
     " FROM report_trust_daily WHERE" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR day >= date_trunc('day', "
                        "$4::timestamptz))"
                        " GROUP BY scenario_id, day ORDER BY scenario_id, day",
     NULL},
    {"labels", "label coverage: wanted label showing (Android surface)",
     "SELECT tenant_id AS tenant, platform, sum(wanted) AS wanted, sum(showing) AS showing,"
     " sum(unchecked) AS unchecked,"
     " round(100.0 * sum(showing) / NULLIF(sum(wanted), 0), 1) AS coverage_pct"
     " FROM report_label_coverage WHERE" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR true)"
                        " GROUP BY tenant_id, platform ORDER BY tenant_id, platform",
     "SELECT tenant_id AS tenant, platform, sum(registrations) AS wanted, sum(showing) AS showing,"
     " sum(registrations - checked) AS unchecked,"
     " round(100.0 * sum(showing) / NULLIF(sum(registrations), 0), 1) AS coverage_pct"
     " FROM fleet_state WHERE number_status = 'active' AND" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR true)"
                        " GROUP BY tenant_id, platform ORDER BY tenant_id, platform"},
    {"marks", "marks by type and state",
     "SELECT type, sum(marks) FILTER (WHERE state = 'open') AS open,"
     " sum(marks) FILTER (WHERE state = 'appealed') AS appealed,"
     " sum(marks) FILTER (WHERE state = 'cleared') AS cleared,"
     " sum(marks) FILTER (WHERE state = 'disputed') AS disputed"
     " FROM report_marks WHERE" F_TPS(
         "tenant_id", "platform", "scenario_id") " AND ($4::timestamptz IS NULL OR day >= "
                                                 "date_trunc('day', $4::timestamptz))"
                                                 " GROUP BY type ORDER BY sum(marks) DESC, type",
     NULL},
    {"appeals", "appeal outcomes and time to decision",
     "SELECT state, sum(appeals) AS appeals, sum(decided) AS decided,"
     " round((sum(hours_to_decision) / NULLIF(sum(decided), 0))::numeric, 1)"
     "   AS avg_hours_to_decision"
     " FROM report_appeal_outcomes WHERE" F_TPS(
         "tenant_id", "platform", "scenario_id") " AND ($4::timestamptz IS NULL OR day >= "
                                                 "date_trunc('day', $4::timestamptz))"
                                                 " GROUP BY state ORDER BY state",
     NULL},
    {"certification", "certification status of registrations",
     "SELECT platform, status, sum(registrations) AS registrations"
     " FROM report_certification WHERE" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR true)"
                        " GROUP BY platform, status ORDER BY platform, status",
     "SELECT platform, cert_status AS status, sum(registrations) AS registrations"
     " FROM fleet_state WHERE number_status = 'active' AND" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR true)"
                        " GROUP BY platform, cert_status ORDER BY platform, cert_status"},
    /* the closed loop (docs/maintenance.md) */
    {"pushes", "label pushes by state: verified by a check, rejected, unconfirmed",
     "SELECT t.platform, t.state, count(*) AS pushes, count(t.verified_at) AS verified,"
     " count(*) FILTER (WHERE t.polls > 0) AS polled"
     " FROM tag_updates t JOIN numbers n ON n.number = t.number WHERE" F_TPS(
         "n.tenant_id", "t.platform", "n.scenario_id") " AND ($4::timestamptz IS NULL OR "
                                                       "t.pushed_at >= $4)"
                                                       " GROUP BY t.platform, t.state"
                                                       " ORDER BY t.platform, t.state",
     NULL},
    {"rejected_labels", "labels the platforms rejected, with their reasons (not pushed again)",
     "SELECT t.number, t.platform, t.label, t.reason, to_char(t.decided_at, 'YYYY-MM-DD') AS day"
     " FROM tag_updates t JOIN numbers n ON n.number = t.number"
     " WHERE t.state = 'rejected' AND ($4::timestamptz IS NULL OR t.pushed_at >= $4) AND" F_TPS(
         "n.tenant_id", "t.platform", "n.scenario_id") " ORDER BY t.decided_at DESC NULLS LAST"
                                                       " LIMIT 50",
     NULL},
    {"escalations",
     "marks whose appeals were rejected every round (escalated) and marks that "
     "came back",
     "SELECT m.number, m.platform, m.type, m.state, m.remarks AS came_back,"
     " (SELECT max(a.round) FROM appeals a WHERE a.number = m.number AND a.platform = m.platform"
     "   AND a.mark_type = m.type) AS rounds, to_char(m.escalated_at, 'YYYY-MM-DD') AS escalated"
     " FROM marks m JOIN numbers n ON n.number = m.number"
     " WHERE (m.state = 'escalated' OR m.remarks > 0) AND" F_TPS(
         "n.tenant_id", "m.platform", "n.scenario_id") " AND ($4::timestamptz IS NULL OR true)"
                                                       " ORDER BY m.state, m.number LIMIT 50",
     NULL},
    {"maintenance", "work for people: renewals without an API, yearly and region reviews",
     "SELECT i.kind, i.tenant_id AS tenant, i.number, i.platform,"
     " to_char(i.due_at, 'YYYY-MM-DD') AS due, i.detail"
     " FROM maintenance_items i LEFT JOIN numbers n ON n.number = i.number"
     " WHERE i.resolved_at IS NULL AND ($1::text IS NULL OR i.tenant_id = $1)"
     " AND ($2::text IS NULL OR i.platform = $2) AND ($3::text IS NULL OR n.scenario_id = $3)"
     " AND ($4::timestamptz IS NULL OR i.created_at >= $4) ORDER BY i.due_at LIMIT 50",
     NULL},
    {"renewals", "certifications expiring within 30 days and their renewals",
     "SELECT np.platform, count(*) FILTER (WHERE np.cert_expires_at < nt_now()) AS expired,"
     " count(*) FILTER (WHERE np.cert_expires_at >= nt_now()"
     "   AND np.cert_expires_at < nt_now() + interval '30 days') AS expiring_30d,"
     " (SELECT count(*) FROM renewals r WHERE r.platform = np.platform"
     "   AND r.state = 'submitted') AS renewals_pending,"
     " (SELECT count(*) FROM renewals r WHERE r.platform = np.platform"
     "   AND r.state = 'renewed') AS renewed"
     " FROM number_platforms np JOIN numbers n ON n.number = np.number"
     " WHERE np.cert_expires_at IS NOT NULL AND" F_TPS(
         "n.tenant_id", "np.platform",
         "n.scenario_id") " AND ($4::timestamptz IS NULL OR true)"
                          " GROUP BY np.platform ORDER BY np.platform",
     "SELECT platform, sum(expired)::bigint AS expired, sum(expiring_30d)::bigint AS expiring_30d,"
     " (SELECT count(*) FROM renewals r WHERE r.platform = s.platform"
     "   AND r.state = 'submitted') AS renewals_pending,"
     " (SELECT count(*) FROM renewals r WHERE r.platform = s.platform"
     "   AND r.state = 'renewed') AS renewed"
     " FROM fleet_state s WHERE" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR true)"
                        " GROUP BY platform HAVING sum(expires_known) > 0 ORDER BY platform"},
    {"operations", "paid operations per month (tag updates, appeals; money: issue 10's costs)",
     "SELECT to_char(month, 'YYYY-MM') AS month, tenant_id AS tenant,"
     " sum(tag_updates) AS tag_updates, sum(appeals) AS appeals"
     " FROM report_operations_monthly WHERE" F_TPS(
         "tenant_id", "platform",
         "scenario_id") " AND ($4::timestamptz IS NULL OR month >= date_trunc('month', "
                        "$4::timestamptz))"
                        " GROUP BY month, tenant_id ORDER BY month, tenant_id",
     NULL},
    {"costs", "cost per month: platform operations and scenario plans, against the budget",
     /* in the budget's currency (a tenant's, else the defaults'); the budget is
      * today's monthly_budget (a tenant's, or every tenant's summed; none when
      * one has no cap). Months with operations, and the month of numtrust time. */
     COSTS_SQL("nt_plan_fees"), COSTS_SQL("nt_plan_fees_snapshot")},
    {"feedback", "callee reports per tenant and day",
     "SELECT tenant_id AS tenant, to_char(day, 'YYYY-MM-DD') AS day, reports, mark_reports"
     " FROM report_feedback_daily WHERE ($1::text IS NULL OR tenant_id = $1)"
     " AND ($2::text IS NULL OR true) AND ($3::text IS NULL OR true)"
     " AND ($4::timestamptz IS NULL OR day >= date_trunc('day', $4::timestamptz))"
     " ORDER BY tenant_id, day",
     NULL},
    {"dead_letters", "dead letters (fleet-wide: a dead message may not say its tenant)",
     "SELECT count(*) AS dead_letters, count(replayed_at) AS replayed FROM dead_letters"
     " WHERE ($1::text IS NULL OR true) AND ($2::text IS NULL OR true)"
     " AND ($3::text IS NULL OR true) AND ($4::timestamptz IS NULL OR dead_at >= $4)",
     NULL},
    {"jobs", "jobs ledger",
     "SELECT type, state, count(*) AS jobs, sum(attempts) AS attempts FROM jobs"
     " WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR platform = $2)"
     " AND ($3::text IS NULL OR true) AND ($4::timestamptz IS NULL OR created_at >= $4)"
     " GROUP BY type, state ORDER BY type, state",
     NULL},
};
const size_t report_nsections = NT_ARRAY_LEN(report_sections);

const report_section_t *report_section_find(const char *name)
{
    for (size_t i = 0; i < report_nsections; i++)
        if (strcmp(report_sections[i].name, name) == 0)
            return &report_sections[i];
    return NULL;
}

bool report_snapshot(nt_pg_t *pg, char *taken, size_t takensz, double *age_s, nt_err_t *err)
{
    PGresult *res = nt_pg_exec(pg,
                               "SELECT to_char(taken_at AT TIME ZONE 'UTC',"
                               " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                               " extract(epoch FROM now() - taken_at) FROM fleet_state_taken",
                               0, NULL, err);
    bool have = res != NULL && PQntuples(res) == 1;
    if (have) {
        snprintf(taken, takensz, "%s", PQgetvalue(res, 0, 0));
        *age_s = atof(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return have;
}

long long report_snapshot_refresh(nt_pg_t *pg, nt_err_t *err)
{
    PGresult *res = nt_pg_exec(pg, "SELECT nt_fleet_state_refresh()", 0, NULL, err);
    long long n = res != NULL && PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

void report_decide(nt_pg_t *pg, report_filter_t *f)
{
    if (f->decided)
        return;
    nt_err_t e2;
    nt_err_clear(&e2);
    f->snapshot = !f->live && report_snapshot(pg, f->taken, sizeof(f->taken), &f->age_s, &e2);
    f->decided = true;
}

bool report_section_snapshot(const report_section_t *sec, const report_filter_t *f)
{
    return sec->snap != NULL && f->snapshot;
}

PGresult *report_section_query(nt_pg_t *pg, const report_section_t *sec, report_filter_t *f,
                               nt_err_t *err)
{
    const char *p[] = {f->tenant, f->platform, f->scenario, f->since};
    report_decide(pg, f);
    return nt_pg_exec(pg, report_section_snapshot(sec, f) ? sec->snap : sec->sql, 4, p, err);
}

/* Numeric PostgreSQL types are written as JSON numbers. */
static bool is_numeric(Oid type)
{
    return type == 20 || type == 21 || type == 23 || type == 700 || type == 701 || type == 1700;
}

int report_result_json(PGresult *res, nt_buf_t *out)
{
    int rows = PQntuples(res), cols = PQnfields(res);
    int rc = nt_buf_putc(out, '[');
    for (int r = 0; rc == NT_OK && r < rows; r++) {
        rc = nt_buf_puts(out, r ? ",{" : "{");
        for (int c = 0; rc == NT_OK && c < cols; c++) {
            const char *name = PQfname(res, c), *v = PQgetvalue(res, r, c);
            rc = nt_buf_puts(out, c ? "," : "");
            if (rc == NT_OK)
                rc = nt_buf_json_str(out, name, strlen(name));
            if (rc == NT_OK)
                rc = nt_buf_putc(out, ':');
            if (rc != NT_OK)
                break;
            if (PQgetisnull(res, r, c))
                rc = nt_buf_puts(out, "null");
            else if (is_numeric(PQftype(res, c)))
                rc = nt_buf_puts(out, v);
            else
                rc = nt_buf_json_str(out, v, strlen(v));
        }
        if (rc == NT_OK)
            rc = nt_buf_putc(out, '}');
    }
    return rc == NT_OK ? nt_buf_putc(out, ']') : rc;
}

/* Display width of a UTF-8 string in a terminal: wcswidth(3), which knows
 * that CJK ideographs take two columns and `—` or `€` one. */
static int display_width(const char *s)
{
    wchar_t w[512];
    size_t n = mbstowcs(w, s, NT_ARRAY_LEN(w) - 1);
    if (n == (size_t)-1)
        return (int)strlen(s);
    w[n] = L'\0';
    int width = wcswidth(w, n);
    return width < 0 ? (int)n : width;
}

static void print_text(const char *title, PGresult *res)
{
    int rows = PQntuples(res), cols = PQnfields(res);
    int width[32];
    if (cols > 32)
        cols = 32;
    printf("\n%s\n", title);
    for (int c = 0; c < cols; c++) {
        width[c] = display_width(PQfname(res, c));
        for (int r = 0; r < rows; r++) {
            int wdt = display_width(PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c));
            if (wdt > width[c])
                width[c] = wdt;
        }
    }
    for (int c = 0; c < cols; c++)
        printf("  %s%*s", PQfname(res, c), width[c] - display_width(PQfname(res, c)), "");
    printf("\n");
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            const char *v = PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c);
            printf("  %s%*s", v, width[c] - display_width(v), "");
        }
        printf("\n");
    }
    if (rows == 0)
        printf("  (none)\n");
}

static void csv_field(FILE *fp, const char *v)
{
    if (strpbrk(v, ",\"\n\r") == NULL) {
        fputs(v, fp);
        return;
    }
    fputc('"', fp);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', fp);
        fputc(*v, fp);
    }
    fputc('"', fp);
}

static void print_csv(const char *name, PGresult *res)
{
    int rows = PQntuples(res), cols = PQnfields(res);
    printf("section");
    for (int c = 0; c < cols; c++) {
        putchar(',');
        csv_field(stdout, PQfname(res, c));
    }
    putchar('\n');
    for (int r = 0; r < rows; r++) {
        fputs(name, stdout);
        for (int c = 0; c < cols; c++) {
            putchar(',');
            csv_field(stdout, PQgetisnull(res, r, c) ? "" : PQgetvalue(res, r, c));
        }
        putchar('\n');
    }
    putchar('\n');
}

static void report_usage(FILE *fp)
{
    fputs("usage: numtrust-producer report [--tenant T] [--platform P] [--scenario S]\n"
          "                                [--since TIME] [--format text|json|csv|html]\n"
          "                                [--section NAME] [--output FILE] [--live|--refresh]\n\n"
          "The fleet's state from the report views (report_* in PostgreSQL; psql users\n"
          "and dashboards can read them too). Sections:\n",
          fp);
    for (size_t i = 0; i < report_nsections; i++)
        fprintf(fp, "  %-14s %s\n", report_sections[i].name, report_sections[i].title);
    fputs("\n--since takes an RFC 3339 time or a date (2027-01-01). --format html writes\n"
          "one self-contained page (inline SVG charts, no network needed to view it):\n"
          "mark rate against the 3% line, trust score per scenario, label coverage,\n"
          "appeal outcomes, certification status, operations per month.\n"
          "--section prints one section only (text, json, csv).\n\n"
          "A fleet of report.snapshot_min_registrations registrations or more (1,000,000)\n"
          "has its fleet-wide sections (fleet, scenarios, platforms, labels,\n"
          "certification) read from a snapshot the reconciler refreshes every\n"
          "report.snapshot_interval_s (3600 s; the text report says when it was taken):\n"
          "  --live     compute them now instead (reads every registration)\n"
          "  --refresh  take a new snapshot first (any fleet size)\n\n"
          "Exit status: 0 ok; 1 PostgreSQL failed; 2 usage error.\n",
          fp);
}

int cmd_report(cli_t *cli, int argc, char **argv)
{
    report_filter_t f = {0};
    const char *format = "text", *section = NULL, *output = NULL;
    bool refresh = false;
    nt_err_t err;
    nt_buf_t out;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            report_usage(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--tenant", &v)) {
            if ((f.tenant = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--platform", &v)) {
            if ((f.platform = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--scenario", &v)) {
            if ((f.scenario = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--since", &v)) {
            if ((f.since = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--format", &v)) {
            if ((format = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--section", &v)) {
            if ((section = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--output", &v)) {
            if ((output = v) == NULL)
                return 2;
        } else if (strcmp(argv[i], "--live") == 0) {
            f.live = true;
        } else if (strcmp(argv[i], "--refresh") == 0) {
            refresh = true;
        } else {
            return cli_usage_error("report", "unknown argument \"%s\"", argv[i]);
        }
    }
    static const char *const formats[] = {"text", "json", "csv", "html"};
    bool known = false;
    for (size_t i = 0; i < NT_ARRAY_LEN(formats); i++)
        known = known || strcmp(format, formats[i]) == 0;
    if (!known)
        return cli_usage_error("report", "--format \"%s\" is not text, json, csv or html", format);
    if (section != NULL && report_section_find(section) == NULL)
        return cli_usage_error("report", "--section \"%s\" is not a section", section);
    if (f.tenant != NULL && !nt_job_is_tenant_id(f.tenant))
        return cli_usage_error("report", "--tenant \"%s\" is not a tenant id", f.tenant);
    if (output != NULL && freopen(output, "w", stdout) == NULL) {
        perror(output);
        return 1;
    }
    setlocale(LC_CTYPE, "C.UTF-8"); /* for wcswidth */
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    nt_err_clear(&err);
    nt_buf_init(&out, 0);
    if (f.since != NULL) {
        /* let PostgreSQL judge the time, and name the option when it is bad */
        const char *p[] = {f.since};
        PGresult *res = nt_pg_exec(pg, "SELECT $1::timestamptz", 1, p, &err);
        PQclear(res);
        if (res == NULL) {
            rc = cli_usage_error("report", "--since \"%s\" is not a time (2027-01-01)", f.since);
            goto out;
        }
    }
    if (strcmp(format, "html") == 0) {
        if (report_html(pg, f.tenant, f.platform, f.scenario, f.since, &out, &err) != 0) {
            fprintf(stderr, "numtrust-producer report: %s\n", err.msg);
            goto out;
        }
        fwrite(out.data, 1, out.len, stdout);
        rc = 0;
        goto out;
    }
    if (refresh) {
        int64_t t0 = nt_clock_mono_ms();
        long long regs = report_snapshot_refresh(pg, &err);
        if (regs < 0) {
            fprintf(stderr, "numtrust-producer report: refreshing the fleet-state snapshot: %s\n",
                    err.msg);
            goto out;
        }
        fprintf(stderr, "fleet-state snapshot refreshed: %lld registrations in %.1f s\n", regs,
                (double)(nt_clock_mono_ms() - t0) / 1000.0);
    }
    report_decide(pg, &f);
    if (f.snapshot && strcmp(format, "text") == 0)
        printf("(fleet, scenarios, platforms, labels and certification: the fleet-state snapshot "
               "of %s, %.0f s old; --live computes them now, --refresh takes a new snapshot)\n",
               f.taken, f.age_s);
    bool json = strcmp(format, "json") == 0;
    if (json && nt_buf_puts(&out, "{") != NT_OK)
        goto out;
    bool first = true;
    for (size_t s = 0; s < report_nsections; s++) {
        const report_section_t *sec = &report_sections[s];
        if (section != NULL && strcmp(section, sec->name) != 0)
            continue;
        PGresult *res = report_section_query(pg, sec, &f, &err);
        if (res == NULL) {
            fprintf(stderr, "numtrust-producer report: %s: %s\n", sec->name, err.msg);
            goto out;
        }
        if (json) {
            int jrc = nt_buf_printf(&out, "%s\"%s\":", first ? "" : ",", sec->name);
            if (jrc == NT_OK)
                jrc = report_result_json(res, &out);
            if (jrc != NT_OK) {
                PQclear(res);
                goto out;
            }
        } else if (strcmp(format, "csv") == 0) {
            print_csv(sec->name, res);
        } else {
            print_text(sec->title, res);
        }
        first = false;
        PQclear(res);
    }
    if (json) {
        if (nt_buf_puts(&out, "}\n") != NT_OK)
            goto out;
        fwrite(out.data, 1, out.len, stdout);
    }
    rc = 0;
out:
    fflush(stdout);
    nt_buf_free(&out);
    nt_pg_free(pg);
    return rc;
}
