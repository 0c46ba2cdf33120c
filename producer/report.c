/*
 * report.c — `numtrust-producer report`: the fleet's state in a few tables,
 * straight from PostgreSQL (numbers, checks, marks, tags, appeals, jobs).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct section_s {
    const char *title;
    const char *sql;
} section_t;

static const section_t sections[] = {
    {"fleet",
     "SELECT (SELECT count(*) FROM tenants) AS tenants, (SELECT count(*) FROM numbers) AS numbers,"
     " (SELECT count(*) FROM number_platforms) AS registrations,"
     " (SELECT count(*) FROM number_platforms WHERE last_checked_at IS NOT NULL) AS checked,"
     " (SELECT count(*) FROM check_results) AS check_results"},
    {"numbers by scenario",
     "SELECT s.id AS scenario, s.name_zh, s.check_interval::text AS cycle, count(n.number) AS "
     "numbers FROM scenarios s LEFT JOIN numbers n ON n.scenario_id = s.id GROUP BY s.id, "
     "s.name_zh, s.check_interval ORDER BY s.check_interval"},
    {"observed state by platform",
     "SELECT platform, count(*) AS registered, count(last_checked_at) AS checked,"
     " count(*) FILTER (WHERE cert_status = 'certified') AS certified,"
     " round(avg(trust_score), 1) AS avg_trust,"
     " count(*) FILTER (WHERE open_marks > 0) AS with_marks"
     " FROM number_platforms GROUP BY platform ORDER BY platform"},
    {"marks", "SELECT type, count(*) FILTER (WHERE state = 'open') AS open,"
              " count(*) FILTER (WHERE state = 'appealed') AS appealed,"
              " count(*) FILTER (WHERE state = 'cleared') AS cleared,"
              " count(*) FILTER (WHERE state = 'disputed') AS disputed FROM marks GROUP BY type"
              " ORDER BY count(*) DESC"},
    {"labels",
     "SELECT count(*) FILTER (WHERE np.label_android = w.label) AS showing_wanted,"
     " count(*) FILTER (WHERE np.last_checked_at IS NOT NULL AND np.label_android IS DISTINCT"
     " FROM w.label) AS differing, (SELECT count(*) FROM tag_updates) AS tags_pushed"
     " FROM wanted_labels w JOIN number_platforms np USING (number, platform)"},
    {"appeals", "SELECT state, count(*) AS appeals FROM appeals GROUP BY state ORDER BY state"},
    {"jobs", "SELECT type, state, count(*) AS jobs, sum(attempts) AS attempts FROM jobs"
             " GROUP BY type, state ORDER BY type, state"},
    {"dead letters",
     "SELECT count(*) AS dead_letters, count(replayed_at) AS replayed FROM dead_letters"},
};

static void print_result(const char *title, PGresult *res)
{
    int rows = PQntuples(res), cols = PQnfields(res);
    int width[32];
    if (cols > 32)
        cols = 32;
    printf("\n%s\n", title);
    for (int c = 0; c < cols; c++) {
        width[c] = (int)strlen(PQfname(res, c));
        for (int r = 0; r < rows; r++) {
            /* display width: count UTF-8 characters, CJK ones as two */
            int wdt = 0;
            for (const unsigned char *p = (const unsigned char *)PQgetvalue(res, r, c); *p; p++)
                if ((*p & 0xC0) != 0x80)
                    wdt += *p >= 0xE0 ? 2 : 1;
            if (wdt > width[c])
                width[c] = wdt;
        }
    }
    for (int c = 0; c < cols; c++)
        printf("  %-*s", width[c], PQfname(res, c));
    printf("\n");
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            const char *v = PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c);
            int wdt = 0;
            for (const unsigned char *p = (const unsigned char *)v; *p; p++)
                if ((*p & 0xC0) != 0x80)
                    wdt += *p >= 0xE0 ? 2 : 1;
            printf("  %s%*s", v, width[c] - wdt, "");
        }
        printf("\n");
    }
}

int cmd_report(cli_t *cli, int argc, char **argv)
{
    nt_err_t err;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: numtrust-producer report\n\n"
                   "Prints the fleet's state: numbers per scenario, observed state per\n"
                   "platform, marks, labels, appeals, the jobs ledger and dead letters.\n");
            return 0;
        }
        return cli_usage_error("report", "unknown argument \"%s\"", argv[i]);
    }
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    nt_err_clear(&err);
    int rc = 0;
    for (size_t s = 0; s < NT_ARRAY_LEN(sections); s++) {
        PGresult *res = nt_pg_exec(pg, sections[s].sql, 0, NULL, &err);
        if (res == NULL) {
            fprintf(stderr, "numtrust-producer report: %s: %s\n", sections[s].title, err.msg);
            rc = 1;
            break;
        }
        print_result(sections[s].title, res);
        PQclear(res);
    }
    nt_pg_free(pg);
    return rc;
}
