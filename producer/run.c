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
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "log.h"

#define RECONCILE_LOCK_KEY "7420114552"

static const char *const passes[] = {"check-due", "tag", "appeal", "appeal-status"};

int cmd_run(cli_t *cli, int argc, char **argv)
{
    bool once = false;
    nt_err_t err;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: numtrust-producer run [--once]\n\n"
                   "Reconciler daemon: every producer.interval_s seconds (now %d) enqueues\n"
                   "due checks (per scenario cycle), tag updates for labels that differ from\n"
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
    nt_pg_t *lock = cli_pg(cli);
    if (lock == NULL)
        return 1;
    if (cli_platforms(cli) == NULL) {
        nt_pg_free(lock);
        return 1;
    }
    NT_INFO("reconciler: every %d s", cli->cfg.producer_interval_s);
    int rc = 0;
    while (!*cli->stop) {
        int64_t t0 = nt_clock_mono_ms();
        const char *key[] = {RECONCILE_LOCK_KEY};
        PGresult *res = nt_pg_exec(lock, "SELECT pg_try_advisory_lock($1::bigint)", 1, key, &err);
        bool mine = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (res == NULL) {
            NT_WARN("reconciler: %s", err.msg);
        } else if (!mine) {
            NT_DEBUG("reconciler: another instance holds the lock; skipping this pass");
        } else {
            uint64_t total = 0;
            for (size_t p = 0; p < NT_ARRAY_LEN(passes) && !*cli->stop; p++) {
                uint64_t n = 0;
                enqueue_filter_t f = {0};
                if (enqueue_run(cli, passes[p], &f, false, true, &n) != 0)
                    rc = 1;
                total += n;
            }
            if (nt_pg_run(lock, "SELECT pg_advisory_unlock($1::bigint)", 1, key, &err) != NT_OK)
                NT_WARN("reconciler: unlock: %s", err.msg);
            NT_INFO("reconciler: pass done, %llu jobs enqueued in %lld ms",
                    (unsigned long long)total, (long long)(nt_clock_mono_ms() - t0));
        }
        if (once)
            break;
        int64_t until = t0 + (int64_t)cli->cfg.producer_interval_s * 1000;
        while (!*cli->stop && nt_clock_mono_ms() < until) {
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    nt_pg_free(lock);
    return once ? rc : 0;
}
