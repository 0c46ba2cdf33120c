#!/usr/bin/env bash
# Fault scenario scale_1_3_1: one worker, then three (two join mid-run: eager rebalances move
# partitions with jobs in flight), then one again (two leave with SIGTERM: they drain, commit and
# must exit 0). Nothing lost, nothing doubled.
. "$(dirname "$0")/faultlib.sh"
fault_setup scale_1_3_1 302
fault_fleet
fault_enqueue
fault_start_worker # 0
fault_wait_progress 0.15
fault_start_worker # 1
fault_start_worker # 2
fault_wait_progress 0.60
fault_check_alive
log "scaling down: SIGTERM to workers 1 and 2"
kill -TERM "${NT_WORKER_PIDS[1]}" "${NT_WORKER_PIDS[2]}"
fault_stop_worker 1 TERM
fault_stop_worker 2 TERM
fault_mark_gone 1
fault_mark_gone 2
fault_ended
fault_finish
