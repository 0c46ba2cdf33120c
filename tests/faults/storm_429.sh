#!/usr/bin/env bash
# Fault scenario storm_429: for 20 s mid-run every platform allows 50 calls a second with a burst
# of 5 per credential (the simulator answers 429 with Retry-After: 1 beyond that). 429s give
# their attempt back and retries wait for Retry-After; when the storm ends the workers speed up
# again. Nothing lost, nothing doubled, no retry before its Retry-After, no job dead or failed
# because of the storm.
. "$(dirname "$0")/faultlib.sh"
fault_setup storm_429 308
fault_fleet
fault_enqueue
FAULT_ALL_DONE="429s only pace the workers"
fault_start_worker
fault_start_worker
fault_wait_progress 0.20
fault_check_alive
log "429 storm: qps 50, burst 5, Retry-After 1 s, for 20 s"
sim POST /admin/config '{"rate_limit":{"qps":50,"burst":5,"retry_after_s":1}}' >/dev/null
FAULT_RESTORE="sim POST /admin/config '{\"rate_limit\":{\"qps\":0,\"burst\":0}}' >/dev/null"
sleep 20
sim GET /admin/counters >"$NT_TMP/storm-counters.json"
sim POST /admin/config '{"rate_limit":{"qps":0,"burst":0}}' >/dev/null
FAULT_RESTORE=""
log "storm over: $(python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print('%d requests, %d answered 429' % (c['requests'], c['rate_limited']))" "$NT_TMP/storm-counters.json"); $(fault_final_count) of $FAULT_JOBS jobs final"
fault_check_alive
fault_ended
fault_extra_checks() {
    local c
    c=$(sim GET /admin/counters)
    local limited early
    limited=$(echo "$c" | python3 -c "import json,sys; print(json.load(sys.stdin)['rate_limited'])")
    early=$(echo "$c" | python3 -c "import json,sys; print(json.load(sys.stdin)['early_retries'])")
    log "simulator: $limited answers 429, $early retries before their Retry-After"
    [ "$limited" -gt 0 ] || FAULT_BUGS+=("the storm produced no 429")
    [ "$early" = 0 ] || FAULT_BUGS+=("$early retries came before their Retry-After")
}
fault_finish
