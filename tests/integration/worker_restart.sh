#!/usr/bin/env bash
# Acceptance (d) of the foundation: a worker stopped mid-run (SIGTERM: it
# drains and exits 0; then SIGKILL: nothing drains) and started again loses
# nothing and doubles nothing: exactly one result row per job, every job
# done, committed lag 0. The simulator answers slowly so the stops land
# while jobs are in flight.
. "$(dirname "$0")/lib.sh"
nt_setup restart
sim_reset
sim POST /admin/config '{"latency":{"base_ms":100,"jitter_ms":50}}' >/dev/null
trap 'sim_reset; nt_cleanup' EXIT

fleet=$(gen_fleet 1000 203)
"$PRODUCER" import --numbers "$fleet"
mine="number LIKE '+86203%'"
export NUMTRUST_WORKER_MAX_INFLIGHT=100 NUMTRUST_WORKER_BATCH_MAX=50
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false

"$PRODUCER" enqueue check --prefix +86203 --period "$NT_TEST_NAME-$$" | grep enqueue

start_worker
wait_sql "SELECT count(*) > 300 FROM check_results WHERE $mine" t 60
stop_worker 0 TERM || fail "worker did not exit 0 on SIGTERM"
first=$(psqlv "SELECT count(*) FROM check_results WHERE $mine")
log "after SIGTERM: $first results"
[ "$first" -lt 3000 ] || fail "the stop did not land mid-run ($first results already)"

start_worker
wait_sql "SELECT count(*) > $((first + 300)) FROM check_results WHERE $mine" t 60
stop_worker 1 KILL || true
second=$(psqlv "SELECT count(*) FROM check_results WHERE $mine")
log "after SIGKILL: $second results"
[ "$second" -lt 3000 ] || fail "the kill did not land mid-run ($second results already)"

start_worker
wait_sql "SELECT count(*) FROM jobs WHERE type = 'check' AND $mine AND state <> 'done'" 0 120
for _ in $(seq 1 30); do [ "$(group_lag)" = 0 ] && break; sleep 1; done
stop_all_workers

assert_eq "check results (nothing lost)" "$(psqlv "SELECT count(*) FROM check_results WHERE $mine")" 3000
assert_eq "distinct job ids (nothing doubled)" \
    "$(psqlv "SELECT count(DISTINCT job_id) FROM check_results WHERE $mine")" 3000
assert_eq "check jobs in the ledger" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE type = 'check' AND $mine")" 3000
assert_eq "committed consumer-group lag" "$(group_lag)" 0
redone=$(psqlv "SELECT count(*) FROM jobs WHERE type = 'check' AND $mine AND attempts > 1")
log "jobs claimed more than once (in flight at the SIGKILL, redelivered): $redone"
log "PASS"
