#!/usr/bin/env bash
# Fault scenario pg_restart_fast: PostgreSQL restarted in fast shutdown mode mid-run (sessions
# terminated, open transactions rolled back). The workers' writers reconnect and send their
# batches again; a batch that committed before the connection broke is written again harmlessly.
. "$(dirname "$0")/faultlib.sh"
fault_setup pg_restart_fast 305
fault_fleet
fault_enqueue
fault_start_worker
fault_start_worker
fault_wait_progress 0.30
fault_check_alive
FAULT_RESTORE="'$NT_STACK' start-pg >/dev/null"
log "restarting PostgreSQL (fast)"
"$NT_STACK" restart-pg --fast
FAULT_RESTORE=""
fault_ended
fault_finish
