/*
 * enqueue.c — `numtrust-producer enqueue check|tag|appeal|appeal-status`.
 *
 * Selects the work from PostgreSQL through a cursor (constant memory for any
 * fleet size), builds each job with its deterministic id and hands it to the
 * sink (ledger, then Kafka with delivery reports). The same selection in the
 * same period gives the same ids, so enqueuing twice doubles nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions.h"
#include "cli.h"
#include "clock.h"
#include "job.h"
#include "phone.h"
#include "sink.h"

typedef struct kind_s {
    const char *name;
    nt_job_type_t type;
    const char *select; /* $1 number, $2 platform, $3 tenant, $4 limit */
    const char *help;
} kind_t;

/* Columns: number, platform, tenant, then per kind: label | mark type,
 * opened_ms | ticket, mark type, appeal job id. */
static const kind_t kinds[] = {
    {"check", NT_JOB_CHECK,
     "SELECT np.number, np.platform, n.tenant_id FROM number_platforms np"
     " JOIN numbers n ON n.number = np.number JOIN platforms p ON p.id = np.platform"
     " WHERE p.enabled AND n.status = 'active' AND ($1::text IS NULL OR np.number = $1)"
     "   AND ($2::text IS NULL OR np.platform = $2) AND ($3::text IS NULL OR n.tenant_id = $3)"
     "   AND ($5::text IS NULL OR np.number LIKE $5 || '%')"
     " ORDER BY np.platform, np.number LIMIT $4",
     "every registered (number, platform): read its state"},
    {"check-due", NT_JOB_CHECK,
     /* the risk-adaptive schedule and the budget: view checks_due (006a) */
     "SELECT c.number, c.platform, c.tenant_id, c.decision, c.period FROM checks_due c"
     " JOIN numbers n ON n.number = c.number AND n.status = 'active'"
     " WHERE ($1::text IS NULL OR c.number = $1)"
     "   AND ($2::text IS NULL OR c.platform = $2) AND ($3::text IS NULL OR c.tenant_id = $3)"
     "   AND ($5::text IS NULL OR c.number LIKE $5 || '%')"
     " ORDER BY c.platform, c.number LIMIT $4",
     "registered numbers whose cycle has come round: the policy's risk cycle (recent marks, "
     "falling trust, tenant over its mark-rate target), its weekly mark check, or the "
     "scenario's full-check cycle, whichever is shortest; within the tenant's monthly budget "
     "(the rest deferred). The period is the observation the check follows, so one check per "
     "number and platform between two observations, whatever shortened its cycle meanwhile"},
    {"check-feedback", NT_JOB_CHECK,
     "SELECT f.number, f.platform, f.tenant_id, f.period FROM feedback_checks_due f"
     " JOIN platforms p ON p.id = f.platform"
     " WHERE p.enabled AND ($1::text IS NULL OR f.number = $1)"
     "   AND ($2::text IS NULL OR f.platform = $2) AND ($3::text IS NULL OR f.tenant_id = $3)"
     "   AND ($5::text IS NULL OR f.number LIKE $5 || '%')"
     " ORDER BY f.number, f.platform LIMIT $4",
     "numbers a callee reported (feedback intake) since their last check; the period is the "
     "report, so one report raises one check"},
    {"tag", NT_JOB_TAG_UPDATE,
     "SELECT w.number, w.platform, n.tenant_id, w.label FROM wanted_labels w"
     " JOIN numbers n ON n.number = w.number"
     " JOIN number_platforms np ON np.number = w.number AND np.platform = w.platform"
     " JOIN platforms p ON p.id = w.platform CROSS JOIN (SELECT nt_now() AS now) t"
     " WHERE p.enabled AND n.status = 'active' AND np.last_checked_at IS NOT NULL"
     "   AND EXISTS (SELECT 1 FROM unnest(ARRAY[np.label_android, np.label_ios,"
     "               np.label_search]) s WHERE s IS NOT NULL AND s <> w.label)"
     "   AND NOT (np.last_tag_label IS NOT DISTINCT FROM w.label"
     "            AND np.last_tag_at > t.now - interval '3 days')"
     "   AND ($1::text IS NULL OR w.number = $1) AND ($2::text IS NULL OR w.platform = $2)"
     "   AND ($3::text IS NULL OR n.tenant_id = $3)"
     "   AND ($5::text IS NULL OR w.number LIKE $5 || '%')"
     " ORDER BY w.number, w.platform LIMIT $4",
     "checked numbers whose displayed label differs from the wanted one (base label or an "
     "active campaign/qualification schedule), unless that label was pushed in the last 3 "
     "days"},
    {"appeal", NT_JOB_APPEAL,
     "SELECT m.number, m.platform, n.tenant_id, m.type::text,"
     "       (extract(epoch FROM m.opened_at) * 1000)::bigint,"
     "       feedback_evidence(m.number, m.platform, m.type::text)"
     " FROM marks m JOIN numbers n ON n.number = m.number JOIN platforms p ON p.id = m.platform"
     " WHERE p.enabled AND n.status = 'active' AND m.state = 'open'"
     /* the tenant's policy (appeal_marks, migration 006) */
     "   AND nt_policy_appeals(n.tenant_id, n.scenario_id, m.type)"
     /* among the types the operator lets numtrust appeal at all */
     "   AND m.type = ANY(string_to_array($6, ','))"
     "   AND ($1::text IS NULL OR m.number = $1) AND ($2::text IS NULL OR m.platform = $2)"
     "   AND ($3::text IS NULL OR n.tenant_id = $3)"
     "   AND ($5::text IS NULL OR m.number LIKE $5 || '%')"
     " ORDER BY m.number, m.platform, m.type LIMIT $4",
     "open marks of the appealed types (worker.appeal_marks) that have no appeal yet"},
    {"appeal-status", NT_JOB_APPEAL_STATUS,
     "SELECT a.number, a.platform, n.tenant_id, a.ticket, a.mark_type::text, a.job_id::text"
     " FROM appeals a JOIN numbers n ON n.number = a.number JOIN platforms p ON p.id = a.platform"
     " WHERE p.enabled AND a.state IN ('submitted', 'in_review')"
     "   AND ($1::text IS NULL OR a.number = $1) AND ($2::text IS NULL OR a.platform = $2)"
     "   AND ($3::text IS NULL OR n.tenant_id = $3)"
     "   AND ($5::text IS NULL OR a.number LIKE $5 || '%')"
     " ORDER BY a.number, a.platform LIMIT $4",
     "appeals still submitted or in review: ask the platform for the outcome"},
};

static void enqueue_usage(FILE *fp)
{
    fputs("usage: numtrust-producer enqueue KIND [--all] [--number N] [--prefix +86138]\n"
          "                   [--platform P] [--tenant T] [--period P] [--limit N] [--force]\n"
          "                   [--due]\n\n"
          "KIND:\n",
          fp);
    for (size_t i = 0; i < NT_ARRAY_LEN(kinds); i++)
        fprintf(fp, "  %-14s %s\n",
                strcmp(kinds[i].name, "check-due") == 0 ? "check --due" : kinds[i].name,
                kinds[i].help);
    fputs("\nSelect with --number, --prefix (numbers starting with it), --platform,\n"
          "--tenant, or everything with --all (required when no filter is given, so that\n"
          "a bare command never enqueues a whole fleet).\n"
          "Job ids are UUIDv5 of type, number, platform, subject and period; --period\n"
          "(default: today's UTC date; the current UTC hour for appeal-status) names the\n"
          "period, so the same selection in the same period never does work twice. Jobs\n"
          "the ledger already knows are skipped: finished ones always (`numtrust-producer\n"
          "retry` re-runs failed and dead ones), ones enqueued in the last hour unless\n"
          "--force. Jobs Kafka did not acknowledge are taken out of the ledger again, so\n"
          "enqueuing again after a failure produces them at once.\n"
          "Label updates and appeals for a manual platform (no submission API) become\n"
          "action items for a person instead, with the job's id, one per registration's\n"
          "label or mark while not done (`numtrust-producer actions --help`).\n",
          fp);
}

/* The period of a job id: numtrust time's UTC date (or date and hour), so a
 * clock moved forward by tests or the demo opens new periods. */
static void default_period(nt_job_type_t type, char *out, size_t outsz)
{
    char ts[NT_RFC3339_LEN];
    nt_clock_format(nt_clock_domain_ms(), ts);
    /* "2026-11-28T13:..." -> date, or date and hour */
    size_t n = type == NT_JOB_APPEAL_STATUS ? 13 : 10;
    snprintf(out, outsz, "%.*s", (int)n, ts);
}

/* Learns numtrust time's offset (nt_clock_domain_ms) from the database. */
static int learn_clock(nt_pg_t *pg, nt_err_t *err)
{
    PGresult *res = nt_pg_exec(pg, "SELECT nt_clock_offset_ms()", 0, NULL, err);
    if (res == NULL)
        return err->code != 0 ? err->code : NT_EIO;
    nt_clock_set_offset_ms(strtoll(PQgetvalue(res, 0, 0), NULL, 10));
    PQclear(res);
    return NT_OK;
}

int enqueue_run(cli_t *cli, const char *kind_name, const enqueue_filter_t *f, bool force,
                bool quiet, uint64_t *produced)
{
    const kind_t *kind = NULL;
    nt_pg_t *pg = NULL, *ledger = NULL;
    sink_t *sink = NULL;
    nt_actions_batch_t *manual = NULL; /* action items for manual platforms */
    nt_err_t err;
    int rc = 1;
    int64_t t0 = nt_clock_mono_ms();
    char period_buf[32];
    const char *number = f->number, *platform = f->platform, *tenant = f->tenant;
    const char *limit = f->limit, *prefix = f->prefix, *period = f->period;

    nt_err_clear(&err);
    for (size_t k = 0; k < NT_ARRAY_LEN(kinds); k++)
        if (strcmp(kind_name, kinds[k].name) == 0)
            kind = &kinds[k];
    if (kind == NULL)
        return 2;
    if ((pg = cli_pg(cli)) == NULL || (ledger = cli_pg(cli)) == NULL)
        goto out;
    if (learn_clock(pg, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
        goto out;
    }
    if (period == NULL) {
        default_period(kind->type, period_buf, sizeof(period_buf));
        period = period_buf;
    }
    sink = sink_new(&cli->cfg, ledger, force, quiet ? 0 : 100000, &err);
    if (sink == NULL) {
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
        goto out;
    }
    const char *params[6] = {number, platform, tenant, limit, prefix, cli->cfg.worker_appeal_marks};
    int nparams = kind->type == NT_JOB_APPEAL ? 6 : 5;
    char sql[4096];
    snprintf(sql, sizeof(sql), "DECLARE sel NO SCROLL CURSOR FOR %s", kind->select);
    if (nt_pg_run(pg, "BEGIN", 0, NULL, &err) != NT_OK ||
        nt_pg_run(pg, sql, nparams, params, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
        goto out;
    }
    int64_t now = nt_clock_wall_ms();
    uint64_t no_api = 0, deferred = 0;
    for (;;) {
        if (*cli->stop) {
            fprintf(stderr, "numtrust-producer enqueue: interrupted\n");
            break;
        }
        if (cli->tick != NULL)
            cli->tick(cli->tick_arg);
        PGresult *res = nt_pg_exec(pg, "FETCH 5000 FROM sel", 0, NULL, &err);
        if (res == NULL) {
            fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
            goto out;
        }
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++) {
            nt_job_t job;
            const char *extra = NULL, *job_period = period;
            nt_job_init(&job);
            job.type = kind->type;
            job.created_at_ms = now;
            snprintf(job.number, sizeof(job.number), "%s", PQgetvalue(res, r, 0));
            snprintf(job.platform, sizeof(job.platform), "%s", PQgetvalue(res, r, 1));
            snprintf(job.tenant, sizeof(job.tenant), "%s", PQgetvalue(res, r, 2));
            switch (kind->type) {
            case NT_JOB_CHECK:
                if (PQnfields(res) > 4) { /* check-due: decision, period */
                    if (strcmp(PQgetvalue(res, r, 3), "go") != 0) {
                        deferred++;
                        continue;
                    }
                    job_period = PQgetvalue(res, r, 4);
                } else if (PQnfields(res) > 3) { /* a period of the row's own */
                    job_period = PQgetvalue(res, r, 3);
                }
                break;
            case NT_JOB_TAG_UPDATE:
                nt_buf_copy_str(job.label, sizeof(job.label), PQgetvalue(res, r, 3));
                extra = job.label;
                break;
            case NT_JOB_APPEAL: {
                /* the one builder the worker's fast path uses too: same id, same envelope */
                nt_appeal_spec_t spec = {job.number,
                                         job.platform,
                                         job.tenant,
                                         PQgetvalue(res, r, 3),
                                         strtoll(PQgetvalue(res, r, 4), NULL, 10),
                                         PQgetvalue(res, r, 5),
                                         now};
                if (nt_job_build_appeal(&job, &spec, &err) != NT_OK) {
                    fprintf(stderr, "numtrust-producer enqueue: skipping a row: %s\n", err.msg);
                    continue;
                }
                break;
            }
            case NT_JOB_APPEAL_STATUS:
                nt_buf_copy_str(job.ticket, sizeof(job.ticket), PQgetvalue(res, r, 3));
                snprintf(job.mark_type, sizeof(job.mark_type), "%s", PQgetvalue(res, r, 4));
                snprintf(job.appeal_job, sizeof(job.appeal_job), "%s", PQgetvalue(res, r, 5));
                extra = job.ticket;
                break;
            }
            /* no API for this operation (a manual platform): skip, counted */
            static const nt_op_t ops[] = {NT_OP_CHECK, NT_OP_TAG_UPDATE, NT_OP_APPEAL_SUBMIT,
                                          NT_OP_APPEAL_STATUS};
            const nt_platforms_t *ps = cli_platforms(cli);
            const nt_platform_t *pl = ps ? nt_platforms_find(ps, job.platform) : NULL;
            if (pl != NULL && (unsigned)job.type < NT_ARRAY_LEN(ops) &&
                !nt_platform_has_op(pl, ops[job.type])) {
                if (!nt_platform_is_manual(pl) ||
                    (job.type != NT_JOB_TAG_UPDATE && job.type != NT_JOB_APPEAL)) {
                    no_api++;
                    continue;
                }
                /* a person files it: an action item with the job's id */
                nt_job_make_id(&job, extra, job_period);
                if (manual == NULL && (manual = nt_actions_batch_new()) == NULL) {
                    PQclear(res);
                    fprintf(stderr, "numtrust-producer enqueue: out of memory\n");
                    goto out;
                }
                if (nt_actions_offer(manual, pl, &job, &err) != NT_OK)
                    fprintf(stderr, "numtrust-producer enqueue: skipping a row: %s\n", err.msg);
                continue;
            }
            if (job.type != NT_JOB_APPEAL) /* nt_job_build_appeal gave it its id */
                nt_job_make_id(&job, extra, job_period);
            if (nt_job_validate(&job, &err) != NT_OK) {
                fprintf(stderr, "numtrust-producer enqueue: skipping a row: %s\n", err.msg);
                continue;
            }
            if (sink_add(sink, &job, &err) != NT_OK) {
                PQclear(res);
                fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
                goto out;
            }
        }
        PQclear(res);
        if (manual != NULL && nt_actions_flush(manual, pg, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer enqueue: action items: %s\n", err.msg);
            goto out;
        }
        if (rows == 0)
            break;
    }
    if (nt_pg_run(pg, "COMMIT", 0, NULL, &err) != NT_OK)
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
    int frc = sink_finish(sink, 60000, &err);
    sink_stats_t st;
    sink_get_stats(sink, &st);
    if (produced != NULL)
        *produced = st.produced;
    if (!quiet || st.produced > 0 || st.failed > 0)
        printf("enqueue %s: %llu selected, %llu produced, %llu delivered, %llu already known "
               "(skipped), %llu finished (skipped), %llu failed; period %s; %.1f s\n",
               kind->name, (unsigned long long)st.offered, (unsigned long long)st.produced,
               (unsigned long long)st.delivered, (unsigned long long)st.skipped,
               (unsigned long long)st.finished, (unsigned long long)st.failed,
               strcmp(kind->name, "check-due") == 0 ? "after each one's last check" : period,
               (double)(nt_clock_mono_ms() - t0) / 1000.0);
    if (force && st.finished > 0)
        printf("enqueue %s: %llu finished jobs not produced: --force never runs a finished job "
               "again (a worker would drop it); `numtrust-producer retry` re-runs failed and "
               "dead ones, a new --period checks again\n",
               kind->name, (unsigned long long)st.finished);
    if (manual != NULL) {
        nt_actions_stats_t ms;
        nt_actions_get_stats(manual, &ms);
        if (!quiet || ms.created > 0 || ms.relabelled > 0)
            printf("enqueue %s: %llu rows for manual platforms: %llu action items created, %llu "
                   "relabelled, %llu already there (`numtrust-producer actions list`)\n",
                   kind->name, (unsigned long long)ms.offered, (unsigned long long)ms.created,
                   (unsigned long long)ms.relabelled, (unsigned long long)ms.known);
    }
    if (no_api > 0)
        printf("enqueue %s: %llu rows skipped: their platform has no API for it (manual)\n",
               kind->name, (unsigned long long)no_api);
    if (deferred > 0)
        printf("enqueue %s: %llu routine checks deferred: their tenant's monthly budget is "
               "spent\n",
               kind->name, (unsigned long long)deferred);
    if (frc != NT_OK) {
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
        goto out;
    }
    rc = 0;
out:
    nt_actions_batch_free(manual);
    sink_free(sink);
    nt_pg_free(pg);
    nt_pg_free(ledger);
    return rc;
}

int cmd_enqueue(cli_t *cli, int argc, char **argv)
{
    const char *number = NULL, *platform = NULL, *tenant = NULL, *period = NULL, *limit = NULL;
    const char *prefix = NULL;
    bool all = false, force = false, due = false;
    const kind_t *kind = NULL;

    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            enqueue_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--due") == 0) {
            due = true;
        } else if (cli_opt(argc, argv, &i, "--number", &v)) {
            if ((number = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--platform", &v)) {
            if ((platform = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--tenant", &v)) {
            if ((tenant = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--period", &v)) {
            if ((period = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--prefix", &v)) {
            if ((prefix = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--limit", &v)) {
            if ((limit = v) == NULL)
                return 2;
        } else if (kind == NULL && argv[i][0] != '-') {
            for (size_t k = 0; k < NT_ARRAY_LEN(kinds); k++)
                if (strcmp(argv[i], kinds[k].name) == 0 && strcmp(argv[i], "check-due") != 0)
                    kind = &kinds[k];
            if (kind == NULL)
                return cli_usage_error(
                    "enqueue", "unknown kind \"%s\" (check, tag, appeal, appeal-status)", argv[i]);
        } else {
            return cli_usage_error("enqueue", "unknown argument \"%s\"", argv[i]);
        }
    }
    if (kind == NULL)
        return cli_usage_error("enqueue", "which kind? check, tag, appeal or appeal-status");
    if (!all && number == NULL && platform == NULL && tenant == NULL && prefix == NULL)
        return cli_usage_error("enqueue", "give --number, --prefix, --platform, --tenant or --all");
    if (prefix != NULL &&
        (prefix[0] != '+' || strspn(prefix + 1, "0123456789") != strlen(prefix) - 1))
        return cli_usage_error("enqueue", "--prefix \"%s\" must be + and digits (e.g. +86138)",
                               prefix);
    if (number != NULL && !nt_phone_is_e164(number))
        return cli_usage_error("enqueue", "--number \"%s\" is not an E.164 number", number);
    if (limit != NULL) {
        char *end = NULL;
        long long l = strtoll(limit, &end, 10);
        if (end == limit || *end != '\0' || l <= 0)
            return cli_usage_error("enqueue", "--limit \"%s\" is not a positive integer", limit);
    }
    if (platform != NULL) {
        const nt_platforms_t *ps = cli_platforms(cli);
        if (ps == NULL)
            return 1;
        if (nt_platforms_find(ps, platform) == NULL)
            return cli_usage_error("enqueue", "--platform \"%s\" is not in %s", platform,
                                   cli->cfg.platforms_file);
    }
    const char *name = kind->name;
    if (due) {
        if (kind->type != NT_JOB_CHECK)
            return cli_usage_error("enqueue", "--due applies to check only");
        if (period != NULL)
            return cli_usage_error("enqueue", "--due sets the period itself (the scenario cycle)");
        name = "check-due";
    }
    enqueue_filter_t f = {number, platform, tenant, prefix, period, limit};
    return enqueue_run(cli, name, &f, force, false, NULL);
}
