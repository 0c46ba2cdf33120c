#!/usr/bin/env bash
# Fault scenario pg_row_refused: one check result row keeps failing with a retriable SQLSTATE
# (40001, raised by a trigger for one registration) while everything else writes fine. The
# writer retries its batch a few times with backoff, splits it, writes every other row, and
# fails only the guilty job with its reason: exactly one job failed (its last_error names
# 40001), everything else done, the partitions' committed lag back to 0, and a bounded number
# of warning lines (not one per retry).
. "$(dirname "$0")/faultlib.sh"
FAULT_NUMBERS=1000
FAULT_TAG_NUMBERS=200
fault_setup pg_row_refused 312
fault_fleet
guilty=$(sed -n 2p "$FAULT_CHECK_FLEET" | cut -d, -f2)
drop_sql="SET client_min_messages = warning; DROP FUNCTION IF EXISTS nt_fault_row_refused() CASCADE"
FAULT_RESTORE="psqlv '$drop_sql' >/dev/null"
psql "$NUMTRUST_PG_CONNINFO" -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE FUNCTION nt_fault_row_refused() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN RAISE EXCEPTION 'could not serialize access (fault test)' USING ERRCODE = '40001'; END \$\$;
CREATE TRIGGER nt_fault_row_refused BEFORE INSERT ON check_results FOR EACH ROW
  WHEN (NEW.number = '$guilty' AND NEW.platform = 'baidu') EXECUTE FUNCTION nt_fault_row_refused();
SQL
log "check_results refuses ($guilty, baidu) with 40001, for good"
fault_enqueue
fault_start_worker
fault_start_worker
fault_ended # the fault lasts the whole run
fault_extra_checks() {
    local failed reason warns
    failed=$(psqlv "SELECT count(*) FROM jobs WHERE $FAULT_MINE AND state <> 'done'")
    reason=$(psqlv "SELECT state || ': ' || coalesce(last_error, '') FROM jobs
                    WHERE number = '$guilty' AND platform = 'baidu' AND type = 'check'")
    log "jobs not done: $failed; the guilty job: $reason"
    [ "$failed" = 1 ] || FAULT_BUGS+=("$failed jobs not done (want exactly the guilty one)")
    case "$reason" in
    failed:*40001*) ;;
    *) FAULT_BUGS+=("the guilty job is not failed with its reason: $reason") ;;
    esac
    warns=$(cat "$NT_TMP"/worker-*.log | grep -c '"level":"warn"' || true)
    log "warning lines: $warns"
    [ "$warns" -lt 50 ] || FAULT_BUGS+=("$warns warning lines for one refused row")
    psqlv "$drop_sql" >/dev/null
}
fault_finish
