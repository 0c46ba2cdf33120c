/*
 * enqueue.c — `numtrust-producer enqueue KIND`: due work to jobs.
 *
 * Each kind is one row of kinds[]: a selection in PostgreSQL (through a
 * cursor, so memory stays flat for any fleet size) and a row function that
 * builds the job with its deterministic id. The sink records each job in the
 * ledger and produces it (with delivery reports). The same selection in the
 * same period gives the same ids, so enqueuing twice doubles nothing.
 *
 * Every selection returns number, platform, tenant and a decision: "go", or
 * the reason the row is deliberately skipped (a label already rejected, an
 * uncertified registration); skips are counted by reason for the
 * reconciler's log and metrics. Time is numtrust time (nt_now(), docs/
 * maintenance.md); the closed loop's rules are in that document too.
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

/* The parameters every selection may use (each is typed here, so a
 * selection need not use them all):
 *   $1 number  $2 platform  $3 tenant  $4 limit  $5 prefix  (filters, NULL: any)
 *   $6 appealed mark types ("harassment,fraud")  $7 platforms with the kind's operation
 *   $8 loop.verify_after_s  $9 loop.tag_poll_s  $10 loop.appeal_cooldown_s
 *   $11 loop.appeal_max_rounds  $12 loop.renew_ahead_s  $13 loop.push_uncertified
 *   $14 loop.verify_timeout_s */
#define NPARAMS 14
#define PARAMS_CTE                                                                                 \
    "WITH prm AS (SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::text, "           \
    "$7::text[], $8::int, $9::int, $10::int, $11::int, $12::int, $13::bool, $14::int), "           \
    "t AS MATERIALIZED (SELECT nt_now() AS now) "
#define FILTERS(num, plat, tenant)                                                                 \
    " AND ($1::text IS NULL OR " num " = $1) AND ($2::text IS NULL OR " plat " = $2)"              \
    " AND ($3::text IS NULL OR " tenant " = $3) AND ($5::text IS NULL OR " num " LIKE $5 || '%')"

typedef struct row_ctx_s {
    const cli_t *cli;
    const char *period;  /* the default period */
    char extra_buf[64];  /* scratch for the id's extra part */
    char period_buf[64]; /* scratch for a period of the row's own */
} row_ctx_t;

/* Fills the job's payload from row r (columns 4 on) and sets *extra and
 * *period for its id. */
typedef void (*row_fn)(nt_job_t *job, PGresult *res, int r, row_ctx_t *ctx, const char **extra,
                       const char **period);

typedef struct kind_s {
    const char *name;
    nt_job_type_t type;
    int op; /* the platform operation the kind needs for $7, or -1 */
    const char *select;
    row_fn row;
    bool hourly;     /* default period: the UTC hour of numtrust time, not the date */
    bool own_period; /* each row brings its period (a cycle, a bucket, a round) */
    const char *help;
    /* Set for a kind whose selection streams: its select has no ORDER BY or
     * LIMIT, and the rows are sorted (by this) only under --limit, where the
     * order picks which rows; a whole pass reads them as they come. */
    const char *limit_order;
} kind_t;

static const char *col(PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? "" : PQgetvalue(res, r, c);
}

static void row_check(nt_job_t *job, PGresult *res, int r, row_ctx_t *ctx, const char **extra,
                      const char **period)
{
    (void)job;
    (void)ctx;
    *extra = NULL;
    if (PQnfields(res) > 4 && !PQgetisnull(res, r, 4))
        *period = PQgetvalue(res, r, 4); /* the selection's own period (a cycle, a bucket) */
}

static void row_tag(nt_job_t *job, PGresult *res, int r, row_ctx_t *ctx, const char **extra,
                    const char **period)
{
    (void)ctx;
    (void)period;
    nt_buf_copy_str(job->label, sizeof(job->label), col(res, r, 4));
    *extra = job->label;
}

static void row_tag_status(nt_job_t *job, PGresult *res, int r, row_ctx_t *ctx, const char **extra,
                           const char **period)
{
    (void)ctx;
    nt_buf_copy_str(job->ticket, sizeof(job->ticket), col(res, r, 4));
    nt_buf_copy_str(job->label, sizeof(job->label), col(res, r, 5));
    *extra = job->ticket;
    *period = PQgetvalue(res, r, 6);
}

/* Builds an appeal with nt_job_build_appeal (the worker's fast path uses
 * it too: same id, same envelope) and evidence beyond the enterprise's
 * statement: what happened to the mark before (re-marks, earlier rounds)
 * and callee reports. A failure leaves the job invalid for the caller's
 * validation to report. */
static void appeal_build(nt_job_t *job, const char *mark_type, const char *opened_ms,
                         int64_t now_ms, int remarks, int round, int max_rounds,
                         const char *prev_ticket, const char *prev_filed, const char *prev_decided,
                         const char *feedback)
{
    char history[1024] = "", evidence[NT_JOB_EVIDENCE_MAX];
    nt_err_t err;
    if (round > 1)
        snprintf(history, sizeof(history),
                 " Round %d of %d: appeal %s filed %.10s was rejected %.10s; the number is "
                 "still verified and the mark still disputed.",
                 round, max_rounds, prev_ticket, prev_filed, prev_decided);
    if (remarks > 0) {
        size_t n = strlen(history);
        snprintf(history + n, sizeof(history) - n,
                 " The mark was cleared before and came back %d time%s.", remarks,
                 remarks == 1 ? "" : "s");
    }
    snprintf(evidence, sizeof(evidence), "%s%s", history, feedback);
    nt_appeal_spec_t spec = {.number = job->number,
                             .platform = job->platform,
                             .tenant = job->tenant,
                             .mark_type = mark_type,
                             .opened_ms = strtoll(opened_ms, NULL, 10),
                             .extra_evidence = evidence,
                             .now_ms = now_ms};
    if (nt_job_build_appeal(job, &spec, &err) != NT_OK)
        job->mark_type[0] = '\0'; /* invalid: the caller's validation says why */
}

static void row_appeal(nt_job_t *job, PGresult *res, int r, row_ctx_t *ctx, const char **extra,
                       const char **period)
{
    (void)ctx;
    /* the same id and envelope the worker's fast path gives this mark */
    appeal_build(job, col(res, r, 4), col(res, r, 5), job->created_at_ms, atoi(col(res, r, 6)), 1,
                 1, "", "", "", col(res, r, 7));
    *extra = job->mark_type;
    *period = PQgetvalue(res, r, 5);
}

static void row_appeal_refile(nt_job_t *job, PGresult *res, int r, row_ctx_t *ctx,
                              const char **extra, const char **period)
{
    int round = atoi(col(res, r, 6)) + 1;
    appeal_build(job, col(res, r, 4), col(res, r, 5), job->created_at_ms, atoi(col(res, r, 10)),
                 round, ctx->cli->cfg.loop_appeal_max_rounds, col(res, r, 7), col(res, r, 8),
                 col(res, r, 9), col(res, r, 11));
    *extra = job->mark_type;
    /* the first round's period is the mark's opening; round n adds ":rn" */
    snprintf(ctx->period_buf, sizeof(ctx->period_buf), "%s:r%d", col(res, r, 5), round);
    *period = ctx->period_buf;
}

static void row_appeal_status(nt_job_t *job, PGresult *res, int r, row_ctx_t *ctx,
                              const char **extra, const char **period)
{
    (void)ctx;
    (void)period;
    nt_buf_copy_str(job->ticket, sizeof(job->ticket), col(res, r, 4));
    nt_buf_copy_str(job->mark_type, sizeof(job->mark_type), col(res, r, 5));
    nt_buf_copy_str(job->appeal_job, sizeof(job->appeal_job), col(res, r, 6));
    *extra = job->ticket;
}

static void row_renewal(nt_job_t *job, PGresult *res, int r, row_ctx_t *ctx, const char **extra,
                        const char **period)
{
    (void)job;
    /* one renewal per expiry date */
    nt_buf_copy_str(ctx->extra_buf, sizeof(ctx->extra_buf), col(res, r, 4));
    *extra = ctx->extra_buf;
    *period = "renewal";
}

/* The selections are SQL text with the filters spliced in; clang-format
 * would scatter them, so the table keeps its own layout. */
/* clang-format off */
#define AFTER    "($8 * interval '1 second')"
#define WINDOW   "(($8 + $14) * interval '1 second')"

/* The latest push of each registration within the verification window. */
#define LATEST_PUSHES \
    "SELECT DISTINCT ON (tu.number, tu.platform) tu.number, tu.platform, tu.state," \
    "       tu.pushed_at, tu.verified_at FROM tag_updates tu, t" \
    " WHERE tu.pushed_at > t.now - " WINDOW \
    " ORDER BY tu.number, tu.platform, tu.pushed_at DESC, tu.job_id"

static const kind_t kinds[] = {
    {"check", NT_JOB_CHECK, -1,
     "SELECT np.number, np.platform, n.tenant_id, 'go' FROM number_platforms np"
     " JOIN numbers n ON n.number = np.number JOIN platforms p ON p.id = np.platform"
     " WHERE p.enabled AND n.status = 'active'"
     FILTERS("np.number", "np.platform", "n.tenant_id")
     " ORDER BY np.platform, np.number LIMIT $4",
     row_check, false, false,
     "every registered (number, platform): read its state",
     NULL},

    /* the risk-adaptive schedule and the budget: view checks_due (006a);
     * routine checks past the tenant's monthly budget are 'deferred_budget'.
     * The view has only active numbers and enabled platforms (016, 017):
     * joining them again, to a view's output without statistics, made the
     * planner expect 1/18 of the rows and loop over them once a platform.
     * Unsorted unless limited (017): the first rows of a million go to the
     * ledger and Kafka while PostgreSQL still reads the rest. */
    {"check-due", NT_JOB_CHECK, -1,
     "SELECT c.number, c.platform, c.tenant_id, c.decision, c.period FROM checks_due c"
     " WHERE true"
     FILTERS("c.number", "c.platform", "c.tenant_id"),
     row_check, false, true,
     "registered numbers whose cycle has come round: the policy's risk cycle (recent marks, "
     "falling trust, callee reports, tenant over its mark-rate target), its weekly mark check, "
     "or the scenario's full-check cycle, whichever is shortest; routine checks beyond the "
     "tenant's monthly budget are deferred. The period is the observation the check follows, "
     "so one check per number and platform between two observations, whatever shortened its "
     "cycle meanwhile",
     "c.platform, c.number"},

    {"check-feedback", NT_JOB_CHECK, -1,
     "SELECT f.number, f.platform, f.tenant_id, 'go', f.period FROM feedback_checks_due f"
     " JOIN platforms p ON p.id = f.platform"
     " WHERE p.enabled"
     FILTERS("f.number", "f.platform", "f.tenant_id")
     " ORDER BY f.number, f.platform LIMIT $4",
     row_check, false, true,
     "numbers a callee reported (feedback intake) since their last check; the period is the "
     "report, so one report raises one check",
     NULL},

    /* due since: a push verify_after_s after it (and again every
     * verify_after_s until seen), an approval or a renewal verify_after_s
     * after it; a check since then is the verification */
    {"verify", NT_JOB_CHECK, -1,
     "SELECT np.number, np.platform, n.tenant_id, 'go',"
     "       'v' || floor(extract(epoch FROM t.now) / $8)::bigint"
     " FROM (SELECT l.number, l.platform,"
     "              greatest(l.pushed_at + " AFTER ", t.now - " AFTER ") AS since"
     "       FROM (" LATEST_PUSHES ") l, t"
     "       WHERE l.state IN ('pending_review', 'applied') AND l.verified_at IS NULL"
     "         AND l.pushed_at + " AFTER " <= t.now"
     "       UNION ALL"
     "       SELECT a.number, a.platform, a.decided_at + " AFTER " FROM appeals a, t"
     "       WHERE a.state = 'approved' AND a.confirmed_at IS NULL"
     "         AND a.decided_at + " AFTER " <= t.now AND a.decided_at > t.now - " WINDOW
     "       UNION ALL"
     "       SELECT r.number, r.platform,"
     "              greatest(r.requested_at + " AFTER ", t.now - " AFTER ")"
     "       FROM renewals r, t"
     "       WHERE r.state = 'submitted' AND r.requested_at + " AFTER " <= t.now"
     "         AND r.requested_at > t.now - " WINDOW ") d"
     " JOIN number_platforms np ON np.number = d.number AND np.platform = d.platform"
     " JOIN numbers n ON n.number = np.number JOIN platforms p ON p.id = np.platform CROSS JOIN t"
     " WHERE p.enabled AND (np.last_checked_at IS NULL OR np.last_checked_at < d.since)"
     FILTERS("np.number", "np.platform", "n.tenant_id")
     " GROUP BY np.number, np.platform, n.tenant_id, t.now"
     " ORDER BY np.platform, np.number LIMIT $4",
     row_check, false, true,
     "verification checks: after a push (until a check shows it), an approved appeal and a "
     "renewal, loop.verify_after_s later",
     NULL},

    /* what the platform will show: a pending push's label; an applied one's
     * unless a later check showed otherwise; else what the last check saw */
    {"tag", NT_JOB_TAG_UPDATE, -1,
     "SELECT w.number, w.platform, n.tenant_id,"
     /* a status no check reported (a platform that does not say) blocks nothing */
     "       CASE WHEN np.cert_status <> 'certified' AND NOT $13"
     "            THEN 'uncertified_' || np.cert_status::text"
     "            WHEN lp.label = w.label AND lp.state = 'rejected' THEN 'rejected_label'"
     "            ELSE 'go' END,"
     "       w.label"
     " FROM wanted_labels w JOIN numbers n ON n.number = w.number"
     " JOIN number_platforms np ON np.number = w.number AND np.platform = w.platform"
     " JOIN platforms p ON p.id = w.platform CROSS JOIN t"
     " LEFT JOIN LATERAL (SELECT tu.label, tu.state,"
     "                           COALESCE(tu.verified_at, tu.decided_at, tu.pushed_at) AS since"
     "                    FROM tag_updates tu WHERE tu.number = w.number AND tu.platform = w.platform"
     "                    ORDER BY tu.pushed_at DESC, tu.job_id LIMIT 1) lp ON true"
     " WHERE p.enabled AND n.status = 'active' AND np.last_checked_at IS NOT NULL"
     "   AND CASE WHEN lp.state = 'pending_review'"
     "              OR (lp.state = 'applied' AND np.last_checked_at <= lp.since)"
     "            THEN lp.label IS DISTINCT FROM w.label"
     "            ELSE EXISTS (SELECT 1 FROM unnest(ARRAY[np.label_android, np.label_ios,"
     "                         np.label_search]) s WHERE s IS NOT NULL AND s <> w.label) END"
     FILTERS("w.number", "w.platform", "n.tenant_id")
     " ORDER BY w.number, w.platform LIMIT $4",
     row_tag, false, false,
     "registrations where the wanted label (base label or a live schedule) differs from what "
     "the platform will show (the last push while pending or applied, else the last check); "
     "a label the platform rejected and uncertified registrations are skipped and counted",
     NULL},

    {"tag-status", NT_JOB_TAG_STATUS, NT_OP_TAG_STATUS,
     "SELECT tu.number, tu.platform, n.tenant_id, 'go', tu.ticket, tu.label,"
     "       'p' || floor(extract(epoch FROM t.now) / $9)::bigint"
     " FROM tag_updates tu JOIN numbers n ON n.number = tu.number"
     " JOIN platforms p ON p.id = tu.platform CROSS JOIN t"
     " WHERE p.enabled AND tu.state = 'pending_review' AND tu.ticket IS NOT NULL"
     "   AND tu.platform = ANY($7::text[])"
     "   AND COALESCE(tu.last_polled_at, tu.pushed_at) + $9 * interval '1 second' <= t.now"
     FILTERS("tu.number", "tu.platform", "n.tenant_id")
     " ORDER BY tu.number, tu.platform LIMIT $4",
     row_tag_status, false, true,
     "pending label pushes on platforms with a tag_status operation: ask for the review's "
     "outcome, every loop.tag_poll_s",
     NULL},

    {"appeal", NT_JOB_APPEAL, -1,
     "SELECT m.number, m.platform, n.tenant_id, 'go', m.type::text,"
     "       (extract(epoch FROM m.opened_at) * 1000)::bigint, m.remarks,"
     "       feedback_evidence(m.number, m.platform, m.type::text)"
     " FROM marks m JOIN numbers n ON n.number = m.number JOIN platforms p ON p.id = m.platform"
     " WHERE p.enabled AND n.status = 'active' AND m.state = 'open'"
     /* the tenant's policy (appeal_marks, migration 006) */
     "   AND nt_policy_appeals(n.tenant_id, n.scenario_id, m.type)"
     /* among the types the operator lets numtrust appeal at all */
     "   AND m.type = ANY(string_to_array($6, ','))"
     FILTERS("m.number", "m.platform", "n.tenant_id")
     " ORDER BY m.number, m.platform, m.type LIMIT $4",
     row_appeal, false, true,
     "open marks of the types the tenant's policy appeals (appeal_marks) that have no appeal "
     "yet",
     NULL},

    {"appeal-refile", NT_JOB_APPEAL, -1,
     "SELECT m.number, m.platform, n.tenant_id, 'go', m.type::text,"
     "       (extract(epoch FROM m.opened_at) * 1000)::bigint, a.round, a.ticket,"
     "       to_char(a.filed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
     "       to_char(a.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), m.remarks,"
     "       feedback_evidence(m.number, m.platform, m.type::text)"
     " FROM marks m JOIN appeals a ON a.job_id = m.appeal_job"
     " JOIN numbers n ON n.number = m.number JOIN platforms p ON p.id = m.platform CROSS JOIN t"
     " WHERE p.enabled AND n.status = 'active' AND m.state = 'disputed' AND a.state = 'rejected'"
     "   AND a.round < $11"
     "   AND a.decided_at + $10 * interval '1 second' <= t.now"
     FILTERS("m.number", "m.platform", "n.tenant_id")
     " ORDER BY m.number, m.platform, m.type LIMIT $4",
     row_appeal_refile, false, true,
     "marks whose appeal was rejected: file again after loop.appeal_cooldown_s with the history "
     "as evidence, up to loop.appeal_max_rounds rounds (then the mark is escalated)",
     NULL},

    {"appeal-status", NT_JOB_APPEAL_STATUS, -1,
     "SELECT a.number, a.platform, n.tenant_id, 'go', a.ticket, a.mark_type::text, a.job_id::text"
     " FROM appeals a JOIN numbers n ON n.number = a.number JOIN platforms p ON p.id = a.platform"
     " WHERE p.enabled AND a.state IN ('submitted', 'in_review')"
     FILTERS("a.number", "a.platform", "n.tenant_id")
     " ORDER BY a.number, a.platform LIMIT $4",
     row_appeal_status, true, false,
     "appeals still submitted or in review: ask the platform for the outcome",
     NULL},

    {"renewal", NT_JOB_RENEWAL, NT_OP_RENEWAL,
     "SELECT np.number, np.platform, n.tenant_id, 'go',"
     "       to_char(np.cert_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
     " FROM number_platforms np JOIN numbers n ON n.number = np.number"
     " JOIN platforms p ON p.id = np.platform CROSS JOIN t"
     " WHERE p.enabled AND n.status = 'active' AND np.platform = ANY($7::text[])"
     "   AND np.cert_status IN ('certified', 'expired') AND np.cert_expires_at IS NOT NULL"
     "   AND np.cert_expires_at <= t.now + $12 * interval '1 second'"
     "   AND NOT EXISTS (SELECT 1 FROM renewals r WHERE r.number = np.number"
     "                   AND r.platform = np.platform AND r.state <> 'rejected'"
     "                   AND r.expires_before IS NOT DISTINCT FROM np.cert_expires_at)"
     FILTERS("np.number", "np.platform", "n.tenant_id")
     " ORDER BY np.platform, np.number LIMIT $4",
     row_renewal, false, true,
     "certifications expiring within loop.renew_ahead_s on platforms with a renewal operation "
     "(the others get an maintenance item): ask for the renewal, once per expiry",
     NULL},
};
/* clang-format on */

static const kind_t *kind_find(const char *name)
{
    for (size_t k = 0; k < NT_ARRAY_LEN(kinds); k++)
        if (strcmp(name, kinds[k].name) == 0)
            return &kinds[k];
    return NULL;
}

static void enqueue_usage(FILE *fp)
{
    fputs("usage: numtrust-producer enqueue KIND [--all] [--number N] [--prefix +86138]\n"
          "                   [--platform P] [--tenant T] [--period P] [--limit N] [--force]\n"
          "                   [--due] [--explain]\n\n"
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
          "(default: numtrust time's UTC date; the UTC hour for appeal-status; kinds with\n"
          "a period of their own, such as a cycle, ignore it) names the period, so the\n"
          "same selection in the same period never does work twice. Jobs the ledger\n"
          "already knows are skipped: finished ones always (`numtrust-producer retry`\n"
          "re-runs failed and dead ones), ones enqueued in the last hour unless --force.\n"
          "Jobs Kafka did not acknowledge are taken out of the ledger again, so enqueuing\n"
          "again after a failure produces them at once. Rows skipped on purpose (a\n"
          "rejected label, an uncertified registration) are counted by reason.\n"
          "Label updates and appeals for a manual platform (no submission API) become\n"
          "action items for a person instead, with the job's id, one per registration's\n"
          "label or mark while not done (`numtrust-producer actions --help`).\n"
          "--limit N enqueues the first N rows in the kind's order (check --due: platform,\n"
          "then number; without --limit its rows come unsorted, as PostgreSQL finds them).\n"
          "--explain prints PostgreSQL's plan of the selection (as its cursor is planned:\n"
          "for every row) and enqueues nothing.\n",
          fp);
}

/* The period of a job id: numtrust time's UTC date (or date and hour), so a
 * clock moved forward by tests or the demo opens new periods. */
static void default_period(bool hourly, char *out, size_t outsz)
{
    char ts[NT_RFC3339_LEN];
    nt_clock_format(nt_clock_domain_ms(), ts);
    /* "2026-11-28T13:..." -> date, or date and hour */
    snprintf(out, outsz, "%.*s", hourly ? 13 : 10, ts);
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

int enqueue_platforms_with(cli_t *cli, int op, char *out, size_t outsz)
{
    size_t o = 0;
    const nt_platforms_t *ps = cli_platforms(cli);
    if (ps == NULL)
        return NT_EINVAL;
    out[o++] = '{';
    for (size_t i = 0; i < nt_platforms_count(ps); i++) {
        const nt_platform_t *p = nt_platforms_at(ps, i);
        if (op >= 0 && !nt_platform_has_op(p, (nt_op_t)op))
            continue;
        int n = snprintf(out + o, outsz - o, "%s%s", o > 1 ? "," : "", nt_platform_id(p));
        if (n < 0 || (size_t)n >= outsz - o - 1)
            return NT_ETOOBIG;
        o += (size_t)n;
    }
    out[o++] = '}';
    out[o] = '\0';
    return NT_OK;
}

/* The platform operation each job type needs. */
static const nt_op_t type_ops[NT_JOB_NTYPES] = {
    [NT_JOB_CHECK] = NT_OP_CHECK,           [NT_JOB_TAG_UPDATE] = NT_OP_TAG_UPDATE,
    [NT_JOB_APPEAL] = NT_OP_APPEAL_SUBMIT,  [NT_JOB_APPEAL_STATUS] = NT_OP_APPEAL_STATUS,
    [NT_JOB_TAG_STATUS] = NT_OP_TAG_STATUS, [NT_JOB_RENEWAL] = NT_OP_RENEWAL,
};

/* Counts a skipped row under its reason. */
static void count_skip(enqueue_stats_t *st, const char *reason)
{
    for (size_t i = 0; i < st->nreasons; i++) {
        if (strcmp(st->reasons[i].reason, reason) == 0) {
            st->reasons[i].count++;
            st->skipped++;
            return;
        }
    }
    if (st->nreasons < NT_ARRAY_LEN(st->reasons)) {
        nt_buf_copy_str(st->reasons[st->nreasons].reason, sizeof(st->reasons[0].reason), reason);
        st->reasons[st->nreasons++].count = 1;
    }
    st->skipped++;
}

/* head (EXPLAIN, DECLARE …), the parameters' CTEs and kind's selection, with
 * its ORDER BY and LIMIT for a kind that sorts only under --limit; into sql.
 * 0, or 1 when it does not fit. */
static int kind_sql(const kind_t *kind, const enqueue_filter_t *f, const char *head, char *sql,
                    size_t size)
{
    int n;
    if (kind->limit_order == NULL)
        n = snprintf(sql, size, "%s" PARAMS_CTE "%s", head, kind->select);
    else if (f->limit != NULL)
        n = snprintf(sql, size, "%s" PARAMS_CTE "%s ORDER BY %s LIMIT $4", head, kind->select,
                     kind->limit_order);
    else
        n = snprintf(sql, size, "%s" PARAMS_CTE "%s LIMIT $4", head, kind->select);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "numtrust-producer enqueue: the %s selection does not fit %zu bytes\n",
                kind->name, size);
        return 1;
    }
    return 0;
}

/* The selection's parameters $1..$14 (see PARAMS_CTE). */
typedef struct sel_params_s {
    char platforms[4096];
    char verify_after[16], poll[16], cooldown[16], rounds[16], ahead[16], timeout[16];
    const char *v[NPARAMS]; /* point into the above, f and the config */
} sel_params_t;

/* Fills p for kind with the filters f. 0, or 1 (the registry failed to load
 * or its platforms do not fit). */
static int sel_params(cli_t *cli, const kind_t *kind, const enqueue_filter_t *f, sel_params_t *p)
{
    const nt_config_t *cfg = &cli->cfg;
    snprintf(p->platforms, sizeof(p->platforms), "{}");
    if (kind->op >= 0 &&
        enqueue_platforms_with(cli, kind->op, p->platforms, sizeof(p->platforms)) != 0)
        return 1;
    snprintf(p->verify_after, sizeof(p->verify_after), "%d", cfg->loop_verify_after_s);
    snprintf(p->poll, sizeof(p->poll), "%d", cfg->loop_tag_poll_s);
    snprintf(p->cooldown, sizeof(p->cooldown), "%d", cfg->loop_appeal_cooldown_s);
    snprintf(p->rounds, sizeof(p->rounds), "%d", cfg->loop_appeal_max_rounds);
    snprintf(p->ahead, sizeof(p->ahead), "%d", cfg->loop_renew_ahead_s);
    snprintf(p->timeout, sizeof(p->timeout), "%d", cfg->loop_verify_timeout_s);
    const char *v[NPARAMS] = {f->number,
                              f->platform,
                              f->tenant,
                              f->limit,
                              f->prefix,
                              cfg->worker_appeal_marks,
                              p->platforms,
                              p->verify_after,
                              p->poll,
                              p->cooldown,
                              p->rounds,
                              p->ahead,
                              cfg->loop_push_uncertified ? "true" : "false",
                              p->timeout};
    memcpy(p->v, v, sizeof(v));
    return 0;
}

/* `enqueue KIND --explain`: the plan PostgreSQL makes for the kind's
 * selection with these filters, as the cursor is planned (for all its rows);
 * nothing is enqueued. 0 or 1. */
static int enqueue_explain(cli_t *cli, const char *kind_name, const enqueue_filter_t *f)
{
    const kind_t *kind = kind_find(kind_name);
    nt_err_t err;
    sel_params_t p;
    char sql[8192];
    int rc = 1;
    PGresult *res = NULL;
    nt_err_clear(&err);
    nt_pg_t *pg = cli_pg(cli);
    if (kind == NULL || pg == NULL || sel_params(cli, kind, f, &p) != 0 ||
        kind_sql(kind, f, "EXPLAIN ", sql, sizeof(sql)) != 0)
        goto out;
    if (nt_pg_run(pg, "BEGIN", 0, NULL, &err) != NT_OK ||
        nt_pg_run(pg, "SET LOCAL cursor_tuple_fraction = 1.0", 0, NULL, &err) != NT_OK ||
        (res = nt_pg_exec(pg, sql, NPARAMS, p.v, &err)) == NULL) {
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
        goto out;
    }
    for (int r = 0; r < PQntuples(res); r++)
        printf("%s\n", PQgetvalue(res, r, 0));
    rc = 0;
out:
    PQclear(res);
    nt_pg_free(pg);
    return rc;
}

int enqueue_run(cli_t *cli, const char *kind_name, const enqueue_filter_t *f, bool force,
                bool quiet, uint64_t *produced)
{
    enqueue_stats_t st;
    int rc = enqueue_run_stats(cli, kind_name, f, force, quiet, &st);
    if (produced != NULL)
        *produced = st.produced;
    return rc;
}

int enqueue_run_stats(cli_t *cli, const char *kind_name, const enqueue_filter_t *f, bool force,
                      bool quiet, enqueue_stats_t *stats)
{
    const kind_t *kind = kind_find(kind_name);
    nt_pg_t *pg = NULL, *ledger = NULL;
    sink_t *sink = NULL;
    nt_err_t err;
    int rc = 1;
    bool in_tx = false;
    int64_t t0 = nt_clock_mono_ms();
    char period_buf[32];
    sel_params_t prm;
    const char *period = f->period;
    enqueue_stats_t local;
    enqueue_stats_t *st = stats != NULL ? stats : &local;
    nt_actions_batch_t *manual = NULL; /* action items for manual platforms */
    nt_job_t job;                      /* the row's job (owns an appeal's evidence) */
    nt_job_init(&job);
    sink_stats_t ss = {0}, base = {0};
    bool shared = cli->sink != NULL && !force;

    memset(st, 0, sizeof(*st));
    nt_err_clear(&err);
    if (kind == NULL)
        return 2;
    if ((pg = cli_pg(cli)) == NULL)
        goto out;
    if (learn_clock(pg, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
        goto out;
    }
    if (period == NULL) {
        default_period(kind->hourly, period_buf, sizeof(period_buf));
        period = period_buf;
    }
    char sql[8192];
    if (sel_params(cli, kind, f, &prm) != 0 ||
        kind_sql(kind, f, "DECLARE sel NO SCROLL CURSOR FOR ", sql, sizeof(sql)) != 0)
        goto out;
    if (nt_pg_run(pg, "BEGIN", 0, NULL, &err) != NT_OK)
        goto fail;
    in_tx = true;
    /* A cursor is planned for its first 10% of rows (cursor_tuple_fraction): index
     * scans and nested loops that are quick to start and slow to finish. Every row
     * of this one is read, so it is planned for all of them (hash joins, one sort). */
    if (nt_pg_run(pg, "SET LOCAL cursor_tuple_fraction = 1.0", 0, NULL, &err) != NT_OK ||
        nt_pg_run(pg, sql, NPARAMS, prm.v, &err) != NT_OK)
        goto fail;
    int64_t now = nt_clock_wall_ms();
    row_ctx_t ctx = {.cli = cli, .period = period};
    if (shared) {
        sink = cli->sink;
        sink_get_stats(sink, &base);
    }
    for (;;) {
        if (*cli->stop) {
            fprintf(stderr, "numtrust-producer enqueue: interrupted\n");
            break;
        }
        if (cli->tick != NULL)
            cli->tick(cli->tick_arg);
        PGresult *res = nt_pg_exec(pg, "FETCH 5000 FROM sel", 0, NULL, &err);
        if (res == NULL)
            goto fail;
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++) {
            const char *decision = PQgetvalue(res, r, 3);
            if (strcmp(decision, "go") != 0) {
                count_skip(st, decision);
                continue;
            }
            const char *extra = NULL, *job_period = period;
            nt_job_clear(&job); /* the row before's evidence, if any */
            job.type = kind->type;
            job.created_at_ms = now;
            nt_buf_copy_str(job.number, sizeof(job.number), PQgetvalue(res, r, 0));
            nt_buf_copy_str(job.platform, sizeof(job.platform), PQgetvalue(res, r, 1));
            nt_buf_copy_str(job.tenant, sizeof(job.tenant), PQgetvalue(res, r, 2));
            kind->row(&job, res, r, &ctx, &extra, &job_period);
            nt_job_make_id(&job, extra, job_period);
            /* no API for this operation: skipped, counted; a label update or
             * an appeal on a manual platform becomes an action item for a
             * person, with the job's id */
            const nt_platforms_t *ps = cli_platforms(cli);
            const nt_platform_t *pl = ps ? nt_platforms_find(ps, job.platform) : NULL;
            if (pl != NULL && !nt_platform_has_op(pl, type_ops[job.type])) {
                if (!nt_platform_is_manual(pl) ||
                    (job.type != NT_JOB_TAG_UPDATE && job.type != NT_JOB_APPEAL)) {
                    count_skip(st, "no_api");
                    continue;
                }
                if (manual == NULL && (manual = nt_actions_batch_new()) == NULL) {
                    PQclear(res);
                    nt_err_set(&err, NT_ENOMEM, false, "out of memory");
                    goto fail;
                }
                if (nt_actions_offer(manual, pl, &job, &err) != NT_OK)
                    fprintf(stderr, "numtrust-producer enqueue: skipping a row: %s\n", err.msg);
                continue;
            }
            if (nt_job_validate(&job, &err) != NT_OK) {
                fprintf(stderr, "numtrust-producer enqueue: skipping a row: %s\n", err.msg);
                count_skip(st, "invalid");
                continue;
            }
            if (sink == NULL) { /* only a pass with work pays for a Kafka producer */
                if ((ledger = cli_pg(cli)) == NULL) {
                    PQclear(res);
                    goto out;
                }
                sink = sink_new(&cli->cfg, ledger, force, quiet ? 0 : 100000, &err);
                if (sink == NULL) {
                    PQclear(res);
                    goto fail;
                }
            }
            if (sink_add(sink, &job, &err) != NT_OK) {
                PQclear(res);
                goto fail;
            }
        }
        PQclear(res);
        if (manual != NULL && nt_actions_flush(manual, pg, &err) != NT_OK)
            goto fail;
        if (rows == 0)
            break;
    }
    in_tx = false;
    if (nt_pg_run(pg, "COMMIT", 0, NULL, &err) != NT_OK)
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
    int frc = NT_OK;
    if (sink != NULL) {
        frc = sink_finish(sink, 60000, &err);
        sink_get_stats(sink, &ss);
        /* a shared sink counts for every kind: this kind's part */
        ss.offered -= base.offered;
        ss.skipped -= base.skipped;
        ss.finished -= base.finished;
        ss.produced -= base.produced;
        ss.delivered -= base.delivered;
        ss.failed -= base.failed;
    }
    st->selected = ss.offered; /* the rows skipped on purpose are counted apart */
    st->produced = ss.produced;
    st->known = ss.skipped + ss.finished;
    if (!quiet || ss.produced > 0 || ss.failed > 0) {
        char skips[512] = "";
        size_t o = 0;
        for (size_t i = 0; i < st->nreasons && o < sizeof(skips); i++) {
            int n = snprintf(skips + o, sizeof(skips) - o, "%s%s %llu",
                             i ? ", " : "; skipped: ", st->reasons[i].reason,
                             (unsigned long long)st->reasons[i].count);
            if (n > 0)
                o += (size_t)n;
        }
        printf("enqueue %s: %llu selected, %llu produced, %llu delivered, %llu already known "
               "(skipped), %llu finished (skipped), %llu failed; period %s; %.1f s%s\n",
               kind->name, (unsigned long long)st->selected, (unsigned long long)ss.produced,
               (unsigned long long)ss.delivered, (unsigned long long)ss.skipped,
               (unsigned long long)ss.finished, (unsigned long long)ss.failed,
               kind->own_period ? "of each row" : period,
               (double)(nt_clock_mono_ms() - t0) / 1000.0, skips);
    }
    /* the reasons other tools and people look for, in words (the reconciler
     * logs every reason instead) */
    for (size_t i = 0; i < st->nreasons && !quiet; i++) {
        if (strcmp(st->reasons[i].reason, "deferred_budget") == 0)
            printf("enqueue %s: %llu routine checks deferred: their tenant's monthly budget is "
                   "spent\n",
                   kind->name, (unsigned long long)st->reasons[i].count);
        else if (strcmp(st->reasons[i].reason, "no_api") == 0)
            printf("enqueue %s: %llu rows skipped: their platform has no API for it (manual)\n",
                   kind->name, (unsigned long long)st->reasons[i].count);
    }
    if (force && ss.finished > 0)
        printf("enqueue %s: %llu finished jobs not produced: --force never runs a finished job "
               "again (a worker would drop it); `numtrust-producer retry` re-runs failed and "
               "dead ones, a new --period checks again\n",
               kind->name, (unsigned long long)ss.finished);
    if (manual != NULL) {
        nt_actions_stats_t ms;
        nt_actions_get_stats(manual, &ms);
        if (!quiet || ms.created > 0 || ms.relabelled > 0)
            printf("enqueue %s: %llu rows for manual platforms: %llu action items created, %llu "
                   "relabelled, %llu already there (`numtrust-producer actions list`)\n",
                   kind->name, (unsigned long long)ms.offered, (unsigned long long)ms.created,
                   (unsigned long long)ms.relabelled, (unsigned long long)ms.known);
    }
    if (frc != NT_OK) {
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
        goto out;
    }
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "numtrust-producer enqueue %s: %s\n", kind->name, err.msg);
out:
    nt_job_clear(&job);
    nt_actions_batch_free(manual);
    if (in_tx && nt_pg_run(pg, "ROLLBACK", 0, NULL, &err) != NT_OK)
        fprintf(stderr, "numtrust-producer enqueue: %s\n", err.msg);
    if (!shared)
        sink_free(sink);
    nt_pg_free(pg);
    nt_pg_free(ledger);
    return rc;
}

int cmd_enqueue(cli_t *cli, int argc, char **argv)
{
    const char *number = NULL, *platform = NULL, *tenant = NULL, *period = NULL, *limit = NULL;
    const char *prefix = NULL;
    bool all = false, force = false, due = false, explain = false;
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
        } else if (strcmp(argv[i], "--explain") == 0) {
            explain = true;
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
            kind = kind_find(argv[i]);
            if (kind == NULL || strcmp(argv[i], "check-due") == 0)
                return cli_usage_error("enqueue",
                                       "unknown kind \"%s\" (check, verify, tag, tag-status, "
                                       "appeal, appeal-refile, appeal-status, renewal)",
                                       argv[i]);
        } else {
            return cli_usage_error("enqueue", "unknown argument \"%s\"", argv[i]);
        }
    }
    if (kind == NULL)
        return cli_usage_error("enqueue", "which kind? check, verify, tag, tag-status, appeal, "
                                          "appeal-refile, appeal-status or renewal");
    if (!all && number == NULL && platform == NULL && tenant == NULL && prefix == NULL)
        return cli_usage_error("enqueue", "give --number, --prefix, --platform, --tenant or --all");
    if (enqueue_filter_check(cli, "enqueue", number, platform, prefix, limit) != 0)
        return 2;
    const char *name = kind->name;
    if (due) {
        if (strcmp(name, "check") != 0)
            return cli_usage_error("enqueue", "--due applies to check only");
        if (period != NULL)
            return cli_usage_error("enqueue", "--due sets the period itself (the scenario cycle)");
        name = "check-due";
    }
    enqueue_filter_t fl = {number, platform, tenant, prefix, period, limit};
    if (explain)
        return enqueue_explain(cli, name, &fl);
    return enqueue_run(cli, name, &fl, force, false, NULL);
}

int enqueue_filter_check(cli_t *cli, const char *cmd, const char *number, const char *platform,
                         const char *prefix, const char *limit)
{
    if (prefix != NULL &&
        (prefix[0] != '+' || strspn(prefix + 1, "0123456789") != strlen(prefix) - 1))
        return cli_usage_error(cmd, "--prefix \"%s\" must be + and digits (e.g. +86138)", prefix);
    if (number != NULL && !nt_phone_is_e164(number))
        return cli_usage_error(cmd, "--number \"%s\" is not an E.164 number", number);
    if (limit != NULL) {
        char *end = NULL;
        long long l = strtoll(limit, &end, 10);
        if (end == limit || *end != '\0' || l <= 0)
            return cli_usage_error(cmd, "--limit \"%s\" is not a positive integer", limit);
    }
    if (platform != NULL) {
        const nt_platforms_t *ps = cli_platforms(cli);
        if (ps == NULL)
            return 1;
        if (nt_platforms_find(ps, platform) == NULL)
            return cli_usage_error(cmd, "--platform \"%s\" is not in %s", platform,
                                   cli->cfg.platforms_file);
    }
    return 0;
}
