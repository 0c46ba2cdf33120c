#!/usr/bin/env bash
# Fault scenario sigstop_past_session: a worker (session timeout 6 s) is frozen with SIGSTOP
# with jobs in flight, stays frozen past its session timeout while the other worker takes its
# partitions over and redoes its jobs, then resumes (SIGCONT). The late worker finds its
# answers (or its timeouts), writes and produces late: its work must double nothing, and its
# offsets must not overwrite the new owner's.
. "$(dirname "$0")/faultlib.sh"
fault_setup sigstop_past_session 303
fault_fleet
fault_enqueue
session_ms=6000
fault_start_worker NUMTRUST_KAFKA_SESSION_TIMEOUT_MS=$session_ms # 0: the one frozen
fault_start_worker                                               # 1
fault_wait_progress 0.30
fault_check_alive
assigned() { grep -c '"msg":"rebalance: [0-9]* partitions assigned' "$NT_TMP/worker-1.log" || true; }
before=$(assigned)
kill -STOP "${NT_WORKER_PIDS[0]}"
FAULT_RESTORE="kill -CONT ${NT_WORKER_PIDS[0]} 2>/dev/null"
stopped=$SECONDS
log "worker 0 (pid ${NT_WORKER_PIDS[0]}) frozen (SIGSTOP), session timeout ${session_ms} ms"
# the group evicts it after its session timeout; worker 1 gets every partition
while [ "$(assigned)" -le "$before" ] || ! tail -n 50 "$NT_TMP/worker-1.log" | grep -q '"msg":"rebalance: 36 partitions assigned'; do
    [ $((SECONDS - stopped)) -lt 60 ] || fail "worker 1 did not take over within 60 s of the SIGSTOP"
    sleep 0.5
done
log "worker 1 took over every partition $((SECONDS - stopped)) s after the SIGSTOP"
# let worker 1 redo the frozen worker's jobs for a while, well past the session timeout
sleep 6
fault_check_alive
log "resuming worker 0 (SIGCONT) $((SECONDS - stopped)) s after the SIGSTOP; $(fault_final_count) of $FAULT_JOBS jobs final"
kill -CONT "${NT_WORKER_PIDS[0]}"
FAULT_RESTORE=""
fault_ended
fault_finish
