/*
 * costs.c — prices and `numtrust-producer costs` (docs/policies.md, Costs).
 *
 * The price of each platform operation lives in platforms.json; every
 * reconciler pass (and `costs prices`) copies it into platform_prices, where
 * the cost ledger's triggers read it as each result is written (migration
 * 006). The report adds up the ledger per month, tenant and scenario,
 * platform, group or operation, with the scenario plan fees of the article,
 * and sets each tenant's operations against its monthly budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla.h"

static const char sql_prices[] =
    "WITH r AS (SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[])"
    "           AS r(platform, op, amount, currency)) "
    "INSERT INTO platform_prices AS pp (platform, op, amount, currency, updated_at) "
    "SELECT platform, op, amount, currency, now() FROM r "
    "ON CONFLICT (platform, op) DO UPDATE SET amount = EXCLUDED.amount,"
    "  currency = EXCLUDED.currency, updated_at = now()"
    " WHERE pp.amount IS DISTINCT FROM EXCLUDED.amount"
    "    OR pp.currency IS DISTINCT FROM EXCLUDED.currency";

int costs_sync_prices(const nt_platforms_t *ps, nt_pg_t *pg, uint64_t *n, nt_err_t *err)
{
    nt_pg_array_t a[4];
    int rc = NT_OK;
    size_t rows = 0;
    for (size_t i = 0; i < NT_ARRAY_LEN(a); i++)
        nt_pg_array_init(&a[i]);
    for (size_t i = 0; rc == NT_OK && i < nt_platforms_count(ps); i++) {
        const nt_platform_t *p = nt_platforms_at(ps, i);
        for (int what = 0; rc == NT_OK && what < NT_PRICE_N; what++) {
            double amount = 0;
            char text[64];
            if (!nt_platform_price(p, (nt_price_t)what, &amount))
                continue;
            snprintf(text, sizeof(text), "%.6f", amount);
            rc = nt_pg_array_add_str(&a[0], nt_platform_id(p));
            if (rc == NT_OK)
                rc = nt_pg_array_add_str(&a[1], nt_price_name((nt_price_t)what));
            if (rc == NT_OK)
                rc = nt_pg_array_add_str(&a[2], text);
            if (rc == NT_OK)
                rc = nt_pg_array_add_str(&a[3], nt_platform_currency(p));
            rows++;
        }
    }
    if (rc != NT_OK) {
        nt_err_set(err, rc, false, "prices: out of memory");
    } else if (rows > 0) {
        const char *params[4];
        for (size_t i = 0; i < NT_ARRAY_LEN(a); i++)
            params[i] = nt_pg_array_text(&a[i]);
        PGresult *res = nt_pg_exec(pg, sql_prices, 4, params, err);
        if (res == NULL) {
            rc = err->code != 0 ? err->code : NT_ERR;
        } else {
            if (n != NULL)
                *n += strtoull(PQcmdTuples(res), NULL, 10);
            PQclear(res);
        }
    }
    for (size_t i = 0; i < NT_ARRAY_LEN(a); i++)
        nt_pg_array_free(&a[i]);
    return rc;
}

static void costs_usage(FILE *fp)
{
    fputs("usage: numtrust-producer costs [report] [--month YYYY-MM] [--tenant T]\n"
          "                          [--by tenant|scenario|platform|group|op]\n"
          "       numtrust-producer costs prices\n\n"
          "Costs (docs/policies.md, Costs). `report` (the default) adds up the cost ledger\n"
          "— one row per priced platform operation, written with its result — for the month\n"
          "of numtrust time (or --month), with the scenario plan fees (high_frequency 200\n"
          "CNY a month, seasonal 300 CNY a label switch, high_qualification 800 CNY a year,\n"
          "individual 0), per tenant and, with --by, per scenario, platform, group or\n"
          "operation; per tenant it sets the operations against the monthly budget\n"
          "(policy monthly_budget). `prices` copies the prices of platforms_file into the\n"
          "database (every reconciler pass does too) and lists them.\n"
          "Exit status: 0, 1 on a database error, 2 on a usage error.\n",
          fp);
}

/* Rows of the month: operations from the ledger, plan fees per scenario. */
#define COST_ROWS                                                                                  \
    "WITH m AS (SELECT COALESCE($1::date, nt_month(nt_now())) AS month),"                          \
    " rows AS ("                                                                                   \
    "  SELECT c.tenant_id, c.scenario_id, c.platform, c.number_group, c.op, c.currency,"           \
    "         c.operations, c.amount FROM cost_monthly c, m WHERE c.month = m.month"               \
    "  UNION ALL"                                                                                  \
    "  SELECT f.tenant_id, f.scenario_id, '(plan)', '', 'plan_' || f.plan_per, f.currency, 0,"     \
    "         f.amount FROM nt_plan_fees((SELECT month FROM m)) f WHERE f.amount > 0"              \
    " ) "

static const char sql_by_tenant[] = COST_ROWS
    "SELECT t.id AS tenant, to_char(m.month, 'YYYY-MM') AS month,"
    "       COALESCE(sum(r.operations), 0) AS operations,"
    "       to_char(COALESCE(sum(r.amount) FILTER (WHERE r.op NOT LIKE 'plan_%'), 0),"
    "               'FM999999990.00') AS operations_cost,"
    "       to_char(COALESCE(sum(r.amount) FILTER (WHERE r.op LIKE 'plan_%'), 0),"
    "               'FM999999990.00') AS plans,"
    "       to_char(COALESCE(sum(r.amount), 0), 'FM999999990.00') AS total,"
    "       CASE WHEN b.budget = 'Infinity' THEN 'none'"
    "            ELSE to_char(b.budget, 'FM999999990.00') END AS budget,"
    "       CASE WHEN b.budget = 'Infinity' THEN '-'"
    "            ELSE to_char(100 * COALESCE(sum(r.amount) FILTER (WHERE r.op NOT LIKE 'plan_%'"
    "                         AND r.currency = b.currency), 0) / NULLIF(b.budget, 0),"
    "                         'FM99990.0') || '%' END AS of_budget,"
    "       COALESCE(min(r.currency), b.currency) AS currency"
    " FROM tenants t CROSS JOIN m JOIN tenant_budgets b ON b.tenant_id = t.id"
    " LEFT JOIN rows r ON r.tenant_id = t.id"
    " WHERE ($2::text IS NULL OR t.id = $2)"
    " GROUP BY t.id, m.month, b.budget, b.currency ORDER BY t.id";

/* A breakdown of the rows by one column. */
#define BY_DIM(col, name)                                                                          \
    COST_ROWS "SELECT r.tenant_id AS tenant, r." col " AS " name ","                               \
              "       sum(r.operations) AS operations,"                                            \
              "       to_char(sum(r.amount), 'FM999999990.00') AS amount, r.currency"              \
              " FROM rows r WHERE ($2::text IS NULL OR r.tenant_id = $2)"                          \
              " GROUP BY r.tenant_id, r." col ", r.currency ORDER BY 1, 2"

static const struct {
    const char *by, *sql; /* sql NULL: per tenant, against the budget */
} dims[] = {
    {"tenant", NULL},
    {"scenario", BY_DIM("scenario_id", "scenario")},
    {"platform", BY_DIM("platform", "platform")},
    {"group", BY_DIM("number_group", "number_group")},
    {"op", BY_DIM("op", "op")},
};

int cmd_costs(cli_t *cli, int argc, char **argv)
{
    const char *sub = NULL, *month = NULL, *tenant = NULL, *by = "tenant";
    char month_date[32];
    nt_err_t err;
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            costs_usage(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--month", &v)) {
            if ((month = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--tenant", &v)) {
            if ((tenant = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--by", &v)) {
            if ((by = v) == NULL)
                return 2;
        } else if (sub == NULL && argv[i][0] != '-') {
            sub = argv[i];
        } else {
            return cli_usage_error("costs", "unknown argument \"%s\"", argv[i]);
        }
    }
    if (sub == NULL)
        sub = "report";
    if (strcmp(sub, "report") != 0 && strcmp(sub, "prices") != 0)
        return cli_usage_error("costs", "unknown subcommand \"%s\" (report, prices)", sub);
    const char *dim_sql = NULL;
    bool known = false;
    for (size_t d = 0; d < NT_ARRAY_LEN(dims); d++)
        if (strcmp(by, dims[d].by) == 0) {
            known = true;
            dim_sql = dims[d].sql;
        }
    if (!known)
        return cli_usage_error("costs",
                               "--by \"%s\" is not tenant, scenario, platform, group or op", by);
    if (month != NULL) {
        int y = 0, mo = 0;
        char tail = 0;
        if (sscanf(month, "%4d-%2d%c", &y, &mo, &tail) != 2 || strlen(month) != 7 || y < 2000 ||
            y > 9999 || mo < 1 || mo > 12)
            return cli_usage_error("costs", "--month \"%s\" is not YYYY-MM", month);
        snprintf(month_date, sizeof(month_date), "%04d-%02d-01", y, mo);
    }
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    nt_err_clear(&err);
    if (strcmp(sub, "prices") == 0) {
        const nt_platforms_t *ps = cli_platforms(cli);
        uint64_t n = 0;
        if (ps == NULL)
            goto out;
        if (costs_sync_prices(ps, pg, &n, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer costs prices: %s\n", err.msg);
            goto out;
        }
        printf("prices from %s: %llu changed\n", cli->cfg.platforms_file, (unsigned long long)n);
        rc = sla_query_print(pg, "costs", NULL,
                             "SELECT platform, string_agg(op || ' ' || amount::float8, ', ' "
                             "ORDER BY op) AS prices, min(currency) AS currency "
                             "FROM platform_prices GROUP BY platform ORDER BY platform",
                             0, NULL);
        goto out;
    }
    const char *p[] = {month != NULL ? month_date : NULL, tenant};
    rc = sla_query_print(pg, "costs", NULL, dim_sql != NULL ? dim_sql : sql_by_tenant, 2, p);
out:
    nt_pg_free(pg);
    return rc;
}
