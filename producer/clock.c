/*
 * clock.c — `numtrust-producer clock show|set|advance`: numtrust time.
 *
 * Every domain rule reads nt_now() = now() + clock_offset (migration 005a);
 * this command shows and moves that offset, for tests and demos that live a
 * simulated year in minutes. Moving it backwards is refused without --force:
 * results stamped in the "future" would then hide newer ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"

static void clock_usage(FILE *fp)
{
    fputs("usage: numtrust-producer clock show\n"
          "       numtrust-producer clock advance DURATION\n"
          "       numtrust-producer clock set TIME|--offset DURATION [--force]\n\n"
          "Numtrust time (nt_now() in PostgreSQL) is real time plus one offset, 0 in\n"
          "production. Campaign leads, qualification deadlines, review cycles and\n"
          "certification expiry are all measured on it; workers stamp checks, pushes\n"
          "and appeals with it. This command is for tests and demos: it moves the\n"
          "offset, never the real clock. The platform simulator has its own clock\n"
          "(POST /admin/clock): move both together.\n\n"
          "  show              now=, real=, offset=, offset_ms= lines\n"
          "  advance DURATION  move numtrust time forward: 90d, 1d12h, 2w, 30m, 45s\n"
          "  set TIME          set numtrust time to an RFC 3339 time (2027-03-01T00:00:00Z)\n"
          "  set --offset D    set the offset itself (0 resets to real time; -2h allowed)\n"
          "  --force           allow set to move numtrust time backwards\n",
          fp);
}

/* Prints the clock; 0 or 1. */
static int clock_show(nt_pg_t *pg)
{
    nt_err_t err;
    nt_err_clear(&err);
    PGresult *res = nt_pg_exec(pg,
                               "SELECT (extract(epoch FROM nt_now()) * 1000)::bigint,"
                               " (extract(epoch FROM now()) * 1000)::bigint, nt_clock_offset_ms()",
                               0, NULL, &err);
    if (res == NULL) {
        fprintf(stderr, "numtrust-producer clock: %s\n", err.msg);
        return 1;
    }
    char now[NT_RFC3339_LEN], real[NT_RFC3339_LEN], off[NT_RFC3339_LEN];
    int64_t off_ms = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    nt_clock_format(strtoll(PQgetvalue(res, 0, 0), NULL, 10), now);
    nt_clock_format(strtoll(PQgetvalue(res, 0, 1), NULL, 10), real);
    nt_clock_format_duration(off_ms, off);
    printf("now=%s\nreal=%s\noffset=%s\noffset_ms=%lld\n", now, real, off, (long long)off_ms);
    PQclear(res);
    return 0;
}

int cmd_clock(cli_t *cli, int argc, char **argv)
{
    const char *verb = NULL, *arg = NULL, *offset = NULL;
    bool force = false;
    int64_t ms = 0;
    nt_err_t err;

    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            clock_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (cli_opt(argc, argv, &i, "--offset", &v)) {
            if ((offset = v) == NULL)
                return 2;
        } else if (verb == NULL && argv[i][0] != '-') {
            verb = argv[i];
        } else if (arg == NULL && (argv[i][0] != '-' || verb != NULL)) {
            arg = argv[i];
        } else {
            return cli_usage_error("clock", "unknown argument \"%s\"", argv[i]);
        }
    }
    if (verb == NULL)
        verb = "show";
    /* the new offset as SQL: an interval for set --offset and advance, or a
     * time for set TIME */
    char param[64] = "";
    const char *sql = NULL;
    if (strcmp(verb, "show") == 0) {
        if (arg != NULL || offset != NULL)
            return cli_usage_error("clock", "show takes no argument");
    } else if (strcmp(verb, "advance") == 0) {
        if (arg == NULL || offset != NULL)
            return cli_usage_error("clock", "advance needs a DURATION (e.g. 7d, 1d12h)");
        if (nt_clock_parse_duration(arg, false, &ms) != NT_OK)
            return cli_usage_error("clock",
                                   "DURATION \"%s\" is not a positive duration like 90d, 1d12h, "
                                   "30m",
                                   arg);
        snprintf(param, sizeof(param), "%lld", (long long)ms);
        sql = "UPDATE clock_offset SET \"offset\" = \"offset\" + $1::bigint * interval '1 ms',"
              " updated_at = now() WHERE id RETURNING 0";
    } else if (strcmp(verb, "set") == 0) {
        if ((arg == NULL) == (offset == NULL))
            return cli_usage_error("clock", "set needs a TIME or --offset DURATION");
        if (offset != NULL) {
            if (nt_clock_parse_duration(offset, true, &ms) != NT_OK)
                return cli_usage_error(
                    "clock", "--offset \"%s\" is not a duration like 0, 30d, -2h", offset);
            snprintf(param, sizeof(param), "%lld", (long long)ms);
            sql = "UPDATE clock_offset SET \"offset\" = $1::bigint * interval '1 ms',"
                  " updated_at = now() WHERE id RETURNING 0";
        } else {
            if (nt_clock_parse(arg, &ms) != NT_OK)
                return cli_usage_error("clock",
                                       "TIME \"%s\" is not an RFC 3339 time like "
                                       "2027-03-01T00:00:00Z",
                                       arg);
            snprintf(param, sizeof(param), "%lld", (long long)ms);
            sql = "UPDATE clock_offset SET \"offset\" = to_timestamp($1::bigint / 1000.0) - now(),"
                  " updated_at = now() WHERE id RETURNING 0";
        }
    } else {
        return cli_usage_error("clock", "unknown verb \"%s\" (show, set, advance)", verb);
    }

    nt_err_clear(&err);
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    int rc = 1;
    if (sql != NULL) {
        const char *params[] = {param};
        if (nt_pg_run(pg, "BEGIN", 0, NULL, &err) != NT_OK)
            goto fail;
        PGresult *before = nt_pg_exec(pg,
                                      "SELECT (extract(epoch FROM nt_now()) * 1000)::bigint"
                                      " FROM clock_offset WHERE id FOR UPDATE",
                                      0, NULL, &err);
        if (before == NULL)
            goto fail;
        if (PQntuples(before) != 1) {
            PQclear(before);
            nt_err_set(&err, NT_EINVAL, false, "clock_offset has no row: run migrate");
            goto fail;
        }
        int64_t was = strtoll(PQgetvalue(before, 0, 0), NULL, 10);
        PQclear(before);
        PGresult *res = nt_pg_exec(pg, sql, 1, params, &err);
        if (res == NULL)
            goto fail;
        PQclear(res);
        PGresult *after =
            nt_pg_exec(pg, "SELECT (extract(epoch FROM nt_now()) * 1000)::bigint", 0, NULL, &err);
        if (after == NULL)
            goto fail;
        int64_t is = strtoll(PQgetvalue(after, 0, 0), NULL, 10);
        PQclear(after);
        if (is < was && !force) {
            char a[NT_RFC3339_LEN], b[NT_RFC3339_LEN];
            nt_clock_format(was, a);
            nt_clock_format(is, b);
            if (nt_pg_run(pg, "ROLLBACK", 0, NULL, &err) != NT_OK)
                fprintf(stderr, "numtrust-producer clock: %s\n", err.msg);
            fprintf(stderr,
                    "numtrust-producer clock: %s would move numtrust time back from %s to %s; "
                    "add --force if that is what you want\n",
                    verb, a, b);
            rc = 2;
            goto out;
        }
        if (nt_pg_run(pg, "COMMIT", 0, NULL, &err) != NT_OK)
            goto fail;
    }
    rc = clock_show(pg);
    goto out;
fail:
    fprintf(stderr, "numtrust-producer clock: %s\n", err.msg);
out:
    nt_pg_free(pg);
    return rc;
}
