/*
 * reconcile.c — the reconciler's bookkeeping step (docs/maintenance.md):
 * what the last checks and answers mean for the loop, in SQL only, before
 * a pass enqueues anything. Pushes seen by a check are verified, pushes
 * never confirmed become unconfirmed, approved appeals are confirmed,
 * marks out of rounds are escalated, renewals seen by a check are renewed,
 * and the maintenance items (renewals without an API, region and yearly
 * reviews) are raised. One transaction; every statement is idempotent, so
 * a pass repeated or run by two reconcilers changes nothing twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "reconcile.h"

/* $1 loop.verify_after_s, $2 loop.verify_timeout_s, $3 loop.appeal_max_rounds,
 * $4 loop.renew_ahead_s, $5 platforms with a renewal operation (text[]),
 * $6..$8 the filters: number prefix, tenant, platform (NULL: any). */
#define NPARAMS 8
#define PRM                                                                                        \
    "WITH prm AS (SELECT $1::int, $2::int, $3::int, $4::int, $5::text[], $6::text, $7::text, "     \
    "$8::text), t AS MATERIALIZED (SELECT nt_now() AS now) "
#define SCOPE(num, plat)                                                                           \
    " AND ($6::text IS NULL OR " num " LIKE $6 || '%') AND ($8::text IS NULL OR " plat " = $8)"    \
    " AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM numbers nn WHERE nn.number = " num            \
    " AND nn.tenant_id = $7))"

typedef struct step_s {
    const char *name; /* the count's name in logs and metrics */
    const char *sql;  /* returns one row per thing done */
} step_t;

/* SQL with the scope spliced in: clang-format would scatter it. */
/* clang-format off */
static const step_t steps[RECONCILE_NSTEPS] = {
    /* the latest push of a registration, seen by a check verify_after_s
     * after it or later, is verified (and applied if still pending); the
     * window (4 x (verify_after_s + verify_timeout_s)) only bounds the scan */
    {"pushes_verified", PRM
     "UPDATE tag_updates u SET verified_at = np.last_checked_at,"
     "  state = CASE WHEN u.state = 'pending_review' THEN 'applied' ELSE u.state END,"
     "  decided_at = COALESCE(u.decided_at, np.last_checked_at)"
     " FROM (SELECT DISTINCT ON (tu.number, tu.platform) tu.job_id, tu.number, tu.platform,"
     "              tu.label, tu.state, tu.pushed_at, tu.verified_at"
     "       FROM tag_updates tu, t"
     "       WHERE tu.pushed_at > t.now - 4 * ($1 + $2) * interval '1 second'"
     "       ORDER BY tu.number, tu.platform, tu.pushed_at DESC, tu.job_id) l"
     " JOIN number_platforms np ON np.number = l.number AND np.platform = l.platform"
     " WHERE u.job_id = l.job_id AND l.state IN ('pending_review', 'applied')"
     "   AND l.verified_at IS NULL"
     "   AND np.last_checked_at >= l.pushed_at + $1 * interval '1 second'"
     "   AND nt_shows(np.label_android, np.label_ios, np.label_search, l.label)"
     SCOPE("u.number", "u.platform")
     " RETURNING u.job_id"},

    /* a push still pending after the timeout although a check looked for
     * it (verify_after_s after it or later) and did not see it: neither
     * the platform nor a check confirmed it */
    {"pushes_unconfirmed", PRM
     "UPDATE tag_updates u SET state = 'unconfirmed', decided_at = t.now,"
     "  reason = 'neither confirmed by the platform nor seen by a check within '"
     "           || ($2 / 3600) || ' h'"
     " FROM number_platforms np, t"
     " WHERE u.state = 'pending_review' AND np.number = u.number AND np.platform = u.platform"
     "   AND u.pushed_at + $2 * interval '1 second' <= t.now"
     "   AND np.last_checked_at >= u.pushed_at + $1 * interval '1 second'"
     SCOPE("u.number", "u.platform")
     " RETURNING u.job_id"},

    /* an approved appeal whose mark a later check no longer saw */
    {"appeals_confirmed", PRM
     "UPDATE appeals a SET confirmed_at = np.last_checked_at"
     " FROM number_platforms np, marks m"
     " WHERE a.state = 'approved' AND a.confirmed_at IS NULL"
     "   AND np.number = a.number AND np.platform = a.platform"
     "   AND np.last_checked_at >= a.decided_at + $1 * interval '1 second'"
     "   AND m.number = a.number AND m.platform = a.platform AND m.type = a.mark_type"
     "   AND m.appeal_job = a.job_id AND m.state = 'cleared'"
     SCOPE("a.number", "a.platform")
     " RETURNING a.job_id"},

    /* the last round of appeals was rejected */
    {"marks_escalated", PRM
     "UPDATE marks m SET state = 'escalated', escalated_at = t.now FROM appeals a, t"
     " WHERE a.job_id = m.appeal_job AND m.state = 'disputed' AND a.state = 'rejected'"
     "   AND a.round >= $3"
     SCOPE("m.number", "m.platform")
     " RETURNING m.number"},

    /* a check after the renewal shows a later expiry */
    {"renewals_confirmed", PRM
     "UPDATE renewals r SET state = 'renewed', decided_at = np.last_checked_at"
     " FROM number_platforms np"
     " WHERE r.state = 'submitted' AND np.number = r.number AND np.platform = r.platform"
     "   AND np.last_checked_at > r.requested_at AND np.cert_status = 'certified'"
     "   AND np.cert_expires_at IS NOT NULL"
     "   AND (r.expires_before IS NULL OR np.cert_expires_at > r.expires_before)"
     SCOPE("r.number", "r.platform")
     " RETURNING r.job_id"},

    /* platforms without a renewal API: a person renews */
    {"renewal_items", PRM
     "INSERT INTO maintenance_items (kind, dedupe, tenant_id, number, platform, detail, due_at)"
     " SELECT 'renewal', 'renewal:' || np.number || ':' || np.platform || ':'"
     "        || to_char(np.cert_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
     "        n.tenant_id, np.number, np.platform,"
     "        'certification ' || np.cert_status || ', expires '"
     "        || to_char(np.cert_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
     "        || ': renew it with the platform (it has no renewal API)',"
     "        np.cert_expires_at"
     " FROM number_platforms np JOIN numbers n ON n.number = np.number"
     " JOIN platforms p ON p.id = np.platform, t"
     " WHERE p.enabled AND NOT (np.platform = ANY($5::text[]))"
     "   AND np.cert_status IN ('certified', 'expired') AND np.cert_expires_at IS NOT NULL"
     "   AND np.cert_expires_at <= t.now + $4 * interval '1 second'"
     SCOPE("np.number", "np.platform")
     " ON CONFLICT (dedupe) DO NOTHING RETURNING id"},

    /* a renewal item whose certification was renewed is done */
    {"renewal_items_resolved", PRM
     "UPDATE maintenance_items ai SET resolved_at = np.last_checked_at"
     " FROM number_platforms np"
     " WHERE ai.kind = 'renewal' AND ai.resolved_at IS NULL AND np.number = ai.number"
     "   AND np.platform = ai.platform AND np.cert_status = 'certified'"
     "   AND np.cert_expires_at > ai.due_at"
     SCOPE("np.number", "np.platform")
     " RETURNING ai.id"},

    /* kinds with a review cycle (region: quarterly) */
    {"region_reviews", PRM
     ", due AS (UPDATE label_schedules ls SET reviewed_at = t.now FROM schedule_kinds k, t"
     "  WHERE k.kind = ls.kind AND k.review_every IS NOT NULL"
     "    AND COALESCE(ls.reviewed_at, ls.event_start) + k.review_every <= t.now"
     "    AND (ls.event_end IS NULL OR ls.event_end > t.now)"
     SCOPE("ls.number", "COALESCE(ls.platform, $8)")
     "  RETURNING ls.id, ls.number, ls.platform, ls.label, ls.kind)"
     " INSERT INTO maintenance_items (kind, dedupe, tenant_id, number, platform, detail, due_at)"
     " SELECT 'region_review', 'review:' || due.id || ':'"
     "        || to_char(t.now AT TIME ZONE 'UTC', 'YYYY-MM-DD'), n.tenant_id, due.number,"
     "        due.platform, 'review the ' || due.kind || ' label \"' || due.label || '\"', t.now"
     " FROM due JOIN numbers n ON n.number = due.number, t"
     " ON CONFLICT (dedupe) DO NOTHING RETURNING id"},
};

/* The yearly review of each tenant's registration data (64 tenants a pass
 * at most): an maintenance item, and the tenant's id back so the pass checks
 * every registration. */
static const char sql_yearly[] = PRM
    ", due AS (UPDATE tenants tn SET next_review_at = t.now + interval '1 year' FROM t"
    "  WHERE tn.id IN (SELECT t2.id FROM tenants t2, t WHERE t2.next_review_at <= t.now"
    "    AND ($7::text IS NULL OR t2.id = $7)"
    "    AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM numbers nn WHERE nn.tenant_id = t2.id"
    "                                     AND nn.number LIKE $6 || '%'))"
    "    ORDER BY t2.id LIMIT 64)"
    "  RETURNING tn.id), ins AS ("
    " INSERT INTO maintenance_items (kind, dedupe, tenant_id, detail, due_at)"
    " SELECT 'yearly_review', 'yearly:' || due.id || ':'"
    "        || to_char(t.now AT TIME ZONE 'UTC', 'YYYY-MM-DD'), due.id,"
    "        'yearly review of the registration data (company, qualifications, regions, package)',"
    "        t.now FROM due, t ON CONFLICT (dedupe) DO NOTHING)"
    " SELECT id, to_char(t.now AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM due, t ORDER BY id";
/* clang-format on */

const char *reconcile_step_name(size_t i)
{
    return i < RECONCILE_NSTEPS ? steps[i].name : "unknown";
}

int reconcile_run(cli_t *cli, nt_pg_t *pg, const reconcile_scope_t *scope, reconcile_stats_t *st,
                  nt_err_t *err)
{
    char after[16], timeout[16], rounds[16], ahead[16], renewable[4096];
    const nt_config_t *cfg = &cli->cfg;
    bool in_tx = false;
    int rc = NT_OK;

    memset(st, 0, sizeof(*st));
    if (enqueue_platforms_with(cli, NT_OP_RENEWAL, renewable, sizeof(renewable)) != 0)
        return nt_err_set(err, NT_EINVAL, false, "cannot list the platforms (platforms_file)");
    snprintf(after, sizeof(after), "%d", cfg->loop_verify_after_s);
    snprintf(timeout, sizeof(timeout), "%d", cfg->loop_verify_timeout_s);
    snprintf(rounds, sizeof(rounds), "%d", cfg->loop_appeal_max_rounds);
    snprintf(ahead, sizeof(ahead), "%d", cfg->loop_renew_ahead_s);
    const char *params[NPARAMS] = {after,     timeout,       rounds,        ahead,
                                   renewable, scope->prefix, scope->tenant, scope->platform};
    if ((rc = nt_pg_run(pg, "BEGIN", 0, NULL, err)) != NT_OK)
        goto out;
    in_tx = true;
    for (size_t i = 0; i < RECONCILE_NSTEPS; i++) {
        PGresult *res = nt_pg_exec(pg, steps[i].sql, NPARAMS, params, err);
        if (res == NULL) {
            char what[200];
            snprintf(what, sizeof(what), "%.180s", err->msg);
            rc = nt_err_set(err, NT_EIO, true, "reconcile %s: %s", steps[i].name, what);
            goto out;
        }
        st->counts[i] = (uint64_t)PQntuples(res);
        PQclear(res);
    }
    PGresult *res = nt_pg_exec(pg, sql_yearly, NPARAMS, params, err);
    if (res == NULL) {
        rc = err->code != 0 ? err->code : NT_EIO;
        goto out;
    }
    for (int r = 0; r < PQntuples(res) && st->ntenants < RECONCILE_MAX_TENANTS; r++) {
        nt_buf_copy_str(st->tenants[st->ntenants], sizeof(st->tenants[0]), PQgetvalue(res, r, 0));
        nt_buf_copy_str(st->review_date, sizeof(st->review_date), PQgetvalue(res, r, 1));
        st->ntenants++;
    }
    PQclear(res);
    in_tx = false;
    rc = nt_pg_run(pg, "COMMIT", 0, NULL, err);
out:
    if (in_tx) {
        nt_err_t e2;
        nt_err_clear(&e2);
        if (nt_pg_run(pg, "ROLLBACK", 0, NULL, &e2) != NT_OK)
            fprintf(stderr, "numtrust-producer: reconcile: %s\n", e2.msg);
    }
    return rc;
}
