#!/usr/bin/env bash
# Fault scenario pg_stalls: the database stops committing for a while without refusing
# anything outright, twice, mid-run.
#   1. check_results locked (EXCLUSIVE) for 20 s while the workers' sessions run with
#      statement_timeout = 3 s: every check result batch fails with 57014;
#   2. the PostgreSQL backends serving the workers frozen (SIGSTOP) for 10 s.
# A timeout is transient: no job fails, no platform answer is thrown away. /readyz says 503
# while results are not being committed, and 200 again after.
. "$(dirname "$0")/faultlib.sh"
FAULT_NUMBERS=1000
FAULT_TAG_NUMBERS=200
fault_setup pg_stalls 313
fault_fleet
fault_enqueue
FAULT_ALL_DONE="locks, statement timeouts and a frozen database are transient"
worker_conninfo="$NUMTRUST_PG_CONNINFO options='-c statement_timeout=3000 -c application_name=nt-fault-worker'"
fault_start_worker NUMTRUST_PG_CONNINFO="$worker_conninfo" NUMTRUST_WORKER_METRICS_LISTEN=127.0.0.1:0 \
    NUMTRUST_WORKER_READY_STALL_S=3
fault_start_worker NUMTRUST_PG_CONNINFO="$worker_conninfo"
ops=$(fault_ops_url 0)
fault_wait_progress 0.20
fault_check_alive

log "phase 1: check_results locked for 20 s (worker sessions: statement_timeout 3 s)"
psql "$NUMTRUST_PG_CONNINFO" -X -q -c "BEGIN; LOCK TABLE check_results IN EXCLUSIVE MODE;
     SELECT pg_sleep(20); COMMIT;" >/dev/null &
locker=$!
FAULT_RESTORE="kill $locker 2>/dev/null"
fault_sample_readyz "$ops" 20 "$NT_TMP/readyz-lock"
wait "$locker" || true
FAULT_RESTORE=""
log "phase 1 over: $(fault_final_count) of $FAULT_JOBS jobs final"
fault_check_alive
fault_wait_ready "$ops" 30

log "phase 2: the workers' PostgreSQL backends frozen (SIGSTOP) for 10 s"
pids=$(psqlv "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
              WHERE application_name = 'nt-fault-worker'")
[ -n "$pids" ] || fail "no backend serves the workers"
FAULT_RESTORE="kill -CONT $pids 2>/dev/null"
# shellcheck disable=SC2086
kill -STOP $pids
fault_sample_readyz "$ops" 10 "$NT_TMP/readyz-frozen"
# shellcheck disable=SC2086
kill -CONT $pids
FAULT_RESTORE=""
log "phase 2 over ($(echo "$pids" | wc -w) backends resumed): $(fault_final_count) of $FAULT_JOBS jobs final"
fault_check_alive
fault_ended
fault_wait_ready "$ops" 30

fault_extra_checks() {
    fault_check_readyz "$NT_TMP/readyz-lock" "the lock"
    fault_check_readyz "$NT_TMP/readyz-frozen" "the freeze"
}
fault_finish
