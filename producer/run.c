/*
 * run.c — `numtrust-producer run`: the reconciler daemon.
 *
 * Every producer.interval_s it closes the maintenance loop one step
 * (docs/maintenance.md): the bookkeeping of what checks and answers showed
 * (reconcile.c), then due work as jobs: checks whose scenario cycle came
 * round and the yearly reviews' full checks, verification checks, labels
 * that differ from the wanted ones, review polls of pending pushes, appeals
 * for open marks (the safety net under the workers' fast path), re-filed
 * appeals, appeal decisions and certification renewals. What a pass skips
 * on purpose is counted by reason in its log line and in metrics. Several
 * instances may run: a pass runs only while its instance holds the
 * reconciler's advisory lock, and the deterministic job ids make a pass that
 * is repeated harmless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "history.h"
#include "log.h"
#include "loop.h"
#include "ops.h"
#include "reconcile.h"
#include "retry.h"
#include "sink.h"
#include "sla.h"

#define RECONCILE_LOCK_KEY "7420114552"

/* The enqueue kinds of a pass, in order, after the reconcile step (the
 * yearly reviews' checks come right after check-due). check-feedback:
 * numbers a callee reported (the API raises the check at once; this pass
 * catches up when Kafka was unavailable just then). */
static const char *const passes[] = {"check-due",     "check-feedback", "verify",
                                     "tag",           "tag-status",     "appeal",
                                     "appeal-refile", "appeal-status",  "renewal"};
#define NPASSES   (sizeof(passes) / sizeof(passes[0]))
#define MAX_SKIPS 32

typedef struct runstate_s {
    uint64_t passes_ok, passes_failed, passes_skipped;
    uint64_t enqueued[NPASSES];
    uint64_t review_checks;
    uint64_t retried; /* failed jobs run again */
    struct {
        char reason[40];
        uint64_t count;
    } unretried[8]; /* failed work not retried (any more), by reason: a state */
    size_t nunretried;
    uint64_t reconciled[RECONCILE_NSTEPS];
    struct {
        const char *pass;
        char reason[40];
        uint64_t count;
    } skips[MAX_SKIPS]; /* skipped on purpose, by pass and reason */
    size_t nskips;
    double last_pass_s;
    int64_t last_ok_wall_ms;
    bool pg_ok;
    int interval_s;
    unsigned passes_on; /* bit p: passes[p] runs; bit NPASSES: retry (--passes) */
    nt_buf_t business;  /* policies, service levels, alerts, costs (sla.c) */
    const alerts_t *alerts;
} runstate_t;

static void add_skips(runstate_t *rs, const char *pass, const enqueue_stats_t *st)
{
    for (size_t i = 0; i < st->nreasons; i++) {
        size_t k = 0;
        while (k < rs->nskips && !(rs->skips[k].pass == pass &&
                                   strcmp(rs->skips[k].reason, st->reasons[i].reason) == 0))
            k++;
        if (k == rs->nskips) {
            if (rs->nskips == MAX_SKIPS)
                continue;
            rs->skips[k].pass = pass;
            nt_buf_copy_str(rs->skips[k].reason, sizeof(rs->skips[k].reason),
                            st->reasons[i].reason);
            rs->nskips++;
        }
        rs->skips[k].count += st->reasons[i].count;
    }
}

/* /readyz: ready while PostgreSQL answers and passes are not falling
 * behind. */
static bool run_not_ready(void *arg, char *why, size_t whysz)
{
    const runstate_t *rs = arg;
    int64_t age = nt_clock_wall_ms() - rs->last_ok_wall_ms;
    bool stale = rs->last_ok_wall_ms > 0 && age > 3000LL * rs->interval_s + 60000;
    if (rs->pg_ok && !stale)
        return false;
    snprintf(why, whysz, "%s",
             !rs->pg_ok ? "PostgreSQL not answering" : "no successful pass for 3 intervals");
    return true;
}

static int run_metrics(void *arg, nt_buf_t *b)
{
    const runstate_t *rs = arg;
    int rc = nt_buf_printf(b,
                           "# HELP numtrust_build_info The program's version (always 1).\n"
                           "# TYPE numtrust_build_info gauge\n"
                           "numtrust_build_info{program=\"numtrust-producer\",version=\"" NT_VERSION
                           "\",command=\"run\"} 1\n"
                           "# HELP numtrust_reconciler_passes_total Reconciler passes by result.\n"
                           "# TYPE numtrust_reconciler_passes_total counter\n"
                           "numtrust_reconciler_passes_total{result=\"ok\"} %llu\n"
                           "numtrust_reconciler_passes_total{result=\"failed\"} %llu\n"
                           "numtrust_reconciler_passes_total{result=\"skipped\"} %llu\n"
                           "# HELP numtrust_reconciler_enqueued_total Jobs enqueued, by kind.\n"
                           "# TYPE numtrust_reconciler_enqueued_total counter\n",
                           (unsigned long long)rs->passes_ok, (unsigned long long)rs->passes_failed,
                           (unsigned long long)rs->passes_skipped);
    for (size_t p = 0; rc == NT_OK && p < NPASSES; p++)
        rc = nt_buf_printf(b, "numtrust_reconciler_enqueued_total{kind=\"%s\"} %llu\n", passes[p],
                           (unsigned long long)rs->enqueued[p]);
    if (rc == NT_OK)
        rc = nt_buf_printf(b,
                           "numtrust_reconciler_enqueued_total{kind=\"review\"} %llu\n"
                           "numtrust_reconciler_enqueued_total{kind=\"retry\"} %llu\n"
                           "# HELP numtrust_reconciler_failed_unretried Failed jobs the "
                           "reconciler does not run again: their cause is not retried blindly "
                           "(not_retried_*) or it gave up after loop.retry_max (gave_up_*).\n"
                           "# TYPE numtrust_reconciler_failed_unretried gauge\n",
                           (unsigned long long)rs->review_checks, (unsigned long long)rs->retried);
    for (size_t k = 0; rc == NT_OK && k < rs->nunretried; k++)
        rc = nt_buf_printf(b, "numtrust_reconciler_failed_unretried{reason=\"%s\"} %llu\n",
                           rs->unretried[k].reason, (unsigned long long)rs->unretried[k].count);
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "# HELP numtrust_reconciler_skipped_total Rows a pass skipped on "
                            "purpose, by pass and reason.\n"
                            "# TYPE numtrust_reconciler_skipped_total counter\n");
    for (size_t k = 0; rc == NT_OK && k < rs->nskips; k++)
        rc = nt_buf_printf(b, "numtrust_reconciler_skipped_total{pass=\"%s\",reason=\"%s\"} %llu\n",
                           rs->skips[k].pass, rs->skips[k].reason,
                           (unsigned long long)rs->skips[k].count);
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "# HELP numtrust_reconciler_reconciled_total What the reconcile "
                            "step recorded: verifications, confirmations, escalations, action "
                            "items.\n"
                            "# TYPE numtrust_reconciler_reconciled_total counter\n");
    for (size_t k = 0; rc == NT_OK && k < RECONCILE_NSTEPS; k++)
        rc = nt_buf_printf(b, "numtrust_reconciler_reconciled_total{what=\"%s\"} %llu\n",
                           reconcile_step_name(k), (unsigned long long)rs->reconciled[k]);
    if (rc == NT_OK)
        rc = nt_buf_printf(b,
                           "# HELP numtrust_reconciler_last_pass_seconds How long the last "
                           "pass took.\n"
                           "# TYPE numtrust_reconciler_last_pass_seconds gauge\n"
                           "numtrust_reconciler_last_pass_seconds %.3f\n"
                           "# HELP numtrust_reconciler_last_success_timestamp_seconds When "
                           "the last successful pass ended (Unix time).\n"
                           "# TYPE numtrust_reconciler_last_success_timestamp_seconds gauge\n"
                           "numtrust_reconciler_last_success_timestamp_seconds %.3f\n",
                           rs->last_pass_s, (double)rs->last_ok_wall_ms / 1000.0);
    if (rc == NT_OK && rs->business.len > 0)
        rc = nt_buf_append(b, rs->business.data, rs->business.len);
    if (rc == NT_OK && rs->alerts != NULL)
        rc = alerts_metrics_text(rs->alerts, b);
    return rc;
}

static void tick(void *arg)
{
    nt_loop_run_once(arg, 0);
}

/* Failed work the reconciler runs again with backoff (`numtrust-producer
 * retry`): causes a later attempt can get past (credentials fixed, a platform
 * or the database back, a configuration corrected). Refusals (the platform
 * said no), unreadable answers and invalid jobs are not retried blindly. */
static const char *const retried_classes[] = {"auth", "attempts", "unwritable", "config"};

/* What failed and is not (or no longer) retried, by class: counted as
 * skipped by reason ("not_retried_rejected", "gave_up_auth"). */
static const char sql_unretried[] =
    "SELECT CASE WHEN j.error_class = ANY(string_to_array($3, ','))"
    "            THEN 'gave_up_' ELSE 'not_retried_' END || j.error_class, count(*)"
    " FROM jobs j WHERE j.error_class IS NOT NULL AND j.state IN ('failed', 'dead')"
    "   AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.retry_of = j.id)"
    "   AND (NOT j.error_class = ANY(string_to_array($3, ',')) OR j.retry_gen >= $2::int)"
    "   AND ($1::text IS NULL OR j.number LIKE $1 || '%')"
    " GROUP BY 1 ORDER BY 1";

static void retry_failed(cli_t *cli, nt_pg_t *pg, runstate_t *rs, const enqueue_filter_t *f,
                         uint64_t *total, bool *ok, char *line, size_t linesz, size_t *o)
{
    if (cli->cfg.loop_retry_max == 0)
        return;
    for (size_t c = 0; c < NT_ARRAY_LEN(retried_classes) && !*cli->stop; c++) {
        retry_filter_t rf = {.prefix = f->prefix,
                             .platform = f->platform,
                             .error_class = retried_classes[c],
                             .backoff_s = cli->cfg.loop_retry_backoff_s,
                             .max_gen = cli->cfg.loop_retry_max,
                             .limit = 5000};
        retry_stats_t st;
        if (retry_run(cli, &rf, false, NULL, &st) != 0) {
            *ok = false;
            continue;
        }
        if (st.produced > 0)
            NT_INFO("reconciler: ran %llu failed jobs (%s) again", (unsigned long long)st.produced,
                    retried_classes[c]);
        rs->retried += st.produced;
        *total += st.produced;
    }
    char classes[128], maxgen[16];
    size_t n = 0;
    for (size_t c = 0; c < NT_ARRAY_LEN(retried_classes); c++)
        n += (size_t)snprintf(classes + n, sizeof(classes) - n, "%s%s", c ? "," : "",
                              retried_classes[c]);
    snprintf(maxgen, sizeof(maxgen), "%d", cli->cfg.loop_retry_max);
    const char *params[] = {f->prefix, maxgen, classes};
    nt_err_t err;
    nt_err_clear(&err);
    PGresult *res = nt_pg_exec(pg, sql_unretried, 3, params, &err);
    if (res == NULL) {
        NT_WARN("reconciler: %s", err.msg);
        return;
    }
    enqueue_stats_t est = {0};
    for (int r = 0; r < PQntuples(res); r++) {
        nt_buf_copy_str(est.reasons[est.nreasons].reason, sizeof(est.reasons[0].reason),
                        PQgetvalue(res, r, 0));
        est.reasons[est.nreasons++].count = strtoull(PQgetvalue(res, r, 1), NULL, 10);
        if (est.nreasons == NT_ARRAY_LEN(est.reasons))
            break;
    }
    PQclear(res);
    /* these are a state, not events: the gauge is replaced each pass */
    rs->nunretried = 0;
    for (size_t i = 0; i < est.nreasons; i++) {
        nt_buf_copy_str(rs->unretried[rs->nunretried].reason, sizeof(rs->unretried[0].reason),
                        est.reasons[i].reason);
        rs->unretried[rs->nunretried++].count = est.reasons[i].count;
        if (*o < linesz) {
            int k = snprintf(line + *o, linesz - *o, "%sretry %s %llu", *o ? ", " : "",
                             est.reasons[i].reason, (unsigned long long)est.reasons[i].count);
            if (k > 0)
                *o += (size_t)k;
        }
    }
}

/* One pass: the reconcile step, failed work run again, then each kind of
 * work. Returns true when every step succeeded. */
static bool run_pass(cli_t *cli, nt_pg_t *pg, runstate_t *rs, const enqueue_filter_t *f)
{
    nt_err_t err;
    reconcile_stats_t rst;
    reconcile_scope_t scope = {f->prefix, f->tenant, f->platform};
    uint64_t total = 0;
    bool ok = true;
    char line[1024];
    size_t o = 0;

    nt_err_clear(&err);
    if (reconcile_run(cli, pg, &scope, &rst, &err) != NT_OK) {
        NT_WARN("reconciler: %s", err.msg);
        ok = false;
    } else {
        for (size_t k = 0; k < RECONCILE_NSTEPS; k++) {
            rs->reconciled[k] += rst.counts[k];
            if (rst.counts[k] > 0 && o < sizeof(line)) {
                int n = snprintf(line + o, sizeof(line) - o, "%s%s %llu", o ? ", " : "",
                                 reconcile_step_name(k), (unsigned long long)rst.counts[k]);
                if (n > 0)
                    o += (size_t)n;
            }
        }
        if (o > 0)
            NT_INFO("reconciler: recorded %s", line);
    }
    /* service levels after the bookkeeping (they read what it recorded) and
     * before check-due (which reads the risk they compute) */
    sla_stats_t sst;
    if (sla_pass(cli, pg, &sst, &err) != NT_OK) {
        NT_WARN("reconciler: service levels: %s", err.msg);
        ok = false;
    } else if (sst.counts[SLA_OVER_TARGET] + sst.counts[SLA_BREACHED] +
                   sst.counts[SLA_QUARANTINED] + sst.counts[SLA_RELEASED] >
               0) {
        NT_INFO("reconciler: service levels: %llu tenants over target, %llu breaches, "
                "%llu quarantined, %llu released",
                (unsigned long long)sst.counts[SLA_OVER_TARGET],
                (unsigned long long)sst.counts[SLA_BREACHED],
                (unsigned long long)sst.counts[SLA_QUARANTINED],
                (unsigned long long)sst.counts[SLA_RELEASED]);
    }
    /* the history's monthly partitions around numtrust now (migration 009) */
    history_stats_t hst;
    if (history_maintain(cli, pg, &hst, &err) != NT_OK) {
        NT_WARN("reconciler: history: %s", err.msg);
        ok = false;
    } else if (hst.created + hst.moved + hst.dropped > 0) {
        NT_INFO("reconciler: history: %llu partitions created, %llu rows moved, %llu "
                "partitions dropped",
                (unsigned long long)hst.created, (unsigned long long)hst.moved,
                (unsigned long long)hst.dropped);
    }
    /* the fleet-state snapshot of the report's fleet-wide sections, for a
     * large fleet, when it is due (migration 011) */
    char mn[24], iv[24];
    snprintf(mn, sizeof(mn), "%d", cli->cfg.report_snapshot_min_registrations);
    snprintf(iv, sizeof(iv), "%d", cli->cfg.report_snapshot_interval_s);
    const char *fp[] = {mn, iv};
    int64_t ft0 = nt_clock_mono_ms();
    PGresult *fres =
        nt_pg_exec(pg, "SELECT nt_fleet_state_maintain($1::bigint, $2::integer)", 2, fp, &err);
    if (fres == NULL) {
        NT_WARN("reconciler: fleet-state snapshot: %s", err.msg);
        ok = false;
    } else if (strcmp(PQgetvalue(fres, 0, 0), "refreshed") == 0 ||
               strcmp(PQgetvalue(fres, 0, 0), "dropped") == 0) {
        NT_INFO("reconciler: fleet-state snapshot %s (%lld ms)", PQgetvalue(fres, 0, 0),
                (long long)(nt_clock_mono_ms() - ft0));
    }
    PQclear(fres);
    o = 0;
    line[0] = '\0';
    if (rs->passes_on & (1u << NPASSES))
        retry_failed(cli, pg, rs, f, &total, &ok, line, sizeof(line), &o);
    for (size_t p = 0; p < NPASSES && !*cli->stop; p++) {
        if (!(rs->passes_on & (1u << p)))
            continue;
        enqueue_stats_t st;
        if (enqueue_run_stats(cli, passes[p], f, false, true, &st) != 0)
            ok = false;
        rs->enqueued[p] += st.produced;
        total += st.produced;
        add_skips(rs, passes[p], &st);
        for (size_t i = 0; i < st.nreasons && o < sizeof(line); i++) {
            int n = snprintf(line + o, sizeof(line) - o, "%s%s %s %llu", o ? ", " : "", passes[p],
                             st.reasons[i].reason, (unsigned long long)st.reasons[i].count);
            if (n > 0)
                o += (size_t)n;
        }
        /* the yearly reviews: every registration of the tenant, right after
         * the scheduled checks */
        for (size_t i = 0; strcmp(passes[p], "check-due") == 0 && i < rst.ntenants && ok; i++) {
            char period[40];
            snprintf(period, sizeof(period), "review-%s", rst.review_date);
            enqueue_filter_t rf = *f;
            rf.tenant = rst.tenants[i];
            rf.period = period;
            NT_INFO("reconciler: yearly review of tenant %s: checking every registration",
                    rst.tenants[i]);
            if (enqueue_run_stats(cli, "check", &rf, false, true, &st) != 0)
                ok = false;
            rs->review_checks += st.produced;
            total += st.produced;
        }
    }
    if (o > 0)
        NT_INFO("reconciler: skipped on purpose: %s", line);
    NT_INFO("reconciler: pass done, %llu jobs enqueued", (unsigned long long)total);
    return ok;
}

/* Parses --passes "tag,tag-status" into a bit set (see runstate_t). 0 or
 * NT_EINVAL with the unknown name in bad. */
static int parse_passes(const char *list, unsigned *on, char *bad, size_t badsz)
{
    *on = 0;
    for (const char *s = list; *s;) {
        size_t n = strcspn(s, ",");
        bool found = n == 5 && strncmp(s, "retry", 5) == 0;
        if (found)
            *on |= 1u << NPASSES;
        for (size_t p = 0; p < NPASSES && !found; p++) {
            if (strlen(passes[p]) == n && strncmp(s, passes[p], n) == 0) {
                *on |= 1u << p;
                found = true;
            }
        }
        if (!found) {
            snprintf(bad, badsz, "%.*s", (int)n, s);
            return NT_EINVAL;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return NT_OK;
}

int cmd_run(cli_t *cli, int argc, char **argv)
{
    bool once = false;
    nt_err_t err;
    enqueue_filter_t f = {0};
    unsigned passes_on = (1u << (NPASSES + 1)) - 1; /* all, and retry */
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: numtrust-producer run [--once] [--prefix +86138] [--tenant T]\n"
                   "                             [--platform P] [--passes LIST]\n\n"
                   "Reconciler daemon: every producer.interval_s seconds (now %d) it records\n"
                   "what the last checks and answers showed (pushes verified or unconfirmed,\n"
                   "appeals confirmed, marks escalated, renewals done, maintenance items raised),\n"
                   "then enqueues due checks (per policy cycle, and every registration of a\n"
                   "tenant at its yearly review), verification checks, tag updates for labels\n"
                   "that differ from the wanted ones, review polls of pending pushes, appeals\n"
                   "for open marks of the types in worker.appeal_marks, rejected appeals again\n"
                   "after their cool-down, status polls for appeals under review, and renewals\n"
                   "of expiring certifications (docs/maintenance.md). Failed work whose cause\n"
                   "can pass (credentials, outages: error classes auth, attempts, unwritable,\n"
                   "config) is run again (`numtrust-producer retry`) after loop.retry_backoff_s,\n"
                   "doubled each time, up to loop.retry_max times. What a pass skips on\n"
                   "purpose, and failed work it does not run again, is logged and counted by\n"
                   "reason.\n"
                   "Several instances may run; one pass at a time holds an advisory lock.\n"
                   "--once runs a single pass and exits (status 1 if a step failed).\n"
                   "--prefix, --tenant, --platform limit a pass to part of the fleet.\n"
                   "--passes runs only some of the passes after the bookkeeping, e.g.\n"
                   "tag,tag-status (retry, check-due, check-feedback, verify, tag, tag-status,\n"
                   "appeal, appeal-refile, appeal-status, renewal; default all).\n"
                   "SIGTERM stops it.\n",
                   cli->cfg.producer_interval_s);
            return 0;
        }
        if (strcmp(argv[i], "--once") == 0) {
            once = true;
        } else if (cli_opt(argc, argv, &i, "--prefix", &v)) {
            if ((f.prefix = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--tenant", &v)) {
            if ((f.tenant = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--platform", &v)) {
            if ((f.platform = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--passes", &v)) {
            char bad[64];
            if (v == NULL)
                return 2;
            if (parse_passes(v, &passes_on, bad, sizeof(bad)) != NT_OK)
                return cli_usage_error("run", "--passes: \"%s\" is not a pass", bad);
        } else {
            return cli_usage_error("run", "unknown argument \"%s\"", argv[i]);
        }
    }
    if (enqueue_filter_check(cli, "run", NULL, f.platform, f.prefix, NULL) != 0)
        return 2;
    nt_err_clear(&err);
    runstate_t rs = {.interval_s = cli->cfg.producer_interval_s, .passes_on = passes_on};
    nt_loop_t *loop = NULL;
    nt_ops_t *ops = NULL;
    alerts_t *alerts = NULL;
    int64_t alerts_warned_ms = -60001;
    nt_buf_init(&rs.business, 0);
    nt_pg_t *lock = cli_pg(cli), *ledger = NULL;
    if (lock == NULL)
        return 1;
    int rc = 0;
    if (cli_platforms(cli) == NULL || (loop = nt_loop_new(&err)) == NULL ||
        (ledger = cli_pg(cli)) == NULL) {
        rc = 1;
        goto out;
    }
    /* one Kafka producer for every pass */
    if ((cli->sink = sink_new(&cli->cfg, ledger, false, 0, &err)) == NULL) {
        fprintf(stderr, "numtrust-producer run: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    if (cli->cfg.producer_metrics_listen[0] != '\0') {
        ops = nt_ops_new(loop, cli->cfg.producer_metrics_listen, "producer.metrics_listen",
                         run_not_ready, run_metrics, &rs, &err);
        if (ops == NULL) {
            fprintf(stderr, "numtrust-producer run: %s\n", err.msg);
            rc = err.code == NT_EINVAL ? 2 : 1;
            goto out;
        }
    }
    if ((alerts = alerts_new(cli, loop, &err)) == NULL) {
        fprintf(stderr, "numtrust-producer run: alerts: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    rs.alerts = alerts;
    cli->tick = tick;
    cli->tick_arg = loop;
    NT_INFO("reconciler: every %d s", cli->cfg.producer_interval_s);
    while (!*cli->stop) {
        int64_t t0 = nt_clock_mono_ms();
        const char *key[] = {RECONCILE_LOCK_KEY};
        PGresult *res = nt_pg_exec(lock, "SELECT pg_try_advisory_lock($1::bigint)", 1, key, &err);
        bool mine = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        rs.pg_ok = res != NULL;
        if (res == NULL) {
            NT_WARN("reconciler: %s", err.msg);
            rs.passes_failed++;
            rc = 1;
        } else if (!mine) {
            NT_DEBUG("reconciler: another instance holds the lock; skipping this pass");
            rs.passes_skipped++;
        } else {
            bool ok = run_pass(cli, lock, &rs, &f);
            rs.last_pass_s = (double)(nt_clock_mono_ms() - t0) / 1000.0;
            if (ok) {
                rs.passes_ok++;
                rs.last_ok_wall_ms = nt_clock_wall_ms();
            } else {
                rs.passes_failed++;
                rc = 1;
            }
            if (sla_metrics_text(lock, &rs.business, &err) != NT_OK)
                NT_WARN("reconciler: business metrics: %s", err.msg);
            if (nt_pg_run(lock, "SELECT pg_advisory_unlock($1::bigint)", 1, key, &err) != NT_OK)
                NT_WARN("reconciler: unlock: %s", err.msg);
            NT_INFO("reconciler: pass took %lld ms", (long long)(nt_clock_mono_ms() - t0));
        }
        if (once) {
            if (alerts_drain(alerts, NULL, &err) < 0)
                NT_WARN("reconciler: alerts: %s", err.msg);
            break;
        }
        int64_t until = t0 + (int64_t)cli->cfg.producer_interval_s * 1000;
        int64_t drain_at = 0;
        while (!*cli->stop && nt_clock_mono_ms() < until) {
            nt_loop_run_once(loop, 100); /* serves /metrics between passes */
            if (nt_clock_mono_ms() >= drain_at) {
                /* the alert outbox: what is due now, a batch at a time */
                int n;
                while ((n = alerts_drain(alerts, NULL, &err)) >= cli->cfg.alerts_batch &&
                       !*cli->stop)
                    ;
                if (n < 0 && nt_clock_mono_ms() - alerts_warned_ms > 60000) {
                    NT_WARN("reconciler: alerts: %s (retried every alerts.poll_ms)", err.msg);
                    alerts_warned_ms = nt_clock_mono_ms();
                }
                drain_at = nt_clock_mono_ms() + cli->cfg.alerts_poll_ms;
            }
        }
    }
out:
    cli->tick = NULL;
    alerts_free(alerts);
    nt_buf_free(&rs.business);
    sink_free(cli->sink);
    cli->sink = NULL;
    nt_ops_free(ops);
    nt_loop_free(loop);
    nt_pg_free(ledger);
    nt_pg_free(lock);
    return once || rc == 2 ? rc : 0;
}
