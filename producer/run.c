/*
 * run.c — `numtrust-producer run`: the reconciler daemon.
 *
 * Every producer.interval_s it turns due work in PostgreSQL into jobs: checks
 * whose scenario cycle came round, labels that differ from the wanted ones,
 * open marks without an appeal (the safety net under the workers' fast
 * path), and appeals still under review. Several instances may run: a pass
 * runs only while its instance holds the reconciler's advisory lock, and the
 * deterministic job ids make a pass that is repeated harmless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "ops.h"
#include "log.h"
#include "loop.h"
#include "sla.h"

#define RECONCILE_LOCK_KEY "7420114552"

/* check-feedback: numbers a callee reported (the API raises the check at
 * once; this pass catches up when Kafka was unavailable just then) */
static const char *const passes[] = {"check-due", "check-feedback", "tag", "appeal",
                                     "appeal-status"};

typedef struct runstate_s {
    uint64_t passes_ok, passes_failed, passes_skipped;
    uint64_t enqueued[NT_ARRAY_LEN(passes)];
    double last_pass_s;
    int64_t last_ok_wall_ms;
    bool pg_ok;
    int interval_s;
    nt_buf_t business; /* policies, service levels, alerts, costs (sla.c) */
    const alerts_t *alerts;
} runstate_t;

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
    for (size_t p = 0; rc == NT_OK && p < NT_ARRAY_LEN(passes); p++)
        rc = nt_buf_printf(b, "numtrust_reconciler_enqueued_total{kind=\"%s\"} %llu\n", passes[p],
                           (unsigned long long)rs->enqueued[p]);
    if (rc == NT_OK)
        rc = nt_buf_printf(b,
                           "# TYPE numtrust_reconciler_last_pass_seconds gauge\n"
                           "numtrust_reconciler_last_pass_seconds %.3f\n"
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

int cmd_run(cli_t *cli, int argc, char **argv)
{
    bool once = false;
    nt_err_t err;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: numtrust-producer run [--once]\n\n"
                   "Reconciler daemon: every producer.interval_s seconds (now %d) enqueues\n"
                   "due checks (per policy cycle), tag updates for labels that differ from\n"
                   "the wanted ones, appeals for open marks of the types in\n"
                   "worker.appeal_marks, and status polls for appeals under review.\n"
                   "Several instances may run; one pass at a time holds an advisory lock.\n"
                   "--once runs a single pass and exits. SIGTERM stops it.\n",
                   cli->cfg.producer_interval_s);
            return 0;
        }
        if (strcmp(argv[i], "--once") == 0) {
            once = true;
            continue;
        }
        return cli_usage_error("run", "unknown argument \"%s\"", argv[i]);
    }
    nt_err_clear(&err);
    runstate_t rs = {.interval_s = cli->cfg.producer_interval_s};
    nt_loop_t *loop = NULL;
    nt_ops_t *ops = NULL;
    alerts_t *alerts = NULL;
    int64_t alerts_warned_ms = -60001;
    nt_buf_init(&rs.business, 0);
    nt_pg_t *lock = cli_pg(cli);
    if (lock == NULL)
        return 1;
    int rc = 0;
    if (cli_platforms(cli) == NULL || (loop = nt_loop_new(&err)) == NULL) {
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
        } else if (!mine) {
            NT_DEBUG("reconciler: another instance holds the lock; skipping this pass");
            rs.passes_skipped++;
        } else {
            uint64_t total = 0;
            bool ok = true;
            /* service levels first: the check-due selection reads the risk they compute */
            sla_stats_t sst;
            if (sla_pass(cli, lock, &sst, &err) != NT_OK) {
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
            for (size_t p = 0; p < NT_ARRAY_LEN(passes) && !*cli->stop; p++) {
                uint64_t n = 0;
                enqueue_filter_t f = {0};
                if (enqueue_run(cli, passes[p], &f, false, true, &n) != 0) {
                    rc = 1;
                    ok = false;
                }
                rs.enqueued[p] += n;
                total += n;
            }
            rs.last_pass_s = (double)(nt_clock_mono_ms() - t0) / 1000.0;
            if (ok) {
                rs.passes_ok++;
                rs.last_ok_wall_ms = nt_clock_wall_ms();
            } else {
                rs.passes_failed++;
            }
            if (sla_metrics_text(lock, &rs.business, &err) != NT_OK)
                NT_WARN("reconciler: business metrics: %s", err.msg);
            if (nt_pg_run(lock, "SELECT pg_advisory_unlock($1::bigint)", 1, key, &err) != NT_OK)
                NT_WARN("reconciler: unlock: %s", err.msg);
            NT_INFO("reconciler: pass done, %llu jobs enqueued in %lld ms",
                    (unsigned long long)total, (long long)(nt_clock_mono_ms() - t0));
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
    nt_ops_free(ops);
    nt_loop_free(loop);
    nt_pg_free(lock);
    return once || rc == 2 ? rc : 0;
}
