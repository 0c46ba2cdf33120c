/*
 * history.c — the check history's upkeep (migration 009) and `numtrust-producer
 * history`.
 *
 * Every reconciler pass copies history.keep_months and history.trust_delta
 * into history_settings (the workers' check statement reads trust_delta
 * there) and runs nt_history_maintain(): the monthly partitions of
 * check_results around numtrust now are created, rows that landed in the
 * default partition move into theirs, months older than keep_months are
 * dropped. `history show` prints the partitions and the rollups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

static const char sql_settings[] =
    "UPDATE history_settings SET keep_months = $1::int, trust_delta = $2::int,"
    "  updated_at = now()"
    " WHERE keep_months <> $1::int OR trust_delta <> $2::int";

static const char sql_maintain[] = "SELECT created, moved, dropped FROM nt_history_maintain()";

int history_maintain(cli_t *cli, nt_pg_t *pg, history_stats_t *st, nt_err_t *err)
{
    char keep[16], delta[16];
    memset(st, 0, sizeof(*st));
    snprintf(keep, sizeof(keep), "%d", cli->cfg.history_keep_months);
    snprintf(delta, sizeof(delta), "%d", cli->cfg.history_trust_delta);
    const char *p[] = {keep, delta};
    int rc = nt_pg_run(pg, sql_settings, 2, p, err);
    if (rc != NT_OK)
        return rc;
    PGresult *res = nt_pg_exec(pg, sql_maintain, 0, NULL, err);
    if (res == NULL)
        return err->code != 0 ? err->code : NT_ERR;
    if (PQntuples(res) == 1) {
        st->created = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        st->moved = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
        st->dropped = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    }
    PQclear(res);
    return NT_OK;
}

static void history_usage(FILE *fp)
{
    fputs("usage: numtrust-producer history [show|maintain]\n\n"
          "Check history (docs/architecture.md, \"History\"): one check_results row per\n"
          "check that observed a change, in monthly partitions of numtrust time; daily\n"
          "rollups (check_daily) and trust-score sums per quarter (number_platforms.q_*)\n"
          "for the reports.\n"
          "The reconciler maintains it every pass; this command does it by hand.\n\n"
          "  show      (default) settings, the partitions with their rows and size, rollups\n"
          "  maintain  sync history.* settings, create partitions around numtrust now,\n"
          "            move rows out of the default partition, drop months past\n"
          "            history.keep_months\n\n"
          "Exit status: 0 done, 1 PostgreSQL failed, 2 usage.\n",
          fp);
}

static const char sql_show[] =
    "SELECT 'settings', format('trust_delta=%s keep_months=%s ahead_months=%s', trust_delta,"
    "       keep_months, ahead_months) FROM history_settings "
    "UNION ALL "
    "SELECT 'partition', format('%s rows~%s bytes=%s', c.relname, greatest(c.reltuples, 0)::bigint,"
    "       pg_total_relation_size(c.oid))"
    "  FROM (SELECT c.oid, c.relname, c.reltuples FROM pg_inherits i"
    "        JOIN pg_class c ON c.oid = i.inhrelid"
    "        WHERE i.inhparent = 'check_results'::regclass ORDER BY c.relname) c "
    "UNION ALL "
    "SELECT 'rollup', format('check_daily rows=%s days=%s checks=%s changes=%s',"
    "       count(*), count(DISTINCT day), COALESCE(sum(checks), 0), COALESCE(sum(changes), 0))"
    "  FROM check_daily "
    "UNION ALL "
    "SELECT 'quarters', format('closed quarters kept=%s (%s bytes in number_platforms.q_hist)',"
    "       COALESCE(sum(array_length(q_hist, 1)) / 7, 0), COALESCE(sum(pg_column_size(q_hist)), "
    "0))"
    "  FROM number_platforms WHERE q_hist IS NOT NULL";

int cmd_history(cli_t *cli, int argc, char **argv)
{
    const char *verb = "show";
    nt_err_t err;
    nt_err_clear(&err);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            history_usage(stdout);
            return 0;
        }
        if (i == 1 && (strcmp(argv[i], "show") == 0 || strcmp(argv[i], "maintain") == 0)) {
            verb = argv[i];
            continue;
        }
        return cli_usage_error("history", "unknown argument \"%s\"", argv[i]);
    }
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    int rc = 0;
    if (strcmp(verb, "maintain") == 0) {
        history_stats_t st;
        if (history_maintain(cli, pg, &st, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer history: %s\n", err.msg);
            rc = 1;
        } else {
            printf("history: %llu partitions created, %llu rows moved out of the default "
                   "partition, %llu partitions dropped\n",
                   (unsigned long long)st.created, (unsigned long long)st.moved,
                   (unsigned long long)st.dropped);
        }
    } else {
        PGresult *res = nt_pg_exec(pg, sql_show, 0, NULL, &err);
        if (res == NULL) {
            fprintf(stderr, "numtrust-producer history: %s\n", err.msg);
            rc = 1;
        } else {
            for (int r = 0; r < PQntuples(res); r++)
                printf("%-9s %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
            PQclear(res);
        }
    }
    nt_pg_free(pg);
    return rc;
}
