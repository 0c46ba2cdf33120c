/*
 * pg_insert.c — numtrust-bench-pg: the PostgreSQL write ceiling of a worker.
 *
 * Writes check results for an imported fleet through the worker's own
 * statements (workers/writer_sql.h, which the writer includes too):
 * wsql_check in batches (ledger done, history row when changed, observed
 * state, marks, rollup), and with --claim also wsql_claim for the same batch
 * first, as the worker claims every job before its platform call (without
 * it, the ledger rows the check statement finishes are claimed before the
 * clock starts). One connection, one statement at a time, as the worker's
 * writer. Row content resembles the simulator's answers (certified mostly, a
 * stale label on three surfaces, 15% with marks), new each time — every
 * check a change — or, with --same, each registration's observed state as it
 * is: checks that change nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "err.h"
#include "pg.h"
#include "uuid.h"
#include "writer_sql.h"

#define NCHECK WSQL_CHECK_NPARAMS /* the row arrays and the worker id */
#define NCLAIM WSQL_CLAIM_NPARAMS

typedef struct pair_s {
    char number[32];
    char platform[64];
    char tenant[64];
    /* the observed state (--same), NULL-able columns as "" with a flag */
    char cert[16], score[8], labels[3][96], marks[256];
    bool has_cert, has_score, has_label[3];
} pair_t;

static const char sql_pairs[] =
    "SELECT np.number, np.platform, coalesce(n.tenant_id, ''), np.cert_status, np.trust_score,"
    " np.label_android, np.label_ios, np.label_search, coalesce(np.marks, '[]')"
    " FROM number_platforms np"
    " JOIN numbers n ON n.number = np.number WHERE np.number LIKE $1 || '%'"
    " ORDER BY np.number, np.platform";

static const char *const certs[] = {"certified", "certified", "certified", "certified", "certified",
                                    "certified", "certified", "pending",   "expired",   "none"};
static const char *const mark_types[] = {"harassment",  "harassment", "fraud",    "agency",
                                         "advertising", "finance",    "delivery", "taxi"};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void usage(FILE *fp)
{
    fputs("usage: numtrust-bench-pg --prefix +86DIGITS [--rows N] [--batch B] [--claim] [--same]\n"
          "\n"
          "Writes N (default 100000) check results, B (default 500) per statement, for the\n"
          "registrations (number_platforms) whose number starts with --prefix, cycling\n"
          "through them with fresh job ids, using the worker's check statement;\n"
          "--claim also runs the worker's claim statement for each batch first (without it the\n"
          "jobs are claimed before the clock starts). Every row is a new observation (a\n"
          "change); --same sends each registration's observed state as it is (checks that\n"
          "change nothing). Prints on stdout:\n"
          "  pg_insert rows=N batch=B claim=0|1 same=0|1 statements=S secs=T rows_per_s=R\n"
          "    wal_bytes_per_row=W\n"
          "Settings: NUMTRUST_PG_CONNINFO (pg.conninfo).\n",
          fp);
}

/* the registration's observed state again: a check that changes nothing */
static int add_same_row(nt_pg_array_t *a, const pair_t *pr, int64_t now_ms, const char *id)
{
    char ts[NT_RFC3339_LEN];
    nt_clock_format(now_ms, ts);
    const char *vals[11] = {id,
                            pr->number,
                            pr->platform,
                            ts,
                            pr->has_cert ? pr->cert : NULL,
                            pr->has_score ? pr->score : NULL,
                            pr->has_label[0] ? pr->labels[0] : NULL,
                            pr->has_label[1] ? pr->labels[1] : NULL,
                            pr->has_label[2] ? pr->labels[2] : NULL,
                            pr->marks,
                            pr->tenant[0] ? pr->tenant : NULL};
    int rc = NT_OK;
    for (int i = 0; i < 11 && rc == NT_OK; i++)
        rc = nt_pg_array_add_str(&a[i], vals[i]);
    return rc;
}

static int add_check_row(nt_pg_array_t *a, const pair_t *pr, int64_t now_ms, const char *id)
{
    char ts[NT_RFC3339_LEN], label[64], marks[256], score[8];
    int rc = NT_OK;
    nt_clock_format(now_ms, ts);
    snprintf(label, sizeof(label), "旧标签-%04x", rnd(65536));
    snprintf(score, sizeof(score), "%u", 40 + rnd(61));
    if (rnd(100) < 15) {
        const char *t1 = mark_types[rnd(NT_ARRAY_LEN(mark_types))];
        const char *t2 = mark_types[rnd(NT_ARRAY_LEN(mark_types))];
        if (rnd(2) == 0 || strcmp(t1, t2) == 0)
            snprintf(marks, sizeof(marks), "[{\"type\":\"%s\",\"count\":%u}]", t1, 1 + rnd(50));
        else
            snprintf(marks, sizeof(marks),
                     "[{\"type\":\"%s\",\"count\":%u},{\"type\":\"%s\",\"count\":%u}]", t1,
                     1 + rnd(50), t2, 1 + rnd(50));
    } else {
        snprintf(marks, sizeof(marks), "[]");
    }
    const char *vals[WSQL_CHECK_NARRAYS] = {
        id,    pr->number, pr->platform, ts,    certs[rnd(NT_ARRAY_LEN(certs))],   score,
        label, label,      label,        marks, pr->tenant[0] ? pr->tenant : NULL, NULL};
    for (int i = 0; i < WSQL_CHECK_NARRAYS && rc == NT_OK; i++)
        rc = nt_pg_array_add_str(&a[i], vals[i]);
    return rc;
}

static int add_claim_row(nt_pg_array_t *a, const pair_t *pr, const char *id)
{
    const char *vals[NCLAIM] = {id, "check", pr->number, pr->platform,
                                pr->tenant[0] ? pr->tenant : NULL};
    int rc = NT_OK;
    for (int i = 0; i < NCLAIM && rc == NT_OK; i++)
        rc = nt_pg_array_add_str(&a[i], vals[i]);
    return rc;
}

static int exec_expect(PGconn *conn, const char *sql, int n, const char *const *params,
                       const char *what)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = NT_OK;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "numtrust-bench-pg: %s: %s", what, PQerrorMessage(conn));
        rc = NT_ERR;
    }
    PQclear(res);
    return rc;
}

int main(int argc, char **argv)
{
    const char *prefix = NULL, *worker_id = "bench-pg";
    long long rows = 100000;
    long batch = 500;
    bool claim = false, same = false, cfg_loaded = false;
    nt_config_t cfg;
    nt_err_t err;
    nt_pg_t *pg = NULL;
    PGresult *res = NULL;
    pair_t *pairs = NULL;
    char(*ids)[NT_UUID_STRLEN] = NULL;
    nt_pg_array_t ca[NCHECK], ka[NCLAIM];
    int rc = 1;

    for (int i = 0; i < NCHECK; i++)
        nt_pg_array_init(&ca[i]);
    for (int i = 0; i < NCLAIM; i++)
        nt_pg_array_init(&ka[i]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
            prefix = argv[++i];
        } else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
            rows = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            batch = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--claim") == 0) {
            claim = true;
        } else if (strcmp(argv[i], "--same") == 0) {
            same = true;
        } else {
            fprintf(stderr, "numtrust-bench-pg: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (prefix == NULL || rows <= 0 || batch <= 0 || batch > 10000) {
        usage(stderr);
        return 2;
    }
    nt_err_clear(&err);
    if (nt_config_load(&cfg, NULL, &err) != NT_OK) {
        fprintf(stderr, "numtrust-bench-pg: config: %s\n", err.msg);
        return 2;
    }
    cfg_loaded = true;
    if ((pg = nt_pg_connect(cfg.pg_conninfo, 10, &err)) == NULL) {
        fprintf(stderr, "numtrust-bench-pg: %s\n", err.msg);
        goto out;
    }
    PGconn *conn = nt_pg_conn(pg);
    const char *pp[1] = {prefix};
    if ((res = nt_pg_exec(pg, sql_pairs, 1, pp, &err)) == NULL) {
        fprintf(stderr, "numtrust-bench-pg: %s\n", err.msg);
        goto out;
    }
    int npairs = PQntuples(res);
    if (npairs < batch) {
        fprintf(stderr,
                "numtrust-bench-pg: %d registrations start with %s; import at least --batch "
                "(%ld) so that a batch never holds one registration twice\n",
                npairs, prefix, batch);
        goto out;
    }
    pairs = calloc((size_t)npairs, sizeof(*pairs));
    ids = calloc((size_t)rows, sizeof(*ids));
    if (pairs == NULL || ids == NULL) {
        fprintf(stderr, "numtrust-bench-pg: out of memory\n");
        goto out;
    }
    for (int r = 0; r < npairs; r++) {
        snprintf(pairs[r].number, sizeof(pairs[r].number), "%s", PQgetvalue(res, r, 0));
        snprintf(pairs[r].platform, sizeof(pairs[r].platform), "%s", PQgetvalue(res, r, 1));
        snprintf(pairs[r].tenant, sizeof(pairs[r].tenant), "%s", PQgetvalue(res, r, 2));
        pair_t *pr = &pairs[r];
        pr->has_cert = !PQgetisnull(res, r, 3);
        snprintf(pr->cert, sizeof(pr->cert), "%s", PQgetvalue(res, r, 3));
        pr->has_score = !PQgetisnull(res, r, 4);
        snprintf(pr->score, sizeof(pr->score), "%s", PQgetvalue(res, r, 4));
        for (int k = 0; k < 3; k++) {
            pr->has_label[k] = !PQgetisnull(res, r, 5 + k);
            snprintf(pr->labels[k], sizeof(pr->labels[k]), "%s", PQgetvalue(res, r, 5 + k));
        }
        snprintf(pr->marks, sizeof(pr->marks), "%s", PQgetvalue(res, r, 8));
    }
    PQclear(res);
    res = NULL;

    /* every job id first; without --claim the jobs are claimed (their ledger
     * rows written) before the clock starts */
    for (long long j = 0; j < rows; j++) {
        nt_uuid_t u;
        if (nt_uuid_v4(&u) != NT_OK) {
            fprintf(stderr, "numtrust-bench-pg: no randomness\n");
            goto out;
        }
        nt_uuid_format(&u, ids[j]);
    }
    for (long long done = 0; !claim && done < rows;) {
        long n = rows - done < batch ? (long)(rows - done) : batch;
        for (int i = 0; i < NCLAIM; i++)
            nt_pg_array_reset(&ka[i]);
        for (long j = 0; j < n; j++)
            if (add_claim_row(ka, &pairs[(done + j) % npairs], ids[done + j]) != NT_OK) {
                fprintf(stderr, "numtrust-bench-pg: out of memory\n");
                goto out;
            }
        const char *kp[NCLAIM];
        for (int i = 0; i < NCLAIM; i++)
            kp[i] = nt_pg_array_text(&ka[i]);
        if (exec_expect(conn, wsql_claim, NCLAIM, kp, "claim") != NT_OK)
            goto out;
        done += n;
    }
    res = nt_pg_exec(pg, "SELECT pg_current_wal_lsn()", 0, NULL, &err);
    if (res == NULL) {
        fprintf(stderr, "numtrust-bench-pg: %s\n", err.msg);
        goto out;
    }
    char lsn0[32];
    snprintf(lsn0, sizeof(lsn0), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;

    long long done = 0, statements = 0;
    int64_t t0 = nt_clock_mono_us();
    while (done < rows) {
        long n = rows - done < batch ? (long)(rows - done) : batch;
        for (int i = 0; i < NCHECK; i++)
            nt_pg_array_reset(&ca[i]);
        for (int i = 0; i < NCLAIM; i++)
            nt_pg_array_reset(&ka[i]);
        int64_t now_ms = nt_clock_wall_ms();
        for (long j = 0; j < n; j++) {
            const pair_t *pr = &pairs[(done + j) % npairs];
            const char *id = ids[done + j];
            if ((claim && add_claim_row(ka, pr, id) != NT_OK) ||
                (same ? add_same_row(ca, pr, now_ms, id) : add_check_row(ca, pr, now_ms, id)) !=
                    NT_OK) {
                fprintf(stderr, "numtrust-bench-pg: out of memory\n");
                goto out;
            }
        }
        if (claim) {
            const char *kp[NCLAIM];
            for (int i = 0; i < NCLAIM; i++)
                kp[i] = nt_pg_array_text(&ka[i]);
            if (exec_expect(conn, wsql_claim, NCLAIM, kp, "claim") != NT_OK)
                goto out;
            statements++;
        }
        /* the writer's parameter order: $1..$n the row arrays, then the
         * worker id */
        const char *cp[NCHECK];
        for (int i = 0; i < WSQL_CHECK_NARRAYS; i++)
            cp[i] = nt_pg_array_text(&ca[i]);
        cp[WSQL_CHECK_NARRAYS] = worker_id;
        if (exec_expect(conn, wsql_check, NCHECK, cp, "check") != NT_OK)
            goto out;
        statements++;
        done += n;
    }
    double secs = (double)(nt_clock_mono_us() - t0) / 1e6;
    const char *lp[1] = {lsn0};
    res = nt_pg_exec(pg, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint", 1, lp,
                     &err);
    if (res == NULL) {
        fprintf(stderr, "numtrust-bench-pg: %s\n", err.msg);
        goto out;
    }
    long long wal = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    printf("pg_insert rows=%lld batch=%ld claim=%d same=%d statements=%lld secs=%.3f "
           "rows_per_s=%.0f wal_bytes_per_row=%lld\n",
           done, batch, claim ? 1 : 0, same ? 1 : 0, statements, secs, secs > 0 ? done / secs : 0.0,
           wal / done);
    rc = 0;
out:
    PQclear(res);
    for (int i = 0; i < NCHECK; i++)
        nt_pg_array_free(&ca[i]);
    for (int i = 0; i < NCLAIM; i++)
        nt_pg_array_free(&ka[i]);
    free(ids);
    free(pairs);
    nt_pg_free(pg);
    if (cfg_loaded)
        nt_config_free(&cfg);
    return rc;
}
