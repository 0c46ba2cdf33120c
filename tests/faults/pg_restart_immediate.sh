#!/usr/bin/env bash
# Fault scenario pg_restart_immediate: PostgreSQL restarted in immediate mode mid-run (no
# shutdown checkpoint: crash recovery at start). The workers' writers reconnect and send their
# batches again; a batch that committed before the connection broke is written again harmlessly.
# The check fleet is checked once before the run (fault_precheck), so that the run's checks
# write no history row (nothing changed): the crash lands on that write path.
. "$(dirname "$0")/faultlib.sh"
fault_setup pg_restart_immediate 306
fault_fleet
fault_precheck
fault_enqueue
fault_start_worker
fault_start_worker
fault_wait_progress 0.30
fault_check_alive
FAULT_RESTORE="'$NT_STACK' start-pg >/dev/null"
log "restarting PostgreSQL (immediate)"
"$NT_STACK" restart-pg --immediate
FAULT_RESTORE=""
fault_ended
fault_extra_checks() {
    local same
    same=$(python3 -c "import json; print(json.load(open('$NT_TMP/invariants.json'))['checks_same'])")
    log "checks that observed no change (no history row): $same"
    [ "$same" -gt 0 ] || FAULT_BUGS+=("no check of the run took the no-change path")
}
fault_finish
