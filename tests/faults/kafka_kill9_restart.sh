#!/usr/bin/env bash
# Fault scenario kafka_kill9_restart: the Kafka broker is killed with SIGKILL mid-run, stays down
# for 10 s (workers cannot fetch, produce retries or commit offsets) and is started again.
# Nothing lost, nothing doubled; the workers recover without a restart.
. "$(dirname "$0")/faultlib.sh"
fault_setup kafka_kill9_restart 304
fault_fleet
fault_enqueue
fault_start_worker
fault_start_worker
fault_wait_progress 0.30
fault_check_alive
FAULT_RESTORE="'$NT_STACK' start-kafka >/dev/null"
log "kill -9 of the Kafka broker"
"$NT_STACK" kill-kafka
sleep 10
fault_check_alive
log "starting the Kafka broker again"
"$NT_STACK" start-kafka
FAULT_RESTORE=""
fault_ended
fault_finish
