/*
 * sla_cli.c — `numtrust-producer sla` and `numtrust-producer quarantine`:
 * the service-level pass by hand, the per-tenant summary (mark rate against
 * its target, service levels met and breached, the month's cost against the
 * budget), breaches with their evidence, mark rates per dimension, trust
 * trends; the quarantine list for dialers, and putting a number in or out of
 * quarantine by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "phone.h"
#include "sla.h"

static int display_width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            w += *p >= 0xE0 ? 2 : 1;
    return w;
}

void sla_print_table(const char *title, PGresult *res)
{
    int rows = PQntuples(res), cols = PQnfields(res);
    int width[32];
    if (cols > 32)
        cols = 32;
    if (title != NULL)
        printf("\n%s\n", title);
    for (int c = 0; c < cols; c++) {
        width[c] = display_width(PQfname(res, c));
        for (int r = 0; r < rows; r++) {
            int w = display_width(PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c));
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (int c = 0; c < cols; c++)
        printf("  %-*s", width[c], PQfname(res, c));
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

int sla_query_print(nt_pg_t *pg, const char *cmd, const char *title, const char *sql, int nparams,
                    const char *const *params)
{
    nt_err_t err;
    nt_err_clear(&err);
    PGresult *res = nt_pg_exec(pg, sql, nparams, params, &err);
    if (res == NULL) {
        fprintf(stderr, "numtrust-producer %s: %s\n", cmd, err.msg);
        return 1;
    }
    sla_print_table(title, res);
    PQclear(res);
    return 0;
}

/* ---- sla ---- */

static void sla_usage(FILE *fp)
{
    fputs("usage: numtrust-producer sla pass\n"
          "       numtrust-producer sla summary [--tenant T]\n"
          "       numtrust-producer sla breaches [--tenant T] [--kind K] [--limit N]\n"
          "       numtrust-producer sla rates [--tenant T] [--dim tenant|platform|scenario|group]\n"
          "       numtrust-producer sla trend --number N\n\n"
          "Service levels (docs/policies.md). `pass` runs what every reconciler pass runs\n"
          "first: prices from platforms_file, mark rates per tenant, platform, scenario and\n"
          "group (hourly history), service-level clocks (appeal filing and decision,\n"
          "qualification and campaign labels), trust trends, risky numbers, quarantine,\n"
          "and the alerts they raise. `summary` prints per tenant the mark rate against its\n"
          "target, this month's service levels met and breached, and the month's cost\n"
          "against the budget. `breaches` lists breached clocks with their evidence,\n"
          "`rates` the latest mark rates, `trend` a number's trust trend, forecast and\n"
          "measured decay per quarter. Times are numtrust time (`clock show`).\n"
          "Exit status: 0, 1 on a database error, 2 on a usage error.\n",
          fp);
}

static const char sql_summary[] =
    "WITH m AS (SELECT nt_month(nt_now()) AS month),"
    " sla AS (SELECT tenant_id, sum(met) AS met, sum(breached) AS breached,"
    "                sum(open + at_risk) AS open"
    "         FROM sla_month GROUP BY tenant_id),"
    " plans AS (SELECT tenant_id, sum(amount) AS amount FROM nt_plan_fees((SELECT month FROM m))"
    "           GROUP BY tenant_id) "
    "SELECT t.id AS tenant,"
    "       COALESCE(to_char(ts.mark_rate * 100, 'FM990.00') || '%', '-') AS mark_rate,"
    "       round(tp.max_mark_rate * 100, 3)::float8 || '%' AS target,"
    "       CASE WHEN ts.tenant_id IS NULL THEN 'unchecked' WHEN ts.over_target THEN 'OVER'"
    "            ELSE 'ok' END AS status,"
    "       COALESCE(s.met, 0) AS sla_met, COALESCE(s.breached, 0) AS sla_breached,"
    "       COALESCE(s.open, 0) AS sla_open,"
    "       to_char(b.spent, 'FM999999990.00') AS operations,"
    "       to_char(COALESCE(p.amount, 0), 'FM999999990.00') AS plans,"
    "       to_char(b.spent + COALESCE(p.amount, 0), 'FM999999990.00') AS month_cost,"
    "       CASE WHEN b.budget = 'Infinity' THEN 'none'"
    "            ELSE to_char(b.budget, 'FM999999990.00') END AS budget, b.currency"
    " FROM tenants t JOIN tenant_policies tp ON tp.tenant_id = t.id"
    " JOIN tenant_budgets b ON b.tenant_id = t.id"
    " LEFT JOIN tenant_status ts ON ts.tenant_id = t.id"
    " LEFT JOIN sla s ON s.tenant_id = t.id LEFT JOIN plans p ON p.tenant_id = t.id"
    " WHERE ($1::text IS NULL OR t.id = $1) ORDER BY t.id";

static const char sql_breaches[] =
    "SELECT id, kind, tenant_id AS tenant, number, platform, detail,"
    "       to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS started,"
    "       to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS due,"
    "       COALESCE(to_char(done_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), 'not done')"
    "           AS done,"
    "       date_trunc('second', late_by)::text AS late_by, evidence::text AS evidence"
    " FROM sla_breaches WHERE ($1::text IS NULL OR tenant_id = $1)"
    "   AND ($2::text IS NULL OR kind = $2) ORDER BY due_at DESC, id DESC LIMIT $3::int";

static const char sql_rates[] =
    "SELECT DISTINCT ON (tenant_id, dim, key) tenant_id AS tenant, dim,"
    "       CASE WHEN key = '' AND dim = 'group' THEN '(none)' ELSE key END AS key,"
    "       registrations, marked, to_char(rate * 100, 'FM990.00') || '%' AS rate,"
    "       round(target * 100, 3)::float8 || '%' AS target,"
    "       CASE WHEN rate > target THEN 'OVER' ELSE 'ok' END AS status,"
    "       to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:00') AS hour"
    " FROM mark_rates WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR dim = $2)"
    " ORDER BY tenant_id, dim, key, bucket DESC";

static const char sql_trend[] =
    "SELECT platform, points, last_score, round(slope_per_day::numeric, 4) AS slope_per_day,"
    "       round(decay_pct_quarter::numeric, 2) AS decay_pct_quarter, threshold,"
    "       COALESCE(to_char(crosses_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'never') AS crosses,"
    "       to_char(first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS since"
    " FROM trust_trends WHERE number = $1 ORDER BY platform";

static const char sql_quarters[] =
    "SELECT platform, to_char(quarter, 'YYYY-\"Q\"Q') AS quarter, checks, avg_score, decay_pct"
    " FROM trust_quarterly WHERE number = $1 ORDER BY platform, quarter";

int cmd_sla(cli_t *cli, int argc, char **argv)
{
    const char *sub = NULL, *tenant = NULL, *kind = NULL, *dim = NULL, *number = NULL;
    const char *limit = "50";
    nt_err_t err;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            sla_usage(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--tenant", &v)) {
            if ((tenant = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--kind", &v)) {
            if ((kind = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--dim", &v)) {
            if ((dim = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--number", &v)) {
            if ((number = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--limit", &v)) {
            if ((limit = v) == NULL)
                return 2;
        } else if (sub == NULL && argv[i][0] != '-') {
            sub = argv[i];
        } else {
            return cli_usage_error("sla", "unknown argument \"%s\"", argv[i]);
        }
    }
    static const char *const subs[] = {"pass", "summary", "breaches", "rates", "trend"};
    bool known = false;
    for (size_t s = 0; sub != NULL && s < NT_ARRAY_LEN(subs); s++)
        known = known || strcmp(sub, subs[s]) == 0;
    if (!known)
        return cli_usage_error("sla", "%s%s%s", sub ? "unknown subcommand \"" : "which one? ",
                               sub ? sub : "pass, summary, breaches, rates or trend",
                               sub ? "\"" : "");
    if (kind != NULL && strcmp(kind, "appeal_filing") != 0 &&
        strcmp(kind, "appeal_decision") != 0 && strcmp(kind, "qualification_label") != 0 &&
        strcmp(kind, "campaign_label") != 0)
        return cli_usage_error("sla",
                               "--kind \"%s\" is not appeal_filing, appeal_decision, "
                               "qualification_label or campaign_label",
                               kind);
    if (dim != NULL && strcmp(dim, "tenant") != 0 && strcmp(dim, "platform") != 0 &&
        strcmp(dim, "scenario") != 0 && strcmp(dim, "group") != 0)
        return cli_usage_error("sla", "--dim \"%s\" is not tenant, platform, scenario or group",
                               dim);
    if (strspn(limit, "0123456789") != strlen(limit) || limit[0] == '\0' || strlen(limit) > 7)
        return cli_usage_error("sla", "--limit \"%s\" is not a positive integer", limit);
    if (strcmp(sub, "trend") == 0 && (number == NULL || !nt_phone_is_e164(number)))
        return cli_usage_error("sla", "trend needs --number in E.164 (got \"%s\")",
                               number ? number : "");
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    nt_err_clear(&err);
    if (strcmp(sub, "pass") == 0) {
        sla_stats_t st;
        if (sla_pass(cli, pg, &st, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer sla pass: %s\n", err.msg);
            goto out;
        }
        printf("sla pass:");
        for (int s = 0; s < SLA_NSTEPS; s++)
            printf(" %s %llu%s", sla_step_name((sla_step_t)s), (unsigned long long)st.counts[s],
                   s + 1 < SLA_NSTEPS ? "," : "");
        printf("; %lld ms\n", (long long)st.ms);
        rc = 0;
    } else if (strcmp(sub, "summary") == 0) {
        const char *p[] = {tenant};
        rc = sla_query_print(pg, "sla", NULL, sql_summary, 1, p);
    } else if (strcmp(sub, "breaches") == 0) {
        const char *p[] = {tenant, kind, limit};
        rc = sla_query_print(pg, "sla", NULL, sql_breaches, 3, p);
    } else if (strcmp(sub, "rates") == 0) {
        const char *p[] = {tenant, dim};
        rc = sla_query_print(pg, "sla", NULL, sql_rates, 2, p);
    } else {
        const char *p[] = {number};
        rc = sla_query_print(pg, "sla", "trust trend (least squares, last sla.trend_days)",
                             sql_trend, 1, p);
        if (rc == 0)
            rc = sla_query_print(pg, "sla", "measured decay per quarter", sql_quarters, 1, p);
    }
out:
    nt_pg_free(pg);
    return rc;
}

/* ---- quarantine ---- */

static void quarantine_usage(FILE *fp)
{
    fputs("usage: numtrust-producer quarantine list [--tenant T] [--all]\n"
          "       numtrust-producer quarantine add --number N --note TEXT\n"
          "       numtrust-producer quarantine release --number N [--note TEXT]\n\n"
          "Burned numbers put to rest (docs/policies.md, Quarantine): fraud marks on\n"
          "quarantine_fraud_platforms platforms or more, or a mark back after its appeal\n"
          "was approved. Dialers read the list (view quarantined_numbers); maintenance\n"
          "goes on, and a number returns by itself once its marks are cleared and the\n"
          "policy's quarantine_cooldown has passed. `list` shows the numbers in quarantine\n"
          "(--all: every episode, released too); `add` quarantines a number by hand (it\n"
          "stays until released by hand); `release` ends a quarantine now. Both raise the\n"
          "alert a reconciler pass would.\n"
          "Exit status: 0, 1 on a database error or an unknown number, 2 on a usage error.\n",
          fp);
}

static const char sql_q_list[] =
    "SELECT q.number, q.tenant_id AS tenant, q.reason,"
    "       to_char(q.since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS since,"
    "       COALESCE(to_char(q.release_after AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '-')"
    "           AS release_after,"
    "       COALESCE(to_char(q.released_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '-')"
    "           AS released, q.evidence::text AS evidence"
    " FROM quarantine q WHERE ($1::text IS NULL OR q.tenant_id = $1)"
    "   AND ($2::bool OR q.released_at IS NULL) ORDER BY q.since DESC, q.id DESC";

const char sla_sql_quarantine_add[] =
    "WITH ins AS ("
    "  INSERT INTO quarantine (number, tenant_id, reason, evidence, since, note)"
    "  SELECT n.number, n.tenant_id, 'manual', jsonb_build_object('note', $2::text), nt_now(), $2"
    "  FROM numbers n WHERE n.number = $1"
    "  ON CONFLICT (number) WHERE released_at IS NULL DO NOTHING RETURNING *)"
    "SELECT ins.id, nt_alert('number_quarantined', ins.tenant_id, ins.number, NULL,"
    "    'quarantined:' || ins.id, format('%s quarantined by hand: %s', ins.number, ins.note),"
    "    jsonb_build_object('reason', 'manual', 'note', ins.note, 'since', ins.since))"
    " FROM ins";

const char sla_sql_quarantine_release[] =
    "WITH up AS ("
    "  UPDATE quarantine q SET released_at = nt_now(), release_reason = 'manual',"
    "    note = COALESCE($2, q.note)"
    "  WHERE q.number = $1 AND q.released_at IS NULL RETURNING q.*)"
    "SELECT up.id, nt_alert('number_released', up.tenant_id, up.number, NULL,"
    "    'released:' || up.id, format('%s released from quarantine by hand', up.number),"
    "    jsonb_build_object('reason', up.reason, 'since', up.since, 'released_at',"
    "                       up.released_at, 'release', 'manual', 'note', $2::text))"
    " FROM up";

int cmd_quarantine(cli_t *cli, int argc, char **argv)
{
    const char *sub = NULL, *tenant = NULL, *number = NULL, *note = NULL;
    bool all = false;
    nt_err_t err;
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            quarantine_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (cli_opt(argc, argv, &i, "--tenant", &v)) {
            if ((tenant = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--number", &v)) {
            if ((number = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--note", &v)) {
            if ((note = v) == NULL)
                return 2;
        } else if (sub == NULL && argv[i][0] != '-') {
            sub = argv[i];
        } else {
            return cli_usage_error("quarantine", "unknown argument \"%s\"", argv[i]);
        }
    }
    if (sub == NULL ||
        (strcmp(sub, "list") != 0 && strcmp(sub, "add") != 0 && strcmp(sub, "release") != 0))
        return cli_usage_error("quarantine", "which one? list, add or release");
    if (strcmp(sub, "list") != 0 && (number == NULL || !nt_phone_is_e164(number)))
        return cli_usage_error("quarantine", "%s needs --number in E.164 (got \"%s\")", sub,
                               number ? number : "");
    if (strcmp(sub, "add") == 0 && (note == NULL || note[0] == '\0'))
        return cli_usage_error("quarantine", "add needs --note: why the number is burned");
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    nt_err_clear(&err);
    if (strcmp(sub, "list") == 0) {
        const char *p[] = {tenant, all ? "true" : "false"};
        rc = sla_query_print(pg, "quarantine", NULL, sql_q_list, 2, p);
        goto out;
    }
    const char *p[] = {number, note};
    PGresult *res = nt_pg_exec(
        pg, strcmp(sub, "add") == 0 ? sla_sql_quarantine_add : sla_sql_quarantine_release, 2, p,
        &err);
    if (res == NULL) {
        fprintf(stderr, "numtrust-producer quarantine: %s\n", err.msg);
        goto out;
    }
    if (PQntuples(res) == 0) {
        fprintf(stderr, "numtrust-producer quarantine %s: --number %s %s\n", sub, number,
                strcmp(sub, "add") == 0 ? "is not a managed number, or is in quarantine already"
                                        : "is not in quarantine");
    } else {
        printf("%s %s (quarantine %s)\n", strcmp(sub, "add") == 0 ? "quarantined" : "released",
               number, PQgetvalue(res, 0, 0));
        rc = 0;
    }
    PQclear(res);
out:
    nt_pg_free(pg);
    return rc;
}
