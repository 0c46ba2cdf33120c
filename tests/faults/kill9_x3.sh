#!/usr/bin/env bash
# Fault scenario kill9_x3: a worker is killed with SIGKILL three times during a run of ~10,000
# jobs (checks and tag updates), each time replaced at once. Jobs in flight at the kill (claimed,
# maybe already called, maybe written but not yet stored as offsets) are redelivered after the
# session timeout: nothing may be lost, no result doubled, no tag update applied twice.
. "$(dirname "$0")/faultlib.sh"
fault_setup kill9_x3 301
fault_fleet
fault_enqueue
fault_start_worker # 0
fault_start_worker # 1
victims=(0 1 2)
fracs=(0.15 0.35 0.55)
for k in 0 1 2; do
    fault_wait_progress "${fracs[$k]}"
    fault_check_alive
    v=${victims[$k]}
    fault_stop_worker "$v" KILL
    fault_mark_gone "$v"
    fault_start_worker # 2, 3, 4
done
fault_ended
fault_finish
